//! The frontier seam: what the crawl engine asks of a frontier, whatever holds it.
//!
//! The engine (crates/engine) drives a crawl through [`Frontier`] only: it claims due hosts
//! under a lease, takes URLs of the hosts it holds, hands back their outcomes with the
//! links found on them and the sink's checkpoint, and releases the hosts with the delay
//! its politeness computed. Two backends implement it: the embedded SQLite frontier of
//! this crate ([`crate::SqliteFrontier`], feature `sqlite`) and a shared one on Redis
//! (crate `gannet-frontier-redis`). Nothing here names a storage engine: hosts and URLs are
//! opaque keys, leases carry fencing tokens, errors say whether they are worth retrying.
//!
//! The trait returns boxed futures ([`FrontierFuture`]) so that the engine holds an
//! `Arc<dyn Frontier>` and the CLI picks the backend at run time (`--redis` or not)
//! without making `Crawl` generic. A box per call costs nothing measurable: the engine
//! calls the frontier per batch (a host's refill of up to 1,024 URLs, a commit of up to
//! 1,024 pages), never per page.
//!
//! **Leases and fencing.** [`Frontier::claim_hosts`] hands out hosts under a [`Lease`]
//! whose token no other holder of the same host ever had. Every URL taken under it carries
//! the token ([`Claimed::lease`]), and its completion ([`PageUpdate::lease`]) is refused
//! (listed in [`Committed::refused`]) when the URL was reclaimed since: after
//! [`Frontier::recover`], or — for a shared backend — after the lease expired and another
//! worker took the host. Host operations with a stale lease fail with
//! [`FrontierError::LeaseLost`].
//!
//! **Clocks.** Delays are relative ([`std::time::Duration`]): each backend measures them
//! on its own clock (the embedded one on the system clock, Redis on `TIME`), so workers
//! with skewed clocks agree on when a host is due.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// What every [`Frontier`] method returns: a boxed, `Send` future of a result.
pub type FrontierFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, FrontierError>> + Send + 'a>>;

/// A backend's handle on a host (a SQLite row id, a Redis host id). The same host has the
/// same key for as long as the frontier lives; the engine only compares keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostKey(u64);

impl HostKey {
    /// Wraps a backend's own id.
    pub const fn new(raw: u64) -> HostKey {
        HostKey(raw)
    }

    /// The backend's own id.
    pub const fn raw(self) -> u64 {
        self.0
    }
}

/// A backend's handle on a URL in flight (a SQLite row id, a Redis fingerprint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UrlKey(u64);

impl UrlKey {
    /// Wraps a backend's own id.
    pub const fn new(raw: u64) -> UrlKey {
        UrlKey(raw)
    }

    /// The backend's own id.
    pub const fn raw(self) -> u64 {
        self.0
    }
}

/// A lease on a host: a fencing token. Tokens of one host only grow, and no two holders
/// ever get the same one, so a backend refuses the work of a holder whose lease it has
/// reclaimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lease {
    /// The fencing token.
    pub token: u64,
}

/// A host handed out by [`Frontier::claim_hosts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLease {
    /// The host.
    pub host: HostKey,
    /// Its origin (`scheme://host[:port]`, as [`crate::origin_key`] spells it).
    pub origin: String,
    /// The lease it is held under.
    pub lease: Lease,
    /// The host's robots.txt as another holder fetched and shared it
    /// ([`Frontier::share_robots`]), if the backend shares them and it is still fresh.
    pub shared_robots: Option<Arc<SharedRobots>>,
}

/// A robots.txt shared between the workers of a crawl: fetched once by a lease holder,
/// read by the next holders instead of asking the origin again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRobots {
    /// A body that parses to the origin's rules (empty: everything allowed).
    pub body: String,
    /// How long ago it was fetched.
    pub age: Duration,
}

/// State of a URL in the frontier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum UrlState {
    /// Waiting in its host's queue.
    Queued = 0,
    /// Handed to the engine, not yet committed.
    InFlight = 1,
    /// Fetched and written to the sink.
    Done = 2,
    /// Failed for good (the reason is recorded).
    Failed = 3,
    /// Not fetched on purpose (robots.txt, not HTML, ...; the reason is recorded).
    Skipped = 4,
    /// Given up after too many retries ([`Frontier::retry_later`]); its last error is kept.
    DeadLetter = 5,
}

