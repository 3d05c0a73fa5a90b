//! The browser pool: browsers keyed by the signature of their launch config, in tiers
//! (PERMANENT default, HOT after repeated use, COLD otherwise), reused tabs, recycling,
//! crash recovery, a bounded wait queue, named sessions and a memory-aware janitor.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use chromiumoxide::Browser;
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::page::NavigateParams;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams, WindowState,
};
use chromiumoxide::cdp::js_protocol::heap_profiler::CollectGarbageParams;
use chromiumoxide::handler::HandlerConfig;
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::Error;
use crate::memory::MemoryProbe;
use crate::process::{self, ChromeProcess, LaunchSpec};
use crate::render::{self, RenderRequest, Rendered, TabState};

/// Pages of a browser between two forced collections ([`PoolConfig::gc_over_bytes`]).
const GC_MIN_PAGES: u64 = 5;

/// Pages between two checks of a browser's memory by the render path (the janitor checks
/// too, but a busy browser can grow a lot in its interval).
const MEMORY_CHECK_EVERY: u64 = 10;

/// What a browser is launched with. Requests with equal configs share a browser.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BrowserConfig {
    /// Overrides Chromium's own User-Agent.
    pub user_agent: Option<String>,
    /// Don't decode images at all (cheaper than blocking them per request).
    pub text_mode: bool,
    /// Accept-Language / `navigator.language`, e.g. `en-US`.
    pub locale: Option<String>,
    /// More Chromium flags (`--name` or `--name=value`). Flags that would change how gannet
    /// talks to the browser, where it keeps its profile, or how it resolves and routes
    /// traffic are refused.
    pub extra_args: Vec<String>,
}

/// Flags a caller may not set: they belong to the pool, or they would let a request route
/// the browser's traffic around the fetch guard.
const RESERVED_FLAGS: &[&str] = &[
    "--remote-debugging",
    "--user-data-dir",
    "--proxy",
    "--host-resolver-rules",
    "--host-rules",
    "--no-proxy-server",
    "--load-extension",
    "--disable-web-security",
    "--headless",
    "--no-sandbox",
];

impl BrowserConfig {
    /// Checks the extra flags; an error names the offending one.
    pub fn validate(&self) -> Result<(), Error> {
        for arg in &self.extra_args {
            let name = arg.split('=').next().unwrap_or(arg);
            if !arg.starts_with("--") || name.len() < 3 || arg.contains(['\n', '\0']) {
                return Err(Error::Invalid(format!(
                    "browser flag {arg:?} must look like --name or --name=value"
                )));
            }
            if RESERVED_FLAGS.iter().any(|r| name.starts_with(r)) {
                return Err(Error::Invalid(format!(
                    "browser flag {name} is managed by gannet and cannot be set"
                )));
            }
        }
        if let Some(ua) = &self.user_agent
            && (ua.is_empty() || ua.contains(['\n', '\r', '\0']))
        {
            return Err(Error::Invalid(
                "user agent must be one non-empty line".into(),
            ));
        }
        if let Some(l) = &self.locale
            && !(l.len() <= 35 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return Err(Error::Invalid(format!("bad locale {l:?}")));
        }
        Ok(())
    }

    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(ua) = &self.user_agent {
            args.push(format!("--user-agent={ua}"));
        }
        if self.text_mode {
            args.push("--blink-settings=imagesEnabled=false".into());
        }
        if let Some(l) = &self.locale {
            args.push(format!("--lang={l}"));
        }
        args.extend(self.extra_args.iter().cloned());
        args
    }

    /// The pool's key for this config.
    pub fn signature(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.hash(&mut h);
        h.finish()
    }
}

/// Limits and timings of a pool. Every field has a default that suits one machine.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Chromium binary; `None` = [`process::find_chromium`].
    pub executable: Option<PathBuf>,
    /// Where profile directories go (removed when the browser goes).
    pub temp_root: PathBuf,
    /// Browsers alive at once, over all configs.
    pub max_browsers: usize,
    /// Renders in flight at once, over all browsers.
    pub max_concurrent: usize,
    /// Tabs one browser renders at once.
    pub tabs_per_browser: usize,
    /// Requests that may wait for a slot; beyond it a request gets [`Error::Busy`] at once.
    pub queue_limit: usize,
    /// The longest a request waits for a slot (its own timeout may be shorter).
    pub queue_timeout: Duration,
    pub launch_timeout: Duration,
    /// A browser is recycled after about this many pages (± [`PoolConfig::recycle_jitter`]).
    pub recycle_after: u64,
    /// Fraction of `recycle_after` by which each browser's limit is randomly moved, so a
    /// fleet started together does not restart together.
    pub recycle_jitter: f64,
    /// A browser whose process tree passes this much memory (PSS) is recycled.
    pub rss_cap: u64,
    /// Uses after which a config's browser is HOT.
    pub hot_after: u64,
    pub hot_ttl: Duration,
    pub cold_ttl: Duration,
    /// The janitor's interval at no memory pressure; it shrinks as pressure grows.
    pub janitor_interval: Duration,
    pub max_sessions: usize,
    pub session_ttl: Duration,
    /// The config whose browser is PERMANENT (never reaped).
    pub default_config: BrowserConfig,
    pub memory: MemoryProbe,
    /// When set, every browser request goes through an egress proxy that asks this policy
    /// about each address it would connect to ([`crate::egress`]).
    pub egress: Option<crate::egress::EgressPolicy>,
    /// After a page whose DOM (serialized) is at least this many bytes, its tab shows
    /// `about:blank` and V8 collects everything before the tab is reused, so the big
    /// document is gone before the renderer's next spike (0 turns it off; `None` = the
    /// default for the binary, see [`MemoryTuning`]).
    pub big_page_bytes: Option<usize>,
    /// When the content renderer's RSS is over this many bytes after a page, V8 collects
    /// everything (at most once every [`GC_MIN_PAGES`] pages of a browser; 0 turns it off;
    /// `None` = the default for the binary, see [`MemoryTuning`]).
    pub gc_over_bytes: Option<u64>,
    /// [`crate::WaitFor::Auto`]'s DOM quiet window: when the main content is still empty
    /// after load and the page's requests, a render waits for content and then until the
    /// DOM has not changed for this long (bounded; zero turns the step off).
    pub dom_quiet: Duration,
}

