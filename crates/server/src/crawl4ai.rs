//! The crawl4ai dialect: `/crawl`, `/crawl/stream`, `/md`, `/html`, `/screenshot`, `/pdf`,
//! `/execute_js`, `/token`, `/schema` — the paths, bodies and `CrawlResult` shapes of
//! crawl4ai's Docker server, so its clients only change the base URL.
//!
//! Configs arrive in crawl4ai's serialized form (`{"type": "CrawlerRunConfig", "params":
//! {...}}`, non-default parameters only). The ones we support are honoured; the others are
//! listed in the answer's `unsupported_options` instead of being dropped silently.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use gannet_browser::Screenshot;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::config::ServerConfig;
use crate::crawl4ai_model::{Options, crawl_result, options};
use crate::error::{ApiError, Body};
use crate::jobs::{MAX_PAGE_ITEMS, Status};
use crate::page::body::WithText;
use crate::page::extraction::{check_llm, extraction_api_error, keep_schema_order};
use crate::page::{
    Extraction, Focus, IntoApi, LlmInput, PageError, PageRequest, PageService, RenderPolicy,
    get_page, parse_url,
};
use crate::runner::{BatchSpec, JobSpec, Jobs};

/// crawl4ai's crawl request.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct CrawlRequest {
    /// Absolute http(s) URLs, at most the server's max_urls (default 100).
    urls: Vec<String>,
    /// crawl4ai's BrowserConfig, `{"type": "BrowserConfig", "params": {...}}` or the params
    /// alone: viewport_width, viewport_height, user_agent, text_mode, light_mode.
    #[serde(default)]
    browser_config: Value,
    /// crawl4ai's CrawlerRunConfig: stream, screenshot, pdf, js_code, wait_for,
    /// wait_until, page_timeout, session_id, …; anything else is listed in the answer's
    /// unsupported_options.
    #[serde(default)]
    crawler_config: Value,
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// gannet's `render` field: never (HTTP only), auto (smart mode), always.
fn render_mode(mode: &str) -> Result<RenderPolicy, ApiError> {
    match mode {
        "never" => Ok(RenderPolicy::Never),
        "auto" => Ok(RenderPolicy::Auto),
        "always" => Ok(RenderPolicy::Always),
        _ => Err(ApiError::bad_request(format!(
            "render {mode:?}: use never, auto or always"
        ))),
    }
}

/// Top-level fields beside the configs: gannet's `render` (never, auto, always) and
/// crawl4ai's own extras (reported as unsupported).
fn extension_options(opts: &mut Options, other: &Map<String, Value>) -> Result<(), ApiError> {
    for (key, value) in other {
        match (key.as_str(), value.as_str()) {
            ("render", Some(mode)) => opts.template.render = render_mode(mode)?,
            // crawl4ai's defaults for these are what we do.
            ("headless", _) | ("anti_bot_strategy", Some("default")) => {}
            _ => opts.unsupported.push(key.clone()),
        }
    }
    Ok(())
}

/// An `extraction_strategy`'s LLM schema as the client wrote it, and a clear 400 when
/// it needs an LLM this server does not have.
fn prepare_extraction(
    pages: &PageService,
    opts: &mut Options,
    body: &[u8],
) -> Result<(), ApiError> {
    const STRATEGY: [&str; 3] = ["extraction_strategy", "params", "schema"];
    let wrapped = [&["crawler_config", "params"][..], &STRATEGY[..]].concat();
    let bare = [&["crawler_config"][..], &STRATEGY[..]].concat();
    keep_schema_order(&mut opts.template, body, &bare);
    keep_schema_order(&mut opts.template, body, &wrapped);
    check_llm(pages, &opts.template)
}

