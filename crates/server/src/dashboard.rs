//! `/dashboard`: one static page that follows `/dashboard/events`, a server-sent event
//! stream with a snapshot every second — request rate, pages in flight, queue depths,
//! memory, the browser pool's tiers and counters, recent jobs and recent errors.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse};
use futures_util::Stream;
use serde_json::{Value, json};

use crate::state::AppState;

const PAGE: &str = include_str!("../assets/dashboard.html");
/// Errors kept for the dashboard.
const RECENT_ERRORS: usize = 20;

/// The last few error answers (4xx/5xx), newest first.
#[derive(Default)]
pub(crate) struct RecentErrors(Mutex<VecDeque<Value>>);

impl RecentErrors {
    pub(crate) fn push(&self, method: &str, path: &str, status: u16) {
        let at = crate::jobs::now_secs();
        if let Ok(mut q) = self.0.lock() {
            q.push_front(json!({"at": at, "method": method, "path": path, "status": status}));
            q.truncate(RECENT_ERRORS);
        }
    }

    fn snapshot(&self) -> Vec<Value> {
        self.0
            .lock()
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }
}

pub(crate) async fn page() -> impl IntoResponse {
    Html(PAGE)
}

pub(crate) async fn events(
    State(state): State<Arc<AppState>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let state_closing = state.closing.clone();
    let stream = futures_util::stream::unfold(
        (state, None::<(std::time::Instant, u64)>, true),
        |(state, last, first)| async move {
            if !first {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            let now = std::time::Instant::now();
            let total = state.metrics.requests_total();
            let rate = last.map_or(0.0, |(t, n)| {
                (total.saturating_sub(n)) as f64 / now.duration_since(t).as_secs_f64().max(1e-3)
            });
            let snapshot = snapshot(&state, total, rate).await;
            let event = Event::default().data(snapshot.to_string());
            Some((Ok(event), (state, Some((now, total)), false)))
        },
    );
    let mut closing = state_closing.subscribe();
    let stream = futures_util::StreamExt::take_until(stream, async move {
        let _ = closing.wait_for(|c| *c).await;
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn snapshot(state: &AppState, total: u64, rate: f64) -> Value {
    let memory = state.memory_reading();
    let jobs = match &state.jobs {
        Some(store) => store.recent(10).await.unwrap_or_default(),
        None => Vec::new(),
    };
    json!({
        "time": crate::jobs::now_secs(),
        "requests_total": total,
        "requests_per_s": rate,
        "pages_in_flight": state.cfg.max_pages_in_flight - state.pages.available_permits(),
        "queue_depth": state.waiting.load(std::sync::atomic::Ordering::Relaxed),
        "memory": memory.map(|(used, limit)| json!({"used": used, "limit": limit})),
        "pool": state.started_pool().map(gannet_browser::Pool::metrics),
        "jobs": jobs.iter().map(|j| json!({
            "id": j.id, "kind": j.kind, "status": j.status.as_str(), "done": j.done, "total": j.total,
        })).collect::<Vec<_>>(),
        "recent_errors": state.recent_errors.snapshot(),
    })
}
