//! Job routes in three dialects over one store ([`crate::jobs`]):
//! - ours: `POST /jobs` (`urls` for a batch, `crawl` for a site), `GET /jobs/{id}`,
//!   `GET /jobs/{id}/results?cursor=&limit=` (keyset pages), `GET /jobs/{id}/results.ndjson`
//!   (every result, streamed page by page), `DELETE /jobs/{id}`;
//! - crawl4ai: `POST /crawl/job`, `GET /crawl/job/{id}`;
//! - Firecrawl: `POST /v1|v2/crawl`, `GET /v1|v2/crawl/{id}` (with `next`), `DELETE`,
//!   and `POST /v1|v2/map`.
//!
//! Runners: a batch fetches its URLs through the page service, a crawl runs the crawl
//! engine (robots.txt, politeness, scope) into a JSONL file that a follower turns into
//! results as it grows. Both pick up where they were after a restart.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::jobs::{Job, JobStore, MAX_PAGE_ITEMS, Status, valid_id};
use crate::page::{PageRequest, get_page, parse_url};
use crate::state::AppState;

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// Most pages a crawl job may ask for.
const MAX_CRAWL_PAGES: u64 = 10_000;
/// Longest crawl record the follower reads (one page's JSON line).
const MAX_LINE: u64 = 256 << 20;
/// Pages of one batch fetched at once.
const BATCH_CONCURRENCY: usize = 8;
/// Pages in flight in one crawl job (per host, the engine's politeness limit applies).
const MAX_CRAWL_CONCURRENCY: usize = 16;

fn store(state: &AppState) -> Result<&Arc<JobStore>, ApiError> {
    state.jobs.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_job_store",
            "jobs are unavailable: the server has no data directory",
        )
    })
}

async fn job_or_404(state: &AppState, id: &str) -> Result<Job, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "job_not_found",
            format!("no job {id}"),
        )
    };
    if !valid_id(id) {
        return Err(not_found());
    }
    store(state)?.get(id).await?.ok_or_else(not_found)
}

// ---------------------------------------------------------------------------------------
// Runners
// ---------------------------------------------------------------------------------------

/// Starts (or resumes) a job's runner.
pub(crate) fn spawn_runner(state: Arc<AppState>, job: Job) {
    let alive = crate::state::Runners::enter(&state);
    tokio::spawn(async move {
        let _alive = alive;
        let result = match job.kind.as_str() {
            "crawl" => run_crawl(&state, &job).await,
            _ => run_batch(&state, &job).await,
        };
        if let (Err(e), Ok(store)) = (result, store(&state)) {
            let _ = store
                .set_status(&job.id, Status::Failed, Some(e.message))
                .await;
        }
    });
}

/// Completes when the server begins to shut down.
async fn closed(closing: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = closing.wait_for(|c| *c).await;
}

async fn cancelled(state: &AppState, id: &str) -> bool {
    match store(state) {
        Ok(s) => s
            .get(id)
            .await
            .ok()
            .flatten()
            .is_none_or(|j| j.status == Status::Cancelled),
        Err(_) => true,
    }
}

