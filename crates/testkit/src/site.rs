//! A programmable loopback site: each test chooses its own routes and reads back what was
//! requested.
//!
//! [`FixtureSite`](crate::FixtureSite) serves one fixed set of routes; crawl tests need sites
//! shaped for the case at hand (a robots.txt, a 429 then a page, a sitemap index). Build one
//! with [`SiteBuilder`], start it, and assert on [`Site::requests`] afterwards: when a path was
//! hit, how often, and with which headers.
//!
//! ```no_run
//! use gannet_testkit::{Response, SiteBuilder};
//! use std::time::Duration;
//!
//! # async fn demo() {
//! let site = SiteBuilder::new()
//!     .robots("User-agent: *\nDisallow: /private\n")
//!     .page("/", "<a href=/a>a</a>")
//!     .sequence(
//!         "/a",
//!         vec![
//!             Response::new(429).header("Retry-After", "1"),
//!             Response::html("<p>ok</p>"),
//!         ],
//!     )
//!     .start()
//!     .await;
//! // ... crawl site.origin() ...
//! assert_eq!(site.hits("/robots.txt"), 1);
//! # }
//! ```
//!
//! Unknown paths answer `404`. The site listens on `127.0.0.1:0` and shuts down when dropped.

use crate::bind_loopback;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use std::collections::HashMap;
use std::future::IntoFuture;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

/// One canned answer of a [`Site`] route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// Response headers, sent as given (names are case-insensitive).
    pub headers: Vec<(String, String)>,
    /// The body bytes, sent as they are (no compression is added).
    pub body: Vec<u8>,
    /// How long to wait before sending anything (the headers included).
    pub delay: Option<Duration>,
}

impl Response {
    /// A response with `status`, no headers and an empty body.
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: None,
        }
    }

    /// A `200` HTML page (`text/html; charset=utf-8`).
    pub fn html(body: impl Into<String>) -> Response {
        Response::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(body.into())
    }

    /// A `200` plain-text response (`text/plain; charset=utf-8`).
    pub fn text(body: impl Into<String>) -> Response {
        Response::new(200)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(body.into())
    }

    /// A `200` response with this `Content-Type` and body.
    pub fn typed(content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response::new(200)
            .header("Content-Type", content_type)
            .body(body)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Replaces the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Response {
        self.body = body.into();
        self
    }

    /// Waits `delay` before answering (a slow or stalled server).
    pub fn delay(mut self, delay: Duration) -> Response {
        self.delay = Some(delay);
        self
    }
}

/// A request the site received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// The path and query as requested, e.g. `/search?q=x`.
    pub path: String,
    /// When the request arrived (before any [`Response::delay`]).
    pub at: Instant,
    /// The request headers, names lowercase, values decoded lossily, in arrival order.
    pub headers: Vec<(String, String)>,
}

impl LoggedRequest {
    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Builds a [`Site`]: routes first, then [`SiteBuilder::start`] or
/// [`SiteBuilder::start_blocking`].
///
/// A route is an exact path, optionally with a query (`/a?x=1`); a request matches a route with
/// its exact path and query first, then one with its path alone. A later definition of the same
/// route replaces the earlier one.
#[derive(Debug, Clone, Default)]
pub struct SiteBuilder {
    routes: HashMap<String, Vec<Response>>,
}

impl SiteBuilder {
    /// A site with no routes (everything answers `404`).
    pub fn new() -> SiteBuilder {
        SiteBuilder::default()
    }

    /// Serves `html` at `path` as a `200` `text/html` page.
    pub fn page(self, path: &str, html: impl Into<String>) -> SiteBuilder {
        self.response(path, Response::html(html))
    }

    /// Serves `response` at `path`, every time.
    pub fn response(self, path: &str, response: Response) -> SiteBuilder {
        self.sequence(path, vec![response])
    }

    /// Serves the responses at `path` in turn, one per hit; the last one repeats. An empty list
    /// serves `404`.
    pub fn sequence(mut self, path: &str, responses: Vec<Response>) -> SiteBuilder {
        self.routes.insert(path.to_owned(), responses);
        self
    }

