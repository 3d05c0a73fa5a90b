//! One render: what a request asks for ([`RenderRequest`]), what it gives back
//! ([`Rendered`]), and the DevTools steps that drive a tab from a URL to a rendered DOM.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::browser::{
    Bounds, GetWindowForTargetParams, SetWindowBoundsParams, WindowId, WindowState,
};
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::fetch::{
    DisableParams as FetchDisable, EnableParams as FetchEnable, EventRequestPaused,
    FailRequestParams, RequestPattern, RequestStage,
};
use chromiumoxide::cdp::browser_protocol::network::{
    ErrorReason, EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent, ResourceType,
};
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat, EventDomContentEventFired,
    EventLifecycleEvent, EventLoadEventFired, NavigateParams, PrintToPdfParams,
};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::page::ScreenshotParams;
use futures_util::StreamExt;
use serde::Deserialize;
use url::Url;

use crate::Error;

/// When a page counts as ready.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WaitFor {
    /// `DOMContentLoaded`, then the `load` event (at most [`AUTO_LOAD_CAP`] more), then until
    /// the content requests the page has in flight (scripts, fetch/XHR, frames) finish and
    /// none ended in the last 50 ms. Then, if the main content is still empty (an app shell
    /// its script fills late), until it has text and the DOM has not changed for the
    /// pool's quiet window ([`crate::PoolConfig::dom_quiet`]), at most 4 s more. A stalled
    /// tracker or image, or an empty page that never stops changing (a ticking clock),
    /// does not fail the render: it is taken at the bound.
    #[default]
    Auto,
    /// The `load` event; a page that never finishes loading is a timeout.
    Load,
    /// Chromium's `networkIdle` lifecycle event (no request for 500 ms).
    NetworkIdle,
    /// An element matching this CSS selector exists.
    Css(String),
    /// This JavaScript expression is truthy.
    Js(String),
}

/// How long `Auto` waits for `load` after `DOMContentLoaded`.
pub(crate) const AUTO_LOAD_CAP: Duration = Duration::from_secs(5);
/// How long `Auto` waits for in-flight requests after `load`.
const AUTO_SETTLE_CAP: Duration = Duration::from_secs(3);
/// Quiet time after the last request finished before `Auto` takes the DOM.
const AUTO_QUIET: Duration = Duration::from_millis(50);
/// Poll interval of `css:` and `js:` conditions.
const POLL: Duration = Duration::from_millis(25);
/// How long `Auto` waits for the DOM to settle once requests are done, when the main
/// content has text (a page that keeps changing is taken at this bound).
const AUTO_DOM_CAP: Duration = Duration::from_secs(2);
/// The same bound while the main content is still empty (an app shell filled late).
const AUTO_EMPTY_CAP: Duration = Duration::from_secs(4);
/// Time kept for the DOM snapshot when the DOM settle step runs into the deadline.
const SNAPSHOT_MARGIN: Duration = Duration::from_millis(300);
/// Main content with fewer visible characters (whitespace aside) than this is empty.
const MIN_CONTENT_CHARS: u32 = 100;

