//! Faults against real `redis-server` processes: fencing, expired leases and dead letters,
//! a crash inside a completion, Redis killed and restarted, an evicting Redis, draining.

mod common;

use common::{RedisServer, cli, drain, settings, url, worker};
use gannet_frontier_redis::{
    CrawlSettings, Finished, FrontierError, Outcome, RedisFrontier, Retried,
};
use std::collections::BTreeSet;
use std::time::Duration;

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

/// A worker prepares every URL it holds (phase 1 of a completion), then pauses past its
/// lease: the lease's in-flight set is empty when it is reaped. Lua's `-#{}` is `-0`, which
/// Redis refused as "value is not an integer", so every claim of that shard failed until the
/// worker came back (for good if it never did).
#[tokio::test]
async fn a_lease_expiring_with_every_url_prepared_is_reaped() {
    let redis = RedisServer::start();
    let s = CrawlSettings {
        lease: Duration::from_millis(200),
        ..settings()
    };
    let (f, _) = RedisFrontier::create(&redis.url(), "empty-lease", s)
        .await
        .expect("create");
    f.enqueue(&[url(7, 1), url(7, 2)]).await.expect("enqueue");
    let (w1, w2) = (worker("w1"), worker("w2"));
    let h = f.claim(&w1, 1, 1).await.expect("claim").remove(0);
    let page = Finished {
        lease: h.lease.clone(),
        url: h.urls[0].url.clone(),
        outcome: Outcome::Done,
    };
    let prepared = f.prepare(&w1, 0, &[page]).await.expect("prepare");
    assert_eq!(prepared.accepted, [true]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The reaper and another worker's claim both get past the expired, empty lease.
    let r = f.reap(16).await.expect("reap");
    assert_eq!(r.leases, 1);
    let next = f.claim(&w2, 1, 10).await.expect("claim");
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].urls.len(), 1);
    assert_eq!(next[0].urls[0].url, url(7, 2).url);
    // w1's prepared page still commits: it had been handed out and finished exactly once.
    f.commit(&prepared, "offset=1").await.expect("commit");
    let stats = f.stats().await.expect("stats");
    assert_eq!((stats.done, stats.prepared, stats.in_flight), (1, 0, 1));
}