/// Operator overrides read by [`PoolConfig::default`] (for tuning and the render
/// benchmark, where the CLI has no flag for them): `GANNET_BROWSER_ARGS` adds Chromium
/// flags to the default config (whitespace-separated, checked like
/// [`BrowserConfig::extra_args`]), `GANNET_BROWSER_MEMORY_CAP_MB` sets
/// [`PoolConfig::rss_cap`], `GANNET_BROWSER_BIG_PAGE_KB` [`PoolConfig::big_page_bytes`],
/// `GANNET_BROWSER_GC_OVER_MB` [`PoolConfig::gc_over_bytes`] and
/// `GANNET_BROWSER_DOM_QUIET_MS` [`PoolConfig::dom_quiet`] (0 turns each off).
fn env_overrides(cfg: &mut PoolConfig) {
    if let Ok(args) = std::env::var("GANNET_BROWSER_ARGS") {
        cfg.default_config
            .extra_args
            .extend(args.split_whitespace().map(str::to_string));
    }
    if let Some(mb) = std::env::var("GANNET_BROWSER_MEMORY_CAP_MB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&mb| mb > 0)
    {
        cfg.rss_cap = mb << 20;
    }
    let number = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if let Some(ms) = number("GANNET_BROWSER_DOM_QUIET_MS") {
        cfg.dom_quiet = Duration::from_millis(ms);
    }
    if let Some(kb) = number("GANNET_BROWSER_BIG_PAGE_KB") {
        cfg.big_page_bytes = Some((kb as usize) * 1000);
    }
    if let Some(mb) = number("GANNET_BROWSER_GC_OVER_MB") {
        cfg.gc_over_bytes = Some(mb << 20);
    }
}

impl Default for PoolConfig {
    fn default() -> Self {
        let mut cfg = Self::builtin();
        env_overrides(&mut cfg);
        cfg
    }
}

impl PoolConfig {
    fn builtin() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            executable: None,
            temp_root: std::env::temp_dir(),
            max_browsers: 4,
            max_concurrent: (cores * 4).clamp(4, 32),
            tabs_per_browser: (cores * 4).clamp(4, 16),
            queue_limit: 256,
            queue_timeout: Duration::from_secs(60),
            launch_timeout: Duration::from_secs(20),
            recycle_after: 1_000,
            recycle_jitter: 0.2,
            // A fresh browser (one content renderer, see process.rs) is ~300 MB PSS; past
            // 640 MiB its renderer mostly holds what earlier pages left behind, and a
            // relaunch (~0.3–0.5 s, after its pages drain) is cheaper than keeping it.
            // 500 rustdoc pages: peak tree RSS 0.97 → 0.89 GB (cap 1 GiB → 640 MiB).
            rss_cap: 640 << 20,
            hot_after: 3,
            hot_ttl: Duration::from_secs(30 * 60),
            cold_ttl: Duration::from_secs(120),
            janitor_interval: Duration::from_secs(10),
            max_sessions: 32,
            session_ttl: Duration::from_secs(10 * 60),
            default_config: BrowserConfig::default(),
            memory: MemoryProbe::default(),
            egress: None,
            // Chosen by the binary when the pool starts: see MemoryTuning.
            big_page_bytes: None,
            gc_over_bytes: None,
            dom_quiet: Duration::from_millis(100),
        }
    }
}

/// The memory steps a pool takes by default, chosen by the Chromium binary it runs
/// ([`PoolConfig::big_page_bytes`], [`PoolConfig::gc_over_bytes`]).
///
/// Both steps trade render throughput for a lower peak, and what they cost depends on the
/// binary. On 500 rustdoc pages (8 tabs, quiet 2-core machine; BENCHMARKS.md, "Browser,
/// ninth session"), a big-page threshold of 300 kB with a collection over 400 MiB took:
/// - Chromium's headless shell from 0.68–0.71 to 0.53–0.56 GB peak tree RSS, at 8.1–11.6
///   pages/s instead of 9.2–14.2 (the machine drifted): still 3.2–5× crawl4ai run side by
///   side, so the shell has them on;
/// - the full browser from 0.88–0.92 to 0.81–0.89 GB, at 16% fewer pages per second (8.80
///   → 7.42, below 3× crawl4ai: "Browser, sixth session"), so the full browser has them
///   off. `GANNET_BROWSER_BIG_PAGE_KB=300 GANNET_BROWSER_GC_OVER_MB=400` turns them on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryTuning {
    pub big_page_bytes: usize,
    pub gc_over_bytes: u64,
}

impl MemoryTuning {
    /// The defaults for `executable`: the headless shell gets the memory steps.
    pub fn for_binary(executable: &Path) -> Self {
        if process::is_headless_shell(executable) {
            Self {
                big_page_bytes: 300_000,
                gc_over_bytes: 400 << 20,
            }
        } else {
            Self {
                big_page_bytes: 0,
                gc_over_bytes: 0,
            }
        }
    }
}

/// A browser's standing in the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// The default config: started on first use, never reaped.
    Permanent,
    /// Used at least `hot_after` times: long idle TTL.
    Hot,
    /// Rare configs: short idle TTL.
    Cold,
}

/// A snapshot of the pool for logs, `/metrics` and the dashboard.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PoolMetrics {
    pub browsers_permanent: usize,
    pub browsers_hot: usize,
    pub browsers_cold: usize,
    pub hits_permanent: u64,
    pub hits_hot: u64,
    pub hits_cold: u64,
    pub launches: u64,
    pub pages_rendered: u64,
    pub render_errors: u64,
    pub recycles: u64,
    pub crashes: u64,
    pub retries: u64,
    pub reaped: u64,
    pub busy_rejections: u64,
    pub queue_depth: usize,
    pub in_flight: usize,
    pub sessions: usize,
    /// Memory (PSS) of every browser's process tree together.
    pub rss_bytes: u64,
    /// The memory reading the janitor last acted on (0–1).
    pub memory_pressure: f64,
}

#[derive(Default)]
struct Counters {
    hits: [AtomicU64; 3],
    launches: AtomicU64,
    pages: AtomicU64,
    errors: AtomicU64,
    recycles: AtomicU64,
    crashes: AtomicU64,
    retries: AtomicU64,
    reaped: AtomicU64,
    busy: AtomicU64,
    pressure_millis: AtomicU64,
}

