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
//! The store is synchronous and single-threaded by design: the engine owns it on one
//! dedicated thread and batches work into transactions (a page's outlinks and its outcome
//! commit together, with the sink position they belong to), so the async runtime never
//! blocks on SQLite. A host taken with [`Frontier::due_hosts`] is *leased* (its `ready_at`
//! is [`LEASED`]) until [`Frontier::release_host`]; URLs handed out are `in flight` until a
//! commit. [`Frontier::recover`] turns both back after a crash.

use crate::canon::{fingerprint, origin_key};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;
use url::Url;

/// `ready_at` of a host the engine holds.
pub const LEASED: i64 = i64::MAX;

/// Errors of the store: SQLite's.
pub type StoreError = rusqlite::Error;

/// State of a URL in the frontier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum UrlState {
    /// Waiting in its host's queue.
    Queued = 0,
    /// Handed to the engine, not yet committed.
    InFlight = 1,
    /// Fetched and written to the sink.
    Done = 2,
    /// Failed for good (the reason is recorded).
    Failed = 3,
    /// Not fetched on purpose (robots.txt, not HTML, ...; the reason is recorded).
    Skipped = 4,
}

/// A URL to add to the frontier. `url` must be canonical ([`crate::canonicalize`]).
#[derive(Debug, Clone)]
pub struct NewUrl {
    /// The canonical URL.
    pub url: Url,
    /// Link depth (seeds: 0).
    pub depth: u32,
    /// The page it was found on.
    pub referrer: Option<String>,
}

/// A URL handed out to be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// Row id: what [`PageUpdate::id`] refers to.
    pub id: i64,
    /// The canonical URL.
    pub url: String,
    /// Link depth.
    pub depth: u32,
    /// The page it was found on.
    pub referrer: Option<String>,
    /// `ETag` of an earlier fetch (for a conditional re-crawl).
    pub etag: Option<String>,
    /// `Last-Modified` of an earlier fetch.
    pub last_modified: Option<String>,
}

/// The outcome of one handed-out URL, committed with [`Frontier::commit`].
#[derive(Debug, Clone)]
pub struct PageUpdate {
    /// [`Claimed::id`].
    pub id: i64,
    /// [`UrlState::Done`], [`UrlState::Failed`] or [`UrlState::Skipped`]; [`UrlState::Queued`]
    /// puts the URL back (a fetch cut short by shutdown).
    pub state: UrlState,
    /// HTTP status, 0 when there was no response.
    pub status: u16,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
    /// `ETag` of the response.
    pub etag: Option<String>,
    /// `Last-Modified` of the response.
    pub last_modified: Option<String>,
}

/// Everything one commit applies atomically.
#[derive(Debug, Default)]
pub struct CommitBatch {
    /// Outcomes of handed-out URLs.
    pub pages: Vec<PageUpdate>,
    /// Newly discovered URLs (the seen-set drops the known ones).
    pub links: Vec<NewUrl>,
    /// The sink's position after writing these pages, stored under `sink_position`.
    pub sink_position: Option<String>,
}

/// Counts of URLs by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Queued.
    pub queued: u64,
    /// In flight.
    pub in_flight: u64,
    /// Done.
    pub done: u64,
    /// Failed.
    pub failed: u64,
    /// Skipped.
    pub skipped: u64,
}

/// Settings of the store.
#[derive(Debug, Clone, Copy)]
pub struct StoreConfig {
    /// Most URLs enqueued per host (a trap guard); `None`: no limit.
    pub max_pages_per_host: Option<u64>,
    /// SQLite page cache, in KiB (default 8 MiB). Bounds the store's memory.
    pub cache_kib: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            max_pages_per_host: None,
            cache_kib: 8 * 1024,
        }
    }
}

/// The embedded frontier. See the module docs.
#[derive(Debug)]
pub struct Frontier {
    conn: Connection,
    config: StoreConfig,
    /// origin → (host id, URLs enqueued): a bounded cache of the `hosts` table.
    hosts: HashMap<String, (i64, u64)>,
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
    last_modified TEXT
);
CREATE INDEX IF NOT EXISTS urls_queue ON urls (host, id) WHERE state = 0;
CREATE INDEX IF NOT EXISTS urls_inflight ON urls (id) WHERE state = 1;
";

impl Frontier {
    /// Opens (or creates) the frontier in `dir/frontier.sqlite`.
    pub fn open(dir: &Path, config: StoreConfig) -> Result<Frontier, StoreError> {
        let conn = Connection::open(dir.join("frontier.sqlite"))?;
        Frontier::init(conn, config)
    }

    /// An in-memory frontier (tests, one-off crawls without `--state`).
    pub fn open_in_memory(config: StoreConfig) -> Result<Frontier, StoreError> {
        Frontier::init(Connection::open_in_memory()?, config)
    }

