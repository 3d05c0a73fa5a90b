//! Jobs over real HTTP: batches paged by cursor, Firecrawl crawl jobs on the crawl engine,
//! and jobs that checkpoint at shutdown and resume at the next start.

mod common;

use std::time::{Duration, Instant};

use common::*;
use gannet_testkit::{Response, SiteBuilder};
use serde_json::{Value, json};

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

/// A batch request larger than axum's default body limit (2 MB) is taken when the server's
/// `max_body_bytes` allows it (the JSON is read twice, for its value and its text, and both
/// reads keep the server's limit); past `max_body_bytes` it is a 413 in the API's shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_60000_urls_is_taken_up_to_the_servers_body_limit() {
    let site = site().await;
    let mut cfg = test_config("big-batch");
    cfg.max_body_bytes = 3 << 20;
    cfg.max_job_urls = 100_000;
    let server = start(cfg).await;
    let c = client();
    let urls: Vec<String> = (0..60_000)
        .map(|i| format!("{}?page={i}", site.url("/other")))
        .collect();
    let body = json!({ "urls": urls });
    assert!(body.to_string().len() > 2 << 20, "the body must pass 2 MB");
    let (status, created) = post_json(&c, server.url("/jobs"), body).await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().expect("an id").to_string();
    let job = get_json(&c, &server.url(&format!("/jobs/{id}"))).await;
    assert_eq!(job["total"], 60_000, "{job}");
    let r = c
        .delete(server.url(&format!("/jobs/{id}")))
        .send()
        .await
        .expect("DELETE");
    assert!(r.status().is_success(), "{}", r.status());

    let urls: Vec<String> = (0..80_000)
        .map(|i| format!("{}?page={i}", site.url("/other")))
        .collect();
    let c = client();
    let (status, answer) = post_json(&c, server.url("/jobs"), json!({ "urls": urls })).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (413, &json!("body_too_large"))
    );
    server.stop().await;
}
