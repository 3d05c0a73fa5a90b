//! Live counters of a crawl (lock-free), read by the progress display and the summary.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters shared by the engine's tasks.
#[derive(Debug, Default)]
pub struct Stats {
    /// Pages written to the output.
    pub written: AtomicU64,
    /// Pages rendered in the browser (of those written or failed).
    pub rendered: AtomicU64,
    /// URLs that failed for good.
    pub failed: AtomicU64,
    /// URLs not fetched on purpose (robots.txt, redirects, non-HTML...).
    pub skipped: AtomicU64,
    /// URLs robots.txt did not allow.
    pub robots_blocked: AtomicU64,
    /// 304 Not Modified answers to conditional requests.
    pub not_modified: AtomicU64,
    /// Attempts repeated after a transient failure.
    pub retries: AtomicU64,
    /// Body bytes received (decoded).
    pub bytes: AtomicU64,
    /// Links that were already known (dropped by the in-memory screen).
    pub duplicate_links: AtomicU64,
    /// URLs waiting in the frontier (kept by the store thread).
    pub queued: AtomicU64,
    /// Requests in flight.
    pub in_flight: AtomicU64,
    /// Failure and skip reasons seen in this run.
    reasons: Mutex<HashMap<String, u64>>,
}

impl Stats {
    /// Counts one failure or skip under `reason`.
    pub(crate) fn reason(&self, reason: &str) {
        if let Ok(mut map) = self.reasons.lock() {
            if map.len() < 256 || map.contains_key(reason) {
                *map.entry(reason.to_owned()).or_default() += 1;
            } else {
                *map.entry("other".to_owned()).or_default() += 1;
            }
        }
    }

    /// Failure and skip reasons of this run, most frequent first.
    pub fn reasons(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self
            .reasons
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    /// A counter's value.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Relaxed)
    }
}
