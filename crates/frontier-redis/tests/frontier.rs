//! The Redis frontier against real `redis-server` processes on loopback.

mod common;

use common::{RedisServer, cli};
use gannet_frontier_redis::{
    CrawlSettings, Finished, FrontierError, HostKey, NewUrl, Outcome, RedisFrontier, Release,
    Retried, WorkerId,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

fn url(host: usize, page: usize) -> NewUrl {
    NewUrl {
        url: format!("http://h{host}.test/p/{page}"),
        host: HostKey(format!("http://h{host}.test")),
        depth: 1,
        referrer: None,
    }
}

fn settings() -> CrawlSettings {
    CrawlSettings {
        expected_urls: 100_000,
        ..CrawlSettings::default()
    }
}

fn worker(id: &str) -> WorkerId {
    WorkerId::new(id).expect("worker id")
}

/// Claims and completes everything due until nothing is left; returns URL → completions.
async fn drain(f: &RedisFrontier, w: &WorkerId, first_batch: u64) -> BTreeMap<String, u32> {
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

#[tokio::test]
async fn enqueue_dedups_and_everything_is_fetched_once() {
    let redis = RedisServer::start();
    let (f, created) = RedisFrontier::create(&redis.url(), "dedup", settings())
        .await
        .expect("create");
    assert!(created);
    let mut urls: Vec<NewUrl> = (0..200).map(|i| url(i % 7, i)).collect();
    urls.extend((0..50).map(|i| url(i % 7, i))); // duplicates inside the batch
    let r = f.enqueue(&urls).await.expect("enqueue");
    assert_eq!((r.added, r.duplicates), (200, 50));
    let r = f.enqueue(&urls[..100]).await.expect("enqueue again");
    assert_eq!((r.added, r.duplicates), (0, 100));
    let stats = f.stats().await.expect("stats");
    assert_eq!((stats.queued, stats.admitted), (200, 200));
    // Hostile input: control characters, oversized URLs are refused one by one.
    let mut bad = url(1, 10_000);
    bad.url.push_str("\tx");
    let mut long = url(1, 10_001);
    long.url.push_str(&"a".repeat(10_000));
    let r = f
        .enqueue(&[bad, long, url(1, 10_002)])
        .await
        .expect("enqueue");
    assert_eq!((r.added, r.invalid), (1, 2));

    // A second handle joins with the id only and sees the same crawl.
    let g = RedisFrontier::join(&redis.url(), "dedup")
        .await
        .expect("join");
    assert_eq!(g.settings().expected_urls, 100_000);
    let (_, created) = RedisFrontier::create(&redis.url(), "dedup", CrawlSettings::default())
        .await
        .expect("create again");
    assert!(!created, "an existing crawl is joined, not replaced");

    let done = drain(&g, &worker("w1"), 0).await;
    assert_eq!(done.len(), 201);
    assert!(done.values().all(|&n| n == 1), "a URL was completed twice");
    let stats = f.stats().await.expect("stats");
    assert_eq!(
        (stats.done, stats.queued, stats.in_flight, stats.prepared),
        (201, 0, 0, 0)
    );
    assert!(matches!(
        RedisFrontier::join(&redis.url(), "nope").await,
        Err(FrontierError::NoSuchCrawl(_))
    ));
}

#[tokio::test]
async fn page_limit_is_exact_with_four_racing_workers() {
    let redis = RedisServer::start();
    let limit = 437;
    let s = CrawlSettings {
        page_limit: Some(limit),
        ..settings()
    };
    let (f, _) = RedisFrontier::create(&redis.url(), "limit", s)
        .await
        .expect("create");
    let mut tasks = Vec::new();
    for t in 0..4usize {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut added = 0;
            // Overlapping link sets, different orders and batch sizes, over many hosts.
            for round in 0..40usize {
                let batch: Vec<NewUrl> = (0..(13 + t * 7))
                    .map(|i| {
                        let n = (round * 31 + i * (t + 1) * 17) % 1500;
                        url(n % 97, n)
                    })
                    .collect();
                added += f.enqueue(&batch).await.expect("enqueue").added;
            }
            added
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task");
    }
    assert_eq!(total, limit, "URLs admitted by the 4 workers together");
    let stats = f.stats().await.expect("stats");
    assert_eq!((stats.admitted, stats.queued), (limit, limit));
    let done = drain(&f, &worker("w"), 0).await;
    assert_eq!(done.len() as u64, limit);
    // Nothing more gets in.
    let r = f.enqueue(&[url(1, 99_999)]).await.expect("enqueue");
    assert_eq!((r.added, r.over_limit), (0, 1));
}

#[tokio::test]
async fn claim_renew_release_and_politeness() {
    let redis = RedisServer::start();
    let s = CrawlSettings {
        lease: Duration::from_millis(2000),
        ..settings()
    };
    let (f, _) = RedisFrontier::create(&redis.url(), "claim", s)
        .await
        .expect("create");
    f.enqueue(&(0..10).map(|i| url(1, i)).collect::<Vec<_>>())
        .await
        .expect("enqueue");
    let w = worker("w1");
    let hosts = f.claim(&w, 10, 4).await.expect("claim");
    assert_eq!(hosts.len(), 1);
    let h = &hosts[0];
    let urls: Vec<&str> = h.urls.iter().map(|u| u.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://h1.test/p/0",
            "http://h1.test/p/1",
            "http://h1.test/p/2",
            "http://h1.test/p/3"
        ]
    );
    assert!(h.robots.is_none(), "nothing cached yet");
    // A leased host has one fetcher: nobody else gets it.
    assert!(
        f.claim(&worker("w2"), 10, 4)
            .await
            .expect("claim")
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let renewed = f.renew(&h.lease).await.expect("renew");
    assert!(renewed.expires_ms > h.lease.expires_ms);
    f.store_robots(&h.lease, "User-agent: *\nDisallow: /x")
        .await
        .expect("robots");
    let pages: Vec<Finished> = h.urls[..2]
        .iter()
        .map(|u| Finished {
            lease: h.lease.clone(),
            url: u.url.clone(),
            outcome: Outcome::Done,
        })
        .collect();
    assert_eq!(
        f.complete(&w, 1, &pages, "p1").await.expect("complete"),
        [true, true]
    );
    // Release with a 1.5 s politeness delay: the two unfinished URLs go back to the front.
    let next = f
        .release(
            &h.lease,
            Duration::from_millis(1500),
            Some(Duration::from_millis(250)),
        )
        .await
        .expect("release");
    assert!(next > renewed.expires_ms - 2000);
    assert!(
        f.claim(&w, 10, 4).await.expect("claim").is_empty(),
        "host claimed before its delay"
    );
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let again = f.claim(&worker("w2"), 10, 4).await.expect("claim");
    assert_eq!(again.len(), 1);
    assert!(again[0].lease.token > h.lease.token);
    assert_eq!(again[0].urls[0].url, "http://h1.test/p/2");
    assert_eq!(again[0].throttle, Duration::from_millis(250));
    let robots = again[0].robots.as_ref().expect("robots cached");
    assert_eq!(robots.body, "User-agent: *\nDisallow: /x");
    let stats = f.stats().await.expect("stats");
    assert_eq!(
        (
            stats.done,
            stats.in_flight,
            stats.queued,
            stats.leased_hosts
        ),
        (2, 4, 4, 1)
    );
}

#[tokio::test]
async fn a_stale_token_is_fenced() {
    let redis = RedisServer::start();
    let s = CrawlSettings {
        lease: Duration::from_millis(300),
        ..settings()
    };
    let (f, _) = RedisFrontier::create(&redis.url(), "fence", s)
        .await
        .expect("create");
    f.enqueue(&[url(3, 1), url(3, 2)]).await.expect("enqueue");
    let (w1, w2) = (worker("w1"), worker("w2"));
    let old = f.claim(&w1, 1, 10).await.expect("claim").remove(0);
    tokio::time::sleep(Duration::from_millis(400)).await;
    // w1 is "paused" past its lease; w2's claim reaps it and takes the host.
    let new = f.claim(&w2, 1, 10).await.expect("claim").remove(0);
    assert!(new.lease.token > old.lease.token);
    assert_eq!(new.urls.len(), 2);
    assert_eq!(new.urls[0].attempts, 1);
    assert_eq!(new.urls[0].last_error.as_deref(), Some("lease expired"));
    // w1 wakes up: every call under the old token is refused.
    assert!(matches!(
        f.renew(&old.lease).await,
        Err(FrontierError::Fenced(_))
    ));
    let late: Vec<Finished> = old
        .urls
        .iter()
        .map(|u| Finished {
            lease: old.lease.clone(),
            url: u.url.clone(),
            outcome: Outcome::Done,
        })
        .collect();
    assert_eq!(
        f.complete(&w1, 0, &late, "w1-late")
            .await
            .expect("complete"),
        [false, false]
    );
    assert!(matches!(
        f.release(&old.lease, Duration::ZERO, None).await,
        Err(FrontierError::Fenced(_))
    ));
    assert!(matches!(
        f.store_robots(&old.lease, "x").await,
        Err(FrontierError::Fenced(_))
    ));
    assert!(matches!(
        f.retry(&old.lease, &old.urls[0].url, "x", Duration::ZERO)
            .await,
        Err(FrontierError::Fenced(_))
    ));
    // w2 completes normally; each URL is done once.
    let pages: Vec<Finished> = new
        .urls
        .iter()
        .map(|u| Finished {
            lease: new.lease.clone(),
            url: u.url.clone(),
            outcome: Outcome::Done,
        })
        .collect();
    assert_eq!(
        f.complete(&w2, 0, &pages, "w2-0").await.expect("complete"),
        [true, true]
    );
    let stats = f.stats().await.expect("stats");
    assert_eq!((stats.done, stats.in_flight), (2, 0));
}

#[tokio::test]
async fn expired_leases_are_reclaimed_then_dead_lettered() {
    let redis = RedisServer::start();
    let s = CrawlSettings {
        lease: Duration::from_millis(150),
        max_attempts: 3,
        ..settings()
    };
    let (f, _) = RedisFrontier::create(&redis.url(), "dead", s)
        .await
        .expect("create");
    f.enqueue(&[url(5, 1)]).await.expect("enqueue");
    let w = worker("w");
    for attempt in 0..2 {
        let h = f.claim(&w, 1, 1).await.expect("claim");
        assert_eq!(h.len(), 1, "delivery {attempt}");
        assert_eq!(h[0].urls[0].attempts, attempt);
        tokio::time::sleep(Duration::from_millis(250)).await;
        let r = f.reap(16).await.expect("reap");
        assert_eq!(r.leases, 1);
    }
    // The third failed delivery reaches max_attempts = 3: dead-lettered instead.
    let h = f.claim(&w, 1, 1).await.expect("claim");
    assert_eq!(h.len(), 1);
    tokio::time::sleep(Duration::from_millis(250)).await;
    let r = f.reap(16).await.expect("reap");
    assert_eq!((r.leases, r.dead), (1, 1));
    assert!(f.claim(&w, 1, 1).await.expect("claim").is_empty());
    let dead = f.dead_letters(10).await.expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (
            dead[0].url.as_str(),
            dead[0].attempts,
            dead[0].error.as_str(),
            dead[0].host.0.as_str()
        ),
        ("http://h5.test/p/1", 3, "lease expired", "http://h5.test")
    );
    // A URL that always fails through `retry` ends there too, with its last error.
    f.enqueue(&[url(6, 1)]).await.expect("enqueue");
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let h = f.claim(&w, 1, 1).await.expect("claim");
        assert_eq!(h.len(), 1);
        outcomes.push(
            f.retry(
                &h[0].lease,
                &h[0].urls[0].url,
                "HTTP 500\tboom",
                Duration::ZERO,
            )
            .await
            .expect("retry"),
        );
        f.release(&h[0].lease, Duration::ZERO, None)
            .await
            .expect("release");
    }
    assert_eq!(
        outcomes,
        [
            Retried::Queued { attempts: 1 },
            Retried::Queued { attempts: 2 },
            Retried::DeadLettered { attempts: 3 }
        ]
    );
    let stats = f.stats().await.expect("stats");
    assert_eq!((stats.dead, stats.queued, stats.in_flight), (2, 0, 0));
    let dead = f.dead_letters(10).await.expect("dead letters");
    assert!(
        dead.iter()
            .any(|d| d.url == "http://h6.test/p/1" && d.error == "HTTP 500 boom")
    );
}

