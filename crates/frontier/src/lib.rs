//! The embedded crawl frontier of gannet: what to fetch next, and what was seen.
//!
//! - [`canon`]: the canonical spelling of a URL and its fingerprint (the seen-set key);
//! - [`scope`]: which discovered URLs a crawl follows (scope, include/exclude, depth, traps);
//! - [`store`]: the SQLite frontier — per-host queues, a ready set of hosts ordered by next
//!   fetch time, the seen-set, leases and crash recovery;
//! - [`SeenCache`]: a bounded in-memory screen in front of the seen-set.

pub mod canon;
pub mod scope;
mod seen;
pub mod store;

pub use canon::{canonicalize, canonicalize_join, canonicalize_str, fingerprint, origin_key};
pub use scope::{Reject, Scope, ScopeConfig, ScopeError, ScopeKind, TrapLimits};
pub use seen::SeenCache;
pub use store::{
    Claimed, CommitBatch, Counts, Frontier, LEASED, NewUrl, PageUpdate, StoreConfig, StoreError,
    UrlState,
};
