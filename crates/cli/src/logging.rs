//! The library crates' events (`tracing`, key/value fields) on stderr: plain lines, or
//! one JSON object per line with `--log-format json` (fields at the top level, beside
//! `timestamp`, `level`, `target` and `message`). `RUST_LOG` chooses what is shown
//! (`RUST_LOG=gannet_crawl=debug` shows every lease and release); by default only
//! gannet's own warnings and errors (none in a healthy crawl; dependencies' events stay
//! off), so a crawl's stderr shows its progress and summary as before.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// What is shown without `RUST_LOG`.
const DEFAULT: &str = "gannet=warn,gannet_crawl=warn,gannet_frontier=warn,gannet_frontier_redis=warn,\
     gannet_server=warn,gannet_server::access=info";

/// Installs the subscriber once; later calls change nothing.
pub(crate) fn init(json: bool) {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT));
    // `GANNET_DEBUG=…`: the extractor's explanations (target `gannet_extract::debug`).
    if std::env::var_os("GANNET_DEBUG").is_some()
        && let Ok(d) = "gannet_extract::debug=trace".parse()
    {
        filter = filter.add_directive(d);
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // An error here means a subscriber is already installed: keep that one.
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
}
