//! crawl4ai's MCP transports, for its users: HTTP+SSE (the 2024-11-05 transport) at
//! `/mcp/sse` — `GET` opens an event stream whose first event, `endpoint`, names the URL
//! to `POST` messages to (`/mcp/messages?session_id=…`, answered 202; the responses come
//! on the stream) — and a WebSocket at `/mcp/ws` (subprotocol `mcp`, one JSON-RPC message
//! a text frame). Each session feeds an rmcp server ([`McpServer`] in the crawl4ai
//! dialect) a sink/stream pair; the protocol is rmcp's.
//!
//! Bounded: at most [`Limits::sessions`] sessions (SSE and WebSocket together; 503
//! beyond), [`Limits::queue`] messages queued each way per session (a full inbound queue
//! is a 503 for a POST, and back-pressure for a WebSocket), a session with no message
//! either way for [`Limits::idle`] ends, and every session ends when the server begins to
//! shut down. Guarded like `/mcp`: the router's Bearer-token, rate-limit and body-cap
//! layers (a WebSocket's messages are rate-limited one by one too, by waiting), the
//! Host/Origin check ([`HostGuard`]), and the tools' own address guard.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{SinkExt, StreamExt};
use rmcp::ServiceExt;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::{CancellationToken, PollSender};

use super::{Dialect, HostGuard, McpServer};
use crate::error::ApiError;
use crate::middleware::Auth;
use crate::state::AppState;

/// The bounds of the legacy transports.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Sessions open at once (SSE and WebSocket together).
    pub(crate) sessions: usize,
    /// Messages queued each way per session.
    pub(crate) queue: usize,
    /// A session with no message either way for this long ends.
    pub(crate) idle: Duration,
    /// How long a POST waits for room in a full inbound queue before its 503.
    pub(crate) post_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            sessions: 256,
            queue: 64,
            idle: Duration::from_secs(600),
            post_wait: Duration::from_secs(5),
        }
    }
}

/// The legacy transports' shared state.
pub(crate) struct Legacy {
    server: McpServer,
    guard: HostGuard,
    auth: Arc<Auth>,
    limits: Limits,
    slots: Arc<Semaphore>,
    /// SSE sessions by id: where their POSTed messages go.
    sessions: Mutex<HashMap<String, SseSession>>,
    /// Cancelled when the server begins to shut down: every session ends.
    root: CancellationToken,
    max_message: usize,
    epoch: Instant,
}

#[derive(Clone)]
struct SseSession {
    inbound: mpsc::Sender<ClientJsonRpcMessage>,
    activity: Arc<AtomicU64>,
    /// Ends the session's rmcp server (and with it the session's slot).
    ct: CancellationToken,
}

impl Legacy {
    pub(crate) fn new(state: &AppState, limits: Limits) -> Arc<Self> {
        let root = CancellationToken::new();
        let legacy = Arc::new(Self {
            server: McpServer::new(state, Dialect::Crawl4ai),
            guard: HostGuard::new(state.cfg.listen),
            auth: state.auth.clone(),
            slots: Arc::new(Semaphore::new(limits.sessions)),
            limits,
            sessions: Mutex::new(HashMap::new()),
            root: root.clone(),
            max_message: state.cfg.max_body_bytes,
            epoch: Instant::now(),
        });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (closing, ct) = (state.closing.clone(), root.clone());
            rt.spawn(async move {
                closing.closed().await;
                ct.cancel();
            });
            // The janitor: idle SSE sessions end even when their stream is not read.
            let weak = Arc::downgrade(&legacy);
            let every = (limits.idle / 4).max(Duration::from_millis(100));
            rt.spawn(async move {
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(every) => {}
                        () = root.cancelled() => return,
                    }
                    match weak.upgrade() {
                        Some(legacy) => legacy.expire_idle(),
                        None => return,
                    }
                }
            });
        }
        legacy
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// A session slot, or 503 when every one is taken.
    fn slot(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError {
                retry_after: Some(5),
                ..ApiError::unavailable(
                    "too_many_sessions",
                    format!(
                        "{} MCP sessions are open, the most this server keeps: retry later",
                        self.limits.sessions
                    ),
                )
            })
    }

    /// Starts an rmcp server on a session's channels; it ends when the inbound stream
    /// ends, `ct` is cancelled, or the outbound side is gone.
    fn spawn_server(
        self: &Arc<Self>,
        inbound: mpsc::Receiver<ClientJsonRpcMessage>,
        outbound: mpsc::Sender<ServerJsonRpcMessage>,
        ct: CancellationToken,
        slot: OwnedSemaphorePermit,
        transport: &'static str,
    ) {
        let server = self.server.clone();
        let mut inbound = inbound;
        let stream = futures_util::stream::poll_fn(move |cx| inbound.poll_recv(cx));
        let sink = PollSender::new(outbound);
        tokio::spawn(async move {
            let _slot = slot;
            match server.serve_with_ct((sink, stream), ct.clone()).await {
                Ok(running) => {
                    let _ = running.waiting().await;
                }
                Err(e) => {
                    tracing::debug!(transport, error = %e, "mcp session ended before it began");
                }
            }
            ct.cancel();
        });
    }

    /// Sessions with no message either way for the idle time.
    fn expire_idle(&self) {
        let now = self.now_ms();
        let idle = u64::try_from(self.limits.idle.as_millis()).unwrap_or(u64::MAX);
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.retain(|_, s| {
                let live = now.saturating_sub(s.activity.load(Ordering::Relaxed)) < idle;
                if !live {
                    s.ct.cancel();
                }
                live
            });
        }
    }

    fn remove(&self, id: &str) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.remove(id);
        }
    }

    /// SSE sessions open now.
    #[cfg(test)]
    fn open_sse(&self) -> usize {
        self.sessions.lock().map_or(0, |s| s.len())
    }
}