/// One running browser.
struct Instance {
    /// The signature of the config it was launched with.
    sig: u64,
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    /// `true` once the DevTools connection is gone.
    gone: watch::Receiver<bool>,
    process: Mutex<Option<ChromeProcess>>,
    pid: u32,
    tabs: Arc<Semaphore>,
    idle_tabs: Mutex<Vec<TabState>>,
    in_flight: AtomicUsize,
    served: AtomicU64,
    recycle_after: u64,
    retiring: AtomicBool,
    /// The content renderer's pid, once found.
    renderer: Mutex<Option<u32>>,
    /// `served` at the last forced collection.
    last_gc: AtomicU64,
    last_used: Mutex<Instant>,
    reaps: Arc<AtomicUsize>,
    /// The pool's count of live browsers, decremented when this one is dropped.
    live: Arc<AtomicUsize>,
}

impl Instance {
    fn is_dead(&self) -> bool {
        *self.gone.borrow()
            || self
                .process
                .lock()
                .map(|mut p| p.as_mut().is_none_or(|p| p.has_exited()))
                .unwrap_or(true)
    }

    fn usable(&self) -> bool {
        !self.retiring.load(Ordering::Relaxed) && !self.is_dead()
    }

    fn touch(&self) {
        if let Ok(mut t) = self.last_used.lock() {
            *t = Instant::now();
        }
    }

    fn idle_for(&self) -> Duration {
        self.last_used
            .lock()
            .map_or(Duration::ZERO, |t| t.elapsed())
    }

    async fn wait_gone(&self) {
        let mut gone = self.gone.clone();
        let _ = gone.wait_for(|g| *g).await;
    }

