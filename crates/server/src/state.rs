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
    /// Without Redis: `cfg.redis` is ignored here ([`AppState::open`] connects).
    pub fn new(cfg: ServerConfig) -> Result<Self, Error> {
        let store = match &cfg.data_dir {
            Some(dir) => Some(Arc::new(JobStore::Sqlite(Arc::new(SqliteStore::open(
                dir,
            )?)))),
            None => None,
        };
        Self::build(cfg, store, None)
    }

    /// [`AppState::new`], or with `cfg.redis` a replica of a cluster: jobs in Redis (the
    /// connection is made here; Redis must answer at start).
    pub async fn open(cfg: ServerConfig) -> Result<Self, Error> {
        let Some(url) = cfg.redis.clone() else {
            return Self::new(cfg);
        };
        let cap = crate::jobs::redis::ResultCap(cfg.max_job_result_bytes);
        let redis = crate::jobs::redis::RedisStore::connect(&url, cap)
            .await
            .map_err(|e| crate::error::StoreError::Redis {
                url: redact(&url),
                message: e.to_string(),
            })?
            .with_cache(cfg.job_cache_bytes);
        let dir = cfg
            .data_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("gannet-serve"));
        let cluster = Arc::new(crate::cluster::Cluster::new(
            redis.clone(),
            cfg.listen.to_string(),
            cfg.cluster_lease,
        ));
        let store = Some(Arc::new(JobStore::Redis(redis, dir)));
        Self::build(cfg, store, Some(cluster))
    }

    fn build(
        cfg: ServerConfig,
        store: Option<Arc<JobStore>>,
        cluster: Option<Arc<crate::cluster::Cluster>>,
    ) -> Result<Self, Error> {
        let cfg = Arc::new(cfg);
        let metrics = Arc::new(Metrics::default());
        let pages = Arc::new(PageService::new(cfg.clone(), metrics.clone())?);
        let closing = Closing::default();
        let jobs = Arc::new(Jobs::new(
            cfg.clone(),
            pages.clone(),
            store,
            closing.clone(),
            cluster,
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

/// A Redis URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((head, tail)) => match head.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://…@{tail}"),
            None => tail.to_string(),
        },
        None => url.to_string(),
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