/// `/mcp/sse`, `/mcp/messages` and `/mcp/ws`, with their own state.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    router_with(state, Limits::default())
}

pub(crate) fn router_with(state: &AppState, limits: Limits) -> Router<AppState> {
    Router::new()
        .route("/mcp/sse", get(open_sse))
        .route("/mcp/messages", post(post_message))
        .route("/mcp/messages/", post(post_message))
        .route("/mcp/ws", get(open_ws))
        .with_state(Legacy::new(state, limits))
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Unguessable ids matter (a session id lets its holder post into the session);
        // without the OS source, fall back on the clock and a counter, still unique.
        static N: AtomicU64 = AtomicU64::new(0);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes[..8].copy_from_slice(&(t as u64).to_le_bytes());
        bytes[8..].copy_from_slice(&N.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    }
    data_encoding::HEXLOWER.encode(&bytes)
}

/// Removes an SSE session when its event stream is dropped (the client went away, or the
/// session ended): its inbound queue closes and its rmcp server stops.
struct SseGuard {
    legacy: Arc<Legacy>,
    id: String,
    ct: CancellationToken,
}

impl Drop for SseGuard {
    fn drop(&mut self) {
        self.legacy.remove(&self.id);
        self.ct.cancel();
        tracing::debug!(session = %self.id, "mcp sse session closed");
    }
}

struct SseState {
    guard: SseGuard,
    outbound: mpsc::Receiver<ServerJsonRpcMessage>,
    activity: Arc<AtomicU64>,
}

/// `GET /mcp/sse`: a session's event stream; the first event names where to POST.
async fn open_sse(
    State(legacy): State<Arc<Legacy>>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    legacy.guard.check(&headers, &uri)?;
    legacy.expire_idle();
    let slot = legacy.slot()?;
    let id = random_id();
    let (in_tx, in_rx) = mpsc::channel(legacy.limits.queue);
    let (out_tx, out_rx) = mpsc::channel(legacy.limits.queue);
    let activity = Arc::new(AtomicU64::new(legacy.now_ms()));
    let ct = legacy.root.child_token();
    if let Ok(mut sessions) = legacy.sessions.lock() {
        sessions.insert(
            id.clone(),
            SseSession {
                inbound: in_tx,
                activity: activity.clone(),
                ct: ct.clone(),
            },
        );
    }
    legacy.spawn_server(in_rx, out_tx, ct.clone(), slot, "sse");
    tracing::debug!(session = %id, "mcp sse session opened");
    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("/mcp/messages?session_id={id}"));
    let state = SseState {
        guard: SseGuard {
            legacy: legacy.clone(),
            id,
            ct,
        },
        outbound: out_rx,
        activity,
    };
    let events = futures_util::stream::once(async move { Ok::<_, Infallible>(endpoint) })
        .chain(futures_util::stream::unfold(state, next_event));
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The next `message` event of a session, until it ends or idles out.
async fn next_event(mut st: SseState) -> Option<(Result<Event, Infallible>, SseState)> {
    let legacy = st.guard.legacy.clone();
    let idle = legacy.limits.idle;
    loop {
        let since = legacy
            .now_ms()
            .saturating_sub(st.activity.load(Ordering::Relaxed));
        let left = idle.saturating_sub(Duration::from_millis(since));
        if left.is_zero() {
            tracing::debug!(session = %st.guard.id, "mcp sse session idle: closed");
            return None;
        }
        tokio::select! {
            message = st.outbound.recv() => {
                let message = message?;
                st.activity.store(legacy.now_ms(), Ordering::Relaxed);
                let data = serde_json::to_string(&message).ok()?;
                return Some((Ok(Event::default().event("message").data(data)), st));
            }
            () = st.guard.ct.cancelled() => return None,
            () = tokio::time::sleep(left) => {}
        }
    }
}

