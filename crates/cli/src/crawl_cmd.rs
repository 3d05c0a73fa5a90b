//! `gannet crawl SEED... --out PATH`: a polite, resumable site crawl. Flags become a
//! [`CrawlConfig`]; the engine does the rest. Progress goes to stderr: a bar on a
//! terminal, a line every few seconds otherwise, JSON lines with `--log-format json`.

use crate::UsageError;
use anyhow::Context;
use gannet_crawl::{Crawl, CrawlConfig, CrawlError, RenderPolicy, StopReason};
use gannet_fetch::FetchConfig;
use gannet_frontier::{ScopeConfig, ScopeKind};
use gannet_sink::Format;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Output formats of `gannet crawl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CrawlFormat {
    /// One JSON object per page (the extract JSON plus crawl facts) in one file.
    Jsonl,
    /// One Markdown file per page under the --out directory, with YAML front matter.
    Markdown,
    /// WARC 1.1 (gzip per record), rotated by size: OUT-00000.warc.gz, ...
    Warc,
}

/// Scope of a crawl around its seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ScopeArg {
    /// The seeds' hosts (www. ignored).
    Host,
    /// The seeds' registrable domains (subdomains included).
    Domain,
    /// URLs under a seed's directory.
    Prefix,
    /// Everything reachable.
    Any,
}

/// How progress and the summary are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// For people: a progress bar on a terminal, plain lines otherwise.
    Text,
    /// One JSON object per line, for machines.
    Json,
}

/// Arguments of `gannet crawl`.
#[derive(Debug, clap::Args)]
pub(crate) struct CrawlArgs {
    /// Where the crawl starts (http:// or https:// URLs). May be left out with --resume.
    #[arg(value_name = "SEED")]
    seeds: Vec<String>,
    /// Output: a file for jsonl, a directory for markdown, a file prefix for warc.
    #[arg(
        long,
        short = 'o',
        value_name = "PATH",
        required_unless_present = "status"
    )]
    pub(crate) out: Option<PathBuf>,
    /// Output format [default: from --out: .jsonl → jsonl, .warc/.warc.gz → warc, else markdown].
    #[arg(long, short = 'f', value_enum)]
    format: Option<CrawlFormat>,
    /// Stop after this many pages written.
    #[arg(long, value_name = "N")]
    max_pages: Option<u64>,
    /// Follow links at most this deep (seeds are depth 0).
    #[arg(long, value_name = "D")]
    max_depth: Option<u32>,
    /// Which discovered URLs are followed.
    #[arg(long, value_enum, default_value = "host")]
    scope: ScopeArg,
    /// Follow only URLs matching one of these regexes (repeatable).
    #[arg(long, value_name = "REGEX")]
    include: Vec<String>,
    /// Never follow URLs matching one of these regexes (repeatable).
    #[arg(long, value_name = "REGEX")]
    exclude: Vec<String>,
    /// Crawl state directory (frontier, position) [default: OUT.state beside the output].
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Continue an interrupted crawl from its state directory.
    #[arg(long)]
    resume: bool,
    /// With --resume of a finished crawl: fetch every page again with If-None-Match /
    /// If-Modified-Since, recording 304s.
    #[arg(long, requires = "resume")]
    refresh: bool,
    /// Requests in flight in all.
    #[arg(long, default_value_t = 64, value_name = "N")]
    concurrency: usize,
    /// Requests in flight per host.
    #[arg(long, default_value_t = 2, value_name = "N")]
    per_host: usize,
    /// Least delay between two requests to one host, in milliseconds (robots.txt
    /// Crawl-delay and slow responses raise it).
    #[arg(long, default_value_t = 250, value_name = "MS")]
    delay: u64,
    /// Keep the delay fixed instead of adapting it to the host's latency.
    #[arg(long)]
    no_auto_throttle: bool,
    /// Do not fetch or obey robots.txt. Only for sites you are allowed to crawl this way.
    #[arg(long)]
    ignore_robots: bool,
    /// Do not read the seeds' sitemaps.
    #[arg(long)]
    no_sitemaps: bool,
    /// Stop starting new fetches after this long (e.g. 90s, 15m, 2h, 1h30m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    max_time: Option<Duration>,
    /// Most URLs taken from one host (a guard against traps).
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    max_pages_per_host: u64,
    /// Total time allowed per request, in seconds.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    timeout: f64,
    /// Largest decoded body accepted, in bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
    max_body: u64,
    /// Attempts per URL on transient failures (timeouts, resets, 5xx, 429).
    #[arg(long, default_value_t = 3, value_name = "N")]
    max_attempts: u32,
    /// Progress and summary format on stderr.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// No progress output (the summary is still printed).
    #[arg(long, short = 'q')]
    quiet: bool,
    /// crawl4ai schema extraction on every page (`--schema FILE [--schema-type
    /// css|xpath|regex]`): each JSONL record gets `extracted`, the list of items.
    #[command(flatten)]
    schema: crate::schema_opt::SchemaArgs,
    /// Extract data from every page with the configured LLM (GANNET_LLM_BASE_URL,
    /// GANNET_LLM_MODEL, GANNET_LLM_API_KEY; GANNET_LLM_CONCURRENCY caps the calls in
    /// flight): each JSONL record gets `extracted` and `usage` (tokens); a page whose
    /// call fails gets `extracted: {error, code}` and the crawl goes on.
    #[arg(long, value_name = "PROMPT", conflicts_with = "schema")]
    extract: Option<String>,
    /// JSON Schema the extracted value must match (with --extract; without it, each page
    /// is split into blocks `{index, tags, content}`).
    #[arg(long, value_name = "FILE", requires = "extract")]
    json_schema: Option<PathBuf>,
    /// Render pages in Chromium: never, auto (pages that need JavaScript) or always.
    #[arg(long, default_value = "never", value_parser = crate::scrape_cmd::render_policy)]
    render: RenderPolicy,
    /// Renders in flight at once (browser tabs).
    #[arg(long, value_name = "N")]
    render_concurrency: Option<usize>,
    /// Time allowed per render, in seconds.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    render_timeout: f64,
    /// When a rendered page is ready: load, networkidle, css:SELECTOR or js:EXPRESSION.
    #[arg(long, value_name = "COND")]
    wait_for: Option<String>,
    /// Resource types rendered pages do not load (images, fonts, media, stylesheets;
    /// "none" loads everything).
    #[arg(long, value_name = "LIST", default_value = "images,fonts,media")]
    block: String,
    /// A distributed crawl on this Redis (`redis://host:port`, or a cluster:
    /// `redis+cluster://host:port,host:port`): created with these flags, or joined if
    /// --crawl-id exists; `gannet worker` joins it from other machines.
    #[arg(long, value_name = "URL", requires = "crawl_id")]
    pub(crate) redis: Option<String>,
    /// The distributed crawl's id (letters, digits, `-`, `_`, `.`).
    #[arg(long, value_name = "ID", requires = "redis")]
    pub(crate) crawl_id: Option<String>,
    /// Print the distributed crawl's counts and workers, then exit.
    #[arg(long, requires = "redis")]
    pub(crate) status: bool,
    /// With --status: one JSON object.
    #[arg(long, requires = "status")]
    pub(crate) json: bool,
    /// Distributed: how long a host stays leased to a worker that stops renewing it (a
    /// crashed or paused worker), in seconds.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub(crate) lease: f64,
    /// Distributed: this worker's id (stable across its restarts on the same --out)
    /// [default: from the machine's name and the --out path].
    #[arg(long, value_name = "ID")]
    pub(crate) worker_id: Option<String>,
    /// Stored with a distributed crawl that extracts (its flags carry it): a gannet too old
    /// to know the stored extraction refuses to join instead of writing records without
    /// `extracted`.
    #[arg(long, hide = true)]
    pub(crate) stored_extraction: bool,
    /// The extraction as text (a distributed crawl's, read from Redis or from the files
    /// once when it is created); `None`: read the flags' files.
    #[arg(skip)]
    pub(crate) extraction: Option<Box<crate::extraction_spec::ExtractionSpec>>,
}

