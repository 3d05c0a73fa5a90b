//! The embedded job store (the single-machine default): a job and every result it produced
//! live in SQLite (`<data dir>/jobs.sqlite`). Jobs survive a restart: unfinished ones are
//! picked up again at start. Finished jobs expire after their TTL.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::{Job, MAX_PAGE_BYTES, MAX_PAGE_ITEMS, ResultRow, Status, new_id, now_secs};
use crate::error::{ApiError, StoreError};

pub(crate) struct SqliteStore {
    conn: Mutex<Connection>,
    dir: PathBuf,
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal("store", e.to_string())
}

impl SqliteStore {
    pub(crate) fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("jobs.sqlite");
        let opened = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(opened)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;
             CREATE TABLE IF NOT EXISTS jobs(
               id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, request TEXT NOT NULL,
               created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
               total INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0,
               error TEXT, byte_offset INTEGER NOT NULL DEFAULT 0);
             CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
             CREATE INDEX IF NOT EXISTS jobs_expiry ON jobs(expires_at);
             CREATE TABLE IF NOT EXISTS results(
               job TEXT NOT NULL, seq INTEGER NOT NULL, url TEXT NOT NULL, ok INTEGER NOT NULL,
               body TEXT NOT NULL, PRIMARY KEY(job, seq)) WITHOUT ROWID;",
        )
        .map_err(opened)?;
        Ok(Self {
            conn: Mutex::new(conn),
            dir: dir.to_path_buf(),
        })
    }

    /// Where a job keeps its files (a crawl's output and state).
    pub(crate) fn job_dir(&self, id: &str) -> PathBuf {
        self.dir.join("jobs").join(id)
    }

    /// Runs `f` on the connection on a blocking thread.
    pub(crate) async fn with<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = store
                .conn
                .lock()
                .map_err(|_| internal("job store lock poisoned"))?;
            f(&conn).map_err(internal)
        })
        .await
        .map_err(internal)?
    }

    pub(crate) async fn create(
        self: &Arc<Self>,
        kind: &str,
        request: Value,
        total: i64,
        ttl: Duration,
    ) -> Result<String, ApiError> {
        let id = new_id();
        let (kind, id2) = (kind.to_string(), id.clone());
        let now = now_secs();
        let expires = now + ttl.as_secs() as i64;
        self.with(move |c| {
            c.execute(
                "INSERT INTO jobs(id, kind, status, request, created_at, expires_at, total) VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6)",
                params![id2, kind, request.to_string(), now, expires, total],
            )
        })
        .await?;
        Ok(id)
    }

    pub(crate) async fn get(self: &Arc<Self>, id: &str) -> Result<Option<Job>, ApiError> {
        let id = id.to_string();
        self.with(move |c| {
            c.query_row(
                "SELECT id, kind, status, request, created_at, expires_at, total, done, error, byte_offset FROM jobs WHERE id = ?1",
                params![id],
                row_to_job,
            )
            .optional()
        })
        .await
    }

    pub(crate) async fn set_status(
        self: &Arc<Self>,
        id: &str,
        status: Status,
        error: Option<String>,
    ) -> Result<(), ApiError> {
        let id = id.to_string();
        self.with(move |c| {
            c.execute(
                "UPDATE jobs SET status = ?2, error = ?3 WHERE id = ?1 AND status NOT IN ('cancelled')",
                params![id, status.as_str(), error],
            )
            .map(|_| ())
        })
        .await
    }

    pub(crate) async fn set_total(self: &Arc<Self>, id: &str, total: i64) -> Result<(), ApiError> {
        let id = id.to_string();
        self.with(move |c| {
            c.execute(
                "UPDATE jobs SET total = ?2 WHERE id = ?1",
                params![id, total],
            )
            .map(|_| ())
        })
        .await
    }

    /// Appends results (and, for crawls, the output offset they came from) in one
    /// transaction.
    pub(crate) async fn add_results(
        self: &Arc<Self>,
        id: &str,
        rows: Vec<(String, bool, String)>,
        new_offset: Option<i64>,
    ) -> Result<(), ApiError> {
        let id = id.to_string();
        self.with(move |c| {
            let tx = c.unchecked_transaction()?;
            let mut done: i64 =
                tx.query_row("SELECT done FROM jobs WHERE id = ?1", params![id], |r| r.get(0))?;
            for (url, ok, body) in rows {
                done += 1;
                tx.execute(
                    "INSERT OR REPLACE INTO results(job, seq, url, ok, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, done, url, ok, body],
                )?;
            }
            tx.execute("UPDATE jobs SET done = ?2 WHERE id = ?1", params![id, done])?;
            if let Some(offset) = new_offset {
                tx.execute("UPDATE jobs SET byte_offset = ?2 WHERE id = ?1", params![id, offset])?;
            }
            tx.commit()
        })
        .await
    }

    /// One page of results after `cursor` (exclusive), at most `limit` items and about
    /// [`MAX_PAGE_BYTES`]; the cursor of the next page if there may be more.
    pub(crate) async fn results_page(
        self: &Arc<Self>,
        id: &str,
        cursor: i64,
        limit: usize,
    ) -> Result<(Vec<ResultRow>, Option<i64>), ApiError> {
        let id = id.to_string();
        let limit = limit.clamp(1, MAX_PAGE_ITEMS);
        self.with(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, body FROM results WHERE job = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let mut rows = stmt.query(params![id, cursor, limit as i64 + 1])?;
            let mut out = Vec::new();
            let mut bytes = 0usize;
            let mut more = false;
            while let Some(row) = rows.next()? {
                if out.len() == limit
                    || (bytes > 0 && bytes + row.get_ref(1)?.as_str()?.len() > MAX_PAGE_BYTES)
                {
                    more = true;
                    break;
                }
                let body: String = row.get(1)?;
                bytes += body.len();
                out.push(ResultRow {
                    seq: row.get(0)?,
                    body,
                });
            }
            let next = if more {
                out.last().map(|r| r.seq)
            } else {
                None
            };
            Ok((out, next))
        })
        .await
    }

    /// URLs that already have a result (a resumed batch skips them).
    pub(crate) async fn done_urls(self: &Arc<Self>, id: &str) -> Result<Vec<String>, ApiError> {
        let id = id.to_string();
        self.with(move |c| {
            let mut stmt = c.prepare("SELECT url FROM results WHERE job = ?1")?;
            stmt.query_map(params![id], |r| r.get(0))?.collect()
        })
        .await
    }

    /// The newest jobs.
    pub(crate) async fn recent(self: &Arc<Self>, n: usize) -> Result<Vec<Job>, ApiError> {
        self.with(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, kind, status, request, created_at, expires_at, total, done, error, byte_offset FROM jobs ORDER BY created_at DESC LIMIT ?1",
            )?;
            stmt.query_map(params![n as i64], row_to_job)?.collect()
        })
        .await
    }

    /// Jobs that were queued or running when the server stopped.
    pub(crate) async fn unfinished(self: &Arc<Self>) -> Result<Vec<Job>, ApiError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT id, kind, status, request, created_at, expires_at, total, done, error, byte_offset FROM jobs WHERE status IN ('queued', 'running')",
            )?;
            stmt.query_map([], row_to_job)?.collect()
        })
        .await
    }

    /// Deletes expired jobs, their results and their files; returns how many went.
    pub(crate) async fn expire(self: &Arc<Self>) -> Result<usize, ApiError> {
        let now = now_secs();
        let ids: Vec<String> = self
            .with(move |c| {
                let mut stmt = c.prepare("SELECT id FROM jobs WHERE expires_at < ?1 AND status NOT IN ('queued', 'running')")?;
                stmt.query_map(params![now], |r| r.get(0))?.collect()
            })
            .await?;
        for id in &ids {
            let (id2, dir) = (id.clone(), self.job_dir(id));
            self.with(move |c| {
                c.execute("DELETE FROM results WHERE job = ?1", params![id2])?;
                c.execute("DELETE FROM jobs WHERE id = ?1", params![id2])
                    .map(|_| ())
            })
            .await?;
            let _ = tokio::fs::remove_dir_all(dir).await;
        }
        Ok(ids.len())
    }
}

