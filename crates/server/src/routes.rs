//! The route table: every endpoint once, with its method, path, route class and
//! documentation. The router and `GET /openapi.json` are both built from it, so the spec
//! cannot leave out a route or describe one that does not exist, and request schemas come
//! from the very types the handlers deserialize (`schemars`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::Json;
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter, on};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::jobs::PageQuery;
use crate::limits::RouteClass;
use crate::state::AppState;
use crate::{crawl4ai, dashboard, firecrawl, jobs_api, llm_job};

/// What a route answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Produces {
    Json,
    /// Streamed JSON lines: the class permit is held until the stream ends.
    Ndjson,
    /// Server-sent events.
    EventStream,
    Html,
    /// Prometheus text.
    Text,
}

impl Produces {
    fn media_type(self) -> &'static str {
        match self {
            Produces::Json => "application/json",
            Produces::Ndjson => "application/x-ndjson",
            Produces::EventStream => "text/event-stream",
            Produces::Html => "text/html",
            Produces::Text => "text/plain",
        }
    }

    /// The answer streams: it outlives the handler.
    pub(crate) fn streams(self) -> bool {
        matches!(self, Produces::Ndjson | Produces::EventStream)
    }
}

type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// One endpoint.
pub(crate) struct Route {
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    pub(crate) class: RouteClass,
    pub(crate) produces: Produces,
    tag: &'static str,
    summary: &'static str,
    body: Option<SchemaFn>,
    query: Option<SchemaFn>,
    pub(crate) handler: MethodRouter<AppState>,
}

fn route<H, T>(
    method: &'static str,
    path: &'static str,
    class: RouteClass,
    tag: &'static str,
    summary: &'static str,
    handler: H,
) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = match method {
        "get" => MethodFilter::GET,
        "delete" => MethodFilter::DELETE,
        _ => MethodFilter::POST,
    };
    Route {
        method,
        path,
        class,
        produces: Produces::Json,
        tag,
        summary,
        body: None,
        query: None,
        handler: on(filter, handler),
    }
}

impl Route {
    fn body<B: JsonSchema>(mut self) -> Self {
        self.body = Some(|g| g.subschema_for::<B>());
        self
    }

    fn query<Q: JsonSchema>(mut self) -> Self {
        self.query = Some(|g| g.root_schema_for::<Q>());
        self
    }

    fn produces(mut self, produces: Produces) -> Self {
        self.produces = produces;
        self
    }
}

