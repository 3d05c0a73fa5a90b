//! The tool table: every MCP tool once, with its name, route class, summary and the
//! JSON schemas of its arguments and result — shaped like the route table
//! (`crate::routes`). `tools/list` is built from it, and each tool calls the same services
//! the HTTP handlers call (the page service, the job service), never a handler.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::args::*;
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::jobs::MAX_PAGE_ITEMS;
use crate::limits::{ClassLimits, RouteClass};
use crate::page::extraction::{check_llm, extraction_api_error};
use crate::page::{
    Extraction, Focus, IntoApi, LlmInput, PageError, PageRequest, PageService, RenderPolicy,
    get_page, parse_url,
};
use crate::runner::{CrawlSpec, JobSpec, Jobs};

/// What the tools run on: the services of one server (or of `gannet mcp`).
#[derive(Clone)]
pub(crate) struct Services {
    pub(crate) cfg: Arc<ServerConfig>,
    pub(crate) pages: Arc<PageService>,
    pub(crate) jobs: Arc<Jobs>,
    pub(crate) classes: Arc<ClassLimits>,
}

pub(super) type Answer = Pin<Box<dyn Future<Output = Result<CallToolResult, ApiError>> + Send>>;
type CallFn = fn(Services, Value) -> Answer;
type SchemaFn = fn() -> Arc<JsonObject>;

/// One tool.
pub(crate) struct ToolDef {
    pub(crate) name: &'static str,
    pub(crate) class: RouteClass,
    pub(crate) summary: &'static str,
    pub(super) input: SchemaFn,
    pub(super) output: Option<SchemaFn>,
    /// Reads the web only (no job is started).
    pub(super) read_only: bool,
    pub(crate) call: CallFn,
    /// How an error reads as the tool's result.
    pub(crate) error: fn(&ApiError) -> CallToolResult,
}

impl ToolDef {
    /// The tool as `tools/list` shows it.
    pub(crate) fn tool(&self) -> Tool {
        let mut tool = Tool::new(self.name, self.summary, (self.input)()).with_annotations(
            ToolAnnotations::new()
                .read_only(self.read_only)
                .destructive(false)
                .open_world(true),
        );
        if let Some(output) = self.output {
            tool = tool.with_raw_output_schema(output());
        }
        tool
    }
}

pub(super) fn input<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    rmcp::handler::server::tool::schema_for_type::<T>()
}

fn output<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    rmcp::handler::server::tool::schema_for_output::<T>()
}

/// Every tool.
pub(crate) fn table() -> Vec<ToolDef> {
    use RouteClass::{Browser, Jobs as JobsClass, Page, Results};
    vec![
        ToolDef {
            name: "scrape",
            class: Page,
            summary: "Fetch one web page and answer with its main content as clean Markdown (or text, cleaned HTML, or JSON with the page's metadata). Renders in a browser only when the page needs JavaScript, unless render says otherwise.",
            input: input::<ScrapeArgs>,
            output: Some(output::<ScrapeOut>),
            read_only: true,
            error: tool_error,
            call: |s, a| Box::pin(async move { scrape(s, parse(a)?).await }),
        },
        ToolDef {
            name: "crawl",
            class: JobsClass,
            summary: "Start crawling a site from a URL (robots.txt, politeness and the site's scope apply). Answers at once with a job id: read the pages with crawl_status.",
            input: input::<CrawlArgs>,
            output: Some(output::<CrawlOut>),
            read_only: false,
            error: tool_error,
            call: |s, a| Box::pin(async move { crawl(s, parse(a)?).await }),
        },
        ToolDef {
            name: "crawl_status",
            class: Results,
            summary: "A crawl job's status and a page of its results (each page's URL and Markdown); pass next_cursor as cursor for the following page.",
            input: input::<CrawlStatusArgs>,
            output: Some(output::<CrawlStatusOut>),
            read_only: true,
            error: tool_error,
            call: |s, a| Box::pin(async move { crawl_status(s, parse(a)?).await }),
        },
        ToolDef {
            name: "map",
            class: JobsClass,
            summary: "List a site's URLs: the page's internal links and the URLs of the site's sitemaps (bounded by limit).",
            input: input::<MapArgs>,
            output: Some(output::<MapOut>),
            read_only: true,
            error: tool_error,
            call: |s, a| Box::pin(async move { map(s, parse(a)?).await }),
        },
        ToolDef {
            name: "screenshot",
            class: Browser,
            summary: "A PNG screenshot of the page rendered in a headless browser (an image content block).",
            input: input::<ScreenshotArgs>,
            output: None,
            read_only: true,
            error: tool_error,
            call: |s, a| Box::pin(async move { screenshot(s, parse(a)?).await }),
        },
        ToolDef {
            name: "search_page",
            class: Page,
            summary: "The parts of one page that bear on a query, ranked by BM25 over the page's blocks and kept under their headings, as Markdown.",
            input: input::<SearchPageArgs>,
            output: Some(output::<SearchPageOut>),
            read_only: true,
            error: tool_error,
            call: |s, a| Box::pin(async move { search_page(s, parse(a)?).await }),
        },
    ]
}

