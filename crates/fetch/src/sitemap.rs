//! Sitemaps (sitemaps.org protocol): a streaming parser for `<urlset>` and `<sitemapindex>`
//! files, gzipped or not, and plain-text sitemaps; and [`Fetcher::fetch_sitemaps`], which
//! follows indexes and collects page URLs within limits.
//!
//! The parser never builds a tree: a `quick-xml` reader walks the (decompressed) bytes, and a
//! size cap on the decompressed stream stops a gzip bomb at [`MAX_SITEMAP_BYTES`] with an error,
//! before anything that large is allocated. At most [`MAX_SITEMAP_ENTRIES`] entries are kept.
//! Namespace prefixes, CDATA, entity and character references, and surrounding whitespace are
//! all accepted; entries without a usable http(s) `<loc>` are skipped and counted.

use crate::config::ContentGate;
use crate::error::FetchError;
use crate::fetcher::{Fetcher, RequestOptions};
use quick_xml::events::Event;
use std::collections::{HashSet, VecDeque};
use std::io::{self, BufRead, BufReader, Read};
use url::Url;

/// The largest sitemap read, after decompression: 50 MiB (52,428,800 bytes), the protocol's
/// limit.
pub const MAX_SITEMAP_BYTES: u64 = 52_428_800;

/// The most entries (URLs, or sitemaps of an index) kept from one file: the protocol's limit.
pub const MAX_SITEMAP_ENTRIES: usize = 50_000;

/// How deep [`Fetcher::fetch_sitemaps`] follows indexes: a root is depth 0, the sitemaps it
/// lists depth 1, and (indexes of indexes, which the protocol forbids but sites publish) their
/// sitemaps depth 2.
pub const MAX_SITEMAP_DEPTH: usize = 2;

/// The most sitemap files one [`Fetcher::fetch_sitemaps`] call fetches.
pub const MAX_SITEMAP_FETCHES: usize = 1_000;

/// The content types accepted for sitemap fetches (page fetches keep their own gate).
pub const SITEMAP_CONTENT_TYPES: &[&str] = &[
    "application/xml",
    "text/xml",
    "application/gzip",
    "application/x-gzip",
    "application/octet-stream",
    "text/plain",
];

/// The longest `<loc>` or `<lastmod>` text kept; longer ones make their entry skipped (the
/// protocol allows 2,048 characters for a URL).
const MAX_FIELD_CHARS: usize = 8 * 1024;

/// One page of a `<urlset>` (or one line of a text sitemap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitemapUrl {
    /// The page URL.
    pub loc: Url,
    /// The `<lastmod>` text as written (W3C datetime, unchecked), if any.
    pub lastmod: Option<String>,
}

/// What a sitemap file lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sitemap {
    /// A `<urlset>` or a text sitemap: pages.
    Urls(Vec<SitemapUrl>),
    /// A `<sitemapindex>`: more sitemaps, all on the scheme and host of the index.
    Index(Vec<Url>),
}

impl Sitemap {
    /// How many entries it holds.
    pub fn len(&self) -> usize {
        match self {
            Sitemap::Urls(urls) => urls.len(),
            Sitemap::Index(sitemaps) => sitemaps.len(),
        }
    }

    /// True when it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A parsed sitemap and what was left out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSitemap {
    /// The entries kept.
    pub sitemap: Sitemap,
    /// True when the file had more than [`MAX_SITEMAP_ENTRIES`] entries (the rest were not
    /// read).
    pub truncated: bool,
    /// Entries dropped: no `<loc>`, an invalid or non-http(s) URL, or (in an index) a sitemap
    /// on another scheme or host.
    pub skipped: usize,
    /// When the file broke off (malformed XML, corrupt gzip) after some entries were read: why.
    /// The entries before the break are kept.
    pub error: Option<SitemapError>,
}

