//! The job service: validates and stores jobs, runs them, and resumes them after a restart.
//! No HTTP here: the dialects' handlers call [`Jobs`] and shape its answers.
//!
//! A batch fetches its URLs through the page service (each result a crawl4ai
//! `CrawlResult`); a crawl runs the crawl engine (robots.txt, politeness, scope) into a
//! JSONL file that a follower turns into results as it grows. Both pick up where they were
//! after a restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::ServerConfig;
use crate::crawl4ai_model;
use crate::error::ApiError;
use crate::jobs::{Job, JobStore, Status, valid_id};
use crate::page::{IntoApi, PageError, PageService, get_page, parse_url};
use crate::shutdown::Closing;

/// Most pages a crawl job may ask for.
pub(crate) const MAX_CRAWL_PAGES: u64 = 10_000;
/// Longest crawl record the follower reads (one page's JSON line).
const MAX_LINE: u64 = 256 << 20;
/// Pages of one batch fetched at once.
const BATCH_CONCURRENCY: usize = 8;
/// Pages in flight in one crawl job (per host, the engine's politeness limit applies).
const MAX_CRAWL_CONCURRENCY: usize = 16;

/// A batch job: these URLs, each fetched (or rendered) and extracted as crawl4ai's configs
/// ask.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct BatchSpec {
    #[serde(default)]
    pub(crate) urls: Vec<String>,
    /// crawl4ai's BrowserConfig (its serialized form, read by [`crawl4ai_model`]).
    #[serde(default)]
    pub(crate) browser_config: Value,
    /// crawl4ai's CrawlerRunConfig.
    #[serde(default)]
    pub(crate) crawler_config: Value,
    /// The LLM extraction's JSON schema as the client wrote it (`crawler_config` is a
    /// parsed value: its keys come back sorted, and property order steers the model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) schema_text: Option<String>,
    /// Which API made the batch (its stored kind, the shape of its results and status).
    #[serde(default, skip_serializing_if = "BatchKind::is_plain")]
    pub(crate) kind: BatchKind,
    /// Options of the request the server does not support, said in the status answer
    /// (Firecrawl's `warning`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
}

/// The APIs whose jobs run as a batch of URLs through the page service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum BatchKind {
    /// crawl4ai's `/crawl/job` and our `/jobs`: a CrawlResult per URL.
    #[default]
    Batch,
    /// crawl4ai's `/llm/job`: one URL with an `LLMExtractionStrategy`, a CrawlResult.
    Llm,
    /// Firecrawl's `/extract`: an LLM value per URL (`{url, value, usage, error}`),
    /// merged by the status answer.
    Extract,
}

impl BatchKind {
    fn is_plain(&self) -> bool {
        *self == BatchKind::Batch
    }

    /// The job's kind in the store.
    pub(crate) fn name(self) -> &'static str {
        match self {
            BatchKind::Batch => "batch",
            BatchKind::Llm => "llm",
            BatchKind::Extract => "extract",
        }
    }
}

/// Which links a crawl follows, relative to its start URL.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CrawlScope {
    /// The start URL's host.
    #[default]
    Host,
    /// The host and its sibling subdomains (the registrable domain).
    Domain,
    /// URLs below the start URL's path.
    Prefix,
    /// Any host.
    Any,
}

/// A crawl job, run by the crawl engine (robots.txt, politeness and scope apply; the delay
/// never goes below the server's, concurrency never above 16).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct CrawlSpec {
    /// The start URL, an absolute http(s) URL.
    pub(crate) url: String,
    /// Most pages (default 100, at most 10,000).
    #[serde(default)]
    pub(crate) limit: Option<u64>,
    /// Most links from the start page (at most 100); absent: no limit.
    #[serde(default)]
    pub(crate) max_depth: Option<u64>,
    /// Regular expressions over the whole URL; a URL must match one (when given).
    #[serde(default)]
    pub(crate) include: Vec<String>,
    /// Regular expressions over the whole URL; a URL matching one is skipped.
    #[serde(default)]
    pub(crate) exclude: Vec<String>,
    /// Read the site's sitemaps for URLs (default true).
    #[serde(default)]
    pub(crate) sitemaps: Option<bool>,
    /// host (default), domain, prefix or any.
    #[serde(default)]
    pub(crate) scope: CrawlScope,
    /// Milliseconds between two requests to a host (never below the server's delay).
    #[serde(default)]
    pub(crate) delay_ms: Option<u64>,
    /// Pages in flight (at most 16).
    #[serde(default)]
    pub(crate) concurrency: Option<u64>,
    /// Milliseconds per page (at most the server's longest page timeout).
    #[serde(default)]
    pub(crate) timeout_ms: Option<u64>,
    /// Firecrawl's `scrapeOptions.formats` (the names of the document fields a crawl's
    /// status answer carries); empty: markdown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(skip)]
    pub(crate) formats: Vec<String>,
}