/// Every route of the service.
pub(crate) fn table() -> Vec<Route> {
    use RouteClass::{Browser, Jobs, Light, Page, Results};
    const C4: &str = "crawl4ai";
    const FC: &str = "firecrawl";
    const JOBS: &str = "jobs";
    const SVC: &str = "service";
    vec![
        route("get", "/health", Light, SVC, "Liveness: status, time, version.", health),
        route("get", "/openapi.json", Light, SVC, "This document.", openapi),
        route("get", "/metrics", Light, SVC, "Prometheus metrics: requests by route and status with latency histograms, fetch and extraction timings, route-class and page queues, memory, the browser pool.", dashboard::metrics)
            .produces(Produces::Text),
        route("get", "/dashboard", Light, SVC, "Live dashboard (HTML page; its data comes from /dashboard/events).", dashboard::page)
            .produces(Produces::Html),
        route("get", "/dashboard/events", Light, SVC, "Server-sent events: one snapshot of the service a second (pool tiers, memory, queues, request rate, recent errors, jobs). EventSource cannot send headers: the token may come as ?token=.", dashboard::events)
            .produces(Produces::EventStream),
        route("post", "/token", Light, C4, "crawl4ai's token endpoint, for its client's login step (authentication here is by configured Bearer tokens).", crawl4ai::token),
        route("get", "/schema", Light, C4, "The crawl4ai BrowserConfig and CrawlerRunConfig parameters this server understands.", crawl4ai::schema),
        route("post", "/crawl", Page, C4, "Crawl a list of URLs (at most max_urls) and answer with one crawl4ai CrawlResult each. Options we do not support are listed in unsupported_options, never silently ignored.", crawl4ai::crawl)
            .body::<crawl4ai::CrawlRequest>(),
        route("post", "/crawl/stream", Page, C4, "As /crawl, streamed: one CrawlResult per line as pages finish, then {\"status\":\"completed\"}.", crawl4ai::crawl_stream)
            .body::<crawl4ai::CrawlRequest>()
            .produces(Produces::Ndjson),
        route("post", "/md", Page, C4, "One page as Markdown: f=fit is the main content, f=raw the whole page, f=bm25 the blocks of the whole page that bear on q (BM25).", crawl4ai::markdown)
            .body::<crawl4ai::MarkdownRequest>(),
        route("post", "/html", Page, C4, "One page's cleaned main-content HTML.", crawl4ai::html)
            .body::<crawl4ai::UrlRequest>(),
        route("post", "/screenshot", Browser, C4, "A PNG screenshot of the rendered page (base64).", crawl4ai::screenshot)
            .body::<crawl4ai::UrlRequest>(),
        route("post", "/pdf", Browser, C4, "The rendered page printed as PDF (base64).", crawl4ai::pdf)
            .body::<crawl4ai::UrlRequest>(),
        route("post", "/execute_js", Browser, C4, "Run scripts in the rendered page and answer with the page and the last script's value. 403 unless the server runs with --execute-js.", crawl4ai::execute_js)
            .body::<crawl4ai::UrlRequest>(),
        route("post", "/llm/job", Jobs, C4, "Start a crawl4ai LLM job: the configured LLM extracts q (with the JSON schema `schema`, else blocks) from url; poll GET /llm/job/{task_id}. 400 llm_not_configured without an LLM.", llm_job::llm_job)
            .body::<llm_job::LlmJobRequest>(),
        route("get", "/llm/job/{id}", Light, C4, "A crawl4ai LLM job's status: result (the extracted value) and usage when completed, error when failed.", llm_job::llm_job_status),
        route("get", "/llm/{*url}", Page, C4, "crawl4ai's question answering: the configured LLM answers q from the page's main content: {answer}. 400 llm_not_configured without an LLM.", crawl4ai::llm_answer)
            .query::<crawl4ai::LlmQuery>(),
        route("post", "/v1/extract", Page, FC, "Firecrawl extract: a job asking the configured LLM for one value (prompt, schema) over up to 10 URLs; poll GET /v1/extract/{id}.", firecrawl::extract)
            .body::<firecrawl::ExtractRequest>(),
        route("post", "/v2/extract", Page, FC, "Firecrawl v2 extract (same as v1).", firecrawl::extract)
            .body::<firecrawl::ExtractRequest>(),
        route("get", "/v1/extract/{id}", Light, FC, "A Firecrawl extract job: status, data and tokensUsed.", firecrawl::extract_status),
        route("get", "/v2/extract/{id}", Light, FC, "As /v1/extract/{id}.", firecrawl::extract_status),
        route("post", "/crawl/job", Jobs, C4, "Start a batch job (crawl4ai's job API): answers {task_id}.", crawl4ai::crawl_job)
            .body::<crawl4ai::CrawlJobRequest>(),
        route("get", "/crawl/job/{id}", Light, C4, "A crawl4ai job's status and, when done, its results (the first page of them: use /jobs/{id}/results for the rest).", crawl4ai::crawl_job_status),
        route("post", "/v1/scrape", Page, FC, "Firecrawl v1 scrape: one page in the requested formats (markdown, html, rawHtml, links, screenshot).", firecrawl::scrape)
            .body::<firecrawl::ScrapeRequest>(),
        route("post", "/v2/scrape", Page, FC, "Firecrawl v2 scrape (same as v1 here).", firecrawl::scrape)
            .body::<firecrawl::ScrapeRequest>(),
        route("post", "/v1/crawl", Jobs, FC, "Start a Firecrawl crawl (url, limit, maxDepth/maxDiscoveryDepth, includePaths, excludePaths, allowExternalLinks, scrapeOptions.formats). Robots.txt, politeness and scope apply.", firecrawl::crawl),
        route("post", "/v2/crawl", Jobs, FC, "Start a Firecrawl v2 crawl (same as v1 here).", firecrawl::crawl),
        route("get", "/v1/crawl/{id}", Results, FC, "A Firecrawl crawl's status and a page of its documents, with `next` for the following page.", firecrawl::crawl_status)
            .query::<PageQuery>(),
        route("get", "/v2/crawl/{id}", Results, FC, "As /v1/crawl/{id}.", firecrawl::crawl_status)
            .query::<PageQuery>(),
        route("delete", "/v1/crawl/{id}", Light, FC, "Cancel a Firecrawl crawl.", firecrawl::cancel),
        route("delete", "/v2/crawl/{id}", Light, FC, "Cancel a Firecrawl crawl.", firecrawl::cancel),
        route("post", "/v1/map", Jobs, FC, "Firecrawl map: the site's URLs from its start page and sitemaps (url, search, limit, includeSubdomains).", firecrawl::map),
        route("post", "/v2/map", Jobs, FC, "Firecrawl v2 map (same as v1 here).", firecrawl::map),
        route("post", "/jobs", Jobs, JOBS, "Start a job: a batch of URLs (`urls`) or a crawl (`crawl`). Results are stored (SQLite in the data dir) until the job's TTL ends.", jobs_api::create_job)
            .body::<jobs_api::JobRequest>(),
        route("get", "/jobs/{id}", Light, JOBS, "A job's status and progress.", jobs_api::get_job),
        route("delete", "/jobs/{id}", Light, JOBS, "Cancel a job (its stored results stay until its TTL ends).", jobs_api::cancel_job),
        route("get", "/jobs/{id}/results", Results, JOBS, "A page of a job's results by keyset pagination: pass the answer's next_cursor as cursor. At most 100 results or 8 MiB a page.", jobs_api::job_results)
            .query::<PageQuery>(),
        route("get", "/jobs/{id}/results.ndjson", Results, JOBS, "All of a job's results as JSON lines, read from the store a page at a time (the server's memory does not grow with the job).", jobs_api::job_results_ndjson)
            .produces(Produces::Ndjson),
    ]
}

