//! `gannet mcp`: the MCP tools over stdio for an AI agent host that starts gannet as a
//! child process. The tools run here, with the same page service (fetcher, browser pool,
//! extraction) and job service as `gannet serve`. Stdout carries the protocol only: logs
//! go to stderr.

use crate::serve_cmd::page_options;
use anyhow::Context;
use gannet_server::config::FileConfig;

/// Arguments of `gannet mcp`.
#[derive(Debug, clap::Args)]
pub(crate) struct McpArgs {
    /// Fetch private, loopback and link-local addresses too. Off by default: the agent's
    /// URLs are untrusted input.
    #[arg(long, env = "GANNET_ALLOW_PRIVATE")]
    allow_private: bool,
    /// Where crawl jobs and their results are kept [default: $XDG_DATA_HOME/gannet or
    /// ~/.local/share/gannet].
    #[arg(long, env = "GANNET_DATA_DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// Default time per page, in seconds [default: 30].
    #[arg(long, env = "GANNET_PAGE_TIMEOUT")]
    page_timeout: Option<f64>,
    /// Browsers alive at once [default: 4].
    #[arg(long, env = "GANNET_MAX_BROWSERS")]
    max_browsers: Option<usize>,
}

pub(crate) fn run(args: McpArgs) -> anyhow::Result<bool> {
    crate::logging::init(false);
    let mut file = FileConfig {
        allow_private: args.allow_private,
        access_log: false,
        data_dir: Some(
            args.data_dir
                .unwrap_or_else(gannet_server::config::default_data_dir),
        ),
        ..FileConfig::default()
    };
    page_options(&mut file, args.page_timeout, args.max_browsers)?;
    let cfg = file
        .into_config()
        .map_err(|e| crate::UsageError(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(gannet_server::serve_mcp_stdio(cfg))?;
    Ok(true)
}
