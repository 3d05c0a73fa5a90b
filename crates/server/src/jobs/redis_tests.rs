//! Tests of the cluster's job store against a real `redis-server`.

use super::*;
use gannet_testkit::redis::RedisServer;

async fn store(redis: &RedisServer, cap: u64) -> RedisStore {
    RedisStore::connect(&redis.url(), ResultCap(cap))
        .await
        .expect("connect")
}

#[tokio::test]
async fn results_page_by_keyset_with_caps_and_once_per_url() {
    let redis = RedisServer::start();
    let s = store(&redis, 1 << 30).await;
    let id = s
        .create(
            "batch",
            serde_json::json!({"urls": []}),
            250,
            Duration::from_secs(60),
        )
        .await
        .expect("create");
    let rows: Vec<(String, String)> = (0..250)
        .map(|i| (format!("http://x/{i}"), format!("{{\"n\":{i}}}")))
        .collect();
    assert_eq!(s.add(&id, &rows, 0).await.expect("add"), Added::Stored(250));
    // A re-sent add (a lost reply, a worker's aborted batch) stores nothing twice.
    assert_eq!(
        s.add(&id, &rows[..10], 0).await.expect("add"),
        Added::Stored(0)
    );
    let (mut cursor, mut seen, mut pages) = (0, Vec::new(), 0);
    loop {
        let (rows, next) = s.results_page(&id, cursor, 1000).await.expect("page");
        assert!(rows.len() <= MAX_PAGE_ITEMS);
        seen.extend(rows.into_iter().map(|r| r.body));
        pages += 1;
        match next {
            Some(n) => cursor = n,
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (250, 3));
    assert_eq!(seen[249], "{\"n\":249}", "in order, decompressed");
    let job = s.get(&id).await.expect("get").expect("a job");
    assert_eq!((job.done, job.status), (250, Status::Queued));
    assert_eq!(s.done_urls(&id).await.expect("urls").len(), 250);
}

#[tokio::test]
async fn a_replica_keeps_what_never_changes_and_reads_what_moves() {
    let redis = RedisServer::start();
    let s = store(&redis, 1 << 30).await;
    let id = s
        .create(
            "batch",
            serde_json::json!({"urls": ["u"]}),
            0,
            Duration::from_secs(600),
        )
        .await
        .expect("create");
    let rows = |from: usize, to: usize| -> Vec<(String, String)> {
        (from..to)
            .map(|i| (format!("http://x/{i}"), format!("{{\"n\":{i}}}")))
            .collect()
    };
    s.add(&id, &rows(0, 150), 0).await.expect("add");
    let running = s.get(&id).await.expect("get").expect("job");
    assert_eq!((running.done, running.status), (150, Status::Queued));
    // A full page (one follows) is kept once asked for twice; the last page is not
    // while the job runs: it grows.
    for _ in 0..2 {
        assert_eq!(
            s.results_page(&id, 0, 100).await.expect("page").0.len(),
            100
        );
        assert_eq!(
            s.results_page(&id, 100, 100).await.expect("page").0.len(),
            50
        );
    }
    s.add(&id, &rows(150, 160), 0).await.expect("add");
    let (last, next) = s.results_page(&id, 100, 100).await.expect("page");
    assert_eq!((last.len(), next), (60, None), "the new results are read");
    assert_eq!(s.get(&id).await.expect("get").expect("job").done, 160);
    assert!(
        s.set_status(&id, Status::Completed, None, 0)
            .await
            .expect("done")
    );
    let done = s.get(&id).await.expect("get").expect("job");
    assert_eq!((done.done, done.status), (160, Status::Completed));
    for _ in 0..2 {
        s.results_page(&id, 100, 100).await.expect("page");
    }
    // Served from this replica's memory now: even with the keys gone from Redis.
    let _: () = redis::cmd("DEL")
        .arg(job_key(&id))
        .arg(results_key(&id))
        .query_async(&mut s.conn())
        .await
        .expect("del");
    let cached = s.get(&id).await.expect("get").expect("a cached job");
    let request: serde_json::Value = serde_json::from_str(&cached.request).expect("json");
    assert_eq!((cached.done, request["urls"][0].as_str()), (160, Some("u")));
    assert_eq!(
        s.results_page(&id, 0, 100).await.expect("page").0.len(),
        100
    );
    let (last, _) = s.results_page(&id, 100, 100).await.expect("page");
    assert_eq!(last.last().map(|r| r.body.as_str()), Some("{\"n\":159}"));
    // A replica without the cache reads Redis: the job is gone.
    let plain = store(&redis, 1 << 30).await.with_cache(0);
    assert!(plain.get(&id).await.expect("get").is_none());
}

#[tokio::test]
async fn leases_fence_a_stale_holder_and_the_byte_cap_ends_the_job() {
    let redis = RedisServer::start();
    let s = store(&redis, 64).await;
    let id = s
        .create(
            "batch",
            serde_json::json!({"urls": []}),
            3,
            Duration::from_secs(60),
        )
        .await
        .expect("create");
    let lease = Duration::from_millis(200);
    let a = s
        .claim(&id, "a", lease)
        .await
        .expect("claim")
        .expect("a token");
    assert_eq!(
        s.claim(&id, "b", lease).await.expect("claim"),
        None,
        "held by a"
    );
    assert_eq!(
        s.get(&id).await.expect("get").expect("job").status,
        Status::Running
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    // a's lease expired: b takes over with a newer token; a is fenced everywhere.
    let b = s
        .claim(&id, "b", lease)
        .await
        .expect("claim")
        .expect("b token");
    assert!(b > a);
    assert!(!s.renew(&id, "a", a, Some(lease)).await.expect("renew"));
    let row = vec![("http://x/1".to_string(), "x".repeat(10))];
    assert_eq!(s.add(&id, &row, a).await.expect("add"), Added::Fenced);
    assert!(
        !s.set_status(&id, Status::Completed, None, a)
            .await
            .expect("status")
    );
    assert_eq!(s.add(&id, &row, b).await.expect("add"), Added::Stored(1));
    // Past the cap (64 bytes compressed): refused, and the job says why.
    let noise: String = (0..8).map(|_| crate::jobs::new_id()).collect();
    let big = vec![("http://x/2".to_string(), noise)];
    assert!(matches!(
        s.add(&id, &big, b).await.expect("add"),
        Added::Capped(0)
    ));
    assert!(
        s.get(&id)
            .await
            .expect("get")
            .expect("job")
            .error
            .is_some_and(|e| e.contains("cap"))
    );
    assert!(
        s.set_status(&id, Status::Completed, None, b)
            .await
            .expect("status")
    );
    assert!(s.renew(&id, "b", b, None).await.expect("hand back"));
    assert!(s.unfinished().await.expect("unfinished").is_empty());
    let ttl: i64 = redis::cmd("TTL")
        .arg(job_key(&id))
        .query_async(&mut s.conn())
        .await
        .expect("ttl");
    assert!(ttl > 0, "a finished job expires");
}
