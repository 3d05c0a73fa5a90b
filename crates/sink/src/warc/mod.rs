//! WARC 1.1 output: `.warc.gz` files of `warcinfo`, `request`, `response` and `revisit`
//! records, one gzip member per record, rotated by size and resumable at a committed position.
//!
//! The writer is blocking `std::io`; the engine runs it on a dedicated thread. Memory stays
//! bounded: each record is compressed straight from the caller's slices, nothing buffers a
//! whole file.
//!
//! ```
//! use std::time::SystemTime;
//! use gannet_sink::warc::{Exchange, WarcConfig, WarcWriter};
//!
//! # fn main() -> std::io::Result<()> {
//! # let dir = std::env::temp_dir().join(format!("gannet-warc-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let mut config = WarcConfig::new(dir.join("crawl")); // dir/crawl-00000.warc.gz, …
//! config.extra_info.push(("robots".into(), "obey".into()));
//! let mut warc = WarcWriter::create(config.clone())?;
//! let request = vec![("Host".to_string(), "example.com".to_string())];
//! let response = vec![("content-type".to_string(), "text/html".to_string())];
//! warc.write_exchange(&Exchange {
//!     url: "https://example.com/",
//!     date: SystemTime::now(),
//!     ip: None,
//!     http_version: "HTTP/2.0",
//!     request_headers: &request,
//!     status: 200,
//!     reason: "",
//!     response_headers: &response,
//!     body: b"<p>Hello</p>",
//! })?;
//! let committed = warc.flush()?; // store this with the crawl state
//! drop(warc);
//! // After a crash: continue exactly after the last committed record.
//! let warc = WarcWriter::resume(config, committed)?;
//! # drop(warc);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! # Files
//!
//! A crawl with [`WarcConfig::prefix`] `out/crawl` writes `out/crawl-00000.warc.gz`,
//! `out/crawl-00001.warc.gz`, … Each file opens with its own `warcinfo` record (software,
//! format, `conformsTo`, hostname, plus [`WarcConfig::extra_info`]) and every later record of
//! the file names it in `WARC-Warcinfo-ID`. A new file starts before an exchange would begin in
//! a file that already holds [`WarcConfig::max_file_bytes`] or more; the request and response of
//! one exchange always share a file.
//!
//! # Records
//!
//! [`WarcWriter::write_exchange`] writes a `request` record and then a `response` record. Both
//! carry `WARC-Target-URI`, `WARC-Date` (UTC, microseconds, as WARC 1.1 allows),
//! `WARC-Record-ID` (`<urn:uuid:…>`, random v4), `WARC-IP-Address` when known,
//! `WARC-Warcinfo-ID`, `WARC-Protocol`, `Content-Type: application/http;msgtype=…` and
//! `WARC-Block-Digest`; the response also has `WARC-Payload-Digest`, and the request points at
//! the response with `WARC-Concurrent-To`. Digests are `sha1:` in base32, the convention that
//! warcio, pywb and Heritrix check.
//!
//! [`WarcWriter::write_revisit_not_modified`] records a `304 Not Modified` on a re-crawl: a
//! `request` record plus a `revisit` record with the profile
//! `http://netpreserve.org/warc/1.1/revisit/server-not-modified`, the 304 head as its block
//! and `WARC-Refers-To-Target-URI` / `WARC-Refers-To-Date` naming the earlier capture.
//!
//! # Decoded bodies
//!
//! The HTTP client hands us the entity body *after* content decoding (gzip, br, zstd removed)
//! and de-chunking. The response written to the WARC must describe the bytes it contains, so
//! the head is rewritten:
//!
//! - `Content-Encoding` and `Transfer-Encoding` are dropped; their values are kept as
//!   `X-Gannet-Original-Content-Encoding` and `X-Gannet-Original-Transfer-Encoding`;
//! - `Content-Length` is set to the length of the decoded body; a received value that differs
//!   is kept as `X-Gannet-Original-Content-Length`.
//!
//! WARC 1.1 defines the payload digest over the entity body after removing transfer-encoding
//! (iipc/warc-specifications#22); tools disagree on whether content-encoding stays (warcio #74,
//! wpull #424). Because our stored message has neither encoding, every reading agrees: the
//! payload digest is the SHA-1 of exactly the body bytes stored. The price is that the record
//! is not byte-for-byte what came off the wire; the `X-Gannet-Original-*` headers say so.
//!
//! # HTTP/2 and HTTP/3
//!
//! There is no standard text form of an HTTP/2 message in WARC, and warcio, pywb and most
//! indexers only parse an `HTTP/1.x` status line. Like Nutch and StormCrawler, we write such
//! messages with an `HTTP/1.1` request and status line (canonical reason phrase, since h2 has
//! none) and record the protocol actually used in the `WARC-Protocol` field (`h2`, `h2c`, `h3`)
//! proposed in iipc/warc-specifications#42. HTTP/1.x exchanges get `http/1.1` or `http/1.0`
//! there too. WARC readers ignore fields they do not know, so the records stay WARC 1.1.
//!
//! # Crash safety
//!
//! [`WarcWriter::flush`] pushes every complete record to the OS and returns a [`WarcPosition`]
//! (file index and byte offset). The engine stores that position with the rest of its committed
//! state; after a `kill -9`, [`WarcWriter::resume`] truncates the file to the position, deletes
//! later files and appends from there, so whatever was written after the last commit is gone
//! and never duplicated. `flush` survives a process crash; [`WarcWriter::sync`] also survives
//! power loss at the cost of an `fsync`.
//!
//! After an I/O error in the middle of a record the file may end in a partial record, so the
//! writer refuses further writes; resume from the last committed position instead.

