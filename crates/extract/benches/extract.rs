//! Criterion benchmarks of the extraction pipeline on real pages: parse alone, and the
//! whole `extract` (parse, metadata, content, Markdown, links). Pages come from the shared
//! development corpus when it is present beside the checkout (`../shared`, or
//! `GANNET_SHARED`); otherwise a generated article is used, so the bench always runs.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::io::Read;
use std::path::PathBuf;

fn corpus_pages(limit: usize) -> Vec<Vec<u8>> {
    let shared = std::env::var_os("GANNET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("corpus/wcxb-dev/html");
    let mut pages = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return pages;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths.into_iter().take(limit) {
        let Ok(raw) = std::fs::read(&path) else {
            continue;
        };
        let mut out = Vec::new();
        if path.extension().is_some_and(|e| e == "gz") {
            if gunzip(&raw, &mut out).is_err() {
                continue;
            }
        } else {
            out = raw;
        }
        pages.push(out);
    }
    pages
}

/// Decompress with the system's `gzip` (keeps the bench free of extra dependencies).
fn gunzip(raw: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or(std::io::ErrorKind::BrokenPipe)?;
    let data = raw.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    child
        .stdout
        .take()
        .ok_or(std::io::ErrorKind::BrokenPipe)?
        .read_to_end(out)?;
    child.wait()?;
    writer.join().map_err(|_| std::io::ErrorKind::Other)??;
    Ok(())
}

fn generated_article() -> Vec<u8> {
    let mut html = String::from("<html><head><title>Bench - Site</title></head><body><nav>");
    for i in 0..50 {
        html.push_str(&format!("<a href=\"/n{i}\">Section {i}</a> "));
    }
    html.push_str("</nav><article><h1>Bench</h1>");
    for i in 0..200 {
        html.push_str(&format!(
            "<p>Paragraph {i} with <a href=\"/x{i}\">a link</a>, some <em>emphasis</em>, and \
             enough words, commas, and clauses to look like prose to the scorer.</p>"
        ));
    }
    html.push_str("</article><footer>Footer</footer></body></html>");
    html.into_bytes()
}

fn bench(c: &mut Criterion) {
    let mut pages = corpus_pages(60);
    if pages.is_empty() {
        pages.push(generated_article());
    }
    let bytes: usize = pages.iter().map(Vec::len).sum();
    let texts: Vec<String> = pages
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    let mut group = c.benchmark_group("extract");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    group.bench_function("parse", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(gannet_extract::Dom::parse(black_box(t)));
            }
        })
    });
    let options = gannet_extract::Options::default();
    group.bench_function("extract", |b| {
        b.iter(|| {
            for p in &pages {
                black_box(gannet_extract::extract(black_box(p), None, &options));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