    /// Kills the browser now (blocking a few milliseconds).
    fn kill(&self) {
        self.handler.abort();
        if let Ok(mut slot) = self.process.lock()
            && let Some(p) = slot.take()
        {
            p.kill_and_clean();
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
        self.handler.abort();
        let process = self.process.lock().ok().and_then(|mut p| p.take());
        if let Some(p) = process {
            // Killing and removing the profile blocks briefly: not on a runtime thread.
            let reaps = self.reaps.clone();
            reaps.fetch_add(1, Ordering::SeqCst);
            let spawned = std::thread::Builder::new()
                .name("gannet-chromium-reaper".into())
                .spawn({
                    let reaps = reaps.clone();
                    move || {
                        p.kill_and_clean();
                        reaps.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            if spawned.is_err() {
                reaps.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
}

/// All browsers of one config.
struct Entry {
    config: BrowserConfig,
    permanent: bool,
    uses: AtomicU64,
    /// The browser new requests go to; replaced when it retires or dies. Retired ones live
    /// on while requests hold them and die with the last one.
    current: tokio::sync::Mutex<Option<Arc<Instance>>>,
}

impl Entry {
    fn tier(&self, hot_after: u64) -> Tier {
        if self.permanent {
            Tier::Permanent
        } else if self.uses.load(Ordering::Relaxed) >= hot_after {
            Tier::Hot
        } else {
            Tier::Cold
        }
    }
}

struct Session {
    instance: Arc<Instance>,
    context: BrowserContextId,
    tab: Option<TabState>,
    last_used: Instant,
    config_sig: u64,
}

struct Inner {
    cfg: PoolConfig,
    /// The egress proxy every browser uses, when the config asks for one.
    egress: Option<crate::egress::EgressProxy>,
    executable: PathBuf,
    /// [`PoolConfig::big_page_bytes`] and [`PoolConfig::gc_over_bytes`], resolved.
    tuning: MemoryTuning,
    entries: Mutex<HashMap<u64, Arc<Entry>>>,
    /// Every instance ever launched and not yet dropped (for shutdown and metrics).
    instances: Mutex<Vec<Weak<Instance>>>,
    live_browsers: Arc<AtomicUsize>,
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    sessions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Session>>>>,
    counters: Counters,
    closed: AtomicBool,
    reaps: Arc<AtomicUsize>,
    seed: AtomicU64,
}

/// A pool of Chromium browsers. Cheap to clone; all clones share the pool.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("executable", &self.inner.executable)
            .finish_non_exhaustive()
    }
}

/// Decrements the waiting count when a queued request stops waiting.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Pool {
    /// Creates a pool (no browser starts until the first render, or [`Pool::warm_up`]).
    /// Cleans profile directories left by crashed gannet processes. Must be called inside
    /// a tokio runtime (the janitor is a task).
    pub fn new(cfg: PoolConfig) -> Result<Self, Error> {
        let executable = match &cfg.executable {
            Some(p) => p.clone(),
            None => process::find_chromium()?,
        };
        cfg.default_config.validate()?;
        if cfg.max_browsers == 0 || cfg.max_concurrent == 0 || cfg.tabs_per_browser == 0 {
            return Err(Error::Invalid(
                "max_browsers, max_concurrent and tabs_per_browser must be at least 1".into(),
            ));
        }
        std::fs::create_dir_all(&cfg.temp_root).map_err(|e| {
            Error::Launch(format!("cannot create {}: {e}", cfg.temp_root.display()))
        })?;
        process::cleanup_stale(&cfg.temp_root);
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
        let egress = match &cfg.egress {
            Some(policy) => Some(
                crate::egress::EgressProxy::start(policy.0.clone())
                    .map_err(|e| Error::Launch(format!("cannot start the egress proxy: {e}")))?,
            ),
            None => None,
        };
        let auto = MemoryTuning::for_binary(&executable);
        let tuning = MemoryTuning {
            big_page_bytes: cfg.big_page_bytes.unwrap_or(auto.big_page_bytes),
            gc_over_bytes: cfg.gc_over_bytes.unwrap_or(auto.gc_over_bytes),
        };
        let inner = Arc::new(Inner {
            egress,
            tuning,
            slots: Arc::new(Semaphore::new(cfg.max_concurrent)),
            cfg,
            executable,
            entries: Mutex::new(HashMap::new()),
            instances: Mutex::new(Vec::new()),
            live_browsers: Arc::new(AtomicUsize::new(0)),
            waiting: AtomicUsize::new(0),
            sessions: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            closed: AtomicBool::new(false),
            reaps: Arc::new(AtomicUsize::new(0)),
            seed: AtomicU64::new(seed | 1),
        });
        tokio::spawn(janitor(Arc::downgrade(&inner)));
        Ok(Self { inner })
    }

    /// Starts the PERMANENT browser now instead of on the first render.
    pub async fn warm_up(&self) -> Result<(), Error> {
        let cfg = self.inner.cfg.default_config.clone();
        let entry = self.inner.entry(&cfg);
        let deadline = Instant::now() + self.inner.cfg.launch_timeout + Duration::from_secs(5);
        self.inner.instance_for(&entry, deadline).await.map(|_| ())
    }

    /// Renders a page with the pool's default browser config.
    pub async fn render(&self, req: &RenderRequest) -> Result<Rendered, Error> {
        let cfg = self.inner.cfg.default_config.clone();
        self.render_with(&cfg, req).await
    }

    /// Renders a page in a browser launched with `config`. A browser that dies during the
    /// request is replaced and the request retried once.
    pub async fn render_with(
        &self,
        config: &BrowserConfig,
        req: &RenderRequest,
    ) -> Result<Rendered, Error> {
        config.validate()?;
        if let Some(id) = &req.session {
            validate_session_id(id)?;
        }
        let inner = &self.inner;
        if inner.closed.load(Ordering::SeqCst) {
            return Err(Error::Closed);
        }
        let deadline = Instant::now() + req.timeout;
        let _slot = inner.admit(deadline, req.queue_wait).await?;
        let entry = inner.entry(config);
        let tier = entry.tier(inner.cfg.hot_after);
        let mut result = self.attempt(&entry, req, deadline).await;
        if matches!(result, Err(Error::BrowserGone(_)))
            && Instant::now() < deadline
            && !inner.closed.load(Ordering::SeqCst)
        {
            inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            result = self.attempt(&entry, req, deadline).await;
        }
        match &mut result {
            Ok(r) => {
                r.tier = tier;
                inner.counters.pages.fetch_add(1, Ordering::Relaxed);
                inner.counters.hits[tier as usize].fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                inner.counters.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        result
    }

    async fn attempt(
        &self,
        entry: &Arc<Entry>,
        req: &RenderRequest,
        deadline: Instant,
    ) -> Result<Rendered, Error> {
        let inner = &self.inner;
        if let Some(id) = &req.session {
            return inner.render_in_session(entry, id, req, deadline).await;
        }
        let instance = inner.instance_for(entry, deadline).await?;
        let _tab_permit = acquire_until(&instance.tabs, deadline, "a free tab").await?;
        instance.in_flight.fetch_add(1, Ordering::SeqCst);
        instance.touch();
        let result = inner.render_on(&instance, req, deadline).await;
        instance.in_flight.fetch_sub(1, Ordering::SeqCst);
        instance.touch();
        result
    }

    /// Closes a named session: its cookies and storage are gone. `false` if it did not exist.
    pub async fn close_session(&self, id: &str) -> bool {
        let session = self
            .inner
            .sessions
            .lock()
            .ok()
            .and_then(|mut s| s.remove(id));
        match session {
            Some(s) => {
                let mut s = s.lock().await;
                dispose_session(&mut s).await;
                true
            }
            None => false,
        }
    }

    /// A snapshot of the pool's state and counters.
    pub fn metrics(&self) -> PoolMetrics {
        let inner = &self.inner;
        let c = &inner.counters;
        let mut m = PoolMetrics {
            hits_permanent: c.hits[Tier::Permanent as usize].load(Ordering::Relaxed),
            hits_hot: c.hits[Tier::Hot as usize].load(Ordering::Relaxed),
            hits_cold: c.hits[Tier::Cold as usize].load(Ordering::Relaxed),
            launches: c.launches.load(Ordering::Relaxed),
            pages_rendered: c.pages.load(Ordering::Relaxed),
            render_errors: c.errors.load(Ordering::Relaxed),
            recycles: c.recycles.load(Ordering::Relaxed),
            crashes: c.crashes.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            reaped: c.reaped.load(Ordering::Relaxed),
            busy_rejections: c.busy.load(Ordering::Relaxed),
            queue_depth: inner.waiting.load(Ordering::Relaxed),
            in_flight: inner.cfg.max_concurrent - inner.slots.available_permits(),
            sessions: inner.sessions.lock().map_or(0, |s| s.len()),
            memory_pressure: c.pressure_millis.load(Ordering::Relaxed) as f64 / 1000.0,
            ..PoolMetrics::default()
        };
        let tiers: HashMap<u64, Tier> = inner
            .entries
            .lock()
            .map(|e| {
                e.iter()
                    .map(|(sig, entry)| (*sig, entry.tier(inner.cfg.hot_after)))
                    .collect()
            })
            .unwrap_or_default();
        for instance in inner.live_instances() {
            if !instance.usable() {
                continue;
            }
            match tiers.get(&instance.sig) {
                Some(Tier::Permanent) => m.browsers_permanent += 1,
                Some(Tier::Hot) => m.browsers_hot += 1,
                Some(Tier::Cold) => m.browsers_cold += 1,
                None => {}
            }
        }
        m.rss_bytes = inner
            .live_instances()
            .iter()
            .map(|i| process::tree_memory_bytes(i.pid))
            .sum();
        m
    }

    /// Main-process ids of the live browsers (for tests and monitoring).
    pub fn browser_pids(&self) -> Vec<u32> {
        self.inner.live_instances().iter().map(|i| i.pid).collect()
    }

    /// The pool's profile directory root.
    pub fn temp_root(&self) -> &std::path::Path {
        &self.inner.cfg.temp_root
    }

    /// Stops taking requests, closes sessions, kills every browser and removes every
    /// profile directory; returns when they are gone (at most a few seconds).
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        inner.closed.store(true, Ordering::SeqCst);
        inner.slots.close();
        let sessions: Vec<_> = inner
            .sessions
            .lock()
            .map(|mut s| s.drain().map(|(_, v)| v).collect())
            .unwrap_or_default();
        for s in sessions {
            if let Ok(mut s) = tokio::time::timeout(Duration::from_secs(2), s.lock()).await {
                s.tab = None;
            }
        }
        let entries: Vec<Arc<Entry>> = inner
            .entries
            .lock()
            .map(|mut e| e.drain().map(|(_, v)| v).collect())
            .unwrap_or_default();
        for entry in entries {
            if let Ok(mut current) =
                tokio::time::timeout(Duration::from_secs(2), entry.current.lock()).await
            {
                current.take();
            }
        }
        let live = inner.live_instances();
        let _ = tokio::task::spawn_blocking(move || {
            for instance in live {
                instance.kill();
            }
        })
        .await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while inner.reaps.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn validate_session_id(id: &str) -> Result<(), Error> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(Error::Invalid(format!(
            "bad session id {id:?}: 1–64 characters of A–Z, a–z, 0–9, '-', '_', '.'"
        )));
    }
    Ok(())
}

async fn acquire_until(
    sem: &Arc<Semaphore>,
    deadline: Instant,
    what: &str,
) -> Result<OwnedSemaphorePermit, Error> {
    match tokio::time::timeout_at(deadline.into(), sem.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) => Err(Error::Closed),
        Err(_) => Err(Error::Busy(format!(
            "no {what} before the request's deadline"
        ))),
    }
}

async fn dispose_session(s: &mut Session) {
    s.tab = None;
    let dispose = chromiumoxide::cdp::browser_protocol::target::DisposeBrowserContextParams::new(
        s.context.clone(),
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), s.instance.browser.execute(dispose)).await;
}

impl Inner {
    fn entry(&self, config: &BrowserConfig) -> Arc<Entry> {
        let sig = config.signature();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.entry(sig).or_insert_with(|| {
            Arc::new(Entry {
                permanent: *config == self.cfg.default_config,
                config: config.clone(),
                uses: AtomicU64::new(0),
                current: tokio::sync::Mutex::new(None),
            })
        });
        entry.uses.fetch_add(1, Ordering::Relaxed);
        entry.clone()
    }

    fn live_instances(&self) -> Vec<Arc<Instance>> {
        let mut list = self.instances.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|w| w.strong_count() > 0);
        list.iter().filter_map(Weak::upgrade).collect()
    }

    /// Waits for a render slot: at once if one is free, else in the bounded queue until
    /// the deadline, the queue timeout or the request's own `queue_wait`, whichever is first.
    async fn admit(
        &self,
        deadline: Instant,
        queue_wait: Option<Duration>,
    ) -> Result<OwnedSemaphorePermit, Error> {
        match self.slots.clone().try_acquire_owned() {
            Ok(permit) => return Ok(permit),
            Err(tokio::sync::TryAcquireError::Closed) => return Err(Error::Closed),
            Err(tokio::sync::TryAcquireError::NoPermits) => {}
        }
        let waiting = self.waiting.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = Waiting(&self.waiting);
        if waiting > self.cfg.queue_limit {
            self.counters.busy.fetch_add(1, Ordering::Relaxed);
            return Err(Error::Busy(format!(
                "{} requests are already waiting for a browser (queue limit {})",
                waiting - 1,
                self.cfg.queue_limit
            )));
        }
        let wait = queue_wait.map_or(self.cfg.queue_timeout, |w| w.min(self.cfg.queue_timeout));
        let until = deadline.min(Instant::now() + wait);
        acquire_until(&self.slots, until, "free browser slot")
            .await
            .inspect_err(|_| {
                self.counters.busy.fetch_add(1, Ordering::Relaxed);
            })
    }

    /// The usable browser of `entry`, launching one if there is none (or it retired/died).
    async fn instance_for(
        &self,
        entry: &Arc<Entry>,
        deadline: Instant,
    ) -> Result<Arc<Instance>, Error> {
        let mut current = tokio::time::timeout_at(deadline.into(), entry.current.lock())
            .await
            .map_err(|_| Error::Busy("waited too long for the browser to start".into()))?;
        if let Some(instance) = current.as_ref() {
            if instance.usable() {
                return Ok(instance.clone());
            }
            if instance.is_dead() && !instance.retiring.swap(true, Ordering::SeqCst) {
                self.counters.crashes.fetch_add(1, Ordering::Relaxed);
            }
        }
        // Replace it. A retiring browser finishes its pages first and goes before its
        // successor starts, so two browsers never hold memory at once (the peak a
        // recycle would otherwise cause).
        if let Some(old) = current.take()
            && !old.is_dead()
        {
            while old.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let _ = tokio::task::spawn_blocking(move || old.kill()).await;
        }
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::Closed);
        }
        self.make_room(deadline).await?;
        let instance = self.launch(&entry.config, deadline).await?;
        if self.closed.load(Ordering::SeqCst) {
            // Shut down while it started: it must not outlive the pool.
            let doomed = instance.clone();
            let _ = tokio::task::spawn_blocking(move || doomed.kill()).await;
            return Err(Error::Closed);
        }
        *current = Some(instance.clone());
        Ok(instance)
    }

