//! The sitemap parser: gzip detection and a size cap on the decompressed stream, then a
//! streaming XML walk or a line reader for text sitemaps.

use super::{MAX_FIELD_CHARS, MAX_SITEMAP_BYTES, MAX_SITEMAP_ENTRIES};
use super::{ParsedSitemap, Sitemap, SitemapError, SitemapUrl};
use quick_xml::events::Event;
use std::io::{self, BufRead, BufReader, Read};
use url::Url;

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
pub(crate) fn parse_capped(
    bytes: &[u8],
    base: &Url,
    limit: u64,
) -> Result<ParsedSitemap, SitemapError> {
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
