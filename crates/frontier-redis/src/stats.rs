//! Stats, heartbeats, dead letters.

use crate::conn::Conn;
use crate::error::FrontierError;
use crate::frontier::{Args, RedisFrontier, invoke};
use crate::keys::{SHARDS, crawl_prefix, shard_prefix, worker_prefix};
use crate::reply::{array, at, int, string};
use crate::types::{DeadLetter, HostKey, Stats, WorkerId};
use redis::{Script, Value};
use std::sync::LazyLock;
use std::time::Duration;

/// Shard: {counters (flat field/value list), leased hosts}.
const SHARD_STATS: &str = r#"
return {redis.call('HGETALL', KEYS[1] .. 'st'), redis.call('ZCARD', KEYS[1] .. 'lease')}
"#;

/// Crawl slot: a worker's heartbeat expiry in `workers`. ARGV: worker, ttl ms.
const BEAT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1] .. 'workers', now + tonumber(ARGV[2]), ARGV[1])
return now
"#;

/// Crawl slot: workers alive, with ARGV[1] = 'count' or 'list'.
const ALIVE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[1] == 'count' then return redis.call('ZCOUNT', KEYS[1] .. 'workers', '(' .. now, '+inf') end
return redis.call('ZRANGEBYSCORE', KEYS[1] .. 'workers', '(' .. now, '+inf')
"#;

static SCRIPTS: LazyLock<[Script; 3]> = LazyLock::new(|| {
    [
        Script::new(SHARD_STATS),
        Script::new(BEAT),
        Script::new(ALIVE),
    ]
});

/// One shard's counters: its `st` hash (flat field/value list) and its leased hosts.
fn shard_stats(kv: &Value, leased: &Value) -> Result<Stats, FrontierError> {
    let mut s = Stats::default();
    for pair in array(kv)?.chunks(2) {
        let [k, v] = pair else { continue };
        let n = u64::try_from(int(v)?).unwrap_or(0);
        match string(k)?.as_str() {
            "q" => s.queued = n,
            "f" => s.in_flight = n,
            "p" => s.prepared = n,
            "d" => s.done = n,
            "x" => s.failed = n,
            "k" => s.skipped = n,
            "z" => s.dead = n,
            "a" => s.admitted = n,
            _ => {}
        }
    }
    s.leased_hosts = u64::try_from(int(leased)?).unwrap_or(0);
    Ok(s)
}

impl RedisFrontier {
    /// Counts over the whole crawl, summed over the 4,096 shards (16 pipelined round trips
    /// on one server; one small script per shard, 32 at a time, on a cluster): for status
    /// displays and end-of-crawl checks, not for every scheduling step.
    pub async fn stats(&self) -> Result<Stats, FrontierError> {
        let per_shard: Vec<Stats> = if let Conn::Single(_) = self.conn {
            // One server: pipelines of plain commands, 256 shards per round trip.
            let mut out = Vec::with_capacity(usize::from(SHARDS));
            for chunk in (0..SHARDS).collect::<Vec<_>>().chunks(256) {
                let mut pipe = redis::pipe();
                for &shard in chunk {
                    let p = shard_prefix(&self.crawl, shard);
                    pipe.cmd("HGETALL").arg(format!("{p}st"));
                    pipe.cmd("ZCARD").arg(format!("{p}lease"));
                }
                let v: Vec<Value> = pipe.query_async(&mut self.conn.clone()).await?;
                for pair in v.chunks(2) {
                    let [kv, leased] = pair else { continue };
                    out.push(shard_stats(kv, leased)?);
                }
            }
            out
        } else {
            // A cluster: pipelines must stay in one slot, so one small script per shard.
            self.fan_out((0..SHARDS).collect(), |shard| async move {
                let v = self.call(&SCRIPTS[0], shard, &Args::default()).await?;
                let a = array(&v)?;
                shard_stats(at(a, 0)?, at(a, 1)?)
            })
            .await?
        };
        let mut total = Stats::default();
        for s in per_shard {
            total.queued += s.queued;
            total.in_flight += s.in_flight;
            total.prepared += s.prepared;
            total.done += s.done;
            total.failed += s.failed;
            total.skipped += s.skipped;
            total.dead += s.dead;
            total.admitted += s.admitted;
            total.leased_hosts += s.leased_hosts;
        }
        let mut args = Args::default();
        args.s("count");
        let v = invoke(
            &mut self.conn.clone(),
            &SCRIPTS[2],
            &crawl_prefix(&self.crawl),
            &args,
        )
        .await?;
        total.workers_alive = u64::try_from(int(&v)?).unwrap_or(0);
        Ok(total)
    }

    /// A worker's heartbeat: it counts as alive for `ttl` (its pending batch is recovered by
    /// others after that). `progress` is free text (JSON) shown by status displays.
    pub async fn heartbeat(
        &self,
        worker: &WorkerId,
        ttl: Duration,
        progress: &str,
    ) -> Result<(), FrontierError> {
        let ttl_ms = ttl.as_millis().max(1) as u64;
        let mut args = Args::default();
        args.s(worker.as_str()).n(ttl_ms);
        invoke(
            &mut self.conn.clone(),
            &SCRIPTS[1],
            &crawl_prefix(&self.crawl),
            &args,
        )
        .await?;
        let _: () = redis::cmd("SET")
            .arg(format!("{}hb", worker_prefix(&self.crawl, worker.as_str())))
            .arg(progress)
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    /// Workers alive, with the progress of their last heartbeat.
    pub async fn workers(&self) -> Result<Vec<(WorkerId, String)>, FrontierError> {
        let mut args = Args::default();
        args.s("list");
        let v = invoke(
            &mut self.conn.clone(),
            &SCRIPTS[2],
            &crawl_prefix(&self.crawl),
            &args,
        )
        .await?;
        let mut out = Vec::new();
        for w in array(&v)? {
            let Ok(id) = WorkerId::new(&string(w)?) else {
                continue;
            };
            let progress: Option<String> = redis::cmd("GET")
                .arg(format!("{}hb", worker_prefix(&self.crawl, id.as_str())))
                .query_async(&mut self.conn.clone())
                .await?;
            out.push((id, progress.unwrap_or_default()));
        }
        Ok(out)
    }

    /// Up to `max` dead letters (URLs redelivered past the attempt limit), shard by shard.
    pub async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, FrontierError> {
        let mut out = Vec::new();
        for chunk in (0..SHARDS).collect::<Vec<_>>().chunks(256) {
            let lists = self
                .fan_out(chunk.to_vec(), |shard| async move {
                    let v: Vec<String> = redis::cmd("LRANGE")
                        .arg(format!(
                            "{}dead",
                            crate::keys::shard_prefix(&self.crawl, shard)
                        ))
                        .arg(0)
                        .arg(max.saturating_sub(1))
                        .query_async(&mut self.conn.clone())
                        .await?;
                    Ok(v)
                })
                .await?;
            for entry in lists.into_iter().flatten() {
                let mut it = entry.splitn(4, '\t');
                let (Some(url), Some(att), Some(error), Some(host)) =
                    (it.next(), it.next(), it.next(), it.next())
                else {
                    continue;
                };
                out.push(DeadLetter {
                    url: url.to_string(),
                    host: HostKey(host.to_string()),
                    attempts: att.parse().unwrap_or(0),
                    error: error.to_string(),
                });
                if out.len() >= max {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }
}
