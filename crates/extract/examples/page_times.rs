//! Where extraction time goes, page by page: the distribution of per-page extraction
//! times over a list of files (the tail is what a server's p99 feels), and the slowest
//! pages with their size and link count.
//!
//! ```text
//! cargo run --release -p gannet-extract --example page_times -- LIST [ROUNDS]
//! ```
//!
//! LIST has one HTML file per line. Each page is extracted ROUNDS times (default 5) and
//! its best time kept, so the figures are the work, not the machine's other load.

use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(list) = args.first() else {
        eprintln!("usage: page_times LIST [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5).max(1);
    let list = std::fs::read_to_string(list).unwrap_or_default();
    let options = gannet_extract::Options::default();
    let mut rows = Vec::new();
    for path in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Ok(bytes) = std::fs::read(path) else {
            eprintln!("cannot read {path}");
            continue;
        };
        let mut best = Duration::MAX;
        let mut links = 0;
        for _ in 0..rounds {
            let started = Instant::now();
            let doc = gannet_extract::extract(&bytes, None, &options);
            best = best.min(started.elapsed());
            links = doc.links.len();
        }
        rows.push((best, bytes.len(), links, path.to_string()));
    }
    if rows.is_empty() {
        eprintln!("no pages");
        std::process::exit(1);
    }
    let total: Duration = rows.iter().map(|r| r.0).sum();
    let bytes: usize = rows.iter().map(|r| r.1).sum();
    let mut times: Vec<Duration> = rows.iter().map(|r| r.0).collect();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{} pages, {:.1} MB: total {:.1} ms ({:.0} pages/s, {:.0} MB/s); per page p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        rows.len(),
        bytes as f64 / 1e6,
        total.as_secs_f64() * 1e3,
        rows.len() as f64 / total.as_secs_f64(),
        bytes as f64 / 1e6 / total.as_secs_f64(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.9).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    println!("slowest:");
    for (took, size, links, path) in rows.iter().take(10) {
        println!(
            "  {:>7.2} ms {:>8} bytes {:>6} links ({:.0} MB/s)  {path}",
            took.as_secs_f64() * 1e3,
            size,
            links,
            *size as f64 / 1e6 / took.as_secs_f64()
        );
    }
}
