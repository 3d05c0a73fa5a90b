//! The store thread: the one owner of the frontier (SQLite) and the sink.
//!
//! Async code never touches either: it sends [`Command`]s and awaits replies. Pages are
//! written to the sink as they come and their frontier updates are buffered; a commit
//! flushes the sink, then applies the buffered updates and the sink's new position in
//! one SQLite transaction. Commits happen every [`COMMIT_INTERVAL`], every
//! [`COMMIT_PAGES`] pages, and before any read of the queues (so a read sees every link
//! found so far). A `kill -9` between commits loses only uncommitted pages, and those are
//! still "in flight" in the frontier: a resume cuts the sink back to the committed
//! position and fetches them again.

use gannet_frontier::{Claimed, CommitBatch, Counts, Frontier, NewUrl, PageUpdate};
use gannet_sink::{Prepared, SinkWriter};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// Longest time written pages wait for their commit.
pub(crate) const COMMIT_INTERVAL: Duration = Duration::from_millis(200);
/// Most pages per commit.
pub(crate) const COMMIT_PAGES: usize = 1024;
/// Commands in a row that count as a stream (see the nap in `run`).
const BURST: u32 = 3;
/// How long the store thread lets a stream of pages gather before draining it again.
const BURST_NAP: Duration = Duration::from_millis(1);

/// A failure of the store thread: SQLite or the sink's I/O.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreFailure {
    /// The frontier database failed.
    #[error("crawl state (SQLite): {0}")]
    Frontier(String),
    /// Writing the output failed (disk full, permissions...).
    #[error("writing the output: {0}")]
    Sink(String),
    /// The store thread is gone (it failed earlier).
    #[error("the crawl store stopped")]
    Gone,
}

type Reply<T> = oneshot::Sender<Result<T, StoreFailure>>;

