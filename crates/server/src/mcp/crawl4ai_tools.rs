//! crawl4ai's MCP tools on its legacy transports (`/mcp/sse`, `/mcp/ws`): its names and
//! argument shapes (`md`, `html`, `screenshot`, `pdf`, `execute_js`, `crawl`), answered
//! as crawl4ai's bridge answers them — the text of the JSON its HTTP route returns — by
//! the very handlers of our crawl4ai routes (`crate::crawl4ai`), not a copy. After them,
//! gannet's own tools whose names do not collide; gannet's job-starting `crawl` is
//! `crawl_job` here. crawl4ai's `ask` (its own library documentation) is refused with a
//! tool error: gannet has no such corpus.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use rmcp::model::{CallToolResult, ContentBlock};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::tools::{Answer, Services, ToolDef, input, parse};
use crate::crawl4ai;
use crate::error::ApiError;
use crate::limits::RouteClass;
use crate::page::body::WithText;

/// crawl4ai's `md`.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct MdArgs {
    /// The page, an absolute http(s) URL.
    url: String,
    /// fit (default: the main content), raw (the whole page) or bm25 (the blocks of the
    /// page that bear on q). llm is not supported.
    #[serde(default)]
    #[schemars(with = "String")]
    f: Option<String>,
    /// The query of the bm25 filter.
    #[serde(default)]
    #[schemars(with = "String")]
    q: Option<String>,
    /// crawl4ai's cache-bust counter; echoed back.
    #[serde(default)]
    #[schemars(with = "String")]
    c: Option<String>,
    /// gannet's extension: never (HTTP only), auto (default) or always (browser).
    #[serde(default)]
    #[schemars(with = "String")]
    render: Option<String>,
}

/// crawl4ai's `html` and `pdf`.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct UrlArgs {
    /// The page, an absolute http(s) URL.
    url: String,
}

/// crawl4ai's `screenshot`.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct ScreenshotArgs {
    /// The page, an absolute http(s) URL.
    url: String,
    /// Seconds to wait after the page loaded, before the shot.
    #[serde(default)]
    #[schemars(with = "f64")]
    screenshot_wait_for: Option<f64>,
}

/// crawl4ai's `execute_js`.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct ExecuteJsArgs {
    /// The page, an absolute http(s) URL.
    url: String,
    /// JavaScript snippets run in order in the page (each an expression, an IIFE or an
    /// async function); the answer is the page's CrawlResult with the last one's value.
    scripts: Vec<String>,
}

/// crawl4ai's `crawl`.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct CrawlArgs {
    /// Absolute http(s) URLs, at most the server's max_urls (default 100).
    urls: Vec<String>,
    /// crawl4ai's BrowserConfig ({"type": "BrowserConfig", "params": {...}} or the params).
    #[serde(default)]
    #[schemars(with = "Map<String, Value>")]
    browser_config: Option<Value>,
    /// crawl4ai's CrawlerRunConfig ({"type": "CrawlerRunConfig", "params": {...}} or the
    /// params); options gannet does not support are listed in unsupported_options.
    #[serde(default)]
    #[schemars(with = "Map<String, Value>")]
    crawler_config: Option<Value>,
}

/// Lower-cases `f` (enum values in any case), then parses into crawl4ai's request.
fn md_request(mut args: Value) -> Result<crawl4ai::MarkdownRequest, ApiError> {
    if let Some(f) = args.get_mut("f")
        && let Some(text) = f.as_str()
    {
        *f = Value::String(text.trim().to_ascii_lowercase());
    }
    parse(args)
}

/// crawl4ai's bridge answers with the JSON text of its route's answer.
fn json_text(value: &Value) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(value.to_string())])
}

/// An error as crawl4ai's bridge words it (`{"error": status, "detail": …}`), plus our
/// code, flagged `isError`.
pub(super) fn c4_error(e: &ApiError) -> CallToolResult {
    let mut body = json!({
        "error": e.status.as_u16(),
        "detail": e.message,
        "code": e.code,
    });
    if let Some(class) = &e.address_class {
        body["address_class"] = json!(class);
    }
    CallToolResult::error(vec![ContentBlock::text(body.to_string())])
}

/// Most bytes of a `crawl` answer read back from its handler.
const MAX_CRAWL_ANSWER: usize = 256 << 20;

fn md(s: Services, a: Value) -> Answer {
    Box::pin(async move {
        let req = md_request(a)?;
        let Json(v) = crawl4ai::markdown(State(s.cfg), State(s.pages), Ok(Json(req))).await?;
        Ok(json_text(&v))
    })
}

fn html(s: Services, a: Value) -> Answer {
    Box::pin(async move {
        let Json(v) = crawl4ai::html(State(s.cfg), State(s.pages), Ok(Json(parse(a)?))).await?;
        Ok(json_text(&v))
    })
}

fn screenshot(s: Services, a: Value) -> Answer {
    Box::pin(async move {
        let Json(v) =
            crawl4ai::screenshot(State(s.cfg), State(s.pages), Ok(Json(parse(a)?))).await?;
        Ok(json_text(&v))
    })
}

fn pdf(s: Services, a: Value) -> Answer {
    Box::pin(async move {
        let Json(v) = crawl4ai::pdf(State(s.cfg), State(s.pages), Ok(Json(parse(a)?))).await?;
        Ok(json_text(&v))
    })
}