    /// Serves `text` as `/robots.txt` (`text/plain`).
    pub fn robots(self, text: impl Into<String>) -> SiteBuilder {
        self.response("/robots.txt", Response::text(text))
    }

    /// Answers `path` with a redirect of `status` (301, 302, 307, ...) to `location`, as given
    /// (relative or absolute).
    pub fn redirect(self, path: &str, status: u16, location: &str) -> SiteBuilder {
        self.response(path, Response::new(status).header("Location", location))
    }

    /// Serves `bytes` at `path` gzip-compressed, with `Content-Encoding: gzip` and
    /// `content_type`; a client that decodes the transfer sees `bytes`.
    pub fn gzip(self, path: &str, content_type: &str, bytes: &[u8]) -> SiteBuilder {
        let response =
            Response::typed(content_type, gzip(bytes)).header("Content-Encoding", "gzip");
        self.response(path, response)
    }

    /// Starts the site on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound (a broken test machine).
    pub async fn start(self) -> Site {
        let (listener, addr) = bind_loopback().await;
        let state = Shared::new(self.routes);
        let (shutdown, stop) = oneshot::channel();
        tokio::spawn(serve(listener, state.clone(), stop));
        Site {
            addr,
            state,
            shutdown: Some(shutdown),
            thread: None,
        }
    }

    /// Starts the site on a runtime of its own, on a new thread; for tests that are not async
    /// (CLI tests that spawn the real binary).
    ///
    /// # Panics
    ///
    /// If the runtime cannot be built or no loopback port can be bound.
    pub fn start_blocking(self) -> Site {
        let state = Shared::new(self.routes);
        let (ready, addr) = std::sync::mpsc::channel();
        let (shutdown, stop) = oneshot::channel();
        let served = state.clone();
        let thread = std::thread::Builder::new()
            .name("gannet-test-site".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("build the test site's runtime");
                runtime.block_on(async move {
                    let (listener, addr) = bind_loopback().await;
                    if ready.send(addr).is_ok() {
                        serve(listener, served, stop).await;
                    }
                });
            })
            .expect("spawn the test site's thread");
        let addr = addr.recv().expect("test site thread started");
        Site {
            addr,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }
}

/// A running [`SiteBuilder`] site on a free port of 127.0.0.1, until dropped.
#[derive(Debug)]
pub struct Site {
    addr: SocketAddr,
    state: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Site {
    /// The socket address the site listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The origin of the site, `http://127.0.0.1:PORT/`.
    ///
    /// # Panics
    ///
    /// Never in practice: a socket address always makes a valid URL.
    pub fn origin(&self) -> Url {
        self.url("/")
    }

    /// The absolute URL of `path` on the site (`path` starts with `/`).
    ///
    /// # Panics
    ///
    /// If `path` does not make a valid URL.
    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{}", self.addr, path)).expect("site URL is valid")
    }

    /// Adds or replaces the route `path` of the running site, serving `response` every time;
    /// for bodies that must name the site's own URLs (known only once it listens).
    pub fn set_response(&self, path: &str, response: Response) {
        self.set_sequence(path, vec![response]);
    }

    /// Adds or replaces the route `path` of the running site, serving `responses` in turn as
    /// [`SiteBuilder::sequence`] does; the turn starts over.
    pub fn set_sequence(&self, path: &str, responses: Vec<Response>) {
        let mut routes = self
            .state
            .0
            .routes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        routes.insert(path.to_owned(), responses);
        let mut hits = self.state.0.hits.lock().unwrap_or_else(|e| e.into_inner());
        hits.remove(path);
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state.log().clone()
    }

    /// The requests for `path`: with a `?`, the exact path and query; without, any query.
    pub fn requests_for(&self, path: &str) -> Vec<LoggedRequest> {
        self.state
            .log()
            .iter()
            .filter(|r| path_matches(&r.path, path))
            .cloned()
            .collect()
    }

