//! `gannet extract`: offline extraction of local HTML files (or stdin).
//!
//! Batch mode runs every file in one process over a small thread pool, so measuring
//! extraction over a corpus pays process start-up once, not per file.

use crate::UsageError;
use crate::output::{self, Format};
use anyhow::{Context, bail};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use url::Url;

/// Arguments of `gannet extract`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExtractArgs {
    /// HTML files to extract; `-` reads standard input.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Read more file paths, one per line, from this file.
    #[arg(long, value_name = "LIST")]
    files_from: Option<PathBuf>,
    /// The page's URL: base for relative links (default: the page's canonical URL).
    #[arg(long)]
    url: Option<Url>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "markdown")]
    format: Format,
    /// The whole page as Markdown, without main-content extraction.
    #[arg(long)]
    raw: bool,
    /// Write one output per input into this directory (`DIR/<stem>.md|.txt|.html|.json`).
    #[arg(long, short = 'o', value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads for batches (default: number of cores).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Write `{"extract_seconds": S}` (time spent extracting, start-up excluded) here.
    #[arg(long, value_name = "FILE")]
    timing: Option<PathBuf>,
    /// Largest input file read, in bytes.
    #[arg(long, default_value_t = 256 * 1024 * 1024)]
    max_input: u64,
    #[command(flatten)]
    schema: crate::schema_opt::SchemaArgs,
}

/// One input's outcome.
enum Outcome {
    Ok(String),
    Failed(String),
}

pub(crate) fn run(args: ExtractArgs) -> anyhow::Result<bool> {
    crate::logging::init(false);
    let mut files = args.files.clone();
    if let Some(list) = &args.files_from {
        let text = std::fs::read_to_string(list)
            .with_context(|| format!("reading file list {}", list.display()))?;
        files.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(PathBuf::from),
        );
    }
    if files.is_empty() {
        return Err(UsageError(
            "no input: give HTML files, `-` for standard input, or --files-from LIST".into(),
        )
        .into());
    }
    let schema = crate::schema_opt::Extractor::load(&args.schema)?;
    let batch = files.len() > 1;
    if files.len() > 1 && args.format != Format::Json && args.out.is_none() && schema.is_none() {
        return Err(UsageError(format!(
            "{} inputs with --format {}: add --out DIR to write one file per input, or use --format json for JSON Lines",
            files.len(),
            args.format.extension()
        ))
        .into());
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating output directory {}", dir.display()))?;
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, 256);
    let busy = Duration::ZERO;
    let busy = std::sync::Mutex::new(busy);
    let mut ok = true;
    let stdout = std::io::stdout();
    const BATCH: usize = 256;
    for chunk in files.chunks(BATCH) {
        let results: Vec<std::sync::Mutex<Option<Outcome>>> =
            chunk.iter().map(|_| std::sync::Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..jobs.min(chunk.len()) {
                scope.spawn(|| {
                    let mut spent = Duration::ZERO;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = chunk.get(i) else { break };
                        let outcome =
                            one(&args, schema.as_ref().map(|s| (s, batch)), path, &mut spent);
                        if let Ok(mut slot) = results[i].lock() {
                            *slot = Some(outcome);
                        }
                    }
                    if let Ok(mut b) = busy.lock() {
                        *b += spent;
                    }
                });
            }
        });
        let mut lock = stdout.lock();
        for (path, slot) in chunk.iter().zip(results) {
            match slot.into_inner().ok().flatten() {
                Some(Outcome::Ok(text)) => {
                    if args.out.is_none() {
                        lock.write_all(text.as_bytes())?;
                    }
                }
                Some(Outcome::Failed(e)) => {
                    ok = false;
                    eprintln!("error: {}: {e}", path.display());
                }
                None => {
                    ok = false;
                    eprintln!("error: {}: not processed", path.display());
                }
            }
        }
        lock.flush()?;
    }
    if let Some(t) = &args.timing {
        let secs = busy.lock().map(|b| b.as_secs_f64()).unwrap_or(0.0);
        std::fs::write(t, format!("{{\"extract_seconds\": {secs:.6}}}\n"))
            .with_context(|| format!("writing {}", t.display()))?;
    }
    Ok(ok)
}

fn read_input(path: &Path, max: u64) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(max + 1)
            .read_to_end(&mut bytes)
            .context("reading stdin")?;
    } else {
        let f = std::fs::File::open(path).context("cannot open")?;
        // Sized once from the file's length (capped), as std::fs::read does, rather than
        // doubling from empty and copying the page at every step.
        let len = f.metadata().map_or(0, |m| m.len().min(max + 1));
        bytes.reserve_exact(usize::try_from(len).unwrap_or(0));
        f.take(max + 1)
            .read_to_end(&mut bytes)
            .context("cannot read")?;
    }
    if bytes.len() as u64 > max {
        bail!("input larger than --max-input {max} bytes");
    }
    Ok(bytes)
}

fn one(
    args: &ExtractArgs,
    schema: Option<(&crate::schema_opt::Extractor, bool)>,
    path: &Path,
    spent: &mut Duration,
) -> Outcome {
    let bytes = match read_input(path, args.max_input) {
        Ok(b) => b,
        Err(e) => return Outcome::Failed(format!("{e:#}")),
    };
    let options = gannet_extract::Options {
        raw: args.raw,
        ..Default::default()
    };
    let started = Instant::now();
    if let Some((schema, batch)) = schema {
        // Structured extraction: the JSON list of items (one line per file in a batch).
        let items = schema.run(&bytes, args.url.as_ref().map(Url::as_str));
        *spent += started.elapsed();
        let rendered = match items {
            Ok(v) if batch => format!(
                "{}\n",
                serde_json::json!({"file": path.to_str(), "items": v})
            ),
            Ok(v) => format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default()),
            Err(e) => return Outcome::Failed(format!("{e:#}")),
        };
        return write_out(args, path, rendered, "json");
    }
    let (doc, html) = if args.format == Format::Html {
        let (d, h) = gannet_extract::extract_with_html(&bytes, args.url.as_ref(), &options);
        (d, Some(h))
    } else {
        (
            gannet_extract::extract(&bytes, args.url.as_ref(), &options),
            None,
        )
    };
    *spent += started.elapsed();
    let file = path.to_str();
    let rendered = match output::render(&doc, html.as_deref(), args.format, file, None) {
        Ok(r) => output::with_newline(r),
        Err(e) => return Outcome::Failed(format!("{e:#}")),
    };
    write_out(args, path, rendered, args.format.extension())
}

/// The output of one input: to `--out DIR/<stem>.<ext>`, or kept for standard output.
fn write_out(args: &ExtractArgs, path: &Path, rendered: String, extension: &str) -> Outcome {
    if let Some(dir) = &args.out {
        let stem = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| {
                n.strip_suffix(".html")
                    .or(n.strip_suffix(".htm"))
                    .unwrap_or(n)
            })
            .unwrap_or("stdin");
        let target = dir.join(format!("{stem}.{extension}"));
        if let Err(e) = std::fs::write(&target, rendered.as_bytes()) {
            return Outcome::Failed(format!("writing {}: {e}", target.display()));
        }
        return Outcome::Ok(String::new());
    }
    Outcome::Ok(rendered)
}
