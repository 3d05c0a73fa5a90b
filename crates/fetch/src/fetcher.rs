//! The [`Fetcher`]: one reqwest client, redirects followed by hand (loop detection, a cap,
//! http/https only), a deadline over the whole fetch, and a streamed body with a running cap
//! on decoded bytes.

use crate::config::{ContentGate, FetchConfig, Sniff, parse_content_type, sniff_html};
use crate::error::{FetchError, FetchErrorKind, TimeoutPhase, classify};
use crate::guard::AddressGuard;
use bytes::{Bytes, BytesMut};
use reqwest::header::{self, HeaderMap, HeaderValue};
use std::sync::Arc;
use tokio::time::{Instant, timeout_at};
use url::Url;

/// The `Accept` header sent with every request.
pub const ACCEPT: &str = "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1";

/// A page as fetched: the final URL, the status, the headers and the decoded body.
#[derive(Debug, Clone)]
pub struct FetchedPage {
    /// The final URL, after redirects.
    pub url: Url,
    /// The HTTP status of the final response (always 2xx).
    pub status: u16,
    /// The MIME essence of the `Content-Type` (e.g. `text/html`), lowercased; `None` when the
    /// server sent none (the body was then sniffed as HTML).
    pub content_type: Option<String>,
    /// The `charset` parameter of the `Content-Type`, as sent (e.g. `Shift_JIS`).
    pub charset: Option<String>,
    /// The headers of the final response, names lowercased, values decoded lossily.
    pub headers: Vec<(String, String)>,
    /// The body after decompression (gzip, brotli, zstd, deflate), at most
    /// [`FetchConfig::max_body_bytes`] long. Not charset-decoded.
    pub body: Bytes,
    /// Every URL the fetch was redirected to, in order; the last one equals `url`. Empty when
    /// there was no redirect.
    pub redirects: Vec<Url>,
}

/// Limits of one fetch. [`Fetcher::fetch`] takes them from the [`FetchConfig`]; robots.txt and
/// sitemap fetches choose their own.
#[derive(Debug, Clone)]
pub(crate) struct RequestOptions<'a> {
    /// Which content types are accepted.
    pub(crate) gate: &'a ContentGate,
    /// The cap on the decoded body, in bytes.
    pub(crate) max_body_bytes: u64,
    /// At the cap: `true` keeps the first `max_body_bytes` bytes and stops reading, `false`
    /// fails with [`FetchErrorKind::BodyTooLarge`].
    pub(crate) truncate_body: bool,
    /// How many redirects are followed.
    pub(crate) max_redirects: usize,
}

/// An HTTP fetcher: build it once, clone it freely (clones share one connection pool).
#[derive(Debug, Clone)]
pub struct Fetcher {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) client: reqwest::Client,
    pub(crate) config: FetchConfig,
    /// The address guard; `None` when [`FetchConfig::allow_private`] is on.
    pub(crate) guard: Option<AddressGuard>,
}

