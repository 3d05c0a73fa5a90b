//! The conformance suite: what every [`Frontier`] backend must do, as generic test
//! functions over a [`Harness`] (ripgrep's one suite over every backend).
//!
//! A backend crate enables the feature `conformance` in its dev-dependencies, implements
//! [`Harness`] (a fresh frontier; the same frontier opened again as after a `kill -9` of
//! its owner), and expands [`conformance_tests!`](crate::conformance_tests) in a test file:
//!
//! ```ignore
//! struct Sqlite { dir: PathBuf, settings: Settings }
//! impl Harness for Sqlite { ... }
//! gannet_frontier::conformance_tests!(Sqlite::new());
//! ```
//!
//! Each case is a `#[tokio::test]` (the test crate needs `tokio` with `macros`). Timings
//! are relative and generous (a host due in 300 ms is asked for before and after), so the
//! suite holds on a loaded machine and against a backend that uses its own clock.

use crate::api::{
    Checkpoint, Claimed, CommitBatch, Counts, Frontier, FrontierError, HostLease, NewUrl,
    PageUpdate, Retried, UrlState,
};
use crate::canon::canonicalize_str;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The settings a case needs of a fresh frontier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Most URLs enqueued per host.
    pub max_pages_per_host: Option<u64>,
    /// Failed attempts after which a URL is dead-lettered.
    pub max_attempts: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_pages_per_host: None,
            max_attempts: 3,
        }
    }
}

/// How the suite gets frontiers of a backend.
pub trait Harness {
    /// A new, empty frontier (its own state: no case sees another's URLs).
    fn fresh(&mut self, settings: Settings) -> impl Future<Output = Arc<dyn Frontier>>;

    /// The frontier `fresh` made last, opened again as a restarted owner would (the suite
    /// drops its handles first, without any stop: as after `kill -9`).
    fn reopen(&mut self) -> impl Future<Output = Arc<dyn Frontier>>;
}

/// Expands to one `#[tokio::test]` per case of the suite, each with a harness made by
/// `$harness` (an expression, evaluated per case).
#[macro_export]
macro_rules! conformance_tests {
    ($harness:expr) => {
        $crate::conformance_tests!(@cases $harness;
            enqueue_drops_seen_urls_and_counts_new_ones,
            enqueue_honours_the_host_page_limit,
            a_claimed_host_is_not_claimed_twice,
            a_released_host_is_due_after_its_delay,
            commit_applies_outcomes_links_and_checkpoint,
            outcomes_move_urls_between_states,
            a_stale_lease_is_refused,
            retry_later_waits_then_hands_the_url_out_again,
            a_url_failing_too_often_is_dead_lettered,
            a_blocked_host_stays_back_for_every_holder,
            reopen_after_a_crash_recovers_in_flight_urls
        );
    };
    // The cases above, and the two-phase commit's prepare (a backend that fences before
    // the sink write).
    ($harness:expr, prepare) => {
        $crate::conformance_tests!($harness);
        $crate::conformance_tests!(@cases $harness;
            prepare_accepts_current_leases_and_refuses_stale_ones
        );
    };
    // The cases above, and robots.txt shared between holders (a backend with several
    // workers).
    ($harness:expr, prepare, shared) => {
        $crate::conformance_tests!($harness, prepare);
        $crate::conformance_tests!(@cases $harness;
            robots_shared_by_a_holder_reach_the_next_holder
        );
    };
    (@cases $harness:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test]
            async fn $case() {
                let mut harness = $harness;
                $crate::conformance::$case(&mut harness).await;
            }
        )*
    };
}

fn new(url: &str, depth: u32) -> NewUrl {
    NewUrl {
        url: canonicalize_str(url).expect("a test URL"),
        depth,
        referrer: None,
    }
}

fn outcome(c: &Claimed, state: UrlState, reason: Option<&str>) -> PageUpdate {
    PageUpdate {
        key: c.key,
        lease: c.lease,
        state,
        status: if state == UrlState::Done { 200 } else { 0 },
        reason: reason.map(str::to_owned),
        etag: (state == UrlState::Done).then(|| "\"v1\"".to_owned()),
        last_modified: None,
    }
}

