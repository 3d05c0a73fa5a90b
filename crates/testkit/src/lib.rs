//! Fixture web site on loopback for gannet's tests: real HTTP, no mocks.
//!
//! [`FixtureSite::start`] binds `127.0.0.1:0` and serves the routes below on the caller's tokio
//! runtime; [`FixtureSite::start_blocking`] runs the same site on its own runtime thread, for
//! tests that are not async (CLI tests that spawn the real binary). The site shuts down when
//! the [`FixtureSite`] is dropped. The texts pages carry are constants of this crate, so tests
//! assert exact strings.
//!
//! ```no_run
//! # async fn demo() {
//! let site = gannet_testkit::FixtureSite::start().await;
//! let url = site.url("/article/1"); // http://127.0.0.1:PORT/article/1
//! # }
//! ```
//!
//! | route | response |
//! | --- | --- |
//! | `/` | home page, an article with [`HOME_TITLE`] and [`HOME_PHRASE`] |
//! | `/article/1`, `/article/2` | articles with [`ARTICLE_PHRASE`], [`SECOND_ARTICLE_PHRASE`] |
//! | `/charset/{slug}/header` | a page of [`CHARSET_PAGES`] encoded in its charset, named only in the `Content-Type` header |
//! | `/charset/{slug}/meta` | the same page, charset named only in a `<meta charset>` after more than 1024 bytes of head |
//! | `/compressed/{gzip,br,zstd,deflate}` | a page with [`COMPRESSED_PHRASE`], with that `Content-Encoding` (deflate = zlib) |
//! | `/redirect/{n}` | `302` to `/redirect/{n-1}`; `/redirect/0` is a page with [`REDIRECT_TARGET_PHRASE`] (`/redirect/15` is too long a chain) |
//! | `/loop/a`, `/loop/b` | `302` to each other (a redirect loop) |
//! | `/rel/start` | `302` with the relative `Location: target`, i.e. `/rel/target` (a page with [`REDIRECT_TARGET_PHRASE`]) |
//! | `/redirect-to-ftp` | `302` to an `ftp://` URL |
//! | `/slow-headers` | waits [`SLOW_HEADERS_DELAY`] (30 s) before sending anything |
//! | `/stall` | headers and the start of the body, then nothing, forever |
//! | `/slow-body` | a page with [`SLOW_BODY_PHRASE`] in [`SLOW_BODY_CHUNKS`] chunks, [`SLOW_BODY_INTERVAL`] apart (1 s in all) |
//! | `/huge` | [`HUGE_BYTES`] (20 MiB) of HTML, with a `Content-Length` |
//! | `/endless` | chunked HTML that never ends (generated lazily) |
//! | `/gzip-bomb` | ~1 MiB of gzip inflating to [`GZIP_BOMB_DECODED_BYTES`] (1 GiB) of spaces, streamed from pieces built once |
//! | `/image.png`, `/data.json`, `/file.pdf` | `image/png`, `application/json`, `application/pdf` |
//! | `/text.txt` | `text/plain`: [`PLAIN_TEXT`] |
//! | `/page.xhtml` | `application/xhtml+xml` |
//! | `/no-content-type` | HTML (after leading whitespace) with no `Content-Type`: [`NO_CONTENT_TYPE_PHRASE`] |
//! | `/no-content-type-binary` | PNG bytes with no `Content-Type` |
//! | `/status/{code}` | that status with a small HTML body (`Retry-After: 1` on 429 and 503) |
//! | `/echo-headers` | `text/plain`: the request's headers, one `name: value` per line (names lowercase) |
//! | anything else | `404` |
//!
//! For sites shaped by the test (chosen routes, a request log), see [`SiteBuilder`].

mod bomb;
mod content;
pub mod netns;
pub mod nginx;
mod process;
pub mod redis;
mod routes;
mod site;
mod tempdir;

pub use bomb::GZIP_BOMB_DECODED_BYTES;
pub use content::*;
pub use process::output_within;
pub use routes::{
    HUGE_BYTES, MAX_REDIRECT_CHAIN, SLOW_BODY_CHUNKS, SLOW_BODY_INTERVAL, SLOW_HEADERS_DELAY,
};
pub use site::{LoggedRequest, Response, Site, SiteBuilder};
pub use tempdir::TempDir;

