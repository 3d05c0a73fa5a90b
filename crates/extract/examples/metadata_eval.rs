//! Run [`gannet_extract::metadata`] over a corpus and report per-field match rates.
//!
//! ```text
//! cargo run --release -p gannet-extract --example metadata_eval -- /work/shared/corpus/readability
//! cargo run --release -p gannet-extract --example metadata_eval -- /work/shared/corpus/wcxb-dev
//! ```
//!
//! Options: `--quiet` (rates only), `--only FIELD` (list mismatches of one field).
//!
//! Layouts: `DIR/<case>/source.html.gz` + `expected-metadata.json` (Mozilla Readability's
//! test pages), or `DIR/html/<id>.html.gz` + `DIR/ground-truth/<id>.json` (WCXB).
//! Comparisons follow `score_extraction.py`: title equal after collapsing white space
//! ("exact") or as lowercase word tokens ("loose"); byline equal as lowercase word tokens
//! with a leading "by" dropped, counted over pages whose truth has a byline.
//! `title_headline` is the exact title match with [`TitleStyle::Headline`]. Other fields:
//! white-space-normalized equality, over all pages (a `null` truth must be matched by
//! `None`). Gzip files are read through `gzip -dc` (no extra dependencies).

use gannet_extract::Dom;
use gannet_extract::metadata::{
    Metadata, MetadataOptions, TitleStyle, extract_metadata, extract_metadata_with,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn gunzip(path: &Path) -> Vec<u8> {
    match Command::new("gzip").arg("-dc").arg(path).output() {
        Ok(o) if o.status.success() => o.stdout,
        _ => {
            eprintln!("cannot read {}", path.display());
            Vec::new()
        }
    }
}

fn norm_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

/// `score_extraction.py`'s `norm_loose`.
fn norm_loose(s: &str, byline: bool) -> String {
    let mut toks: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if is_cjk(c) {
            if !cur.is_empty() {
                toks.push(std::mem::take(&mut cur));
            }
            toks.push(c.to_string());
        } else if c.is_alphanumeric() {
            cur.push(c);
        } else if !cur.is_empty() {
            toks.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        toks.push(cur);
    }
    if byline && toks.first().is_some_and(|t| t == "by") {
        toks.remove(0);
    }
    toks.join(" ")
}

struct Case {
    id: String,
    html: PathBuf,
    truth: Value,
}

fn load_cases(root: &Path) -> (Vec<Case>, bool) {
    let mut cases = Vec::new();
    let gt = root.join("ground-truth");
    if gt.is_dir() {
        let mut names: Vec<_> = std::fs::read_dir(&gt)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        for n in names {
            let id = n.trim_end_matches(".json").to_owned();
            let Ok(text) = std::fs::read_to_string(gt.join(&n)) else {
                continue;
            };
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let g = v.get("ground_truth").cloned().unwrap_or(Value::Null);
            let truth = serde_json::json!({
                "title": g.get("title").cloned().unwrap_or(Value::Null),
                "byline": g.get("author").cloned().unwrap_or(Value::Null),
                "publishedTime": g.get("publish_date").cloned().unwrap_or(Value::Null),
            });
            cases.push(Case {
                html: root.join("html").join(format!("{id}.html.gz")),
                id,
                truth,
            });
        }
        return (cases, true);
    }
    let mut dirs: Vec<_> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("source.html.gz").is_file())
        .collect();
    dirs.sort();
    for d in dirs {
        let Ok(text) = std::fs::read_to_string(d.join("expected-metadata.json")) else {
            continue;
        };
        cases.push(Case {
            id: d
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            html: d.join("source.html.gz"),
            truth: serde_json::from_str(&text).unwrap_or(Value::Null),
        });
    }
    (cases, false)
}

#[derive(Default)]
struct Tally {
    ok: usize,
    n: usize,
    /// Pages where the truth has no value but we gave one.
    extra: usize,
    misses: Vec<String>,
}

impl Tally {
    fn rate(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.ok as f64 / self.n as f64
        }
    }
}

