//! `gannet serve`: the crawl service, thin over the fetcher, the browser pool and the
//! extractor. Two dialects share one page service ([`page`]): crawl4ai's Docker server API
//! ([`crawl4ai`]) and Firecrawl's scrape API ([`firecrawl`]).
//!
//! Around every route: a request id (`x-request-id`, generated when absent), Bearer-token
//! authentication when tokens are configured (compared in constant time; `/health` is
//! open), a body-size cap, JSON errors, metrics and an access log line.

pub mod config;
mod crawl4ai;
mod dashboard;
mod error;
mod firecrawl;
mod jobs;
mod jobs_api;
mod limits;
mod metrics;
mod page;
mod ratelimit;
mod routes;
mod state;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

pub use config::ServerConfig;
use error::ApiError;
pub use limits::RouteLimits;
pub use routes::RouteClass;
use state::AppState;

/// A running server's handle: its address, and a way to stop it.
pub struct Server {
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
}

impl Server {
    /// Validates the config and binds the address (so a port in use fails here).
    pub async fn bind(cfg: ServerConfig) -> Result<Self, String> {
        cfg.validate()?;
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
        let state = AppState::new(cfg)?;
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
        let app = router(self.state.clone());
        // Jobs the last run left unfinished go on; expired ones are removed hourly.
        if let Some(store) = &self.state.jobs {
            if let Ok(jobs) = store.unfinished().await {
                for job in jobs {
                    jobs_api::spawn_runner(self.state.clone(), job);
                }
            }
            let store = store.clone();
            tokio::spawn(async move {
                loop {
                    let _ = store.expire().await;
                    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                }
            });
        }
        let closing = self.state.closing.clone();
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                // Dashboard streams never end by themselves: end them so the graceful
                // shutdown does not wait for an open browser tab.
                let _ = closing.send(true);
            })
            .await;
        // Running jobs checkpoint (they heard `closing`) before the browsers go.
        if !self
            .state
            .runners
            .wait_idle(std::time::Duration::from_secs(20))
            .await
        {
            eprintln!(
                "gannet serve: jobs still running after 20 s; they resume from their last commit"
            );
        }
        self.state.shutdown().await;
        served
    }
}

fn router(state: Arc<AppState>) -> Router {
    let limit = state.cfg.max_body_bytes;
    // Routes sharing a path (GET and DELETE of a job) merge into one method router; each
    // keeps its own class limit.
    let mut by_path: std::collections::BTreeMap<&str, axum::routing::MethodRouter<Arc<AppState>>> =
        std::collections::BTreeMap::new();
    for r in routes::table() {
        let limited = limits::Limited {
            state: state.clone(),
            class: r.class,
            streams: r.produces.streams(),
        };
        let handler = r
            .handler
            .route_layer(middleware::from_fn_with_state(limited, limits::limit));
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
    router
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn not_found(req: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {} {}", req.method(), req.uri().path()),
    )
}

pub(crate) async fn metrics_handler(State(state): State<Arc<AppState>>) -> Response {
    let pool = state.started_pool().map(gannet_browser::Pool::metrics);
    let memory = gannet_browser::memory::MemoryProbe::default()
        .read()
        .map(|r| (r.used, r.limit));
    let in_flight = state.cfg.max_pages_in_flight - state.pages.available_permits();
    let text = state.metrics.render(
        pool.as_ref(),
        state.waiting.load(std::sync::atomic::Ordering::Relaxed),
        in_flight,
        memory,
        &state.classes.stats(),
        state.flights.stats(),
    );
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        text,
    )
        .into_response()
}

/// Compares in time independent of where the strings differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn authenticate(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // The dashboard page is static; its data stream needs the token like any route.
    let open = matches!(
        req.uri().path(),
        "/health" | "/token" | "/dashboard" | "/openapi.json"
    );
    if open {
        return Ok(next.run(req).await);
    }
    if state.cfg.tokens.is_empty() {
        limit(&state, "", &req)?;
        return Ok(next.run(req).await);
    }
    // EventSource cannot send headers: the dashboard's stream may carry ?token=.
    let from_query = (req.uri().path() == "/dashboard/events")
        .then(|| {
            req.uri().query().and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "token")
                    .map(|(_, v)| v.into_owned())
            })
        })
        .flatten();
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .or(from_query);
    let given = given.as_deref();
    let ok = given.is_some_and(|g| {
        // Every token is compared, so the time does not say which one matched.
        state.cfg.tokens.iter().fold(false, |hit, t| {
            hit | constant_time_eq(g.as_bytes(), t.as_bytes())
        })
    });
    if ok {
        limit(&state, given.unwrap_or_default(), &req)?;
        Ok(next.run(req).await)
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong token: send Authorization: Bearer <token>",
        ))
    }
}

/// The rate limit of the caller: its token, or its IP when the server has no tokens.
fn limit(state: &AppState, token: &str, req: &Request) -> Result<(), ApiError> {
    let Some(limiter) = &state.limiter else {
        return Ok(());
    };
    let key = if token.is_empty() {
        req.extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or_else(|| "ip:unknown".to_string(), |c| format!("ip:{}", c.0.ip()))
    } else {
        format!("token:{token}")
    };
    limiter.check(&key).map_err(|wait| ApiError {
        retry_after: Some(wait.as_secs().max(1)),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests: retry in {:.1} s", wait.as_secs_f64()),
        )
    })
}

/// Request id, metrics and the access log.
async fn observe(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(new_request_id, str::to_owned);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut response = next.run(req).await;
    let status = response.status().as_u16();
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    state.metrics.request(&route, status, started.elapsed());
    if status >= 400 {
        state.recent_errors.push(method.as_str(), &path, status);
    }
    if state.cfg.access_log {
        eprintln!(
            "{} {id} {method} {path} {status} {:.1}ms",
            log_time(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    response
}

fn new_request_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        bytes = nanos.to_le_bytes();
    }
    data_encoding::HEXLOWER.encode(&bytes)
}

/// Seconds since the epoch with milliseconds, for log lines.
fn log_time() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:03}", now.as_secs(), now.subsec_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"secret-token-123", b"secret-token-123"));
        assert!(!constant_time_eq(b"secret-token-123", b"secret-token-124"));
        assert!(!constant_time_eq(b"short", b"longer"));
    }
}
