//! Distributed crawls end to end: real `redis-server` processes on free loopback ports
//! (scripts/test installs redis-server), testkit sites, and the real binary as
//! `gannet crawl --redis` (creates the crawl) plus `gannet worker` processes. The union
//! of the workers' JSONL outputs must hold every page of the sites exactly once, whatever
//! happens to the workers (kill -9 and restart on the same --out, SIGSTOP past the lease)
//! or to Redis (kill -9 and restart with its AOF).

use gannet_testkit::redis::{RedisCluster, RedisServer as Redis};
use gannet_testkit::{Response, Site, SiteBuilder, TempDir};
mod common;
use common::{assert_ok, pause, wait_created, wait_exit};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A run that has not ended after this long is a hang.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// `hosts` sites (distinct origins: one port each) of `pages` pages each, in a tree with
/// cross links, every response delayed by `delay`.
fn sites(hosts: usize, pages: usize, delay: Duration) -> Vec<Site> {
    (0..hosts)
        .map(|_| {
            let mut b = SiteBuilder::new();
            for i in 0..pages {
                let path = if i == 0 {
                    "/".to_string()
                } else {
                    format!("/p{i}")
                };
                let links: String = [2 * i + 1, 2 * i + 2, (i * 7 + 3) % pages]
                    .iter()
                    .filter(|&&j| j > 0 && j < pages)
                    .map(|j| format!("<a href=/p{j}>p{j}</a> "))
                    .collect();
                let body = format!(
                    "<title>Page {i}</title><article><h1>Page {i}</h1><p>Text of page {i}, \
                     long enough to be content. {links}</p></article>"
                );
                b = b.response(&path, Response::html(body).delay(delay));
            }
            b.start_blocking()
        })
        .collect()
}

fn expected_urls(sites: &[Site], pages: usize) -> Vec<String> {
    let mut all = Vec::new();
    for s in sites {
        for i in 0..pages {
            let path = if i == 0 {
                "/".to_string()
            } else {
                format!("/p{i}")
            };
            all.push(s.url(&path).to_string());
        }
    }
    all.sort();
    all
}

const FLAGS: &[&str] = &[
    "--scope",
    "any",
    "--delay",
    "0",
    "--per-host",
    "2",
    "--ignore-robots",
    "--no-sitemaps",
    "--no-auto-throttle",
    "-q",
];

fn gannet() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gannet"));
    c.env(
        "RUST_LOG",
        "gannet=info,gannet_crawl=warn,gannet_frontier_redis=warn",
    )
    .stdin(Stdio::null())
    .stdout(Stdio::null());
    c
}

/// `gannet crawl SEEDS --redis URL --crawl-id ID --out OUT FLAGS extra`.
fn creator(redis: &str, id: &str, seeds: &[Site], out: &Path, extra: &[&str], log: &Path) -> Child {
    let flags: Vec<&str> = FLAGS.iter().chain(extra).copied().collect();
    creator_with(redis, id, seeds, out, &flags, log)
}

/// `gannet crawl SEEDS --redis URL --crawl-id ID --out OUT flags`.
fn creator_with(
    redis: &str,
    id: &str,
    seeds: &[Site],
    out: &Path,
    flags: &[&str],
    log: &Path,
) -> Child {
    let mut c = gannet();
    c.arg("crawl");
    for s in seeds {
        c.arg(s.origin().as_str());
    }
    c.args(["--redis", redis, "--crawl-id", id]);
    if !flags.contains(&"--concurrency") {
        c.args(["--concurrency", "8"]);
    }
    c.arg("--out")
        .arg(out)
        .args(flags)
        .stderr(log_file(log))
        .spawn()
        .expect("start gannet crawl")
}

/// `gannet worker --redis URL --crawl-id ID --out OUT`.
fn worker(redis: &str, id: &str, out: &Path, log: &Path) -> Child {
    gannet()
        .args([
            "worker",
            "--redis",
            redis,
            "--crawl-id",
            id,
            "--concurrency",
            "8",
            "-q",
        ])
        .arg("--out")
        .arg(out)
        .stderr(log_file(log))
        .spawn()
        .expect("start gannet worker")
}

fn log_file(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("log file")
}

