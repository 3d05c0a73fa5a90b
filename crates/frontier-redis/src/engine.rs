//! The crawl engine's [`gannet_frontier::Frontier`] on Redis: one worker's view of a shared
//! crawl ([`EngineFrontier`]).
//!
//! The engine knows hosts and URLs by opaque numeric keys; Redis knows them by their
//! origin and canonical URL. The adapter keeps the URLs it handed out (key → URL, origin,
//! token) until their completion, and maps the engine's two-phase commit onto the crate's:
//! [`Frontier::prepare`] enqueues the batch's links, then runs
//! [`RedisFrontier::prepare`] (accepted completions leave their leases, fenced ones are
//! refused before the engine writes anything); [`Frontier::commit`] is the commit point
//! with the sink's checkpoint in the worker's slot.
//!
//! **Redis unreachable.** Every call retries a retryable error ([`FrontierError::is_retryable`])
//! with backoff (100 ms doubling to 5 s) until Redis answers again: the engine pauses (its
//! store thread waits in the call), pages already fetched wait in memory, nothing is lost.
//! One `warn` line "paused: Redis unreachable" marks the outage and one `info` line
//! "resumed: Redis reachable" its end, however many calls waited. The scripts are
//! idempotent under such re-sends (see the crate docs).
//!
//! **Liveness.** A background task heartbeats the worker every ≤ 2 s (a key with a TTL of
//! the lease length) with its progress as JSON; workers reap expired leases and recover dead workers
//! at most once a second while they claim or wait.

use crate::commit::Prepared;
use crate::error::FrontierError as RedisError;
use crate::frontier::RedisFrontier;
use crate::types::{self, Finished, Outcome, WorkerId};
use gannet_frontier::{
    Checkpoint, Claimed, CommitBatch, Committed, Counts, DeadLetter, Frontier, FrontierError,
    FrontierFuture, HostKey, HostLease, Lease, NewUrl, ResumeState, Retried, SharedRobots, UrlKey,
    UrlState, origin_key,
};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use url::Url;

/// Longest pause between two tries while Redis is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Reaping (expired leases, dead workers) at most this often per worker.
const REAP_EVERY: Duration = Duration::from_secs(1);
/// Longest time between two heartbeats.
const HEARTBEAT_MAX: Duration = Duration::from_secs(2);
/// Shards one reaping pass visits.
const REAP_SHARDS: usize = 64;

/// A URL handed out to the engine, until its completion.
struct Held {
    url: String,
    origin: String,
    /// The engine's token it was taken under (a URL taken again replaces it).
    token: u64,
}

struct State {
    urls: HashMap<u64, Held>,
    next_batch: u64,
    /// A prepared batch waiting for its commit, and whether its links were enqueued.
    pending: Option<(Prepared, Vec<UrlKey>)>,
    /// The last committed checkpoint (at open: the one recovered).
    last_checkpoint: Option<String>,
    last_reap: Option<Instant>,
    /// URLs that went back to their queues when the worker joined, reported by the next
    /// [`Frontier::recover`].
    reclaimed_at_open: u64,
}

/// Progress counters shown in the heartbeat.
#[derive(Default)]
struct Progress {
    done: AtomicU64,
    refused: AtomicU64,
    batches: AtomicU64,
}

/// One worker's [`Frontier`] over a shared Redis crawl. Open it with
/// [`EngineFrontier::open`], which recovers what an earlier run of the same worker left
/// (its pending batch is aborted, its leases end) and gives the checkpoint its output is
/// cut back to ([`Frontier::resume_state`]).
pub struct EngineFrontier {
    inner: RedisFrontier,
    worker: WorkerId,
    location: String,
    state: Mutex<State>,
    paused: Arc<AtomicBool>,
    progress: Arc<Progress>,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for EngineFrontier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineFrontier")
            .field("location", &self.location)
            .field("worker", &self.worker.as_str())
            .finish_non_exhaustive()
    }
}

impl Drop for EngineFrontier {
    fn drop(&mut self) {
        if let Some(task) = self.heartbeat.take() {
            task.abort();
        }
    }
}

