//! The frontier's operations on URLs and hosts: create/join, enqueue, claim, renew,
//! release, retry, block, robots.txt, reap.

use crate::conn::{Conn, RedisTarget, check_eviction_policy};
use crate::error::FrontierError;
use crate::keys::{
    SHARDS, buckets_for, clean, crawl_prefix, fingerprint, parse_record, record, seen_slot,
    shard_of, shard_prefix,
};
use crate::lua;
use crate::reply::{self, Hint, array, at, int, string};
use crate::types::{
    CachedRobots, ClaimedHost, ClaimedUrl, CrawlSettings, Enqueued, HostKey, Lease, NewUrl, Reaped,
    Release, Retried,
};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use redis::{Script, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

pub(crate) struct Scripts {
    pub(crate) probe: Script,
    pub(crate) enqueue: Script,
    pub(crate) claim: Script,
    pub(crate) renew: Script,
    pub(crate) prepare: Script,
    pub(crate) resolve: Script,
    pub(crate) release: Script,
    pub(crate) retry: Script,
    pub(crate) block: Script,
    pub(crate) robots: Script,
    pub(crate) reap: Script,
    pub(crate) hint: Script,
    pub(crate) apply_hints: Script,
    pub(crate) due_shards: Script,
    pub(crate) reserve: Script,
    pub(crate) settle: Script,
    pub(crate) intent: Script,
    pub(crate) commit: Script,
    pub(crate) clear: Script,
    pub(crate) abort: Script,
    pub(crate) create: Script,
    pub(crate) cursor: Script,
    pub(crate) take: Script,
    pub(crate) reclaim: Script,
    pub(crate) next_ready: Script,
}

pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    probe: Script::new(&lua::shard(lua::PROBE)),
    enqueue: Script::new(&lua::shard(lua::ENQUEUE)),
    claim: Script::new(&lua::shard(lua::CLAIM)),
    renew: Script::new(&lua::shard(lua::RENEW)),
    prepare: Script::new(&lua::shard(lua::PREPARE)),
    resolve: Script::new(&lua::shard(lua::RESOLVE)),
    release: Script::new(&lua::shard(lua::RELEASE)),
    retry: Script::new(&lua::shard(lua::RETRY)),
    block: Script::new(&lua::shard(lua::BLOCK)),
    robots: Script::new(&lua::shard(lua::ROBOTS)),
    reap: Script::new(&lua::shard(lua::REAP)),
    hint: Script::new(&lua::shard(lua::HINT)),
    apply_hints: Script::new(lua::APPLY_HINTS),
    due_shards: Script::new(lua::DUE_SHARDS),
    reserve: Script::new(lua::RESERVE),
    settle: Script::new(lua::SETTLE),
    intent: Script::new(lua::INTENT),
    commit: Script::new(lua::COMMIT),
    clear: Script::new(lua::CLEAR),
    abort: Script::new(lua::ABORT),
    create: Script::new(CREATE),
    cursor: Script::new(CURSOR),
    take: Script::new(&lua::shard(lua::TAKE)),
    reclaim: Script::new(&lua::shard(lua::RECLAIM)),
    next_ready: Script::new(lua::NEXT_READY),
});

/// Crawl slot: stores the settings unless the crawl exists. ARGV: field, value, ...
const CREATE: &str = r#"
local m = KEYS[1] .. 'meta'
if redis.call('EXISTS', m) == 1 then return 0 end
redis.call('HSET', m, unpack(ARGV))
return 1
"#;

/// Crawl slot: the sweep cursor: returns the first of the next ARGV[1] shards.
const CURSOR: &str = r#"
local c = redis.call('INCRBY', KEYS[1] .. 'sweep', ARGV[1]) - ARGV[1]
return c % tonumber(ARGV[2])
"#;

/// Longest URL, host key or referrer accepted, in bytes.
pub const MAX_URL_LEN: usize = 8 * 1024;

