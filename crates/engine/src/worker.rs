//! One URL's trip: robots check, HTTP exchange, the verdict on its status, extraction,
//! outlinks, and the hand-over to the store thread.

use crate::config::RenderPolicy;
use crate::politeness::Signal;
use crate::pool::CpuPool;
use crate::stats::Stats;
use crate::store::{StoreFailure, StoreHandle};
use bytes::Bytes;
use gannet_extract::Options;
use gannet_fetch::{Conditional, Exchange, ExchangeHead, FetchErrorKind, Fetcher, Robots};
use gannet_frontier::{
    Claimed, NewUrl, PageUpdate, Reject, Scope, SeenCache, UrlState, canonicalize,
    canonicalize_str, fingerprint,
};
use gannet_sink::{Format, HttpParts, PageMeta, PageRecord, prepare, rfc3339_millis};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

/// What every worker shares.
pub(crate) struct Shared {
    pub(crate) fetcher: Fetcher,
    pub(crate) store: StoreHandle,
    pub(crate) scope: Scope,
    pub(crate) format: Format,
    pub(crate) stats: Arc<Stats>,
    pub(crate) max_attempts: u32,
    /// The extraction threads (one per core).
    pub(crate) cpu: CpuPool,
    /// Bounds the memory extraction may use at once, in KiB of estimated peak (see
    /// [`extraction_cost_kib`]): a multi-megabyte page waits until it can run alone
    /// instead of stacking with others.
    pub(crate) memory: Arc<Semaphore>,
    /// The capacity of `memory`, in KiB.
    pub(crate) memory_kib: u32,
    pub(crate) render: RenderPolicy,
    /// The browser pool, when the crawl renders.
    pub(crate) browser: Option<gannet_browser::Pool>,
    /// Every render's options but its URL.
    pub(crate) render_template: gannet_browser::RenderRequest,
    /// A schema run on every page (`--schema`).
    pub(crate) schema: Option<Arc<gannet_schema::Strategy>>,
    /// An LLM extraction run on every page (`--extract`).
    pub(crate) llm: Option<crate::config::CrawlLlm>,
}

/// The job's per-host slot, which the scheduler frees early when the page no longer
/// needs its host: fetched and extracted, it waits for the LLM only (`--extract`). The
/// host's next pages are fetched meanwhile; the LLM client's global concurrency cap, not
/// the per-host limit, bounds the calls in flight.
pub(crate) struct HostSlot {
    free: Option<Box<dyn FnOnce() + Send>>,
}

impl HostSlot {
    pub(crate) fn new(free: impl FnOnce() + Send + 'static) -> HostSlot {
        HostSlot {
            free: Some(Box::new(free)),
        }
    }

    /// Frees the slot (once): the host's politeness sees the fetch's latency now.
    fn free(&mut self) {
        if let Some(free) = self.free.take() {
            free();
        }
    }

    /// Whether the slot was freed before the job ended.
    pub(crate) fn freed(&self) -> bool {
        self.free.is_none()
    }
}

/// Estimated peak memory of extracting a body of `len` bytes, in KiB: the DOM arena, its
/// text buffer, the Markdown, the text and the serialized output come to about 8 bytes
/// per input byte on real pages (measured on the rustdoc site's largest pages, 8 MB).
pub(crate) fn extraction_cost_kib(len: usize, budget_kib: u32) -> u32 {
    let kib = u32::try_from(len.saturating_mul(8) / 1024).unwrap_or(u32::MAX);
    kib.clamp(64, budget_kib.max(64))
}

/// A URL to fetch, with its attempt number.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) claimed: Claimed,
    pub(crate) attempt: u32,
}

/// How a job ended, for the scheduler.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Handed to the store (written, failed or skipped); `contacted` when a request went out.
    Finished { signal: Signal, contacted: bool },
    /// Try again after `after` (the whole host waits that long when `signal` is Overloaded).
    Retry {
        job: Job,
        after: Duration,
        signal: Signal,
    },
    /// The store failed: the crawl must stop.
    Fatal(StoreFailure),
}

