//! Completion: a two-phase commit whose decision lives in the worker's own slot (see the
//! crate docs for the protocol and its crash cases).

use crate::error::FrontierError;
use crate::frontier::{Args, RedisFrontier, SCRIPTS, invoke};
use crate::keys::{clean, crawl_prefix, shard_of, worker_prefix};
use crate::lease::release_args;
use crate::reply::{self, array, at, int, string};
use crate::types::{Checkpoint, Finished, Outcome, Release, WorkerId};
use std::collections::BTreeMap;

/// Worker slot: dead workers (heartbeat expired), at most ARGV[1].
const DEAD_WORKERS: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1] .. 'workers', '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
"#;

/// Crawl slot: forgets a dead worker unless it heartbeated meanwhile. ARGV: worker.
const FORGET_WORKER: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('ZSCORE', KEYS[1] .. 'workers', ARGV[1])
if s and tonumber(s) <= now then redis.call('ZREM', KEYS[1] .. 'workers', ARGV[1]) end
return 1
"#;

static WORKER_SCRIPTS: std::sync::LazyLock<(redis::Script, redis::Script)> =
    std::sync::LazyLock::new(|| {
        (
            redis::Script::new(DEAD_WORKERS),
            redis::Script::new(FORGET_WORKER),
        )
    });

/// Phase 1 done: which pages were accepted. Write exactly the accepted pages to the sink,
/// then [`RedisFrontier::commit`] with the sink's new position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    worker: WorkerId,
    batch: u64,
    shards: Vec<u16>,
    /// One flag per page, in the order given: `false` = fenced (the lease was lost); its
    /// record must not be written.
    pub accepted: Vec<bool>,
}

impl Prepared {
    /// The batch number.
    pub fn batch(&self) -> u64 {
        self.batch
    }
}

/// A worker's state after [`RedisFrontier::recover_worker`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerState {
    /// The last committed checkpoint: cut the sink back to it.
    pub checkpoint: Option<Checkpoint>,
    /// The batch number to use next.
    pub next_batch: u64,
    /// URLs that went back to their queues: those of the aborted pending batch and those
    /// still held under the worker's leases.
    pub reclaimed: u64,
}

impl RedisFrontier {
    /// Phase 1 of completing a batch of finished URLs: records the batch as pending in the
    /// worker's slot, then, per shard, moves each URL whose lease is still ours out of its
    /// lease into the shard's prepared set. `batch` must grow with every call of a worker
    /// (start from [`WorkerState::next_batch`]); one batch at a time per worker.
    pub async fn prepare(
        &self,
        worker: &WorkerId,
        batch: u64,
        pages: &[Finished],
    ) -> Result<Prepared, FrontierError> {
        let mut by_shard: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
        for (i, p) in pages.iter().enumerate() {
            by_shard
                .entry(shard_of(&p.lease.host.0))
                .or_default()
                .push(i);
        }
        let shards: Vec<u16> = by_shard.keys().copied().collect();
        let list = shards
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut args = Args::default();
        args.n(batch).s(&list);
        let wp = worker_prefix(&self.crawl, worker.as_str());
        let ok = int(&invoke(&mut self.conn.clone(), &SCRIPTS.intent, &wp, &args).await?)?;
        if ok != 1 {
            return Err(FrontierError::invalid(
                "batch number",
                format!(
                    "batch {batch} of worker {} is not after its last one",
                    worker.as_str()
                ),
            ));
        }
        let results = self
            .fan_out(by_shard.into_iter().collect(), |(shard, idx)| async move {
                let mut args = Args::default();
                args.s(worker.as_str()).n(batch);
                for &i in &idx {
                    let p = &pages[i];
                    let (code, reason) = match &p.outcome {
                        Outcome::Done => ("d", String::new()),
                        Outcome::Failed(r) => ("x", clean(r)),
                        Outcome::Skipped(r) => ("k", clean(r)),
                        Outcome::Requeue => ("q", String::new()),
                    };
                    args.s(&p.lease.host.0)
                        .n(p.lease.token)
                        .s(&p.url)
                        .s(code)
                        .s(reason);
                }
                let v = self.call(&SCRIPTS.prepare, shard, &args).await?;
                let flags = array(&v)?
                    .iter()
                    .map(|f| int(f).map(|f| f == 1))
                    .collect::<Result<Vec<bool>, _>>()?;
                if flags.len() != idx.len() {
                    return Err(FrontierError::reply("prepare: wrong number of flags"));
                }
                Ok(idx.into_iter().zip(flags).collect::<Vec<_>>())
            })
            .await?;
        let mut accepted = vec![false; pages.len()];
        for (i, ok) in results.into_iter().flatten() {
            accepted[i] = ok;
        }
        let fenced = accepted.iter().filter(|a| !**a).count();
        if fenced > 0 {
            tracing::warn!(crawl = %self.crawl, worker = worker.as_str(), batch, fenced, "lease lost: completions refused");
        }
        Ok(Prepared {
            worker: worker.clone(),
            batch,
            shards,
            accepted,
        })
    }