fn urls(claimed: &[Claimed]) -> Vec<&str> {
    claimed.iter().map(|c| c.url.as_str()).collect()
}

async fn counts(f: &dyn Frontier) -> Counts {
    f.counts().await.expect("counts")
}

async fn claim_one(f: &dyn Frontier, origin: &str) -> HostLease {
    let hosts = f.claim_hosts(10).await.expect("claim hosts");
    let origins: Vec<&str> = hosts.iter().map(|h| h.origin.as_str()).collect();
    assert_eq!(origins, [origin], "the due hosts");
    hosts.into_iter().next().expect("one host")
}

async fn commit(f: &dyn Frontier, pages: Vec<PageUpdate>, links: Vec<NewUrl>) -> u64 {
    let done = f
        .commit(&CommitBatch {
            pages,
            links,
            checkpoint: None,
        })
        .await
        .expect("commit");
    assert!(done.refused.is_empty(), "refused: {:?}", done.refused);
    done.added
}

fn assert_lease_lost<T: std::fmt::Debug>(r: Result<T, FrontierError>, what: &str) {
    match r {
        Err(FrontierError::LeaseLost { .. }) => {}
        other => panic!("{what}: expected LeaseLost, got {other:?}"),
    }
}

/// Batched enqueue with the seen-test: canonical duplicates (in one batch, across
/// batches) are dropped and only new URLs are counted.
pub async fn enqueue_drops_seen_urls_and_counts_new_ones(h: &mut impl Harness) {
    let f = h.fresh(Settings::default()).await;
    let added = f
        .enqueue(&[
            new("http://a/1", 0),
            new("http://a/1#x", 0),
            new("http://b/1", 0),
        ])
        .await
        .expect("enqueue");
    assert_eq!(added, 2);
    let added = f
        .enqueue(&[
            new("HTTP://A:80/1", 0),
            new("http://a/2", 1),
            new("http://b/1", 1),
        ])
        .await
        .expect("enqueue");
    assert_eq!(added, 1);
    assert_eq!(f.enqueue(&[]).await.expect("enqueue nothing"), 0);
    let c = counts(&*f).await;
    assert_eq!((c.queued, c.in_flight, c.done), (3, 0, 0));
}

/// A host takes at most its page limit of URLs, over any number of batches.
pub async fn enqueue_honours_the_host_page_limit(h: &mut impl Harness) {
    let f = h
        .fresh(Settings {
            max_pages_per_host: Some(3),
            ..Settings::default()
        })
        .await;
    let batch: Vec<NewUrl> = (0..10).map(|i| new(&format!("http://a/{i}"), 1)).collect();
    assert_eq!(f.enqueue(&batch).await.expect("enqueue"), 3);
    let more = [new("http://a/99", 1), new("http://b/", 1)];
    assert_eq!(f.enqueue(&more).await.expect("enqueue"), 1);
    assert_eq!(counts(&*f).await.queued, 4);
}

/// Politeness: a claimed host is leased (not handed out again), its URLs come oldest first,
/// and the leases differ.
pub async fn a_claimed_host_is_not_claimed_twice(h: &mut impl Harness) {
    let f = h.fresh(Settings::default()).await;
    f.enqueue(&[
        new("http://a/1", 0),
        new("http://b/1", 0),
        new("http://a/2", 0),
    ])
    .await
    .expect("enqueue");
    let mut hosts = f.claim_hosts(10).await.expect("claim");
    hosts.sort_by(|x, y| x.origin.cmp(&y.origin));
    let origins: Vec<&str> = hosts.iter().map(|h| h.origin.as_str()).collect();
    assert_eq!(origins, ["http://a", "http://b"]);
    assert_ne!(hosts[0].lease, hosts[1].lease);
    assert_ne!(hosts[0].host, hosts[1].host);
    assert!(f.claim_hosts(10).await.expect("claim").is_empty(), "leased");
    assert_eq!(f.next_ready().await.expect("next ready"), None, "all held");
    let a = &hosts[0];
    let taken = f.take(a, 10).await.expect("take");
    assert_eq!(urls(&taken), ["http://a/1", "http://a/2"]);
    assert!(taken.iter().all(|c| c.lease == a.lease && c.depth == 0));
    assert!(f.take(a, 10).await.expect("take again").is_empty());
    let c = counts(&*f).await;
    assert_eq!((c.queued, c.in_flight), (1, 2));
    // Claiming is bounded by its limit.
    f.enqueue(&[new("http://c/", 0), new("http://d/", 0)])
        .await
        .expect("enqueue");
    assert_eq!(f.claim_hosts(1).await.expect("claim").len(), 1);
}

