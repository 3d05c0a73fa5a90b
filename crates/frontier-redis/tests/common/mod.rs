//! Real `redis-server` processes on free loopback ports, killed on drop.
#![allow(dead_code, unreachable_pub)]

use gannet_frontier_redis::{
    CrawlSettings, Finished, HostKey, NewUrl, Outcome, RedisFrontier, Release, WorkerId,
};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "gannet-redis-{tag}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A free loopback port (and, for cluster nodes, its bus port + 10000 free too).
pub fn free_port(bus: bool) -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        if !bus {
            return port;
        }
        if port < 55535 && TcpListener::bind(("127.0.0.1", port + 10000)).is_ok() {
            return port;
        }
    }
}

/// One `redis-server`.
pub struct RedisServer {
    pub port: u16,
    pub dir: TempDir,
    extra: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// No persistence, `noeviction`.
    pub fn start() -> RedisServer {
        RedisServer::with_args(&["--save", "", "--appendonly", "no"])
    }

    pub fn with_args(extra: &[&str]) -> RedisServer {
        let mut s = RedisServer {
            port: free_port(false),
            dir: TempDir::new("node"),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            child: None,
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--protected-mode", "no"])
            .arg("--dir")
            .arg(&self.dir.0)
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/test installs it: apt-get install redis-server)");
        self.child = Some(child);
        wait_ping(self.port);
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same port and directory (AOF/RDB reloaded).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn cli(&self, args: &[&str]) -> String {
        cli(self.port, args)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// Test setup waits for a child process; nothing else runs on the test's runtime meanwhile.
#[allow(clippy::disallowed_methods)]
fn wait_ping(port: u16) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if cli(port, &["PING"]).trim() == "PONG" {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("redis-server on port {port} did not answer PING");
}

/// A 3-master Redis Cluster on loopback.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    #[allow(clippy::disallowed_methods)] // setup, before the test's async work
    pub fn start() -> RedisCluster {
        let mut nodes = Vec::new();
        for _ in 0..3 {
            let mut s = RedisServer {
                port: free_port(true),
                dir: TempDir::new("cluster"),
                extra: vec![
                    "--cluster-enabled".into(),
                    "yes".into(),
                    "--cluster-node-timeout".into(),
                    "5000".into(),
                    "--save".into(),
                    "".into(),
                    "--appendonly".into(),
                    "no".into(),
                ],
                child: None,
            };
            s.spawn();
            nodes.push(s);
        }
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli --cluster create");
        assert!(
            out.status.success(),
            "cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let start = Instant::now();
        loop {
            let ok = nodes
                .iter()
                .all(|n| n.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok"));
            if ok {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "cluster never became ok"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        RedisCluster { nodes }
    }

    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", hosts.join(","))
    }
}

pub fn dir_of(s: &RedisServer) -> &Path {
    &s.dir.0
}

/// `used_memory` of INFO memory.
pub fn used_memory(port: u16) -> u64 {
    cli(port, &["INFO", "memory"])
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory")
}

pub fn url(host: usize, page: usize) -> NewUrl {
    NewUrl {
        url: format!("http://h{host}.test/p/{page}"),
        host: HostKey(format!("http://h{host}.test")),
        depth: 1,
        referrer: None,
    }
}

pub fn settings() -> CrawlSettings {
    CrawlSettings {
        expected_urls: 100_000,
        ..CrawlSettings::default()
    }
}

pub fn worker(id: &str) -> WorkerId {
    WorkerId::new(id).expect("worker id")
}

/// Claims and completes everything due until nothing is left; returns URL → completions.
pub async fn drain(f: &RedisFrontier, w: &WorkerId, first_batch: u64) -> BTreeMap<String, u32> {
    let mut seen = BTreeMap::new();
    let mut batch = first_batch;
    for _ in 0..10_000 {
        let hosts = f.claim(w, 64, 50).await.expect("claim");
        if hosts.is_empty() {
            if f.stats().await.expect("stats").is_finished() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        let mut pages = Vec::new();
        for h in &hosts {
            for u in &h.urls {
                pages.push(Finished {
                    lease: h.lease.clone(),
                    url: u.url.clone(),
                    outcome: Outcome::Done,
                });
            }
        }
        // Odd batches: commit, then release each host; even ones: both in one step.
        let prepared = f.prepare(w, batch, &pages).await.expect("prepare");
        if batch % 2 == 1 {
            f.commit(&prepared, &format!("pos-{batch}"))
                .await
                .expect("commit");
            for h in &hosts {
                f.release(&h.lease, Duration::ZERO, None)
                    .await
                    .expect("release");
            }
        } else {
            let leases: Vec<_> = hosts
                .iter()
                .map(|h| Release::new(h.lease.clone(), Duration::ZERO))
                .collect();
            let next = f
                .commit_and_release(&prepared, &format!("pos-{batch}"), &leases)
                .await
                .expect("commit and release");
            assert!(next.iter().all(Option::is_some), "own lease fenced");
        }
        batch += 1;
        for (p, ok) in pages.iter().zip(&prepared.accepted) {
            assert!(ok, "own lease refused: {}", p.url);
            *seen.entry(p.url.clone()).or_insert(0) += 1;
        }
    }
    seen
}
