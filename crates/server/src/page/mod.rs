//! The page service: one page for an API request, whatever the dialect — admission (a
//! bounded wait for a slot, memory shedding), an HTTP fetch or a render, extraction on the
//! blocking pool. It owns what pages share: the HTTP fetcher, the browser pool (started on
//! first use), the page slots, the extraction gate and the flights of identical requests.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use gannet_browser::{Block, Pool, RenderRequest, Screenshot, WaitFor};
use gannet_core::Document;
use gannet_fetch::{FetchConfig, Fetcher};
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

use crate::config::ServerConfig;
use crate::error::{ApiError, Error};
use flights::{FlightKey, Flights, Landing};

mod flights;
use crate::metrics::{Metrics, Stage};

/// What every page request shares.
pub(crate) struct PageService {
    pub(crate) cfg: Arc<ServerConfig>,
    pub(crate) fetcher: Fetcher,
    pool: OnceCell<Result<Pool, String>>,
    browser: gannet_browser::PoolConfig,
    pages: Arc<Semaphore>,
    /// Extraction slots (FIFO), when limited.
    extract_gate: Option<Arc<Semaphore>>,
    waiting: AtomicUsize,
    metrics: Arc<Metrics>,
    memory: gannet_browser::memory::MemoryProbe,
    /// Identical page requests in flight together.
    flights: Flights,
}

impl PageService {
    pub(crate) fn new(cfg: Arc<ServerConfig>, metrics: Arc<Metrics>) -> Result<Self, Error> {
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
        let fetch = FetchConfig {
            timeout: cfg.page_timeout,
            max_body_bytes: cfg.max_page_bytes,
            // Names are checked after resolution, on every redirect hop (gannet_fetch::guard).
            allow_private: cfg.allow_private,
            ..FetchConfig::default()
        };
        let fetcher = Fetcher::new(fetch).map_err(Error::HttpClient)?;
        Ok(Self {
            pages: Arc::new(Semaphore::new(cfg.max_pages_in_flight)),
            extract_gate: (cfg.extract_concurrency > 0)
                .then(|| Arc::new(Semaphore::new(cfg.extract_concurrency))),
            waiting: AtomicUsize::new(0),
            metrics,
            memory: gannet_browser::memory::MemoryProbe::default(),
            flights: Flights::default(),
            fetcher,
            pool: OnceCell::new(),
            browser,
            cfg,
        })
    }

    /// The browser pool, started on first use. An error (no Chromium) is kept and repeated.
    pub(crate) async fn pool(&self) -> Result<&Pool, String> {
        let pool = self
            .pool
            .get_or_init(|| async { Pool::new(self.browser.clone()).map_err(|e| e.to_string()) })
            .await;
        pool.as_ref().map_err(Clone::clone)
    }

    /// Whether a render can be tried (the pool started, or was never asked for).
    pub(crate) fn browser_available(&self) -> bool {
        self.pool.get().is_none_or(Result::is_ok)
    }

    /// The pool if it has been started.
    pub(crate) fn started_pool(&self) -> Option<&Pool> {
        self.pool.get().and_then(|p| p.as_ref().ok())
    }

    /// Used and limit bytes (cgroup, else host).
    pub(crate) fn memory_reading(&self) -> Option<(u64, u64)> {
        self.memory.read().map(|r| (r.used, r.limit))
    }

    fn memory_pressure(&self) -> Option<f64> {
        self.memory.read().map(|r| r.pressure())
    }

    /// Pages being fetched or rendered.
    pub(crate) fn in_flight(&self) -> usize {
        self.cfg.max_pages_in_flight - self.pages.available_permits()
    }

    /// Pages waiting for a slot.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Flights under way, and requests that joined one, ever.
    pub(crate) fn flight_stats(&self) -> (usize, u64) {
        self.flights.stats()
    }

    /// Refuses, before any network use, URLs whose host is a literal private address or
    /// `localhost` when private addresses are not allowed (names are checked again after
    /// resolution by the fetcher's guard, and every browser request by the egress guard).
    pub(crate) fn check_url(&self, url: &Url) -> Result<(), PageError> {
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
    pub(crate) async fn shutdown(&self) {
        if let Some(pool) = self.started_pool() {
            pool.shutdown().await;
        }
    }
}

/// When a page goes through the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Render {
    /// HTTP only.
    Never,
    /// HTTP, then the browser if the page needs JavaScript.
    Auto,
    Always,
}

