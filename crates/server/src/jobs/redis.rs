//! The job store of a cluster (`gannet serve --redis URL`): every replica reads and writes
//! the same jobs, so any replica answers for any job.
//!
//! Keys (the job's keys share the hash tag `{<id>}`, so each script touches one slot):
//!
//! - `gj:{<id>}`: the job, a hash (`kind`, `status`, `request`, `created_at`,
//!   `expires_at`, `total`, `done`, `error`, `bytes` stored, `fence` = the last fencing
//!   token handed out);
//! - `gj:{<id>}:r`: its results, a stream whose entry ids are `<seq>-0` (seq = 1, 2, …),
//!   so the keyset cursor of the API is the stream id and a page is one `XRANGE`; each
//!   entry holds the result's URL (`u`) and its body compressed with zstd (`z`);
//! - `gj:{<id>}:u`: URL → seq of every result, the de-duplication that makes a result
//!   re-sent after a lost reply or a replica's death land once;
//! - `gj:{<id>}:lease`: who executes the job (`<holder> <token>`, with a TTL), see
//!   [`RedisStore::claim`];
//! - `gj:index` (zset id → created_at, the dashboard's recent jobs) and `gj:active` (set of
//!   queued or running ids, what replicas look at for work).
//!
//! A finished job's keys expire at its `expires_at` (at least an hour after it finished).
//! A job's results are capped at [`ResultCap`] bytes (compressed): a result beyond it is
//! not stored and the job ends `failed` with an error that says so; the results stored
//! until then stay readable.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use serde_json::Value;

use super::cache::{Fixed, JobCache};
use super::{Job, MAX_PAGE_BYTES, MAX_PAGE_ITEMS, ResultRow, Status, new_id, now_secs};
use crate::error::ApiError;

/// Seconds a client is told to wait while Redis is unreachable.
pub(crate) const RETRY_AFTER_SECS: u64 = 2;
/// How long one Redis command may take.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A finished job stays at least this long.
const MIN_KEEP_SECS: i64 = 3600;
/// Most results (or bytes of them, before compression) one `add` sends.
const ADD_CHUNK_ITEMS: usize = 64;
const ADD_CHUNK_BYTES: usize = 4 << 20;

/// Most bytes (compressed) of results one job may store in Redis.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResultCap(pub(crate) u64);

