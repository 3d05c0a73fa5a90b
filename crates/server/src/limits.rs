//! Concurrency limits per route class ([`RouteClass`]): a request takes a slot of its
//! class before its handler runs, waits for one in a bounded queue with a deadline, and
//! gets 503 + Retry-After beyond the bound or past the deadline. A streamed answer keeps
//! its slot until the stream ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Which concurrency limit a route counts against (`[limits]` in the config). Classes keep
/// one kind of load from starving another: a burst of screenshots cannot take the slots
/// `/md` needs, and result pages (up to 8 MiB each) are bounded in number, so the memory
/// they hold is too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteClass {
    /// Health, metrics, dashboard, job status: cheap, never limited.
    Light,
    /// One request fetching and extracting pages (HTTP, or the browser when needed).
    Page,
    /// Requests that always need the browser: screenshots, PDFs, scripts.
    Browser,
    /// Starting crawl jobs and site maps.
    Jobs,
    /// Reading job results (pages up to 8 MiB, NDJSON streams).
    Results,
}

impl RouteClass {
    pub const ALL: [RouteClass; 5] = [
        RouteClass::Light,
        RouteClass::Page,
        RouteClass::Browser,
        RouteClass::Jobs,
        RouteClass::Results,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RouteClass::Light => "light",
            RouteClass::Page => "page",
            RouteClass::Browser => "browser",
            RouteClass::Jobs => "jobs",
            RouteClass::Results => "results",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Requests in flight per class (`[limits]` in the config file). `Light` routes are never
/// limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouteLimits {
    /// `/md`, `/html`, `/crawl`, `/crawl/stream`, `/v1|v2/scrape`. Default 256 (pages
    /// themselves are limited by `max_pages_in_flight`).
    pub page: usize,
    /// `/screenshot`, `/pdf`, `/execute_js`. Default 32.
    pub browser: usize,
    /// Starting jobs and crawls, `/v1|v2/map`. Default 16.
    pub jobs: usize,
    /// Job results (pages up to 8 MiB, NDJSON streams). Default 16, so results in memory
    /// stay under ~128 MiB however many clients read.
    pub results: usize,
    /// Requests that may wait for a slot, per class, as a multiple of its limit.
    /// Default 4.
    pub queue_factor: usize,
}

impl Default for RouteLimits {
    fn default() -> Self {
        Self {
            page: 256,
            browser: 32,
            jobs: 16,
            results: 16,
            queue_factor: 4,
        }
    }
}

impl RouteLimits {
    fn of(&self, class: RouteClass) -> Option<usize> {
        match class {
            RouteClass::Light => None,
            RouteClass::Page => Some(self.page),
            RouteClass::Browser => Some(self.browser),
            RouteClass::Jobs => Some(self.jobs),
            RouteClass::Results => Some(self.results),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), crate::error::ConfigError> {
        if [self.page, self.browser, self.jobs, self.results].contains(&0) {
            return Err("every route-class limit must be at least 1".into());
        }
        Ok(())
    }
}

/// One class's slots and counters.
struct Class {
    slots: Option<Arc<Semaphore>>,
    limit: usize,
    max_waiting: usize,
    waiting: AtomicUsize,
    rejected: AtomicU64,
}

/// The slots of every class.
pub(crate) struct ClassLimits {
    classes: Vec<Class>,
    deadline: Duration,
}

/// A snapshot of one class, for metrics and the dashboard.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ClassStats {
    pub(crate) class: &'static str,
    pub(crate) limit: usize,
    pub(crate) in_flight: usize,
    pub(crate) waiting: usize,
    pub(crate) rejected: u64,
}

impl ClassLimits {
    pub(crate) fn new(limits: &RouteLimits, deadline: Duration) -> Self {
        let classes = RouteClass::ALL
            .iter()
            .map(|c| {
                let limit = limits.of(*c);
                Class {
                    slots: limit.map(|n| Arc::new(Semaphore::new(n))),
                    limit: limit.unwrap_or(0),
                    max_waiting: limit.unwrap_or(0).saturating_mul(limits.queue_factor),
                    waiting: AtomicUsize::new(0),
                    rejected: AtomicU64::new(0),
                }
            })
            .collect();
        Self { classes, deadline }
    }

