//! Firecrawl's MCP server, `firecrawl-mcp` from npm (installed by `scripts/firecrawl-mcp`),
//! run unchanged over stdio with `FIRECRAWL_API_URL` pointing at `gannet serve`: its
//! scrape, map and crawl tools answer with our pages — our Firecrawl API compatibility,
//! proven through their agent tool.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use gannet_server::ServerConfig;

const TOKEN: &str = "fc-mcp-test-token-0123456789";

/// firecrawl-mcp's `firecrawl_scrape` (Markdown of the main content and the title),
/// `firecrawl_map` (the site's links) and `firecrawl_crawl` + `firecrawl_check_crawl_status`
/// (a crawl job to completion), over stdio, driven by the Python SDK 1.x's stdio client,
/// with our Bearer token as its API key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firecrawl_mcp_scrapes_maps_and_crawls_through_our_api() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let js = root.join("target/firecrawl-mcp/node_modules/firecrawl-mcp/dist/index.js");
    let python = root.join("target/py-mcp1/bin/python");
    assert!(
        js.exists() && python.exists(),
        "{} or {} missing: run scripts/firecrawl-mcp and scripts/py-mcp1 (scripts/test does)",
        js.display(),
        python.display()
    );
    let site = site().await;
    let server = start(ServerConfig {
        tokens: vec![TOKEN.into()],
        ..test_config("mcp-firecrawl")
    })
    .await;
    let base = site.url("/").as_str().trim_end_matches('/').to_string();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_firecrawl_client.py");
    let mut cmd = tokio::process::Command::new(&python);
    cmd.arg(&script)
        .arg(&js)
        .arg(server.url(""))
        .arg(&base)
        .arg(TOKEN)
        .env("HOME", std::env::temp_dir())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(240), cmd.output())
        .await
        .expect("the client finishes within 240 s")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("mcp client: ok"),
        "firecrawl-mcp failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("scrape: Gannets are seabirds"), "{stdout}");
    println!("{stdout}");
    server.stop().await;
}
