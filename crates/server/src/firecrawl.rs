//! The Firecrawl dialect: `POST /v1/scrape` and `/v2/scrape` with its `formats`,
//! `onlyMainContent`, `waitFor` and `timeout`, answered as `{"success", "data"}`; crawls
//! (`POST /v1|v2/crawl`, `GET /v1|v2/crawl/{id}` with `next`, `DELETE`) over the job
//! service, and `POST /v1|v2/map`. Options we do not support are listed in `warning`
//! rather than ignored silently.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use gannet_browser::Screenshot;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::config::ServerConfig;
use crate::error::{ApiError, Body};
use crate::jobs::{MAX_PAGE_ITEMS, PageQuery, Status};
use crate::page::body::WithText;
use crate::page::extract_jobs::ExtractJobs;
use crate::page::extraction::{check_llm, extraction_api_error, keep_schema_order, usage_json};
use crate::page::{
    Extraction, IntoApi, LlmInput, PageError, PageRequest, PageService, RenderPolicy, get_page,
    parse_url,
};
use crate::runner::{BatchKind, BatchSpec, CrawlScope, CrawlSpec, JobSpec, Jobs};

/// Firecrawl's scrape request.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScrapeRequest {
    /// The page, an absolute http(s) URL.
    url: String,
    /// markdown (default), html, rawHtml, links, screenshot, json (with `jsonOptions` in
    /// v1, or `{"type": "json", "schema", "prompt"}` in v2), summary, extract (v1's
    /// legacy name of json, with `extract`): names or `{"type": …}`.
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
    "jsonOptions",
    "extract",
];

/// What Firecrawl's `json` format asks: its prompt and schema, and where the schema's
/// text sits in the body (sent to the model as written).
struct JsonFormat {
    /// `json` or `extract` (the answer's key).
    key: &'static str,
    prompt: Option<String>,
    schema: Option<Value>,
    path: Vec<String>,
}