/// Shards worked on at once by one call.
const FAN_OUT: usize = 32;
/// Expired leases one script returns, at most (bounded work per script call).
pub(crate) const REAP_HOSTS: u32 = 64;
/// Rounds an enqueue waits for other workers' outstanding page-limit reservations.
const RESERVE_ROUNDS: u32 = 200;

/// Arguments of one script call.
#[derive(Default)]
pub(crate) struct Args(pub(crate) Vec<Vec<u8>>);

impl Args {
    pub(crate) fn s(&mut self, v: impl AsRef<str>) -> &mut Self {
        self.0.push(v.as_ref().as_bytes().to_vec());
        self
    }
    pub(crate) fn b(&mut self, v: &[u8]) -> &mut Self {
        self.0.push(v.to_vec());
        self
    }
    pub(crate) fn n(&mut self, v: impl std::fmt::Display) -> &mut Self {
        self.0.push(v.to_string().into_bytes());
        self
    }
}

/// The Redis frontier of one crawl. Cheap to clone (one multiplexed connection).
#[derive(Clone)]
pub struct RedisFrontier {
    pub(crate) conn: Conn,
    pub(crate) crawl: String,
    pub(crate) settings: CrawlSettings,
    pub(crate) buckets: u16,
}

impl std::fmt::Debug for RedisFrontier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisFrontier")
            .field("crawl", &self.crawl)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl RedisFrontier {
    /// Creates crawl `crawl_id` with `settings`, or joins it if it exists (then the stored
    /// settings win). Returns whether this call created it. Refuses a Redis that may evict.
    pub async fn create(
        redis_url: &str,
        crawl_id: &str,
        settings: CrawlSettings,
    ) -> Result<(RedisFrontier, bool), FrontierError> {
        crate::keys::check_id("crawl id", crawl_id)?;
        if settings.max_attempts == 0 || settings.lease < Duration::from_millis(10) {
            return Err(FrontierError::invalid(
                "crawl settings",
                "max_attempts must be ≥ 1 and the lease ≥ 10 ms",
            ));
        }
        let conn = connect(redis_url).await?;
        let mut args = Args::default();
        let opt = |v: Option<u64>| v.map_or(-1, |v| v.min(i64::MAX as u64) as i64);
        args.s("v").n(1).s("cfg").s(&settings.config);
        args.s("limit").n(opt(settings.page_limit));
        args.s("maxh").n(opt(settings.max_per_host));
        args.s("att").n(settings.max_attempts);
        args.s("lease").n(settings.lease.as_millis());
        args.s("robots").n(settings
            .robots_ttl
            .min(Duration::from_secs(24 * 3600))
            .as_millis());
        args.s("expected").n(settings.expected_urls);
        args.s("buckets").n(buckets_for(settings.expected_urls));
        args.s("shards").n(SHARDS);
        let mut c = conn.clone();
        let created =
            int(&invoke(&mut c, &SCRIPTS.create, &crawl_prefix(crawl_id), &args).await?)? == 1;
        if created {
            tracing::info!(crawl = crawl_id, "crawl created in Redis");
        }
        let frontier = load(conn, crawl_id).await?;
        Ok((frontier, created))
    }

    /// Joins an existing crawl: workers need only its id.
    pub async fn join(redis_url: &str, crawl_id: &str) -> Result<RedisFrontier, FrontierError> {
        crate::keys::check_id("crawl id", crawl_id)?;
        let conn = connect(redis_url).await?;
        load(conn, crawl_id).await
    }

    /// The crawl's id.
    pub fn crawl_id(&self) -> &str {
        &self.crawl
    }

    /// The crawl's settings (with the engine's opaque config blob), as stored.
    pub fn settings(&self) -> &CrawlSettings {
        &self.settings
    }

    /// Adds URLs: in each shard one script tests the seen-set, pushes the new URLs to their
    /// host queues and wakes the hosts. With a page limit, budget is reserved first in the
    /// crawl's slot (exact across shards and workers; see the crate docs).
    pub async fn enqueue(&self, urls: &[NewUrl]) -> Result<Enqueued, FrontierError> {
        let mut by_shard: BTreeMap<u16, Vec<Item>> = BTreeMap::new();
        let mut invalid = 0;
        for u in urls {
            let bad = |s: &str| s.len() > MAX_URL_LEN || s.bytes().any(|b| b.is_ascii_control());
            if bad(&u.url)
                || bad(&u.host.0)
                || u.referrer.as_deref().is_some_and(bad)
                || u.url.is_empty()
            {
                invalid += 1;
                continue;
            }
            let (bucket, field) = seen_slot(fingerprint(&u.url), self.buckets);
            by_shard.entry(shard_of(&u.host.0)).or_default().push(Item {
                host: u.host.0.clone(),
                bucket,
                field,
                record: record(&u.url, u.depth, u.referrer.as_deref()),
            });
        }
        let mut total = Enqueued {
            invalid,
            ..Enqueued::default()
        };
        let Some(limit) = self.settings.page_limit else {
            let jobs: Vec<(u16, Vec<Item>, i64)> = by_shard
                .into_iter()
                .map(|(s, items)| (s, items, -1))
                .collect();
            let (mut sum, _) = self.push(jobs, "").await?;
            sum.invalid = invalid;
            return Ok(sum);
        };
        // Probe first, so that reservations cover only URLs that look new.
        let probed = self
            .fan_out(
                by_shard.into_iter().collect(),
                |(shard, items)| async move {
                    let mut args = Args::default();
                    for it in &items {
                        args.n(it.bucket).b(&it.field);
                    }
                    let v = self.call(&SCRIPTS.probe, shard, &args).await?;
                    let seen = array(&v)?;
                    let mut fresh = Vec::new();
                    let mut dups = 0;
                    for (i, it) in items.into_iter().enumerate() {
                        if int(at(seen, i)?)? == 1 {
                            dups += 1;
                        } else {
                            fresh.push(it);
                        }
                    }
                    Ok((shard, fresh, dups))
                },
            )
            .await?;
        let mut pending: BTreeMap<u16, Vec<Item>> = BTreeMap::new();
        for (shard, fresh, dups) in probed {
            total.duplicates += dups;
            if !fresh.is_empty() {
                pending.insert(shard, fresh);
            }
        }
        let prefix = crawl_prefix(&self.crawl);
        for round in 0..RESERVE_ROUNDS {
            let want: usize = pending.values().map(Vec::len).sum();
            if want == 0 {
                break;
            }
            let id = random_id();
            let mut args = Args::default();
            args.s(&id).n(want).n(limit);
            let v = invoke(&mut self.conn.clone(), &SCRIPTS.reserve, &prefix, &args).await?;
            let a = array(&v)?;
            let (granted, others) = (int(at(a, 0)?)?.max(0) as usize, int(at(a, 1)?)?);
            let mut budget = granted;
            let mut jobs = Vec::new();
            let mut left: BTreeMap<u16, Vec<Item>> = BTreeMap::new();
            for (shard, items) in std::mem::take(&mut pending) {
                let give = budget.min(items.len());
                budget -= give;
                if give == 0 {
                    left.insert(shard, items);
                } else {
                    jobs.push((shard, items, give as i64));
                }
            }
            // A failed push leaves its reservation outstanding (the limit may then be
            // undershot, never overshot).
            let (sum, over) = self.push(jobs, &id).await?;
            let mut args = Args::default();
            args.s(&id).n(sum.added);
            invoke(&mut self.conn.clone(), &SCRIPTS.settle, &prefix, &args).await?;
            total.added += sum.added;
            total.duplicates += sum.duplicates;
            total.host_capped += sum.host_capped;
            for (shard, items) in over {
                left.entry(shard).or_default().extend(items);
            }
            pending = left;
            if pending.is_empty() {
                break;
            }
            if others == 0 && granted == 0 {
                // The limit is reached and nobody holds budget that could come back.
                break;
            }
            if others > 0 {
                tokio::time::sleep(Duration::from_millis(1 + u64::from(round.min(20)))).await;
            }
        }
        total.over_limit += pending.values().map(|v| v.len() as u64).sum::<u64>();
        Ok(total)
    }

    /// Runs ENQUEUE on shards; returns the sums and, per shard, the items refused for
    /// lack of budget.
    async fn push(
        &self,
        jobs: Vec<(u16, Vec<Item>, i64)>,
        request: &str,
    ) -> Result<(Enqueued, Vec<(u16, Vec<Item>)>), FrontierError> {
        let maxh = self
            .settings
            .max_per_host
            .map_or(-1, |v| v.min(i64::MAX as u64) as i64);
        let results = self
            .fan_out(jobs, |(shard, items, budget)| async move {
                let mut args = Args::default();
                args.n(budget).n(maxh).s(request);
                for it in &items {
                    args.s(&it.host).n(it.bucket).b(&it.field).s(&it.record);
                }
                let v = self.call(&SCRIPTS.enqueue, shard, &args).await?;
                let a = array(&v)?;
                let sum = Enqueued {
                    added: int(at(a, 0)?)? as u64,
                    duplicates: int(at(a, 1)?)? as u64,
                    host_capped: int(at(a, 2)?)? as u64,
                    over_limit: 0,
                    invalid: 0,
                };
                let hint = reply::hint(shard, at(a, 3)?)?;
                let mut over = Vec::new();
                let refused: Vec<usize> = array(at(a, 4)?)?
                    .iter()
                    .map(|v| int(v).map(|i| i as usize))
                    .collect::<Result<_, _>>()?;
                let mut items: Vec<Option<Item>> = items.into_iter().map(Some).collect();
                for i in refused {
                    if let Some(it) = items.get_mut(i).and_then(Option::take) {
                        over.push(it);
                    }
                }
                Ok((shard, sum, hint, over))
            })
            .await?;
        let mut total = Enqueued::default();
        let mut hints = Vec::new();
        let mut over = Vec::new();
        for (shard, sum, hint, refused) in results {
            total.added += sum.added;
            total.duplicates += sum.duplicates;
            total.host_capped += sum.host_capped;
            hints.push(hint);
            if !refused.is_empty() {
                over.push((shard, refused));
            }
        }
        self.apply_hints(&hints).await?;
        Ok((total, over))
    }

    /// Claims up to about `max_hosts` due hosts (their next allowed fetch time has come,
    /// nobody holds them), each under a fresh lease with up to `max_urls` of its URLs
    /// (0: none; take them with [`RedisFrontier::take`]).
    /// Expired leases of the shards visited are reaped on the way.
    pub async fn claim(
        &self,
        worker: &crate::WorkerId,
        max_hosts: usize,
        max_urls: usize,
    ) -> Result<Vec<ClaimedHost>, FrontierError> {
        if max_hosts == 0 {
            return Ok(Vec::new());
        }
        let shards = self.due_shards("idx", max_hosts.min(256)).await?;
        if shards.is_empty() {
            return Ok(Vec::new());
        }
        let n = shards.len();
        let jobs: Vec<(u16, usize)> = shards
            .into_iter()
            .enumerate()
            .map(|(i, s)| (s, max_hosts / n + usize::from(i < max_hosts % n)))
            .filter(|(_, k)| *k > 0)
            .collect();
        let results = self
            .fan_out(jobs, |(shard, k)| async move {
                let mut args = Args::default();
                args.s(worker.as_str()).n(k).n(max_urls);
                args.n(self.settings.lease.as_millis())
                    .n(self.settings.max_attempts);
                args.n(REAP_HOSTS).n(self.settings.robots_ttl.as_millis());
                let v = self.call(&SCRIPTS.claim, shard, &args).await?;
                let a = array(&v)?;
                let hint = reply::hint(shard, at(a, 0)?)?;
                let mut hosts = Vec::new();
                for h in array(at(a, 1)?)? {
                    hosts.push(parse_claimed(array(h)?)?);
                }
                Ok((hint, hosts))
            })
            .await?;
        let mut hints = Vec::with_capacity(results.len());
        let mut out = Vec::new();
        for (hint, hosts) in results {
            hints.push(hint);
            out.extend(hosts);
        }
        self.apply_hints(&hints).await?;
        Ok(out)
    }

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

    /// One bounded reaping pass: expired leases of up to `max_shards` shards (each at most
    /// 64 hosts), the pending batches of up to 4 workers whose heartbeat expired, and a
    /// sweep of 16 shards that repairs the ready index. Workers call it every few seconds.
    pub async fn reap(&self, max_shards: usize) -> Result<Reaped, FrontierError> {
        let mut out = Reaped::default();
        let shards = self.due_shards("lidx", max_shards.max(1)).await?;
        let results = self
            .fan_out(shards, |shard| async move {
                let mut args = Args::default();
                args.n(REAP_HOSTS).n(self.settings.max_attempts);
                let v = self.call(&SCRIPTS.reap, shard, &args).await?;
                let a = array(&v)?;
                Ok((
                    int(at(a, 0)?)?,
                    int(at(a, 1)?)?,
                    reply::hint(shard, at(a, 2)?)?,
                ))
            })
            .await?;
        let mut hints = Vec::new();
        for (leases, dead, hint) in results {
            out.leases += leases as u64;
            out.dead += dead as u64;
            hints.push(hint);
        }
        // The sweep: hints lost to a crash between a shard script and its index update.
        let mut args = Args::default();
        args.n(16).n(SHARDS);
        let first = int(&invoke(
            &mut self.conn.clone(),
            &SCRIPTS.cursor,
            &crawl_prefix(&self.crawl),
            &args,
        )
        .await?)?;
        let sweep: Vec<u16> = (0..16)
            .map(|i| ((first + i) % i64::from(SHARDS)) as u16)
            .collect();
        let swept = self
            .fan_out(sweep, |shard| async move {
                let v = self.call(&SCRIPTS.hint, shard, &Args::default()).await?;
                reply::hint(shard, &v)
            })
            .await?;
        hints.extend(swept);
        self.apply_hints(&hints).await?;
        out.workers = self.recover_dead_workers(4).await?;
        if out.leases > 0 || out.dead > 0 || out.workers > 0 {
            tracing::info!(
                crawl = %self.crawl,
                leases = out.leases,
                dead = out.dead,
                workers = out.workers,
                "reaped expired leases"
            );
        }
        Ok(out)
    }

    /// Shards whose earliest ready time (`idx`) or lease expiry (`lidx`) has come.
    async fn due_shards(&self, index: &str, max: usize) -> Result<Vec<u16>, FrontierError> {
        let mut args = Args::default();
        args.s(index).n(max);
        let v = invoke(
            &mut self.conn.clone(),
            &SCRIPTS.due_shards,
            &crawl_prefix(&self.crawl),
            &args,
        )
        .await?;
        array(&v)?
            .iter()
            .map(|s| {
                let n = int(s)?;
                u16::try_from(n)
                    .ok()
                    .filter(|n| *n < SHARDS)
                    .ok_or_else(|| FrontierError::reply(format!("shard {n}")))
            })
            .collect()
    }

    pub(crate) async fn apply_hints(&self, hints: &[Hint]) -> Result<(), FrontierError> {
        if hints.is_empty() {
            return Ok(());
        }
        let mut args = Args::default();
        for h in hints {
            args.n(h.shard).n(h.version).n(h.ready).n(h.lease);
        }
        invoke(
            &mut self.conn.clone(),
            &SCRIPTS.apply_hints,
            &crawl_prefix(&self.crawl),
            &args,
        )
        .await?;
        Ok(())
    }

    /// One script on one shard.
    pub(crate) async fn call(
        &self,
        script: &Script,
        shard: u16,
        args: &Args,
    ) -> Result<Value, FrontierError> {
        invoke(
            &mut self.conn.clone(),
            script,
            &shard_prefix(&self.crawl, shard),
            args,
        )
        .await
    }

    /// Runs `f` over `items`, `FAN_OUT` at a time, in any order.
    pub(crate) async fn fan_out<I, T, F, Fut>(
        &self,
        items: Vec<I>,
        f: F,
    ) -> Result<Vec<T>, FrontierError>
    where
        F: Fn(I) -> Fut,
        Fut: Future<Output = Result<T, FrontierError>>,
    {
        stream::iter(items.into_iter().map(f))
            .buffer_unordered(FAN_OUT)
            .try_collect()
            .await
    }
}