    /// A slot of `class` (`None` for unlimited classes), or the 503 to answer with.
    async fn acquire(&self, class: RouteClass) -> Result<Option<OwnedSemaphorePermit>, ApiError> {
        let c = &self.classes[class.index()];
        let Some(slots) = &c.slots else {
            return Ok(None);
        };
        if let Ok(permit) = slots.clone().try_acquire_owned() {
            return Ok(Some(permit));
        }
        let waiting = c.waiting.fetch_add(1, Ordering::SeqCst);
        let _guard = Dec(&c.waiting);
        let refuse = |why: String| {
            c.rejected.fetch_add(1, Ordering::Relaxed);
            ApiError::busy(why, 2)
        };
        if waiting >= c.max_waiting {
            return Err(refuse(format!(
                "{} {} requests are running and {waiting} waiting (limits {} and {}): retry shortly",
                c.limit,
                class.name(),
                c.limit,
                c.max_waiting
            )));
        }
        match tokio::time::timeout(self.deadline, slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Some(permit)),
            _ => Err(refuse(format!(
                "no {} slot within {} s: retry shortly",
                class.name(),
                self.deadline.as_secs()
            ))),
        }
    }

    pub(crate) fn stats(&self) -> Vec<ClassStats> {
        RouteClass::ALL
            .iter()
            .filter_map(|class| {
                let c = &self.classes[class.index()];
                let slots = c.slots.as_ref()?;
                Some(ClassStats {
                    class: class.name(),
                    limit: c.limit,
                    in_flight: c.limit - slots.available_permits(),
                    waiting: c.waiting.load(Ordering::Relaxed),
                    rejected: c.rejected.load(Ordering::Relaxed),
                })
            })
            .collect()
    }
}

struct Dec<'a>(&'a AtomicUsize);

impl Drop for Dec<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Middleware state: the class slots, the class of the route it wraps, and whether the
/// route's answer streams.
#[derive(Clone)]
pub(crate) struct Limited {
    pub(crate) classes: Arc<ClassLimits>,
    pub(crate) class: RouteClass,
    pub(crate) streams: bool,
}

pub(crate) async fn limit(
    State(l): State<Limited>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let permit = l.classes.acquire(l.class).await?;
    let response = next.run(req).await;
    match permit {
        Some(permit) if l.streams => {
            // The slot goes with the body: it is freed when the stream ends or the client
            // goes away.
            let (parts, body) = response.into_parts();
            let stream = futures_util::StreamExt::map(body.into_data_stream(), move |chunk| {
                let _held = &permit;
                chunk
            });
            Ok(Response::from_parts(
                parts,
                axum::body::Body::from_stream(stream),
            ))
        }
        _ => Ok(response),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_class_queues_then_refuses_and_other_classes_are_unaffected() {
        let limits = RouteLimits {
            page: 1,
            browser: 1,
            jobs: 1,
            results: 1,
            queue_factor: 1,
        };
        let classes = Arc::new(ClassLimits::new(&limits, Duration::from_millis(200)));
        let held = classes.acquire(RouteClass::Page).await.unwrap();
        assert!(held.is_some());
        // One may wait: it gets the slot when the first is released.
        let waiter = {
            let classes = classes.clone();
            tokio::spawn(
                async move { classes.acquire(RouteClass::Page).await.map(|p| p.is_some()) },
            )
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        // A second waiter is beyond the queue bound: refused at once.
        let refused = classes.acquire(RouteClass::Page).await.unwrap_err();
        assert_eq!(refused.status, axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert!(refused.retry_after.is_some());
        // Another class has its own slots; light routes have none.
        assert!(
            classes
                .acquire(RouteClass::Browser)
                .await
                .unwrap()
                .is_some()
        );
        assert!(classes.acquire(RouteClass::Light).await.unwrap().is_none());
        drop(held);
        assert!(waiter.await.unwrap().unwrap());
        // A waiter past the deadline is refused.
        let _held = classes.acquire(RouteClass::Jobs).await.unwrap();
        let late = classes.acquire(RouteClass::Jobs).await.unwrap_err();
        assert!(late.message.contains("within"), "{}", late.message);
        let stats = classes.stats();
        let page = stats.iter().find(|s| s.class == "page").unwrap();
        assert_eq!((page.limit, page.rejected), (1, 1));
        assert_eq!(stats.len(), 4, "light is not limited");
        assert!(RouteLimits { jobs: 0, ..limits }.validate().is_err());
    }
}
