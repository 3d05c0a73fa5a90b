//! The crawl4ai dialect: `/crawl`, `/crawl/stream`, `/md`, `/html`, `/screenshot`, `/pdf`,
//! `/execute_js`, `/token`, `/schema` — the paths, bodies and `CrawlResult` shapes of
//! crawl4ai's Docker server, so its clients only change the base URL.
//!
//! Configs arrive in crawl4ai's serialized form (`{"type": "CrawlerRunConfig", "params":
//! {...}}`, non-default parameters only). The ones we support are honoured; the others are
//! listed in the answer's `unsupported_options` instead of being dropped silently.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use gannet_browser::{Screenshot, WaitFor};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::page::{Page, PageRequest, Render, get_page, parse_url};
use crate::state::AppState;

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

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

/// The options of one crawl request, mapped from crawl4ai's configs.
struct Options {
    template: PageRequest,
    stream: bool,
    unsupported: Vec<String>,
}

/// `{"type": X, "params": {...}}` → the params; a bare object is taken as params.
fn params(config: &Value) -> Map<String, Value> {
    match config {
        Value::Object(o) => match o.get("params") {
            Some(Value::Object(p)) => p.clone(),
            _ if o.contains_key("type") => Map::new(),
            _ => o.clone(),
        },
        _ => Map::new(),
    }
}

/// A serialized `{"type": "dict", "value": {...}}` or plain value.
fn plain(v: &Value) -> &Value {
    match v {
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("dict") => {
            o.get("value").unwrap_or(v)
        }
        _ => v,
    }
}

fn options(state: &AppState, browser: &Value, crawler: &Value) -> Result<Options, ApiError> {
    let placeholder = url::Url::parse("http://placeholder.invalid/")
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut t = PageRequest::new(placeholder, state.cfg.page_timeout);
    t.want_raw_markdown = true;
    t.want_cleaned_html = true;
    let mut unsupported = Vec::new();
    let mut stream = false;
    let mut viewport = (1280u32, 800u32);
    let mut viewport_set = false;
    for (key, value) in params(browser) {
        let value = plain(&value);
        match key.as_str() {
            "viewport_width" => {
                viewport.0 = value.as_u64().unwrap_or(1280).clamp(100, 10_000) as u32;
                viewport_set = true;
            }
            "viewport_height" => {
                viewport.1 = value.as_u64().unwrap_or(800).clamp(100, 10_000) as u32;
                viewport_set = true;
            }
            "user_agent" => t.browser.user_agent = value.as_str().map(str::to_owned),
            "text_mode" | "light_mode" => {
                t.browser.text_mode |= value.as_bool().unwrap_or(false);
            }
            // Always headless; logging is ours.
            "headless" | "verbose" | "browser_type" | "browser_mode" => {}
            // crawl4ai's client always sends its default client-hint header.
            "headers"
                if value
                    .as_object()
                    .is_some_and(|h| h.keys().all(|k| k.starts_with("sec-ch-ua"))) => {}
            other => unsupported.push(format!("browser_config.{other}")),
        }
    }
    for (key, value) in params(crawler) {
        let value = plain(&value);
        match key.as_str() {
            "stream" => stream = value.as_bool().unwrap_or(false),
            "screenshot" if value.as_bool() == Some(true) => {
                t.screenshot = Some(Screenshot { full_page: true });
            }
            "pdf" if value.as_bool() == Some(true) => t.pdf = true,
            "screenshot" | "pdf" => {}
            "js_code" => {
                t.js = match value {
                    Value::String(s) => vec![s.clone()],
                    Value::Array(a) => a
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                    _ => Vec::new(),
                };
            }
            "wait_for" => {
                if let Some(w) = value.as_str().filter(|s| !s.trim().is_empty()) {
                    // crawl4ai takes a bare selector as CSS.
                    let w = if w.starts_with("css:") || w.starts_with("js:") {
                        w.to_string()
                    } else {
                        format!("css:{w}")
                    };
                    t.wait = w
                        .parse()
                        .map_err(|e: gannet_browser::Error| ApiError::bad_request(e.to_string()))?;
                }
            }
            "wait_until" => match value.as_str() {
                Some("load") => t.wait = WaitFor::Load,
                Some("networkidle") => t.wait = WaitFor::NetworkIdle,
                Some("domcontentloaded" | "commit") | None => {}
                Some(other) => unsupported.push(format!("crawler_config.wait_until={other}")),
            },
            "page_timeout" => {
                if let Some(ms) = value.as_u64() {
                    t.timeout = Duration::from_millis(ms).min(state.cfg.max_page_timeout);
                }
            }
            "session_id" => t.session = value.as_str().map(str::to_owned),
            "markdown_generator" => {
                let filter = plain(&value["params"]["content_filter"]);
                match filter["type"].as_str() {
                    // Our main-content extraction is the fit Markdown.
                    None | Some("PruningContentFilter") => {}
                    Some("BM25ContentFilter") => {
                        let p = plain(&filter["params"]);
                        t.focus = Some(crate::page::Focus {
                            query: p["user_query"].as_str().unwrap_or_default().to_string(),
                            threshold: p["bm25_threshold"]
                                .as_f64()
                                .map_or(gannet_extract::relevance::DEFAULT_THRESHOLD, |v| v as f32),
                        });
                    }
                    Some(other) => unsupported.push(format!(
                        "crawler_config.markdown_generator.content_filter={other}"
                    )),
                }
            }
            // We never cache; the defaults of these are what we do anyway.
            "cache_mode"
            | "verbose"
            | "scraping_strategy"
            | "table_extraction"
            | "exclude_social_media_domains" => {}
            other => unsupported.push(format!("crawler_config.{other}")),
        }
    }
    if viewport_set {
        t.viewport = Some(viewport);
    }
    if t.screenshot.is_some()
        || t.pdf
        || !t.js.is_empty()
        || t.session.is_some()
        || t.wait != WaitFor::Auto
    {
        t.render = Render::Always;
    }
    Ok(Options {
        template: t,
        stream,
        unsupported,
    })
}

