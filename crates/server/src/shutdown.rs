//! The server's "closing" signal: turns on once when the server begins to shut down, so
//! endless streams end and job runners checkpoint.

use tokio::sync::watch;

/// A cheap handle on the closing signal (clones share it).
#[derive(Clone)]
pub(crate) struct Closing(watch::Sender<bool>);

impl Default for Closing {
    fn default() -> Self {
        Self(watch::Sender::new(false))
    }
}

impl Closing {
    /// Turns the signal on (idempotent).
    pub(crate) fn close(&self) {
        let _ = self.0.send(true);
    }

    /// Whether the signal is on.
    pub(crate) fn is_closed(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes when the signal is on (at once if it already is).
    pub(crate) fn closed(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut rx = self.0.subscribe();
        async move {
            let _ = rx.wait_for(|c| *c).await;
        }
    }
}
