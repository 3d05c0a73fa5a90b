//! Main-content extraction of the files given, `ROUNDS` times (default 20): pages per
//! second. The single-view path `gannet scrape` and the crawler take (bench/runs/
//! 2026-12-07-page-service compares it before and after the parsed-page value).

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let pages: Vec<Vec<u8>> = std::env::args()
        .skip(1)
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    let url = url::Url::parse("https://example.com/page").ok();
    let options = gannet_extract::Options::default();
    let started = std::time::Instant::now();
    let mut words = 0;
    for _ in 0..rounds {
        for page in &pages {
            words += gannet_extract::extract(page, url.as_ref(), &options).word_count;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "single: {} pages in {secs:.3} s = {:.1} pages/s ({words} words)",
        pages.len() * rounds,
        (pages.len() * rounds) as f64 / secs
    );
}
