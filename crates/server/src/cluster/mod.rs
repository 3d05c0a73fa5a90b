//! `gannet serve --redis URL`: replicas that share jobs through Redis, and own none.
//!
//! - **Jobs** live in Redis ([`crate::jobs::redis`]); every replica answers for every job.
//! - **Execution** ([`run`]): each replica looks at the cluster's unfinished jobs every
//!   second. A *batch* job is executed by the holder of its lease (a key with a TTL,
//!   renewed every third of it) and every result it stores carries the lease's fencing
//!   token, so a replica that was presumed dead cannot write after another took over. A
//!   *crawl* job runs on the distributed frontier (crawl id = job id): every replica works
//!   it as one frontier worker, and so can any `gannet worker --crawl-id <job id>`; its
//!   results are pushed at each commit ([`results`]); its lease only decides who marks it
//!   completed once the whole frontier is done.
//! - **Membership** ([`Cluster::beat`]): each replica writes `gs:replica:<id>` (JSON: id,
//!   address, version, started, load) with a 10 s TTL every 2 s, and indexes it in the
//!   zset `gs:replicas` by expiry; `/health`, `/dashboard` and `/metrics` read them.
//! - **Drain**: on SIGTERM the replica stops accepting, its engines stop like an
//!   interrupted crawl (pages in flight go back to the frontier, the finished ones are
//!   committed and pushed), its batch leases are handed back, its membership key removed.

pub(crate) mod results;
pub(crate) mod run;

use std::time::Duration;

use redis::AsyncCommands;
use serde_json::{Value, json};

use crate::jobs::now_secs;
use crate::jobs::redis::{RedisStore, RedisStoreError};

pub use results::ResultsFrontier;

/// Whether a crawl's stored config (`CrawlSettings::config`) marks it as a server job, whose
/// results belong in the job's stream ([`job_results`]).
pub fn is_server_job(config: &str) -> bool {
    serde_json::from_str::<Value>(config).is_ok_and(|v| v["server_job"] == json!(true))
}

/// For `gannet worker` joining a server's crawl job: wraps its frontier so that every page
/// it commits is stored in the job's results too (see [`results`]). `out` is the worker's
/// JSONL output; `config` the crawl's stored config (its `result_cap`, in bytes).
pub async fn job_results(
    redis_url: &str,
    job: &str,
    config: &str,
    inner: std::sync::Arc<dyn gannet_frontier::Frontier>,
    out: std::path::PathBuf,
) -> Result<std::sync::Arc<dyn gannet_frontier::Frontier>, crate::StoreError> {
    let cap = serde_json::from_str::<Value>(config)
        .ok()
        .and_then(|v| v["result_cap"].as_u64())
        .unwrap_or(256 << 20);
    let store = RedisStore::connect(redis_url, crate::jobs::redis::ResultCap(cap))
        .await
        .map_err(|e| crate::StoreError::Redis {
            url: crate::state::redact(redis_url),
            message: e.to_string(),
        })?;
    Ok(std::sync::Arc::new(ResultsFrontier::new(
        inner,
        store,
        job.to_string(),
        out,
    )))
}

/// A membership key lives this long without a heartbeat.
const MEMBER_TTL: Duration = Duration::from_secs(10);
/// Heartbeat period.
pub(crate) const BEAT_EVERY: Duration = Duration::from_secs(2);
const REPLICAS: &str = "gs:replicas";

fn member_key(id: &str) -> String {
    format!("gs:replica:{id}")
}

/// This replica in the cluster.
pub(crate) struct Cluster {
    pub(crate) store: RedisStore,
    /// This replica's id (`r` + 64 random bits, hex; new at every start).
    pub(crate) replica: String,
    pub(crate) address: String,
    pub(crate) started: i64,
    /// Lease length of batch jobs, crawl coordination and the frontier's host leases.
    pub(crate) lease: Duration,
}

impl Cluster {
    pub(crate) fn new(store: RedisStore, address: String, lease: Duration) -> Self {
        let id = crate::jobs::new_id();
        Self {
            store,
            replica: format!("r{}", &id[..16]),
            address,
            started: now_secs(),
            lease,
        }
    }

    /// Writes this replica's membership key with `load`.
    pub(crate) async fn beat(&self, load: Value) -> Result<(), RedisStoreError> {
        let record = json!({
            "id": self.replica,
            "address": self.address,
            "version": env!("CARGO_PKG_VERSION"),
            "started": self.started,
            "seen": now_secs(),
            "load": load,
        });
        let expires = now_ms() + MEMBER_TTL.as_millis() as i64;
        let mut c = self.store.conn();
        let _: () = redis::pipe()
            .set_ex(
                member_key(&self.replica),
                record.to_string(),
                MEMBER_TTL.as_secs(),
            )
            .ignore()
            .zadd(REPLICAS, &self.replica, expires)
            .ignore()
            .query_async(&mut c)
            .await?;
        Ok(())
    }