/// A URL on its way into a shard.
struct Item {
    host: String,
    bucket: u16,
    field: [u8; 7],
    record: String,
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

async fn connect(redis_url: &str) -> Result<Conn, FrontierError> {
    let target = RedisTarget::parse(redis_url)?;
    check_eviction_policy(&target).await?;
    Conn::open(&target).await
}

pub(crate) async fn invoke(
    conn: &mut Conn,
    script: &Script,
    key: &str,
    args: &Args,
) -> Result<Value, FrontierError> {
    let mut inv = script.key(key);
    for a in &args.0 {
        inv.arg(a.as_slice());
    }
    Ok(inv.invoke_async(conn).await?)
}

async fn load(mut conn: Conn, crawl: &str) -> Result<RedisFrontier, FrontierError> {
    let meta: BTreeMap<String, String> = redis::cmd("HGETALL")
        .arg(format!("{}meta", crawl_prefix(crawl)))
        .query_async(&mut conn)
        .await?;
    if meta.is_empty() {
        return Err(FrontierError::NoSuchCrawl(crawl.to_string()));
    }
    let num = |k: &str| -> Result<i64, FrontierError> {
        meta.get(k)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| FrontierError::reply(format!("crawl {crawl}: meta field `{k}` missing")))
    };
    if num("shards")? != i64::from(SHARDS) {
        return Err(FrontierError::reply(format!(
            "crawl {crawl}: made with another shard count"
        )));
    }
    let opt = |v: i64| u64::try_from(v).ok();
    let settings = CrawlSettings {
        config: meta.get("cfg").cloned().unwrap_or_default(),
        page_limit: opt(num("limit")?),
        max_per_host: opt(num("maxh")?),
        max_attempts: num("att")?.clamp(1, i64::from(u32::MAX)) as u32,
        lease: Duration::from_millis(num("lease")?.max(10) as u64),
        robots_ttl: Duration::from_millis(num("robots")?.max(0) as u64),
        expected_urls: num("expected")?.max(0) as u64,
    };
    let buckets = num("buckets")?.clamp(1, 256) as u16;
    Ok(RedisFrontier {
        conn,
        crawl: crawl.to_string(),
        settings,
        buckets,
    })
}