/// A Redis failure, typed: unreachable (retry later) or anything else.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RedisStoreError {
    /// Redis did not answer (down, restarting, partitioned, loading): retry later.
    #[error("Redis unreachable: {0}")]
    Unavailable(#[source] redis::RedisError),
    /// Redis answered with an error.
    #[error("Redis: {0}")]
    Reply(#[source] redis::RedisError),
}

impl RedisStoreError {
    pub(crate) fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

impl From<redis::RedisError> for RedisStoreError {
    fn from(e: redis::RedisError) -> Self {
        if e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || matches!(
                e.kind(),
                redis::ErrorKind::Server(redis::ServerErrorKind::BusyLoading)
                    | redis::ErrorKind::Server(redis::ServerErrorKind::TryAgain)
                    | redis::ErrorKind::Server(redis::ServerErrorKind::ClusterDown)
                    | redis::ErrorKind::Server(redis::ServerErrorKind::MasterDown)
            )
        {
            Self::Unavailable(e)
        } else {
            Self::Reply(e)
        }
    }
}

impl From<RedisStoreError> for ApiError {
    fn from(e: RedisStoreError) -> Self {
        match e {
            RedisStoreError::Unavailable(_) => ApiError {
                retry_after: Some(RETRY_AFTER_SECS),
                ..ApiError::unavailable(
                    "store_unavailable",
                    "the job store (Redis) is unreachable; retry later",
                )
            },
            RedisStoreError::Reply(e) => ApiError::internal("store", e.to_string()),
        }
    }
}

type R<T> = Result<T, RedisStoreError>;

/// What [`RedisStore::add`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Added {
    /// Stored (how many were new; the others were there already).
    Stored(u64),
    /// The job is gone or finished (cancelled): nothing stored.
    Closed,
    /// The fencing token is stale: another holder executes the job now.
    Fenced,
    /// The job reached its byte cap; `n` of the rows were stored before.
    Capped(u64),
}

/// The cluster's job store.
#[derive(Clone)]
pub(crate) struct RedisStore {
    conn: ConnectionManager,
    url: String,
    cap: ResultCap,
    /// This process's cache of what does not change ([`super::cache`]).
    cache: std::sync::Arc<JobCache>,
}

fn job_key(id: &str) -> String {
    format!("gj:{{{id}}}")
}
fn results_key(id: &str) -> String {
    format!("gj:{{{id}}}:r")
}
fn urls_key(id: &str) -> String {
    format!("gj:{{{id}}}:u")
}
fn lease_key(id: &str) -> String {
    format!("gj:{{{id}}}:lease")
}
const INDEX: &str = "gj:index";
const ACTIVE: &str = "gj:active";

/// Adds results under a fencing token (0: none), skipping URLs already stored; stops at
/// the byte cap. KEYS: job, results, urls. ARGV: token, cap, then (url, body) pairs.
const ADD: &str = r"
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {-1, 0} end
if st ~= 'queued' and st ~= 'running' then return {-1, 0} end
local tok = tonumber(ARGV[1])
if tok > 0 and tonumber(redis.call('HGET', KEYS[1], 'fence') or '0') ~= tok then return {-2, 0} end
local cap = tonumber(ARGV[2])
local bytes = tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0')
local added = 0
for i = 3, #ARGV, 2 do
  local url, body = ARGV[i], ARGV[i + 1]
  if url == '' or redis.call('HEXISTS', KEYS[3], url) == 0 then
    if bytes + #body > cap then
      redis.call('HSET', KEYS[1], 'bytes', bytes, 'capped', '1')
      return {-3, added}
    end
    local seq = redis.call('HINCRBY', KEYS[1], 'done', 1)
    redis.call('XADD', KEYS[2], seq .. '-0', 'u', url, 'z', body)
    if url ~= '' then redis.call('HSET', KEYS[3], url, seq) end
    bytes = bytes + #body
    added = added + 1
  end
end
redis.call('HSET', KEYS[1], 'bytes', bytes)
return {0, added}
";

/// Sets a job's status unless it finished already (a finished status is final), under a
/// fencing token (0: none); a finished status starts the keys' expiry. KEYS: job,
/// results, urls, lease, active. ARGV: status, error ('' none), token, expire-at.
const SET_STATUS: &str = r"
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return -1 end
if st ~= 'queued' and st ~= 'running' then return 0 end
local tok = tonumber(ARGV[3])
if tok > 0 and tonumber(redis.call('HGET', KEYS[1], 'fence') or '0') ~= tok then return -2 end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[2]) end
if ARGV[1] ~= 'queued' and ARGV[1] ~= 'running' then
  local at = tonumber(ARGV[4])
  for i = 1, 4 do redis.call('EXPIREAT', KEYS[i], at) end
  redis.call('SREM', KEYS[5], KEYS[1])
end
return 1
";

/// Leases a queued or running job to a holder with a new fencing token. KEYS: job, lease.
/// ARGV: holder, lease ms. Returns the token, 0 when held by someone, -1 when finished.
const CLAIM: &str = r"
local st = redis.call('HGET', KEYS[1], 'status')
if not st or (st ~= 'queued' and st ~= 'running') then return -1 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local tok = redis.call('HINCRBY', KEYS[1], 'fence', 1)
redis.call('SET', KEYS[2], ARGV[1] .. ' ' .. tok, 'PX', ARGV[2])
if st == 'queued' then redis.call('HSET', KEYS[1], 'status', 'running') end
return tok
";

/// Renews (ARGV[3] > 0: ms) or ends (0) a lease if the caller still holds it. KEYS: lease.
/// ARGV: holder, token, ms. 1: done, 0: not held.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ' ' .. ARGV[2] then return 0 end
if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) else redis.call('DEL', KEYS[1]) end
return 1
";

struct Scripts {
    add: Script,
    set_status: Script,
    claim: Script,
    renew: Script,
}

fn scripts() -> &'static Scripts {
    static S: std::sync::OnceLock<Scripts> = std::sync::OnceLock::new();
    S.get_or_init(|| Scripts {
        add: Script::new(ADD),
        set_status: Script::new(SET_STATUS),
        claim: Script::new(CLAIM),
        renew: Script::new(RENEW),
    })
}

const FIELDS: [&str; 9] = [
    "kind",
    "status",
    "request",
    "created_at",
    "expires_at",
    "total",
    "done",
    "error",
    "capped",
];

