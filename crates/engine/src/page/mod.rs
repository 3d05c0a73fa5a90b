//! The page service: one page, whatever asks for it (`gannet scrape`, every API dialect
//! of `gannet serve`, its MCP tools) — admission (a bounded wait for a slot, memory
//! shedding), an HTTP fetch or a render under one [`RenderPolicy`], and extraction on the
//! blocking pool from one parse of the page ([`gannet_extract::ParsedPage`]). It owns what
//! pages share: the HTTP fetcher, the browser pool (started on first use), the page
//! slots, the extraction gate and the flights of identical requests. No HTTP server
//! types: the server maps a [`PageError`] to its answers.
//!
//! The smart-mode decision (does an HTTP page need JavaScript?) is [`smart_render`], the
//! one place that asks [`gannet_browser::smart::needs_render`]; the crawl worker asks it
//! too.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gannet_browser::{Block, Pool, RenderRequest, Screenshot, WaitFor};
use gannet_core::Document;
use gannet_fetch::{FetchConfig, Fetcher};
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

pub use crate::config::RenderPolicy;
use extraction::RegexInput;
pub use extraction::{Extracted, Extraction, ExtractionError, LlmInput};
use flights::{FlightKey, Flights, Landing};

pub(crate) mod extraction;
mod flights;

/// Settings of a [`PageService`].
#[derive(Debug, Clone)]
pub struct PageConfig {
    /// Fetch private, loopback and link-local addresses (a user's own tool: yes; a
    /// server answering the network: no).
    pub allow_private: bool,
    /// Time allowed for one HTTP fetch.
    pub fetch_timeout: Duration,
    /// Time allowed to connect (`None`: the fetcher's default).
    pub connect_timeout: Option<Duration>,
    /// Largest decoded body accepted, in bytes.
    pub max_page_bytes: u64,
    /// Pages fetched or rendered at once.
    pub max_pages_in_flight: usize,
    /// Pages that may wait for a slot; more are refused as busy.
    pub max_pages_waiting: usize,
    /// How long a page waits for a slot.
    pub queue_timeout: Duration,
    /// In smart mode the HTTP version is in hand: wait this long for a browser, not the
    /// pool's whole queue deadline (`None`: the pool's).
    pub smart_render_wait: Option<Duration>,
    /// Refuse new pages when memory use reaches this fraction of the limit (above 1:
    /// never).
    pub shed_memory_fraction: f64,
    /// Extractions at once (FIFO); 0: unlimited.
    pub extract_concurrency: usize,
    /// The browser pool, started on first use.
    pub browser: gannet_browser::PoolConfig,
}

impl Default for PageConfig {
    fn default() -> Self {
        PageConfig {
            allow_private: true,
            fetch_timeout: Duration::from_secs(30),
            connect_timeout: None,
            max_page_bytes: 10 * 1024 * 1024,
            max_pages_in_flight: 8,
            max_pages_waiting: usize::MAX,
            queue_timeout: Duration::from_secs(24 * 3600),
            smart_render_wait: None,
            shed_memory_fraction: f64::INFINITY,
            extract_concurrency: 0,
            browser: gannet_browser::PoolConfig::default(),
        }
    }
}

/// Where a page's time went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// HTTP fetch, until the whole body is in.
    Fetch,
    /// Decoding, parsing, extraction, Markdown.
    Extract,
    /// Browser render, waits included.
    Render,
}

/// What the page service reports as it works (the server counts it for Prometheus).
/// Every method does nothing by default.
pub trait PageEvents: Send + Sync {
    /// A stage of one page took `elapsed`.
    fn stage(&self, _stage: Stage, _elapsed: Duration) {}
    /// A page was rendered.
    fn rendered(&self) {}
    /// Smart mode wanted a render and kept the HTTP version.
    fn render_skipped(&self) {}
    /// A page was refused for load (memory, queue).
    fn shed(&self) {}
    /// An LLM call ended: its tokens when it answered, `None` when it failed.
    fn llm(&self, _usage: Option<&gannet_llm::Usage>) {}
}

/// [`PageEvents`] that go nowhere.
#[derive(Debug, Default)]
pub struct NoEvents;

impl PageEvents for NoEvents {}