/// The request's URLs, parsed; a URL whose host is a refused address literal (or
/// `localhost`) fails the whole request as an invalid one does (403 `forbidden_address`).
fn check_urls(
    cfg: &ServerConfig,
    pages: &PageService,
    urls: &[String],
) -> Result<Vec<url::Url>, ApiError> {
    if urls.is_empty() {
        return Err(ApiError::bad_request("At least one URL required"));
    }
    if urls.len() > cfg.max_urls {
        return Err(ApiError::bad_request(format!(
            "{} URLs: at most {} per request (use a crawl job for more)",
            urls.len(),
            cfg.max_urls
        )));
    }
    urls.iter()
        .map(|u| {
            let url = parse_url(u)?;
            pages.check_url(&url).map_err(PageError::into_api)?;
            Ok(url)
        })
        .collect()
}

/// `POST /crawl`: every URL, results in order.
pub(crate) async fn crawl(
    State(cfg): State<Arc<ServerConfig>>,
    State(pages): State<Arc<PageService>>,
    body: WithText<CrawlRequest>,
) -> Result<Response, ApiError> {
    let WithText { body, text } = body;
    let Json(req) = body?;
    let started = Instant::now();
    let urls = check_urls(&cfg, &pages, &req.urls)?;
    let mut opts = options(&cfg, &req.browser_config, &req.crawler_config)?;
    extension_options(&mut opts, &req.other)?;
    prepare_extraction(&pages, &mut opts, &text)?;
    if opts.stream {
        return Ok(stream_response(pages, urls, req.urls, opts).into_response());
    }
    // The pages run as tasks, aborted if this answer is dropped (the client went away, or
    // an MCP call was cancelled).
    let mut tasks = AbortOnDrop(
        urls.into_iter()
            .map(|url| {
                let (pages, mut page) = (pages.clone(), opts.template.clone());
                page.url = url;
                tokio::spawn(async move { get_page(&pages, page).await })
            })
            .collect(),
    );
    let mut results = Vec::with_capacity(tasks.0.len());
    for (task, url) in tasks.0.iter_mut().zip(&req.urls) {
        let page = task.await.map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })?;
        // An overloaded service answers 503 for the whole request.
        if let Err(e) = &page
            && e.is_busy()
        {
            return Err(e.clone().into_api());
        }
        results.push(crawl_result(url, page));
    }
    Ok(Json(json!({
        "success": true,
        "results": results,
        "server_processing_time_s": started.elapsed().as_secs_f64(),
        "unsupported_options": opts.unsupported,
    }))
    .into_response())
}

/// Tasks aborted when dropped.
struct AbortOnDrop<T>(Vec<tokio::task::JoinHandle<T>>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// `POST /crawl/stream`: one result per line as each page finishes, then
/// `{"status": "completed"}`.
pub(crate) async fn crawl_stream(
    State(cfg): State<Arc<ServerConfig>>,
    State(pages): State<Arc<PageService>>,
    body: WithText<CrawlRequest>,
) -> Result<Response, ApiError> {
    let WithText { body, text } = body;
    let Json(req) = body?;
    let urls = check_urls(&cfg, &pages, &req.urls)?;
    let mut opts = options(&cfg, &req.browser_config, &req.crawler_config)?;
    extension_options(&mut opts, &req.other)?;
    prepare_extraction(&pages, &mut opts, &text)?;
    Ok(stream_response(pages, urls, req.urls, opts).into_response())
}

fn stream_response(
    pages: Arc<PageService>,
    urls: Vec<url::Url>,
    raw_urls: Vec<String>,
    opts: Options,
) -> Response {
    // Pages run with bounded concurrency; lines go out as they finish, so the memory of the
    // response is one page at a time.
    let template = opts.template;
    let concurrency = pages.cfg.max_pages_in_flight.clamp(1, 16);
    let lines = futures_util::stream::iter(urls.into_iter().zip(raw_urls))
        .map(move |(url, raw)| {
            let (pages, mut page) = (pages.clone(), template.clone());
            page.url = url;
            async move {
                let result = get_page(&pages, page).await;
                let mut line = serde_json::to_vec(&crawl_result(&raw, result)).unwrap_or_default();
                line.push(b'\n');
                Ok::<_, std::convert::Infallible>(bytes::Bytes::from(line))
            }
        })
        .buffer_unordered(concurrency)
        .chain(futures_util::stream::once(async move {
            let mut end = serde_json::to_vec(
                &json!({"status": "completed", "unsupported_options": opts.unsupported}),
            )
            .unwrap_or_default();
            end.push(b'\n');
            Ok(bytes::Bytes::from(end))
        }));
    let mut response = axum::body::Body::from_stream(lines).into_response();
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    response
}

/// crawl4ai's `/md` request.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct MarkdownRequest {
    /// The page, an absolute http(s) URL.
    url: String,
    /// `fit`: the main content (default); `raw`: the whole page; `bm25`: the blocks of
    /// the whole page that bear on `q` (BM25), under their headings. `llm` is not
    /// supported (400).
    #[serde(default = "fit")]
    f: String,
    /// The query of the `bm25` filter; empty or absent: the page's title and
    /// description.
    #[serde(default)]
    q: Option<String>,
    /// crawl4ai's cache-bust counter; echoed back.
    #[serde(default = "zero")]
    c: Value,
    /// gannet's extension: `never` (HTTP only, the fast path), `auto` (default: render
    /// only a page that needs JavaScript) or `always`.
    #[serde(default)]
    render: Option<String>,
}