async fn run_batch(state: &Arc<AppState>, job: &Job) -> Result<(), ApiError> {
    let store = store(state)?.clone();
    store.set_status(&job.id, Status::Running, None).await?;
    let urls: Vec<String> = job.request["urls"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let done = store.done_urls(&job.id).await?;
    let todo: Vec<String> = urls.into_iter().filter(|u| !done.contains(u)).collect();
    let (browser, crawler) = (
        job.request["browser_config"].clone(),
        job.request["crawler_config"].clone(),
    );
    let template = crate::crawl4ai::page_template(state, &browser, &crawler)?;
    let mut results = futures_util::stream::iter(todo)
        .map(|raw| {
            let (state, mut page) = (state.clone(), template.clone());
            async move {
                let result = match parse_url(&raw) {
                    Ok(url) => {
                        page.url = url;
                        get_page(&state, page).await
                    }
                    Err(e) => Err(crate::page::PageError {
                        status: None,
                        message: e.message,
                        busy: false,
                    }),
                };
                let ok = result.is_ok();
                (
                    raw.clone(),
                    ok,
                    crate::crawl4ai::crawl_result(&raw, result).to_string(),
                )
            }
        })
        .buffer_unordered(BATCH_CONCURRENCY);
    let mut closing = state.closing.subscribe();
    loop {
        let row = tokio::select! {
            row = results.next() => row,
            // Shutdown: every finished page is stored; the pages in flight are dropped and
            // fetched again when the job resumes at the next start (status stays running).
            _ = closed(&mut closing) => return Ok(()),
        };
        let Some(row) = row else { break };
        store.add_results(&job.id, vec![row], None).await?;
        if cancelled(state, &job.id).await {
            return Ok(());
        }
    }
    store.set_status(&job.id, Status::Completed, None).await
}

async fn run_crawl(state: &Arc<AppState>, job: &Job) -> Result<(), ApiError> {
    let store = store(state)?.clone();
    let r = &job.request;
    let seed = parse_url(r["url"].as_str().unwrap_or_default())?;
    state.check_url(&seed).map_err(ApiError::bad_request)?;
    let dir = store.job_dir(&job.id);
    let out = dir.join("out.jsonl");
    let state_dir = dir.join("state");
    let resume = state_dir.join("frontier.sqlite").exists();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut config =
        gannet_crawl::CrawlConfig::new(vec![seed], out.clone(), gannet_sink::Format::Jsonl);
    config.state_dir = Some(state_dir);
    config.resume = resume;
    config.max_pages = Some(r["limit"].as_u64().unwrap_or(100).clamp(1, MAX_CRAWL_PAGES));
    config.sitemaps = r["sitemaps"].as_bool().unwrap_or(true);
    config.scope.max_depth = r["max_depth"].as_u64().map(|d| d.min(100) as u32);
    config.scope.include = strings(&r["include"]);
    config.scope.exclude = strings(&r["exclude"]);
    config.scope.kind = match r["scope"].as_str() {
        Some("domain") => gannet_frontier::ScopeKind::Domain,
        Some("prefix") => gannet_frontier::ScopeKind::Prefix,
        Some("any") => gannet_frontier::ScopeKind::Any,
        _ => gannet_frontier::ScopeKind::Host,
    };
    config.concurrency = r["concurrency"]
        .as_u64()
        .map_or(MAX_CRAWL_CONCURRENCY, |n| {
            (n as usize).clamp(1, MAX_CRAWL_CONCURRENCY)
        });
    config.fetch.max_body_bytes = state.cfg.max_page_bytes;
    config.fetch.timeout = r["timeout_ms"]
        .as_u64()
        .map_or(state.cfg.page_timeout, |ms| {
            Duration::from_millis(ms.max(1)).min(state.cfg.max_page_timeout)
        });
    // A client may ask for more politeness than the operator's delay, never less.
    config.min_delay = state
        .cfg
        .crawl_delay
        .max(Duration::from_millis(r["delay_ms"].as_u64().unwrap_or(0)));
    config.fetch.allow_private = state.cfg.allow_private;
    store.set_status(&job.id, Status::Running, None).await?;
    let crawl = gannet_crawl::Crawl::open(config)
        .await
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut run = tokio::spawn(crawl.run(stop_rx));
    let mut offset = job.offset.max(0) as u64;
    let mut closing = state.closing.subscribe();
    let mut stopping = false;
    let outcome = loop {
        tokio::select! {
            finished = &mut run => break finished,
            // Shutdown: the engine stops like an interrupted crawl (in-flight pages back to
            // the frontier, sink and frontier committed together), so the job resumes at
            // the next start with nothing lost and nothing written twice.
            _ = closed(&mut closing), if !stopping => {
                stopping = true;
                let _ = stop_tx.send(true);
            }
            _ = tokio::time::sleep(Duration::from_millis(300)) => {
                offset = follow(&store, &job.id, &out, offset).await?;
                if cancelled(state, &job.id).await {
                    let _ = stop_tx.send(true);
                }
            }
        }
    };
    follow(&store, &job.id, &out, offset).await?;
    if cancelled(state, &job.id).await {
        return Ok(());
    }
    match outcome {
        // Stopped by the shutdown: still running, resumed at the next start.
        Ok(Ok(summary)) if summary.stop == gannet_crawl::StopReason::Interrupted => Ok(()),
        Ok(Ok(_)) => {
            let done = store.get(&job.id).await?.map_or(0, |j| j.done);
            store.set_total(&job.id, done).await?;
            store.set_status(&job.id, Status::Completed, None).await
        }
        Ok(Err(e)) => {
            store
                .set_status(&job.id, Status::Failed, Some(e.to_string()))
                .await
        }
        Err(e) => {
            store
                .set_status(&job.id, Status::Failed, Some(e.to_string()))
                .await
        }
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Turns the complete lines the crawl wrote after `offset` into results; returns the new
/// offset. Bounded: at most 4 MiB per call.
async fn follow(
    store: &Arc<JobStore>,
    id: &str,
    out: &std::path::Path,
    offset: u64,
) -> Result<u64, ApiError> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let Ok(mut file) = tokio::fs::File::open(out).await else {
        return Ok(offset);
    };
    let len = file.metadata().await.map_or(0, |m| m.len());
    if len <= offset {
        return Ok(offset);
    }
    let mut offset = offset;
    let mut window: u64 = 4 << 20;
    loop {
        let want = (len - offset).min(window) as usize;
        if want == 0 {
            return Ok(offset);
        }
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let mut buf = vec![0u8; want];
        file.read_exact(&mut buf)
            .await
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let Some(end) = buf.iter().rposition(|&b| b == b'\n') else {
            if (want as u64) < window {
                // The last line is still being written: take it next time.
                return Ok(offset);
            }
            // One line longer than the window (a huge page): widen it. A line is one
            // page's record, bounded by the crawl's body cap times the record's expansion.
            window = window.saturating_mul(2).min(MAX_LINE);
            if window == MAX_LINE && want as u64 == MAX_LINE {
                return Err(ApiError::bad_request(
                    "a crawl record is larger than 256 MiB",
                ));
            }
            continue;
        };
        window = 4 << 20;
        let mut rows = Vec::new();
        for line in buf[..end].split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let text = String::from_utf8_lossy(line).into_owned();
            let url = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["url"].as_str().map(str::to_owned))
                .unwrap_or_default();
            rows.push((url, true, text));
        }
        offset += end as u64 + 1;
        store.add_results(id, rows, Some(offset as i64)).await?;
    }
}

