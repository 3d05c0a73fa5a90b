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

pub use jsonl::JsonlSink;
pub use tree::{TreeSink, tree_path};

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
}

impl SinkWriter {
    /// Opens the sink at `path` (a file for JSONL, a directory for Markdown, a file prefix
    /// for WARC). `position` is the last checkpoint of an interrupted crawl (`--resume`):
    /// output after it is cut off. Without it, existing output is replaced.
    pub fn open(format: Format, path: &Path, position: Option<&str>) -> io::Result<SinkWriter> {
        match format {
            Format::Jsonl => JsonlSink::open(path, position).map(SinkWriter::Jsonl),
            Format::Markdown => TreeSink::open(path, position).map(SinkWriter::Tree),
            Format::Warc => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "WARC output is not available in this build",
            )),
        }
    }

    /// Writes one prepared page.
    pub fn write(&mut self, prepared: Prepared) -> io::Result<()> {
        match (self, prepared) {
            (SinkWriter::Jsonl(sink), Prepared::Line(line)) => sink.write(&line),
            (SinkWriter::Tree(sink), Prepared::File(path, bytes)) => sink.write(&path, &bytes),
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
        }
    }

    /// Flushes and syncs to disk at the end of a crawl.
    pub fn finish(&mut self) -> io::Result<String> {
        match self {
            SinkWriter::Jsonl(sink) => sink.finish(),
            SinkWriter::Tree(sink) => sink.checkpoint(),
        }
    }
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