/// The page options a crawl4ai config pair asks for (unsupported options are ignored
/// here: the synchronous routes report them).
pub(crate) fn page_template(
    state: &AppState,
    browser: &Value,
    crawler: &Value,
) -> Result<PageRequest, ApiError> {
    Ok(options(state, browser, crawler)?.template)
}

/// A page as crawl4ai's `CrawlResult`.
pub(crate) fn crawl_result(url: &str, page: Result<Page, crate::page::PageError>) -> Value {
    match page {
        Ok(p) => {
            let (internal, external): (Vec<_>, Vec<_>) =
                p.doc.links.iter().partition(|l| l.internal);
            let link =
                |l: &&gannet_core::Link| json!({"href": l.href, "text": l.text, "title": ""});
            let raw = p
                .raw_doc
                .as_ref()
                .map_or(p.doc.markdown.as_str(), |d| d.markdown.as_str());
            let data = |bytes: &Option<Vec<u8>>| {
                bytes
                    .as_ref()
                    .map(|b| Value::String(data_encoding::BASE64.encode(b)))
                    .unwrap_or(Value::Null)
            };
            json!({
                "url": url,
                "html": p.html,
                "fit_html": p.cleaned_html,
                "cleaned_html": p.cleaned_html,
                "success": true,
                "markdown": {
                    "raw_markdown": raw,
                    "markdown_with_citations": raw,
                    "references_markdown": "",
                    "fit_markdown": p.focused.as_deref().unwrap_or(&p.doc.markdown),
                    "fit_html": p.cleaned_html,
                },
                "links": {
                    "internal": internal.iter().map(link).collect::<Vec<_>>(),
                    "external": external.iter().map(link).collect::<Vec<_>>(),
                },
                "media": {
                    "images": p.doc.images.iter().map(|i| json!({"src": i.src, "alt": i.alt, "desc": "", "score": 0, "type": "image"})).collect::<Vec<_>>(),
                    "videos": [],
                    "audios": [],
                },
                "metadata": {
                    "title": p.doc.title,
                    "description": p.doc.excerpt,
                    "author": p.doc.byline,
                    "site_name": p.doc.site_name,
                    "published_time": p.doc.published_time,
                    "language": p.doc.lang,
                    "word_count": p.doc.word_count,
                    "rendered": p.rendered,
                    "render_skipped": p.render_skipped,
                    "elapsed_ms": p.elapsed.as_millis() as u64,
                },
                "screenshot": data(&p.screenshot),
                "pdf": data(&p.pdf),
                "js_execution_result": p.js_result.map(|v| json!({"success": true, "results": [v]}))
                    .or_else(|| p.js_error.map(|e| json!({"success": false, "error": e}))),
                "status_code": p.status,
                "response_headers": p.headers.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<Map<String, Value>>(),
                "redirected_url": p.final_url,
                "error_message": null,
                "tables": [],
            })
        }
        Err(e) => json!({
            "url": url,
            "html": "",
            "success": false,
            "status_code": e.status,
            "error_message": e.message,
            "markdown": {"raw_markdown": "", "markdown_with_citations": "", "references_markdown": ""},
            "links": {"internal": [], "external": []},
            "media": {"images": [], "videos": [], "audios": []},
            "tables": [],
        }),
    }
}