/// The page request every URL of a batch starts from: crawl4ai's configs, with an LLM
/// schema as the client wrote it.
pub(crate) fn batch_template(
    cfg: &ServerConfig,
    spec: &BatchSpec,
) -> Result<crate::page::PageRequest, ApiError> {
    let mut template =
        crawl4ai_model::page_template(cfg, &spec.browser_config, &spec.crawler_config)?;
    if let Some(text) = &spec.schema_text {
        crate::page::extraction::keep_schema_text(&mut template, text);
    }
    Ok(template)
}

/// What a job does.
#[derive(Debug, Clone)]
pub(crate) enum JobSpec {
    Batch(BatchSpec),
    Crawl(CrawlSpec),
}

impl JobSpec {
    /// The spec of a stored job (`kind` and `request` columns).
    pub(crate) fn of(job: &Job) -> Result<Self, ApiError> {
        let bad = |e: serde_json::Error| {
            ApiError::internal(
                "store",
                format!("job {}: stored request unreadable: {e}", job.id),
            )
        };
        match job.kind.as_str() {
            "crawl" => Ok(Self::Crawl(
                serde_json::from_str(&job.request).map_err(bad)?,
            )),
            _ => Ok(Self::Batch(
                serde_json::from_str(&job.request).map_err(bad)?,
            )),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Batch(b) => b.kind.name(),
            Self::Crawl(_) => "crawl",
        }
    }
}

/// Counts the job runners alive, so a shutdown can wait until each has checkpointed.
#[derive(Default)]
struct Runners {
    alive: AtomicUsize,
    idle: tokio::sync::Notify,
}

/// One runner alive; dropping it (however the runner ends) counts it out.
struct RunnerGuard(Arc<Jobs>);

impl Drop for RunnerGuard {
    fn drop(&mut self) {
        if self.0.runners.alive.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.runners.idle.notify_waiters();
        }
    }
}

/// The job service.
pub(crate) struct Jobs {
    pub(crate) cfg: Arc<ServerConfig>,
    pub(crate) pages: Arc<PageService>,
    /// The job store, when the server has a data directory (or Redis).
    store: Option<Arc<JobStore>>,
    pub(crate) closing: Closing,
    runners: Runners,
    /// In a cluster: this replica.
    pub(crate) cluster: Option<Arc<crate::cluster::Cluster>>,
    /// In a cluster: the jobs this replica runs a runner for.
    pub(crate) local: std::sync::Mutex<std::collections::HashSet<String>>,
    /// In a cluster: wakes the scheduler (a job was submitted here).
    pub(crate) wake: tokio::sync::Notify,
}

impl Jobs {
    pub(crate) fn new(
        cfg: Arc<ServerConfig>,
        pages: Arc<PageService>,
        store: Option<Arc<JobStore>>,
        closing: Closing,
        cluster: Option<Arc<crate::cluster::Cluster>>,
    ) -> Self {
        Self {
            cfg,
            pages,
            store,
            closing,
            runners: Runners::default(),
            cluster,
            local: Default::default(),
            wake: tokio::sync::Notify::new(),
        }
    }

