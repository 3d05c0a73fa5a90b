//! The one error type of the fetcher: [`FetchError`] (which URL) around a [`FetchErrorKind`]
//! (what went wrong), and the classification of reqwest's errors into those kinds.

use crate::guard::Refusal;
use std::error::Error as StdError;
use std::fmt;
use url::Url;

/// A failed fetch: the URL being fetched when it failed, and what went wrong.
///
/// After redirects, the URL is the hop that failed (for a redirect error, the URL that sent
/// the bad redirect), which is the one worth showing to a person.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.display())]
pub struct FetchError {
    // Boxed: a `Result<_, FetchError>` stays one pointer wide on the error side.
    inner: Box<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    url: Option<Url>,
    kind: FetchErrorKind,
}

impl FetchError {
    /// An error of `kind` while fetching `url`.
    pub fn new(url: Url, kind: FetchErrorKind) -> FetchError {
        FetchError {
            inner: Box::new(Inner {
                url: Some(url),
                kind,
            }),
        }
    }

    /// An error that concerns no URL (building the HTTP client).
    pub(crate) fn without_url(kind: FetchErrorKind) -> FetchError {
        FetchError {
            inner: Box::new(Inner { url: None, kind }),
        }
    }

    /// The URL being fetched when the error happened; `None` only for [`Fetcher::new`](crate::Fetcher::new).
    pub fn url(&self) -> Option<&Url> {
        self.inner.url.as_ref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &FetchErrorKind {
        &self.inner.kind
    }

    /// Consumes the error, returning what went wrong.
    pub fn into_kind(self) -> FetchErrorKind {
        self.inner.kind
    }

    /// Shorthand for `self.kind().is_retryable()`.
    pub fn is_retryable(&self) -> bool {
        self.inner.kind.is_retryable()
    }

    fn display(&self) -> String {
        match &self.inner.url {
            Some(url) => format!("{}: {}", url, self.inner.kind),
            None => self.inner.kind.to_string(),
        }
    }
}

/// The phase of a fetch that ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Establishing the TCP or TLS connection took longer than the connect timeout.
    Connect,
    /// The total timeout passed before the response headers arrived.
    Headers,
    /// The total timeout passed while the body was being read.
    Body,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "while connecting",
            TimeoutPhase::Headers => "waiting for the response headers",
            TimeoutPhase::Body => "while reading the body",
        })
    }
}

/// What went wrong in a fetch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchErrorKind {
    /// The URL (or a redirect's `Location`) is not a valid absolute URL.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The URL's scheme is not `http` or `https`.
    #[error("unsupported URL scheme '{0}' (only http and https are fetched)")]
    UnsupportedScheme(String),
    /// The host name could not be resolved.
    #[error("DNS lookup failed: {0}")]
    Dns(String),
    /// The connection could not be established or was cut.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The TLS handshake failed (bad certificate, protocol error).
    #[error("TLS error: {0}")]
    Tls(String),
    /// A timeout passed.
    #[error("timed out {0}")]
    Timeout(TimeoutPhase),
    /// The server answered with an error status (4xx, 5xx, or a 3xx without `Location`).
    #[error("HTTP {code}{reason}", code = .0, reason = reason_suffix(*.0))]
    HttpStatus(u16),
    /// More redirects than [`FetchConfig::max_redirects`](crate::FetchConfig::max_redirects).
    #[error("too many redirects (more than {0})")]
    TooManyRedirects(usize),
    /// A redirect led back to a URL already in the chain.
    #[error("redirect loop: {0} was already visited")]
    RedirectLoop(Url),
    /// The decoded body is larger than [`FetchConfig::max_body_bytes`](crate::FetchConfig::max_body_bytes).
    #[error("body too large (more than {limit} bytes after decompression)")]
    BodyTooLarge {
        /// The limit that was passed, in bytes.
        limit: u64,
    },
    /// The response's content type is not accepted by the [`ContentGate`](crate::ContentGate).
    #[error("unsupported content type '{0}'")]
    UnsupportedContentType(String),
    /// The body could not be decompressed (corrupt gzip, brotli, zstd or deflate data).
    #[error("could not decompress the body: {0}")]
    Decompression(String),
    /// Another I/O failure (connection closed mid-body, protocol error).
    #[error("I/O error: {0}")]
    Io(String),
    /// The address guard refused the host: an IP literal, or every address its name
    /// resolved to, is not publicly reachable (see [`classify`](crate::classify)). Only with
    /// [`FetchConfig::allow_private`](crate::FetchConfig::allow_private) off; nothing was
    /// sent. The message reads e.g. `refused: localhost resolves to 127.0.0.1 (loopback)`.
    #[error("{0}")]
    ForbiddenAddress(Refusal),
}