fn fit() -> String {
    "fit".into()
}

fn zero() -> Value {
    Value::String("0".into())
}

/// `POST /md`: `f=fit` the main content, `f=raw` the whole page.
pub(crate) async fn markdown(
    State(cfg): State<Arc<ServerConfig>>,
    State(pages): State<Arc<PageService>>,
    body: Body<MarkdownRequest>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    let url = parse_url(&req.url)?;
    let (raw, bm25) = match req.f.as_str() {
        "fit" => (false, false),
        "raw" => (true, false),
        "bm25" => (false, true),
        "llm" => {
            return Err(ApiError::bad_request(
                "filter \"llm\" is not supported: it needs a language model, which this server does not call; use bm25 with q",
            ));
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "filter {other:?} is not supported: use fit (main content), raw (whole page) or bm25 (with q)"
            )));
        }
    };
    let mut page = PageRequest::new(url, cfg.page_timeout);
    page.want_raw_markdown = raw;
    // The answer is the Markdown alone.
    page.want_links = false;
    if bm25 {
        page.focus = Some(Focus {
            query: req.q.clone().unwrap_or_default(),
            threshold: gannet_extract::relevance::DEFAULT_THRESHOLD,
        });
    }
    if let Some(mode) = &req.render {
        page.render = render_mode(mode)?;
    }
    let p = get_page(&pages, page).await.map_err(PageError::into_api)?;
    let markdown = if let Some(focused) = p.focused {
        focused
    } else if raw {
        p.raw_doc.map(|d| d.markdown).unwrap_or(p.doc.markdown)
    } else {
        p.doc.markdown
    };
    let mut answer = json!({
        "url": req.url,
        "filter": req.f,
        "query": req.q,
        "cache": req.c,
        "markdown": markdown,
        "success": true,
    });
    if let Some(why) = p.render_skipped {
        answer["render_skipped"] = json!(why);
    }
    Ok(Json(answer))
}

/// A request about one page (`/html`, `/screenshot`, `/pdf`, `/execute_js`).
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct UrlRequest {
    /// The page, an absolute http(s) URL.
    url: String,
    /// `/screenshot`: seconds to wait after the page loaded.
    #[serde(default)]
    screenshot_wait_for: Option<f64>,
    /// Not supported (the server writes no files for clients): 400.
    #[serde(default)]
    output_path: Option<String>,
    /// `/execute_js`: scripts run in order; the last one's value is the result.
    #[serde(default)]
    scripts: Vec<String>,
}

fn no_output_path(req: &UrlRequest) -> Result<(), ApiError> {
    if req.output_path.is_some() {
        return Err(ApiError::bad_request(
            "output_path is not supported: the server does not write files for clients; the answer carries the data",
        ));
    }
    Ok(())
}