/// A URL to add to the frontier. `url` must be canonical ([`crate::canonicalize`]).
#[derive(Debug, Clone)]
pub struct NewUrl {
    /// The canonical URL.
    pub url: Url,
    /// Link depth (seeds: 0).
    pub depth: u32,
    /// The page it was found on.
    pub referrer: Option<String>,
}

/// A URL handed out to be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// What [`PageUpdate::key`] refers to.
    pub key: UrlKey,
    /// The lease of its host when it was taken; its completion carries it back.
    pub lease: Lease,
    /// The canonical URL.
    pub url: String,
    /// Link depth.
    pub depth: u32,
    /// The page it was found on.
    pub referrer: Option<String>,
    /// `ETag` of an earlier fetch (for a conditional re-crawl).
    pub etag: Option<String>,
    /// `Last-Modified` of an earlier fetch.
    pub last_modified: Option<String>,
}

/// The outcome of one handed-out URL, committed with [`Frontier::commit`].
#[derive(Debug, Clone)]
pub struct PageUpdate {
    /// [`Claimed::key`].
    pub key: UrlKey,
    /// [`Claimed::lease`]: a completion under a reclaimed lease is refused.
    pub lease: Lease,
    /// [`UrlState::Done`], [`UrlState::Failed`] or [`UrlState::Skipped`]; [`UrlState::Queued`]
    /// puts the URL back (a fetch cut short by shutdown).
    pub state: UrlState,
    /// HTTP status, 0 when there was no response.
    pub status: u16,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
    /// `ETag` of the response.
    pub etag: Option<String>,
    /// `Last-Modified` of the response.
    pub last_modified: Option<String>,
}

/// Where the sink stood after the pages of a commit: opaque to the frontier, which stores
/// it atomically with their outcomes (the embedded backend in the same transaction, a
/// shared backend per worker) and gives it back in [`ResumeState::checkpoint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint(String);

impl Checkpoint {
    /// Wraps a sink position.
    pub fn new(position: String) -> Checkpoint {
        Checkpoint(position)
    }

    /// The sink position.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The sink position, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Everything one commit applies atomically.
#[derive(Debug, Default)]
pub struct CommitBatch {
    /// Outcomes of handed-out URLs.
    pub pages: Vec<PageUpdate>,
    /// Newly discovered URLs (the seen-set drops the known ones).
    pub links: Vec<NewUrl>,
    /// The sink's position after writing these pages.
    pub checkpoint: Option<Checkpoint>,
}

impl CommitBatch {
    /// Whether the batch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty() && self.links.is_empty() && self.checkpoint.is_none()
    }
}

/// What a commit did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    /// Links that were new (enqueued).
    pub added: u64,
    /// Completions refused because their lease was reclaimed (fenced): the URL belongs to
    /// someone else now, and the page must not count as written by this holder.
    pub refused: Vec<UrlKey>,
}

/// What a crawl resumes from: its seeds and the sink's last committed position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResumeState {
    /// The seeds the crawl was started with ([`Frontier::set_seeds`]); empty when none
    /// were stored (a crawl stopped before it started).
    pub seeds: Vec<Url>,
    /// The last committed sink position, if any page was committed.
    pub checkpoint: Option<Checkpoint>,
}

/// What [`Frontier::retry_later`] did with a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retried {
    /// Queued again; it had failed this many times.
    Queued {
        /// Failed attempts so far.
        attempts: u32,
    },
    /// It failed too often: moved to the dead letters with its error.
    DeadLettered {
        /// Failed attempts.
        attempts: u32,
    },
}

/// A URL given up after too many attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The canonical URL.
    pub url: String,
    /// Its last error.
    pub error: String,
    /// Failed attempts.
    pub attempts: u32,
}

/// Counts of URLs by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Queued.
    pub queued: u64,
    /// In flight.
    pub in_flight: u64,
    /// Done.
    pub done: u64,
    /// Failed.
    pub failed: u64,
    /// Skipped.
    pub skipped: u64,
    /// Dead-lettered (failed more than the retry limit allows).
    pub dead: u64,
}

