//! Frontier-scale benchmark: claim + complete throughput and Redis memory per URL at one
//! frontier size. `bench/distributed/frontier-scale.sh` runs it at 10⁵, 10⁶, 10⁷ URLs.
//!
//! ```text
//! frontier_scale REDIS_URL URLS [SECONDS] [WORKERS]
//! ```
//!
//! Fills a fresh crawl with URLS queued URLs over URLS/100 hosts, measures `used_memory`
//! before and after (bytes per queued URL, seen-set included) and the seen-set's own
//! buckets (`MEMORY USAGE`, bytes per seen URL). Then WORKERS tasks loop for SECONDS:
//! claim 64 hosts × 32 URLs, enqueue one new same-host link per page (so the frontier keeps
//! its size and the seen-set grows, as in a crawl), prepare the batch, commit it and
//! release the hosts (one call per shard). Three rounds, each after its own anchor (LPUSH
//! from 4 connections, one command at a time: `redis-benchmark -t lpush -c 4`, 3 s), since
//! what Redis gets of a shared machine changes by the minute. Prints one line: size,
//! median URLs claimed per second, the anchor, their ratio, Redis main-thread CPU per URL
//! (user + sys from `INFO cpu`: what the frontier costs Redis, whatever else the machine
//! runs) and the capacity it implies for one Redis core, bytes per URL.

