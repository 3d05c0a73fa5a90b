//! The embedded frontier: one SQLite file in the crawl's state directory.
//!
//! Two levels, as in Mercator/BUbiNG: per-host FIFO queues of URLs, and a ready set of
//! hosts ordered by the time each may next be fetched. Every operation goes through an
//! index, so its cost does not grow with the frontier:
//!
//! | operation | query | index |
//! | --- | --- | --- |
//! | seen? / enqueue | `INSERT OR IGNORE` on the fingerprint | `urls.fp UNIQUE` |
//! | due hosts | `queued > 0 AND ready_at <= now ORDER BY ready_at` | `hosts_ready` (partial) |
//! | next URLs of a host | `host = ? AND state = queued ORDER BY id` | `urls_queue` (partial) |
//!
//! [`SqliteFrontier`] implements [`Frontier`]; rusqlite stays private to this module. It
//! does its work on the thread that polls its futures (they are ready at the first poll):
//! the engine calls it from its one store thread and batches work into transactions (a
//! page's outlinks and its outcome commit together, with the sink checkpoint they belong
//! to), so the async runtime never blocks on SQLite.
//!
//! **Leases.** A claimed host's `ready_at` is a private sentinel ([`LEASED`]) so that the
//! ready-set query skips it; its lease token lives in memory (a process that dies holds
//! nothing, and the next open recovers). Tokens are `epoch << 32 | sequence`; the epoch is
//! stored in `meta` and grows at every open and [`Frontier::recover`], so a completion
//! taken before a recovery (or by an earlier process) is refused.

use crate::api::{
    Checkpoint, Claimed, CommitBatch, Committed, Counts, DeadLetter, Frontier, FrontierError,
    FrontierFuture, HostKey, HostLease, Lease, NewUrl, ResumeState, Retried, UrlKey, UrlState,
};
use crate::canon::{canonicalize_str, fingerprint, origin_key};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use url::Url;

/// `ready_at` of a host someone holds.
const LEASED: i64 = i64::MAX;

/// Settings of the store.
#[derive(Debug, Clone, Copy)]
pub struct StoreConfig {
    /// Most URLs enqueued per host (a trap guard); `None`: no limit.
    pub max_pages_per_host: Option<u64>,
    /// SQLite page cache, in KiB (default 8 MiB). Bounds the store's memory.
    pub cache_kib: u32,
    /// Failed attempts after which [`Frontier::retry_later`] dead-letters a URL (default 3).
    pub max_attempts: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            max_pages_per_host: None,
            cache_kib: 8 * 1024,
            max_attempts: 3,
        }
    }
}

/// The embedded frontier. See the module docs.
#[derive(Debug)]
pub struct SqliteFrontier {
    inner: Mutex<Inner>,
    /// The state directory, or "memory".
    location: String,
}

#[derive(Debug)]
struct Inner {
    conn: Connection,
    config: StoreConfig,
    /// origin → (host id, URLs enqueued): a bounded cache of the `hosts` table.
    hosts: HashMap<String, (i64, u64)>,
    /// Held hosts: id → lease.
    leases: HashMap<i64, Hold>,
    /// The lease epoch (see the module docs).
    epoch: u64,
    /// Tokens handed out in this epoch.
    sequence: u64,
}

#[derive(Debug, Clone, Copy)]
struct Hold {
    token: u64,
    /// Not due before this (ms since the epoch), whatever the release says.
    blocked_until: i64,
}

