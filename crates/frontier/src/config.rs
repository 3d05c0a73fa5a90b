//! The embedded frontier's config: where its state lives and how a run begins there.
//! [`FrontierConfig::build`] makes the frontier (vector's "the config builds the
//! component"), so the engine takes any [`crate::Frontier`] and never sees a directory.

use crate::api::FrontierError;
use crate::sqlite::{SqliteFrontier, StoreConfig};
use std::path::PathBuf;

/// Settings of the embedded (SQLite) frontier of one crawl.
#[derive(Debug, Clone)]
pub struct FrontierConfig {
    /// The crawl's state directory (it holds `frontier.sqlite`).
    pub state_dir: PathBuf,
    /// Continue the crawl in `state_dir`: what was in flight goes back to its queues.
    /// Without it the directory is removed and the crawl starts over.
    pub resume: bool,
    /// With `resume`: queue every fetched page again for a conditional re-crawl
    /// (`--refresh`), keeping its `ETag`/`Last-Modified`.
    pub refresh: bool,
    /// Limits and caches of the store.
    pub store: StoreConfig,
}

impl FrontierConfig {
    /// A fresh crawl's frontier in `state_dir`, with the default store settings.
    pub fn new(state_dir: PathBuf) -> FrontierConfig {
        FrontierConfig {
            state_dir,
            resume: false,
            refresh: false,
            store: StoreConfig::default(),
        }
    }

    /// Prepares the state directory (removed for a fresh crawl; required, and recovered,
    /// for a resumed one) and opens the frontier in it.
    pub fn build(&self) -> Result<SqliteFrontier, FrontierError> {
        let state = &self.state_dir;
        let io = |what: &'static str| {
            let path = state.clone();
            move |source| FrontierError::Io { what, path, source }
        };
        if self.resume {
            if !state.join("frontier.sqlite").exists() {
                return Err(FrontierError::Config(format!(
                    "nothing to resume: {} holds no crawl state (run without --resume first)",
                    state.display()
                )));
            }
        } else if state.exists() {
            std::fs::remove_dir_all(state).map_err(io("removing the old state"))?;
        }
        std::fs::create_dir_all(state).map_err(io("creating the state directory"))?;
        let frontier = SqliteFrontier::open(state, self.store)?;
        if self.resume {
            let recovered = frontier.recover_now()?;
            tracing::info!(state = %state.display(), recovered, "frontier: in-flight URLs back in their queues");
            if self.refresh {
                frontier.requeue_done()?;
            }
        }
        Ok(frontier)
    }
}