fn truth_str<'a>(t: &'a Value, k: &str) -> Option<&'a str> {
    t.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quiet = args.iter().any(|a| a == "--quiet");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let Some(root) = args
        .iter()
        .find(|a| !a.starts_with("--") && Some(*a) != only.as_ref())
    else {
        eprintln!("usage: metadata_eval DIR [--quiet] [--only FIELD]");
        std::process::exit(2);
    };
    let (cases, wcxb) = load_cases(Path::new(root));
    if cases.is_empty() {
        eprintln!("no cases under {root}");
        std::process::exit(2);
    }

    let fields: &[&str] = if wcxb {
        &[
            "title",
            "title_loose",
            "title_headline",
            "byline",
            "publishedTime",
        ]
    } else {
        &[
            "title",
            "title_loose",
            "title_headline",
            "byline",
            "excerpt",
            "siteName",
            "publishedTime",
            "lang",
            "dir",
        ]
    };
    let mut tallies: Vec<Tally> = fields.iter().map(|_| Tally::default()).collect();
    let mut parse_time = Duration::ZERO;
    let mut meta_time = Duration::ZERO;
    let mut bytes = 0usize;
    let mut slowest: Vec<(Duration, Duration, String)> = Vec::new();

    for c in &cases {
        let raw = gunzip(&c.html);
        bytes += raw.len();
        let (html, _) = gannet_extract::decode::decode_html(&raw, None);
        let t0 = Instant::now();
        let dom = Dom::parse(&html);
        let t1 = Instant::now();
        // Best of a few runs: the pages are small, timer noise is not.
        let mut m = extract_metadata(&dom, None);
        let mut best = t1.elapsed();
        for _ in 0..4 {
            let t = Instant::now();
            m = extract_metadata(&dom, None);
            best = best.min(t.elapsed());
        }
        meta_time += best;
        parse_time += t1 - t0;
        slowest.push((best, t1 - t0, c.id.clone()));

        let headline = extract_metadata_with(
            &dom,
            None,
            &MetadataOptions {
                title: TitleStyle::Headline,
            },
        );
        for (f, tally) in fields.iter().zip(tallies.iter_mut()) {
            if *f == "title_headline" {
                compare("title", c, &headline, tally);
            } else {
                compare(f, c, &m, tally);
            }
        }
    }

    println!(
        "{} pages, {:.1} MB; parse {:.1} ms, metadata {:.1} ms ({:.1}% of parse)",
        cases.len(),
        bytes as f64 / 1e6,
        parse_time.as_secs_f64() * 1e3,
        meta_time.as_secs_f64() * 1e3,
        100.0 * meta_time.as_secs_f64() / parse_time.as_secs_f64().max(1e-9)
    );
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    let top: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|(m, p, id)| {
            format!(
                "{id} {:.2}/{:.2} ms",
                m.as_secs_f64() * 1e3,
                p.as_secs_f64() * 1e3
            )
        })
        .collect();
    println!("slowest metadata (metadata/parse): {}", top.join(", "));
    for (f, t) in fields.iter().zip(&tallies) {
        println!(
            "{f:<14} {:>4}/{:<4} {:>6.1}%   (value given where truth has none: {})",
            t.ok,
            t.n,
            100.0 * t.rate(),
            t.extra
        );
    }
    if quiet {
        return;
    }
    for (f, t) in fields.iter().zip(&tallies) {
        if only.as_deref().is_some_and(|o| o != *f) || t.misses.is_empty() {
            continue;
        }
        println!("\n== {f} mismatches ({}) ==", t.misses.len());
        for m in &t.misses {
            println!("{m}");
        }
    }
}

fn compare(field: &str, c: &Case, m: &Metadata, t: &mut Tally) {
    let (truth_key, got) = match field {
        "title" | "title_loose" => ("title", m.title.as_deref()),
        "byline" => ("byline", m.byline.as_deref()),
        "excerpt" => ("excerpt", m.excerpt.as_deref()),
        "siteName" => ("siteName", m.site_name.as_deref()),
        "publishedTime" => ("publishedTime", m.published_time.as_deref()),
        "lang" => ("lang", m.lang.as_deref()),
        "dir" => ("dir", m.dir.as_deref()),
        _ => return,
    };
    let want = truth_str(&c.truth, truth_key);
    let ok = match field {
        "title" => {
            // The scorer skips pages without a title.
            let Some(w) = want else { return };
            t.n += 1;
            got.is_some_and(|g| norm_ws(g) == norm_ws(w))
        }
        "title_loose" => {
            let Some(w) = want else { return };
            t.n += 1;
            got.is_some_and(|g| norm_loose(g, false) == norm_loose(w, false))
        }
        "byline" => {
            let Some(w) = want else {
                if got.is_some() {
                    t.extra += 1;
                    t.misses.push(format!(
                        "  {:<40} want None\n  {:<40} got  {:?}",
                        c.id, "", got
                    ));
                }
                return;
            };
            t.n += 1;
            got.is_some_and(|g| norm_loose(g, true) == norm_loose(w, true))
        }
        _ => {
            t.n += 1;
            if want.is_none() && got.is_some() {
                t.extra += 1;
            }
            match (want, got) {
                (None, None) => true,
                (Some(w), Some(g)) => norm_ws(w) == norm_ws(g),
                _ => false,
            }
        }
    };
    if ok {
        t.ok += 1;
    } else {
        t.misses.push(format!(
            "  {:<40} want {:?}\n  {:<40} got  {:?}",
            c.id,
            want.map(|w| truncate(w, 160)),
            "",
            got.map(|g| truncate(g, 160))
        ));
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}