/// Runs one job to its verdict; the latency is measured by the caller.
pub(crate) async fn run(
    shared: Arc<Shared>,
    robots: Arc<Robots>,
    job: Job,
    slot: &mut HostSlot,
) -> Verdict {
    let Some(url) = canonicalize_str(&job.claimed.url) else {
        return finish(&shared, &job, UrlState::Skipped, 0, "invalid URL", false).await;
    };
    if !robots.allowed(&url) {
        Stats::add(&shared.stats.robots_blocked, 1);
        return finish(&shared, &job, UrlState::Skipped, 0, "robots.txt", false).await;
    }
    if shared.render == RenderPolicy::Always {
        return rendered(&shared, job, &url, slot).await;
    }
    let conditional = Conditional {
        etag: job.claimed.etag.as_deref(),
        last_modified: job.claimed.last_modified.as_deref(),
    };
    let fetched = match shared.fetcher.exchange_head(&url, conditional).await {
        Ok(head) => {
            // Reserve memory for the body and its extraction before reading the body, so
            // that big pages queue here instead of piling up in memory.
            let reserve = (200..300).contains(&head.status()).then(|| {
                let announced = head.content_length().map_or(256 * 1024, |len| {
                    let compressed = head_is_compressed(&head);
                    usize::try_from(len)
                        .unwrap_or(usize::MAX)
                        .saturating_mul(if compressed { 5 } else { 1 })
                });
                extraction_cost_kib(announced, shared.memory_kib)
            });
            let permit = match reserve {
                Some(cost) => match Arc::clone(&shared.memory).acquire_many_owned(cost).await {
                    Ok(permit) => Some(permit),
                    Err(_) => return Verdict::Fatal(StoreFailure::Gone),
                },
                None => None,
            };
            head.finish().await.map(|exchange| (exchange, permit))
        }
        Err(error) => Err(error),
    };
    let (exchange, permit) = match fetched {
        Ok(done) => done,
        Err(error) => {
            let kind = error.kind();
            if kind.is_retryable() && job.attempt + 1 < shared.max_attempts {
                return retry(&shared, job, backoff(0), Signal::Error);
            }
            let (state, reason) = match kind {
                FetchErrorKind::UnsupportedContentType(t) => {
                    (UrlState::Skipped, format!("not a document ({t})"))
                }
                other => (UrlState::Failed, short_reason(other)),
            };
            return finish(&shared, &job, state, 0, &reason, true).await;
        }
    };
    let status = exchange.page.status;
    match status {
        200..=299 => page(&shared, job, &url, exchange, permit, true, slot).await,
        304 => {
            Stats::add(&shared.stats.not_modified, 1);
            let update = update(&job, UrlState::Done, 304, None, &exchange);
            // WARC keeps the 304 as a revisit record; other formats have nothing to write.
            let prepared = match shared.format {
                Format::Warc => match prepare(Format::Warc, not_modified(&job, exchange)) {
                    Ok(prepared) => Some(prepared),
                    Err(e) => return Verdict::Fatal(StoreFailure::Sink(e.to_string())),
                },
                _ => None,
            };
            handover(&shared, prepared, update, Vec::new(), Signal::Ok).await
        }
        300..=399 => {
            let target = exchange
                .location()
                .and_then(Result::ok)
                .and_then(canonicalize);
            let links = target
                .filter(|t| shared.scope.check(t, job.claimed.depth).is_ok())
                .map(|t| NewUrl {
                    url: t,
                    depth: job.claimed.depth,
                    referrer: Some(job.claimed.url.clone()),
                })
                .into_iter()
                .collect();
            shared.stats.reason("redirect");
            Stats::add(&shared.stats.skipped, 1);
            let mut update = update(&job, UrlState::Skipped, status, Some("redirect"), &exchange);
            update.reason = Some("redirect".into());
            handover(&shared, None, update, links, Signal::Ok).await
        }
        429 | 503 if job.attempt + 1 < shared.max_attempts => {
            let after = exchange
                .retry_after(SystemTime::now())
                .unwrap_or_else(|| backoff(job.attempt));
            retry(&shared, job, after, Signal::Overloaded)
        }
        408 | 425 | 500..=599 if job.attempt + 1 < shared.max_attempts => {
            let after = backoff(job.attempt);
            retry(&shared, job, after, Signal::Error)
        }
        _ => {
            let reason = short_reason(&FetchErrorKind::HttpStatus(status));
            let signal = if status >= 500 || status == 429 {
                Signal::Overloaded
            } else {
                Signal::Ok
            };
            Stats::add(&shared.stats.failed, 1);
            shared.stats.reason(&reason);
            let update = update(&job, UrlState::Failed, status, Some(&reason), &exchange);
            handover(&shared, None, update, Vec::new(), signal).await
        }
    }
}