/// URL → how many times it is in the union of the JSONL outputs; every line must parse.
fn union(outs: &[PathBuf]) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for out in outs {
        let text = std::fs::read_to_string(out).unwrap_or_default();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: a torn record ({e}): {line}", out.display()));
            let url = v["url"].as_str().expect("a url field").to_string();
            *seen.entry(url).or_insert(0) += 1;
        }
    }
    seen
}

fn assert_exactly_once(outs: &[PathBuf], expected: &[String]) {
    let seen = union(outs);
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "pages written more than once: {twice:?}");
    let got: Vec<String> = seen.keys().cloned().collect();
    let missing: Vec<_> = expected.iter().filter(|u| !seen.contains_key(*u)).collect();
    assert!(missing.is_empty(), "pages missing: {missing:?}");
    assert_eq!(got, expected, "the union of the outputs");
}

fn status_json(redis: &str, id: &str) -> serde_json::Value {
    let out = gannet()
        .args([
            "crawl",
            "--redis",
            redis,
            "--crawl-id",
            id,
            "--status",
            "--json",
        ])
        .stdout(Stdio::piped())
        .output()
        .expect("gannet crawl --status");
    assert!(out.status.success(), "--status failed: {out:?}");
    serde_json::from_slice(&out.stdout).expect("status JSON")
}

/// A small deterministic PRNG (SplitMix64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n.max(1)
    }
}

#[test]
fn four_workers_write_every_page_exactly_once() {
    let redis = Redis::with_args(&["--save", "", "--appendonly", "no"]);
    let sites = sites(12, 20, Duration::from_millis(5));
    let dir = TempDir::new("four");
    let outs: Vec<PathBuf> = (0..4).map(|i| dir.path(&format!("w{i}.jsonl"))).collect();
    let logs: Vec<PathBuf> = (0..4).map(|i| dir.path(&format!("w{i}.log"))).collect();
    let mut children = vec![creator(
        &redis.url(),
        "four",
        &sites,
        &outs[0],
        &[],
        &logs[0],
    )];
    // Workers join once the crawl exists.
    let start = Instant::now();
    while !redis.cli(&["KEYS", "*four*meta"]).contains("meta") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the crawl was not created"
        );
        pause(Duration::from_millis(20));
    }
    for i in 1..4 {
        children.push(worker(&redis.url(), "four", &outs[i], &logs[i]));
    }
    for (i, c) in children.iter_mut().enumerate() {
        let status = wait_exit(RUN_LIMIT, c, "a worker", &logs[i]);
        assert_ok(status, "a worker", &logs[i]);
    }
    assert_exactly_once(&outs, &expected_urls(&sites, 20));
    let written: Vec<usize> = outs
        .iter()
        .map(|o| std::fs::read_to_string(o).map_or(0, |t| t.lines().count()))
        .collect();
    assert!(
        written.iter().filter(|n| **n > 0).count() >= 2,
        "the work was shared: {written:?}"
    );
    let status = status_json(&redis.url(), "four");
    assert_eq!(status["done"], 240, "{status}");
    assert_eq!(status["queued"], 0, "{status}");
    assert_eq!(status["finished"], true, "{status}");
    // A worker joining a finished crawl exits at once, writing nothing.
    let late = dir.path("late.jsonl");
    let late_log = dir.path("late.log");
    let mut c = worker(&redis.url(), "four", &late, &late_log);
    let s = wait_exit(RUN_LIMIT, &mut c, "a late worker", &late_log);
    assert_ok(s, "a late worker", &late_log);
    assert_eq!(union(&[late]).len(), 0);
}