impl Fetcher {
    /// Builds a fetcher: an HTTP/1.1 and HTTP/2 (ALPN) client on rustls with the `ring` crypto
    /// provider, which this installs as the process default if none is installed yet.
    ///
    /// With [`FetchConfig::allow_private`] off, the client resolves names through the address
    /// guard and ignores proxies from the environment.
    pub fn new(config: FetchConfig) -> Result<Fetcher, FetchError> {
        // Fails only when a provider is already installed, which is what we need anyway.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));
        let mut builder = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout);
        let guard = (!config.allow_private).then(|| AddressGuard::new(&config.exempt_addresses));
        if let Some(guard) = &guard {
            // Through a proxy, the proxy would resolve and dial the target unchecked.
            builder = builder.dns_resolver(guard.resolver()).no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| FetchError::without_url(FetchErrorKind::Io(e.to_string())))?;
        Ok(Fetcher {
            inner: Arc::new(Inner {
                client,
                config,
                guard,
            }),
        })
    }

    /// The configuration this fetcher was built with.
    pub fn config(&self) -> &FetchConfig {
        &self.inner.config
    }

    /// The address guard, `None` when [`FetchConfig::allow_private`] is on.
    pub fn address_guard(&self) -> Option<&AddressGuard> {
        self.inner.guard.as_ref()
    }

    /// Checks what can be checked of `url` without the network: its scheme (http or https)
    /// and, with [`FetchConfig::allow_private`] off, its host when it is an IP literal
    /// ([`FetchErrorKind::ForbiddenAddress`]). A host name passes here; it is checked when
    /// it is resolved. Every request runs this; the server can call it to turn a bad URL
    /// away before queueing it.
    pub fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        check_scheme(url).map_err(|kind| FetchError::new(url.clone(), kind))?;
        if let Some(guard) = &self.inner.guard {
            guard.check_url(url).map_err(|refusal| {
                FetchError::new(url.clone(), FetchErrorKind::ForbiddenAddress(refusal))
            })?;
        }
        Ok(())
    }

    /// Fetches `url`, following redirects, and returns the page with its decoded body.
    ///
    /// Fails on a non-http(s) URL, network errors, a 4xx/5xx status, a redirect loop or too
    /// long a chain, a refused content type, a body over the size cap, or when the total
    /// timeout passes (which covers every hop and the body). With
    /// [`FetchConfig::allow_private`] off, also when the URL or a redirect hop leads to a
    /// refused address; the error then names that hop.
    pub async fn fetch(&self, url: &Url) -> Result<FetchedPage, FetchError> {
        let config = &self.inner.config;
        let options = RequestOptions {
            gate: &config.accept_content,
            max_body_bytes: config.max_body_bytes,
            truncate_body: false,
            max_redirects: config.max_redirects,
        };
        self.fetch_with(url, &options).await
    }

    /// [`Fetcher::fetch`] with per-request limits in place of the configured ones (robots.txt
    /// and sitemap fetches); the client, its pool and the total timeout are shared.
    pub(crate) async fn fetch_with(
        &self,
        url: &Url,
        options: &RequestOptions<'_>,
    ) -> Result<FetchedPage, FetchError> {
        let config = &self.inner.config;
        let deadline = Instant::now() + config.timeout;
        check_scheme(url).map_err(|kind| FetchError::new(url.clone(), kind))?;
        let mut current = url.clone();
        let mut redirects: Vec<Url> = Vec::new();
        loop {
            let response = self.send(&current, deadline).await?;
            let status = response.status();
            let location = status
                .is_redirection()
                .then(|| response.headers().get(header::LOCATION))
                .flatten();
            if let Some(location) = location {
                let fail = |kind| FetchError::new(current.clone(), kind);
                let next = resolve_location(&current, location).map_err(fail)?;
                let seen = std::iter::once(url).chain(&redirects);
                if seen.into_iter().any(|u| same_resource(u, &next)) {
                    return Err(fail(FetchErrorKind::RedirectLoop(next)));
                }
                if redirects.len() >= options.max_redirects {
                    return Err(fail(FetchErrorKind::TooManyRedirects(
                        options.max_redirects,
                    )));
                }
                redirects.push(next.clone());
                current = next;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::new(
                    current,
                    FetchErrorKind::HttpStatus(status.as_u16()),
                ));
            }
            return self
                .read_page(current, response, redirects, deadline, options)
                .await;
        }
    }

    /// Sends a GET for `url` and waits for the response headers, until `deadline`. The URL
    /// passes [`Fetcher::check_url`] first (every hop of a redirect chain comes here).
    async fn send(&self, url: &Url, deadline: Instant) -> Result<reqwest::Response, FetchError> {
        self.check_url(url)?;
        let request = self.inner.client.get(url.as_str()).send();
        match timeout_at(deadline, request).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => Err(FetchError::new(
                url.clone(),
                classify(&error, TimeoutPhase::Headers),
            )),
            Err(_) => Err(FetchError::new(
                url.clone(),
                FetchErrorKind::Timeout(TimeoutPhase::Headers),
            )),
        }
    }

    /// Checks the content type and reads the body with the size cap, until `deadline`.
    pub(crate) async fn read_page(
        &self,
        url: Url,
        mut response: reqwest::Response,
        redirects: Vec<Url>,
        deadline: Instant,
        options: &RequestOptions<'_>,
    ) -> Result<FetchedPage, FetchError> {
        let fail = |kind| FetchError::new(url.clone(), kind);
        let (content_type, charset) = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| parse_content_type(&String::from_utf8_lossy(v.as_bytes())))
            .unwrap_or_default();
        if let Some(essence) = &content_type
            && !options.gate.allows(essence)
        {
            return Err(fail(FetchErrorKind::UnsupportedContentType(
                essence.clone(),
            )));
        }
        let limit = options.max_body_bytes;
        // reqwest reports no length when it decompresses, so this is the decoded size.
        if !options.truncate_body && response.content_length().is_some_and(|len| len > limit) {
            return Err(fail(FetchErrorKind::BodyTooLarge { limit }));
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();

        let mut must_sniff = content_type.is_none() && options.gate.sniffs_missing_type();
        let capacity = response.content_length().unwrap_or(0).min(limit);
        let mut body = BytesMut::with_capacity(usize::try_from(capacity).unwrap_or(0));
        loop {
            let chunk = match timeout_at(deadline, response.chunk()).await {
                Err(_) => return Err(fail(FetchErrorKind::Timeout(TimeoutPhase::Body))),
                Ok(Err(error)) => return Err(fail(classify(&error, TimeoutPhase::Body))),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            if body.len() as u64 + chunk.len() as u64 > limit {
                if !options.truncate_body {
                    return Err(fail(FetchErrorKind::BodyTooLarge { limit }));
                }
                let room = usize::try_from(limit).unwrap_or(usize::MAX) - body.len();
                body.extend_from_slice(chunk.get(..room).unwrap_or(&chunk));
                break;
            }
            body.extend_from_slice(&chunk);
            if must_sniff {
                match sniff_html(&body) {
                    Sniff::Undecided => {}
                    Sniff::Html => must_sniff = false,
                    Sniff::NotHtml => return Err(fail(not_html())),
                }
            }
        }
        if must_sniff && !body.is_empty() {
            // Only whitespace: nothing that looks like a page.
            return Err(fail(not_html()));
        }
        Ok(FetchedPage {
            url,
            status,
            content_type,
            charset,
            headers,
            body: body.freeze(),
            redirects,
        })
    }
}

