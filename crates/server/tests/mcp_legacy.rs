//! crawl4ai's legacy MCP transports on `gannet serve`: HTTP+SSE at `/mcp/sse` and the
//! WebSocket at `/mcp/ws`, driven by the official MCP Python SDK 1.x (`mcp` 1.30.0 from
//! PyPI, installed by `scripts/py-mcp1`) unchanged, with crawl4ai's tool names; their
//! guards; and cancellation: a cancelled call stops its slow fetch.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use futures_util::{SinkExt, StreamExt};
use gannet_server::ServerConfig;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const TOKEN: &str = "mcp-legacy-token-0123456789";

/// Runs tests/mcp_legacy_client.py with these arguments; returns its stdout.
async fn client_script(args: &[&str]) -> String {
    mcp_client_script("py-mcp1", "mcp_legacy_client.py", args).await
}

/// The Python SDK 1.x's `sse_client` over `/mcp/sse` with a Bearer token: crawl4ai's
/// tools (`md` fit and bm25, `html`, `crawl`, `screenshot`, `pdf`) answer with the JSON of
/// their routes; `execute_js` (disabled), a bad filter and `ask` are tool errors; gannet's
/// `scrape`, `crawl_job` and `crawl_status` work beside them; progress notifications come
/// while a call runs longer than a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_1x_over_sse() {
    let site = site().await;
    let server = start(ServerConfig {
        tokens: vec![TOKEN.into()],
        ..test_config("mcp-sse")
    })
    .await;
    let base = site.url("/").as_str().trim_end_matches('/').to_string();
    let out = client_script(&["sse", &server.url("/mcp/sse"), &base, TOKEN]).await;
    assert!(out.contains("protocol 2025-11-25"), "{out}");
    assert!(out.contains("pdf bytes:"), "{out}");
    server.stop().await;
}

/// The Python SDK 1.x's `websocket_client` over `/mcp/ws` (subprotocol `mcp`; the token
/// in `?token=`, as the client sends no headers): the same session as over SSE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_1x_over_websocket() {
    let site = site().await;
    let server = start(ServerConfig {
        tokens: vec![TOKEN.into()],
        ..test_config("mcp-ws")
    })
    .await;
    let base = site.url("/").as_str().trim_end_matches('/').to_string();
    let url = format!("ws://{}/mcp/ws?token={TOKEN}", server.addr);
    let out = client_script(&["ws", &url, &base]).await;
    assert!(out.contains("protocol 2025-11-25"), "{out}");
    assert!(out.contains("progress notifications:"), "{out}");
    server.stop().await;
}

/// Refused addresses are tool errors on the legacy transports too (the server's default
/// guard; isolated: the test names non-loopback addresses).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_refused_addresses_are_tool_errors() {
    gannet_testkit::isolated!(legacy_refused_addresses_are_tool_errors);
    let site = site().await;
    let server = start(ServerConfig {
        allow_private: false,
        ..test_config("mcp-legacy-refused")
    })
    .await;
    let base = site.url("/").as_str().trim_end_matches('/').to_string();
    let out = client_script(&["refused-sse", &server.url("/mcp/sse"), &base]).await;
    assert!(out.contains("forbidden_address"), "{out}");
    server.stop().await;
}