/// Why a sitemap could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SitemapError {
    /// The decompressed file is larger than the limit.
    #[error("sitemap larger than {limit} bytes after decompression")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The gzip data is corrupt.
    #[error("could not decompress the sitemap: {0}")]
    Decompression(String),
    /// The XML is malformed.
    #[error("malformed sitemap XML at byte {position}: {message}")]
    Xml {
        /// The byte offset (in the decompressed file) where the error was found.
        position: u64,
        /// What the XML reader reported.
        message: String,
    },
    /// The root element is neither `<urlset>` nor `<sitemapindex>` (an HTML page, a feed).
    #[error("not a sitemap: the root element is <{0}>")]
    NotASitemap(String),
    /// The parsing task ended without a result (a bug: the parser panicked).
    #[error("the sitemap parsing task failed")]
    Aborted,
}

/// Parses a sitemap: XML (`<urlset>`, `<sitemapindex>`) or plain text (one URL per line),
/// gzip-compressed or not (recognised by the gzip magic bytes).
///
/// `base` is the URL of the sitemap itself: relative `<loc>`s are resolved against it, and the
/// sitemaps an index lists must share its scheme, host and port (Google's rule; others are
/// skipped). Fails when the decompressed size passes [`MAX_SITEMAP_BYTES`], or when the file
/// is unreadable before its first entry.
pub fn parse_sitemap(bytes: &[u8], base: &Url) -> Result<ParsedSitemap, SitemapError> {
    parse_capped(bytes, base, MAX_SITEMAP_BYTES)
}

/// [`parse_sitemap`] with a size cap of `limit` decompressed bytes.
fn parse_capped(bytes: &[u8], base: &Url, limit: u64) -> Result<ParsedSitemap, SitemapError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let decoder = flate2::read::MultiGzDecoder::new(bytes);
        parse_reader(BufReader::new(Capped::new(decoder, limit)), base)
    } else {
        parse_reader(BufReader::new(Capped::new(bytes, limit)), base)
    }
}

/// Parses from a capped reader: XML when the first significant byte is `<`, text otherwise.
fn parse_reader<R: BufRead>(mut reader: R, base: &Url) -> Result<ParsedSitemap, SitemapError> {
    match skip_leading_space(&mut reader) {
        Ok(Some(b'<')) => parse_xml(reader, base),
        Ok(Some(_)) => parse_text(reader, base),
        Ok(None) => Ok(Collector::new(base, false).finish(None)),
        Err(error) => Err(io_error(&error)),
    }
}

/// Consumes a UTF-8 byte order mark and ASCII whitespace; returns the next byte, unconsumed.
fn skip_leading_space<R: BufRead>(reader: &mut R) -> io::Result<Option<u8>> {
    let mut first = true;
    loop {
        let buf = reader.fill_buf()?;
        let Some(&byte) = buf.first() else {
            return Ok(None);
        };
        if first && buf.starts_with(b"\xEF\xBB\xBF") {
            reader.consume(3);
        } else if byte.is_ascii_whitespace() {
            let n = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
            reader.consume(n);
        } else {
            return Ok(Some(byte));
        }
        first = false;
    }
}

/// A plain-text sitemap: one absolute URL per line; blank and invalid lines are skipped.
fn parse_text<R: BufRead>(mut reader: R, base: &Url) -> Result<ParsedSitemap, SitemapError> {
    let mut collector = Collector::new(base, false);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return Ok(collector.finish(None)),
            Ok(_) => {}
            Err(error) => return collector.fail(io_error(&error)),
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        if !collector.push(text, None) {
            return Ok(collector.finish(None));
        }
    }
}

/// Which child of an entry is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Loc,
    Lastmod,
}

