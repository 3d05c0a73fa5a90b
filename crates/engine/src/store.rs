//! The store thread: the one owner of the sink, and the one caller of the frontier.
//!
//! Async code never touches either: it sends [`Command`]s and awaits replies. The thread
//! drives the [`Frontier`] trait's futures with the runtime's handle (the embedded
//! frontier's are ready at once: SQLite runs here, never on the async workers). Finished
//! pages are buffered with their frontier updates; a commit is two-phase:
//! [`Frontier::prepare`] says which completions still hold their lease, exactly those
//! records are written to the sink and flushed, then [`Frontier::commit`] applies the
//! updates, links and the sink's new position (one SQLite transaction; the commit point in
//! the worker's slot on Redis). A fenced page (its lease was reclaimed: a worker paused
//! past its lease) is never written, so the union of the workers' outputs holds it once.
//! Commits happen every [`COMMIT_INTERVAL`], every [`COMMIT_PAGES`] pages or
//! [`COMMIT_BYTES`] of output, and before any read of the queues (so a read sees every
//! link found so far). A `kill -9` between commits loses only uncommitted pages, and those
//! are still "in flight" in the frontier: a resume cuts the sink back to the committed
//! position and fetches them again.

use gannet_frontier::{
    Checkpoint, Claimed, CommitBatch, Counts, Frontier, FrontierError, HostLease, NewUrl,
    PageUpdate,
};
use gannet_sink::{Prepared, SinkWriter};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// Longest time written pages wait for their commit.
pub(crate) const COMMIT_INTERVAL: Duration = Duration::from_millis(200);
/// Most pages per commit.
pub(crate) const COMMIT_PAGES: usize = 1024;
/// Most output bytes buffered before a commit (pages wait in memory for their prepare).
pub(crate) const COMMIT_BYTES: usize = 8 << 20;
/// Commands in a row that count as a stream (see the nap in `run`).
const BURST: u32 = 3;
/// How long the store thread lets a stream of pages gather before draining it again.
const BURST_NAP: Duration = Duration::from_millis(1);

/// A failure of the store thread: SQLite or the sink's I/O.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreFailure {
    /// The frontier failed (its message names the store: "crawl state (SQLite): ...").
    #[error("{0}")]
    Frontier(String),
    /// Writing the output failed (disk full, permissions...).
    #[error("writing the output: {0}")]
    Sink(String),
    /// A host's lease was reclaimed (another holder has it now).
    #[error("{0}")]
    LeaseLost(String),
    /// A shared frontier gave this worker's uncommitted work to others (it was presumed
    /// dead): reopen the crawl, which cuts the output back to its committed checkpoint.
    #[error("{0}")]
    Superseded(String),
    /// The store thread is gone (it failed earlier).
    #[error("the crawl store stopped")]
    Gone,
}

type Reply<T> = oneshot::Sender<Result<T, StoreFailure>>;

/// What the store thread does for the engine.
pub(crate) enum Command {
    DueHosts {
        limit: usize,
        reply: Reply<Vec<HostLease>>,
    },
    Take {
        host: HostLease,
        limit: usize,
        reply: Reply<Vec<Claimed>>,
    },
    Release {
        host: HostLease,
        after: Duration,
    },
    /// Extends leases (shared backends; see [`Frontier::lease_length`]).
    Renew {
        hosts: Vec<HostLease>,
    },
    /// A robots.txt this holder fetched, for the crawl's other workers.
    ShareRobots {
        host: HostLease,
        body: String,
    },
    /// A 429/503/Retry-After: the host waits for every holder.
    Block {
        host: HostLease,
        duration: Duration,
    },
    NextReady {
        reply: Reply<Option<Duration>>,
    },
    Finished {
        reply: Reply<bool>,
    },
    Enqueue {
        urls: Vec<NewUrl>,
        reply: Reply<u64>,
    },
    /// A finished URL: its output (if any), its outcome and the links found on it.
    Page {
        prepared: Option<Prepared>,
        update: PageUpdate,
        links: Vec<NewUrl>,
        /// Permits released once the page is written: a slot of the channel and the
        /// page's memory reservation.
        hold: Hold,
    },
    Stop {
        reply: Reply<Counts>,
    },
}

/// What a page in the channel holds until the store thread has written it.
pub(crate) struct Hold {
    _slot: OwnedSemaphorePermit,
    _memory: Vec<OwnedSemaphorePermit>,
}

/// Pages that may wait in the channel: enough to keep the store thread busy, few enough
/// that their output stays small.
const PAGE_SLOTS: usize = 256;

/// The async side's handle.
#[derive(Clone)]
pub(crate) struct StoreHandle {
    tx: Sender<Command>,
    slots: Arc<Semaphore>,
}