impl CrawlArgs {
    /// The flags a distributed crawl stores in Redis for its workers: scope, filters,
    /// limits, politeness and fetch settings (not the output, the concurrency or the
    /// worker's own choices).
    pub(crate) fn stored_flags(&self) -> Vec<String> {
        let mut f: Vec<String> = Vec::new();
        let mut put = |k: &str, v: String| {
            f.push(k.to_string());
            f.push(v);
        };
        let scope = match self.scope {
            ScopeArg::Host => "host",
            ScopeArg::Domain => "domain",
            ScopeArg::Prefix => "prefix",
            ScopeArg::Any => "any",
        };
        put("--scope", scope.into());
        for i in &self.include {
            put("--include", i.clone());
        }
        for e in &self.exclude {
            put("--exclude", e.clone());
        }
        if let Some(d) = self.max_depth {
            put("--max-depth", d.to_string());
        }
        if let Some(m) = self.max_pages {
            put("--max-pages", m.to_string());
        }
        put("--per-host", self.per_host.to_string());
        put("--delay", self.delay.to_string());
        put("--max-pages-per-host", self.max_pages_per_host.to_string());
        put("--timeout", self.timeout.to_string());
        put("--max-body", self.max_body.to_string());
        put("--max-attempts", self.max_attempts.to_string());
        put("--lease", self.lease.to_string());
        // Rendering is the crawl's too: a worker that did not render would write different
        // records for the same kind of page.
        put("--render", self.render.name().into());
        put("--render-timeout", self.render_timeout.to_string());
        if let Some(w) = &self.wait_for {
            put("--wait-for", w.clone());
        }
        put("--block", self.block.clone());
        if self.no_auto_throttle {
            f.push("--no-auto-throttle".into());
        }
        if self.ignore_robots {
            f.push("--ignore-robots".into());
        }
        if self.extraction.as_ref().is_some_and(|e| !e.is_empty()) {
            f.push("--stored-extraction".into());
        }
        f
    }