/// A released host is due again after the delay its holder computed, not before.
pub async fn a_released_host_is_due_after_its_delay(h: &mut impl Harness) {
    let f = h.fresh(Settings::default()).await;
    f.enqueue(&[
        new("http://a/1", 0),
        new("http://a/2", 0),
        new("http://b/1", 0),
    ])
    .await
    .expect("enqueue");
    let mut hosts = f.claim_hosts(10).await.expect("claim");
    hosts.sort_by(|x, y| x.origin.cmp(&y.origin));
    let b = hosts.pop().expect("b");
    let a = hosts.pop().expect("a");
    let a1 = f.take(&a, 1).await.expect("take");
    assert_eq!(urls(&a1), ["http://a/1"]);
    // Completed first: a shared backend keeps a host with URLs in flight back until
    // they are committed (a draining release).
    commit(&*f, vec![outcome(&a1[0], UrlState::Done, None)], Vec::new()).await;
    f.release(a, Duration::from_secs(60))
        .await
        .expect("release a");
    f.release(b, Duration::from_millis(300))
        .await
        .expect("release b");
    assert!(
        f.claim_hosts(10).await.expect("claim").is_empty(),
        "not due"
    );
    let wait = f.next_ready().await.expect("next ready").expect("a host");
    assert!(wait <= Duration::from_millis(300), "b first, in {wait:?}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let b = claim_one(&*f, "http://b").await;
    let wait = f
        .next_ready()
        .await
        .expect("next ready")
        .expect("a is queued");
    assert!(
        wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
        "a waits its delay: {wait:?}"
    );
    assert_eq!(urls(&f.take(&b, 10).await.expect("take")), ["http://b/1"]);
}

/// A commit applies outcomes, new links (through the seen-test) and the checkpoint.
pub async fn commit_applies_outcomes_links_and_checkpoint(h: &mut impl Harness) {
    let f = h.fresh(Settings::default()).await;
    let seeds = [canonicalize_str("http://a/").expect("seed")];
    f.set_seeds(&seeds).await.expect("set seeds");
    f.enqueue(&[new("http://a/", 0)]).await.expect("enqueue");
    let a = claim_one(&*f, "http://a").await;
    let page = f.take(&a, 1).await.expect("take").remove(0);
    let done = f
        .commit(&CommitBatch {
            pages: vec![outcome(&page, UrlState::Done, None)],
            links: vec![
                new("http://a/", 1),
                new("http://a/next", 1),
                new("http://b/x", 1),
            ],
            checkpoint: Some(Checkpoint::new("{\"offset\":123}".into())),
        })
        .await
        .expect("commit");
    assert_eq!(done.added, 2);
    assert!(done.refused.is_empty());
    let c = counts(&*f).await;
    assert_eq!((c.done, c.queued, c.in_flight), (1, 2, 0));
    let state = f.resume_state().await.expect("resume state");
    assert_eq!(state.seeds, seeds);
    assert_eq!(
        state.checkpoint.as_ref().map(Checkpoint::as_str),
        Some("{\"offset\":123}")
    );
    // The new link of the held host is taken under the same lease.
    let next = f.take(&a, 10).await.expect("take");
    assert_eq!(urls(&next), ["http://a/next"]);
    assert_eq!(next[0].depth, 1);
    // A later checkpoint replaces the earlier one; an empty commit changes nothing else.
    f.commit(&CommitBatch {
        checkpoint: Some(Checkpoint::new("{\"offset\":456}".into())),
        ..CommitBatch::default()
    })
    .await
    .expect("commit checkpoint");
    let state = f.resume_state().await.expect("resume state");
    assert_eq!(
        state.checkpoint.map(Checkpoint::into_string).as_deref(),
        Some("{\"offset\":456}")
    );
    assert_eq!(counts(&*f).await.in_flight, 1);
}

/// Failed, skipped and cut-short (queued again) outcomes land in their counts.
pub async fn outcomes_move_urls_between_states(h: &mut impl Harness) {
    let f = h.fresh(Settings::default()).await;
    let batch: Vec<NewUrl> = (1..=4).map(|i| new(&format!("http://a/{i}"), 0)).collect();
    f.enqueue(&batch).await.expect("enqueue");
    let a = claim_one(&*f, "http://a").await;
    let t = f.take(&a, 4).await.expect("take");
    assert_eq!(t.len(), 4);
    commit(
        &*f,
        vec![
            outcome(&t[0], UrlState::Done, None),
            outcome(&t[1], UrlState::Failed, Some("HTTP 404 Not Found")),
            outcome(&t[2], UrlState::Skipped, Some("robots.txt")),
            outcome(&t[3], UrlState::Queued, Some("shutdown")),
        ],
        Vec::new(),
    )
    .await;
    let c = counts(&*f).await;
    assert_eq!(
        (c.done, c.failed, c.skipped, c.queued, c.in_flight, c.dead),
        (1, 1, 1, 1, 0, 0)
    );
    // The URL put back is handed out again.
    assert_eq!(urls(&f.take(&a, 4).await.expect("take")), ["http://a/4"]);
    // A URL completed twice counts once: the second completion is refused.
    let again = f
        .commit(&CommitBatch {
            pages: vec![outcome(&t[0], UrlState::Done, None)],
            ..CommitBatch::default()
        })
        .await
        .expect("commit");
    assert_eq!(again.refused, [t[0].key]);
    assert_eq!(counts(&*f).await.done, 1);
}

/// Fencing: after a recovery, the old lease can neither take, renew, release nor retry,
/// and its completion of a URL someone else now holds is refused.
/// `share_robots` by the lease holder reaches the host's next holder, with its age; a
/// stale holder cannot share.
pub async fn robots_shared_by_a_holder_reach_the_next_holder(h: &mut impl Harness) {
    let f = h.fresh(Settings::default()).await;
    f.enqueue(&[new("http://a/1", 0), new("http://a/2", 0)])
        .await
        .expect("enqueue");
    let first = claim_one(&*f, "http://a").await;
    assert_eq!(first.shared_robots, None, "nothing shared yet");
    let body = "User-agent: *\nDisallow: /private\n";
    f.share_robots(&first, body).await.expect("share");
    f.release(first.clone(), Duration::ZERO)
        .await
        .expect("release");
    let second = claim_one(&*f, "http://a").await;
    let shared = second.shared_robots.clone().expect("shared robots.txt");
    assert_eq!(shared.body, body);
    assert!(shared.age < Duration::from_secs(60), "age {:?}", shared.age);
    assert_lease_lost(f.share_robots(&first, "Disallow: /").await, "share_robots");
    f.release(second, Duration::ZERO).await.expect("release");
    let third = claim_one(&*f, "http://a").await;
    assert_eq!(
        third.shared_robots.map(|r| r.body.clone()).as_deref(),
        Some(body),
        "a stale holder's share changed nothing"
    );
}

pub async fn a_stale_lease_is_refused(h: &mut impl Harness) {
    let f = h.fresh(Settings::default()).await;
    f.enqueue(&[new("http://a/1", 0), new("http://a/2", 0)])
        .await
        .expect("enqueue");
    let old = claim_one(&*f, "http://a").await;
    f.renew(&old).await.expect("renew a held lease");
    let first = f.take(&old, 1).await.expect("take");
    assert_eq!(urls(&first), ["http://a/1"]);
    assert_eq!(f.recover().await.expect("recover"), 1);
    assert_lease_lost(f.take(&old, 1).await, "take");
    assert_lease_lost(f.renew(&old).await, "renew");
    assert_lease_lost(
        f.block_host(&old, Duration::from_secs(60)).await,
        "block_host",
    );
    assert_lease_lost(
        f.retry_later(first[0].key, first[0].lease, Duration::ZERO, "late")
            .await,
        "retry_later",
    );
    let new_holder = claim_one(&*f, "http://a").await;
    assert_ne!(new_holder.lease, old.lease);
    let again = f.take(&new_holder, 1).await.expect("take");
    assert_eq!(urls(&again), ["http://a/1"]);
    assert_ne!(again[0].lease, first[0].lease);
    let late = f
        .commit(&CommitBatch {
            pages: vec![outcome(&first[0], UrlState::Done, None)],
            links: vec![new("http://a/3", 1)],
            checkpoint: None,
        })
        .await
        .expect("commit");
    assert_eq!(late.refused, [first[0].key], "the stale completion");
    assert_eq!(
        late.added, 1,
        "links of a fenced page still pass the seen-test"
    );
    let c = counts(&*f).await;
    assert_eq!((c.done, c.in_flight), (0, 1));
    commit(
        &*f,
        vec![outcome(&again[0], UrlState::Done, None)],
        Vec::new(),
    )
    .await;
    assert_lease_lost(f.release(old, Duration::ZERO).await, "release");
    let c = counts(&*f).await;
    assert_eq!((c.done, c.in_flight, c.queued), (1, 0, 2));
    f.release(new_holder, Duration::ZERO)
        .await
        .expect("release the current lease");
}

/// A URL retried later goes back to its queue but is not handed out before its delay,
/// and its host is not due before then either.
pub async fn retry_later_waits_then_hands_the_url_out_again(h: &mut impl Harness) {
    let f = h.fresh(Settings::default()).await;
    f.enqueue(&[new("http://a/1", 0), new("http://a/2", 0)])
        .await
        .expect("enqueue");
    let a = claim_one(&*f, "http://a").await;
    let t = f.take(&a, 2).await.expect("take");
    let retried = f
        .retry_later(
            t[0].key,
            t[0].lease,
            Duration::from_millis(300),
            "timed out",
        )
        .await
        .expect("retry later");
    assert_eq!(retried, Retried::Queued { attempts: 1 });
    let c = counts(&*f).await;
    assert_eq!((c.queued, c.in_flight), (1, 1));
    assert!(f.take(&a, 10).await.expect("take").is_empty(), "not yet");
    commit(&*f, vec![outcome(&t[1], UrlState::Done, None)], Vec::new()).await;
    f.release(a, Duration::ZERO).await.expect("release");
    assert!(f.claim_hosts(10).await.expect("claim").is_empty(), "waits");
    let wait = f.next_ready().await.expect("next ready").expect("queued");
    assert!(wait <= Duration::from_millis(300), "due in {wait:?}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let a = claim_one(&*f, "http://a").await;
    let again = f.take(&a, 10).await.expect("take");
    assert_eq!(urls(&again), ["http://a/1"]);
    commit(
        &*f,
        vec![outcome(&again[0], UrlState::Done, None)],
        Vec::new(),
    )
    .await;
    assert_eq!(counts(&*f).await.done, 2);
}

/// After the attempt limit, a URL goes to the dead letters with its last error.
pub async fn a_url_failing_too_often_is_dead_lettered(h: &mut impl Harness) {
    let f = h
        .fresh(Settings {
            max_attempts: 2,
            ..Settings::default()
        })
        .await;
    f.enqueue(&[new("http://a/always-fails", 0)])
        .await
        .expect("enqueue");
    let mut outcomes = Vec::new();
    for error in ["HTTP 503 Service Unavailable", "timed out"] {
        let a = claim_one(&*f, "http://a").await;
        let t = f.take(&a, 1).await.expect("take");
        assert_eq!(urls(&t), ["http://a/always-fails"]);
        outcomes.push(
            f.retry_later(t[0].key, t[0].lease, Duration::ZERO, error)
                .await
                .expect("retry"),
        );
        f.release(a, Duration::ZERO).await.expect("release");
    }
    assert_eq!(
        outcomes,
        [
            Retried::Queued { attempts: 1 },
            Retried::DeadLettered { attempts: 2 }
        ]
    );
    let c = counts(&*f).await;
    assert_eq!((c.dead, c.queued, c.in_flight, c.failed), (1, 0, 0, 0));
    let dead = f.dead_letters(10).await.expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].url, "http://a/always-fails");
    assert_eq!(dead[0].error, "timed out");
    assert_eq!(dead[0].attempts, 2);
    assert_eq!(f.next_ready().await.expect("next ready"), None);
    assert!(f.claim_hosts(10).await.expect("claim").is_empty());
}