/// The XML walk: finds the root, then each `<url>`/`<sitemap>` child of it with its direct
/// `<loc>` and `<lastmod>` children (an `<image:loc>` deeper down is not the page's `<loc>`).
fn parse_xml<R: BufRead>(reader: R, base: &Url) -> Result<ParsedSitemap, SitemapError> {
    let mut xml = quick_xml::Reader::from_reader(reader);
    let config = xml.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;

    let mut collector: Option<Collector<'_>> = None;
    let mut depth = 0usize;
    // Inside an entry: the depth of the entry element.
    let mut entry: Option<usize> = None;
    let mut field: Option<Field> = None;
    let mut loc = String::new();
    let mut lastmod = String::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(error) => {
                let error = xml_error(&error, xml.error_position());
                return match collector {
                    Some(collector) => collector.fail(error),
                    None => Err(error),
                };
            }
        };
        match event {
            Event::Start(start) => {
                depth += 1;
                let name = start.local_name();
                let name = name.as_ref();
                match &mut collector {
                    None => collector = Some(root_collector(name, base)?),
                    Some(_) if entry.is_none() && depth == 2 && is_entry(name) => {
                        entry = Some(depth);
                        loc.clear();
                        lastmod.clear();
                    }
                    Some(_) if entry.is_some_and(|d| depth == d + 1) => {
                        field = match name {
                            b"loc" => Some(Field::Loc),
                            b"lastmod" => Some(Field::Lastmod),
                            _ => None,
                        };
                    }
                    Some(_) => {}
                }
            }
            Event::Empty(empty) if collector.is_none() => {
                let name = empty.local_name();
                collector = Some(root_collector(name.as_ref(), base)?);
            }
            Event::End(_) => {
                if entry.is_some_and(|d| depth == d + 1) {
                    field = None;
                } else if entry == Some(depth) {
                    entry = None;
                    if let Some(collector) = &mut collector {
                        let lastmod = Some(lastmod.trim()).filter(|l| !l.is_empty());
                        if !collector.push(loc.trim(), lastmod) {
                            return Ok(collector.take().finish(None));
                        }
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(text) => {
                if let Some(field) = field {
                    let text = text.into_inner();
                    let text = String::from_utf8_lossy(&text);
                    append(field_text(field, &mut loc, &mut lastmod), &text);
                }
            }
            Event::CData(data) => {
                if let Some(field) = field {
                    let text = data.into_inner();
                    let text = String::from_utf8_lossy(&text);
                    append(field_text(field, &mut loc, &mut lastmod), &text);
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(field) = field {
                    let target = field_text(field, &mut loc, &mut lastmod);
                    let resolved = reference.resolve_char_ref();
                    let name = reference.into_inner();
                    let name = String::from_utf8_lossy(&name);
                    match resolved {
                        Ok(Some(c)) => append(target, c.encode_utf8(&mut [0; 4])),
                        _ => match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(text) => append(target, text),
                            None => append(target, &format!("&{name};")),
                        },
                    }
                }
            }
            Event::Eof => {
                return Ok(match collector {
                    Some(collector) => collector.finish(None),
                    None => Collector::new(base, false).finish(None),
                });
            }
            _ => {}
        }
    }
}

/// The collector for a root element named `name`, or why it is not a sitemap.
fn root_collector<'a>(name: &[u8], base: &'a Url) -> Result<Collector<'a>, SitemapError> {
    match name {
        b"urlset" => Ok(Collector::new(base, false)),
        b"sitemapindex" => Ok(Collector::new(base, true)),
        other => Err(SitemapError::NotASitemap(
            String::from_utf8_lossy(other).into_owned(),
        )),
    }
}

fn is_entry(name: &[u8]) -> bool {
    name == b"url" || name == b"sitemap"
}

fn field_text<'s>(field: Field, loc: &'s mut String, lastmod: &'s mut String) -> &'s mut String {
    match field {
        Field::Loc => loc,
        Field::Lastmod => lastmod,
    }
}

/// Appends `text`, up to [`MAX_FIELD_CHARS`] (one more, so that an overlong field is seen).
fn append(target: &mut String, text: &str) {
    if target.len() <= MAX_FIELD_CHARS {
        let room = MAX_FIELD_CHARS + 1 - target.len();
        let mut end = text.len().min(room);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        target.push_str(text.get(..end).unwrap_or_default());
    }
}

/// Gathers the entries of one file, applying the URL checks and the entry cap.
struct Collector<'a> {
    base: &'a Url,
    index: bool,
    urls: Vec<SitemapUrl>,
    sitemaps: Vec<Url>,
    skipped: usize,
    truncated: bool,
}

