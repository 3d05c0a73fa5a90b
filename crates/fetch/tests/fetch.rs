//! The fetcher against the loopback fixture site: good pages, charsets, compression,
//! redirects, and every hostile route, each asserting the exact error kind.

use gannet_fetch::{
    ACCEPT, ContentGate, FetchConfig, FetchError, FetchErrorKind, FetchedPage, Fetcher,
    TimeoutPhase,
};
use gannet_testkit::{self as kit, FixtureSite};
use std::time::Duration;

fn fetcher() -> Fetcher {
    Fetcher::new(FetchConfig::default()).expect("build the fetcher")
}

fn fetcher_with(change: impl FnOnce(&mut FetchConfig)) -> Fetcher {
    let mut config = FetchConfig::default();
    change(&mut config);
    Fetcher::new(config).expect("build the fetcher")
}

async fn ok(fetcher: &Fetcher, site: &FixtureSite, path: &str) -> FetchedPage {
    let url = site.url(path);
    match fetcher.fetch(&url).await {
        Ok(page) => page,
        Err(error) => panic!("fetching {path} failed: {error}"),
    }
}

async fn err(fetcher: &Fetcher, site: &FixtureSite, path: &str) -> FetchError {
    let url = site.url(path);
    match fetcher.fetch(&url).await {
        Ok(page) => panic!("fetching {path} succeeded with status {}", page.status),
        Err(error) => error,
    }
}

fn text(page: &FetchedPage) -> String {
    String::from_utf8_lossy(&page.body).into_owned()
}

#[tokio::test]
async fn fetches_a_page() {
    let site = FixtureSite::start().await;
    let page = ok(&fetcher(), &site, "/article/1").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.url, site.url("/article/1"));
    assert_eq!(page.content_type.as_deref(), Some("text/html"));
    assert_eq!(page.charset.as_deref(), Some("utf-8"));
    assert!(page.redirects.is_empty());
    assert!(text(&page).contains(kit::ARTICLE_PHRASE));
    assert!(
        page.headers
            .iter()
            .any(|(n, v)| n == "content-type" && v.starts_with("text/html"))
    );
}

