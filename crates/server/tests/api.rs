//! `gannet serve` over real HTTP: the server on a free loopback port, a loopback test site
//! as the web, reqwest as the client — and the anchors' own Python clients (crawl4ai,
//! firecrawl-py, installed by `scripts/py-tools`) against the same server.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use gannet_server::{Server, ServerConfig};
use gannet_testkit::{Response, Site, SiteBuilder};
use serde_json::{Value, json};

const ARTICLE: &str = r#"<!doctype html><html lang="en"><head><title>Gannets</title></head><body>
<nav><a href="/">Home</a> <a href="/other">Other</a> Site navigation</nav>
<article><h1>Gannets</h1>
<p>Gannets are seabirds comprising the genus Morus in the family Sulidae, closely related to boobies. They hunt fish by diving from a height into the sea and pursuing their prey underwater.</p>
<p>Gannets have a number of adaptations which enable them to do this, such as air sacs in their face and chest under their skin which act like bubble wrap, cushioning the impact with the water.</p>
<p>See also the <a href="/other">other page</a> about their colonies and how they breed on cliffs.</p>
</article><footer>Footer text</footer></body></html>"#;

const SPA: &str = r#"<!doctype html><html><head><title>App</title></head><body><div id="root"></div><script>
document.getElementById('root').innerHTML =
  '<article><h1 id="late">App</h1><p>Rendered by a script, only a browser sees this text at all.</p></article>';
</script></body></html>"#;

async fn site() -> Site {
    SiteBuilder::new()
        .page("/article", ARTICLE)
        .page(
            "/other",
            "<html><head><title>Other</title></head><body><p>Colonies on cliffs.</p></body></html>",
        )
        .page("/spa", SPA)
        .response(
            "/slow",
            Response::html("<html><body><p>slow</p></body></html>")
                .delay(Duration::from_millis(800)),
        )
        .response(
            "/slower",
            Response::html("<html><body><p>slower</p></body></html>")
                .delay(Duration::from_millis(4000)),
        )
        .start()
        .await
}

struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(15), self.task).await;
    }
}

fn test_config(name: &str) -> ServerConfig {
    let mut cfg = ServerConfig {
        listen: "127.0.0.1:0".parse().expect("an address"),
        allow_private: true,
        access_log: false,
        ..ServerConfig::default()
    };
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("server-{name}"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("browser temp root");
    cfg.browser.temp_root = root.clone();
    cfg.data_dir = Some(root.join("data"));
    cfg.crawl_delay = Duration::ZERO;
    cfg
}

async fn start(cfg: ServerConfig) -> Running {
    let server = Server::bind(cfg).await.expect("bind the server");
    let addr = server.local_addr().expect("address");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        task,
    }
}

/// A GET's body as text.
async fn get_text(c: &reqwest::Client, url: &str) -> String {
    c.get(url)
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("a text body")
}

/// A POST of JSON: the status and the JSON answer.
async fn post_json(c: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let r = c.post(url).json(&body).send().await.expect("POST");
    let status = r.status().as_u16();
    (status, r.json().await.expect("a JSON answer"))
}

/// A GET's JSON answer.
async fn get_json(c: &reqwest::Client, url: &str) -> Value {
    c.get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("a JSON answer")
}

/// The server's `/metrics` text.
async fn metrics(c: &reqwest::Client, server: &Running) -> String {
    get_text(c, &server.url("/metrics")).await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

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

/// The anchors' clients, unchanged. Needs `scripts/py-tools` (run by `scripts/test`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl4ai_and_firecrawl_clients_work_unchanged() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py-tools/bin/python");
    assert!(
        python.exists(),
        "{} missing: run scripts/py-tools (scripts/test does)",
        python.display()
    );
    let site = site().await;
    let server = start(test_config("clients")).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients.py");
    let mut cmd = tokio::process::Command::new(&python);
    cmd.arg(&script)
        .arg(server.url(""))
        .arg(site.url("/").as_str().trim_end_matches('/'))
        .env("HOME", std::env::temp_dir())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(240), cmd.output())
        .await
        .expect("the clients finish within 240 s")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "clients failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("crawl4ai client: ok") && stdout.contains("firecrawl client: ok"),
        "{stdout}"
    );
    server.stop().await;
}

