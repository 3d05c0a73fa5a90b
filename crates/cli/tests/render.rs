//! `gannet scrape --render` end to end: the real binary, real Chromium, a loopback site.
//! Each test points the binary's TMPDIR at its own directory, so it can count the browser
//! processes and profile directories the run leaves (there must be none).
#![allow(clippy::disallowed_methods)] // These tests run no async runtime: blocking sleeps are what they want.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gannet_browser::process::{count_browser_processes, count_profile_dirs};
use gannet_testkit::{Response, SiteBuilder, output_within};

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("render-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test dir");
    dir
}

fn gannet(tmpdir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gannet"));
    cmd.env("TMPDIR", tmpdir);
    cmd
}

const SPA: &str = r#"<!doctype html><html><head><title>App</title>
<script>
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('root').innerHTML =
    '<article><h1>Rendered headline</h1><p>This paragraph exists only after the script ran in a real browser, which smart mode must notice.</p></article>';
});
</script></head><body><div id="root"></div></body></html>"#;

const STATIC: &str = r#"<!doctype html><html><head><title>Static</title><script>var x = 1;</script></head><body><article><h1>Static page</h1>
<p>Plenty of server-rendered prose here: a page like this has its content in the HTML already, so smart mode must not start a browser for it. It keeps going for a while so that the extracted main content has well over one hundred and fifty words, which is the threshold the heuristic uses to decide that a page is complete without JavaScript. Words words words.</p>
<p>Second paragraph with more words to pass the threshold comfortably: alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega, and again alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega.</p>
<p>Third paragraph: one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty, and once more one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty twenty-one twenty-two.</p>
</article></body></html>"#;

/// Entries of the run's TMPDIR other than gannet's profile dirs (Chromium's own temp dirs
/// would show up here if they leaked).
fn stray_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|e| {
            e.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    !n.starts_with("gannet-chromium-")
                        && !n.ends_with(".png")
                        && !n.ends_with(".pdf")
                })
                .collect()
        })
        .unwrap_or_default()
}

fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn smart_mode_renders_only_pages_that_need_javascript() {
    let site = SiteBuilder::new()
        .page("/spa", SPA)
        .page("/static", STATIC)
        .start_blocking();
    let dir = tmp("smart");

    // A static page: no browser is started at all.
    let out = output_within(
        gannet(&dir).args(["scrape", "-f", "json", site.url("/static").as_str()]),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = &json_lines(&out.stdout)[0];
    assert!(doc.get("rendered").is_none(), "{doc}");
    assert!(
        doc["markdown"]
            .as_str()
            .unwrap()
            .contains("Plenty of server-rendered prose")
    );
    assert_eq!(count_profile_dirs(&dir), 0);

    // An SPA shell: rendered, and the reason is given.
    let out = output_within(
        gannet(&dir).args(["scrape", "-f", "json", site.url("/spa").as_str()]),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = &json_lines(&out.stdout)[0];
    assert_eq!(doc["rendered"], true, "{doc}");
    assert!(
        doc["render_reason"]
            .as_str()
            .unwrap()
            .contains("single-page-app"),
        "{doc}"
    );
    assert_eq!(doc["status"], 200);
    assert!(
        doc["markdown"]
            .as_str()
            .unwrap()
            .contains("only after the script ran"),
        "{doc}"
    );

    // --render never prints the empty shell as fetched.
    let out = output_within(
        gannet(&dir).args(["scrape", "--render", "never", site.url("/spa").as_str()]),
        Duration::from_secs(60),
    );
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("only after the script ran"));

    assert_eq!(count_browser_processes(&dir), 0);
    assert_eq!(count_profile_dirs(&dir), 0);
}

#[test]
fn screenshot_pdf_and_js_through_the_cli() {
    let site = SiteBuilder::new().page("/spa", SPA).start_blocking();
    let dir = tmp("files");
    let (png, pdf) = (dir.join("shot.png"), dir.join("page.pdf"));
    let out = output_within(
        gannet(&dir).args([
            "scrape",
            "-f",
            "json",
            "--screenshot",
            png.to_str().unwrap(),
            "--pdf",
            pdf.to_str().unwrap(),
            "--viewport",
            "800x600",
            "--js",
            "document.title + '!'",
            "--wait-for",
            "css:article h1",
            site.url("/spa").as_str(),
        ]),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = &json_lines(&out.stdout)[0];
    assert_eq!(doc["js_result"], "App!", "{doc}");
    let png = std::fs::read(&png).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 800);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 600);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    assert_eq!(count_browser_processes(&dir), 0);
    assert_eq!(count_profile_dirs(&dir), 0);

    // Options that need a browser contradict --render never: a usage error.
    let out = output_within(
        gannet(&dir).args([
            "scrape",
            "--render",
            "never",
            "--js",
            "1",
            site.url("/spa").as_str(),
        ]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(64));
    let out = output_within(
        gannet(&dir).args([
            "scrape",
            "--wait-for",
            "xpath://a",
            site.url("/spa").as_str(),
        ]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad wait condition"));
}

#[test]
fn killing_gannet_takes_its_browser_down_and_the_next_run_cleans_up() {
    let site = SiteBuilder::new()
        .page(
            "/slow",
            r#"<html><body><p>x</p><img src="/stall.png"></body></html>"#,
        )
        .response(
            "/stall.png",
            Response::typed("image/png", "x").delay(Duration::from_secs(60)),
        )
        .page("/spa", SPA)
        .start_blocking();
    let dir = tmp("kill");
    let mut child = gannet(&dir)
        .args([
            "scrape",
            "--render",
            "always",
            "--wait-for",
            "load",
            site.url("/slow").as_str(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the browser is up and rendering.
    let started = Instant::now();
    while count_browser_processes(&dir) == 0 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        count_browser_processes(&dir) > 0,
        "the browser never started"
    );
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap(); // SIGKILL: no chance to clean up.
    child.wait().unwrap();
    let killed = Instant::now();
    while count_browser_processes(&dir) > 0 && killed.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        count_browser_processes(&dir),
        0,
        "chromium outlived a killed gannet"
    );
    assert_eq!(
        count_profile_dirs(&dir),
        1,
        "the killed run's profile is left"
    );

    // The next run that starts a browser removes the dead run's profile (and Chromium's
    // singleton directory that the profile points to).
    let out = output_within(
        gannet(&dir).args(["scrape", "--render", "always", site.url("/spa").as_str()]),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count_profile_dirs(&dir), 0);
    assert_eq!(count_browser_processes(&dir), 0);
    assert_eq!(stray_entries(&dir), Vec::<String>::new());
}

#[test]
fn sigterm_closes_the_browser_before_exit() {
    let site = SiteBuilder::new()
        .page(
            "/slow",
            r#"<html><body><p>x</p><img src="/stall.png"></body></html>"#,
        )
        .response(
            "/stall.png",
            Response::typed("image/png", "x").delay(Duration::from_secs(60)),
        )
        .start_blocking();
    let dir = tmp("term");
    let mut child = gannet(&dir)
        .args([
            "scrape",
            "--render",
            "always",
            "--wait-for",
            "load",
            site.url("/slow").as_str(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while count_browser_processes(&dir) == 0 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(count_browser_processes(&dir), 0);
    assert_eq!(count_profile_dirs(&dir), 0, "profile left after SIGTERM");
    assert_eq!(stray_entries(&dir), Vec::<String>::new());
}
