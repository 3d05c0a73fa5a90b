//! `gannet scrape URL...`: fetch pages over HTTP (or render them in Chromium) and print them
//! as Markdown, text, HTML or JSON. Pages run concurrently (bounded); output keeps the order
//! of the arguments.
//!
//! Rendering: `--render auto` (the default) fetches over HTTP and renders only pages that
//! need JavaScript ([`gannet_browser::smart`]); `always` renders every page; `never` never
//! starts a browser. `--screenshot`, `--pdf`, `--js` and `--wait-for` need the browser and
//! render every page.

use crate::output::{self, Format, RenderInfo};
use crate::scrape;
use anyhow::{Context, anyhow};
use gannet_browser::{Block, Pool, PoolConfig, RenderRequest, Rendered, Screenshot, WaitFor};
use gannet_fetch::{FetchConfig, Fetcher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// When to render pages in Chromium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RenderMode {
    /// Render every page.
    Always,
    /// Fetch over HTTP; render pages that need JavaScript (empty SPA shells, noscript walls).
    Auto,
    /// Never start a browser.
    Never,
}

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
    /// Total time allowed per page (fetch, or render from getting a browser to the DOM), in
    /// seconds.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    timeout: f64,
    /// Largest decoded (decompressed) body accepted, in bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
    max_body: u64,
    /// Pages fetched at the same time.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Render pages in Chromium: always, auto (only pages that need JavaScript) or never.
    #[arg(long, value_enum, default_value = "auto")]
    render: RenderMode,
    /// When a rendered page is ready: load, networkidle, css:SELECTOR or js:EXPRESSION
    /// (default: DOMContentLoaded, then load and in-flight requests, briefly).
    #[arg(long, value_name = "COND")]
    wait_for: Option<String>,
    /// JavaScript to run in the page before extraction; its value is `js_result` in JSON.
    #[arg(long, value_name = "CODE")]
    js: Option<String>,
    /// Save a PNG screenshot (with several URLs: FILE-1.png, FILE-2.png, ...).
    #[arg(long, value_name = "FILE.png")]
    screenshot: Option<PathBuf>,
    /// Screenshot the whole scrollable page, not only the viewport.
    #[arg(long, requires = "screenshot")]
    full_page: bool,
    /// Save the page as PDF (with several URLs: FILE-1.pdf, ...).
    #[arg(long, value_name = "FILE.pdf")]
    pdf: Option<PathBuf>,
    /// Browser viewport in CSS pixels.
    #[arg(long, value_name = "WxH", default_value = "1280x800")]
    viewport: String,
    /// Resource types the browser does not load: images, fonts, media, stylesheets.
    #[arg(long, value_name = "LIST")]
    block: Option<String>,
    /// Render all URLs in one named browser session (cookies and storage carry over from
    /// one URL to the next; pages then run one at a time, in order).
    #[arg(long, value_name = "NAME")]
    session: Option<String>,
    /// Extract data from each page with the configured LLM (GANNET_LLM_BASE_URL,
    /// GANNET_LLM_MODEL, GANNET_LLM_API_KEY): the output is JSON with `extracted` and
    /// `usage` (prompt and completion tokens) added.
    #[arg(long, value_name = "PROMPT")]
    extract: Option<String>,
    /// JSON Schema the extracted value must match (with --extract; without it, the page is
    /// split into blocks `{index, tags, content}`).
    #[arg(long, value_name = "FILE", requires = "extract")]
    json_schema: Option<PathBuf>,
}

/// What every page of one run shares.
struct Run {
    fetcher: Fetcher,
    pool: tokio::sync::OnceCell<Result<Pool, String>>,
    mode: RenderMode,
    template: RenderRequest,
    raw: bool,
    format: Format,
    screenshot: Option<PathBuf>,
    pdf: Option<PathBuf>,
    several: bool,
    llm: Option<(gannet_llm::LlmClient, gannet_llm::Instruction)>,
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    crate::UsageError(msg.into()).into()
}

