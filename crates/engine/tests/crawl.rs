//! The crawl engine end to end against programmable loopback sites ([`SiteBuilder`]): what
//! is fetched (the sites' request logs), what is written (the output files), and when (the
//! requests' arrival times). Nothing here touches a non-loopback address.
//!
//! Each test gets a fresh directory under `CARGO_TARGET_TMPDIR`. Delays are kept small
//! (`min_delay` 0) so the file runs fast; only the politeness tests wait the 1–2 s that
//! `Crawl-delay`, `Retry-After` and slow hosts take by nature. The WARC test needs warcio:
//! run `scripts/py-tools` once.

use gannet_crawl::{Crawl, CrawlConfig, StopReason, Summary};
use gannet_frontier::ScopeKind;
use gannet_sink::Format;
use gannet_testkit::{LoggedRequest, Response, Site, SiteBuilder};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use url::Url;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// A fresh, empty directory for one test.
fn test_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("crawl-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test directory");
    dir
}

/// A JSONL crawl of `seeds` into `dir/out.jsonl`, fast and without sitemaps (tests that
/// want them turn them on).
fn config(seeds: &[Url], dir: &Path) -> CrawlConfig {
    let mut config = CrawlConfig::new(seeds.to_vec(), dir.join("out.jsonl"), Format::Jsonl);
    config.min_delay = Duration::ZERO;
    config.per_host = 4;
    config.sitemaps = false;
    config.extract_threads = 2;
    config.fetch.timeout = Duration::from_secs(10);
    config.robots_retry = Duration::from_millis(20);
    config
}

/// Runs a crawl to its end (at most 60 s) with a stop signal that never fires.
async fn crawl(config: CrawlConfig) -> Summary {
    let crawl = Crawl::open(config).await.expect("open the crawl");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let summary = tokio::time::timeout(Duration::from_secs(60), crawl.run(stop_rx))
        .await
        .expect("the crawl ends within 60 s")
        .expect("the crawl runs without a store failure");
    drop(stop_tx);
    summary
}

/// The objects of a JSONL output.
fn jsonl(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSONL line ({e}): {line}"))
        })
        .collect()
}

/// The paths (with query) of the pages in a JSONL output, sorted; asserts none is there twice.
fn written_paths(pages: &[Value]) -> Vec<String> {
    let mut paths: Vec<String> = pages
        .iter()
        .map(|p| {
            let url = Url::parse(p["url"].as_str().expect("url field")).expect("url parses");
            match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            }
        })
        .collect();
    paths.sort();
    let unique: BTreeSet<&String> = paths.iter().collect();
    assert_eq!(
        unique.len(),
        paths.len(),
        "a page was written twice: {paths:?}"
    );
    paths
}

/// Page paths requested from `site` (robots.txt and sitemaps left out), in order.
fn page_requests(site: &Site) -> Vec<String> {
    site.requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p != "/robots.txt" && !p.contains("sitemap"))
        .collect()
}