impl EngineFrontier {
    /// Recovers `worker`'s earlier run and starts its heartbeat (every third of the lease
    /// length). `location` names the crawl in messages. Must be called inside a tokio
    /// runtime. Waits while Redis is unreachable.
    pub async fn open(
        inner: RedisFrontier,
        worker: WorkerId,
        location: String,
    ) -> Result<EngineFrontier, RedisError> {
        let paused = Arc::new(AtomicBool::new(false));
        let recovered = retrying(&paused, "recover", || inner.recover_worker(&worker)).await?;
        let checkpoint = recovered.checkpoint.map(|c| c.position);
        tracing::info!(
            crawl = inner.crawl_id(),
            worker = worker.as_str(),
            reclaimed = recovered.reclaimed,
            next_batch = recovered.next_batch,
            checkpoint = checkpoint.as_deref().unwrap_or(""),
            "worker joined"
        );
        let progress = Arc::new(Progress::default());
        let ttl = inner.settings().lease.max(Duration::from_secs(1));
        let heartbeat = {
            let inner = inner.clone();
            let worker = worker.clone();
            let progress = Arc::clone(&progress);
            let started = Instant::now();
            tokio::spawn(async move {
                let mut last = (Instant::now(), 0u64);
                loop {
                    let done = progress.done.load(Ordering::Relaxed);
                    let secs = last.0.elapsed().as_secs_f64().max(0.001);
                    let rate = (done - last.1) as f64 / secs;
                    last = (Instant::now(), done);
                    let text = format!(
                        "{{\"pid\":{},\"done\":{},\"refused\":{},\"batches\":{},\"pages_per_s\":{:.1},\"up_s\":{}}}",
                        std::process::id(),
                        done,
                        progress.refused.load(Ordering::Relaxed),
                        progress.batches.load(Ordering::Relaxed),
                        rate,
                        started.elapsed().as_secs()
                    );
                    if let Err(e) = inner.heartbeat(&worker, ttl, &text).await {
                        tracing::debug!(worker = worker.as_str(), error = %e, "heartbeat failed");
                    }
                    // Often enough for --status to show live progress; a third of the
                    // TTL at most, so one lost beat does not make the worker look dead.
                    tokio::time::sleep((ttl / 3).min(HEARTBEAT_MAX)).await;
                }
            })
        };
        Ok(EngineFrontier {
            location,
            state: Mutex::new(State {
                urls: HashMap::new(),
                next_batch: recovered.next_batch,
                pending: None,
                last_checkpoint: checkpoint,
                last_reap: None,
                reclaimed_at_open: recovered.reclaimed,
            }),
            inner,
            worker,
            paused,
            progress,
            heartbeat: Some(heartbeat),
        })
    }