/// Installed in every tab before any page script runs (top frame only): a
/// MutationObserver, started at DOMContentLoaded, that notes the time of the DOM's last
/// change, and a function that resolves once the DOM has been quiet for `quietMs` and the
/// main content (`main`, `[role=main]` or the body; script and style text aside) has
/// `minChars` visible characters, or at the bound; a page whose main content has them at
/// the first check is taken at once. It resolves early, with `wants: true`, when the page
/// is hidden and waits for something only a shown page gets (see [`reveal`]): an
/// animation frame it asked for, or an `IntersectionObserver` or `ResizeObserver` it
/// started. To know that, `requestAnimationFrame`, `cancelAnimationFrame` and the two
/// observers' `observe` are wrapped (same behaviour, one `Set` more); nothing else of the
/// page is. The functions sit under registry symbols, not names a page would use.
const SETTLE_INIT_JS: &str = r#"(() => {
  if (window !== window.top) return;
  const key = Symbol.for('gannet.settle');
  if (Object.prototype.hasOwnProperty.call(window, key)) return;
  const later = window.setTimeout.bind(window);
  const clock = performance.now.bind(performance);
  const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE']);
  let last = clock();
  const chars = (limit) => {
    const root = document.querySelector('main, [role=main]') || document.body;
    if (!root) return limit;
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let n = 0;
    while (n < limit && walk.nextNode()) {
      const t = walk.currentNode;
      if (!skip.has(t.parentNode && t.parentNode.nodeName)) n += t.data.replace(/\s+/g, '').length;
    }
    return n;
  };
  const observe = () => {
    last = clock();
    new MutationObserver(() => { last = clock(); })
      .observe(document, { childList: true, subtree: true, characterData: true });
  };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', observe, { once: true });
  } else {
    observe();
  }
  // What a hidden page waits for: animation frames it asked for and not yet got, and
  // observers it started (Chromium computes neither for a hidden page).
  const frames = new Set();
  let observing = false;
  const raf = window.requestAnimationFrame, caf = window.cancelAnimationFrame;
  if (typeof raf === 'function' && typeof caf === 'function') {
    window.requestAnimationFrame = function requestAnimationFrame(callback) {
      if (typeof callback !== 'function') return raf.call(window, callback);
      const id = raf.call(window, (t) => { frames.delete(id); return callback(t); });
      frames.add(id);
      return id;
    };
    window.cancelAnimationFrame = function cancelAnimationFrame(id) {
      frames.delete(id);
      return caf.call(window, id);
    };
  }
  for (const Observer of [window.IntersectionObserver, window.ResizeObserver]) {
    const start = Observer && Observer.prototype.observe;
    if (typeof start === 'function') {
      Observer.prototype.observe = function observe(...args) {
        observing = true;
        return start.apply(this, args);
      };
    }
  }
  const wants = () => document.hidden && (frames.size > 0 || observing);
  const settle = (quietMs, capMs, emptyCapMs, minChars) => new Promise((resolve) => {
    const start = clock();
    let first = true;
    const check = () => {
      if (wants()) {
        resolve({ wants: true });
        return;
      }
      const now = clock(), quiet = now - last, text = chars(minChars);
      const full = text >= minChars;
      // Main content at once: taken as it is (waiting on every page cost 20% of the
      // 500-page crawl's throughput). Empty: wait for it, then for the DOM to go quiet.
      if ((full && (first || quiet >= quietMs)) || now - start >= (full ? capMs : emptyCapMs)) {
        resolve({ waited: Math.round(now - start), quiet: Math.round(quiet), full });
      } else {
        first = false;
        later(check, quiet >= quietMs ? 25 : Math.max(5, quietMs - quiet));
      }
    };
    check();
  });
  Object.defineProperty(window, key, { value: settle });
  Object.defineProperty(window, Symbol.for('gannet.wants'), { value: wants });
})()"#;

impl std::str::FromStr for WaitFor {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::Invalid(format!(
                "bad wait condition {s:?}: use load, networkidle, css:SELECTOR or js:EXPRESSION"
            ))
        };
        if let Some(sel) = s.strip_prefix("css:") {
            return if sel.trim().is_empty() {
                Err(bad())
            } else {
                Ok(WaitFor::Css(sel.trim().to_string()))
            };
        }
        if let Some(expr) = s.strip_prefix("js:") {
            return if expr.trim().is_empty() {
                Err(bad())
            } else {
                Ok(WaitFor::Js(expr.trim().to_string()))
            };
        }
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(WaitFor::Auto),
            "load" => Ok(WaitFor::Load),
            "networkidle" | "network-idle" | "networkidle0" => Ok(WaitFor::NetworkIdle),
            _ => Err(bad()),
        }
    }
}

/// A kind of subresource the page may not load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Block {
    Images,
    Fonts,
    Media,
    Stylesheets,
}

impl Block {
    /// Parses `images,fonts,media,stylesheets` (any subset, any order).
    pub fn parse_list(s: &str) -> Result<Vec<Block>, Error> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let b = match part.to_ascii_lowercase().as_str() {
                "images" | "image" => Block::Images,
                "fonts" | "font" => Block::Fonts,
                "media" => Block::Media,
                "stylesheets" | "stylesheet" | "css" => Block::Stylesheets,
                _ => {
                    return Err(Error::Invalid(format!(
                        "cannot block {part:?}: use images, fonts, media, stylesheets"
                    )));
                }
            };
            if !out.contains(&b) {
                out.push(b);
            }
        }
        out.sort();
        Ok(out)
    }

    fn resource_type(self) -> ResourceType {
        match self {
            Block::Images => ResourceType::Image,
            Block::Fonts => ResourceType::Font,
            Block::Media => ResourceType::Media,
            Block::Stylesheets => ResourceType::Stylesheet,
        }
    }
}