pub(super) fn parse<T: DeserializeOwned>(args: Value) -> Result<T, ApiError> {
    serde_json::from_value(args).map_err(|e| ApiError::bad_request(format!("arguments: {e}")))
}

/// A result with text content and the same value as `structuredContent`.
fn structured<T: Serialize>(text: String, value: &T) -> Result<CallToolResult, ApiError> {
    let value =
        serde_json::to_value(value).map_err(|e| ApiError::internal("internal", e.to_string()))?;
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(value);
    Ok(result)
}

/// A URL the address guard allows (a refused one is a 403 `forbidden_address`).
fn checked_url(pages: &PageService, url: &str) -> Result<url::Url, ApiError> {
    let url = parse_url(url)?;
    pages.check_url(&url).map_err(PageError::into_api)?;
    Ok(url)
}

async fn scrape(s: Services, a: ScrapeArgs) -> Result<CallToolResult, ApiError> {
    let url = checked_url(&s.pages, &a.url)?;
    let mut req = PageRequest::new(url, s.cfg.page_timeout);
    req.render = match a.render {
        RenderMode::Auto => RenderPolicy::Auto,
        RenderMode::Always => RenderPolicy::Always,
        RenderMode::Never => RenderPolicy::Never,
    };
    if !a.wait_for.trim().is_empty() {
        let w = a.wait_for.trim();
        let w = if w.starts_with("css:") || w.starts_with("js:") {
            w.to_string()
        } else {
            format!("css:{w}")
        };
        req.wait = w
            .parse()
            .map_err(|e: gannet_browser::Error| ApiError::bad_request(e.to_string()))?;
    }
    let main = a.only_main_content;
    req.extraction = extraction(&a, main)?;
    check_llm(&s.pages, &req)?;
    req.want_raw_markdown =
        !main && matches!(a.format, Format::Markdown | Format::Text | Format::Json);
    req.want_cleaned_html = main && a.format == Format::Html;
    req.want_links = a.format == Format::Json;
    let p = get_page(&s.pages, req).await.map_err(PageError::into_api)?;
    let extracted = match p.extracted {
        Some(Ok(x)) => Some(x.value),
        Some(Err(e)) => return Err(extraction_api_error(&e)),
        None => None,
    };
    let doc = match (main, p.raw_doc) {
        (false, Some(raw)) => raw,
        _ => p.doc,
    };
    let (format, content) = match a.format {
        Format::Markdown => ("markdown", doc.markdown.clone()),
        Format::Text => ("text", doc.text.clone()),
        Format::Html if main => ("html", p.cleaned_html.unwrap_or_default()),
        Format::Html => ("html", p.html),
        Format::Json => (
            "json",
            serde_json::to_string_pretty(&doc)
                .map_err(|e| ApiError::internal("internal", e.to_string()))?,
        ),
    };
    let out = ScrapeOut {
        url: a.url,
        final_url: p.final_url,
        status: p.status,
        title: doc.title.clone().unwrap_or_default(),
        format: format.into(),
        content,
        rendered: p.rendered,
        extracted,
    };
    let text = match &out.extracted {
        Some(v) => format!("{}\n\nExtracted:\n{v:#}", out.content),
        None => out.content.clone(),
    };
    structured(text, &out)
}

