//! The frontier's operations on URLs and hosts: create/join, enqueue, claim, renew,
//! release, retry, block, robots.txt, reap.

use crate::conn::{Conn, RedisTarget, check_eviction_policy};
use crate::error::FrontierError;
use crate::keys::{SHARDS, buckets_for, crawl_prefix, parse_record, shard_prefix};
use crate::lua;
use crate::reply::{self, Hint, array, at, int, string};
use crate::types::{CachedRobots, ClaimedHost, CrawlSettings, HostKey, Lease, Reaped};
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
    pub(crate) indexed: Script,
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
    indexed: Script::new(lua::INDEXED),
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
pub(crate) const RESERVE_ROUNDS: u32 = 200;

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
