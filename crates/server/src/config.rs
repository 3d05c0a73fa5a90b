//! What `gannet serve` is configured with, and the rules that keep it safe by default.

use std::net::SocketAddr;
use std::time::Duration;

use crate::error::ConfigError;

/// The service's settings. Every limit has a default that suits one small machine.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen. Default `127.0.0.1:11235` (crawl4ai's port, so its clients only
    /// need the host changed).
    pub listen: SocketAddr,
    /// Bearer tokens that may call the API. Empty: no authentication, which is only
    /// allowed on a loopback address.
    pub tokens: Vec<String>,
    /// Fetch private, loopback and link-local addresses too (intranet use, tests).
    pub allow_private: bool,
    /// Largest request body, in bytes. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Most URLs in one `/crawl` request. Default 100 (as crawl4ai).
    pub max_urls: usize,
    /// Pages (fetches and renders) in flight over all requests. Default 64.
    pub max_pages_in_flight: usize,
    /// Extractions running at once; the rest wait in order (FIFO). 0: no limit, every
    /// page in flight extracts at once and the cores are shared among them.
    pub extract_concurrency: usize,
    /// Pages that may wait for a slot; beyond it requests get 503 + Retry-After at once.
    pub max_pages_waiting: usize,
    /// The longest a page waits for a slot before the request gets 503. Default 30 s.
    pub queue_timeout: Duration,
    /// Smart mode (`render: auto`) renders a page that needs JavaScript only if a browser
    /// slot frees within this long; else the request keeps the HTTP version, marked as
    /// such, instead of queueing behind the pool or failing. Default 5 s.
    pub smart_render_wait: Duration,
    /// Default time allowed per page (fetch or render), unless the request says less.
    /// Default 30 s; a request may ask for at most `max_page_timeout`.
    pub page_timeout: Duration,
    pub max_page_timeout: Duration,
    /// Largest page body fetched, after decompression. Default 10 MiB.
    pub max_page_bytes: u64,
    /// `/execute_js` runs arbitrary JavaScript in our browser: off unless enabled.
    pub execute_js: bool,
    /// Shed load (503 + Retry-After) when memory use passes this fraction of the cgroup's
    /// (or the host's) limit. Default 0.90.
    pub shed_memory_fraction: f64,
    /// The browser pool's limits.
    pub browser: gannet_browser::PoolConfig,
    /// One line per request on stderr.
    pub access_log: bool,
    /// Where jobs and their results are kept (`jobs.sqlite`, one directory per crawl
    /// job). `None`: no jobs.
    pub data_dir: Option<std::path::PathBuf>,
    /// How long a finished job and its results are kept. Default 24 h.
    pub job_ttl: Duration,
    /// Most URLs in one batch job. Default 10,000.
    pub max_job_urls: usize,
    /// Delay between two requests to one host in crawl jobs. Default 250 ms.
    pub crawl_delay: Duration,
    /// Requests a minute per client (token, else IP), on average; `None`: no limit.
    /// Default 600 a minute with bursts of 100.
    pub rate_limit_per_minute: Option<u32>,
    pub rate_limit_burst: u32,
    /// Requests in flight per route class (page, browser, jobs, results).
    pub limits: crate::limits::RouteLimits,
    /// `redis://host:port[/db]`: jobs and their results live in this Redis, shared by every
    /// replica started with it (a cluster). `None`: the embedded SQLite store.
    pub redis: Option<String>,
    /// In a cluster: lease length of job execution and of the crawl frontier's hosts; a
    /// replica that dies loses its work to another after about this long. Default 10 s.
    pub cluster_lease: Duration,
    /// In a cluster: most bytes (zstd-compressed) of results one job stores in Redis.
    /// Default 256 MiB.
    pub max_job_result_bytes: u64,
    /// In a cluster: most bytes a replica keeps of finished jobs and of their pages of
    /// results asked for more than once (they never change). Default 32 MiB; 0: none.
    pub job_cache_bytes: usize,
    /// The LLM of structured extraction; `None`: from the environment (`GANNET_LLM_*`,
    /// `OPENAI_*`) when the server starts.
    pub llm: Option<gannet_llm::LlmConfig>,
}