/// Without the token: 401; a foreign Origin or Host (DNS rebinding, cross-site
/// WebSocket): 403; a POST to no session: 404; a WebSocket with the token but a foreign
/// Origin: refused before the upgrade.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_transports_check_token_host_and_origin() {
    let server = start(ServerConfig {
        tokens: vec![TOKEN.into()],
        ..test_config("mcp-legacy-guard")
    })
    .await;
    let c = client();
    let r = c.get(server.url("/mcp/sse")).send().await.expect("get");
    assert_eq!(r.status(), 401);
    let r = c
        .get(server.url("/mcp/sse"))
        .bearer_auth(TOKEN)
        .header("origin", "http://attacker.example")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 403);
    let r = c
        .get(server.url("/mcp/sse"))
        .bearer_auth(TOKEN)
        .header("host", "attacker.example")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 403);
    let r = c
        .post(server.url("/mcp/messages?session_id=nope"))
        .bearer_auth(TOKEN)
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 404);
    // An open SSE stream names its endpoint first.
    let mut r = c
        .get(server.url("/mcp/sse"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200);
    let first = r.chunk().await.expect("chunk").expect("an event");
    let first = String::from_utf8_lossy(&first);
    assert!(
        first.contains("event: endpoint") && first.contains("/mcp/messages?session_id="),
        "{first}"
    );
    drop(r);
    let mut req = format!("ws://{}/mcp/ws?token={TOKEN}", server.addr)
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("origin", "http://attacker.example".parse().expect("header"));
    let e = tokio_tungstenite::connect_async(req)
        .await
        .expect_err("a foreign origin is refused");
    assert!(e.to_string().contains("403"), "{e}");
    let e = tokio_tungstenite::connect_async(format!("ws://{}/mcp/ws", server.addr))
        .await
        .expect_err("no token");
    assert!(e.to_string().contains("401"), "{e}");
    server.stop().await;
}

/// A loopback site whose page never finishes: headers, then a byte every 50 ms for
/// minutes. It records when each fetch began and when its connection went away.
struct SlowSite {
    addr: std::net::SocketAddr,
    opened: Arc<Mutex<Vec<Instant>>>,
    closed: Arc<Mutex<Vec<Instant>>>,
}

async fn slow_site() -> SlowSite {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let opened = Arc::new(Mutex::new(Vec::new()));
    let closed = Arc::new(Mutex::new(Vec::new()));
    let (o, c) = (opened.clone(), closed.clone());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let (o, c) = (o.clone(), c.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                if !seen.starts_with(b"GET /never-ends") {
                    let _ = conn
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                }
                o.lock().expect("lock").push(Instant::now());
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 1000000\r\n\r\n<html><body><p>";
                if conn.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for _ in 0..12_000 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if conn.write_all(b"a").await.is_err() {
                        break;
                    }
                }
                c.lock().expect("lock").push(Instant::now());
            });
        }
    });
    SlowSite {
        addr,
        opened,
        closed,
    }
}

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("a message within 30 s")
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(t) = frame {
            return serde_json::from_str(&t).expect("JSON-RPC");
        }
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Calls a tool on the never-ending page with a progress token, waits for two progress
/// notifications, cancels the call, and checks the site saw the fetch stop within 5 s.
async fn call_then_cancel(ws: &mut Ws, slow: &SlowSite, id: u64, tool: &str, args: Value) {
    let before = slow.opened.lock().expect("lock").len();
    let token = format!("p-{id}");
    let call = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": tool, "arguments": args, "_meta": {"progressToken": token}}});
    ws.send(Message::Text(call.to_string().into()))
        .await
        .expect("send");
    let mut progress = 0;
    while progress < 2 {
        let m = next_json(ws).await;
        if m["method"] == "notifications/progress" && m["params"]["progressToken"] == token {
            progress += 1;
        }
    }
    assert_eq!(
        slow.opened.lock().expect("lock").len(),
        before + 1,
        "{tool}: the fetch began"
    );
    assert_eq!(
        slow.closed.lock().expect("lock").len(),
        before,
        "{tool}: the fetch runs"
    );
    let cancelled_at = Instant::now();
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": id, "reason": "the test cancels"}});
    ws.send(Message::Text(cancel.to_string().into()))
        .await
        .expect("send");
    let closed = loop {
        if let Some(at) = slow.closed.lock().expect("lock").get(before).copied() {
            break at;
        }
        assert!(
            cancelled_at.elapsed() < Duration::from_secs(10),
            "{tool}: the fetch did not stop within 10 s of the cancellation"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = closed.duration_since(cancelled_at);
    assert!(
        took < Duration::from_secs(5),
        "{tool}: stopped after {took:?}"
    );
}

/// Over `/mcp/ws`: crawl4ai's `md`, then its `crawl`, of a page that never finishes send
/// progress notifications each second (the calls gave a progressToken);
/// `notifications/cancelled` then stops the fetch — the site sees its connection closed
/// within seconds, long before the page timeout (60 s here) — and the session goes on
/// serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_stops_a_slow_fetch_and_progress_is_reported() {
    let slow = slow_site().await;
    let server = start(ServerConfig {
        page_timeout: Duration::from_secs(60),
        ..test_config("mcp-cancel")
    })
    .await;
    let mut req = format!("ws://{}/mcp/ws", server.addr)
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("sec-websocket-protocol", "mcp".parse().expect("header"));
    let (mut ws, response) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .map(|v| v.as_bytes()),
        Some(&b"mcp"[..])
    );
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": {},
        "clientInfo": {"name": "cancel-test", "version": "1"}}}),
    ))
    .await
    .expect("send");
    let init = next_json(&mut ws).await;
    assert_eq!(init["id"], 1, "{init}");
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05", "{init}");
    ws.send(send(
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    ))
    .await
    .expect("send");
    let url = format!("http://{}/never-ends", slow.addr);
    // crawl4ai's md (one page), then its crawl (pages as tasks): each cancelled.
    call_then_cancel(
        &mut ws,
        &slow,
        2,
        "md",
        json!({"url": url, "render": "never"}),
    )
    .await;
    call_then_cancel(
        &mut ws,
        &slow,
        3,
        "crawl",
        json!({"urls": [url], "render": "never"}),
    )
    .await;
    // The session goes on: another call is answered (a cancelled call's own answer, if
    // any, comes first).
    ws.send(send(
        json!({"jsonrpc": "2.0", "id": 9, "method": "tools/list"}),
    ))
    .await
    .expect("send");
    let listed = loop {
        let m = next_json(&mut ws).await;
        if m["id"] == 9 {
            break m;
        }
        assert!(
            m["id"] == 2 || m["id"] == 3 || m["method"] == "notifications/progress",
            "{m}"
        );
    };
    assert!(
        listed["result"]["tools"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["name"] == "md")),
        "{listed}"
    );
    let _ = ws.close(None).await;
    server.stop().await;
}