fn not_html() -> FetchErrorKind {
    FetchErrorKind::UnsupportedContentType("none (no Content-Type and the body is not HTML)".into())
}

/// Only http and https URLs are fetched.
pub(crate) fn check_scheme(url: &Url) -> Result<(), FetchErrorKind> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        other => Err(FetchErrorKind::UnsupportedScheme(other.to_owned())),
    }
}

/// Resolves a `Location` header against the URL that sent it.
pub(crate) fn resolve_location(base: &Url, location: &HeaderValue) -> Result<Url, FetchErrorKind> {
    let text = String::from_utf8_lossy(location.as_bytes());
    let next = base
        .join(text.trim())
        .map_err(|e| FetchErrorKind::InvalidUrl(format!("redirect to '{text}': {e}")))?;
    check_scheme(&next)?;
    Ok(next)
}

/// Two URLs name the same resource when they differ at most in their fragment.
fn same_resource(a: &Url, b: &Url) -> bool {
    a[..url::Position::AfterQuery] == b[..url::Position::AfterQuery]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_resolution() {
        let base = Url::parse("http://h/rel/start?x=1").unwrap();
        let loc = |s: &'static str| resolve_location(&base, &HeaderValue::from_static(s));
        assert_eq!(loc("target").unwrap().as_str(), "http://h/rel/target");
        assert_eq!(loc("/a/b").unwrap().as_str(), "http://h/a/b");
        assert_eq!(loc("//other/x").unwrap().as_str(), "http://other/x");
        assert_eq!(
            loc("ftp://h/x"),
            Err(FetchErrorKind::UnsupportedScheme("ftp".into()))
        );
        assert!(matches!(
            loc("http://[::1"),
            Err(FetchErrorKind::InvalidUrl(_))
        ));
    }

    #[test]
    fn fragments_do_not_make_a_new_resource() {
        let a = Url::parse("http://h/a#one").unwrap();
        let b = Url::parse("http://h/a#two").unwrap();
        let c = Url::parse("http://h/a?q").unwrap();
        assert!(same_resource(&a, &b));
        assert!(!same_resource(&a, &c));
    }

    #[test]
    fn default_config() {
        let config = FetchConfig::default();
        assert!(config.user_agent.starts_with("gannet/"));
        assert_eq!(config.max_body_bytes, 10 * 1024 * 1024);
        assert_eq!(config.max_redirects, 10);
    }
}
