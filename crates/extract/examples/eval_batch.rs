//! Batch extraction for the shared scorer's `--batch-cmd`, without building the CLI:
//! faster edit-measure loops while working on extraction quality.
//!
//! ```text
//! python3 ../shared/eval/score_extraction.py wceb --root ../shared/corpus/wcxb-dev \
//!   --batch-cmd 'target/release/examples/eval_batch {list} {outdir}' -j 2
//! ```
//!
//! `GANNET_DEBUG=…` shows the extractor's explanations on stderr.
//!
//! Writes `OUTDIR/<stem>.json` with `markdown`, `title`, `byline` and `page_type` per input listed in
//! LIST (one path per line), like `gannet extract --format json --out OUTDIR`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(list), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: eval_batch LIST OUTDIR");
        std::process::exit(2);
    };
    if std::env::var_os("GANNET_DEBUG").is_some() {
        // The extractor's explanations (`GANNET_DEBUG`) are tracing events.
        tracing_subscriber::fmt()
            .with_env_filter("gannet_extract::debug=trace")
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .init();
    }
    let list = std::fs::read_to_string(list).unwrap_or_default();
    let _ = std::fs::create_dir_all(out);
    for path in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Ok(bytes) = std::fs::read(path) else {
            eprintln!("cannot read {path}");
            continue;
        };
        let doc = gannet_extract::extract(&bytes, None, &gannet_extract::Options::default());
        let stem = std::path::Path::new(path)
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.strip_suffix(".html").unwrap_or(n))
            .unwrap_or("stdin");
        let json = serde_json::json!({
            "markdown": doc.markdown,
            "title": doc.title,
            "byline": doc.byline,
            "page_type": doc.page_type,
        });
        let _ = std::fs::write(format!("{out}/{stem}.json"), json.to_string());
    }
}