fn row_to_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    let request: String = r.get(3)?;
    let status: String = r.get(2)?;
    Ok(Job {
        id: r.get(0)?,
        kind: r.get(1)?,
        status: Status::parse(&status),
        request: request.into(),
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
        total: r.get(6)?,
        done: r.get(7)?,
        error: r.get(8)?,
        offset: r.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::valid_id;

    #[tokio::test]
    async fn results_page_by_keyset_with_caps() {
        let dir = std::env::temp_dir().join(format!("gannet-jobs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Arc::new(SqliteStore::open(&dir).unwrap());
        let id = store
            .create(
                "batch",
                serde_json::json!({"urls": []}),
                250,
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        let rows: Vec<_> = (0..250)
            .map(|i| (format!("http://x/{i}"), true, format!("{{\"n\":{i}}}")))
            .collect();
        store.add_results(&id, rows, None).await.unwrap();
        let mut cursor = 0;
        let mut seen = 0;
        let mut pages = 0;
        loop {
            let (rows, next) = store.results_page(&id, cursor, 1000).await.unwrap();
            assert!(rows.len() <= MAX_PAGE_ITEMS);
            seen += rows.len();
            pages += 1;
            match next {
                Some(n) => cursor = n,
                None => break,
            }
        }
        assert_eq!((seen, pages), (250, 3));
        let job = store.get(&id).await.unwrap().unwrap();
        assert_eq!((job.done, job.status), (250, Status::Queued));
        assert_eq!(store.done_urls(&id).await.unwrap().len(), 250);
        assert!(valid_id(&id) && !valid_id("../x"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