    /// Whether the command line asks for an extraction (`--schema` or `--extract`).
    pub(crate) fn extraction_flags(&self) -> bool {
        self.schema.schema.is_some() || self.extract.is_some()
    }

    /// Reads the extraction flags' files once, bounded for storing with a distributed
    /// crawl: the crawl then extracts from this text, as its workers will.
    pub(crate) fn read_extraction_for_storing(&mut self) -> anyhow::Result<()> {
        let spec = crate::extraction_spec::ExtractionSpec::read(
            &self.schema,
            self.extract.as_deref(),
            self.json_schema.as_deref(),
            true,
        )?;
        self.extraction = Some(Box::new(spec));
        Ok(())
    }

    /// Requests in flight in all.
    pub(crate) fn set_concurrency(&mut self, n: usize) {
        self.concurrency = n;
    }

    /// Requests in flight in all.
    pub(crate) fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// The seeds.
    pub(crate) fn set_seeds(&mut self, seeds: Vec<String>) {
        self.seeds = seeds;
    }

    /// Progress format and quietness.
    pub(crate) fn set_log(&mut self, log: LogFormat, quiet: bool) {
        self.log_format = log;
        self.quiet = quiet;
    }

    /// The output.
    pub(crate) fn set_out(&mut self, out: PathBuf) {
        self.out = Some(out);
    }

    /// The seeds given.
    pub(crate) fn seeds(&self) -> &[String] {
        &self.seeds
    }

    /// The page limit.
    pub(crate) fn max_pages(&self) -> Option<u64> {
        self.max_pages
    }

    /// The per-host page limit.
    pub(crate) fn max_pages_per_host(&self) -> u64 {
        self.max_pages_per_host
    }

    /// Attempts per URL.
    pub(crate) fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Progress format and quietness.
    pub(crate) fn log(&self) -> (LogFormat, bool) {
        (self.log_format, self.quiet)
    }
}

/// Parses `90`, `90s`, `15m`, `2h`, `1h30m`, `500ms`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs))
            .ok_or_else(|| format!("'{s}' is not a duration"));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(|| format!("'{s}': a number needs a unit (ms, s, m, h, d)"))?;
        let (number, tail) = rest.split_at(digits);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("'{s}' is not a duration (try 90s, 15m, 1h30m)"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let secs = match unit {
            "ms" => value / 1000.0,
            "s" => value,
            "m" => value * 60.0,
            "h" => value * 3600.0,
            "d" => value * 86_400.0,
            _ => return Err(format!("'{s}': unknown unit '{unit}' (use ms, s, m, h, d)")),
        };
        total += Duration::from_secs_f64(secs);
        rest = next;
    }
    Ok(total)
}

