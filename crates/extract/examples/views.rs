//! Main content and whole page of the files given, `ROUNDS` times (default 20): two
//! extractions (two parses, as the server did before) against one `ParsedPage` with two
//! views. Pages per second of each, interleaved per round.

use gannet_extract::{Options, ParsedPage};

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let pages: Vec<String> = std::env::args()
        .skip(1)
        .filter_map(|p| std::fs::read(p).ok())
        .map(|b| gannet_extract::decode::decode_html(&b, None).0.into_owned())
        .collect();
    let url = url::Url::parse("https://example.com/page").ok();
    let main = Options::default();
    let raw = Options {
        raw: true,
        skip_links: true,
        ..Options::default()
    };
    let (mut two, mut one) = (0.0, 0.0);
    let mut check = 0;
    for _ in 0..rounds {
        let t = std::time::Instant::now();
        for page in &pages {
            check += gannet_extract::extract_str(page, url.as_ref(), &raw).word_count;
            check += gannet_extract::extract_str(page, url.as_ref(), &main).word_count;
        }
        two += t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        for page in &pages {
            let parsed = ParsedPage::parse(page, url.as_ref());
            check += parsed.document(&raw).word_count;
            check += parsed.into_document(&main, false).0.word_count;
        }
        one += t.elapsed().as_secs_f64();
    }
    let n = (pages.len() * rounds) as f64;
    println!(
        "raw+main: two parses {:.1} pages/s, one parse {:.1} pages/s, ratio {:.2} ({check})",
        n / two,
        n / one,
        two / one
    );
}