/// A block (Retry-After) holds the host back past a shorter release delay.
pub async fn a_blocked_host_stays_back_for_every_holder(h: &mut impl Harness) {
    let f = h.fresh(Settings::default()).await;
    f.enqueue(&[
        new("http://a/1", 0),
        new("http://a/2", 0),
        new("http://b/1", 0),
    ])
    .await
    .expect("enqueue");
    let mut hosts = f.claim_hosts(10).await.expect("claim");
    hosts.sort_by(|x, y| x.origin.cmp(&y.origin));
    let b = hosts.pop().expect("b");
    let a = hosts.pop().expect("a");
    f.take(&a, 1).await.expect("take");
    f.block_host(&a, Duration::from_secs(120))
        .await
        .expect("block");
    f.release(a, Duration::ZERO).await.expect("release");
    f.release(b, Duration::ZERO).await.expect("release");
    let b = claim_one(&*f, "http://b").await;
    let wait = f.next_ready().await.expect("next ready").expect("a queued");
    assert!(
        wait > Duration::from_secs(110) && wait <= Duration::from_secs(120),
        "blocked for {wait:?}"
    );
    f.release(b, Duration::ZERO).await.expect("release");
    // A block shorter than the release delay changes nothing.
    let b = claim_one(&*f, "http://b").await;
    f.block_host(&b, Duration::from_millis(1))
        .await
        .expect("block");
    f.release(b, Duration::from_secs(30))
        .await
        .expect("release");
    let wait = f.next_ready().await.expect("next ready").expect("queued");
    assert!(
        wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
        "b first, in {wait:?}"
    );
}

