//! `gannet scrape` end to end: the real binary against the loopback fixture site.
//!
//! Contract: `gannet scrape URL... [--format markdown|text|html|json] [--raw] [--out FILE]
//! [--timeout SECS] [--max-body BYTES]`; exit 0 on success, non-zero with one line
//! `error: …` on stderr on failure. JSON output is one object per page with the fields
//! url, title, byline, excerpt, site_name, published_time, lang, dir, markdown, text, links,
//! images, word_count.

use gannet_testkit::{self as kit, FixtureSite};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

/// One fixture site for the whole test binary (it lives until the process exits).
fn site() -> &'static FixtureSite {
    static SITE: OnceLock<FixtureSite> = OnceLock::new();
    SITE.get_or_init(FixtureSite::start_blocking)
}

fn url(path: &str) -> String {
    site().url(path).to_string()
}

/// Runs `gannet scrape ARGS…`; a run that takes over a minute is killed and fails the test.
fn scrape(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gannet"));
    command.arg("scrape").args(args);
    gannet_testkit::output_within(&mut command, Duration::from_secs(60))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts success and returns stdout.
fn succeeds(args: &[&str]) -> String {
    let output = scrape(args);
    assert!(
        output.status.success(),
        "gannet scrape {args:?} failed ({}): {}",
        output.status,
        stderr(&output)
    );
    stdout(&output)
}

/// Asserts a failure with one `error: …` line on stderr containing `keyword`.
fn fails_with(args: &[&str], keyword: &str) {
    let output = scrape(args);
    let err = stderr(&output);
    assert!(
        !output.status.success(),
        "gannet scrape {args:?} succeeded; stderr: {err}"
    );
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "want one line on stderr, got: {err}");
    assert!(lines[0].starts_with("error: "), "stderr: {err}");
    assert!(
        lines[0].to_lowercase().contains(&keyword.to_lowercase()),
        "stderr lacks {keyword:?}: {err}"
    );
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = succeeds(&all);
    serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("stdout of {args:?} is not one JSON object ({e}): {out}"))
}

fn field<'a>(value: &'a serde_json::Value, name: &str) -> &'a str {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no string field {name:?} in {value}"))
}

#[test]
fn scrapes_an_article_to_markdown() {
    let out = succeeds(&[&url("/article/1")]);
    assert!(out.contains(kit::ARTICLE_PHRASE), "{out}");
}

#[test]
fn every_format_carries_the_article() {
    for format in ["markdown", "text", "html"] {
        let out = succeeds(&[&url("/article/1"), "--format", format]);
        assert!(
            out.contains(kit::ARTICLE_PHRASE),
            "--format {format}: {out}"
        );
    }
}

#[test]
fn json_has_the_documented_fields() {
    let page = json(&[&url("/article/1")]);
    for name in [
        "url",
        "title",
        "byline",
        "excerpt",
        "site_name",
        "published_time",
        "lang",
        "dir",
        "markdown",
        "text",
        "links",
        "images",
        "word_count",
    ] {
        assert!(page.get(name).is_some(), "JSON lacks {name}: {page}");
    }
    assert_eq!(field(&page, "url"), url("/article/1"));
    assert!(field(&page, "title").contains(kit::ARTICLE_TITLE));
    assert!(field(&page, "markdown").contains(kit::ARTICLE_PHRASE));
    assert!(field(&page, "text").contains(kit::ARTICLE_PHRASE));
    assert!(page["word_count"].as_u64().unwrap() > 10);
}

#[test]
fn raw_keeps_the_whole_page() {
    let out = succeeds(&[&url("/article/1"), "--raw"]);
    assert!(out.contains(kit::ARTICLE_PHRASE), "{out}");
    assert!(out.contains("Fixture site footer"), "{out}");
}