#[derive(serde::Deserialize)]
struct SessionQuery {
    session_id: Option<String>,
}

/// `POST /mcp/messages?session_id=…`: one JSON-RPC message into a session; 202.
async fn post_message(
    State(legacy): State<Arc<Legacy>>,
    Query(q): Query<SessionQuery>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    legacy.guard.check(&headers, &uri)?;
    let Some(id) = q.session_id.filter(|s| !s.is_empty()) else {
        return Err(ApiError::bad_request("session_id is required"));
    };
    let session = legacy
        .sessions
        .lock()
        .ok()
        .and_then(|s| s.get(&id).cloned())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "session_not_found",
                "no such MCP session (it ended or idled out): open /mcp/sse again",
            )
        })?;
    let message: ClientJsonRpcMessage = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("not a JSON-RPC message: {e}")))?;
    session.activity.store(legacy.now_ms(), Ordering::Relaxed);
    match tokio::time::timeout(legacy.limits.post_wait, session.inbound.send(message)).await {
        Ok(Ok(())) => Ok((StatusCode::ACCEPTED, "Accepted").into_response()),
        Ok(Err(_)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "session_not_found",
            "the MCP session has ended: open /mcp/sse again",
        )),
        Err(_) => Err(ApiError {
            retry_after: Some(1),
            ..ApiError::unavailable(
                "session_busy",
                format!(
                    "the session's queue is full ({} messages): retry",
                    legacy.limits.queue
                ),
            )
        }),
    }
}

/// `GET /mcp/ws`: a WebSocket session (subprotocol `mcp`).
async fn open_ws(State(legacy): State<Arc<Legacy>>, req: Request) -> Result<Response, ApiError> {
    let (mut parts, _) = req.into_parts();
    legacy.guard.check(&parts.headers, &parts.uri)?;
    let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &())
        .await
        .map_err(|e| {
            ApiError::bad_request(format!("not a WebSocket upgrade: {}", e.body_text()))
        })?;
    let slot = legacy.slot()?;
    // The rate limit's key, as the router's middleware makes it: the token, else the IP.
    let token = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| format!("token:{}", t.trim()));
    let key = token.unwrap_or_else(|| {
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map_or_else(|| "ip:unknown".to_string(), |c| format!("ip:{}", c.0.ip()))
    });
    let max = legacy.max_message;
    Ok(upgrade
        .protocols(["mcp"])
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| run_ws(legacy, socket, key, slot)))
}