/// After a crash (no stop, no release), the reopened frontier puts the URLs in flight back
/// in their queues, keeps what was committed (outcomes, seeds, checkpoint), and fences the
/// dead owner's leases.
pub async fn reopen_after_a_crash_recovers_in_flight_urls(h: &mut impl Harness) {
    let f = h.fresh(Settings::default()).await;
    let seeds = [canonicalize_str("http://a/1").expect("seed")];
    f.set_seeds(&seeds).await.expect("set seeds");
    f.enqueue(&[
        new("http://a/1", 0),
        new("http://a/2", 0),
        new("http://a/3", 0),
    ])
    .await
    .expect("enqueue");
    let a = claim_one(&*f, "http://a").await;
    let taken = f.take(&a, 2).await.expect("take");
    let done = f
        .commit(&CommitBatch {
            pages: vec![outcome(&taken[0], UrlState::Done, None)],
            links: vec![new("http://b/", 1)],
            checkpoint: Some(Checkpoint::new("c1".into())),
        })
        .await
        .expect("commit");
    assert_eq!(done.added, 1);
    drop(f);
    let f = h.reopen().await;
    assert_eq!(f.recover().await.expect("recover"), 1);
    let c = counts(&*f).await;
    assert_eq!((c.done, c.queued, c.in_flight), (1, 3, 0));
    let state = f.resume_state().await.expect("resume state");
    assert_eq!(state.seeds, seeds);
    assert_eq!(
        state.checkpoint.as_ref().map(Checkpoint::as_str),
        Some("c1")
    );
    let mut hosts = f.claim_hosts(10).await.expect("claim");
    hosts.sort_by(|x, y| x.origin.cmp(&y.origin));
    let origins: Vec<&str> = hosts.iter().map(|h| h.origin.as_str()).collect();
    assert_eq!(
        origins,
        ["http://a", "http://b"],
        "the leased host is due again"
    );
    let again = f.take(&hosts[0], 10).await.expect("take");
    assert_eq!(urls(&again), ["http://a/2", "http://a/3"]);
    let late = f
        .commit(&CommitBatch {
            pages: vec![outcome(&taken[1], UrlState::Done, None)],
            ..CommitBatch::default()
        })
        .await
        .expect("commit");
    assert_eq!(late.refused, [taken[1].key], "the dead owner's completion");
    assert_eq!(counts(&*f).await.done, 1);
}