impl RedisStore {
    /// Connects (a `ConnectionManager`: one multiplexed socket, reconnecting in the
    /// background). Only `redis://` (one server) URLs.
    pub(crate) async fn connect(url: &str, cap: ResultCap) -> R<Self> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            conn,
            url: url.to_string(),
            cap,
            cache: std::sync::Arc::new(JobCache::new(super::cache::DEFAULT_BYTES)),
        })
    }

    /// With a cache of `bytes` at most (0: none) instead of the default.
    pub(crate) fn with_cache(mut self, bytes: usize) -> Self {
        self.cache = std::sync::Arc::new(JobCache::new(bytes));
        self
    }

    /// The Redis URL (for the frontier of crawl jobs).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The per-job byte cap.
    pub(crate) fn cap(&self) -> ResultCap {
        self.cap
    }

    pub(crate) fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Stores a new queued job; returns its id.
    pub(crate) async fn create(
        &self,
        kind: &str,
        request: Value,
        total: i64,
        ttl: Duration,
    ) -> R<String> {
        let id = new_id();
        let now = now_secs();
        let expires = now + ttl.as_secs() as i64;
        let mut c = self.conn();
        let _: () = redis::pipe()
            .atomic()
            .hset_multiple(
                job_key(&id),
                &[
                    ("kind", kind.to_string()),
                    ("status", "queued".to_string()),
                    ("request", request.to_string()),
                    ("created_at", now.to_string()),
                    ("expires_at", expires.to_string()),
                    ("total", total.to_string()),
                    ("done", "0".to_string()),
                    ("bytes", "0".to_string()),
                    ("fence", "0".to_string()),
                ],
            )
            .ignore()
            .zadd(INDEX, &id, now)
            .ignore()
            .sadd(ACTIVE, job_key(&id))
            .ignore()
            .query_async(&mut c)
            .await?;
        Ok(id)
    }

    /// The job: a finished one from the cache; else its moving fields from Redis (one
    /// `HMGET`), with its request too unless the cache has it.
    pub(crate) async fn get(&self, id: &str) -> R<Option<Job>> {
        let now = now_secs();
        if let Some(job) = self.cache.job(id, now) {
            return Ok(Some((*job).clone()));
        }
        let mut c = self.conn();
        let job = if let Some(fixed) = self.cache.fixed(id, now) {
            let v: Vec<Option<String>> = redis::cmd("HMGET")
                .arg(job_key(id))
                .arg(&MOVING[..])
                .query_async(&mut c)
                .await?;
            let Some(mut job) = to_job(id, &moving_to_fields(v)) else {
                return Ok(None);
            };
            job.kind.clone_from(&fixed.kind);
            job.request = fixed.request.clone();
            job.created_at = fixed.created_at;
            job.expires_at = fixed.expires_at;
            job
        } else {
            let v: Vec<Option<String>> = redis::cmd("HMGET")
                .arg(job_key(id))
                .arg(&FIELDS[..])
                .query_async(&mut c)
                .await?;
            let Some(job) = to_job(id, &v) else {
                return Ok(None);
            };
            if !job.status.finished() {
                let fixed = Fixed {
                    kind: job.kind.clone(),
                    request: job.request.clone(),
                    created_at: job.created_at,
                    expires_at: job.expires_at,
                };
                self.cache.put_fixed(id, fixed, now);
            }
            job
        };
        if job.status.finished() {
            self.cache.put_job(job.clone(), now);
        }
        Ok(Some(job))
    }

    /// Sets the status unless the job finished already; `token` > 0 fences the change.
    /// `false` when fenced or finished.
    pub(crate) async fn set_status(
        &self,
        id: &str,
        status: Status,
        error: Option<String>,
        token: u64,
    ) -> R<bool> {
        let expires: i64 = {
            let mut c = self.conn();
            let e: Option<i64> = c.hget(job_key(id), "expires_at").await?;
            e.unwrap_or(0)
        };
        let at = expires.max(now_secs() + MIN_KEEP_SECS);
        let mut c = self.conn();
        let r: i64 = scripts()
            .set_status
            .key(job_key(id))
            .key(results_key(id))
            .key(urls_key(id))
            .key(lease_key(id))
            .key(ACTIVE)
            .arg(status.as_str())
            .arg(error.unwrap_or_default())
            .arg(token)
            .arg(at)
            .invoke_async(&mut c)
            .await?;
        Ok(r == 1)
    }

    pub(crate) async fn set_total(&self, id: &str, total: i64) -> R<()> {
        let mut c = self.conn();
        let _: () = c.hset(job_key(id), "total", total).await?;
        Ok(())
    }

    /// Adds results (url, body) under `token` (0: none), compressed, skipping URLs the job
    /// has already; in chunks.
    pub(crate) async fn add(&self, id: &str, rows: &[(String, String)], token: u64) -> R<Added> {
        let mut stored = 0;
        let mut i = 0;
        while i < rows.len() {
            let mut inv = scripts().add.prepare_invoke();
            inv.key(job_key(id))
                .key(results_key(id))
                .key(urls_key(id))
                .arg(token)
                .arg(self.cap.0);
            let mut bytes = 0;
            let mut n = 0;
            while i < rows.len() && n < ADD_CHUNK_ITEMS && (n == 0 || bytes < ADD_CHUNK_BYTES) {
                let (url, body) = &rows[i];
                let z = zstd::bulk::compress(body.as_bytes(), 3)
                    .map_err(|e| redis::RedisError::from(std::io::Error::other(e)))
                    .map_err(RedisStoreError::Reply)?;
                bytes += body.len();
                inv.arg(url.as_str()).arg(z);
                n += 1;
                i += 1;
            }
            let mut c = self.conn();
            let (code, added): (i64, u64) = inv.invoke_async(&mut c).await?;
            stored += added;
            match code {
                0 => {}
                -1 => return Ok(Added::Closed),
                -2 => return Ok(Added::Fenced),
                _ => return Ok(Added::Capped(stored)),
            }
        }
        Ok(Added::Stored(stored))
    }

    /// One page of results after `cursor`, at most `limit` items and about
    /// [`MAX_PAGE_BYTES`] (uncompressed); the next cursor if there may be more.
    pub(crate) async fn results_page(
        &self,
        id: &str,
        cursor: i64,
        limit: usize,
    ) -> R<(Vec<ResultRow>, Option<i64>)> {
        let limit = limit.clamp(1, MAX_PAGE_ITEMS);
        let cursor = cursor.max(0);
        let now = now_secs();
        if let Some(page) = self.cache.page(id, cursor, limit, now) {
            return Ok((*page).clone());
        }
        // Read before the page: a job seen finished has all its results already.
        let finished = self.cache.job(id, now);
        let mut c = self.conn();
        let start = format!("{}-0", cursor + 1);
        let entries: redis::streams::StreamRangeReply = c
            .xrange_count(results_key(id), start, "+", limit + 1)
            .await?;
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut more = false;
        for e in entries.ids {
            if out.len() == limit {
                more = true;
                break;
            }
            let seq: i64 =
                e.id.split_once('-')
                    .and_then(|(s, _)| s.parse().ok())
                    .unwrap_or(0);
            let body = match e.map.get("z") {
                Some(redis::Value::BulkString(z)) => zstd::bulk::decompress(z, 512 << 20)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            if bytes > 0 && bytes + body.len() > MAX_PAGE_BYTES {
                more = true;
                break;
            }
            bytes += body.len();
            out.push(ResultRow { seq, body });
        }
        let next = if more {
            out.last().map(|r| r.seq)
        } else {
            None
        };
        // A page followed by another, or of a finished job, never changes; it is kept
        // when asked for again.
        if (finished.is_some() || next.is_some()) && !self.cache.admit(id, cursor, limit) {
            return Ok((out, next));
        }
        if let Some(job) = finished {
            self.cache.put_page(
                id,
                cursor,
                limit,
                (out.clone(), next),
                Some(job.expires_at),
                now,
            );
        } else if next.is_some() {
            let until = self.cache.fixed(id, now).map(|f| f.expires_at);
            self.cache
                .put_page(id, cursor, limit, (out.clone(), next), until, now);
        }
        Ok((out, next))
    }

    /// URLs that already have a result (a resumed batch skips them).
    pub(crate) async fn done_urls(&self, id: &str) -> R<Vec<String>> {
        let mut c = self.conn();
        Ok(c.hkeys(urls_key(id)).await?)
    }

    /// The newest jobs (ids whose job expired are dropped from the index on the way).
    pub(crate) async fn recent(&self, n: usize) -> R<Vec<Job>> {
        let mut c = self.conn();
        let ids: Vec<String> = c.zrevrange(INDEX, 0, (n.max(1) - 1) as isize).await?;
        let mut out = Vec::new();
        for id in ids {
            match self.get(&id).await? {
                Some(job) => out.push(job),
                None => {
                    let _: () = c.zrem(INDEX, &id).await?;
                }
            }
        }
        Ok(out)
    }

    /// Jobs queued or running, anywhere in the cluster.
    pub(crate) async fn unfinished(&self) -> R<Vec<Job>> {
        let mut c = self.conn();
        let keys: Vec<String> = c.smembers(ACTIVE).await?;
        let mut out = Vec::new();
        for key in keys {
            let id = key
                .strip_prefix("gj:{")
                .and_then(|k| k.strip_suffix('}'))
                .unwrap_or("");
            match self.get(id).await? {
                Some(job) if !job.status.finished() => out.push(job),
                _ => {
                    let _: () = c.srem(ACTIVE, &key).await?;
                }
            }
        }
        Ok(out)
    }

    /// Leases job `id` to `holder` for `lease` with a new fencing token. `Some(token)`,
    /// `None` while someone else holds it or when the job finished.
    pub(crate) async fn claim(&self, id: &str, holder: &str, lease: Duration) -> R<Option<u64>> {
        let mut c = self.conn();
        let tok: i64 = scripts()
            .claim
            .key(job_key(id))
            .key(lease_key(id))
            .arg(holder)
            .arg(lease.as_millis() as u64)
            .invoke_async(&mut c)
            .await?;
        Ok((tok > 0).then_some(tok as u64))
    }

    /// Renews the lease (`Some(lease)`) or hands it back (`None`); `false` when the
    /// caller no longer holds it.
    pub(crate) async fn renew(
        &self,
        id: &str,
        holder: &str,
        token: u64,
        lease: Option<Duration>,
    ) -> R<bool> {
        let mut c = self.conn();
        let r: i64 = scripts()
            .renew
            .key(lease_key(id))
            .arg(holder)
            .arg(token)
            .arg(lease.map_or(0, |l| l.as_millis() as u64))
            .invoke_async(&mut c)
            .await?;
        Ok(r == 1)
    }

    /// Gives a finished crawl job's frontier keys (`gf:{<id>…`) the job's expiry, so the
    /// frontier goes with the job. SCAN over the keyspace, 1,000 keys a step.
    pub(crate) async fn expire_frontier(&self, id: &str) -> R<u64> {
        let mut c = self.conn();
        let at: Option<i64> = c.hget(job_key(id), "expires_at").await?;
        let at = at.unwrap_or(0).max(now_secs() + MIN_KEEP_SECS);
        let pattern = format!("gf:{{{id}[:}}]*");
        let mut cursor: u64 = 0;
        let mut n = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut c)
                .await?;
            if !keys.is_empty() {
                let mut pipe = redis::pipe();
                for k in &keys {
                    pipe.expire_at(k, at).ignore();
                }
                let _: () = pipe.query_async(&mut c).await?;
                n += keys.len() as u64;
            }
            if next == 0 {
                return Ok(n);
            }
            cursor = next;
        }
    }

    /// Finished jobs expire by their keys' TTL; the index is pruned as it is read.
    pub(crate) async fn expire(&self) -> R<usize> {
        let mut c = self.conn();
        let old = now_secs() - 366 * 86400;
        let n: usize = c.zrembyscore(INDEX, "-inf", old).await?;
        Ok(n)
    }
}