    /// The Redis frontier underneath.
    pub fn redis(&self) -> &RedisFrontier {
        &self.inner
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn call<T, F, Fut>(&self, what: &'static str, f: F) -> Result<T, FrontierError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        retrying(&self.paused, what, f).await.map_err(convert)
    }

    /// Reaps expired leases and dead workers' batches, at most once per [`REAP_EVERY`].
    async fn maybe_reap(&self) -> Result<(), FrontierError> {
        {
            let mut st = self.state();
            if st.last_reap.is_some_and(|t| t.elapsed() < REAP_EVERY) {
                return Ok(());
            }
            st.last_reap = Some(Instant::now());
        }
        let reaped = self.call("reap", || self.inner.reap(REAP_SHARDS)).await?;
        if reaped.leases > 0 || reaped.workers > 0 || reaped.dead > 0 {
            tracing::info!(
                crawl = self.inner.crawl_id(),
                leases = reaped.leases,
                workers = reaped.workers,
                dead_lettered = reaped.dead,
                "reaped expired leases"
            );
        }
        Ok(())
    }

    fn redis_lease(host: &HostLease) -> types::Lease {
        types::Lease {
            host: types::HostKey(host.origin.clone()),
            token: redis_token(host.lease.token),
            expires_ms: 0,
        }
    }

    fn finished(&self, batch: &CommitBatch) -> (Vec<Finished>, Vec<Option<usize>>) {
        let st = self.state();
        let mut pages = Vec::with_capacity(batch.pages.len());
        let mut index = Vec::with_capacity(batch.pages.len());
        for p in &batch.pages {
            let Some(held) = st.urls.get(&p.key.raw()) else {
                index.push(None);
                continue;
            };
            let reason = p.reason.clone().unwrap_or_default();
            let outcome = match p.state {
                UrlState::Done => Outcome::Done,
                UrlState::Skipped => Outcome::Skipped(reason),
                UrlState::Queued => Outcome::Requeue,
                UrlState::Failed | UrlState::DeadLetter | UrlState::InFlight => {
                    Outcome::Failed(reason)
                }
            };
            index.push(Some(pages.len()));
            pages.push(Finished {
                lease: types::Lease {
                    host: types::HostKey(held.origin.clone()),
                    token: redis_token(p.lease.token),
                    expires_ms: 0,
                },
                url: held.url.clone(),
                outcome,
            });
        }
        (pages, index)
    }

    async fn enqueue_links(&self, links: &[NewUrl]) -> Result<u64, FrontierError> {
        if links.is_empty() {
            return Ok(0);
        }
        let urls: Vec<types::NewUrl> = links.iter().map(to_redis_url).collect();
        let done = self.call("enqueue", || self.inner.enqueue(&urls)).await?;
        Ok(done.added)
    }

    async fn prepare_batch(&self, batch: &CommitBatch) -> Result<Vec<bool>, FrontierError> {
        let (pages, index) = self.finished(batch);
        let number = self.state().next_batch;
        let prepared = self
            .call("prepare", || {
                self.inner.prepare(&self.worker, number, &pages)
            })
            .await?;
        let accepted: Vec<bool> = index
            .iter()
            .map(|i| i.is_some_and(|i| prepared.accepted.get(i).copied().unwrap_or(false)))
            .collect();
        let refused: Vec<UrlKey> = batch
            .pages
            .iter()
            .zip(&accepted)
            .filter(|(_, ok)| !**ok)
            .map(|(p, _)| p.key)
            .collect();
        let mut st = self.state();
        st.next_batch = number + 1;
        st.pending = Some((prepared, refused));
        Ok(accepted)
    }
}

impl Frontier for EngineFrontier {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn resume_state(&self) -> FrontierFuture<'_, ResumeState> {
        Box::pin(async move {
            let seeds = self.call("seeds", || self.inner.seeds()).await?;
            Ok(ResumeState {
                seeds: seeds
                    .iter()
                    .filter_map(|s| gannet_frontier::canonicalize_str(s))
                    .collect(),
                checkpoint: self.state().last_checkpoint.clone().map(Checkpoint::new),
            })
        })
    }

    fn set_seeds<'a>(&'a self, seeds: &'a [Url]) -> FrontierFuture<'a, ()> {
        Box::pin(async move {
            let seeds: Vec<String> = seeds.iter().map(|s| s.as_str().to_string()).collect();
            self.call("set seeds", || self.inner.set_seeds(&seeds))
                .await
        })
    }

    fn enqueue<'a>(&'a self, urls: &'a [NewUrl]) -> FrontierFuture<'a, u64> {
        Box::pin(self.enqueue_links(urls))
    }