/// What every page request shares.
pub struct PageService {
    cfg: PageConfig,
    fetcher: Fetcher,
    pool: OnceCell<Result<Pool, String>>,
    browser: gannet_browser::PoolConfig,
    pages: Arc<Semaphore>,
    /// Extraction slots (FIFO), when limited.
    extract_gate: Option<Arc<Semaphore>>,
    waiting: AtomicUsize,
    events: Arc<dyn PageEvents>,
    memory: gannet_browser::memory::MemoryProbe,
    /// Identical page requests in flight together.
    flights: Flights,
    /// The LLM client, or why there is none ("LLM not configured: set ...").
    llm: Result<gannet_llm::LlmClient, String>,
}

/// The service could not be built (the HTTP client).
#[derive(Debug, thiserror::Error)]
#[error("building the HTTP client: {0}")]
pub struct PageServiceError(#[from] pub gannet_fetch::FetchError);

impl PageService {
    /// A service with `cfg`, reporting to `events`.
    pub fn new(cfg: PageConfig, events: Arc<dyn PageEvents>) -> Result<Self, PageServiceError> {
        let mut browser = cfg.browser.clone();
        if !cfg.allow_private {
            // Every request the browser makes goes through the egress guard.
            let policy: gannet_browser::egress::Policy =
                Arc::new(|ip: IpAddr| match gannet_fetch::classify(ip) {
                    None => Ok(()),
                    Some(blocked) => Err(blocked.to_string()),
                });
            browser.egress = Some(gannet_browser::egress::EgressPolicy(policy));
        }
        let mut fetch = FetchConfig {
            timeout: cfg.fetch_timeout,
            max_body_bytes: cfg.max_page_bytes,
            // Names are checked after resolution, on every redirect hop (gannet_fetch::guard).
            allow_private: cfg.allow_private,
            ..FetchConfig::default()
        };
        if let Some(connect) = cfg.connect_timeout {
            fetch.connect_timeout = connect;
        }
        let fetcher = Fetcher::new(fetch)?;
        Ok(Self {
            pages: Arc::new(Semaphore::new(cfg.max_pages_in_flight.max(1))),
            extract_gate: (cfg.extract_concurrency > 0)
                .then(|| Arc::new(Semaphore::new(cfg.extract_concurrency))),
            waiting: AtomicUsize::new(0),
            events,
            memory: gannet_browser::memory::MemoryProbe::default(),
            flights: Flights::default(),
            fetcher,
            pool: OnceCell::new(),
            browser,
            cfg,
            llm: Err("LLM not configured: set GANNET_LLM_BASE_URL and GANNET_LLM_MODEL".into()),
        })
    }

    /// The LLM client extractions use (from [`gannet_llm::LlmClient::from_env`] usually);
    /// an error is kept and given as the reason of every LLM extraction's failure.
    pub fn with_llm(mut self, llm: Result<gannet_llm::LlmClient, gannet_llm::LlmError>) -> Self {
        self.llm = llm.map_err(|e| e.to_string());
        self
    }

    /// The LLM client, or why there is none.
    pub fn llm(&self) -> Result<&gannet_llm::LlmClient, &str> {
        self.llm.as_ref().map_err(String::as_str)
    }

    /// Its settings.
    pub fn config(&self) -> &PageConfig {
        &self.cfg
    }

    /// The HTTP fetcher.
    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    /// The browser pool, started on first use. An error (no Chromium) is kept and repeated.
    pub async fn pool(&self) -> Result<&Pool, String> {
        let pool = self
            .pool
            .get_or_init(|| async { Pool::new(self.browser.clone()).map_err(|e| e.to_string()) })
            .await;
        pool.as_ref().map_err(Clone::clone)
    }

    /// Whether a render can be tried (the pool started, or was never asked for).
    pub fn browser_available(&self) -> bool {
        self.pool.get().is_none_or(Result::is_ok)
    }

    /// The pool if it has been started.
    pub fn started_pool(&self) -> Option<&Pool> {
        self.pool.get().and_then(|p| p.as_ref().ok())
    }

    /// Used and limit bytes (cgroup, else host).
    pub fn memory_reading(&self) -> Option<(u64, u64)> {
        self.memory.read().map(|r| (r.used, r.limit))
    }

    fn memory_pressure(&self) -> Option<f64> {
        if !self.cfg.shed_memory_fraction.is_finite() {
            return None;
        }
        self.memory.read().map(|r| r.pressure())
    }

    /// Pages being fetched or rendered.
    pub fn in_flight(&self) -> usize {
        self.cfg.max_pages_in_flight.max(1) - self.pages.available_permits()
    }

    /// Pages waiting for a slot.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Flights under way, and requests that joined one, ever.
    pub fn flight_stats(&self) -> (usize, u64) {
        self.flights.stats()
    }

    /// Refuses, before any network use, URLs whose host is a literal private address or
    /// `localhost` when private addresses are not allowed (names are checked again after
    /// resolution by the fetcher's guard, and every browser request by the egress guard).
    pub fn check_url(&self, url: &Url) -> Result<(), PageError> {
        if self.cfg.allow_private {
            return Ok(());
        }
        if let Some(url::Host::Domain(d)) = url.host()
            && (d.eq_ignore_ascii_case("localhost")
                || d.to_ascii_lowercase().ends_with(".localhost"))
        {
            return Err(PageError::forbidden(
                "loopback",
                format!("refused: {url} names this machine (localhost)"),
            ));
        }
        self.fetcher
            .check_url(url)
            .map_err(|e| PageError::of_fetch(&e))
    }

    /// Resolves a URL's host name and refuses it when every address it has is refused, as
    /// the fetcher's resolver does (the browser's egress guard checks each connection
    /// again). A name that does not resolve passes: the render reports it.
    async fn check_resolved(&self, url: &Url, limit: Duration) -> Result<(), PageError> {
        let (Some(guard), Some(url::Host::Domain(host))) =
            (self.fetcher.address_guard(), url.host())
        else {
            return Ok(());
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let resolved = tokio::time::timeout(limit, tokio::net::lookup_host((host, port))).await;
        let Ok(Ok(addrs)) = resolved else {
            return Ok(());
        };
        match guard.filter_resolved(host, addrs) {
            Ok(_) => Ok(()),
            Err(refusal) => Err(PageError::forbidden(
                class_name(refusal.blocked().class),
                format!("{url}: {refusal}"),
            )),
        }
    }

    /// Closes the browsers.
    pub async fn shutdown(&self) {
        if let Some(pool) = self.started_pool() {
            pool.shutdown().await;
        }
    }

    /// Produces one page; identical HTTP-mode requests in flight together share the work
    /// ([`Flights`]). If the request that does the work goes away, a waiter takes it over.
    /// An LLM extraction or summary runs after the page, outside its slot.
    pub async fn get(&self, mut req: PageRequest) -> Result<Page, PageError> {
        let llm_input = extraction::llm_text(req.extraction.as_ref(), req.summary);
        // The LLM's input may be a view the caller did not ask for: made, then dropped.
        let add_raw = llm_input == Some(LlmInput::PageMarkdown) && !req.want_raw_markdown;
        let add_html = llm_input == Some(LlmInput::Html) && !req.want_cleaned_html;
        req.want_raw_markdown |= add_raw;
        req.want_cleaned_html |= add_html;
        let llm = llm_input.map(|input| {
            let extraction = req.extraction.clone().filter(Extraction::uses_llm);
            (input, extraction, req.summary)
        });
        let mut page = if req.needs_browser() || req.extraction.is_some() || req.summary {
            produce(self, req).await?
        } else {
            self.shared(req).await?
        };
        if let Some((input, extraction, summary)) = llm {
            let text = match input {
                LlmInput::MainMarkdown => extraction::titled_markdown(&page.doc),
                LlmInput::PageMarkdown => page
                    .raw_doc
                    .as_ref()
                    .map_or_else(|| page.doc.markdown.clone(), |d| d.markdown.clone()),
                LlmInput::Html => page.cleaned_html.clone().unwrap_or_default(),
            };
            if let Some(extraction) = extraction {
                let out = extraction::run_llm(self.llm(), &extraction, &text).await;
                self.count_llm(&out);
                page.extracted = Some(out);
            }
            if summary {
                let out = extraction::run_summary(self.llm(), &text).await;
                self.count_llm(&out);
                page.summary = Some(out);
            }
        }
        if add_raw {
            page.raw_doc = None;
        }
        if add_html {
            page.cleaned_html = None;
        }
        Ok(page)
    }

    fn count_llm(&self, out: &Result<Extracted, ExtractionError>) {
        match out {
            Ok(e) => self.events.llm(e.usage.as_ref()),
            Err(ExtractionError::NotConfigured(_)) => {}
            Err(_) => self.events.llm(None),
        }
    }

    /// [`produce`], shared with identical requests in flight.
    async fn shared(&self, req: PageRequest) -> Result<Page, PageError> {
        let key = FlightKey::of(&req);
        let flight = self.flights.join(&key);
        let landing = Landing {
            flights: &self.flights,
            key: &key,
            flight: &flight,
        };
        flight.get_or_init(|| produce(self, req)).await;
        drop(landing);
        // The last one out takes the page without a copy.
        let outcome = match Arc::try_unwrap(flight) {
            Ok(cell) => cell.into_inner(),
            Err(shared) => shared.get().cloned(),
        };
        outcome.unwrap_or_else(|| Err(PageError::busy("the page was abandoned")))
    }
}

/// The smart-mode decision, the one call site of [`gannet_browser::smart::needs_render`]:
/// whether a page fetched over HTTP needs JavaScript, from its main content's word count
/// (enough words: no), its content type (only HTML can) and its source (any charset: the
/// signals are ASCII).
pub fn smart_render(
    content_type: Option<&str>,
    source: &[u8],
    content_words: usize,
) -> Option<gannet_browser::smart::RenderReason> {
    if content_words >= gannet_browser::smart::ENOUGH_WORDS
        || content_type.is_some_and(|ct| !ct.contains("html"))
    {
        return None;
    }
    gannet_browser::smart::needs_render(&String::from_utf8_lossy(source), content_words)
}

/// What a request wants from one page.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub url: Url,
    pub render: RenderPolicy,
    pub wait: WaitFor,
    /// Scripts run in order after the wait; the last one's value is the result.
    pub js: Vec<String>,
    pub screenshot: Option<Screenshot>,
    pub pdf: bool,
    pub viewport: Option<(u32, u32)>,
    pub block: Vec<Block>,
    pub timeout: Duration,
    pub session: Option<String>,
    pub browser: gannet_browser::BrowserConfig,
    /// The document is the whole page, not its main content (`gannet scrape --raw`).
    pub whole_page: bool,
    /// Also extract the whole page (no main-content selection) as Markdown.
    pub want_raw_markdown: bool,
    /// Also serialize the cleaned content (main content, or the whole page) as HTML.
    pub want_cleaned_html: bool,
    /// Also the blocks of the whole page that bear on a query (BM25).
    pub focus: Option<Focus>,
    /// The page's link list (`/md` answers with Markdown alone and skips it).
    pub want_links: bool,
    /// Structured data to extract: a schema, or an LLM instruction or question.
    pub extraction: Option<Extraction>,
    /// Also a summary of the page by the LLM (Firecrawl's `summary` format).
    pub summary: bool,
}

/// A query-focused view of a page: the whole page's Markdown filtered with BM25
/// ([`gannet_extract::relevance`]), crawl4ai's `bm25` filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Focus {
    /// Empty: the page's own title and description stand for the query.
    pub query: String,
    pub threshold: f32,
}

