//! What the SQLite frontier does beyond the conformance suite: `--refresh`, the reasons
//! summary, state directories of older versions.

use gannet_frontier::{
    CommitBatch, Frontier, NewUrl, PageUpdate, SqliteFrontier, StoreConfig, UrlState,
    canonicalize_str,
};
use std::time::Duration;

fn new(url: &str, depth: u32) -> NewUrl {
    NewUrl {
        url: canonicalize_str(url).expect("test URL"),
        depth,
        referrer: None,
    }
}

#[tokio::test]
async fn refresh_requeues_done_pages_with_their_validators() {
    let f = SqliteFrontier::open_in_memory(StoreConfig::default()).unwrap();
    f.enqueue(&[new("http://a/", 0)]).await.unwrap();
    let host = f.claim_hosts(1).await.unwrap().remove(0);
    let page = f.take(&host, 1).await.unwrap().remove(0);
    let update = PageUpdate {
        key: page.key,
        lease: page.lease,
        state: UrlState::Done,
        status: 200,
        reason: None,
        etag: Some("\"v1\"".into()),
        last_modified: None,
    };
    f.commit(&CommitBatch {
        pages: vec![update],
        ..CommitBatch::default()
    })
    .await
    .unwrap();
    f.release(host, Duration::ZERO).await.unwrap();
    assert_eq!(f.requeue_done().unwrap(), 1);
    let host = f.claim_hosts(1).await.unwrap().remove(0);
    let again = f.take(&host, 1).await.unwrap().remove(0);
    assert_eq!(again.url, "http://a/");
    assert_eq!(again.etag.as_deref(), Some("\"v1\""));
}

#[tokio::test]
async fn failed_and_skipped_reasons_are_counted() {
    let f = SqliteFrontier::open_in_memory(StoreConfig::default()).unwrap();
    f.enqueue(&[
        new("http://a/1", 0),
        new("http://a/2", 0),
        new("http://a/3", 0),
    ])
    .await
    .unwrap();
    let host = f.claim_hosts(1).await.unwrap().remove(0);
    let t = f.take(&host, 3).await.unwrap();
    let fail = |i: usize, state, reason: &str| PageUpdate {
        key: t[i].key,
        lease: t[i].lease,
        state,
        status: 0,
        reason: Some(reason.into()),
        etag: None,
        last_modified: None,
    };
    let pages = vec![
        fail(0, UrlState::Skipped, "robots.txt"),
        fail(1, UrlState::Skipped, "robots.txt"),
        fail(2, UrlState::Failed, "HTTP 404 Not Found"),
    ];
    f.commit(&CommitBatch {
        pages,
        ..CommitBatch::default()
    })
    .await
    .unwrap();
    assert_eq!(
        f.reasons().unwrap(),
        [
            ("robots.txt".to_string(), 2),
            ("HTTP 404 Not Found".to_string(), 1)
        ]
    );
}

/// A state directory written before the `attempts`/`not_before` columns existed opens,
/// gains them, and keeps its URLs.
#[tokio::test]
async fn a_state_directory_of_an_older_version_is_upgraded() {
    let dir = std::env::temp_dir().join(format!("gannet-frontier-old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    {
        let conn = rusqlite::Connection::open(dir.join("frontier.sqlite")).unwrap();
        conn.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE hosts (id INTEGER PRIMARY KEY, origin TEXT NOT NULL UNIQUE,
                 queued INTEGER NOT NULL DEFAULT 0, ready_at INTEGER NOT NULL DEFAULT 0,
                 pages INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE urls (id INTEGER PRIMARY KEY, fp INTEGER NOT NULL UNIQUE,
                 host INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0,
                 depth INTEGER NOT NULL, url TEXT NOT NULL, referrer TEXT, status INTEGER,
                 reason TEXT, etag TEXT, last_modified TEXT);
             INSERT INTO hosts (id, origin, queued, ready_at, pages)
                 VALUES (1, 'http://a', 1, 9223372036854775807, 2);
             INSERT INTO urls (fp, host, state, depth, url) VALUES (1, 1, 1, 0, 'http://a/1');
             INSERT INTO urls (fp, host, state, depth, url) VALUES (2, 1, 0, 0, 'http://a/2');
             INSERT INTO meta (key, value) VALUES ('sink_position', '42');",
        )
        .unwrap();
    }
    let f = SqliteFrontier::open(&dir, StoreConfig::default()).unwrap();
    assert_eq!(f.recover().await.unwrap(), 1);
    let state = f.resume_state().await.unwrap();
    assert_eq!(
        state.checkpoint.map(|c| c.into_string()).as_deref(),
        Some("42")
    );
    let host = f.claim_hosts(1).await.unwrap().remove(0);
    let urls: Vec<String> = f
        .take(&host, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.url)
        .collect();
    assert_eq!(urls, ["http://a/1", "http://a/2"]);
    drop(f);
    std::fs::remove_dir_all(&dir).unwrap();
}
