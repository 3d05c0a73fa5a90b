//! The anchors' own clients against a gannet cluster: a real `redis-server` (testkit), three
//! `gannet serve --redis` replicas, Debian's nginx with the shipped deploy/nginx.conf in
//! front of them, a testkit site, all on loopback. The client talks to nginx only; the
//! test kills (SIGKILL) the replica that accepted the job while the job runs, and the job
//! still completes with every page once, readable through each replica left.
//! Needs `scripts/py-tools` (run by `scripts/test`) for the Python clients.
#![allow(clippy::disallowed_methods)] // blocking waits in a non-async test

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use gannet_testkit::nginx::{Nginx, http};
use gannet_testkit::redis::RedisServer as Redis;
use gannet_testkit::{Response, SiteBuilder, TempDir};
use serde_json::Value;

mod common;
use common::{Replica, expected, site};

/// A job that has not completed after this long is a hang.
const JOB_LIMIT: Duration = Duration::from_secs(150);

/// Every expected URL exactly once in a client's summary (`{"urls": [...]}`).
fn assert_every_page_once(summary: &Value, expected: &[String], what: &str) {
    let mut urls: Vec<String> = summary["urls"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no urls in {summary}"))
        .iter()
        .map(|u| u.as_str().unwrap_or("<none>").to_string())
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for u in &urls {
        *counts.entry(u.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{what}: results twice: {twice:?}");
    urls.sort();
    assert_eq!(urls, expected, "{what}: every page once");
}

/// The venv of `scripts/py-tools`.
fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py-tools/bin/python");
    assert!(
        python.exists(),
        "{} missing: run scripts/py-tools (scripts/test does)",
        python.display()
    );
    python
}

/// A Python client process: its stdout lines arrive on a channel as they are printed, its
/// stderr goes to a file; killed on drop.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: PathBuf,
}

impl Client {
    fn start(dir: &TempDir, args: &[&str]) -> Client {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cluster_clients.py");
        let stderr = dir.0.join("client.stderr");
        let mut child = Command::new(python())
            .arg(script)
            .args(args)
            .env("HOME", &dir.0)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("run python");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Client {
            child,
            stdin,
            lines,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The rest of the next line starting with `prefix ` (other lines are skipped).
    fn expect(&mut self, prefix: &str, within: Duration, logs: &dyn Fn() -> String) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(&format!("{prefix} ")) {
                        return rest.to_string();
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no `{prefix}` line from the client within {within:?}: {}\n{}",
                    self.stderr(),
                    logs()
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait();
                    panic!(
                        "the client ended ({status:?}) before `{prefix}`: {}\n{}",
                        self.stderr(),
                        logs()
                    )
                }
            }
        }
    }

    /// Writes `lines` to its stdin and closes it.
    fn send_and_close(&mut self, lines: &[String]) {
        let mut stdin = self.stdin.take().expect("stdin open");
        for l in lines {
            writeln!(stdin, "{l}").expect("write to the client");
        }
    }

    /// Waits for a successful exit.
    fn finish(mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "client: {status}: {}", self.stderr());
                return;
            }
            assert!(Instant::now() < deadline, "the client did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The replica nginx passed the first `POST {route}` to (the last address of its
/// `upstream=` field: nginx lists every replica it tried).
fn accepting_replica(front: &Nginx, route: &str) -> SocketAddr {
    let needle = format!("\"POST {route} HTTP/");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = front.access_log();
        if let Some(line) = log.lines().find(|l| l.contains(&needle)) {
            let tried = line
                .split(" upstream=")
                .nth(1)
                .and_then(|rest| rest.split(" upstream_status=").next())
                .unwrap_or_else(|| panic!("no upstream in {line}"));
            let last = tried.rsplit(", ").next().unwrap_or(tried);
            return last
                .parse()
                .unwrap_or_else(|_| panic!("an address in {line}"));
        }
        assert!(
            Instant::now() < deadline,
            "no {needle} in nginx's access log: {log}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The job's `done` count read from a replica directly (our `/jobs/{id}`: every kind of job).
fn done(addr: SocketAddr, id: &str) -> Option<i64> {
    let reply = http::get(addr, &format!("/jobs/{id}")).ok()?;
    if reply.status != 200 {
        return None;
    }
    let v: Value = serde_json::from_slice(&reply.body).ok()?;
    v["done"].as_i64()
}

/// The replica's id in the cluster (its `/health`).
fn replica_id(addr: SocketAddr) -> String {
    let reply = http::get(addr, "/health").expect("GET /health");
    let v: Value = serde_json::from_slice(&reply.body).expect("health JSON");
    v["cluster"]["replica"]
        .as_str()
        .unwrap_or_else(|| panic!("no replica id: {v}"))
        .to_string()
}

/// What a replica holds of a job, read from Redis.
#[derive(Debug)]
enum Work {
    /// The job's execution lease (batch jobs), at fencing token `fence`.
    JobLease { fence: u64 },
    /// A host of the crawl's frontier, leased at `token`, with pages in flight then.
    Host { key: String, token: u64 },
}

/// What replica `holder` holds of job `id` now, if anything (the key layouts of
/// crates/server/src/jobs/redis.rs and crates/frontier-redis/src/keys.rs).
fn working(redis: &Redis, id: &str, holder: &str) -> Option<Work> {
    let lease = redis.cli(&["GET", &format!("gj:{{{id}}}:lease")]);
    if let Some((who, fence)) = lease.trim().split_once(' ')
        && who == holder
    {
        return Some(Work::JobLease {
            fence: fence.parse().ok()?,
        });
    }
    let hosts = redis.cli(&["--scan", "--pattern", &format!("gf:{{{id}:*}}:h:*")]);
    for key in hosts.lines().map(str::trim).filter(|k| !k.is_empty()) {
        let state = redis.cli(&["HMGET", key, "w", "t"]);
        let mut fields = state.lines().map(str::trim);
        let (Some(w), Some(t)) = (fields.next(), fields.next()) else {
            continue;
        };
        if w != holder {
            continue;
        }
        let in_flight: usize = redis
            .cli(&["HLEN", &key.replacen("}:h:", "}:f:", 1)])
            .trim()
            .parse()
            .ok()?;
        if in_flight > 0 {
            return Some(Work::Host {
                key: key.to_string(),
                token: t.parse().ok()?,
            });
        }
    }
    None
}

/// Who holds `work` now and at which token, if not `dead` and at a newer token than then.
fn taken_over(redis: &Redis, id: &str, work: &Work, dead: &str) -> Option<(String, u64)> {
    let (holder, token, then) = match work {
        Work::JobLease { fence } => {
            let lease = redis.cli(&["GET", &format!("gj:{{{id}}}:lease")]);
            let (who, token) = lease.trim().split_once(' ')?;
            (who.to_string(), token.parse::<u64>().ok()?, *fence)
        }
        Work::Host { key, token } => {
            let state = redis.cli(&["HMGET", key, "w", "t"]);
            let mut fields = state.lines().map(str::trim);
            let who = fields.next()?.to_string();
            (who, fields.next()?.parse::<u64>().ok()?, *token)
        }
    };
    (holder != dead && !holder.is_empty() && token > then).then_some((holder, token))
}

/// Redis, three replicas, nginx in front.
struct Cluster {
    replicas: Vec<Replica>,
    front: Nginx,
    dir: TempDir,
    redis: Redis,
}

impl Cluster {
    fn start(tag: &str) -> Cluster {
        let redis = Redis::start();
        let dir = TempDir::new(tag);
        let replicas: Vec<Replica> = ["a", "b", "c"]
            .iter()
            .map(|n| Replica::start(&redis.url(), &dir, n))
            .collect();
        let front = Nginx::start(&replicas.iter().map(|r| r.addr).collect::<Vec<_>>());
        Cluster {
            replicas,
            front,
            dir,
            redis,
        }
    }

    fn logs(&self) -> String {
        let mut s = String::new();
        for r in &self.replicas {
            s.push_str(&format!("replica {}:\n{}\n", r.addr, r.log()));
        }
        s.push_str(&format!(
            "nginx access:\n{}\nnginx error:\n{}",
            self.front.access_log(),
            self.front.error_log()
        ));
        s
    }

    /// The client `args` (its kind first, then nginx's URL and the rest) starts a job
    /// through nginx with `POST {route}` and waits for it through nginx; meanwhile the
    /// replica nginx gave the POST is killed with SIGKILL once the job is under way. The
    /// job completes, every URL of `want` once, through nginx and through each replica
    /// left (the client pointed at it directly). The client's `done` summary.
    fn kill_the_accepting_replica_mid_job(
        &mut self,
        args: &[String],
        route: &str,
        want: &[String],
    ) -> Value {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut client = Client::start(&self.dir, &args);
        let id = client.expect("id", Duration::from_secs(60), &|| self.logs());
        assert!(!id.is_empty());

        // The replica that accepted the POST, from nginx's access log.
        let accepted = accepting_replica(&self.front, route);
        let victim = self
            .replicas
            .iter()
            .position(|r| r.addr == accepted)
            .unwrap_or_else(|| panic!("{accepted} is not a replica"));

        // Mid-job: some pages stored, not all, and the accepting replica working the job
        // (holding its lease, or a host of its frontier with pages in flight); then
        // kill -9 it.
        let watcher = self.replicas[(victim + 1) % self.replicas.len()].addr;
        let victim_id = replica_id(accepted);
        let deadline = Instant::now() + JOB_LIMIT;
        let (work, before) = loop {
            let before = done(watcher, &id).unwrap_or(0);
            assert!(
                before < want.len() as i64,
                "the job ended ({before} of {} done) before {accepted} was seen working it: {}",
                want.len(),
                self.logs()
            );
            if before >= 4
                && let Some(work) = working(&self.redis, &id, &victim_id)
            {
                break (work, before);
            }
            assert!(Instant::now() < deadline, "no progress: {}", self.logs());
            std::thread::sleep(Duration::from_millis(20));
        };
        self.replicas[victim].kill9();
        let dead = self.replicas.remove(victim);
        eprintln!(
            "killed {} (accepted job {id}; {work:?}) with {before} of {} done",
            dead.addr,
            want.len()
        );

        // What the dead replica held is taken over by another replica, with a newer
        // fencing token, once its lease has run out.
        let deadline = Instant::now() + JOB_LIMIT;
        let (takers, taken) = loop {
            if let Some(taken) = taken_over(&self.redis, &id, &work, &victim_id) {
                break taken;
            }
            assert!(
                Instant::now() < deadline,
                "nobody took over {work:?}: {}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            self.replicas.iter().any(|r| replica_id(r.addr) == takers),
            "{takers} (token {taken}) is a live replica"
        );

        // The client, polling through nginx all along, sees the job complete.
        let logs = || format!("dead {}:\n{}\n{}", dead.addr, dead.log(), self.logs());
        let summary = client.expect("done", JOB_LIMIT, &logs);
        let summary: Value = serde_json::from_str(&summary).expect("the client's JSON");
        assert_eq!(summary["status"], "completed", "{summary}");
        assert_every_page_once(&summary, want, "through nginx");

        // The same job through each replica left, by the same client pointed at it.
        let urls: Vec<String> = self.replicas.iter().map(Replica::url).collect();
        client.send_and_close(&urls);
        for url in &urls {
            let line = client.expect("via", Duration::from_secs(60), &logs);
            let (who, json) = line.split_once(' ').expect("via <url> <json>");
            assert_eq!(who, url);
            let v: Value = serde_json::from_str(json).expect("the client's JSON");
            assert_eq!(v["status"], "completed", "via {url}: {v}");
            assert_every_page_once(&v, want, &format!("via {url}"));
        }
        client.finish();

        // The client's polls went through nginx, and none failed there (a poll that met
        // the dead replica was passed on to another).
        let access = self.front.access_log();
        let polls: Vec<&str> = access
            .lines()
            .filter(|l| l.contains("\"GET /") && l.contains(&id))
            .collect();
        assert!(polls.len() >= 2, "{access}");
        assert!(
            polls.iter().all(|l| l.contains("\" 200 ")),
            "every poll through nginx answered 200: {polls:#?}"
        );
        for r in &self.replicas {
            assert!(!r.log().contains("panicked"), "{}", r.log());
        }
        summary
    }
}

#[test]
fn firecrawl_py_crawl_through_nginx_survives_the_accepting_replica_killed() {
    let mut cluster = Cluster::start("firecrawl");
    let pages = 36;
    let site = site(pages, Duration::from_millis(150));
    let args = [
        "firecrawl".to_string(),
        cluster.front.url(""),
        site.origin().to_string(),
        (pages + 50).to_string(),
    ];
    let want = expected(&site, pages);
    let summary = cluster.kill_the_accepting_replica_mid_job(&args, "/v2/crawl", &want);
    assert_eq!(
        summary["completed"].as_i64(),
        Some(pages as i64),
        "{summary}"
    );
    assert_eq!(summary["total"].as_i64(), Some(pages as i64), "{summary}");
}

#[test]
fn crawl4ai_docker_client_job_through_nginx_survives_the_accepting_replica_killed() {
    let mut cluster = Cluster::start("crawl4ai");
    let urls = 30;
    // Answers from 100 ms to 3 s: the batch finishes page by page, over seconds.
    let site = (0..urls)
        .fold(SiteBuilder::new(), |b, i| {
            let body = format!(
                "<title>Batch {i}</title><article><h1>Batch {i}</h1><p>Text of batch page \
                 {i}, long enough to be content for the extractor.</p></article>"
            );
            b.response(
                &format!("/b/{i}"),
                Response::html(body).delay(Duration::from_millis(100 * (i as u64 + 1))),
            )
        })
        .start_blocking();
    let given: Vec<String> = (0..urls)
        .map(|i| site.url(&format!("/b/{i}")).to_string())
        .collect();
    let mut args = vec!["crawl4ai".to_string(), cluster.front.url("")];
    args.extend(given.iter().cloned());
    let mut want = given.clone();
    want.sort();
    let summary = cluster.kill_the_accepting_replica_mid_job(&args, "/crawl/job", &want);
    assert_eq!(summary["failed"], serde_json::json!([]), "{summary}");
}
