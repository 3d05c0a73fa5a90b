//! `gannet serve` over real HTTP: the server on a free loopback port, a loopback test site
//! as the web, reqwest as the client. Jobs are in `jobs.rs`; the anchors' own clients and
//! a real browser in `clients.rs`.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use gannet_server::{Server, ServerConfig};
use gannet_testkit::SiteBuilder;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_crawl_and_firecrawl_routes() {
    let site = site().await;
    let server = start(test_config("routes")).await;
    let c = client();

    let health: Value = get_json(&c, &server.url("/health")).await;
    assert_eq!(health["status"], "ok");

    let md: Value = post_json(
        &c,
        server.url("/md"),
        json!({"url": site.url("/article").as_str()}),
    )
    .await
    .1;
    assert_eq!(md["success"], true);
    let text = md["markdown"].as_str().unwrap();
    assert!(
        text.contains("Gannets are seabirds") && !text.contains("Site navigation"),
        "{text}"
    );
    let raw: Value = post_json(
        &c,
        server.url("/md"),
        json!({"url": site.url("/article").as_str(), "f": "raw"}),
    )
    .await
    .1;
    assert!(
        raw["markdown"]
            .as_str()
            .unwrap()
            .contains("Site navigation")
    );
    // `render`: never is the HTTP-only path (the SPA's script never runs), auto renders
    // the empty app shell, anything else is a 400.
    let spa = |render: &str| {
        c.post(server.url("/md"))
            .json(&json!({"url": site.url("/spa").as_str(), "render": render}))
            .send()
    };
    let never: Value = spa("never").await.unwrap().json().await.unwrap();
    assert!(
        !never["markdown"]
            .as_str()
            .unwrap()
            .contains("only a browser"),
        "{never}"
    );
    let auto: Value = spa("auto").await.unwrap().json().await.unwrap();
    assert!(
        auto["markdown"]
            .as_str()
            .unwrap()
            .contains("only a browser"),
        "{auto}"
    );
    assert_eq!(spa("sometimes").await.unwrap().status(), 400);

    let crawl: Value = post_json(
        &c,
        server.url("/crawl"),
        json!({
            "urls": [site.url("/article").as_str(), site.url("/missing").as_str()],
            "crawler_config": {"type": "CrawlerRunConfig", "params": {"css_selector": "main"}},
        }),
    )
    .await
    .1;
    assert_eq!(crawl["success"], true);
    assert_eq!(crawl["results"][0]["success"], true);
    assert_eq!(crawl["results"][1]["success"], false);
    assert_eq!(crawl["results"][1]["status_code"], 404);
    assert_eq!(
        crawl["unsupported_options"],
        json!(["crawler_config.css_selector"])
    );

    // The stream: one line per URL, then the completion line.
    let body = c
        .post(server.url("/crawl/stream"))
        .json(&json!({"urls": [site.url("/article").as_str(), site.url("/other").as_str()]}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{body}");
    assert_eq!(lines[2]["status"], "completed");

    let fc: Value = post_json(&c, server.url("/v1/scrape"), json!({"url": site.url("/article").as_str(), "formats": ["markdown", "links"], "actions": []})).await.1;
    assert_eq!(fc["success"], true);
    assert_eq!(fc["data"]["metadata"]["title"], "Gannets");
    assert!(fc["data"]["warning"].as_str().unwrap().contains("actions"));

    let metrics = metrics(&c, &server).await;
    assert!(
        metrics.contains("gannet_http_requests_total{route=\"/md\",status=\"200\"} 4")
            && metrics.contains("gannet_http_requests_total{route=\"/md\",status=\"400\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("gannet_http_request_duration_seconds_bucket{route=\"/crawl\""));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_json_with_the_right_status_and_a_request_id() {
    let server = start(test_config("errors")).await;
    let c = client();
    let r = c
        .post(server.url("/md"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("x-request-id").is_some());
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "bad_json");

    let r = c
        .post(server.url("/md"))
        .json(&json!({"url": "ftp://example.com/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let r = c
        .post(server.url("/crawl"))
        .json(&json!({"urls": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let r = c
        .get(server.url("/nope"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-request-id"], "abc-123");

    // /execute_js is off by default.
    let r = c
        .post(server.url("/execute_js"))
        .json(&json!({"url": "http://example.com/", "scripts": ["1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Bodies past the cap (last, on a client of its own: the server answers 413 without
    // reading the rest and closes that connection).
    let c = client();
    let big = "x".repeat(2 << 20);
    let r = c
        .post(server.url("/md"))
        .header("content-type", "application/json")
        .body(format!("{{\"url\": \"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_guard_every_route_but_health() {
    let token = "a-test-token-of-some-length";
    let server = start(ServerConfig {
        tokens: vec![token.into()],
        ..test_config("auth")
    })
    .await;
    let c = client();
    assert_eq!(
        c.get(server.url("/health")).send().await.unwrap().status(),
        200
    );
    let r = c.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(server.url("/metrics"))
        .bearer_auth("a-test-token-of-some-lengtX")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(server.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The dashboard's event stream (EventSource sends no headers) takes ?token=.
    let r = c
        .get(server.url("/dashboard/events?token=wrong"))
        .send()
        .await
        .expect("events");
    assert_eq!(r.status(), 401);
    let mut r = c
        .get(server.url(&format!("/dashboard/events?token={token}")))
        .send()
        .await
        .expect("events");
    assert_eq!(r.status(), 200);
    assert!(r.chunk().await.expect("a first event").is_some());
    drop(r);
    // No free tokens from /token when tokens are configured.
    let r = c
        .post(server.url("/token"))
        .json(&json!({"email": "a@b.c"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    server.stop().await;

    // A public address without a token is refused at start.
    let refused = Server::bind(ServerConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..ServerConfig::default()
    })
    .await;
    match refused {
        Err(gannet_server::Error::Config(e)) => {
            assert!(e.message().contains("without a token"), "{e}")
        }
        Err(other) => panic!("not a config error: {other}"),
        Ok(_) => panic!("a public address without a token was accepted"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_use_is_a_bind_error_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = taken.local_addr().expect("its address");
    let refused = Server::bind(ServerConfig {
        listen: addr,
        ..test_config("port-in-use")
    })
    .await;
    match refused {
        Err(e @ gannet_server::Error::Bind { .. }) => {
            assert!(e.to_string().contains(&addr.to_string()), "{e}");
            let io = std::error::Error::source(&e)
                .and_then(|s| s.downcast_ref::<std::io::Error>())
                .expect("the io error as the source");
            assert_eq!(io.kind(), std::io::ErrorKind::AddrInUse, "{io}");
        }
        Err(other) => panic!("not a bind error: {other}"),
        Ok(_) => panic!("bound a port that is in use"),
    }
    // A data directory that cannot be created is a store error, not a config error.
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-store-is-a-file");
    std::fs::write(&file, "not a directory").expect("a file");
    let refused = Server::bind(ServerConfig {
        data_dir: Some(file.join("data")),
        ..test_config("store-error")
    })
    .await;
    assert!(
        matches!(refused, Err(gannet_server::Error::Store(_))),
        "{:?}",
        refused.err()
    );
}

/// Runs in a fresh network namespace (loopback only): it names addresses outside
/// loopback, and a regression in the guard must not send packets off the machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_by_default() {
    gannet_testkit::isolated!(private_addresses_are_refused_by_default);
    let site = site().await;
    let server = start(ServerConfig {
        allow_private: false,
        execute_js: true,
        ..test_config("ssrf")
    })
    .await;
    let c = client();
    for (url, class) in [
        (site.url("/article").to_string(), "loopback"),
        ("http://localhost:9/".into(), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data/".into(),
            "cloud-metadata",
        ),
        ("http://169.254.1.1/".into(), "link-local"),
        ("http://[::1]:9/".into(), "loopback"),
        ("http://10.0.0.1/".into(), "private"),
        ("http://100.64.0.1/".into(), "shared-address-space"),
    ] {
        let started = Instant::now();
        let r = c
            .post(server.url("/md"))
            .json(&json!({"url": url}))
            .send()
            .await
            .unwrap();
        // The guard's refusal is the client's problem to fix, not the site's failure.
        assert_eq!(r.status(), 403, "{url}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], "forbidden_address", "{e}");
        assert_eq!(e["error"]["address_class"], class, "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains("refused"),
            "{e}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "refused before any connection"
        );
    }
    // Every dialect answers the same: crawl4ai's, Firecrawl's and our own routes, pages
    // and jobs alike.
    let private = "http://10.0.0.1/";
    for (path, body) in [
        ("/html", json!({"url": private})),
        ("/screenshot", json!({"url": private})),
        ("/execute_js", json!({"url": private, "scripts": ["1"]})),
        // A public address first: the request fails as a whole before any fetch.
        (
            "/crawl",
            json!({"urls": ["http://93.184.216.34/", private]}),
        ),
        ("/crawl/stream", json!({"urls": [private]})),
        ("/crawl/job", json!({"urls": [private]})),
        ("/v1/scrape", json!({"url": private})),
        (
            "/v2/scrape",
            json!({"url": private, "formats": ["screenshot"]}),
        ),
        ("/v1/crawl", json!({"url": private})),
        ("/v2/map", json!({"url": private})),
        ("/jobs", json!({"urls": [private]})),
        ("/jobs", json!({"crawl": {"url": private}})),
    ] {
        let (status, e) = post_json(&c, server.url(path), body).await;
        assert_eq!(status, 403, "{path}: {e}");
        assert_eq!(e["error"]["code"], "forbidden_address", "{path}: {e}");
        assert_eq!(e["error"]["address_class"], "private", "{path}: {e}");
    }
    assert_eq!(site.hits("/article"), 0);
    server.stop().await;
}

/// Names that resolve to refused addresses (an `/etc/hosts` of the test's own, in a fresh
/// network and mount namespace): refused by fetch's resolver over HTTP, and by the page
/// service's own look-up before a render (the browser's egress proxy could only fail the
/// navigation) — both as 403 forbidden_address, without a browser or a connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_resolving_to_refused_addresses_are_forbidden() {
    gannet_testkit::isolated!(
        names_resolving_to_refused_addresses_are_forbidden,
        hosts = "10.0.0.7 intranet.test\n169.254.169.254 metadata.test"
    );
    let server = start(ServerConfig {
        allow_private: false,
        ..test_config("ssrf-names")
    })
    .await;
    let c = client();
    for (path, url, class) in [
        ("/md", "http://intranet.test/", "private"),
        (
            "/v1/scrape",
            "http://metadata.test/latest/",
            "cloud-metadata",
        ),
        ("/screenshot", "http://intranet.test/", "private"),
        ("/pdf", "http://metadata.test/", "cloud-metadata"),
    ] {
        let (status, e) = post_json(&c, server.url(path), json!({"url": url})).await;
        assert_eq!(status, 403, "{path} {url}: {e}");
        assert_eq!(e["error"]["code"], "forbidden_address", "{e}");
        assert_eq!(e["error"]["address_class"], class, "{e}");
        let message = e["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("resolves to"), "{message}");
    }
    // No browser was started for the refused renders.
    assert!(
        !metrics(&c, &server).await.contains("gannet_browsers{"),
        "the pool stayed unstarted"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_gets_503_with_retry_after() {
    let site = site().await;
    let server = start(ServerConfig {
        max_pages_in_flight: 1,
        max_pages_waiting: 0,
        ..test_config("shed")
    })
    .await;
    let c = client();
    let slow = site.url("/slow").to_string();
    let first = tokio::spawn({
        let (c, url, md) = (c.clone(), slow.clone(), server.url("/md"));
        async move {
            c.post(md)
                .json(&json!({"url": url}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Another URL (the same one would share the first request's fetch).
    let r = c
        .post(server.url("/md"))
        .json(&json!({"url": format!("{slow}?another")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    assert_eq!(first.await.unwrap(), 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_past_their_rate_get_429_with_retry_after() {
    let server = start(ServerConfig {
        rate_limit_per_minute: Some(60),
        rate_limit_burst: 2,
        ..test_config("rate")
    })
    .await;
    let c = client();
    for _ in 0..2 {
        assert_eq!(
            c.get(server.url("/metrics"))
                .send()
                .await
                .expect("metrics")
                .status(),
            200
        );
    }
    let r = c.get(server.url("/metrics")).send().await.expect("metrics");
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    // Health checks are never limited.
    assert_eq!(
        c.get(server.url("/health"))
            .send()
            .await
            .expect("health")
            .status(),
        200
    );
    server.stop().await;
}

/// `/openapi.json` is built from the route table: every operation it lists is answered by
/// a real route (never the fallback's `not_found`), request schemas come from the handlers'
/// types, and the document needs no token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_every_route_and_each_answers() {
    let server = start(ServerConfig {
        tokens: vec!["a-long-enough-secret-token".into()],
        ..test_config("openapi")
    })
    .await;
    let c = client();
    let spec: Value = get_json(&c, &server.url("/openapi.json")).await;
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().expect("paths");
    for must in [
        "/md",
        "/crawl",
        "/v1/scrape",
        "/v2/crawl/{id}",
        "/jobs/{id}/results",
        "/openapi.json",
    ] {
        assert!(paths.contains_key(must), "{must} missing");
    }
    let md = &paths["/md"]["post"];
    assert_eq!(md["x-route-class"], "page");
    let schema_ref = md["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .expect("a $ref to the request schema");
    let name = schema_ref.rsplit('/').next().unwrap();
    let schema = &spec["components"]["schemas"][name];
    assert!(schema["properties"]["url"].is_object(), "{schema}");
    assert_eq!(schema["required"], json!(["url"]));
    assert!(
        spec["components"]["schemas"]["ErrorBody"]["properties"]["error"].is_object(),
        "the error schema"
    );
    let results = &paths["/jobs/{id}/results"]["get"]["parameters"];
    let names: Vec<&str> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["id", "cursor", "limit"]);
    // Every operation exists: with the token and an empty body each gets an answer of
    // its own (400 bad JSON, 404 no such job, 403 off, ...), never the fallback.
    let mut operations = 0;
    for (path, methods) in paths {
        for method in methods.as_object().unwrap().keys() {
            if path == "/dashboard/events" {
                continue; // endless stream
            }
            operations += 1;
            let url = server.url(&path.replace("{id}", "no-such-job"));
            let req = match method.as_str() {
                "get" => c.get(&url),
                "delete" => c.delete(&url),
                _ => c
                    .post(&url)
                    .header("content-type", "application/json")
                    .body("{}"),
            };
            let r = req
                .bearer_auth("a-long-enough-secret-token")
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            assert!(
                !body.contains("\"not_found\"") && status != 405,
                "{method} {path}: {status} {body}"
            );
        }
    }
    assert!(operations >= 30, "{operations} operations");
    server.stop().await;
}

/// A route class at its limit queues, then refuses with 503 + Retry-After, while other
/// classes go on; the class gauges are in /metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_classes_have_their_own_limits() {
    let site = site().await;
    let server = start(ServerConfig {
        limits: gannet_server::RouteLimits {
            page: 1,
            queue_factor: 1,
            ..gannet_server::RouteLimits::default()
        },
        queue_timeout: Duration::from_secs(5),
        ..test_config("classes")
    })
    .await;
    let c = client();
    let slow = site.url("/slow").to_string();
    let post = |url: String| {
        let (c, md) = (c.clone(), server.url("/md"));
        tokio::spawn(async move {
            c.post(md)
                .json(&json!({"url": url}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    let first = post(slow.clone());
    tokio::time::sleep(Duration::from_millis(150)).await;
    let second = post(slow.clone()); // waits for the first
    tokio::time::sleep(Duration::from_millis(150)).await;
    let r = c
        .post(server.url("/md"))
        .json(&json!({"url": slow}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "the third is beyond the queue");
    assert!(r.headers().contains_key("retry-after"));
    // Another class is not held up.
    let health = c.get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let jobs = c
        .get(server.url("/jobs/none/results"))
        .send()
        .await
        .unwrap();
    assert_eq!(jobs.status(), 404);
    assert_eq!(first.await.unwrap(), 200);
    assert_eq!(second.await.unwrap(), 200);
    let metrics = metrics(&c, &server).await;
    assert!(
        metrics.contains("gannet_route_class_rejected_total{class=\"page\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("gannet_route_class_limit{class=\"page\"} 1"));
    assert!(metrics.contains("gannet_page_stage_seconds_count{stage=\"fetch\"}"));
    assert!(metrics.contains("gannet_page_stage_seconds_count{stage=\"extract\"}"));
    server.stop().await;
}

/// Identical page requests in flight together share one fetch (the site sees one
/// request); each client still gets the whole answer, and a request after the burst
/// fetches anew (nothing is cached).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_requests_in_flight_share_one_fetch() {
    let site = site().await;
    let server = start(test_config("coalesce")).await;
    let c = client();
    let slow = site.url("/slow").to_string();
    let burst: Vec<_> = (0..8)
        .map(|_| {
            let (c, md, url) = (c.clone(), server.url("/md"), slow.clone());
            tokio::spawn(async move { post_json(&c, md, json!({"url": url})).await })
        })
        .collect();
    for task in burst {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(
            body["markdown"].as_str().unwrap().contains("slow"),
            "{body}"
        );
    }
    assert_eq!(site.hits("/slow"), 1, "one fetch for the burst");
    // Different options are a different page.
    let raw = c
        .post(server.url("/md"))
        .json(&json!({"url": slow, "f": "raw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    assert_eq!(site.hits("/slow"), 2, "after the burst: fetched anew");
    let metrics = metrics(&c, &server).await;
    assert!(
        metrics.contains("gannet_page_requests_coalesced_total 7"),
        "{metrics}"
    );
    assert!(metrics.contains("gannet_page_flights 0"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smart_mode_keeps_the_http_version_when_the_browser_is_busy() {
    let site = site().await;
    let mut cfg = test_config("smart-busy");
    cfg.browser.max_concurrent = 1;
    cfg.smart_render_wait = Duration::from_millis(300);
    let server = start(cfg).await;
    let c = client();
    let md = |url: String, render: &'static str| {
        let (c, md) = (c.clone(), server.url("/md"));
        async move { post_json(&c, md, json!({"url": url, "render": render})).await }
    };
    // One render holds the only browser slot for ~4 s.
    let hog = tokio::spawn(md(site.url("/slower").to_string(), "always"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The app shell needs a render; the slot does not free within 300 ms, so the answer
    // is the HTTP version, at once, saying why, instead of a 503 or a 4 s wait.
    let started = Instant::now();
    let (status, body) = md(site.url("/spa").to_string(), "auto").await;
    assert_eq!(status, 200, "{body}");
    assert!(started.elapsed() < Duration::from_secs(3), "{body}");
    assert!(
        !body["markdown"]
            .as_str()
            .unwrap()
            .contains("only a browser"),
        "{body}"
    );
    assert!(
        body["render_skipped"]
            .as_str()
            .is_some_and(|why| why.contains("busy")),
        "{body}"
    );
    let (status, body) = hog.await.unwrap();
    assert_eq!(status, 200, "{body}");
    // With the browser free, the same request is rendered and says nothing was skipped.
    let (status, body) = md(site.url("/spa").to_string(), "auto").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["markdown"]
            .as_str()
            .unwrap()
            .contains("only a browser"),
        "{body}"
    );
    assert!(body.get("render_skipped").is_none(), "{body}");
    let metrics = metrics(&c, &server).await;
    assert!(
        metrics.contains("gannet_smart_renders_skipped_total 1"),
        "{metrics}"
    );
    server.stop().await;
}

/// crawl4ai's BM25 filter: `/md` with `f: bm25` and `q`, and a `BM25ContentFilter` in the
/// crawler config's Markdown generator, give the blocks of the page that bear on the query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bm25_filter_keeps_what_bears_on_the_query() {
    let page = r#"<!doctype html><html><head><title>Seabirds</title></head><body>
<nav><a href="/">Home</a> <a href="/shop">Shop</a></nav>
<article><h1>Seabirds</h1>
<h2>Gannets</h2>
<p>Gannets hunt fish by diving from a height into the sea and pursuing their prey underwater.</p>
<h2>Puffins</h2>
<p>Puffins nest in burrows on grassy cliff tops and carry many small fish crosswise in their bills.</p>
<h2>Albatrosses</h2>
<p>Albatrosses glide for hours over the southern ocean without a single beat of their long wings.</p>
</article><footer>Footer text and copyright</footer></body></html>"#;
    let site = SiteBuilder::new().page("/birds", page).start().await;
    let server = start(test_config("bm25")).await;
    let c = client();
    let md = |body: Value| {
        let (c, url) = (c.clone(), server.url("/md"));
        async move { post_json(&c, url, body).await }
    };
    let url = site.url("/birds").to_string();
    let (status, body) = md(json!({"url": url, "f": "bm25", "q": "burrows puffins nest"})).await;
    assert_eq!(status, 200, "{body}");
    let text = body["markdown"].as_str().unwrap();
    assert!(
        text.contains("## Puffins") && text.contains("burrows"),
        "{text}"
    );
    assert!(
        !text.contains("Gannets hunt") && !text.contains("Albatrosses glide"),
        "{text}"
    );
    assert!(!text.contains("Footer") && !text.contains("Shop"), "{text}");
    assert_eq!(body["query"], "burrows puffins nest");
    let (status, body) = md(json!({"url": url, "f": "llm", "q": "x"})).await;
    assert_eq!(status, 400, "{body}");

    // The crawler config's content filter, as crawl4ai's client serializes it.
    let generator = |filter: &str| {
        json!({"type": "DefaultMarkdownGenerator", "params": {"content_filter": {
            "type": filter,
            "params": {"user_query": "gliding over the southern ocean", "bm25_threshold": 1.0},
        }}})
    };
    let crawl_with = |filter: &str| {
        let body = json!({
            "urls": [url],
            "crawler_config": {"type": "CrawlerRunConfig", "params": {
                "markdown_generator": generator(filter),
            }},
        });
        let (c, endpoint) = (c.clone(), server.url("/crawl"));
        async move { post_json(&c, endpoint, body).await.1 }
    };
    let crawl = crawl_with("BM25ContentFilter").await;
    let result = &crawl["results"][0];
    let fit = result["markdown"]["fit_markdown"].as_str().unwrap();
    assert!(fit.contains("Albatrosses glide"), "{crawl}");
    assert!(!fit.contains("Puffins nest"), "{crawl}");
    // The raw Markdown is still the whole page.
    assert!(
        result["markdown"]["raw_markdown"]
            .as_str()
            .unwrap()
            .contains("Puffins nest")
    );
    assert_eq!(crawl["unsupported_options"], json!([]), "{crawl}");
    let crawl = crawl_with("LLMContentFilter").await;
    assert_eq!(
        crawl["unsupported_options"],
        json!(["crawler_config.markdown_generator.content_filter=LLMContentFilter"])
    );
    server.stop().await;
}

/// With extractions limited to one at a time, a burst of distinct pages is served in
/// turn: every request answers, none waits forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limited_extraction_gate_serves_a_burst_in_turn() {
    let site = site().await;
    let mut cfg = test_config("gate");
    cfg.extract_concurrency = 1;
    let server = start(cfg).await;
    let c = client();
    let burst: Vec<_> = (0..16)
        .map(|i| {
            let (c, md) = (c.clone(), server.url("/md"));
            let url = format!("{}?n={i}", site.url("/article"));
            tokio::spawn(
                async move { post_json(&c, md, json!({"url": url, "render": "never"})).await },
            )
        })
        .collect();
    for task in burst {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(
            body["markdown"]
                .as_str()
                .unwrap()
                .contains("Gannets are seabirds"),
            "{body}"
        );
    }
    server.stop().await;
}