/// `POST /html`: the page's cleaned main-content HTML.
pub(crate) async fn html(
    State(cfg): State<Arc<ServerConfig>>,
    State(pages): State<Arc<PageService>>,
    body: Body<UrlRequest>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    let mut page = PageRequest::new(parse_url(&req.url)?, cfg.page_timeout);
    page.want_cleaned_html = true;
    let p = get_page(&pages, page).await.map_err(PageError::into_api)?;
    Ok(Json(
        json!({"html": p.cleaned_html.unwrap_or_default(), "url": req.url, "success": true}),
    ))
}

/// `POST /screenshot`: a full-page PNG, base64.
pub(crate) async fn screenshot(
    State(cfg): State<Arc<ServerConfig>>,
    State(pages): State<Arc<PageService>>,
    body: Body<UrlRequest>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    no_output_path(&req)?;
    let mut page = PageRequest::new(parse_url(&req.url)?, cfg.page_timeout);
    page.screenshot = Some(Screenshot { full_page: true });
    if let Some(secs) = req.screenshot_wait_for.filter(|s| *s > 0.0) {
        // crawl4ai waits this long before the shot: a JS condition that resolves after it.
        let ms = (secs * 1000.0).min(60_000.0) as u64;
        page.js = vec![format!("new Promise(r => setTimeout(() => r(true), {ms}))")];
    }
    let p = get_page(&pages, page).await.map_err(PageError::into_api)?;
    let png = p.screenshot.unwrap_or_default();
    Ok(Json(
        json!({"success": true, "screenshot": data_encoding::BASE64.encode(&png)}),
    ))
}

/// `POST /pdf`: the page printed to PDF, base64.
pub(crate) async fn pdf(
    State(cfg): State<Arc<ServerConfig>>,
    State(pages): State<Arc<PageService>>,
    body: Body<UrlRequest>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    no_output_path(&req)?;
    let mut page = PageRequest::new(parse_url(&req.url)?, cfg.page_timeout);
    page.pdf = true;
    let p = get_page(&pages, page).await.map_err(PageError::into_api)?;
    Ok(Json(
        json!({"success": true, "pdf": data_encoding::BASE64.encode(&p.pdf.unwrap_or_default())}),
    ))
}

/// `POST /execute_js`: off unless the server enables it (it runs client code in our browser).
pub(crate) async fn execute_js(
    State(cfg): State<Arc<ServerConfig>>,
    State(pages): State<Arc<PageService>>,
    body: Body<UrlRequest>,
) -> Result<Json<Value>, ApiError> {
    if !cfg.execute_js {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "disabled",
            "/execute_js is disabled on this server (start it with --execute-js to allow it)",
        ));
    }
    let Json(req) = body?;
    if req.scripts.is_empty() {
        return Err(ApiError::bad_request(
            "scripts: give at least one JavaScript snippet",
        ));
    }
    let mut page = PageRequest::new(parse_url(&req.url)?, cfg.page_timeout);
    page.js = req.scripts.clone();
    page.want_raw_markdown = true;
    page.want_cleaned_html = true;
    let result = get_page(&pages, page).await;
    // Busy (503) or a refused address (403) fail the request; other failures are the
    // page's, reported in its CrawlResult.
    if let Err(e) = &result
        && e.fails_the_request()
    {
        return Err(e.clone().into_api());
    }
    Ok(Json(crawl_result(&req.url, result)))
}

/// `POST /token`: crawl4ai's client asks for a token before calling. With no tokens
/// configured there is nothing to protect and any token works; with tokens configured,
/// they are given out by the operator, not by this endpoint.
pub(crate) async fn token(
    State(cfg): State<Arc<ServerConfig>>,
    body: Body<Value>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    if !cfg.tokens.is_empty() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "tokens_configured",
            "this server uses configured API tokens: ask its operator for one",
        ));
    }
    Ok(Json(json!({
        "email": req.get("email").cloned().unwrap_or(Value::Null),
        "access_token": "gannet-no-auth",
        "token_type": "bearer",
    })))
}