pub(crate) fn run(args: ScrapeArgs) -> anyhow::Result<bool> {
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err(usage("--timeout must be a positive number of seconds"));
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let template = render_template(&args, timeout)?;
    let needs_browser = args.screenshot.is_some()
        || args.pdf.is_some()
        || args.js.is_some()
        || args.wait_for.is_some();
    let mode = match (args.render, needs_browser) {
        (RenderMode::Never, true) => {
            return Err(usage(
                "--screenshot, --pdf, --js and --wait-for need a browser; drop --render never",
            ));
        }
        (_, true) => RenderMode::Always,
        (mode, false) => mode,
    };
    let config = FetchConfig {
        timeout,
        connect_timeout: Duration::from_secs_f64(args.timeout.min(10.0)),
        max_body_bytes: args.max_body,
        ..FetchConfig::default()
    };
    let fetcher = Fetcher::new(config).context("building the HTTP client")?;
    let llm = llm_extraction(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let concurrency = if args.session.is_some() {
        1
    } else {
        args.concurrency.clamp(1, 64)
    };
    let run = Arc::new(Run {
        fetcher,
        pool: tokio::sync::OnceCell::new(),
        mode,
        template,
        raw: args.raw,
        format: if llm.is_some() {
            Format::Json
        } else {
            args.format
        },
        screenshot: args.screenshot.clone(),
        pdf: args.pdf.clone(),
        several: args.urls.len() > 1,
        llm,
    });
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency));
    // Output streams in argument order as pages finish: memory holds the pages in flight
    // and those waiting for an earlier one, not the whole run.
    let mut out: Box<dyn Write + Send> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout()),
    };
    let urls = args.urls.clone();
    let format = run.format;
    let (result, interrupted) = runtime.block_on(async {
        let mut tasks = Vec::with_capacity(urls.len());
        for (index, url) in urls.iter().cloned().enumerate() {
            let (run, limit) = (run.clone(), limit.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = limit.acquire_owned().await.context("shutting down")?;
                let page = scrape_one(&run, index, &url).await?;
                match &run.llm {
                    Some((client, instruction)) => add_extraction(client, instruction, page).await,
                    None => Ok(page),
                }
            }));
        }
        let all = async {
            let mut ok = true;
            let mut first = true;
            for (url, task) in urls.iter().zip(tasks) {
                match task
                    .await
                    .unwrap_or_else(|e| Err(anyhow!("task failed: {e}")))
                {
                    Ok(page) => {
                        if run.several && format != Format::Json && !first {
                            out.write_all(b"\n")?;
                        }
                        first = false;
                        out.write_all(page.as_bytes())?;
                    }
                    Err(e) => {
                        ok = false;
                        let msg = format!("{e:#}");
                        if msg.contains(url.as_str()) || !run.several {
                            eprintln!("error: {msg}");
                        } else {
                            eprintln!("error: {url}: {msg}");
                        }
                    }
                }
            }
            out.flush()?;
            anyhow::Ok(ok)
        };
        let outcome = tokio::select! {
            r = all => (r, false),
            _ = crate::crawl_cmd::wait_for_signal() => (Ok(false), true),
        };
        // Browsers and their profiles go before we return, whatever happened.
        if let Some(Ok(pool)) = run.pool.get() {
            pool.shutdown().await;
        }
        outcome
    });
    if interrupted {
        eprintln!("interrupted");
        std::process::exit(130);
    }
    result
}

/// `--extract` / `--json-schema`: the LLM client (configured from the environment, else a
/// usage error naming the variable to set) and what to ask it.
fn llm_extraction(
    args: &ScrapeArgs,
) -> anyhow::Result<Option<(gannet_llm::LlmClient, gannet_llm::Instruction)>> {
    let Some(prompt) = &args.extract else {
        return Ok(None);
    };
    let mut instruction = gannet_llm::Instruction::new(prompt.clone());
    if let Some(path) = &args.json_schema {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let schema: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| usage(format!("{}: not JSON: {e}", path.display())))?;
        instruction = instruction.with_schema(schema);
    }
    let client = gannet_llm::LlmClient::from_env().map_err(|e| usage(e.to_string()))?;
    Ok(Some((client, instruction)))
}