/// A 304 answer as a record for the sink (a WARC revisit): no document, the exchange's
/// headers.
fn not_modified(job: &Job, exchange: Exchange) -> PageRecord {
    let date = SystemTime::now();
    PageRecord {
        document: gannet_core::Document {
            url: Some(job.claimed.url.clone()),
            ..gannet_core::Document::default()
        },
        meta: PageMeta {
            depth: job.claimed.depth,
            referrer: job.claimed.referrer.clone(),
            status: 304,
            fetched_at: rfc3339_millis(date),
            content_type: None,
            etag: exchange.header("etag").map(str::to_owned),
            last_modified: exchange.header("last-modified").map(str::to_owned),
            sha256: String::new(),
        },
        http: HttpParts {
            date,
            ip: exchange.remote_ip,
            version: exchange.version,
            request_headers: exchange.request_headers,
            response_headers: exchange.page.headers,
            body: Bytes::new(),
        },
    }
}

/// Whether the body comes compressed (its decoded size is then unknown).
fn head_is_compressed(head: &ExchangeHead) -> bool {
    head.header("content-encoding")
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("identity"))
}

/// 1 s, 2 s, 4 s ... for the `attempt`-th retry.
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1) * 2u32.saturating_pow(attempt.min(6))
}

fn retry(shared: &Shared, mut job: Job, after: Duration, signal: Signal) -> Verdict {
    Stats::add(&shared.stats.retries, 1);
    job.attempt += 1;
    Verdict::Retry { job, after, signal }
}

/// A short, stable reason for summaries ("HTTP 404 Not Found", "timed out").
fn short_reason(kind: &FetchErrorKind) -> String {
    match kind {
        FetchErrorKind::Dns(_) => "DNS lookup failed".into(),
        FetchErrorKind::Connect(_) => "connection failed".into(),
        FetchErrorKind::Tls(_) => "TLS error".into(),
        FetchErrorKind::Io(_) => "I/O error".into(),
        FetchErrorKind::Decompression(_) => "bad compressed body".into(),
        FetchErrorKind::InvalidUrl(_) => "invalid URL".into(),
        other => other.to_string(),
    }
}

fn update(
    job: &Job,
    state: UrlState,
    status: u16,
    reason: Option<&str>,
    exchange: &Exchange,
) -> PageUpdate {
    PageUpdate {
        key: job.claimed.key,
        lease: job.claimed.lease,
        state,
        status,
        reason: reason.map(str::to_owned),
        etag: exchange.header("etag").map(str::to_owned),
        last_modified: exchange.header("last-modified").map(str::to_owned),
    }
}

/// Records a URL that produced no page.
async fn finish(
    shared: &Shared,
    job: &Job,
    state: UrlState,
    status: u16,
    reason: &str,
    contacted: bool,
) -> Verdict {
    match state {
        UrlState::Failed => Stats::add(&shared.stats.failed, 1),
        _ => Stats::add(&shared.stats.skipped, 1),
    }
    shared.stats.reason(reason);
    let update = PageUpdate {
        key: job.claimed.key,
        lease: job.claimed.lease,
        state,
        status,
        reason: Some(reason.to_owned()),
        etag: None,
        last_modified: None,
    };
    match shared
        .store
        .page(None, update, Vec::new(), Vec::new())
        .await
    {
        Ok(()) => Verdict::Finished {
            signal: if contacted { Signal::Error } else { Signal::Ok },
            contacted,
        },
        Err(e) => Verdict::Fatal(e),
    }
}

