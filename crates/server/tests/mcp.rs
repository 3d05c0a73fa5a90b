//! MCP on `gannet serve`: the official MCP Python SDK (`mcp` 2.x from PyPI, installed by
//! `scripts/py-mcp`) drives `/mcp` over Streamable HTTP, unchanged, in both protocol
//! revisions it speaks; the DNS-rebinding checks and the Bearer token guard `/mcp` as
//! they guard every route.

mod common;

use common::*;
use gannet_server::ServerConfig;
use serde_json::json;

const TOKEN: &str = "mcp-test-token-0123456789";

/// Runs tests/mcp_client.py with these arguments; returns its stdout.
async fn client_script(args: &[&str]) -> String {
    mcp_client_script("py-mcp", "mcp_client.py", args).await
}

/// The Python SDK's client over Streamable HTTP: lists the tools (flat schemas), scrapes
/// the article to Markdown, searches it (BM25), maps the site, gets progress
/// notifications on a slow page, starts a crawl and pages through its results, takes a
/// screenshot — as protocol 2026-07-28 (`server/discover`) and as 2025-11-25 (the
/// initialize handshake), with a Bearer token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_client_over_streamable_http() {
    let site = site().await;
    let server = start(ServerConfig {
        tokens: vec![TOKEN.into()],
        ..test_config("mcp-http")
    })
    .await;
    let base = site.url("/").as_str().trim_end_matches('/').to_string();
    let endpoint = server.url("/mcp");
    let modern = client_script(&["http", &endpoint, &base, "auto", TOKEN]).await;
    assert!(modern.contains("protocol 2026-07-28"), "{modern}");
    assert!(modern.contains("screenshot bytes:"), "{modern}");
    let legacy = client_script(&["http", &endpoint, &base, "legacy", TOKEN]).await;
    assert!(legacy.contains("protocol 2025-11-25"), "{legacy}");
    server.stop().await;
}

/// Refused addresses are tool errors (`isError`, code `forbidden_address`), for `scrape`
/// and for `crawl`, with the server's default guard (in a network namespace of its own:
/// the test names non-loopback addresses).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_addresses_are_tool_errors() {
    gannet_testkit::isolated!(refused_addresses_are_tool_errors);
    let site = site().await;
    let server = start(ServerConfig {
        allow_private: false,
        ..test_config("mcp-refused")
    })
    .await;
    let base = site.url("/").as_str().trim_end_matches('/').to_string();
    let out = client_script(&["refused-http", &server.url("/mcp"), &base, "auto"]).await;
    assert!(out.contains("refused: forbidden_address"), "{out}");
    server.stop().await;
}

/// `/mcp` without the token is a 401 like any route; a foreign `Host` or `Origin` (DNS
/// rebinding) is refused; the loopback host with the token is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_endpoint_checks_token_host_and_origin() {
    let server = start(ServerConfig {
        tokens: vec![TOKEN.into()],
        ..test_config("mcp-guard")
    })
    .await;
    let init = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "test", "version": "1"}}
    });
    let c = client();
    let post = |host: Option<&str>, origin: Option<&str>, token: bool| {
        let mut r = c
            .post(server.url("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(h) = host {
            r = r.header("host", h);
        }
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        if token {
            r = r.bearer_auth(TOKEN);
        }
        r.send()
    };
    let r = post(None, None, false).await.expect("post");
    assert_eq!(r.status(), 401);
    let r = post(Some("attacker.example"), None, true)
        .await
        .expect("post");
    assert_eq!(r.status(), 403, "foreign Host");
    let r = post(None, Some("http://attacker.example"), true)
        .await
        .expect("post");
    assert_eq!(r.status(), 403, "foreign Origin");
    let port = server.addr.port();
    let r = post(
        Some(&format!("localhost:{port}")),
        Some(&format!("http://localhost:{port}")),
        true,
    )
    .await
    .expect("post");
    assert_eq!(r.status(), 200);
    let body = r.text().await.expect("body");
    assert!(
        body.contains("\"serverInfo\"") && body.contains("gannet"),
        "{body}"
    );
    server.stop().await;
}
