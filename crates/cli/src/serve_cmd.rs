//! `gannet serve`: flags and `GANNET_*` environment variables → [`ServerConfig`], then the
//! server until SIGINT/SIGTERM (requests in flight finish, browsers close).

use anyhow::Context;
use gannet_server::Server;
use gannet_server::config::FileConfig;
use std::net::SocketAddr;

/// Arguments of `gannet serve`. Settings come from the defaults, then `--config FILE`,
/// then `GANNET_*` variables, then flags: each overrides the one before.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// A gannet.toml with any of the settings (`--print-config` shows them all).
    #[arg(long, env = "GANNET_CONFIG")]
    config: Option<std::path::PathBuf>,
    /// Print the effective settings as TOML (defaults included) and exit.
    #[arg(long)]
    print_config: bool,
    /// Address to listen on [default: 127.0.0.1:11235]. Anything but loopback needs a
    /// --token.
    #[arg(long, env = "GANNET_LISTEN")]
    listen: Option<SocketAddr>,
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
    /// Pages fetched or rendered at once, over all requests [default: 64].
    #[arg(long, env = "GANNET_MAX_PAGES_IN_FLIGHT")]
    max_pages_in_flight: Option<usize>,
    /// Extractions at once, the others wait in order; 0: no limit [default: 0].
    #[arg(long, env = "GANNET_EXTRACT_CONCURRENCY")]
    extract_concurrency: Option<usize>,
    /// Largest request body, in bytes [default: 1 MiB].
    #[arg(long, env = "GANNET_MAX_BODY")]
    max_body: Option<usize>,
    /// Default time per page, in seconds [default: 30].
    #[arg(long, env = "GANNET_PAGE_TIMEOUT")]
    page_timeout: Option<f64>,
    /// Browsers alive at once [default: 4].
    #[arg(long, env = "GANNET_MAX_BROWSERS")]
    max_browsers: Option<usize>,
    /// Where jobs and their results are kept [default: $XDG_DATA_HOME/gannet or
    /// ~/.local/share/gannet].
    #[arg(long, env = "GANNET_DATA_DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// Run as one replica of a cluster: jobs and their results live in this Redis
    /// (`redis://host:port[/db]`), shared with every replica started with it; any replica
    /// answers for any job and picks up the work of one that dies.
    #[arg(long, env = "GANNET_REDIS", value_name = "URL")]
    redis: Option<String>,
    /// In a cluster: seconds a dead replica's work stays leased before another takes it
    /// over [default: 10].
    #[arg(long, env = "GANNET_CLUSTER_LEASE", value_name = "SECS")]
    cluster_lease: Option<f64>,
    /// How long finished jobs are kept, in hours [default: 24].
    #[arg(long, env = "GANNET_JOB_TTL_HOURS")]
    job_ttl_hours: Option<u64>,
    /// Requests a minute per client (token, else IP); 0 turns the limit off [default: 600].
    #[arg(long, env = "GANNET_RATE_LIMIT")]
    rate_limit: Option<u32>,
    /// No access log on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// The settings: defaults, the file, then the environment and flags.
fn settings(args: &ServeArgs) -> anyhow::Result<FileConfig> {
    let mut file = match &args.config {
        Some(path) => FileConfig::load(path).map_err(|e| crate::UsageError(e.to_string()))?,
        None => FileConfig::default(),
    };
    if let Some(listen) = args.listen {
        file.listen = listen;
    }
    let tokens: Vec<String> = args
        .tokens
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    if !tokens.is_empty() {
        file.tokens = tokens;
    }
    file.allow_private |= args.allow_private;
    file.execute_js |= args.execute_js;
    file.access_log &= !args.quiet;
    if let Some(n) = args.max_pages_in_flight {
        file.pages.max_in_flight = n;
    }
    if let Some(n) = args.extract_concurrency {
        file.pages.extract_concurrency = n;
    }
    if let Some(n) = args.max_body {
        file.requests.max_body_bytes = n;
    }
    page_options(&mut file, args.page_timeout, args.max_browsers)?;
    if let Some(dir) = &args.data_dir {
        file.data_dir = Some(dir.clone());
    }
    if let Some(url) = &args.redis {
        file.redis = Some(url.clone());
    }
    if let Some(secs) = args.cluster_lease {
        file.cluster.lease_secs = secs;
    }
    if let Some(h) = args.job_ttl_hours {
        file.jobs.ttl_hours = h.clamp(1, 24 * 365) as f64;
    }
    if let Some(n) = args.rate_limit {
        file.requests.rate_limit_per_minute = n;
    }
    if file.data_dir.is_none() {
        file.data_dir = Some(gannet_server::config::default_data_dir());
    }
    Ok(file)
}

/// `--page-timeout SECS` and `--max-browsers N`, shared by `serve` and `mcp`: a timeout
/// must be a positive number of seconds; at least one browser.
pub(crate) fn page_options(
    file: &mut FileConfig,
    page_timeout: Option<f64>,
    max_browsers: Option<usize>,
) -> anyhow::Result<()> {
    if let Some(t) = page_timeout {
        if !(t.is_finite() && t > 0.0) {
            return Err(crate::UsageError(
                "--page-timeout must be a positive number of seconds".into(),
            )
            .into());
        }
        file.pages.timeout_secs = t;
    }
    if let Some(n) = max_browsers {
        file.browser.max_browsers = n.max(1);
    }
    Ok(())
}

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<bool> {
    let file = settings(&args)?;
    if args.print_config {
        let mut shown = file.clone();
        // Tokens are secrets: never printed.
        shown.tokens = shown
            .tokens
            .iter()
            .map(|_| "<hidden>".to_string())
            .collect();
        // So is a password in the Redis URL.
        shown.redis = shown.redis.map(|url| match url.split_once('@') {
            Some((head, tail)) => match head.split_once("://") {
                Some((scheme, _)) => format!("{scheme}://<hidden>@{tail}"),
                None => tail.to_string(),
            },
            None => url,
        });
        print!("{}", shown.to_toml());
        return Ok(true);
    }
    let cfg = file
        .into_config()
        .map_err(|e| crate::UsageError(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // The access log and the server's events (a replica's Redis outages, drains, job
    // runners) on stderr.
    crate::logging::init(false);
    runtime.block_on(async {
        // Start-up errors keep their kind: exit_code picks the exit status from it.
        let server = Server::bind(cfg).await?;
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

/// The exit status of a `gannet serve` start-up error, by its kind (sysexits): a bad
/// setting is a usage error (64), an address that cannot be bound (in use, no permission)
/// is the operating system's refusal (71, EX_OSERR), a job store that cannot be opened is
/// an I/O error (74, EX_IOERR), a cluster's Redis that does not answer is an unavailable
/// service (69, EX_UNAVAILABLE). `None` for other errors.
pub(crate) fn exit_code(e: &anyhow::Error) -> Option<u8> {
    let e = e
        .chain()
        .find_map(|c| c.downcast_ref::<gannet_server::Error>())?;
    Some(match e {
        gannet_server::Error::Config(_) => 64,
        gannet_server::Error::Bind { .. } => 71,
        gannet_server::Error::Store(gannet_server::StoreError::Redis { .. }) => 69,
        gannet_server::Error::Store(_) => 74,
        _ => 70,
    })
}
