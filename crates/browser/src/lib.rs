//! Chromium rendering for gannet: a memory-aware pool of Debian Chromium processes driven
//! over the DevTools protocol (chromiumoxide).
//!
//! - [`Pool`] keys browsers by the signature of their [`BrowserConfig`]: the default config
//!   is PERMANENT, configs used often are HOT, rare ones COLD; a janitor reaps idle ones
//!   faster as the cgroup fills ([`memory`]).
//! - [`Pool::render`] drives one tab: viewport, resource blocking, navigation, a wait
//!   condition ([`WaitFor`]), user JavaScript, the rendered DOM, a screenshot and a PDF.
//! - Browsers are recycled after N pages (with jitter) or past an RSS cap; a crashed one is
//!   replaced and the request retried once. Every wait has a deadline.
//! - [`smart::needs_render`] decides whether an HTTP-fetched page needs JavaScript.

pub mod egress;
pub mod memory;
mod pool;
pub mod process;
mod render;
pub mod smart;

pub use pool::{BrowserConfig, MemoryTuning, Pool, PoolConfig, PoolMetrics, Tier};
pub use render::{Block, RenderRequest, Rendered, Screenshot, WaitFor};

/// What went wrong with a render.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No Chromium binary: the message says how to install one.
    #[error("{0}")]
    NoChromium(String),
    /// Chromium would not start or its DevTools endpoint did not come up.
    #[error("cannot launch chromium: {0}")]
    Launch(String),
    /// Every slot is taken and the queue is full or its deadline passed.
    #[error("browser pool busy: {0}")]
    Busy(String),
    /// The browser died (crash or kill) during the request.
    #[error("the browser crashed or was killed: {0}")]
    BrowserGone(String),
    /// The page did not reach the wanted state before the deadline.
    #[error("render timed out after {secs:.1} s waiting for {what}")]
    Timeout { secs: f64, what: String },
    /// The navigation itself failed (DNS, refused, TLS...), as Chromium names it.
    #[error("navigation to {url} failed: {reason}")]
    Navigation { url: String, reason: String },
    /// A DevTools command failed.
    #[error("devtools: {0}")]
    Protocol(String),
    /// A bad option (session id, wait condition, browser flag...).
    #[error("{0}")]
    Invalid(String),
    /// The pool was shut down.
    #[error("the browser pool is shut down")]
    Closed,
}

impl From<chromiumoxide::error::CdpError> for Error {
    fn from(e: chromiumoxide::error::CdpError) -> Self {
        use chromiumoxide::error::CdpError;
        match e {
            CdpError::Ws(_) | CdpError::ChannelSendError(_) | CdpError::NoResponse => {
                Error::BrowserGone(e.to_string())
            }
            other => Error::Protocol(other.to_string()),
        }
    }
}
