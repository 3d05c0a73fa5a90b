//! `gannet serve`: flags and `GANNET_*` environment variables → [`ServerConfig`], then the
//! server until SIGINT/SIGTERM (requests in flight finish, browsers close).

use anyhow::Context;
use gannet_server::{Server, ServerConfig};
use std::net::SocketAddr;
use std::time::Duration;

/// Arguments of `gannet serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on. Anything but loopback needs a --token.
    #[arg(long, env = "GANNET_LISTEN", default_value = "127.0.0.1:11235")]
    listen: SocketAddr,
    /// API token (Bearer); repeat for several. In the environment: comma-separated.
    #[arg(
        long = "token",
        env = "GANNET_TOKEN",
        value_delimiter = ',',
        hide_env_values = true
    )]
    tokens: Vec<String>,
    /// Fetch private, loopback and link-local addresses too (intranets, tests).
    #[arg(long, env = "GANNET_ALLOW_PRIVATE")]
    allow_private: bool,
    /// Allow /execute_js (runs client JavaScript in the server's browser).
    #[arg(long, env = "GANNET_EXECUTE_JS")]
    execute_js: bool,
    /// Pages fetched or rendered at once, over all requests.
    #[arg(long, env = "GANNET_MAX_PAGES_IN_FLIGHT", default_value_t = 64)]
    max_pages_in_flight: usize,
    /// Largest request body, in bytes.
    #[arg(long, env = "GANNET_MAX_BODY", default_value_t = 1 << 20)]
    max_body: usize,
    /// Default time per page, in seconds.
    #[arg(long, env = "GANNET_PAGE_TIMEOUT", default_value_t = 30.0)]
    page_timeout: f64,
    /// Browsers alive at once.
    #[arg(long, env = "GANNET_MAX_BROWSERS", default_value_t = 4)]
    max_browsers: usize,
    /// Where jobs and their results are kept [default: $XDG_DATA_HOME/gannet or
    /// ~/.local/share/gannet].
    #[arg(long, env = "GANNET_DATA_DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// How long finished jobs are kept, in hours.
    #[arg(long, env = "GANNET_JOB_TTL_HOURS", default_value_t = 24)]
    job_ttl_hours: u64,
    /// Requests a minute per client (token, else IP); 0 turns the limit off.
    #[arg(long, env = "GANNET_RATE_LIMIT", default_value_t = 600)]
    rate_limit: u32,
    /// No access log on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<bool> {
    if !(args.page_timeout.is_finite() && args.page_timeout > 0.0) {
        return Err(crate::UsageError(
            "--page-timeout must be a positive number of seconds".into(),
        )
        .into());
    }
    let mut cfg = ServerConfig {
        listen: args.listen,
        tokens: args
            .tokens
            .into_iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        allow_private: args.allow_private,
        execute_js: args.execute_js,
        max_pages_in_flight: args.max_pages_in_flight,
        max_body_bytes: args.max_body,
        page_timeout: Duration::from_secs_f64(args.page_timeout),
        access_log: !args.quiet,
        data_dir: Some(
            args.data_dir
                .unwrap_or_else(gannet_server::config::default_data_dir),
        ),
        job_ttl: Duration::from_secs(args.job_ttl_hours.clamp(1, 24 * 365) * 3600),
        rate_limit_per_minute: (args.rate_limit > 0).then_some(args.rate_limit),
        ..ServerConfig::default()
    };
    cfg.browser.max_browsers = args.max_browsers.max(1);
    if let Err(e) = cfg.validate() {
        return Err(crate::UsageError(e).into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let server = Server::bind(cfg).await.map_err(crate::UsageError)?;
        let addr = server.local_addr().context("the bound address")?;
        eprintln!("gannet serve: listening on http://{addr}");
        server
            .run(crate::crawl_cmd::wait_for_signal())
            .await
            .context("serving")?;
        eprintln!("gannet serve: stopped");
        anyhow::Ok(true)
    })
}
