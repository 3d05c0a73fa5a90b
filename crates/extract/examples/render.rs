//! Print the Markdown (or, with `--text`, the plain text) of an HTML file's body.
//!
//! `cargo run --release -p gannet-extract --example render -- page.html[.gz] [url] [--text]`
//! Gzipped input is not decoded here: pipe it through `zcat` and pass `-` instead.

use gannet_extract::{Dom, markdown};
use std::io::Read;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let text_mode = args.iter().any(|a| a == "--text");
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