/// What the store thread does for the engine.
pub(crate) enum Command {
    DueHosts {
        now_ms: i64,
        limit: usize,
        reply: Reply<Vec<(i64, String)>>,
    },
    Take {
        host: i64,
        limit: usize,
        reply: Reply<Vec<Claimed>>,
    },
    Release {
        host: i64,
        ready_at_ms: i64,
    },
    NextReady {
        reply: Reply<Option<i64>>,
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
        reply: Reply<(Counts, Vec<(String, u64)>)>,
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
    pub(crate) fn spawn(frontier: Frontier, sink: SinkWriter) -> std::io::Result<StoreHandle> {
        let (tx, rx) = channel();
        std::thread::Builder::new()
            .name("gannet-store".into())
            .spawn(move || run(frontier, sink, &rx))?;
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

    pub(crate) async fn due_hosts(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreFailure> {
        self.ask(|reply| Command::DueHosts {
            now_ms,
            limit,
            reply,
        })
        .await
    }

    pub(crate) async fn take(&self, host: i64, limit: usize) -> Result<Vec<Claimed>, StoreFailure> {
        self.ask(|reply| Command::Take { host, limit, reply }).await
    }

    pub(crate) fn release(&self, host: i64, ready_at_ms: i64) {
        let _ = self.tx.send(Command::Release { host, ready_at_ms });
    }

    pub(crate) async fn next_ready(&self) -> Result<Option<i64>, StoreFailure> {
        self.ask(|reply| Command::NextReady { reply }).await
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
    pub(crate) async fn stop(&self) -> Result<(Counts, Vec<(String, u64)>), StoreFailure> {
        self.ask(|reply| Command::Stop { reply }).await
    }
}

struct Store {
    frontier: Frontier,
    sink: SinkWriter,
    batch: CommitBatch,
    last_commit: Instant,
    failed: Option<StoreFailure>,
}

fn run(frontier: Frontier, sink: SinkWriter, rx: &Receiver<Command>) {
    let mut store = Store {
        frontier,
        sink,
        batch: CommitBatch::default(),
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
        if store.batch.pages.len() >= COMMIT_PAGES || store.last_commit.elapsed() >= COMMIT_INTERVAL
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
            Command::DueHosts {
                now_ms,
                limit,
                reply,
            } => {
                self.commit();
                let r = self.frontier.due_hosts(now_ms, limit).map_err(db);
                let _ = reply.send(self.check(r));
            }
            Command::Take { host, limit, reply } => {
                self.commit();
                let r = self.frontier.take(host, limit).map_err(db);
                let _ = reply.send(self.check(r));
            }
            Command::Release { host, ready_at_ms } => {
                let r = self.frontier.release_host(host, ready_at_ms).map_err(db);
                let _ = self.check(r);
            }
            Command::NextReady { reply } => {
                self.commit();
                let r = self.frontier.next_ready_at().map_err(db);
                let _ = reply.send(self.check(r));
            }
            Command::Enqueue { urls, reply } => {
                self.commit();
                let r = self.frontier.enqueue(&urls).map_err(db);
                let _ = reply.send(self.check(r));
            }
            Command::Page {
                prepared,
                update,
                links,
                hold,
            } => {
                if let Some(prepared) = prepared
                    && let Err(e) = self.sink.write(prepared)
                {
                    self.failed = Some(StoreFailure::Sink(e.to_string()));
                    return;
                }
                drop(hold);
                self.batch.pages.push(update);
                self.batch.links.extend(links);
            }
            Command::Stop { .. } => {}
        }
    }

    fn check<T>(&mut self, r: Result<T, StoreFailure>) -> Result<T, StoreFailure> {
        if let Err(e) = &r {
            self.failed.get_or_insert_with(|| e.clone());
        }
        r
    }

    /// Flushes the sink and commits the batch with the sink's position.
    fn commit(&mut self) {
        self.last_commit = Instant::now();
        if self.failed.is_some() || (self.batch.pages.is_empty() && self.batch.links.is_empty()) {
            return;
        }
        match self.sink.checkpoint() {
            Ok(position) => self.batch.sink_position = Some(position),
            Err(e) => {
                self.failed = Some(StoreFailure::Sink(e.to_string()));
                return;
            }
        }
        let batch = std::mem::take(&mut self.batch);
        if let Err(e) = self.frontier.commit(&batch) {
            self.failed = Some(db(e));
        } else if let Err(e) = self.sink.committed() {
            self.failed = Some(StoreFailure::Sink(e.to_string()));
        }
    }

    fn finish(&mut self) -> Result<(Counts, Vec<(String, u64)>), StoreFailure> {
        if let Some(failure) = &self.failed {
            return Err(failure.clone());
        }
        let position = self
            .sink
            .finish()
            .map_err(|e| StoreFailure::Sink(e.to_string()))?;
        self.frontier
            .set_meta("sink_position", &position)
            .map_err(db)?;
        // Nothing is fetched any more: URLs taken but not done (queued in memory when a
        // limit or a stop came, or waiting for a retry) go back to their queues, so that
        // the final counts show them as queued.
        self.frontier.recover().map_err(db)?;
        let counts = self.frontier.counts().map_err(db)?;
        let reasons = self.frontier.reasons().map_err(db)?;
        Ok((counts, reasons))
    }
}

fn db(e: gannet_frontier::StoreError) -> StoreFailure {
    StoreFailure::Frontier(e.to_string())
}

fn fail_command(command: Command, failure: &StoreFailure) {
    let e = failure.clone();
    match command {
        Command::DueHosts { reply, .. } => drop(reply.send(Err(e))),
        Command::Take { reply, .. } => drop(reply.send(Err(e))),
        Command::NextReady { reply, .. } => drop(reply.send(Err(e))),
        Command::Enqueue { reply, .. } => drop(reply.send(Err(e))),
        Command::Page { .. } => {}
        Command::Stop { reply } => drop(reply.send(Err(e))),
        Command::Release { .. } => {}
    }
}