#[test]
fn robots_txt_is_fetched_once_per_host_for_all_workers() {
    let redis = Redis::with_args(&["--save", "", "--appendonly", "no"]);
    let pages = 16;
    // More hosts than the three processes hold at once (2 + 9 + 9): each gets some.
    let sites: Vec<Site> = (0..24)
        .map(|_| {
            let mut b = SiteBuilder::new().robots("User-agent: *\nDisallow: /p3\n");
            for i in 0..pages {
                let path = if i == 0 {
                    "/".to_string()
                } else {
                    format!("/p{i}")
                };
                // A chain: each page finds the next, so a host's queue runs dry after
                // each page and its lease is released, then claimed again by any worker.
                let links: String = [i + 1, i + 2]
                    .iter()
                    .filter(|&&j| j < pages)
                    .map(|j| format!("<a href=/p{j}>p{j}</a> "))
                    .collect();
                let body = format!(
                    "<title>Page {i}</title><article><h1>Page {i}</h1><p>Text of page {i}, \
                     long enough to be content. {links}</p></article>"
                );
                b = b.response(&path, Response::html(body).delay(Duration::from_millis(60)));
            }
            b.start_blocking()
        })
        .collect();
    let dir = TempDir::new("robots");
    let outs: Vec<PathBuf> = (0..3).map(|i| dir.path(&format!("w{i}.jsonl"))).collect();
    let logs: Vec<PathBuf> = (0..3).map(|i| dir.path(&format!("w{i}.log"))).collect();
    // Robots are obeyed (no --ignore-robots); one page per host at a time, so hosts move
    // between the workers as their leases are released. The creator fetches one page at a
    // time (it holds at most two hosts), so it cannot finish the crawl before the workers
    // have started.
    let flags = [
        "--concurrency",
        "1",
        "--scope",
        "any",
        "--delay",
        "0",
        "--per-host",
        "1",
        "--no-sitemaps",
        "--no-auto-throttle",
        "-q",
    ];
    let mut children = vec![creator_with(
        &redis.url(),
        "robots",
        &sites,
        &outs[0],
        &flags,
        &logs[0],
    )];
    wait_created(&redis, "robots");
    children.push(worker(&redis.url(), "robots", &outs[1], &logs[1]));
    children.push(worker(&redis.url(), "robots", &outs[2], &logs[2]));
    // Worker 1 stops (SIGTERM: it finishes its pages and hands its hosts back) once it
    // has written a few pages: the hosts it held move to the others mid-chain, and their
    // robots.txt must come from Redis, not from the origin again.
    let start = Instant::now();
    while std::fs::read_to_string(&outs[1]).map_or(0, |t| t.lines().count()) < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "worker 1 wrote nothing"
        );
        pause(Duration::from_millis(20));
    }
    let pid = children[1].id().to_string();
    let ok = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -TERM");
    let _ = wait_exit(RUN_LIMIT, &mut children[1], "worker 1 (stopped)", &logs[1]);
    for i in [0, 2] {
        let status = wait_exit(RUN_LIMIT, &mut children[i], "a worker", &logs[i]);
        assert_ok(status, "a worker", &logs[i]);
    }
    let expected: Vec<String> = expected_urls(&sites, pages)
        .into_iter()
        .filter(|u| !u.ends_with("/p3"))
        .collect();
    assert_exactly_once(&outs, &expected);
    // Hosts were worked by more than one worker (worker 1's moved on), and still each
    // robots.txt was asked for once: the first holder shared it through Redis.
    let mut shared_hosts = 0;
    for site in &sites {
        let origin = site.origin().to_string();
        let workers = outs
            .iter()
            .filter(|o| {
                std::fs::read_to_string(o)
                    .unwrap_or_default()
                    .contains(origin.trim_end_matches('/'))
            })
            .count();
        if workers > 1 {
            shared_hosts += 1;
        }
        assert_eq!(site.hits("/robots.txt"), 1, "robots.txt of {origin}");
        assert_eq!(site.hits("/p3"), 0, "a disallowed page of {origin}");
    }
    assert!(
        shared_hosts > 0,
        "no host moved between workers: the test proves nothing"
    );
}