async fn run_ws(legacy: Arc<Legacy>, socket: WebSocket, key: String, slot: OwnedSemaphorePermit) {
    let (in_tx, in_rx) = mpsc::channel(legacy.limits.queue);
    let (out_tx, mut out_rx) = mpsc::channel::<ServerJsonRpcMessage>(legacy.limits.queue);
    let ct = legacy.root.child_token();
    legacy.spawn_server(in_rx, out_tx, ct.clone(), slot, "ws");
    let activity = Arc::new(AtomicU64::new(legacy.now_ms()));
    let (mut sink, mut frames) = socket.split();
    // Reader: frames → the session, one message a frame, waiting for the rate limit and
    // for room in the queue (back-pressure on the socket).
    let reader = {
        let (legacy, activity, ct) = (legacy.clone(), activity.clone(), ct.clone());
        tokio::spawn(async move {
            loop {
                let frame = tokio::select! {
                    frame = frames.next() => frame,
                    () = ct.cancelled() => break,
                };
                let text = match frame {
                    Some(Ok(Message::Text(t))) => t.as_str().to_owned(),
                    Some(Ok(Message::Binary(b))) => String::from_utf8_lossy(&b).into_owned(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                };
                activity.store(legacy.now_ms(), Ordering::Relaxed);
                let message: ClientJsonRpcMessage = match serde_json::from_str(&text) {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::debug!(error = %e, "mcp ws: not a JSON-RPC message, skipped");
                        continue;
                    }
                };
                if let Some(limiter) = &legacy.auth.limiter {
                    while let Err(wait) = limiter.check(&key) {
                        tokio::select! {
                            () = tokio::time::sleep(wait) => {}
                            () = ct.cancelled() => return,
                        }
                    }
                }
                if in_tx.send(message).await.is_err() {
                    break;
                }
            }
            // Dropping in_tx ends the rmcp server.
        })
    };
    // Writer: the session's messages → frames, until it ends, idles out or the server
    // shuts down.
    let idle = legacy.limits.idle;
    loop {
        let since = legacy
            .now_ms()
            .saturating_sub(activity.load(Ordering::Relaxed));
        let left = idle.saturating_sub(Duration::from_millis(since));
        if left.is_zero() {
            tracing::debug!("mcp ws session idle: closed");
            break;
        }
        tokio::select! {
            message = out_rx.recv() => {
                let Some(message) = message else { break };
                activity.store(legacy.now_ms(), Ordering::Relaxed);
                let Ok(text) = serde_json::to_string(&message) else { continue };
                // A client that stops reading is an idle one.
                match tokio::time::timeout(idle, sink.send(Message::Text(text.into()))).await {
                    Ok(Ok(())) => {}
                    _ => break,
                }
            }
            () = ct.cancelled() => break,
            () = tokio::time::sleep(left) => {}
        }
    }
    ct.cancel();
    let _ = sink.close().await;
    let _ = reader.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sessions_are_capped_and_idle_ones_expire() {
        let dir = std::env::temp_dir().join(format!("gannet-legacy-{}", std::process::id()));
        let cfg = crate::config::ServerConfig {
            data_dir: Some(dir.clone()),
            ..crate::config::ServerConfig::default()
        };
        let state = AppState::new(cfg).expect("state");
        let legacy = Legacy::new(
            &state,
            Limits {
                sessions: 2,
                queue: 1,
                idle: Duration::from_millis(300),
                post_wait: Duration::from_millis(50),
            },
        );
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("host", "localhost:9".parse().expect("host"));
        let uri = axum::http::Uri::from_static("/mcp/sse");
        let a = open_sse(State(legacy.clone()), uri.clone(), headers.clone())
            .await
            .expect("first");
        let b = open_sse(State(legacy.clone()), uri.clone(), headers.clone())
            .await
            .expect("second");
        let e = open_sse(State(legacy.clone()), uri.clone(), headers.clone())
            .await
            .expect_err("third is over the cap");
        assert_eq!((e.status.as_u16(), e.code), (503, "too_many_sessions"));
        assert_eq!(legacy.open_sse(), 2);
        // A closed stream ends its session and, once its server stops, frees its slot.
        drop(a);
        assert_eq!(legacy.open_sse(), 1);
        let open = || open_sse(State(legacy.clone()), uri.clone(), headers.clone());
        let mut c = None;
        for _ in 0..100 {
            if let Ok(r) = open().await {
                c = Some(r);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let c = c.expect("a slot again");
        // Idle sessions end, by the janitor, even when nobody reads their stream (b's is
        // never read): both slots come back ...
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(legacy.open_sse(), 0);
        let mut again = Vec::new();
        for _ in 0..100 {
            if let Ok(r) = open().await {
                again.push(r);
                if again.len() == 2 {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(again.len(), 2, "both slots are free again");
        // ... and an idle stream ends.
        let mut body = c.into_body().into_data_stream();
        let ended = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(chunk) = body.next().await {
                if chunk.is_err() {
                    break;
                }
            }
        })
        .await;
        assert!(ended.is_ok(), "an idle stream ends");
        drop(b);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn foreign_hosts_and_origins_are_refused() {
        let guard = HostGuard::new("127.0.0.1:8080".parse().expect("addr"));
        let uri = axum::http::Uri::from_static("/mcp/sse");
        let mut h = axum::http::HeaderMap::new();
        h.insert("host", "127.0.0.1:8080".parse().expect("h"));
        assert!(guard.check(&h, &uri).is_ok());
        h.insert("origin", "http://localhost:3000".parse().expect("o"));
        assert!(guard.check(&h, &uri).is_ok());
        h.insert("origin", "http://evil.example".parse().expect("o"));
        assert_eq!(
            guard.check(&h, &uri).expect_err("origin").status.as_u16(),
            403
        );
        h.remove("origin");
        h.insert("host", "evil.example:8080".parse().expect("h"));
        assert_eq!(
            guard.check(&h, &uri).expect_err("host").status.as_u16(),
            403
        );
        h.insert("host", "[::1]:8080".parse().expect("h"));
        assert!(guard.check(&h, &uri).is_ok());
    }
}
