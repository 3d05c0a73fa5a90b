//! gannet's side of bench/schema: a crawl4ai CSS schema over HTML files, in one process.
//!
//! usage: schema_bench SCHEMA LIST OUT.jsonl
//! Every file is read before the clock starts; the clock covers decoding, parsing and
//! extraction per page (a page's whole cost). Prints {"pages", "seconds", "pages_per_s"}.

use std::io::Write;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, schema, list, out] = args.as_slice() else {
        return Err("usage: schema_bench SCHEMA LIST OUT.jsonl".into());
    };
    let spec: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(schema)?)?;
    let schema = gannet_schema::Schema::css(&spec)?;
    let files: Vec<String> = std::fs::read_to_string(list)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let pages: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|f| std::fs::read(&f).map(|b| (f, b)))
        .collect::<Result<_, _>>()?;
    let mut results = Vec::with_capacity(pages.len());
    let start = Instant::now();
    for (name, bytes) in &pages {
        let (text, _) = gannet_extract::decode::decode_html(bytes, None);
        let dom = gannet_extract::Dom::parse(&text);
        let items = match schema.extract(&dom) {
            Ok(items) => serde_json::Value::Array(items),
            Err(e) => serde_json::json!({"error": e.to_string()}),
        };
        results.push((name, items));
    }
    let seconds = start.elapsed().as_secs_f64();
    let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
    for (name, items) in results {
        writeln!(w, "{}", serde_json::json!({"file": name, "items": items}))?;
    }
    w.flush()?;
    println!(
        "{}",
        serde_json::json!({
            "pages": pages.len(),
            "seconds": (seconds * 10_000.0).round() / 10_000.0,
            "pages_per_s": (pages.len() as f64 / seconds * 100.0).round() / 100.0,
        })
    );
    Ok(())
}