impl JsonFormat {
    /// v1: `formats: ["json"]` with `jsonOptions` (or `["extract"]` with `extract`).
    fn v1(key: &'static str, options: Option<&Value>) -> Self {
        let options_key = if key == "json" {
            "jsonOptions"
        } else {
            "extract"
        };
        Self {
            key,
            prompt: options
                .and_then(|o| o.get("prompt"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            schema: options.and_then(|o| o.get("schema")).cloned(),
            path: vec![options_key.into(), "schema".into()],
        }
    }

    fn instruction(&self) -> Result<gannet_llm::Instruction, ApiError> {
        let prompt = self
            .prompt
            .clone()
            .unwrap_or_else(|| "Extract the data the JSON schema describes from the page.".into());
        let schema = match &self.schema {
            Some(s) if s.is_object() => s.clone(),
            Some(_) => {
                return Err(crate::page::extraction::bad_schema(
                    &self.path.join("."),
                    "must be a JSON Schema object",
                ));
            }
            // No schema: any JSON object.
            None => json!({"type": "object"}),
        };
        Ok(gannet_llm::Instruction::new(prompt).with_schema(schema))
    }
}

pub(crate) async fn scrape(
    State(cfg): State<Arc<ServerConfig>>,
    State(pages): State<Arc<PageService>>,
    body: WithText<ScrapeRequest>,
) -> Result<Json<Value>, ApiError> {
    let WithText { body, text } = body;
    let Json(req) = body?;
    let url = parse_url(&req.url)?;
    let timeout = req
        .timeout
        .map_or(cfg.page_timeout, Duration::from_millis)
        .min(cfg.max_page_timeout);
    let mut page = PageRequest::new(url, timeout);
    let mut warnings: Vec<String> = Vec::new();
    let mut wanted: Vec<String> = Vec::new();
    let mut json_format: Option<JsonFormat> = None;
    for (index, f) in req
        .formats
        .clone()
        .unwrap_or_else(|| vec![json!("markdown")])
        .into_iter()
        .enumerate()
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
            "json" | "extract" => {
                let key = if name == "json" { "json" } else { "extract" };
                json_format = Some(match &f {
                    // v2: the options are in the format object.
                    Value::Object(o) => JsonFormat {
                        key,
                        prompt: o.get("prompt").and_then(Value::as_str).map(str::to_owned),
                        schema: o.get("schema").cloned(),
                        path: vec!["formats".into(), index.to_string(), "schema".into()],
                    },
                    _ => JsonFormat::v1(
                        key,
                        req.other.get(if key == "json" {
                            "jsonOptions"
                        } else {
                            "extract"
                        }),
                    ),
                });
            }
            "summary" => {
                page.summary = true;
                wanted.push(name);
            }
            other => warnings.push(format!("format {other:?} is not supported")),
        }
    }
    let main_only = req.only_main_content.unwrap_or(true);
    if let Some(format) = &json_format {
        page.extraction = Some(Extraction::Llm {
            instruction: format.instruction()?,
            input: if main_only {
                LlmInput::MainMarkdown
            } else {
                LlmInput::PageMarkdown
            },
        });
        let path: Vec<&str> = format.path.iter().map(String::as_str).collect();
        keep_schema_order(&mut page, &text, &path);
    }
    check_llm(&pages, &page)?;
    page.want_raw_markdown = !main_only;
    page.want_cleaned_html = wanted.iter().any(|w| w == "html");
    if let Some(ms) = req.wait_for.filter(|ms| *ms > 0) {
        page.js = vec![format!(
            "new Promise(r => setTimeout(() => r(true), {}))",
            ms.min(60_000)
        )];
        page.render = RenderPolicy::Always;
    }
    for key in req.other.keys() {
        if !ACCEPTED.contains(&key.as_str()) {
            warnings.push(format!("option {key:?} is not supported"));
        }
    }
    let p = get_page(&pages, page).await.map_err(PageError::into_api)?;
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
            "summary" => match &p.summary {
                Some(Ok(s)) => s.value.clone(),
                Some(Err(e)) => return Err(extraction_api_error(e)),
                None => Value::Null,
            },
            _ => continue,
        };
        data.insert(w.clone(), value);
    }
    let mut llm_usage = Vec::new();
    if let (Some(format), Some(out)) = (&json_format, &p.extracted) {
        let out = out.as_ref().map_err(extraction_api_error)?;
        data.insert(format.key.into(), out.value.clone());
        llm_usage.push(usage_json(out, true));
    }
    if let Some(Ok(s)) = &p.summary {
        llm_usage.push(usage_json(s, true));
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
            "pageType": p.doc.page_type,
        }),
    );
    if !llm_usage.is_empty()
        && let Some(metadata) = data.get_mut("metadata")
    {
        metadata["llmUsage"] = if llm_usage.len() == 1 {
            llm_usage.swap_remove(0)
        } else {
            Value::Array(llm_usage)
        };
    }
    if let Some(why) = &p.render_skipped {
        warnings.push(format!("not rendered: {why}"));
    }
    if !warnings.is_empty() {
        data.insert("warning".into(), json!(warnings.join("; ")));
    }
    Ok(Json(json!({"success": true, "data": data})))
}

fn base_url(headers: &HeaderMap, cfg: &ServerConfig) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| cfg.listen.to_string(), str::to_owned);
    format!("http://{host}")
}

