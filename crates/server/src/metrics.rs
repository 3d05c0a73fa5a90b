//! Prometheus metrics: requests by route and status with latency histograms, pages,
//! shed requests, queue depth, memory and the browser pool's gauges; and the last few
//! error answers, for the dashboard.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::limits::ClassStats;

/// Errors kept for the dashboard.
const RECENT_ERRORS: usize = 20;

/// The last few error answers (4xx/5xx), newest first.
#[derive(Default)]
pub(crate) struct RecentErrors(Mutex<VecDeque<Value>>);

impl RecentErrors {
    pub(crate) fn push(&self, method: &str, path: &str, status: u16) {
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if let Ok(mut q) = self.0.lock() {
            q.push_front(json!({"at": at, "method": method, "path": path, "status": status}));
            q.truncate(RECENT_ERRORS);
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<Value> {
        self.0
            .lock()
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

impl Histogram {
    fn observe(&mut self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.counts[i] += 1;
            }
        }
        self.sum += secs;
        self.total += 1;
    }

    /// The series of one histogram; `labels` is `key="value",` (or empty).
    fn write(&self, out: &mut String, name: &str, labels: &str) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}le=\"{bound}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {}", self.total);
        let labels = labels.trim_end_matches(',');
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.total);
    }
}

pub(crate) use gannet_crawl::page::Stage;

#[derive(Default)]
pub(crate) struct Metrics {
    /// (route, status) → count.
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// route → latency histogram.
    latency: Mutex<BTreeMap<String, Histogram>>,
    /// Page stages (fetch, extract, render) → latency histogram.
    stages: Mutex<[Histogram; 3]>,
    rendered: AtomicU64,
    render_skipped: AtomicU64,
    shed: AtomicU64,
    /// LLM calls (extraction, answer, summary): prompt and completion tokens, chat
    /// completions answered, calls that failed.
    llm_prompt_tokens: AtomicU64,
    llm_completion_tokens: AtomicU64,
    llm_requests: AtomicU64,
    llm_failures: AtomicU64,
    total: AtomicU64,
}

impl gannet_crawl::page::PageEvents for Metrics {
    fn stage(&self, stage: Stage, elapsed: Duration) {
        Metrics::stage(self, stage, elapsed);
    }

    fn rendered(&self) {
        Metrics::rendered(self);
    }

    fn render_skipped(&self) {
        Metrics::render_skipped(self);
    }

    fn shed(&self) {
        Metrics::shed(self);
    }