async fn poll_until_finished(c: &reqwest::Client, url: &str) -> Value {
    let started = Instant::now();
    loop {
        let job: Value = c
            .get(url)
            .send()
            .await
            .expect("poll the job")
            .json()
            .await
            .expect("job JSON");
        let status = job["status"].as_str().unwrap_or_default().to_string();
        if ["completed", "failed", "cancelled"].contains(&status.as_str()) {
            return job;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "job never finished: {job}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_jobs_page_their_results_by_cursor_and_survive_a_restart() {
    let site = site().await;
    let cfg = test_config("jobs");
    let server = start(cfg.clone()).await;
    let c = client();
    let urls: Vec<String> = (0..130)
        .map(|i| format!("{}?n={i}", site.url("/other")))
        .collect();
    let created: Value = post_json(&c, server.url("/jobs"), json!({"urls": urls}))
        .await
        .1;
    let id = created["id"].as_str().unwrap().to_string();
    let job = poll_until_finished(&c, &server.url(&format!("/jobs/{id}"))).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["done"], 130);

    // Keyset pages: every result once, pages capped.
    let mut cursor = 0;
    let mut seen = std::collections::BTreeSet::new();
    loop {
        let page: Value = get_json(
            &c,
            &server.url(&format!("/jobs/{id}/results?cursor={cursor}&limit=1000")),
        )
        .await;
        let results = page["results"].as_array().unwrap();
        assert!(results.len() <= 100);
        for r in results {
            assert!(
                seen.insert(r["url"].as_str().unwrap().to_string()),
                "twice: {}",
                r["url"]
            );
        }
        match page["next_cursor"].as_i64() {
            Some(n) => cursor = n,
            None => break,
        }
    }
    assert_eq!(seen.len(), 130);
    let ndjson = get_text(&c, &server.url(&format!("/jobs/{id}/results.ndjson"))).await;
    assert_eq!(ndjson.lines().count(), 130);

    // crawl4ai's job dialect.
    let task: Value = post_json(
        &c,
        server.url("/crawl/job"),
        json!({"urls": [site.url("/article").as_str()]}),
    )
    .await
    .1;
    let task_id = task["task_id"].as_str().unwrap().to_string();
    let done = poll_until_finished(&c, &server.url(&format!("/crawl/job/{task_id}"))).await;
    assert_eq!(done["result"]["results"][0]["success"], true, "{done}");

    // A restart keeps the jobs.
    server.stop().await;
    let server = start(cfg).await;
    let job: Value = get_json(&c, &server.url(&format!("/jobs/{id}"))).await;
    assert_eq!(job["done"], 130);
    let r = c
        .get(server.url("/jobs/0123456789abcdef0123456789abcdef"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .get(server.url("/jobs/..%2F..%2Fetc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firecrawl_crawl_jobs_run_the_engine_and_page_with_next() {
    let mut builder = SiteBuilder::new().robots("User-agent: *\nDisallow: /private\n");
    let mut links = String::new();
    for i in 0..12 {
        links.push_str(&format!("<a href=\"/p{i}\">page {i}</a> "));
        builder = builder.page(
            &format!("/p{i}"),
            format!("<html><head><title>P{i}</title></head><body><p>Page number {i} of the site.</p></body></html>"),
        );
    }
    let site = builder
        .page(
            "/",
            format!("<html><body><p>Home</p>{links}<a href=\"/private\">x</a></body></html>"),
        )
        .page("/private", "<html><body>secret</body></html>")
        .page(
            "/docs/",
            "<html><body><p>Docs home</p><a href=\"/docs/a\">a</a> <a href=\"/docs/b\">b</a> <a href=\"/p0\">outside</a></body></html>",
        )
        .page("/docs/a", "<html><body><p>Doc page a.</p></body></html>")
        .page("/docs/b", "<html><body><p>Doc page b.</p></body></html>")
        .start()
        .await;
    let server = start(test_config("fccrawl")).await;
    let c = client();
    let started: Value = post_json(&c, server.url("/v1/crawl"), json!({"url": site.url("/").as_str(), "limit": 10, "scrapeOptions": {"formats": ["markdown", "links"]}})).await.1;
    assert_eq!(started["success"], true);
    let status_url = started["url"].as_str().unwrap().to_string();
    let first = poll_until_finished(&c, &status_url).await;
    assert_eq!(first["status"], "completed", "{first}");
    assert_eq!(first["completed"], 10);
    let mut docs = first["data"].as_array().unwrap().clone();
    let mut next = first["next"].as_str().map(str::to_owned);
    while let Some(url) = next {
        let page: Value = get_json(&c, &url).await;
        docs.extend(page["data"].as_array().unwrap().iter().cloned());
        next = page["next"].as_str().map(str::to_owned);
    }
    assert_eq!(docs.len(), 10);
    assert!(
        docs.iter()
            .all(|d| d["metadata"]["statusCode"] == 200 && d["markdown"].is_string())
    );
    assert_eq!(site.hits("/private"), 0, "robots.txt applies to crawl jobs");

    // Firecrawl's scope: below the start URL unless told otherwise; what we cannot do is
    // named in `warning`.
    let p0_before = site.hits("/p0");
    let started: Value = post_json(
        &c,
        server.url("/v2/crawl"),
        json!({
            "url": site.url("/docs/").as_str(),
            "limit": 10,
            "webhook": "http://127.0.0.1:9/hook",
            "scrapeOptions": {"formats": ["markdown", "screenshot"], "onlyMainContent": false},
        }),
    )
    .await
    .1;
    let warning = started["warning"].as_str().unwrap_or_default();
    assert!(
        warning.contains("webhook")
            && warning.contains("scrapeOptions.formats screenshot")
            && warning.contains("scrapeOptions.onlyMainContent"),
        "{started}"
    );
    let docs_job = poll_until_finished(&c, started["url"].as_str().unwrap()).await;
    assert_eq!(docs_job["completed"], 3, "{docs_job}");
    assert_eq!(site.hits("/p0"), p0_before, "the crawl stayed under /docs/");
    let started: Value = post_json(
        &c,
        server.url("/v2/crawl"),
        json!({"url": site.url("/docs/").as_str(), "limit": 10, "crawlEntireDomain": true}),
    )
    .await
    .1;
    assert!(started.get("warning").is_none(), "{started}");
    let whole = poll_until_finished(&c, started["url"].as_str().unwrap()).await;
    assert!(whole["completed"].as_u64().unwrap() > 3, "{whole}");

    let map: Value = post_json(
        &c,
        server.url("/v1/map"),
        json!({"url": site.url("/").as_str()}),
    )
    .await
    .1;
    let links = map["links"].as_array().unwrap();
    assert!(links.len() >= 13, "{map}");
    server.stop().await;
}

/// The dashboard in real headless Chromium: the page loads and its numbers move.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_live_numbers_in_a_real_browser() {
    let site = site().await;
    let cfg = test_config("dashboard");
    let browser_root = cfg.browser.temp_root.join("viewer");
    std::fs::create_dir_all(&browser_root).expect("viewer root");
    let server = start(cfg).await;
    let c = client();
    // Some traffic: pages and an error.
    for _ in 0..3 {
        c.post(server.url("/md"))
            .json(&json!({"url": site.url("/article").as_str()}))
            .send()
            .await
            .expect("md");
    }
    c.get(server.url("/no-such-route"))
        .send()
        .await
        .expect("404");
    let viewer = gannet_browser::Pool::new(gannet_browser::PoolConfig {
        temp_root: browser_root,
        ..gannet_browser::PoolConfig::default()
    })
    .expect("a browser for the viewer");
    let mut req =
        gannet_browser::RenderRequest::new(server.url("/dashboard").parse().expect("url"));
    req.timeout = Duration::from_secs(20);
    req.wait =
        gannet_browser::WaitFor::Js("Number(document.body.dataset.updates || 0) >= 2".into());
    req.js = Some(
        "({requests: Number(document.getElementById('requests').textContent), \
          errors: document.getElementById('errors').textContent, \
          memory: document.getElementById('memory').textContent, \
          state: document.getElementById('state').textContent})"
            .into(),
    );
    let page = viewer.render(&req).await.expect("the dashboard renders");
    let v = page.js_result.expect("values read from the page");
    assert!(v["requests"].as_u64().unwrap_or(0) >= 4, "{v}");
    assert!(
        v["errors"].as_str().unwrap().contains("/no-such-route"),
        "{v}"
    );
    assert!(v["memory"].as_str().unwrap().contains("MB of"), "{v}");
    assert!(v["state"].as_str().unwrap().starts_with("live"), "{v}");
    // An open dashboard (a live event stream) does not hold up a graceful shutdown.
    let mut stream = c
        .get(server.url("/dashboard/events"))
        .send()
        .await
        .expect("events");
    assert!(stream.chunk().await.expect("a first event").is_some());
    let started = Instant::now();
    server.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    viewer.shutdown().await;
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

/// A shutdown checkpoints running jobs: batch and crawl jobs stop at once, keep what they
/// finished, and finish at the next start with every page exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_jobs_checkpoint_on_shutdown_and_resume_at_the_next_start() {
    let mut builder = SiteBuilder::new();
    let mut links = String::new();
    for i in 0..12 {
        links.push_str(&format!("<a href=\"/s{i}\">slow page {i}</a> "));
        builder = builder.response(
            &format!("/s{i}"),
            Response::html(format!(
                "<html><head><title>S{i}</title></head><body><p>Slow page number {i}.</p></body></html>"
            ))
            .delay(Duration::from_millis(500)),
        );
    }
    let site = builder
        .page("/", format!("<html><body><p>Home</p>{links}</body></html>"))
        .response(
            "/b",
            Response::html("<html><body><p>batch page</p></body></html>")
                .delay(Duration::from_millis(700)),
        )
        .start()
        .await;
    let cfg = test_config("checkpoint");
    let server = start(cfg.clone()).await;
    let c = client();
    let batch_urls: Vec<String> = (0..32)
        .map(|i| format!("{}?n={i}", site.url("/b")))
        .collect();
    let create = |body: Value| {
        let (c, url) = (c.clone(), server.url("/jobs"));
        async move {
            let v: Value = post_json(&c, url, body).await.1;
            v["id"].as_str().expect("a job id").to_string()
        }
    };
    let batch = create(json!({"urls": batch_urls})).await;
    let crawl = create(json!({"crawl": {"url": site.url("/").as_str(), "limit": 50}})).await;
    let job = |addr: String| {
        let c = c.clone();
        async move { get_json(&c, &addr).await }
    };
    // Stop while both are under way.
    let started = Instant::now();
    loop {
        let b = job(server.url(&format!("/jobs/{batch}"))).await;
        let k = job(server.url(&format!("/jobs/{crawl}"))).await;
        if b["done"].as_u64() >= Some(8) && k["done"].as_u64() >= Some(2) {
            assert_eq!(b["status"], "running", "{b}");
            assert_eq!(k["status"], "running", "{k}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{b} {k}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stopping = Instant::now();
    server.stop().await;
    // Not the ~2 s the rest of the batch would take, nor the crawl's remaining pages.
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        stopping.elapsed()
    );
    let batch_hits = site.hits("/b");
    assert!(
        batch_hits < 32,
        "the batch stopped early: {batch_hits} fetches"
    );

    let server = start(cfg).await;
    for (id, want) in [(&batch, 32), (&crawl, 13)] {
        let done = poll_until_finished(&c, &server.url(&format!("/jobs/{id}"))).await;
        assert_eq!(done["status"], "completed", "{done}");
        assert_eq!(done["done"], want, "{done}");
        let ndjson = get_text(&c, &server.url(&format!("/jobs/{id}/results.ndjson"))).await;
        let urls: Vec<String> = ndjson
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["url"].as_str().unwrap().to_string()
            })
            .collect();
        let unique: std::collections::BTreeSet<&String> = urls.iter().collect();
        assert_eq!(unique.len(), want, "every page once: {urls:?}");
        assert_eq!(urls.len(), want, "nothing twice: {urls:?}");
    }
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