    /// Phase 2: the commit point (the batch and `checkpoint`, the sink position after the
    /// accepted records, written in the worker's slot), then the prepared URLs become
    /// done/failed/skipped in their shards. `Fenced` if a recovery aborted the batch first
    /// (the worker was presumed dead): cut the sink back to the previous checkpoint.
    pub async fn commit(&self, prepared: &Prepared, checkpoint: &str) -> Result<(), FrontierError> {
        self.commit_and_release(prepared, checkpoint, &[]).await?;
        Ok(())
    }

    /// [`RedisFrontier::commit`], then [`RedisFrontier::release_all`] of `releases` in the
    /// same shard scripts (one call per shard instead of two). The releases happen only if
    /// the batch commits. Returns the releases' results, as `release_all`.
    pub async fn commit_and_release(
        &self,
        prepared: &Prepared,
        checkpoint: &str,
        releases: &[Release],
    ) -> Result<Vec<Option<i64>>, FrontierError> {
        let wp = worker_prefix(&self.crawl, prepared.worker.as_str());
        let mut args = Args::default();
        args.n(prepared.batch).s(checkpoint);
        let ok = int(&invoke(&mut self.conn.clone(), &SCRIPTS.commit, &wp, &args).await?)?;
        if ok != 1 {
            tracing::warn!(crawl = %self.crawl, worker = prepared.worker.as_str(), batch = prepared.batch, "lease lost: batch aborted by a recovery");
            return Err(FrontierError::Fenced(format!(
                "batch {} of worker {} was aborted by a recovery",
                prepared.batch,
                prepared.worker.as_str()
            )));
        }
        let (_, released) = self
            .resolve(
                &prepared.worker,
                prepared.batch as i64,
                false,
                &prepared.shards,
                releases,
            )
            .await?;
        let mut args = Args::default();
        args.n(prepared.batch);
        invoke(&mut self.conn.clone(), &SCRIPTS.clear, &wp, &args).await?;
        Ok(released)
    }

    /// Phases 1 and 2 without a sink (pages whose output lives elsewhere, tests, benches).
    /// Returns the accepted flags.
    pub async fn complete(
        &self,
        worker: &WorkerId,
        batch: u64,
        pages: &[Finished],
        checkpoint: &str,
    ) -> Result<Vec<bool>, FrontierError> {
        let prepared = self.prepare(worker, batch, pages).await?;
        self.commit(&prepared, checkpoint).await?;
        Ok(prepared.accepted)
    }

    /// What a (re)starting worker calls first, and what the reaper runs for a dead one:
    /// decides the worker's pending batch (committed stays, anything else is aborted and
    /// its URLs go back to their queues), ends the leases the worker still holds (their
    /// URLs go back, no attempt counted), and returns the committed checkpoint to cut the
    /// worker's sink back to.
    pub async fn recover_worker(&self, worker: &WorkerId) -> Result<WorkerState, FrontierError> {
        let wp = worker_prefix(&self.crawl, worker.as_str());
        let v = invoke(
            &mut self.conn.clone(),
            &SCRIPTS.abort,
            &wp,
            &Args::default(),
        )
        .await?;
        let a = array(&v)?;
        let committed = int(at(a, 0)?)?;
        let position = string(at(a, 1)?)?;
        let pending = int(at(a, 2)?)?;
        let shards = string(at(a, 3)?)?;
        let aborted = int(at(a, 4)?)?;
        let mut reclaimed = 0;
        if pending >= 0 {
            let shards: Vec<u16> = shards
                .split(',')
                .filter_map(|s| s.parse().ok())
                .filter(|s| *s < crate::keys::SHARDS)
                .collect();
            reclaimed += self.resolve(worker, committed, true, &shards, &[]).await?.0;
            let mut args = Args::default();
            args.n(pending);
            invoke(&mut self.conn.clone(), &SCRIPTS.clear, &wp, &args).await?;
            if pending > committed {
                tracing::info!(crawl = %self.crawl, worker = worker.as_str(), batch = pending, "aborted an uncommitted batch; its URLs are queued again");
            }
        }
        let returned = self.reclaim_leases(worker).await?;
        reclaimed += returned;
        if returned > 0 {
            tracing::info!(crawl = %self.crawl, worker = worker.as_str(), urls = returned, "ended the leases of an earlier run");
        }
        let checkpoint = u64::try_from(committed)
            .ok()
            .map(|batch| Checkpoint { batch, position });
        let next_batch = u64::try_from(committed.max(aborted).max(pending) + 1).unwrap_or(0);
        Ok(WorkerState {
            checkpoint,
            next_batch,
            reclaimed,
        })
    }