    /// How many requests `path` received (matched as in [`Site::requests_for`]).
    pub fn hits(&self, path: &str) -> usize {
        self.state
            .log()
            .iter()
            .filter(|r| path_matches(&r.path, path))
            .count()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            // Dropping the runtime at the end of the thread cancels open connections.
            let _ = thread.join();
        }
    }
}

/// True when the logged `requested` path (with its query) is what `wanted` names.
fn path_matches(requested: &str, wanted: &str) -> bool {
    if wanted.contains('?') {
        requested == wanted
    } else {
        requested.split('?').next() == Some(wanted)
    }
}

/// What the server and the [`Site`] handle share: the routes, hit counters and the log.
#[derive(Debug, Clone)]
struct Shared(Arc<SharedInner>);

#[derive(Debug)]
struct SharedInner {
    routes: Mutex<HashMap<String, Vec<Response>>>,
    hits: Mutex<HashMap<String, usize>>,
    log: Mutex<Vec<LoggedRequest>>,
}

impl Shared {
    fn new(routes: HashMap<String, Vec<Response>>) -> Shared {
        Shared(Arc::new(SharedInner {
            routes: Mutex::new(routes),
            hits: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
        }))
    }

    fn log(&self) -> MutexGuard<'_, Vec<LoggedRequest>> {
        // A panic elsewhere while logging leaves the log usable.
        self.0.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Logs the request and picks its canned response (`None`: 404).
    fn answer(&self, path_and_query: &str, headers: &HeaderMap) -> Option<Response> {
        self.log().push(LoggedRequest {
            path: path_and_query.to_owned(),
            at: Instant::now(),
            headers: headers
                .iter()
                .map(|(n, v)| {
                    let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                    (n.as_str().to_owned(), value)
                })
                .collect(),
        });
        let path = path_and_query.split('?').next().unwrap_or(path_and_query);
        let routes = self.0.routes.lock().unwrap_or_else(|e| e.into_inner());
        let (key, responses) = routes
            .get_key_value(path_and_query)
            .or_else(|| routes.get_key_value(path))?;
        let mut hits = self.0.hits.lock().unwrap_or_else(|e| e.into_inner());
        let hit = hits.entry(key.clone()).or_insert(0);
        let response = responses.get(*hit).or_else(|| responses.last()).cloned();
        *hit += 1;
        response
    }
}

/// Serves the site until `stop` fires (or its sender is dropped).
async fn serve(listener: TcpListener, state: Shared, stop: oneshot::Receiver<()>) {
    let app = Router::new().fallback(handle).with_state(state);
    let server = axum::serve(listener, app).into_future();
    tokio::select! {
        _ = server => {}
        _ = stop => {}
    }
}

async fn handle(
    State(state): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
) -> axum::response::Response {
    let path = uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| uri.path().to_owned());
    let Some(canned) = state.answer(&path, &headers) else {
        return build(
            Response::new(404)
                .header("Content-Type", "text/plain")
                .body("not found"),
        );
    };
    if let Some(delay) = canned.delay {
        tokio::time::sleep(delay).await;
    }
    build(canned)
}

