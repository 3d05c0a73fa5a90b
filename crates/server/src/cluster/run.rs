//! The job service's cluster side: the scheduler every replica runs, batch jobs under a
//! fenced lease, crawl jobs on the distributed frontier, and the heartbeat. See
//! [`crate::cluster`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use gannet_frontier_redis::{CrawlSettings, EngineFrontier, RedisFrontier, WorkerId};
use serde_json::json;

use super::Cluster;
use super::results::ResultsFrontier;
use crate::error::ApiError;
use crate::jobs::redis::{Added, RedisStoreError};
use crate::jobs::{Job, Status};
use crate::runner::{BatchSpec, CrawlScope, CrawlSpec, JobSpec, Jobs, MAX_CRAWL_PAGES};

/// How often a replica looks for work.
const SCHEDULE_EVERY: Duration = Duration::from_secs(1);
/// Longest pause between two tries while Redis is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Calls `f` until Redis answers (backoff 100 ms doubling to 5 s) or the server closes.
async fn retrying<T, F, Fut>(jobs: &Jobs, what: &'static str, mut f: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RedisStoreError>>,
{
    let mut backoff = Duration::from_millis(100);
    let mut logged = false;
    loop {
        match f().await {
            Err(e) if e.is_unavailable() => {
                if !logged {
                    tracing::warn!(operation = what, error = %e, "paused: Redis unreachable");
                    logged = true;
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = jobs.closing.closed() => return Err(e.into()),
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            r => {
                if logged {
                    tracing::info!(operation = what, "resumed: Redis reachable");
                }
                return r.map_err(ApiError::from);
            }
        }
    }
}

/// The frontier settings of a crawl job, with the job's flags in `gannet worker`'s format
/// (so a worker can join it) and `server_job` set (so it pushes its results to the job).
pub(crate) fn crawl_settings(
    cfg: &crate::ServerConfig,
    spec: &CrawlSpec,
    lease: Duration,
) -> CrawlSettings {
    let mut flags: Vec<String> = Vec::new();
    let mut put = |k: &str, v: String| {
        flags.push(k.into());
        flags.push(v);
    };
    let scope = match spec.scope {
        CrawlScope::Host => "host",
        CrawlScope::Domain => "domain",
        CrawlScope::Prefix => "prefix",
        CrawlScope::Any => "any",
    };
    put("--scope", scope.into());
    for i in &spec.include {
        put("--include", i.clone());
    }
    for e in &spec.exclude {
        put("--exclude", e.clone());
    }
    if let Some(d) = spec.max_depth {
        put("--max-depth", d.min(100).to_string());
    }
    let limit = spec.limit.unwrap_or(100).clamp(1, MAX_CRAWL_PAGES);
    put("--max-pages", limit.to_string());
    let delay = cfg
        .crawl_delay
        .max(Duration::from_millis(spec.delay_ms.unwrap_or(0)));
    put("--delay", delay.as_millis().to_string());
    put("--lease", lease.as_secs_f64().to_string());
    let timeout = spec.timeout_ms.map_or(cfg.page_timeout, |ms| {
        Duration::from_millis(ms.max(1)).min(cfg.max_page_timeout)
    });
    put("--timeout", timeout.as_secs_f64().to_string());
    put("--max-body", cfg.max_page_bytes.to_string());
    let config = json!({
        "version": 1,
        "flags": flags,
        "server_job": true,
        "result_cap": cfg.max_job_result_bytes,
    });
    CrawlSettings {
        config: config.to_string(),
        page_limit: Some(limit),
        max_per_host: None,
        max_attempts: 3,
        lease,
        expected_urls: limit.max(1000),
        ..CrawlSettings::default()
    }
}

impl Jobs {
    /// Starts the heartbeat and the scheduler of a cluster replica.
    pub(crate) fn start_cluster(self: &Arc<Self>, cluster: Arc<Cluster>) {
        let jobs = self.clone();
        let c = cluster.clone();
        tokio::spawn(async move {
            loop {
                let load = json!({
                    "pages_in_flight": jobs.pages.in_flight(),
                    "queue_depth": jobs.pages.waiting(),
                    "jobs_here": jobs.local.lock().map_or(0, |l| l.len()),
                    "memory": jobs.pages.memory_reading().map(|(used, limit)| json!({"used": used, "limit": limit})),
                    "pool": jobs.pages.started_pool().map(gannet_browser::Pool::metrics),
                });
                if let Err(e) = c.beat(load).await {
                    tracing::debug!(error = %e, "heartbeat failed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(super::BEAT_EVERY) => {}
                    _ = jobs.closing.closed() => break,
                }
            }
        });
        let jobs = self.clone();
        tokio::spawn(async move {
            loop {
                jobs.schedule(&cluster).await;
                tokio::select! {
                    _ = tokio::time::sleep(SCHEDULE_EVERY) => {}
                    _ = jobs.wake.notified() => {}
                    _ = jobs.closing.closed() => break,
                }
            }
        });
    }

    /// Starts a runner for every unfinished job of the cluster this replica does not run
    /// yet: crawl jobs always (every replica works them), batch jobs when it gets the lease.
    async fn schedule(self: &Arc<Self>, cluster: &Arc<Cluster>) {
        let Ok(jobs) = cluster.store.unfinished().await else {
            return;
        };
        for job in jobs {
            if self.closing_now() || self.is_local(&job.id) {
                continue;
            }
            match JobSpec::of(&job) {
                Ok(JobSpec::Crawl(spec)) => {
                    let jobs = self.clone();
                    let c = cluster.clone();
                    self.spawn_local(job.id.clone(), async move {
                        jobs.run_crawl_cluster(&c, &job, &spec).await
                    });
                }
                Ok(JobSpec::Batch(spec)) => {
                    match cluster
                        .store
                        .claim(&job.id, &cluster.replica, cluster.lease)
                        .await
                    {
                        Ok(Some(token)) => {
                            let jobs = self.clone();
                            let c = cluster.clone();
                            self.spawn_local(job.id.clone(), async move {
                                jobs.run_batch_leased(&c, &job, &spec, token).await
                            });
                        }
                        Ok(None) => {}
                        Err(e) => tracing::debug!(job = %job.id, error = %e, "claim failed"),
                    }
                }
                Err(e) => {
                    let _ = cluster
                        .store
                        .set_status(&job.id, Status::Failed, Some(e.message), 0)
                        .await;
                }
            }
        }
    }

    fn closing_now(&self) -> bool {
        self.closing.is_closed()
    }

    fn is_local(&self, id: &str) -> bool {
        self.local.lock().is_ok_and(|l| l.contains(id))
    }

    /// Runs `work` for job `id` on this replica (counted, so a drain waits for it).
    fn spawn_local(
        self: &Arc<Self>,
        id: String,
        work: impl std::future::Future<Output = Result<(), ApiError>> + Send + 'static,
    ) {
        if let Ok(mut l) = self.local.lock() {
            l.insert(id.clone());
        }
        let alive = self.runner_guard();
        let jobs = self.clone();
        tokio::spawn(async move {
            let _alive = alive;
            if let Err(e) = work.await {
                tracing::warn!(job = %id, error = %e.message, "job runner stopped");
            }
            if let Ok(mut l) = jobs.local.lock() {
                l.remove(&id);
            }
        });
    }

    /// A batch job under its lease: every result stored under the lease's fencing token.
    async fn run_batch_leased(
        self: &Arc<Self>,
        cluster: &Arc<Cluster>,
        job: &Job,
        spec: &BatchSpec,
        token: u64,
    ) -> Result<(), ApiError> {
        let store = cluster.store.clone();
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = {
            let (store, lost, c) = (store.clone(), lost.clone(), cluster.clone());
            let id = job.id.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(c.lease / 3).await;
                    match store.renew(&id, &c.replica, token, Some(c.lease)).await {
                        Ok(true) => {}
                        Ok(false) => {
                            lost.store(true, Ordering::SeqCst);
                            break;
                        }
                        Err(_) => {}
                    }
                }
            })
        };
        let result = self
            .batch_under_lease(cluster, job, spec, token, &lost)
            .await;
        renewer.abort();
        // Finished or drained: the lease goes back at once (another replica continues).
        let _ = store.renew(&job.id, &cluster.replica, token, None).await;
        result
    }

    async fn batch_under_lease(
        self: &Arc<Self>,
        cluster: &Arc<Cluster>,
        job: &Job,
        spec: &BatchSpec,
        token: u64,
        lost: &AtomicBool,
    ) -> Result<(), ApiError> {
        let store = &cluster.store;
        let done = retrying(self, "done urls", || store.done_urls(&job.id)).await?;
        let done: std::collections::HashSet<String> = done.into_iter().collect();
        let mut results = self.batch_remaining(spec, |u| done.contains(u))?;
        loop {
            let row = tokio::select! {
                row = results.next() => row,
                // Drain: every stored result stays; the pages in flight are dropped and
                // fetched by the replica that takes the lease next.
                _ = self.closing.closed() => return Ok(()),
            };
            let Some((url, _ok, body)) = row else { break };
            if lost.load(Ordering::SeqCst) {
                return Ok(());
            }
            let rows = [(url, body)];
            match retrying(self, "store results", || store.add(&job.id, &rows, token)).await? {
                Added::Stored(_) => {}
                Added::Closed | Added::Fenced => return Ok(()),
                Added::Capped(_) => {
                    let msg = capped_message(cluster);
                    store
                        .set_status(&job.id, Status::Failed, Some(msg), token)
                        .await?;
                    return Ok(());
                }
            }
        }
        retrying(self, "complete", || {
            store.set_status(&job.id, Status::Completed, None, token)
        })
        .await?;
        Ok(())
    }

    /// This replica's share of a crawl job: one frontier worker until the whole frontier is
    /// done, the job ends, or the replica drains.
    async fn run_crawl_cluster(
        self: &Arc<Self>,
        cluster: &Arc<Cluster>,
        job: &Job,
        spec: &CrawlSpec,
    ) -> Result<(), ApiError> {
        let store = cluster.store.clone();
        let dir = self.store()?.job_dir(&job.id);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| ApiError::internal("store", e.to_string()))?;
        let out = dir.join(format!("{}.jsonl", cluster.replica));
        let mut config = self.crawl_config(spec, out.clone(), dir.join("state"))?;
        // The frontier's page limit is exact across workers; seeds dedup in its seen-set.
        config.resume = true;
        config.refresh = false;
        config.max_pages = None;
        config.sitemaps = false;
        // Queued until a replica starts working it (a no-op when already running).
        if job.status == Status::Queued {
            retrying(self, "start", || {
                store.set_status(&job.id, Status::Running, None, 0)
            })
            .await?;
        }
        let url = store.url().to_string();
        let settings = crawl_settings(&self.cfg, spec, cluster.lease);
        let frontier = loop {
            match RedisFrontier::create(&url, &job.id, settings.clone()).await {
                Ok((f, _)) => break f,
                Err(e) if e.is_retryable() => {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = self.closing.closed() => return Ok(()),
                    }
                }
                Err(e) => return Err(ApiError::internal("frontier", e.to_string())),
            }
        };
        let worker = WorkerId::new(&cluster.replica)
            .map_err(|e| ApiError::internal("frontier", e.to_string()))?;
        let engine = EngineFrontier::open(frontier.clone(), worker, format!("job {}", job.id))
            .await
            .map_err(|e| ApiError::internal("frontier", e.to_string()))?;
        let results =
            ResultsFrontier::new(Arc::new(engine), store.clone(), job.id.clone(), out.clone());
        let capped = results.capped();
        let crawl = gannet_crawl::Crawl::builder(config)
            .frontier(Arc::new(results))
            .sink(gannet_crawl::SinkConfig {
                format: gannet_sink::Format::Jsonl,
                out: out.clone(),
            })
            .open()
            .await
            .map_err(|e| ApiError::internal("crawl", e.to_string()))?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut run = tokio::spawn(crawl.run(stop_rx));
        let mut stopped = false;
        let outcome = loop {
            tokio::select! {
                finished = &mut run => break finished,
                // Drain: the engine stops like an interrupted crawl: pages in flight go
                // back to the frontier, finished ones are committed (and pushed) first.
                _ = self.closing.closed(), if !stopped => {
                    stopped = true;
                    let _ = stop_tx.send(true);
                }
                _ = tokio::time::sleep(Duration::from_secs(1)), if !stopped => {
                    let ended = match store.get(&job.id).await {
                        Ok(Some(j)) => j.status.finished(),
                        Ok(None) => true,
                        Err(_) => false,
                    };
                    if ended || capped.load(Ordering::SeqCst) {
                        stopped = true;
                        let _ = stop_tx.send(true);
                    }
                }
            }
        };
        let _ = tokio::fs::remove_file(&out).await;
        let result = self
            .after_crawl(cluster, &frontier, job, outcome, &capped)
            .await;
        // A finished job's frontier expires with it (whoever ended it).
        if let Ok(Some(j)) = store.get(&job.id).await
            && j.status.finished()
            && let Err(e) = store.expire_frontier(&job.id).await
        {
            tracing::debug!(job = %job.id, error = %e, "frontier expiry failed");
        }
        result
    }

    async fn after_crawl(
        self: &Arc<Self>,
        cluster: &Arc<Cluster>,
        frontier: &RedisFrontier,
        job: &Job,
        outcome: Result<
            Result<gannet_crawl::Summary, gannet_crawl::CrawlError>,
            tokio::task::JoinError,
        >,
        capped: &AtomicBool,
    ) -> Result<(), ApiError> {
        let store = &cluster.store;
        if capped.load(Ordering::SeqCst) {
            let msg = capped_message(cluster);
            let _ = store
                .set_status(&job.id, Status::Failed, Some(msg), 0)
                .await;
            return Ok(());
        }
        match outcome {
            Ok(Ok(summary)) if summary.stop != gannet_crawl::StopReason::Interrupted => {
                self.finish_crawl(cluster, frontier, &job.id).await
            }
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(ApiError::internal("crawl", e.to_string())),
            Err(e) => Err(ApiError::internal("crawl", e.to_string())),
        }
    }

    /// Marks a crawl job completed once its whole frontier is done, under the job's lease
    /// (the coordinator's fencing token).
    async fn finish_crawl(
        self: &Arc<Self>,
        cluster: &Arc<Cluster>,
        frontier: &RedisFrontier,
        id: &str,
    ) -> Result<(), ApiError> {
        let store = &cluster.store;
        loop {
            let claimed = retrying(self, "claim", || {
                store.claim(id, &cluster.replica, cluster.lease)
            })
            .await?;
            if let Some(token) = claimed {
                let finished = frontier.stats().await.is_ok_and(|s| s.is_finished());
                if finished {
                    let done = store.get(id).await?.map_or(0, |j| j.done);
                    store.set_total(id, done).await?;
                    store.set_status(id, Status::Completed, None, token).await?;
                }
                let _ = store.renew(id, &cluster.replica, token, None).await;
                return Ok(());
            }
            match store.get(id).await? {
                Some(j) if !j.status.finished() => {}
                _ => return Ok(()),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = self.closing.closed() => return Ok(()),
            }
        }
    }
}

fn capped_message(cluster: &Cluster) -> String {
    format!(
        "result cap reached: the job's results reached the per-job cap of {} MiB in Redis; \
         the results stored until then stay readable",
        cluster.store.cap().0 >> 20
    )
}
