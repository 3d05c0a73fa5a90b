//! Output sinks of gannet crawls: JSON Lines, a tree of Markdown files, WARC 1.1.
//!
//! A crawl hands every fetched page to one sink. Work is split so that the sink's own
//! thread does little: [`prepare`] (pure, run on the worker that extracted the page) turns
//! a [`PageRecord`] into the bytes to write; [`SinkWriter::write`] appends them.
//!
//! **Crash safety.** [`SinkWriter::checkpoint`] flushes to the OS and returns the sink's
//! position as a string; the engine stores it in the frontier in the same transaction
//! that marks the written pages done. [`SinkWriter::open`] with that position cuts off
//! whatever was written after it (pages the frontier will hand out again), so after a
//! `kill -9` and a resume no page is lost and none appears twice.

mod jsonl;
mod tree;
pub mod warc;

pub use jsonl::JsonlSink;
pub use tree::{TreeSink, tree_path};
pub use warc::{Exchange, NotModified, WarcConfig, WarcPosition, WarcWriter, rfc3339_millis};

use gannet_core::Document;
use serde::Serialize;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Output formats of a crawl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per page in one file.
    Jsonl,
    /// One `.md` file per page, its path mirroring the URL, with YAML front matter.
    Markdown,
    /// WARC 1.1, gzip per record: the HTTP exchanges as fetched.
    Warc,
}

/// What a crawl knows about one fetched page besides its extracted [`Document`].
#[derive(Debug, Clone, Serialize)]
pub struct PageMeta {
    /// Link depth from the seeds.
    pub depth: u32,
    /// The page the URL was found on.
    pub referrer: Option<String>,
    /// HTTP status.
    pub status: u16,
    /// When the response arrived, RFC 3339 UTC.
    pub fetched_at: String,
    /// MIME type of the response.
    pub content_type: Option<String>,
    /// `ETag` response header.
    pub etag: Option<String>,
    /// `Last-Modified` response header.
    pub last_modified: Option<String>,
    /// SHA-256 of the (decoded) body, lowercase hex.
    pub sha256: String,
}

/// The HTTP exchange behind a page, for WARC.
#[derive(Debug, Clone)]
pub struct HttpParts {
    /// When the response arrived.
    pub date: std::time::SystemTime,
    /// Peer address.
    pub ip: Option<IpAddr>,
    /// `HTTP/1.1`, `HTTP/2.0`, ...
    pub version: &'static str,
    /// Request headers as sent.
    pub request_headers: Vec<(String, String)>,
    /// Response headers, names lowercase.
    pub response_headers: Vec<(String, String)>,
    /// The decoded body.
    pub body: bytes::Bytes,
}

/// Everything a sink may write about one page.
#[derive(Debug, Clone)]
pub struct PageRecord {
    /// The extracted page (its `url` is the fetched URL).
    pub document: Document,
    /// Crawl facts.
    pub meta: PageMeta,
    /// The exchange (WARC needs it; others ignore it).
    pub http: HttpParts,
}

/// A page turned into the bytes its sink writes.
#[derive(Debug)]
pub enum Prepared {
    /// One line of JSON (with its newline).
    Line(Vec<u8>),
    /// A file of the Markdown tree, relative to its root.
    File(PathBuf, Vec<u8>),
    /// A record left for the writer (WARC compresses on its own thread).
    Record(Box<PageRecord>),
}

/// Prepares `page` for a sink of `format`. Pure and thread-safe: call it on the worker that
/// extracted the page.
pub fn prepare(format: Format, page: PageRecord) -> io::Result<Prepared> {
    match format {
        Format::Jsonl => jsonl::line(&page).map(Prepared::Line),
        Format::Markdown => Ok(tree::file(&page)),
        Format::Warc => Ok(Prepared::Record(Box::new(page))),
    }
}

/// An open sink.
#[derive(Debug)]
pub enum SinkWriter {
    /// JSON Lines.
    Jsonl(JsonlSink),
    /// Markdown tree.
    Tree(TreeSink),
    /// WARC files.
    Warc(WarcWriter),
}

