//! Work under a lease: renew, take, release, retry, block, robots.txt, and ending a
//! restarted worker's leases.

use crate::error::FrontierError;
use crate::frontier::{Args, RedisFrontier, SCRIPTS, invoke};
use crate::keys::{SHARDS, clean, crawl_prefix, parse_record, shard_of};
use crate::reply::{self, Hint, array, at, int, string};
use crate::types::{ClaimedUrl, HostKey, Lease, Release, Retried};
use redis::Value;
use std::collections::BTreeMap;
use std::time::Duration;

impl RedisFrontier {
    /// Extends a lease by the crawl's lease length. `Fenced` if it is no longer ours.
    pub async fn renew(&self, lease: &Lease) -> Result<Lease, FrontierError> {
        let mut args = Args::default();
        args.s(&lease.host.0)
            .n(lease.token)
            .n(self.settings.lease.as_millis());
        let v = self
            .call(&SCRIPTS.renew, shard_of(&lease.host.0), &args)
            .await?;
        let expires_ms = int(&v)?;
        if expires_ms < 0 {
            return Err(fenced(lease));
        }
        Ok(Lease {
            expires_ms,
            ..lease.clone()
        })
    }

    /// Ends a lease: the host may be fetched again after `delay` (politeness: the caller's
    /// max of its minimum delay, Crawl-delay and AutoThrottle), or after a block if later.
    /// URLs of the lease not completed go back to the front of the queue, no attempt
    /// counted. `throttle` stores the host's AutoThrottle delay for its next holder.
    /// Returns the host's next allowed time (server ms). `Fenced` if no longer ours.
    pub async fn release(
        &self,
        lease: &Lease,
        delay: Duration,
        throttle: Option<Duration>,
    ) -> Result<i64, FrontierError> {
        let r = Release {
            throttle,
            ..Release::new(lease.clone(), delay)
        };
        self.release_one(r).await
    }

    /// [`RedisFrontier::release`], but URLs still in flight stay completable under the
    /// ended lease's token for one more lease length (see [`Release::drain`]).
    pub async fn release_draining(
        &self,
        lease: &Lease,
        delay: Duration,
        throttle: Option<Duration>,
    ) -> Result<i64, FrontierError> {
        self.release_one(Release {
            lease: lease.clone(),
            delay,
            throttle,
            drain: true,
        })
        .await
    }

    async fn release_one(&self, r: Release) -> Result<i64, FrontierError> {
        let lease = r.lease.clone();
        match self.release_all(&[r]).await?.pop() {
            Some(Some(at)) => Ok(at),
            _ => Err(fenced(&lease)),
        }
    }

    /// Ends many leases at once (one script per shard). Returns, per lease in order, the
    /// host's next allowed time, or `None` if it was fenced.
    pub async fn release_all(
        &self,
        releases: &[Release],
    ) -> Result<Vec<Option<i64>>, FrontierError> {
        let mut by_shard: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
        for (i, r) in releases.iter().enumerate() {
            by_shard
                .entry(shard_of(&r.lease.host.0))
                .or_default()
                .push(i);
        }
        let results = self
            .fan_out(by_shard.into_iter().collect(), |(shard, idx)| async move {
                let mut args = Args::default();
                for &i in &idx {
                    release_args(&mut args, &releases[i], self.settings.lease);
                }
                let v = self.call(&SCRIPTS.release, shard, &args).await?;
                let a = array(&v)?;
                let next = array(at(a, 0)?)?
                    .iter()
                    .map(|n| int(n).map(|n| (n >= 0).then_some(n)))
                    .collect::<Result<Vec<_>, _>>()?;
                if next.len() != idx.len() {
                    return Err(FrontierError::reply("release: wrong number of results"));
                }
                Ok((
                    idx.into_iter().zip(next).collect::<Vec<_>>(),
                    reply::hint(shard, at(a, 1)?)?,
                ))
            })
            .await?;
        let mut out = vec![None; releases.len()];
        let mut hints = Vec::new();
        for (pairs, hint) in results {
            hints.push(hint);
            for (i, n) in pairs {
                out[i] = n;
            }
        }
        self.apply_hints(&hints).await?;
        Ok(out)
    }

    /// Takes up to `max` more URLs of a host held under `lease`, oldest first. `Fenced`
    /// if the lease is no longer ours.
    pub async fn take(&self, lease: &Lease, max: usize) -> Result<Vec<ClaimedUrl>, FrontierError> {
        let mut args = Args::default();
        args.s(&lease.host.0).n(lease.token).n(max.max(1));
        let v = self
            .call(&SCRIPTS.take, shard_of(&lease.host.0), &args)
            .await?;
        if matches!(v, Value::Int(-1)) {
            return Err(fenced(lease));
        }
        array(&v)?
            .iter()
            .map(|r| {
                let rec = string(r)?;
                parse_record(&rec)
                    .ok_or_else(|| FrontierError::reply(format!("bad record `{rec}`")))
            })
            .collect()
    }

    /// Gives one URL of the lease back for a later attempt, recording `error`: it waits
    /// `delay` (server clock), then goes to the back of its host's queue. Past the crawl's
    /// attempt limit it goes to the dead-letter list instead.
    pub async fn retry(
        &self,
        lease: &Lease,
        url: &str,
        error: &str,
        delay: Duration,
    ) -> Result<Retried, FrontierError> {
        let shard = shard_of(&lease.host.0);
        let mut args = Args::default();
        args.s(&lease.host.0).n(lease.token).s(url).s(clean(error));
        args.n(self.settings.max_attempts).n(delay.as_millis());
        let v = self.call(&SCRIPTS.retry, shard, &args).await?;
        let a = array(&v)?;
        self.apply_hints(&[reply::hint(shard, at(a, 2)?)?]).await?;
        let attempts = u32::try_from(int(at(a, 1)?)?).unwrap_or(u32::MAX);
        match int(at(a, 0)?)? {
            -1 => Err(fenced(lease)),
            1 => Ok(Retried::DeadLettered { attempts }),
            _ => Ok(Retried::Queued { attempts }),
        }
    }

