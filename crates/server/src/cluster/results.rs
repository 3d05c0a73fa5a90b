//! The results of a crawl job worked by many processes: each worker (a replica, or a
//! `gannet worker` that joined) writes its own JSONL file through the engine, and
//! [`ResultsFrontier`] copies every record into the job's stream in Redis *before* the
//! frontier's commit point.
//!
//! Why before: the engine prepares a batch (fenced: a page whose lease was lost is refused
//! and never written), writes the accepted records, flushes, then commits. Pushing at the
//! commit, before the commit point, means a committed page is always in Redis already — a
//! worker that dies after its commit loses nothing. A worker that dies between the push
//! and the commit point has its batch aborted by the frontier's recovery and the URLs are
//! fetched again; the job's stream already holds them and the push de-duplicates by URL,
//! so each page is stored exactly once.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gannet_frontier::{
    Claimed, CommitBatch, Committed, Counts, DeadLetter, Frontier, FrontierError, FrontierFuture,
    HostLease, Lease, NewUrl, ResumeState, Retried, UrlKey,
};
use url::Url;

use crate::jobs::redis::{Added, RedisStore, RedisStoreError};

/// Longest pause between two tries while Redis is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A frontier that stores the job's results in Redis at each commit (see the module).
pub struct ResultsFrontier {
    inner: Arc<dyn Frontier>,
    store: RedisStore,
    job: String,
    out: PathBuf,
    /// Bytes of `out` already pushed.
    pushed: tokio::sync::Mutex<u64>,
    capped: Arc<AtomicBool>,
}

impl ResultsFrontier {
    pub(crate) fn new(
        inner: Arc<dyn Frontier>,
        store: RedisStore,
        job: String,
        out: PathBuf,
    ) -> Self {
        Self {
            inner,
            store,
            job,
            out,
            pushed: tokio::sync::Mutex::new(0),
            capped: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Turns on when the job's results reached their byte cap.
    pub(crate) fn capped(&self) -> Arc<AtomicBool> {
        self.capped.clone()
    }

    /// Pushes the records between what was pushed and `position` (the sink's checkpoint,
    /// a byte offset of the JSONL file, flushed).
    async fn push(&self, position: &str) -> Result<(), FrontierError> {
        let Ok(end) = position.trim().parse::<u64>() else {
            return Ok(());
        };
        let mut pushed = self.pushed.lock().await;
        if end <= *pushed {
            *pushed = end;
            return Ok(());
        }
        let bytes = read_range(&self.out, *pushed, end)
            .await
            .map_err(|source| FrontierError::Io {
                what: "reading the job's records",
                path: self.out.clone(),
                source,
            })?;
        let rows: Vec<(String, String)> = bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let text = String::from_utf8_lossy(l).into_owned();
                (record_url(&text), text)
            })
            .collect();
        if !self.capped.load(Ordering::SeqCst) {
            let mut backoff = Duration::from_millis(100);
            let mut logged = false;
            loop {
                match self.store.add(&self.job, &rows, 0).await {
                    Ok(Added::Capped(_)) => {
                        tracing::warn!(job = %self.job, "the job's results reached their byte cap");
                        self.capped.store(true, Ordering::SeqCst);
                        break;
                    }
                    Ok(_) => break,
                    Err(e) if e.is_unavailable() => {
                        if !logged {
                            tracing::warn!(job = %self.job, error = %e, "paused: Redis unreachable");
                            logged = true;
                        }
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                    Err(e) => return Err(backend(e)),
                }
            }
            if logged {
                tracing::info!(job = %self.job, "resumed: Redis reachable");
            }
        }
        *pushed = end;
        Ok(())
    }
}

fn backend(e: RedisStoreError) -> FrontierError {
    FrontierError::Backend {
        backend: "Redis",
        retryable: e.is_unavailable(),
        message: e.to_string(),
    }
}

async fn read_range(path: &std::path::Path, from: u64, to: u64) -> std::io::Result<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(std::io::SeekFrom::Start(from)).await?;
    let mut buf = vec![0u8; (to - from) as usize];
    file.read_exact(&mut buf).await?;
    Ok(buf)
}

/// The `url` of a crawl record (empty if it has none).
fn record_url(text: &str) -> String {
    #[derive(serde::Deserialize)]
    struct RecordUrl {
        #[serde(default)]
        url: String,
    }
    serde_json::from_str::<RecordUrl>(text)
        .map(|r| r.url)
        .unwrap_or_default()
}

impl Frontier for ResultsFrontier {
    fn location(&self) -> String {
        self.inner.location()
    }
    fn resume_state(&self) -> FrontierFuture<'_, ResumeState> {
        Box::pin(async move {
            let state = self.inner.resume_state().await?;
            // The sink is cut back to the checkpoint: everything before it was pushed.
            let at = state
                .checkpoint
                .as_ref()
                .and_then(|c| c.as_str().trim().parse::<u64>().ok())
                .unwrap_or(0);
            *self.pushed.lock().await = at;
            Ok(state)
        })
    }
    fn set_seeds<'a>(&'a self, seeds: &'a [Url]) -> FrontierFuture<'a, ()> {
        self.inner.set_seeds(seeds)
    }
    fn enqueue<'a>(&'a self, urls: &'a [NewUrl]) -> FrontierFuture<'a, u64> {
        self.inner.enqueue(urls)
    }
    fn claim_hosts(&self, limit: usize) -> FrontierFuture<'_, Vec<HostLease>> {
        self.inner.claim_hosts(limit)
    }
    fn take<'a>(&'a self, host: &'a HostLease, limit: usize) -> FrontierFuture<'a, Vec<Claimed>> {
        self.inner.take(host, limit)
    }
    fn renew<'a>(&'a self, host: &'a HostLease) -> FrontierFuture<'a, ()> {
        self.inner.renew(host)
    }
    fn release(&self, host: HostLease, after: Duration) -> FrontierFuture<'_, ()> {
        self.inner.release(host, after)
    }
    fn block_host<'a>(&'a self, host: &'a HostLease, duration: Duration) -> FrontierFuture<'a, ()> {
        self.inner.block_host(host, duration)
    }
    fn retry_later<'a>(
        &'a self,
        url: UrlKey,
        lease: Lease,
        after: Duration,
        error: &'a str,
    ) -> FrontierFuture<'a, Retried> {
        self.inner.retry_later(url, lease, after, error)
    }
    fn next_ready(&self) -> FrontierFuture<'_, Option<Duration>> {
        self.inner.next_ready()
    }
    fn prepare<'a>(&'a self, batch: &'a CommitBatch) -> FrontierFuture<'a, Vec<bool>> {
        self.inner.prepare(batch)
    }
    fn commit<'a>(&'a self, batch: &'a CommitBatch) -> FrontierFuture<'a, Committed> {
        Box::pin(async move {
            if let Some(checkpoint) = &batch.checkpoint {
                self.push(checkpoint.as_str()).await?;
            }
            self.inner.commit(batch).await
        })
    }
    fn finished(&self) -> FrontierFuture<'_, bool> {
        self.inner.finished()
    }
    fn lease_length(&self) -> Option<Duration> {
        self.inner.lease_length()
    }
    fn counts(&self) -> FrontierFuture<'_, Counts> {
        self.inner.counts()
    }
    fn dead_letters(&self, limit: usize) -> FrontierFuture<'_, Vec<DeadLetter>> {
        self.inner.dead_letters(limit)
    }
    fn recover(&self) -> FrontierFuture<'_, u64> {
        self.inner.recover()
    }
}