/// The two-phase commit: [`Frontier::prepare`] accepts the completions whose lease is
/// current and refuses a stale one before anything is written, and the commit of the same
/// batch applies exactly the accepted ones (links and checkpoint included).
pub async fn prepare_accepts_current_leases_and_refuses_stale_ones(h: &mut impl Harness) {
    let f = h.fresh(Settings::default()).await;
    f.enqueue(&[
        new("http://a/1", 0),
        new("http://a/2", 0),
        new("http://b/1", 0),
    ])
    .await
    .expect("enqueue");
    let mut hosts = f.claim_hosts(10).await.expect("claim");
    hosts.sort_by(|x, y| x.origin.cmp(&y.origin));
    assert_eq!(hosts.len(), 2);
    let a1 = f.take(&hosts[0], 1).await.expect("take a").remove(0);
    let b1 = f.take(&hosts[1], 1).await.expect("take b").remove(0);
    let first = CommitBatch {
        pages: vec![outcome(&a1, UrlState::Done, None)],
        links: vec![new("http://a/3", 1), new("http://a/1", 1)],
        checkpoint: Some(Checkpoint::new("1".into())),
    };
    assert_eq!(f.prepare(&first).await.expect("prepare"), [true]);
    let done = f.commit(&first).await.expect("commit");
    assert!(done.refused.is_empty(), "refused: {:?}", done.refused);
    // Every lease turns stale; b/1 goes back and is handed out again under a new one.
    assert_eq!(f.recover().await.expect("recover"), 1);
    let b = f
        .claim_hosts(10)
        .await
        .expect("claim")
        .into_iter()
        .find(|h| h.origin == "http://b")
        .expect("b is due again");
    let again = f.take(&b, 1).await.expect("take b again").remove(0);
    assert_eq!(again.url, b1.url);
    assert_ne!(again.lease, b1.lease);
    let second = CommitBatch {
        pages: vec![
            outcome(&b1, UrlState::Done, None),
            outcome(&again, UrlState::Done, None),
        ],
        links: Vec::new(),
        checkpoint: Some(Checkpoint::new("2".into())),
    };
    assert_eq!(
        f.prepare(&second).await.expect("prepare"),
        [false, true],
        "the stale completion is refused before its record is written"
    );
    let done = f.commit(&second).await.expect("commit");
    assert_eq!(
        done.refused,
        [b1.key],
        "the commit refuses what prepare refused"
    );
    let c = counts(&*f).await;
    assert_eq!(
        (c.done, c.queued, c.in_flight),
        (2, 2, 0),
        "a/1 and b/1 once; a/2 and the new a/3 queued"
    );
    let state = f.resume_state().await.expect("resume state");
    assert_eq!(
        state.checkpoint.map(Checkpoint::into_string).as_deref(),
        Some("2")
    );
}
