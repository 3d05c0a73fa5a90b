//! The crawl engine of gannet: it owns the data flow of a crawl.
//!
//! ```text
//! seeds, sitemaps ──► frontier (SQLite, store thread) ──► scheduler (per-host politeness,
//!   robots.txt, global + per-host limits) ──► worker: HTTP exchange ──► extract (CPU pool)
//!   ──► outlinks (seen screen, canonicalize, scope) + page output ──► store thread:
//!   sink write, then one commit of outcomes + links + sink position
//! ```
//!
//! [`Crawl::open`] prepares a crawl (the embedded frontier in its state directory, the sink,
//! the seeds); [`Crawl::builder`] takes any [`gannet_frontier::Frontier`] and sink instead,
//! [`Crawl::run`] runs it to the end, a limit, or a stop signal, and returns a [`Summary`].
//! [`Crawl::stats`] gives live counters for progress displays.

mod config;
mod crawl;
pub mod page;
mod politeness;
mod pool;
mod stats;
mod store;
mod worker;

pub use config::{CrawlConfig, CrawlLlm, RenderPolicy, SinkConfig};
pub use crawl::StopReason;
pub use stats::Stats;
pub use store::StoreFailure;

use crate::crawl::Scheduler;
use crate::pool::CpuPool;
use crate::store::StoreHandle;
use crate::worker::Shared;
use gannet_fetch::Fetcher;
use gannet_frontier::{Counts, Frontier, FrontierError, NewUrl, ResumeState, Scope, canonicalize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};

/// Why a crawl could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// Bad settings (no seeds, bad pattern, nothing to resume...).
    #[error("{0}")]
    Config(String),
    /// The state directory or output could not be opened.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being opened.
        what: &'static str,
        /// Which path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The frontier or the sink failed during the crawl.
    #[error(transparent)]
    Store(#[from] StoreFailure),
    /// The crawl task panicked or was cancelled (a bug; committed work stays resumable).
    #[error("the crawl task failed: {0}")]
    Task(String),
}

/// What a crawl did.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Why it ended.
    pub stop: StopReason,
    /// Pages written in this run.
    pub written: u64,
    /// Pages rendered in the browser in this run.
    pub rendered: u64,
    /// URLs that failed in this run.
    pub failed: u64,
    /// URLs skipped in this run (robots.txt, redirects, non-documents).
    pub skipped: u64,
    /// Of those, blocked by robots.txt.
    pub robots_blocked: u64,
    /// 304 answers in a `--refresh` run.
    pub not_modified: u64,
    /// Retries after transient failures.
    pub retries: u64,
    /// Links dropped as already seen by the in-memory screen.
    pub duplicate_links: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Failure and skip reasons of this run, most frequent first.
    pub reasons: Vec<(String, u64)>,
    /// URLs by state in the whole frontier (all runs of this state directory).
    pub frontier: Counts,
    /// Wall time of this run.
    pub elapsed: Duration,
}

/// A crawl ready to run.
pub struct Crawl {
    scheduler: Scheduler,
    shared: Arc<Shared>,
    stats: Arc<Stats>,
    sitemap_task: Option<tokio::task::JoinHandle<crawl::FetchedRobots>>,
}

impl Crawl {
    /// Opens the state directory (fresh, or resumed with `config.resume`), the frontier and
    /// the sink, and enqueues the seeds. Must be called inside a tokio runtime.
    ///
    /// The same as `Crawl::builder(config).open()`: the embedded frontier in
    /// [`CrawlConfig::state_dir`] ([`CrawlConfig::frontier_config`]) and the sink of
    /// `config.out`.
    pub async fn open(config: CrawlConfig) -> Result<Crawl, CrawlError> {
        Crawl::builder(config).open().await
    }

    /// A crawl with its parts chosen one by one: a frontier other than the embedded one,
    /// another sink.
    pub fn builder(config: CrawlConfig) -> CrawlBuilder {
        CrawlBuilder {
            config,
            frontier: None,
        }
    }
}

/// Assembles a [`Crawl`]: [`Crawl::builder`], then [`CrawlBuilder::frontier`] and
/// [`CrawlBuilder::sink`] where the defaults do not fit, then [`CrawlBuilder::open`].
pub struct CrawlBuilder {
    config: CrawlConfig,
    frontier: Option<Arc<dyn Frontier>>,
}

