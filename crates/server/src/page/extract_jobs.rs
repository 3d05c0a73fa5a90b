//! Firecrawl's `/v1|v2/extract`: an asynchronous job that asks the LLM for one value
//! (a prompt, an optional JSON schema) over up to 10 pages, through the page service,
//! and merges the pages' answers (lists concatenated, objects field by field).
//!
//! With a job store (a data directory, or `serve --redis`), a job is a batch of kind
//! `extract` there: the embedded runner or any replica of a cluster fetches its pages
//! ([`extract_row`] per URL), and any replica answers its status by merging the stored
//! rows ([`store_status`]). Without one, jobs live in this server's memory (a bounded map,
//! the oldest finished ones dropped first).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::{Extraction, IntoApi, LlmInput, Page, PageError, PageRequest, PageService, get_page};
use crate::jobs::{Job as StoredJob, JobStore, Status};

/// Jobs kept; beyond, the oldest finished one is dropped.
const MAX_JOBS: usize = 1000;
/// How long an answer is said to be kept (Firecrawl's `expiresAt`).
const KEEP: Duration = Duration::from_secs(24 * 3600);

/// One extraction job.
#[derive(Debug, Clone)]
struct Job {
    created: SystemTime,
    status: &'static str,
    data: Value,
    error: Option<String>,
    warnings: Vec<String>,
    tokens: u64,
}

impl Job {
    /// Ends the job with its pages' rows: completed with their merged value (their errors
    /// as warnings), or failed when no page gave a value.
    fn finish(&mut self, rows: &[Value]) {
        let (data, tokens, errors) = merge_rows(rows);
        self.tokens = tokens;
        match data {
            Some(value) => {
                self.status = "completed";
                self.data = value;
                self.warnings.extend(errors);
            }
            None => {
                self.status = "failed";
                self.error = Some(if errors.is_empty() {
                    "nothing was extracted".into()
                } else {
                    errors.join("; ")
                });
            }
        }
    }
}

/// The extraction jobs of this server.
#[derive(Default)]
pub(crate) struct ExtractJobs {
    jobs: Mutex<HashMap<String, Job>>,
}

impl ExtractJobs {
    fn insert(&self, id: String, job: Job) {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if jobs.len() >= MAX_JOBS {
            let oldest = jobs
                .iter()
                .filter(|(_, j)| j.status != "processing")
                .min_by_key(|(_, j)| j.created)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                jobs.remove(&oldest);
            }
        }
        jobs.insert(id, job);
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut Job)) {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(job) = jobs.get_mut(id) {
            f(job);
        }
    }

    /// A job's answer in Firecrawl's shape, if the job is known.
    pub(crate) fn status(&self, id: &str) -> Option<Value> {
        let jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let job = jobs.get(id)?;
        Some(answer(id, job, job.created + KEEP))
    }

    /// Starts a job over `urls` (already checked) and answers its id.
    pub(crate) fn start(
        pages: &Arc<PageService>,
        urls: Vec<url::Url>,
        instruction: gannet_llm::Instruction,
        warnings: Vec<String>,
    ) -> String {
        let id = crate::jobs::new_id();
        pages.extract_jobs.insert(
            id.clone(),
            Job {
                created: SystemTime::now(),
                status: "processing",
                data: Value::Null,
                error: None,
                warnings,
                tokens: 0,
            },
        );
        let (pages, job) = (pages.clone(), id.clone());
        tokio::spawn(async move {
            let tasks = urls.into_iter().map(|url| {
                let mut req = PageRequest::new(url, pages.cfg.page_timeout);
                req.want_links = false;
                req.extraction = Some(Extraction::Llm {
                    instruction: instruction.clone(),
                    input: LlmInput::MainMarkdown,
                });
                let pages = pages.clone();
                async move { get_page(&pages, req).await }
            });
            let results = futures_util::future::join_all(tasks).await;
            let rows: Vec<Value> = results
                .into_iter()
                .map(|page| extract_row("", page))
                .collect();
            pages.extract_jobs.update(&job, |j| {
                j.finish(&rows);
            });
        });
        id
    }
}

