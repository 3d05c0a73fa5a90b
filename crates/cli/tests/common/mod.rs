//! What the cluster tests share: a `gannet serve --redis` replica process and a plain
//! HTTP/1.0 client for its API. Each test file takes what it needs (`mod common;`), so
//! items one file does not use are not dead code.
#![allow(dead_code)]

use gannet_testkit::redis::{RedisServer, free_port};
use gannet_testkit::{Response, Site, SiteBuilder, TempDir};
use serde_json::Value;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Blocking waits: these tests are plain threads.
#[allow(clippy::disallowed_methods)]
pub(crate) fn pause(d: Duration) {
    std::thread::sleep(d);
}

/// One `gannet serve --redis` process on a free loopback port, its stderr in a log file
/// under the test's directory, killed (SIGKILL) on drop.
pub(crate) struct Replica {
    pub(crate) name: String,
    pub(crate) addr: SocketAddr,
    child: Option<Child>,
    log: PathBuf,
}

impl Replica {
    /// A replica with the cluster tests' settings: a 2 s runner lease, so a killed
    /// replica's work moves on quickly.
    pub(crate) fn start(redis: &str, dir: &TempDir, name: &str) -> Replica {
        Self::launch(redis, dir, name, ["--cluster-lease", "2"], &[])
    }

    /// A replica with these extra arguments and environment variables (e.g. `--config`,
    /// an LLM's settings). Waits until it answers `/health`.
    pub(crate) fn launch<I, S>(
        redis: &str,
        dir: &TempDir,
        name: &str,
        args: I,
        env: &[(&str, String)],
    ) -> Replica
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port(false)));
        let log = dir.0.join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_gannet"))
            .args(["serve", "--redis", redis, "--allow-private", "-q"])
            .args(["--listen", &addr.to_string()])
            // Behind nginx the per-IP limit is nginx's (deploy/nginx.conf); directly,
            // the tests' many requests come from one address.
            .args(["--rate-limit", "0"])
            .args(args)
            .arg("--data-dir")
            .arg(dir.0.join(name))
            .env("RUST_LOG", "gannet_server=info,gannet_frontier_redis=warn")
            .env_remove("GANNET_CONFIG")
            .env_remove("GANNET_TOKEN")
            .env_remove("GANNET_LISTEN")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start gannet serve");
        let r = Replica {
            name: name.to_string(),
            addr,
            child: Some(child),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(r.port(), "GET", "/health", None).map(|r| r.0) != Some(200) {
            assert!(
                Instant::now() < deadline,
                "{name} did not start: {}",
                r.log()
            );
            pause(Duration::from_millis(100));
        }
        r
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What it wrote to stderr so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9`.
    pub(crate) fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits for the exit (a drain), which must be a success.
    pub(crate) fn term(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(40);
            loop {
                if let Ok(Some(status)) = c.try_wait() {
                    assert!(status.success(), "{} drained badly: {status}", self.name);
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} did not drain: {}",
                    self.name,
                    self.log()
                );
                pause(Duration::from_millis(100));
            }
        }
    }

    /// Resident memory, bytes (`VmRSS`).
    pub(crate) fn rss(&self) -> u64 {
        let pid = self.child.as_ref().expect("a running replica").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .expect("the replica's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("VmRSS")
            * 1024
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// One HTTP/1.0 request to a loopback port (no chunked answers): status, head, body.
pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Option<(u16, String, String)> {
    http_text(
        port,
        method,
        path,
        &body.map(Value::to_string).unwrap_or_default(),
    )
}

/// [`http`] with the body's text as given (a JSON schema's property order kept).
pub(crate) fn http_text(
    port: u16,
    method: &str,
    path: &str,
    body: &str,
) -> Option<(u16, String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, head.to_string(), body.to_string()))
}

/// `GET path` as JSON (`Null` when the body is not JSON).
pub(crate) fn get_json(port: u16, path: &str) -> Option<(u16, Value)> {
    let (status, _, body) = http(port, "GET", path, None)?;
    Some((status, serde_json::from_str(&body).unwrap_or(Value::Null)))
}

/// A site of `pages` pages in a chain with cross links, each answer delayed by `delay`:
/// the crawl discovers pages a few at a time, so it runs for a while.
pub(crate) fn site(pages: usize, delay: Duration) -> Site {
    let mut b = SiteBuilder::new();
    for i in 0..pages {
        let links: String = [i + 1, (i * 7 + 3) % pages]
            .iter()
            .filter(|&&j| j > 0 && j < pages)
            .map(|j| format!("<a href=/p{j}>p{j}</a> "))
            .collect();
        let body = format!(
            "<title>Page {i}</title><article><h1>Page {i}</h1><p>Text of page {i}, long \
             enough to be content for the extractor. {links}</p></article>"
        );
        b = b.response(&page_path(i), Response::html(body).delay(delay));
    }
    b.start_blocking()
}

/// Page `i` of [`site`]: `/` for the first.
pub(crate) fn page_path(i: usize) -> String {
    if i == 0 {
        "/".to_string()
    } else {
        format!("/p{i}")
    }
}

/// Every page URL of [`site`], sorted.
pub(crate) fn expected(site: &Site, pages: usize) -> Vec<String> {
    let mut all: Vec<String> = (0..pages)
        .map(|i| site.url(&page_path(i)).to_string())
        .collect();
    all.sort();
    all
}

/// The environment variables the LLM client reads: removed from every run of a test, so
/// only what the test sets applies.
pub(crate) const LLM_VARS: &[&str] = &[
    "GANNET_LLM_BASE_URL",
    "LLM_BASE_URL",
    "OPENAI_BASE_URL",
    "GANNET_LLM_MODEL",
    "MODEL_NAME",
    "LLM_PROVIDER",
    "GANNET_LLM_API_KEY",
    "OPENAI_API_KEY",
    "LLM_API_KEY",
    "GANNET_LLM_CONCURRENCY",
    "GANNET_LLM_MAX_TOKENS",
];

/// Waits for `child` to exit; past `limit` it is killed and the test fails with its log.
pub(crate) fn wait_exit(limit: Duration, child: &mut Child, what: &str, log: &Path) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} hung; its log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        pause(Duration::from_millis(20));
    }
}

/// Fails with the log unless the run succeeded.
pub(crate) fn assert_ok(status: ExitStatus, what: &str, log: &Path) {
    assert!(
        status.success(),
        "{what} exited with {status}; its log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Waits until the distributed crawl `id` exists in Redis (workers join it by id).
pub(crate) fn wait_created(redis: &RedisServer, id: &str) {
    let start = Instant::now();
    while !redis
        .cli(&["KEYS", &format!("*{id}*meta")])
        .contains("meta")
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the crawl was not created"
        );
        pause(Duration::from_millis(20));
    }
}
