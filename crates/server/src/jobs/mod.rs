//! Jobs: work that outlives its request. A job and every result it produced live in a job
//! store; results are read back with keyset pagination (`seq > cursor`, page size and page
//! bytes capped) or streamed in pages, so the server's memory does not depend on how many
//! results a job has. Finished jobs expire after their TTL.
//!
//! Two backends behind one seam ([`JobStore`]): the embedded SQLite store
//! ([`sqlite::SqliteStore`], the single-machine default, `<data dir>/jobs.sqlite`), and
//! Redis for a cluster of replicas (`gannet serve --redis URL`).
//!
//! **Ids** are 128 random bits (`getrandom`), written as 32 lowercase hex digits, in both
//! backends. Lookups accept any id of 8 to 64 ASCII letters and digits, so ids stored by an
//! older version are still found; anything else is "not found" without touching the store.

pub(crate) mod cache;
pub(crate) mod redis;
pub(crate) mod sqlite;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::error::ApiError;

/// Most results in one page of results.
pub(crate) const MAX_PAGE_ITEMS: usize = 100;
/// Most bytes of results in one page (a page always holds at least one result).
pub(crate) const MAX_PAGE_BYTES: usize = 8 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    pub(crate) fn parse(s: &str) -> Status {
        match s {
            "queued" => Status::Queued,
            "running" => Status::Running,
            "completed" => Status::Completed,
            "cancelled" => Status::Cancelled,
            _ => Status::Failed,
        }
    }

    pub(crate) fn finished(self) -> bool {
        matches!(self, Status::Completed | Status::Failed | Status::Cancelled)
    }
}

/// A job as stored.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: String,
    /// `batch` (a list of URLs) or `crawl` (a site crawl).
    pub(crate) kind: String,
    pub(crate) status: Status,
    /// The request as stored (JSON text). Parsed only where a job's spec is needed
    /// ([`crate::runner::JobSpec::of`]): a batch's request holds all its URLs (3 MB for
    /// 100,000), and status and result pages read the job at every request.
    pub(crate) request: Arc<str>,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
    pub(crate) total: i64,
    pub(crate) done: i64,
    pub(crate) error: Option<String>,
    /// Bytes of a crawl's output already turned into results.
    pub(crate) offset: i64,
}

/// One stored result.
#[derive(Debug, Clone)]
pub(crate) struct ResultRow {
    pub(crate) seq: i64,
    pub(crate) body: String,
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Keyset pagination of job results (a query string).
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct PageQuery {
    /// The `next_cursor` of the previous page (absent: from the start).
    #[serde(default)]
    pub(crate) cursor: Option<i64>,
    /// Results a page, at most 100 (and 8 MiB).
    #[serde(default)]
    pub(crate) limit: Option<usize>,
}

/// 128 random bits, hex.
pub(crate) fn new_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    data_encoding::HEXLOWER.encode(&bytes)
}

/// Whether `id` can be a job id (ours: 32 hex digits; older ones: 8 to 64 letters and
/// digits). Anything else is not found without touching the store.
pub(crate) fn valid_id(id: &str) -> bool {
    (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The job store the runner and the handlers use: one of the backends.
pub(crate) enum JobStore {
    /// The embedded store (the single-machine default).
    Sqlite(Arc<sqlite::SqliteStore>),
    /// A cluster's store, and the local directory for crawl workers' files.
    Redis(redis::RedisStore, std::path::PathBuf),
}

impl JobStore {
    /// Where a job keeps its local files (a crawl's output and state).
    pub(crate) fn job_dir(&self, id: &str) -> std::path::PathBuf {
        match self {
            Self::Sqlite(s) => s.job_dir(id),
            Self::Redis(_, dir) => dir.join("cluster").join(id),
        }
    }

    pub(crate) async fn create(
        &self,
        kind: &str,
        request: Value,
        total: i64,
        ttl: Duration,
    ) -> Result<String, ApiError> {
        match self {
            Self::Sqlite(s) => s.create(kind, request, total, ttl).await,
            Self::Redis(r, _) => Ok(r.create(kind, request, total, ttl).await?),
        }
    }

    pub(crate) async fn get(&self, id: &str) -> Result<Option<Job>, ApiError> {
        match self {
            Self::Sqlite(s) => s.get(id).await,
            Self::Redis(r, _) => Ok(r.get(id).await?),
        }
    }

    pub(crate) async fn set_status(
        &self,
        id: &str,
        status: Status,
        error: Option<String>,
    ) -> Result<(), ApiError> {
        match self {
            Self::Sqlite(s) => s.set_status(id, status, error).await,
            Self::Redis(r, _) => r
                .set_status(id, status, error, 0)
                .await
                .map(drop)
                .map_err(Into::into),
        }
    }

    pub(crate) async fn set_total(&self, id: &str, total: i64) -> Result<(), ApiError> {
        match self {
            Self::Sqlite(s) => s.set_total(id, total).await,
            Self::Redis(r, _) => Ok(r.set_total(id, total).await?),
        }
    }

    /// Appends results (url, ok, body) and, for crawls, the output offset they came from.
    pub(crate) async fn add_results(
        &self,
        id: &str,
        rows: Vec<(String, bool, String)>,
        new_offset: Option<i64>,
    ) -> Result<(), ApiError> {
        match self {
            Self::Sqlite(s) => s.add_results(id, rows, new_offset).await,
            Self::Redis(r, _) => {
                let rows: Vec<(String, String)> =
                    rows.into_iter().map(|(u, _, b)| (u, b)).collect();
                r.add(id, &rows, 0).await.map(drop).map_err(Into::into)
            }
        }
    }

    /// One page of results after `cursor` (exclusive), at most `limit` items and about
    /// [`MAX_PAGE_BYTES`]; the cursor of the next page if there may be more.
    pub(crate) async fn results_page(
        &self,
        id: &str,
        cursor: i64,
        limit: usize,
    ) -> Result<(Vec<ResultRow>, Option<i64>), ApiError> {
        match self {
            Self::Sqlite(s) => s.results_page(id, cursor, limit).await,
            Self::Redis(r, _) => Ok(r.results_page(id, cursor, limit).await?),
        }
    }

    /// URLs that already have a result (a resumed batch skips them).
    pub(crate) async fn done_urls(&self, id: &str) -> Result<Vec<String>, ApiError> {
        match self {
            Self::Sqlite(s) => s.done_urls(id).await,
            Self::Redis(r, _) => Ok(r.done_urls(id).await?),
        }
    }

    /// The newest jobs.
    pub(crate) async fn recent(&self, n: usize) -> Result<Vec<Job>, ApiError> {
        match self {
            Self::Sqlite(s) => s.recent(n).await,
            Self::Redis(r, _) => Ok(r.recent(n).await?),
        }
    }

    /// Jobs that were queued or running when the server stopped.
    pub(crate) async fn unfinished(&self) -> Result<Vec<Job>, ApiError> {
        match self {
            Self::Sqlite(s) => s.unfinished().await,
            Self::Redis(r, _) => Ok(r.unfinished().await?),
        }
    }

    /// Deletes expired jobs and their results; returns how many went.
    pub(crate) async fn expire(&self) -> Result<usize, ApiError> {
        match self {
            Self::Sqlite(s) => s.expire().await,
            Self::Redis(r, _) => Ok(r.expire().await?),
        }
    }
}
