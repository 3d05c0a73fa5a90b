//! The composition root: [`AppState`] builds every service once and hands each handler
//! only the part it asks for (axum's [`FromRef`] substates: a handler that extracts
//! `State<Arc<PageService>>` sees the page service and nothing else).

use std::sync::Arc;

use axum::extract::FromRef;

use crate::config::ServerConfig;
use crate::error::Error;
use crate::jobs::JobStore;
use crate::jobs::sqlite::SqliteStore;
use crate::limits::ClassLimits;
use crate::metrics::{Metrics, RecentErrors};
use crate::middleware::{Auth, Observe};
use crate::page::PageService;
use crate::ratelimit::RateLimiter;
use crate::runner::Jobs;
use crate::shutdown::Closing;

/// Everything the routes share, built from a [`ServerConfig`]. Cheap to clone (handles).
#[derive(Clone)]
pub struct AppState {
    pub(crate) cfg: Arc<ServerConfig>,
    pub(crate) pages: Arc<PageService>,
    pub(crate) jobs: Arc<Jobs>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) errors: Arc<RecentErrors>,
    /// Slots per route class.
    pub(crate) classes: Arc<ClassLimits>,
    pub(crate) auth: Arc<Auth>,
    /// Turns on when the server begins to shut down: endless streams end then.
    pub(crate) closing: Closing,
}

impl AppState {
    /// Builds the services: the HTTP fetcher, the page service (the browser pool starts on
    /// first use), the job store when the config has a data directory, limits and metrics.
    pub fn new(cfg: ServerConfig) -> Result<Self, Error> {
        let cfg = Arc::new(cfg);
        let metrics = Arc::new(Metrics::default());
        let pages = Arc::new(PageService::new(cfg.clone(), metrics.clone())?);
        let store = match &cfg.data_dir {
            Some(dir) => Some(Arc::new(JobStore::Sqlite(Arc::new(SqliteStore::open(
                dir,
            )?)))),
            None => None,
        };
        let closing = Closing::default();
        let jobs = Arc::new(Jobs::new(
            cfg.clone(),
            pages.clone(),
            store,
            closing.clone(),
        ));
        Ok(Self {
            auth: Arc::new(Auth {
                tokens: cfg.tokens.clone(),
                limiter: cfg
                    .rate_limit_per_minute
                    .map(|n| RateLimiter::new(n, cfg.rate_limit_burst)),
            }),
            classes: Arc::new(ClassLimits::new(&cfg.limits, cfg.queue_timeout)),
            errors: Arc::new(RecentErrors::default()),
            metrics,
            pages,
            jobs,
            closing,
            cfg,
        })
    }

    pub(crate) fn observe(&self) -> Observe {
        Observe {
            metrics: self.metrics.clone(),
            errors: self.errors.clone(),
            access_log: self.cfg.access_log,
        }
    }
}

macro_rules! substate {
    ($($field:ident: $ty:ty),* $(,)?) => {$(
        impl FromRef<AppState> for $ty {
            fn from_ref(state: &AppState) -> Self {
                state.$field.clone()
            }
        }
    )*};
}

substate!(
    cfg: Arc<ServerConfig>,
    pages: Arc<PageService>,
    jobs: Arc<Jobs>,
    metrics: Arc<Metrics>,
    errors: Arc<RecentErrors>,
    classes: Arc<ClassLimits>,
    auth: Arc<Auth>,
    closing: Closing,
);