/// `$XDG_DATA_HOME/gannet`, else `~/.local/share/gannet`, else `./gannet-data`.
pub fn default_data_dir() -> std::path::PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return std::path::PathBuf::from(xdg).join("gannet");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return std::path::PathBuf::from(home).join(".local/share/gannet");
    }
    std::path::PathBuf::from("gannet-data")
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 11235)),
            tokens: Vec::new(),
            allow_private: false,
            max_body_bytes: 1 << 20,
            max_urls: 100,
            max_pages_in_flight: 64,
            extract_concurrency: 0,
            max_pages_waiting: 1024,
            queue_timeout: Duration::from_secs(30),
            smart_render_wait: Duration::from_secs(5),
            page_timeout: Duration::from_secs(30),
            max_page_timeout: Duration::from_secs(120),
            max_page_bytes: 10 << 20,
            execute_js: false,
            shed_memory_fraction: 0.90,
            browser: gannet_browser::PoolConfig::default(),
            llm: None,
            access_log: true,
            data_dir: None,
            job_ttl: Duration::from_secs(24 * 3600),
            max_job_urls: 10_000,
            crawl_delay: Duration::from_millis(250),
            rate_limit_per_minute: Some(600),
            rate_limit_burst: 100,
            limits: crate::limits::RouteLimits::default(),
            redis: None,
            cluster_lease: Duration::from_secs(10),
            max_job_result_bytes: 256 << 20,
            job_cache_bytes: 32 << 20,
        }
    }
}

impl ServerConfig {
    /// Refuses configurations that would expose an open service.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tokens.is_empty() && !self.listen.ip().is_loopback() {
            return Err(ConfigError(format!(
                "refusing to listen on {} without a token: anyone who can reach it could make \
                 this machine fetch any URL. Set --token (or GANNET_TOKEN), or listen on 127.0.0.1",
                self.listen
            )));
        }
        if let Some(t) = self.tokens.iter().find(|t| t.len() < 16) {
            return Err(ConfigError(format!(
                "token {}… is too short: use at least 16 characters",
                t.chars().take(3).collect::<String>()
            )));
        }
        if self.max_pages_in_flight == 0 || self.max_urls == 0 {
            return Err("max pages in flight and max URLs must be at least 1".into());
        }
        self.limits.validate()?;
        if !(0.1..=1.0).contains(&self.shed_memory_fraction) {
            return Err("the memory shedding fraction must be between 0.1 and 1.0".into());
        }
        Ok(())
    }
}

/// `gannet.toml`: every setting of [`ServerConfig`], grouped, in plain units (seconds,
/// megabytes). A key left out keeps its default; an unknown key is an error (a typo must
/// not silently leave a limit at its default). `gannet serve --print-config` prints the
/// effective file, defaults included.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// Address to listen on; anything but loopback needs a token.
    pub listen: SocketAddr,
    /// Bearer tokens (at least 16 characters each).
    pub tokens: Vec<String>,
    /// Fetch private, loopback and link-local addresses too (intranets, tests).
    pub allow_private: bool,
    /// Allow `/execute_js`.
    pub execute_js: bool,
    /// One line per request on stderr.
    pub access_log: bool,
    /// Where jobs are kept (default: `$XDG_DATA_HOME/gannet` or `~/.local/share/gannet`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<std::path::PathBuf>,
    pub requests: RequestsSection,
    pub pages: PagesSection,
    pub jobs: JobsSection,
    pub limits: crate::limits::RouteLimits,
    pub browser: BrowserSection,
    /// `redis://host:port[/db]`: run as one replica of a cluster sharing jobs in Redis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<String>,
    pub cluster: ClusterSection,
}

/// `[cluster]`: replicas sharing jobs through Redis (with `redis = "..."`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSection {
    /// Lease of job execution and of the crawl frontier's hosts.
    pub lease_secs: f64,
    /// Most results one job stores in Redis, in MiB (zstd-compressed).
    pub max_job_result_mb: u64,
    /// A replica's cache of finished jobs and their pages of results, in MiB (0: none).
    pub job_cache_mb: u64,
}

/// `[requests]`: what one request may ask.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequestsSection {
    pub max_body_bytes: usize,
    /// URLs in one `/crawl`.
    pub max_urls: usize,
    /// Per client (token, else IP); 0 = no limit.
    pub rate_limit_per_minute: u32,
    pub rate_limit_burst: u32,
}

