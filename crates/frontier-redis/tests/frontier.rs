//! The Redis frontier against real `redis-server` processes on loopback: enqueue, the
//! page limit, claims, politeness, retries, recovery of a restarted worker.

mod common;

use common::{RedisServer, drain, settings, url, worker};
use gannet_frontier_redis::{
    CrawlSettings, Finished, FrontierError, NewUrl, Outcome, RedisFrontier, Retried,
};
use std::time::Duration;

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