// ---------------------------------------------------------------------------------------
// Our own API
// ---------------------------------------------------------------------------------------

/// A job: a batch of URLs, or a crawl.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct JobRequest {
    /// A batch: these URLs, each fetched (or rendered) and extracted.
    #[serde(default)]
    urls: Vec<String>,
    /// A crawl: `{"url", "limit", "max_depth", "include", "exclude", "sitemaps", "scope"
    /// (host (default) | domain | prefix | any), "delay_ms", "concurrency"}` run by the
    /// crawl engine (robots.txt, politeness and scope apply; the delay never goes below
    /// the server's, concurrency never above 16).
    #[serde(default)]
    crawl: Option<Value>,
    /// crawl4ai's BrowserConfig for a batch.
    #[serde(default)]
    browser_config: Value,
    /// crawl4ai's CrawlerRunConfig for a batch.
    #[serde(default)]
    crawler_config: Value,
}

pub(crate) async fn create_job(
    State(state): State<Arc<AppState>>,
    body: Body<JobRequest>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let id = submit_job(&state, req).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"id": id, "status": "queued"})),
    )
        .into_response())
}

/// Validates a job, stores it and starts its runner; returns its id.
async fn submit_job(state: &Arc<AppState>, req: JobRequest) -> Result<String, ApiError> {
    let (kind, request, total) = match (&req.crawl, req.urls.is_empty()) {
        (Some(crawl), true) => {
            let url = parse_url(crawl["url"].as_str().unwrap_or_default())?;
            state.check_url(&url).map_err(ApiError::bad_request)?;
            ("crawl", crawl.clone(), 0)
        }
        (None, false) => {
            if req.urls.len() > state.cfg.max_job_urls {
                return Err(ApiError::bad_request(format!(
                    "{} URLs: at most {} per job",
                    req.urls.len(),
                    state.cfg.max_job_urls
                )));
            }
            for u in &req.urls {
                parse_url(u)?;
            }
            // Options are checked now, not when the runner starts.
            crate::crawl4ai::page_template(state, &req.browser_config, &req.crawler_config)?;
            let n = req.urls.len() as i64;
            (
                "batch",
                json!({"urls": req.urls, "browser_config": req.browser_config, "crawler_config": req.crawler_config}),
                n,
            )
        }
        _ => {
            return Err(ApiError::bad_request(
                "give either urls (a batch) or crawl (a site crawl)",
            ));
        }
    };
    let store = store(state)?;
    let id = store
        .create(kind, request, total, state.cfg.job_ttl)
        .await?;
    if let Some(job) = store.get(&id).await? {
        spawn_runner(state.clone(), job);
    }
    Ok(id)
}

