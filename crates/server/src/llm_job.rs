//! crawl4ai's LLM jobs: `POST /llm/job` (`{url, q, schema?}`) starts one, `GET
//! /llm/job/{task_id}` answers its status as crawl4ai's server does (`{task_id, status,
//! created_at, url, _links}`, plus `result` when completed or `error` when failed).
//!
//! A job is a one-URL batch with an `LLMExtractionStrategy`, stored as kind `llm` in the
//! job store: the embedded runner or any replica of a cluster runs it through the page
//! service, and any replica answers its status from the store. The schema is kept as the
//! client wrote it (its property order steers the model). Beyond crawl4ai's answer:
//! `usage` (the tokens spent) and `unsupported_options` (what the request asked that the
//! server does not do: its own LLM settings always apply).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::jobs::Status;
use crate::page::PageService;
use crate::page::body::WithText;
use crate::page::extraction::{bad_schema, check_llm};
use crate::runner::{BatchKind, BatchSpec, JobSpec, Jobs, batch_template};

/// crawl4ai's `LlmJobPayload`.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct LlmJobRequest {
    /// The page (a URL without a scheme is taken as https, as crawl4ai does).
    url: String,
    /// The instruction: what to extract.
    q: String,
    /// A JSON Schema the answer must match, as a JSON string (crawl4ai's form) or an
    /// object; without it the page is split into blocks `{index, tags, content}`.
    #[serde(default)]
    schema: Option<Value>,
    /// crawl4ai's cache switch: pages are always fetched fresh here.
    #[serde(default)]
    cache: Option<Value>,
    /// Ignored: the server's LLM settings apply (reported in `unsupported_options`).
    #[serde(default)]
    provider: Option<Value>,
    /// Ignored, as `provider`.
    #[serde(default)]
    temperature: Option<Value>,
    /// Ignored, as `provider` (a pre-0.9 client's; never followed).
    #[serde(default)]
    base_url: Option<Value>,
    /// Not supported: poll the status instead.
    #[serde(default)]
    webhook_config: Option<Value>,
}

/// `POST /llm/job`: stores the job and answers crawl4ai's `{task_id, status: "processing",
/// url, _links}`.
pub(crate) async fn llm_job(
    State(pages): State<Arc<PageService>>,
    State(jobs): State<Arc<Jobs>>,
    headers: HeaderMap,
    body: WithText<LlmJobRequest>,
) -> Result<Response, ApiError> {
    let WithText { body, text } = body;
    let axum::Json(req) = body?;
    if req.q.trim().is_empty() {
        return Err(ApiError::bad_request("q: give an instruction"));
    }
    let url = absolute(&req.url);
    let mut unsupported = Vec::new();
    for (name, value) in [
        ("provider", &req.provider),
        ("temperature", &req.temperature),
        ("base_url", &req.base_url),
        ("webhook_config", &req.webhook_config),
    ] {
        if value.as_ref().is_some_and(|v| !v.is_null()) {
            unsupported.push(format!("{name} (ignored: the server's LLM settings apply)"));
        }
    }
    if req
        .cache
        .as_ref()
        .is_some_and(|v| v.as_bool() == Some(true))
    {
        unsupported.push("cache (pages are fetched fresh)".into());
    }
    // The schema: crawl4ai's client sends a JSON string; an object is taken as written.
    let schema_text = match &req.schema {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(_)) => crate::page::body::raw_at(&text, &["schema"]),
        Some(_) => {
            return Err(bad_schema(
                "schema",
                "must be a JSON Schema (a string or an object)",
            ));
        }
    };
    let mut params = json!({"instruction": req.q});
    if let Some(t) = &schema_text {
        let schema: Value = serde_json::from_str(t).map_err(|e| bad_schema("schema", e))?;
        if !schema.is_object() {
            return Err(bad_schema("schema", "must be a JSON Schema object"));
        }
        params["schema"] = schema;
    }
    let spec = BatchSpec {
        urls: vec![url.clone()],
        browser_config: Value::Null,
        crawler_config: json!({"extraction_strategy": {"type": "LLMExtractionStrategy", "params": params}}),
        schema_text,
        kind: BatchKind::Llm,
        warnings: Vec::new(),
    };
    check_llm(&pages, &batch_template(&pages.cfg, &spec)?)?;
    let id = jobs.submit(JobSpec::Batch(spec)).await?;
    let base = base_url(&headers);
    Ok((
        StatusCode::OK,
        Json(json!({
            "task_id": id,
            "status": "processing",
            "url": url,
            "_links": {
                "self": {"href": format!("{base}/llm/job/{id}")},
                "status": {"href": format!("{base}/llm/job/{id}")},
            },
            "unsupported_options": unsupported,
        })),
    )
        .into_response())
}