/// A failure of a frontier. [`FrontierError::is_retryable`] tells a transient one (busy
/// database, connection reset, Redis loading) from one that will not go away by waiting.
#[derive(Debug, thiserror::Error)]
pub enum FrontierError {
    /// Bad settings, or nothing to resume (the message says which).
    #[error("{0}")]
    Config(String),
    /// A file or directory of the frontier could not be used.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// Which path.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The store behind the frontier failed.
    #[error("crawl state ({backend}): {message}")]
    Backend {
        /// Which store ("SQLite", "Redis").
        backend: &'static str,
        /// What it said.
        message: String,
        /// Whether trying again later may succeed.
        retryable: bool,
    },
    /// The host's lease was reclaimed: the caller no longer holds it.
    #[error("lease lost: host {host:?} is no longer held under token {token}")]
    LeaseLost {
        /// The host (`HostKey::new(0)` when the call named a URL, not its host:
        /// [`Frontier::retry_later`]).
        host: HostKey,
        /// The stale token.
        token: u64,
    },
    /// The frontier was closed.
    #[error("the frontier is closed")]
    Closed,
    /// A shared backend presumed this worker dead (its heartbeat lapsed, paused or cut
    /// off) and gave its uncommitted work to others: what it wrote since its last commit
    /// must be cut off its output, which reopening the frontier and the sink does.
    #[error("crawl state ({backend}): {message}")]
    Superseded {
        /// Which store.
        backend: &'static str,
        /// What happened.
        message: String,
    },
}

impl FrontierError {
    /// Whether the same call may succeed later (a busy or unreachable store).
    pub fn is_retryable(&self) -> bool {
        match self {
            FrontierError::Backend { retryable, .. } => *retryable,
            FrontierError::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::Interrupted
                    | std::io::ErrorKind::WouldBlock
                    | std::io::ErrorKind::TimedOut
            ),
            FrontierError::Config(_)
            | FrontierError::LeaseLost { .. }
            | FrontierError::Closed
            | FrontierError::Superseded { .. } => false,
        }
    }
}