fn job_json(job: &Job) -> Value {
    json!({
        "id": job.id,
        "kind": job.kind,
        "status": job.status.as_str(),
        "total": job.total,
        "done": job.done,
        "created_at": job.created_at,
        "expires_at": job.expires_at,
        "error": job.error,
    })
}

pub(crate) async fn get_job(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(job_json(&job_or_404(&state, &id).await?)))
}

/// Keyset pagination of job results.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct PageQuery {
    /// The `next_cursor` of the previous page (absent: from the start).
    #[serde(default)]
    cursor: Option<i64>,
    /// Results a page, at most 100 (and 8 MiB).
    #[serde(default)]
    limit: Option<usize>,
}

pub(crate) async fn job_results(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let job = job_or_404(&state, &id).await?;
    let (rows, next) = store(&state)?
        .results_page(
            &job.id,
            q.cursor.unwrap_or(0),
            q.limit.unwrap_or(MAX_PAGE_ITEMS),
        )
        .await?;
    let results: Vec<Value> = rows
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap_or(Value::Null))
        .collect();
    Ok(Json(json!({
        "status": job.status.as_str(),
        "results": results,
        "next_cursor": next,
    })))
}

/// Every result as NDJSON, read from the store one page at a time.
pub(crate) async fn job_results_ndjson(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = job_or_404(&state, &id).await?;
    let store = store(&state)?.clone();
    let pages = futures_util::stream::unfold(Some(0i64), move |cursor| {
        let (store, id) = (store.clone(), job.id.clone());
        async move {
            let cursor = cursor?;
            match store.results_page(&id, cursor, MAX_PAGE_ITEMS).await {
                Ok((rows, next)) => {
                    let mut chunk = Vec::new();
                    for r in rows {
                        chunk.extend_from_slice(r.body.as_bytes());
                        chunk.push(b'\n');
                    }
                    Some((
                        Ok::<_, std::convert::Infallible>(bytes::Bytes::from(chunk)),
                        next,
                    ))
                }
                Err(_) => None,
            }
        }
    });
    let mut response = axum::body::Body::from_stream(pages).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(response)
}

pub(crate) async fn cancel_job(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = job_or_404(&state, &id).await?;
    if !job.status.finished() {
        store(&state)?
            .set_status(&job.id, Status::Cancelled, None)
            .await?;
    }
    Ok(Json(json!({"success": true, "status": "cancelled"})))
}

// ---------------------------------------------------------------------------------------
// crawl4ai
// ---------------------------------------------------------------------------------------

pub(crate) async fn crawl4ai_job(
    State(state): State<Arc<AppState>>,
    body: Body<JobRequest>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    if req.urls.is_empty() || req.urls.len() > state.cfg.max_urls {
        return Err(ApiError::bad_request(format!(
            "give 1 to {} URLs",
            state.cfg.max_urls
        )));
    }
    let id = submit_job(&state, req).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"task_id": id}))).into_response())
}

