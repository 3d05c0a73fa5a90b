//! Equal output with crawl4ai: every fixture under `tests/fixtures/<page>/` holds
//! `page.html`, schemas (`css.json`, `xpath.json`, `regex.json`) and crawl4ai 0.9.5's own
//! output for each (`<kind>.expected.json`, written once by `bench/schema/gen_expected.py`).

#![allow(clippy::unwrap_used)] // Test helpers unwrap: a panic is a failed test.
use std::path::{Path, PathBuf};

use gannet_extract::Dom;
use gannet_schema::{RegexStrategy, Schema, SchemaKind};
use serde_json::Value;

const URL: &str = "https://example.com/page";

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("page.html").exists())
        .collect();
    dirs.sort();
    dirs
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Run one fixture of one kind; `None` when the fixture has no such schema.
fn ours(dir: &Path, kind: &str) -> Option<(Value, Value)> {
    let spec = dir.join(format!("{kind}.json"));
    if !spec.exists() {
        return None;
    }
    let spec = read_json(&spec);
    let expected = read_json(&dir.join(format!("{kind}.expected.json")));
    let html = std::fs::read_to_string(dir.join("page.html")).unwrap();
    let got = match kind {
        "regex" => Value::Array(
            RegexStrategy::from_params(&spec)
                .unwrap()
                .extract(URL, &html),
        ),
        _ => {
            let k = if kind == "css" {
                SchemaKind::Css
            } else {
                SchemaKind::XPath
            };
            let schema = Schema::from_json(&spec, k).unwrap();
            match schema.extract(&Dom::parse(&html)) {
                Ok(items) => Value::Array(items),
                Err(e) => serde_json::json!({"error": e.to_string()}),
            }
        }
    };
    Some((got, expected))
}

fn check(kind: &str) {
    let mut compared = 0;
    let mut diffs = Vec::new();
    for dir in fixtures() {
        let Some((got, expected)) = ours(&dir, kind) else {
            continue;
        };
        compared += 1;
        let same = match (&got, &expected) {
            // crawl4ai raised out of `extract`: so must we (the messages differ).
            (Value::Object(g), Value::Object(e)) => {
                g.contains_key("error") && e.contains_key("error")
            }
            _ => got == expected,
        };
        if !same {
            diffs.push(format!(
                "{}/{kind}: {}",
                dir.display(),
                first_difference(&got, &expected, "")
            ));
        }
    }
    assert!(compared > 0, "no {kind} fixtures");
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn css_schemas_give_crawl4ais_output() {
    check("css");
}

#[test]
fn xpath_schemas_give_crawl4ais_output() {
    check("xpath");
}

#[test]
fn regex_strategy_gives_crawl4ais_output() {
    check("regex");
}

/// Where two JSON values first differ, as a path and both sides.
fn first_difference(got: &Value, want: &Value, path: &str) -> String {
    match (got, want) {
        (Value::Array(g), Value::Array(w)) => {
            for (i, (a, b)) in g.iter().zip(w).enumerate() {
                if a != b {
                    return first_difference(a, b, &format!("{path}[{i}]"));
                }
            }
            format!("{path}: {} items vs crawl4ai's {}", g.len(), w.len())
        }
        (Value::Object(g), Value::Object(w)) => {
            for (k, b) in w {
                match g.get(k) {
                    Some(a) if a == b => {}
                    Some(a) => return first_difference(a, b, &format!("{path}.{k}")),
                    None => return format!("{path}.{k}: missing, crawl4ai has {b}"),
                }
            }
            let extra: Vec<&String> = g.keys().filter(|k| !w.contains_key(*k)).collect();
            format!("{path}: extra keys {extra:?}")
        }
        _ => format!("{path}:\n  gannet:   {got}\n  crawl4ai: {want}"),
    }
}
