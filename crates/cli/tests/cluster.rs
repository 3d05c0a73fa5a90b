//! `gannet serve --redis` as a cluster, end to end with real processes: a `redis-server`
//! (testkit), `gannet serve` replicas on free loopback ports, testkit sites. A replica
//! killed with SIGKILL mid-job, a rolling restart (SIGTERM each replica in turn) and Redis
//! stopped and restarted mid-job: the job completes through the others, every page's
//! result stored exactly once, status and results readable through any replica.

use gannet_testkit::redis::{RedisServer as Redis, free_port};
use gannet_testkit::{Response, Site, SiteBuilder, TempDir};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../../llm/tests/llama/mod.rs"]
mod llama;

mod common;
use common::{Replica, expected, get_json, http, http_text, pause, site};

/// A job that has not completed after this long is a hang.
const JOB_LIMIT: Duration = Duration::from_secs(150);

/// The first server-sent event of `path` (an endless stream), as JSON.
fn first_event(port: u16, path: &str) -> Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let req = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    s.write_all(req.as_bytes()).expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).expect("read");
        assert!(n > 0, "the stream ended: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(data) = text.split("data: ").nth(1)
            && let Some((line, _)) = data.split_once('\n')
        {
            return serde_json::from_str(line).expect("an event's JSON");
        }
    }
}