pub(crate) async fn crawl4ai_job_status(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = job_or_404(&state, &id).await?;
    let status = match job.status {
        Status::Completed => "completed",
        Status::Failed | Status::Cancelled => "failed",
        _ => "processing",
    };
    let mut out = json!({"status": status, "created_at": job.created_at, "task_id": job.id});
    if job.status == Status::Completed {
        // At most max_urls results (≤ 100 by default): bounded.
        let mut results = Vec::new();
        let mut cursor = 0;
        loop {
            let (rows, next) = store(&state)?
                .results_page(&job.id, cursor, MAX_PAGE_ITEMS)
                .await?;
            results.extend(
                rows.iter()
                    .map(|r| serde_json::from_str::<Value>(&r.body).unwrap_or(Value::Null)),
            );
            match next {
                Some(n) => cursor = n,
                None => break,
            }
        }
        // crawl4ai orders results as the URLs were given.
        let order: Vec<&str> = job.request["urls"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        results.sort_by_key(|r| {
            order
                .iter()
                .position(|u| Some(*u) == r["url"].as_str())
                .unwrap_or(usize::MAX)
        });
        out["result"] = json!({"success": true, "results": results});
    }
    if let Some(e) = &job.error {
        out["error"] = json!(e);
    }
    Ok(Json(out))
}

// ---------------------------------------------------------------------------------------
// Firecrawl
// ---------------------------------------------------------------------------------------

fn base_url(headers: &HeaderMap, state: &AppState) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| state.cfg.listen.to_string(), str::to_owned);
    format!("http://{host}")
}

pub(crate) async fn firecrawl_crawl(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Body<Value>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    let (crawl, unsupported) = firecrawl_crawl_request(&req);
    let request = JobRequest {
        urls: Vec::new(),
        crawl: Some(crawl),
        browser_config: Value::Null,
        crawler_config: Value::Null,
    };
    let id = submit_job(&state, request).await?;
    let version = if uri.path().starts_with("/v2") {
        "v2"
    } else {
        "v1"
    };
    let mut answer = json!({
        "success": true,
        "id": id,
        "url": format!("{}/{version}/crawl/{id}", base_url(&headers, &state)),
    });
    if !unsupported.is_empty() {
        answer["warning"] = json!(format!(
            "not supported, ignored: {}",
            unsupported.join(", ")
        ));
    }
    Ok(Json(answer))
}

/// A Firecrawl crawl request as our crawl job, and the options we cannot honour (named in
/// the answer's `warning`, never dropped silently).
fn firecrawl_crawl_request(req: &Value) -> (Value, Vec<String>) {
    let mut unsupported = Vec::new();
    let flag = |key: &str| req[key].as_bool() == Some(true);
    // Firecrawl follows only the pages below the start URL unless told otherwise.
    let scope = if flag("allowExternalLinks") {
        "any"
    } else if flag("allowSubdomains") {
        "domain"
    } else if flag("crawlEntireDomain") || flag("allowBackwardLinks") {
        "host"
    } else {
        "prefix"
    };
    if let Some(obj) = req.as_object() {
        for (key, value) in obj {
            match key.as_str() {
                "url" | "limit" | "maxDepth" | "maxDiscoveryDepth" | "includePaths"
                | "excludePaths" | "sitemap" | "ignoreSitemap" | "allowExternalLinks"
                | "allowSubdomains" | "crawlEntireDomain" | "allowBackwardLinks" | "delay"
                | "maxConcurrency" | "scrapeOptions" | "origin" | "integration" => {}
                // Their defaults are what we do.
                "ignoreQueryParameters"
                | "deduplicateSimilarURLs"
                | "ignoreRobotsTxt"
                | "zeroDataRetention"
                    if value.as_bool() == Some(false) => {}
                "regexOnFullURL" if value.is_boolean() => {}
                other => unsupported.push(other.to_string()),
            }
        }
    }
    let scrape = &req["scrapeOptions"];
    if let Some(obj) = scrape.as_object() {
        for (key, value) in obj {
            match key.as_str() {
                "formats" => {
                    for f in value.as_array().into_iter().flatten() {
                        let name = f.as_str().or_else(|| f["type"].as_str()).unwrap_or("?");
                        if !matches!(name, "markdown" | "links") {
                            unsupported.push(format!("scrapeOptions.formats {name}"));
                        }
                    }
                }
                // Crawl jobs give the main content, as Firecrawl's default.
                "onlyMainContent" if value.as_bool() != Some(false) => {}
                // Nothing is cached and no ads are fetched (no browser): what these ask.
                "storeInCache" | "maxAge" | "blockAds" | "removeBase64Images" => {}
                "mobile" | "skipTlsVerification" | "fastMode" if value.as_bool() != Some(true) => {}
                "timeout" if value.is_u64() => {}
                other => unsupported.push(format!("scrapeOptions.{other}")),
            }
        }
    }
    // Firecrawl matches its path patterns against the URL's path unless `regexOnFullURL`;
    // our scope matches the whole URL, so a pattern anchored at the path's start is
    // anchored after the scheme and host instead.
    let on_path = req["regexOnFullURL"].as_bool() != Some(true);
    let patterns = |key: &str| -> Vec<String> {
        strings(&req[key])
            .into_iter()
            .map(|p| match p.strip_prefix('^') {
                Some(rest) if on_path => format!("^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]+{rest}"),
                _ => p,
            })
            .collect()
    };
    let crawl = json!({
        "url": req["url"].as_str().unwrap_or_default(),
        "limit": req["limit"].as_u64().unwrap_or(10_000),
        "max_depth": req.get("maxDiscoveryDepth").or_else(|| req.get("maxDepth")).and_then(Value::as_u64),
        "include": patterns("includePaths"),
        "exclude": patterns("excludePaths"),
        "sitemaps": req["sitemap"].as_str() != Some("skip") && req["ignoreSitemap"].as_bool() != Some(true),
        "scope": scope,
        "delay_ms": req["delay"].as_f64().map(|s| (s.clamp(0.0, 3600.0) * 1000.0) as u64),
        "concurrency": req["maxConcurrency"].as_u64(),
        "timeout_ms": scrape["timeout"].as_u64(),
        "scrape_options": req["scrapeOptions"],
    });
    (crawl, unsupported)
}

