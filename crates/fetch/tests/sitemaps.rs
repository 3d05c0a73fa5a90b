//! Sitemap discovery and fetching against programmable loopback sites: robots.txt `Sitemap:`
//! line → index → gzipped sitemaps, content types, caps and failures.

use gannet_fetch::{FetchConfig, FetchErrorKind, Fetcher, Sitemap, SitemapFetchError, SitemapUrls};
use gannet_testkit::{Response, Site, SiteBuilder};
use std::io::Write;

fn fetcher() -> Fetcher {
    Fetcher::new(FetchConfig::default()).expect("build the fetcher")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

fn urlset(paths: &[String]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for path in paths {
        xml.push_str(&format!("  <url><loc>{path}</loc></url>\n"));
    }
    xml.push_str("</urlset>\n");
    xml
}

fn paths(found: &SitemapUrls) -> Vec<String> {
    found.urls.iter().map(|u| u.loc.path().to_owned()).collect()
}

/// A site whose robots.txt names (absolutely) an index of two gzipped sitemaps: one sent
/// with `Content-Encoding: gzip`, one as an `application/x-gzip` file. The index also lists a
/// sitemap of another host (dropped) and one twice (fetched once).
async fn site_with_sitemaps() -> Site {
    let a = urlset(&["/p/1".into(), "/p/2".into(), "/p/shared".into()]);
    let b = urlset(&["/p/3".into(), "/p/shared#frag".into()]);
    let site = SiteBuilder::new()
        .gzip("/sitemaps/a.xml", "text/xml", a.as_bytes())
        .response(
            "/sitemaps/b.xml.gz",
            Response::typed("application/x-gzip", gzip(b.as_bytes())),
        )
        .start()
        .await;
    let index = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{a}</loc></sitemap>
  <sitemap><loc>{b}</loc></sitemap>
  <sitemap><loc>https://elsewhere.example/c.xml</loc></sitemap>
  <sitemap><loc>{a}</loc></sitemap>
</sitemapindex>"#,
        a = site.url("/sitemaps/a.xml"),
        b = site.url("/sitemaps/b.xml.gz"),
    );
    site.set_response(
        "/sitemap_index.xml",
        Response::typed("application/xml", index),
    );
    let robots = format!(
        "User-agent: *\nDisallow:\nSitemap: {}\n",
        site.url("/sitemap_index.xml")
    );
    site.set_response("/robots.txt", Response::text(robots));
    site
}

#[tokio::test]
async fn robots_line_to_index_to_gzipped_sitemaps() {
    let site = site_with_sitemaps().await;
    let fetcher = fetcher();
    let robots = fetcher.fetch_robots(&site.origin()).await;
    let root = site.url("/sitemap_index.xml");
    assert_eq!(robots.sitemaps(), std::slice::from_ref(&root));

    let found = fetcher.fetch_sitemaps(robots.sitemaps(), 100).await;
    assert_eq!(paths(&found), ["/p/1", "/p/2", "/p/shared", "/p/3"]);
    assert_eq!(
        found.sitemaps,
        [
            root,
            site.url("/sitemaps/a.xml"),
            site.url("/sitemaps/b.xml.gz")
        ]
    );
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    assert!(!found.truncated);
    assert_eq!(site.hits("/sitemaps/a.xml"), 1, "each sitemap fetched once");
    assert_eq!(site.hits("/sitemaps/b.xml.gz"), 1);
}

#[tokio::test]
async fn url_cap_truncates() {
    let site = site_with_sitemaps().await;
    let found = fetcher()
        .fetch_sitemaps(&[site.url("/sitemap_index.xml")], 2)
        .await;
    assert_eq!(paths(&found), ["/p/1", "/p/2"]);
    assert!(found.truncated);
    assert_eq!(
        site.hits("/sitemaps/b.xml.gz"),
        0,
        "stops fetching at the cap"
    );
}