/// The fields of a job that change while it runs (indexes into [`FIELDS`]).
const MOVING_AT: [usize; 5] = [1, 5, 6, 7, 8];
const MOVING: [&str; 5] = ["status", "total", "done", "error", "capped"];

/// [`MOVING`]'s answer laid out as [`FIELDS`]' (the others `None`).
fn moving_to_fields(v: Vec<Option<String>>) -> Vec<Option<String>> {
    let mut out = vec![None; FIELDS.len()];
    for (at, x) in MOVING_AT.into_iter().zip(v) {
        if let Some(slot) = out.get_mut(at) {
            *slot = x;
        }
    }
    out
}

fn to_job(id: &str, v: &[Option<String>]) -> Option<Job> {
    let s = |i: usize| v.get(i).cloned().flatten();
    let n = |i: usize| s(i).and_then(|x| x.parse::<i64>().ok()).unwrap_or(0);
    let status = Status::parse(&s(1)?);
    let mut error = s(7).filter(|e| !e.is_empty());
    if s(8).as_deref() == Some("1") && error.is_none() {
        error = Some("result cap reached".into());
    }
    Some(Job {
        id: id.to_string(),
        kind: s(0).unwrap_or_default(),
        status,
        request: s(2).map_or_else(|| std::sync::Arc::from("null"), std::sync::Arc::from),
        created_at: n(3),
        expires_at: n(4),
        total: n(5),
        done: n(6),
        error,
        offset: 0,
    })
}

#[cfg(test)]
#[path = "redis_tests.rs"]
mod tests;