fn sorted(paths: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = paths.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

fn reason(summary: &Summary, name: &str) -> u64 {
    summary
        .reasons
        .iter()
        .find(|(r, _)| r == name)
        .map_or(0, |(_, n)| *n)
}

fn html(title: &str, links: &[String]) -> String {
    let mut body = format!(
        "<!doctype html><html><head><title>{title}</title></head><body><main><h1>{title}</h1>\
         <p>This is the page called {title}. It has a paragraph of text so that extraction \
         finds a main content block to keep.</p><ul>"
    );
    for link in links {
        body.push_str(&format!("<li><a href=\"{link}\">{link}</a></li>"));
    }
    body.push_str("</ul></main></body></html>");
    body
}

/// A second loopback host, named `localhost` so that host scope tells it from `127.0.0.1`.
fn localhost_url(site: &Site, path: &str) -> String {
    format!("http://localhost:{}{path}", site.addr().port())
}

/// 21 pages: `/` → `/s0`..`/s3` → `/sK/t0`..`/sK/t3`. Leaves link back home, to a sibling
/// with a fragment, and out of the host (to `other`, which must never be asked).
async fn small_site(other: &Site) -> Site {
    let mut builder = SiteBuilder::new().robots("User-agent: *\nDisallow:\n");
    let sections: Vec<String> = (0..4).map(|k| format!("/s{k}")).collect();
    builder = builder.page("/", html("Home", &sections));
    for k in 0..4 {
        let leaves: Vec<String> = (0..4).map(|j| format!("/s{k}/t{j}")).collect();
        builder = builder.page(&format!("/s{k}"), html(&format!("Section {k}"), &leaves));
        for j in 0..4 {
            let links = vec![
                "/".to_owned(),
                format!("/s{k}/t{}#top", (j + 1) % 4),
                format!("t{}", (j + 2) % 4),
                localhost_url(other, &format!("/ext/{k}{j}")),
            ];
            builder = builder.page(
                &format!("/s{k}/t{j}"),
                html(&format!("Leaf {k}.{j}"), &links),
            );
        }
    }
    builder.start().await
}

fn all_small_site_paths() -> Vec<String> {
    let mut paths = vec!["/".to_owned()];
    for k in 0..4 {
        paths.push(format!("/s{k}"));
        for j in 0..4 {
            paths.push(format!("/s{k}/t{j}"));
        }
    }
    paths.sort();
    paths
}

// ---------------------------------------------------------------------------------------
// 1. A small site to JSONL: coverage, fields, scope, depth, page limit, include/exclude
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn small_site_every_page_once_with_all_fields() {
    let other = SiteBuilder::new().start().await;
    let site = small_site(&other).await;
    let dir = test_dir("small-site");
    let summary = crawl(config(&[site.origin()], &dir)).await;

    assert_eq!(summary.stop, StopReason::Finished);
    assert_eq!(summary.written, 21, "{summary:?}");
    assert_eq!(summary.failed, 0, "{summary:?}");
    let pages = jsonl(&dir.join("out.jsonl"));
    assert_eq!(written_paths(&pages), all_small_site_paths());
    // Every page requested exactly once, robots.txt once, the other host never.
    let mut requested = page_requests(&site);
    requested.sort();
    assert_eq!(requested, all_small_site_paths());
    assert_eq!(site.hits("/robots.txt"), 1);
    assert!(other.requests().is_empty(), "{:?}", other.requests());

    for page in &pages {
        for field in [
            "url",
            "title",
            "markdown",
            "depth",
            "status",
            "fetched_at",
            "sha256",
            "content_type",
        ] {
            assert!(
                !page[field].is_null(),
                "field {field} missing or null in {page}"
            );
        }
        assert!(page.get("referrer").is_some(), "no referrer field: {page}");
        assert_eq!(page["status"], 200);
        assert_eq!(page["content_type"], "text/html");
        let sha = page["sha256"].as_str().unwrap_or_default();
        assert!(
            sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "{sha}"
        );
        let at = page["fetched_at"].as_str().unwrap_or_default();
        assert!(
            at.len() >= 20 && at.ends_with('Z') && at.contains('T'),
            "{at}"
        );
        let url = Url::parse(page["url"].as_str().unwrap_or_default()).expect("url");
        let path = url.path();
        let depth = page["depth"].as_u64().expect("depth is a number");
        let title = page["title"].as_str().unwrap_or_default();
        let markdown = page["markdown"].as_str().unwrap_or_default();
        assert!(markdown.contains("This is the page called"), "{markdown}");
        match path.matches('/').count() {
            1 if path == "/" => {
                assert_eq!(depth, 0);
                assert!(
                    page["referrer"].is_null(),
                    "the seed has no referrer: {page}"
                );
                assert_eq!(title, "Home");
            }
            1 => {
                assert_eq!(depth, 1, "{path}");
                assert_eq!(page["referrer"].as_str(), Some(site.url("/").as_str()));
                assert!(title.starts_with("Section"), "{title}");
            }
            _ => {
                assert_eq!(depth, 2, "{path}");
                let section = &path[..path[1..].find('/').map_or(path.len(), |i| i + 1)];
                assert_eq!(
                    page["referrer"].as_str(),
                    Some(site.url(section).as_str()),
                    "{path}"
                );
                assert!(title.starts_with("Leaf"), "{title}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn max_depth_limits_link_depth() {
    let other = SiteBuilder::new().start().await;
    let site = small_site(&other).await;
    let dir = test_dir("max-depth");
    let mut config = config(&[site.origin()], &dir);
    config.scope.max_depth = Some(1);
    let summary = crawl(config).await;
    assert_eq!(summary.stop, StopReason::Finished);
    let pages = jsonl(&dir.join("out.jsonl"));
    assert_eq!(
        written_paths(&pages),
        sorted(&["/", "/s0", "/s1", "/s2", "/s3"])
    );
    let mut requested = page_requests(&site);
    requested.sort();
    assert_eq!(requested, sorted(&["/", "/s0", "/s1", "/s2", "/s3"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn max_pages_stops_at_the_limit() {
    let other = SiteBuilder::new().start().await;
    let site = small_site(&other).await;
    let dir = test_dir("max-pages");
    let mut config = config(&[site.origin()], &dir);
    config.max_pages = Some(7);
    let summary = crawl(config).await;
    assert_eq!(summary.stop, StopReason::MaxPages);
    assert_eq!(summary.written, 7);
    let pages = jsonl(&dir.join("out.jsonl"));
    assert_eq!(written_paths(&pages).len(), 7);
    // No page fetched beyond the limit only to be thrown away.
    assert_eq!(page_requests(&site).len(), 7, "{:?}", page_requests(&site));
    // The 14 pages left are queued for a resume, none is left "in flight".
    assert_eq!(summary.frontier.queued, 14, "{summary:?}");
    assert_eq!(summary.frontier.in_flight, 0, "{summary:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn include_and_exclude_patterns() {
    let other = SiteBuilder::new().start().await;
    let site = small_site(&other).await;
    let dir = test_dir("include-exclude");
    let mut config = config(&[site.origin()], &dir);
    config.scope.include = vec![r"/s[12]".into()];
    config.scope.exclude = vec![r"/t[23]$".into()];
    let summary = crawl(config).await;
    assert_eq!(summary.stop, StopReason::Finished);
    let pages = jsonl(&dir.join("out.jsonl"));
    let want = sorted(&["/", "/s1", "/s2", "/s1/t0", "/s1/t1", "/s2/t0", "/s2/t1"]);
    assert_eq!(written_paths(&pages), want);
    let mut requested = page_requests(&site);
    requested.sort();
    assert_eq!(requested, want);
}

// ---------------------------------------------------------------------------------------
// 2. robots.txt
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn robots_rules_wildcards_longest_match_and_own_group() {
    let robots = "\
User-agent: *
Disallow: /star-only
Disallow: /ok

User-agent: gannet
Disallow: /private
Allow: /private/open
Disallow: /*/draft$
Disallow: /*.php
";
    let links: Vec<String> = [
        "/private/secret",
        "/private/open/page",
        "/blog/draft",
        "/blog/draft/notes",
        "/x.php?id=1",
        "/star-only",
        "/ok",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut builder = SiteBuilder::new()
        .robots(robots)
        .page("/", html("Home", &links));
    for link in &links {
        builder = builder.page(link, html(link, &[]));
    }
    let site = builder.start().await;
    let dir = test_dir("robots-rules");
    let summary = crawl(config(&[site.origin()], &dir)).await;

    assert_eq!(summary.robots_blocked, 3, "{summary:?}");
    assert_eq!(reason(&summary, "robots.txt"), 3, "{:?}", summary.reasons);
    for blocked in ["/private/secret", "/blog/draft", "/x.php"] {
        assert_eq!(site.hits(blocked), 0, "{blocked} was requested");
    }
    let want = sorted(&[
        "/",
        "/private/open/page",
        "/blog/draft/notes",
        "/star-only",
        "/ok",
    ]);
    let mut requested = page_requests(&site);
    requested.sort();
    assert_eq!(requested, want);
    assert_eq!(written_paths(&jsonl(&dir.join("out.jsonl"))), want);
    assert_eq!(site.hits("/robots.txt"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn robots_txt_is_fetched_once_per_host_with_sitemaps_on() {
    let other = SiteBuilder::new().start().await;
    let site = small_site(&other).await;
    let dir = test_dir("robots-once");
    let mut config = config(&[site.origin()], &dir);
    config.sitemaps = true;
    let summary = crawl(config).await;
    assert_eq!(summary.written, 21);
    assert_eq!(
        site.hits("/robots.txt"),
        1,
        "requests: {:?}",
        site.requests().iter().map(|r| &r.path).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn robots_txt_500_means_nothing_but_robots_txt() {
    let site = SiteBuilder::new()
        .response("/robots.txt", Response::new(500))
        .page("/", html("Home", &["/a".into()]))
        .page("/a", html("A", &[]))
        .page("/sitemap.xml", "<urlset/>")
        .start()
        .await;
    let dir = test_dir("robots-500");
    let mut config = config(&[site.origin()], &dir);
    // Sitemaps on: /sitemap.xml is a path like any other, disallowed too.
    config.sitemaps = true;
    let attempts = config.robots_attempts;
    let summary = crawl(config).await;
    let paths: Vec<String> = site.requests().into_iter().map(|r| r.path).collect();
    // Once by the sitemap pass, then `robots_attempts` times by the scheduler, which
    // retries an unreachable robots.txt before giving up on the host.
    let expected = vec!["/robots.txt".to_owned(); 1 + attempts as usize];
    assert_eq!(paths, expected, "{summary:?}");
    assert_eq!(summary.written, 0);
    assert_eq!(summary.robots_blocked, 1);
    assert_eq!(
        std::fs::read(dir.join("out.jsonl"))
            .unwrap_or_default()
            .len(),
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn robots_txt_503_once_is_retried_and_the_crawl_goes_on() {
    let site = SiteBuilder::new()
        .sequence(
            "/robots.txt",
            vec![
                Response::new(503),
                Response::text("User-agent: *\nDisallow: /private\n"),
            ],
        )
        .page("/", html("Home", &["/a".into(), "/private".into()]))
        .page("/a", html("A", &[]))
        .page("/private", html("Private", &[]))
        .start()
        .await;
    let dir = test_dir("robots-503-once");
    let summary = crawl(config(&[site.origin()], &dir)).await;
    assert_eq!(site.hits("/robots.txt"), 2, "{summary:?}");
    assert_eq!(summary.written, 2, "{summary:?}");
    assert_eq!(site.hits("/private"), 0);
    assert_eq!(summary.robots_blocked, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn robots_txt_404_allows_everything() {
    let site = SiteBuilder::new()
        .page("/", html("Home", &["/a".into(), "/admin".into()]))
        .page("/a", html("A", &[]))
        .page("/admin", html("Admin", &[]))
        .start()
        .await;
    let dir = test_dir("robots-404");
    let summary = crawl(config(&[site.origin()], &dir)).await;
    assert_eq!(summary.written, 3);
    assert_eq!(summary.robots_blocked, 0);
    assert_eq!(site.hits("/robots.txt"), 1);
    assert_eq!(
        written_paths(&jsonl(&dir.join("out.jsonl"))),
        sorted(&["/", "/a", "/admin"])
    );
}

/// Gaps between consecutive request arrivals.
fn gaps(requests: &[LoggedRequest]) -> Vec<Duration> {
    requests
        .windows(2)
        .map(|w| w[1].at.duration_since(w[0].at))
        .collect()
}

/// Asserts that requests arrived `delay` apart. The engine spaces request *starts*; on a
/// loaded machine (this file runs ~30 crawls at once on two cores) one request may reach
/// the server up to ~100 ms after it started, which shortens the next measured gap by as
/// much; the whole span, from the first to the last request, must still be full.
fn assert_spaced(requests: &[LoggedRequest], delay: Duration) {
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    let all = gaps(requests);
    for &gap in &all {
        assert!(
            gap + Duration::from_millis(100) >= delay,
            "requests {gap:?} apart, want {delay:?}: {paths:?} {all:?}"
        );
    }
    let span: Duration = all.iter().sum();
    let want = delay * u32::try_from(all.len()).unwrap_or(u32::MAX);
    assert!(
        span + Duration::from_millis(100) >= want,
        "{span:?} from first to last request, want {want:?}: {paths:?} {all:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn crawl_delay_spaces_requests_to_a_host() {
    let site = SiteBuilder::new()
        .robots("User-agent: *\nCrawl-delay: 1\n")
        .page("/", html("Home", &["/a".into(), "/b".into()]))
        .page("/a", html("A", &[]))
        .page("/b", html("B", &[]))
        .start()
        .await;
    let dir = test_dir("crawl-delay");
    let started = Instant::now();
    let summary = crawl(config(&[site.origin()], &dir)).await;
    assert_eq!(summary.written, 3);
    let requests = site.requests();
    assert_eq!(requests.len(), 4, "{requests:?}");
    assert_spaced(&requests, Duration::from_secs(1));
    assert!(started.elapsed() >= Duration::from_secs(3));
}

// ---------------------------------------------------------------------------------------
// 3. Sitemaps
// ---------------------------------------------------------------------------------------

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

fn urlset(urls: &[String]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for url in urls {
        xml.push_str(&format!("  <url><loc>{url}</loc></url>\n"));
    }
    xml.push_str("</urlset>\n");
    xml
}

/// `/` links to `/linked` only; `/hidden/1..3` are listed in a gzipped sitemap named by a
/// sitemap index that robots.txt names.
async fn sitemap_site() -> Site {
    let mut builder = SiteBuilder::new()
        .page("/", html("Home", &["/linked".into()]))
        .page("/linked", html("Linked", &[]));
    for i in 1..=3 {
        builder = builder.page(&format!("/hidden/{i}"), html(&format!("Hidden {i}"), &[]));
    }
    let site = builder.start().await;
    let pages: Vec<String> = (1..=3)
        .map(|i| site.url(&format!("/hidden/{i}")).to_string())
        .collect();
    site.set_response(
        "/maps/pages.xml.gz",
        Response::typed("application/x-gzip", gzip(urlset(&pages).as_bytes())),
    );
    let index = format!(
        "<?xml version=\"1.0\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
         <sitemap><loc>{}</loc></sitemap></sitemapindex>",
        site.url("/maps/pages.xml.gz")
    );
    site.set_response("/maps/index.xml", Response::typed("application/xml", index));
    site.set_response(
        "/robots.txt",
        Response::text(format!(
            "User-agent: *\nDisallow:\n\nSitemap: {}\n",
            site.url("/maps/index.xml")
        )),
    );
    site
}

#[tokio::test(flavor = "multi_thread")]
async fn sitemaps_from_robots_txt_reach_unlinked_pages() {
    let site = sitemap_site().await;
    let dir = test_dir("sitemaps-robots");
    let mut config = config(&[site.origin()], &dir);
    config.sitemaps = true;
    let summary = crawl(config).await;
    assert_eq!(summary.stop, StopReason::Finished);
    let pages = jsonl(&dir.join("out.jsonl"));
    assert_eq!(
        written_paths(&pages),
        sorted(&["/", "/linked", "/hidden/1", "/hidden/2", "/hidden/3"])
    );
    assert_eq!(site.hits("/maps/index.xml"), 1);
    assert_eq!(site.hits("/maps/pages.xml.gz"), 1);
    for page in &pages {
        if page["url"]
            .as_str()
            .unwrap_or_default()
            .contains("/hidden/")
        {
            assert_eq!(page["referrer"], "sitemap", "{page}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn default_sitemap_xml_is_found_without_robots_txt() {
    let site = SiteBuilder::new()
        .page("/", html("Home", &[]))
        .page("/only-in-sitemap", html("Only in the sitemap", &[]))
        .start()
        .await;
    let listed = urlset(&[site.url("/only-in-sitemap").to_string()]);
    site.set_response("/sitemap.xml", Response::typed("application/xml", listed));
    let dir = test_dir("sitemaps-default");
    let mut config = config(&[site.origin()], &dir);
    config.sitemaps = true;
    let summary = crawl(config).await;
    assert_eq!(summary.written, 2, "{summary:?}");
    assert_eq!(
        written_paths(&jsonl(&dir.join("out.jsonl"))),
        sorted(&["/", "/only-in-sitemap"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_sitemaps_skips_them() {
    let site = sitemap_site().await;
    site.set_response(
        "/sitemap.xml",
        Response::typed("application/xml", "<urlset/>"),
    );
    let dir = test_dir("sitemaps-off");
    let mut config = config(&[site.origin()], &dir);
    config.sitemaps = false;
    let summary = crawl(config).await;
    assert_eq!(summary.written, 2);
    assert_eq!(
        written_paths(&jsonl(&dir.join("out.jsonl"))),
        sorted(&["/", "/linked"])
    );
    for path in [
        "/maps/index.xml",
        "/maps/pages.xml.gz",
        "/sitemap.xml",
        "/hidden/1",
    ] {
        assert_eq!(site.hits(path), 0, "{path} was requested");
    }
}

// ---------------------------------------------------------------------------------------
// 4. Redirects
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn redirect_on_the_same_host_is_followed_once_and_recorded() {
    let site = SiteBuilder::new()
        .page("/", html("Home", &["/old".into(), "/new".into()]))
        .redirect("/old", 301, "/new")
        .page("/new", html("New", &[]))
        .start()
        .await;
    let dir = test_dir("redirect-same-host");
    let summary = crawl(config(&[site.origin()], &dir)).await;
    assert_eq!(summary.written, 2);
    assert_eq!(summary.skipped, 1, "{summary:?}");
    assert_eq!(reason(&summary, "redirect"), 1, "{:?}", summary.reasons);
    assert_eq!(site.hits("/old"), 1);
    assert_eq!(site.hits("/new"), 1);
    assert_eq!(
        written_paths(&jsonl(&dir.join("out.jsonl"))),
        sorted(&["/", "/new"])
    );
}

async fn cross_host_sites() -> (Site, Site) {
    let second = SiteBuilder::new()
        .robots("User-agent: *\nDisallow:\n")
        .page("/target", html("Target", &[]))
        .start()
        .await;
    let first = SiteBuilder::new()
        .page("/", html("Home", &["/away".into()]))
        .redirect("/away", 302, &localhost_url(&second, "/target"))
        .start()
        .await;
    (first, second)
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_to_another_host_is_out_of_host_scope() {
    let (first, second) = cross_host_sites().await;
    let dir = test_dir("redirect-host-scope");
    let summary = crawl(config(&[first.origin()], &dir)).await;
    assert_eq!(first.hits("/away"), 1);
    assert!(second.requests().is_empty(), "{:?}", second.requests());
    assert_eq!(summary.written, 1);
    assert_eq!(reason(&summary, "redirect"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_to_another_host_with_scope_any_asks_its_robots_first() {
    let (first, second) = cross_host_sites().await;
    let dir = test_dir("redirect-any-scope");
    let mut config = config(&[first.origin()], &dir);
    config.scope.kind = ScopeKind::Any;
    let summary = crawl(config).await;
    let paths: Vec<String> = second.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, vec!["/robots.txt".to_owned(), "/target".to_owned()]);
    assert_eq!(summary.written, 2);
    let pages = jsonl(&dir.join("out.jsonl"));
    let urls: Vec<&str> = pages.iter().filter_map(|p| p["url"].as_str()).collect();
    assert!(
        urls.contains(&localhost_url(&second, "/target").as_str()),
        "{urls:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_loop_terminates() {
    let site = SiteBuilder::new()
        .page("/", html("Home", &["/loop/a".into()]))
        .redirect("/loop/a", 302, "/loop/b")
        .redirect("/loop/b", 302, "/loop/a")
        .redirect("/self", 301, "/self")
        .start()
        .await;
    site.set_response(
        "/",
        Response::html(html("Home", &["/loop/a".into(), "/self".into()])),
    );
    let dir = test_dir("redirect-loop");
    let summary = crawl(config(&[site.origin()], &dir)).await;
    assert_eq!(summary.stop, StopReason::Finished);
    assert_eq!(site.hits("/loop/a"), 1);
    assert_eq!(site.hits("/loop/b"), 1);
    assert_eq!(site.hits("/self"), 1);
    assert_eq!(summary.written, 1);
    assert_eq!(reason(&summary, "redirect"), 3, "{:?}", summary.reasons);
}

// ---------------------------------------------------------------------------------------
// 5. 429, 503, 500
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_429_makes_the_whole_host_wait() {
    let links: Vec<String> = ["/limited", "/b", "/c", "/d"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let site = SiteBuilder::new()
        .page("/", html("Home", &links))
        .sequence(
            "/limited",
            vec![
                Response::new(429).header("Retry-After", "1"),
                Response::html(html("Limited", &[])),
            ],
        )
        .page("/b", html("B", &["/e".into()]))
        .page("/c", html("C", &["/f".into()]))
        .page("/d", html("D", &[]))
        .page("/e", html("E", &[]))
        .page("/f", html("F", &[]))
        .start()
        .await;
    let dir = test_dir("retry-after-429");
    let mut config = config(&[site.origin()], &dir);
    config.per_host = 2;
    let summary = crawl(config).await;
    assert_eq!(summary.written, 7, "{summary:?}");
    assert_eq!(summary.retries, 1);
    let limited = site.requests_for("/limited");
    assert_eq!(limited.len(), 2);
    let (first, retry) = (limited[0].at, limited[1].at);
    assert!(
        retry.duration_since(first) >= Duration::from_millis(990),
        "retried {:?} after the 429",
        retry.duration_since(first)
    );
    // Nothing else of the host is asked during the second it waits (a request already on
    // its way when the 429 came back may arrive just after it; once the wait is over, the
    // retry and the next page go out together, in either order).
    let wait_end = first + Duration::from_millis(990);
    let during: Vec<(String, Duration)> = site
        .requests()
        .into_iter()
        .filter(|r| r.at > first + Duration::from_millis(150) && r.at < wait_end)
        .map(|r| (r.path, r.at.duration_since(first)))
        .collect();
    assert!(during.is_empty(), "requested during the wait: {during:?}");
    assert!(written_paths(&jsonl(&dir.join("out.jsonl"))).contains(&"/limited".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn bursts_of_503_end_with_the_pages_crawled() {
    let flaky = vec![Response::new(503), Response::html(html("Back", &[]))];
    let site = SiteBuilder::new()
        .page("/", html("Home", &["/x".into(), "/y".into()]))
        .sequence("/x", flaky.clone())
        .sequence("/y", flaky)
        .start()
        .await;
    let dir = test_dir("burst-503");
    let mut config = config(&[site.origin()], &dir);
    config.per_host = 1;
    let summary = crawl(config).await;
    assert_eq!(summary.written, 3, "{summary:?}");
    assert_eq!(summary.failed, 0);
    assert_eq!(summary.retries, 2);
    assert_eq!(site.hits("/x"), 2);
    assert_eq!(site.hits("/y"), 2);
    assert_eq!(
        written_paths(&jsonl(&dir.join("out.jsonl"))),
        sorted(&["/", "/x", "/y"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn always_500_fails_after_max_attempts() {
    let site = SiteBuilder::new()
        .page("/", html("Home", &["/broken".into()]))
        .response("/broken", Response::new(500))
        .start()
        .await;
    let dir = test_dir("always-500");
    let mut config = config(&[site.origin()], &dir);
    config.max_attempts = 2;
    let summary = crawl(config).await;
    assert_eq!(site.hits("/broken"), 2);
    assert_eq!(summary.failed, 1);
    assert_eq!(summary.retries, 1);
    assert_eq!(summary.written, 1);
    let reasons: Vec<&String> = summary.reasons.iter().map(|(r, _)| r).collect();
    assert!(
        reasons.iter().any(|r| r.contains("500")),
        "no reason naming the 500: {reasons:?}"
    );
    assert_eq!(summary.frontier.failed, 1);
}

// ---------------------------------------------------------------------------------------
// 6. A slow host does not hold up a fast one
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn slow_host_does_not_block_a_fast_host() {
    let slow = SiteBuilder::new()
        .response(
            "/",
            Response::html(html("Slow", &[])).delay(Duration::from_secs(2)),
        )
        .start()
        .await;
    let fast_links: Vec<String> = (0..10).map(|i| format!("/f{i}")).collect();
    let mut builder = SiteBuilder::new().page("/", html("Fast", &fast_links));
    for link in &fast_links {
        builder = builder.page(link, html(link, &[]));
    }
    let fast = builder.start().await;
    let dir = test_dir("slow-host");
    let mut config = config(
        &[
            localhost_url(&slow, "/").parse().expect("url"),
            fast.origin(),
        ],
        &dir,
    );
    config.scope.kind = ScopeKind::Host;
    let summary = crawl(config).await;
    assert_eq!(summary.written, 12, "{summary:?}");
    let slow_page = slow.requests_for("/");
    assert_eq!(slow_page.len(), 1);
    // The slow page's answer comes 2 s after its request; every fast page was asked for
    // well before that.
    let slow_done = slow_page[0].at + Duration::from_secs(2);
    let fast_last = fast.requests().last().expect("fast requests").at;
    assert!(
        fast_last + Duration::from_millis(1500) < slow_done,
        "fast host's last request only {:?} before the slow page finished",
        slow_done.saturating_duration_since(fast_last)
    );
    // The slow page was written last.
    let pages = jsonl(&dir.join("out.jsonl"));
    assert_eq!(pages.last().expect("pages")["title"], "Slow");
}

// ---------------------------------------------------------------------------------------
// 7. Spider traps
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn endless_calendar_is_bounded_by_max_pages_per_host() {
    // Enough months that only the guard can end the crawl.
    let mut builder = SiteBuilder::new().page("/", html("Home", &["/cal/2024/01".into()]));
    for n in 0..600 {
        let (year, month) = (2024 + n / 12, n % 12 + 1);
        let (next_year, next_month) = (2024 + (n + 1) / 12, (n + 1) % 12 + 1);
        let next = format!("/cal/{next_year}/{next_month:02}");
        builder = builder.page(
            &format!("/cal/{year}/{month:02}"),
            html(&format!("{year}-{month:02}"), &[next]),
        );
    }
    let site = builder.start().await;
    let dir = test_dir("trap-calendar");
    let mut config = config(&[site.origin()], &dir);
    config.max_pages_per_host = Some(20);
    let summary = crawl(config).await;
    assert_eq!(summary.stop, StopReason::Finished);
    assert_eq!(summary.written, 20, "{summary:?}");
    assert_eq!(page_requests(&site).len(), 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn relative_link_loop_is_cut_by_the_repeated_segment_guard() {
    // Every level of /a/b/a/b/... exists and links one level deeper, relatively.
    let mut builder = SiteBuilder::new().page("/", html("Home", &["/a/".into()]));
    let mut path = String::from("/a/");
    for level in 0..20 {
        let next = if level % 2 == 0 { "b/" } else { "a/" };
        builder = builder.page(&path, html(&format!("Level {level}"), &[next.to_owned()]));
        path.push_str(next);
    }
    let site = builder.start().await;
    let dir = test_dir("trap-relative");
    let summary = crawl(config(&[site.origin()], &dir)).await;
    assert_eq!(summary.stop, StopReason::Finished);
    let mut requested = page_requests(&site);
    requested.sort();
    assert_eq!(
        requested,
        sorted(&["/", "/a/", "/a/b/", "/a/b/a/", "/a/b/a/b/"])
    );
    assert_eq!(summary.written, 5);
}

// ---------------------------------------------------------------------------------------
// 8. Non-HTML
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn non_documents_are_skipped_and_not_written() {
    let site = SiteBuilder::new()
        .page(
            "/",
            html(
                "Home",
                &[
                    "/image.png".into(),
                    "/file.pdf".into(),
                    "/data.json".into(),
                    "/doc".into(),
                ],
            ),
        )
        .response(
            "/image.png",
            Response::typed("image/png", b"\x89PNG\r\n\x1a\n".to_vec()),
        )
        .response(
            "/file.pdf",
            Response::typed("application/pdf", b"%PDF-1.4".to_vec()),
        )
        .response(
            "/data.json",
            Response::typed("application/json", b"{\"a\":1}".to_vec()),
        )
        .page("/doc", html("Doc", &[]))
        .start()
        .await;
    let dir = test_dir("non-html");
    let summary = crawl(config(&[site.origin()], &dir)).await;
    assert_eq!(summary.written, 2);
    assert_eq!(summary.skipped, 3, "{summary:?}");
    for kind in ["image/png", "application/pdf", "application/json"] {
        assert_eq!(
            reason(&summary, &format!("not a document ({kind})")),
            1,
            "{:?}",
            summary.reasons
        );
    }
    assert_eq!(
        written_paths(&jsonl(&dir.join("out.jsonl"))),
        sorted(&["/", "/doc"])
    );
}

// ---------------------------------------------------------------------------------------
// 9. Formats: Markdown tree, WARC
// ---------------------------------------------------------------------------------------

async fn three_page_site() -> Site {
    SiteBuilder::new()
        .page(
            "/",
            html("Home", &["/docs/intro.html".into(), "/about".into()]),
        )
        .page("/docs/intro.html", html("Intro", &[]))
        .page("/about", html("About", &[]))
        .start()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn markdown_tree_has_one_file_per_page_with_front_matter() {
    let site = three_page_site().await;
    let dir = test_dir("markdown-tree");
    let mut config = config(&[site.origin()], &dir);
    config.format = Format::Markdown;
    config.out = dir.join("tree");
    let summary = crawl(config).await;
    assert_eq!(summary.written, 3);
    let host = dir
        .join("tree")
        .join(format!("127.0.0.1_{}", site.addr().port()));
    let mut files: Vec<String> = Vec::new();
    let mut stack = vec![host.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read the tree") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(
                    path.strip_prefix(&host)
                        .expect("in host dir")
                        .display()
                        .to_string(),
                );
            }
        }
    }
    files.sort();
    assert_eq!(files, sorted(&["about.md", "docs/intro.md", "index.md"]));
    for (file, path, title) in [
        ("index.md", "/", "Home"),
        ("docs/intro.md", "/docs/intro.html", "Intro"),
        ("about.md", "/about", "About"),
    ] {
        let text = std::fs::read_to_string(host.join(file)).expect("read a page file");
        let front = text
            .strip_prefix("---\n")
            .and_then(|rest| rest.split_once("\n---\n"))
            .map(|(front, _)| front)
            .unwrap_or_else(|| panic!("no front matter in {file}: {text}"));
        assert!(
            front.contains(&format!("url: \"{}\"", site.url(path))),
            "{file}: {front}"
        );
        assert!(
            front.contains(&format!("title: \"{title}\"")),
            "{file}: {front}"
        );
        assert!(front.contains("fetched_at: \""), "{file}: {front}");
        assert!(text.contains("This is the page called"), "{file}: {text}");
    }
}

/// The warcio binary that `scripts/py-tools` installs; fails (never skips) without it.
fn warcio() -> PathBuf {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py-tools/bin/warcio");
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/py-tools (from the workspace root) to install warcio",
        bin.display()
    );
    bin
}

#[tokio::test(flavor = "multi_thread")]
async fn warc_output_passes_warcio_and_holds_the_pages() {
    let warcio = warcio();
    let site = three_page_site().await;
    let dir = test_dir("warc");
    let mut config = config(&[site.origin()], &dir);
    config.format = Format::Warc;
    config.out = dir.join("crawl.warc.gz");
    let summary = crawl(config).await;
    assert_eq!(summary.written, 3);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read the test dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .warc.gz in {}", dir.display());
    let mut targets = Vec::new();
    for file in &files {
        let check = Command::new(&warcio)
            .args(["check", "-v"])
            .arg(file)
            .output()
            .expect("run warcio check");
        assert!(
            check.status.success(),
            "warcio check {}: {}{}",
            file.display(),
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        let index = Command::new(&warcio)
            .args(["index", "-f", "warc-type,warc-target-uri,http:status"])
            .arg(file)
            .output()
            .expect("run warcio index");
        assert!(
            index.status.success(),
            "{}",
            String::from_utf8_lossy(&index.stderr)
        );
        for line in String::from_utf8_lossy(&index.stdout).lines() {
            let record: Value = serde_json::from_str(line).expect("index line is JSON");
            if record["warc-type"] == "response" {
                assert_eq!(record["http:status"], "200", "{record}");
                targets.push(
                    record["warc-target-uri"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
    }
    targets.sort();
    let mut want: Vec<String> = ["/", "/docs/intro.html", "/about"]
        .iter()
        .map(|p| site.url(p).to_string())
        .collect();
    want.sort();
    assert_eq!(targets, want);
}

// ---------------------------------------------------------------------------------------
// 10. Resume and refresh
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn resume_completes_a_crawl_stopped_by_max_pages() {
    let other = SiteBuilder::new().start().await;
    let site = small_site(&other).await;
    let dir = test_dir("resume");
    let mut first = config(&[site.origin()], &dir);
    first.max_pages = Some(8);
    let summary = crawl(first).await;
    assert_eq!(summary.stop, StopReason::MaxPages);
    assert_eq!(summary.written, 8);
    assert_eq!(jsonl(&dir.join("out.jsonl")).len(), 8);

    let mut again = config(&[], &dir);
    again.resume = true;
    let summary = crawl(again).await;
    assert_eq!(summary.stop, StopReason::Finished);
    assert_eq!(summary.written, 13, "{summary:?}");
    // Every page once in the output, and asked for once over both runs.
    assert_eq!(
        written_paths(&jsonl(&dir.join("out.jsonl"))),
        all_small_site_paths()
    );
    let mut requested = page_requests(&site);
    requested.sort();
    assert_eq!(requested, all_small_site_paths());
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_sends_if_none_match_and_counts_304() {
    let paths = ["/", "/a", "/b"];
    let etag = |p: &str| format!("\"v1-{}\"", p.trim_start_matches('/'));
    let mut builder = SiteBuilder::new();
    for p in paths {
        let links = if p == "/" {
            vec!["/a".into(), "/b".into()]
        } else {
            vec![]
        };
        builder = builder.response(p, Response::html(html(p, &links)).header("ETag", &etag(p)));
    }
    let site = builder.start().await;
    let dir = test_dir("refresh");
    let summary = crawl(config(&[site.origin()], &dir)).await;
    assert_eq!(summary.written, 3);
    let before = std::fs::read(dir.join("out.jsonl")).expect("output");

    // The pages have not changed: the site now answers 304 (it is asked conditionally).
    for p in paths {
        site.set_response(p, Response::new(304).header("ETag", &etag(p)));
    }
    let mut again = config(&[], &dir);
    again.resume = true;
    again.refresh = true;
    let summary = crawl(again).await;
    assert_eq!(summary.stop, StopReason::Finished);
    assert_eq!(summary.not_modified, 3, "{summary:?}");
    assert_eq!(summary.written, 0);
    for p in paths {
        let asked = site.requests_for(p);
        assert_eq!(asked.len(), 2, "{p}: {asked:?}");
        assert_eq!(asked[0].header("if-none-match"), None);
        assert_eq!(
            asked[1].header("if-none-match"),
            Some(etag(p).as_str()),
            "{p}"
        );
    }
    assert_eq!(
        std::fs::read(dir.join("out.jsonl")).expect("output"),
        before
    );
}

// ---------------------------------------------------------------------------------------
// Misc: the stop signal
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn stop_signal_ends_the_crawl_and_resume_finishes_it() {
    let mut builder = SiteBuilder::new();
    let links: Vec<String> = (0..6).map(|i| format!("/p{i}")).collect();
    builder = builder.page("/", html("Home", &links));
    for link in &links {
        builder = builder.response(
            link,
            Response::html(html(link, &[])).delay(Duration::from_millis(300)),
        );
    }
    let site = builder.start().await;
    let dir = test_dir("stop-signal");
    let mut first = config(&[site.origin()], &dir);
    first.per_host = 1;
    let crawl_run = Crawl::open(first).await.expect("open");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(crawl_run.run(stop_rx));
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_tx.send(true).expect("send stop");
    let summary = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("stops promptly")
        .expect("join")
        .expect("crawl");
    assert_eq!(summary.stop, StopReason::Interrupted);
    assert!(summary.written < 7, "{summary:?}");
    let mut again = config(&[], &dir);
    again.resume = true;
    let summary = crawl(again).await;
    assert_eq!(summary.stop, StopReason::Finished);
    let mut want = vec!["/".to_owned()];
    want.extend(links);
    want.sort();
    assert_eq!(written_paths(&jsonl(&dir.join("out.jsonl"))), want);
    let counts: HashMap<String, usize> =
        page_requests(&site)
            .into_iter()
            .fold(HashMap::new(), |mut m, p| {
                *m.entry(p).or_default() += 1;
                m
            });
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_stop_sender_means_never_stop() {
    // A caller with no use for the stop signal may drop its sender: the crawl must still
    // read the sitemaps and run to its end (a closed channel is not a stop).
    let site = sitemap_site().await;
    // A slow sitemap: the crawl must wait for it, not end before its pages are known.
    let index = site.requests_for("/maps/index.xml");
    assert!(index.is_empty());
    let body = format!(
        "<?xml version=\"1.0\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
         <sitemap><loc>{}</loc></sitemap></sitemapindex>",
        site.url("/maps/pages.xml.gz")
    );
    site.set_response(
        "/maps/index.xml",
        Response::typed("application/xml", body).delay(Duration::from_millis(700)),
    );
    let dir = test_dir("dropped-stop-sender");
    let mut config = config(&[site.origin()], &dir);
    config.sitemaps = true;
    let crawl = Crawl::open(config).await.expect("open");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    drop(stop_tx);
    let summary = tokio::time::timeout(Duration::from_secs(60), crawl.run(stop_rx))
        .await
        .expect("ends within 60 s")
        .expect("crawl");
    assert_eq!(summary.stop, StopReason::Finished);
    assert_eq!(
        written_paths(&jsonl(&dir.join("out.jsonl"))),
        sorted(&["/", "/linked", "/hidden/1", "/hidden/2", "/hidden/3"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn crawl_delay_also_spaces_the_sitemap_requests() {
    let site = SiteBuilder::new()
        .robots("User-agent: *\nCrawl-delay: 1\n")
        .page("/", html("Home", &[]))
        .start()
        .await;
    let listed = urlset(&[site.url("/listed").to_string()]);
    site.set_response("/sitemap.xml", Response::typed("application/xml", listed));
    site.set_response("/listed", Response::html(html("Listed", &[])));
    let dir = test_dir("crawl-delay-sitemaps");
    let mut config = config(&[site.origin()], &dir);
    config.sitemaps = true;
    let summary = crawl(config).await;
    assert_eq!(summary.written, 2);
    let requests = site.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["/robots.txt", "/sitemap.xml", "/", "/listed"],
        "robots.txt once, then the sitemap, then the pages"
    );
    assert_spaced(&requests, Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn per_host_limits_requests_in_flight() {
    let links: Vec<String> = (0..8).map(|i| format!("/p{i}")).collect();
    let mut builder = SiteBuilder::new().page("/", html("Home", &links));
    for link in &links {
        builder = builder.response(
            link,
            Response::html(html(link, &[])).delay(Duration::from_millis(300)),
        );
    }
    let site = builder.start().await;
    let dir = test_dir("per-host");
    let mut config = config(&[site.origin()], &dir);
    config.per_host = 2;
    let summary = crawl(config).await;
    assert_eq!(summary.written, 9);
    // Each slow request occupies [at, at + 300 ms): never more than two at once.
    let slow: Vec<Instant> = site
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/p"))
        .map(|r| r.at)
        .collect();
    assert_eq!(slow.len(), 8);
    for &start in &slow {
        let overlapping = slow
            .iter()
            .filter(|&&other| other >= start && other < start + Duration::from_millis(290))
            .count();
        assert!(overlapping <= 2, "{overlapping} requests in flight at once");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sitemap_urls_still_obey_scope_and_robots() {
    let other = SiteBuilder::new()
        .page("/elsewhere", html("Elsewhere", &[]))
        .start()
        .await;
    let site = SiteBuilder::new()
        .page("/", html("Home", &[]))
        .page("/listed", html("Listed", &[]))
        .page("/private/listed", html("Private", &[]))
        .start()
        .await;
    let listed = urlset(&[
        site.url("/listed").to_string(),
        site.url("/private/listed").to_string(),
        localhost_url(&other, "/elsewhere"),
    ]);
    site.set_response("/sitemap.xml", Response::typed("application/xml", listed));
    site.set_response(
        "/robots.txt",
        Response::text("User-agent: *\nDisallow: /private\n"),
    );
    let dir = test_dir("sitemap-scope");
    let mut config = config(&[site.origin()], &dir);
    config.sitemaps = true;
    let summary = crawl(config).await;
    assert_eq!(
        written_paths(&jsonl(&dir.join("out.jsonl"))),
        sorted(&["/", "/listed"])
    );
    assert_eq!(site.hits("/private/listed"), 0);
    assert_eq!(summary.robots_blocked, 1);
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_sends_if_modified_since_and_rewrites_changed_pages() {
    let date = "Sun, 01 Nov 2026 10:00:00 GMT";
    let site = SiteBuilder::new()
        .response(
            "/",
            Response::html(html("Home", &["/changed".into()])).header("Last-Modified", date),
        )
        .page("/changed", html("Old", &[]))
        .start()
        .await;
    let dir = test_dir("refresh-modified");
    assert_eq!(crawl(config(&[site.origin()], &dir)).await.written, 2);

    site.set_response("/", Response::new(304).header("Last-Modified", date));
    site.set_response("/changed", Response::html(html("New", &[])));
    let mut again = config(&[], &dir);
    again.resume = true;
    again.refresh = true;
    let summary = crawl(again).await;
    assert_eq!(summary.not_modified, 1, "{summary:?}");
    assert_eq!(summary.written, 1, "{summary:?}");
    let home = site.requests_for("/");
    assert_eq!(home.len(), 2);
    assert_eq!(home[1].header("if-modified-since"), Some(date));
    let pages = jsonl(&dir.join("out.jsonl"));
    let titles: Vec<&str> = pages.iter().filter_map(|p| p["title"].as_str()).collect();
    assert_eq!(titles, vec!["Home", "Old", "New"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn max_time_stops_dispatching_and_resume_finishes() {
    let links: Vec<String> = (0..10).map(|i| format!("/p{i}")).collect();
    let mut builder = SiteBuilder::new().page("/", html("Home", &links));
    for link in &links {
        builder = builder.response(
            link,
            Response::html(html(link, &[])).delay(Duration::from_millis(200)),
        );
    }
    let site = builder.start().await;
    let dir = test_dir("max-time");
    let mut first = config(&[site.origin()], &dir);
    first.per_host = 1;
    first.max_time = Some(Duration::from_millis(500));
    let started = Instant::now();
    let summary = crawl(first).await;
    assert_eq!(summary.stop, StopReason::MaxTime);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(summary.written < 11, "{summary:?}");
    assert_eq!(summary.frontier.queued, 11 - summary.written, "{summary:?}");
    let mut again = config(&[], &dir);
    again.resume = true;
    assert_eq!(crawl(again).await.stop, StopReason::Finished);
    let mut want = vec!["/".to_owned()];
    want.extend(links);
    want.sort();
    assert_eq!(written_paths(&jsonl(&dir.join("out.jsonl"))), want);
}

#[tokio::test(flavor = "multi_thread")]
async fn persistent_429_fails_after_max_attempts() {
    let site = SiteBuilder::new()
        .page("/", html("Home", &["/busy".into()]))
        .response("/busy", Response::new(429).header("Retry-After", "0"))
        .start()
        .await;
    let dir = test_dir("persistent-429");
    let mut config = config(&[site.origin()], &dir);
    config.max_attempts = 2;
    let summary = crawl(config).await;
    assert_eq!(site.hits("/busy"), 2);
    assert_eq!(summary.failed, 1, "{summary:?}");
    assert!(
        summary.reasons.iter().any(|(r, _)| r.contains("429")),
        "{:?}",
        summary.reasons
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn robots_group_matching_is_case_insensitive() {
    let site = SiteBuilder::new()
        .robots("User-agent: *\nDisallow:\n\nUser-agent: GANNET\nDisallow: /no\n")
        .page("/", html("Home", &["/no".into(), "/yes".into()]))
        .page("/no", html("No", &[]))
        .page("/yes", html("Yes", &[]))
        .start()
        .await;
    let dir = test_dir("robots-case");
    let summary = crawl(config(&[site.origin()], &dir)).await;
    assert_eq!(site.hits("/no"), 0);
    assert_eq!(summary.robots_blocked, 1);
    assert_eq!(
        written_paths(&jsonl(&dir.join("out.jsonl"))),
        sorted(&["/", "/yes"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_is_capped_by_max_delay() {
    // `max_delay` is the longest a host waits between two requests, even when its
    // Retry-After asks for an hour.
    let site = SiteBuilder::new()
        .page("/", html("Home", &["/later".into()]))
        .sequence(
            "/later",
            vec![
                Response::new(503).header("Retry-After", "3600"),
                Response::html(html("Later", &[])),
            ],
        )
        .start()
        .await;
    let dir = test_dir("retry-after-cap");
    let mut config = config(&[site.origin()], &dir);
    config.max_delay = Duration::from_secs(2);
    let summary = crawl(config).await;
    assert_eq!(summary.written, 2, "{summary:?}");
    let asked = site.requests_for("/later");
    assert_eq!(asked.len(), 2);
    let waited = asked[1].at.duration_since(asked[0].at);
    assert!(
        waited >= Duration::from_millis(990) && waited < Duration::from_millis(2500),
        "waited {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn warc_refresh_records_304_as_revisits() {
    let warcio = warcio();
    let etag = "\"v1\"";
    let site = SiteBuilder::new()
        .response(
            "/",
            Response::html(html("Home", &["/a".into()])).header("ETag", etag),
        )
        .response("/a", Response::html(html("A", &[])).header("ETag", etag))
        .start()
        .await;
    let dir = test_dir("warc-refresh");
    let mut first = config(&[site.origin()], &dir);
    first.format = Format::Warc;
    first.out = dir.join("crawl.warc.gz");
    assert_eq!(crawl(first.clone()).await.written, 2);
    for path in ["/", "/a"] {
        site.set_response(path, Response::new(304).header("ETag", etag));
    }
    let mut again = first;
    again.seeds = Vec::new();
    again.resume = true;
    again.refresh = true;
    let summary = crawl(again).await;
    assert_eq!(summary.not_modified, 2, "{summary:?}");

    let mut revisits = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read the test dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
        .collect();
    files.sort();
    for file in &files {
        let check = Command::new(&warcio)
            .args(["check", "-v"])
            .arg(file)
            .output()
            .expect("run warcio check");
        assert!(
            check.status.success(),
            "warcio check {}: {}",
            file.display(),
            String::from_utf8_lossy(&check.stdout)
        );
        let index = Command::new(&warcio)
            .args(["index", "-f", "warc-type,warc-target-uri,warc-profile"])
            .arg(file)
            .output()
            .expect("run warcio index");
        for line in String::from_utf8_lossy(&index.stdout).lines() {
            let record: Value = serde_json::from_str(line).expect("index line is JSON");
            if record["warc-type"] == "revisit" {
                assert!(
                    record["warc-profile"]
                        .as_str()
                        .unwrap_or_default()
                        .ends_with("server-not-modified"),
                    "{record}"
                );
                revisits.push(
                    record["warc-target-uri"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
    }
    revisits.sort();
    let mut want = vec![site.url("/").to_string(), site.url("/a").to_string()];
    want.sort();
    assert_eq!(revisits, want, "one revisit record per 304");
}

/// The WARC files of `dir`, each checked by `warcio check`, and the target URIs of their
/// response records.
fn warc_responses(dir: &Path) -> Vec<String> {
    let warcio = warcio();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the test dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
        .collect();
    files.sort();
    let mut targets = Vec::new();
    for file in &files {
        let check = Command::new(&warcio)
            .args(["check", "-v"])
            .arg(file)
            .output()
            .expect("run warcio check");
        assert!(
            check.status.success(),
            "warcio check {}: {}",
            file.display(),
            String::from_utf8_lossy(&check.stdout)
        );
        let index = Command::new(&warcio)
            .args(["index", "-f", "warc-type,warc-target-uri"])
            .arg(file)
            .output()
            .expect("run warcio index");
        assert!(
            index.status.success(),
            "{}",
            String::from_utf8_lossy(&index.stderr)
        );
        for line in String::from_utf8_lossy(&index.stdout).lines() {
            let record: Value = serde_json::from_str(line).expect("index line is JSON");
            if record["warc-type"] == "response" {
                targets.push(
                    record["warc-target-uri"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
    }
    targets.sort();
    targets
}

#[tokio::test(flavor = "multi_thread")]
async fn warc_resume_appends_valid_records_once() {
    let other = SiteBuilder::new().start().await;
    let site = small_site(&other).await;
    let dir = test_dir("warc-resume");
    let mut first = config(&[site.origin()], &dir);
    first.format = Format::Warc;
    first.out = dir.join("crawl.warc.gz");
    first.max_pages = Some(5);
    assert_eq!(crawl(first.clone()).await.stop, StopReason::MaxPages);
    assert_eq!(warc_responses(&dir).len(), 5);
    let mut again = first;
    again.seeds = Vec::new();
    again.max_pages = None;
    again.resume = true;
    assert_eq!(crawl(again).await.stop, StopReason::Finished);
    let want: Vec<String> = all_small_site_paths()
        .iter()
        .map(|p| site.url(p).to_string())
        .collect();
    let mut want = want;
    want.sort();
    assert_eq!(warc_responses(&dir), want);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrency_limits_requests_in_flight_across_hosts() {
    let mut sites = Vec::new();
    for _ in 0..2 {
        let links: Vec<String> = (0..3).map(|i| format!("/p{i}")).collect();
        let mut builder = SiteBuilder::new().response(
            "/",
            Response::html(html("Home", &links)).delay(Duration::from_millis(150)),
        );
        for link in &links {
            builder = builder.response(
                link,
                Response::html(html(link, &[])).delay(Duration::from_millis(150)),
            );
        }
        sites.push(builder.start().await);
    }
    let dir = test_dir("concurrency");
    let seeds = vec![
        sites[0].origin(),
        localhost_url(&sites[1], "/").parse().expect("url"),
    ];
    let mut config = config(&seeds, &dir);
    config.concurrency = 1;
    let summary = crawl(config).await;
    assert_eq!(summary.written, 8, "{summary:?}");
    // Every page takes 150 ms: with one request in flight, page requests start at least
    // that far apart, whatever their host.
    let mut starts: Vec<Instant> = sites
        .iter()
        .flat_map(|s| s.requests())
        .filter(|r| r.path != "/robots.txt")
        .map(|r| r.at)
        .collect();
    starts.sort();
    for pair in starts.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(gap >= Duration::from_millis(140), "two pages {gap:?} apart");
    }
}
