//! Print the Markdown (or, with `--text`, the plain text) of an HTML file's body.
//!
//! `cargo run --release -p gannet-extract --example render -- page.html[.gz] [url] [--text]`
//! Gzipped input is not decoded here: pipe it through `zcat` and pass `-` instead.
//!
//! `--bench a.html b.html ...` instead times the render step alone (parse excluded) over
//! all files and prints MB/s of input HTML.

use gannet_extract::{Dom, markdown};
use std::io::Read;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let text_mode = args.iter().any(|a| a == "--text");
    if args.iter().any(|a| a == "--bench") {
        bench(args.iter().filter(|a| !a.starts_with("--")));
        return;
    }
    let mut pos = args.iter().filter(|a| !a.starts_with("--"));
    let path = pos.next().map(String::as_str).unwrap_or("-");
    let url = pos.next().and_then(|u| url::Url::parse(u).ok());
    let mut bytes = Vec::new();
    let read = if path == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    if let Err(e) = read {
        eprintln!("render: {path}: {e}");
        std::process::exit(1);
    }
    let (html, _) = gannet_extract::decode::decode_html(&bytes, None);
    let dom = Dom::parse(&html);
    let body = dom.body().unwrap_or(dom.root());
    let base = gannet_extract::links::base_url(&dom, url.as_ref());
    let out = if text_mode {
        markdown::to_text(&dom, body)
    } else {
        markdown::to_markdown(&dom, body, base.as_ref())
    };
    print!("{out}");
}

fn bench<'a>(paths: impl Iterator<Item = &'a String>) {
    let mut docs = Vec::new();
    let mut bytes_total = 0usize;
    for p in paths {
        let Ok(bytes) = std::fs::read(p) else {
            continue;
        };
        let (html, _) = gannet_extract::decode::decode_html(&bytes, None);
        bytes_total += html.len();
        docs.push(Dom::parse(&html));
    }
    let mut best = f64::MAX;
    let mut out_len = 0;
    for _ in 0..5 {
        let t = std::time::Instant::now();
        out_len = 0;
        for dom in &docs {
            let body = dom.body().unwrap_or(dom.root());
            out_len += markdown::to_markdown(dom, body, None).len();
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{} docs, {:.1} MB html -> {:.1} MB markdown, render {:.1} ms = {:.0} MB/s",
        docs.len(),
        bytes_total as f64 / 1e6,
        out_len as f64 / 1e6,
        best * 1e3,
        bytes_total as f64 / 1e6 / best
    );
}
