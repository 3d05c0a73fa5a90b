//! The anchors' own clients against `gannet serve`: crawl4ai's and Firecrawl's Python
//! clients (installed by `scripts/py-tools`) unchanged, and the dashboard in a real browser.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// The anchors' clients, unchanged. Needs `scripts/py-tools` (run by `scripts/test`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl4ai_and_firecrawl_clients_work_unchanged() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py-tools/bin/python");
    assert!(
        python.exists(),
        "{} missing: run scripts/py-tools (scripts/test does)",
        python.display()
    );
    let site = site().await;
    let server = start(test_config("clients")).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients.py");
    let mut cmd = tokio::process::Command::new(&python);
    cmd.arg(&script)
        .arg(server.url(""))
        .arg(site.url("/").as_str().trim_end_matches('/'))
        .env("HOME", std::env::temp_dir())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(240), cmd.output())
        .await
        .expect("the clients finish within 240 s")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "clients failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("crawl4ai client: ok") && stdout.contains("firecrawl client: ok"),
        "{stdout}"
    );
    server.stop().await;
}

/// The dashboard in real headless Chromium: the page loads and its numbers move.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_live_numbers_in_a_real_browser() {
    let site = site().await;
    let cfg = test_config("dashboard");
    let browser_root = cfg.browser.temp_root.join("viewer");
    std::fs::create_dir_all(&browser_root).expect("viewer root");
    let server = start(cfg).await;
    let c = client();
    // Some traffic: pages and an error.
    for _ in 0..3 {
        c.post(server.url("/md"))
            .json(&json!({"url": site.url("/article").as_str()}))
            .send()
            .await
            .expect("md");
    }
    c.get(server.url("/no-such-route"))
        .send()
        .await
        .expect("404");
    let viewer = gannet_browser::Pool::new(gannet_browser::PoolConfig {
        temp_root: browser_root,
        ..gannet_browser::PoolConfig::default()
    })
    .expect("a browser for the viewer");
    let mut req =
        gannet_browser::RenderRequest::new(server.url("/dashboard").parse().expect("url"));
    req.timeout = Duration::from_secs(20);
    req.wait =
        gannet_browser::WaitFor::Js("Number(document.body.dataset.updates || 0) >= 2".into());
    req.js = Some(
        "({requests: Number(document.getElementById('requests').textContent), \
          errors: document.getElementById('errors').textContent, \
          memory: document.getElementById('memory').textContent, \
          state: document.getElementById('state').textContent})"
            .into(),
    );
    let page = viewer.render(&req).await.expect("the dashboard renders");
    let v = page.js_result.expect("values read from the page");
    assert!(v["requests"].as_u64().unwrap_or(0) >= 4, "{v}");
    assert!(
        v["errors"].as_str().unwrap().contains("/no-such-route"),
        "{v}"
    );
    assert!(v["memory"].as_str().unwrap().contains("MB of"), "{v}");
    assert!(v["state"].as_str().unwrap().starts_with("live"), "{v}");
    // An open dashboard (a live event stream) does not hold up a graceful shutdown.
    let mut stream = c
        .get(server.url("/dashboard/events"))
        .send()
        .await
        .expect("events");
    assert!(stream.chunk().await.expect("a first event").is_some());
    let started = Instant::now();
    server.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    viewer.shutdown().await;
}
