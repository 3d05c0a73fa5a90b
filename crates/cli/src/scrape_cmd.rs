//! `gannet scrape URL...`: fetch pages over HTTP and print them as Markdown, text, HTML or
//! JSON. Fetches run concurrently (bounded); output keeps the order of the arguments.

use crate::output::{self, Format};
use crate::scrape;
use anyhow::Context;
use gannet_fetch::{FetchConfig, Fetcher};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `gannet scrape`.
#[derive(Debug, clap::Args)]
pub(crate) struct ScrapeArgs {
    /// URLs to fetch (absolute http:// or https://).
    #[arg(value_name = "URL", required = true)]
    urls: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "markdown")]
    format: Format,
    /// The whole page as Markdown, without main-content extraction.
    #[arg(long)]
    raw: bool,
    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
    /// Total time allowed per page (connect, headers and body), in seconds.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    timeout: f64,
    /// Largest decoded (decompressed) body accepted, in bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
    max_body: u64,
    /// Pages fetched at the same time.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

pub(crate) fn run(args: ScrapeArgs) -> anyhow::Result<bool> {
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err(
            crate::UsageError("--timeout must be a positive number of seconds".into()).into(),
        );
    }
    let config = FetchConfig {
        timeout: Duration::from_secs_f64(args.timeout),
        connect_timeout: Duration::from_secs_f64(args.timeout.min(10.0)),
        max_body_bytes: args.max_body,
        ..FetchConfig::default()
    };
    let fetcher = Fetcher::new(config).context("building the HTTP client")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let raw = args.raw;
    let format = args.format;
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(args.concurrency.clamp(1, 64)));
    let results: Vec<anyhow::Result<String>> = runtime.block_on(async {
        let mut tasks = Vec::with_capacity(args.urls.len());
        for url in args.urls.clone() {
            let fetcher = fetcher.clone();
            let limit = limit.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = limit.acquire_owned().await.context("shutting down")?;
                let page = scrape::fetch_page(&fetcher, &url).await?;
                // Extraction is CPU work: keep it off the async workers.
                tokio::task::spawn_blocking(move || render_page(&page, raw, format))
                    .await
                    .context("extraction task failed")?
            }));
        }
        let mut out = Vec::with_capacity(tasks.len());
        for t in tasks {
            out.push(
                t.await
                    .unwrap_or_else(|e| Err(anyhow::anyhow!("task failed: {e}"))),
            );
        }
        out
    });
    let several = results.len() > 1;
    let mut text = String::new();
    let mut ok = true;
    for (url, result) in args.urls.iter().zip(results) {
        match result {
            Ok(rendered) => {
                if several && format != Format::Json && !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&rendered);
            }
            Err(e) => {
                ok = false;
                let msg = format!("{e:#}");
                if msg.contains(url.as_str()) || !several {
                    eprintln!("error: {msg}");
                } else {
                    eprintln!("error: {url}: {msg}");
                }
            }
        }
    }
    match &args.out {
        Some(path) => std::fs::write(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(ok)
}

fn render_page(
    page: &gannet_fetch::FetchedPage,
    raw: bool,
    format: Format,
) -> anyhow::Result<String> {
    let options = gannet_extract::Options {
        raw,
        charset: page.charset.clone(),
    };
    let (doc, html) = if format == Format::Html {
        let (d, h) = gannet_extract::extract_with_html(&page.body, Some(&page.url), &options);
        (d, Some(h))
    } else {
        (
            gannet_extract::extract(&page.body, Some(&page.url), &options),
            None,
        )
    };
    Ok(output::with_newline(output::render(
        &doc,
        html.as_deref(),
        format,
        None,
    )?))
}
