//! The address guard against loopback test sites: IP literals of every refused class, a name
//! that resolves to loopback, redirect hops, exchanges, robots.txt and sitemaps, exemptions,
//! proxies from the environment, and the unguarded default.
//!
//! Refused addresses outside loopback (10.0.0.1, 169.254.169.254…) must be refused before
//! any connection: every such fetch runs under a short timeout and must fail with
//! `ForbiddenAddress`, never with a connection error. The tests that name them run in a
//! fresh network namespace (`gannet_testkit::isolated!`), so a regression cannot send a
//! packet off the machine.

use gannet_fetch::{
    AddressClass, AddressGuard, Conditional, ExemptAddress, FetchConfig, FetchError,
    FetchErrorKind, Fetcher, Refusal, SitemapFetchError,
};
use gannet_testkit::{Response, Site, SiteBuilder};
use std::fmt::Debug;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use url::Url;

fn guarded(exempt: Vec<ExemptAddress>) -> Fetcher {
    Fetcher::new(FetchConfig {
        allow_private: false,
        exempt_addresses: exempt,
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        ..FetchConfig::default()
    })
    .expect("build the fetcher")
}

/// A guarded fetcher that lets `site` through (its address and port only).
fn guarded_except(site: &Site) -> Fetcher {
    guarded(vec![ExemptAddress::Socket(site.addr())])
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// Awaits a fetch that the guard must refuse, which happens before any connection: it may
/// not take long, and must fail with `ForbiddenAddress`.
async fn refused<T: Debug>(
    what: &str,
    fetch: impl Future<Output = Result<T, FetchError>>,
) -> (FetchError, Refusal) {
    let result = tokio::time::timeout(Duration::from_secs(2), fetch)
        .await
        .unwrap_or_else(|_| panic!("{what}: not refused up front (still running after 2 s)"));
    let error = match result {
        Ok(value) => panic!("{what}: succeeded: {value:?}"),
        Err(error) => error,
    };
    let refusal = match error.kind() {
        FetchErrorKind::ForbiddenAddress(refusal) => refusal.clone(),
        other => panic!("{what}: failed with {other:?}, not ForbiddenAddress"),
    };
    assert!(!error.is_retryable(), "{what}: a refusal is final");
    (error, refusal)
}

/// A site whose `/` is a page.
async fn page_site() -> Site {
    SiteBuilder::new()
        .page("/", "<html><body>inside</body></html>")
        .start()
        .await
}

#[tokio::test]
async fn every_class_is_refused_for_ip_literals() {
    gannet_testkit::isolated!(every_class_is_refused_for_ip_literals);
    use AddressClass::*;
    let fetcher = guarded(Vec::new());
    let cases = [
        ("http://0.0.0.0/", Unspecified),
        ("http://[::]/", Unspecified),
        ("http://127.0.0.1/", Loopback),
        ("http://127.255.255.254:8080/", Loopback),
        ("http://[::1]/", Loopback),
        ("http://10.0.0.1/", Private),
        ("http://172.16.0.1/", Private),
        ("http://172.31.255.255/", Private),
        ("https://192.168.1.1/admin", Private),
        ("http://[fd00::1]:8080/", Private),
        ("http://169.254.1.1/", LinkLocal),
        ("http://[fe80::1]/", LinkLocal),
        ("http://169.254.169.254/latest/meta-data/", CloudMetadata),
        ("http://[fd00:ec2::254]/", CloudMetadata),
        ("http://100.100.100.200/", CloudMetadata),
        ("http://100.64.0.1/", SharedAddressSpace),
        ("http://224.0.0.1/", Multicast),
        ("http://[ff02::1]/", Multicast),
        ("http://255.255.255.255/", Broadcast),
        ("http://240.0.0.1/", Reserved),
        ("http://[4000::1]/", Reserved),
        ("http://198.18.0.1/", Benchmarking),
        ("http://[2001:2::1]/", Benchmarking),
        ("http://192.0.2.1/", Documentation),
        ("http://198.51.100.1/", Documentation),
        ("http://203.0.113.1/", Documentation),
        ("http://[2001:db8::1]/", Documentation),
        ("http://192.0.0.8/", ProtocolAssignments),
        ("http://[fec0::1]/", SiteLocal),
        ("http://[100::1]/", Discard),
        ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", Teredo),
        ("http://[64:ff9b:1::a00:1]/", Nat64LocalUse),
        // IPv4 spellings the url crate turns into 127.0.0.1, 10.0.0.1, 169.254.169.254.
        ("http://2130706433/", Loopback),
        ("http://0x7f.1/", Loopback),
        ("http://0177.0.0.1/", Loopback),
        ("http://127.1/", Loopback),
        ("http://167772161/", Private),
        ("http://0xa9.0xfe.0xa9.0xfe/", CloudMetadata),
        // IPv6 forms that carry a refused IPv4 address.
        ("http://[::ffff:127.0.0.1]/", Loopback),
        ("http://[::ffff:a00:1]/", Private),
        ("http://[::127.0.0.1]/", Loopback),
        ("http://[64:ff9b::169.254.169.254]/", CloudMetadata),
        ("http://[2002:a00:1::1]/", Private),
    ];
    for (target, class) in cases {
        let target = url(target);
        let (error, refusal) = refused(target.as_str(), fetcher.fetch(&target)).await;
        assert_eq!(refusal.blocked().class, class, "{target}");
        assert_eq!(refusal.host(), None, "{target}");
        assert_eq!(error.url(), Some(&target));
        let what = format!("exchange {target}");
        let (_, refusal) = refused(&what, fetcher.exchange(&target, Conditional::default())).await;
        assert_eq!(refusal.blocked().class, class, "{what}");
        let checked = fetcher.check_url(&target).map(|()| "passed");
        let (_, refusal) = refused(&format!("check_url {target}"), async { checked }).await;
        assert_eq!(refusal.blocked().class, class, "check_url {target}");
    }
}

#[tokio::test]
async fn refusal_reads_as_one_line() {
    gannet_testkit::isolated!(refusal_reads_as_one_line);
    let fetcher = guarded(Vec::new());
    let (error, _) = refused("10.0.0.1", fetcher.fetch(&url("http://10.0.0.1/"))).await;
    assert_eq!(
        error.to_string(),
        "http://10.0.0.1/: refused: 10.0.0.1 (private)"
    );
    let (error, _) = refused("mapped", fetcher.fetch(&url("http://[::ffff:7f00:1]:81/x"))).await;
    assert_eq!(
        error.to_string(),
        "http://[::ffff:7f00:1]:81/x: refused: ::ffff:127.0.0.1 \
         (loopback 127.0.0.1 in IPv4-mapped form)"
    );
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused() {
    let site = page_site().await;
    let fetcher = guarded(Vec::new());
    let target = url(&format!("http://localhost:{}/", site.addr().port()));
    // Names pass the up-front check; the resolver refuses them.
    assert!(fetcher.check_url(&target).is_ok());
    let (error, refusal) = refused("localhost", fetcher.fetch(&target)).await;
    assert_eq!(refusal.host(), Some("localhost"));
    assert_eq!(refusal.blocked().class, AddressClass::Loopback);
    assert!(refusal.ip().is_loopback(), "{refusal}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{target}: refused: localhost resolves to ")),
        "{message}"
    );
    if refusal.ip() == IpAddr::V4(Ipv4Addr::LOCALHOST) {
        assert!(message.ends_with("refused: localhost resolves to 127.0.0.1 (loopback)"));
    }
    let (_, refusal) = refused(
        "exchange localhost",
        fetcher.exchange(&target, Conditional::default()),
    )
    .await;
    assert_eq!(refusal.host(), Some("localhost"));
    assert!(site.requests().is_empty(), "nothing reached the site");
}