/// Turns a canned [`Response`] into an HTTP response; unusable statuses and headers are
/// replaced by a `500` and skipped, respectively.
fn build(canned: Response) -> axum::response::Response {
    let mut response = axum::response::Response::new(Body::from(canned.body));
    *response.status_mut() =
        StatusCode::from_u16(canned.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in &canned.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// Gzip-compresses `bytes` (in memory, which cannot fail).
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec never fails.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A minimal HTTP/1.1 GET over a raw socket, returning the whole response as bytes.
    async fn get(site: &Site, path: &str, extra: &str) -> Vec<u8> {
        let mut stream = tokio::net::TcpStream::connect(site.addr()).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        response
    }

    async fn get_text(site: &Site, path: &str) -> String {
        String::from_utf8_lossy(&get(site, path, "").await).into_owned()
    }

    #[tokio::test]
    async fn routes_404_and_log() {
        let site = SiteBuilder::new()
            .page("/", "<p>home</p>")
            .robots("User-agent: *\nDisallow: /x\n")
            .redirect("/old", 301, "/")
            .response("/q?a=1", Response::text("with query"))
            .start()
            .await;
        let home = get_text(&site, "/").await;
        assert!(home.starts_with("HTTP/1.1 200"), "{home}");
        assert!(home.contains("text/html; charset=utf-8"));
        assert!(home.ends_with("<p>home</p>"));
        let robots = get_text(&site, "/robots.txt").await;
        assert!(robots.contains("text/plain") && robots.ends_with("Disallow: /x\n"));
        let old = get_text(&site, "/old").await.to_ascii_lowercase();
        assert!(old.starts_with("http/1.1 301") && old.contains("location: /\r\n"));
        assert!(get_text(&site, "/q?a=1").await.ends_with("with query"));
        assert!(get_text(&site, "/q?a=2").await.starts_with("HTTP/1.1 404"));
        assert!(get_text(&site, "/nope").await.starts_with("HTTP/1.1 404"));

        let _ = get(&site, "/", "If-None-Match: \"v1\"\r\n").await;
        assert_eq!(site.hits("/"), 2);
        assert_eq!(site.hits("/q"), 2);
        assert_eq!(site.hits("/q?a=1"), 1);
        assert_eq!(site.requests().len(), 7);
        let conditional = site.requests_for("/").pop().unwrap();
        assert_eq!(conditional.header("if-none-match"), Some("\"v1\""));
        let log = site.requests();
        assert!(log.windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[tokio::test]
    async fn sequence_repeats_its_last_answer_and_delays() {
        let site = SiteBuilder::new()
            .sequence(
                "/s",
                vec![
                    Response::new(429).header("Retry-After", "1"),
                    Response::html("ok").delay(Duration::from_millis(100)),
                ],
            )
            .start()
            .await;
        let first = get_text(&site, "/s").await.to_ascii_lowercase();
        assert!(first.starts_with("http/1.1 429") && first.contains("retry-after: 1"));
        let started = Instant::now();
        assert!(get_text(&site, "/s").await.ends_with("ok"));
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert!(get_text(&site, "/s").await.ends_with("ok"));
        assert_eq!(site.hits("/s"), 3);
    }

    #[tokio::test]
    async fn routes_can_be_set_on_a_running_site() {
        let site = SiteBuilder::new().start().await;
        assert!(get_text(&site, "/late").await.starts_with("HTTP/1.1 404"));
        let own = site.url("/x");
        site.set_response("/late", Response::text(own.as_str()));
        assert!(get_text(&site, "/late").await.ends_with(own.as_str()));
        site.set_sequence("/late", vec![Response::new(503), Response::text("up")]);
        assert!(get_text(&site, "/late").await.starts_with("HTTP/1.1 503"));
        assert!(get_text(&site, "/late").await.ends_with("up"));
    }

    #[tokio::test]
    async fn gzip_route_is_content_encoded() {
        let site = SiteBuilder::new()
            .gzip("/s.xml", "application/xml", b"<urlset/>")
            .start()
            .await;
        let response = get(&site, "/s.xml", "").await;
        let text = String::from_utf8_lossy(&response).to_ascii_lowercase();
        assert!(text.contains("content-encoding: gzip") && text.contains("application/xml"));
        let body_start = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let mut decoded = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&response[body_start..]),
            &mut decoded,
        )
        .unwrap();
        assert_eq!(decoded, "<urlset/>");
    }

    #[test]
    fn blocking_site_starts_and_stops() {
        let site = SiteBuilder::new().page("/a", "a").start_blocking();
        let addr = site.addr();
        assert_eq!(site.origin().as_str(), format!("http://{addr}/"));
        assert_eq!(site.url("/a").as_str(), format!("http://{addr}/a"));
        drop(site);
        assert!(std::net::TcpStream::connect(addr).is_err());
    }
}