/// A screenshot to take after the page is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screenshot {
    /// The whole scrollable page, not only the viewport.
    pub full_page: bool,
}

/// What to render and what to bring back.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    pub url: Url,
    pub wait: WaitFor,
    /// JavaScript run after the wait, before the DOM is taken; its value (awaited if a
    /// promise) comes back in [`Rendered::js_result`].
    pub js: Option<String>,
    pub screenshot: Option<Screenshot>,
    pub pdf: bool,
    /// CSS pixels; `None` = 1280×800.
    pub viewport: Option<(u32, u32)>,
    pub block: Vec<Block>,
    /// The whole render, from asking for a slot to the last byte of the result.
    pub timeout: Duration,
    /// A named session: cookies and storage persist across its requests.
    pub session: Option<String>,
    /// The longest this request waits in the pool's queue for a render slot; `None` =
    /// the pool's queue timeout (never longer than it, nor than `timeout`). A caller for
    /// whom a render is optional (smart mode) asks for less and keeps what it has.
    pub queue_wait: Option<Duration>,
}

impl RenderRequest {
    pub fn new(url: Url) -> Self {
        Self {
            url,
            wait: WaitFor::Auto,
            js: None,
            screenshot: None,
            pdf: false,
            viewport: None,
            block: Vec::new(),
            timeout: Duration::from_secs(30),
            session: None,
            queue_wait: None,
        }
    }
}

pub(crate) const DEFAULT_VIEWPORT: (u32, u32) = (1280, 800);

/// A rendered page.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Where the page ended up (after redirects and client-side navigation).
    pub final_url: String,
    /// HTTP status of the main document (0 when unknown, e.g. `about:` or a file).
    pub status: u16,
    /// The document's content type as the browser saw it.
    pub content_type: String,
    /// The serialized DOM after scripts ran (doctype included).
    pub html: String,
    pub js_result: Option<serde_json::Value>,
    /// The exception text if the `js` code threw.
    pub js_error: Option<String>,
    pub screenshot: Option<Vec<u8>>,
    pub pdf: Option<Vec<u8>>,
    /// Time from getting a tab to having the DOM.
    pub render_time: Duration,
    /// Which pool tier served it.
    pub tier: crate::Tier,
}

/// What a pooled tab has set up, so a reused tab changes only what differs.
#[derive(Debug)]
pub(crate) struct TabState {
    pub(crate) page: Page,
    viewport: (u32, u32),
    blocked: Vec<Block>,
    blocker: Option<tokio::task::JoinHandle<()>>,
    /// The tab's own window: minimized (the page is hidden) except while [`reveal`]ed.
    window: Option<WindowId>,
    shown: bool,
}

impl TabState {
    /// A tab opened minimized in a window of its own (see the pool's `tab_params`).
    pub(crate) fn new(page: Page) -> Self {
        Self {
            page,
            viewport: (0, 0),
            blocked: Vec::new(),
            blocker: None,
            window: None,
            shown: false,
        }
    }

    /// Minimizes (hides) or restores (shows) the tab's window; nothing when it is already
    /// so, or when its window is unknown.
    async fn set_shown(&mut self, shown: bool) -> Result<(), Error> {
        let Some(window) = self.window else {
            return Ok(());
        };
        if self.shown == shown {
            return Ok(());
        }
        let bounds = Bounds {
            window_state: Some(if shown {
                WindowState::Normal
            } else {
                WindowState::Minimized
            }),
            ..Default::default()
        };
        self.page
            .execute(SetWindowBoundsParams::new(window, bounds))
            .await?;
        self.shown = shown;
        Ok(())
    }

