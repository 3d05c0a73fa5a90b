//! The same flow on a real 3-master Redis Cluster (`redis-cli --cluster create`).

mod common;

use common::RedisCluster;
use gannet_frontier_redis::{
    CrawlSettings, Finished, HostKey, NewUrl, Outcome, RedisFrontier, WorkerId,
};
use std::collections::BTreeMap;
use std::time::Duration;

fn url(host: usize, page: usize) -> NewUrl {
    NewUrl {
        url: format!("http://h{host}.test/p/{page}"),
        host: HostKey(format!("http://h{host}.test")),
        depth: 0,
        referrer: Some("http://seed.test/".into()),
    }
}

#[tokio::test]
async fn a_crawl_runs_on_a_three_master_cluster() {
    let cluster = RedisCluster::start();
    let s = CrawlSettings {
        page_limit: Some(250),
        lease: Duration::from_millis(500),
        expected_urls: 10_000,
        ..CrawlSettings::default()
    };
    let (f, created) = RedisFrontier::create(&cluster.url(), "cl", s)
        .await
        .expect("create");
    assert!(created);
    // Hosts spread over the three masters' slots.
    let urls: Vec<NewUrl> = (0..300).map(|i| url(i % 40, i)).collect();
    let (a, b) = urls.split_at(150);
    let (f1, f2) = (
        f.clone(),
        RedisFrontier::join(&cluster.url(), "cl")
            .await
            .expect("join"),
    );
    let (ra, rb) = tokio::join!(f1.enqueue(a), f2.enqueue(b));
    let added = ra.expect("enqueue").added + rb.expect("enqueue").added;
    assert_eq!(added, 250, "page limit exact on the cluster");
    let mut keys_per_node = Vec::new();
    for n in &cluster.nodes {
        keys_per_node.push(
            common::cli(n.port, &["DBSIZE"])
                .trim()
                .parse::<u64>()
                .unwrap_or(0),
        );
    }
    assert!(
        keys_per_node.iter().all(|&k| k > 0),
        "every master holds shards: {keys_per_node:?}"
    );

    // Two workers drain it; one lease is left to expire and is reclaimed.
    let (w1, w2) = (
        WorkerId::new("w1").expect("id"),
        WorkerId::new("w2").expect("id"),
    );
    let abandoned = f.claim(&w1, 1, 3).await.expect("claim");
    assert_eq!(abandoned.len(), 1);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut done: BTreeMap<String, u32> = BTreeMap::new();
    let mut batch = [0u64, 0];
    for round in 0..2000 {
        let (fr, w) = if round % 2 == 0 {
            (&f, &w1)
        } else {
            (&f2, &w2)
        };
        let hosts = fr.claim(w, 16, 10).await.expect("claim");
        if hosts.is_empty() {
            if fr.stats().await.expect("stats").is_finished() {
                break;
            }
            fr.reap(64).await.expect("reap");
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        let pages: Vec<Finished> = hosts
            .iter()
            .flat_map(|h| {
                h.urls.iter().map(|u| Finished {
                    lease: h.lease.clone(),
                    url: u.url.clone(),
                    outcome: Outcome::Done,
                })
            })
            .collect();
        let b = &mut batch[round % 2];
        let accepted = fr
            .complete(w, *b, &pages, &format!("{b}"))
            .await
            .expect("complete");
        *b += 1;
        for (p, ok) in pages.iter().zip(accepted) {
            assert!(ok);
            *done.entry(p.url.clone()).or_default() += 1;
        }
        for h in &hosts {
            fr.release(&h.lease, Duration::ZERO, None)
                .await
                .expect("release");
        }
    }
    assert_eq!(done.len(), 250);
    assert!(done.values().all(|&n| n == 1));
    let stats = f.stats().await.expect("stats");
    assert_eq!(
        (stats.done, stats.admitted, stats.queued, stats.in_flight),
        (250, 250, 0, 0)
    );
    assert!(abandoned[0].urls.iter().all(|u| done.contains_key(&u.url)));
}
