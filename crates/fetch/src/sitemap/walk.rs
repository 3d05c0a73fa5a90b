//! Fetching sitemaps: one at a time with a widened content gate, and a breadth-first walk
//! through indexes with caps on depth, fetches and URLs.

use super::{MAX_SITEMAP_BYTES, MAX_SITEMAP_DEPTH, MAX_SITEMAP_FETCHES};
use super::{
    ParsedSitemap, SITEMAP_CONTENT_TYPES, Sitemap, SitemapError, SitemapUrl, parse_sitemap,
};
use crate::config::ContentGate;
use crate::error::FetchError;
use crate::fetcher::{Fetcher, RequestOptions};
use std::collections::{HashSet, VecDeque};
use url::Url;

/// What [`Fetcher::fetch_sitemaps`] gathered.
#[derive(Debug, Default)]
pub struct SitemapUrls {
    /// The page URLs, each once, in the order found.
    pub urls: Vec<SitemapUrl>,
    /// The sitemap files fetched and parsed, in order.
    pub sitemaps: Vec<Url>,
    /// The sitemaps that failed, with why; the others were still used. A sitemap that broke
    /// off partway (malformed XML after some entries) is listed here and in `sitemaps`, and
    /// its entries before the break are used.
    pub errors: Vec<(Url, SitemapFetchError)>,
    /// True when a limit cut the walk short: the URL cap, [`MAX_SITEMAP_FETCHES`],
    /// [`MAX_SITEMAP_DEPTH`], or a file over [`MAX_SITEMAP_ENTRIES`](super::MAX_SITEMAP_ENTRIES).
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
        self.fetch_sitemaps_paced(roots, max_urls, std::time::Duration::ZERO)
            .await
    }

    /// [`Fetcher::fetch_sitemaps`], waiting `pace` between two sitemap requests (a host's
    /// politeness delay, e.g. its robots.txt `Crawl-delay`).
    pub async fn fetch_sitemaps_paced(
        &self,
        roots: &[Url],
        max_urls: usize,
        pace: std::time::Duration,
    ) -> SitemapUrls {
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
            let first = out.sitemaps.is_empty() && out.errors.is_empty();
            if !first && !pace.is_zero() {
                tokio::time::sleep(pace).await;
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