#[tokio::test]
async fn an_exempt_socket_is_fetched_and_only_that_socket() {
    let site = page_site().await;
    let other = page_site().await;
    let fetcher = guarded_except(&site);
    let page = fetcher
        .fetch(&site.url("/"))
        .await
        .expect("the exempt site");
    assert_eq!(page.status, 200);
    let exchange = fetcher
        .exchange(&site.url("/"), Conditional::default())
        .await
        .expect("the exempt site, by exchange");
    assert_eq!(exchange.page.status, 200);
    // Same address, another port: refused.
    refused("other port", fetcher.fetch(&other.url("/"))).await;
    // A socket exemption covers IP literals only: the name of the same socket is refused.
    let by_name = url(&format!("http://localhost:{}/", site.addr().port()));
    refused("exempt socket by name", fetcher.fetch(&by_name)).await;
    assert_eq!(site.hits("/"), 2);
    assert_eq!(other.hits("/"), 0);
}

#[tokio::test]
async fn an_exempt_ip_covers_names_that_resolve_to_it() {
    let site = page_site().await;
    let fetcher = guarded(vec![ExemptAddress::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST))]);
    let by_name = url(&format!("http://localhost:{}/", site.addr().port()));
    let page = fetcher.fetch(&by_name).await.expect("localhost, exempt");
    assert_eq!(page.status, 200);
    assert_eq!(site.hits("/"), 1);
    // Other loopback addresses stay refused.
    let other = url(&format!("http://127.0.0.2:{}/", site.addr().port()));
    refused("127.0.0.2", fetcher.fetch(&other)).await;
}