/// The extraction `scrape`'s arguments ask for: a crawl4ai CSS schema, or the LLM with a
/// prompt and/or a JSON Schema; `None` without them.
fn extraction(a: &ScrapeArgs, main: bool) -> Result<Option<Extraction>, ApiError> {
    if let Some(schema) = &a.css_schema {
        let schema = gannet_schema::Schema::css(&Value::Object(schema.clone()))
            .map_err(|e| ApiError::bad_request(format!("css_schema: {e}")))?;
        return Ok(Some(Extraction::Schema(Arc::new(
            gannet_schema::Strategy::Json(schema),
        ))));
    }
    if a.prompt.trim().is_empty() && a.json_schema.is_none() {
        return Ok(None);
    }
    let mut instruction = gannet_llm::Instruction::new(a.prompt.trim());
    if let Some(schema) = &a.json_schema {
        instruction = instruction.with_schema(Value::Object(schema.clone()));
    }
    Ok(Some(Extraction::Llm {
        instruction,
        input: if main {
            LlmInput::MainMarkdown
        } else {
            LlmInput::PageMarkdown
        },
    }))
}

async fn crawl(s: Services, a: CrawlArgs) -> Result<CallToolResult, ApiError> {
    let spec = CrawlSpec {
        url: a.url,
        limit: a.limit,
        max_depth: a.depth,
        include: a.include,
        exclude: a.exclude,
        ..CrawlSpec::default()
    };
    let id = s.jobs.submit(JobSpec::Crawl(spec)).await?;
    let out = CrawlOut {
        id: id.clone(),
        status: "queued".into(),
    };
    structured(
        format!("Crawl started: job {id}. Call crawl_status with this id to read its pages."),
        &out,
    )
}

async fn crawl_status(s: Services, a: CrawlStatusArgs) -> Result<CallToolResult, ApiError> {
    let job = s.jobs.job_or_404(&a.id).await?;
    let cursor = a.cursor.unwrap_or(0).max(0);
    let limit = a.limit.unwrap_or(10).clamp(1, MAX_PAGE_ITEMS as u64) as usize;
    let (rows, next) = s.jobs.store()?.results_page(&job.id, cursor, limit).await?;
    let last = rows.last().map_or(cursor, |r| r.seq);
    let results: Vec<Value> = rows
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap_or(Value::Null))
        .collect();
    let out = CrawlStatusOut {
        id: job.id.clone(),
        status: job.status.as_str().into(),
        total: job.total,
        done: job.done,
        results,
        next_cursor: next.unwrap_or(last),
        more: next.is_some(),
        error: job.error.clone().unwrap_or_default(),
    };
    let mut text = format!(
        "Job {}: {} ({} of {} pages done). {} results here; next_cursor {}{}.\n",
        out.id,
        out.status,
        out.done,
        out.total,
        out.results.len(),
        out.next_cursor,
        if out.more { ", more stored" } else { "" },
    );
    for r in &out.results {
        let url = r["url"].as_str().unwrap_or_default();
        let md = r["markdown"].as_str().unwrap_or_default();
        text.push_str(&format!("\n## {url}\n\n{md}\n"));
    }
    structured(text, &out)
}

async fn map(s: Services, a: MapArgs) -> Result<CallToolResult, ApiError> {
    let url = checked_url(&s.pages, &a.url)?;
    let limit = a.limit.unwrap_or(1_000).clamp(1, 100_000) as usize;
    let links = crate::sitemap::site_urls(
        &s.pages,
        crate::sitemap::SiteMap {
            url,
            limit,
            search: Some(&a.search)
                .filter(|q| !q.is_empty())
                .map(String::as_str),
            sitemaps: a.sitemaps,
        },
    )
    .await?;
    let out = MapOut { url: a.url, links };
    structured(out.links.join("\n"), &out)
}

async fn screenshot(s: Services, a: ScreenshotArgs) -> Result<CallToolResult, ApiError> {
    let url = checked_url(&s.pages, &a.url)?;
    if let Err(e) = s.pages.pool().await {
        return Err(ApiError::unavailable(
            "browser_unavailable",
            format!("screenshots need the browser, which is unavailable here: {e}"),
        ));
    }
    let mut req = PageRequest::new(url, s.cfg.page_timeout);
    req.screenshot = Some(gannet_browser::Screenshot {
        full_page: a.full_page,
    });
    let p = get_page(&s.pages, req).await.map_err(PageError::into_api)?;
    let png = p.screenshot.unwrap_or_default();
    if png.is_empty() {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_GATEWAY,
            "page_failed",
            format!("{}: the browser returned no screenshot", a.url),
        ));
    }
    Ok(CallToolResult::success(vec![ContentBlock::image(
        data_encoding::BASE64.encode(&png),
        "image/png",
    )]))
}