async fn handover(
    shared: &Shared,
    prepared: Option<gannet_sink::Prepared>,
    update: PageUpdate,
    links: Vec<NewUrl>,
    signal: Signal,
) -> Verdict {
    handover_holding(shared, prepared, update, links, signal, Vec::new()).await
}

/// [`handover`] of a page whose memory reservation lasts until the store has written it.
async fn handover_holding(
    shared: &Shared,
    prepared: Option<gannet_sink::Prepared>,
    update: PageUpdate,
    links: Vec<NewUrl>,
    signal: Signal,
    memory: Vec<OwnedSemaphorePermit>,
) -> Verdict {
    match shared.store.page(prepared, update, links, memory).await {
        Ok(()) => Verdict::Finished {
            signal,
            contacted: true,
        },
        Err(e) => Verdict::Fatal(e),
    }
}

/// A 2xx page: extract it on the CPU pool, collect its new links, prepare its output.
/// `from_http` pages may go to the browser in smart mode; rendered ones never go back.
async fn page(
    shared: &Arc<Shared>,
    job: Job,
    url: &Url,
    exchange: Exchange,
    reserved: Option<OwnedSemaphorePermit>,
    from_http: bool,
    slot: &mut HostSlot,
) -> Verdict {
    Stats::add(&shared.stats.bytes, exchange.page.body.len() as u64);
    let fetched_at = SystemTime::now();
    // The body may be larger than announced (no Content-Length, compression).
    let cost = extraction_cost_kib(exchange.page.body.len(), shared.memory_kib);
    let held = reserved
        .as_ref()
        .map_or(0, OwnedSemaphorePermit::num_permits);
    let held = u32::try_from(held).unwrap_or(u32::MAX);
    let extra = if cost > held {
        match Arc::clone(&shared.memory)
            .acquire_many_owned(cost - held)
            .await
        {
            Ok(permit) => Some(permit),
            Err(_) => return Verdict::Fatal(StoreFailure::Gone),
        }
    } else {
        None
    };
    let memory: Vec<OwnedSemaphorePermit> = reserved.into_iter().chain(extra).collect();
    let smart = from_http && shared.render == RenderPolicy::Auto && shared.browser.is_some();
    let (prepared, update, links) =
        match extract_on_pool(shared, &job, url, exchange, fetched_at, smart).await {
            Ok(Outcome::Done(done)) => done,
            Ok(Outcome::NeedsRender(exchange)) => {
                drop(memory);
                // The page needs JavaScript: render it; if that fails, keep what HTTP gave.
                match render(shared, url).await {
                    Ok(page_rendered) => {
                        let status = effective_status(page_rendered.status);
                        if (200..300).contains(&status) {
                            let exchange = rendered_exchange(url, page_rendered);
                            return Box::pin(rendered_document(shared, job, url, exchange, slot))
                                .await;
                        }
                    }
                    Err(e) => shared
                        .stats
                        .reason(&format!("render failed ({})", render_reason(&e))),
                }
                match extract_on_pool(shared, &job, url, exchange, fetched_at, false).await {
                    Ok(Outcome::Done((output, update, links))) => {
                        let prepared = match ready(shared, &job, output, slot).await {
                            Ok(prepared) => prepared,
                            Err(verdict) => return verdict,
                        };
                        Stats::add(&shared.stats.written, 1);
                        return handover(shared, Some(prepared), update, links, Signal::Ok).await;
                    }
                    // Not with smart mode off; recorded rather than trusted.
                    Ok(Outcome::NeedsRender(_)) => {
                        return finish(shared, &job, UrlState::Failed, 0, "render failed", true)
                            .await;
                    }
                    Err(verdict) => return verdict,
                }
            }
            Err(verdict) => return verdict,
        };
    // A page waiting for the LLM gives its memory back: its DOM is gone, and holding the
    // budget through a model's latency would stall the extraction of the next pages.
    let memory = match prepared {
        Output::Ready(_) => memory,
        Output::Llm(_) => {
            drop(memory);
            Vec::new()
        }
    };
    let prepared = match ready(shared, &job, prepared, slot).await {
        Ok(prepared) => prepared,
        Err(verdict) => return verdict,
    };
    Stats::add(&shared.stats.written, 1);
    // The output stays charged to the budget until the store thread has written it.
    handover_holding(shared, Some(prepared), update, links, Signal::Ok, memory).await
}