fn infer_format(out: &Path) -> CrawlFormat {
    let name = out.to_string_lossy();
    if name.ends_with(".warc.gz") || name.ends_with(".warc") {
        CrawlFormat::Warc
    } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".json") {
        CrawlFormat::Jsonl
    } else {
        CrawlFormat::Markdown
    }
}

pub(crate) fn config(args: &CrawlArgs) -> anyhow::Result<CrawlConfig> {
    let Some(out) = args.out.clone() else {
        return Err(UsageError("--out is required".into()).into());
    };
    let mut seeds = Vec::new();
    for seed in &args.seeds {
        let url = crate::scrape::parse_url(seed).map_err(|e| UsageError(e.to_string()))?;
        seeds.push(url);
    }
    if seeds.is_empty() && !args.resume && args.redis.is_none() {
        return Err(UsageError("give at least one SEED URL (or --resume a crawl)".into()).into());
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err(UsageError("--timeout must be a positive number of seconds".into()).into());
    }
    if args.concurrency == 0 || args.per_host == 0 {
        return Err(UsageError("--concurrency and --per-host must be at least 1".into()).into());
    }
    let format = match args.format.unwrap_or_else(|| infer_format(&out)) {
        CrawlFormat::Jsonl => Format::Jsonl,
        CrawlFormat::Markdown => Format::Markdown,
        CrawlFormat::Warc => Format::Warc,
    };
    let mut config = CrawlConfig::new(seeds, out, format);
    config.state_dir = args.state.clone();
    config.resume = args.resume;
    config.refresh = args.refresh;
    config.max_pages = args.max_pages;
    config.max_time = args.max_time;
    config.scope = ScopeConfig {
        kind: match args.scope {
            ScopeArg::Host => ScopeKind::Host,
            ScopeArg::Domain => ScopeKind::Domain,
            ScopeArg::Prefix => ScopeKind::Prefix,
            ScopeArg::Any => ScopeKind::Any,
        },
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        max_depth: args.max_depth,
        ..ScopeConfig::default()
    };
    config.max_pages_per_host = Some(args.max_pages_per_host);
    config.concurrency = args.concurrency.min(4096);
    config.per_host = args.per_host.min(1024);
    config.min_delay = Duration::from_millis(args.delay);
    config.auto_throttle = !args.no_auto_throttle;
    config.ignore_robots = args.ignore_robots;
    config.sitemaps = !args.no_sitemaps;
    config.max_attempts = args.max_attempts.max(1);
    config.fetch = FetchConfig {
        timeout: Duration::from_secs_f64(args.timeout),
        connect_timeout: Duration::from_secs_f64(args.timeout.min(10.0)),
        max_body_bytes: args.max_body,
        ..FetchConfig::default()
    };
    config.render = args.render;
    let extraction = match &args.extraction {
        Some(spec) => (**spec).clone(),
        None => crate::extraction_spec::ExtractionSpec::read(
            &args.schema,
            args.extract.as_deref(),
            args.json_schema.as_deref(),
            false,
        )?,
    };
    config.schema = extraction.schema_strategy()?.map(Arc::new);
    config.llm = extraction.llm()?;
    if !(args.render_timeout.is_finite() && args.render_timeout > 0.0) {
        return Err(
            UsageError("--render-timeout must be a positive number of seconds".into()).into(),
        );
    }
    config.render_timeout = Duration::from_secs_f64(args.render_timeout);
    if let Some(n) = args.render_concurrency {
        if n == 0 {
            return Err(UsageError("--render-concurrency must be at least 1".into()).into());
        }
        config.browser.max_concurrent = n.min(256);
        config.browser.tabs_per_browser = n.min(256);
    }
    if let Some(w) = &args.wait_for {
        config.render_wait = w
            .parse()
            .map_err(|e: gannet_browser::Error| UsageError(e.to_string()))?;
    }
    config.render_block = if args.block.trim().eq_ignore_ascii_case("none") {
        Vec::new()
    } else {
        gannet_browser::Block::parse_list(&args.block).map_err(|e| UsageError(e.to_string()))?
    };
    Ok(config)
}