use gannet_frontier_redis::{
    CrawlSettings, Finished, HostKey, NewUrl, Outcome, RedisFrontier, Release, SHARDS, WorkerId,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Measuring rounds per size.
const ROUNDS: u64 = 3;

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The anchor: LPUSH from 4 connections, one command at a time each (redis-benchmark -c 4,
/// no pipelining), for `time`. Ops/s.
async fn lpush_anchor(client: &redis::Client, time: Duration) -> Result<f64, redis::RedisError> {
    let stop = Instant::now() + time;
    let mut tasks = Vec::new();
    for c in 0..4 {
        let mut conn = client.get_multiplexed_async_connection().await?;
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < stop {
                let _: () = redis::cmd("LPUSH")
                    .arg(format!("anchor:{c}"))
                    .arg("x")
                    .query_async(&mut conn)
                    .await?;
                n += 1;
            }
            let _: () = redis::cmd("DEL")
                .arg(format!("anchor:{c}"))
                .query_async(&mut conn)
                .await?;
            Ok::<u64, redis::RedisError>(n)
        }));
    }
    let start = Instant::now();
    let mut n = 0;
    for t in tasks {
        n += t
            .await
            .map_err(|e| redis::RedisError::from(std::io::Error::other(e)))??;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// URLs per host: hosts grow with the frontier, as in a crawl.
const PER_HOST: u64 = 100;

fn new_url(i: u64, hosts: u64) -> NewUrl {
    let h = i % hosts;
    NewUrl {
        url: format!("https://h{h}.example.org/page/{i}"),
        host: HostKey(format!("https://h{h}.example.org")),
        depth: 1,
        referrer: None,
    }
}

/// Redis main-thread CPU seconds (user + sys) so far.
async fn redis_cpu(conn: &mut redis::aio::MultiplexedConnection) -> Result<f64, redis::RedisError> {
    let info: String = redis::cmd("INFO").arg("cpu").query_async(conn).await?;
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok(field("used_cpu_user_main_thread:") + field("used_cpu_sys_main_thread:"))
}

async fn used_memory(
    conn: &mut redis::aio::MultiplexedConnection,
) -> Result<u64, redis::RedisError> {
    let info: String = redis::cmd("INFO").arg("memory").query_async(conn).await?;
    Ok(info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(redis_url), Some(size)) =
        (args.get(1), args.get(2).and_then(|s| s.parse::<u64>().ok()))
    else {
        return Err("usage: frontier_scale REDIS_URL URLS [SECONDS] [WORKERS]".into());
    };
    let seconds: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(15);
    let workers: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(4);
    let client = redis::Client::open(redis_url.as_str())?;
    // No response timeout: FLUSHALL of 10⁷ URLs and MEMORY USAGE pipelines take a while.
    let mut raw = client
        .get_multiplexed_async_connection_with_config(
            &redis::AsyncConnectionConfig::new().set_response_timeout(None),
        )
        .await?;
    let _: () = redis::cmd("FLUSHALL").query_async(&mut raw).await?;
    let base = used_memory(&mut raw).await?;

    let crawl = "bench";
    let settings = CrawlSettings {
        expected_urls: size,
        lease: Duration::from_secs(60),
        ..CrawlSettings::default()
    };
    let (f, _) = RedisFrontier::create(redis_url, crawl, settings).await?;

    // Fill.
    let hosts = (size / PER_HOST).max(1);
    let fill_start = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (f, next) = (f.clone(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            loop {
                let from = next.fetch_add(20_000, Ordering::Relaxed);
                if from >= size {
                    return Ok::<(), gannet_frontier_redis::FrontierError>(());
                }
                let batch: Vec<NewUrl> = (from..(from + 20_000).min(size))
                    .map(|i| new_url(i, hosts))
                    .collect();
                f.enqueue(&batch).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let fill_secs = fill_start.elapsed().as_secs_f64();
    let filled = used_memory(&mut raw).await?;
    let url_len = (0..1000)
        .map(|i| new_url(i * (size / 1000).max(1), hosts).url.len())
        .sum::<usize>() as f64
        / 1000.0;

    // The seen-set alone: its buckets' MEMORY USAGE.
    let buckets: u64 = {
        let per_shard = size.div_ceil(u64::from(SHARDS));
        per_shard
            .div_ceil(96)
            .clamp(1, 256)
            .next_power_of_two()
            .min(256)
    };
    let mut seen_bytes = 0u64;
    let mut listpack = 0u64;
    let mut keys = 0u64;
    for shard in 0..SHARDS {
        let mut pipe = redis::pipe();
        for b in 0..buckets {
            let key = format!("gf:{{{crawl}:{shard}}}:s:{b}");
            pipe.cmd("MEMORY")
                .arg("USAGE")
                .arg(&key)
                .arg("SAMPLES")
                .arg(0);
            pipe.cmd("OBJECT").arg("ENCODING").arg(&key);
        }
        let out: Vec<redis::Value> = pipe.query_async(&mut raw).await?;
        for pair in out.chunks(2) {
            if let [redis::Value::Int(n), enc] = pair {
                seen_bytes += *n as u64;
                keys += 1;
                if matches!(enc, redis::Value::BulkString(b) if b == b"listpack")
                    || matches!(enc, redis::Value::SimpleString(s) if s == "listpack")
                {
                    listpack += 1;
                }
            }
        }
    }

    // Claim + complete, in rounds alternating with the anchor (this machine is shared:
    // what Redis gets of it changes by the minute, so each round has its own anchor).
    let fresh = Arc::new(AtomicU64::new(size));
    let mut batches = vec![0u64; workers];
    let mut rates = Vec::new();
    let mut anchors = Vec::new();
    let mut ratios = Vec::new();
    let mut cpu_per_url = Vec::new();
    let mut total = 0;
    for _ in 0..ROUNDS {
        let anchor = lpush_anchor(&client, Duration::from_secs(3)).await?;
        let claimed = Arc::new(AtomicU64::new(0));
        let stop_at = Instant::now() + Duration::from_secs(seconds.div_ceil(ROUNDS).max(1));
        let mut tasks = Vec::new();
        for (w, first) in batches.iter().enumerate() {
            let (f, claimed, fresh) = (f.clone(), Arc::clone(&claimed), Arc::clone(&fresh));
            let first = *first;
            tasks.push(tokio::spawn(async move {
                let id = WorkerId::new(&format!("bench-{w}"))?;
                let mut batch = first.max(f.recover_worker(&id).await?.next_batch);
                while Instant::now() < stop_at {
                    let hosts = f.claim(&id, 64, 32).await?;
                    if hosts.is_empty() {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    }
                    let mut pages = Vec::new();
                    let mut links = Vec::new();
                    for h in &hosts {
                        for u in &h.urls {
                            pages.push(Finished {
                                lease: h.lease.clone(),
                                url: u.url.clone(),
                                outcome: Outcome::Done,
                            });
                            let n = fresh.fetch_add(1, Ordering::Relaxed);
                            links.push(NewUrl {
                                url: format!("{}/page/{n}", h.lease.host.0),
                                host: h.lease.host.clone(),
                                depth: u.depth + 1,
                                referrer: None,
                            });
                        }
                    }
                    f.enqueue(&links).await?;
                    let prepared = f.prepare(&id, batch, &pages).await?;
                    let leases: Vec<_> = hosts
                        .iter()
                        .map(|h| Release::new(h.lease.clone(), Duration::ZERO))
                        .collect();
                    f.commit_and_release(&prepared, &batch.to_string(), &leases)
                        .await?;
                    batch += 1;
                    claimed.fetch_add(pages.len() as u64, Ordering::Relaxed);
                }
                Ok::<u64, gannet_frontier_redis::FrontierError>(batch)
            }));
        }
        let start = Instant::now();
        let cpu0 = redis_cpu(&mut raw).await?;
        for (w, t) in tasks.into_iter().enumerate() {
            batches[w] = t.await??;
        }
        let n = claimed.load(Ordering::Relaxed);
        cpu_per_url.push((redis_cpu(&mut raw).await? - cpu0) * 1e6 / n.max(1) as f64);
        total += n;
        let rate = n as f64 / start.elapsed().as_secs_f64();
        rates.push(rate);
        anchors.push(anchor);
        ratios.push(rate / anchor);
    }
    println!(
        "urls={size} claim+complete={:.0} URLs/s (median of {ROUNDS} rounds: {}; {total} URLs, {workers} workers) \
         anchor={:.0} ops/s ratio={:.2} redis_cpu={:.1} us/URL (capacity {:.0} URLs/s per Redis core) fill={:.0} URLs/s B/queued={:.1} B/seen={:.1} \
         (url {url_len:.0} B, seen buckets {keys}, listpack {listpack})",
        median(&rates),
        rates
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join("/"),
        median(&anchors),
        median(&ratios),
        median(&cpu_per_url),
        1e6 / median(&cpu_per_url).max(1e-9),
        size as f64 / fill_secs,
        filled.saturating_sub(base) as f64 / size as f64,
        seen_bytes as f64 / size as f64,
    );
    Ok(())
}
