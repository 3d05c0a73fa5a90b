//! The SQLite frontier: seen-set, per-host queues, the ready set, commits and recovery.

use gannet_frontier::{
    CommitBatch, Frontier, LEASED, NewUrl, PageUpdate, StoreConfig, UrlState, canonicalize_str,
};

fn new(url: &str, depth: u32) -> NewUrl {
    NewUrl {
        url: canonicalize_str(url).expect("test URL"),
        depth,
        referrer: None,
    }
}

fn done(id: i64) -> PageUpdate {
    PageUpdate {
        id,
        state: UrlState::Done,
        status: 200,
        reason: None,
        etag: Some("\"v1\"".into()),
        last_modified: None,
    }
}

#[test]
fn the_seen_set_drops_known_urls() {
    let mut f = Frontier::open_in_memory(StoreConfig::default()).unwrap();
    assert_eq!(
        f.enqueue(&[new("http://a/1", 0), new("http://a/1#x", 0)])
            .unwrap(),
        1
    );
    assert_eq!(
        f.enqueue(&[new("HTTP://A:80/1", 0), new("http://a/2", 1)])
            .unwrap(),
        1
    );
    assert_eq!(f.counts().unwrap().queued, 2);
}

#[test]
fn hosts_are_due_in_ready_order_and_leased_once() {
    let mut f = Frontier::open_in_memory(StoreConfig::default()).unwrap();
    f.enqueue(&[
        new("http://a/1", 0),
        new("http://b/1", 0),
        new("http://a/2", 0),
    ])
    .unwrap();
    let due = f.due_hosts(0, 10).unwrap();
    assert_eq!(due.len(), 2);
    // Leased: not due again.
    assert!(f.due_hosts(i64::MAX - 1, 10).unwrap().is_empty());
    let (a, origin) = due.iter().find(|(_, o)| o == "http://a").unwrap().clone();
    assert_eq!(origin, "http://a");
    let urls = f.take(a, 10).unwrap();
    assert_eq!(
        urls.iter().map(|c| c.url.as_str()).collect::<Vec<_>>(),
        ["http://a/1", "http://a/2"]
    );
    // Released into the future: due only from then on.
    for (id, _) in &due {
        f.release_host(*id, 5_000).unwrap();
    }
    f.enqueue(&[new("http://a/3", 1)]).unwrap();
    assert!(f.due_hosts(4_999, 10).unwrap().is_empty());
    let again = f.due_hosts(5_000, 10).unwrap();
    // b still has its URL, a has the new one.
    assert_eq!(again.len(), 2);
    assert_eq!(f.next_ready_at().unwrap(), None, "both leased");
}

#[test]
fn commits_apply_outcomes_links_and_position_together() {
    let mut f = Frontier::open_in_memory(StoreConfig::default()).unwrap();
    f.enqueue(&[new("http://a/", 0)]).unwrap();
    let (host, _) = f.due_hosts(0, 1).unwrap()[0].clone();
    let page = f.take(host, 1).unwrap().remove(0);
    let batch = CommitBatch {
        pages: vec![done(page.id)],
        links: vec![
            new("http://a/", 1),
            new("http://a/next", 1),
            new("http://b/x", 1),
        ],
        sink_position: Some("{\"offset\":123}".into()),
    };
    assert_eq!(f.commit(&batch).unwrap(), 2);
    let counts = f.counts().unwrap();
    assert_eq!((counts.done, counts.queued, counts.in_flight), (1, 2, 0));
    assert_eq!(
        f.meta("sink_position").unwrap().as_deref(),
        Some("{\"offset\":123}")
    );
}

#[test]
fn recovery_requeues_in_flight_urls_and_leased_hosts() {
    let dir = std::env::temp_dir().join(format!("gannet-frontier-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    {
        let mut f = Frontier::open(&dir, StoreConfig::default()).unwrap();
        f.enqueue(&[
            new("http://a/1", 0),
            new("http://a/2", 0),
            new("http://a/3", 0),
        ])
        .unwrap();
        let (host, _) = f.due_hosts(0, 1).unwrap()[0].clone();
        let taken = f.take(host, 2).unwrap();
        f.commit(&CommitBatch {
            pages: vec![done(taken[0].id)],
            ..CommitBatch::default()
        })
        .unwrap();
        // Dropped here with /2 in flight and the host leased, as after kill -9.
    }
    let mut f = Frontier::open(&dir, StoreConfig::default()).unwrap();
    assert_eq!(f.recover().unwrap(), 1);
    let counts = f.counts().unwrap();
    assert_eq!((counts.done, counts.queued, counts.in_flight), (1, 2, 0));
    let (host, _) = f.due_hosts(0, 1).unwrap()[0].clone();
    let urls: Vec<String> = f
        .take(host, 10)
        .unwrap()
        .into_iter()
        .map(|c| c.url)
        .collect();
    assert_eq!(urls, ["http://a/2", "http://a/3"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn refresh_requeues_done_pages_with_their_validators() {
    let mut f = Frontier::open_in_memory(StoreConfig::default()).unwrap();
    f.enqueue(&[new("http://a/", 0)]).unwrap();
    let (host, _) = f.due_hosts(0, 1).unwrap()[0].clone();
    let page = f.take(host, 1).unwrap().remove(0);
    f.commit(&CommitBatch {
        pages: vec![done(page.id)],
        ..CommitBatch::default()
    })
    .unwrap();
    f.release_host(host, 0).unwrap();
    assert_eq!(f.requeue_done().unwrap(), 1);
    let (host, _) = f.due_hosts(0, 1).unwrap()[0].clone();
    let again = f.take(host, 1).unwrap().remove(0);
    assert_eq!(again.etag.as_deref(), Some("\"v1\""));
}

#[test]
fn max_pages_per_host_caps_what_is_enqueued() {
    let mut f = Frontier::open_in_memory(StoreConfig {
        max_pages_per_host: Some(3),
        ..StoreConfig::default()
    })
    .unwrap();
    let urls: Vec<NewUrl> = (0..10).map(|i| new(&format!("http://a/{i}"), 1)).collect();
    assert_eq!(f.enqueue(&urls).unwrap(), 3);
    assert_eq!(
        f.enqueue(&[new("http://a/99", 1), new("http://b/", 1)])
            .unwrap(),
        1
    );
}

#[test]
fn failed_and_skipped_reasons_are_counted() {
    let mut f = Frontier::open_in_memory(StoreConfig::default()).unwrap();
    f.enqueue(&[
        new("http://a/1", 0),
        new("http://a/2", 0),
        new("http://a/3", 0),
    ])
    .unwrap();
    let (host, _) = f.due_hosts(0, 1).unwrap()[0].clone();
    let t = f.take(host, 3).unwrap();
    let fail = |id, state, reason: &str| PageUpdate {
        id,
        state,
        status: 0,
        reason: Some(reason.into()),
        etag: None,
        last_modified: None,
    };
    let pages = vec![
        fail(t[0].id, UrlState::Skipped, "robots.txt"),
        fail(t[1].id, UrlState::Skipped, "robots.txt"),
        fail(t[2].id, UrlState::Queued, "shutdown"),
    ];
    f.commit(&CommitBatch {
        pages,
        ..CommitBatch::default()
    })
    .unwrap();
    assert_eq!(f.reasons().unwrap(), [("robots.txt".to_string(), 2)]);
    let counts = f.counts().unwrap();
    assert_eq!((counts.skipped, counts.queued), (2, 1));
    assert_ne!(LEASED, 0);
}