#[test]
fn out_writes_a_file() {
    let path = std::env::temp_dir().join(format!("gannet-scrape-test-{}.md", std::process::id()));
    let path_text = path.to_string_lossy().into_owned();
    succeeds(&[&url("/article/2"), "--out", &path_text]);
    let written = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(written.contains(kit::SECOND_ARTICLE_PHRASE), "{written}");
}

#[test]
fn several_urls() {
    let out = succeeds(&[&url("/article/1"), &url("/article/2")]);
    assert!(out.contains(kit::ARTICLE_PHRASE), "{out}");
    assert!(out.contains(kit::SECOND_ARTICLE_PHRASE), "{out}");
}

#[test]
fn charset_pages_decode_to_the_exact_text() {
    for page in kit::CHARSET_PAGES {
        for path in [page.header_path(), page.meta_path()] {
            let doc = json(&[&url(&path)]);
            let text = field(&doc, "text");
            assert!(
                text.contains(page.text),
                "{path}: want {:?} in {text:?}",
                page.text
            );
            assert!(field(&doc, "markdown").contains(page.text), "{path}");
        }
    }
}

#[test]
fn compressed_pages() {
    for coding in ["gzip", "br", "zstd", "deflate"] {
        let out = succeeds(&[&url(&format!("/compressed/{coding}"))]);
        assert!(out.contains(kit::COMPRESSED_PHRASE), "{coding}: {out}");
    }
}

#[test]
fn follows_redirects() {
    let doc = json(&[&url("/redirect/3")]);
    assert_eq!(field(&doc, "url"), url("/redirect/0"));
    assert!(field(&doc, "text").contains(kit::REDIRECT_TARGET_PHRASE));
    let out = succeeds(&[&url("/rel/start")]);
    assert!(out.contains(kit::REDIRECT_TARGET_PHRASE), "{out}");
}

#[test]
fn page_without_content_type_is_sniffed() {
    let out = succeeds(&[&url("/no-content-type")]);
    assert!(out.contains(kit::NO_CONTENT_TYPE_PHRASE), "{out}");
}

#[test]
fn redirect_loop_fails() {
    fails_with(&[&url("/loop/a")], "redirect loop");
}

#[test]
fn too_long_redirect_chain_fails() {
    fails_with(&[&url("/redirect/15")], "too many redirects");
}

#[test]
fn http_errors_fail_with_their_status() {
    fails_with(&[&url("/status/404")], "HTTP 404");
    fails_with(&[&url("/status/500")], "HTTP 500");
    fails_with(&[&url("/status/503")], "HTTP 503");
}

#[test]
fn refused_connection_fails() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    fails_with(
        &[&format!("http://127.0.0.1:{port}/")],
        "connection refused",
    );
}

#[test]
fn slow_headers_time_out() {
    fails_with(&[&url("/slow-headers"), "--timeout", "1"], "timed out");
}

#[test]
fn stalled_body_times_out() {
    fails_with(&[&url("/stall"), "--timeout", "1"], "timed out");
}

#[test]
fn huge_body_is_too_large() {
    fails_with(&[&url("/huge")], "too large");
    fails_with(&[&url("/article/1"), "--max-body", "100"], "too large");
}

#[test]
fn endless_body_is_too_large() {
    fails_with(&[&url("/endless"), "--max-body", "1000000"], "too large");
}

#[test]
fn gzip_bomb_is_too_large() {
    fails_with(&[&url("/gzip-bomb")], "too large");
}

#[test]
fn non_html_types_are_refused() {
    fails_with(&[&url("/image.png")], "unsupported content type");
    fails_with(&[&url("/file.pdf")], "unsupported content type");
    fails_with(&[&url("/data.json")], "unsupported content type");
}

#[test]
fn bad_urls_explain_the_fix() {
    fails_with(&["foo"], "invalid URL 'foo'");
    fails_with(&["example.com/x"], "add http:// or https://");
    fails_with(&["ftp://example.com/"], "unsupported scheme");
}