impl CrawlBuilder {
    /// The frontier to crawl from (default: the embedded one the config describes). With
    /// `config.resume`, the crawl continues from its [`gannet_frontier::ResumeState`].
    pub fn frontier(mut self, frontier: Arc<dyn Frontier>) -> CrawlBuilder {
        self.frontier = Some(frontier);
        self
    }

    /// Where the pages go (default: `config.out` in `config.format`).
    pub fn sink(mut self, sink: SinkConfig) -> CrawlBuilder {
        self.config.format = sink.format;
        self.config.out = sink.out;
        self
    }

    /// Opens the frontier and the sink, and enqueues the seeds. Must be called inside a
    /// tokio runtime.
    pub async fn open(self) -> Result<Crawl, CrawlError> {
        let config = self.config;
        let state = config.state_dir();
        let io = |what, path: &PathBuf| {
            let path = path.clone();
            move |source| CrawlError::Io { what, path, source }
        };
        let frontier = match self.frontier {
            Some(frontier) => frontier,
            None => Arc::new(config.frontier_config().build().map_err(crawl_error)?),
        };
        let resumed = if config.resume {
            frontier.resume_state().await.map_err(crawl_error)?
        } else {
            ResumeState::default()
        };
        let checkpoint = resumed.checkpoint;
        // A crawl that starts now (not one resumed or joined with seeds already stored)
        // reads its seeds' sitemaps: once per crawl, also when the frontier is shared.
        let starts_now = !config.resume || resumed.seeds.is_empty();
        // Seeds: given again, or those of the crawl being resumed.
        let mut seeds: Vec<url::Url> = config
            .seeds
            .iter()
            .cloned()
            .filter_map(canonicalize)
            .collect();
        if seeds.is_empty() && config.resume {
            // The frontier file is created before the seeds are stored: a crawl killed in
            // between left a state with nothing in it, which is nothing to resume.
            if resumed.seeds.is_empty() {
                return Err(CrawlError::Config(format!(
                    "nothing to resume: {} holds no crawl state (the crawl stopped before it \
                     started; run without --resume)",
                    frontier.location()
                )));
            }
            seeds = resumed.seeds;
        }
        if seeds.is_empty() {
            return Err(CrawlError::Config(
                "no seed URL (give at least one http or https URL)".into(),
            ));
        }
        frontier.set_seeds(&seeds).await.map_err(crawl_error)?;
        let seed_urls: Vec<NewUrl> = seeds
            .iter()
            .map(|url| NewUrl {
                url: url.clone(),
                depth: 0,
                referrer: None,
            })
            .collect();
        let added = frontier.enqueue(&seed_urls).await.map_err(crawl_error)?;
        let counts = frontier.counts().await.map_err(crawl_error)?;
        tracing::info!(
            frontier = %frontier.location(),
            resume = config.resume,
            seeds = seeds.len(),
            new_seeds = added,
            queued = counts.queued,
            done = counts.done,
            "crawl opened"
        );

        let sink = SinkConfig {
            format: config.format,
            out: config.out.clone(),
        }
        .open(checkpoint.as_ref())
        .map_err(io("opening the output", &config.out))?;
        let scope =
            Scope::new(&seeds, &config.scope).map_err(|e| CrawlError::Config(e.to_string()))?;
        let fetcher = Fetcher::new(config.fetch.clone())
            .map_err(|e| CrawlError::Config(format!("HTTP client: {e}")))?;
        if config.render != RenderPolicy::Never && config.format == gannet_sink::Format::Warc {
            return Err(CrawlError::Config(
                "WARC archives HTTP exchanges and a rendered DOM is not one: render into jsonl \
                 or markdown"
                    .into(),
            ));
        }
        let browser = match config.render {
            RenderPolicy::Never => None,
            _ => Some(
                gannet_browser::Pool::new(config.browser.clone())
                    .map_err(|e| CrawlError::Config(e.to_string()))?,
            ),
        };
        let mut render_template = gannet_browser::RenderRequest::new(seeds[0].clone());
        render_template.timeout = config.render_timeout;
        render_template.block = config.render_block.clone();
        render_template.wait = config.render_wait.clone();
        let lease_length = frontier.lease_length();
        let store =
            StoreHandle::spawn(frontier, sink).map_err(io("starting the store thread", &state))?;
        let stats = Arc::new(Stats::default());
        Stats::add(&stats.queued, counts.queued);
        let shared = Arc::new(Shared {
            fetcher,
            store,
            scope,
            format: config.format,
            stats: Arc::clone(&stats),
            max_attempts: config.max_attempts.max(1),
            cpu: CpuPool::new(config.extract_threads)
                .map_err(io("starting extraction threads", &state))?,
            memory: Arc::new(Semaphore::new(config.extract_memory_kib.max(64) as usize)),
            memory_kib: config.extract_memory_kib.max(64),
            render: config.render,
            browser,
            render_template,
            schema: config.schema.clone(),
            llm: config.llm.clone(),
        });
        let sitemap_task = (config.sitemaps && starts_now).then(|| {
            let shared = Arc::clone(&shared);
            let config = config.clone();
            tokio::spawn(async move {
                let (urls, robots) =
                    crawl::sitemap_urls(&shared.fetcher, &seeds, &shared.scope, &config).await;
                if !urls.is_empty() {
                    let found = urls.len();
                    match shared.store.enqueue(urls).await {
                        Ok(added) => tracing::debug!(found, added, "sitemap URLs enqueued"),
                        Err(e) => tracing::warn!(error = %e, "sitemap URLs not enqueued"),
                    }
                }
                robots
            })
        });
        Ok(Crawl {
            scheduler: Scheduler::new(config, Arc::clone(&shared), lease_length),
            shared,
            stats,
            sitemap_task,
        })
    }
}