impl<'a> Collector<'a> {
    fn new(base: &'a Url, index: bool) -> Collector<'a> {
        Collector {
            base,
            index,
            urls: Vec::new(),
            sitemaps: Vec::new(),
            skipped: 0,
            truncated: false,
        }
    }

    fn len(&self) -> usize {
        self.urls.len() + self.sitemaps.len()
    }

    /// Adds an entry; `false` when the cap is reached and reading should stop.
    fn push(&mut self, loc: &str, lastmod: Option<&str>) -> bool {
        if self.len() >= MAX_SITEMAP_ENTRIES {
            self.truncated = true;
            return false;
        }
        let url = match self.resolve(loc) {
            Some(url) => url,
            None => {
                self.skipped += 1;
                return true;
            }
        };
        if self.index {
            if same_site(&url, self.base) {
                self.sitemaps.push(url);
            } else {
                self.skipped += 1;
            }
        } else {
            self.urls.push(SitemapUrl {
                loc: url,
                lastmod: lastmod.map(str::to_owned),
            });
        }
        true
    }

    fn resolve(&self, loc: &str) -> Option<Url> {
        if loc.is_empty() || loc.len() > MAX_FIELD_CHARS {
            return None;
        }
        let url = self.base.join(loc).ok()?;
        matches!(url.scheme(), "http" | "https").then_some(url)
    }

    /// Moves the collected entries out (for a return from inside a borrow).
    fn take(&mut self) -> Collector<'a> {
        std::mem::replace(self, Collector::new(self.base, self.index))
    }

    fn finish(self, error: Option<SitemapError>) -> ParsedSitemap {
        let sitemap = if self.index {
            Sitemap::Index(self.sitemaps)
        } else {
            Sitemap::Urls(self.urls)
        };
        ParsedSitemap {
            sitemap,
            truncated: self.truncated,
            skipped: self.skipped,
            error,
        }
    }

    /// The partial result when some entries were read, the error otherwise. A size-cap
    /// overrun is always an error.
    fn fail(self, error: SitemapError) -> Result<ParsedSitemap, SitemapError> {
        if self.len() == 0 || matches!(error, SitemapError::TooLarge { .. }) {
            Err(error)
        } else {
            Ok(self.finish(Some(error)))
        }
    }
}

/// Same scheme, host and port.
fn same_site(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A reader that fails with [`CapExceeded`] once more than `limit` bytes were read through it.
struct Capped<R> {
    inner: R,
    remaining: u64,
    limit: u64,
}

/// The I/O error [`Capped`] fails with.
#[derive(Debug)]
struct CapExceeded(u64);

impl std::fmt::Display for CapExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "more than {} bytes", self.0)
    }
}

impl std::error::Error for CapExceeded {}