use std::future::IntoFuture;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

/// The fixture site, listening on a free port of 127.0.0.1 until dropped.
#[derive(Debug)]
pub struct FixtureSite {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Bind a free loopback port.
///
/// # Panics
///
/// If no loopback port can be bound (a broken test machine).
async fn bind_loopback() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port for the fixture site");
    let addr = listener
        .local_addr()
        .expect("local address of the fixture site");
    (listener, addr)
}

impl FixtureSite {
    /// Starts the site on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound (a broken test machine).
    pub async fn start() -> FixtureSite {
        let (listener, addr) = bind_loopback().await;
        let (shutdown, stop) = oneshot::channel();
        tokio::spawn(run(listener, stop));
        FixtureSite {
            addr,
            shutdown: Some(shutdown),
            thread: None,
        }
    }

    /// Starts the site on a runtime of its own, on a new thread; for tests that are not async.
    ///
    /// # Panics
    ///
    /// If the runtime cannot be built or no loopback port can be bound.
    pub fn start_blocking() -> FixtureSite {
        let (ready, addr) = std::sync::mpsc::channel();
        let (shutdown, stop) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("gannet-fixture-site".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("build the fixture site's runtime");
                runtime.block_on(async move {
                    let (listener, addr) = bind_loopback().await;
                    if ready.send(addr).is_ok() {
                        run(listener, stop).await;
                    }
                });
            })
            .expect("spawn the fixture site's thread");
        let addr = addr.recv().expect("fixture site thread started");
        FixtureSite {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The socket address the site listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The absolute URL of `path` on the site (`path` starts with `/`).
    ///
    /// # Panics
    ///
    /// If `path` does not make a valid URL.
    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{}", self.addr, path)).expect("fixture URL is valid")
    }
}

impl Drop for FixtureSite {
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

/// Serves the site until `stop` fires (or its sender is dropped).
async fn run(listener: TcpListener, stop: oneshot::Receiver<()>) {
    let server = axum::serve(listener, routes::router()).into_future();
    tokio::select! {
        _ = server => {}
        _ = stop => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A minimal HTTP/1.1 GET over a raw socket (the fetcher is tested in its own crate).
    async fn get(site: &FixtureSite, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(site.addr()).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        String::from_utf8_lossy(&response).into_owned()
    }

    #[tokio::test]
    async fn serves_home_and_redirects() {
        let site = FixtureSite::start().await;
        let home = get(&site, "/").await;
        assert!(home.starts_with("HTTP/1.1 200"), "{home}");
        assert!(home.contains(HOME_PHRASE));
        let redirect = get(&site, "/redirect/3").await;
        assert!(redirect.starts_with("HTTP/1.1 302"));
        assert!(
            redirect
                .to_ascii_lowercase()
                .contains("location: /redirect/2")
        );
        assert!(get(&site, "/status/503").await.starts_with("HTTP/1.1 503"));
        assert!(get(&site, "/nope").await.starts_with("HTTP/1.1 404"));
    }

    #[tokio::test]
    async fn charset_pages_are_encoded() {
        let site = FixtureSite::start().await;
        let response = get(&site, "/charset/koi8-r/header").await;
        assert!(
            response
                .to_ascii_lowercase()
                .contains("content-type: text/html; charset=koi8-r")
        );
        let response = get(&site, "/charset/koi8-r/meta").await;
        let head_start = response.find("<head>").unwrap();
        let meta = response.find("<meta charset=\"KOI8-R\">").unwrap();
        assert!(meta - head_start > 1024);
    }

    #[test]
    fn blocking_site_starts_and_stops() {
        let site = FixtureSite::start_blocking();
        let addr = site.addr();
        assert_eq!(site.url("/a").as_str(), format!("http://{addr}/a"));
        drop(site);
        assert!(std::net::TcpStream::connect(addr).is_err());
    }
}
