//! The values the frontier takes and hands out.

use std::fmt;
use std::time::Duration;

/// A host's key: the unit of politeness and of leases (the engine's `scheme://host[:port]`).
/// Opaque to the frontier; hashed to pick the host's shard.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostKey(pub String);

impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for HostKey {
    fn from(s: &str) -> HostKey {
        HostKey(s.to_string())
    }
}

/// A worker's id: stable across its restarts on the same output (its checkpoint is keyed
/// by it). Letters, digits, `-`, `_`, `.`; at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkerId(pub(crate) String);

impl WorkerId {
    /// Checks the id's spelling.
    pub fn new(id: &str) -> Result<WorkerId, crate::FrontierError> {
        crate::keys::check_id("worker id", id)?;
        Ok(WorkerId(id.to_string()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A URL to add. `url` must already be canonical (the engine's canonicalization): the
/// seen-set keys on its fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUrl {
    /// The canonical URL.
    pub url: String,
    /// Its host's key.
    pub host: HostKey,
    /// Link depth (seeds: 0).
    pub depth: u32,
    /// The page it was found on (stored with the URL: it costs its length per queued URL).
    pub referrer: Option<String>,
}

/// The fencing lease on one host: whoever holds the current token is the host's only
/// fetcher. Every call that changes the host's state under the lease names the token, and
/// Redis refuses it once the token has changed (expired and reclaimed by someone else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The leased host.
    pub host: HostKey,
    /// The fencing token (increasing per shard).
    pub token: u64,
    /// When the lease expires, in server milliseconds since the epoch (renew before).
    pub expires_ms: i64,
}

/// How to end one lease ([`crate::RedisFrontier::release_all`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The lease to end.
    pub lease: Lease,
    /// Politeness: the host is due again this long from now (or later, if blocked).
    pub delay: Duration,
    /// The host's AutoThrottle delay to store for its next holder, if any.
    pub throttle: Option<Duration>,
    /// `false`: URLs still in flight under the lease go back to the front of the queue
    /// (no attempt counted). `true`: they stay in flight, completable under the ended
    /// lease's token for one more lease length (then the reaper requeues them): for a
    /// caller that releases a host while its last pages still wait for their commit. Either
    /// way the host is due again after `delay`.
    pub drain: bool,
}

impl Release {
    /// Ends `lease`; the host is due after `delay`; URLs in flight go back to the queue.
    pub fn new(lease: Lease, delay: Duration) -> Release {
        Release {
            lease,
            delay,
            throttle: None,
            drain: false,
        }
    }
}

/// A URL handed out under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedUrl {
    /// The canonical URL.
    pub url: String,
    /// Link depth.
    pub depth: u32,
    /// The page it was found on.
    pub referrer: Option<String>,
    /// Earlier deliveries that did not finish (lease expired, retry).
    pub attempts: u32,
    /// Why the last delivery did not finish.
    pub last_error: Option<String>,
}

/// What [`crate::RedisFrontier::retry`] did with a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retried {
    /// Queued again (after its delay); it was delivered this many times.
    Queued {
        /// Deliveries so far.
        attempts: u32,
    },
    /// Delivered too often: moved to the dead letters with its error.
    DeadLettered {
        /// Deliveries.
        attempts: u32,
    },
}

/// A cached robots.txt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedRobots {
    /// The body as stored by the lease holder that fetched it.
    pub body: String,
    /// How old it is.
    pub age: Duration,
}

/// A host claimed by a worker, with the first URLs of its queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedHost {
    /// The lease; every URL below is held under it.
    pub lease: Lease,
    /// The host's robots.txt if cached less than the crawl's robots TTL ago (else the lease
    /// holder fetches it and stores it with `RedisFrontier::store_robots`).
    pub robots: Option<CachedRobots>,
    /// The AutoThrottle delay stored by the host's last holder (0: none yet).
    pub throttle: Duration,
    /// URLs to fetch, in queue order.
    pub urls: Vec<ClaimedUrl>,
}