#[test]
fn the_seeds_sitemaps_are_read_once_for_the_whole_crawl() {
    let redis = Redis::with_args(&["--save", "", "--appendonly", "no"]);
    // Each site: a home page linking nowhere, and pages only its sitemap lists.
    let orphans = 6;
    let sites: Vec<Site> = (0..4)
        .map(|_| {
            let mut b = SiteBuilder::new().page(
                "/",
                "<title>Home</title><article><h1>Home</h1><p>A home page that links to no \
                 other page at all, long enough to be content.</p></article>",
            );
            for i in 1..=orphans {
                b = b.response(
                    &format!("/o{i}"),
                    Response::html(format!(
                        "<title>Orphan {i}</title><article><h1>Orphan {i}</h1><p>Reached \
                         only through the sitemap, long enough to be content.</p></article>"
                    ))
                    .delay(Duration::from_millis(20)),
                );
            }
            b.start_blocking()
        })
        .collect();
    for site in &sites {
        let locs: String = (1..=orphans)
            .map(|i| format!("<url><loc>{}</loc></url>", site.url(&format!("/o{i}"))))
            .collect();
        site.set_response(
            "/sitemap.xml",
            Response::typed(
                "application/xml",
                format!(
                    "<?xml version=\"1.0\"?><urlset \
                     xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{locs}</urlset>"
                ),
            ),
        );
    }
    let dir = TempDir::new("sitemaps");
    let outs: Vec<PathBuf> = (0..3).map(|i| dir.path(&format!("w{i}.jsonl"))).collect();
    let logs: Vec<PathBuf> = (0..3).map(|i| dir.path(&format!("w{i}.log"))).collect();
    let flags = [
        "--scope",
        "any",
        "--delay",
        "0",
        "--per-host",
        "1",
        "--no-auto-throttle",
        "-q",
    ];
    let mut children = vec![creator_with(
        &redis.url(),
        "sitemaps",
        &sites,
        &outs[0],
        &flags,
        &logs[0],
    )];
    wait_created(&redis, "sitemaps");
    for i in 1..3 {
        children.push(worker(&redis.url(), "sitemaps", &outs[i], &logs[i]));
    }
    for (i, c) in children.iter_mut().enumerate() {
        let status = wait_exit(RUN_LIMIT, c, "a worker", &logs[i]);
        assert_ok(status, "a worker", &logs[i]);
    }
    let mut expected = Vec::new();
    for site in &sites {
        expected.push(site.url("/").to_string());
        for i in 1..=orphans {
            expected.push(site.url(&format!("/o{i}")).to_string());
        }
        assert_eq!(site.hits("/sitemap.xml"), 1, "sitemap of {}", site.origin());
        // The creator's sitemap pass reads robots.txt outside any lease, while the other
        // workers may already hold the seed's host: at most one more fetch than without.
        let robots = site.hits("/robots.txt");
        assert!(
            (1..=2).contains(&robots),
            "robots.txt of {}: {robots}",
            site.origin()
        );
    }
    expected.sort();
    assert_exactly_once(&outs, &expected);
}

#[test]
fn workers_killed_and_restarted_on_the_same_out_lose_and_repeat_nothing() {
    let redis = Redis::with_args(&["--save", "", "--appendonly", "no"]);
    let pages = 60;
    let sites = sites(5, pages, Duration::from_millis(120));
    let dir = TempDir::new("kill");
    let outs: Vec<PathBuf> = (0..3).map(|i| dir.path(&format!("w{i}.jsonl"))).collect();
    let logs: Vec<PathBuf> = (0..3).map(|i| dir.path(&format!("w{i}.log"))).collect();
    let seed = std::env::var("GANNET_DIST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(7, |d| d.as_nanos() as u64)
        });
    eprintln!("kill moments: GANNET_DIST_SEED={seed}");
    let mut rng = Rng(seed);
    let mut creator_child = creator(&redis.url(), "kill", &sites, &outs[0], &[], &logs[0]);
    pause(Duration::from_millis(300));
    let mut victims = [
        worker(&redis.url(), "kill", &outs[1], &logs[1]),
        worker(&redis.url(), "kill", &outs[2], &logs[2]),
    ];
    let mut kills = 0;
    while kills < 10 {
        pause(Duration::from_millis(100 + rng.below(500)));
        let v = rng.below(2) as usize;
        match victims[v].try_wait().expect("try_wait") {
            Some(status) => {
                assert_ok(status, "a worker", &logs[v + 1]);
                break; // the crawl is over
            }
            None => {
                let _ = victims[v].kill(); // SIGKILL
                let _ = victims[v].wait();
                kills += 1;
                victims[v] = worker(&redis.url(), "kill", &outs[v + 1], &logs[v + 1]);
            }
        }
    }
    eprintln!("{kills} kills landed");
    for (i, c) in victims.iter_mut().enumerate() {
        let s = wait_exit(RUN_LIMIT, c, "a worker", &logs[i + 1]);
        assert_ok(s, "a worker", &logs[i + 1]);
    }
    let s = wait_exit(RUN_LIMIT, &mut creator_child, "the creator", &logs[0]);
    assert_ok(s, "the creator", &logs[0]);
    assert!(kills >= 3, "too few kills landed mid-crawl: {kills}");
    assert_exactly_once(&outs, &expected_urls(&sites, pages));
}

