//! What every request shares: config, the HTTP fetcher, the browser pool (started on first
//! use), the page semaphore, metrics.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use gannet_browser::Pool;
use gannet_fetch::{FetchConfig, Fetcher};
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

use crate::config::ServerConfig;
use crate::metrics::Metrics;

pub(crate) struct AppState {
    pub(crate) cfg: ServerConfig,
    pub(crate) fetcher: Fetcher,
    pool: OnceCell<Result<Pool, String>>,
    pub(crate) pages: Arc<Semaphore>,
    /// Extraction slots (FIFO), when limited.
    pub(crate) extract_gate: Option<Arc<Semaphore>>,
    pub(crate) waiting: AtomicUsize,
    pub(crate) metrics: Metrics,
    memory: gannet_browser::memory::MemoryProbe,
    /// The job store, when the server has a data directory.
    pub(crate) jobs: Option<Arc<crate::jobs::JobStore>>,
    pub(crate) recent_errors: crate::dashboard::RecentErrors,
    /// Turns true when the server begins to shut down: endless streams end then.
    pub(crate) closing: tokio::sync::watch::Sender<bool>,
    pub(crate) limiter: Option<crate::ratelimit::RateLimiter>,
    /// Slots per route class.
    pub(crate) classes: crate::limits::ClassLimits,
    /// Identical page requests in flight together.
    pub(crate) flights: crate::page::Flights,
    /// Job runners alive: shutdown waits (bounded) for them to checkpoint.
    pub(crate) runners: Runners,
}

/// Counts the job runners alive, so a shutdown can wait until each has checkpointed.
#[derive(Default)]
pub(crate) struct Runners {
    alive: AtomicUsize,
    idle: tokio::sync::Notify,
}

/// One runner alive; dropping it (however the runner ends) counts it out.
pub(crate) struct RunnerGuard(Arc<AppState>);

impl Drop for RunnerGuard {
    fn drop(&mut self) {
        if self.0.runners.alive.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.runners.idle.notify_waiters();
        }
    }
}

impl Runners {
    pub(crate) fn enter(state: &Arc<AppState>) -> RunnerGuard {
        state.runners.alive.fetch_add(1, Ordering::SeqCst);
        RunnerGuard(state.clone())
    }

    /// Waits until no runner is alive, at most `limit`; `false` if some still were.
    pub(crate) async fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let idle = self.idle.notified();
            if self.alive.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return self.alive.load(Ordering::SeqCst) == 0;
            }
        }
    }
}

impl AppState {
    pub(crate) fn new(mut cfg: ServerConfig) -> Result<Arc<Self>, String> {
        if !cfg.allow_private {
            // Every request the browser makes goes through the egress guard.
            let policy: gannet_browser::egress::Policy =
                Arc::new(|ip: IpAddr| match gannet_fetch::classify(ip) {
                    None => Ok(()),
                    Some(blocked) => Err(blocked.to_string()),
                });
            cfg.browser.egress = Some(gannet_browser::egress::EgressPolicy(policy));
        }
        let fetch = FetchConfig {
            timeout: cfg.page_timeout,
            max_body_bytes: cfg.max_page_bytes,
            // Names are checked after resolution, on every redirect hop (gannet_fetch::guard).
            allow_private: cfg.allow_private,
            ..FetchConfig::default()
        };
        let fetcher = Fetcher::new(fetch).map_err(|e| format!("HTTP client: {e}"))?;
        let jobs = match &cfg.data_dir {
            Some(dir) => Some(Arc::new(crate::jobs::JobStore::open(dir)?)),
            None => None,
        };
        Ok(Arc::new(Self {
            jobs,
            recent_errors: crate::dashboard::RecentErrors::default(),
            closing: tokio::sync::watch::Sender::new(false),
            limiter: cfg
                .rate_limit_per_minute
                .map(|n| crate::ratelimit::RateLimiter::new(n, cfg.rate_limit_burst)),
            classes: crate::limits::ClassLimits::new(&cfg.limits, cfg.queue_timeout),
            flights: crate::page::Flights::default(),
            runners: Runners::default(),
            pages: Arc::new(Semaphore::new(cfg.max_pages_in_flight)),
            extract_gate: (cfg.extract_concurrency > 0)
                .then(|| Arc::new(Semaphore::new(cfg.extract_concurrency))),
            waiting: AtomicUsize::new(0),
            metrics: Metrics::default(),
            memory: gannet_browser::memory::MemoryProbe::default(),
            fetcher,
            pool: OnceCell::new(),
            cfg,
        }))
    }

    /// The browser pool, started on first use. An error (no Chromium) is kept and repeated.
    pub(crate) async fn pool(&self) -> Result<&Pool, String> {
        let pool = self
            .pool
            .get_or_init(|| async {
                Pool::new(self.cfg.browser.clone()).map_err(|e| e.to_string())
            })
            .await;
        pool.as_ref().map_err(Clone::clone)
    }

    /// Whether a render can be tried (the pool started, or was never asked for).
    pub(crate) fn browser_available(&self) -> bool {
        self.pool.get().is_none_or(Result::is_ok)
    }

    /// The pool if it has been started.
    pub(crate) fn started_pool(&self) -> Option<&Pool> {
        self.pool.get().and_then(|p| p.as_ref().ok())
    }

    /// Used and limit bytes (cgroup, else host).
    pub(crate) fn memory_reading(&self) -> Option<(u64, u64)> {
        self.memory.read().map(|r| (r.used, r.limit))
    }

    pub(crate) fn memory_pressure(&self) -> Option<f64> {
        self.memory.read().map(|r| r.pressure())
    }

    /// Refuses, before any network use, URLs whose host is a literal private address or
    /// `localhost` when private addresses are not allowed (names are checked again after
    /// resolution by the fetcher's guard, and every browser request by the egress guard).
    pub(crate) fn check_url(&self, url: &Url) -> Result<(), String> {
        if self.cfg.allow_private {
            return Ok(());
        }
        if let Some(url::Host::Domain(d)) = url.host()
            && (d.eq_ignore_ascii_case("localhost")
                || d.to_ascii_lowercase().ends_with(".localhost"))
        {
            return Err(format!("refused: {url} names this machine (localhost)"));
        }
        self.fetcher.check_url(url).map_err(|e| e.to_string())
    }

    pub(crate) async fn shutdown(&self) {
        if let Some(pool) = self.started_pool() {
            pool.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_private_hosts_are_refused_unless_allowed() {
        let state = AppState::new(ServerConfig::default()).unwrap();
        for bad in [
            "http://127.0.0.1/",
            "http://localhost:8080/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://100.64.0.1/",
            "http://2130706433/",
        ] {
            let url = Url::parse(bad).unwrap();
            assert!(state.check_url(&url).is_err(), "{bad}");
        }
        assert!(
            state
                .check_url(&Url::parse("http://93.184.216.34/").unwrap())
                .is_ok()
        );
        let open = AppState::new(ServerConfig {
            allow_private: true,
            ..ServerConfig::default()
        })
        .unwrap();
        assert!(
            open.check_url(&Url::parse("http://127.0.0.1/").unwrap())
                .is_ok()
        );
    }
}
