//! A fixed pool of threads for extraction (CPU work).
//!
//! Not tokio's blocking pool: that one starts a new thread whenever all are busy and keeps
//! idle ones for a while, so over a crawl the work wanders across many threads, and the
//! allocator keeps a high-water arena for each (glibc: up to 8 per core). Measured on
//! the rustdoc crawl, that is the difference between ~160 MB and ~430 MB peak RSS. A
//! fixed pool also bounds the CPU work to the cores without a semaphore.

use crossbeam_channel::{Receiver, Sender, unbounded};
use tokio::sync::oneshot;

type Task = Box<dyn FnOnce() + Send>;

/// A fixed set of worker threads running closures.
#[derive(Clone)]
pub(crate) struct CpuPool {
    tx: Sender<Task>,
}

impl CpuPool {
    /// Starts `threads` threads (at least one).
    pub(crate) fn new(threads: usize) -> std::io::Result<CpuPool> {
        // A multi-consumer channel: idle threads wait on it directly (a mutex around a
        // single-consumer receiver would make every hand-off a contended lock).
        let (tx, rx) = unbounded::<Task>();
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("gannet-extract-{i}"))
                .spawn(move || work(&rx))?;
        }
        Ok(CpuPool { tx })
    }

    /// Runs `f` on the pool; `None` if it panicked or the pool is gone.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, rx) = oneshot::channel();
        let task: Task = Box::new(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = reply.send(result.ok());
        });
        self.tx.send(task).ok()?;
        rx.await.ok().flatten()
    }
}

fn work(rx: &Receiver<Task>) {
    while let Ok(task) = rx.recv() {
        task();
    }
}
