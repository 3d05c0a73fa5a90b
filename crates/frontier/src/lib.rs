//! The crawl frontier of gannet: what to fetch next, and what was seen.
//!
//! - [`Frontier`] (module `api`): the seam the engine drives — claim due hosts under a
//!   fenced lease, take their URLs, commit outcomes with new links and the sink's
//!   checkpoint, release, retry, block, recover — and its storage-free types;
//! - [`canon`]: the canonical spelling of a URL and its fingerprint (the seen-set key);
//! - [`scope`]: which discovered URLs a crawl follows (scope, include/exclude, depth, traps);
//! - [`SqliteFrontier`] (feature `sqlite`, on by default): the embedded frontier — per-host
//!   queues, a ready set of hosts ordered by next fetch time, the seen-set, leases and
//!   crash recovery, in one SQLite file; [`FrontierConfig::build`] prepares its state
//!   directory (fresh or resumed) and opens it. rusqlite stays private to it, so a backend crate
//!   (Redis) depends on this crate with `default-features = false` and gets no SQLite;
//! - [`SeenCache`]: a bounded in-memory screen in front of the seen-set;
//! - `conformance` (feature `conformance`): the one test suite every backend passes.

mod api;
pub mod canon;
#[cfg(feature = "sqlite")]
mod config;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod scope;
mod seen;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use api::{
    Checkpoint, Claimed, CommitBatch, Committed, Counts, DeadLetter, Frontier, FrontierError,
    FrontierFuture, HostKey, HostLease, Lease, NewUrl, PageUpdate, ResumeState, Retried,
    SharedRobots, UrlKey, UrlState,
};
pub use canon::{canonicalize, canonicalize_join, canonicalize_str, fingerprint, origin_key};
#[cfg(feature = "sqlite")]
pub use config::FrontierConfig;
pub use scope::{Reject, Scope, ScopeConfig, ScopeError, ScopeKind, TrapLimits};
pub use seen::SeenCache;
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteFrontier, StoreConfig};