/// A crawl frontier: per-host queues, a ready set of hosts by next allowed fetch time,
/// the seen-set, leases with fencing tokens, outcomes and the crawl's resume state. See
/// the module docs.
///
/// Methods that take a [`HostLease`] fail with [`FrontierError::LeaseLost`] when the lease
/// was reclaimed.
pub trait Frontier: Send + Sync + 'static {
    /// Where the frontier keeps its state, for messages ("crawl-state/", "redis://h:6379
    /// crawl 7").
    fn location(&self) -> String;

    /// The seeds and the last committed sink position of the crawl.
    fn resume_state(&self) -> FrontierFuture<'_, ResumeState>;

    /// Stores the crawl's seeds (for [`ResumeState::seeds`]).
    fn set_seeds<'a>(&'a self, seeds: &'a [Url]) -> FrontierFuture<'a, ()>;

    /// Adds URLs in one step, each passing the seen-test (known URLs and URLs over a host's
    /// page limit are dropped); returns how many were new.
    fn enqueue<'a>(&'a self, urls: &'a [NewUrl]) -> FrontierFuture<'a, u64>;

    /// Up to `limit` hosts with queued URLs that are due now, earliest first, leased to the
    /// caller: not handed out again until released (or, for a shared backend, until the
    /// lease expires unrenewed).
    fn claim_hosts(&self, limit: usize) -> FrontierFuture<'_, Vec<HostLease>>;

    /// Takes up to `limit` queued URLs of a held host, oldest first (URLs waiting for a
    /// retry are left until their time), marking them in flight under the host's lease.
    fn take<'a>(&'a self, host: &'a HostLease, limit: usize) -> FrontierFuture<'a, Vec<Claimed>>;

    /// Extends a lease (a shared backend's leases expire; the embedded one's last until
    /// released or recovered).
    fn renew<'a>(&'a self, host: &'a HostLease) -> FrontierFuture<'a, ()>;

    /// Ends a lease: the host is due again `after` from now (or later, if it was blocked
    /// longer with [`Frontier::block_host`]). URLs taken under it and not yet committed stay
    /// completable under it (the engine releases a host while its last pages wait in the
    /// store's batch); a shared backend keeps the host back until they are committed.
    fn release(&self, host: HostLease, after: Duration) -> FrontierFuture<'_, ()>;

    /// Holds a host back for `duration` from now (a `Retry-After`, a 429/503): once
    /// released it is not due before then, for any holder.
    fn block_host<'a>(&'a self, host: &'a HostLease, duration: Duration) -> FrontierFuture<'a, ()>;

    /// Puts a URL in flight back in its host's queue, not to be handed out before `after`
    /// from now, and counts a failed attempt with `error`; at the frontier's attempt limit
    /// it goes to the dead letters instead. A reclaimed lease gives
    /// [`FrontierError::LeaseLost`].
    fn retry_later<'a>(
        &'a self,
        url: UrlKey,
        lease: Lease,
        after: Duration,
        error: &'a str,
    ) -> FrontierFuture<'a, Retried>;

    /// How long until the next host that nobody holds is due (zero: due now); `None` when
    /// no URL is queued on such a host — for the embedded backend, the crawl is over once
    /// its own hosts are done.
    fn next_ready(&self) -> FrontierFuture<'_, Option<Duration>>;

    /// Phase one of a commit, called before the pages' records are written to the sink:
    /// one flag per page of `batch.pages`, in order, `true` for a completion whose lease is
    /// still current. The caller writes exactly the accepted pages' records, then calls
    /// [`Frontier::commit`] with the same batch and the sink's new checkpoint; a refused
    /// page's record is never written, so a fenced holder leaves no duplicate in the union
    /// of the workers' outputs. A backend may make the acceptance binding here (the shared
    /// backend moves accepted URLs out of their leases, so no reaper hands them out again
    /// before the commit) and may apply the batch's links here (so that a crash after the
    /// sink write cannot lose them); [`Frontier::commit`] then does not apply them twice.
    /// A prepare must be followed by its commit before the next prepare.
    ///
    /// Every backend implements it: a default that accepted every page would let a shared
    /// backend's fenced pages reach the sink (`conformance_tests!(harness, prepare)`).
    fn prepare<'a>(&'a self, batch: &'a CommitBatch) -> FrontierFuture<'a, Vec<bool>>;

    /// Applies a batch atomically: outcomes (each fenced by its lease), new links through
    /// the seen-test, and the sink's checkpoint. After [`Frontier::prepare`] of the same
    /// batch, exactly the pages it accepted are committed; without one, the commit fences
    /// each completion itself.
    fn commit<'a>(&'a self, batch: &'a CommitBatch) -> FrontierFuture<'a, Committed>;

    /// Whether the whole crawl is over, asked when [`Frontier::next_ready`] says `None` and
    /// the caller holds nothing. The embedded backend has one worker, so yes (the default);
    /// a shared backend says no while another worker still holds, takes or commits URLs
    /// (it may find new links), and the caller polls again.
    fn finished(&self) -> FrontierFuture<'_, bool> {
        Box::pin(async { Ok(true) })
    }

    /// How long a lease lasts unrenewed, if leases expire (a shared backend): the holder
    /// renews its hosts well before ([`Frontier::renew`]). `None`: leases last until
    /// released or recovered.
    fn lease_length(&self) -> Option<Duration> {
        None
    }

    /// Shares a host's robots.txt with the crawl's other workers: later holders get it in
    /// [`HostLease::shared_robots`] until the backend's robots TTL (at most 24 hours)
    /// passes. Only the lease holder may share ([`FrontierError::LeaseLost`] otherwise).
    /// The default (a backend with one worker, which caches robots.txt in memory) keeps
    /// nothing.
    fn share_robots<'a>(&'a self, host: &'a HostLease, body: &'a str) -> FrontierFuture<'a, ()> {
        let _ = (host, body);
        Box::pin(async { Ok(()) })
    }

    /// URL counts by state.
    fn counts(&self) -> FrontierFuture<'_, Counts>;

    /// Up to `limit` dead-lettered URLs with their last errors.
    fn dead_letters(&self, limit: usize) -> FrontierFuture<'_, Vec<DeadLetter>>;

    /// Reclaims what the caller held (after a crash, at a stop): every URL in flight goes
    /// back to its queue, every lease ends and its token turns stale, leased hosts are due
    /// now. A shared backend reclaims the leases of this worker. Returns how many URLs went
    /// back.
    fn recover(&self) -> FrontierFuture<'_, u64>;
}