/// A WebSocket's messages count against the rate limit one by one (the upgrade is a single
/// HTTP request): past the burst, each waits for its token — answered, later — and open
/// SSE and WebSocket sessions do not hold up the server's shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_messages_are_rate_limited_and_sessions_end_at_shutdown() {
    let server = start(ServerConfig {
        rate_limit_per_minute: Some(60),
        rate_limit_burst: 3,
        ..test_config("mcp-legacy-limits")
    })
    .await;
    let mut req = format!("ws://{}/mcp/ws", server.addr)
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("sec-websocket-protocol", "mcp".parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    let started = Instant::now();
    let mut messages = vec![
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "limit-test", "version": "1"}}}),
    ];
    messages.push(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    for id in 2..6 {
        messages.push(json!({"jsonrpc": "2.0", "id": id, "method": "ping"}));
    }
    for m in messages {
        ws.send(Message::Text(m.to_string().into()))
            .await
            .expect("send");
    }
    // 1 token for the upgrade, 2 left in the burst; 6 messages: the last 4 wait about a
    // second each for theirs.
    let mut answered = Vec::new();
    while answered.len() < 5 {
        let m = next_json(&mut ws).await;
        assert!(m.get("error").is_none(), "{m}");
        answered.push(m["id"].as_u64().expect("an answer"));
    }
    assert_eq!(answered, [1, 2, 3, 4, 5]);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(3),
        "answered in {took:?}: no rate limit"
    );
    // An SSE stream (once the bucket has a token again) and this WebSocket stay open
    // while the server stops.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let c = client();
    let sse = c.get(server.url("/mcp/sse")).send().await.expect("sse");
    assert_eq!(sse.status(), 200);
    let stopping = Instant::now();
    server.stop().await;
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    let end = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("the socket ends");
    assert!(
        matches!(end, None | Some(Ok(Message::Close(_))) | Some(Err(_))),
        "{end:?}"
    );
    drop(sse);
}
