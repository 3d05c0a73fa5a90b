//! What a crawl does: seeds, output, limits, politeness. Every field has a documented
//! default ([`CrawlConfig::new`]).

use gannet_fetch::FetchConfig;
use gannet_frontier::{Checkpoint, FrontierConfig, ScopeConfig, StoreConfig};
use gannet_sink::{Format, SinkWriter};
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// The settings of one crawl.
#[derive(Debug, Clone)]
pub struct CrawlConfig {
    /// Where the crawl starts (canonicalized by the engine).
    pub seeds: Vec<Url>,
    /// Output file (JSONL), directory (Markdown) or file prefix (WARC).
    pub out: PathBuf,
    /// Output format.
    pub format: Format,
    /// Directory of the frontier and crawl state. Default: `<out>.state`.
    pub state_dir: Option<PathBuf>,
    /// Continue the crawl in `state_dir` instead of starting over.
    pub resume: bool,
    /// With `resume` of a finished crawl: fetch every page again, conditionally
    /// (`If-None-Match` / `If-Modified-Since`), recording 304s.
    pub refresh: bool,
    /// Stop after this many pages written. Default: none.
    pub max_pages: Option<u64>,
    /// Stop dispatching after this long; in-flight pages finish. Default: none.
    pub max_time: Option<Duration>,
    /// Scope, include/exclude, depth, trap guards.
    pub scope: ScopeConfig,
    /// Most URLs enqueued per host. Default 100,000.
    pub max_pages_per_host: Option<u64>,
    /// Requests in flight in all. Default 64.
    pub concurrency: usize,
    /// Requests in flight per host. Default 2.
    pub per_host: usize,
    /// Least time between two requests to a host. Default 250 ms.
    pub min_delay: Duration,
    /// Most time between two requests to a host when it is slow or failing. Default 60 s.
    pub max_delay: Duration,
    /// Longest `Crawl-delay` honoured; above it the cap applies. Default 30 s.
    pub max_crawl_delay: Duration,
    /// Adapt the delay per host to its latency (AutoThrottle). Default on.
    pub auto_throttle: bool,
    /// Do not fetch or obey robots.txt. Default off.
    pub ignore_robots: bool,
    /// Fetches of an unreachable robots.txt (5xx, 429, network error) before the host's
    /// URLs are skipped; between them the host waits `robots_retry`, doubling. Default 3.
    pub robots_attempts: u32,
    /// First wait before fetching an unreachable robots.txt again. Default 30 s.
    pub robots_retry: Duration,
    /// Read the seeds' sitemaps (from robots.txt and `/sitemap.xml`). Default on.
    pub sitemaps: bool,
    /// Most URLs taken from sitemaps. Default 1,000,000.
    pub max_sitemap_urls: usize,
    /// Attempts per URL on transient failures (timeouts, resets, 5xx). Default 3.
    pub max_attempts: u32,
    /// HTTP client settings (timeouts, body cap, user agent).
    pub fetch: FetchConfig,
    /// Threads for extraction. Default: the available cores.
    pub extract_threads: usize,
    /// Memory extraction may use at once, in KiB (estimated at 8× the page size). A page
    /// larger than the budget allows runs alone. Default 32 MiB.
    pub extract_memory_kib: u32,
    /// When pages are rendered in Chromium. Default: never.
    pub render: RenderPolicy,
    /// The browser pool used when rendering (limits, recycling, TTLs).
    pub browser: gannet_browser::PoolConfig,
    /// Time allowed for one render, from waiting for a tab to the DOM.
    pub render_timeout: Duration,
    /// Resource types rendered pages do not load. Default: images, fonts and media (the
    /// text does not need them, and the site is spared the requests).
    pub render_block: Vec<gannet_browser::Block>,
    /// When a rendered page is ready.
    pub render_wait: gannet_browser::WaitFor,
    /// A crawl4ai schema (CSS, XPath) or regex strategy run on every page, its items in
    /// the record's `extracted` (`gannet crawl --schema`).
    pub schema: Option<std::sync::Arc<gannet_schema::Strategy>>,
    /// An LLM extraction run on every page (`gannet crawl --extract`), its value in the
    /// record's `extracted` and its tokens in `usage`; a failure is recorded in the page's
    /// record, not fatal. It reads the main content's Markdown headed by the title.
    pub llm: Option<CrawlLlm>,
}

