//! `gannet serve` replicas behind the shipped nginx config (deploy/nginx.conf): real
//! `gannet serve` processes, Debian's nginx, a test site, all on loopback. Also
//! deploy/local-cluster.sh, which starts the same topology with redis-server.
#![allow(clippy::disallowed_methods)] // blocking waits in a non-async test

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use gannet_testkit::nginx::{self, Nginx, http};
use gannet_testkit::{Response, Site, SiteBuilder};
use serde_json::{Value, json};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn scratch(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    std::env::temp_dir().join(format!("gannet-cluster-{tag}-{}-{n}", std::process::id()))
}

const PHRASE: &str = "Gannets dive from thirty metres";

fn article(i: usize) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><title>Page {i}</title></head><body>\
         <nav><a href=\"/\">Home</a></nav><article><h1>Page {i}</h1>\
         <p>{PHRASE} into the sea and chase fish underwater; this is page {i} of the test site.</p>\
         <p>Air sacs in their face and chest cushion the impact with the water, and their \
         nostrils are inside the bill, so no water is forced into them when they dive.</p>\
         <p>They breed in large colonies on cliffs and islands, and both parents feed the \
         single chick for about three months before it leaves the nest.</p>\
         </article></body></html>"
    )
}

/// A site with `/a/0` .. `/a/{n-1}`, each a distinct article.
fn site(n: usize) -> SiteBuilder {
    (0..n).fold(SiteBuilder::new(), |b, i| {
        b.page(&format!("/a/{i}"), article(i))
    })
}