/// `[pages]`: fetching and rendering pages.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagesSection {
    pub max_in_flight: usize,
    /// Extractions at once, the rest in FIFO order; 0 = no limit.
    pub extract_concurrency: usize,
    pub max_waiting: usize,
    pub queue_timeout_secs: f64,
    /// Smart mode renders only if a browser slot frees within this long; else the HTTP
    /// version is kept (marked `render_skipped`).
    pub smart_render_wait_secs: f64,
    pub timeout_secs: f64,
    pub max_timeout_secs: f64,
    pub max_page_mb: f64,
    /// Shed load (503) past this fraction of the memory limit (cgroup, else host).
    pub shed_memory_fraction: f64,
}

/// `[jobs]`: stored jobs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsSection {
    pub ttl_hours: f64,
    pub max_urls: usize,
    /// Between two requests to one host in crawl jobs.
    pub crawl_delay_ms: u64,
}

/// `[browser]`: the browser pool.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrowserSection {
    /// Chromium binary (default: `CHROME_PATH`, else Chromium's headless shell, else
    /// `chromium` on PATH).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executable: Option<std::path::PathBuf>,
    pub max_browsers: usize,
    pub max_concurrent: usize,
    pub tabs_per_browser: usize,
    pub queue_limit: usize,
    pub queue_timeout_secs: f64,
    /// Pages after which a browser is recycled (± 20%).
    pub recycle_after: u64,
    /// A browser whose process tree passes this much memory (PSS) is recycled.
    pub memory_cap_mb: u64,
    pub hot_after: u64,
    pub hot_ttl_secs: f64,
    pub cold_ttl_secs: f64,
    pub max_sessions: usize,
    pub session_ttl_secs: f64,
}

impl Default for FileConfig {
    fn default() -> Self {
        FileConfig::from(&ServerConfig::default())
    }
}

/// A section left out of the file: its part of the defaults.
macro_rules! section_default {
    ($($t:ty => $field:ident),*) => {$(
        impl Default for $t {
            fn default() -> Self {
                FileConfig::default().$field
            }
        }
    )*};
}

section_default!(
    RequestsSection => requests,
    PagesSection => pages,
    JobsSection => jobs,
    BrowserSection => browser,
    ClusterSection => cluster
);

const MB: f64 = 1024.0 * 1024.0;

impl From<&ServerConfig> for FileConfig {
    fn from(c: &ServerConfig) -> Self {
        let b = &c.browser;
        FileConfig {
            listen: c.listen,
            tokens: c.tokens.clone(),
            allow_private: c.allow_private,
            execute_js: c.execute_js,
            access_log: c.access_log,
            data_dir: c.data_dir.clone(),
            requests: RequestsSection {
                max_body_bytes: c.max_body_bytes,
                max_urls: c.max_urls,
                rate_limit_per_minute: c.rate_limit_per_minute.unwrap_or(0),
                rate_limit_burst: c.rate_limit_burst,
            },
            pages: PagesSection {
                max_in_flight: c.max_pages_in_flight,
                extract_concurrency: c.extract_concurrency,
                max_waiting: c.max_pages_waiting,
                queue_timeout_secs: c.queue_timeout.as_secs_f64(),
                smart_render_wait_secs: c.smart_render_wait.as_secs_f64(),
                timeout_secs: c.page_timeout.as_secs_f64(),
                max_timeout_secs: c.max_page_timeout.as_secs_f64(),
                max_page_mb: c.max_page_bytes as f64 / MB,
                shed_memory_fraction: c.shed_memory_fraction,
            },
            jobs: JobsSection {
                ttl_hours: c.job_ttl.as_secs_f64() / 3600.0,
                max_urls: c.max_job_urls,
                crawl_delay_ms: c.crawl_delay.as_millis() as u64,
            },
            limits: c.limits,
            browser: BrowserSection {
                executable: b.executable.clone(),
                max_browsers: b.max_browsers,
                max_concurrent: b.max_concurrent,
                tabs_per_browser: b.tabs_per_browser,
                queue_limit: b.queue_limit,
                queue_timeout_secs: b.queue_timeout.as_secs_f64(),
                recycle_after: b.recycle_after,
                memory_cap_mb: b.rss_cap >> 20,
                hot_after: b.hot_after,
                hot_ttl_secs: b.hot_ttl.as_secs_f64(),
                cold_ttl_secs: b.cold_ttl.as_secs_f64(),
                max_sessions: b.max_sessions,
                session_ttl_secs: b.session_ttl.as_secs_f64(),
            },
            redis: c.redis.clone(),
            cluster: ClusterSection {
                lease_secs: c.cluster_lease.as_secs_f64(),
                max_job_result_mb: c.max_job_result_bytes >> 20,
                job_cache_mb: (c.job_cache_bytes >> 20) as u64,
            },
        }
    }
}