    /// Makes a new tab cheap to keep: DevTools would otherwise keep every response body
    /// (up to 100 MB per tab, in the renderer) for `Network.getResponseBody`, which we
    /// never call.
    pub(crate) async fn prepare(&mut self) -> Result<(), Error> {
        let network = chromiumoxide::cdp::browser_protocol::network::EnableParams {
            max_total_buffer_size: Some(0),
            max_resource_buffer_size: Some(0),
            max_post_data_size: Some(0),
            ..Default::default()
        };
        self.page.execute(network).await?;
        self.page
            .execute(AddScriptToEvaluateOnNewDocumentParams::new(SETTLE_INIT_JS))
            .await?;
        // A tab whose window cannot be found is simply never hidden or shown.
        self.window = self
            .page
            .execute(GetWindowForTargetParams::default())
            .await
            .ok()
            .map(|r| r.result.window_id);
        Ok(())
    }
}

impl Drop for TabState {
    fn drop(&mut self) {
        if let Some(task) = self.blocker.take() {
            task.abort();
        }
    }
}

#[derive(Deserialize)]
struct Snapshot {
    url: String,
    status: u16,
    #[serde(rename = "contentType")]
    content_type: String,
    html: String,
}

const SNAPSHOT_JS: &str = r#"(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const dt = document.doctype ? new XMLSerializer().serializeToString(document.doctype) + '\n' : '';
  const root = document.documentElement;
  return { url: location.href, status: (nav && nav.responseStatus) || 0,
           contentType: document.contentType || '', html: dt + (root ? root.outerHTML : '') };
})()"#;

