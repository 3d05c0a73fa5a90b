//! A replica's cache of what never changes in the cluster's job store, so that reading a
//! job's status and results does not go to Redis (and zstd) at every request.
//!
//! What never changes:
//!
//! - a **finished** job (completed, failed, cancelled): its status is final (the store's
//!   scripts refuse every later change), so are its counts and its results;
//! - a job's **request**, kind and creation time, from its creation on: a running job's
//!   status then reads only the fields that move (one `HMGET` of a few short fields), not
//!   the request, which for a batch can be its 10,000 URLs;
//! - a **full page** of results (one that has a next page), even of a running job: results
//!   are appended with consecutive sequence numbers and never rewritten, so the entries of
//!   a page followed by another are fixed; and every page of a finished job.
//!
//! Bounded by bytes (the bodies, the request, a fixed overhead an entry), least recently
//! used first out; an entry larger than an eighth of the bound is not kept. A page is kept
//! only when it is asked for the second time (a doorkeeper remembers the last
//! [`DOORKEEPER`] pages asked for, as hashes): a client paging through a job reads each
//! page once, and those pages would only push out the ones clients poll (a status
//! answer's first page), and grow the replica's memory to the bound for nothing. Entries
//! of a job are dropped at its `expires_at` (the store keeps its keys at least that
//! long). A bound of 0 turns the cache off.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Mutex};

use super::{Job, ResultRow};

/// Default bound of a replica's cache.
pub(crate) const DEFAULT_BYTES: usize = 32 << 20;
/// What an entry costs besides its strings (maps, keys, allocation).
const OVERHEAD: usize = 160;
/// What a result row costs besides its body.
const ROW_OVERHEAD: usize = 40;
/// Pages asked for once that the doorkeeper remembers.
const DOORKEEPER: usize = 4096;
/// Entries whose job's expiry is unknown (a running job's) are served this long at most.
const UNKNOWN_EXPIRY_SECS: i64 = 600;

/// A page of results: the rows and the next cursor.
pub(crate) type Page = (Vec<ResultRow>, Option<i64>);

/// The fixed part of a job (known from its creation on).
#[derive(Debug, Clone)]
pub(crate) struct Fixed {
    pub(crate) kind: String,
    pub(crate) request: Arc<str>,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    /// A finished job.
    Job(String),
    /// The fixed part of a job.
    Fixed(String),
    /// A page: job, cursor, limit.
    Page(String, i64, usize),
}

#[derive(Clone)]
enum Entry {
    Job(Arc<Job>),
    Fixed(Arc<Fixed>),
    Page(Arc<Page>),
}

struct Slot {
    entry: Entry,
    bytes: usize,
    /// Unix seconds after which the entry is not served.
    until: i64,
    tick: u64,
}

#[derive(Default)]
struct Inner {
    map: HashMap<Key, Slot>,
    /// Use order: tick → key (the smallest tick is the least recently used).
    order: BTreeMap<u64, Key>,
    bytes: usize,
    tick: u64,
    /// Hashes of the pages asked for once lately, and their order.
    seen: HashSet<u64>,
    seen_order: VecDeque<u64>,
    hasher: std::collections::hash_map::RandomState,
}

/// The cache (see the module). Cheap to share: one mutex, held for map operations only.
pub(crate) struct JobCache {
    bound: usize,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for JobCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobCache")
            .field("bound", &self.bound)
            .field("bytes", &self.bytes())
            .finish()
    }
}