#[tokio::test]
async fn retry_after_blocks_a_host_for_every_worker() {
    let redis = RedisServer::start();
    let (f, _) = RedisFrontier::create(&redis.url(), "block", settings())
        .await
        .expect("create");
    f.enqueue(&[url(7, 1), url(7, 2), url(8, 1)])
        .await
        .expect("enqueue");
    // A 429 with Retry-After seen by the holder of h7 while h7 is leased.
    let w1 = worker("w1");
    let hosts = f.claim(&w1, 10, 1).await.expect("claim");
    assert_eq!(hosts.len(), 2);
    let h7 = hosts
        .iter()
        .find(|h| h.lease.host.0 == "http://h7.test")
        .expect("h7");
    let until = f
        .block_host(&h7.lease.host, Duration::from_millis(2000))
        .await
        .expect("block");
    let pages: Vec<Finished> = hosts
        .iter()
        .map(|h| Finished {
            lease: h.lease.clone(),
            url: h.urls[0].url.clone(),
            outcome: Outcome::Done,
        })
        .collect();
    f.complete(&w1, 0, &pages, "c").await.expect("complete");
    for h in &hosts {
        f.release(&h.lease, Duration::ZERO, None)
            .await
            .expect("release");
    }
    // Released with delay 0, h7 still waits for its block; h8's queue is empty.
    let start = std::time::Instant::now();
    assert!(
        f.claim(&worker("w2"), 10, 1)
            .await
            .expect("claim")
            .is_empty()
    );
    // Block a host sitting in `ready`: it moves later for everyone; a shorter block does not shorten it.
    let again = f
        .block_host(&h7.lease.host, Duration::from_millis(10))
        .await
        .expect("block");
    assert_eq!(again, until);
    loop {
        let got = f.claim(&worker("w3"), 10, 5).await.expect("claim");
        if !got.is_empty() {
            assert_eq!(got[0].lease.host.0, "http://h7.test");
            assert_eq!(got[0].urls.len(), 1);
            assert!(
                start.elapsed() >= Duration::from_millis(1500),
                "claimed after {:?}",
                start.elapsed()
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "host never came back"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn an_evicting_redis_is_refused() {
    let redis = RedisServer::with_args(&[
        "--save",
        "",
        "--appendonly",
        "no",
        "--maxmemory-policy",
        "allkeys-lru",
    ]);
    match RedisFrontier::create(&redis.url(), "evict", settings()).await {
        Err(FrontierError::EvictionPolicy { policy }) => assert_eq!(policy, "allkeys-lru"),
        other => panic!("expected EvictionPolicy, got {other:?}"),
    }
    let e = RedisFrontier::join(&redis.url(), "evict")
        .await
        .expect_err("join refused");
    assert!(!e.is_retryable());
    // Unreachable Redis: a retryable error.
    let port = common::free_port(false);
    let e = RedisFrontier::join(&format!("redis://127.0.0.1:{port}"), "x")
        .await
        .expect_err("nothing there");
    assert!(e.is_retryable(), "{e:?}");
    assert!(matches!(
        RedisFrontier::join("http://x", "x").await,
        Err(FrontierError::Invalid { .. })
    ));
    assert!(matches!(
        RedisFrontier::join(&redis.url(), "a{b}").await,
        Err(FrontierError::Invalid { .. })
    ));
}

#[tokio::test]
async fn a_crash_between_prepare_and_commit_loses_and_duplicates_nothing() {
    let redis = RedisServer::start();
    let (f, _) = RedisFrontier::create(&redis.url(), "2pc", settings())
        .await
        .expect("create");
    f.enqueue(&(0..6).map(|i| url(i, i)).collect::<Vec<_>>())
        .await
        .expect("enqueue");
    let w1 = worker("w1");
    let state = f.recover_worker(&w1).await.expect("recover");
    assert_eq!((state.checkpoint.clone(), state.next_batch), (None, 0));
    // Batch 0 commits (3 hosts); batch 1 is prepared and written, then w1 "dies".
    let hosts = f.claim(&w1, 6, 1).await.expect("claim");
    assert_eq!(hosts.len(), 6);
    let page = |h: &gannet_frontier_redis::ClaimedHost| Finished {
        lease: h.lease.clone(),
        url: h.urls[0].url.clone(),
        outcome: Outcome::Done,
    };
    let first: Vec<Finished> = hosts[..3].iter().map(page).collect();
    f.complete(&w1, 0, &first, "offset=300")
        .await
        .expect("complete");
    let second: Vec<Finished> = hosts[3..].iter().map(page).collect();
    let prepared = f.prepare(&w1, 1, &second).await.expect("prepare");
    assert_eq!(prepared.accepted, [true, true, true]);
    assert_eq!(f.stats().await.expect("stats").prepared, 3);
    // Restarted on the same output: cut back to offset=300, batch 1's URLs are queued again.
    let state = f.recover_worker(&w1).await.expect("recover");
    let ck = state.checkpoint.expect("checkpoint");
    assert_eq!(
        (
            ck.batch,
            ck.position.as_str(),
            state.next_batch,
            state.reclaimed
        ),
        (0, "offset=300", 2, 3)
    );
    // The dead incarnation's late commit is refused.
    assert!(matches!(
        f.commit(&prepared, "offset=600").await,
        Err(FrontierError::Fenced(_))
    ));
    let stats = f.stats().await.expect("stats");
    assert_eq!(
        (stats.done, stats.prepared, stats.queued, stats.in_flight),
        (3, 0, 3, 0)
    );
    // The recovery also ended the crashed run's leases: its hosts are free at once, and
    // its old tokens are fenced.
    for h in &hosts {
        assert!(matches!(
            f.release(&h.lease, Duration::ZERO, None).await,
            Err(FrontierError::Fenced(_))
        ));
    }
    let done = drain(&f, &worker("w2"), 0).await;
    let redone: BTreeSet<&str> = second.iter().map(|p| p.url.as_str()).collect();
    assert_eq!(
        done.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        redone
    );
    assert_eq!(f.stats().await.expect("stats").done, 6);

    // A worker that never comes back is recovered by the reaper once its heartbeat expires.
    f.enqueue(&[url(40, 1)]).await.expect("enqueue");
    let w3 = worker("w3");
    f.heartbeat(&w3, Duration::from_millis(200), "{\"pages\":0}")
        .await
        .expect("heartbeat");
    assert_eq!(f.workers().await.expect("workers").len(), 1);
    let h = f.claim(&w3, 1, 1).await.expect("claim").remove(0);
    f.prepare(&w3, 0, &[page(&h)]).await.expect("prepare");
    f.release(&h.lease, Duration::ZERO, None)
        .await
        .expect("release");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = f.reap(16).await.expect("reap");
    assert_eq!(r.workers, 1);
    assert_eq!(f.stats().await.expect("stats").queued, 1);
    assert!(f.workers().await.expect("workers").is_empty());
}

#[tokio::test]
async fn state_survives_a_redis_restart_with_aof() {
    let mut redis = RedisServer::with_args(&[
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let (f, _) = RedisFrontier::create(&redis.url(), "aof", settings())
        .await
        .expect("create");
    f.enqueue(&(0..40).map(|i| url(i % 4, i)).collect::<Vec<_>>())
        .await
        .expect("enqueue");
    let w = worker("w");
    let hosts = f.claim(&w, 2, 5).await.expect("claim");
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
    f.complete(&w, 0, &pages, "c0").await.expect("complete");
    for h in &hosts {
        f.release(&h.lease, Duration::ZERO, None)
            .await
            .expect("release");
    }
    let before = f.stats().await.expect("stats");
    assert_eq!((before.done, before.queued), (10, 30));

    redis.kill();
    // While Redis is down: a typed, retryable error (the worker pauses and retries).
    let e = f.claim(&w, 2, 5).await.expect_err("Redis is down");
    assert!(e.is_retryable(), "{e:?}");
    redis.restart();
    let mut after = None;
    for _ in 0..100 {
        match f.stats().await {
            Ok(s) => {
                after = Some(s);
                break;
            }
            Err(e) if e.is_retryable() => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(after.expect("Redis came back"), before);
    assert_eq!(
        f.recover_worker(&w)
            .await
            .expect("recover")
            .checkpoint
            .expect("ck")
            .position,
        "c0"
    );
    let r = f
        .enqueue(&(0..40).map(|i| url(i % 4, i)).collect::<Vec<_>>())
        .await
        .expect("enqueue");
    assert_eq!(r.duplicates, 40, "the seen-set survived");
    let done = drain(&f, &w, 1).await;
    assert_eq!(done.len(), 30);
    assert_eq!(f.stats().await.expect("stats").done, 40);
    assert!(cli(redis.port, &["CONFIG", "GET", "appendonly"]).contains("yes"));
}

#[tokio::test]
async fn take_retry_later_next_ready_seeds_and_reclaim_on_restart() {
    let redis = RedisServer::start();
    let (f, _) = RedisFrontier::create(&redis.url(), "more", settings())
        .await
        .expect("create");
    assert_eq!(f.next_ready().await.expect("next ready"), None);
    f.set_seeds(&["http://h1.test/".to_string(), "http://h2.test/".to_string()])
        .await
        .expect("seeds");
    let g = RedisFrontier::join(&redis.url(), "more")
        .await
        .expect("join");
    assert_eq!(
        g.seeds().await.expect("seeds"),
        ["http://h1.test/", "http://h2.test/"]
    );
    f.enqueue(&(0..6).map(|i| url(1, i)).collect::<Vec<_>>())
        .await
        .expect("enqueue");
    assert_eq!(
        f.next_ready().await.expect("next ready"),
        Some(Duration::ZERO)
    );
    let w = worker("w1");
    let h = f.claim(&w, 1, 2).await.expect("claim").remove(0);
    assert_eq!(
        f.next_ready().await.expect("next ready"),
        None,
        "the only host is leased"
    );
    // More URLs of the held host.
    let more = f.take(&h.lease, 2).await.expect("take");
    let urls: Vec<&str> = more.iter().map(|u| u.url.as_str()).collect();
    assert_eq!(urls, ["http://h1.test/p/2", "http://h1.test/p/3"]);
    // A retry with a delay: the URL comes back after it, behind the rest of the queue.
    let r = f
        .retry(
            &h.lease,
            "http://h1.test/p/0",
            "timeout",
            Duration::from_millis(2000),
        )
        .await
        .expect("retry");
    assert_eq!(r, Retried::Queued { attempts: 1 });
    f.release(&h.lease, Duration::ZERO, None)
        .await
        .expect("release");
    let h = f.claim(&w, 1, 10).await.expect("claim").remove(0);
    let urls: Vec<&str> = h.urls.iter().map(|u| u.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://h1.test/p/1",
            "http://h1.test/p/2",
            "http://h1.test/p/3",
            "http://h1.test/p/4",
            "http://h1.test/p/5"
        ]
    );
    let done: Vec<Finished> = h
        .urls
        .iter()
        .map(|u| Finished {
            lease: h.lease.clone(),
            url: u.url.clone(),
            outcome: Outcome::Done,
        })
        .collect();
    f.complete(&w, 0, &done, "c0").await.expect("complete");
    f.release(&h.lease, Duration::ZERO, None)
        .await
        .expect("release");
    let wait = f
        .next_ready()
        .await
        .expect("next ready")
        .expect("the retry is pending");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_millis(2000),
        "{wait:?}"
    );
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    let h = f.claim(&w, 1, 10).await.expect("claim").remove(0);
    assert_eq!(h.urls.len(), 1);
    assert_eq!(
        (
            h.urls[0].url.as_str(),
            h.urls[0].attempts,
            h.urls[0].last_error.as_deref()
        ),
        ("http://h1.test/p/0", 1, Some("timeout"))
    );
    // Claim without taking, take, put one back (cut short), block under the lease.
    f.enqueue(&[url(2, 1), url(2, 2)]).await.expect("enqueue");
    let mut hosts = f.claim(&w, 10, 0).await.expect("claim");
    assert_eq!(hosts.len(), 1, "h1 is held, h2 is leased without URLs");
    let hb = hosts.remove(0);
    assert!(hb.urls.is_empty());
    let stats = f.stats().await.expect("stats");
    assert_eq!((stats.queued, stats.in_flight), (2, 1));
    let t = f.take(&hb.lease, 10).await.expect("take");
    let back = Finished {
        lease: hb.lease.clone(),
        url: t[1].url.clone(),
        outcome: Outcome::Requeue,
    };
    assert_eq!(
        f.complete(&w, 1, &[back], "c1").await.expect("complete"),
        [true]
    );
    let again = f.take(&hb.lease, 10).await.expect("take");
    assert_eq!((again.len(), again[0].attempts), (1, 0));
    let until = f
        .block(&hb.lease, Duration::from_secs(60))
        .await
        .expect("block");
    assert!(until > hb.lease.expires_ms - 1000);
    // The worker restarts: its leases end at once (no wait for expiry), no attempt counted.
    let state = f.recover_worker(&w).await.expect("recover");
    assert_eq!((state.next_batch, state.reclaimed), (2, 3));
    assert!(matches!(
        f.renew(&h.lease).await,
        Err(FrontierError::Fenced(_))
    ));
    assert!(matches!(
        f.block(&hb.lease, Duration::from_secs(1)).await,
        Err(FrontierError::Fenced(_))
    ));
    let h2 = f
        .claim(&worker("w2"), 1, 10)
        .await
        .expect("claim")
        .remove(0);
    assert_eq!(
        (h2.urls[0].url.as_str(), h2.urls[0].attempts),
        ("http://h1.test/p/0", 1)
    );
}

#[tokio::test]
async fn a_trap_host_stays_bounded() {
    let redis = RedisServer::start();
    let s = CrawlSettings {
        max_per_host: Some(1000),
        ..settings()
    };
    let (f, _) = RedisFrontier::create(&redis.url(), "trap", s)
        .await
        .expect("create");
    // One host offering 10⁵ distinct URLs (a calendar, a session id in the path...).
    let mut added = 0;
    let mut capped = 0;
    for chunk in (0..100_000).collect::<Vec<usize>>().chunks(10_000) {
        let urls: Vec<NewUrl> = chunk.iter().map(|&i| url(9, i)).collect();
        let r = f.enqueue(&urls).await.expect("enqueue");
        added += r.added;
        capped += r.host_capped;
    }
    assert_eq!((added, capped), (1000, 99_000));
    // Another host is not affected.
    let r = f.enqueue(&[url(10, 1)]).await.expect("enqueue");
    assert_eq!(r.added, 1);
    assert_eq!(f.stats().await.expect("stats").queued, 1001);
}

#[tokio::test]
async fn a_draining_release_lets_the_last_pages_commit() {
    let redis = RedisServer::start();
    let s = CrawlSettings {
        lease: Duration::from_millis(2000),
        ..settings()
    };
    let (f, _) = RedisFrontier::create(&redis.url(), "drain", s)
        .await
        .expect("create");
    f.enqueue(&(0..4).map(|i| url(4, i)).collect::<Vec<_>>())
        .await
        .expect("enqueue");
    let (w, other) = (worker("w"), worker("other"));
    let h = f.claim(&w, 1, 3).await.expect("claim").remove(0);
    let page = |i: usize| Finished {
        lease: h.lease.clone(),
        url: h.urls[i].url.clone(),
        outcome: Outcome::Done,
    };
    // Released while two pages still wait for their commit: the host is due again (its
    // last URL goes to someone else), and the two pages still commit under the old lease.
    f.complete(&w, 0, &[page(0)], "c0").await.expect("complete");
    f.release_draining(&h.lease, Duration::ZERO, None)
        .await
        .expect("release");
    let next = f.claim(&other, 1, 10).await.expect("claim");
    assert_eq!(next.len(), 1);
    let urls: Vec<&str> = next[0].urls.iter().map(|u| u.url.as_str()).collect();
    assert_eq!(urls, ["http://h4.test/p/3"]);
    assert!(matches!(
        f.renew(&h.lease).await,
        Err(FrontierError::Fenced(_))
    ));
    assert_eq!(
        f.complete(&w, 1, &[page(1), page(2)], "c1")
            .await
            .expect("complete"),
        [true, true]
    );
    assert_eq!(
        f.complete(&w, 2, &[page(1)], "c2").await.expect("complete"),
        [false],
        "completed once"
    );
    // An orphan whose holder dies is requeued by the reaper after a lease length.
    f.enqueue(&[url(4, 9)]).await.expect("enqueue");
    let h2 = f.claim(&other, 1, 10).await.expect("claim");
    assert!(h2.is_empty(), "h4 is held by `other`");
    let held = next[0].clone();
    f.release_draining(&held.lease, Duration::ZERO, None)
        .await
        .expect("release");
    let stats = f.stats().await.expect("stats");
    assert_eq!((stats.in_flight, stats.leased_hosts), (1, 0));
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(f.reap(16).await.expect("reap").leases, 1);
    let late = Finished {
        lease: held.lease.clone(),
        url: held.urls[0].url.clone(),
        outcome: Outcome::Done,
    };
    assert_eq!(
        f.complete(&other, 0, &[late], "x").await.expect("complete"),
        [false]
    );
    let stats = f.stats().await.expect("stats");
    assert_eq!((stats.done, stats.queued, stats.in_flight), (3, 2, 0));
    let again = f.claim(&w, 1, 10).await.expect("claim").remove(0);
    assert_eq!(
        again.urls[0].attempts, 1,
        "the orphan counts a failed attempt"
    );
    // A restarted worker gets its orphans back at once.
    f.release_draining(&again.lease, Duration::ZERO, None)
        .await
        .expect("release");
    assert_eq!(f.recover_worker(&w).await.expect("recover").reclaimed, 2);
    assert_eq!(f.stats().await.expect("stats").queued, 2);
}