const HOST_CACHE_MAX: usize = 65_536;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hosts (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL UNIQUE,
    queued INTEGER NOT NULL DEFAULT 0,
    ready_at INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS hosts_ready ON hosts (ready_at) WHERE queued > 0;
CREATE TABLE IF NOT EXISTS urls (
    id INTEGER PRIMARY KEY,
    fp INTEGER NOT NULL UNIQUE,
    host INTEGER NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    depth INTEGER NOT NULL,
    url TEXT NOT NULL,
    referrer TEXT,
    status INTEGER,
    reason TEXT,
    etag TEXT,
    last_modified TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS urls_queue ON urls (host, id) WHERE state = 0;
CREATE INDEX IF NOT EXISTS urls_inflight ON urls (id) WHERE state = 1;
CREATE INDEX IF NOT EXISTS urls_dead ON urls (id) WHERE state = 5;
";

/// Columns added after the first release: state directories of older versions get them.
const ADDED_COLUMNS: [(&str, &str); 2] = [
    (
        "attempts",
        "ALTER TABLE urls ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
    ),
    (
        "not_before",
        "ALTER TABLE urls ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0",
    ),
];

impl SqliteFrontier {
    /// Opens (or creates) the frontier in `dir/frontier.sqlite`.
    pub fn open(dir: &Path, config: StoreConfig) -> Result<SqliteFrontier, FrontierError> {
        let conn = Connection::open(dir.join("frontier.sqlite")).map_err(db)?;
        SqliteFrontier::init(conn, config, dir.display().to_string())
    }

    /// An in-memory frontier (tests, one-off crawls).
    pub fn open_in_memory(config: StoreConfig) -> Result<SqliteFrontier, FrontierError> {
        let conn = Connection::open_in_memory().map_err(db)?;
        SqliteFrontier::init(conn, config, "memory".into())
    }

    fn init(
        conn: Connection,
        config: StoreConfig,
        location: String,
    ) -> Result<SqliteFrontier, FrontierError> {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        // NORMAL in WAL mode: a commit survives a process crash (kill -9); only a power
        // loss can drop the last transactions, and then the sink is truncated to match.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db)?;
        conn.pragma_update(None, "cache_size", -i64::from(config.cache_kib))
            .map_err(db)?;
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        add_missing_columns(&conn).map_err(db)?;
        let mut inner = Inner {
            conn,
            config,
            hosts: HashMap::new(),
            leases: HashMap::new(),
            epoch: 0,
            sequence: 0,
        };
        inner.next_epoch().map_err(db)?;
        Ok(SqliteFrontier {
            inner: Mutex::new(inner),
            location,
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Inner) -> Result<T, FrontierError>,
    ) -> Result<T, FrontierError> {
        let mut inner = self.inner.lock().map_err(|_| FrontierError::Closed)?;
        f(&mut inner)
    }

    /// Re-queues every fetched page for a conditional re-crawl (`--refresh`); their
    /// `ETag`/`Last-Modified` are kept for `If-None-Match`/`If-Modified-Since`.
    pub fn requeue_done(&self) -> Result<u64, FrontierError> {
        self.with(|inner| inner.requeue_done().map_err(db))
    }

    /// [`Frontier::recover`] without a runtime (the config's build step).
    pub(crate) fn recover_now(&self) -> Result<u64, FrontierError> {
        self.with(|inner| inner.recover().map_err(db))
    }

    /// Failure and skip reasons with their counts, most frequent first.
    pub fn reasons(&self) -> Result<Vec<(String, u64)>, FrontierError> {
        self.with(|inner| inner.reasons().map_err(db))
    }
}

fn add_missing_columns(conn: &Connection) -> Result<(), rusqlite::Error> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('urls')")?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    for (column, alter) in ADDED_COLUMNS {
        if !names.iter().any(|n| n == column) {
            tracing::info!(
                column,
                "frontier: upgrading a state directory of an older version"
            );
            conn.execute_batch(alter)?;
        }
    }
    Ok(())
}

/// SQLite's errors: a busy or locked database is worth another try.
fn db(e: rusqlite::Error) -> FrontierError {
    let retryable = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    FrontierError::Backend {
        backend: "SQLite",
        message: e.to_string(),
        retryable,
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn from_now(after: Duration) -> i64 {
    now_ms().saturating_add(i64::try_from(after.as_millis()).unwrap_or(i64::MAX))
}

fn row_id(raw: u64) -> i64 {
    // Row ids are positive; anything else names no row.
    i64::try_from(raw).unwrap_or(-1)
}

fn key(id: i64) -> u64 {
    id.unsigned_abs()
}

impl Inner {
    /// Starts a new lease epoch: every token handed out before turns stale.
    fn next_epoch(&mut self) -> Result<(), rusqlite::Error> {
        let stored: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'lease_epoch'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let epoch = stored
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            .max(self.epoch)
            + 1;
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('lease_epoch', ?1)",
            [epoch.to_string()],
        )?;
        self.epoch = epoch;
        self.sequence = 0;
        self.leases.clear();
        Ok(())
    }

    fn next_token(&mut self) -> Result<u64, rusqlite::Error> {
        if self.sequence >= u64::from(u32::MAX) {
            self.next_epoch()?;
        }
        self.sequence += 1;
        Ok(self.epoch << 32 | self.sequence)
    }

    /// Whether a token was handed out in this epoch (see the module docs).
    fn current(&self, lease: Lease) -> bool {
        lease.token >> 32 == self.epoch
    }

    /// The row id of a held host, or `LeaseLost`.
    fn held(&self, host: &HostLease) -> Result<i64, FrontierError> {
        let id = row_id(host.host.raw());
        match self.leases.get(&id) {
            Some(hold) if hold.token == host.lease.token => Ok(id),
            _ => Err(FrontierError::LeaseLost {
                host: host.host,
                token: host.lease.token,
            }),
        }
    }

    fn recover(&mut self) -> Result<u64, rusqlite::Error> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE hosts SET queued = queued + (SELECT count(*) FROM urls
                 WHERE urls.host = hosts.id AND urls.state = 1)
             WHERE id IN (SELECT DISTINCT host FROM urls WHERE state = 1)",
            [],
        )?;
        let urls = tx.execute("UPDATE urls SET state = 0 WHERE state = 1", [])?;
        tx.execute(
            "UPDATE hosts SET ready_at = 0 WHERE ready_at = ?1",
            [LEASED],
        )?;
        tx.commit()?;
        self.next_epoch()?;
        tracing::debug!(urls, epoch = self.epoch, "frontier: leases recovered");
        Ok(urls as u64)
    }

    fn requeue_done(&mut self) -> Result<u64, rusqlite::Error> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE hosts SET queued = queued + (SELECT count(*) FROM urls
                 WHERE urls.host = hosts.id AND urls.state = 2), ready_at = 0",
            [],
        )?;
        let n = tx.execute("UPDATE urls SET state = 0 WHERE state = 2", [])?;
        tx.commit()?;
        Ok(n as u64)
    }

    fn enqueue(&mut self, urls: &[NewUrl]) -> Result<u64, rusqlite::Error> {
        let tx = self.conn.transaction()?;
        let added = insert_urls(&tx, &mut self.hosts, &self.config, urls)?;
        tx.commit()?;
        Ok(added)
    }

    fn claim_hosts(&mut self, limit: usize) -> Result<Vec<HostLease>, rusqlite::Error> {
        let tx = self.conn.transaction()?;
        let hosts = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, origin FROM hosts WHERE queued > 0 AND ready_at <= ?1
                 ORDER BY ready_at LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![now_ms(), limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        {
            let mut lease = tx.prepare_cached("UPDATE hosts SET ready_at = ?1 WHERE id = ?2")?;
            for (id, _) in &hosts {
                lease.execute(params![LEASED, id])?;
            }
        }
        tx.commit()?;
        let mut leased = Vec::with_capacity(hosts.len());
        for (id, origin) in hosts {
            let token = self.next_token()?;
            self.leases.insert(
                id,
                Hold {
                    token,
                    blocked_until: 0,
                },
            );
            leased.push(HostLease {
                host: HostKey::new(key(id)),
                origin,
                lease: Lease { token },
                shared_robots: None,
            });
        }
        Ok(leased)
    }

    fn next_ready(&mut self) -> Result<Option<Duration>, rusqlite::Error> {
        let at: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT ready_at FROM hosts WHERE queued > 0 AND ready_at < ?1
                 ORDER BY ready_at LIMIT 1",
            )?
            .query_row([LEASED], |r| r.get(0))
            .optional()?;
        Ok(at.map(|at| Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0))))
    }

    fn take(
        &mut self,
        host: i64,
        lease: Lease,
        limit: usize,
    ) -> Result<Vec<Claimed>, rusqlite::Error> {
        let tx = self.conn.transaction()?;
        let claimed = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, url, depth, referrer, etag, last_modified FROM urls
                 WHERE host = ?1 AND state = 0 AND not_before <= ?3 ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![host, limit as i64, now_ms()], |r| {
                Ok(Claimed {
                    key: UrlKey::new(key(r.get(0)?)),
                    lease,
                    url: r.get(1)?,
                    depth: r.get(2)?,
                    referrer: r.get(3)?,
                    etag: r.get(4)?,
                    last_modified: r.get(5)?,
                })
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        if !claimed.is_empty() {
            let mut mark = tx.prepare_cached("UPDATE urls SET state = 1 WHERE id = ?1")?;
            for c in &claimed {
                mark.execute([row_id(c.key.raw())])?;
            }
            tx.prepare_cached("UPDATE hosts SET queued = queued - ?1 WHERE id = ?2")?
                .execute(params![claimed.len() as i64, host])?;
        }
        tx.commit()?;
        Ok(claimed)
    }

    fn release(&mut self, host: i64, after: Duration) -> Result<(), rusqlite::Error> {
        let blocked = self.leases.remove(&host).map_or(0, |h| h.blocked_until);
        let mut ready_at = from_now(after).max(blocked);
        // A host whose queued URLs all wait for a retry is due when the first may go.
        let waiting: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT CASE WHEN EXISTS (SELECT 1 FROM urls
                     WHERE host = ?1 AND state = 0 AND not_before <= ?2)
                 THEN NULL ELSE (SELECT min(not_before) FROM urls WHERE host = ?1 AND state = 0)
                 END",
            )?
            .query_row(params![host, ready_at], |r| r.get(0))?;
        if let Some(first) = waiting {
            ready_at = ready_at.max(first);
        }
        self.conn
            .prepare_cached("UPDATE hosts SET ready_at = ?1 WHERE id = ?2")?
            .execute(params![ready_at.min(LEASED - 1), host])?;
        Ok(())
    }

    fn retry_later(
        &mut self,
        url: i64,
        after: Duration,
        error: &str,
    ) -> Result<Option<Retried>, rusqlite::Error> {
        let tx = self.conn.transaction()?;
        let row: Option<(i64, u32)> = tx
            .prepare_cached("SELECT host, attempts FROM urls WHERE id = ?1 AND state = 1")?
            .query_row([url], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((host, attempts)) = row else {
            return Ok(None);
        };
        let attempts = attempts.saturating_add(1);
        let retried = if attempts >= self.config.max_attempts.max(1) {
            tx.prepare_cached(
                "UPDATE urls SET state = 5, attempts = ?2, reason = ?3 WHERE id = ?1",
            )?
            .execute(params![url, attempts, error])?;
            tracing::info!(url_id = url, attempts, error, "frontier: dead-lettered");
            Retried::DeadLettered { attempts }
        } else {
            tx.prepare_cached(
                "UPDATE urls SET state = 0, attempts = ?2, reason = ?3, not_before = ?4
                 WHERE id = ?1",
            )?
            .execute(params![url, attempts, error, from_now(after)])?;
            tx.prepare_cached("UPDATE hosts SET queued = queued + 1 WHERE id = ?1")?
                .execute([host])?;
            Retried::Queued { attempts }
        };
        tx.commit()?;
        Ok(Some(retried))
    }

    /// Which completions `commit` will accept: a URL still in flight, under a token of this
    /// epoch. Nothing else runs between this and the commit (one owner, one thread), so
    /// the answer holds.
    fn prepare(&mut self, batch: &CommitBatch) -> Result<Vec<bool>, rusqlite::Error> {
        let mut state = self
            .conn
            .prepare_cached("SELECT state FROM urls WHERE id = ?1")?;
        let mut accepted = Vec::with_capacity(batch.pages.len());
        for page in &batch.pages {
            let ok = page.lease.token >> 32 == self.epoch
                && state
                    .query_row([row_id(page.key.raw())], |r| r.get::<_, u8>(0))
                    .optional()?
                    == Some(UrlState::InFlight as u8);
            accepted.push(ok);
        }
        Ok(accepted)
    }

    fn commit(&mut self, batch: &CommitBatch) -> Result<Committed, rusqlite::Error> {
        let mut refused = Vec::new();
        let tx = self.conn.transaction()?;
        {
            let mut update = tx.prepare_cached(
                "UPDATE urls SET state = ?2, status = ?3, reason = ?4,
                     etag = coalesce(?5, etag), last_modified = coalesce(?6, last_modified)
                 WHERE id = ?1 AND state = 1",
            )?;
            let mut requeue = tx.prepare_cached(
                "UPDATE hosts SET queued = queued + 1 WHERE id = (SELECT host FROM urls WHERE id = ?1)",
            )?;
            for page in &batch.pages {
                let id = row_id(page.key.raw());
                let changed = if page.lease.token >> 32 == self.epoch {
                    update.execute(params![
                        id,
                        page.state as u8,
                        page.status,
                        page.reason,
                        page.etag,
                        page.last_modified
                    ])?
                } else {
                    0
                };
                if changed == 0 {
                    refused.push(page.key);
                } else if page.state == UrlState::Queued {
                    requeue.execute([id])?;
                }
            }
        }
        let added = insert_urls(&tx, &mut self.hosts, &self.config, &batch.links)?;
        if let Some(checkpoint) = &batch.checkpoint {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('sink_position', ?1)",
            )?
            .execute([checkpoint.as_str()])?;
        }
        tx.commit()?;
        Ok(Committed { added, refused })
    }

    fn meta(&self, key: &str) -> Result<Option<String>, rusqlite::Error> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), rusqlite::Error> {
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            [key, value],
        )?;
        Ok(())
    }

    fn counts(&self) -> Result<Counts, rusqlite::Error> {
        let mut counts = Counts::default();
        let mut stmt = self
            .conn
            .prepare("SELECT state, count(*) FROM urls GROUP BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, u8>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (state, n) = row?;
            let n = n.unsigned_abs();
            match state {
                0 => counts.queued = n,
                1 => counts.in_flight = n,
                2 => counts.done = n,
                3 => counts.failed = n,
                5 => counts.dead = n,
                _ => counts.skipped += n,
            }
        }
        Ok(counts)
    }

    fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, rusqlite::Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT url, coalesce(reason, ''), attempts FROM urls WHERE state = 5
             ORDER BY id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(DeadLetter {
                url: r.get(0)?,
                error: r.get(1)?,
                attempts: r.get(2)?,
            })
        })?;
        rows.collect()
    }

    fn reasons(&self) -> Result<Vec<(String, u64)>, rusqlite::Error> {
        let mut stmt = self.conn.prepare(
            "SELECT reason, count(*) AS n FROM urls WHERE state IN (3, 4) AND reason IS NOT NULL
             GROUP BY reason ORDER BY n DESC LIMIT 20",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.unsigned_abs()))
        })?;
        rows.collect()
    }
}