#[tokio::test]
async fn failures_are_recorded_and_the_rest_used() {
    let site = SiteBuilder::new()
        .response(
            "/ok.xml",
            Response::typed("text/xml", urlset(&["/p/ok".into()])),
        )
        .response("/broken.xml", Response::new(500))
        .response(
            "/page.html",
            Response::html("<html><body>soft 404</body></html>"),
        )
        .response(
            "/image.png",
            Response::typed("image/png", b"\x89PNG".to_vec()),
        )
        .start()
        .await;
    let roots = [
        site.url("/broken.xml"),
        site.url("/page.html"),
        site.url("/image.png"),
        site.url("/missing.xml"),
        site.url("/ok.xml"),
    ];
    let found = fetcher().fetch_sitemaps(&roots, 10).await;
    assert_eq!(paths(&found), ["/p/ok"]);
    let kinds: Vec<String> = found
        .errors
        .iter()
        .map(|(url, error)| match error {
            SitemapFetchError::Fetch(e) => format!("{} {:?}", url.path(), e.kind()),
            SitemapFetchError::Parse(e) => format!("{} {e}", url.path()),
            other => format!("{other}"),
        })
        .collect();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    assert!(kinds[0].contains("HttpStatus(500)"), "{kinds:?}");
    // text/html is not a sitemap type: refused before the body is read.
    assert!(kinds[1].contains("UnsupportedContentType"), "{kinds:?}");
    assert!(kinds[2].contains("UnsupportedContentType"), "{kinds:?}");
    assert!(kinds[3].contains("HttpStatus(404)"), "{kinds:?}");
}

#[tokio::test]
async fn page_fetches_keep_their_gate() {
    let site = SiteBuilder::new()
        .response("/s.xml", Response::typed("application/xml", "<urlset/>"))
        .start()
        .await;
    let fetcher = fetcher();
    let error = fetcher.fetch(&site.url("/s.xml")).await.unwrap_err();
    assert!(matches!(
        error.kind(),
        FetchErrorKind::UnsupportedContentType(_)
    ));
    let parsed = fetcher.fetch_sitemap(&site.url("/s.xml")).await.unwrap();
    assert_eq!(parsed.sitemap, Sitemap::Urls(Vec::new()));
}

#[tokio::test]
async fn plain_text_sitemap() {
    let site = SiteBuilder::new().start().await;
    let text = format!("{}\n\n{}\n", site.url("/t/1"), site.url("/t/2"));
    site.set_response("/sitemap.txt", Response::text(text));
    let found = fetcher()
        .fetch_sitemaps(&[site.url("/sitemap.txt")], 10)
        .await;
    assert_eq!(paths(&found), ["/t/1", "/t/2"]);
}

#[tokio::test]
async fn indexes_are_followed_two_levels_deep() {
    let site = SiteBuilder::new().start().await;
    let index = |child: &str| {
        Response::typed(
            "application/xml",
            format!(
                "<sitemapindex><sitemap><loc>{}</loc></sitemap></sitemapindex>",
                site.url(child)
            ),
        )
    };
    // /i0 → /i1 → /u: the urlset is at depth 2, within reach.
    site.set_response("/i0", index("/i1"));
    site.set_response("/i1", index("/u"));
    site.set_response(
        "/u",
        Response::typed("application/xml", urlset(&["/deep".into()])),
    );
    // /j0 → /j1 → /j2 → /u: the urlset would be at depth 3.
    site.set_response("/j0", index("/j1"));
    site.set_response("/j1", index("/j2"));
    site.set_response("/j2", index("/u"));
    let fetcher = fetcher();
    let found = fetcher.fetch_sitemaps(&[site.url("/i0")], 10).await;
    assert_eq!(paths(&found), ["/deep"]);
    assert!(!found.truncated);
    let hits_before = site.hits("/u");
    let found = fetcher.fetch_sitemaps(&[site.url("/j0")], 10).await;
    assert!(found.urls.is_empty());
    assert!(found.truncated);
    assert_eq!(site.hits("/u"), hits_before, "depth 3 is not fetched");
    assert_eq!(site.hits("/j2"), 1);
}