/// A crawl result (a JSONL line of the engine) as a Firecrawl document.
fn firecrawl_doc(line: &Value, formats: &[String]) -> Value {
    let mut doc = serde_json::Map::new();
    for f in formats {
        match f.as_str() {
            "markdown" => {
                doc.insert("markdown".into(), line["markdown"].clone());
            }
            "links" => {
                let links: Vec<Value> = line["links"]
                    .as_array()
                    .map(|a| a.iter().map(|l| l["href"].clone()).collect())
                    .unwrap_or_default();
                doc.insert("links".into(), Value::Array(links));
            }
            _ => {}
        }
    }
    doc.insert(
        "metadata".into(),
        json!({
            "title": line["title"],
            "description": line["excerpt"],
            "language": line["lang"],
            "sourceURL": line["url"],
            "url": line["url"],
            "statusCode": line["status"],
            "contentType": line["content_type"],
        }),
    );
    Value::Object(doc)
}

pub(crate) async fn firecrawl_crawl_status(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let job = job_or_404(&state, &id).await?;
    let formats: Vec<String> = job.request["scrape_options"]["formats"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().or_else(|| f["type"].as_str()).map(str::to_owned))
                .collect()
        })
        .filter(|v: &Vec<String>| !v.is_empty())
        .unwrap_or_else(|| vec!["markdown".into()]);
    let (rows, next) = store(&state)?
        .results_page(
            &job.id,
            q.cursor.unwrap_or(0),
            q.limit.unwrap_or(MAX_PAGE_ITEMS),
        )
        .await?;
    let data: Vec<Value> = rows
        .iter()
        .map(|r| {
            firecrawl_doc(
                &serde_json::from_str(&r.body).unwrap_or(Value::Null),
                &formats,
            )
        })
        .collect();
    let status = match job.status {
        Status::Completed => "completed",
        Status::Failed => "failed",
        Status::Cancelled => "cancelled",
        _ => "scraping",
    };
    let version = if uri.path().starts_with("/v2") {
        "v2"
    } else {
        "v1"
    };
    let next = next.map(|n| {
        format!(
            "{}/{version}/crawl/{}?cursor={n}",
            base_url(&headers, &state),
            job.id
        )
    });
    let expires = crate::jobs::now_secs().max(job.expires_at);
    Ok(Json(json!({
        "success": true,
        "status": status,
        "total": job.total.max(job.done),
        "completed": job.done,
        "creditsUsed": job.done,
        "expiresAt": rfc3339(expires),
        "next": next,
        "data": data,
    })))
}