impl Frontier for SqliteFrontier {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn resume_state(&self) -> FrontierFuture<'_, ResumeState> {
        Box::pin(async move {
            self.with(|inner| {
                let seeds = inner.meta("seeds").map_err(db)?.unwrap_or_default();
                let checkpoint = inner.meta("sink_position").map_err(db)?;
                Ok(ResumeState {
                    seeds: seeds.lines().filter_map(canonicalize_str).collect(),
                    checkpoint: checkpoint.map(Checkpoint::new),
                })
            })
        })
    }

    fn set_seeds<'a>(&'a self, seeds: &'a [Url]) -> FrontierFuture<'a, ()> {
        Box::pin(async move {
            let joined: Vec<&str> = seeds.iter().map(Url::as_str).collect();
            self.with(|inner| inner.set_meta("seeds", &joined.join("\n")).map_err(db))
        })
    }

    fn enqueue<'a>(&'a self, urls: &'a [NewUrl]) -> FrontierFuture<'a, u64> {
        Box::pin(async move { self.with(|inner| inner.enqueue(urls).map_err(db)) })
    }

    fn claim_hosts(&self, limit: usize) -> FrontierFuture<'_, Vec<HostLease>> {
        Box::pin(async move { self.with(|inner| inner.claim_hosts(limit).map_err(db)) })
    }

    fn take<'a>(&'a self, host: &'a HostLease, limit: usize) -> FrontierFuture<'a, Vec<Claimed>> {
        Box::pin(async move {
            self.with(|inner| {
                let id = inner.held(host)?;
                inner.take(id, host.lease, limit).map_err(db)
            })
        })
    }

    fn renew<'a>(&'a self, host: &'a HostLease) -> FrontierFuture<'a, ()> {
        Box::pin(async move { self.with(|inner| inner.held(host).map(drop)) })
    }

    fn release(&self, host: HostLease, after: Duration) -> FrontierFuture<'_, ()> {
        Box::pin(async move {
            self.with(|inner| {
                let id = inner.held(&host)?;
                inner.release(id, after).map_err(db)
            })
        })
    }

    fn block_host<'a>(&'a self, host: &'a HostLease, duration: Duration) -> FrontierFuture<'a, ()> {
        Box::pin(async move {
            self.with(|inner| {
                let id = inner.held(host)?;
                if let Some(hold) = inner.leases.get_mut(&id) {
                    hold.blocked_until = hold.blocked_until.max(from_now(duration));
                }
                Ok(())
            })
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
            self.with(|inner| {
                let lost = FrontierError::LeaseLost {
                    host: HostKey::new(0),
                    token: lease.token,
                };
                if !inner.current(lease) {
                    return Err(lost);
                }
                inner
                    .retry_later(row_id(url.raw()), after, error)
                    .map_err(db)?
                    .ok_or(lost)
            })
        })
    }

    fn next_ready(&self) -> FrontierFuture<'_, Option<Duration>> {
        Box::pin(async move { self.with(|inner| inner.next_ready().map_err(db)) })
    }

    fn prepare<'a>(&'a self, batch: &'a CommitBatch) -> FrontierFuture<'a, Vec<bool>> {
        Box::pin(async move { self.with(|inner| inner.prepare(batch).map_err(db)) })
    }

    fn commit<'a>(&'a self, batch: &'a CommitBatch) -> FrontierFuture<'a, Committed> {
        Box::pin(async move { self.with(|inner| inner.commit(batch).map_err(db)) })
    }

    fn counts(&self) -> FrontierFuture<'_, Counts> {
        Box::pin(async move { self.with(|inner| inner.counts().map_err(db)) })
    }

    fn dead_letters(&self, limit: usize) -> FrontierFuture<'_, Vec<DeadLetter>> {
        Box::pin(async move { self.with(|inner| inner.dead_letters(limit).map_err(db)) })
    }

    fn recover(&self) -> FrontierFuture<'_, u64> {
        Box::pin(async move { self.with(|inner| inner.recover().map_err(db)) })
    }
}