/// `GET /llm/job/{task_id}`: crawl4ai's task status; `result` is the extracted value
/// (crawl4ai's list of items or blocks), `usage` its tokens.
pub(crate) async fn llm_job_status(
    State(jobs): State<Arc<Jobs>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = jobs.job_or_404(&id).await?;
    if job.kind != "llm" {
        return Err(ApiError::not_found(
            "job_not_found",
            format!("no LLM job {id}"),
        ));
    }
    let url = match JobSpec::of(&job)? {
        JobSpec::Batch(b) => b.urls.into_iter().next().unwrap_or_default(),
        JobSpec::Crawl(c) => c.url,
    };
    let base = base_url(&headers);
    let mut out = json!({
        "task_id": job.id,
        "status": "processing",
        "created_at": gannet_sink::rfc3339_millis(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(job.created_at.max(0) as u64),
        ),
        "url": url,
        "_links": {
            "self": {"href": format!("{base}/llm/job/{}", job.id)},
            "refresh": {"href": format!("{base}/llm/job/{}", job.id)},
        },
    });
    match job.status {
        Status::Completed => {
            let (rows, _) = jobs.store()?.results_page(&job.id, 0, 1).await?;
            let result: Value = rows
                .first()
                .and_then(|r| serde_json::from_str(&r.body).ok())
                .unwrap_or(Value::Null);
            match outcome(&result) {
                Ok((value, usage)) => {
                    out["status"] = json!("completed");
                    out["result"] = value;
                    out["usage"] = usage;
                }
                Err(error) => {
                    out["status"] = json!("failed");
                    out["error"] = json!(error);
                }
            }
        }
        Status::Failed | Status::Cancelled => {
            out["status"] = json!("failed");
            out["error"] = json!(job.error.unwrap_or_else(|| job.status.as_str().to_owned()));
        }
        Status::Queued | Status::Running => {}
    }
    Ok(Json(out))
}

/// The job's one CrawlResult as crawl4ai's task outcome: the extracted value and its
/// usage, or why there is none (the page failed, or the LLM did).
fn outcome(result: &Value) -> Result<(Value, Value), String> {
    if result["success"] != Value::Bool(true) {
        return Err(result["error_message"]
            .as_str()
            .unwrap_or("the page could not be fetched")
            .to_owned());
    }
    if let Some(message) = result["metadata"]["extraction_error"]["message"].as_str() {
        return Err(message.to_owned());
    }
    // crawl4ai stores the parsed `extracted_content` (a JSON string of the items).
    let value = match &result["extracted_content"] {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
        other => other.clone(),
    };
    Ok((value, result["metadata"]["llm_usage"].clone()))
}

/// crawl4ai takes a URL without a scheme as https.
fn absolute(url: &str) -> String {
    let url = url.trim();
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_owned()
    } else {
        format!("https://{url}")
    }
}

/// The server's address as the client reached it (for `_links`): the Host header, https
/// behind a proxy that says so.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_of_a_crawl_result() {
        let ok = json!({"success": true, "extracted_content": "[{\"name\":\"x\"}]",
            "metadata": {"llm_usage": {"prompt_tokens": 5}, "extraction_error": null}});
        assert_eq!(
            outcome(&ok),
            Ok((json!([{"name": "x"}]), json!({"prompt_tokens": 5})))
        );
        let llm = json!({"success": true, "extracted_content": null,
            "metadata": {"extraction_error": {"code": "llm_failed", "message": "bad JSON"}}});
        assert_eq!(outcome(&llm), Err("bad JSON".to_owned()));
        let page = json!({"success": false, "error_message": "HTTP 404"});
        assert_eq!(outcome(&page), Err("HTTP 404".to_owned()));
        assert!(outcome(&Value::Null).is_err());
    }

    #[test]
    fn links_use_the_host_the_client_reached() {
        let mut h = HeaderMap::new();
        assert_eq!(base_url(&h), "http://localhost");
        h.insert("host", "127.0.0.1:8080".parse().expect("header"));
        assert_eq!(base_url(&h), "http://127.0.0.1:8080");
        h.insert("x-forwarded-proto", "https".parse().expect("header"));
        assert_eq!(base_url(&h), "https://127.0.0.1:8080");
        h.insert("host", "evil\"/x".parse().expect("header"));
        assert_eq!(base_url(&h), "https://localhost");
        assert_eq!(absolute("example.com/a"), "https://example.com/a");
    }
}