#[tokio::test]
async fn redirect_hops_to_refused_addresses_are_refused() {
    gannet_testkit::isolated!(redirect_hops_to_refused_addresses_are_refused);
    let first = SiteBuilder::new()
        .page("/target", "<html><body>allowed</body></html>")
        .start()
        .await;
    let second = page_site().await;
    let port = second.addr().port();
    let hops = [
        ("/to-loopback", format!("http://127.0.0.1:{port}/")),
        ("/to-loopback-2", format!("http://127.0.0.2:{port}/")),
        ("/to-private", "http://10.0.0.1/".to_owned()),
        ("/to-metadata", "http://169.254.169.254/latest/".to_owned()),
        ("/to-localhost", format!("http://localhost:{port}/")),
        ("/to-decimal", format!("http://2130706433:{port}/")),
        ("/to-mapped", format!("http://[::ffff:127.0.0.1]:{port}/")),
        ("/to-6to4", "http://[2002:c0a8:101::1]/".to_owned()),
    ];
    for (path, location) in &hops {
        first.set_response(path, Response::new(302).header("Location", location));
    }
    // Two hops: an allowed one on the exempt site, then a refused one.
    first.set_response(
        "/chain",
        Response::new(301).header("Location", "/to-loopback"),
    );
    first.set_response("/fine", Response::new(302).header("Location", "/target"));
    let fetcher = guarded_except(&first);

    let page = fetcher
        .fetch(&first.url("/fine"))
        .await
        .expect("allowed hop");
    assert_eq!(page.url, first.url("/target"));

    for (path, location) in &hops {
        let (error, refusal) = refused(path, fetcher.fetch(&first.url(path))).await;
        assert_eq!(error.url(), Some(&url(location)), "{path}: the refused hop");
        if *path == "/to-localhost" {
            assert_eq!(refusal.host(), Some("localhost"));
        } else {
            assert_eq!(refusal.host(), None, "{path}");
        }
    }
    let (error, _) = refused("chain", fetcher.fetch(&first.url("/chain"))).await;
    assert_eq!(
        error.url(),
        Some(&url(&format!("http://127.0.0.1:{port}/")))
    );
    assert_eq!(first.hits("/to-loopback"), 2, "the first hops were fetched");
    assert!(second.requests().is_empty(), "no refused hop was contacted");

    // The crawl engine follows redirects as new exchanges; they are checked the same way.
    let exchange = fetcher
        .exchange(&first.url("/to-private"), Conditional::default())
        .await
        .expect("the redirect itself");
    assert_eq!(exchange.page.status, 302);
    let next = exchange
        .location()
        .expect("a Location")
        .expect("a valid one");
    refused(
        "next exchange",
        fetcher.exchange(&next, Conditional::default()),
    )
    .await;
}