    /// How long until the earliest due host (zero: one is due now); `None` when no host
    /// has queued URLs outside a lease.
    pub async fn next_ready(&self) -> Result<Option<Duration>, FrontierError> {
        let v = invoke(
            &mut self.conn.clone(),
            &SCRIPTS.next_ready,
            &crawl_prefix(&self.crawl),
            &Args::default(),
        )
        .await?;
        let ms = int(&v)?;
        Ok(u64::try_from(ms).ok().map(Duration::from_millis))
    }

    /// Whether the crawl's indexes list any shard with queued, delayed or leased hosts:
    /// one round trip, for the idle workers' "is the crawl over?" poll. `false` proves
    /// nothing (an index entry may lag its shard): ask [`RedisFrontier::stats`] then.
    pub async fn has_indexed_work(&self) -> Result<bool, FrontierError> {
        let v = invoke(
            &mut self.conn.clone(),
            &SCRIPTS.indexed,
            &crawl_prefix(&self.crawl),
            &Args::default(),
        )
        .await?;
        Ok(int(&v)? > 0)
    }

    /// Stores the crawl's seeds (given back by [`RedisFrontier::seeds`]).
    pub async fn set_seeds(&self, seeds: &[String]) -> Result<(), FrontierError> {
        let _: () = redis::cmd("HSET")
            .arg(format!("{}meta", crawl_prefix(&self.crawl)))
            .arg("seeds")
            .arg(seeds.join("\n"))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    /// The crawl's seeds, as stored.
    pub async fn seeds(&self) -> Result<Vec<String>, FrontierError> {
        let s: Option<String> = redis::cmd("HGET")
            .arg(format!("{}meta", crawl_prefix(&self.crawl)))
            .arg("seeds")
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(s.map(|s| {
            s.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
    }

    /// Ends every lease `worker` holds (its restart, or a dead worker's recovery): URLs
    /// go back to their queues, no attempt counted. Returns how many. Visits only the
    /// shards that hold leases.
    pub(crate) async fn reclaim_leases(
        &self,
        worker: &crate::WorkerId,
    ) -> Result<u64, FrontierError> {
        let shards: Vec<String> = redis::cmd("ZRANGE")
            .arg(format!("{}lidx", crawl_prefix(&self.crawl)))
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn.clone())
            .await?;
        let shards: Vec<u16> = shards
            .iter()
            .filter_map(|s| s.parse().ok())
            .filter(|s| *s < SHARDS)
            .collect();
        let results = self
            .fan_out(shards, |shard| async move {
                let mut args = Args::default();
                args.s(worker.as_str());
                let v = self.call(&SCRIPTS.reclaim, shard, &args).await?;
                let a = array(&v)?;
                Ok((int(at(a, 0)?)?, reply::hint(shard, at(a, 1)?)?))
            })
            .await?;
        let n = results.iter().map(|(n, _)| *n as u64).sum();
        let hints: Vec<Hint> = results.into_iter().map(|(_, h)| h).collect();
        self.apply_hints(&hints).await?;
        Ok(n)
    }

    /// Holds a host for every worker for `duration` from now (server clock): a
    /// `Retry-After`, 429 or 503. A block never shortens an earlier one. Returns its end.
    pub async fn block_host(
        &self,
        host: &HostKey,
        duration: Duration,
    ) -> Result<i64, FrontierError> {
        self.block_as(host, duration, "").await
    }

    /// [`RedisFrontier::block_host`] by the holder of `lease` only: `Fenced` if the lease
    /// is no longer ours.
    pub async fn block(&self, lease: &Lease, duration: Duration) -> Result<i64, FrontierError> {
        let until = self
            .block_as(&lease.host, duration, &lease.token.to_string())
            .await?;
        if until < 0 {
            return Err(fenced(lease));
        }
        Ok(until)
    }

    async fn block_as(
        &self,
        host: &HostKey,
        duration: Duration,
        token: &str,
    ) -> Result<i64, FrontierError> {
        let shard = shard_of(&host.0);
        let mut args = Args::default();
        args.s(&host.0).n(duration.as_millis()).s(token);
        let v = self.call(&SCRIPTS.block, shard, &args).await?;
        let a = array(&v)?;
        self.apply_hints(&[reply::hint(shard, at(a, 1)?)?]).await?;
        int(at(a, 0)?)
    }

    /// Caches the host's robots.txt (only the lease holder fetches and stores it).
    pub async fn store_robots(&self, lease: &Lease, body: &str) -> Result<(), FrontierError> {
        let mut args = Args::default();
        args.s(&lease.host.0).n(lease.token).s(body);
        let v = self
            .call(&SCRIPTS.robots, shard_of(&lease.host.0), &args)
            .await?;
        if int(&v)? < 0 {
            return Err(fenced(lease));
        }
        Ok(())
    }
}

/// A release's arguments: host, token, delay ms, throttle ms or -1, mode, lease ms.
pub(crate) fn release_args(args: &mut Args, r: &Release, lease: Duration) {
    args.s(&r.lease.host.0)
        .n(r.lease.token)
        .n(r.delay.as_millis());
    args.n(r.throttle.map_or(-1, |t| t.as_millis() as i64));
    args.s(if r.drain { "d" } else { "r" }).n(lease.as_millis());
}

pub(crate) fn fenced(lease: &Lease) -> FrontierError {
    FrontierError::Fenced(format!("host {} token {}", lease.host, lease.token))
}