async fn search_page(s: Services, a: SearchPageArgs) -> Result<CallToolResult, ApiError> {
    let url = checked_url(&s.pages, &a.url)?;
    let mut req = PageRequest::new(url, s.cfg.page_timeout);
    req.want_links = false;
    req.focus = Some(Focus {
        query: a.query.clone(),
        threshold: gannet_extract::relevance::DEFAULT_THRESHOLD,
    });
    let p = get_page(&s.pages, req).await.map_err(PageError::into_api)?;
    let out = SearchPageOut {
        url: a.url,
        query: a.query,
        markdown: p.focused.unwrap_or_default(),
    };
    structured(out.markdown.clone(), &out)
}

/// An error as the tool result the agent sees (`isError: true`): the code first, e.g.
/// `forbidden_address (loopback): …`.
pub(crate) fn tool_error(e: &ApiError) -> CallToolResult {
    let head = match &e.address_class {
        Some(class) => format!("{} ({class})", e.code),
        None => e.code.to_string(),
    };
    CallToolResult::error(vec![ContentBlock::text(format!("{head}: {}", e.message))])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(v: &Value, path: &str, found: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if matches!(k.as_str(), "anyOf" | "oneOf" | "allOf" | "$ref" | "$defs") {
                        found.push(format!("{path}/{k}"));
                    }
                    walk(x, &format!("{path}/{k}"), found);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, path, found)),
            _ => {}
        }
    }

    #[test]
    fn every_tool_has_a_flat_object_schema_and_a_unique_name() {
        let table = table();
        let mut names: Vec<&str> = table.iter().map(|t| t.name).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "crawl",
                "crawl_status",
                "map",
                "scrape",
                "screenshot",
                "search_page"
            ]
        );
        for def in &table {
            let tool = def.tool();
            let schema = Value::Object((*tool.input_schema).clone());
            assert_eq!(schema["type"], "object", "{}", def.name);
            assert!(schema["properties"]["url"].is_object() || def.name == "crawl_status");
            let mut found = Vec::new();
            walk(&schema, def.name, &mut found);
            assert!(found.is_empty(), "{}: {found:?} in {schema}", def.name);
            // Every property is a plain typed value.
            for (name, p) in schema["properties"].as_object().expect("properties") {
                assert!(p["type"].is_string(), "{}.{name}: {p}", def.name);
                assert!(
                    p["description"].is_string(),
                    "{}.{name} undocumented",
                    def.name
                );
            }
            if let Some(out) = &tool.output_schema {
                assert_eq!(
                    out.get("type"),
                    Some(&Value::from("object")),
                    "{}",
                    def.name
                );
            }
        }
        let scrape = table
            .iter()
            .find(|t| t.name == "scrape")
            .expect("scrape")
            .tool();
        let props = &scrape.input_schema["properties"];
        assert_eq!(
            props["format"]["enum"],
            serde_json::json!(["markdown", "text", "html", "json"])
        );
        assert_eq!(
            props["render"]["enum"],
            serde_json::json!(["auto", "always", "never"])
        );
        assert_eq!(scrape.input_schema["required"], serde_json::json!(["url"]));
    }

    #[test]
    fn enum_values_are_accepted_in_any_case_and_others_are_named() {
        let a: ScrapeArgs = parse(serde_json::json!({
            "url": "https://example.com/", "format": "HTML", "render": "Always"
        }))
        .expect("parses");
        assert_eq!((a.format, a.render), (Format::Html, RenderMode::Always));
        assert!(a.only_main_content);
        let d: ScrapeArgs =
            parse(serde_json::json!({"url": "https://example.com/"})).expect("defaults");
        assert_eq!((d.format, d.render), (Format::Markdown, RenderMode::Auto));
        let e = parse::<ScrapeArgs>(serde_json::json!({"url": "x", "format": "pdf"}))
            .expect_err("pdf is no format");
        assert_eq!(e.code, "bad_request");
        assert!(
            e.message.contains("markdown, text, html, json"),
            "{}",
            e.message
        );
        let c: CrawlArgs =
            parse(serde_json::json!({"url": "https://example.com/", "limit": 5})).expect("crawl");
        assert_eq!((c.limit, c.depth), (Some(5), None));
    }

    #[test]
    fn a_refused_address_reads_as_a_forbidden_address_tool_error() {
        let e = ApiError::forbidden_address("loopback".into(), "http://127.0.0.1/: refused");
        let r = tool_error(&e);
        assert_eq!(r.is_error, Some(true));
        let text = serde_json::to_value(&r.content).expect("json").to_string();
        assert!(
            text.contains("forbidden_address (loopback): http://127.0.0.1/: refused"),
            "{text}"
        );
    }
}
