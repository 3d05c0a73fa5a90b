//! The distributed crawl frontier of gannet, on Redis 7 or a Redis Cluster.
//!
//! # Model
//!
//! Hosts hash into [`SHARDS`] (4,096) virtual shards. Every key of a shard carries the hash
//! tag `{<crawl>:<shard>}`, so each Lua script touches one slot and a cluster can move
//! slots online. A shard holds its hosts' FIFO queues, a `ready` zset of hosts by next
//! allowed fetch time (server clock, `TIME` inside the scripts), a `lease` zset of leased
//! hosts by expiry, its part of the seen-set, and its counters. Two zsets in the crawl's
//! own slot (`{<crawl>}`) index the shards by their earliest ready time and lease expiry;
//! they are hints (versioned, repaired by a sweep in [`RedisFrontier::reap`]), so a worker
//! finds due hosts in O(log n) without scanning 4,096 shards, and correctness never
//! depends on them. Every operation is O(log n) or O(batch) in the number of URLs, hosts
//! and workers: no script scans a queue, the seen-set or the list of hosts.
//!
//! - **Enqueue** ([`RedisFrontier::enqueue`]): per shard, one script does the seen-test,
//!   the push and the ready-insert; a crash cannot separate them.
//! - **Seen-set**: exact, 8-byte xxh3 fingerprints of canonical URLs, in hashes of ≤ 128
//!   fields that stay listpack-encoded (~11 B per URL): the top byte picks the bucket, the
//!   other 7 bytes are the field. The bucket count is sized from
//!   [`CrawlSettings::expected_urls`]. No Bloom filter: a false positive drops a page.
//! - **Claim** ([`RedisFrontier::claim`]): per shard, one script reaps the shard's expired
//!   leases (bounded), takes due hosts from `ready`, leases each with a fencing token
//!   (`INCR`) and pops up to m URLs into the lease. A leased host is not in `ready`, so it
//!   has one fetcher across the whole cluster.
//! - **Politeness**: [`RedisFrontier::release`] puts the host back at now + the caller's
//!   delay (or later, if blocked); [`RedisFrontier::block_host`] (Retry-After, 429, 503)
//!   moves it later for every worker; the AutoThrottle delay and robots.txt (stored only by
//!   the lease holder, served ≤ 24 h) live in the host's hash.
//!   A *draining* release ([`RedisFrontier::release_draining`]) also frees the host at once
//!   but leaves the URLs still in flight completable under the ended lease's token for one
//!   more lease length (*orphans*), for a caller whose last pages are still on their way to
//!   the commit.
//! - **Reap** ([`RedisFrontier::reap`]): in bounded batches (64 hosts per script), expired
//!   leases and orphans return their URLs to the queue front with one more failed attempt;
//!   at [`CrawlSettings::max_attempts`] failed attempts a URL goes to the dead-letter list
//!   with its last error. A retry with a delay waits in a per-shard zset.
//! - **Page limit** ([`CrawlSettings::page_limit`], URLs ever admitted): exact across
//!   shards and slots. An enqueue probes the seen-set, reserves budget for the URLs that
//!   look new in the crawl's slot (`RESERVE`, keyed by a request id), pushes with that
//!   budget (the shard script admits at most its budget), then settles: used budget becomes
//!   admitted, the rest is returned. Admissions never exceed the limit because every
//!   admission consumed a reservation that was granted only while `reserved < limit`. A
//!   worker refused budget while others hold reservations waits for them to settle and
//!   tries again, so racing workers fill the limit exactly. A worker that dies between
//!   reserve and settle leaks its reservation: the crawl may then admit fewer URLs than
//!   the limit, never more. A re-sent push (lost reply) answers its first result (memo by
//!   request id), so the settle is exact.
//! - **Refusal**: [`RedisFrontier::create`] and [`RedisFrontier::join`] refuse a server
//!   whose `maxmemory-policy` is not `noeviction` ([`FrontierError::EvictionPolicy`]).
//!   Persistence: run Redis with `appendonly yes`, `appendfsync everysec` (a crash of Redis
//!   loses ≤ 1 s of frontier updates: URLs then get fetched again, never lost, because
//!   completions happen after the sink write; see below).
//!
//! # Exactly-once output across workers
//!
//! Each worker writes its own sink. The union of the workers' *committed* outputs holds
//! every page exactly once. The protocol is a two-phase commit per batch of finished
//! pages, with the decision recorded in the worker's own slot (`{<crawl>:w:<worker>}`):
//!
//! 1. **Prepare** ([`RedisFrontier::prepare`]): the worker records its batch number and
//!    the shards it touches as *pending* (worker slot), then per shard one script checks
//!    each page's fencing token and moves the URL from its lease into the shard's
//!    *prepared* set, tagged (worker, batch). A page whose lease was lost is refused
//!    ([`Prepared::accepted`] = false) and its record is never written. A prepared URL no
//!    longer belongs to any lease: reaping cannot hand it to another worker.
//! 2. **Write**: the worker appends exactly the accepted records to its sink and flushes
//!    it; its position is the checkpoint.
//! 3. **Commit point** ([`RedisFrontier::commit`]): one script in the worker slot stores
//!    (batch, checkpoint) unless the batch was aborted. Then per shard the prepared URLs
//!    become done/failed/skipped, and the pending mark is cleared.
//!
//! Crashes and partitions:
//! - before 1 or within 1: nothing is written; the leases expire and the URLs are
//!   reclaimed (prepared URLs are requeued by the recovery below);
//! - between 1 and 3 (records written, no commit): the batch is pending. When the worker
//!   restarts on the same output it calls [`RedisFrontier::recover_worker`] first: the
//!   pending batch is *aborted* (recorded in the worker slot, so a late commit of it is
//!   refused), its prepared URLs go back to their queues, and the worker cuts its sink back
//!   to the returned checkpoint (like `--resume`). A worker that never comes back is
//!   recovered the same way by any worker's [`RedisFrontier::reap`] once its heartbeat has
//!   expired; its output file is trimmed to its committed checkpoint (the last value stored
//!   under `gf:{<crawl>:w:<worker>}:ck`, field `c`) before it is merged;
//! - after 3's commit point but before the shards are resolved: the batch is committed;
//!   the recovery marks its prepared URLs done;
//! - a worker paused past its lease (SIGSTOP, partition): its prepare is refused for the
//!   URLs whose token changed; if it was paused between 1 and 3 and presumed dead, the
//!   recovery aborted its batch, its commit returns [`FrontierError::Fenced`] and it cuts
//!   its sink back to its previous checkpoint.
//!
//! A completion that spans several shard slots is therefore atomic where it matters: the
//! commit point is one write in one slot, and every shard step before or after it is
//! idempotent and resumable from the pending mark.
//!
//! Links found on a page are enqueued before the page's batch is prepared: a crash after
//! the commit never loses them, and an aborted batch re-finds them (the seen-set drops the
//! duplicates).
//!
//! Redis unreachable, timing out, loading or re-sharding gives a retryable
//! [`FrontierError::Unavailable`]: the caller pauses with backoff; nothing is lost because
//! no state changes without a reply-confirmed script. Scripts are idempotent under the
//! re-sends of the cluster client, with two documented exceptions: a re-sent claim leaks
//! leases that expire (one attempt counted), and a re-sent release/retry reports `Fenced`
//! for work that did succeed (harmless: nothing is committed on `Fenced`).
//!
//! # The engine's trait
//!
//! [`EngineFrontier`] implements `gannet_frontier::Frontier` for one worker over a
//! [`RedisFrontier`]: `prepare` is the protocol's fenced prepare (refused pages are never
//! written), `commit` its commit point; it pauses with backoff while Redis is unreachable,
//! heartbeats, and reaps dead workers. It passes the same conformance suite as the
//! embedded SQLite frontier (tests/conformance_engine.rs).
//!
//! # Connecting
//!
//! `redis://host:port[/db]` is one server (a `ConnectionManager` with a 5 s response
//! timeout, reconnecting in the background); `redis+cluster://host:port,host:port` is a
//! Redis Cluster given by seed nodes (a `ClusterClient`; `rediss+cluster://` for TLS).

mod commit;
mod conn;
mod engine;
mod enqueue;
mod error;
mod frontier;
mod keys;
mod lease;
mod lua;
mod reply;
mod stats;
mod types;

pub use commit::{Prepared, WorkerState};
pub use conn::RedisTarget;
pub use engine::EngineFrontier;
pub use error::FrontierError;
pub use frontier::{MAX_URL_LEN, RedisFrontier};
pub use keys::SHARDS;
pub use types::{
    CachedRobots, Checkpoint, ClaimedHost, ClaimedUrl, CrawlSettings, DeadLetter, Enqueued,
    Finished, HostKey, Lease, NewUrl, Outcome, Reaped, Release, Retried, Stats, WorkerId,
};
