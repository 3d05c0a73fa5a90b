//! robots.txt fetching against programmable loopback sites: the RFC 9309 status rules,
//! redirects across hosts, stalls, and odd content types.

use gannet_fetch::{FetchConfig, Fetcher, MAX_ROBOTS_BYTES, Robots};
use gannet_testkit::{Response, Site, SiteBuilder};
use std::time::{Duration, Instant};

fn fetcher() -> Fetcher {
    Fetcher::new(FetchConfig::default()).expect("build the fetcher")
}

async fn robots_of(site: &Site) -> Robots {
    let robots = fetcher().fetch_robots(&site.url("/some/page?x=1")).await;
    assert_eq!(site.hits("/robots.txt"), 1, "robots.txt fetched once");
    robots
}

fn allowed(robots: &Robots, site: &Site, path: &str) -> bool {
    robots.allowed(&site.url(path))
}

#[tokio::test]
async fn rules_of_a_200() {
    let site = SiteBuilder::new()
        .robots(
            "User-agent: *\nDisallow: /\n\nUser-agent: gannet\nDisallow: /private\n\
             Crawl-delay: 3\nSitemap: http://127.0.0.1:1/sitemap.xml\n",
        )
        .start()
        .await;
    let robots = robots_of(&site).await;
    assert!(allowed(&robots, &site, "/public"));
    assert!(!allowed(&robots, &site, "/private/x"));
    assert_eq!(robots.crawl_delay(), Some(Duration::from_secs(3)));
    assert_eq!(robots.sitemaps().len(), 1);
    let request = &site.requests_for("/robots.txt")[0];
    assert!(request.header("user-agent").unwrap().starts_with("gannet/"));
}

#[tokio::test]
async fn not_found_allows_all() {
    let site = SiteBuilder::new().start().await;
    let robots = robots_of(&site).await;
    assert!(allowed(&robots, &site, "/anything"));
}

#[tokio::test]
async fn forbidden_allows_all() {
    // RFC 9309 §2.3.1.3: every 4xx, 401 and 403 included, means "unavailable".
    let site = SiteBuilder::new()
        .response("/robots.txt", Response::new(403))
        .start()
        .await;
    assert!(allowed(&robots_of(&site).await, &site, "/anything"));
}

#[tokio::test]
async fn server_error_disallows_all() {
    let site = SiteBuilder::new()
        .response("/robots.txt", Response::new(500))
        .start()
        .await;
    let robots = robots_of(&site).await;
    assert!(!allowed(&robots, &site, "/anything"));
    assert!(allowed(&robots, &site, "/robots.txt"));
}

#[tokio::test]
async fn too_many_requests_disallows_all() {
    let site = SiteBuilder::new()
        .response("/robots.txt", Response::new(429).header("Retry-After", "1"))
        .start()
        .await;
    assert!(!allowed(&robots_of(&site).await, &site, "/anything"));
}

#[tokio::test]
async fn redirect_to_another_host_uses_that_file() {
    let other = SiteBuilder::new()
        .robots("User-agent: *\nDisallow: /from-other\n")
        .start()
        .await;
    let target = other.url("/robots.txt");
    let site = SiteBuilder::new()
        .redirect("/robots.txt", 301, target.as_str())
        .start()
        .await;
    let robots = robots_of(&site).await;
    assert_eq!(other.hits("/robots.txt"), 1);
    // The rules apply to the first authority.
    assert!(!allowed(&robots, &site, "/from-other/page"));
    assert!(allowed(&robots, &site, "/elsewhere"));
}

#[tokio::test]
async fn five_redirects_are_followed_and_a_sixth_is_unavailable() {
    let chain = |hops: usize| {
        let mut builder = SiteBuilder::new();
        let mut from = "/robots.txt".to_owned();
        for hop in 1..=hops {
            let to = format!("/hop{hop}");
            builder = builder.redirect(&from, 302, &to);
            from = to;
        }
        builder.response(&from, Response::text("User-agent: *\nDisallow: /\n"))
    };
    let site = chain(5).start().await;
    assert!(!allowed(&robots_of(&site).await, &site, "/x"));
    let site = chain(6).start().await;
    assert!(allowed(&robots_of(&site).await, &site, "/x"));
}

#[tokio::test]
async fn redirect_loop_is_unavailable() {
    let site = SiteBuilder::new()
        .redirect("/robots.txt", 302, "/elsewhere")
        .redirect("/elsewhere", 302, "/robots.txt")
        .start()
        .await;
    let robots = fetcher().fetch_robots(&site.origin()).await;
    assert!(allowed(&robots, &site, "/x"));
}

#[tokio::test]
async fn stall_disallows_all_within_the_timeout() {
    let site = SiteBuilder::new()
        .response(
            "/robots.txt",
            Response::text("User-agent: *\nDisallow:\n").delay(Duration::from_secs(30)),
        )
        .start()
        .await;
    let fetcher = Fetcher::new(FetchConfig {
        timeout: Duration::from_millis(500),
        ..FetchConfig::default()
    })
    .unwrap();
    let started = Instant::now();
    let robots = fetcher.fetch_robots(&site.origin()).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(robots.is_disallow_all());
}

#[tokio::test]
async fn unreachable_host_disallows_all() {
    let site = SiteBuilder::new().start().await;
    let origin = site.origin();
    drop(site);
    let robots = fetcher().fetch_robots(&origin).await;
    assert!(robots.is_disallow_all());
}

#[tokio::test]
async fn html_and_untyped_robots_are_parsed() {
    let rules = "User-agent: *\nDisallow: /secret\n";
    let site = SiteBuilder::new()
        .response("/robots.txt", Response::typed("text/html", rules))
        .start()
        .await;
    assert!(!allowed(&robots_of(&site).await, &site, "/secret"));
    let site = SiteBuilder::new()
        .response("/robots.txt", Response::new(200).body(rules))
        .start()
        .await;
    assert!(!allowed(&robots_of(&site).await, &site, "/secret"));
}

#[tokio::test]
async fn gzip_encoded_robots_are_parsed() {
    let site = SiteBuilder::new()
        .gzip(
            "/robots.txt",
            "text/plain",
            b"User-agent: *\nDisallow: /z\n",
        )
        .start()
        .await;
    assert!(!allowed(&robots_of(&site).await, &site, "/z"));
}

#[tokio::test]
async fn oversized_robots_is_cut_not_refused() {
    let mut text = "User-agent: *\nDisallow: /early\n".to_owned();
    while text.len() < 2 * MAX_ROBOTS_BYTES {
        text.push_str("Disallow: /filler/rule/that/goes/on\n");
    }
    text.push_str("Disallow: /late\n");
    let site = SiteBuilder::new().robots(text).start().await;
    let robots = robots_of(&site).await;
    assert!(!allowed(&robots, &site, "/early"));
    assert!(allowed(&robots, &site, "/late"));
}
