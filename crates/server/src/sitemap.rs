//! A site's URLs (Firecrawl's `map`, the MCP `map` tool): the start page's internal links,
//! then the URLs of the host's sitemaps (from robots.txt, else `/sitemap.xml`), in that
//! order, without duplicates, at most `limit`.

use url::Url;

use crate::error::ApiError;
use crate::page::{PageRequest, PageService, get_page};

/// What to list.
pub(crate) struct SiteMap<'a> {
    /// The start page, already checked against the address guard.
    pub(crate) url: Url,
    pub(crate) limit: usize,
    /// Only URLs containing this (compared lowercased).
    pub(crate) search: Option<&'a str>,
    pub(crate) sitemaps: bool,
}

pub(crate) async fn site_urls(
    pages: &PageService,
    req: SiteMap<'_>,
) -> Result<Vec<String>, ApiError> {
    let SiteMap {
        url,
        limit,
        search,
        sitemaps,
    } = req;
    let search = search.map(str::to_lowercase);
    let mut links: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |u: String, links: &mut Vec<String>| {
        if links.len() < limit
            && search.as_ref().is_none_or(|s| u.to_lowercase().contains(s))
            && seen.insert(u.clone())
        {
            links.push(u);
        }
    };
    push(url.to_string(), &mut links);
    let page = get_page(pages, PageRequest::new(url.clone(), pages.cfg.page_timeout)).await;
    if let Ok(p) = &page {
        for l in p.doc.links.iter().filter(|l| l.internal) {
            push(
                l.href.split('#').next().unwrap_or_default().to_string(),
                &mut links,
            );
        }
    }
    if sitemaps {
        let root = url
            .join("/sitemap.xml")
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let robots = pages.fetcher().fetch_robots(&url).await;
        let mut roots: Vec<Url> = robots.sitemaps().to_vec();
        if roots.is_empty() {
            roots.push(root);
        }
        let found = pages.fetcher().fetch_sitemaps(&roots, limit).await;
        for u in found.urls {
            push(u.loc.to_string(), &mut links);
        }
    }
    Ok(links)
}
