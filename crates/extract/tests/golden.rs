//! Golden tests for the Markdown renderer: each `tests/golden/<case>/` holds `input.html`,
//! an optional `url.txt` (the page URL) and `expected.md`, the rendering of the whole body.
//! `UPDATE_GOLDEN=1 cargo test -p gannet-extract --test golden` rewrites the expectations.

use gannet_extract::{Dom, links, markdown};
use std::fmt::Write as _;
use std::path::Path;

fn render(dir: &Path) -> String {
    let html = std::fs::read_to_string(dir.join("input.html")).expect("input.html");
    let url = std::fs::read_to_string(dir.join("url.txt"))
        .ok()
        .and_then(|u| url::Url::parse(u.trim()).ok());
    let dom = Dom::parse(&html);
    let body = dom.body().unwrap_or(dom.root());
    let base = links::base_url(&dom, url.as_ref());
    markdown::to_markdown(&dom, body, base.as_ref())
}

/// A line-by-line diff: `-` expected, `+` got, with a little context.
fn diff(expected: &str, got: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    let mut out = String::new();
    for i in 0..e.len().max(g.len()) {
        let (a, b) = (e.get(i), g.get(i));
        if a == b {
            let _ = writeln!(out, "  {:>4} {}", i + 1, a.unwrap_or(&""));
        } else {
            if let Some(a) = a {
                let _ = writeln!(out, "- {:>4} {a}", i + 1);
            }
            if let Some(b) = b {
                let _ = writeln!(out, "+ {:>4} {b}", i + 1);
            }
        }
    }
    out
}

#[test]
fn golden() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/golden")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("input.html").exists())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no golden cases in {}", root.display());
    let mut failures = Vec::new();
    for dir in &cases {
        let got = render(dir);
        let expected_path = dir.join("expected.md");
        if update {
            std::fs::write(&expected_path, &got).expect("write expected.md");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != got {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            failures.push(format!(
                "=== {name} (- expected, + got)\n{}",
                diff(&expected, &got)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden cases differ (UPDATE_GOLDEN=1 to accept):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