/// Inserts URLs that are not in the seen-set yet, grouped per host; returns how many were new.
fn insert_urls(
    tx: &rusqlite::Transaction<'_>,
    hosts: &mut HashMap<String, (i64, u64)>,
    config: &StoreConfig,
    urls: &[NewUrl],
) -> Result<u64, rusqlite::Error> {
    if urls.is_empty() {
        return Ok(0);
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO urls (fp, host, depth, url, referrer) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    // host id → URLs added in this batch
    let mut added: HashMap<i64, (u64, String)> = HashMap::new();
    let mut total = 0;
    for new in urls {
        let origin = origin_key(&new.url);
        let (host, pages) = host_id(tx, hosts, &origin)?;
        let already = pages + added.get(&host).map_or(0, |(n, _)| *n);
        if config.max_pages_per_host.is_some_and(|max| already >= max) {
            continue;
        }
        let inserted = insert.execute(params![
            fingerprint(new.url.as_str()),
            host,
            new.depth,
            new.url.as_str(),
            new.referrer
        ])?;
        if inserted > 0 {
            added.entry(host).or_insert_with(|| (0, origin.clone())).0 += 1;
            total += 1;
        }
    }
    let mut bump = tx.prepare_cached(
        "UPDATE hosts SET queued = queued + ?1, pages = pages + ?1 WHERE id = ?2",
    )?;
    for (host, (n, origin)) in added {
        bump.execute(params![n as i64, host])?;
        if let Some(entry) = hosts.get_mut(&origin) {
            entry.1 += n;
        }
    }
    Ok(total)
}

/// The id and page count of a host, created on first sight.
fn host_id(
    tx: &rusqlite::Transaction<'_>,
    hosts: &mut HashMap<String, (i64, u64)>,
    origin: &str,
) -> Result<(i64, u64), rusqlite::Error> {
    if let Some(&entry) = hosts.get(origin) {
        return Ok(entry);
    }
    tx.prepare_cached("INSERT OR IGNORE INTO hosts (origin) VALUES (?1)")?
        .execute([origin])?;
    let entry = tx
        .prepare_cached("SELECT id, pages FROM hosts WHERE origin = ?1")?
        .query_row([origin], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?.unsigned_abs()))
        })?;
    if hosts.len() >= HOST_CACHE_MAX {
        hosts.clear();
    }
    hosts.insert(origin.to_owned(), entry);
    Ok(entry)
}
