//! Our own job routes over the job service ([`crate::runner`]): `POST /jobs` (`urls` for a
//! batch, `crawl` for a site), `GET /jobs/{id}`, `GET /jobs/{id}/results?cursor=&limit=`
//! (keyset pages), `GET /jobs/{id}/results.ndjson` (every result, streamed page by page),
//! `DELETE /jobs/{id}`. crawl4ai's and Firecrawl's job routes live beside their dialects.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::jobs::{Job, MAX_PAGE_ITEMS, PageQuery};
use crate::runner::{BatchSpec, CrawlSpec, JobSpec, Jobs};

/// A job: a batch of URLs, or a crawl.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct JobRequest {
    /// A batch: these URLs, each fetched (or rendered) and extracted.
    #[serde(default)]
    urls: Vec<String>,
    /// A crawl, run by the crawl engine (robots.txt, politeness and scope apply; the delay
    /// never goes below the server's, concurrency never above 16).
    #[serde(default)]
    crawl: Option<CrawlSpec>,
    /// crawl4ai's BrowserConfig for a batch.
    #[serde(default)]
    browser_config: Value,
    /// crawl4ai's CrawlerRunConfig for a batch.
    #[serde(default)]
    crawler_config: Value,
}

impl JobRequest {
    /// `body`: the request's text, whose LLM schema is kept as written.
    fn spec(self, body: &[u8]) -> Result<JobSpec, ApiError> {
        match (self.crawl, self.urls.is_empty()) {
            (Some(crawl), true) => Ok(JobSpec::Crawl(crawl)),
            (None, false) => Ok(JobSpec::Batch(BatchSpec {
                urls: self.urls,
                browser_config: self.browser_config,
                crawler_config: self.crawler_config,
                schema_text: crate::page::extraction::strategy_schema_text(body),
                ..BatchSpec::default()
            })),
            _ => Err(ApiError::bad_request(
                "give either urls (a batch) or crawl (a site crawl)",
            )),
        }
    }
}

pub(crate) async fn create_job(
    State(jobs): State<Arc<Jobs>>,
    body: crate::page::body::WithText<JobRequest>,
) -> Result<Response, ApiError> {
    let crate::page::body::WithText { body, text } = body;
    let Json(req) = body?;
    let id = jobs.submit(req.spec(&text)?).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"id": id, "status": "queued"})),
    )
        .into_response())
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
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(job_json(&jobs.job_or_404(&id).await?)))
}

pub(crate) async fn job_results(
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let job = jobs.job_or_404(&id).await?;
    let (rows, next) = jobs
        .store()?
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
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = jobs.job_or_404(&id).await?;
    let store = jobs.store()?.clone();
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
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    jobs.cancel(&id).await?;
    Ok(Json(json!({"success": true, "status": "cancelled"})))
}
