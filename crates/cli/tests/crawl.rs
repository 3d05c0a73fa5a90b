//! `gannet crawl` end to end: the real binary against programmable loopback sites.
//!
//! Contract: `gannet crawl SEED... --out PATH [flags]`; exit 0 and a summary on stderr when
//! the crawl ends (`--log-format json`: one JSON object per line, the last with
//! `"event":"summary"`); exit 64 with one `error: …` line on stderr for a bad invocation.

use gannet_testkit::{Site, SiteBuilder};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// A fresh, empty directory for one test.
fn test_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-crawl-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test directory");
    dir
}

/// Runs `gannet crawl ARGS…`; a run that takes over a minute is killed and fails the test.
fn gannet_crawl(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gannet"));
    command.arg("crawl").args(args);
    gannet_testkit::output_within(&mut command, Duration::from_secs(60))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn site() -> Site {
    SiteBuilder::new()
        .robots("User-agent: *\nDisallow: /private\n")
        .page(
            "/",
            "<html><head><title>Home</title></head><body><p>Home page text.</p>\
             <a href=/a>a</a> <a href=/b>b</a> <a href=/private>p</a></body></html>",
        )
        .page("/a", "<title>A</title><p>Page a.</p>")
        .page("/b", "<title>B</title><p>Page b.</p>")
        .page("/private", "<title>P</title>")
        .start_blocking()
}

fn urls_in(jsonl: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(jsonl).expect("read the output");
    let mut urls: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSONL line");
            v["url"].as_str().expect("url").to_owned()
        })
        .collect();
    urls.sort();
    urls
}

#[test]
fn crawl_exits_0_with_a_summary_line() {
    let site = site();
    let dir = test_dir("summary");
    let out = dir.join("out.jsonl");
    let output = gannet_crawl(&[
        site.origin().as_str(),
        "--out",
        out.to_str().expect("utf-8 path"),
        "--delay",
        "0",
        "--no-sitemaps",
    ]);
    let err = stderr(&output);
    assert!(output.status.success(), "{}: {err}", output.status);
    let summary: Vec<&str> = err.lines().filter(|l| l.starts_with("crawl ")).collect();
    assert_eq!(summary.len(), 1, "{err}");
    assert!(summary[0].starts_with("crawl finished: 3 pages"), "{err}");
    assert!(summary[0].contains("1 by robots.txt"), "{err}");
    let mut want: Vec<String> = ["/", "/a", "/b"]
        .iter()
        .map(|p| site.url(p).to_string())
        .collect();
    want.sort();
    assert_eq!(urls_in(&out), want);
    assert_eq!(site.hits("/private"), 0);
}

#[test]
fn log_format_json_gives_a_json_summary() {
    let site = site();
    let dir = test_dir("json-log");
    let out = dir.join("out.jsonl");
    let output = gannet_crawl(&[
        site.origin().as_str(),
        "-o",
        out.to_str().expect("utf-8 path"),
        "--delay",
        "0",
        "--log-format",
        "json",
    ]);
    let err = stderr(&output);
    assert!(output.status.success(), "{}: {err}", output.status);
    let lines: Vec<serde_json::Value> = err
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let summary = lines
        .iter()
        .find(|v| v["event"] == "summary")
        .unwrap_or_else(|| panic!("no summary event: {err}"));
    assert_eq!(summary["stop"], "finished");
    assert_eq!(summary["pages"], 3);
    assert_eq!(summary["robots_blocked"], 1);
    assert_eq!(summary["reasons"]["robots.txt"], 1);
}

/// Asserts exit 64 and one `error: …` line on stderr containing `keyword`.
fn usage_error(args: &[&str], keyword: &str) {
    let output = gannet_crawl(args);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(64), "{args:?}: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "want one line on stderr for {args:?}, got: {err}"
    );
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(
        lines[0].to_lowercase().contains(&keyword.to_lowercase()),
        "stderr lacks {keyword:?}: {err}"
    );
}

#[test]
fn bad_invocations_exit_64_with_one_line() {
    let dir = test_dir("usage");
    let out = dir.join("out.jsonl");
    let out = out.to_str().expect("utf-8 path");
    // Nothing listens there: none of these may get as far as a request.
    let seed = "http://127.0.0.1:9/";
    usage_error(&[seed, "--out", out, "--include", "("], "--include");
    usage_error(&["--out", out], "seed");
    usage_error(&[seed, "--out", out, "--timeout", "0"], "--timeout");
}

/// A site of 30 pages that answer after 100 ms each: a crawl of it lasts long enough to be
/// interrupted.
fn slow_site() -> Site {
    let links: String = (0..30)
        .map(|i| format!("<a href=/p{i}>p{i}</a> "))
        .collect();
    let mut builder = SiteBuilder::new().page("/", format!("<title>Home</title><p>{links}</p>"));
    for i in 0..30 {
        builder = builder.response(
            &format!("/p{i}"),
            gannet_testkit::Response::html(format!("<title>P{i}</title><p>Page {i}.</p>"))
                .delay(Duration::from_millis(100)),
        );
    }
    builder.start_blocking()
}