/// How a URL ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Fetched; its record is in the worker's sink.
    Done,
    /// Failed for good, with the reason.
    Failed(String),
    /// Not fetched on purpose (robots.txt, not HTML...), with the reason.
    Skipped(String),
    /// Cut short (shutdown): back to the front of its host's queue, no attempt counted,
    /// no record written.
    Requeue,
}

/// One finished URL of a completion batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The lease it was claimed under (host + token).
    pub lease: Lease,
    /// The URL, as claimed.
    pub url: String,
    /// How it ended.
    pub outcome: Outcome,
}

/// What an enqueue did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enqueued {
    /// New URLs added to their host queues.
    pub added: u64,
    /// Already seen.
    pub duplicates: u64,
    /// Refused: the crawl's page limit is reached.
    pub over_limit: u64,
    /// Refused: the host reached the crawl's per-host limit (a trap guard).
    pub host_capped: u64,
    /// Refused: a URL, host or referrer with control characters (tabs, newlines: never in
    /// a canonical URL) or over [`crate::MAX_URL_LEN`] bytes.
    pub invalid: u64,
}

/// A worker's committed checkpoint: the last batch that committed and the opaque sink
/// position the worker committed with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The last committed batch number.
    pub batch: u64,
    /// The sink position (opaque to the frontier).
    pub position: String,
}

/// Counts over the whole crawl.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Waiting in host queues.
    pub queued: u64,
    /// Handed out under a lease, not finished.
    pub in_flight: u64,
    /// Finished by a worker, its batch not yet resolved (commit in progress or crashed).
    pub prepared: u64,
    /// Fetched and committed.
    pub done: u64,
    /// Failed for good.
    pub failed: u64,
    /// Skipped on purpose.
    pub skipped: u64,
    /// In the dead-letter lists (redelivered too often).
    pub dead: u64,
    /// Ever admitted into the frontier (the page limit counts these).
    pub admitted: u64,
    /// Hosts leased right now.
    pub leased_hosts: u64,
    /// Workers whose heartbeat has not expired.
    pub workers_alive: u64,
}

impl Stats {
    /// Whether nothing is left to do: no queued, in-flight or prepared URL.
    pub fn is_finished(&self) -> bool {
        self.queued == 0 && self.in_flight == 0 && self.prepared == 0
    }
}

/// A URL that was redelivered too often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The URL.
    pub url: String,
    /// Its host.
    pub host: HostKey,
    /// Deliveries.
    pub attempts: u32,
    /// The last error.
    pub error: String,
}

/// What one reap pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reaped {
    /// Expired leases returned to their queues.
    pub leases: u64,
    /// URLs moved to the dead-letter list.
    pub dead: u64,
    /// Crashed workers whose pending batch was resolved.
    pub workers: u64,
}

/// A crawl's settings, fixed when it is created and read by every worker that joins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlSettings {
    /// The engine's crawl configuration, serialized (JSON); opaque to the frontier.
    pub config: String,
    /// Most URLs ever admitted (the page limit); `None`: no limit.
    pub page_limit: Option<u64>,
    /// Most URLs admitted per host (a trap guard); `None`: no limit.
    pub max_per_host: Option<u64>,
    /// Failed attempts (expired leases, retries, aborted completions) after which a URL
    /// is dead-lettered instead of queued again.
    pub max_attempts: u32,
    /// Lease length (renew before it ends).
    pub lease: Duration,
    /// How long a cached robots.txt stays valid (at most 24 h).
    pub robots_ttl: Duration,
    /// Expected URLs: sizes the seen-set buckets so they stay listpack-encoded
    /// (≤ 128 fields each). Too small costs memory, never correctness.
    pub expected_urls: u64,
}

impl Default for CrawlSettings {
    fn default() -> Self {
        CrawlSettings {
            config: "{}".into(),
            page_limit: None,
            max_per_host: None,
            max_attempts: 5,
            lease: Duration::from_secs(30),
            robots_ttl: Duration::from_secs(24 * 3600),
            expected_urls: 10_000_000,
        }
    }
}