impl PageRequest {
    /// A smart-mode request for `url` with every default.
    pub fn new(url: Url, timeout: Duration) -> Self {
        Self {
            url,
            render: RenderPolicy::Auto,
            wait: WaitFor::Auto,
            js: Vec::new(),
            screenshot: None,
            pdf: false,
            viewport: None,
            block: Vec::new(),
            timeout,
            session: None,
            browser: gannet_browser::BrowserConfig::default(),
            whole_page: false,
            want_raw_markdown: false,
            want_cleaned_html: false,
            focus: None,
            want_links: true,
            extraction: None,
            summary: false,
        }
    }

    /// Whether the request asks for what only a browser gives (a screenshot, a script...).
    pub fn wants_browser_features(&self) -> bool {
        self.screenshot.is_some()
            || self.pdf
            || !self.js.is_empty()
            || self.wait != WaitFor::Auto
            || self.session.is_some()
    }

    /// Whether the page goes straight to the browser.
    pub fn needs_browser(&self) -> bool {
        match self.render {
            RenderPolicy::Never => false,
            RenderPolicy::Always => true,
            RenderPolicy::Auto => self.wants_browser_features(),
        }
    }
}

/// A page, fetched or rendered, and what extraction made of it.
#[derive(Debug, Clone)]
pub struct Page {
    pub final_url: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The page source (decoded) or the rendered DOM.
    pub html: String,
    /// The main content (or the whole page, with [`PageRequest::whole_page`]).
    pub doc: Document,
    pub raw_doc: Option<Document>,
    pub cleaned_html: Option<String>,
    /// The query-focused Markdown, when the request had a [`Focus`].
    pub focused: Option<String>,
    pub screenshot: Option<Vec<u8>>,
    pub pdf: Option<Vec<u8>>,
    pub js_result: Option<serde_json::Value>,
    pub js_error: Option<String>,
    pub rendered: bool,
    /// Smart mode rendered the page: why it needed JavaScript.
    pub render_reason: Option<String>,
    /// Smart mode wanted a render but kept the HTTP version: why (browser busy, render
    /// failed, no browser on this machine).
    pub render_skipped: Option<String>,
    /// The browser's time on the page, when rendered.
    pub render_time: Option<Duration>,
    /// The request's [`Extraction`]: its value, or why there is none.
    pub extracted: Option<Result<Extracted, ExtractionError>>,
    /// The LLM's summary (a string value), when asked.
    pub summary: Option<Result<Extracted, ExtractionError>>,
    pub elapsed: Duration,
}