/// Adds `extracted` and `usage` to a page's JSON output, from its Markdown.
async fn add_extraction(
    client: &gannet_llm::LlmClient,
    instruction: &gannet_llm::Instruction,
    page: String,
) -> anyhow::Result<String> {
    let mut value: serde_json::Value =
        serde_json::from_str(&page).context("re-reading the page's JSON")?;
    let markdown = value["markdown"].as_str().unwrap_or_default().to_owned();
    let url = value["url"].as_str().unwrap_or_default().to_owned();
    let out = client
        .extract(&markdown, instruction.clone())
        .await
        .with_context(|| format!("LLM extraction from {url}"))?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("extracted".into(), out.value);
        obj.insert(
            "usage".into(),
            serde_json::json!({
                "prompt_tokens": out.usage.prompt_tokens,
                "completion_tokens": out.usage.completion_tokens,
                "total_tokens": out.usage.total_tokens(),
                "requests": out.usage.requests,
                "chunks": out.chunks,
                "truncated": out.truncated,
            }),
        );
    }
    Ok(output::with_newline(
        serde_json::to_string(&value).context("serializing JSON")?,
    ))
}

/// The render options every page shares, validated.
fn render_template(args: &ScrapeArgs, timeout: Duration) -> anyhow::Result<RenderRequest> {
    let placeholder: Url = "about:blank".parse().context("a constant URL")?;
    let mut req = RenderRequest::new(placeholder);
    req.timeout = timeout;
    if let Some(w) = &args.wait_for {
        req.wait = w.parse::<WaitFor>().map_err(|e| usage(e.to_string()))?;
    }
    req.js = args.js.clone();
    req.screenshot = args.screenshot.as_ref().map(|_| Screenshot {
        full_page: args.full_page,
    });
    req.pdf = args.pdf.is_some();
    req.viewport = Some(parse_viewport(&args.viewport)?);
    if let Some(list) = &args.block {
        req.block = Block::parse_list(list).map_err(|e| usage(e.to_string()))?;
    }
    req.session = args.session.clone();
    Ok(req)
}

fn parse_viewport(s: &str) -> anyhow::Result<(u32, u32)> {
    let bad = || {
        usage(format!(
            "bad --viewport {s:?}: use WIDTHxHEIGHT, e.g. 1280x800"
        ))
    };
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (
        w.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    );
    if !(100..=10_000).contains(&w) || !(100..=10_000).contains(&h) {
        return Err(usage(format!(
            "--viewport {s}: each side must be between 100 and 10000 pixels"
        )));
    }
    Ok((w, h))
}

/// One URL: fetch, maybe render, extract, and the formatted output.
async fn scrape_one(run: &Run, index: usize, input: &str) -> anyhow::Result<String> {
    let started = std::time::Instant::now();
    let url = scrape::parse_url(input)?;
    if run.mode == RenderMode::Always {
        let rendered = render(run, index, &url).await?;
        return format_rendered(run, rendered, None, started).await;
    }
    let page = run.fetcher.fetch(&url).await?;
    let (raw, format) = (run.raw, run.format);
    let smart = run.mode == RenderMode::Auto && is_html(page.content_type.as_deref());
    let (doc, html, decoded) = tokio::task::spawn_blocking(move || {
        let options = gannet_extract::Options {
            raw,
            charset: page.charset.clone(),
            skip_links: false,
        };
        let (doc, html) = extract(&page.body, &page.url, &options, format);
        // The smart-mode signals are ASCII: a lossy view of the bytes is enough.
        let decoded = smart.then(|| String::from_utf8_lossy(&page.body).into_owned());
        (doc, html, decoded)
    })
    .await
    .context("extraction task failed")?;
    let reason = decoded
        .as_deref()
        .and_then(|text| gannet_browser::smart::needs_render(text, doc.word_count));
    if let Some(reason) = reason {
        match render(run, index, &url).await {
            Ok(rendered) => {
                return format_rendered(run, rendered, Some(reason.to_string()), started).await;
            }
            Err(e) => eprintln!(
                "warning: {url} needs JavaScript ({reason}) but could not be rendered: {e:#}; \
                 printing the page as fetched"
            ),
        }
    }
    Ok(output::with_newline(output::render(
        &doc,
        html.as_deref(),
        format,
        None,
        None,
    )?))
}