impl StoreHandle {
    /// Starts the store thread.
    /// Must be called inside a tokio runtime: the thread drives the frontier's futures on
    /// it.
    pub(crate) fn spawn(
        frontier: Arc<dyn Frontier>,
        sink: SinkWriter,
    ) -> std::io::Result<StoreHandle> {
        let (tx, rx) = channel();
        let runtime = tokio::runtime::Handle::current();
        std::thread::Builder::new()
            .name("gannet-store".into())
            .spawn(move || run(frontier, sink, runtime, &rx))?;
        Ok(StoreHandle {
            tx,
            slots: Arc::new(Semaphore::new(PAGE_SLOTS)),
        })
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, StoreFailure> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).map_err(|_| StoreFailure::Gone)?;
        rx.await.map_err(|_| StoreFailure::Gone)?
    }

    pub(crate) async fn due_hosts(&self, limit: usize) -> Result<Vec<HostLease>, StoreFailure> {
        self.ask(|reply| Command::DueHosts { limit, reply }).await
    }

    pub(crate) async fn take(
        &self,
        host: HostLease,
        limit: usize,
    ) -> Result<Vec<Claimed>, StoreFailure> {
        self.ask(|reply| Command::Take { host, limit, reply }).await
    }

    pub(crate) fn release(&self, host: HostLease, after: Duration) {
        let _ = self.tx.send(Command::Release { host, after });
    }

    pub(crate) fn renew(&self, hosts: Vec<HostLease>) {
        let _ = self.tx.send(Command::Renew { hosts });
    }

    pub(crate) fn share_robots(&self, host: HostLease, body: String) {
        let _ = self.tx.send(Command::ShareRobots { host, body });
    }

    pub(crate) fn block(&self, host: HostLease, duration: Duration) {
        let _ = self.tx.send(Command::Block { host, duration });
    }

    pub(crate) async fn next_ready(&self) -> Result<Option<Duration>, StoreFailure> {
        self.ask(|reply| Command::NextReady { reply }).await
    }

    pub(crate) async fn finished(&self) -> Result<bool, StoreFailure> {
        self.ask(|reply| Command::Finished { reply }).await
    }

    pub(crate) async fn enqueue(&self, urls: Vec<NewUrl>) -> Result<u64, StoreFailure> {
        self.ask(|reply| Command::Enqueue { urls, reply }).await
    }

    /// Hands over a finished URL without waiting for the write (no thread round trip per
    /// page): it waits only for one of [`PAGE_SLOTS`] slots, and the page keeps its
    /// `memory` permits until written. A failure of the store shows at the next request
    /// that waits for an answer.
    pub(crate) async fn page(
        &self,
        prepared: Option<Prepared>,
        update: PageUpdate,
        links: Vec<NewUrl>,
        memory: Vec<OwnedSemaphorePermit>,
    ) -> Result<(), StoreFailure> {
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| StoreFailure::Gone)?;
        let hold = Hold {
            _slot: slot,
            _memory: memory,
        };
        self.tx
            .send(Command::Page {
                prepared,
                update,
                links,
                hold,
            })
            .map_err(|_| StoreFailure::Gone)
    }

    /// Commits everything, syncs the sink, and ends the thread; returns the final counts.
    pub(crate) async fn stop(&self) -> Result<Counts, StoreFailure> {
        self.ask(|reply| Command::Stop { reply }).await
    }
}

struct Store {
    frontier: Arc<dyn Frontier>,
    runtime: tokio::runtime::Handle,
    sink: SinkWriter,
    batch: CommitBatch,
    /// The records of `batch.pages`, in the same order, waiting for their prepare.
    records: Vec<Option<Prepared>>,
    /// Their approximate size.
    record_bytes: usize,
    last_commit: Instant,
    failed: Option<StoreFailure>,
}