#[cfg(unix)]
#[test]
fn a_worker_paused_past_its_lease_is_fenced() {
    let redis = Redis::with_args(&["--save", "", "--appendonly", "no"]);
    let pages = 30;
    // Slow responses: the paused worker always has pages in flight.
    let sites = sites(3, pages, Duration::from_millis(150));
    let dir = TempDir::new("stop");
    let outs: Vec<PathBuf> = (0..2).map(|i| dir.path(&format!("w{i}.jsonl"))).collect();
    let logs: Vec<PathBuf> = (0..2).map(|i| dir.path(&format!("w{i}.log"))).collect();
    let mut a = creator(
        &redis.url(),
        "stop",
        &sites,
        &outs[0],
        &["--lease", "1"],
        &logs[0],
    );
    pause(Duration::from_millis(800));
    let mut b = worker(&redis.url(), "stop", &outs[1], &logs[1]);
    let pid = a.id().to_string();
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {sig}");
    };
    signal("-STOP");
    pause(Duration::from_secs(4));
    signal("-CONT");
    let sb = wait_exit(RUN_LIMIT, &mut b, "worker b", &logs[1]);
    assert_ok(sb, "worker b", &logs[1]);
    // Presumed dead while paused (its batch aborted), it rejoins by itself: its output is
    // cut back to its committed checkpoint, and it ends as any worker does.
    let sa = wait_exit(RUN_LIMIT, &mut a, "worker a", &logs[0]);
    assert_ok(sa, "worker a", &logs[0]);
    let log = std::fs::read_to_string(&logs[0]).unwrap_or_default();
    let fenced: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("lease lost") || l.contains("presumed dead"))
        .collect();
    eprintln!("the paused worker's fencing lines:\n{}", fenced.join("\n"));
    assert!(
        log.contains("lease lost") || log.contains("presumed dead"),
        "the paused worker was not fenced:\n{log}"
    );
    assert_exactly_once(&outs, &expected_urls(&sites, pages));
}

#[test]
fn redis_killed_and_restarted_with_its_aof_loses_nothing() {
    let mut redis = Redis::with_args(&[
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    // Slow enough (≥ 3 s even on an idle machine: 400 pages, 150 ms each, ≤ 16 in flight)
    // that Redis dies mid-crawl, not after it.
    let pages = 100;
    let sites = sites(4, pages, Duration::from_millis(150));
    let dir = TempDir::new("aof");
    let outs: Vec<PathBuf> = (0..2).map(|i| dir.path(&format!("w{i}.jsonl"))).collect();
    let logs: Vec<PathBuf> = (0..2).map(|i| dir.path(&format!("w{i}.log"))).collect();
    let mut a = creator(&redis.url(), "aof", &sites, &outs[0], &[], &logs[0]);
    pause(Duration::from_millis(400));
    let mut b = worker(&redis.url(), "aof", &outs[1], &logs[1]);
    pause(Duration::from_millis(600));
    assert!(
        a.try_wait().expect("try_wait").is_none(),
        "the crawl ended too soon"
    );
    redis.kill();
    pause(Duration::from_millis(1500));
    redis.spawn();
    let sa = wait_exit(RUN_LIMIT, &mut a, "worker a", &logs[0]);
    assert_ok(sa, "worker a", &logs[0]);
    let sb = wait_exit(RUN_LIMIT, &mut b, "worker b", &logs[1]);
    assert_ok(sb, "worker b", &logs[1]);
    let paused: usize = logs
        .iter()
        .map(|l| {
            std::fs::read_to_string(l)
                .unwrap_or_default()
                .matches("paused: Redis unreachable")
                .count()
        })
        .sum();
    assert!(paused >= 1, "no worker said it paused");
    assert_exactly_once(&outs, &expected_urls(&sites, pages));
}

#[test]
fn the_page_limit_holds_exactly_across_four_workers() {
    let redis = Redis::with_args(&["--save", "", "--appendonly", "no"]);
    let sites = sites(6, 40, Duration::from_millis(5));
    let dir = TempDir::new("limit");
    let outs: Vec<PathBuf> = (0..4).map(|i| dir.path(&format!("w{i}.jsonl"))).collect();
    let logs: Vec<PathBuf> = (0..4).map(|i| dir.path(&format!("w{i}.log"))).collect();
    let mut children = vec![creator(
        &redis.url(),
        "limit",
        &sites,
        &outs[0],
        &["--max-pages", "57"],
        &logs[0],
    )];
    let start = Instant::now();
    while !redis.cli(&["KEYS", "*limit*meta"]).contains("meta") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the crawl was not created"
        );
        pause(Duration::from_millis(20));
    }
    for i in 1..4 {
        children.push(worker(&redis.url(), "limit", &outs[i], &logs[i]));
    }
    for (i, c) in children.iter_mut().enumerate() {
        let s = wait_exit(RUN_LIMIT, c, "a worker", &logs[i]);
        assert_ok(s, "a worker", &logs[i]);
    }
    let seen = union(&outs);
    assert!(seen.values().all(|n| *n == 1), "a page twice: {seen:?}");
    assert_eq!(seen.len(), 57, "pages written in all");
}

