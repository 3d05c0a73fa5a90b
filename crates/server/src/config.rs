//! What `gannet serve` is configured with, and the rules that keep it safe by default.

use std::net::SocketAddr;
use std::time::Duration;

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
    /// Pages that may wait for a slot; beyond it requests get 503 + Retry-After at once.
    pub max_pages_waiting: usize,
    /// The longest a page waits for a slot before the request gets 503. Default 30 s.
    pub queue_timeout: Duration,
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
    pub limits: crate::RouteLimits,
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
            max_pages_waiting: 1024,
            queue_timeout: Duration::from_secs(30),
            page_timeout: Duration::from_secs(30),
            max_page_timeout: Duration::from_secs(120),
            max_page_bytes: 10 << 20,
            execute_js: false,
            shed_memory_fraction: 0.90,
            browser: gannet_browser::PoolConfig::default(),
            access_log: true,
            data_dir: None,
            job_ttl: Duration::from_secs(24 * 3600),
            max_job_urls: 10_000,
            crawl_delay: Duration::from_millis(250),
            rate_limit_per_minute: Some(600),
            rate_limit_burst: 100,
            limits: crate::RouteLimits::default(),
        }
    }
}

impl ServerConfig {
    /// Refuses configurations that would expose an open service.
    pub fn validate(&self) -> Result<(), String> {
        if self.tokens.is_empty() && !self.listen.ip().is_loopback() {
            return Err(format!(
                "refusing to listen on {} without a token: anyone who can reach it could make \
                 this machine fetch any URL. Set --token (or GANNET_TOKEN), or listen on 127.0.0.1",
                self.listen
            ));
        }
        if let Some(t) = self.tokens.iter().find(|t| t.len() < 16) {
            return Err(format!(
                "token {}… is too short: use at least 16 characters",
                t.chars().take(3).collect::<String>()
            ));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_bind_needs_a_token() {
        let mut cfg = ServerConfig {
            listen: "0.0.0.0:8080".parse().unwrap(),
            ..ServerConfig::default()
        };
        assert!(cfg.validate().unwrap_err().contains("without a token"));
        cfg.tokens = vec!["a-long-enough-secret-token".into()];
        assert!(cfg.validate().is_ok());
        cfg.tokens = vec!["short".into()];
        assert!(cfg.validate().unwrap_err().contains("too short"));
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
}