/// Runs the crawl; `Ok(false)` when it was interrupted (exit 130 is chosen by the caller).
pub(crate) fn run(args: CrawlArgs) -> anyhow::Result<CrawlExit> {
    if args.status {
        return crate::worker_cmd::status(&args).map(|()| CrawlExit::Done);
    }
    if args.redis.is_some() {
        if args.refresh {
            // Validators per URL would cost far more than the frontier's 16 B per seen URL.
            return Err(UsageError(
                "--refresh is for a single-machine crawl: a distributed crawl keeps no \
                 ETag/Last-Modified per URL"
                    .into(),
            )
            .into());
        }
        return crate::worker_cmd::crawl(args);
    }
    let config = config(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let log = args.log_format;
    let quiet = args.quiet;
    crate::logging::init(log == LogFormat::Json);
    runtime.block_on(async move {
        let crawl = match Crawl::open(config).await {
            Ok(crawl) => crawl,
            Err(CrawlError::Config(message)) => return Err(UsageError(message).into()),
            Err(e) => return Err(e.into()),
        };
        let stop_rx = stop_on_signal();
        run_opened(crawl, stop_rx, log, quiet).await
    })
}

/// A stop flag raised by SIGINT/SIGTERM (a second signal quits at once). Inside a runtime.
pub(crate) fn stop_on_signal() -> tokio::sync::watch::Receiver<bool> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        eprintln!("gannet: stopping: finishing pages in flight (signal again to quit now)");
        let _ = stop_tx.send(true);
        wait_for_signal().await;
        std::process::exit(130);
    });
    stop_rx
}

/// Runs an opened crawl with progress and summary on stderr.
pub(crate) async fn run_opened(
    crawl: Crawl,
    stop_rx: tokio::sync::watch::Receiver<bool>,
    log: LogFormat,
    quiet: bool,
) -> anyhow::Result<CrawlExit> {
    let progress = (!quiet).then(|| crate::crawl_progress::Progress::start(crawl.stats(), log));
    let summary = crawl.run(stop_rx).await;
    if let Some(progress) = progress {
        progress.finish();
    }
    let summary = summary?;
    crate::crawl_progress::print_summary(&summary, log);
    Ok(if summary.stop == StopReason::Interrupted {
        CrawlExit::Interrupted
    } else {
        CrawlExit::Done
    })
}

/// How a crawl ended, for the exit code.
pub(crate) enum CrawlExit {
    Done,
    Interrupted,
}

/// SIGINT or SIGTERM (scrape and serve stop on it too).
pub(crate) async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("-3").is_err());
    }

    #[test]
    fn stored_flags_parse_back_into_the_same_crawl() {
        #[derive(clap::Parser)]
        struct P {
            #[command(flatten)]
            args: CrawlArgs,
        }
        let parse = |argv: &[&str]| {
            <P as clap::Parser>::try_parse_from(argv)
                .expect("parses")
                .args
        };
        let given = parse(&[
            "g",
            "https://a.test/",
            "--out",
            "o.jsonl",
            "--scope",
            "domain",
            "--render",
            "auto",
            "--render-timeout",
            "12.5",
            "--wait-for",
            "css:#main",
            "--block",
            "images",
            "--max-depth",
            "3",
        ]);
        let mut argv = vec!["g".to_string(), "--out".into(), "-".into()];
        argv.extend(given.stored_flags());
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let back = parse(&argv);
        assert_eq!(back.render, RenderPolicy::Auto);
        assert_eq!(back.render_timeout, 12.5);
        assert_eq!(back.wait_for.as_deref(), Some("css:#main"));
        assert_eq!(back.block, "images");
        assert_eq!(back.scope, ScopeArg::Domain);
        assert_eq!(back.max_depth, Some(3));
        assert!(!back.stored_extraction, "nothing to extract");
    }

    #[test]
    fn formats_follow_the_output_name() {
        assert_eq!(infer_format(Path::new("out.jsonl")), CrawlFormat::Jsonl);
        assert_eq!(infer_format(Path::new("a/b.warc.gz")), CrawlFormat::Warc);
        assert_eq!(infer_format(Path::new("site")), CrawlFormat::Markdown);
    }
}