/// Liveness. A cluster replica adds the cluster (`replica`, `redis`: ok | unreachable,
/// live replicas, jobs queued and running), read within a second; it stays 200 while Redis
/// is unreachable, since its single-page routes still work.
async fn health(
    axum::extract::State(jobs): axum::extract::State<std::sync::Arc<crate::runner::Jobs>>,
) -> Json<Value> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut body = json!({
        "status": "ok",
        "timestamp": now,
        "version": env!("CARGO_PKG_VERSION"),
    });
    if let Some(cluster) = &jobs.cluster {
        let mut c = match cluster.view(std::time::Duration::from_secs(1)).await {
            Ok(view) => {
                let mut v = view.to_json();
                v["redis"] = json!("ok");
                v
            }
            Err(_) => json!({"redis": "unreachable"}),
        };
        c["replica"] = json!(cluster.replica);
        c["draining"] = json!(jobs.closing.is_closed());
        body["cluster"] = c;
    }
    Json(body)
}

async fn openapi() -> Json<Value> {
    static SPEC: OnceLock<Value> = OnceLock::new();
    Json(SPEC.get_or_init(spec).clone())
}

/// The OpenAPI 3.1 document of [`table`].
pub(crate) fn spec() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas/".into();
    let mut generator = settings.into_generator();
    let error = generator.subschema_for::<crate::error::ErrorBody>();
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for r in table() {
        let mut op = Map::new();
        op.insert("tags".into(), json!([r.tag]));
        op.insert("summary".into(), json!(r.summary));
        op.insert(
            "operationId".into(),
            json!(format!(
                "{}_{}",
                r.method,
                r.path
                    .trim_start_matches('/')
                    .replace(['/', '.'], "_")
                    .replace(['{', '}'], "")
            )),
        );
        op.insert("x-route-class".into(), json!(r.class.name()));
        let mut params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
            })
            .collect();
        if let Some(query) = r.query {
            let schema = query(&mut generator).to_value();
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(props) = schema["properties"].as_object() {
                for (name, s) in props {
                    let mut p = json!({"name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": s});
                    if let Some(d) = s.get("description") {
                        p["description"] = d.clone();
                    }
                    params.push(p);
                }
            }
        }
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if let Some(body) = r.body {
            let schema = body(&mut generator).to_value();
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": {"schema": schema}}}),
            );
        }
        let ok = match r.produces {
            Produces::Json => json!({"type": "object"}),
            _ => json!({"type": "string"}),
        };
        let error_content = json!({"application/json": {"schema": error.clone().to_value()}});
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({"description": "OK", "content": {r.produces.media_type(): {"schema": ok}}}),
        );
        for (status, why) in [
            (
                "400",
                "Bad request: invalid JSON, URL or option (the message says which).",
            ),
            (
                "401",
                "Missing or wrong Bearer token (when the server has tokens).",
            ),
            (
                "403",
                "Refused: the URL's address (or a redirect hop's) is one the address guard refuses (code forbidden_address; address_class names the class: private, loopback, link-local, cloud-metadata, …), or the route is disabled.",
            ),
            ("404", "No such route or job."),
            ("413", "Request body over the limit."),
            ("429", "Rate limited; Retry-After says when to come back."),
            (
                "502",
                "The page could not be fetched or rendered (the message names the URL and the problem).",
            ),
            (
                "503",
                "Overloaded (queue full, deadline passed, memory high); Retry-After says when to come back.",
            ),
        ] {
            responses.insert(
                status.into(),
                json!({"description": why, "content": error_content}),
            );
        }
        op.insert("responses".into(), Value::Object(responses));
        paths
            .entry(r.path.to_string())
            .or_default()
            .insert(r.method.to_string(), Value::Object(op));
    }
    let schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "gannet",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "gannet serve: web pages as clean Markdown. Speaks crawl4ai's and Firecrawl's APIs, plus its own jobs API. Errors are {\"error\": {\"code\", \"message\"}}; every answer carries x-request-id.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}, {}],
    })
}
