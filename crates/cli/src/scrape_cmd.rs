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
use gannet_browser::{Block, Screenshot, WaitFor};
use gannet_crawl::page::{
    Extraction, ExtractionError, LlmInput, NoEvents, Page, PageConfig, PageRequest, PageService,
    RenderPolicy,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// `--render`: always (every page), auto (fetch over HTTP; render pages that need
/// JavaScript: empty SPA shells, noscript walls) or never (never start a browser).
pub(crate) fn render_policy(s: &str) -> Result<RenderPolicy, String> {
    s.parse()
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
    #[arg(long, default_value = "auto", value_parser = render_policy)]
    render: RenderPolicy,
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
    /// crawl4ai schema extraction (`--schema FILE [--schema-type css|xpath|regex]`): the
    /// output is JSON with `extracted`, the list of items.
    #[command(flatten)]
    schema: crate::schema_opt::SchemaArgs,
}

/// What every page of one run shares.
struct Run {
    pages: PageService,
    /// Every page's request but its URL.
    template: PageRequest,
    format: Format,
    screenshot: Option<PathBuf>,
    pdf: Option<PathBuf>,
    several: bool,
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    crate::UsageError(msg.into()).into()
}

pub(crate) fn run(args: ScrapeArgs) -> anyhow::Result<bool> {
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err(usage("--timeout must be a positive number of seconds"));
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let mut template = page_template(&args, timeout)?;
    let needs_browser = args.screenshot.is_some()
        || args.pdf.is_some()
        || args.js.is_some()
        || args.wait_for.is_some();
    template.render = match (args.render, needs_browser) {
        (RenderPolicy::Never, true) => {
            return Err(usage(
                "--screenshot, --pdf, --js and --wait-for need a browser; drop --render never",
            ));
        }
        (_, true) => RenderPolicy::Always,
        (mode, false) => mode,
    };
    let (llm, instruction) =
        match llm_extraction(args.extract.as_deref(), args.json_schema.as_deref())? {
            Some((client, instruction)) => (Some(client), Some(instruction)),
            None => (None, None),
        };
    if instruction.is_some() && args.schema.schema.is_some() {
        return Err(usage(
            "--extract and --schema are two extractions: give one",
        ));
    }
    template.extraction = match (
        instruction,
        crate::schema_opt::Extractor::load(&args.schema)?,
    ) {
        (Some(instruction), _) => Some(Extraction::Llm {
            instruction,
            input: LlmInput::MainMarkdown,
        }),
        (None, Some(schema)) => Some(Extraction::Schema(Arc::new(schema.into_strategy()))),
        (None, None) => None,
    };
    let format = if template.extraction.is_some() {
        Format::Json
    } else {
        args.format
    };
    template.whole_page = args.raw;
    template.want_cleaned_html = format == Format::Html;
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
    let config = PageConfig {
        allow_private: true,
        fetch_timeout: timeout,
        connect_timeout: Some(Duration::from_secs_f64(args.timeout.min(10.0))),
        max_page_bytes: args.max_body,
        max_pages_in_flight: concurrency,
        ..PageConfig::default()
    };
    let mut pages = PageService::new(config, Arc::new(NoEvents)).context("starting")?;
    if let Some(client) = llm {
        pages = pages.with_llm(Ok(client));
    }
    let run = Arc::new(Run {
        pages,
        template,
        format,
        screenshot: args.screenshot.clone(),
        pdf: args.pdf.clone(),
        several: args.urls.len() > 1,
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
                scrape_one(&run, index, &url).await
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
        run.pages.shutdown().await;
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
/// `gannet crawl` shares it.
pub(crate) fn llm_extraction(
    extract: Option<&str>,
    json_schema: Option<&Path>,
) -> anyhow::Result<Option<(gannet_llm::LlmClient, gannet_llm::Instruction)>> {
    let Some(prompt) = extract else {
        return Ok(None);
    };
    let text = match json_schema {
        Some(path) => Some(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        None => None,
    };
    let label = json_schema.map(|p| p.display().to_string());
    let schema = text.as_deref().zip(label.as_deref());
    llm_extraction_text(prompt, schema).map(Some)
}

/// The LLM client (configured from the environment, else a usage error naming the
/// setting) and the instruction, with the JSON Schema's text (and its name for errors)
/// kept as written: the property order steers the model.
pub(crate) fn llm_extraction_text(
    prompt: &str,
    json_schema: Option<(&str, &str)>,
) -> anyhow::Result<(gannet_llm::LlmClient, gannet_llm::Instruction)> {
    let mut instruction = gannet_llm::Instruction::new(prompt);
    if let Some((text, label)) = json_schema {
        instruction = instruction
            .with_schema_json(text)
            .map_err(|e| usage(format!("{label}: {e}")))?;
    }
    let client = gannet_llm::LlmClient::from_env().map_err(|e| usage(e.to_string()))?;
    Ok((client, instruction))
}

/// The options every page shares, validated.
fn page_template(args: &ScrapeArgs, timeout: Duration) -> anyhow::Result<PageRequest> {
    let placeholder: Url = "about:blank".parse().context("a constant URL")?;
    let mut req = PageRequest::new(placeholder, timeout);
    if let Some(w) = &args.wait_for {
        req.wait = w.parse::<WaitFor>().map_err(|e| usage(e.to_string()))?;
    }
    req.js = args.js.iter().cloned().collect();
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

/// One URL through the page service, and the formatted output.
async fn scrape_one(run: &Run, index: usize, input: &str) -> anyhow::Result<String> {
    let url = scrape::parse_url(input)?;
    let mut req = run.template.clone();
    req.url = url.clone();
    let page = run.pages.get(req).await.map_err(|e| {
        if page_rendered_on_purpose(&run.template) {
            anyhow!("rendering {url}: {e}")
        } else {
            anyhow!(e)
        }
    })?;
    if let Some(skipped) = &page.render_skipped {
        eprintln!("warning: {url} needs JavaScript but {skipped}; printing the page as fetched");
    }
    save_files(run, index, &page)?;
    let format = run.format;
    tokio::task::spawn_blocking(move || format_page(page, format))
        .await
        .context("formatting task failed")?
}

/// Whether every page goes to the browser.
fn page_rendered_on_purpose(template: &PageRequest) -> bool {
    template.needs_browser()
}

/// The screenshot and PDF of a rendered page, to their files.
fn save_files(run: &Run, index: usize, page: &Page) -> anyhow::Result<()> {
    if let (Some(path), Some(png)) = (&run.screenshot, &page.screenshot) {
        let path = numbered(path, index, run.several);
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
    }
    if let (Some(path), Some(pdf)) = (&run.pdf, &page.pdf) {
        let path = numbered(path, index, run.several);
        std::fs::write(&path, pdf).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn format_page(page: Page, format: Format) -> anyhow::Result<String> {
    let extracted = match &page.extracted {
        Some(Ok(out)) => Some(out.clone()),
        Some(Err(e)) => {
            let what = if matches!(e, ExtractionError::Schema(_)) {
                "schema extraction"
            } else {
                "LLM extraction"
            };
            return Err(anyhow!("{what} from {}: {e}", page.final_url));
        }
        None => None,
    };
    let info = page.rendered.then(|| RenderInfo {
        rendered: true,
        render_reason: page.render_reason.clone(),
        status: page.status,
        render_ms: page.render_time.map_or(0, |t| t.as_millis() as u64),
        elapsed_ms: page.elapsed.as_millis() as u64,
        js_result: page.js_result.clone(),
        js_error: page.js_error.clone(),
    });
    let text = output::render(
        &page.doc,
        page.cleaned_html.as_deref(),
        format,
        None,
        info.as_ref(),
    )?;
    let Some(out) = extracted else {
        return Ok(output::with_newline(text));
    };
    // `extracted` (and, from an LLM, `usage`) beside the page's JSON.
    let mut value: serde_json::Value = serde_json::from_str(&text).context("re-reading JSON")?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("extracted".into(), out.value);
        if let Some(u) = out.usage {
            obj.insert(
                "usage".into(),
                serde_json::json!({
                    "prompt_tokens": u.prompt_tokens,
                    "completion_tokens": u.completion_tokens,
                    "total_tokens": u.total_tokens(),
                    "requests": u.requests,
                    "chunks": out.chunks,
                    "truncated": out.truncated,
                }),
            );
        }
    }
    Ok(output::with_newline(
        serde_json::to_string(&value).context("serializing JSON")?,
    ))
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