pub(crate) async fn crawl(
    State(cfg): State<Arc<ServerConfig>>,
    State(jobs): State<Arc<Jobs>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Body<Value>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    let (crawl, unsupported) = crawl_request(&req);
    let id = jobs.submit(JobSpec::Crawl(crawl)).await?;
    let version = if uri.path().starts_with("/v2") {
        "v2"
    } else {
        "v1"
    };
    let mut answer = json!({
        "success": true,
        "id": id,
        "url": format!("{}/{version}/crawl/{id}", base_url(&headers, &cfg)),
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
fn crawl_request(req: &Value) -> (CrawlSpec, Vec<String>) {
    let mut unsupported = Vec::new();
    let flag = |key: &str| req[key].as_bool() == Some(true);
    // Firecrawl follows only the pages below the start URL unless told otherwise.
    let scope = if flag("allowExternalLinks") {
        CrawlScope::Any
    } else if flag("allowSubdomains") {
        CrawlScope::Domain
    } else if flag("crawlEntireDomain") || flag("allowBackwardLinks") {
        CrawlScope::Host
    } else {
        CrawlScope::Prefix
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
        req[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .map(|p| match p.strip_prefix('^') {
                Some(rest) if on_path => format!("^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]+{rest}"),
                _ => p,
            })
            .collect()
    };
    let crawl = CrawlSpec {
        url: req["url"].as_str().unwrap_or_default().to_string(),
        limit: Some(req["limit"].as_u64().unwrap_or(10_000)),
        max_depth: req
            .get("maxDiscoveryDepth")
            .or_else(|| req.get("maxDepth"))
            .and_then(Value::as_u64),
        include: patterns("includePaths"),
        exclude: patterns("excludePaths"),
        sitemaps: Some(
            req["sitemap"].as_str() != Some("skip") && req["ignoreSitemap"].as_bool() != Some(true),
        ),
        scope,
        delay_ms: req["delay"]
            .as_f64()
            .map(|s| (s.clamp(0.0, 3600.0) * 1000.0) as u64),
        concurrency: req["maxConcurrency"].as_u64(),
        timeout_ms: scrape["timeout"].as_u64(),
        formats: scrape["formats"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str().or_else(|| f["type"].as_str()).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    };
    (crawl, unsupported)
}

/// A crawl result (a JSONL line of the engine) as a Firecrawl document.
fn document(line: &Value, formats: &[String]) -> Value {
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

pub(crate) async fn crawl_status(
    State(cfg): State<Arc<ServerConfig>>,
    State(jobs): State<Arc<Jobs>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let job = jobs.job_or_404(&id).await?;
    let formats = match JobSpec::of(&job) {
        Ok(JobSpec::Crawl(spec)) if !spec.formats.is_empty() => spec.formats,
        _ => vec!["markdown".into()],
    };
    let (rows, next) = jobs
        .store()?
        .results_page(
            &job.id,
            q.cursor.unwrap_or(0),
            q.limit.unwrap_or(MAX_PAGE_ITEMS),
        )
        .await?;
    let data: Vec<Value> = rows
        .iter()
        .map(|r| {
            document(
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
            base_url(&headers, &cfg),
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

pub(crate) async fn cancel(
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    jobs.cancel(&id).await?;
    Ok(Json(json!({"success": true, "status": "cancelled"})))
}

/// `POST /v1|v2/map`: the site's URLs from its sitemaps and the links of its start page,
/// without crawling.
pub(crate) async fn map(
    State(pages): State<Arc<PageService>>,
    uri: axum::http::Uri,
    body: Body<Value>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    let url = parse_url(req["url"].as_str().unwrap_or_default())?;
    pages.check_url(&url).map_err(PageError::into_api)?;
    let limit = req["limit"].as_u64().unwrap_or(5_000).clamp(1, 100_000) as usize;
    let links = crate::sitemap::site_urls(
        &pages,
        crate::sitemap::SiteMap {
            url,
            limit,
            search: req["search"].as_str(),
            sitemaps: req["sitemap"].as_str() != Some("skip")
                && req["ignoreSitemap"].as_bool() != Some(true),
        },
    )
    .await?;
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
        let (crawl, unsupported) = crawl_request(&json!({
            "url": "https://example.com/docs/",
            "includePaths": ["^/docs/.*", "blog"],
            "excludePaths": ["^/docs/old$"],
            "webhook": "https://example.com/hook",
            "scrapeOptions": {"formats": ["markdown", {"type": "html"}], "onlyMainContent": false},
        }));
        let include = regex::RegexSet::new(&crawl.include).unwrap();
        assert!(include.is_match("https://example.com/docs/a"));
        assert!(include.is_match("https://example.com/x/blog/1"));
        assert!(!include.is_match("https://example.com/api/docs/a"));
        let exclude = regex::RegexSet::new(&crawl.exclude).unwrap();
        assert!(exclude.is_match("http://example.com:8080/docs/old"));
        assert_eq!(crawl.scope, CrawlScope::Prefix);
        assert_eq!(
            unsupported,
            [
                "webhook",
                "scrapeOptions.formats html",
                "scrapeOptions.onlyMainContent"
            ]
        );
        // Full-URL patterns stay as given.
        let (crawl, unsupported) = crawl_request(&json!({
            "url": "https://example.com/",
            "includePaths": ["^https://example\\.com/a"],
            "regexOnFullURL": true,
            "crawlEntireDomain": true,
        }));
        assert_eq!(crawl.include, ["^https://example\\.com/a"]);
        assert_eq!(crawl.scope, CrawlScope::Host);
        assert!(unsupported.is_empty(), "{unsupported:?}");
    }
}

/// Firecrawl's extract request.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExtractRequest {
    /// The pages, absolute http(s) URLs (at most 10).
    urls: Vec<String>,
    /// What to extract.
    #[serde(default)]
    prompt: Option<String>,
    /// The JSON Schema of the answer (sent to the model as written).
    #[serde(default)]
    schema: Option<Value>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// Most URLs of one extract job.
const MAX_EXTRACT_URLS: usize = 10;

/// `POST /v1|v2/extract`: starts a job that asks the LLM for one value over the pages.
pub(crate) async fn extract(
    State(pages): State<Arc<PageService>>,
    State(jobs): State<Arc<Jobs>>,
    body: WithText<ExtractRequest>,
) -> Result<Json<Value>, ApiError> {
    let WithText { body, text } = body;
    let Json(req) = body?;
    if req.urls.is_empty() || req.urls.len() > MAX_EXTRACT_URLS {
        return Err(ApiError::bad_request(format!(
            "urls: give 1 to {MAX_EXTRACT_URLS} URLs (got {})",
            req.urls.len()
        )));
    }
    let urls = req
        .urls
        .iter()
        .map(|u| {
            let url = parse_url(u)?;
            pages.check_url(&url).map_err(PageError::into_api)?;
            Ok(url)
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let format = JsonFormat {
        key: "json",
        prompt: req.prompt.clone(),
        schema: req.schema.clone(),
        path: vec!["schema".into()],
    };
    let mut probe = PageRequest::new(urls[0].clone(), pages.cfg.page_timeout);
    probe.extraction = Some(Extraction::Llm {
        instruction: format.instruction()?,
        input: LlmInput::MainMarkdown,
    });
    keep_schema_order(&mut probe, &text, &["schema"]);
    check_llm(&pages, &probe)?;
    let Some(Extraction::Llm { instruction, .. }) = probe.extraction else {
        return Err(ApiError::bad_request("no extraction"));
    };
    let warnings: Vec<String> = req
        .other
        .keys()
        .filter(|k| !matches!(k.as_str(), "origin" | "integration" | "systemPrompt"))
        .map(|k| format!("option {k:?} is not supported"))
        .collect();
    // In the job store when there is one (any replica of a cluster answers its status),
    // else in this server's memory.
    let id = if jobs.store_if_any().is_some() {
        let mut params = json!({"instruction": instruction.prompt, "input_format": "fit_markdown"});
        if let Some(schema) = &instruction.schema {
            params["schema"] = schema.clone();
        }
        let spec = BatchSpec {
            urls: req.urls.clone(),
            browser_config: Value::Null,
            crawler_config: json!({"extraction_strategy": {"type": "LLMExtractionStrategy", "params": params}}),
            schema_text: instruction.schema_text().map(str::to_owned),
            kind: BatchKind::Extract,
            warnings,
        };
        jobs.submit(JobSpec::Batch(spec)).await?
    } else {
        ExtractJobs::start(&pages, urls, instruction, warnings)
    };
    Ok(Json(json!({"success": true, "id": id, "urlTrace": []})))
}

/// `GET /v1|v2/extract/{id}`: the job's status, and its data and `tokensUsed` when done.
pub(crate) async fn extract_status(
    State(pages): State<Arc<PageService>>,
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if let Some(store) = jobs.store_if_any()
        && crate::jobs::valid_id(&id)
        && let Some(job) = store.get(&id).await?
        && job.kind == BatchKind::Extract.name()
        && let JobSpec::Batch(spec) = JobSpec::of(&job)?
    {
        let answer =
            crate::page::extract_jobs::store_status(store, &job, &spec.urls, spec.warnings).await?;
        return Ok(Json(answer));
    }
    pages.extract_jobs.status(&id).map(Json).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "job_not_found",
            format!("no extract job {id:?}"),
        )
    })
}
