//! The operator's views: `/metrics` (Prometheus text) and `/dashboard`, one static page
//! that follows `/dashboard/events`, a server-sent event stream with a snapshot every
//! second — request rate, pages in flight, queue depths, memory, the browser pool's tiers
//! and counters, recent jobs and recent errors. A cluster replica adds every replica's
//! heartbeat (address, load, pool tiers, memory) and the cluster's jobs.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures_util::Stream;
use serde_json::{Value, json};

use crate::limits::ClassLimits;
use crate::metrics::{Metrics, RecentErrors};
use crate::page::PageService;
use crate::runner::Jobs;
use crate::shutdown::Closing;

const PAGE: &str = include_str!("../assets/dashboard.html");

pub(crate) async fn page() -> impl IntoResponse {
    Html(PAGE)
}

/// `GET /metrics`: the Prometheus text exposition.
pub(crate) async fn metrics(
    State(jobs): State<Arc<Jobs>>,
    State(metrics): State<Arc<Metrics>>,
    State(pages): State<Arc<PageService>>,
    State(classes): State<Arc<ClassLimits>>,
) -> Response {
    let pool = pages.started_pool().map(gannet_browser::Pool::metrics);
    let memory = gannet_browser::memory::MemoryProbe::default()
        .read()
        .map(|r| (r.used, r.limit));
    let text = metrics.render(
        pool.as_ref(),
        pages.waiting(),
        pages.in_flight(),
        memory,
        &classes.stats(),
        pages.flight_stats(),
    );
    // A replica's own metrics, plus a few cluster gauges (each replica is scraped).
    let text = match &jobs.cluster {
        Some(cluster) => match cluster.view(Duration::from_secs(1)).await {
            Ok(view) => text + &view.prometheus(),
            Err(_) => text,
        },
        None => text,
    };
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        text,
    )
        .into_response()
}

/// What a dashboard snapshot reads.
#[derive(Clone)]
struct Sources {
    metrics: Arc<Metrics>,
    pages: Arc<PageService>,
    jobs: Arc<Jobs>,
    errors: Arc<RecentErrors>,
}

pub(crate) async fn events(
    State(metrics): State<Arc<Metrics>>,
    State(pages): State<Arc<PageService>>,
    State(jobs): State<Arc<Jobs>>,
    State(errors): State<Arc<RecentErrors>>,
    State(closing): State<Closing>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let sources = Sources {
        metrics,
        pages,
        jobs,
        errors,
    };
    let stream = futures_util::stream::unfold(
        (sources, None::<(std::time::Instant, u64)>, true),
        |(sources, last, first)| async move {
            if !first {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            let now = std::time::Instant::now();
            let total = sources.metrics.requests_total();
            let rate = last.map_or(0.0, |(t, n)| {
                (total.saturating_sub(n)) as f64 / now.duration_since(t).as_secs_f64().max(1e-3)
            });
            let snapshot = snapshot(&sources, total, rate).await;
            let event = Event::default().data(snapshot.to_string());
            Some((Ok(event), (sources, Some((now, total)), false)))
        },
    );
    let stream = futures_util::StreamExt::take_until(stream, closing.closed());
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn snapshot(s: &Sources, total: u64, rate: f64) -> Value {
    let memory = s.pages.memory_reading();
    let jobs = match s.jobs.store_if_any() {
        Some(store) => store.recent(10).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let cluster = match &s.jobs.cluster {
        Some(c) => Some(match c.view(Duration::from_secs(1)).await {
            Ok(view) => view.to_json(),
            Err(_) => json!({"redis": "unreachable"}),
        }),
        None => None,
    };
    json!({
        "cluster": cluster,
        "time": crate::jobs::now_secs(),
        "requests_total": total,
        "requests_per_s": rate,
        "pages_in_flight": s.pages.in_flight(),
        "queue_depth": s.pages.waiting(),
        "memory": memory.map(|(used, limit)| json!({"used": used, "limit": limit})),
        "pool": s.pages.started_pool().map(gannet_browser::Pool::metrics),
        "jobs": jobs.iter().map(|j| json!({
            "id": j.id, "kind": j.kind, "status": j.status.as_str(), "done": j.done, "total": j.total,
        })).collect::<Vec<_>>(),
        "recent_errors": s.errors.snapshot(),
    })
}