/// What a request wants from one page.
#[derive(Debug, Clone)]
pub(crate) struct PageRequest {
    pub(crate) url: Url,
    pub(crate) render: Render,
    pub(crate) wait: WaitFor,
    /// Scripts run in order after the wait; the last one's value is the result.
    pub(crate) js: Vec<String>,
    pub(crate) screenshot: Option<Screenshot>,
    pub(crate) pdf: bool,
    pub(crate) viewport: Option<(u32, u32)>,
    pub(crate) block: Vec<Block>,
    pub(crate) timeout: Duration,
    pub(crate) session: Option<String>,
    pub(crate) browser: gannet_browser::BrowserConfig,
    /// Also extract the whole page (no main-content selection) as Markdown.
    pub(crate) want_raw_markdown: bool,
    /// Also serialize the cleaned main-content HTML.
    pub(crate) want_cleaned_html: bool,
    /// Also the blocks of the whole page that bear on a query (BM25).
    pub(crate) focus: Option<Focus>,
    /// The page's link list (`/md` answers with Markdown alone and skips it).
    pub(crate) want_links: bool,
}

/// A query-focused view of a page: the whole page's Markdown filtered with BM25
/// ([`gannet_extract::relevance`]), crawl4ai's `bm25` filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Focus {
    /// Empty: the page's own title and description stand for the query.
    pub(crate) query: String,
    pub(crate) threshold: f32,
}

impl PageRequest {
    pub(crate) fn new(url: Url, timeout: Duration) -> Self {
        Self {
            url,
            render: Render::Auto,
            wait: WaitFor::Auto,
            js: Vec::new(),
            screenshot: None,
            pdf: false,
            viewport: None,
            block: Vec::new(),
            timeout,
            session: None,
            browser: gannet_browser::BrowserConfig::default(),
            want_raw_markdown: false,
            want_cleaned_html: false,
            focus: None,
            want_links: true,
        }
    }

    fn needs_browser(&self) -> bool {
        if self.render == Render::Never {
            return false;
        }
        self.render == Render::Always
            || self.screenshot.is_some()
            || self.pdf
            || !self.js.is_empty()
            || self.wait != WaitFor::Auto
            || self.session.is_some()
    }
}

/// A page, fetched or rendered, and what extraction made of it.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub(crate) final_url: String,
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    /// The page source (decoded) or the rendered DOM.
    pub(crate) html: String,
    /// The main content.
    pub(crate) doc: Document,
    pub(crate) raw_doc: Option<Document>,
    pub(crate) cleaned_html: Option<String>,
    /// The query-focused Markdown, when the request had a [`Focus`].
    pub(crate) focused: Option<String>,
    pub(crate) screenshot: Option<Vec<u8>>,
    pub(crate) pdf: Option<Vec<u8>>,
    pub(crate) js_result: Option<serde_json::Value>,
    pub(crate) js_error: Option<String>,
    pub(crate) rendered: bool,
    /// Smart mode wanted a render but kept the HTTP version: why (browser busy, render
    /// failed, no browser on this machine).
    pub(crate) render_skipped: Option<String>,
    pub(crate) elapsed: Duration,
}

/// Why a page could not be produced: the message names the URL and the problem.
#[derive(Debug, Clone)]
pub(crate) struct PageError {
    pub(crate) status: Option<u16>,
    pub(crate) message: String,
    pub(crate) kind: Failure,
}

/// What kind of failure a [`PageError`] is: it decides the answer's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The page could not be fetched, rendered or extracted (502 `page_failed`).
    Page,
    /// The service is overloaded: the whole request should get a 503.
    Busy,
    /// The address guard refused the URL or a redirect hop (403 `forbidden_address`): the
    /// class of the address, e.g. `private`, `loopback`, `link-local`, `cloud-metadata`.
    Forbidden(String),
}

impl PageError {
    pub(crate) fn failed(status: Option<u16>, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind: Failure::Page,
        }
    }

    pub(crate) fn busy(message: impl Into<String>) -> Self {
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

    pub(crate) fn is_busy(&self) -> bool {
        self.kind == Failure::Busy
    }

    /// Whether the whole request fails with this page (busy, or a refused address), rather
    /// than reporting it among other pages' results.
    pub(crate) fn fails_the_request(&self) -> bool {
        self.kind != Failure::Page
    }

    pub(crate) fn into_api(self) -> ApiError {
        match self.kind {
            Failure::Busy => ApiError::busy(self.message, 5),
            Failure::Forbidden(class) => ApiError::forbidden_address(class, self.message),
            Failure::Page => ApiError::new(StatusCode::BAD_GATEWAY, "page_failed", self.message),
        }
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
        state.metrics.shed();
        return Err(busy(format!(
            "memory is {:.0}% of the limit: shedding load, retry shortly",
            pressure * 100.0
        )));
    }
    if let Ok(permit) = state.pages.clone().try_acquire_owned() {
        return Ok(permit);
    }
    let waiting = state
        .waiting
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        + 1;
    let _guard = Waiting(&state.waiting);
    if waiting > state.cfg.max_pages_waiting {
        state.metrics.shed();
        return Err(busy(format!(
            "{} pages are already waiting (limit {})",
            waiting - 1,
            state.cfg.max_pages_waiting
        )));
    }
    match tokio::time::timeout(state.cfg.queue_timeout, state.pages.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => {
            state.metrics.shed();
            Err(busy(format!(
                "no page slot within {} s",
                state.cfg.queue_timeout.as_secs()
            )))
        }
    }
}

struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Produces one page; identical HTTP-mode requests in flight together share the work
/// ([`Flights`]). If the request that does the work goes away, a waiter takes it over.
pub(crate) async fn get_page(state: &PageService, req: PageRequest) -> Result<Page, PageError> {
    if req.needs_browser() {
        return produce(state, req).await;
    }
    let key = FlightKey::of(&req);
    let flight = state.flights.join(&key);
    let landing = Landing {
        flights: &state.flights,
        key: &key,
        flight: &flight,
    };
    flight.get_or_init(|| produce(state, req)).await;
    drop(landing);
    // The last one out takes the page without a copy.
    let outcome = match Arc::try_unwrap(flight) {
        Ok(cell) => cell.into_inner(),
        Err(shared) => shared.get().cloned(),
    };
    outcome.unwrap_or_else(|| Err(PageError::busy("the page was abandoned")))
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
        return render(state, &req, None, started).await;
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
    state.metrics.stage(Stage::Fetch, fetch_started.elapsed());
    let url = fetched.url.clone();
    let wants = Wants::of(&req);
    let smart = req.render == Render::Auto;
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
            .then(|| gannet_browser::smart::needs_render(&html, parts.doc.word_count))
            .flatten();
        (html, parts, needs, started.elapsed())
    })
    .await
    .map_err(|e| fail(None, format!("extraction failed: {e}")))?;
    let (html, parts, needs, took) = extracted;
    state.metrics.stage(Stage::Extract, took);
    // Smart mode: a render is an upgrade of a page we already have. It waits for a
    // browser slot only briefly (a burst of script-built pages must not hold every client
    // of a busy server for the pool's whole queue deadline), and when the browser cannot
    // help, the HTTP version stands, marked with the reason.
    let mut render_skipped = None;
    if needs.is_some() {
        if !state.browser_available() {
            render_skipped = Some("the page needs JavaScript but no browser is available".into());
        } else {
            match render(state, &req, Some(status), started).await {
                Ok(page) => return Ok(page),
                Err(e) => {
                    state.metrics.render_skipped();
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
        render_skipped,
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
    raw: bool,
    cleaned: bool,
    links: bool,
    focus: Option<Focus>,
}

impl Wants {
    fn of(req: &PageRequest) -> Self {
        Self {
            raw: req.want_raw_markdown,
            cleaned: req.want_cleaned_html,
            links: req.want_links,
            focus: req.focus.clone(),
        }
    }
}

struct Extracted {
    doc: Document,
    raw_doc: Option<Document>,
    cleaned_html: Option<String>,
    focused: Option<String>,
}

fn extract(html: &str, url: &Url, wants: &Wants) -> Extracted {
    let options = gannet_extract::Options {
        raw: false,
        charset: Some("utf-8".into()),
        skip_links: !wants.links,
    };
    let (doc, cleaned_html) = if wants.cleaned {
        let (d, h) = gannet_extract::extract_with_html(html.as_bytes(), Some(url), &options);
        (d, Some(h))
    } else {
        (gannet_extract::extract_str(html, Some(url), &options), None)
    };
    // The query filter reads the whole page, as crawl4ai's does.
    let raw_doc = (wants.raw || wants.focus.is_some()).then(|| {
        let options = gannet_extract::Options {
            raw: true,
            charset: Some("utf-8".into()),
            skip_links: true,
        };
        gannet_extract::extract_str(html, Some(url), &options)
    });
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
    Extracted {
        doc,
        raw_doc,
        cleaned_html,
        focused,
    }
}

async fn render(
    state: &PageService,
    req: &PageRequest,
    http_status: Option<u16>,
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
        render_req.queue_wait = Some(state.cfg.smart_render_wait);
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
    state.metrics.rendered();
    state.metrics.stage(Stage::Render, render_started.elapsed());
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
    state.metrics.stage(Stage::Extract, took);
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
        render_skipped: None,
        elapsed: started.elapsed(),
    })
}

/// Parses a URL a client sent: absolute http(s) only.
pub(crate) fn parse_url(input: &str) -> Result<Url, ApiError> {
    let url = Url::parse(input.trim())
        .map_err(|e| ApiError::bad_request(format!("invalid URL {input:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::bad_request(format!(
            "invalid URL {input:?}: only http and https URLs can be fetched"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ApiError::bad_request(format!(
            "invalid URL {input:?}: no host"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(allow_private: bool) -> PageService {
        let cfg = ServerConfig {
            allow_private,
            ..ServerConfig::default()
        };
        PageService::new(Arc::new(cfg), Arc::default()).unwrap()
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
}
