//! Sitemaps (sitemaps.org protocol): a streaming parser for `<urlset>` and `<sitemapindex>`
//! files, gzipped or not, and plain-text sitemaps; and [`Fetcher::fetch_sitemaps`](crate::Fetcher::fetch_sitemaps), which
//! follows indexes and collects page URLs within limits.
//!
//! The parser never builds a tree: a `quick-xml` reader walks the (decompressed) bytes, and a
//! size cap on the decompressed stream stops a gzip bomb at [`MAX_SITEMAP_BYTES`] with an error,
//! before anything that large is allocated. At most [`MAX_SITEMAP_ENTRIES`] entries are kept.
//! Namespace prefixes, CDATA, entity and character references, and surrounding whitespace are
//! all accepted; entries without a usable http(s) `<loc>` are skipped and counted.

mod parse;
mod walk;

pub use parse::parse_sitemap;
pub use walk::{SitemapFetchError, SitemapUrls};

use url::Url;

/// The largest sitemap read, after decompression: 50 MiB (52,428,800 bytes), the protocol's
/// limit.
pub const MAX_SITEMAP_BYTES: u64 = 52_428_800;

/// The most entries (URLs, or sitemaps of an index) kept from one file: the protocol's limit.
pub const MAX_SITEMAP_ENTRIES: usize = 50_000;

/// How deep [`Fetcher::fetch_sitemaps`](crate::Fetcher::fetch_sitemaps) follows indexes: a root is depth 0, the sitemaps it
/// lists depth 1, and (indexes of indexes, which the protocol forbids but sites publish) their
/// sitemaps depth 2.
pub const MAX_SITEMAP_DEPTH: usize = 2;

/// The most sitemap files one [`Fetcher::fetch_sitemaps`](crate::Fetcher::fetch_sitemaps) call fetches.
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
pub(crate) const MAX_FIELD_CHARS: usize = 8 * 1024;

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

#[cfg(test)]
mod tests;
