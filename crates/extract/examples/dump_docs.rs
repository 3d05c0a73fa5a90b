//! Every field of the extracted documents, for checking that a speed change keeps the
//! output byte-identical without building the CLI (`bench/same-output.sh` checks the CLI).
//!
//! ```text
//! cargo build --release -p gannet-extract --example dump_docs
//! target/release/examples/dump_docs LIST > before.jsonl   # one JSON document a line
//! ```
//!
//! Also the program to profile: `valgrind --tool=callgrind
//! --toggle-collect='gannet_extract::extract' target/release/examples/dump_docs LIST`.

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(list) = args.first() else {
        eprintln!("usage: dump_docs LIST");
        std::process::exit(2);
    };
    let list = std::fs::read_to_string(list).unwrap_or_default();
    let options = gannet_extract::Options::default();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for path in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Ok(bytes) = std::fs::read(path) else {
            eprintln!("cannot read {path}");
            continue;
        };
        let doc = gannet_extract::extract(&bytes, None, &options);
        let json = serde_json::to_string(&doc).unwrap_or_default();
        let _ = writeln!(out, "{path}\t{json}");
    }
}