/// Starts a crawl job of the site through replica `port`; its id.
fn start_crawl(port: u16, site: &Site, pages: usize) -> String {
    let body =
        json!({"crawl": {"url": site.origin().as_str(), "limit": pages + 50, "sitemaps": false}});
    let (status, _, text) = http(port, "POST", "/jobs", Some(&body)).expect("POST /jobs");
    assert_eq!(status, 202, "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    v["id"].as_str().expect("an id").to_string()
}

/// The job's `done` count read through `port` (None: not answering).
fn done(port: u16, id: &str) -> Option<i64> {
    let (status, v) = get_json(port, &format!("/jobs/{id}"))?;
    (status == 200).then(|| v["done"].as_i64().unwrap_or(0))
}

/// Waits until the job is completed, reading through the replicas in turn.
fn wait_completed(ports: &[u16], id: &str, logs: &dyn Fn() -> String) -> Value {
    let deadline = Instant::now() + JOB_LIMIT;
    let mut turn = 0;
    loop {
        let port = ports[turn % ports.len()];
        turn += 1;
        if let Some((200, v)) = get_json(port, &format!("/jobs/{id}")) {
            match v["status"].as_str() {
                Some("completed") => return v,
                Some("failed") | Some("cancelled") => panic!("job ended {v}: {}", logs()),
                _ => {}
            }
        }
        assert!(
            Instant::now() < deadline,
            "job {id} did not complete: {}",
            logs()
        );
        pause(Duration::from_millis(250));
    }
}

/// Every result's URL, paged through `port` (100 a page, keyset cursor).
fn result_urls(port: u16, id: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let mut cursor: Option<i64> = None;
    loop {
        let path = match cursor {
            Some(c) => format!("/jobs/{id}/results?cursor={c}"),
            None => format!("/jobs/{id}/results"),
        };
        let (status, v) = get_json(port, &path).expect("results");
        assert_eq!(status, 200, "{v}");
        for r in v["results"].as_array().expect("results array") {
            urls.push(r["url"].as_str().unwrap_or("").to_string());
        }
        match v["next_cursor"].as_i64() {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    urls
}

/// Every expected URL exactly once.
fn assert_exactly_once(mut urls: Vec<String>, expected: &[String]) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for u in &urls {
        *counts.entry(u.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "results stored twice: {twice:?}");
    urls.sort();
    assert_eq!(urls, expected, "every page's result once");
}

#[test]
fn a_replica_killed_mid_job_loses_nothing_and_any_replica_answers() {
    let redis = Redis::start();
    let dir = TempDir::new("kill");
    let pages = 30;
    let site = site(pages, Duration::from_millis(60));
    let mut a = Replica::start(&redis.url(), &dir, "a");
    let b = Replica::start(&redis.url(), &dir, "b");
    let id = start_crawl(a.port(), &site, pages);
    // A batch job too, through A: its lease moves to B.
    let batch_urls: Vec<String> = (0..12)
        .map(|i| site.url(&format!("/p{i}")).to_string())
        .collect();
    let (status, _, text) = http(
        a.port(),
        "POST",
        "/jobs",
        Some(&json!({"urls": batch_urls})),
    )
    .expect("batch");
    assert_eq!(status, 202, "{text}");
    let batch: Value = serde_json::from_str(&text).expect("json");
    let batch = batch["id"].as_str().expect("id").to_string();

    // Mid-job: some pages stored, not all.
    let deadline = Instant::now() + JOB_LIMIT;
    while done(b.port(), &id).unwrap_or(0) < 4 {
        assert!(
            Instant::now() < deadline,
            "no progress: {} {}",
            a.log(),
            b.log()
        );
        pause(Duration::from_millis(50));
    }
    let before = done(b.port(), &id).unwrap_or(0);
    a.kill9();
    assert!(
        before < pages as i64,
        "killed mid-job ({before} of {pages} done)"
    );

    let logs = || format!("A: {}\nB: {}", a.log(), b.log());
    let job = wait_completed(&[b.port()], &id, &logs);
    assert_eq!(job["done"].as_i64(), Some(pages as i64), "{job}");
    assert_exactly_once(result_urls(b.port(), &id), &expected(&site, pages));

    // Firecrawl's status route reads the same job through B.
    let (status, v) = get_json(b.port(), &format!("/v1/crawl/{id}")).expect("firecrawl status");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "completed", "{v}");

    let job = wait_completed(&[b.port()], &batch, &logs);
    assert_eq!(job["done"].as_i64(), Some(12), "{job}");
    let mut want: Vec<String> = (0..12)
        .map(|i| site.url(&format!("/p{i}")).to_string())
        .collect();
    want.sort();
    assert_exactly_once(result_urls(b.port(), &batch), &want);

    // The finished crawl's frontier expires with the job: no key of it without a TTL.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let keys = redis.cli(&["--scan", "--pattern", &format!("gf:{{{id}*")]);
        let forever: Vec<&str> = keys
            .lines()
            .filter(|k| redis.cli(&["TTL", k]).trim() == "-1")
            .collect();
        if !keys.trim().is_empty() && forever.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "frontier keys without a TTL: {forever:?}"
        );
        pause(Duration::from_millis(200));
    }
    // Per replica metrics plus the cluster's gauges.
    let (status, _, metrics) = http(b.port(), "GET", "/metrics", None).expect("metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("gannet_cluster_replicas_alive "),
        "{metrics}"
    );
    assert!(
        metrics.contains("gannet_cluster_jobs{status=\"running\"}"),
        "{metrics}"
    );

    // The dashboard's snapshot shows the replicas and the cluster's jobs.
    let snap = first_event(b.port(), "/dashboard/events");
    let replicas = snap["cluster"]["replicas"].as_array().expect("replicas");
    assert!(
        replicas
            .iter()
            .any(|r| r["address"] == format!("127.0.0.1:{}", b.port())),
        "{snap}"
    );
    assert!(
        replicas
            .iter()
            .all(|r| r["load"]["pages_in_flight"].is_number()),
        "{snap}"
    );
    assert!(
        snap["jobs"]
            .as_array()
            .is_some_and(|j| j.iter().any(|j| j["id"] == id.as_str())),
        "{snap}"
    );

    // The cluster view: B alone now (A's membership expired or was never renewed).
    let (status, health) = get_json(b.port(), "/health").expect("health");
    assert_eq!(status, 200);
    assert_eq!(health["cluster"]["redis"], "ok", "{health}");
    assert!(
        health["cluster"]["replicas"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{health}"
    );
}

#[test]
fn a_rolling_restart_during_a_job_loses_nothing_and_stores_nothing_twice() {
    let redis = Redis::start();
    let dir = TempDir::new("rolling");
    let pages = 30;
    let site = site(pages, Duration::from_millis(60));
    let mut a = Replica::start(&redis.url(), &dir, "a");
    let mut b = Replica::start(&redis.url(), &dir, "b");
    let id = start_crawl(a.port(), &site, pages);
    let deadline = Instant::now() + JOB_LIMIT;
    while done(a.port(), &id).unwrap_or(0) < 3 {
        assert!(Instant::now() < deadline, "no progress: {}", a.log());
        pause(Duration::from_millis(50));
    }
    // Replace A, then B, each drained with SIGTERM.
    a.term();
    let a2 = Replica::start(&redis.url(), &dir, "a2");
    while done(a2.port(), &id).unwrap_or(0) < 8 {
        assert!(Instant::now() < deadline, "no progress: {}", a2.log());
        pause(Duration::from_millis(50));
    }
    b.term();
    let b2 = Replica::start(&redis.url(), &dir, "b2");
    let mid = done(b2.port(), &id).unwrap_or(0);
    assert!(mid < pages as i64, "restarted mid-job ({mid} of {pages})");
    let logs = || {
        format!(
            "A: {}\nB: {}\nA2: {}\nB2: {}",
            a.log(),
            b.log(),
            a2.log(),
            b2.log()
        )
    };
    let job = wait_completed(&[a2.port(), b2.port()], &id, &logs);
    assert_eq!(job["done"].as_i64(), Some(pages as i64), "{job}");
    assert_exactly_once(result_urls(b2.port(), &id), &expected(&site, pages));
    for log in [a.log(), b.log()] {
        assert!(!log.contains("panicked"), "{log}");
    }

    // crawl4ai's job API across replicas: submitted to one, read through the other.
    let urls: Vec<String> = (0..3)
        .map(|i| site.url(&format!("/p{i}")).to_string())
        .collect();
    let (status, _, text) = http(
        a2.port(),
        "POST",
        "/crawl/job",
        Some(&json!({"urls": urls})),
    )
    .expect("/crawl/job");
    assert_eq!(status, 202, "{text}");
    let task: Value = serde_json::from_str(&text).expect("json");
    let task = task["task_id"].as_str().expect("task_id").to_string();
    let deadline = Instant::now() + JOB_LIMIT;
    loop {
        let (status, v) = get_json(b2.port(), &format!("/crawl/job/{task}")).expect("status");
        assert_eq!(status, 200, "{v}");
        if v["status"] == "completed" {
            let results = v["result"]["results"].as_array().expect("results");
            assert_eq!(results.len(), 3, "{v}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "crawl4ai job did not complete: {v}"
        );
        pause(Duration::from_millis(200));
    }
}

#[test]
fn redis_down_mid_job_gives_503_with_retry_after_then_the_job_completes() {
    let mut redis = Redis::with_args(&[
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let dir = TempDir::new("outage");
    let pages = 24;
    let site = site(pages, Duration::from_millis(60));
    let a = Replica::start(&redis.url(), &dir, "a");
    let b = Replica::start(&redis.url(), &dir, "b");
    let id = start_crawl(a.port(), &site, pages);
    let deadline = Instant::now() + JOB_LIMIT;
    while done(a.port(), &id).unwrap_or(0) < 3 {
        assert!(Instant::now() < deadline, "no progress: {}", a.log());
        pause(Duration::from_millis(50));
    }
    redis.kill();
    // Job routes: 503 + Retry-After; a single-page route still works.
    let (status, head, body) = http(b.port(), "GET", &format!("/jobs/{id}"), None).expect("answer");
    assert_eq!(status, 503, "{body}");
    assert!(head.to_ascii_lowercase().contains("retry-after:"), "{head}");
    assert!(body.contains("store_unavailable"), "{body}");
    let md = http(
        a.port(),
        "POST",
        "/md",
        Some(&json!({"url": site.url("/p1").as_str()})),
    )
    .expect("/md");
    assert_eq!(md.0, 200, "single-page routes work without Redis: {}", md.2);
    let (status, health) = get_json(a.port(), "/health").expect("health");
    assert_eq!(status, 200);
    assert_eq!(health["cluster"]["redis"], "unreachable", "{health}");
    pause(Duration::from_secs(2));
    redis.restart();
    let logs = || format!("A: {}\nB: {}", a.log(), b.log());
    let job = wait_completed(&[a.port(), b.port()], &id, &logs);
    assert_eq!(job["done"].as_i64(), Some(pages as i64), "{job}");
    assert_exactly_once(result_urls(a.port(), &id), &expected(&site, pages));
}

#[test]
fn a_gannet_worker_joins_a_server_crawl_job_and_its_pages_reach_the_job() {
    let redis = Redis::start();
    let dir = TempDir::new("worker");
    let per_site = 12;
    let sites: Vec<Site> = (0..4)
        .map(|_| site(per_site, Duration::from_millis(80)))
        .collect();
    // The first site's start page links to the others' start pages.
    let links: String = sites[1..]
        .iter()
        .map(|s| format!("<a href=\"{}\">next</a> ", s.origin()))
        .collect();
    sites[0].set_response(
        "/",
        Response::html(format!(
            "<title>Page 0</title><article><h1>Page 0</h1><p>Start page, long enough to be \
             content for the extractor. <a href=/p1>p1</a> {links}</p></article>"
        )),
    );
    let a = Replica::start(&redis.url(), &dir, "a");
    // One page at a time on the replica: the worker has hosts to take.
    let body = json!({"crawl": {"url": sites[0].origin().as_str(), "limit": 200, "scope": "any", "sitemaps": false, "concurrency": 1}});
    let (status, _, text) = http(a.port(), "POST", "/jobs", Some(&body)).expect("POST /jobs");
    assert_eq!(status, 202, "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    let id = v["id"].as_str().expect("id").to_string();

    let out = dir.0.join("worker.jsonl");
    let log = dir.0.join("worker.log");
    let mut worker = Command::new(env!("CARGO_BIN_EXE_gannet"))
        .args(["worker", "--redis", &redis.url(), "--crawl-id", &id, "-q"])
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("start gannet worker");
    let worker_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let logs = || format!("A: {}\nworker: {}", a.log(), worker_log());
    let job = wait_completed(&[a.port()], &id, &logs);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Ok(Some(s)) = worker.try_wait() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not end: {}",
            logs()
        );
        pause(Duration::from_millis(100));
    };
    assert!(status.success(), "worker: {status} {}", worker_log());
    let mut want: Vec<String> = sites.iter().flat_map(|s| expected(s, per_site)).collect();
    want.sort();
    assert_eq!(job["done"].as_i64(), Some(want.len() as i64), "{job}");
    let urls = result_urls(a.port(), &id);
    // The worker's pages are among the job's results: it worked the job.
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let by_worker: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["url"].as_str().map(str::to_string))
        .collect();
    assert!(
        !by_worker.is_empty(),
        "the worker fetched nothing: {}",
        logs()
    );
    for u in &by_worker {
        assert!(
            urls.contains(u),
            "{u} of the worker is not in the job's results"
        );
    }
    assert_exactly_once(urls, &want);
}

#[test]
fn serve_with_redis_unreachable_at_start_exits_69_naming_it() {
    let dir = TempDir::new("unreachable");
    let port = free_port(false);
    let url = format!("redis://:secret@127.0.0.1:{port}");
    let out = gannet_testkit::output_within(
        Command::new(env!("CARGO_BIN_EXE_gannet"))
            .args(["serve", "--redis", &url, "--listen", "127.0.0.1:0", "-q"])
            .arg("--data-dir")
            .arg(&dir.0)
            .env_remove("GANNET_CONFIG"),
        Duration::from_secs(60),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!err.contains("secret"), "no password in messages: {err}");
}

const PRODUCT: &str = "<!doctype html><html><head><title>Acme Anvil 3000</title></head><body>\
<article><h1>Acme Anvil 3000</h1><p>Manufacturer: Acme Corporation</p><p>Price: $49.99</p>\
<p>The Acme Anvil 3000 is a heavy steel anvil for blacksmiths. It weighs 50 kg and ships in a \
wooden crate.</p><h2>Shipping</h2><p>Free shipping on orders over $100. Delivery takes 3 to 5 \
business days.</p></article></body></html>";

/// Property order as a user writes it (the model and llama.cpp's grammar follow it).
const PRODUCT_SCHEMA: &str = r#"{"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "string"}, "manufacturer": {"type": "string"}}, "required": ["name", "price", "manufacturer"], "additionalProperties": false}"#;

/// Polls `path` on each port in turn until `field` is no longer `pending`.
fn poll_until(ports: &[u16], path: &str, pending: &str, logs: &dyn Fn() -> String) -> Value {
    let deadline = Instant::now() + Duration::from_secs(600);
    for i in 0.. {
        let port = ports[i % ports.len()];
        if let Some((200, v)) = get_json(port, path)
            && v["status"] != pending
        {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never finished: {}",
            logs()
        );
        pause(Duration::from_millis(300));
    }
    unreachable!()
}

#[test]
fn llm_jobs_of_firecrawl_and_crawl4ai_are_answered_by_any_replica() {
    let Some(llama) = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(llama::start("cluster-llm-jobs"))
    else {
        return;
    };
    let redis = Redis::start();
    let dir = TempDir::new("llm-jobs");
    let site = SiteBuilder::new()
        .page("/product", PRODUCT)
        .start_blocking();
    let env = [
        (
            "GANNET_LLM_BASE_URL",
            format!("http://127.0.0.1:{}/v1", llama.port),
        ),
        ("GANNET_LLM_MODEL", "SmolLM2-135M-Instruct".to_owned()),
        ("GANNET_LLM_MAX_TOKENS", "512".to_owned()),
    ];
    let a = Replica::launch(&redis.url(), &dir, "a", ["--cluster-lease", "2"], &env);
    let b = Replica::launch(&redis.url(), &dir, "b", ["--cluster-lease", "2"], &env);
    let logs = || format!("{}\n{}", a.log(), b.log());
    let product = site.url("/product").to_string();
    let expected =
        json!({"name": "Acme Anvil 3000", "price": "$49.99", "manufacturer": "Acme Corporation"});

    // Firecrawl /v1/extract through A, its status through B (and A): from the job store.
    let body = format!(
        r#"{{"urls": ["{product}"], "prompt": "Extract the product's name, price and manufacturer.", "schema": {PRODUCT_SCHEMA}}}"#
    );
    let (status, _, text) = http_text(a.port(), "POST", "/v1/extract", &body).expect("extract");
    assert_eq!(status, 200, "{text}");
    let started: Value = serde_json::from_str(&text).expect("json");
    let id = started["id"].as_str().expect("an id").to_owned();
    let done = poll_until(
        &[b.port(), a.port()],
        &format!("/v1/extract/{id}"),
        "processing",
        &logs,
    );
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["data"], expected, "{done}");
    assert!(done["tokensUsed"].as_u64() > Some(50), "{done}");
    let (_, through_a) = get_json(a.port(), &format!("/v2/extract/{id}")).expect("status via A");
    assert_eq!(through_a["data"], expected);

    // crawl4ai /llm/job through B, its status through A.
    let body = json!({"url": product, "q": "Extract the product's name, price and manufacturer.", "schema": PRODUCT_SCHEMA});
    let (status, _, text) = http(b.port(), "POST", "/llm/job", Some(&body)).expect("llm job");
    assert_eq!(status, 200, "{text}");
    let started: Value = serde_json::from_str(&text).expect("json");
    let task = started["task_id"].as_str().expect("a task id").to_owned();
    let done = poll_until(
        &[a.port()],
        &format!("/llm/job/{task}"),
        "processing",
        &logs,
    );
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"], json!([expected]), "{done}");
}