impl JobCache {
    pub(crate) fn new(bound: usize) -> Self {
        Self {
            bound,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Bytes held now (an estimate, see the module).
    pub(crate) fn bytes(&self) -> usize {
        self.inner.lock().map_or(0, |i| i.bytes)
    }

    /// A finished job, if cached.
    pub(crate) fn job(&self, id: &str, now: i64) -> Option<Arc<Job>> {
        match self.get(&Key::Job(id.to_string()), now)? {
            Entry::Job(j) => Some(j),
            _ => None,
        }
    }

    /// The fixed part of a job, if cached.
    pub(crate) fn fixed(&self, id: &str, now: i64) -> Option<Arc<Fixed>> {
        match self.get(&Key::Fixed(id.to_string()), now)? {
            Entry::Fixed(f) => Some(f),
            _ => None,
        }
    }

    /// A page of results, if cached.
    pub(crate) fn page(&self, id: &str, cursor: i64, limit: usize, now: i64) -> Option<Arc<Page>> {
        match self.get(&Key::Page(id.to_string(), cursor, limit), now)? {
            Entry::Page(p) => Some(p),
            _ => None,
        }
    }

    /// Keeps a finished job (and drops its fixed part, which it holds).
    pub(crate) fn put_job(&self, job: Job, now: i64) {
        if !job.status.finished() {
            return;
        }
        let bytes = OVERHEAD + job.id.len() + job.request.len();
        let until = job.expires_at;
        let id = job.id.clone();
        self.put(
            Key::Job(id.clone()),
            Entry::Job(Arc::new(job)),
            bytes,
            until,
            now,
        );
        if let Ok(mut inner) = self.inner.lock() {
            inner.remove(&Key::Fixed(id));
        }
    }

    /// Keeps the fixed part of a job.
    pub(crate) fn put_fixed(&self, id: &str, fixed: Fixed, now: i64) {
        let bytes = OVERHEAD + id.len() + fixed.kind.len() + fixed.request.len();
        let until = fixed.expires_at.min(now + UNKNOWN_EXPIRY_SECS);
        self.put(
            Key::Fixed(id.to_string()),
            Entry::Fixed(Arc::new(fixed)),
            bytes,
            until,
            now,
        );
    }

    /// Whether a page asked for now was asked for lately (then it is worth keeping); the
    /// doorkeeper remembers it otherwise.
    pub(crate) fn admit(&self, id: &str, cursor: i64, limit: usize) -> bool {
        if self.bound == 0 {
            return false;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return false;
        };
        let inner = &mut *inner;
        let mut h = inner.hasher.build_hasher();
        (id, cursor, limit).hash(&mut h);
        let h = std::hash::Hasher::finish(&h);
        if inner.seen.remove(&h) {
            return true;
        }
        if inner.seen_order.len() >= DOORKEEPER
            && let Some(old) = inner.seen_order.pop_front()
        {
            inner.seen.remove(&old);
        }
        inner.seen.insert(h);
        inner.seen_order.push_back(h);
        false
    }

    /// Keeps a page of results that cannot change (the caller knows: the job finished or
    /// the page has a next one, and [`JobCache::admit`] said so). `until`: the job's
    /// expiry if known.
    pub(crate) fn put_page(
        &self,
        id: &str,
        cursor: i64,
        limit: usize,
        page: Page,
        until: Option<i64>,
        now: i64,
    ) -> Arc<Page> {
        let bytes = OVERHEAD
            + id.len()
            + page
                .0
                .iter()
                .map(|r| r.body.len() + ROW_OVERHEAD)
                .sum::<usize>();
        let page = Arc::new(page);
        let until = until.unwrap_or(now + UNKNOWN_EXPIRY_SECS);
        self.put(
            Key::Page(id.to_string(), cursor, limit),
            Entry::Page(page.clone()),
            bytes,
            until,
            now,
        );
        page
    }

    fn get(&self, key: &Key, now: i64) -> Option<Entry> {
        if self.bound == 0 {
            return None;
        }
        let mut inner = self.inner.lock().ok()?;
        let inner = &mut *inner;
        let slot = inner.map.get_mut(key)?;
        if slot.until <= now {
            inner.remove(key);
            return None;
        }
        inner.tick += 1;
        inner.order.remove(&slot.tick);
        slot.tick = inner.tick;
        inner.order.insert(slot.tick, key.clone());
        Some(slot.entry.clone())
    }

    fn put(&self, key: Key, entry: Entry, bytes: usize, until: i64, now: i64) {
        if self.bound == 0 || bytes > self.bound / 8 || until <= now {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        inner.remove(&key);
        while inner.bytes + bytes > self.bound {
            let Some((_, oldest)) = inner.order.pop_first() else {
                break;
            };
            if let Some(slot) = inner.map.remove(&oldest) {
                inner.bytes -= slot.bytes;
            }
        }
        inner.tick += 1;
        let tick = inner.tick;
        inner.order.insert(tick, key.clone());
        inner.bytes += bytes;
        inner.map.insert(
            key,
            Slot {
                entry,
                bytes,
                until,
                tick,
            },
        );
    }
}

impl Inner {
    fn remove(&mut self, key: &Key) {
        if let Some(slot) = self.map.remove(key) {
            self.order.remove(&slot.tick);
            self.bytes -= slot.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::Status;

    fn job(id: &str, status: Status, expires_at: i64) -> Job {
        Job {
            id: id.into(),
            kind: "crawl".into(),
            status,
            request: r#"{"url":"http://x/"}"#.into(),
            created_at: 0,
            expires_at,
            total: 1,
            done: 1,
            error: None,
            offset: 0,
        }
    }

    fn page(n: usize, body: usize) -> Page {
        let rows = (0..n)
            .map(|i| ResultRow {
                seq: i as i64 + 1,
                body: "x".repeat(body),
            })
            .collect();
        (rows, Some(n as i64))
    }

    #[test]
    fn keeps_finished_jobs_only_until_they_expire() {
        let c = JobCache::new(1 << 20);
        c.put_job(job("a", Status::Running, 100), 10);
        assert!(c.job("a", 10).is_none(), "a running job changes: not kept");
        c.put_job(job("a", Status::Completed, 100), 10);
        assert_eq!(c.job("a", 99).map(|j| j.done), Some(1));
        assert!(c.job("a", 100).is_none(), "expired");
        assert_eq!(c.bytes(), 0, "an expired entry is dropped when seen");
    }

    #[test]
    fn stays_within_its_bound_least_recently_used_first_out() {
        let c = JobCache::new(64 << 10);
        assert!(
            !c.admit("j", 0, 50),
            "asked for once: not worth keeping yet"
        );
        assert!(c.admit("j", 0, 50), "asked for again");
        assert!(!c.admit("j", 1, 50));
        // Pages of about 5 KiB: 12 fit in 64 KiB.
        for cursor in 0..100 {
            c.put_page("j", cursor, 50, page(50, 60), Some(1000), 0);
            assert!(c.bytes() <= 64 << 10);
            if cursor >= 1 {
                // Page 0 is used at every step: it stays.
                assert!(c.page("j", 0, 50, 0).is_some());
            }
        }
        assert!(c.page("j", 99, 50, 0).is_some());
        assert!(c.page("j", 1, 50, 0).is_none(), "evicted");
        // Larger than an eighth of the bound: not kept.
        c.put_page("j", 1000, 50, page(50, 200), Some(1000), 0);
        assert!(c.page("j", 1000, 50, 0).is_none());
        // Off.
        let off = JobCache::new(0);
        off.put_page("j", 0, 1, page(1, 1), Some(1000), 0);
        assert!(off.page("j", 0, 1, 0).is_none());
        assert_eq!(off.bytes(), 0);
    }
}