/// A page's output: ready for the sink, or waiting for its LLM extraction.
enum Output {
    Ready(gannet_sink::Prepared),
    Llm(Box<PageRecord>),
}

type Processed = (Output, PageUpdate, Vec<NewUrl>);

/// The page's output for the sink: with `--extract`, the LLM's value (or its error) and
/// its tokens go into the record first. The host's slot is freed before the call.
async fn ready(
    shared: &Arc<Shared>,
    job: &Job,
    output: Output,
    slot: &mut HostSlot,
) -> Result<gannet_sink::Prepared, Verdict> {
    let mut record = match output {
        Output::Ready(prepared) => return Ok(prepared),
        Output::Llm(record) => record,
    };
    let Some(llm) = &shared.llm else {
        return Err(Verdict::Fatal(StoreFailure::Sink(
            "an LLM step without an LLM".into(),
        )));
    };
    slot.free();
    let text = crate::page::extraction::titled_markdown(&record.document);
    let started = tokio::time::Instant::now();
    match llm.client.extract(&text, llm.instruction.clone()).await {
        Ok(out) => {
            record.document.extracted = Some(out.value);
            record.document.usage = Some(serde_json::json!({
                "prompt_tokens": out.usage.prompt_tokens,
                "completion_tokens": out.usage.completion_tokens,
                "total_tokens": out.usage.total_tokens(),
                "requests": out.usage.requests,
                "chunks": out.chunks,
                "truncated": out.truncated,
            }));
        }
        Err(e) => {
            // Recorded in the page's record, as a schema's failure is; the crawl goes on.
            let error = crate::page::ExtractionError::of_llm(&e);
            tracing::warn!(url = %job.claimed.url, error = %e, code = error.code(), elapsed_ms = started.elapsed().as_millis() as u64, "LLM extraction failed");
            shared
                .stats
                .reason(&format!("LLM extraction failed ({})", error.code()));
            record.document.extracted = Some(serde_json::json!({
                "error": error.to_string(),
                "code": error.code(),
            }));
        }
    }
    let format = shared.format;
    match shared.cpu.run(move || prepare(format, *record)).await {
        Some(Ok(prepared)) => Ok(prepared),
        Some(Err(e)) => Err(Verdict::Fatal(StoreFailure::Sink(e.to_string()))),
        None => Err(finish(shared, job, UrlState::Failed, 0, "extraction failed", true).await),
    }
}

/// What extraction made of a page.
enum Outcome {
    Done(Processed),
    /// Smart mode: the page needs JavaScript (the exchange comes back for a fallback).
    NeedsRender(Exchange),
}

/// Runs [`process`] on the extraction pool; a failure is the verdict to return.
async fn extract_on_pool(
    shared: &Arc<Shared>,
    job: &Job,
    url: &Url,
    exchange: Exchange,
    fetched_at: SystemTime,
    smart: bool,
) -> Result<Outcome, Verdict> {
    let work = {
        let shared = Arc::clone(shared);
        let url = url.clone();
        let job = job.clone();
        move || process(&shared, &job, &url, exchange, fetched_at, smart)
    };
    match shared.cpu.run(work).await {
        Some(Ok(outcome)) => Ok(outcome),
        Some(Err(e)) => Err(Verdict::Fatal(StoreFailure::Sink(e.to_string()))),
        // Extraction panicked: a bug, but one page must not end the crawl.
        None => Err(finish(shared, job, UrlState::Failed, 0, "extraction failed", true).await),
    }
}