    fn llm(&self, usage: Option<&gannet_llm::Usage>) {
        match usage {
            Some(u) => {
                self.llm_prompt_tokens
                    .fetch_add(u.prompt_tokens, Ordering::Relaxed);
                self.llm_completion_tokens
                    .fetch_add(u.completion_tokens, Ordering::Relaxed);
                self.llm_requests
                    .fetch_add(u64::from(u.requests), Ordering::Relaxed);
            }
            None => {
                self.llm_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl Metrics {
    pub(crate) fn requests_total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    pub(crate) fn request(&self, route: &str, status: u16, elapsed: Duration) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((route.to_string(), status)).or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            match l.get_mut(route) {
                Some(h) => h.observe(elapsed),
                None => l.entry(route.to_string()).or_default().observe(elapsed),
            }
        }
    }

    pub(crate) fn stage(&self, stage: Stage, elapsed: Duration) {
        if let Ok(mut s) = self.stages.lock() {
            s[stage as usize].observe(elapsed);
        }
    }

    pub(crate) fn rendered(&self) {
        self.rendered.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn render_skipped(&self) {
        self.render_skipped.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn shed(&self) {
        self.shed.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub(crate) fn render(
        &self,
        pool: Option<&gannet_browser::PoolMetrics>,
        queue_depth: usize,
        pages_in_flight: usize,
        memory: Option<(u64, u64)>,
        classes: &[ClassStats],
        flights: (usize, u64),
    ) -> String {
        let mut out = String::new();
        out.push_str("# HELP gannet_http_requests_total Requests by route and status.\n");
        out.push_str("# TYPE gannet_http_requests_total counter\n");
        if let Ok(r) = self.requests.lock() {
            for ((route, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "gannet_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP gannet_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE gannet_http_request_duration_seconds histogram\n");
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                h.write(
                    &mut out,
                    "gannet_http_request_duration_seconds",
                    &format!("route=\"{route}\","),
                );
            }
        }
        out.push_str("# HELP gannet_page_stage_seconds Time per page stage: fetch (HTTP), extract (decode, parse, extract, Markdown), render (browser).\n");
        out.push_str("# TYPE gannet_page_stage_seconds histogram\n");
        if let Ok(s) = self.stages.lock() {
            for (h, name) in s.iter().zip(["fetch", "extract", "render"]) {
                h.write(
                    &mut out,
                    "gannet_page_stage_seconds",
                    &format!("stage=\"{name}\","),
                );
            }
        }
        type Field = fn(&ClassStats) -> u64;
        let series: [(&str, &str, &str, Field); 4] = [
            (
                "gannet_route_class_in_flight",
                "Requests holding a slot of their route class.",
                "gauge",
                |c| c.in_flight as u64,
            ),
            (
                "gannet_route_class_waiting",
                "Requests waiting for a slot of their route class.",
                "gauge",
                |c| c.waiting as u64,
            ),
            (
                "gannet_route_class_limit",
                "Slots of each route class.",
                "gauge",
                |c| c.limit as u64,
            ),
            (
                "gannet_route_class_rejected_total",
                "Requests refused with 503 by their route class (queue full or deadline).",
                "counter",
                |c| c.rejected,
            ),
        ];
        for (name, help, kind, value) in series {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for c in classes {
                let _ = writeln!(out, "{name}{{class=\"{}\"}} {}", c.class, value(c));
            }
        }
        let gauge = |out: &mut String, name: &str, help: &str, kind: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        gauge(
            &mut out,
            "gannet_pages_rendered_total",
            "Pages rendered in the browser.",
            "counter",
            self.rendered.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut out,
            "gannet_smart_renders_skipped_total",
            "Smart-mode pages that kept their HTTP version (browser busy or render failed).",
            "counter",
            self.render_skipped.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut out,
            "gannet_requests_shed_total",
            "Pages refused with 503 (queue full, deadline, memory).",
            "counter",
            self.shed.load(Ordering::Relaxed).to_string(),
        );
        for (name, help, value) in [
            (
                "gannet_llm_prompt_tokens_total",
                "Prompt tokens the LLM was sent (extraction, answers, summaries).",
                &self.llm_prompt_tokens,
            ),
            (
                "gannet_llm_completion_tokens_total",
                "Completion tokens the LLM answered with.",
                &self.llm_completion_tokens,
            ),
            (
                "gannet_llm_requests_total",
                "Chat completions the LLM answered (chunks, repairs, merges).",
                &self.llm_requests,
            ),
            (
                "gannet_llm_failures_total",
                "LLM calls that gave no value (invalid output, provider errors, timeouts).",
                &self.llm_failures,
            ),
        ] {
            gauge(
                &mut out,
                name,
                help,
                "counter",
                value.load(Ordering::Relaxed).to_string(),
            );
        }
        gauge(
            &mut out,
            "gannet_page_queue_depth",
            "Pages waiting for a slot.",
            "gauge",
            queue_depth.to_string(),
        );
        gauge(
            &mut out,
            "gannet_page_flights",
            "Distinct HTTP-mode pages being produced (identical requests share one).",
            "gauge",
            flights.0.to_string(),
        );
        gauge(
            &mut out,
            "gannet_page_requests_coalesced_total",
            "Page requests that shared an identical request's fetch and extraction.",
            "counter",
            flights.1.to_string(),
        );
        gauge(
            &mut out,
            "gannet_pages_in_flight",
            "Pages being fetched or rendered.",
            "gauge",
            pages_in_flight.to_string(),
        );
        if let Some((used, limit)) = memory {
            gauge(
                &mut out,
                "gannet_memory_used_bytes",
                "Memory in use (cgroup, else host).",
                "gauge",
                used.to_string(),
            );
            gauge(
                &mut out,
                "gannet_memory_limit_bytes",
                "Memory limit (cgroup, else host).",
                "gauge",
                limit.to_string(),
            );
        }
        if let Some(p) = pool {
            out.push_str(
                "# HELP gannet_browsers Browsers alive by tier.\n# TYPE gannet_browsers gauge\n",
            );
            for (tier, n) in [
                ("permanent", p.browsers_permanent),
                ("hot", p.browsers_hot),
                ("cold", p.browsers_cold),
            ] {
                let _ = writeln!(out, "gannet_browsers{{tier=\"{tier}\"}} {n}");
            }
            out.push_str("# HELP gannet_browser_hits_total Renders by pool tier.\n# TYPE gannet_browser_hits_total counter\n");
            for (tier, n) in [
                ("permanent", p.hits_permanent),
                ("hot", p.hits_hot),
                ("cold", p.hits_cold),
            ] {
                let _ = writeln!(out, "gannet_browser_hits_total{{tier=\"{tier}\"}} {n}");
            }
            for (name, help, value) in [
                (
                    "gannet_browser_launches_total",
                    "Browsers started.",
                    p.launches,
                ),
                (
                    "gannet_browser_recycles_total",
                    "Browsers retired (page budget, memory cap, hung tab).",
                    p.recycles,
                ),
                (
                    "gannet_browser_crashes_total",
                    "Browsers found dead.",
                    p.crashes,
                ),
                (
                    "gannet_browser_render_errors_total",
                    "Renders that failed.",
                    p.render_errors,
                ),
            ] {
                gauge(&mut out, name, help, "counter", value.to_string());
            }
            gauge(
                &mut out,
                "gannet_browser_queue_depth",
                "Renders waiting for a browser slot.",
                "gauge",
                p.queue_depth.to_string(),
            );
            gauge(
                &mut out,
                "gannet_browser_memory_bytes",
                "Memory (PSS) of every browser process tree.",
                "gauge",
                p.rss_bytes.to_string(),
            );
        }
        out
    }
}