fn parse_claimed(h: &[Value]) -> Result<ClaimedHost, FrontierError> {
    let host = HostKey(string(at(h, 0)?)?);
    let token =
        u64::try_from(int(at(h, 1)?)?).map_err(|_| FrontierError::reply("negative token"))?;
    let expires_ms = int(at(h, 2)?)?;
    let body = string(at(h, 3)?)?;
    let age = int(at(h, 4)?)?;
    let throttle = Duration::from_millis(int(at(h, 5)?)?.max(0) as u64);
    let robots = u64::try_from(age).ok().map(|age| CachedRobots {
        body,
        age: Duration::from_millis(age),
    });
    let mut urls = Vec::new();
    for r in array(at(h, 6)?)? {
        let rec = string(r)?;
        urls.push(
            parse_record(&rec)
                .ok_or_else(|| FrontierError::reply(format!("bad record `{rec}`")))?,
        );
    }
    Ok(ClaimedHost {
        lease: Lease {
            host,
            token,
            expires_ms,
        },
        robots,
        throttle,
        urls,
    })
}

/// A random id (reservation requests).
pub(crate) fn random_id() -> String {
    let mut b = [0u8; 12];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness: time + counter still make ids unique enough for reservations.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        b.copy_from_slice(&t.to_le_bytes()[..12]);
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}