#[tokio::test]
async fn sends_user_agent_accept_and_accept_encoding() {
    let site = FixtureSite::start().await;
    let page = ok(&fetcher(), &site, "/echo-headers").await;
    let echoed = text(&page);
    let header = |name: &str| {
        echoed
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert_eq!(header("user-agent"), gannet_fetch::default_user_agent());
    assert!(header("user-agent").starts_with("gannet/"));
    assert_eq!(header("accept"), ACCEPT);
    for coding in ["gzip", "br", "zstd", "deflate"] {
        assert!(header("accept-encoding").contains(coding), "{echoed}");
    }
    assert_eq!(header("from"), "");
}

#[tokio::test]
async fn clones_share_the_client_concurrently() {
    let site = FixtureSite::start().await;
    let fetcher = fetcher();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let fetcher = fetcher.clone();
            let url = site.url(if i % 2 == 0 {
                "/article/1"
            } else {
                "/article/2"
            });
            tokio::spawn(async move { fetcher.fetch(&url).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().status, 200);
    }
}

#[tokio::test]
async fn charset_pages_arrive_byte_exact() {
    let site = FixtureSite::start().await;
    let fetcher = fetcher();
    for page in kit::CHARSET_PAGES {
        let encoding = encoding_rs::Encoding::for_label(page.label.as_bytes()).unwrap();

        let fetched = ok(&fetcher, &site, &page.header_path()).await;
        assert_eq!(
            fetched.charset.as_deref(),
            Some(page.label),
            "{}",
            page.slug
        );
        let (decoded, _, errors) = encoding.decode(&fetched.body);
        assert!(!errors && decoded.contains(page.text), "{}", page.slug);

        let fetched = ok(&fetcher, &site, &page.meta_path()).await;
        assert_eq!(fetched.charset, None, "{}", page.slug);
        let (decoded, _, errors) = encoding.decode(&fetched.body);
        assert!(!errors && decoded.contains(page.text), "{}", page.slug);
    }
}

#[tokio::test]
async fn decompresses_every_content_encoding() {
    let site = FixtureSite::start().await;
    let fetcher = fetcher();
    for coding in ["gzip", "br", "zstd", "deflate"] {
        let page = ok(&fetcher, &site, &format!("/compressed/{coding}")).await;
        assert!(text(&page).contains(kit::COMPRESSED_PHRASE), "{coding}");
    }
}

#[tokio::test]
async fn follows_a_redirect_chain() {
    let site = FixtureSite::start().await;
    let page = ok(&fetcher(), &site, "/redirect/3").await;
    assert_eq!(page.url, site.url("/redirect/0"));
    let chain: Vec<_> = ["/redirect/2", "/redirect/1", "/redirect/0"]
        .iter()
        .map(|p| site.url(p))
        .collect();
    assert_eq!(page.redirects, chain);
    assert!(text(&page).contains(kit::REDIRECT_TARGET_PHRASE));
}

#[tokio::test]
async fn follows_a_relative_location() {
    let site = FixtureSite::start().await;
    let page = ok(&fetcher(), &site, "/rel/start").await;
    assert_eq!(page.url, site.url("/rel/target"));
    assert_eq!(page.redirects, vec![site.url("/rel/target")]);
}

#[tokio::test]
async fn detects_a_redirect_loop() {
    let site = FixtureSite::start().await;
    let error = err(&fetcher(), &site, "/loop/a").await;
    assert_eq!(
        error.kind(),
        &FetchErrorKind::RedirectLoop(site.url("/loop/a"))
    );
    assert_eq!(error.url(), Some(&site.url("/loop/b")));
    assert!(error.to_string().contains("redirect loop"));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn caps_the_redirect_chain() {
    let site = FixtureSite::start().await;
    let error = err(&fetcher(), &site, "/redirect/15").await;
    assert_eq!(error.kind(), &FetchErrorKind::TooManyRedirects(10));
    // Exactly max_redirects hops pass.
    ok(&fetcher(), &site, "/redirect/10").await;
    let two = fetcher_with(|c| c.max_redirects = 2);
    assert_eq!(
        err(&two, &site, "/redirect/3").await.kind(),
        &FetchErrorKind::TooManyRedirects(2)
    );
}

#[tokio::test]
async fn refuses_non_http_schemes() {
    let site = FixtureSite::start().await;
    let error = err(&fetcher(), &site, "/redirect-to-ftp").await;
    assert_eq!(
        error.kind(),
        &FetchErrorKind::UnsupportedScheme("ftp".into())
    );
    let url = url::Url::parse("file:///etc/passwd").unwrap();
    let error = fetcher().fetch(&url).await.unwrap_err();
    assert_eq!(
        error.kind(),
        &FetchErrorKind::UnsupportedScheme("file".into())
    );
}

#[tokio::test]
async fn error_statuses_fail_with_their_code() {
    let site = FixtureSite::start().await;
    let fetcher = fetcher();
    for code in [404u16, 500, 503] {
        let error = err(&fetcher, &site, &format!("/status/{code}")).await;
        assert_eq!(error.kind(), &FetchErrorKind::HttpStatus(code));
        assert!(
            error.to_string().contains(&format!("HTTP {code}")),
            "{error}"
        );
        assert_eq!(error.is_retryable(), code != 404);
    }
    let error = err(&fetcher, &site, "/no-such-page").await;
    assert_eq!(
        error.to_string(),
        format!("{}: HTTP 404 Not Found", site.url("/no-such-page"))
    );
}

#[tokio::test]
async fn refused_connection() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let error = fetcher().fetch(&url).await.unwrap_err();
    assert_eq!(
        error.kind(),
        &FetchErrorKind::Connect("connection refused".into())
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn tls_to_a_plain_http_server_is_a_tls_error() {
    let site = FixtureSite::start().await;
    let url = url::Url::parse(&format!("https://{}/", site.addr())).unwrap();
    let error = fetcher().fetch(&url).await.unwrap_err();
    assert!(matches!(error.kind(), FetchErrorKind::Tls(_)), "{error}");
}

#[tokio::test]
async fn slow_headers_time_out() {
    let site = FixtureSite::start().await;
    let fetcher = fetcher_with(|c| c.timeout = Duration::from_millis(500));
    let error = err(&fetcher, &site, "/slow-headers").await;
    assert_eq!(
        error.kind(),
        &FetchErrorKind::Timeout(TimeoutPhase::Headers)
    );
    assert!(error.to_string().contains("timed out"));
}

#[tokio::test]
async fn stalled_body_times_out() {
    let site = FixtureSite::start().await;
    let fetcher = fetcher_with(|c| c.timeout = Duration::from_millis(500));
    let error = err(&fetcher, &site, "/stall").await;
    assert_eq!(error.kind(), &FetchErrorKind::Timeout(TimeoutPhase::Body));
}

#[tokio::test]
async fn endless_body_times_out_when_the_cap_is_high() {
    let site = FixtureSite::start().await;
    let fetcher = fetcher_with(|c| {
        c.timeout = Duration::from_millis(500);
        c.max_body_bytes = u64::MAX;
    });
    let error = err(&fetcher, &site, "/endless").await;
    // Either the deadline passes, or (on a very fast machine) memory would grow: the
    // deadline must win well before that.
    assert_eq!(error.kind(), &FetchErrorKind::Timeout(TimeoutPhase::Body));
}

#[tokio::test]
async fn slow_body_arrives_whole() {
    let site = FixtureSite::start().await;
    let page = ok(&fetcher(), &site, "/slow-body").await;
    assert!(text(&page).contains(kit::SLOW_BODY_PHRASE));
}

#[tokio::test]
async fn huge_body_is_too_large() {
    let site = FixtureSite::start().await;
    let error = err(&fetcher(), &site, "/huge").await;
    assert_eq!(
        error.kind(),
        &FetchErrorKind::BodyTooLarge {
            limit: 10 * 1024 * 1024
        }
    );
    assert!(error.to_string().contains("too large"));
    let big = fetcher_with(|c| c.max_body_bytes = 32 * 1024 * 1024);
    let page = ok(&big, &site, "/huge").await;
    assert_eq!(page.body.len() as u64, kit::HUGE_BYTES);
}

#[tokio::test]
async fn endless_body_stops_at_the_cap() {
    let site = FixtureSite::start().await;
    let fetcher = fetcher_with(|c| c.max_body_bytes = 1024 * 1024);
    let error = err(&fetcher, &site, "/endless").await;
    assert_eq!(
        error.kind(),
        &FetchErrorKind::BodyTooLarge { limit: 1024 * 1024 }
    );
}

#[tokio::test]
async fn gzip_bomb_stops_at_the_decoded_cap() {
    let site = FixtureSite::start().await;
    let error = err(&fetcher(), &site, "/gzip-bomb").await;
    assert_eq!(
        error.kind(),
        &FetchErrorKind::BodyTooLarge {
            limit: 10 * 1024 * 1024
        }
    );
}

#[tokio::test]
async fn non_html_types_are_refused() {
    let site = FixtureSite::start().await;
    let fetcher = fetcher();
    for (path, essence) in [
        ("/image.png", "image/png"),
        ("/data.json", "application/json"),
        ("/file.pdf", "application/pdf"),
    ] {
        let error = err(&fetcher, &site, path).await;
        assert_eq!(
            error.kind(),
            &FetchErrorKind::UnsupportedContentType(essence.into())
        );
        assert!(error.to_string().contains("unsupported content type"));
    }
    let error = err(&fetcher, &site, "/no-content-type-binary").await;
    assert!(
        matches!(error.kind(), FetchErrorKind::UnsupportedContentType(_)),
        "{error}"
    );
}

#[tokio::test]
async fn document_types_pass() {
    let site = FixtureSite::start().await;
    let fetcher = fetcher();
    let page = ok(&fetcher, &site, "/text.txt").await;
    assert_eq!(page.content_type.as_deref(), Some("text/plain"));
    assert_eq!(text(&page), kit::PLAIN_TEXT);
    let page = ok(&fetcher, &site, "/page.xhtml").await;
    assert_eq!(page.content_type.as_deref(), Some("application/xhtml+xml"));
    let page = ok(&fetcher, &site, "/no-content-type").await;
    assert_eq!(page.content_type, None);
    assert!(text(&page).contains(kit::NO_CONTENT_TYPE_PHRASE));
}

#[tokio::test]
async fn content_gate_is_configurable() {
    let site = FixtureSite::start().await;
    let any = fetcher_with(|c| c.accept_content = ContentGate::Any);
    let page = ok(&any, &site, "/image.png").await;
    assert!(page.body.starts_with(b"\x89PNG"));
    let json =
        fetcher_with(|c| c.accept_content = ContentGate::Only(vec!["application/json".into()]));
    ok(&json, &site, "/data.json").await;
    let error = err(&json, &site, "/").await;
    assert_eq!(
        error.kind(),
        &FetchErrorKind::UnsupportedContentType("text/html".into())
    );
}