/// Why a page could not be produced: the message names the URL and the problem.
#[derive(Debug, Clone)]
pub struct PageError {
    pub status: Option<u16>,
    pub message: String,
    pub kind: Failure,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PageError {}

/// What kind of failure a [`PageError`] is: it decides the answer's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The page could not be fetched, rendered or extracted.
    Page,
    /// The service is overloaded: the whole request should wait and retry.
    Busy,
    /// The address guard refused the URL or a redirect hop: the class of the address,
    /// e.g. `private`, `loopback`, `link-local`, `cloud-metadata`.
    Forbidden(String),
}

impl PageError {
    /// The page failed (`status`: the origin's HTTP status, if it answered).
    pub fn failed(status: Option<u16>, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind: Failure::Page,
        }
    }

    /// The service is overloaded.
    pub fn busy(message: impl Into<String>) -> Self {
        Self {
            status: None,
            message: message.into(),
            kind: Failure::Busy,
        }
    }

    fn forbidden(class: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: None,
            message: message.into(),
            kind: Failure::Forbidden(class.into()),
        }
    }

    /// A fetch's failure: a refusal of the address guard is [`Failure::Forbidden`].
    fn of_fetch(e: &gannet_fetch::FetchError) -> Self {
        match e.kind() {
            gannet_fetch::FetchErrorKind::ForbiddenAddress(refusal) => {
                Self::forbidden(class_name(refusal.blocked().class), e.to_string())
            }
            gannet_fetch::FetchErrorKind::HttpStatus(s) => Self::failed(Some(*s), e.to_string()),
            _ => Self::failed(None, e.to_string()),
        }
    }

    /// Whether the service was too busy.
    pub fn is_busy(&self) -> bool {
        self.kind == Failure::Busy
    }

    /// Whether the whole request fails with this page (busy, or a refused address), rather
    /// than reporting it among other pages' results.
    pub fn fails_the_request(&self) -> bool {
        self.kind != Failure::Page
    }
}

