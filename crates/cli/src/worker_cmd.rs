//! Distributed crawls on Redis: `gannet worker`, `gannet crawl --redis` and
//! `gannet crawl --redis --status`. A small layer over
//! `Crawl::builder(config).frontier(redis).sink(..)`: the crawl's flags are stored in Redis
//! with the crawl, each worker writes its own output and, restarted on the same `--out`,
//! cuts it back to the checkpoint it committed in Redis.

use crate::UsageError;
use crate::crawl_cmd::{self, CrawlArgs, CrawlExit, LogFormat};
use crate::extraction_spec::ExtractionSpec;
use anyhow::Context;
use gannet_crawl::{Crawl, CrawlError, SinkConfig, StoreFailure};
use gannet_frontier_redis::{
    CrawlSettings, EngineFrontier, FrontierError, RedisFrontier, WorkerId,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `gannet worker`.
#[derive(Debug, clap::Args)]
pub(crate) struct WorkerArgs {
    /// The Redis holding the crawl (`redis://host:port`, `redis+cluster://host:port,...`).
    #[arg(long, value_name = "URL")]
    redis: String,
    /// The crawl to join (created by `gannet crawl SEED --redis URL --crawl-id ID`).
    #[arg(long, value_name = "ID")]
    crawl_id: String,
    /// This worker's output (format from its name, as for `gannet crawl`).
    #[arg(long, short = 'o', value_name = "PATH")]
    out: PathBuf,
    /// Requests in flight in all, for this worker.
    #[arg(long, default_value_t = 64, value_name = "N")]
    concurrency: usize,
    /// This worker's id (stable across restarts on the same --out) [default: from the
    /// machine's name and the --out path].
    #[arg(long, value_name = "ID")]
    worker_id: Option<String>,
    /// Progress and summary format on stderr.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// No progress output (the summary is still printed).
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// The crawl's flags as stored in Redis.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    version: u32,
    flags: Vec<String>,
    /// What every worker extracts (`--schema`, `--extract`), as text; its flags then carry
    /// `--stored-extraction`, which an older gannet refuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    extraction: Option<ExtractionSpec>,
}

/// For re-parsing stored flags into [`CrawlArgs`].
#[derive(clap::Parser)]
#[command(name = "gannet-crawl")]
struct StoredArgs {
    #[command(flatten)]
    args: CrawlArgs,
}

/// `gannet worker`: joins the crawl with its stored flags and works until it is done.
pub(crate) fn run(args: WorkerArgs) -> anyhow::Result<CrawlExit> {
    let runtime = runtime()?;
    crate::logging::init(args.log_format == LogFormat::Json);
    runtime.block_on(async move {
        let redis = join(&args.redis, &args.crawl_id).await?;
        let mut crawl_args = stored_args(
            &redis,
            &args.redis,
            &args.crawl_id,
            args.worker_id.as_deref(),
        )?;
        crawl_args.set_out(args.out.clone());
        crawl_args.set_concurrency(args.concurrency);
        crawl_args.set_log(args.log_format, args.quiet);
        work(
            redis,
            &crawl_args,
            &args.redis,
            &args.crawl_id,
            args.log_format,
            args.quiet,
        )
        .await
    })
}

/// The crawl's flags as stored in Redis, parsed again (with this worker's id).
fn stored_args(
    redis: &RedisFrontier,
    url: &str,
    id: &str,
    worker_id: Option<&str>,
) -> anyhow::Result<CrawlArgs> {
    let stored: Stored = serde_json::from_str(&redis.settings().config)
        .with_context(|| format!("crawl {id}: its stored config is not gannet's"))?;
    let mut argv: Vec<String> = vec![
        "gannet-crawl".into(),
        "--out".into(),
        "-".into(),
        "--redis".into(),
        url.into(),
        "--crawl-id".into(),
        id.into(),
    ];
    if let Some(w) = worker_id {
        argv.extend(["--worker-id".into(), w.into()]);
    }
    argv.extend(stored.flags);
    let mut args = <StoredArgs as clap::Parser>::try_parse_from(&argv)
        .map_err(|e| UsageError(format!("the crawl's stored flags: {e}")))?
        .args;
    let extraction = stored.extraction.unwrap_or_default();
    if args.stored_extraction == extraction.is_empty() || !extraction.within_stored_bounds() {
        return Err(UsageError(format!(
            "crawl {id}: its stored extraction is not gannet's (it disagrees with the stored \
             flags or is over the size limits)"
        ))
        .into());
    }
    // The crawl's extraction, never this machine's files: every worker extracts the same.
    args.extraction = Some(Box::new(extraction));
    Ok(args)
}

/// `gannet crawl SEED... --redis URL --crawl-id ID`: creates the crawl with these flags (or
/// joins it), then works on it like a worker.
pub(crate) fn crawl(args: CrawlArgs) -> anyhow::Result<CrawlExit> {
    let (Some(url), Some(id)) = (args.redis.clone(), args.crawl_id.clone()) else {
        return Err(UsageError("--redis needs --crawl-id".into()).into());
    };
    if !(args.lease.is_finite() && args.lease >= 0.05) {
        return Err(UsageError("--lease must be at least 0.05 seconds".into()).into());
    }
    let runtime = runtime()?;
    let (log, quiet) = args.log();
    crate::logging::init(log == LogFormat::Json);
    let mut args = args;
    if args.extraction_flags() {
        // Read once, bounded: the crawl extracts from the text it stores for its workers.
        args.read_extraction_for_storing()?;
    }
    // Every flag checked (the schema compiles, an LLM is configured for --extract) before
    // the crawl exists in Redis: a refused creator leaves no crawl behind.
    crawl_cmd::config(&args)?;
    runtime.block_on(async move {
        let stored = Stored {
            version: 1,
            flags: args.stored_flags(),
            extraction: args
                .extraction
                .as_deref()
                .filter(|e| !e.is_empty())
                .cloned(),
        };
        let settings = CrawlSettings {
            config: serde_json::to_string(&stored)?,
            page_limit: args.max_pages(),
            max_per_host: Some(args.max_pages_per_host()),
            max_attempts: args.max_attempts().max(1),
            lease: Duration::from_secs_f64(args.lease),
            ..CrawlSettings::default()
        };
        // No seeds: join the crawl as a worker does (it must exist).
        let (redis, created) = if args.seeds().is_empty() {
            (join(&url, &id).await?, false)
        } else {
            paused_retry(|| RedisFrontier::create(&url, &id, settings.clone()))
                .await
                .map_err(usage_or)?
        };
        let mut args = args;
        if !created {
            // Joined: the crawl's stored flags apply; this command's seeds are added.
            tracing::info!(crawl = %id, seeds = args.seeds().len(), "joined an existing crawl with its stored settings");
            let mut joined = stored_args(&redis, &url, &id, args.worker_id.as_deref())?;
            if args.extraction_flags() && args.extraction != joined.extraction {
                tracing::warn!(crawl = %id, "this command's --schema/--extract differ from the crawl's; the crawl's apply");
            }
            joined.out = args.out.take();
            joined.set_concurrency(args.concurrency());
            joined.set_seeds(args.seeds().to_vec());
            joined.set_log(log, quiet);
            args = joined;
        }
        work(redis, &args, &url, &id, log, quiet).await
    })
}

/// `gannet crawl --redis URL --crawl-id ID --status [--json]`.
pub(crate) fn status(args: &CrawlArgs) -> anyhow::Result<()> {
    let (Some(url), Some(id)) = (args.redis.clone(), args.crawl_id.clone()) else {
        return Err(UsageError("--status needs --redis and --crawl-id".into()).into());
    };
    let runtime = runtime()?;
    let json = args.json;
    runtime.block_on(async move {
        let redis = RedisFrontier::join(&url, &id).await.map_err(usage_or)?;
        let stats = redis.stats().await?;
        let workers = redis.workers().await?;
        let mut rate = 0.0;
        let mut per_worker = Vec::new();
        for (worker, progress) in &workers {
            let p: serde_json::Value =
                serde_json::from_str(progress).unwrap_or(serde_json::Value::Null);
            rate += p["pages_per_s"].as_f64().unwrap_or(0.0);
            per_worker.push(serde_json::json!({ "id": worker.as_str(), "progress": p }));
        }
        if json {
            let line = serde_json::json!({
                "crawl": id,
                "queued": stats.queued,
                "in_flight": stats.in_flight + stats.prepared,
                "done": stats.done,
                "failed": stats.failed,
                "skipped": stats.skipped,
                "dead_lettered": stats.dead,
                "admitted": stats.admitted,
                "leased_hosts": stats.leased_hosts,
                "workers_alive": stats.workers_alive,
                "pages_per_s": (rate * 10.0).round() / 10.0,
                "finished": stats.is_finished(),
                "workers": per_worker,
            });
            println!("{line}");
        } else {
            println!(
                "crawl {id}: queued {} | in flight {} | done {} | failed {} | skipped {} | \
                 dead-lettered {} | workers alive {} | {rate:.1} pages/s{}",
                stats.queued,
                stats.in_flight + stats.prepared,
                stats.done,
                stats.failed,
                stats.skipped,
                stats.dead,
                stats.workers_alive,
                if stats.is_finished() {
                    " | finished"
                } else {
                    ""
                }
            );
            for w in &per_worker {
                println!(
                    "  worker {}: {}",
                    w["id"].as_str().unwrap_or(""),
                    w["progress"]
                );
            }
        }
        Ok(())
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

async fn join(url: &str, id: &str) -> anyhow::Result<RedisFrontier> {
    paused_retry(|| RedisFrontier::join(url, id))
        .await
        .map_err(usage_or)
}

/// Bad ids, URLs, a missing crawl or an evicting Redis are usage errors (exit 64).
fn usage_or(e: FrontierError) -> anyhow::Error {
    match e {
        FrontierError::Invalid { .. }
        | FrontierError::NoSuchCrawl(_)
        | FrontierError::EvictionPolicy { .. } => UsageError(e.to_string()).into(),
        e => e.into(),
    }
}

/// Connects, waiting while Redis is unreachable (one log line).
async fn paused_retry<T, F, Fut>(mut f: F) -> Result<T, FrontierError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, FrontierError>>,
{
    let mut backoff = Duration::from_millis(100);
    let mut logged = false;
    loop {
        match f().await {
            Err(e) if e.is_retryable() => {
                if !logged {
                    tracing::warn!(operation = "connect", error = %e, "paused: Redis unreachable");
                    logged = true;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            r => return r,
        }
    }
}

/// Rejoins after being presumed dead at most this many times in one run.
const MAX_REJOINS: u32 = 10;

/// Works on the crawl until nothing is left anywhere. A worker presumed dead while it was
/// paused or cut off (its uncommitted work went to others) rejoins by itself: the reopened
/// crawl cuts its output back to its last commit, as a restart on the same `--out` does.
async fn work(
    redis: RedisFrontier,
    args: &CrawlArgs,
    url: &str,
    id: &str,
    log: LogFormat,
    quiet: bool,
) -> anyhow::Result<CrawlExit> {
    let mut redis = Some(redis);
    let mut rejoins = 0;
    loop {
        let frontier = match redis.take() {
            Some(r) => r,
            None => join(url, id).await?,
        };
        match work_once(frontier, args, url, id, log, quiet).await {
            Err(e) if superseded(&e) && rejoins < MAX_REJOINS => {
                rejoins += 1;
                tracing::warn!(error = %e, rejoins, "presumed dead: rejoining the crawl, output cut back to the last commit");
            }
            r => return r,
        }
    }
}

fn superseded(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<CrawlError>(),
        Some(CrawlError::Store(StoreFailure::Superseded(_)))
    )
}

/// One run on the crawl: recovers this worker's earlier run (its output is cut back to its
/// committed checkpoint), then crawls until nothing is left anywhere.
async fn work_once(
    redis: RedisFrontier,
    args: &CrawlArgs,
    url: &str,
    id: &str,
    log: LogFormat,
    quiet: bool,
) -> anyhow::Result<CrawlExit> {
    let mut config = crawl_cmd::config(args)?;
    // Resume: the seeds stored with the crawl, the output cut back to this worker's
    // checkpoint. The page limit is the frontier's (exact across workers), not a
    // per-worker count. The seeds' sitemaps are read once, by the process that creates
    // the crawl (the engine reads them only when no seeds were stored yet).
    config.resume = true;
    config.refresh = false;
    config.max_pages = None;
    let out = config.out.clone();
    let worker = worker_id(args.worker_id.as_deref(), &out)?;
    let location = format!("{} crawl {id}", redact(url));
    let stored_config = redis.settings().config.clone();
    let frontier: Arc<dyn gannet_frontier::Frontier> = Arc::new(
        EngineFrontier::open(redis, worker.clone(), location)
            .await
            .map_err(usage_or)?,
    );
    // A crawl job of `gannet serve --redis`: the pages this worker commits go to the job's
    // results too, so the job's clients see them.
    let frontier = if gannet_server::cluster::is_server_job(&stored_config) {
        gannet_server::cluster::job_results(url, id, &stored_config, frontier, out.clone()).await?
    } else {
        frontier
    };
    tracing::info!(worker = worker.as_str(), out = %out.display(), "worker started");
    let sink = SinkConfig {
        format: config.format,
        out,
    };
    let crawl = match Crawl::builder(config)
        .frontier(frontier)
        .sink(sink)
        .open()
        .await
    {
        Ok(crawl) => crawl,
        Err(CrawlError::Config(message)) => return Err(UsageError(message).into()),
        Err(e) => return Err(e.into()),
    };
    let stop = crawl_cmd::stop_on_signal();
    crawl_cmd::run_opened(crawl, stop, log, quiet).await
}

/// The given id, or `<machine>-<hash of the absolute --out path>`: a worker restarted on
/// the same output is the same worker.
fn worker_id(given: Option<&str>, out: &Path) -> anyhow::Result<WorkerId> {
    if let Some(id) = given {
        return WorkerId::new(id).map_err(|e| UsageError(e.to_string()).into());
    }
    let absolute = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
    let machine = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let machine: String = machine
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(40)
        .collect();
    // FNV-1a: stable across builds and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in absolute.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let machine = if machine.is_empty() {
        "worker".into()
    } else {
        machine
    };
    Ok(WorkerId::new(&format!("{machine}-{hash:016x}"))?)
}

/// A Redis URL without its password, for messages.
fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((head, tail)) => match head.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://…@{tail}"),
            None => tail.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_ids_are_stable_per_output_and_valid() {
        let a = worker_id(None, Path::new("/tmp/a.jsonl")).expect("an id");
        let b = worker_id(None, Path::new("/tmp/a.jsonl")).expect("an id");
        let c = worker_id(None, Path::new("/tmp/b.jsonl")).expect("an id");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(worker_id(Some("bad id!"), Path::new("x")).is_err());
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(redact("redis://:secret@h:6379"), "redis://…@h:6379");
        assert_eq!(redact("redis://h:6379"), "redis://h:6379");
    }
}
