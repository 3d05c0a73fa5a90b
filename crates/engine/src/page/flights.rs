//! Request coalescing for the page service: identical HTTP-mode requests in flight at the
//! same moment share one flight.

use std::sync::Arc;
use std::time::Duration;

use super::{Page, PageError, PageRequest, RenderPolicy};

/// What makes two HTTP-mode page requests the same: URL, render mode, extras, timeout.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FlightKey {
    url: String,
    auto: bool,
    whole_page: bool,
    raw: bool,
    cleaned: bool,
    links: bool,
    /// Query and threshold (its bits: f32 is not `Eq`).
    focus: Option<(String, u32)>,
    timeout: Duration,
}

impl FlightKey {
    pub(crate) fn of(req: &PageRequest) -> Self {
        Self {
            url: req.url.to_string(),
            auto: req.render == RenderPolicy::Auto,
            whole_page: req.whole_page,
            raw: req.want_raw_markdown,
            cleaned: req.want_cleaned_html,
            links: req.want_links,
            focus: req
                .focus
                .as_ref()
                .map(|f| (f.query.clone(), f.threshold.to_bits())),
            timeout: req.timeout,
        }
    }
}

pub(crate) type Flight = Arc<tokio::sync::OnceCell<Result<Page, PageError>>>;

/// Request coalescing: identical HTTP-mode page requests in flight at the same moment
/// share one fetch and one extraction (as a caching proxy collapses requests). The origin
/// sees one request instead of a burst, and a burst for one popular URL costs the server
/// one page. Nothing is kept: a flight ends with its last waiter, so a request that
/// arrives after it gets a fresh fetch.
#[derive(Default)]
pub(crate) struct Flights {
    map: std::sync::Mutex<std::collections::HashMap<FlightKey, Flight>>,
    /// Requests that joined a flight already under way.
    joined: std::sync::atomic::AtomicU64,
}

impl Flights {
    pub(crate) fn join(&self, key: &FlightKey) -> Flight {
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(flight) = map.get(key) {
            self.joined
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return flight.clone();
        }
        map.entry(key.clone()).or_default().clone()
    }

    /// Ends `flight` for later arrivals (idempotent: only if it is still the current one).
    fn land(&self, key: &FlightKey, flight: &Flight) {
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.get(key).is_some_and(|f| Arc::ptr_eq(f, flight)) {
            map.remove(key);
        }
    }

    pub(crate) fn stats(&self) -> (usize, u64) {
        (
            self.map.lock().map_or(0, |m| m.len()),
            self.joined.load(std::sync::atomic::Ordering::Relaxed),
        )
    }
}

/// Lands a flight however its waiter leaves (answer, error, client gone).
pub(crate) struct Landing<'a> {
    pub(crate) flights: &'a Flights,
    pub(crate) key: &'a FlightKey,
    pub(crate) flight: &'a Flight,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        self.flights.land(self.key, self.flight);
    }
}