impl SinkWriter {
    /// Opens the sink at `path` (a file for JSONL, a directory for Markdown, a file prefix
    /// for WARC). `position` is the last checkpoint of an interrupted crawl (`--resume`):
    /// output after it is cut off. Without it, JSONL and WARC output is replaced and a
    /// Markdown tree is written into (files of an earlier crawl stay unless rewritten).
    pub fn open(format: Format, path: &Path, position: Option<&str>) -> io::Result<SinkWriter> {
        match format {
            Format::Jsonl => JsonlSink::open(path, position).map(SinkWriter::Jsonl),
            Format::Markdown => TreeSink::open(path, position).map(SinkWriter::Tree),
            Format::Warc => {
                let config = WarcConfig::new(warc_prefix(path));
                match position {
                    Some(p) => {
                        let pos: WarcPosition =
                            serde_json::from_str(p).map_err(|_| bad_position(p))?;
                        WarcWriter::resume(config, pos).map(SinkWriter::Warc)
                    }
                    None => {
                        remove_warc_files(&config.prefix)?;
                        WarcWriter::create(config).map(SinkWriter::Warc)
                    }
                }
            }
        }
    }

    /// Writes one prepared page.
    pub fn write(&mut self, prepared: Prepared) -> io::Result<()> {
        match (self, prepared) {
            (SinkWriter::Jsonl(sink), Prepared::Line(line)) => sink.write(&line),
            (SinkWriter::Tree(sink), Prepared::File(path, bytes)) => sink.write(&path, &bytes),
            (SinkWriter::Warc(sink), Prepared::Record(page)) => write_warc(sink, &page),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "page prepared for another sink format",
            )),
        }
    }

    /// Flushes to the OS and returns the position to resume from.
    pub fn checkpoint(&mut self) -> io::Result<String> {
        match self {
            SinkWriter::Jsonl(sink) => sink.checkpoint(),
            SinkWriter::Tree(sink) => sink.checkpoint(),
            SinkWriter::Warc(sink) => position_string(sink.flush()?),
        }
    }

    /// Called once the frontier has committed the last checkpoint (the Markdown tree
    /// empties its journal of uncommitted files).
    pub fn committed(&mut self) -> io::Result<()> {
        match self {
            SinkWriter::Tree(sink) => sink.committed(),
            SinkWriter::Jsonl(_) | SinkWriter::Warc(_) => Ok(()),
        }
    }

    /// Flushes and syncs to disk at the end of a crawl.
    pub fn finish(&mut self) -> io::Result<String> {
        match self {
            SinkWriter::Jsonl(sink) => sink.finish(),
            SinkWriter::Tree(sink) => sink.checkpoint(),
            SinkWriter::Warc(sink) => position_string(sink.sync()?),
        }
    }
}

/// `out.warc.gz` → files `out-00000.warc.gz`, ...; any other name is used as the prefix.
fn warc_prefix(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let stem = name
        .strip_suffix(".warc.gz")
        .or_else(|| name.strip_suffix(".warc"))
        .unwrap_or(&name);
    path.with_file_name(stem)
}

/// A fresh crawl replaces the WARC files of an earlier one with the same prefix.
fn remove_warc_files(prefix: &Path) -> io::Result<()> {
    let Some(dir) = prefix.parent().map(|d| {
        if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        }
    }) else {
        return Ok(());
    };
    let stem = prefix
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let numbered = name
            .strip_prefix(&format!("{stem}-"))
            .and_then(|rest| rest.strip_suffix(".warc.gz"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if numbered {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn position_string(position: WarcPosition) -> io::Result<String> {
    serde_json::to_string(&position).map_err(io::Error::other)
}

fn write_warc(sink: &mut WarcWriter, page: &PageRecord) -> io::Result<()> {
    let url = page.document.url.as_deref().unwrap_or_default();
    let http = &page.http;
    if page.meta.status == 304 {
        return sink.write_revisit_not_modified(&NotModified {
            url,
            date: http.date,
            ip: http.ip,
            http_version: http.version,
            request_headers: &http.request_headers,
            response_headers: &http.response_headers,
            refers_to_date: None,
        });
    }
    sink.write_exchange(&Exchange {
        url,
        date: http.date,
        ip: http.ip,
        http_version: http.version,
        request_headers: &http.request_headers,
        status: page.meta.status,
        reason: "",
        response_headers: &http.response_headers,
        body: &http.body,
    })
}

/// The JSON object of a page in JSONL output: the extract JSON plus crawl facts.
#[derive(Serialize)]
pub(crate) struct JsonRecord<'a> {
    #[serde(flatten)]
    pub(crate) document: &'a Document,
    #[serde(flatten)]
    pub(crate) meta: &'a PageMeta,
}

fn bad_position(position: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("invalid sink position '{position}' in the crawl state"),
    )
}