fn run(
    frontier: Arc<dyn Frontier>,
    sink: SinkWriter,
    runtime: tokio::runtime::Handle,
    rx: &Receiver<Command>,
) {
    let mut store = Store {
        frontier,
        runtime,
        sink,
        batch: CommitBatch::default(),
        records: Vec::new(),
        record_bytes: 0,
        last_commit: Instant::now(),
        failed: None,
    };
    // Commands handled since the thread last found the channel empty.
    let mut burst = 0u32;
    loop {
        let command = match rx.try_recv() {
            Ok(command) => command,
            Err(TryRecvError::Disconnected) => {
                store.commit();
                return;
            }
            Err(TryRecvError::Empty) if burst >= BURST => {
                // Pages are streaming in: let a few more arrive before looking again, so
                // that senders find this thread awake instead of waking it (a futex call
                // and a context switch) for every page.
                burst = 0;
                std::thread::park_timeout(BURST_NAP);
                continue;
            }
            Err(TryRecvError::Empty) => {
                burst = 0;
                let dirty = !store.batch.pages.is_empty() || !store.batch.links.is_empty();
                let wait = if dirty {
                    COMMIT_INTERVAL.saturating_sub(store.last_commit.elapsed())
                } else {
                    Duration::from_secs(3600)
                };
                match rx.recv_timeout(wait) {
                    Ok(command) => command,
                    Err(RecvTimeoutError::Timeout) => {
                        store.commit();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        store.commit();
                        return;
                    }
                }
            }
        };
        burst += 1;
        if let Command::Stop { reply } = command {
            store.commit();
            let result = store.finish();
            let _ = reply.send(result);
            return;
        }
        store.handle(command);
        if store.batch.pages.len() >= COMMIT_PAGES
            || store.record_bytes >= COMMIT_BYTES
            || store.last_commit.elapsed() >= COMMIT_INTERVAL
        {
            store.commit();
        }
    }
}

impl Store {
    fn handle(&mut self, command: Command) {
        if let Some(failure) = &self.failed {
            fail_command(command, failure);
            return;
        }
        match command {
            Command::DueHosts { limit, reply } => {
                self.commit();
                let r = self.wait(self.frontier.claim_hosts(limit));
                let _ = reply.send(self.check(r));
            }
            Command::Take { host, limit, reply } => {
                self.commit();
                let r = self.wait(self.frontier.take(&host, limit));
                let _ = reply.send(self.check(r));
            }
            Command::Release { host, after } => {
                let origin = host.origin.clone();
                match self.wait(self.frontier.release(host, after)) {
                    // Someone else holds the host now: nothing of ours to release.
                    Err(StoreFailure::LeaseLost(e)) => {
                        tracing::warn!(origin = %origin, error = %e, "lease lost at release");
                    }
                    r => drop(self.check(r)),
                }
            }
            Command::Renew { hosts } => {
                for host in hosts {
                    match self.wait(self.frontier.renew(&host)) {
                        Ok(()) => {}
                        // The scheduler learns it at the host's next take or release.
                        Err(StoreFailure::LeaseLost(e)) => {
                            tracing::warn!(origin = %host.origin, token = host.lease.token, error = %e, "lease lost at renewal");
                        }
                        r => drop(self.check(r)),
                    }
                }
            }
            Command::ShareRobots { host, body } => {
                match self.wait(self.frontier.share_robots(&host, &body)) {
                    Err(StoreFailure::LeaseLost(e)) => {
                        tracing::warn!(origin = %host.origin, error = %e, "lease lost before robots.txt was shared");
                    }
                    r => drop(self.check(r)),
                }
            }
            Command::Block { host, duration } => {
                match self.wait(self.frontier.block_host(&host, duration)) {
                    Err(StoreFailure::LeaseLost(e)) => {
                        tracing::warn!(origin = %host.origin, error = %e, "lease lost at block");
                    }
                    r => drop(self.check(r)),
                }
            }
            Command::NextReady { reply } => {
                self.commit();
                let r = self.wait(self.frontier.next_ready());
                let _ = reply.send(self.check(r));
            }
            Command::Finished { reply } => {
                self.commit();
                let r = self.wait(self.frontier.finished());
                let _ = reply.send(self.check(r));
            }
            Command::Enqueue { urls, reply } => {
                self.commit();
                let r = self.wait(self.frontier.enqueue(&urls));
                let _ = reply.send(self.check(r));
            }
            Command::Page {
                prepared,
                update,
                links,
                hold,
            } => {
                // The record waits for its prepare; the page's permits go now (its output
                // is small next to what the reservation covered).
                drop(hold);
                self.record_bytes += prepared.as_ref().map_or(0, record_size);
                self.records.push(prepared);
                self.batch.pages.push(update);
                self.batch.links.extend(links);
            }
            Command::Stop { .. } => {}
        }
    }