/// The address class as a machine-readable name: `cloud metadata` → `cloud-metadata`.
fn class_name(class: gannet_fetch::AddressClass) -> String {
    class.name().to_ascii_lowercase().replace(' ', "-")
}

/// Waits for a page slot (bounded queue with a deadline) and checks memory first.
async fn admit(state: &PageService) -> Result<tokio::sync::OwnedSemaphorePermit, PageError> {
    let busy = PageError::busy;
    if let Some(pressure) = state.memory_pressure()
        && pressure >= state.cfg.shed_memory_fraction
    {
        state.events.shed();
        return Err(busy(format!(
            "memory is {:.0}% of the limit: shedding load, retry shortly",
            pressure * 100.0
        )));
    }
    if let Ok(permit) = state.pages.clone().try_acquire_owned() {
        return Ok(permit);
    }
    let waiting = state.waiting.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = Waiting(&state.waiting);
    if waiting > state.cfg.max_pages_waiting {
        state.events.shed();
        return Err(busy(format!(
            "{} pages are already waiting (limit {})",
            waiting - 1,
            state.cfg.max_pages_waiting
        )));
    }
    match tokio::time::timeout(state.cfg.queue_timeout, state.pages.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => {
            state.events.shed();
            Err(busy(format!(
                "no page slot within {} s",
                state.cfg.queue_timeout.as_secs()
            )))
        }
    }
}

struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Produces one page.
async fn produce(state: &PageService, req: PageRequest) -> Result<Page, PageError> {
    // A refused address needs no slot.
    state.check_url(&req.url)?;
    let _slot = admit(state).await?;
    let started = Instant::now();
    let fail = PageError::failed;
    if req.needs_browser() {
        // The browser's requests go through the egress guard, which can only fail the
        // navigation: check the name here so a refusal is answered as one.
        state.check_resolved(&req.url, req.timeout).await?;
        return render(state, &req, None, None, started).await;
    }
    let fetch_started = Instant::now();
    let fetched = tokio::time::timeout(req.timeout, state.fetcher.fetch(&req.url))
        .await
        .map_err(|_| {
            fail(
                None,
                format!("{}: timed out after {:?}", req.url, req.timeout),
            )
        })?
        .map_err(|e| PageError::of_fetch(&e))?;
    state.events.stage(Stage::Fetch, fetch_started.elapsed());
    let url = fetched.url.clone();
    let wants = Wants::of(&req);
    let smart = req.render == RenderPolicy::Auto;
    let status = fetched.status;
    let headers = fetched.headers.clone();
    let gate = extraction_slot(state).await;
    let extracted = tokio::task::spawn_blocking(move || {
        let _gate = gate;
        let started = Instant::now();
        let (text, _) =
            gannet_extract::decode::decode_html(&fetched.body, fetched.charset.as_deref());
        let html = text.into_owned();
        let parts = extract(&html, &url, &wants);
        let needs = smart
            .then(|| {
                smart_render(
                    fetched.content_type.as_deref(),
                    html.as_bytes(),
                    parts.doc.word_count,
                )
            })
            .flatten();
        (html, parts, needs, started.elapsed())
    })
    .await
    .map_err(|e| fail(None, format!("extraction failed: {e}")))?;
    let (html, parts, needs, took) = extracted;
    state.events.stage(Stage::Extract, took);
    // Smart mode: a render is an upgrade of a page we already have. It waits for a
    // browser slot only briefly (a burst of script-built pages must not hold every client
    // of a busy server for the pool's whole queue deadline), and when the browser cannot
    // help, the HTTP version stands, marked with the reason.
    let mut render_skipped = None;
    if let Some(reason) = needs {
        if !state.browser_available() {
            render_skipped = Some("the page needs JavaScript but no browser is available".into());
        } else {
            match render(state, &req, Some(status), Some(reason.to_string()), started).await {
                Ok(page) => return Ok(page),
                Err(e) => {
                    state.events.render_skipped();
                    render_skipped = Some(if e.is_busy() {
                        format!("the browser was busy ({})", e.message)
                    } else {
                        format!("the render failed ({})", e.message)
                    });
                }
            }
        }
    }
    Ok(Page {
        final_url: parts.doc.url.clone().unwrap_or_else(|| req.url.to_string()),
        status,
        headers,
        html,
        doc: parts.doc,
        raw_doc: parts.raw_doc,
        cleaned_html: parts.cleaned_html,
        focused: parts.focused,
        screenshot: None,
        pdf: None,
        js_result: None,
        js_error: None,
        rendered: false,
        render_reason: None,
        render_skipped,
        render_time: None,
        extracted: parts.extracted,
        summary: None,
        elapsed: started.elapsed(),
    })
}

/// An extraction slot when extractions are limited (tokio's semaphore is fair: FIFO).
/// Under load, a few extractions at a time finish in arrival order, instead of every page
/// in flight sharing the cores and a big page's time stretching with the crowd.
async fn extraction_slot(state: &PageService) -> Option<tokio::sync::OwnedSemaphorePermit> {
    match &state.extract_gate {
        Some(gate) => gate.clone().acquire_owned().await.ok(),
        None => None,
    }
}

/// What a request wants made of a page besides the main content.
struct Wants {
    whole_page: bool,
    raw: bool,
    cleaned: bool,
    links: bool,
    focus: Option<Focus>,
    /// A deterministic strategy to run on the parse.
    schema: Option<Arc<gannet_schema::Strategy>>,
}

impl Wants {
    fn of(req: &PageRequest) -> Self {
        Self {
            whole_page: req.whole_page,
            raw: req.want_raw_markdown,
            cleaned: req.want_cleaned_html,
            links: req.want_links,
            focus: req.focus.clone(),
            schema: match &req.extraction {
                Some(Extraction::Schema(s)) => Some(s.clone()),
                _ => None,
            },
        }
    }
}

