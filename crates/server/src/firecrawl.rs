//! The Firecrawl dialect: `POST /v1/scrape` and `/v2/scrape` with its `formats`,
//! `onlyMainContent`, `waitFor` and `timeout`, answered as `{"success", "data"}`.
//! Options we do not support are listed in `warning` rather than ignored silently.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use gannet_browser::Screenshot;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::page::{PageRequest, Render, get_page, parse_url};
use crate::state::AppState;

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// Firecrawl's scrape request.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScrapeRequest {
    /// The page, an absolute http(s) URL.
    url: String,
    /// markdown (default), html, rawHtml, links, screenshot (names or `{"type": …}`).
    #[serde(default)]
    formats: Option<Vec<Value>>,
    /// Main content only (default true) or the whole page.
    #[serde(default)]
    only_main_content: Option<bool>,
    /// Milliseconds to wait after the page loaded.
    #[serde(default)]
    wait_for: Option<u64>,
    /// Milliseconds for the whole scrape.
    #[serde(default)]
    timeout: Option<u64>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// Options Firecrawl clients send with their defaults; accepted without a warning.
const ACCEPTED: &[&str] = &[
    "skipTlsVerification",
    "removeBase64Images",
    "blockAds",
    "storeInCache",
    "maxAge",
    "parsers",
    "proxy",
    "origin",
    "integration",
    "zeroDataRetention",
    "fastMode",
    "useMock",
];

pub(crate) async fn scrape(
    State(state): State<Arc<AppState>>,
    body: Body<ScrapeRequest>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    let url = parse_url(&req.url)?;
    let timeout = req
        .timeout
        .map_or(state.cfg.page_timeout, Duration::from_millis)
        .min(state.cfg.max_page_timeout);
    let mut page = PageRequest::new(url, timeout);
    let mut warnings: Vec<String> = Vec::new();
    let mut wanted: Vec<String> = Vec::new();
    for f in req
        .formats
        .clone()
        .unwrap_or_else(|| vec![json!("markdown")])
    {
        let (name, full_page) = match &f {
            Value::String(s) => (s.clone(), false),
            Value::Object(o) => (
                o.get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                o.get("fullPage").and_then(Value::as_bool).unwrap_or(false),
            ),
            _ => (String::new(), false),
        };
        match name.as_str() {
            "markdown" | "html" | "rawHtml" | "links" => wanted.push(name),
            "screenshot" | "screenshot@fullPage" => {
                page.screenshot = Some(Screenshot {
                    full_page: full_page || name.ends_with("@fullPage"),
                });
                wanted.push("screenshot".into());
            }
            other => warnings.push(format!("format {other:?} is not supported")),
        }
    }
    let main_only = req.only_main_content.unwrap_or(true);
    page.want_raw_markdown = !main_only;
    page.want_cleaned_html = wanted.iter().any(|w| w == "html");
    if let Some(ms) = req.wait_for.filter(|ms| *ms > 0) {
        page.js = vec![format!(
            "new Promise(r => setTimeout(() => r(true), {}))",
            ms.min(60_000)
        )];
        page.render = Render::Always;
    }
    for key in req.other.keys() {
        if !ACCEPTED.contains(&key.as_str()) {
            warnings.push(format!("option {key:?} is not supported"));
        }
    }
    let p = get_page(&state, page)
        .await
        .map_err(crate::page::PageError::into_api)?;
    let mut data = Map::new();
    for w in &wanted {
        let value = match w.as_str() {
            "markdown" => json!(if main_only {
                p.doc.markdown.clone()
            } else {
                p.raw_doc
                    .as_ref()
                    .map_or_else(|| p.doc.markdown.clone(), |d| d.markdown.clone())
            }),
            "html" => json!(p.cleaned_html.clone().unwrap_or_default()),
            "rawHtml" => json!(p.html.clone()),
            "links" => json!(
                p.doc
                    .links
                    .iter()
                    .map(|l| l.href.clone())
                    .collect::<Vec<_>>()
            ),
            "screenshot" => json!(p.screenshot.as_ref().map(|png| format!(
                "data:image/png;base64,{}",
                data_encoding::BASE64.encode(png)
            ))),
            _ => continue,
        };
        data.insert(w.clone(), value);
    }
    data.insert(
        "metadata".into(),
        json!({
            "title": p.doc.title,
            "description": p.doc.excerpt,
            "language": p.doc.lang,
            "author": p.doc.byline,
            "publishedTime": p.doc.published_time,
            "siteName": p.doc.site_name,
            "sourceURL": req.url,
            "url": p.final_url,
            "statusCode": p.status,
            "contentType": p.headers.iter().find(|(k, _)| k == "content-type").map(|(_, v)| v.clone()),
        }),
    );
    if let Some(why) = &p.render_skipped {
        warnings.push(format!("not rendered: {why}"));
    }
    if !warnings.is_empty() {
        data.insert("warning".into(), json!(warnings.join("; ")));
    }
    Ok(Json(json!({"success": true, "data": data})))
}