    /// The worker's committed checkpoint and next batch number, read only (no recovery).
    pub async fn checkpoint(&self, worker: &WorkerId) -> Result<WorkerState, FrontierError> {
        let v: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(format!("{}ck", worker_prefix(&self.crawl, worker.as_str())))
            .arg(&["b", "c", "pb", "ab"])
            .query_async(&mut self.conn.clone())
            .await?;
        let num = |i: usize| {
            v.get(i)
                .and_then(|x| x.as_deref())
                .and_then(|x| x.parse::<i64>().ok())
                .unwrap_or(-1)
        };
        let committed = num(0);
        let position = v.get(1).cloned().flatten().unwrap_or_default();
        Ok(WorkerState {
            checkpoint: u64::try_from(committed)
                .ok()
                .map(|batch| Checkpoint { batch, position }),
            next_batch: u64::try_from(committed.max(num(2)).max(num(3)) + 1).unwrap_or(0),
            reclaimed: 0,
        })
    }

    async fn resolve(
        &self,
        worker: &WorkerId,
        committed: i64,
        rest: bool,
        shards: &[u16],
        releases: &[Release],
    ) -> Result<(u64, Vec<Option<i64>>), FrontierError> {
        let mut jobs: BTreeMap<u16, Vec<usize>> = shards.iter().map(|s| (*s, Vec::new())).collect();
        for (i, r) in releases.iter().enumerate() {
            jobs.entry(shard_of(&r.lease.host.0)).or_default().push(i);
        }
        let results = self
            .fan_out(jobs.into_iter().collect(), |(shard, idx)| async move {
                let mut args = Args::default();
                args.s(worker.as_str()).n(committed).n(u8::from(rest));
                args.n(self.settings.max_attempts);
                for &i in &idx {
                    release_args(&mut args, &releases[i], self.settings.lease);
                }
                let v = self.call(&SCRIPTS.resolve, shard, &args).await?;
                let a = array(&v)?;
                let next = array(at(a, 3)?)?
                    .iter()
                    .map(|n| int(n).map(|n| (n >= 0).then_some(n)))
                    .collect::<Result<Vec<_>, _>>()?;
                if next.len() != idx.len() {
                    return Err(FrontierError::reply("resolve: wrong number of releases"));
                }
                Ok((
                    reply::hint(shard, at(a, 2)?)?,
                    idx.into_iter().zip(next).collect::<Vec<_>>(),
                    u64::try_from(int(at(a, 1)?)?).unwrap_or(0),
                ))
            })
            .await?;
        let mut out = vec![None; releases.len()];
        let mut hints = Vec::with_capacity(results.len());
        let mut requeued = 0;
        for (hint, pairs, n) in results {
            hints.push(hint);
            requeued += n;
            for (i, n) in pairs {
                out[i] = n;
            }
        }
        self.apply_hints(&hints).await?;
        Ok((requeued, out))
    }

    /// Recovers up to `max` workers whose heartbeat expired. Returns how many.
    pub(crate) async fn recover_dead_workers(&self, max: usize) -> Result<u64, FrontierError> {
        let cp = crawl_prefix(&self.crawl);
        let mut args = Args::default();
        args.n(max);
        let v = invoke(&mut self.conn.clone(), &WORKER_SCRIPTS.0, &cp, &args).await?;
        let mut n = 0;
        for w in array(&v)? {
            let Ok(worker) = WorkerId::new(&string(w)?) else {
                continue;
            };
            self.recover_worker(&worker).await?;
            let mut args = Args::default();
            args.s(worker.as_str());
            invoke(&mut self.conn.clone(), &WORKER_SCRIPTS.1, &cp, &args).await?;
            n += 1;
        }
        Ok(n)
    }
}