    fn claim_hosts(&self, limit: usize) -> FrontierFuture<'_, Vec<HostLease>> {
        Box::pin(async move {
            self.maybe_reap().await?;
            let claimed = self
                .call("claim", || self.inner.claim(&self.worker, limit, 0))
                .await?;
            Ok(claimed
                .into_iter()
                .map(|c| {
                    let token = engine_token(&c.lease);
                    HostLease {
                        host: host_key(&c.lease.host.0),
                        origin: c.lease.host.0,
                        lease: Lease { token },
                        shared_robots: c.robots.map(|r| {
                            Arc::new(SharedRobots {
                                body: r.body,
                                age: r.age,
                            })
                        }),
                    }
                })
                .collect())
        })
    }

    fn take<'a>(&'a self, host: &'a HostLease, limit: usize) -> FrontierFuture<'a, Vec<Claimed>> {
        Box::pin(async move {
            let lease = Self::redis_lease(host);
            let urls = self
                .call("take", || self.inner.take(&lease, limit))
                .await
                .map_err(|e| of_host(e, host))?;
            let mut st = self.state();
            Ok(urls
                .into_iter()
                .map(|u| {
                    let key = UrlKey::new(url_key(&u.url));
                    st.urls.insert(
                        key.raw(),
                        Held {
                            url: u.url.clone(),
                            origin: host.origin.clone(),
                            token: host.lease.token,
                        },
                    );
                    Claimed {
                        key,
                        lease: host.lease,
                        url: u.url,
                        depth: u.depth,
                        referrer: u.referrer,
                        etag: None,
                        last_modified: None,
                    }
                })
                .collect())
        })
    }

    fn renew<'a>(&'a self, host: &'a HostLease) -> FrontierFuture<'a, ()> {
        Box::pin(async move {
            let lease = Self::redis_lease(host);
            self.call("renew", || self.inner.renew(&lease))
                .await
                .map(drop)
                .map_err(|e| of_host(e, host))
        })
    }

    fn release(&self, host: HostLease, after: Duration) -> FrontierFuture<'_, ()> {
        Box::pin(async move {
            // Draining: pages of the host still waiting in the engine's batch stay
            // completable; the lease ends with the last of them.
            let lease = Self::redis_lease(&host);
            self.call("release", || {
                self.inner.release_draining(&lease, after, None)
            })
            .await
            .map(drop)
            .map_err(|e| of_host(e, &host))
        })
    }

    fn share_robots<'a>(&'a self, host: &'a HostLease, body: &'a str) -> FrontierFuture<'a, ()> {
        Box::pin(async move {
            let lease = Self::redis_lease(host);
            self.call("share robots", || self.inner.store_robots(&lease, body))
                .await
                .map_err(|e| of_host(e, host))
        })
    }

    fn block_host<'a>(&'a self, host: &'a HostLease, duration: Duration) -> FrontierFuture<'a, ()> {
        Box::pin(async move {
            let lease = Self::redis_lease(host);
            let until = self
                .call("block", || self.inner.block(&lease, duration))
                .await
                .map_err(|e| of_host(e, host))?;
            tracing::info!(origin = %host.origin, duration_ms = duration.as_millis() as u64, until_ms = until, "host blocked for every worker");
            Ok(())
        })
    }

    fn retry_later<'a>(
        &'a self,
        url: UrlKey,
        lease: Lease,
        after: Duration,
        error: &'a str,
    ) -> FrontierFuture<'a, Retried> {
        Box::pin(async move {
            let held = self
                .state()
                .urls
                .get(&url.raw())
                .map(|h| (h.url.clone(), h.origin.clone()));
            let Some((u, origin)) = held else {
                return Err(FrontierError::LeaseLost {
                    host: HostKey::new(0),
                    token: lease.token,
                });
            };
            let rl = types::Lease {
                host: types::HostKey(origin.clone()),
                token: redis_token(lease.token),
                expires_ms: 0,
            };
            let r = self
                .call("retry", || self.inner.retry(&rl, &u, error, after))
                .await
                .map_err(|e| match e {
                    FrontierError::LeaseLost { token, .. } => FrontierError::LeaseLost {
                        host: host_key(&origin),
                        token,
                    },
                    e => e,
                })?;
            {
                let mut st = self.state();
                if st
                    .urls
                    .get(&url.raw())
                    .is_some_and(|h| h.token == lease.token)
                {
                    st.urls.remove(&url.raw());
                }
            }
            Ok(match r {
                types::Retried::Queued { attempts } => Retried::Queued { attempts },
                types::Retried::DeadLettered { attempts } => Retried::DeadLettered { attempts },
            })
        })
    }

    fn next_ready(&self) -> FrontierFuture<'_, Option<Duration>> {
        Box::pin(async move {
            self.maybe_reap().await?;
            self.call("next ready", || self.inner.next_ready()).await
        })
    }

    fn finished(&self) -> FrontierFuture<'_, bool> {
        Box::pin(async move {
            // No host is due or waiting here, but other workers may still hold hosts (and
            // find new links): the crawl is over only when nothing is queued, leased or
            // prepared anywhere. Expired leases of dead workers are reaped first.
            self.maybe_reap().await?;
            // Idle workers ask this every 250 ms at a crawl's tail: while the indexes list
            // a lease or a due host, one round trip answers, not a visit of 4,096 shards.
            if self
                .call("indexed work", || self.inner.has_indexed_work())
                .await?
            {
                return Ok(false);
            }
            let stats = self.call("stats", || self.inner.stats()).await?;
            Ok(stats.is_finished())
        })
    }

    fn lease_length(&self) -> Option<Duration> {
        Some(self.inner.settings().lease)
    }

    fn prepare<'a>(&'a self, batch: &'a CommitBatch) -> FrontierFuture<'a, Vec<bool>> {
        Box::pin(async move {
            // Links first: a crash after the sink write cannot lose them, and an aborted
            // batch re-finds them (the seen-set drops the duplicates).
            self.enqueue_links(&batch.links).await?;
            let accepted = self.prepare_batch(batch).await?;
            // Marks the links as applied for the commit of this batch.
            Ok(accepted)
        })
    }

    fn commit<'a>(&'a self, batch: &'a CommitBatch) -> FrontierFuture<'a, Committed> {
        Box::pin(async move {
            let pending = self.state().pending.take();
            let (prepared, refused, added) = match pending {
                Some((prepared, refused)) => (prepared, refused, 0),
                None => {
                    // Without a prepare (a checkpoint alone, or a caller that writes no
                    // records): prepare here.
                    let added = self.enqueue_links(&batch.links).await?;
                    self.prepare_batch(batch).await?;
                    let Some((prepared, refused)) = self.state().pending.take() else {
                        return Err(FrontierError::Config("prepare left no batch".into()));
                    };
                    (prepared, refused, added)
                }
            };
            let checkpoint = match &batch.checkpoint {
                Some(c) => c.as_str().to_string(),
                None => self.state().last_checkpoint.clone().unwrap_or_default(),
            };
            match retrying(&self.paused, "commit", || {
                self.inner.commit(&prepared, &checkpoint)
            })
            .await
            {
                Ok(()) => {}
                Err(RedisError::Fenced(why)) => {
                    // A recovery presumed this worker dead and aborted the batch: its
                    // records must be cut off the output, which a restart does.
                    return Err(FrontierError::Superseded {
                        backend: "Redis",
                        message: format!(
                            "{why}: this worker was presumed dead; its output is cut back to \
                             its committed checkpoint when it rejoins"
                        ),
                    });
                }
                Err(e) => return Err(convert(e)),
            }
            let mut st = self.state();
            st.last_checkpoint = Some(checkpoint);
            let mut done = 0;
            for p in &batch.pages {
                let accepted = !refused.contains(&p.key);
                if st
                    .urls
                    .get(&p.key.raw())
                    .is_some_and(|h| h.token == p.lease.token)
                {
                    st.urls.remove(&p.key.raw());
                }
                if accepted && p.state == UrlState::Done {
                    done += 1;
                }
            }
            drop(st);
            self.progress.done.fetch_add(done, Ordering::Relaxed);
            self.progress
                .refused
                .fetch_add(refused.len() as u64, Ordering::Relaxed);
            self.progress.batches.fetch_add(1, Ordering::Relaxed);
            Ok(Committed { added, refused })
        })
    }

    fn counts(&self) -> FrontierFuture<'_, Counts> {
        Box::pin(async move {
            let s = self.call("stats", || self.inner.stats()).await?;
            Ok(Counts {
                queued: s.queued,
                in_flight: s.in_flight + s.prepared,
                done: s.done,
                failed: s.failed,
                skipped: s.skipped,
                dead: s.dead,
            })
        })
    }

    fn dead_letters(&self, limit: usize) -> FrontierFuture<'_, Vec<DeadLetter>> {
        Box::pin(async move {
            let dead = self
                .call("dead letters", || self.inner.dead_letters(limit))
                .await?;
            Ok(dead
                .into_iter()
                .map(|d| DeadLetter {
                    url: d.url,
                    error: d.error,
                    attempts: d.attempts,
                })
                .collect())
        })
    }

    fn recover(&self) -> FrontierFuture<'_, u64> {
        Box::pin(async move {
            let state = self
                .call("recover", || self.inner.recover_worker(&self.worker))
                .await?;
            let mut st = self.state();
            st.urls.clear();
            st.pending = None;
            st.next_batch = st.next_batch.max(state.next_batch);
            if let Some(c) = state.checkpoint {
                st.last_checkpoint = Some(c.position);
            }
            Ok(state.reclaimed + std::mem::take(&mut st.reclaimed_at_open))
        })
    }
}