impl<R: Read> Capped<R> {
    fn new(inner: R, limit: u64) -> Capped<R> {
        Capped {
            inner,
            remaining: limit,
            limit,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Read one byte past the cap, so that exactly `limit` bytes are not an error.
        let want = usize::try_from(self.remaining.saturating_add(1))
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(buf.get_mut(..want).unwrap_or_default())?;
        if n as u64 > self.remaining {
            return Err(io::Error::other(CapExceeded(self.limit)));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// The [`SitemapError`] for an I/O error of the reader chain: the size cap, or corrupt gzip
/// (the only other reader that can fail reads a byte slice).
fn io_error(error: &io::Error) -> SitemapError {
    match error
        .get_ref()
        .and_then(|e| e.downcast_ref::<CapExceeded>())
    {
        Some(cap) => SitemapError::TooLarge { limit: cap.0 },
        None => SitemapError::Decompression(error.to_string()),
    }
}

fn xml_error(error: &quick_xml::Error, position: u64) -> SitemapError {
    match error {
        quick_xml::Error::Io(io) => io_error(io),
        other => SitemapError::Xml {
            position,
            message: other.to_string(),
        },
    }
}

/// What [`Fetcher::fetch_sitemaps`] gathered.
#[derive(Debug, Default)]
pub struct SitemapUrls {
    /// The page URLs, each once, in the order found.
    pub urls: Vec<SitemapUrl>,
    /// The sitemap files fetched and parsed, in order.
    pub sitemaps: Vec<Url>,
    /// The sitemaps that failed, with why; the others were still used.
    pub errors: Vec<(Url, SitemapFetchError)>,
    /// True when a limit cut the walk short: the URL cap, [`MAX_SITEMAP_FETCHES`],
    /// [`MAX_SITEMAP_DEPTH`], or a file over [`MAX_SITEMAP_ENTRIES`].
    pub truncated: bool,
}

/// Why one sitemap of [`Fetcher::fetch_sitemaps`] was not used.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SitemapFetchError {
    /// Fetching it failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// It was fetched but could not be parsed.
    #[error(transparent)]
    Parse(#[from] SitemapError),
}

impl Fetcher {
    /// Fetches one sitemap and parses it. The content gate is widened to
    /// [`SITEMAP_CONTENT_TYPES`] and the body cap raised to [`MAX_SITEMAP_BYTES`] for this
    /// request only; everything else (client, timeout, redirects) is the fetcher's.
    pub async fn fetch_sitemap(&self, url: &Url) -> Result<ParsedSitemap, SitemapFetchError> {
        let gate = ContentGate::Only(SITEMAP_CONTENT_TYPES.iter().map(|&t| t.into()).collect());
        let options = RequestOptions {
            gate: &gate,
            max_body_bytes: MAX_SITEMAP_BYTES,
            truncate_body: false,
            max_redirects: self.config().max_redirects,
        };
        let page = self.fetch_with(url, &options).await?;
        let base = page.url.clone();
        // Parsing up to 50 MB is CPU work: keep it off the async workers.
        let parsed = tokio::task::spawn_blocking(move || parse_sitemap(&page.body, &base))
            .await
            .unwrap_or(Err(SitemapError::Aborted))?;
        Ok(parsed)
    }

    /// Fetches the sitemaps `roots` (from robots.txt `Sitemap:` lines, say) one after the
    /// other, follows indexes breadth-first up to [`MAX_SITEMAP_DEPTH`], and collects up to
    /// `max_urls` distinct page URLs. Each sitemap is fetched at most once, and at most
    /// [`MAX_SITEMAP_FETCHES`] are fetched in all. Failures are recorded, never fatal.
    ///
    /// Page URLs are not scoped here (a sitemap may list another host's pages): the caller
    /// applies its scope and robots rules.
    pub async fn fetch_sitemaps(&self, roots: &[Url], max_urls: usize) -> SitemapUrls {
        let mut out = SitemapUrls::default();
        let mut queue: VecDeque<(Url, usize)> = roots.iter().map(|u| (u.clone(), 0)).collect();
        let mut queued: HashSet<String> = HashSet::new();
        queue.retain(|(u, _)| queued.insert(without_fragment(u)));
        let mut seen_pages: HashSet<String> = HashSet::new();
        while let Some((url, depth)) = queue.pop_front() {
            if out.urls.len() >= max_urls {
                out.truncated = true;
                break;
            }
            if out.sitemaps.len() + out.errors.len() >= MAX_SITEMAP_FETCHES {
                out.truncated = true;
                break;
            }
            let parsed = match self.fetch_sitemap(&url).await {
                Ok(parsed) => parsed,
                Err(error) => {
                    out.errors.push((url, error));
                    continue;
                }
            };
            out.truncated |= parsed.truncated;
            if let Some(error) = parsed.error {
                out.errors.push((url.clone(), error.into()));
            }
            out.sitemaps.push(url);
            match parsed.sitemap {
                Sitemap::Index(children) => {
                    if depth + 1 > MAX_SITEMAP_DEPTH {
                        out.truncated |= !children.is_empty();
                        continue;
                    }
                    for child in children {
                        if queued.insert(without_fragment(&child)) {
                            queue.push_back((child, depth + 1));
                        }
                    }
                }
                Sitemap::Urls(urls) => {
                    for page in urls {
                        if out.urls.len() >= max_urls {
                            out.truncated = true;
                            break;
                        }
                        if seen_pages.insert(without_fragment(&page.loc)) {
                            out.urls.push(page);
                        }
                    }
                }
            }
        }
        out
    }
}

fn without_fragment(url: &Url) -> String {
    url[..url::Position::AfterQuery].to_owned()
}

#[cfg(test)]
mod tests;