fn process(
    shared: &Shared,
    job: &Job,
    url: &Url,
    exchange: Exchange,
    fetched_at: SystemTime,
    smart: bool,
) -> std::io::Result<Outcome> {
    let body: Bytes = exchange.page.body.clone();
    let options = Options {
        raw: false,
        charset: exchange.page.charset.clone(),
        skip_links: false,
    };
    let document = match &shared.schema {
        None => gannet_extract::extract(&body, Some(url), &options),
        Some(strategy) => with_schema(strategy, &body, url, &options),
    };
    if smart
        && crate::page::smart_render(
            exchange.page.content_type.as_deref(),
            &body,
            document.word_count,
        )
        .is_some()
    {
        return Ok(Outcome::NeedsRender(exchange));
    }
    let links = new_links(shared, &document.links, job);
    let update = update(job, UrlState::Done, exchange.page.status, None, &exchange);
    let meta = PageMeta {
        depth: job.claimed.depth,
        referrer: job.claimed.referrer.clone(),
        status: exchange.page.status,
        fetched_at: rfc3339_millis(fetched_at),
        content_type: exchange.page.content_type.clone(),
        etag: update.etag.clone(),
        last_modified: update.last_modified.clone(),
        sha256: hex(&Sha256::digest(&body)),
    };
    let record = PageRecord {
        document,
        meta,
        http: HttpParts {
            date: fetched_at,
            ip: exchange.remote_ip,
            version: exchange.version,
            request_headers: exchange.request_headers,
            response_headers: exchange.page.headers,
            body,
        },
    };
    if shared.llm.is_some() {
        return Ok(Outcome::Done((
            Output::Llm(Box::new(record)),
            update,
            links,
        )));
    }
    let prepared = prepare(shared.format, record)?;
    Ok(Outcome::Done((Output::Ready(prepared), update, links)))
}

/// Extraction with a schema: the items from the page's one parse, then its document.
fn with_schema(
    strategy: &gannet_schema::Strategy,
    body: &[u8],
    url: &Url,
    options: &Options,
) -> gannet_core::Document {
    let (text, _) = gannet_extract::decode::decode_html(body, options.charset.as_deref());
    let parsed = gannet_extract::ParsedPage::parse(&text, Some(url));
    let items = match strategy {
        gannet_schema::Strategy::Json(schema) => schema.extract(parsed.dom()),
        // Regexes read the page source here, as `gannet extract --schema-type regex` does.
        gannet_schema::Strategy::Regex { strategy, .. } => {
            Ok(strategy.extract(url.as_str(), &text))
        }
    };
    let extracted = match items {
        Ok(items) => serde_json::Value::Array(items),
        Err(e) => {
            tracing::warn!(url = %url, error = %e, "schema extraction failed");
            serde_json::json!({"error": e.to_string()})
        }
    };
    let mut document = parsed.into_document(options, false).0;
    document.extracted = Some(extracted);
    document
}

/// `--render always`: the page comes from the browser instead of an HTTP exchange.
async fn rendered(shared: &Arc<Shared>, job: Job, url: &Url, slot: &mut HostSlot) -> Verdict {
    match render(shared, url).await {
        Ok(page_rendered) => {
            let status = effective_status(page_rendered.status);
            if !(200..300).contains(&status) {
                let reason = short_reason(&FetchErrorKind::HttpStatus(status));
                Stats::add(&shared.stats.failed, 1);
                shared.stats.reason(&reason);
                let update = PageUpdate {
                    key: job.claimed.key,
                    lease: job.claimed.lease,
                    state: UrlState::Failed,
                    status,
                    reason: Some(reason),
                    etag: None,
                    last_modified: None,
                };
                let signal = if status >= 500 || status == 429 {
                    Signal::Overloaded
                } else {
                    Signal::Ok
                };
                return handover(shared, None, update, Vec::new(), signal).await;
            }
            let exchange = rendered_exchange(url, page_rendered);
            rendered_document(shared, job, url, exchange, slot).await
        }
        Err(e) => {
            use gannet_browser::Error as E;
            let transient = matches!(
                e,
                E::Busy(_) | E::BrowserGone(_) | E::Timeout { .. } | E::Protocol(_) | E::Launch(_)
            );
            if transient && job.attempt + 1 < shared.max_attempts {
                let after = backoff(job.attempt);
                return retry(shared, job, after, Signal::Error);
            }
            finish(shared, &job, UrlState::Failed, 0, &render_reason(&e), true).await
        }
    }
}