#[test]
fn a_429_with_retry_after_holds_the_host_for_every_worker() {
    let redis = Redis::with_args(&["--save", "", "--appendonly", "no"]);
    let pages = 30;
    let sites = sites(3, pages, Duration::from_millis(10));
    // The first site answers its first page with a 429 and Retry-After: 2 once.
    sites[0].set_sequence(
        "/p1",
        vec![
            Response::new(429).header("retry-after", "2"),
            Response::html("<title>Page 1</title><article><h1>Page 1</h1><p>Text of page 1, long enough to be content.</p></article>"),
        ],
    );
    let dir = TempDir::new("429");
    let outs: Vec<PathBuf> = (0..4).map(|i| dir.path(&format!("w{i}.jsonl"))).collect();
    let logs: Vec<PathBuf> = (0..4).map(|i| dir.path(&format!("w{i}.log"))).collect();
    let mut children = vec![creator(
        &redis.url(),
        "r429",
        &sites,
        &outs[0],
        &[],
        &logs[0],
    )];
    pause(Duration::from_millis(200));
    for i in 1..4 {
        children.push(worker(&redis.url(), "r429", &outs[i], &logs[i]));
    }
    for (i, c) in children.iter_mut().enumerate() {
        let s = wait_exit(RUN_LIMIT, c, "a worker", &logs[i]);
        assert_ok(s, "a worker", &logs[i]);
    }
    let requests = sites[0].requests();
    let blocked = requests
        .iter()
        .find(|r| r.path == "/p1")
        .expect("the 429 was asked for")
        .at;
    let early: Vec<_> = requests
        .iter()
        // Requests sent before the 429 arrived may land just after it.
        .filter(|r| {
            r.at > blocked + Duration::from_millis(100)
                && r.at < blocked + Duration::from_millis(1900)
        })
        .map(|r| r.path.clone())
        .collect();
    assert!(
        early.is_empty(),
        "requests during the Retry-After window: {early:?}"
    );
    let mut expected = expected_urls(&sites, pages);
    expected.sort();
    assert_exactly_once(&outs, &expected);
}

#[test]
fn a_three_master_cluster_completes_the_crawl() {
    let cluster = RedisCluster::start();
    let url = cluster.url();
    let pages = 30;
    let sites = sites(3, pages, Duration::from_millis(5));
    let dir = TempDir::new("cluster");
    let outs: Vec<PathBuf> = (0..2).map(|i| dir.path(&format!("w{i}.jsonl"))).collect();
    let logs: Vec<PathBuf> = (0..2).map(|i| dir.path(&format!("w{i}.log"))).collect();
    let mut a = creator(&url, "cl", &sites, &outs[0], &[], &logs[0]);
    pause(Duration::from_millis(500));
    let mut b = worker(&url, "cl", &outs[1], &logs[1]);
    let sa = wait_exit(RUN_LIMIT, &mut a, "worker a", &logs[0]);
    assert_ok(sa, "worker a", &logs[0]);
    let sb = wait_exit(RUN_LIMIT, &mut b, "worker b", &logs[1]);
    assert_ok(sb, "worker b", &logs[1]);
    assert_exactly_once(&outs, &expected_urls(&sites, pages));
}

/// A refresh crawl needs validators per URL, which the Redis frontier does not keep: the
/// flag is refused up front (a usage error), not silently dropped.
#[test]
fn refresh_is_refused_on_a_distributed_crawl() {
    let dir = gannet_testkit::TempDir::new("dist-refresh");
    let out = gannet()
        .args(["crawl", "--redis", "redis://127.0.0.1:1", "--crawl-id", "r"])
        .args(["--resume", "--refresh", "--out"])
        .arg(dir.path("out.jsonl"))
        .output()
        .expect("gannet crawl");
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--refresh") && err.contains("single-machine"),
        "{err}"
    );
}
