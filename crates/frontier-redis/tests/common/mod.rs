//! Real `redis-server` processes on free loopback ports, killed on drop.
#![allow(dead_code, unreachable_pub)]

use gannet_frontier_redis::{
    CrawlSettings, Finished, HostKey, NewUrl, Outcome, RedisFrontier, Release, WorkerId,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

// Each test binary uses a different part of this shared module.
#[allow(unused_imports)]
pub use gannet_testkit::redis::{RedisCluster, RedisServer, cli, free_port};

pub fn dir_of(s: &RedisServer) -> &Path {
    s.dir()
}

/// `used_memory` of INFO memory.
pub fn used_memory(port: u16) -> u64 {
    cli(port, &["INFO", "memory"])
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory")
}

pub fn url(host: usize, page: usize) -> NewUrl {
    NewUrl {
        url: format!("http://h{host}.test/p/{page}"),
        host: HostKey(format!("http://h{host}.test")),
        depth: 1,
        referrer: None,
    }
}

pub fn settings() -> CrawlSettings {
    CrawlSettings {
        expected_urls: 100_000,
        ..CrawlSettings::default()
    }
}

pub fn worker(id: &str) -> WorkerId {
    WorkerId::new(id).expect("worker id")
}

/// Claims and completes everything due until nothing is left; returns URL → completions.
pub async fn drain(f: &RedisFrontier, w: &WorkerId, first_batch: u64) -> BTreeMap<String, u32> {
    let mut seen = BTreeMap::new();
    let mut batch = first_batch;
    for _ in 0..10_000 {
        let hosts = f.claim(w, 64, 50).await.expect("claim");
        if hosts.is_empty() {
            if f.stats().await.expect("stats").is_finished() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        let mut pages = Vec::new();
        for h in &hosts {
            for u in &h.urls {
                pages.push(Finished {
                    lease: h.lease.clone(),
                    url: u.url.clone(),
                    outcome: Outcome::Done,
                });
            }
        }
        // Odd batches: commit, then release each host; even ones: both in one step.
        let prepared = f.prepare(w, batch, &pages).await.expect("prepare");
        if batch % 2 == 1 {
            f.commit(&prepared, &format!("pos-{batch}"))
                .await
                .expect("commit");
            for h in &hosts {
                f.release(&h.lease, Duration::ZERO, None)
                    .await
                    .expect("release");
            }
        } else {
            let leases: Vec<_> = hosts
                .iter()
                .map(|h| Release::new(h.lease.clone(), Duration::ZERO))
                .collect();
            let next = f
                .commit_and_release(&prepared, &format!("pos-{batch}"), &leases)
                .await
                .expect("commit and release");
            assert!(next.iter().all(Option::is_some), "own lease fenced");
        }
        batch += 1;
        for (p, ok) in pages.iter().zip(&prepared.accepted) {
            assert!(ok, "own lease refused: {}", p.url);
            *seen.entry(p.url.clone()).or_insert(0) += 1;
        }
    }
    seen
}