mod file;
mod http;
mod record;
pub use record::rfc3339_millis;
mod writer;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

pub use writer::WarcWriter;

/// Files rotate after one GiB unless configured otherwise.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 30;

/// Where and how a [`WarcWriter`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarcConfig {
    /// Files are `{prefix}-{NNNNN}.warc.gz`, e.g. `out/crawl` gives `out/crawl-00000.warc.gz`.
    pub prefix: PathBuf,
    /// A new file starts once the current one holds this many bytes (compressed).
    pub max_file_bytes: u64,
    /// The `software` field of `warcinfo`, e.g. `gannet/0.1.0`.
    pub software: String,
    /// More `warcinfo` fields, in order (robots policy, user agent, operator, …).
    pub extra_info: Vec<(String, String)>,
}

impl WarcConfig {
    /// A config with files under `prefix`, [`DEFAULT_MAX_FILE_BYTES`] and gannet as software.
    pub fn new(prefix: impl Into<PathBuf>) -> WarcConfig {
        WarcConfig {
            prefix: prefix.into(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            software: concat!("gannet/", env!("CARGO_PKG_VERSION")).to_owned(),
            extra_info: Vec::new(),
        }
    }
}

/// A committed point in the output: everything before `offset` in file `file_index` (and all
/// of the files before it) is complete records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarcPosition {
    /// Index of the current file (`NNNNN` in its name).
    pub file_index: u32,
    /// Bytes of complete records in that file.
    pub offset: u64,
}

/// One fetched HTTP exchange, as the fetcher saw it.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The requested URL (absolute).
    pub url: &'a str,
    /// When the response was received.
    pub date: SystemTime,
    /// The address the connection went to, when known.
    pub ip: Option<IpAddr>,
    /// `HTTP/1.1`, `HTTP/1.0`, `HTTP/2.0` or `HTTP/3.0` (see the module docs).
    pub http_version: &'a str,
    /// The request headers as sent (Host, User-Agent, Accept, …). The method is always GET.
    pub request_headers: &'a [(String, String)],
    /// The response status code.
    pub status: u16,
    /// The reason phrase; empty means the canonical phrase of `status`.
    pub reason: &'a str,
    /// The response headers as received (names lowercase).
    pub response_headers: &'a [(String, String)],
    /// The entity body after transfer and content decoding.
    pub body: &'a [u8],
}

/// A `304 Not Modified` answer to a conditional re-fetch.
#[derive(Debug, Clone, Copy)]
pub struct NotModified<'a> {
    /// The requested URL (absolute), also the target of the earlier capture.
    pub url: &'a str,
    /// When the 304 was received.
    pub date: SystemTime,
    /// The address the connection went to, when known.
    pub ip: Option<IpAddr>,
    /// As in [`Exchange::http_version`].
    pub http_version: &'a str,
    /// The request headers as sent (including `If-None-Match` / `If-Modified-Since`).
    pub request_headers: &'a [(String, String)],
    /// The headers of the 304 response as received.
    pub response_headers: &'a [(String, String)],
    /// The date of the earlier capture this one revisits, when known.
    pub refers_to_date: Option<SystemTime>,
}