/// Seconds from a file: finite, positive, at most a year.
fn secs(name: &str, v: f64) -> Result<Duration, ConfigError> {
    if v.is_finite() && v > 0.0 && v <= 365.0 * 86400.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(ConfigError(format!(
            "{name} must be a positive number of seconds (got {v})"
        )))
    }
}

impl FileConfig {
    /// Parses `gannet.toml`; errors name the line and the key.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError(e.to_string()))
    }

    /// Reads and parses a config file.
    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
    }

    /// The file as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// The [`ServerConfig`] this file describes (what it leaves out: the defaults).
    pub fn into_config(self) -> Result<ServerConfig, ConfigError> {
        let mut c = ServerConfig::default();
        let (r, p, j, b) = (self.requests, self.pages, self.jobs, self.browser);
        c.listen = self.listen;
        c.tokens = self.tokens;
        c.allow_private = self.allow_private;
        c.execute_js = self.execute_js;
        c.access_log = self.access_log;
        c.data_dir = self.data_dir;
        c.max_body_bytes = r.max_body_bytes;
        c.max_urls = r.max_urls;
        c.rate_limit_per_minute = (r.rate_limit_per_minute > 0).then_some(r.rate_limit_per_minute);
        c.rate_limit_burst = r.rate_limit_burst.max(1);
        c.max_pages_in_flight = p.max_in_flight;
        c.extract_concurrency = p.extract_concurrency;
        c.max_pages_waiting = p.max_waiting;
        c.queue_timeout = secs("pages.queue_timeout_secs", p.queue_timeout_secs)?;
        c.smart_render_wait = secs("pages.smart_render_wait_secs", p.smart_render_wait_secs)?;
        c.page_timeout = secs("pages.timeout_secs", p.timeout_secs)?;
        c.max_page_timeout = secs("pages.max_timeout_secs", p.max_timeout_secs)?;
        if !(p.max_page_mb.is_finite() && p.max_page_mb > 0.0) {
            return Err("pages.max_page_mb must be positive".into());
        }
        c.max_page_bytes = (p.max_page_mb * MB) as u64;
        c.shed_memory_fraction = p.shed_memory_fraction;
        c.job_ttl = secs("jobs.ttl_hours", j.ttl_hours * 3600.0)?;
        c.max_job_urls = j.max_urls;
        c.crawl_delay = Duration::from_millis(j.crawl_delay_ms);
        c.limits = self.limits;
        c.redis = self.redis.filter(|r| !r.trim().is_empty());
        if let Some(r) = &c.redis
            && !(r.starts_with("redis://") || r.starts_with("rediss://"))
        {
            return Err(ConfigError(format!(
                "redis = `{r}`: expected redis://host:port[/db] (one server)"
            )));
        }
        c.cluster_lease = secs("cluster.lease_secs", self.cluster.lease_secs)?;
        if c.cluster_lease < Duration::from_secs(1) {
            return Err("cluster.lease_secs must be at least 1".into());
        }
        c.max_job_result_bytes = self.cluster.max_job_result_mb.max(1) << 20;
        c.job_cache_bytes = (self.cluster.job_cache_mb.min(1 << 20) << 20) as usize;
        let pool = &mut c.browser;
        pool.executable = b.executable;
        pool.max_browsers = b.max_browsers.max(1);
        pool.max_concurrent = b.max_concurrent.max(1);
        pool.tabs_per_browser = b.tabs_per_browser.max(1);
        pool.queue_limit = b.queue_limit;
        pool.queue_timeout = secs("browser.queue_timeout_secs", b.queue_timeout_secs)?;
        pool.recycle_after = b.recycle_after.max(1);
        pool.rss_cap = b.memory_cap_mb.max(64) << 20;
        pool.hot_after = b.hot_after.max(1);
        pool.hot_ttl = secs("browser.hot_ttl_secs", b.hot_ttl_secs)?;
        pool.cold_ttl = secs("browser.cold_ttl_secs", b.cold_ttl_secs)?;
        pool.max_sessions = b.max_sessions;
        pool.session_ttl = secs("browser.session_ttl_secs", b.session_ttl_secs)?;
        c.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_bind_needs_a_token() {
        let mut cfg = ServerConfig {
            listen: "0.0.0.0:8080".parse().unwrap(),
            ..ServerConfig::default()
        };
        assert!(
            cfg.validate()
                .unwrap_err()
                .message()
                .contains("without a token")
        );
        cfg.tokens = vec!["a-long-enough-secret-token".into()];
        assert!(cfg.validate().is_ok());
        cfg.tokens = vec!["short".into()];
        assert!(cfg.validate().unwrap_err().message().contains("too short"));
        assert!(
            ServerConfig::default().validate().is_ok(),
            "loopback without a token is fine"
        );
        let v6 = ServerConfig {
            listen: "[::1]:8080".parse().unwrap(),
            ..ServerConfig::default()
        };
        assert!(v6.validate().is_ok());
    }

    #[test]
    fn a_config_file_sets_what_it_names_and_keeps_the_rest() {
        let file = FileConfig::parse(
            r#"
listen = "127.0.0.1:9000"
allow_private = true

[pages]
max_in_flight = 8
timeout_secs = 12.5

[limits]
browser = 3

[browser]
max_browsers = 2
memory_cap_mb = 512
"#,
        )
        .unwrap();
        let c = file.into_config().unwrap();
        let d = ServerConfig::default();
        assert_eq!(c.listen.port(), 9000);
        assert!(c.allow_private);
        assert_eq!(c.max_pages_in_flight, 8);
        assert_eq!(c.page_timeout, Duration::from_millis(12_500));
        assert_eq!(c.limits.browser, 3);
        assert_eq!(c.limits.page, d.limits.page);
        assert_eq!(c.browser.max_browsers, 2);
        assert_eq!(c.browser.rss_cap, 512 << 20);
        assert_eq!(c.max_body_bytes, d.max_body_bytes);
        assert_eq!(c.rate_limit_per_minute, d.rate_limit_per_minute);
        assert_eq!(c.job_ttl, d.job_ttl);
    }

    #[test]
    fn the_printed_defaults_read_back_as_the_defaults() {
        let text = FileConfig::default().to_toml();
        assert!(
            text.contains("[browser]") && text.contains("[limits]"),
            "{text}"
        );
        let back = FileConfig::parse(&text).unwrap();
        assert_eq!(back, FileConfig::default());
        let c = back.into_config().unwrap();
        let d = ServerConfig::default();
        assert_eq!(
            (
                c.listen,
                c.max_pages_in_flight,
                c.page_timeout,
                c.max_page_bytes
            ),
            (
                d.listen,
                d.max_pages_in_flight,
                d.page_timeout,
                d.max_page_bytes
            )
        );
        assert_eq!(c.browser.rss_cap, d.browser.rss_cap);
    }

    #[test]
    fn mistakes_in_a_config_file_are_named() {
        let typo = FileConfig::parse("[pages]\nmax_in_fligth = 8\n").unwrap_err();
        assert!(typo.message().contains("max_in_fligth"), "{typo}");
        let bad = FileConfig::parse("[pages]\ntimeout_secs = -1\n")
            .unwrap()
            .into_config()
            .unwrap_err();
        assert!(bad.message().contains("pages.timeout_secs"), "{bad}");
        let public = FileConfig::parse("listen = \"0.0.0.0:80\"\n")
            .unwrap()
            .into_config()
            .unwrap_err();
        assert!(public.message().contains("without a token"), "{public}");
        assert!(FileConfig::parse("listen = 5").is_err());
        assert!(
            FileConfig::load(std::path::Path::new("/nonexistent/gannet.toml"))
                .unwrap_err()
                .message()
                .contains("cannot read")
        );
    }
}