/// gannet's `render` field: never (HTTP only), auto (smart mode), always.
fn render_mode(mode: &str) -> Result<Render, ApiError> {
    match mode {
        "never" => Ok(Render::Never),
        "auto" => Ok(Render::Auto),
        "always" => Ok(Render::Always),
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

fn check_urls(state: &AppState, urls: &[String]) -> Result<Vec<url::Url>, ApiError> {
    if urls.is_empty() {
        return Err(ApiError::bad_request("At least one URL required"));
    }
    if urls.len() > state.cfg.max_urls {
        return Err(ApiError::bad_request(format!(
            "{} URLs: at most {} per request (use a crawl job for more)",
            urls.len(),
            state.cfg.max_urls
        )));
    }
    urls.iter().map(|u| parse_url(u)).collect()
}

/// `POST /crawl`: every URL, results in order.
pub(crate) async fn crawl(
    State(state): State<Arc<AppState>>,
    body: Body<CrawlRequest>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let started = Instant::now();
    let urls = check_urls(&state, &req.urls)?;
    let mut opts = options(&state, &req.browser_config, &req.crawler_config)?;
    extension_options(&mut opts, &req.other)?;
    if opts.stream {
        return Ok(stream_response(state, urls, req.urls, opts).into_response());
    }
    let tasks: Vec<_> = urls
        .into_iter()
        .map(|url| {
            let (state, mut page) = (state.clone(), opts.template.clone());
            page.url = url;
            tokio::spawn(async move { get_page(&state, page).await })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for (task, url) in tasks.into_iter().zip(&req.urls) {
        let page = task.await.map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })?;
        // An overloaded service answers 503 for the whole request.
        if let Err(e) = &page
            && e.busy
        {
            return Err(ApiError::busy(e.message.clone(), 5));
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

/// `POST /crawl/stream`: one result per line as each page finishes, then
/// `{"status": "completed"}`.
pub(crate) async fn crawl_stream(
    State(state): State<Arc<AppState>>,
    body: Body<CrawlRequest>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let urls = check_urls(&state, &req.urls)?;
    let mut opts = options(&state, &req.browser_config, &req.crawler_config)?;
    extension_options(&mut opts, &req.other)?;
    Ok(stream_response(state, urls, req.urls, opts).into_response())
}

fn stream_response(
    state: Arc<AppState>,
    urls: Vec<url::Url>,
    raw_urls: Vec<String>,
    opts: Options,
) -> Response {
    // Pages run with bounded concurrency; lines go out as they finish, so the memory of the
    // response is one page at a time.
    let template = opts.template;
    let concurrency = state.cfg.max_pages_in_flight.clamp(1, 16);
    let lines = futures_util::stream::iter(urls.into_iter().zip(raw_urls))
        .map(move |(url, raw)| {
            let (state, mut page) = (state.clone(), template.clone());
            page.url = url;
            async move {
                let result = get_page(&state, page).await;
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
    State(state): State<Arc<AppState>>,
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
    let mut page = PageRequest::new(url, state.cfg.page_timeout);
    page.want_raw_markdown = raw;
    // The answer is the Markdown alone.
    page.want_links = false;
    if bm25 {
        page.focus = Some(crate::page::Focus {
            query: req.q.clone().unwrap_or_default(),
            threshold: gannet_extract::relevance::DEFAULT_THRESHOLD,
        });
    }
    if let Some(mode) = &req.render {
        page.render = render_mode(mode)?;
    }
    let p = get_page(&state, page)
        .await
        .map_err(crate::page::PageError::into_api)?;
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
    State(state): State<Arc<AppState>>,
    body: Body<UrlRequest>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    let mut page = PageRequest::new(parse_url(&req.url)?, state.cfg.page_timeout);
    page.want_cleaned_html = true;
    let p = get_page(&state, page)
        .await
        .map_err(crate::page::PageError::into_api)?;
    Ok(Json(
        json!({"html": p.cleaned_html.unwrap_or_default(), "url": req.url, "success": true}),
    ))
}

/// `POST /screenshot`: a full-page PNG, base64.
pub(crate) async fn screenshot(
    State(state): State<Arc<AppState>>,
    body: Body<UrlRequest>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    no_output_path(&req)?;
    let mut page = PageRequest::new(parse_url(&req.url)?, state.cfg.page_timeout);
    page.screenshot = Some(Screenshot { full_page: true });
    if let Some(secs) = req.screenshot_wait_for.filter(|s| *s > 0.0) {
        // crawl4ai waits this long before the shot: a JS condition that resolves after it.
        let ms = (secs * 1000.0).min(60_000.0) as u64;
        page.js = vec![format!("new Promise(r => setTimeout(() => r(true), {ms}))")];
    }
    let p = get_page(&state, page)
        .await
        .map_err(crate::page::PageError::into_api)?;
    let png = p.screenshot.unwrap_or_default();
    Ok(Json(
        json!({"success": true, "screenshot": data_encoding::BASE64.encode(&png)}),
    ))
}

/// `POST /pdf`: the page printed to PDF, base64.
pub(crate) async fn pdf(
    State(state): State<Arc<AppState>>,
    body: Body<UrlRequest>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    no_output_path(&req)?;
    let mut page = PageRequest::new(parse_url(&req.url)?, state.cfg.page_timeout);
    page.pdf = true;
    let p = get_page(&state, page)
        .await
        .map_err(crate::page::PageError::into_api)?;
    Ok(Json(
        json!({"success": true, "pdf": data_encoding::BASE64.encode(&p.pdf.unwrap_or_default())}),
    ))
}

/// `POST /execute_js`: off unless the server enables it (it runs client code in our browser).
pub(crate) async fn execute_js(
    State(state): State<Arc<AppState>>,
    body: Body<UrlRequest>,
) -> Result<Json<Value>, ApiError> {
    if !state.cfg.execute_js {
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
    let mut page = PageRequest::new(parse_url(&req.url)?, state.cfg.page_timeout);
    page.js = req.scripts.clone();
    page.want_raw_markdown = true;
    page.want_cleaned_html = true;
    let result = get_page(&state, page).await;
    if let Err(e) = &result
        && e.busy
    {
        return Err(ApiError::busy(e.message.clone(), 5));
    }
    Ok(Json(crawl_result(&req.url, result)))
}

/// `POST /token`: crawl4ai's client asks for a token before calling. With no tokens
/// configured there is nothing to protect and any token works; with tokens configured,
/// they are given out by the operator, not by this endpoint.
pub(crate) async fn token(
    State(state): State<Arc<AppState>>,
    body: Body<Value>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    if !state.cfg.tokens.is_empty() {
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