/// Runs `f` until it succeeds or fails for good; a retryable failure (Redis unreachable)
/// pauses with backoff. The first failure of an outage logs "paused: Redis unreachable",
/// the first success after it "resumed: Redis reachable" (one line each, whoever waits).
async fn retrying<T, F, Fut>(
    paused: &AtomicBool,
    what: &'static str,
    mut f: F,
) -> Result<T, RedisError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RedisError>>,
{
    let mut backoff = Duration::from_millis(100);
    let mut since: Option<Instant> = None;
    loop {
        match f().await {
            Err(e) if e.is_retryable() => {
                if !paused.swap(true, Ordering::SeqCst) {
                    tracing::warn!(operation = what, error = %e, retry_in_ms = backoff.as_millis() as u64, "paused: Redis unreachable");
                }
                since.get_or_insert_with(Instant::now);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            r => {
                if since.is_some() && paused.swap(false, Ordering::SeqCst) {
                    tracing::warn!(
                        operation = what,
                        paused_ms = since.map_or(0, |s| s.elapsed().as_millis() as u64),
                        "resumed: Redis reachable"
                    );
                }
                return r;
            }
        }
    }
}

/// The crate's error as the engine's.
fn convert(e: RedisError) -> FrontierError {
    match e {
        RedisError::Fenced(_) => FrontierError::LeaseLost {
            host: HostKey::new(0),
            token: 0,
        },
        RedisError::Invalid { .. }
        | RedisError::NoSuchCrawl(_)
        | RedisError::EvictionPolicy { .. } => FrontierError::Config(e.to_string()),
        e => FrontierError::Backend {
            backend: "Redis",
            retryable: e.is_retryable(),
            message: e.to_string(),
        },
    }
}

/// A lost lease names its host and token.
fn of_host(e: FrontierError, host: &HostLease) -> FrontierError {
    match e {
        FrontierError::LeaseLost { .. } => FrontierError::LeaseLost {
            host: host.host,
            token: host.lease.token,
        },
        e => e,
    }
}

fn to_redis_url(u: &NewUrl) -> types::NewUrl {
    types::NewUrl {
        url: u.url.as_str().to_string(),
        host: types::HostKey(origin_key(&u.url)),
        depth: u.depth,
        referrer: u.referrer.clone(),
    }
}

fn host_key(origin: &str) -> HostKey {
    HostKey::new(xxhash_rust::xxh3::xxh3_64(origin.as_bytes()))
}

fn url_key(url: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(url.as_bytes())
}

/// Bits of an engine token that hold the Redis token; the shard sits above them. Redis
/// tokens grow per shard (`INCR` in the shard's slot), so two hosts of different shards
/// may share one; with the shard in the high bits, no two leases of the crawl do.
const TOKEN_BITS: u32 = 48;

fn engine_token(lease: &types::Lease) -> u64 {
    (u64::from(crate::keys::shard_of(&lease.host.0)) << TOKEN_BITS)
        | (lease.token & ((1 << TOKEN_BITS) - 1))
}

fn redis_token(token: u64) -> u64 {
    token & ((1 << TOKEN_BITS) - 1)
}