/// The views of one page.
struct Views {
    doc: Document,
    raw_doc: Option<Document>,
    cleaned_html: Option<String>,
    focused: Option<String>,
    extracted: Option<Result<Extracted, ExtractionError>>,
}

/// Every view a request wants of a page, from one parse.
fn extract(html: &str, url: &Url, wants: &Wants) -> Views {
    let parsed = gannet_extract::ParsedPage::parse(html, Some(url));
    let whole = gannet_extract::Options {
        raw: true,
        charset: None,
        skip_links: true,
    };
    // The query filter reads the whole page, as crawl4ai's does.
    let raw_doc = (wants.raw || wants.focus.is_some()).then(|| parsed.document(&whole));
    // A schema reads the DOM as parsed; a regex strategy, the view it names.
    let mut extracted = None;
    let mut regex_on_main = None;
    if let Some(strategy) = wants.schema.as_deref() {
        match strategy {
            gannet_schema::Strategy::Json(schema) => {
                extracted = Some(extraction::run_json(schema, parsed.dom()));
            }
            gannet_schema::Strategy::Regex {
                strategy,
                input_format,
            } => {
                let input = RegexInput::of(input_format);
                let text =
                    match input {
                        RegexInput::Source => Some(html.to_owned()),
                        RegexInput::PageMarkdown => Some(raw_doc.as_ref().map_or_else(
                            || parsed.document(&whole).markdown,
                            |d| d.markdown.clone(),
                        )),
                        RegexInput::PageHtml => Some(parsed.document_with_html(&whole).1),
                        _ => None,
                    };
                match text {
                    Some(text) => {
                        extracted = Some(Ok(extraction::run_regex(strategy, url.as_str(), &text)));
                    }
                    None => regex_on_main = Some((strategy, input)),
                }
            }
        }
    }
    let options = gannet_extract::Options {
        raw: wants.whole_page,
        charset: None,
        skip_links: !wants.links,
    };
    let main_html = matches!(regex_on_main, Some((_, RegexInput::MainHtml)));
    let (doc, cleaned_html) = parsed.into_document(&options, wants.cleaned || main_html);
    if let Some((strategy, input)) = regex_on_main {
        let text = match input {
            RegexInput::MainMarkdown => &doc.markdown,
            RegexInput::MainText => &doc.text,
            _ => &cleaned_html,
        };
        extracted = Some(Ok(extraction::run_regex(strategy, url.as_str(), text)));
    }
    let cleaned_html = wants.cleaned.then_some(cleaned_html);
    let focused = wants.focus.as_ref().zip(raw_doc.as_ref()).map(|(f, raw)| {
        let query = if f.query.trim().is_empty() {
            // crawl4ai's rule: no query, the page's own title and description.
            format!(
                "{} {}",
                doc.title.as_deref().unwrap_or_default(),
                doc.excerpt.as_deref().unwrap_or_default()
            )
        } else {
            f.query.clone()
        };
        gannet_extract::relevance::bm25_filter(&raw.markdown, &query, f.threshold)
    });
    Views {
        doc,
        raw_doc,
        cleaned_html,
        focused,
        extracted,
    }
}