/// One `gannet serve` process on a free loopback port (`--listen 127.0.0.1:0`: the port
/// comes from its first line on stderr), killed and its directory removed on drop.
struct Replica {
    child: Option<Child>,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Replica {
    fn start() -> Replica {
        let dir = scratch("replica");
        let mut command = Command::new(env!("CARGO_BIN_EXE_gannet"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--allow-private", "-q"])
            // Behind nginx every client has nginx's address: the limit is nginx's.
            .args(["--rate-limit", "0", "--data-dir"])
            .arg(dir.join("data"));
        for key in ["GANNET_LISTEN", "GANNET_CONFIG", "GANNET_TOKEN"] {
            command.env_remove(key);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start gannet serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("gannet serve: listening on http://") {
                    let _ = tx.send(addr.to_string());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("gannet serve printed its address")
            .parse()
            .expect("a socket address");
        Replica {
            child: Some(child),
            addr,
            dir,
        }
    }

    /// `kill -9`.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Requests of `route` this replica answered with 200, from its own /metrics.
    fn served(&self, route: &str) -> u64 {
        let metrics = http::get(self.addr, "/metrics").expect("GET /metrics");
        assert_eq!(metrics.status, 200);
        let prefix = format!("gannet_http_requests_total{{route=\"{route}\",status=\"200\"}} ");
        metrics
            .text()
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .map(|n| n.trim().parse::<u64>().expect("a count"))
            .sum()
    }
}

impl Replica {
    /// Its `gannet_pages_in_flight` gauge.
    fn pages_in_flight(&self) -> u64 {
        let metrics = http::get(self.addr, "/metrics").expect("GET /metrics");
        metrics
            .text()
            .lines()
            .find_map(|l| l.strip_prefix("gannet_pages_in_flight "))
            .and_then(|n| n.trim().parse::<f64>().ok())
            .map_or(0, |n| n as u64)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn replicas(n: usize) -> Vec<Replica> {
    (0..n).map(|_| Replica::start()).collect()
}

fn addrs(replicas: &[Replica]) -> Vec<SocketAddr> {
    replicas.iter().map(|r| r.addr).collect()
}

fn md(front: SocketAddr, site: &Site, path: &str) -> http::Reply {
    let body = json!({"url": site.url(path).as_str(), "render": "never"}).to_string();
    http::post_json(front, "/md", &body).expect("POST /md")
}

/// `needle` is in nginx's access log within 5 s (nginx writes a line after the answer).
fn logged(front: &Nginx, needle: &str) -> bool {
    let start = Instant::now();
    while !front.access_log().contains(needle) {
        if start.elapsed() > Duration::from_secs(5) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

fn json_of(reply: &http::Reply) -> Value {
    serde_json::from_slice(&reply.body)
        .unwrap_or_else(|e| panic!("{e}: status {} body {}", reply.status, reply.text()))
}

#[test]
fn nginx_accepts_the_shipped_config() {
    let prefix = nginx::scratch_prefix();
    let config = prefix.join("nginx.conf");
    let servers: Vec<SocketAddr> = (0..3)
        .map(|i| SocketAddr::from(([127, 0, 0, 1], 20_000 + i)))
        .collect();
    let listen = SocketAddr::from(([127, 0, 0, 1], 18_080));
    let settings = nginx::Settings::default();
    let template = nginx::template();
    std::fs::write(
        &config,
        nginx::render(&template, &prefix, listen, &servers, &settings),
    )
    .unwrap();
    let out = nginx::check(&config, &prefix);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("test is successful"), "{said}");
    assert!(!said.contains("[warn]"), "no warnings either: {said}");

    // The check has teeth: an upstream with no replica is refused.
    std::fs::write(
        &config,
        nginx::render(&template, &prefix, listen, &[], &settings),
    )
    .unwrap();
    let out = nginx::check(&config, &prefix);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no servers"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&prefix);
}

/// `/md` (crawl4ai) and `/v1/scrape` (Firecrawl) through nginx: every answer right, every
/// replica answered some (their own /metrics say so), the client's request id kept, and the
/// body cap the replicas' (1 MiB): over it nginx answers 413 in the replicas' JSON shape.
#[test]
fn single_page_routes_round_robin_over_every_replica() {
    let site = site(20).start_blocking();
    let replicas = replicas(3);
    let front = Nginx::start(&addrs(&replicas));
    const EACH: usize = 9;
    for i in 0..EACH {
        let id = format!("deploy-md-{i}");
        let body = json!({"url": site.url(&format!("/a/{i}")).as_str(), "render": "never"});
        let reply = http::request(
            front.addr(),
            "POST",
            "/md",
            &[("Content-Type", "application/json"), ("x-request-id", &id)],
            body.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.header("x-request-id"), Some(id.as_str()));
        let v = json_of(&reply);
        let text = v["markdown"].as_str().expect("markdown");
        assert!(
            text.contains(PHRASE) && text.contains(&format!("page {i} ")),
            "{text}"
        );
    }
    for i in 0..EACH {
        let body =
            json!({"url": site.url(&format!("/a/{}", 10 + i)).as_str(), "formats": ["markdown"]});
        let reply = http::post_json(front.addr(), "/v1/scrape", &body.to_string()).unwrap();
        assert_eq!(reply.status, 200, "{}", reply.text());
        let v = json_of(&reply);
        let text = v["data"]["markdown"].as_str().expect("data.markdown");
        assert!(text.contains(&format!("page {} ", 10 + i)), "{text}");
    }
    let md: Vec<u64> = replicas.iter().map(|r| r.served("/md")).collect();
    let scrape: Vec<u64> = replicas.iter().map(|r| r.served("/v1/scrape")).collect();
    assert_eq!(md.iter().sum::<u64>(), EACH as u64, "{md:?}");
    assert_eq!(scrape.iter().sum::<u64>(), EACH as u64, "{scrape:?}");
    assert!(md.iter().all(|&n| n > 0), "each replica served /md: {md:?}");
    assert!(
        scrape.iter().all(|&n| n > 0),
        "each replica served /v1/scrape: {scrape:?}"
    );

    // The body cap: 1 MiB passes (the replica answers), one byte more stops at nginx.
    let limit = nginx::Settings::default().max_body;
    let head = json!({"url": site.url("/a/0").as_str(), "render": "never", "q": ""}).to_string();
    let pad = limit - head.len();
    let at_limit = head.replacen("\"q\":\"\"", &format!("\"q\":\"{}\"", "x".repeat(pad)), 1);
    assert_eq!(at_limit.len(), limit);
    let reply = http::post_json(front.addr(), "/md", &at_limit).unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    let over = at_limit.replacen("\"q\":\"", "\"q\":\"x", 1);
    let reply = http::post_json(front.addr(), "/md", &over).unwrap();
    assert_eq!(reply.status, 413);
    assert_eq!(json_of(&reply)["error"]["code"], "body_too_large");
    assert_eq!(
        replicas.iter().map(|r| r.served("/md")).sum::<u64>(),
        EACH as u64 + 1,
        "the body over the cap never reached a replica"
    );
}

/// `/crawl/stream` through nginx: the first result line arrives while the replica is
/// still waiting for the slow page, so nginx passes lines on as they come.
#[test]
fn streamed_lines_pass_through_unbuffered() {
    const LATE: Duration = Duration::from_secs(6);
    let site = SiteBuilder::new()
        .page("/quick", article(1))
        .response("/late", Response::html(article(2)).delay(LATE))
        .start_blocking();
    let replicas = replicas(1);
    let front = Nginx::start(&addrs(&replicas));
    let body = json!({
        "urls": [site.url("/quick").as_str(), site.url("/late").as_str()],
        "render": "never",
    });
    let started = Instant::now();
    let mut stream = http::open(
        front.addr(),
        "POST",
        "/crawl/stream",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(stream.status, 200);
    assert_eq!(stream.header("content-type"), Some("application/x-ndjson"));
    let first = stream.next_line().unwrap().expect("a first line");
    let first_at = started.elapsed();
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["url"], site.url("/quick").as_str(), "{first}");
    assert!(
        first_at < LATE,
        "the first line took {first_at:?}: nginx held it back"
    );
    let mut lines = vec![first];
    while let Some(line) = stream.next_line().unwrap() {
        lines.push(serde_json::from_str(&line).unwrap());
    }
    let last_at = started.elapsed();
    assert!(last_at >= LATE, "{last_at:?}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[1]["url"], site.url("/late").as_str());
    assert_eq!(lines[2]["status"], "completed");

    // Server-sent events pass as they come too: the dashboard's never-ending stream, one
    // snapshot a second.
    let started = Instant::now();
    let mut events = http::open(front.addr(), "GET", "/dashboard/events", &[], &[]).unwrap();
    assert_eq!(events.status, 200);
    let mut seen = 0;
    while seen < 3 {
        let line = events.next_line().unwrap().expect("the stream goes on");
        if line.starts_with("data:") {
            seen += 1;
        }
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(8),
        "three snapshots took {took:?}"
    );
}

/// A replica killed with `kill -9`: every request still succeeds. nginx finds the dead
/// replica refusing connections, sends the request on to another one, and leaves the dead
/// one out for a while (passive health check).
#[test]
fn a_replica_killed_with_sigkill_is_routed_around() {
    let site = site(40).start_blocking();
    let mut replicas = replicas(3);
    let front = Nginx::start(&addrs(&replicas));
    for i in 0..6 {
        let reply = md(front.addr(), &site, &format!("/a/{i}"));
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let dead = replicas[1].addr;
    let dead_served = replicas[1].served("/md");
    assert!(dead_served > 0);
    replicas[1].kill();
    for i in 6..36 {
        let reply = md(front.addr(), &site, &format!("/a/{i}"));
        assert_eq!(reply.status, 200, "after the kill: {}", reply.text());
        assert!(
            json_of(&reply)["markdown"]
                .as_str()
                .unwrap()
                .contains(&format!("page {i} "))
        );
    }
    let alive: u64 = [&replicas[0], &replicas[2]]
        .iter()
        .map(|r| r.served("/md"))
        .sum();
    assert_eq!(alive + dead_served, 36);
    // nginx did try the dead replica, and moved on.
    let log = front.error_log();
    assert!(
        log.contains(&dead.to_string()) && log.contains("Connection refused"),
        "{log}"
    );
    assert!(
        logged(&front, &format!("{dead}, ")),
        "a request tried {dead}, then another replica: {}",
        front.access_log()
    );
}

/// A replica killed while it fetches a page for `/md`: nginx sends the request on to
/// another replica (single-page reads are retried though they are POSTs), and the client
/// gets its page.
#[test]
fn a_page_read_cut_by_a_dying_replica_is_retried_on_another() {
    const DELAY: Duration = Duration::from_secs(5);
    let site = SiteBuilder::new()
        .response("/slow", Response::html(article(7)).delay(DELAY))
        .start_blocking();
    let mut replicas = replicas(2);
    let front = Nginx::start(&addrs(&replicas));
    let url = site.url("/slow");
    let front_addr = front.addr();
    let client = std::thread::spawn(move || {
        let body = json!({"url": url.as_str(), "render": "never"}).to_string();
        http::post_json(front_addr, "/md", &body).expect("POST /md")
    });
    // The replica fetching the page has it in flight.
    let start = Instant::now();
    let busy = loop {
        let busy = replicas.iter().position(|r| r.pages_in_flight() > 0);
        if let Some(i) = busy {
            break i;
        }
        assert!(start.elapsed() < DELAY, "no replica took the page");
        std::thread::sleep(Duration::from_millis(20));
    };
    let dead = replicas[busy].addr;
    replicas[busy].kill();
    let reply = client.join().unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(
        json_of(&reply)["markdown"]
            .as_str()
            .unwrap()
            .contains("page 7 ")
    );
    assert_eq!(
        site.requests_for("/slow").len(),
        2,
        "fetched again by the other"
    );
    assert!(
        logged(&front, &format!("upstream={dead}, ")),
        "{}",
        front.access_log()
    );
}

/// The per-client limit is nginx's (the replicas see only nginx's address): past the
/// burst, 429 with `Retry-After` in the replicas' JSON shape; `/health` is never limited.
#[test]
fn nginx_limits_each_client_and_answers_in_json() {
    let replicas = replicas(1);
    let settings = nginx::Settings {
        rate_per_minute: 6,
        rate_burst: 2,
        ..nginx::Settings::default()
    };
    let front = Nginx::with_settings(&addrs(&replicas), &settings);
    let statuses: Vec<u16> = (0..6)
        .map(|_| http::get(front.addr(), "/schema").unwrap().status)
        .collect();
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    assert!(statuses[3..].iter().all(|&s| s == 429), "{statuses:?}");
    let reply = http::get(front.addr(), "/schema").unwrap();
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(json_of(&reply)["error"]["code"], "rate_limited");
    for _ in 0..10 {
        assert_eq!(http::get(front.addr(), "/health").unwrap().status, 200);
    }
}

/// MCP sessions live in the memory of the replica that made them: nginx sends every
/// request of a client to one replica (and only one replica knows the session).
#[test]
fn mcp_session_stays_on_the_replica_that_made_it() {
    let replicas = replicas(3);
    let front = Nginx::start(&addrs(&replicas));
    let accept = ("Accept", "application/json, text/event-stream");
    let content = ("Content-Type", "application/json");
    let init = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "cluster-test", "version": "1"}}
    });
    let reply = http::request(
        front.addr(),
        "POST",
        "/mcp",
        &[accept, content],
        init.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.text().contains("serverInfo"), "{}", reply.text());
    let session = reply
        .header("mcp-session-id")
        .expect("a session id")
        .to_string();
    let with_session = |front: SocketAddr, message: &Value| {
        http::request(
            front,
            "POST",
            "/mcp",
            &[
                accept,
                content,
                ("Mcp-Session-Id", &session),
                ("MCP-Protocol-Version", "2025-11-25"),
            ],
            message.to_string().as_bytes(),
        )
        .unwrap()
    };
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let reply = with_session(front.addr(), &initialized);
    assert!(reply.status < 300, "{} {}", reply.status, reply.text());
    for id in 2..8 {
        let list = json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"});
        let reply = with_session(front.addr(), &list);
        assert_eq!(reply.status, 200, "call {id}: {}", reply.text());
        assert!(reply.text().contains("\"tools\""), "{}", reply.text());
    }
    // Only one replica knows the session: without the sticky upstream most of the calls
    // above would have reached one that does not.
    let knows: Vec<bool> = replicas
        .iter()
        .map(|r| {
            let list = json!({"jsonrpc": "2.0", "id": 99, "method": "tools/list"});
            with_session(r.addr, &list).status == 200
        })
        .collect();
    assert_eq!(
        knows.iter().filter(|&&k| k).count(),
        1,
        "replicas knowing the session: {knows:?}"
    );
}

/// `deploy/local-cluster.sh stop`, whatever happens in the test.
struct Cluster {
    state: PathBuf,
}

impl Cluster {
    fn script(&self, args: &[&str]) -> std::process::Output {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local-cluster.sh");
        let mut command = Command::new("bash");
        command
            .arg(script)
            .args(args)
            .env("GANNET", env!("CARGO_BIN_EXE_gannet"))
            .env("STATE_DIR", &self.state)
            .env("SERVE_ARGS", "--allow-private -q")
            .env("NGINX_BIN", nginx::binary())
            // The restart below is watched by a client asking as fast as it can.
            .env("RATE_PER_MINUTE", "6000000")
            .env("RATE_BURST", "100000")
            .env_remove("GANNET_TOKEN")
            .env_remove("PORT");
        gannet_testkit::output_within(&mut command, Duration::from_secs(120))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.script(&["stop"]);
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

/// Alive and not a zombie (the script's children are reparented when it exits).
fn pid_alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
    })
}

/// The README's commands: `local-cluster.sh start 2` brings up redis-server, two replicas
/// and nginx and prints the URL; a page comes through it; `status` lists every process;
/// `restart` replaces every replica while requests keep succeeding; `stop` ends them all
/// and removes the state directory.
#[test]
fn local_cluster_script_starts_serves_and_stops() {
    let site = site(4).start_blocking();
    let cluster = Cluster {
        state: scratch("local"),
    };
    let out = cluster.script(&["start", "2"]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = said
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .expect("the cluster's URL");
    let front: SocketAddr = url.trim_end_matches('/').parse().expect("host:port");
    for i in 0..4 {
        let reply = md(front, &site, &format!("/a/{i}"));
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert!(
            json_of(&reply)["markdown"]
                .as_str()
                .unwrap()
                .contains(PHRASE)
        );
    }
    let out = cluster.script(&["status"]);
    let status = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{status}");
    for name in [
        "replica-1: pid",
        "replica-2: pid",
        "redis: pid",
        "nginx: pid",
    ] {
        assert!(status.contains(name), "{name}: {status}");
    }
    let healthy = status
        .lines()
        .filter(|l| l.contains("/health: HTTP/1.") && l.ends_with(" 200 OK"))
        .count();
    assert_eq!(healthy, 3, "two replicas and nginx: {status}");
    let mut pids = Vec::new();
    for part in [
        "replica-1/pid",
        "replica-2/pid",
        "redis/pid",
        "nginx/nginx.pid",
    ] {
        let pid = std::fs::read_to_string(cluster.state.join(part)).unwrap();
        pids.push(pid.trim().to_string());
    }
    assert!(pids.iter().all(|p| pid_alive(p)), "{pids:?}");

    // A rolling restart while a client keeps asking: no request fails, and every replica is
    // a new process afterwards.
    let asking = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let client = {
        let asking = asking.clone();
        let url = site.url("/a/1");
        std::thread::spawn(move || {
            let body = json!({"url": url.as_str(), "render": "never"}).to_string();
            let mut statuses = Vec::new();
            while asking.load(Ordering::SeqCst) {
                statuses.push(http::post_json(front, "/md", &body).map(|r| r.status).ok());
            }
            statuses
        })
    };
    let out = cluster.script(&["restart"]);
    asking.store(false, Ordering::SeqCst);
    let statuses = client.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(statuses.len() > 2, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == Some(200)),
        "during the restart: {statuses:?}"
    );
    for (i, pid) in pids.iter_mut().take(2).enumerate() {
        let new = std::fs::read_to_string(cluster.state.join(format!("replica-{}/pid", i + 1)))
            .unwrap()
            .trim()
            .to_string();
        assert_ne!(&new, pid, "replica-{} restarted", i + 1);
        assert!(!pid_alive(pid), "the old replica-{} is gone", i + 1);
        *pid = new;
    }

    let out = cluster.script(&["stop"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let start = Instant::now();
    while pids.iter().any(|p| pid_alive(p)) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!pids.iter().any(|p| pid_alive(p)), "left running: {pids:?}");
    assert!(!cluster.state.exists());
    assert!(http::get(front, "/health").is_err(), "nginx is gone");
}