/// Extracts and hands over a rendered page.
async fn rendered_document(
    shared: &Arc<Shared>,
    job: Job,
    url: &Url,
    exchange: Exchange,
    slot: &mut HostSlot,
) -> Verdict {
    Stats::add(&shared.stats.rendered, 1);
    page(shared, job, url, exchange, None, false, slot).await
}

async fn render(
    shared: &Shared,
    url: &Url,
) -> Result<gannet_browser::Rendered, gannet_browser::Error> {
    let Some(pool) = &shared.browser else {
        return Err(gannet_browser::Error::Closed);
    };
    let mut req = shared.render_template.clone();
    req.url = url.clone();
    pool.render(&req).await
}

/// A document the browser got without a status (a file, a cached page) counts as 200.
fn effective_status(status: u16) -> u16 {
    if status == 0 { 200 } else { status }
}

/// A short, stable reason for a failed render.
fn render_reason(e: &gannet_browser::Error) -> String {
    use gannet_browser::Error as E;
    match e {
        E::Navigation { reason, .. } => reason.clone(),
        E::Timeout { .. } => "render timed out".into(),
        E::BrowserGone(_) => "browser crashed".into(),
        E::Busy(_) => "browser pool busy".into(),
        E::Launch(_) | E::NoChromium(_) => "browser unavailable".into(),
        E::Protocol(_) => "browser protocol error".into(),
        E::Invalid(_) => "invalid render request".into(),
        E::Closed => "browser pool closed".into(),
    }
}

/// A rendered DOM dressed as an exchange, so extraction, links and sinks treat it like
/// any page. It has no HTTP headers of its own: the browser made the requests.
fn rendered_exchange(url: &Url, r: gannet_browser::Rendered) -> Exchange {
    let final_url = Url::parse(&r.final_url).unwrap_or_else(|_| url.clone());
    Exchange {
        page: gannet_fetch::FetchedPage {
            url: final_url,
            status: effective_status(r.status),
            content_type: Some("text/html".into()),
            charset: Some("utf-8".into()),
            headers: Vec::new(),
            body: Bytes::from(r.html),
            redirects: Vec::new(),
        },
        version: "HTTP/1.1",
        remote_ip: None,
        request_headers: Vec::new(),
    }
}

thread_local! {
    /// The seen screen of this extraction thread (4 MiB). One per thread, so no lock: a
    /// link new to one thread but known to another is dropped by the frontier instead.
    static SEEN: std::cell::RefCell<SeenCache> = std::cell::RefCell::new(SeenCache::new(19));
}

/// The page's links that may be new: screened by the in-memory seen cache, then
/// canonicalized and checked against the scope.
fn new_links(shared: &Shared, links: &[gannet_core::Link], job: &Job) -> Vec<NewUrl> {
    let depth = job.claimed.depth + 1;
    let mut fresh: Vec<(&str, i64)> = Vec::new();
    SEEN.with_borrow_mut(|seen| {
        for link in links {
            let href = link.href.split('#').next().unwrap_or_default();
            if !(href.starts_with("http://") || href.starts_with("https://")) {
                continue;
            }
            let fp = fingerprint(href);
            if seen.check_and_insert(fp) {
                Stats::add(&shared.stats.duplicate_links, 1);
            } else {
                fresh.push((href, fp));
            }
        }
    });
    let mut too_deep = Vec::new();
    let links = fresh
        .into_iter()
        .filter_map(|(href, fp)| {
            let url = canonicalize_str(href)?;
            match shared.scope.check(&url, depth) {
                Ok(()) => Some(NewUrl {
                    url,
                    depth,
                    referrer: Some(job.claimed.url.clone()),
                }),
                // Found too deep here, it may be found shallower elsewhere: not "seen".
                Err(Reject::TooDeep) => {
                    too_deep.push(fp);
                    None
                }
                Err(_) => None,
            }
        })
        .collect();
    if !too_deep.is_empty() {
        SEEN.with_borrow_mut(|seen| too_deep.into_iter().for_each(|fp| seen.forget(fp)));
    }
    links
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}
