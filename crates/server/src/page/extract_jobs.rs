//! Firecrawl's `/v1|v2/extract`: an asynchronous job that asks the LLM for one value
//! (a prompt, an optional JSON schema) over up to 10 pages, through the page service,
//! and merges the pages' answers (lists concatenated, objects field by field).
//!
//! The jobs live in memory (a bounded map, the oldest finished ones dropped first): an
//! extraction is minutes at most and its answer small, so it does not go through the
//! crawl job store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::{Extraction, IntoApi, LlmInput, PageRequest, PageService, get_page};

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
        let mut answer = json!({
            "success": job.status != "failed",
            "id": id,
            "status": job.status,
            "data": job.data,
            "expiresAt": gannet_sink::rfc3339_millis(job.created + KEEP),
            "tokensUsed": job.tokens,
        });
        if let Some(e) = &job.error {
            answer["error"] = json!(e);
        }
        if !job.warnings.is_empty() {
            answer["warning"] = json!(job.warnings.join("; "));
        }
        Some(answer)
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
            let mut data: Option<Value> = None;
            let (mut tokens, mut errors) = (0u64, Vec::new());
            for result in results {
                let page = match result {
                    Ok(page) => page,
                    Err(e) => {
                        errors.push(e.into_api().message);
                        continue;
                    }
                };
                match page.extracted {
                    Some(Ok(out)) => {
                        tokens += out.usage.map_or(0, |u| u.total_tokens());
                        match &mut data {
                            Some(acc) => gannet_llm::merge_into(acc, out.value),
                            None => data = Some(out.value),
                        }
                    }
                    Some(Err(e)) => errors.push(format!("{}: {e}", page.final_url)),
                    None => {}
                }
            }
            pages.extract_jobs.update(&job, |j| {
                j.tokens = tokens;
                match data {
                    Some(value) => {
                        j.status = "completed";
                        j.data = value;
                        j.warnings.extend(errors);
                    }
                    None => {
                        j.status = "failed";
                        j.error = Some(if errors.is_empty() {
                            "nothing was extracted".into()
                        } else {
                            errors.join("; ")
                        });
                    }
                }
            });
        });
        id
    }
}
