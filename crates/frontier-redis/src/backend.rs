//! [`RedisBackend`]: the engine's [`gannet_frontier::Frontier`] trait over a
//! [`RedisFrontier`], for one worker.
//!
//! The trait's keys are opaque `u64`s: a host's key is the xxh3 of its origin, a URL's the
//! xxh3 of its canonical form, and a lease's token is the shard's fencing token times
//! 4,096 plus the shard (tokens are counted per shard; this keeps two hosts' tokens apart).
//! The adapter remembers the origin and URL behind each key it handed out (URLs in flight
//! in this process): a completion or retry of a key it does not know (taken by an earlier
//! run of the worker) is refused, as the lease it names is gone.
//!
//! A commit is the crate's two-phase completion: links first (the seen-test), then
//! prepare, then the commit point with the sink's checkpoint in the worker's slot. The
//! trait's caller writes pages to its sink *before* the commit; a page refused there
//! (fenced) was written by a worker that no longer held it: [`Committed::refused`] names
//! it, and the caller must treat its record as not committed (see the crate docs).

use crate::{
    Finished, FrontierError as RedisError, HostKey as RedisHost, Lease as RedisLease,
    NewUrl as RedisNewUrl, Outcome, RedisFrontier, Retried as RedisRetried, SHARDS, WorkerId,
};
use gannet_frontier::{
    Checkpoint, Claimed, CommitBatch, Committed, Counts, DeadLetter, Frontier, FrontierError,
    FrontierFuture, HostKey, HostLease, Lease, NewUrl, PageUpdate, ResumeState, Retried, UrlKey,
    UrlState, origin_key,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use url::Url;
use xxhash_rust::xxh3::xxh3_64;

/// One worker's view of a Redis crawl frontier, as the engine's [`Frontier`].
#[derive(Debug)]
pub struct RedisBackend {
    frontier: RedisFrontier,
    worker: WorkerId,
    location: String,
    state: tokio::sync::Mutex<Batches>,
    in_flight: Mutex<HashMap<UrlKey, Held>>,
}

/// The worker's batch numbers and last checkpoint (commits are sequential per worker).
#[derive(Debug)]
struct Batches {
    next: u64,
    checkpoint: String,
}

/// What the adapter remembers of a URL it handed out.
#[derive(Debug, Clone)]
struct Held {
    origin: String,
    url: String,
}

impl RedisBackend {
    /// The backend of `worker` on `frontier`. Call [`Frontier::recover`] first when the
    /// worker restarts (it ends the earlier run's leases and aborts its pending batch).
    pub async fn new(
        frontier: RedisFrontier,
        worker: WorkerId,
        redis_url: &str,
    ) -> Result<RedisBackend, RedisError> {
        let committed = frontier.checkpoint(&worker).await?;
        let location = format!(
            "{} crawl {} worker {}",
            redact(redis_url),
            frontier.crawl_id(),
            worker.as_str()
        );
        Ok(RedisBackend {
            state: tokio::sync::Mutex::new(Batches {
                next: committed.next_batch,
                checkpoint: committed.checkpoint.map(|c| c.position).unwrap_or_default(),
            }),
            frontier,
            worker,
            location,
            in_flight: Mutex::new(HashMap::new()),
        })
    }

    /// The frontier underneath (stats, heartbeats, dead letters, reaping).
    pub fn frontier(&self) -> &RedisFrontier {
        &self.frontier
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<UrlKey, Held>> {
        self.in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_string(),
    }
}

fn host_key(origin: &str) -> HostKey {
    HostKey::new(xxh3_64(origin.as_bytes()))
}

fn url_key(url: &str) -> UrlKey {
    UrlKey::new(xxh3_64(url.as_bytes()))
}

fn shard_of(origin: &str) -> u64 {
    u64::from(crate::keys::shard_of(origin))
}

/// The trait's token: the shard's token × 4,096 + the shard.
fn trait_token(origin: &str, token: u64) -> Lease {
    Lease {
        token: token
            .saturating_mul(u64::from(SHARDS))
            .saturating_add(shard_of(origin)),
    }
}

fn redis_lease(origin: &str, lease: Lease) -> RedisLease {
    RedisLease {
        host: RedisHost(origin.to_string()),
        token: lease.token / u64::from(SHARDS),
        expires_ms: 0,
    }
}

fn convert(e: RedisError, host: Option<&HostLease>) -> FrontierError {
    match e {
        RedisError::Fenced(_) => FrontierError::LeaseLost {
            host: host.map_or(HostKey::new(0), |h| h.host),
            token: host.map_or(0, |h| h.lease.token),
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

fn new_url(u: &NewUrl) -> RedisNewUrl {
    RedisNewUrl {
        url: u.url.to_string(),
        host: RedisHost(origin_key(&u.url)),
        depth: u.depth,
        referrer: u.referrer.clone(),
    }
}

impl Frontier for RedisBackend {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn resume_state(&self) -> FrontierFuture<'_, ResumeState> {
        Box::pin(async move {
            let seeds = self
                .frontier
                .seeds()
                .await
                .map_err(|e| convert(e, None))?
                .iter()
                .filter_map(|s| Url::parse(s).ok())
                .collect();
            let state = self
                .frontier
                .checkpoint(&self.worker)
                .await
                .map_err(|e| convert(e, None))?;
            Ok(ResumeState {
                seeds,
                checkpoint: state.checkpoint.map(|c| Checkpoint::new(c.position)),
            })
        })
    }

    fn set_seeds<'a>(&'a self, seeds: &'a [Url]) -> FrontierFuture<'a, ()> {
        Box::pin(async move {
            let seeds: Vec<String> = seeds.iter().map(Url::to_string).collect();
            self.frontier
                .set_seeds(&seeds)
                .await
                .map_err(|e| convert(e, None))
        })
    }

    fn enqueue<'a>(&'a self, urls: &'a [NewUrl]) -> FrontierFuture<'a, u64> {
        Box::pin(async move {
            let urls: Vec<RedisNewUrl> = urls.iter().map(new_url).collect();
            let r = self
                .frontier
                .enqueue(&urls)
                .await
                .map_err(|e| convert(e, None))?;
            Ok(r.added)
        })
    }

    fn claim_hosts(&self, limit: usize) -> FrontierFuture<'_, Vec<HostLease>> {
        Box::pin(async move {
            let hosts = self
                .frontier
                .claim(&self.worker, limit, 0)
                .await
                .map_err(|e| convert(e, None))?;
            Ok(hosts
                .into_iter()
                .take(limit)
                .map(|h| {
                    let origin = h.lease.host.0;
                    HostLease {
                        host: host_key(&origin),
                        lease: trait_token(&origin, h.lease.token),
                        origin,
                    }
                })
                .collect())
        })
    }

    fn take<'a>(&'a self, host: &'a HostLease, limit: usize) -> FrontierFuture<'a, Vec<Claimed>> {
        Box::pin(async move {
            let urls = self
                .frontier
                .take(&redis_lease(&host.origin, host.lease), limit)
                .await
                .map_err(|e| convert(e, Some(host)))?;
            let mut held = self.held();
            Ok(urls
                .into_iter()
                .map(|u| {
                    let key = url_key(&u.url);
                    held.insert(
                        key,
                        Held {
                            origin: host.origin.clone(),
                            url: u.url.clone(),
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
            self.frontier
                .renew(&redis_lease(&host.origin, host.lease))
                .await
                .map(|_| ())
                .map_err(|e| convert(e, Some(host)))
        })
    }

    fn release(&self, host: HostLease, after: Duration) -> FrontierFuture<'_, ()> {
        Box::pin(async move {
            // Draining: the engine releases a host once nothing is being fetched, while its
            // last pages may still wait for their commit.
            self.frontier
                .release_draining(&redis_lease(&host.origin, host.lease), after, None)
                .await
                .map(|_| ())
                .map_err(|e| convert(e, Some(&host)))
        })
    }

    fn block_host<'a>(&'a self, host: &'a HostLease, duration: Duration) -> FrontierFuture<'a, ()> {
        Box::pin(async move {
            self.frontier
                .block(&redis_lease(&host.origin, host.lease), duration)
                .await
                .map(|_| ())
                .map_err(|e| convert(e, Some(host)))
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
            let lost = || FrontierError::LeaseLost {
                host: HostKey::new(0),
                token: lease.token,
            };
            let Some(held) = self.held().get(&url).cloned() else {
                return Err(lost());
            };
            let r = self
                .frontier
                .retry(&redis_lease(&held.origin, lease), &held.url, error, after)
                .await
                .map_err(|e| match e {
                    RedisError::Fenced(_) => FrontierError::LeaseLost {
                        host: host_key(&held.origin),
                        token: lease.token,
                    },
                    e => convert(e, None),
                })?;
            self.held().remove(&url);
            Ok(match r {
                RedisRetried::Queued { attempts } => Retried::Queued { attempts },
                RedisRetried::DeadLettered { attempts } => Retried::DeadLettered { attempts },
            })
        })
    }

    fn next_ready(&self) -> FrontierFuture<'_, Option<Duration>> {
        Box::pin(async move {
            self.frontier
                .next_ready()
                .await
                .map_err(|e| convert(e, None))
        })
    }

    fn commit<'a>(&'a self, batch: &'a CommitBatch) -> FrontierFuture<'a, Committed> {
        Box::pin(async move {
            let mut done = Committed::default();
            if !batch.links.is_empty() {
                let links: Vec<RedisNewUrl> = batch.links.iter().map(new_url).collect();
                done.added = self
                    .frontier
                    .enqueue(&links)
                    .await
                    .map_err(|e| convert(e, None))?
                    .added;
            }
            // Pages whose URL this process never handed out are refused outright.
            let mut pages: Vec<(&PageUpdate, Finished)> = Vec::new();
            {
                let held = self.held();
                for p in &batch.pages {
                    match held.get(&p.key) {
                        Some(h) => pages.push((p, finished(h, p))),
                        None => done.refused.push(p.key),
                    }
                }
            }
            if pages.is_empty() && batch.checkpoint.is_none() {
                return Ok(done);
            }
            let mut state = self.state.lock().await;
            let list: Vec<Finished> = pages.iter().map(|(_, f)| f.clone()).collect();
            let prepared = self
                .frontier
                .prepare(&self.worker, state.next, &list)
                .await
                .map_err(|e| convert(e, None))?;
            state.next += 1;
            let checkpoint = batch
                .checkpoint
                .as_ref()
                .map_or_else(|| state.checkpoint.clone(), |c| c.as_str().to_string());
            match self.frontier.commit(&prepared, &checkpoint).await {
                Ok(()) => state.checkpoint = checkpoint,
                Err(RedisError::Fenced(_)) => {
                    // A recovery aborted the batch: none of it counts.
                    done.refused.extend(pages.iter().map(|(p, _)| p.key));
                    return Ok(done);
                }
                Err(e) => return Err(convert(e, None)),
            }
            let mut held = self.held();
            for ((p, _), ok) in pages.iter().zip(&prepared.accepted) {
                if *ok {
                    held.remove(&p.key);
                } else {
                    done.refused.push(p.key);
                }
            }
            Ok(done)
        })
    }

    fn counts(&self) -> FrontierFuture<'_, Counts> {
        Box::pin(async move {
            let s = self.frontier.stats().await.map_err(|e| convert(e, None))?;
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
                .frontier
                .dead_letters(limit)
                .await
                .map_err(|e| convert(e, None))?;
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
            let mut state = self.state.lock().await;
            let w = self
                .frontier
                .recover_worker(&self.worker)
                .await
                .map_err(|e| convert(e, None))?;
            state.next = state.next.max(w.next_batch);
            if let Some(c) = w.checkpoint {
                state.checkpoint = c.position;
            }
            self.held().clear();
            Ok(w.reclaimed)
        })
    }
}

fn finished(held: &Held, p: &PageUpdate) -> Finished {
    let reason = || p.reason.clone().unwrap_or_default();
    Finished {
        lease: redis_lease(&held.origin, p.lease),
        url: held.url.clone(),
        outcome: match p.state {
            UrlState::Done => Outcome::Done,
            UrlState::Failed | UrlState::DeadLetter => Outcome::Failed(reason()),
            UrlState::Skipped => Outcome::Skipped(reason()),
            UrlState::Queued | UrlState::InFlight => Outcome::Requeue,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_differ_across_shards() {
        let (a, b) = ("http://a", "http://b");
        assert_ne!(shard_of(a), shard_of(b));
        assert_ne!(trait_token(a, 1), trait_token(b, 1));
        assert_eq!(redis_lease(a, trait_token(a, 77)).token, 77);
        assert_eq!(redact("redis://u:pw@h:1/0"), "redis://***@h:1/0");
        assert_eq!(redact("redis://h:1"), "redis://h:1");
    }
}