fn reason_suffix(code: u16) -> String {
    reqwest::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

impl FetchErrorKind {
    /// True when trying the same URL again later may succeed: network failures, timeouts,
    /// and the statuses 408, 425, 429, 500, 502, 503 and 504.
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchErrorKind::Dns(_)
            | FetchErrorKind::Connect(_)
            | FetchErrorKind::Timeout(_)
            | FetchErrorKind::Io(_) => true,
            FetchErrorKind::HttpStatus(code) => {
                matches!(code, 408 | 425 | 429 | 500 | 502 | 503 | 504)
            }
            FetchErrorKind::InvalidUrl(_)
            | FetchErrorKind::UnsupportedScheme(_)
            | FetchErrorKind::Tls(_)
            | FetchErrorKind::TooManyRedirects(_)
            | FetchErrorKind::RedirectLoop(_)
            | FetchErrorKind::BodyTooLarge { .. }
            | FetchErrorKind::UnsupportedContentType(_)
            | FetchErrorKind::Decompression(_)
            | FetchErrorKind::ForbiddenAddress(_) => false,
        }
    }
}

/// Sorts a reqwest error into a [`FetchErrorKind`], by walking its chain of sources.
///
/// `phase` is where the error happened, for timeouts that reqwest reports itself.
pub(crate) fn classify(error: &reqwest::Error, phase: TimeoutPhase) -> FetchErrorKind {
    // The guarded resolver's refusal, wrapped by hyper-util as a DNS error.
    if let Some(refusal) = chain(error).find_map(|e| e.downcast_ref::<Refusal>()) {
        return FetchErrorKind::ForbiddenAddress(refusal.clone());
    }
    if error.is_timeout() {
        return FetchErrorKind::Timeout(if error.is_connect() {
            TimeoutPhase::Connect
        } else {
            phase
        });
    }
    if error.is_decode() {
        return FetchErrorKind::Decompression(innermost_message(error));
    }
    for err in chain(error).skip(1) {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return FetchErrorKind::Tls(tls.to_string());
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    return FetchErrorKind::Connect("connection refused".into());
                }
                std::io::ErrorKind::ConnectionReset => {
                    return FetchErrorKind::Connect("connection reset by peer".into());
                }
                std::io::ErrorKind::TimedOut => {
                    return FetchErrorKind::Timeout(TimeoutPhase::Connect);
                }
                _ => {}
            }
        }
        let text = err.to_string();
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return FetchErrorKind::Dns(innermost_message(err));
        }
    }
    if error.is_connect() {
        FetchErrorKind::Connect(innermost_message(error))
    } else {
        FetchErrorKind::Io(chain_message(error))
    }
}

/// The error and its sources, looking inside `io::Error`s too: an `io::Error`'s own
/// `source()` skips the error it wraps (which is where rustls puts its errors).
fn chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&err: &&'a (dyn StdError + 'static)| match err
        .downcast_ref::<std::io::Error>()
    {
        Some(io) => match io.get_ref() {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => None,
        },
        None => err.source(),
    })
}

/// The message of the deepest error in the chain (the most specific one).
fn innermost_message(error: &(dyn StdError + 'static)) -> String {
    chain(error)
        .last()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

/// All messages of the chain, joined with `: `, skipping repeats.
fn chain_message(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for err in chain(error) {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_naming_url_and_problem() {
        let url = Url::parse("http://example.com/x").unwrap();
        let cases = [
            (
                FetchErrorKind::HttpStatus(404),
                "http://example.com/x: HTTP 404 Not Found",
            ),
            (
                FetchErrorKind::HttpStatus(599),
                "http://example.com/x: HTTP 599",
            ),
            (
                FetchErrorKind::Timeout(TimeoutPhase::Body),
                "http://example.com/x: timed out while reading the body",
            ),
            (
                FetchErrorKind::BodyTooLarge { limit: 10 },
                "http://example.com/x: body too large (more than 10 bytes after decompression)",
            ),
            (
                FetchErrorKind::UnsupportedContentType("image/png".into()),
                "http://example.com/x: unsupported content type 'image/png'",
            ),
            (
                FetchErrorKind::Connect("connection refused".into()),
                "http://example.com/x: connection failed: connection refused",
            ),
        ];
        for (kind, want) in cases {
            assert_eq!(FetchError::new(url.clone(), kind).to_string(), want);
        }
    }

    #[test]
    fn retryable() {
        assert!(FetchErrorKind::HttpStatus(503).is_retryable());
        assert!(FetchErrorKind::HttpStatus(429).is_retryable());
        assert!(!FetchErrorKind::HttpStatus(404).is_retryable());
        assert!(FetchErrorKind::Timeout(TimeoutPhase::Headers).is_retryable());
        assert!(!FetchErrorKind::BodyTooLarge { limit: 1 }.is_retryable());
        assert!(!FetchErrorKind::Tls("bad cert".into()).is_retryable());
    }
}
