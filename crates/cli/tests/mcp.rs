//! `gannet mcp` driven over stdio by the official MCP Python SDK (`mcp` 2.x, installed by
//! `scripts/py-mcp`), unchanged: the client spawns the binary and speaks the protocol on
//! its stdin/stdout (so anything else printed there would break the session).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const ARTICLE: &str = r#"<!doctype html><html lang="en"><head><title>Gannets</title></head><body>
<nav><a href="/">Home</a> <a href="/other">Other</a> Site navigation</nav>
<article><h1>Gannets</h1>
<p>Gannets are seabirds comprising the genus Morus in the family Sulidae, closely related to boobies. They hunt fish by diving from a height into the sea and pursuing their prey underwater.</p>
<p>Gannets have a number of adaptations which enable them to do this, such as air sacs in their face and chest under their skin which act like bubble wrap, cushioning the impact with the water.</p>
<p>See also the <a href="/other">other page</a> about their colonies and how they breed on cliffs.</p>
</article><footer>Footer text</footer></body></html>"#;

fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py-mcp/bin/python");
    assert!(
        python.exists(),
        "{} missing: run scripts/py-mcp (scripts/test does)",
        python.display()
    );
    python
}

/// A runtime serving the test site on a loopback port, and the site's base URL.
fn site() -> (tokio::runtime::Runtime, gannet_testkit::Site, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let site = rt.block_on(
        gannet_testkit::SiteBuilder::new()
            .page("/article", ARTICLE)
            .page(
                "/other",
                "<html><head><title>Other</title></head><body><p>Colonies on cliffs.</p></body></html>",
            )
            .response(
                "/slower",
                gannet_testkit::Response::html("<html><body><p>slower</p></body></html>")
                    .delay(Duration::from_millis(4000)),
            )
            .start(),
    );
    let base = site.url("/").as_str().trim_end_matches('/').to_string();
    (rt, site, base)
}

fn run_client(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/mcp_client.py");
    let mut cmd = Command::new(python());
    cmd.arg(script)
        .args(args)
        .env("HOME", std::env::temp_dir())
        .env("RUST_LOG", "gannet=info");
    let out = gannet_testkit::output_within(&mut cmd, Duration::from_secs(240));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.contains("mcp client: ok"),
        "mcp client {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn data_dir(name: &str) -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("mcp-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir.to_string_lossy().into_owned()
}

/// The Python SDK's client spawns `gannet mcp --allow-private` (the site is on loopback):
/// tools listed, scrape, search_page, map, progress, a crawl paged through — in both
/// protocol revisions.
#[test]
fn python_sdk_client_over_stdio() {
    let (_rt, _site, base) = site();
    let gannet = env!("CARGO_BIN_EXE_gannet");
    for (mode, revision) in [("auto", "2026-07-28"), ("legacy", "2025-11-25")] {
        let dir = data_dir(mode);
        let out = run_client(&[
            "stdio",
            gannet,
            &base,
            mode,
            "--allow-private",
            "--data-dir",
            &dir,
        ]);
        assert!(out.contains(&format!("protocol {revision}")), "{out}");
    }
}

/// Without `--allow-private`, the agent's private and loopback URLs are refused as tool
/// errors (`forbidden_address`). In a network namespace of its own: the test names
/// non-loopback addresses.
#[test]
fn stdio_refuses_private_addresses_by_default() {
    gannet_testkit::isolated!(stdio_refuses_private_addresses_by_default);
    let (_rt, _site, base) = site();
    let dir = data_dir("refused");
    let out = run_client(&[
        "refused-stdio",
        env!("CARGO_BIN_EXE_gannet"),
        &base,
        "auto",
        "--data-dir",
        &dir,
    ]);
    assert!(out.contains("refused: forbidden_address"), "{out}");
}