    /// Runs a frontier call to its end on this thread.
    fn wait<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, FrontierError>>,
    ) -> Result<T, StoreFailure> {
        self.runtime.block_on(call).map_err(failure)
    }

    /// Records a failure as the store's, except a lost lease (the caller drops the host).
    fn check<T>(&mut self, r: Result<T, StoreFailure>) -> Result<T, StoreFailure> {
        if let Err(e) = &r
            && !matches!(e, StoreFailure::LeaseLost(_))
        {
            self.failed.get_or_insert_with(|| e.clone());
        }
        r
    }

    /// Prepares the batch, writes the accepted pages' records, flushes the sink and
    /// commits the batch with the sink's position.
    fn commit(&mut self) {
        self.last_commit = Instant::now();
        if self.failed.is_some() || (self.batch.pages.is_empty() && self.batch.links.is_empty()) {
            return;
        }
        let records = std::mem::take(&mut self.records);
        self.record_bytes = 0;
        let accepted = if self.batch.pages.is_empty() {
            Vec::new()
        } else {
            match self.wait(self.frontier.prepare(&self.batch)) {
                Ok(accepted) if accepted.len() == self.batch.pages.len() => accepted,
                Ok(accepted) => {
                    self.failed = Some(StoreFailure::Frontier(format!(
                        "prepare answered {} flags for {} pages",
                        accepted.len(),
                        self.batch.pages.len()
                    )));
                    return;
                }
                Err(e) => {
                    self.failed = Some(e);
                    return;
                }
            }
        };
        let mut fenced = 0usize;
        for (record, ok) in records.into_iter().zip(&accepted) {
            if !ok {
                fenced += 1;
                continue;
            }
            if let Some(record) = record
                && let Err(e) = self.sink.write(record)
            {
                self.failed = Some(StoreFailure::Sink(e.to_string()));
                return;
            }
        }
        if fenced > 0 {
            // Their URLs were reclaimed (a lease expired or was recovered): another holder
            // fetches them, so their records are not written here.
            tracing::warn!(
                fenced,
                "lease lost: completions refused, records not written"
            );
        }
        match self.sink.checkpoint() {
            Ok(position) => self.batch.checkpoint = Some(Checkpoint::new(position)),
            Err(e) => {
                self.failed = Some(StoreFailure::Sink(e.to_string()));
                return;
            }
        }
        let committed = self.wait(self.frontier.commit(&self.batch));
        self.batch.pages.clear();
        self.batch.links.clear();
        self.batch.checkpoint = None;
        match committed {
            Err(e) => self.failed = Some(e),
            Ok(done) => {
                if done.refused.len() > fenced {
                    // Refused between prepare and commit: only a backend whose prepare is
                    // not binding can do this, and its records are already written.
                    tracing::warn!(
                        refused = done.refused.len(),
                        fenced,
                        "lease lost: completions refused at commit"
                    );
                }
                if let Err(e) = self.sink.committed() {
                    self.failed = Some(StoreFailure::Sink(e.to_string()));
                }
            }
        }
    }

    fn finish(&mut self) -> Result<Counts, StoreFailure> {
        if let Some(failure) = &self.failed {
            return Err(failure.clone());
        }
        let position = self
            .sink
            .finish()
            .map_err(|e| StoreFailure::Sink(e.to_string()))?;
        let last = CommitBatch {
            checkpoint: Some(Checkpoint::new(position)),
            ..CommitBatch::default()
        };
        self.wait(self.frontier.commit(&last))?;
        // Nothing is fetched any more: URLs taken but not done (queued in memory when a
        // limit or a stop came, or waiting for a retry) go back to their queues, so that
        // the final counts show them as queued.
        let recovered = self.wait(self.frontier.recover())?;
        tracing::debug!(recovered, "frontier: leases ended at stop");
        self.wait(self.frontier.counts())
    }
}

/// A frontier error as the store's failure; a lost lease stays recognizable.
pub(crate) fn failure(e: FrontierError) -> StoreFailure {
    match e {
        FrontierError::LeaseLost { .. } => StoreFailure::LeaseLost(e.to_string()),
        FrontierError::Superseded { .. } => StoreFailure::Superseded(e.to_string()),
        other => StoreFailure::Frontier(other.to_string()),
    }
}

fn fail_command(command: Command, failure: &StoreFailure) {
    let e = failure.clone();
    match command {
        Command::DueHosts { reply, .. } => drop(reply.send(Err(e))),
        Command::Take { reply, .. } => drop(reply.send(Err(e))),
        Command::NextReady { reply, .. } => drop(reply.send(Err(e))),
        Command::Finished { reply } => drop(reply.send(Err(e))),
        Command::Enqueue { reply, .. } => drop(reply.send(Err(e))),
        Command::Page { .. }
        | Command::Renew { .. }
        | Command::Block { .. }
        | Command::ShareRobots { .. } => {}
        Command::Stop { reply } => drop(reply.send(Err(e))),
        Command::Release { .. } => {}
    }
}

/// About how many bytes a record holds while it waits for its prepare.
fn record_size(record: &Prepared) -> usize {
    match record {
        Prepared::Line(line) => line.len(),
        Prepared::File(path, body) => path.as_os_str().len() + body.len(),
        // A WARC record holds the response body and the extracted page.
        Prepared::Record(page) => (64 << 10) + std::mem::size_of_val(page.as_ref()),
    }
}