fn execute_js(s: Services, a: Value) -> Answer {
    Box::pin(async move {
        let Json(v) =
            crawl4ai::execute_js(State(s.cfg), State(s.pages), Ok(Json(parse(a)?))).await?;
        Ok(json_text(&v))
    })
}

fn crawl(s: Services, a: Value) -> Answer {
    Box::pin(async move {
        // The arguments' text rides along, as an HTTP body's does (an LLM schema is sent
        // to the model as written).
        let text = bytes::Bytes::from(serde_json::to_vec(&a).unwrap_or_default());
        let body = WithText {
            body: Ok(Json(parse(a)?)),
            text,
        };
        let response = crawl4ai::crawl(State(s.cfg), State(s.pages), body)
            .await?
            .into_response();
        // The answer is JSON, or JSON lines when crawler_config asks to stream.
        let body = axum::body::to_bytes(response.into_body(), MAX_CRAWL_ANSWER)
            .await
            .map_err(|e| ApiError::internal("internal", format!("crawl answer: {e}")))?;
        Ok(CallToolResult::success(vec![ContentBlock::text(
            String::from_utf8_lossy(&body).into_owned(),
        )]))
    })
}

/// crawl4ai's tools, then gannet's whose names do not collide (`crawl` → `crawl_job`).
pub(crate) fn table() -> Vec<ToolDef> {
    use RouteClass::{Browser, Page};
    let c4 = |name, class, summary, input, call, read_only| ToolDef {
        name,
        class,
        summary,
        input,
        output: None,
        read_only,
        call,
        error: c4_error,
    };
    let mut table = vec![
        c4(
            "md",
            Page,
            "crawl4ai's md: one page as Markdown, as JSON {url, filter, query, cache, markdown, success}. f=fit: the main content (default); raw: the whole page; bm25: the blocks that bear on q.",
            input::<MdArgs>,
            md,
            true,
        ),
        c4(
            "html",
            Page,
            "crawl4ai's html: one page's cleaned main-content HTML, as JSON {html, url, success}.",
            input::<UrlArgs>,
            html,
            true,
        ),
        c4(
            "screenshot",
            Browser,
            "crawl4ai's screenshot: a full-page PNG of the rendered page, as JSON {success, screenshot: base64}.",
            input::<ScreenshotArgs>,
            screenshot,
            true,
        ),
        c4(
            "pdf",
            Browser,
            "crawl4ai's pdf: the rendered page printed as PDF, as JSON {success, pdf: base64}.",
            input::<UrlArgs>,
            pdf,
            true,
        ),
        c4(
            "execute_js",
            Browser,
            "crawl4ai's execute_js: run scripts in the rendered page; the page's CrawlResult as JSON (js_execution_result holds the values). Refused unless the server runs with --execute-js.",
            input::<ExecuteJsArgs>,
            execute_js,
            false,
        ),
        c4(
            "crawl",
            Page,
            "crawl4ai's crawl: a list of URLs, one CrawlResult each, as JSON {success, results, unsupported_options}. For a whole site use crawl_job.",
            input::<CrawlArgs>,
            crawl,
            true,
        ),
    ];
    for mut def in super::tools::table() {
        match def.name {
            "crawl" => def.name = "crawl_job",
            "screenshot" => continue,
            _ => {}
        }
        table.push(def);
    }
    table
}

/// crawl4ai tools gannet cannot do: a tool error saying why.
pub(crate) fn refused(name: &str) -> Option<CallToolResult> {
    (name == "ask").then(|| {
        c4_error(&ApiError::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            "not_supported",
            "ask answers from crawl4ai's own library documentation, which gannet does not have; \
             use search_page (BM25 over a page) or md with f=bm25 and q",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crawl4ai_names_come_first_flat_and_unique() {
        let table = table();
        let names: Vec<&str> = table.iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "md",
                "html",
                "screenshot",
                "pdf",
                "execute_js",
                "crawl",
                "scrape",
                "crawl_job",
                "crawl_status",
                "map",
                "search_page"
            ]
        );
        for def in &table {
            let schema = Value::Object((*def.tool().input_schema).clone());
            let text = schema.to_string();
            for word in ["anyOf", "oneOf", "allOf", "$ref"] {
                assert!(!text.contains(word), "{}: {word} in {text}", def.name);
            }
            for (name, p) in schema["properties"].as_object().expect("properties") {
                assert!(p["type"].is_string(), "{}.{name}: {p}", def.name);
            }
        }
        let md = table[0].tool();
        assert_eq!(md.input_schema["required"], json!(["url"]));
        let crawl = table[5].tool();
        assert_eq!(crawl.input_schema["required"], json!(["urls"]));
    }

    #[test]
    fn filters_in_any_case_and_refusals_in_crawl4ai_words() {
        let r = md_request(json!({"url": "https://example.com/", "f": " BM25 "}));
        assert!(r.is_ok());
        let refusal = refused("ask").expect("ask is refused");
        assert_eq!(refusal.is_error, Some(true));
        let text = serde_json::to_value(&refusal.content)
            .expect("json")
            .to_string();
        assert!(
            text.contains("not_supported") && text.contains("501"),
            "{text}"
        );
        assert!(refused("md").is_none());
    }
}