    /// Waits until one more browser may start, reaping the least recently used idle
    /// non-permanent browser if the pool is full.
    async fn make_room(&self, deadline: Instant) -> Result<(), Error> {
        loop {
            if self.live_browsers.load(Ordering::SeqCst) < self.cfg.max_browsers {
                return Ok(());
            }
            if self.evict_one_idle().await {
                continue;
            }
            if Instant::now() >= deadline {
                self.counters.busy.fetch_add(1, Ordering::Relaxed);
                return Err(Error::Busy(format!(
                    "all {} browsers are busy with other configurations",
                    self.cfg.max_browsers
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn evict_one_idle(&self) -> bool {
        let entries: Vec<Arc<Entry>> = self
            .entries
            .lock()
            .map(|e| e.values().filter(|e| !e.permanent).cloned().collect())
            .unwrap_or_default();
        let mut best: Option<(Duration, Arc<Entry>)> = None;
        for entry in entries {
            if let Ok(current) = entry.current.try_lock()
                && let Some(i) = current.as_ref()
                && i.in_flight.load(Ordering::SeqCst) == 0
                && Arc::strong_count(i) == 1
            {
                let idle = i.idle_for();
                if best.as_ref().is_none_or(|(b, _)| idle > *b) {
                    best = Some((idle, entry.clone()));
                }
            }
        }
        let Some((_, entry)) = best else {
            return false;
        };
        let Ok(mut current) = entry.current.try_lock() else {
            return false;
        };
        if let Some(i) = current.take() {
            self.counters.reaped.fetch_add(1, Ordering::Relaxed);
            drop(i);
            // Its process dies on the reaper thread; count it gone now.
            return true;
        }
        false
    }

    async fn launch(
        &self,
        config: &BrowserConfig,
        deadline: Instant,
    ) -> Result<Arc<Instance>, Error> {
        let mut args = config.args();
        if let Some(proxy) = &self.egress {
            args.extend(proxy.chromium_args());
        }
        // A request whose deadline leaves no time to start a browser is a busy pool (503),
        // not a launch failure: Chromium is fine, the request waited too long for it.
        let left = deadline.saturating_duration_since(Instant::now());
        let short = left < self.cfg.launch_timeout;
        if left < Duration::from_millis(500) {
            return Err(Error::Busy(
                "no time left before the request's deadline to start a browser".into(),
            ));
        }
        let spec = LaunchSpec {
            executable: self.executable.clone(),
            args,
            temp_root: self.cfg.temp_root.clone(),
            timeout: self.cfg.launch_timeout.min(left),
        };
        let process = tokio::task::spawn_blocking(move || process::launch(&spec))
            .await
            .map_err(|e| Error::Launch(e.to_string()))?
            .map_err(|e| match e {
                Error::Launch(m) if short && m.contains("did not open") => Error::Busy(format!(
                    "the request's deadline passed while a browser started ({m})"
                )),
                other => other,
            })?;
        let handler_cfg = HandlerConfig {
            viewport: None,
            request_timeout: Duration::from_secs(120),
            ..HandlerConfig::default()
        };
        let (browser, mut handler) =
            match Browser::connect_with_config(process.ws_url.clone(), handler_cfg).await {
                Ok(pair) => pair,
                Err(e) => {
                    tokio::task::spawn_blocking(move || process.kill_and_clean());
                    return Err(Error::Launch(format!("cannot connect to chromium: {e}")));
                }
            };
        let (gone_tx, gone_rx) = watch::channel(false);
        let handler = tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                if let Err(chromiumoxide::error::CdpError::Ws(_)) = event {
                    break;
                }
            }
            let _ = gone_tx.send(true);
        });
        self.counters.launches.fetch_add(1, Ordering::Relaxed);
        let pid = process.pid();
        let instance = Arc::new(Instance {
            sig: config.signature(),
            browser,
            handler,
            gone: gone_rx,
            process: Mutex::new(Some(process)),
            pid,
            tabs: Arc::new(Semaphore::new(self.cfg.tabs_per_browser)),
            idle_tabs: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            recycle_after: self.jittered_recycle_limit(),
            retiring: AtomicBool::new(false),
            renderer: Mutex::new(None),
            last_gc: AtomicU64::new(0),
            last_used: Mutex::new(Instant::now()),
            reaps: self.reaps.clone(),
            live: self.live_browsers.clone(),
        });
        self.live_browsers.fetch_add(1, Ordering::SeqCst);
        self.instances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::downgrade(&instance));
        Ok(instance)
    }

    fn jittered_recycle_limit(&self) -> u64 {
        // xorshift: enough randomness to spread restarts, no dependency.
        let mut x = self.seed.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed.store(x, Ordering::Relaxed);
        let unit = (x >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        let base = self.cfg.recycle_after.max(1) as f64;
        let jitter = self.cfg.recycle_jitter.clamp(0.0, 0.9);
        (base * (1.0 - jitter + 2.0 * jitter * unit))
            .round()
            .max(1.0) as u64
    }

    async fn render_on(
        &self,
        instance: &Arc<Instance>,
        req: &RenderRequest,
        deadline: Instant,
    ) -> Result<Rendered, Error> {
        let tab = instance.idle_tabs.lock().ok().and_then(|mut t| t.pop());
        let mut tab = match tab {
            Some(tab) => tab,
            None => {
                guarded(instance, deadline, "a new tab", async {
                    let mut tab =
                        TabState::new(instance.browser.new_page(tab_params(None)?).await?);
                    tab.prepare().await?;
                    Ok(tab)
                })
                .await?
            }
        };
        let result = guarded(
            instance,
            deadline,
            "the page",
            render::drive(&mut tab, req, deadline, self.cfg.dom_quiet),
        )
        .await
        .map_err(|e| timeout_with(e, req));
        match &result {
            Ok(page) => {
                let limit = self.tuning.big_page_bytes;
                let big = limit > 0 && page.html.len() >= limit;
                // A tab that cannot show about:blank and collect in 2 s is not reused.
                let keep = !big
                    || matches!(
                        tokio::time::timeout(Duration::from_secs(2), blank_and_collect(&tab.page))
                            .await,
                        Ok(Ok(()))
                    );
                if keep && let Ok(mut idle) = instance.idle_tabs.lock() {
                    idle.push(tab);
                }
            }
            Err(Error::BrowserGone(_)) => {}
            Err(e) => {
                // A timed-out page whose renderer no longer answers has hung it, and other
                // tabs share that renderer (renderer-process-limit): retire the browser.
                // One that answers just waited for something that never came.
                let hung = matches!(e, Error::Timeout { .. })
                    && !matches!(
                        tokio::time::timeout(
                            Duration::from_millis(500),
                            tab.page.evaluate_expression("1")
                        )
                        .await,
                        Ok(Ok(_))
                    );
                // The tab may be stuck mid-navigation: close it rather than reuse it; one
                // that will not even close is another sign of a hung renderer.
                let closed = tokio::time::timeout(Duration::from_secs(2), tab.page.clone().close())
                    .await
                    .is_ok_and(|r| r.is_ok());
                let suspect = !closed || hung;
                if suspect && !instance.retiring.swap(true, Ordering::SeqCst) {
                    self.counters.recycles.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        self.count_page(instance);
        result
    }

    fn count_page(&self, instance: &Arc<Instance>) {
        let served = instance.served.fetch_add(1, Ordering::SeqCst) + 1;
        self.collect_if_high(instance, served);
        // Renderers keep the high-water mark of the pages they showed: a browser past its
        // memory cap is retired like one past its page budget.
        let over_cap = served.is_multiple_of(MEMORY_CHECK_EVERY)
            && process::tree_memory_bytes(instance.pid) > self.cfg.rss_cap;
        if (served >= instance.recycle_after || over_cap)
            && !instance.retiring.swap(true, Ordering::SeqCst)
        {
            self.counters.recycles.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Forces a full collection in the browser's renderer when its RSS is past
    /// [`PoolConfig::gc_over_bytes`] (one `statm` read; the renderer's pid is found once).
    /// The collection runs on its own task, on an idle tab (every tab shares the renderer).
    fn collect_if_high(&self, instance: &Arc<Instance>, served: u64) {
        let limit = self.tuning.gc_over_bytes;
        if limit == 0 || served < instance.last_gc.load(Ordering::Relaxed) + GC_MIN_PAGES {
            return;
        }
        let pid = {
            let mut r = instance.renderer.lock().unwrap_or_else(|p| p.into_inner());
            if r.is_none_or(|pid| process::rss_bytes(pid).is_none()) {
                *r = process::renderer_of(instance.pid);
            }
            *r
        };
        if pid.and_then(process::rss_bytes).is_none_or(|b| b <= limit) {
            return;
        }
        let page = instance
            .idle_tabs
            .lock()
            .ok()
            .and_then(|t| t.last().map(|t| t.page.clone()));
        if let Some(page) = page {
            instance.last_gc.store(served, Ordering::Relaxed);
            tokio::spawn(async move {
                let _ = tokio::time::timeout(
                    Duration::from_secs(5),
                    page.execute(CollectGarbageParams::default()),
                )
                .await;
            });
        }
    }

    async fn render_in_session(
        &self,
        entry: &Arc<Entry>,
        id: &str,
        req: &RenderRequest,
        deadline: Instant,
    ) -> Result<Rendered, Error> {
        let existing = self.sessions.lock().ok().and_then(|s| s.get(id).cloned());
        let session = match existing {
            Some(s) => s,
            None => {
                let count = self.sessions.lock().map_or(0, |s| s.len());
                if count >= self.cfg.max_sessions {
                    return Err(Error::Busy(format!(
                        "{count} sessions are open (limit {}); close one first",
                        self.cfg.max_sessions
                    )));
                }
                let instance = self.instance_for(entry, deadline).await?;
                let context = guarded(&instance, deadline, "a browser context", async {
                    Ok(instance
                        .browser
                        .create_browser_context(CreateBrowserContextParams::default())
                        .await?)
                })
                .await?;
                let session = Arc::new(tokio::sync::Mutex::new(Session {
                    instance,
                    context,
                    tab: None,
                    last_used: Instant::now(),
                    config_sig: entry.config.signature(),
                }));
                let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
                sessions.entry(id.to_string()).or_insert(session).clone()
            }
        };
        let mut s = tokio::time::timeout_at(deadline.into(), session.lock())
            .await
            .map_err(|_| Error::Busy(format!("session {id} is busy with another request")))?;
        if s.config_sig != entry.config.signature() {
            return Err(Error::Invalid(format!(
                "session {id} was opened with another browser configuration"
            )));
        }
        s.last_used = Instant::now();
        let instance = s.instance.clone();
        if instance.is_dead() {
            // The session's cookies died with its browser: drop it and say so.
            if let Ok(mut map) = self.sessions.lock() {
                map.remove(id);
            }
            return Err(Error::BrowserGone(format!(
                "session {id}'s browser is gone; its cookies and storage are lost"
            )));
        }
        let _tab_permit = acquire_until(&instance.tabs, deadline, "a free tab").await?;
        instance.in_flight.fetch_add(1, Ordering::SeqCst);
        instance.touch();
        let mut tab = match s.tab.take() {
            Some(tab) => tab,
            None => {
                let ctx = s.context.clone();
                let page = guarded(&instance, deadline, "a new tab", async {
                    let mut tab =
                        TabState::new(instance.browser.new_page(tab_params(Some(ctx))?).await?);
                    tab.prepare().await?;
                    Ok(tab)
                })
                .await;
                match page {
                    Ok(tab) => tab,
                    Err(e) => {
                        instance.in_flight.fetch_sub(1, Ordering::SeqCst);
                        return Err(e);
                    }
                }
            }
        };
        let result = guarded(
            &instance,
            deadline,
            "the page",
            render::drive(&mut tab, req, deadline, self.cfg.dom_quiet),
        )
        .await
        .map_err(|e| timeout_with(e, req));
        if result.is_ok() {
            s.tab = Some(tab);
        }
        s.last_used = Instant::now();
        instance.in_flight.fetch_sub(1, Ordering::SeqCst);
        instance.touch();
        self.count_page(&instance);
        result
    }
}

/// A new tab in a window of its own. Tabs that share a window are background tabs
/// (`document.visibilityState` is `hidden`) except the last one opened, and Chromium runs
/// no `requestAnimationFrame` callbacks, paints nothing and computes no
/// `IntersectionObserver` entries for a background tab: a page that renders its content
/// in an animation frame came back empty from every pooled tab but one.
fn tab_params(context: Option<BrowserContextId>) -> Result<CreateTargetParams, Error> {
    let mut params = CreateTargetParams::builder()
        .url("about:blank")
        .new_window(true)
        .window_state(WindowState::Minimized);
    if let Some(context) = context {
        params = params.browser_context_id(context);
    }
    params.build().map_err(Error::Protocol)
}

/// Drops a tab's document (the tab shows `about:blank`) and has V8 collect everything
/// (`HeapProfiler.collectGarbage`: a full, memory-reducing collection of the renderer's
/// heap, DOM included).
async fn blank_and_collect(page: &chromiumoxide::Page) -> Result<(), Error> {
    page.execute(NavigateParams::new("about:blank")).await?;
    page.execute(CollectGarbageParams::default()).await?;
    Ok(())
}

/// Fills in the request's own timeout in a generic deadline error.
fn timeout_with(e: Error, req: &RenderRequest) -> Error {
    match e {
        Error::Timeout { what, .. } => Error::Timeout {
            secs: req.timeout.as_secs_f64(),
            what,
        },
        other => other,
    }
}

/// Runs `fut` until the deadline, failing fast if the browser dies meanwhile.
async fn guarded<T>(
    instance: &Instance,
    deadline: Instant,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::select! {
        r = fut => r.map_err(|e| match e {
            // A command that failed because the connection closed is a dead browser.
            Error::Protocol(_) if instance.is_dead() => Error::BrowserGone(e.to_string()),
            e => e,
        }),
        _ = instance.wait_gone() => Err(Error::BrowserGone("the DevTools connection closed".into())),
        _ = tokio::time::sleep_until(deadline.into()) => Err(Error::Timeout {
            secs: 0.0,
            what: what.to_string(),
        }),
    }
}

/// How often the janitor runs and how long idle browsers live, given memory pressure:
/// at 60% of the limit TTLs halve, at 80% they are a quarter, at 90% idle browsers go at
/// once; the interval shrinks in the same steps (never below 250 ms).
pub(crate) fn pressure_scale(pressure: f64) -> f64 {
    if pressure >= 0.9 {
        0.0
    } else if pressure >= 0.8 {
        0.25
    } else if pressure >= 0.6 {
        0.5
    } else {
        1.0
    }
}

fn janitor_interval(base: Duration, pressure: f64) -> Duration {
    let scale = pressure_scale(pressure).max(0.1);
    base.mul_f64(scale).max(Duration::from_millis(250))
}

async fn janitor(inner: Weak<Inner>) {
    let mut interval = match inner.upgrade() {
        Some(i) => i.cfg.janitor_interval,
        None => return,
    };
    loop {
        tokio::time::sleep(interval).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        if inner.closed.load(Ordering::SeqCst) {
            return;
        }
        let pressure = inner.cfg.memory.read().map_or(0.0, |r| r.pressure());
        inner
            .counters
            .pressure_millis
            .store((pressure * 1000.0) as u64, Ordering::Relaxed);
        interval = janitor_interval(inner.cfg.janitor_interval, pressure);
        let scale = pressure_scale(pressure);
        inner.sweep(scale).await;
    }
}

impl Inner {
    /// One janitor pass: reap idle browsers past their tier's TTL (scaled by memory
    /// pressure), recycle browsers past the RSS cap, drop dead ones, expire sessions.
    async fn sweep(&self, ttl_scale: f64) {
        let entries: Vec<Arc<Entry>> = self
            .entries
            .lock()
            .map(|e| e.values().cloned().collect())
            .unwrap_or_default();
        let mut doomed = Vec::new();
        for entry in entries {
            let Ok(mut current) = entry.current.try_lock() else {
                continue;
            };
            let Some(instance) = current.as_ref() else {
                continue;
            };
            let idle = instance.in_flight.load(Ordering::SeqCst) == 0;
            if instance.is_dead() {
                if !instance.retiring.swap(true, Ordering::SeqCst) {
                    self.counters.crashes.fetch_add(1, Ordering::Relaxed);
                }
                doomed.extend(current.take());
                continue;
            }
            let ttl = match entry.tier(self.cfg.hot_after) {
                Tier::Permanent => None,
                Tier::Hot => Some(self.cfg.hot_ttl.mul_f64(ttl_scale)),
                Tier::Cold => Some(self.cfg.cold_ttl.mul_f64(ttl_scale)),
            };
            if idle
                && Arc::strong_count(instance) == 1
                && ttl.is_some_and(|ttl| instance.idle_for() >= ttl)
            {
                self.counters.reaped.fetch_add(1, Ordering::Relaxed);
                doomed.extend(current.take());
                continue;
            }
            if !instance.retiring.load(Ordering::Relaxed)
                && process::tree_memory_bytes(instance.pid) > self.cfg.rss_cap
            {
                instance.retiring.store(true, Ordering::SeqCst);
                self.counters.recycles.fetch_add(1, Ordering::Relaxed);
            }
            // Under pressure, idle tabs beyond one are closed.
            if ttl_scale < 1.0
                && let Ok(mut tabs) = instance.idle_tabs.lock()
            {
                tabs.truncate(1);
            }
        }
        // Sessions idle past their TTL.
        let expired: Vec<Arc<tokio::sync::Mutex<Session>>> = {
            let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            let ttl = self.cfg.session_ttl.mul_f64(ttl_scale.max(0.25));
            let ids: Vec<String> = sessions
                .iter()
                .filter(|(_, s)| {
                    s.try_lock()
                        .is_ok_and(|s| s.last_used.elapsed() >= ttl || s.instance.is_dead())
                })
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter().filter_map(|id| sessions.remove(id)).collect()
        };
        for s in expired {
            let mut s = s.lock().await;
            dispose_session(&mut s).await;
        }
        drop(doomed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_malformed_flags_are_refused() {
        let ok = BrowserConfig {
            extra_args: vec!["--force-dark-mode".into(), "--window-size=800,600".into()],
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        for bad in [
            "--proxy-server=http://evil:8080",
            "--host-resolver-rules=MAP * 127.0.0.1",
            "--user-data-dir=/tmp/x",
            "--remote-debugging-port=9222",
            "-x",
            "nodash",
            "--a\nb",
        ] {
            let cfg = BrowserConfig {
                extra_args: vec![bad.into()],
                ..Default::default()
            };
            assert!(cfg.validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_headless_shell_gets_the_memory_steps_and_the_full_browser_does_not() {
        let shell =
            MemoryTuning::for_binary(Path::new("/usr/lib/chromium/chromium-headless-shell"));
        assert_eq!(shell.big_page_bytes, 300_000);
        assert_eq!(shell.gc_over_bytes, 400 << 20);
        for full in [
            "/usr/bin/chromium",
            "/opt/google/chrome/chrome",
            "chromium-browser",
        ] {
            let t = MemoryTuning::for_binary(Path::new(full));
            assert_eq!((t.big_page_bytes, t.gc_over_bytes), (0, 0), "{full}");
        }
        for shell in ["chrome-headless-shell", "/src/out/Release/headless_shell"] {
            assert_eq!(
                MemoryTuning::for_binary(Path::new(shell)),
                MemoryTuning::for_binary(Path::new("x/chromium-headless-shell"))
            );
        }
    }

    #[test]
    fn signatures_differ_by_config() {
        let a = BrowserConfig::default();
        let b = BrowserConfig {
            text_mode: true,
            ..Default::default()
        };
        assert_eq!(a.signature(), BrowserConfig::default().signature());
        assert_ne!(a.signature(), b.signature());
    }

    #[test]
    fn session_ids_are_validated() {
        assert!(validate_session_id("user-42_a.b").is_ok());
        for bad in ["", "a b", "../etc", &"x".repeat(65), "é"] {
            assert!(validate_session_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pressure_shrinks_ttls_and_interval() {
        assert_eq!(pressure_scale(0.1), 1.0);
        assert_eq!(pressure_scale(0.7), 0.5);
        assert_eq!(pressure_scale(0.85), 0.25);
        assert_eq!(pressure_scale(0.95), 0.0);
        let base = Duration::from_secs(10);
        assert_eq!(janitor_interval(base, 0.0), base);
        assert_eq!(janitor_interval(base, 0.7), Duration::from_secs(5));
        assert_eq!(janitor_interval(base, 0.99), Duration::from_secs(1));
    }
}