#[tokio::test]
async fn robots_of_a_refused_origin_or_hop_disallow_all() {
    gannet_testkit::isolated!(robots_of_a_refused_origin_or_hop_disallow_all);
    let first = SiteBuilder::new()
        .robots("User-agent: *\nDisallow: /private\n")
        .start()
        .await;
    let second = SiteBuilder::new()
        .robots("User-agent: *\nAllow: /\n")
        .start()
        .await;
    let fetcher = guarded_except(&first);
    // The exempt origin: its rules are read as usual.
    let robots = fetcher.fetch_robots(&first.url("/")).await;
    assert!(!robots.allowed(&first.url("/private")));
    assert!(robots.allowed(&first.url("/public")));

    // A refused origin: never contacted, nothing allowed.
    let robots = fetcher.fetch_robots(&second.url("/")).await;
    assert!(robots.is_disallow_all());
    let by_name = url(&format!("http://localhost:{}/", second.addr().port()));
    assert!(fetcher.fetch_robots(&by_name).await.is_disallow_all());
    assert!(
        fetcher
            .fetch_robots(&url("http://10.0.0.1/"))
            .await
            .is_disallow_all()
    );

    // robots.txt redirected to a refused address: the hop is refused, nothing allowed.
    let site = SiteBuilder::new().start().await;
    let location = second.url("/robots.txt");
    site.set_response(
        "/robots.txt",
        Response::new(301).header("Location", location.as_str()),
    );
    let robots = guarded_except(&site).fetch_robots(&site.url("/")).await;
    assert!(robots.is_disallow_all());
    assert_eq!(site.hits("/robots.txt"), 1);
    assert!(
        second.requests().is_empty(),
        "the refused origin was never contacted"
    );
}

#[tokio::test]
async fn refused_sitemaps_are_recorded_and_the_rest_used() {
    gannet_testkit::isolated!(refused_sitemaps_are_recorded_and_the_rest_used);
    let first = SiteBuilder::new()
        .response(
            "/ok.xml",
            Response::typed(
                "application/xml",
                "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                 <url><loc>http://example.com/p</loc></url></urlset>",
            ),
        )
        .response(
            "/moved.xml",
            Response::new(302).header("Location", "http://10.0.0.1/s.xml"),
        )
        .start()
        .await;
    let second = page_site().await;
    let fetcher = guarded_except(&first);
    let roots = [
        first.url("/moved.xml"),
        url(&format!("http://localhost:{}/s.xml", second.addr().port())),
        url("http://[::1]/s.xml"),
        first.url("/ok.xml"),
    ];
    let found = tokio::time::timeout(Duration::from_secs(5), fetcher.fetch_sitemaps(&roots, 10))
        .await
        .expect("refusals are quick");
    let urls: Vec<&str> = found.urls.iter().map(|u| u.loc.as_str()).collect();
    assert_eq!(urls, ["http://example.com/p"]);
    assert_eq!(found.errors.len(), 3, "{:?}", found.errors);
    for (root, error) in &found.errors {
        match error {
            SitemapFetchError::Fetch(e) => assert!(
                matches!(e.kind(), FetchErrorKind::ForbiddenAddress(_)),
                "{root}: {e}"
            ),
            other => panic!("{root}: {other}"),
        }
    }
    assert!(second.requests().is_empty());
}

#[tokio::test]
async fn the_default_fetches_private_addresses_as_before() {
    gannet_testkit::isolated!(the_default_fetches_private_addresses_as_before);
    let first = SiteBuilder::new().start().await;
    let second = page_site().await;
    let location = format!("http://localhost:{}/", second.addr().port());
    first.set_response("/away", Response::new(302).header("Location", &location));
    let fetcher = Fetcher::new(FetchConfig::default()).expect("build the fetcher");
    assert!(fetcher.config().allow_private);
    assert!(fetcher.check_url(&url("http://10.0.0.1/")).is_ok());
    let page = fetcher
        .fetch(&first.url("/away"))
        .await
        .expect("a redirect to localhost");
    assert_eq!(page.url, url(&location));
    let page = fetcher.fetch(&second.url("/")).await.expect("127.0.0.1");
    assert_eq!(page.status, 200);
    assert!(
        fetcher
            .fetch_robots(&second.url("/"))
            .await
            .allowed(&second.url("/x"))
    );
}

