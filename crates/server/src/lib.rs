//! `gannet serve`: the crawl service, thin over the fetcher, the browser pool and the
//! extractor. Two dialects share one page service ([`page`]): crawl4ai's Docker server API
//! ([`crawl4ai`]) and Firecrawl's API ([`firecrawl`]), beside our own job API
//! ([`jobs_api`]), all over one job service ([`runner`]).
//!
//! Modules depend downward only (no cycles):
//!
//! ```text
//! error, shutdown, ratelimit           leaves
//! limits → error; config → limits      route classes and their slots; settings
//! metrics → limits                     counters, Prometheus text, recent errors
//! middleware → error, metrics, ratelimit   request id, access log, auth, rate limit
//! page → config, error, metrics, jobs  the page service (Firecrawl extract jobs in the store)
//! sitemap → page                       a site's URLs (links + sitemaps)
//! jobs → error                         the job store: SQLite, or Redis in a cluster
//! cluster → jobs, runner               serve --redis: membership, scheduler, leases
//! crawl4ai_model → config, error, page crawl4ai's configs and CrawlResult, no axum
//! runner → config, crawl4ai_model, error, jobs, page, shutdown   the job service, no axum
//! state → every service above          AppState and its FromRef substates
//! crawl4ai, firecrawl, jobs_api, dashboard → services   the handlers, by dialect
//! llm_job → page, runner               crawl4ai's /llm/job (a one-URL batch of kind llm)
//! routes → state, handlers             the route table and /openapi.json
//! mcp → state, services                the MCP tool table and its transports
//! lib → routes, state, middleware      Server, app()
//! ```
//!
//! Around every route: a request id (`x-request-id`, generated when absent), Bearer-token
//! authentication when tokens are configured (compared in constant time; `/health` is
//! open), a body-size cap, JSON errors, metrics and an access log line.

pub mod cluster;
pub mod config;
mod crawl4ai;
mod crawl4ai_model;
mod dashboard;
mod error;
mod firecrawl;
mod jobs;
mod jobs_api;
mod limits;
mod llm_job;
mod mcp;
mod metrics;
mod middleware;
mod page;
mod ratelimit;
mod routes;
mod runner;
mod shutdown;
mod sitemap;
mod state;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;

pub use config::ServerConfig;
use error::ApiError;
pub use error::{ConfigError, Error, StoreError};
pub use limits::{RouteClass, RouteLimits};
pub use state::AppState;

/// A running server's handle: its address, and a way to stop it.
pub struct Server {
    state: AppState,
    listener: tokio::net::TcpListener,
}

impl Server {
    /// Validates the config, binds the address (so a port in use fails here, as
    /// [`Error::Bind`] naming it) and opens the job store.
    pub async fn bind(cfg: ServerConfig) -> Result<Self, Error> {
        cfg.validate()?;
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: cfg.listen,
                source,
            })?;
        // The bound address (port 0 picks one): what a cluster's membership advertises.
        let mut cfg = cfg;
        if let Ok(addr) = listener.local_addr() {
            cfg.listen = addr;
        }
        let state = AppState::open(cfg).await?;
        Ok(Self { state, listener })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes; then stops accepting, lets requests in flight
    /// finish, has running jobs checkpoint (they resume at the next start), and closes the
    /// browsers.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state;
        // Jobs the last run left unfinished go on; expired ones are removed hourly.
        state.jobs.start().await;
        let closing = state.closing.clone();
        let service =
            app(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let served = axum::serve(self.listener, service)
            .with_graceful_shutdown(async move {
                shutdown.await;
                // Dashboard streams never end by themselves: end them so the graceful
                // shutdown does not wait for an open browser tab.
                closing.close();
            })
            .await;
        // Running jobs checkpoint (they heard `closing`) before the browsers go.
        if !state
            .jobs
            .wait_idle(std::time::Duration::from_secs(20))
            .await
        {
            tracing::warn!(
                waited_s = 20,
                "jobs still running at shutdown; they resume from their last commit"
            );
        }
        // A replica leaves the cluster (its batch leases were handed back by the runners).
        if let Some(cluster) = &state.jobs.cluster
            && let Err(e) = cluster.leave().await
        {
            tracing::warn!(error = %e, "could not leave the cluster; the membership key expires");
        }
        state.pages.shutdown().await;
        served
    }
}

/// The whole service as a [`Router`], every route and middleware included, without a
/// socket: [`Server::run`] serves it, and tests can call it directly (tower's
/// `ServiceExt::oneshot`). Jobs left unfinished by an earlier run are resumed only by
/// [`Server::run`].
pub fn app(state: AppState) -> Router {
    let limit = state.cfg.max_body_bytes;
    // Routes sharing a path (GET and DELETE of a job) merge into one method router; each
    // keeps its own class limit.
    let mut by_path: std::collections::BTreeMap<&str, axum::routing::MethodRouter<AppState>> =
        std::collections::BTreeMap::new();
    for r in routes::table() {
        let limited = limits::Limited {
            classes: state.classes.clone(),
            class: r.class,
            streams: r.produces.streams(),
        };
        let handler = r
            .handler
            .route_layer(from_fn_with_state(limited, limits::limit));
        let merged = match by_path.remove(r.path) {
            Some(existing) => existing.merge(handler),
            None => handler,
        };
        by_path.insert(r.path, merged);
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    // MCP (Streamable HTTP): inside the auth, rate-limit, body-cap and metrics layers like
    // every route; each tool call takes its own route class's slot.
    router = router.nest_service("/mcp", mcp::http_service(&state));
    // crawl4ai's legacy MCP transports: /mcp/sse (+ /mcp/messages) and /mcp/ws.
    router = router.merge(mcp::legacy::router(&state));
    router
        .fallback(not_found)
        .layer(from_fn_with_state(
            state.auth.clone(),
            middleware::authenticate,
        ))
        .layer(from_fn_with_state(state.observe(), middleware::observe))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// `gannet mcp`: the MCP tools over stdin/stdout (the protocol owns stdout: nothing else
/// may write there), in this process with the same page service, browser pool and job
/// service as `gannet serve` (jobs need `cfg.data_dir`). Returns when the client closes
/// stdin; then running jobs checkpoint and the browsers close.
pub async fn serve_mcp_stdio(cfg: ServerConfig) -> Result<(), Error> {
    use rmcp::ServiceExt;
    cfg.validate()?;
    let state = AppState::open(cfg).await?;
    let served = async {
        mcp::McpServer::new(&state, mcp::Dialect::Gannet)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
            .waiting()
            .await
            .map_err(std::io::Error::other)
    }
    .await;
    state.closing.close();
    state
        .jobs
        .wait_idle(std::time::Duration::from_secs(20))
        .await;
    state.pages.shutdown().await;
    served.map(drop).map_err(Error::Mcp)
}

async fn not_found(req: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {} {}", req.method(), req.uri().path()),
    )
}