    /// Leaves the cluster (drain).
    pub(crate) async fn leave(&self) -> Result<(), RedisStoreError> {
        let mut c = self.store.conn();
        let _: () = redis::pipe()
            .del(member_key(&self.replica))
            .ignore()
            .zrem(REPLICAS, &self.replica)
            .ignore()
            .query_async(&mut c)
            .await?;
        Ok(())
    }

    /// Every live replica's membership record.
    pub(crate) async fn replicas(&self) -> Result<Vec<Value>, RedisStoreError> {
        let mut c = self.store.conn();
        let _: () = c.zrembyscore(REPLICAS, "-inf", now_ms()).await?;
        let ids: Vec<String> = c.zrange(REPLICAS, 0, 255).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|i| member_key(i)).collect();
        let records: Vec<Option<String>> =
            redis::cmd("MGET").arg(&keys).query_async(&mut c).await?;
        Ok(records
            .into_iter()
            .flatten()
            .filter_map(|r| serde_json::from_str(&r).ok())
            .collect())
    }

    /// The cluster's view for `/health`, `/dashboard` and `/metrics`: replicas, jobs
    /// queued and running, frontier workers alive and URLs queued over the crawl jobs.
    /// Bounded by `limit` (Redis unreachable: an error after at most that long).
    pub(crate) async fn view(&self, limit: Duration) -> Result<ClusterView, RedisStoreError> {
        let work = async {
            let replicas = self.replicas().await?;
            let jobs = self.store.unfinished().await?;
            let mut view = ClusterView {
                replicas,
                ..ClusterView::default()
            };
            for job in jobs.iter().take(64) {
                match job.status {
                    crate::jobs::Status::Queued => view.jobs_queued += 1,
                    _ => view.jobs_running += 1,
                }
                if job.kind == "crawl"
                    && let Ok(frontier) =
                        gannet_frontier_redis::RedisFrontier::join(self.store.url(), &job.id).await
                    && let Ok(stats) = frontier.stats().await
                {
                    view.workers_alive += stats.workers_alive;
                    view.frontier_queued += stats.queued;
                }
            }
            view.jobs_running += jobs.len().saturating_sub(64) as u64;
            Ok(view)
        };
        match tokio::time::timeout(limit, work).await {
            Ok(r) => r,
            Err(_) => Err(RedisStoreError::Unavailable(redis::RedisError::from(
                std::io::Error::new(std::io::ErrorKind::TimedOut, "cluster view timed out"),
            ))),
        }
    }
}

/// What the cluster looks like from one replica.
#[derive(Debug, Default)]
pub(crate) struct ClusterView {
    pub(crate) replicas: Vec<Value>,
    pub(crate) jobs_queued: u64,
    pub(crate) jobs_running: u64,
    pub(crate) workers_alive: u64,
    pub(crate) frontier_queued: u64,
}

impl ClusterView {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "replicas": self.replicas,
            "jobs": {"queued": self.jobs_queued, "running": self.jobs_running},
            "workers_alive": self.workers_alive,
            "frontier_queued": self.frontier_queued,
        })
    }

    /// The cluster gauges in Prometheus text.
    pub(crate) fn prometheus(&self) -> String {
        format!(
            "# HELP gannet_cluster_jobs Jobs of the cluster by status.\n\
             # TYPE gannet_cluster_jobs gauge\n\
             gannet_cluster_jobs{{status=\"queued\"}} {}\n\
             gannet_cluster_jobs{{status=\"running\"}} {}\n\
             # HELP gannet_cluster_replicas_alive Replicas with a live heartbeat.\n\
             # TYPE gannet_cluster_replicas_alive gauge\n\
             gannet_cluster_replicas_alive {}\n\
             # HELP gannet_cluster_workers_alive Frontier workers alive over the crawl jobs.\n\
             # TYPE gannet_cluster_workers_alive gauge\n\
             gannet_cluster_workers_alive {}\n\
             # HELP gannet_cluster_frontier_queued URLs queued in the crawl jobs' frontiers.\n\
             # TYPE gannet_cluster_frontier_queued gauge\n\
             gannet_cluster_frontier_queued {}\n",
            self.jobs_queued,
            self.jobs_running,
            self.replicas.len(),
            self.workers_alive,
            self.frontier_queued
        )
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