/// Drives `tab` through one request. The caller bounds the whole call with the request's
/// deadline and races it against the browser's death.
pub(crate) async fn drive(
    tab: &mut TabState,
    req: &RenderRequest,
    deadline: Instant,
    dom_quiet: Duration,
) -> Result<Rendered, Error> {
    let started = Instant::now();
    let page = tab.page.clone();

    let viewport = req.viewport.unwrap_or(DEFAULT_VIEWPORT);
    if tab.viewport != viewport {
        page.execute(SetDeviceMetricsOverrideParams::new(
            i64::from(viewport.0),
            i64::from(viewport.1),
            1.0,
            false,
        ))
        .await?;
        tab.viewport = viewport;
    }
    set_blocking(tab, &req.block).await?;
    // The page loads hidden ([`reveal`]); a render that failed may have left it shown.
    let _ = tab.set_shown(false).await;

    // Subscribe before navigating so no event is missed.
    let mut dcl = page.event_listener::<EventDomContentEventFired>().await?;
    let mut load = page.event_listener::<EventLoadEventFired>().await?;
    let mut lifecycle = match req.wait {
        WaitFor::NetworkIdle => Some(page.event_listener::<EventLifecycleEvent>().await?),
        _ => None,
    };
    let mut traffic = match req.wait {
        WaitFor::Auto => Some(Traffic::listen(&page).await?),
        _ => None,
    };

    let timeout = |what: &str| Error::Timeout {
        secs: req.timeout.as_secs_f64(),
        what: what.to_string(),
    };
    let until = |d: Instant| tokio::time::sleep_until(d.into());

    // chromiumoxide answers `Page.navigate` only once the page has loaded; a page with a
    // stalled subresource would hold us until then. So the navigation runs on its own and
    // DOMContentLoaded of the new document is what we wait for.
    let mut nav = AbortOnDrop(tokio::spawn({
        let (page, url) = (page.clone(), req.url.to_string());
        async move { page.execute(NavigateParams::new(url)).await }
    }));
    let mut nav_done = false;
    tokio::select! {
        r = &mut nav.0 => {
            nav_done = true;
            let r = r.map_err(|e| Error::Protocol(e.to_string()))??;
            if let Some(reason) = r.result.error_text.as_deref().filter(|t| !t.is_empty()) {
                return Err(Error::Navigation { url: req.url.to_string(), reason: reason.to_string() });
            }
            // A same-document navigation has no DOMContentLoaded: readyState tells.
            if !ready_state_at_least(&page, "interactive").await {
                tokio::select! {
                    _ = dcl.next() => {}
                    _ = until(deadline) => return Err(timeout("DOMContentLoaded")),
                }
            }
        }
        _ = dcl.next() => {}
        _ = until(deadline) => return Err(timeout("the navigation")),
    }
    if !nav_done
        && let Ok(href) = evaluate_value::<String>(&page, "location.href").await
        && href.starts_with("chrome-error:")
    {
        // Chromium shows its error page; the navigation's result says why.
        let reason = match tokio::time::timeout(Duration::from_secs(2), &mut nav.0).await {
            Ok(Ok(Ok(r))) => r.result.error_text.clone().unwrap_or_default(),
            _ => String::new(),
        };
        return Err(Error::Navigation {
            url: req.url.to_string(),
            reason: if reason.is_empty() {
                "the browser showed an error page".into()
            } else {
                reason
            },
        });
    }
    let main_frame = page.mainframe().await.ok().flatten();

    // What the page shows once visible may be what the caller waits for; a screenshot
    // needs the page painted.
    if req.screenshot.is_some()
        || matches!(
            req.wait,
            WaitFor::NetworkIdle | WaitFor::Css(_) | WaitFor::Js(_)
        )
    {
        reveal(tab, deadline, Reveal::Always).await;
    }
    match &req.wait {
        WaitFor::Auto => {
            let cap = deadline.min(Instant::now() + AUTO_LOAD_CAP);
            if !ready_state_at_least(&page, "complete").await {
                tokio::select! {
                    _ = load.next() => {}
                    _ = until(cap) => {}
                }
            }
            reveal(tab, deadline, Reveal::IfWanted).await;
            if let Some(traffic) = traffic.as_mut() {
                let cap = deadline.min(Instant::now() + AUTO_SETTLE_CAP);
                traffic.settle(cap).await;
                if !dom_quiet.is_zero() {
                    settle_dom(tab, traffic, dom_quiet, deadline).await;
                }
            }
        }
        WaitFor::Load => {
            if !ready_state_at_least(&page, "complete").await {
                tokio::select! {
                    _ = load.next() => {}
                    _ = until(deadline) => return Err(timeout("the load event")),
                }
            }
            reveal(tab, deadline, Reveal::IfWanted).await;
        }
        WaitFor::NetworkIdle => {
            let events = lifecycle.as_mut().expect("subscribed above");
            loop {
                tokio::select! {
                    ev = events.next() => match ev {
                        Some(ev) if ev.name == "networkIdle"
                            && main_frame.as_ref().is_none_or(|f| *f == ev.frame_id) => break,
                        Some(_) => {}
                        None => return Err(Error::BrowserGone("event stream closed".into())),
                    },
                    _ = until(deadline) => return Err(timeout("network idle")),
                }
            }
        }
        WaitFor::Css(selector) => {
            let expr = format!(
                "document.querySelector({}) !== null",
                serde_json::Value::String(selector.clone())
            );
            poll_true(&page, &expr, deadline, || {
                timeout(&format!("css:{selector}"))
            })
            .await?;
        }
        WaitFor::Js(expr) => {
            let expr = format!("!!({expr})");
            poll_true(&page, &expr, deadline, || timeout("the js: condition")).await?;
        }
    }
    drop((dcl, load, lifecycle, traffic));

    let (js_result, js_error) = match &req.js {
        Some(code) => run_user_js(&page, code).await?,
        None => (None, None),
    };

    let snapshot: Snapshot = evaluate_value(&page, SNAPSHOT_JS).await?;
    let render_time = started.elapsed();

    let screenshot = match req.screenshot {
        Some(shot) => Some(
            page.screenshot(
                ScreenshotParams::builder()
                    .format(CaptureScreenshotFormat::Png)
                    .full_page(shot.full_page)
                    .build(),
            )
            .await?,
        ),
        None => None,
    };
    if screenshot.is_some() && req.screenshot.is_some_and(|s| s.full_page) {
        // chromiumoxide clears the device metrics after a full-page shot: set ours again.
        tab.viewport = (0, 0);
    }
    let pdf = if req.pdf {
        Some(
            page.pdf(PrintToPdfParams {
                print_background: Some(true),
                ..Default::default()
            })
            .await?,
        )
    } else {
        None
    };
    // Hidden again: an idle tab's page costs nothing while it waits for the next one.
    let _ = tab.set_shown(false).await;

    Ok(Rendered {
        final_url: snapshot.url,
        status: snapshot.status,
        content_type: snapshot.content_type,
        html: snapshot.html,
        js_result,
        js_error,
        screenshot,
        pdf,
        render_time,
        tier: crate::Tier::Cold,
    })
}