    /// Counts one runner alive until the guard drops.
    pub(crate) fn runner_guard(self: &Arc<Self>) -> impl Send + 'static {
        self.runners.alive.fetch_add(1, Ordering::SeqCst);
        RunnerGuard(self.clone())
    }

    /// The store, or the 503 of a server without a data directory.
    pub(crate) fn store(&self) -> Result<&Arc<JobStore>, ApiError> {
        self.store.as_ref().ok_or_else(|| {
            ApiError::unavailable(
                "no_job_store",
                "jobs are unavailable: the server has no data directory",
            )
        })
    }

    /// The store if there is one (for views that show jobs when there are any).
    pub(crate) fn store_if_any(&self) -> Option<&Arc<JobStore>> {
        self.store.as_ref()
    }

    /// A job by id, or 404.
    pub(crate) async fn job_or_404(&self, id: &str) -> Result<Job, ApiError> {
        let not_found = || ApiError::not_found("job_not_found", format!("no job {id}"));
        if !valid_id(id) {
            return Err(not_found());
        }
        self.store()?.get(id).await?.ok_or_else(not_found)
    }

    /// Validates a job, stores it and starts its runner; returns its id.
    pub(crate) async fn submit(self: &Arc<Self>, spec: JobSpec) -> Result<String, ApiError> {
        let (request, total) = match &spec {
            JobSpec::Crawl(crawl) => {
                let url = parse_url(&crawl.url)?;
                self.pages.check_url(&url).map_err(PageError::into_api)?;
                let request = serde_json::to_value(crawl)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                (request, 0)
            }
            JobSpec::Batch(batch) => {
                if batch.urls.len() > self.cfg.max_job_urls {
                    return Err(ApiError::bad_request(format!(
                        "{} URLs: at most {} per job",
                        batch.urls.len(),
                        self.cfg.max_job_urls
                    )));
                }
                for u in &batch.urls {
                    let url = parse_url(u)?;
                    self.pages.check_url(&url).map_err(PageError::into_api)?;
                }
                // Options are checked now, not when the runner starts.
                batch_template(&self.cfg, batch)?;
                let request = serde_json::to_value(batch)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                (request, batch.urls.len() as i64)
            }
        };
        let store = self.store()?;
        let id = store
            .create(spec.kind(), request, total, self.cfg.job_ttl)
            .await?;
        if let Some(cluster) = &self.cluster {
            // Any replica (this one first: it is woken) picks the job up.
            if let JobSpec::Crawl(crawl) = &spec {
                let settings = crate::cluster::run::crawl_settings(&self.cfg, crawl, cluster.lease);
                if let Err(e) =
                    gannet_frontier_redis::RedisFrontier::create(cluster.store.url(), &id, settings)
                        .await
                {
                    let _ = store
                        .set_status(&id, Status::Failed, Some(e.to_string()))
                        .await;
                    return Err(ApiError {
                        retry_after: Some(crate::jobs::redis::RETRY_AFTER_SECS),
                        ..ApiError::unavailable("store_unavailable", e.to_string())
                    });
                }
            }
            self.wake.notify_one();
            return Ok(id);
        }
        if let Some(job) = store.get(&id).await? {
            self.spawn(job);
        }
        Ok(id)
    }

    /// Cancels a job that has not finished (its stored results stay until its TTL ends).
    pub(crate) async fn cancel(&self, id: &str) -> Result<(), ApiError> {
        let job = self.job_or_404(id).await?;
        if !job.status.finished() {
            self.store()?
                .set_status(&job.id, Status::Cancelled, None)
                .await?;
        }
        Ok(())
    }

    /// Starts the jobs the last run left unfinished, and the hourly expiry of old ones.
    pub(crate) async fn start(self: &Arc<Self>) {
        if let Some(cluster) = &self.cluster {
            self.start_cluster(cluster.clone());
            return;
        }
        let Some(store) = &self.store else {
            return;
        };
        if let Ok(jobs) = store.unfinished().await {
            for job in jobs {
                self.spawn(job);
            }
        }
        let store = store.clone();
        tokio::spawn(async move {
            loop {
                let _ = store.expire().await;
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        });
    }

    /// Waits until no runner is alive, at most `limit`; `false` if some still were.
    pub(crate) async fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let idle = self.runners.idle.notified();
            if self.runners.alive.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return self.runners.alive.load(Ordering::SeqCst) == 0;
            }
        }
    }

    /// Starts (or resumes) a job's runner.
    fn spawn(self: &Arc<Self>, job: Job) {
        self.runners.alive.fetch_add(1, Ordering::SeqCst);
        let alive = RunnerGuard(self.clone());
        let jobs = self.clone();
        tokio::spawn(async move {
            let _alive = alive;
            let result = match JobSpec::of(&job) {
                Ok(JobSpec::Crawl(spec)) => jobs.run_crawl(&job, &spec).await,
                Ok(JobSpec::Batch(spec)) => jobs.run_batch(&job, &spec).await,
                Err(e) => Err(e),
            };
            if let (Err(e), Ok(store)) = (result, jobs.store()) {
                let _ = store
                    .set_status(&job.id, Status::Failed, Some(e.message))
                    .await;
            }
        });
    }

    async fn cancelled(&self, id: &str) -> bool {
        match self.store() {
            Ok(s) => s
                .get(id)
                .await
                .ok()
                .flatten()
                .is_none_or(|j| j.status == Status::Cancelled),
            Err(_) => true,
        }
    }

    async fn run_batch(&self, job: &Job, spec: &BatchSpec) -> Result<(), ApiError> {
        let store = self.store()?.clone();
        store.set_status(&job.id, Status::Running, None).await?;
        let done: std::collections::HashSet<String> =
            store.done_urls(&job.id).await?.into_iter().collect();
        let mut results = self.batch_remaining(spec, |u| done.contains(u))?;
        loop {
            let row = tokio::select! {
                row = results.next() => row,
                // Shutdown: every finished page is stored; the pages in flight are dropped
                // and fetched again when the job resumes at the next start (status stays
                // running).
                _ = self.closing.closed() => return Ok(()),
            };
            let Some(row) = row else { break };
            store.add_results(&job.id, vec![row], None).await?;
            if self.cancelled(&job.id).await {
                return Ok(());
            }
        }
        store.set_status(&job.id, Status::Completed, None).await
    }

    /// The results of a batch's URLs not yet `done` (a resumed or taken-over job), as
    /// [`Jobs::batch_results`] gives them, with the batch's page template.
    pub(crate) fn batch_remaining(
        &self,
        spec: &BatchSpec,
        done: impl Fn(&str) -> bool,
    ) -> Result<
        impl futures_util::Stream<Item = (String, bool, String)> + Send + Unpin + '_,
        ApiError,
    > {
        let todo: Vec<String> = spec.urls.iter().filter(|u| !done(u)).cloned().collect();
        let template = batch_template(&self.cfg, spec)?;
        let row = match spec.kind {
            BatchKind::Extract => crate::page::extract_jobs::extract_row,
            BatchKind::Batch | BatchKind::Llm => crawl4ai_model::crawl_result,
        };
        Ok(self.batch_results(todo, template, row))
    }

    /// The results of a batch's URLs (url, ok, crawl4ai's CrawlResult as JSON), at most
    /// [`BATCH_CONCURRENCY`] fetched at once, in the order they finish.
    pub(crate) fn batch_results(
        &self,
        todo: Vec<String>,
        template: crate::page::PageRequest,
        row: fn(&str, Result<crate::page::Page, PageError>) -> Value,
    ) -> impl futures_util::Stream<Item = (String, bool, String)> + Send + Unpin + '_ {
        futures_util::stream::iter(todo)
            .map(move |raw| {
                let (pages, mut page) = (self.pages.clone(), template.clone());
                async move {
                    let result = match parse_url(&raw) {
                        Ok(url) => {
                            page.url = url;
                            get_page(&pages, page).await
                        }
                        Err(e) => Err(PageError::failed(None, e.message)),
                    };
                    let ok = result.is_ok();
                    (raw.clone(), ok, row(&raw, result).to_string())
                }
            })
            .buffer_unordered(BATCH_CONCURRENCY)
    }

    /// The crawl engine's settings for a crawl spec.
    pub(crate) fn crawl_config(
        &self,
        spec: &CrawlSpec,
        out: std::path::PathBuf,
        state_dir: std::path::PathBuf,
    ) -> Result<gannet_crawl::CrawlConfig, ApiError> {
        let seed = parse_url(&spec.url)?;
        self.pages.check_url(&seed).map_err(PageError::into_api)?;
        let resume = state_dir.join("frontier.sqlite").exists();
        let mut config =
            gannet_crawl::CrawlConfig::new(vec![seed], out, gannet_sink::Format::Jsonl);
        config.state_dir = Some(state_dir);
        config.resume = resume;
        config.max_pages = Some(spec.limit.unwrap_or(100).clamp(1, MAX_CRAWL_PAGES));
        config.sitemaps = spec.sitemaps.unwrap_or(true);
        config.scope.max_depth = spec.max_depth.map(|d| d.min(100) as u32);
        config.scope.include = spec.include.clone();
        config.scope.exclude = spec.exclude.clone();
        config.scope.kind = match spec.scope {
            CrawlScope::Domain => gannet_frontier::ScopeKind::Domain,
            CrawlScope::Prefix => gannet_frontier::ScopeKind::Prefix,
            CrawlScope::Any => gannet_frontier::ScopeKind::Any,
            CrawlScope::Host => gannet_frontier::ScopeKind::Host,
        };
        config.concurrency = spec.concurrency.map_or(MAX_CRAWL_CONCURRENCY, |n| {
            (n as usize).clamp(1, MAX_CRAWL_CONCURRENCY)
        });
        config.fetch.max_body_bytes = self.cfg.max_page_bytes;
        config.fetch.timeout = spec.timeout_ms.map_or(self.cfg.page_timeout, |ms| {
            Duration::from_millis(ms.max(1)).min(self.cfg.max_page_timeout)
        });
        // A client may ask for more politeness than the operator's delay, never less.
        config.min_delay = self
            .cfg
            .crawl_delay
            .max(Duration::from_millis(spec.delay_ms.unwrap_or(0)));
        config.fetch.allow_private = self.cfg.allow_private;
        Ok(config)
    }

    async fn run_crawl(&self, job: &Job, spec: &CrawlSpec) -> Result<(), ApiError> {
        let store = self.store()?.clone();
        let dir = store.job_dir(&job.id);
        let out = dir.join("out.jsonl");
        let config = self.crawl_config(spec, out.clone(), dir.join("state"))?;
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        store.set_status(&job.id, Status::Running, None).await?;
        let crawl = gannet_crawl::Crawl::open(config)
            .await
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut run = tokio::spawn(crawl.run(stop_rx));
        let mut offset = job.offset.max(0) as u64;
        let mut stopping = false;
        let outcome = loop {
            tokio::select! {
                finished = &mut run => break finished,
                // Shutdown: the engine stops like an interrupted crawl (in-flight pages back
                // to the frontier, sink and frontier committed together), so the job resumes
                // at the next start with nothing lost and nothing written twice.
                _ = self.closing.closed(), if !stopping => {
                    stopping = true;
                    let _ = stop_tx.send(true);
                }
                _ = tokio::time::sleep(Duration::from_millis(300)) => {
                    offset = follow(&store, &job.id, &out, offset).await?;
                    if self.cancelled(&job.id).await {
                        let _ = stop_tx.send(true);
                    }
                }
            }
        };
        follow(&store, &job.id, &out, offset).await?;
        if self.cancelled(&job.id).await {
            return Ok(());
        }
        match outcome {
            // Stopped by the shutdown: still running, resumed at the next start.
            Ok(Ok(summary)) if summary.stop == gannet_crawl::StopReason::Interrupted => Ok(()),
            Ok(Ok(_)) => {
                let done = store.get(&job.id).await?.map_or(0, |j| j.done);
                store.set_total(&job.id, done).await?;
                store.set_status(&job.id, Status::Completed, None).await
            }
            Ok(Err(e)) => {
                store
                    .set_status(&job.id, Status::Failed, Some(e.to_string()))
                    .await
            }
            Err(e) => {
                store
                    .set_status(&job.id, Status::Failed, Some(e.to_string()))
                    .await
            }
        }
    }
}