#[tokio::test]
async fn check_url_checks_the_scheme_too() {
    gannet_testkit::isolated!(check_url_checks_the_scheme_too);
    let fetcher = guarded(Vec::new());
    let error = fetcher.check_url(&url("ftp://10.0.0.1/")).expect_err("ftp");
    assert_eq!(
        error.kind(),
        &FetchErrorKind::UnsupportedScheme("ftp".into())
    );
    assert!(fetcher.check_url(&url("https://example.com/")).is_ok());
}

/// The variable that hands the target URL to the child process of
/// `proxies_from_the_environment_are_ignored`.
const CHILD_TARGET: &str = "GANNET_GUARD_TEST_TARGET";

#[tokio::test]
async fn proxies_from_the_environment_are_ignored() {
    // A proxy would resolve and dial the target itself, out of the guard's sight. The proxy
    // variables can only be set for a new process (set_var is unsafe), so this runs the
    // test below in a child, with HTTP_PROXY pointing at a site standing in for a proxy.
    let proxy = SiteBuilder::new().start().await;
    let target = page_site().await;
    let proxy_url = format!("http://{}", proxy.addr());
    let target_url = format!("http://localhost:{}/", target.addr().port());
    let exe = std::env::current_exe().expect("the test binary");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .args(["child_fetches_with_proxy_variables", "--exact", "--ignored"])
            .args(["--nocapture", "--test-threads=1"])
            .env("HTTP_PROXY", &proxy_url)
            .env("http_proxy", &proxy_url)
            .env("ALL_PROXY", &proxy_url)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .env(CHILD_TARGET, &target_url)
            .output()
    })
    .await
    .expect("join")
    .expect("run the child test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The unguarded control fetch went through the proxy; the guarded one went nowhere.
    assert_eq!(proxy.requests().len(), 1, "{:?}", proxy.requests());
    assert!(target.requests().is_empty(), "{:?}", target.requests());
}

#[tokio::test]
#[ignore = "run by proxies_from_the_environment_are_ignored, in a child process"]
async fn child_fetches_with_proxy_variables() {
    let Ok(target) = std::env::var(CHILD_TARGET) else {
        return;
    };
    let target = url(&target);
    // Control: without the guard, reqwest honours HTTP_PROXY, and the stand-in proxy has no
    // route for the absolute URL it is asked for: 404 instead of the target's page.
    let plain = Fetcher::new(FetchConfig::default()).expect("build the fetcher");
    let error = plain
        .fetch(&target)
        .await
        .expect_err("the proxy answers 404");
    assert_eq!(error.kind(), &FetchErrorKind::HttpStatus(404), "{error}");
    // With the guard, the proxy is not used, and the name is refused.
    let (_, refusal) = refused("through a proxy", guarded(Vec::new()).fetch(&target)).await;
    assert_eq!(refusal.host(), Some("localhost"));
}

#[tokio::test]
async fn the_guard_serves_a_client_of_ones_own() {
    let site = page_site().await;
    let by_name = format!("http://localhost:{}/", site.addr().port());
    let client = |guard: &AddressGuard| {
        reqwest::Client::builder()
            .dns_resolver(guard.resolver())
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("build the client")
    };
    let guard = AddressGuard::default();
    let error = client(&guard)
        .get(&by_name)
        .send()
        .await
        .expect_err("localhost is refused");
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    let mut refusal = None;
    while let Some(err) = source {
        refusal = refusal.or_else(|| err.downcast_ref::<Refusal>());
        source = err.source();
    }
    let refusal = refusal.unwrap_or_else(|| panic!("no Refusal in {error:?}"));
    assert_eq!(refusal.host(), Some("localhost"));
    assert!(guard.check_url(&site.url("/")).is_err());

    let exempt = AddressGuard::new(&[ExemptAddress::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST))]);
    let response = client(&exempt).get(&by_name).send().await.expect("exempt");
    assert_eq!(response.status(), 200);
    assert!(exempt.check_url(&site.url("/")).is_ok());
    assert_eq!(site.hits("/"), 1);

    // A fetcher hands out its guard.
    assert!(guarded(Vec::new()).address_guard().is_some());
    let plain = Fetcher::new(FetchConfig::default()).expect("build the fetcher");
    assert!(plain.address_guard().is_none());
}
