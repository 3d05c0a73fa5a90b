//! `gannet extract` end to end: the real binary over files in a temp dir.

#![allow(clippy::unwrap_used)] // Test helpers unwrap: a panic is a failed test.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const ARTICLE: &str = "<html lang=\"en\"><head><title>Gannets dive - Sea Birds</title>\
    <meta name=\"author\" content=\"Ada Fisher\"></head><body>\
    <nav><a href=\"/\">Home</a> <a href=\"/birds\">Birds</a></nav>\
    <article><h1>Gannets dive</h1>\
    <p>Gannets plunge into the sea from thirty metres, folding their wings at the last moment, \
    and reach depths of ten metres or more while chasing fish.</p>\
    <p>Their skulls have air sacs that cushion the impact, and their nostrils open inside \
    the beak, so <a href=\"/water\">water</a> cannot be forced in.</p></article>\
    <footer>Copyright Sea Birds</footer></body></html>";

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("gannet-extract-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn gannet(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gannet"))
        .arg("extract")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn one_file_prints_markdown_without_boilerplate() {
    let dir = TempDir::new("one");
    let f = dir.write("a.html", ARTICLE.as_bytes());
    let out = gannet(&[path(&f)], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("Gannets plunge into the sea"), "{md}");
    assert!(md.contains("folding their wings"), "{md}");
    assert!(!md.contains("Copyright Sea Birds"), "{md}");
    assert!(!md.contains('<'), "no HTML left: {md}");
}

#[test]
fn json_has_metadata_links_and_text() {
    let dir = TempDir::new("json");
    let f = dir.write("a.html", ARTICLE.as_bytes());
    let out = gannet(
        &[
            "--format",
            "json",
            "--url",
            "https://birds.example/dive",
            path(&f),
        ],
        None,
    );
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["byline"], "Ada Fisher");
    assert_eq!(v["lang"], "en");
    assert!(v["title"].as_str().unwrap().contains("Gannets dive"));
    assert!(v["text"].as_str().unwrap().contains("air sacs"));
    assert!(v["word_count"].as_u64().unwrap() > 30);
    let links = v["links"].as_array().unwrap();
    let water = links.iter().find(|l| l["text"] == "water").unwrap();
    assert_eq!(water["href"], "https://birds.example/water");
    assert_eq!(water["internal"], true);
}

#[test]
fn several_files_as_json_lines_and_into_a_directory() {
    let dir = TempDir::new("batch");
    let a = dir.write("a.html", ARTICLE.as_bytes());
    let b = dir.write(
        "b.html",
        b"<p>Second page with plenty of words to be its own content.</p>",
    );
    let out = gannet(&["--format", "json", path(&a), path(&b)], None);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["file"], path(&a));
    assert_eq!(lines[1]["file"], path(&b));

    let outdir = dir.0.join("out");
    let out = gannet(
        &["--out", path(&outdir), "-j", "2", path(&a), path(&b)],
        None,
    );
    assert!(out.status.success());
    let md = std::fs::read_to_string(outdir.join("a.md")).unwrap();
    assert!(md.contains("Gannets plunge"));
    assert!(outdir.join("b.md").exists());

    // Several inputs to stdout in a non-JSON format is a usage error with the fix.
    let out = gannet(&[path(&a), path(&b)], None);
    assert_eq!(out.status.code(), Some(64), "usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out DIR"));
}

#[test]
fn stdin_and_legacy_charsets() {
    let out = gannet(&["-"], Some(ARTICLE.as_bytes()));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("air sacs"));

    // Shift_JIS declared late in the head.
    let body = "日本語の記事です。カツオドリは海に飛び込みます。";
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(body);
    let mut page = b"<html><head>".to_vec();
    page.extend(std::iter::repeat_n(b' ', 2000));
    page.extend_from_slice(b"<meta charset=\"shift_jis\"></head><body><p>");
    page.extend_from_slice(&sjis);
    page.extend_from_slice(b"</p></body></html>");
    let out = gannet(&["--format", "text", "-"], Some(&page));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(body));
}

#[test]
fn missing_file_is_a_clear_error() {
    let out = gannet(&["/nonexistent/gannet/page.html"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/gannet/page.html"), "{err}");
    assert!(err.contains("cannot open"), "{err}");
}

#[test]
fn no_input_is_a_usage_error() {
    let out = gannet(&[], None);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: no input"));
}

#[test]
fn gannet_debug_shows_the_extractors_explanations_as_tracing_events() {
    let dir = TempDir::new("debug");
    let page = dir.write("a.html", ARTICLE.as_bytes());
    let run = |debug: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gannet"));
        cmd.arg("extract").arg(path(&page)).env_remove("RUST_LOG");
        if debug {
            cmd.env("GANNET_DEBUG", "1");
        } else {
            cmd.env_remove("GANNET_DEBUG");
        }
        cmd.output().unwrap()
    };
    let on = run(true);
    assert!(on.status.success());
    let err = String::from_utf8_lossy(&on.stderr);
    // The chosen node, as an event of the extractor's debug target with key/value fields.
    assert!(err.contains("gannet_extract::debug"), "{err}");
    assert!(err.contains("top candidate"), "{err}");
    assert!(err.contains(" score=") && err.contains(" text="), "{err}");
    // The Markdown is the same either way, and nothing is printed without the variable.
    let off = run(false);
    assert!(off.status.success());
    assert_eq!(on.stdout, off.stdout);
    assert!(String::from_utf8_lossy(&on.stdout).contains("Gannets plunge"));
    assert!(
        off.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&off.stderr)
    );
}