/// Waits outside any async runtime (these tests are plain threads).
#[allow(clippy::disallowed_methods)] // No runtime here: a blocking sleep is what we want.
fn pause(d: Duration) {
    std::thread::sleep(d);
}

fn lines_of(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

/// Starts a crawl of `site` into `out` in the background; returns the child.
fn spawn_crawl(site: &Site, out: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_gannet"))
        .arg("crawl")
        .arg(site.origin().as_str())
        .arg("--out")
        .arg(out)
        .args(["--delay", "0", "--no-sitemaps", "--per-host", "2", "-q"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the gannet binary")
}

/// Waits until `out` holds at least `n` lines (at most 20 s).
fn wait_for_lines(out: &Path, n: usize) {
    let started = std::time::Instant::now();
    while lines_of(out) < n {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the crawl wrote nothing"
        );
        pause(Duration::from_millis(20));
    }
}

fn assert_complete_once(site: &Site, out: &Path) {
    let mut want: Vec<String> = std::iter::once(site.url("/").to_string())
        .chain((0..30).map(|i| site.url(&format!("/p{i}")).to_string()))
        .collect();
    want.sort();
    assert_eq!(urls_in(out), want, "every page exactly once");
}

#[test]
fn kill_9_then_resume_loses_nothing_and_repeats_nothing() {
    let site = slow_site();
    let dir = test_dir("kill9");
    let out = dir.join("out.jsonl");
    let mut child = spawn_crawl(&site, &out);
    wait_for_lines(&out, 5);
    // End the child we started, by its id, without a chance to clean up.
    let killed = Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = child.wait().expect("wait for the killed crawl");
    assert!(!status.success());
    assert!(lines_of(&out) < 31, "the crawl finished before the kill");

    let output = gannet_crawl(&[
        "--resume",
        "--out",
        out.to_str().expect("utf-8 path"),
        "--delay",
        "0",
        "--no-sitemaps",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_complete_once(&site, &out);
}

#[test]
fn sigterm_finishes_in_flight_pages_exits_130_and_resumes() {
    let site = slow_site();
    let dir = test_dir("sigterm");
    let out = dir.join("out.jsonl");
    let child = spawn_crawl(&site, &out);
    wait_for_lines(&out, 3);
    let termed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(termed.success());
    let output = child.wait_with_output().expect("wait for the crawl");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(lines_of(&out) < 31, "the crawl finished before the signal");

    let output = gannet_crawl(&[
        "--resume",
        "--out",
        out.to_str().expect("utf-8 path"),
        "--delay",
        "0",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_complete_once(&site, &out);
}

/// The engine's events (`tracing`, key/value fields) join the JSON log when `RUST_LOG`
/// asks for them: every line stays one JSON object, leases and releases name their host
/// and fencing token. Without `RUST_LOG`, stderr holds only progress and the summary.
#[test]
fn rust_log_adds_lease_events_to_the_json_log() {
    let site = site();
    let dir = test_dir("tracing");
    let run = |rust_log: Option<&str>, name: &str| {
        let out = dir.join(name);
        let mut command = Command::new(env!("CARGO_BIN_EXE_gannet"));
        command.arg("crawl").args([
            site.origin().as_str(),
            "--out",
            out.to_str().expect("utf-8 path"),
            "--delay",
            "0",
            "--no-sitemaps",
            "--log-format",
            "json",
        ]);
        match rust_log {
            Some(filter) => command.env("RUST_LOG", filter),
            None => command.env_remove("RUST_LOG"),
        };
        let output = gannet_testkit::output_within(&mut command, Duration::from_secs(60));
        let err = stderr(&output);
        assert!(output.status.success(), "{}: {err}", output.status);
        let lines: Vec<serde_json::Value> = err
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        (lines, err)
    };

    let (lines, err) = run(None, "quiet.jsonl");
    assert!(
        lines.iter().all(|l| l.get("level").is_none()),
        "no events by default: {err}"
    );
    assert!(lines.iter().any(|l| l["event"] == "summary"), "{err}");

    let (lines, err) = run(Some("gannet_crawl=debug"), "events.jsonl");
    let events = |message: &str| -> Vec<&serde_json::Value> {
        lines.iter().filter(|l| l["message"] == message).collect()
    };
    let origin = site.origin().as_str().trim_end_matches('/').to_owned();
    let leased = events("host leased");
    assert!(!leased.is_empty(), "{err}");
    for event in &leased {
        assert_eq!(event["level"], "DEBUG", "{event}");
        assert_eq!(event["target"], "gannet_crawl::crawl", "{event}");
        assert_eq!(event["origin"], origin.as_str(), "{event}");
        assert!(event["token"].as_u64().is_some_and(|t| t > 0), "{event}");
    }
    assert!(!events("host released").is_empty(), "{err}");
    let ended = events("crawl ended");
    assert_eq!(ended.len(), 1, "{err}");
    assert_eq!(ended[0]["written"], 3, "{err}");
    assert_eq!(ended[0]["stop"], "Finished", "{err}");
    // The summary is still there, and still the last line.
    assert_eq!(
        lines.last().map(|l| &l["event"]),
        Some(&"summary".into()),
        "{err}"
    );
}