/// The LLM step of a crawl: the client (its global concurrency cap bounds the calls in
/// flight) and what to extract.
#[derive(Debug, Clone)]
pub struct CrawlLlm {
    pub client: gannet_llm::LlmClient,
    pub instruction: gannet_llm::Instruction,
}

/// When a crawl renders pages in Chromium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RenderPolicy {
    /// HTTP only.
    #[default]
    Never,
    /// HTTP first; pages that need JavaScript (see `gannet_browser::smart`) are rendered.
    Auto,
    /// Every page is rendered (robots.txt and politeness still apply to it).
    Always,
}

impl RenderPolicy {
    /// Its name on the command line and in APIs: `never`, `auto`, `always`.
    pub fn name(self) -> &'static str {
        match self {
            RenderPolicy::Never => "never",
            RenderPolicy::Auto => "auto",
            RenderPolicy::Always => "always",
        }
    }
}

impl std::str::FromStr for RenderPolicy {
    type Err = String;

    /// `never`, `auto` or `always` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "never" => Ok(RenderPolicy::Never),
            "auto" => Ok(RenderPolicy::Auto),
            "always" => Ok(RenderPolicy::Always),
            _ => Err(format!(
                "invalid render policy {s:?}: use never, auto or always"
            )),
        }
    }
}

impl CrawlConfig {
    /// A crawl of `seeds` into `out` with every default.
    pub fn new(seeds: Vec<Url>, out: PathBuf, format: Format) -> CrawlConfig {
        CrawlConfig {
            seeds,
            out,
            format,
            state_dir: None,
            resume: false,
            refresh: false,
            max_pages: None,
            max_time: None,
            scope: ScopeConfig::default(),
            max_pages_per_host: Some(100_000),
            concurrency: 64,
            per_host: 2,
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(60),
            max_crawl_delay: Duration::from_secs(30),
            auto_throttle: true,
            ignore_robots: false,
            robots_attempts: 3,
            robots_retry: Duration::from_secs(30),
            sitemaps: true,
            max_sitemap_urls: 1_000_000,
            max_attempts: 3,
            fetch: FetchConfig::default(),
            extract_threads: std::thread::available_parallelism().map_or(2, usize::from),
            extract_memory_kib: 32 * 1024,
            render: RenderPolicy::Never,
            browser: gannet_browser::PoolConfig::default(),
            render_timeout: Duration::from_secs(30),
            render_block: vec![
                gannet_browser::Block::Images,
                gannet_browser::Block::Fonts,
                gannet_browser::Block::Media,
            ],
            render_wait: gannet_browser::WaitFor::Auto,
            schema: None,
            llm: None,
        }
    }

    /// The embedded frontier of this crawl: its state directory, whether it resumes, its
    /// limits. [`crate::Crawl::open`] builds it.
    pub fn frontier_config(&self) -> FrontierConfig {
        FrontierConfig {
            state_dir: self.state_dir(),
            resume: self.resume,
            refresh: self.refresh,
            store: StoreConfig {
                max_pages_per_host: self.max_pages_per_host,
                max_attempts: self.max_attempts.max(1),
                ..StoreConfig::default()
            },
        }
    }

    /// The state directory: `state_dir`, else `<out>.state` beside the output.
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(|| {
            let mut name = self.out.file_name().unwrap_or_default().to_os_string();
            name.push(".state");
            self.out.with_file_name(name)
        })
    }
}

/// Where a crawl's pages go: a format and a path (file, directory or WARC prefix).
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// Output format.
    pub format: Format,
    /// Output file (JSONL), directory (Markdown) or file prefix (WARC).
    pub out: PathBuf,
}

impl SinkConfig {
    /// Opens the sink, cut back to `checkpoint` (the position the frontier committed last)
    /// when there is one.
    pub fn open(&self, checkpoint: Option<&Checkpoint>) -> std::io::Result<SinkWriter> {
        SinkWriter::open(self.format, &self.out, checkpoint.map(Checkpoint::as_str))
    }
}