fn is_html(content_type: Option<&str>) -> bool {
    content_type.is_none_or(|ct| ct.contains("html"))
}

fn extract(
    body: &[u8],
    url: &Url,
    options: &gannet_extract::Options,
    format: Format,
) -> (gannet_core::Document, Option<String>) {
    if format == Format::Html {
        let (d, h) = gannet_extract::extract_with_html(body, Some(url), options);
        (d, Some(h))
    } else {
        (gannet_extract::extract(body, Some(url), options), None)
    }
}

async fn pool(run: &Run) -> anyhow::Result<&Pool> {
    let pool = run
        .pool
        .get_or_init(|| async { Pool::new(PoolConfig::default()).map_err(|e| e.to_string()) })
        .await;
    pool.as_ref().map_err(|e| anyhow!("{e}"))
}

async fn render(run: &Run, index: usize, url: &Url) -> anyhow::Result<Rendered> {
    let pool = pool(run).await?;
    let mut req = run.template.clone();
    req.url = url.clone();
    let rendered = pool
        .render(&req)
        .await
        .with_context(|| format!("rendering {url}"))?;
    if let (Some(path), Some(png)) = (&run.screenshot, &rendered.screenshot) {
        let path = numbered(path, index, run.several);
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
    }
    if let (Some(path), Some(pdf)) = (&run.pdf, &rendered.pdf) {
        let path = numbered(path, index, run.several);
        std::fs::write(&path, pdf).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(rendered)
}

async fn format_rendered(
    run: &Run,
    rendered: Rendered,
    reason: Option<String>,
    started: std::time::Instant,
) -> anyhow::Result<String> {
    let (raw, format) = (run.raw, run.format);
    tokio::task::spawn_blocking(move || {
        let url = Url::parse(&rendered.final_url).context("the browser's final URL")?;
        let options = gannet_extract::Options {
            raw,
            charset: Some("utf-8".into()),
            skip_links: false,
        };
        let (doc, html) = extract(rendered.html.as_bytes(), &url, &options, format);
        let info = RenderInfo {
            rendered: true,
            render_reason: reason,
            status: rendered.status,
            render_ms: rendered.render_time.as_millis() as u64,
            elapsed_ms: started.elapsed().as_millis() as u64,
            js_result: rendered.js_result,
            js_error: rendered.js_error,
        };
        Ok(output::with_newline(output::render(
            &doc,
            html.as_deref(),
            format,
            None,
            Some(&info),
        )?))
    })
    .await
    .context("extraction task failed")?
}

/// `shot.png` → `shot-3.png` for the third of several URLs.
fn numbered(path: &Path, index: usize, several: bool) -> PathBuf {
    if !several {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{}.{}", index + 1, ext.to_string_lossy()),
        None => format!("{stem}-{}", index + 1),
    };
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewports_parse_and_are_bounded() {
        assert_eq!(parse_viewport("1280x800").unwrap(), (1280, 800));
        assert_eq!(parse_viewport("640X480").unwrap(), (640, 480));
        for bad in ["", "1280", "x800", "10x10", "99999x100", "axb"] {
            assert!(parse_viewport(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn several_outputs_are_numbered() {
        let p = Path::new("out/shot.png");
        assert_eq!(numbered(p, 0, false), PathBuf::from("out/shot.png"));
        assert_eq!(numbered(p, 2, true), PathBuf::from("out/shot-3.png"));
        assert_eq!(numbered(Path::new("doc"), 0, true), PathBuf::from("doc-1"));
    }
}
