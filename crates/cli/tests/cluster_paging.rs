//! A client paging through a large job's results, each page through another replica of a
//! cluster (`gannet serve --redis`, real `redis-server`, three replicas on loopback): every
//! result comes back exactly once, and no replica's memory grows with the pages it
//! serves. The job is produced the real way (a batch job over a testkit site). The same
//! measure at 100,000 results with a release build is `bench/cluster/paging-rss.sh`.

use gannet_testkit::redis::RedisServer as Redis;
use gannet_testkit::{Response, Site, SiteBuilder, TempDir};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::time::{Duration, Instant};

mod common;
use common::{Replica, get_json, http, pause};

/// Results of the job.
const RESULTS: usize = 5000;
/// Results a page (so that every replica serves many pages).
const PAGE: usize = 40;
/// A job that has not completed after this long is a hang.
const JOB_LIMIT: Duration = Duration::from_secs(240);

/// `n` pages of about 2 KB of text each, distinct.
fn site(n: usize) -> Site {
    let mut b = SiteBuilder::new();
    for i in 0..n {
        let text: String = (0..12)
            .map(|k| {
                format!(
                    "<p>Paragraph {k} of page {i}: the text a reader came for, long enough to \
                     be kept by the extractor as the page's main content, {}.</p>",
                    i * 31 + k
                )
            })
            .collect();
        let body = format!("<title>Page {i}</title><article><h1>Page {i}</h1>{text}</article>");
        b = b.response(&format!("/p{i}"), Response::html(body));
    }
    b.start_blocking()
}

#[test]
fn paging_through_any_replica_returns_each_result_once_and_memory_stays_flat() {
    let redis = Redis::start();
    let dir = TempDir::new("paging");
    let site = site(RESULTS);
    let config = dir.0.join("gannet.toml");
    std::fs::write(
        &config,
        "[requests]\nmax_body_bytes = 4194304\n[jobs]\nmax_urls = 10000\n",
    )
    .expect("config");
    let replicas: Vec<Replica> = ["a", "b", "c"]
        .iter()
        .map(|n| {
            Replica::launch(
                &redis.url(),
                &dir,
                n,
                [OsStr::new("--config"), config.as_os_str()],
                &[],
            )
        })
        .collect();
    let logs = || {
        replicas
            .iter()
            .map(Replica::log)
            .collect::<Vec<_>>()
            .join("\n---\n")
    };

    let urls: Vec<String> = (0..RESULTS)
        .map(|i| site.url(&format!("/p{i}")).to_string())
        .collect();
    let (status, _, text) = http(
        replicas[0].port(),
        "POST",
        "/jobs",
        Some(&json!({"urls": urls})),
    )
    .expect("POST /jobs");
    assert_eq!(status, 202, "{text}");
    let id = serde_json::from_str::<Value>(&text).expect("json")["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let deadline = Instant::now() + JOB_LIMIT;
    loop {
        let (_, v) = get_json(replicas[1].port(), &format!("/jobs/{id}")).expect("an answer");
        match v["status"].as_str() {
            Some("completed") => break,
            Some("failed") | Some("cancelled") => panic!("job ended {v}: {}", logs()),
            _ => {}
        }
        assert!(Instant::now() < deadline, "job {id} hangs: {v} {}", logs());
        pause(Duration::from_millis(250));
    }

    // Page through replica 0, 1, 2, 0, ...: every result once, in order.
    let mut seen = BTreeSet::new();
    let mut served = [0usize; 3];
    let mut cursor: Option<i64> = None;
    let mut warm: Option<Vec<u64>> = None;
    let mut peak = [0u64; 3];
    let mut page = 0usize;
    let mut last_seq = 0;
    loop {
        let r = page % 3;
        let path = match cursor {
            Some(c) => format!("/jobs/{id}/results?limit={PAGE}&cursor={c}"),
            None => format!("/jobs/{id}/results?limit={PAGE}"),
        };
        let (status, _, body) = http(replicas[r].port(), "GET", &path, None).expect("a page");
        assert_eq!(status, 200, "{body}");
        served[r] += body.len();
        let v: Value = serde_json::from_str(&body).expect("a page's json");
        for result in v["results"].as_array().expect("results") {
            let url = result["url"].as_str().expect("a result's url").to_string();
            assert!(seen.insert(url.clone()), "{url} twice (page {page})");
        }
        page += 1;
        // After every replica served a few pages: the baseline.
        if page == 12 {
            warm = Some(replicas.iter().map(Replica::rss).collect());
        }
        for (i, rep) in replicas.iter().enumerate() {
            peak[i] = peak[i].max(rep.rss());
        }
        match v["next_cursor"].as_i64() {
            Some(c) => {
                assert!(c > last_seq, "the cursor moves forward");
                last_seq = c;
                cursor = Some(c);
            }
            None => break,
        }
    }
    let want: BTreeSet<String> = urls.into_iter().collect();
    assert_eq!(seen, want, "every result exactly once");
    assert!(page >= RESULTS / PAGE, "{page} pages");

    let warm = warm.expect("a baseline");
    let end: Vec<u64> = replicas.iter().map(Replica::rss).collect();
    for i in 0..3 {
        let mb = |b: u64| b as f64 / (1 << 20) as f64;
        eprintln!(
            "replica {i}: served {:.1} MiB of pages; RSS after 12 pages {:.1} MiB, peak {:.1}, end {:.1}",
            mb(served[i] as u64),
            mb(warm[i]),
            mb(peak[i]),
            mb(end[i])
        );
        // Each replica served several times the growth allowed: results kept in memory
        // would show.
        assert!(
            served[i] as u64 > warm[i] / 4,
            "the test serves enough to see growth"
        );
        assert!(
            (peak[i] as f64) < warm[i] as f64 * 1.25,
            "replica {i}: RSS grew with the pages read ({:.1} → {:.1} MiB)",
            mb(warm[i]),
            mb(peak[i])
        );
    }
}