/// `GET /schema`: the configs we understand.
pub(crate) async fn schema() -> Json<Value> {
    Json(json!({
        "browser": {"type": "BrowserConfig", "params": {"viewport_width": 1280, "viewport_height": 800, "user_agent": null, "text_mode": false}},
        "crawler": {"type": "CrawlerRunConfig", "params": {"stream": false, "screenshot": false, "pdf": false, "js_code": [], "wait_for": null, "wait_until": "domcontentloaded", "page_timeout": 30000, "session_id": null}},
    }))
}

/// crawl4ai's job request (`POST /crawl/job`): a batch of URLs with its configs.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct CrawlJobRequest {
    /// Absolute http(s) URLs, at most the server's max_urls (default 100).
    #[serde(default)]
    urls: Vec<String>,
    /// crawl4ai's BrowserConfig for every page.
    #[serde(default)]
    browser_config: Value,
    /// crawl4ai's CrawlerRunConfig for every page.
    #[serde(default)]
    crawler_config: Value,
}

/// `POST /crawl/job`: starts a batch job; answers `{task_id}`.
pub(crate) async fn crawl_job(
    State(cfg): State<Arc<ServerConfig>>,
    State(jobs): State<Arc<Jobs>>,
    body: WithText<CrawlJobRequest>,
) -> Result<Response, ApiError> {
    let WithText { body, text } = body;
    let Json(req) = body?;
    if req.urls.is_empty() || req.urls.len() > cfg.max_urls {
        return Err(ApiError::bad_request(format!(
            "give 1 to {} URLs",
            cfg.max_urls
        )));
    }
    let spec = JobSpec::Batch(BatchSpec {
        urls: req.urls,
        browser_config: req.browser_config,
        crawler_config: req.crawler_config,
        schema_text: crate::page::extraction::strategy_schema_text(&text),
        ..BatchSpec::default()
    });
    let id = jobs.submit(spec).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"task_id": id}))).into_response())
}

/// `GET /crawl/job/{id}`: the job's status and, when done, its results in the order the
/// URLs were given.
pub(crate) async fn crawl_job_status(
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = jobs.job_or_404(&id).await?;
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
            let (rows, next) = jobs
                .store()?
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
        let order = match JobSpec::of(&job) {
            Ok(JobSpec::Batch(batch)) => batch.urls,
            _ => Vec::new(),
        };
        results.sort_by_key(|r| {
            order
                .iter()
                .position(|u| Some(u.as_str()) == r["url"].as_str())
                .unwrap_or(usize::MAX)
        });
        out["result"] = json!({"success": true, "results": results});
    }
    if let Some(e) = &job.error {
        out["error"] = json!(e);
    }
    Ok(Json(out))
}

/// `GET /llm/{url}?q=`: crawl4ai's question answering over one page: `{"answer": …}`.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct LlmQuery {
    /// The question.
    q: String,
}

pub(crate) async fn llm_answer(
    State(cfg): State<Arc<ServerConfig>>,
    State(pages): State<Arc<PageService>>,
    Path(target): Path<String>,
    axum::extract::Query(query): axum::extract::Query<LlmQuery>,
) -> Result<Json<Value>, ApiError> {
    // crawl4ai takes a URL without a scheme as https.
    let target = if target.starts_with("http://") || target.starts_with("https://") {
        target
    } else {
        format!("https://{target}")
    };
    if query.q.trim().is_empty() {
        return Err(ApiError::bad_request("q: the question is empty"));
    }
    let url = parse_url(&target)?;
    pages.check_url(&url).map_err(PageError::into_api)?;
    let mut page = PageRequest::new(url, cfg.page_timeout);
    page.want_links = false;
    page.extraction = Some(Extraction::Answer {
        question: query.q,
        input: LlmInput::MainMarkdown,
    });
    check_llm(&pages, &page)?;
    let p = get_page(&pages, page).await.map_err(PageError::into_api)?;
    match p.extracted {
        Some(Ok(out)) => Ok(Json(json!({"answer": out.value}))),
        Some(Err(e)) => Err(extraction_api_error(&e)),
        None => Err(ApiError::bad_request("no answer")),
    }
}
