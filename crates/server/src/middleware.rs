//! Around every route: a request id (`x-request-id`, generated when absent), metrics and
//! the access log ([`observe`]); Bearer-token authentication when tokens are configured
//! (compared in constant time; `/health` and a few static routes are open) and the
//! per-client rate limit ([`authenticate`]).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::ApiError;
use crate::metrics::{Metrics, RecentErrors};
use crate::ratelimit::RateLimiter;

/// What [`authenticate`] needs: the tokens and the rate limiter.
pub(crate) struct Auth {
    pub(crate) tokens: Vec<String>,
    pub(crate) limiter: Option<RateLimiter>,
}

/// What [`observe`] needs: where requests are counted and errors kept, and whether to log.
#[derive(Clone)]
pub(crate) struct Observe {
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) errors: Arc<RecentErrors>,
    pub(crate) access_log: bool,
}

/// Compares in time independent of where the strings differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) async fn authenticate(
    State(auth): State<Arc<Auth>>,
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
    if auth.tokens.is_empty() {
        limit(&auth, "", &req)?;
        return Ok(next.run(req).await);
    }
    // EventSource and WebSocket clients cannot send headers: the dashboard's stream and
    // the MCP WebSocket may carry ?token=.
    let from_query = matches!(req.uri().path(), "/dashboard/events" | "/mcp/ws")
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
        auth.tokens.iter().fold(false, |hit, t| {
            hit | constant_time_eq(g.as_bytes(), t.as_bytes())
        })
    });
    if ok {
        limit(&auth, given.unwrap_or_default(), &req)?;
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
fn limit(auth: &Auth, token: &str, req: &Request) -> Result<(), ApiError> {
    let Some(limiter) = &auth.limiter else {
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
pub(crate) async fn observe(State(o): State<Observe>, req: Request, next: Next) -> Response {
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
    o.metrics.request(&route, status, started.elapsed());
    if status >= 400 {
        o.errors.push(method.as_str(), &path, status);
    }
    if o.access_log {
        // The access log: one event per request (`gannet serve` shows the target
        // `gannet_server::access` at info; RUST_LOG changes that).
        tracing::info!(
            target: "gannet_server::access",
            request_id = %id,
            method = %method,
            path = %path,
            status,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
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
