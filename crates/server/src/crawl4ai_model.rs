//! crawl4ai's shapes, without axum: its serialized configs (`{"type": "CrawlerRunConfig",
//! "params": {...}}`, non-default parameters only) as a [`PageRequest`], and a page as its
//! `CrawlResult`. The crawl4ai routes and the batch job runner both use them.

use std::time::Duration;

use gannet_browser::{Screenshot, WaitFor};
use serde_json::{Map, Value, json};

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::page::{Focus, Page, PageError, PageRequest, RenderPolicy};

/// The options of one crawl request, mapped from crawl4ai's configs.
pub(crate) struct Options {
    pub(crate) template: PageRequest,
    pub(crate) stream: bool,
    pub(crate) unsupported: Vec<String>,
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

pub(crate) fn options(
    cfg: &ServerConfig,
    browser: &Value,
    crawler: &Value,
) -> Result<Options, ApiError> {
    let placeholder = url::Url::parse("http://placeholder.invalid/")
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut t = PageRequest::new(placeholder, cfg.page_timeout);
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
                    t.timeout = Duration::from_millis(ms).min(cfg.max_page_timeout);
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
                        t.focus = Some(Focus {
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
            "extraction_strategy" => {
                t.extraction = crate::page::extraction::crawl4ai_strategy(value, &mut unsupported)?;
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
        t.render = RenderPolicy::Always;
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
    cfg: &ServerConfig,
    browser: &Value,
    crawler: &Value,
) -> Result<PageRequest, ApiError> {
    Ok(options(cfg, browser, crawler)?.template)
}

/// A page as crawl4ai's `CrawlResult`.
pub(crate) fn crawl_result(url: &str, page: Result<Page, PageError>) -> Value {
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
            let (extracted_content, extraction_error, usage) = extracted_content(&p);
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
                    "page_type": p.doc.page_type,
                    "rendered": p.rendered,
                    "render_skipped": p.render_skipped,
                    "elapsed_ms": p.elapsed.as_millis() as u64,
                    "llm_usage": usage,
                    "extraction_error": extraction_error.clone(),
                },
                "extracted_content": extracted_content,
                "screenshot": data(&p.screenshot),
                "pdf": data(&p.pdf),
                "js_execution_result": p.js_result.map(|v| json!({"success": true, "results": [v]}))
                    .or_else(|| p.js_error.map(|e| json!({"success": false, "error": e}))),
                "status_code": p.status,
                "response_headers": p.headers.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<Map<String, Value>>(),
                "redirected_url": p.final_url,
                "error_message": extraction_error.map(|e| e["message"].clone()),
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

/// `extracted_content` as crawl4ai gives it (a JSON string of the list of items), the
/// extraction's error (`{code, message}`) and its LLM usage.
fn extracted_content(p: &Page) -> (Value, Option<Value>, Value) {
    use crate::page::extraction::{error_json, usage_json};
    match &p.extracted {
        None => (Value::Null, None, Value::Null),
        Some(Ok(out)) => {
            // crawl4ai's LLM strategy answers a list: one object becomes a list of one.
            let list = match &out.value {
                Value::Array(_) => out.value.clone(),
                Value::Object(o)
                    if o.len() == 1 && o.get("blocks").is_some_and(Value::is_array) =>
                {
                    o["blocks"].clone()
                }
                other => Value::Array(vec![other.clone()]),
            };
            (
                Value::String(list.to_string()),
                None,
                usage_json(out, false),
            )
        }
        Some(Err(e)) => (Value::Null, Some(error_json(e)), Value::Null),
    }
}