/// The URL of a crawl record (one JSON line of the engine's output).
#[derive(Deserialize)]
struct RecordUrl {
    #[serde(default)]
    url: String,
}

/// Turns the complete lines the crawl wrote after `offset` into results; returns the new
/// offset. Bounded: at most 4 MiB per call.
async fn follow(
    store: &Arc<JobStore>,
    id: &str,
    out: &std::path::Path,
    offset: u64,
) -> Result<u64, ApiError> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let Ok(mut file) = tokio::fs::File::open(out).await else {
        return Ok(offset);
    };
    let len = file.metadata().await.map_or(0, |m| m.len());
    if len <= offset {
        return Ok(offset);
    }
    let mut offset = offset;
    let mut window: u64 = 4 << 20;
    loop {
        let want = (len - offset).min(window) as usize;
        if want == 0 {
            return Ok(offset);
        }
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let mut buf = vec![0u8; want];
        file.read_exact(&mut buf)
            .await
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let Some(end) = buf.iter().rposition(|&b| b == b'\n') else {
            if (want as u64) < window {
                // The last line is still being written: take it next time.
                return Ok(offset);
            }
            // One line longer than the window (a huge page): widen it. A line is one
            // page's record, bounded by the crawl's body cap times the record's expansion.
            window = window.saturating_mul(2).min(MAX_LINE);
            if window == MAX_LINE && want as u64 == MAX_LINE {
                return Err(ApiError::bad_request(
                    "a crawl record is larger than 256 MiB",
                ));
            }
            continue;
        };
        window = 4 << 20;
        let mut rows = Vec::new();
        for line in buf[..end].split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let text = String::from_utf8_lossy(line).into_owned();
            let url = serde_json::from_str::<RecordUrl>(&text)
                .map(|r| r.url)
                .unwrap_or_default();
            rows.push((url, true, text));
        }
        offset += end as u64 + 1;
        store.add_results(id, rows, Some(offset as i64)).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::Extraction;

    /// A `/crawl/job` LLM schema survives the job store (a parsed `Value` there, its keys
    /// sorted) in the order the client wrote it: the runner sends the kept text.
    #[test]
    fn a_stored_batch_keeps_the_llm_schemas_order() {
        let schema = r#"{"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "string"}, "manufacturer": {"type": "string"}}}"#;
        let body = format!(
            r#"{{"urls": ["http://127.0.0.1:1/"], "crawler_config": {{"type": "CrawlerRunConfig", "params": {{"extraction_strategy": {{"type": "LLMExtractionStrategy", "params": {{"instruction": "x", "schema": {{"type": "dict", "value": {schema}}}}}}}}}}}}}"#
        );
        let request: Value = serde_json::from_str(&body).expect("JSON");
        let spec = BatchSpec {
            urls: vec!["http://127.0.0.1:1/".into()],
            browser_config: Value::Null,
            crawler_config: request["crawler_config"].clone(),
            schema_text: crate::page::extraction::strategy_schema_text(body.as_bytes()),
            ..BatchSpec::default()
        };
        // Through the store as JSON and back, as a runner reads it.
        let stored = serde_json::to_value(&spec).expect("serialize");
        let spec = BatchSpec::deserialize(&stored).expect("deserialize");
        let cfg = ServerConfig::default();
        let template = batch_template(&cfg, &spec).expect("template");
        let Some(Extraction::Llm { instruction, .. }) = &template.extraction else {
            panic!("an LLM extraction");
        };
        let sent = instruction.schema_text().expect("the kept text");
        let order: Vec<usize> = ["\"name\"", "\"price\"", "\"manufacturer\""]
            .iter()
            .map(|k| sent.find(k).expect("a property"))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{sent}");
        // Without the kept text, the parsed value's order is serde_json's (sorted).
        let bare = BatchSpec {
            schema_text: None,
            ..spec
        };
        let template = batch_template(&cfg, &bare).expect("template");
        let Some(Extraction::Llm { instruction, .. }) = &template.extraction else {
            panic!("an LLM extraction");
        };
        assert_eq!(instruction.schema_text(), None);
    }
}