impl Crawl {
    /// Live counters.
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.stats)
    }

    /// Runs the crawl until nothing is left, a limit is reached, or `stop` turns true
    /// (then in-flight pages finish and everything is committed; `--resume` continues).
    ///
    /// The crawl runs as a task on the runtime's worker threads, whatever thread awaits
    /// this: under `block_on` the awaited future runs on the calling thread, and every
    /// wake-up between the scheduler and the page tasks would then cross threads (measured:
    /// twice the futex calls per page, 10–20% of the crawl's throughput).
    pub async fn run(self, stop: watch::Receiver<bool>) -> Result<Summary, CrawlError> {
        match tokio::spawn(self.run_here(stop)).await {
            Ok(result) => result,
            Err(e) => Err(CrawlError::Task(e.to_string())),
        }
    }

    async fn run_here(mut self, mut stop: watch::Receiver<bool>) -> Result<Summary, CrawlError> {
        let started = Instant::now();
        // Sitemaps first: a site's sitemap may list pages no link reaches.
        if let Some(task) = self.sitemap_task.take() {
            tokio::select! {
                fetched = task => {
                    if let Ok(robots) = fetched {
                        self.scheduler.prime_robots(robots);
                    }
                }
                () = crawl::stop_changed(&mut stop) => {}
            }
        }
        let result = self.scheduler.run(&mut stop).await;
        if let Some(pool) = &self.shared.browser {
            pool.shutdown().await;
        }
        let stopped = self.shared.store.stop().await;
        let stop_reason = result?;
        let frontier = stopped?;
        let s = &self.stats;
        tracing::info!(
            stop = ?stop_reason,
            written = Stats::get(&s.written),
            failed = Stats::get(&s.failed),
            skipped = Stats::get(&s.skipped),
            queued = frontier.queued,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "crawl ended"
        );
        Ok(Summary {
            stop: stop_reason,
            written: Stats::get(&s.written),
            rendered: Stats::get(&s.rendered),
            failed: Stats::get(&s.failed),
            skipped: Stats::get(&s.skipped),
            robots_blocked: Stats::get(&s.robots_blocked),
            not_modified: Stats::get(&s.not_modified),
            retries: Stats::get(&s.retries),
            duplicate_links: Stats::get(&s.duplicate_links),
            bytes: Stats::get(&s.bytes),
            reasons: s.reasons(),
            frontier,
            elapsed: started.elapsed(),
        })
    }
}

/// A frontier error as the crawl's: bad settings and unusable paths keep their kinds.
fn crawl_error(e: FrontierError) -> CrawlError {
    match e {
        FrontierError::Config(message) => CrawlError::Config(message),
        FrontierError::Io { what, path, source } => CrawlError::Io { what, path, source },
        other => CrawlError::Store(store::failure(other)),
    }
}