fn rfc3339(secs: i64) -> String {
    gannet_sink::rfc3339_millis(std::time::UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64))
}

pub(crate) async fn firecrawl_cancel(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    cancel_job(State(state), Path(id)).await
}

/// `POST /v1|v2/map`: the site's URLs from its sitemaps and the links of its start page,
/// without crawling.
pub(crate) async fn firecrawl_map(
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
    body: Body<Value>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    let url = parse_url(req["url"].as_str().unwrap_or_default())?;
    state.check_url(&url).map_err(ApiError::bad_request)?;
    let limit = req["limit"].as_u64().unwrap_or(5_000).clamp(1, 100_000) as usize;
    let search = req["search"].as_str().map(str::to_lowercase);
    let mut links: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |u: String, links: &mut Vec<String>| {
        if links.len() < limit
            && search.as_ref().is_none_or(|s| u.to_lowercase().contains(s))
            && seen.insert(u.clone())
        {
            links.push(u);
        }
    };
    push(url.to_string(), &mut links);
    let page = get_page(
        &state,
        PageRequest::new(url.clone(), state.cfg.page_timeout),
    )
    .await;
    if let Ok(p) = &page {
        for l in p.doc.links.iter().filter(|l| l.internal) {
            push(
                l.href.split('#').next().unwrap_or_default().to_string(),
                &mut links,
            );
        }
    }
    if req["sitemap"].as_str() != Some("skip") && req["ignoreSitemap"].as_bool() != Some(true) {
        let root = url
            .join("/sitemap.xml")
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let robots = state.fetcher.fetch_robots(&url).await;
        let mut roots: Vec<url::Url> = robots.sitemaps().to_vec();
        if roots.is_empty() {
            roots.push(root);
        }
        let found = state.fetcher.fetch_sitemaps(&roots, limit).await;
        for u in found.urls {
            push(u.loc.to_string(), &mut links);
        }
    }
    if uri.path().starts_with("/v2") {
        let links: Vec<Value> = links.into_iter().map(|u| json!({"url": u})).collect();
        Ok(Json(json!({"success": true, "links": links})))
    } else {
        Ok(Json(json!({"success": true, "links": links})))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firecrawl_path_patterns_match_the_path_and_unknown_options_are_named() {
        let (crawl, unsupported) = firecrawl_crawl_request(&json!({
            "url": "https://example.com/docs/",
            "includePaths": ["^/docs/.*", "blog"],
            "excludePaths": ["^/docs/old$"],
            "webhook": "https://example.com/hook",
            "scrapeOptions": {"formats": ["markdown", {"type": "html"}], "onlyMainContent": false},
        }));
        let include = regex::RegexSet::new(strings(&crawl["include"])).unwrap();
        assert!(include.is_match("https://example.com/docs/a"));
        assert!(include.is_match("https://example.com/x/blog/1"));
        assert!(!include.is_match("https://example.com/api/docs/a"));
        let exclude = regex::RegexSet::new(strings(&crawl["exclude"])).unwrap();
        assert!(exclude.is_match("http://example.com:8080/docs/old"));
        assert_eq!(crawl["scope"], "prefix");
        assert_eq!(
            unsupported,
            [
                "webhook",
                "scrapeOptions.formats html",
                "scrapeOptions.onlyMainContent"
            ]
        );
        // Full-URL patterns stay as given.
        let (crawl, unsupported) = firecrawl_crawl_request(&json!({
            "url": "https://example.com/",
            "includePaths": ["^https://example\\.com/a"],
            "regexOnFullURL": true,
            "crawlEntireDomain": true,
        }));
        assert_eq!(crawl["include"], json!(["^https://example\\.com/a"]));
        assert_eq!(crawl["scope"], "host");
        assert!(unsupported.is_empty(), "{unsupported:?}");
    }
}
