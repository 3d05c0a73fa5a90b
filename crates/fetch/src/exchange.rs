//! One HTTP exchange for the crawler: no redirect is followed (the crawl engine enqueues the
//! target, so that scope, robots.txt and politeness apply to it), every status comes back
//! as a value (the engine reacts to 304, 429, 503), and what an archive needs is kept: the
//! request headers as sent, the HTTP version and the peer's IP address.

use crate::error::{FetchError, FetchErrorKind, TimeoutPhase, classify};
use crate::fetcher::{ACCEPT, FetchedPage, Fetcher, RequestOptions, resolve_location};
use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderValue};
use std::net::IpAddr;
use std::time::{Duration, SystemTime};
use tokio::time::{Instant, timeout_at};
use url::Url;

/// Validators of an earlier fetch, for a conditional request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Conditional<'a> {
    /// Sent as `If-None-Match`.
    pub etag: Option<&'a str>,
    /// Sent as `If-Modified-Since`.
    pub last_modified: Option<&'a str>,
}

/// The result of [`Fetcher::exchange`].
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The response. Its body is read (and gated by content type and size) only for 2xx
    /// statuses; for others it is empty.
    pub page: FetchedPage,
    /// `HTTP/1.0`, `HTTP/1.1`, `HTTP/2.0` or `HTTP/3.0`.
    pub version: &'static str,
    /// The address of the server the response came from.
    pub remote_ip: Option<IpAddr>,
    /// The request headers we sent (those the HTTP client adds itself included).
    pub request_headers: Vec<(String, String)>,
}

impl Exchange {
    /// The target of a redirect (3xx with a valid http(s) `Location`).
    pub fn location(&self) -> Option<Result<Url, FetchErrorKind>> {
        if !(300..400).contains(&self.page.status) || self.page.status == 304 {
            return None;
        }
        let value = self.header("location")?;
        let value = HeaderValue::from_str(value).ok()?;
        Some(resolve_location(&self.page.url, &value))
    }

    /// The first value of a response header (name in lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.page
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `Retry-After` as a delay from `now` (delta-seconds or an HTTP date; a date in the
    /// past is zero).
    pub fn retry_after(&self, now: SystemTime) -> Option<Duration> {
        parse_retry_after(self.header("retry-after")?, now)
    }
}

/// Parses a `Retry-After` value (RFC 9110 §10.2.3): delta-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

impl Fetcher {
    /// One GET of `url`, without following redirects. Fails on network errors, timeouts,
    /// a refused content type or an oversized body (2xx only), and on a refused address
    /// ([`FetchErrorKind::ForbiddenAddress`], with [`FetchConfig::allow_private`] off: the
    /// engine's redirect targets come back here as new exchanges and are checked the same
    /// way); every status is a value.
    ///
    /// [`FetchConfig::allow_private`]: crate::FetchConfig::allow_private
    pub async fn exchange(
        &self,
        url: &Url,
        conditional: Conditional<'_>,
    ) -> Result<Exchange, FetchError> {
        self.exchange_head(url, conditional).await?.finish().await
    }

    /// Sends the request and returns once the response headers are in, before any of the
    /// body is read: a caller can look at the status and `Content-Length` first (the crawl
    /// engine reserves memory for the body there). [`ExchangeHead::finish`] reads the body.
    pub async fn exchange_head(
        &self,
        url: &Url,
        conditional: Conditional<'_>,
    ) -> Result<ExchangeHead, FetchError> {
        let config = &self.inner.config;
        let deadline = Instant::now() + config.timeout;
        self.check_url(url)?;
        let mut extra = HeaderMap::new();
        if let Some(etag) = conditional.etag.and_then(|v| HeaderValue::from_str(v).ok()) {
            extra.insert(header::IF_NONE_MATCH, etag);
        }
        if let Some(date) = conditional
            .last_modified
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            extra.insert(header::IF_MODIFIED_SINCE, date);
        }
        let request_headers = sent_headers(url, &config.user_agent, &extra);
        let request = self.inner.client.get(url.as_str()).headers(extra).send();
        let response = match timeout_at(deadline, request).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => {
                return Err(FetchError::new(
                    url.clone(),
                    classify(&error, TimeoutPhase::Headers),
                ));
            }
            Err(_) => {
                return Err(FetchError::new(
                    url.clone(),
                    FetchErrorKind::Timeout(TimeoutPhase::Headers),
                ));
            }
        };
        let version = match response.version() {
            reqwest::Version::HTTP_09 => "HTTP/0.9",
            reqwest::Version::HTTP_10 => "HTTP/1.0",
            reqwest::Version::HTTP_2 => "HTTP/2.0",
            reqwest::Version::HTTP_3 => "HTTP/3.0",
            _ => "HTTP/1.1",
        };
        Ok(ExchangeHead {
            fetcher: self.clone(),
            url: url.clone(),
            remote_ip: response.remote_addr().map(|a| a.ip()),
            response,
            version,
            request_headers,
        })
    }
}

/// A response whose headers are in and whose body is not read yet.
#[derive(Debug)]
pub struct ExchangeHead {
    fetcher: Fetcher,
    url: Url,
    response: reqwest::Response,
    version: &'static str,
    remote_ip: Option<IpAddr>,
    request_headers: Vec<(String, String)>,
}

impl ExchangeHead {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.response.status().as_u16()
    }

    /// The first value of a response header (name in lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
    }

    /// The length the server announced for the body (before decompression), if any.
    pub fn content_length(&self) -> Option<u64> {
        self.response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
    }

    /// Reads the body (2xx only; gated by content type and size) within a fresh total
    /// timeout, and returns the whole exchange.
    pub async fn finish(self) -> Result<Exchange, FetchError> {
        let config = &self.fetcher.inner.config;
        let deadline = Instant::now() + config.timeout;
        let page = if self.response.status().is_success() {
            let options = RequestOptions {
                gate: &config.accept_content,
                max_body_bytes: config.max_body_bytes,
                truncate_body: false,
                max_redirects: 0,
            };
            self.fetcher
                .read_page(self.url, self.response, Vec::new(), deadline, &options)
                .await?
        } else {
            FetchedPage {
                url: self.url,
                status: self.response.status().as_u16(),
                content_type: None,
                charset: None,
                headers: header_pairs(self.response.headers()),
                body: Bytes::new(),
                redirects: Vec::new(),
            }
        };
        Ok(Exchange {
            page,
            version: self.version,
            remote_ip: self.remote_ip,
            request_headers: self.request_headers,
        })
    }
}

/// The request headers as they go on the wire (what the client adds by itself included),
/// for archives.
fn sent_headers(url: &Url, user_agent: &str, extra: &HeaderMap) -> Vec<(String, String)> {
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let mut headers = vec![
        ("host".to_owned(), host),
        ("user-agent".to_owned(), user_agent.to_owned()),
        ("accept".to_owned(), ACCEPT.to_owned()),
        (
            "accept-encoding".to_owned(),
            "gzip, br, zstd, deflate".to_owned(),
        ),
    ];
    headers.extend(header_pairs(extra));
    headers
}

pub(crate) fn header_pairs(map: &HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