    fn init(conn: Connection, config: StoreConfig) -> Result<Frontier, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL in WAL mode: a commit survives a process crash (kill -9); only a power
        // loss can drop the last transactions, and then the sink is truncated to match.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "cache_size", -i64::from(config.cache_kib))?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Frontier {
            conn,
            config,
            hosts: HashMap::new(),
        })
    }

    /// After a crash or a stop: URLs in flight go back to their queues and leased hosts
    /// become due now. Returns how many URLs were put back.
    pub fn recover(&mut self) -> Result<u64, StoreError> {
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
        Ok(urls as u64)
    }

    /// Re-queues every fetched page for a conditional re-crawl (`--refresh`); their
    /// `ETag`/`Last-Modified` are kept for `If-None-Match`/`If-Modified-Since`.
    pub fn requeue_done(&mut self) -> Result<u64, StoreError> {
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

    /// Adds URLs (seeds, sitemap entries) in one transaction; returns how many were new.
    pub fn enqueue(&mut self, urls: &[NewUrl]) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        let added = insert_urls(&tx, &mut self.hosts, &self.config, urls)?;
        tx.commit()?;
        Ok(added)
    }

    /// Up to `limit` hosts with queued URLs whose `ready_at <= now_ms`, earliest first.
    /// They are leased: not returned again until [`Frontier::release_host`].
    pub fn due_hosts(
        &mut self,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let tx = self.conn.transaction()?;
        let hosts = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, origin FROM hosts WHERE queued > 0 AND ready_at <= ?1
                 ORDER BY ready_at LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![now_ms, limit as i64], |r| {
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
        Ok(hosts)
    }

    /// The earliest `ready_at` of a host with queued URLs that is not leased.
    pub fn next_ready_at(&mut self) -> Result<Option<i64>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT ready_at FROM hosts WHERE queued > 0 AND ready_at < ?1
                 ORDER BY ready_at LIMIT 1",
            )?
            .query_row([LEASED], |r| r.get(0))
            .optional()
    }

    /// Takes up to `limit` queued URLs of a (leased) host, oldest first, marking them in
    /// flight.
    pub fn take(&mut self, host: i64, limit: usize) -> Result<Vec<Claimed>, StoreError> {
        let tx = self.conn.transaction()?;
        let claimed = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, url, depth, referrer, etag, last_modified FROM urls
                 WHERE host = ?1 AND state = 0 ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![host, limit as i64], |r| {
                Ok(Claimed {
                    id: r.get(0)?,
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
                mark.execute([c.id])?;
            }
            tx.prepare_cached("UPDATE hosts SET queued = queued - ?1 WHERE id = ?2")?
                .execute(params![claimed.len() as i64, host])?;
        }
        tx.commit()?;
        Ok(claimed)
    }

    /// Ends the lease of a host: it is due again at `ready_at_ms`.
    pub fn release_host(&mut self, host: i64, ready_at_ms: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE hosts SET ready_at = ?1 WHERE id = ?2")?
            .execute(params![ready_at_ms.min(LEASED - 1), host])?;
        Ok(())
    }

    /// Applies a batch in one transaction: page outcomes, new links, the sink position.
    /// Returns how many links were new.
    pub fn commit(&mut self, batch: &CommitBatch) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut update = tx.prepare_cached(
                "UPDATE urls SET state = ?2, status = ?3, reason = ?4,
                     etag = coalesce(?5, etag), last_modified = coalesce(?6, last_modified)
                 WHERE id = ?1",
            )?;
            let mut requeue = tx.prepare_cached(
                "UPDATE hosts SET queued = queued + 1 WHERE id = (SELECT host FROM urls WHERE id = ?1)",
            )?;
            for page in &batch.pages {
                update.execute(params![
                    page.id,
                    page.state as u8,
                    page.status,
                    page.reason,
                    page.etag,
                    page.last_modified
                ])?;
                if page.state == UrlState::Queued {
                    requeue.execute([page.id])?;
                }
            }
        }
        let added = insert_urls(&tx, &mut self.hosts, &self.config, &batch.links)?;
        if let Some(position) = &batch.sink_position {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('sink_position', ?1)",
            )?
            .execute([position])?;
        }
        tx.commit()?;
        Ok(added)
    }

    /// A value of the `meta` table (crawl settings, the sink position).
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
    }

    /// Sets a value of the `meta` table.
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            [key, value],
        )?;
        Ok(())
    }

    /// URL counts by state.
    pub fn counts(&self) -> Result<Counts, StoreError> {
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
                _ => counts.skipped += n,
            }
        }
        Ok(counts)
    }

    /// Failure and skip reasons with their counts, most frequent first.
    pub fn reasons(&self) -> Result<Vec<(String, u64)>, StoreError> {
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

/// Inserts URLs that are not in the seen-set yet, grouped per host; returns how many were new.
fn insert_urls(
    tx: &rusqlite::Transaction<'_>,
    hosts: &mut HashMap<String, (i64, u64)>,
    config: &StoreConfig,
    urls: &[NewUrl],
) -> Result<u64, StoreError> {
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
) -> Result<(i64, u64), StoreError> {
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