/// How long [`reveal`] waits for the page's first two frames.
const REVEAL_CAP: Duration = Duration::from_millis(500);

/// Resolves after two animation frames: the page's own frame callbacks and
/// `IntersectionObserver` deliveries that waited for the page to be shown have run.
const FRAMES_JS: &str =
    "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))";

/// Whether the hidden page waits for a frame or an observer (see [`SETTLE_INIT_JS`]); a
/// page without the init script (an error page) counts as waiting.
const WANTS_JS: &str = "(window[Symbol.for('gannet.wants')] || (() => true))()";

/// When [`reveal`] shows a tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reveal {
    Always,
    /// Only when the hidden page waits for a frame or an observer.
    IfWanted,
}

/// Shows the tab for the end of its render. A pooled tab loads its page hidden, in a
/// minimized window of its own: Chromium then neither paints nor composites it, and runs
/// none of its `requestAnimationFrame` callbacks, `IntersectionObserver`s or
/// `ResizeObserver`s. Shown from the start, every tab cost ~60% more CPU per page on the
/// 500-page rustdoc crawl; shown after load, ~50% more (each show paints, rasters and
/// composites the page afresh). So a page is shown only when it waits for one of those
/// (`Reveal::IfWanted`), or for an explicit wait condition (`Reveal::Always`), which may
/// depend on them. The page then sees `visibilitychange`, its viewport intersects, and
/// two frames run before the render goes on. Best effort: a tab that cannot be shown is
/// rendered as it is.
async fn reveal(tab: &mut TabState, deadline: Instant, when: Reveal) {
    if tab.window.is_none() || tab.shown {
        return;
    }
    if when == Reveal::IfWanted
        && matches!(evaluate_value::<bool>(&tab.page, WANTS_JS).await, Ok(false))
    {
        return;
    }
    if tab.set_shown(true).await.is_err() {
        return;
    }
    let cap = deadline.min(Instant::now() + REVEAL_CAP);
    let _ = tokio::time::timeout_at(cap.into(), evaluate_raw(&tab.page, FRAMES_JS)).await;
}

/// `Auto`'s last step: when the main content is empty, waits until it is not and the DOM
/// has not changed for `quiet` (see [`SETTLE_INIT_JS`]), at most [`AUTO_EMPTY_CAP`] (or
/// [`AUTO_DOM_CAP`] once the content is there) and never past the deadline. A content
/// request that started meanwhile (a timer's fetch) is waited for, and the DOM again; a
/// hidden page that turns out to wait for a frame or an observer is shown ([`reveal`]).
/// Never fails: a page that will not settle is taken as it is.
async fn settle_dom(tab: &mut TabState, traffic: &mut Traffic, quiet: Duration, deadline: Instant) {
    let started = Instant::now();
    // Leave the snapshot time before the request's deadline.
    let deadline = deadline
        .checked_sub(SNAPSHOT_MARGIN)
        .unwrap_or(deadline)
        .max(started);
    let bound = |cap: Duration| {
        deadline
            .saturating_duration_since(Instant::now())
            .min((started + cap).saturating_duration_since(Instant::now()))
            .as_millis()
    };
    let (mut rounds, mut shown_here) = (0, false);
    while rounds < 3 {
        let expr = format!(
            "(window[Symbol.for('gannet.settle')] || (() => null))({}, {}, {}, {})",
            quiet.as_millis(),
            bound(AUTO_DOM_CAP),
            bound(AUTO_EMPTY_CAP),
            MIN_CONTENT_CHARS
        );
        let left = deadline.saturating_duration_since(Instant::now());
        // The page resolves by the bound; the timeout only guards against a hung renderer.
        let settled = tokio::time::timeout(left, evaluate_raw(&tab.page, &expr)).await;
        if !shown_here
            && let Ok(Ok(Ok(v))) = &settled
            && v.get("wants").and_then(serde_json::Value::as_bool) == Some(true)
        {
            // Shown, the page is no longer hidden: the next round settles it.
            shown_here = true;
            reveal(tab, deadline, Reveal::Always).await;
            continue;
        }
        rounds += 1;
        traffic.drain();
        let more_traffic = !traffic.open.is_empty();
        if !matches!(settled, Ok(Ok(Ok(_)))) || !more_traffic {
            return;
        }
        let cap = deadline.min(Instant::now() + AUTO_SETTLE_CAP);
        traffic.settle(cap).await;
        if Instant::now() >= deadline {
            return;
        }
    }
}