/// A job in Firecrawl's answer shape.
fn answer(id: &str, job: &Job, expires: SystemTime) -> Value {
    let mut answer = json!({
        "success": job.status != "failed",
        "id": id,
        "status": job.status,
        "data": job.data,
        "expiresAt": gannet_sink::rfc3339_millis(expires),
        "tokensUsed": job.tokens,
    });
    if let Some(e) = &job.error {
        answer["error"] = json!(e);
    }
    if !job.warnings.is_empty() {
        answer["warning"] = json!(job.warnings.join("; "));
    }
    answer
}

/// One page of an extract job as stored: `{url, value, tokens, error}` (the value the
/// LLM gave, or why there is none).
pub(crate) fn extract_row(url: &str, page: Result<Page, PageError>) -> Value {
    match page {
        Err(e) => json!({"url": url, "value": null, "tokens": 0, "error": e.into_api().message}),
        Ok(page) => match page.extracted {
            Some(Ok(out)) => json!({
                "url": url,
                "value": out.value,
                "tokens": out.usage.map_or(0, |u| u.total_tokens()),
                "error": null,
            }),
            Some(Err(e)) => json!({"url": url, "value": null, "tokens": 0,
                "error": format!("{}: {e}", page.final_url)}),
            None => json!({"url": url, "value": null, "tokens": 0, "error": null}),
        },
    }
}

/// The pages' values merged (lists concatenated, objects field by field), the tokens
/// spent and the pages' errors.
fn merge_rows(rows: &[Value]) -> (Option<Value>, u64, Vec<String>) {
    let mut data: Option<Value> = None;
    let (mut tokens, mut errors) = (0u64, Vec::new());
    for row in rows {
        tokens += row["tokens"].as_u64().unwrap_or(0);
        if let Some(e) = row["error"].as_str() {
            errors.push(e.to_owned());
        }
        let value = &row["value"];
        if value.is_null() {
            continue;
        }
        match &mut data {
            Some(acc) => gannet_llm::merge_into(acc, value.clone()),
            None => data = Some(value.clone()),
        }
    }
    (data, tokens, errors)
}

/// A stored extract job's answer in Firecrawl's shape (`None`: not an extract job).
/// `urls` and `warnings` are the job's spec; its rows are merged in the order of `urls`.
pub(crate) async fn store_status(
    store: &JobStore,
    job: &StoredJob,
    urls: &[String],
    warnings: Vec<String>,
) -> Result<Value, crate::error::ApiError> {
    let expires = std::time::UNIX_EPOCH + Duration::from_secs(job.expires_at.max(0) as u64);
    let mut view = Job {
        created: SystemTime::now(),
        status: "processing",
        data: Value::Null,
        error: None,
        warnings,
        tokens: 0,
    };
    match job.status {
        Status::Queued | Status::Running => {}
        Status::Failed | Status::Cancelled => {
            view.status = "failed";
            view.error = Some(
                job.error
                    .clone()
                    .unwrap_or_else(|| job.status.as_str().into()),
            );
        }
        Status::Completed => {
            // At most 10 rows (one per URL).
            let (rows, _) = store
                .results_page(&job.id, 0, crate::jobs::MAX_PAGE_ITEMS)
                .await?;
            let mut rows: Vec<Value> = rows
                .iter()
                .filter_map(|r| serde_json::from_str(&r.body).ok())
                .collect();
            rows.sort_by_key(|r: &Value| {
                urls.iter()
                    .position(|u| Some(u.as_str()) == r["url"].as_str())
                    .unwrap_or(usize::MAX)
            });
            view.finish(&rows);
        }
    }
    Ok(answer(&job.id, &view, expires))
}