async fn render(
    state: &PageService,
    req: &PageRequest,
    http_status: Option<u16>,
    reason: Option<String>,
    started: Instant,
) -> Result<Page, PageError> {
    let fail = |message: String, busy: bool| PageError {
        status: http_status,
        message,
        kind: if busy { Failure::Busy } else { Failure::Page },
    };
    let pool = state.pool().await.map_err(|e| fail(e, false))?;
    let mut render_req = RenderRequest::new(req.url.clone());
    render_req.wait = req.wait.clone();
    render_req.screenshot = req.screenshot;
    render_req.pdf = req.pdf;
    render_req.viewport = req.viewport;
    render_req.block = req.block.clone();
    render_req.timeout = req.timeout;
    render_req.session = req.session.clone();
    if http_status.is_some() {
        // Smart mode: the HTTP version is in hand, so wait for a slot only briefly.
        render_req.queue_wait = state.cfg.smart_render_wait;
    }
    // Several scripts run in order: one expression that awaits each in turn.
    render_req.js = match req.js.len() {
        0 => None,
        1 => Some(req.js[0].clone()),
        _ => Some(format!(
            "(async () => {{ let r; {} return r; }})()",
            req.js
                .iter()
                .map(|c| format!(
                    "r = await (async () => eval({}))();",
                    serde_json::Value::String(c.clone())
                ))
                .collect::<String>()
        )),
    };
    let render_started = Instant::now();
    let rendered = pool
        .render_with(&req.browser, &render_req)
        .await
        .map_err(|e| {
            let busy = matches!(e, gannet_browser::Error::Busy(_));
            fail(format!("{}: {e}", req.url), busy)
        })?;
    state.events.rendered();
    state.events.stage(Stage::Render, render_started.elapsed());
    let url = Url::parse(&rendered.final_url).unwrap_or_else(|_| req.url.clone());
    let wants = Wants::of(req);
    let html = rendered.html;
    let gate = extraction_slot(state).await;
    let (html, parts, took) = tokio::task::spawn_blocking(move || {
        let _gate = gate;
        let started = Instant::now();
        let parts = extract(&html, &url, &wants);
        (html, parts, started.elapsed())
    })
    .await
    .map_err(|e| fail(format!("extraction failed: {e}"), false))?;
    state.events.stage(Stage::Extract, took);
    Ok(Page {
        final_url: rendered.final_url,
        status: if rendered.status == 0 {
            200
        } else {
            rendered.status
        },
        headers: Vec::new(),
        html,
        doc: parts.doc,
        raw_doc: parts.raw_doc,
        cleaned_html: parts.cleaned_html,
        focused: parts.focused,
        screenshot: rendered.screenshot,
        pdf: rendered.pdf,
        js_result: rendered.js_result,
        js_error: rendered.js_error,
        rendered: true,
        render_reason: reason,
        render_skipped: None,
        render_time: Some(rendered.render_time),
        extracted: parts.extracted,
        summary: None,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(allow_private: bool) -> PageService {
        let cfg = PageConfig {
            allow_private,
            ..PageConfig::default()
        };
        PageService::new(cfg, Arc::new(NoEvents)).unwrap()
    }

    #[test]
    fn literal_private_hosts_are_refused_unless_allowed() {
        gannet_testkit::isolated!(literal_private_hosts_are_refused_unless_allowed);
        let pages = service(false);
        for bad in [
            "http://127.0.0.1/",
            "http://localhost:8080/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://100.64.0.1/",
            "http://2130706433/",
        ] {
            let url = Url::parse(bad).unwrap();
            let refused = pages.check_url(&url).unwrap_err();
            assert!(
                matches!(refused.kind, Failure::Forbidden(_)),
                "{bad}: {refused:?}"
            );
        }
        assert!(
            pages
                .check_url(&Url::parse("http://93.184.216.34/").unwrap())
                .is_ok()
        );
        let open = service(true);
        assert!(
            open.check_url(&Url::parse("http://127.0.0.1/").unwrap())
                .is_ok()
        );
    }

    #[test]
    fn only_html_can_need_a_render() {
        let shell = "<html><body><div id=root></div><script src=app.js></script></body></html>";
        let shell = shell.as_bytes();
        assert!(smart_render(Some("text/html"), shell, 0).is_some());
        assert!(smart_render(None, shell, 0).is_some());
        assert!(smart_render(Some("application/xml"), shell, 0).is_none());
        assert!(smart_render(Some("text/html"), shell, 1000).is_none());
    }

    #[test]
    fn one_parse_gives_the_same_views_as_separate_extractions() {
        let html = "<html><head><title>T - S</title></head><body><nav><a href=/n>Nav</a></nav>\
            <article><h1>T</h1><p>A paragraph long enough to be the content of the page, \
            with <a href=\"/x\">a link</a> and more words after it.</p></article></body></html>";
        let url = Url::parse("https://example.com/a").unwrap();
        let wants = Wants {
            whole_page: false,
            raw: true,
            cleaned: true,
            links: true,
            focus: None,
            schema: None,
        };
        let one = extract(html, &url, &wants);
        let main = gannet_extract::Options::default();
        let (doc, cleaned) = gannet_extract::extract_with_html(html.as_bytes(), Some(&url), &main);
        let raw = gannet_extract::extract_str(
            html,
            Some(&url),
            &gannet_extract::Options {
                raw: true,
                skip_links: true,
                ..Default::default()
            },
        );
        assert_eq!(one.doc, doc);
        assert_eq!(one.cleaned_html.as_deref(), Some(cleaned.as_str()));
        assert_eq!(one.raw_doc.as_ref(), Some(&raw));
        assert!(raw.markdown.contains("Nav") && !doc.markdown.contains("Nav"));
    }
}