/// Aborts a spawned task when dropped (an early return must not leave it running).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether `document.readyState` is at least `state` ("interactive" or "complete").
async fn ready_state_at_least(page: &Page, state: &str) -> bool {
    let expr = match state {
        "complete" => "document.readyState === 'complete'",
        _ => "document.readyState !== 'loading'",
    };
    matches!(evaluate_value::<bool>(page, expr).await, Ok(true))
}

async fn poll_true(
    page: &Page,
    expr: &str,
    deadline: Instant,
    timeout: impl Fn() -> Error,
) -> Result<(), Error> {
    // Give up a little before the request's deadline, so the caller hears which
    // condition did not hold rather than a bare deadline (an evaluation can take a while
    // on a busy renderer).
    let give_up = deadline.checked_sub(SNAPSHOT_MARGIN).unwrap_or(deadline);
    loop {
        let Ok(value) = tokio::time::timeout_at(give_up.into(), evaluate_raw(page, expr)).await
        else {
            return Err(timeout());
        };
        // An exception (e.g. a bad selector) is the user's error: say so at once.
        match value? {
            Ok(v) if v.as_bool() == Some(true) => return Ok(()),
            Ok(_) => {}
            Err(exception) => return Err(Error::Invalid(format!("wait condition: {exception}"))),
        }
        if Instant::now() + POLL >= give_up {
            return Err(timeout());
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn run_user_js(
    page: &Page,
    code: &str,
) -> Result<(Option<serde_json::Value>, Option<String>), Error> {
    Ok(match evaluate_raw(page, code).await? {
        Ok(v) => (Some(v), None),
        Err(exception) => (None, Some(exception)),
    })
}

/// Evaluates `expr` (awaiting a promise) and returns its JSON value, or the exception text.
async fn evaluate_raw(page: &Page, expr: &str) -> Result<Result<serde_json::Value, String>, Error> {
    let params = EvaluateParams::builder()
        .expression(expr)
        .await_promise(true)
        .return_by_value(true)
        .build()
        .map_err(Error::Protocol)?;
    let resp = page.execute(params).await?;
    if let Some(ex) = resp.result.exception_details.as_ref() {
        let text = ex
            .exception
            .as_ref()
            .and_then(|e| e.description.clone())
            .unwrap_or_else(|| ex.text.clone());
        return Ok(Err(text));
    }
    Ok(Ok(resp
        .result
        .result
        .value
        .clone()
        .unwrap_or(serde_json::Value::Null)))
}

async fn evaluate_value<T: serde::de::DeserializeOwned>(
    page: &Page,
    expr: &str,
) -> Result<T, Error> {
    match evaluate_raw(page, expr).await? {
        Ok(v) => serde_json::from_value(v).map_err(|e| Error::Protocol(e.to_string())),
        Err(exception) => Err(Error::Protocol(exception)),
    }
}

/// Turns request interception on for the blocked resource types (failing each paused
/// request as "blocked by client"), or off when nothing is blocked.
async fn set_blocking(tab: &mut TabState, block: &[Block]) -> Result<(), Error> {
    if tab.blocked == block {
        return Ok(());
    }
    if block.is_empty() {
        tab.page.execute(FetchDisable::default()).await?;
    } else {
        if tab.blocker.is_none() {
            let mut paused = tab.page.event_listener::<EventRequestPaused>().await?;
            let page = tab.page.clone();
            tab.blocker = Some(tokio::spawn(async move {
                while let Some(ev) = paused.next().await {
                    let fail =
                        FailRequestParams::new(ev.request_id.clone(), ErrorReason::BlockedByClient);
                    if page.execute(fail).await.is_err() {
                        break;
                    }
                }
            }));
        }
        let patterns = block
            .iter()
            .map(|b| {
                RequestPattern::builder()
                    .url_pattern("*")
                    .resource_type(b.resource_type())
                    .request_stage(RequestStage::Request)
                    .build()
            })
            .collect::<Vec<_>>();
        tab.page
            .execute(FetchEnable::builder().patterns(patterns).build())
            .await?;
    }
    tab.blocked = block.to_vec();
    Ok(())
}

/// Counts the page's content requests in flight (scripts, fetch/XHR, frames), for
/// `WaitFor::Auto`'s settle step. Images, fonts, stylesheets, media, beacons and
/// long-lived streams (EventSource, WebSocket) cannot add text and are not waited for.
struct Traffic {
    sent: chromiumoxide::listeners::EventStream<EventRequestWillBeSent>,
    finished: chromiumoxide::listeners::EventStream<EventLoadingFinished>,
    failed: chromiumoxide::listeners::EventStream<EventLoadingFailed>,
    open: HashSet<String>,
    /// When the last content request ended.
    last_done: Option<Instant>,
}

fn is_content_request(kind: Option<&ResourceType>) -> bool {
    matches!(
        kind,
        Some(
            ResourceType::Script | ResourceType::Xhr | ResourceType::Fetch | ResourceType::Document
        )
    )
}

impl Traffic {
    async fn listen(page: &Page) -> Result<Self, Error> {
        Ok(Self {
            sent: page.event_listener::<EventRequestWillBeSent>().await?,
            finished: page.event_listener::<EventLoadingFinished>().await?,
            failed: page.event_listener::<EventLoadingFailed>().await?,
            open: HashSet::new(),
            last_done: None,
        })
    }

    fn on_sent(&mut self, ev: &EventRequestWillBeSent) {
        if is_content_request(ev.r#type.as_ref()) {
            self.open.insert(ev.request_id.inner().clone());
        }
    }

    fn on_done(&mut self, id: &str) {
        if self.open.remove(id) {
            self.last_done = Some(Instant::now());
        }
    }

    /// Returns once no content request is in flight and none ended in the last
    /// [`AUTO_QUIET`] (its callback may start another or render), or at `cap`.
    async fn settle(&mut self, cap: Instant) {
        loop {
            self.drain();
            let now = Instant::now();
            let quiet_until = self.last_done.map_or(now, |t| t + AUTO_QUIET);
            if self.open.is_empty() && now >= quiet_until || now >= cap {
                return;
            }
            let wake = if self.open.is_empty() {
                quiet_until.min(cap)
            } else {
                cap
            };
            tokio::select! {
                Some(ev) = self.sent.next() => self.on_sent(&ev),
                Some(ev) = self.finished.next() => self.on_done(ev.request_id.inner()),
                Some(ev) = self.failed.next() => self.on_done(ev.request_id.inner()),
                _ = tokio::time::sleep_until(wake.into()) => {}
            }
        }
    }

    /// Takes the events already buffered without waiting.
    fn drain(&mut self) {
        use futures_util::FutureExt;
        while let Some(Some(ev)) = self.sent.next().now_or_never() {
            self.on_sent(&ev);
        }
        while let Some(Some(ev)) = self.finished.next().now_or_never() {
            self.on_done(ev.request_id.inner());
        }
        while let Some(Some(ev)) = self.failed.next().now_or_never() {
            self.on_done(ev.request_id.inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_conditions_parse() {
        assert_eq!("load".parse::<WaitFor>().unwrap(), WaitFor::Load);
        assert_eq!(
            "networkidle".parse::<WaitFor>().unwrap(),
            WaitFor::NetworkIdle
        );
        assert_eq!(
            "css:#app .item".parse::<WaitFor>().unwrap(),
            WaitFor::Css("#app .item".into())
        );
        assert_eq!(
            "js:window.ready === true".parse::<WaitFor>().unwrap(),
            WaitFor::Js("window.ready === true".into())
        );
        for bad in ["", "css:", "js:  ", "idle", "xpath://a"] {
            assert!(bad.parse::<WaitFor>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn block_lists_parse_sorted_and_deduplicated() {
        assert_eq!(
            Block::parse_list("fonts, images,fonts").unwrap(),
            vec![Block::Images, Block::Fonts]
        );
        assert!(Block::parse_list("images,scripts").is_err());
        assert!(Block::parse_list("").unwrap().is_empty());
    }
}
