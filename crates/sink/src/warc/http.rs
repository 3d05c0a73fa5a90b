//! The HTTP messages inside `request`, `response` and `revisit` blocks: HTTP/1.x text
//! whatever the wire protocol was, with the response head rewritten to match a decoded body
//! (see the module docs of [`crate::warc`]).

use std::io;

use url::Url;

use super::record::{check_name, check_value, invalid, push_line};

/// How an exchange's protocol is written: the version in the message's first line, and the
/// `WARC-Protocol` value (iipc/warc-specifications#42), if we know one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Protocol {
    /// `HTTP/1.1` or `HTTP/1.0`: what HTTP/1.x parsers in WARC tools accept.
    pub(crate) line_version: &'static str,
    /// `http/1.1`, `http/1.0`, `h2`, `h2c` or `h3`.
    pub(crate) warc_protocol: Option<&'static str>,
}

impl Protocol {
    /// The protocol of an exchange with `url` over `http_version` (`HTTP/2.0` and the like).
    /// Unknown versions are written as HTTP/1.1 without a `WARC-Protocol`.
    pub(crate) fn of(http_version: &str, url: &Url) -> Protocol {
        let (line_version, warc_protocol) = match http_version {
            "HTTP/1.0" => ("HTTP/1.0", Some("http/1.0")),
            "HTTP/1.1" => ("HTTP/1.1", Some("http/1.1")),
            "HTTP/2.0" | "HTTP/2" if url.scheme() == "http" => ("HTTP/1.1", Some("h2c")),
            "HTTP/2.0" | "HTTP/2" => ("HTTP/1.1", Some("h2")),
            "HTTP/3.0" | "HTTP/3" => ("HTTP/1.1", Some("h3")),
            _ => ("HTTP/1.1", None),
        };
        Protocol {
            line_version,
            warc_protocol,
        }
    }
}

/// Parses and checks a target URI: absolute, and free of whitespace and control characters
/// (a `WARC-Target-URI` is one header line).
pub(crate) fn parse_target(url: &str) -> io::Result<Url> {
    if url
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(invalid(format!("target URI with whitespace: {url:?}")));
    }
    Url::parse(url).map_err(|e| invalid(format!("bad target URI {url:?}: {e}")))
}

/// The text of a GET request for `url`: request line in origin form, `headers` as sent
/// (HTTP/2 pseudo-headers dropped), and `Host` added from the URL when they have none.
pub(crate) fn request_head(
    url: &Url,
    protocol: Protocol,
    headers: &[(String, String)],
) -> io::Result<Vec<u8>> {
    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let mut out = format!("GET {target} {}\r\n", protocol.line_version).into_bytes();
    let mut has_host = false;
    for (name, value) in headers.iter().filter(|(name, _)| !name.starts_with(':')) {
        check_name(name)?;
        check_value(value)?;
        has_host |= name.eq_ignore_ascii_case("host");
        push_line(&mut out, name, value);
    }
    if let (false, Some(host)) = (has_host, url.host_str()) {
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        push_line(&mut out, "Host", &host);
    }
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// The head of a response whose body is `body_len` decoded bytes: status line, the received
/// headers with `Content-Encoding`, `Transfer-Encoding` and a differing `Content-Length` moved
/// to `X-Gannet-Original-*`, then the true `Content-Length`.
pub(crate) fn response_head(
    protocol: Protocol,
    status: u16,
    reason: &str,
    headers: &[(String, String)],
    body_len: usize,
) -> io::Result<Vec<u8>> {
    let mut out = status_line(protocol, status, reason)?;
    let body_len = body_len.to_string();
    for (name, value) in headers.iter().filter(|(name, _)| !name.starts_with(':')) {
        check_name(name)?;
        check_value(value)?;
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "content-encoding" => push_line(&mut out, "X-Gannet-Original-Content-Encoding", value),
            "transfer-encoding" => {
                push_line(&mut out, "X-Gannet-Original-Transfer-Encoding", value)
            }
            "content-length" if value.trim() != body_len => {
                push_line(&mut out, "X-Gannet-Original-Content-Length", value)
            }
            "content-length" => {}
            _ => push_line(&mut out, name, value),
        }
    }
    push_line(&mut out, "Content-Length", &body_len);
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// The head of a response without a body (a 304), headers as received.
pub(crate) fn bodiless_response_head(
    protocol: Protocol,
    status: u16,
    headers: &[(String, String)],
) -> io::Result<Vec<u8>> {
    let mut out = status_line(protocol, status, "")?;
    for (name, value) in headers.iter().filter(|(name, _)| !name.starts_with(':')) {
        check_name(name)?;
        check_value(value)?;
        push_line(&mut out, name, value);
    }
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// `HTTP/1.1 200 OK\r\n`; an empty `reason` becomes the canonical phrase of `status`.
fn status_line(protocol: Protocol, status: u16, reason: &str) -> io::Result<Vec<u8>> {
    if !(100..=999).contains(&status) {
        return Err(invalid(format!("HTTP status {status} is not three digits")));
    }
    check_value(reason)?;
    let reason = if reason.is_empty() {
        canonical_reason(status)
    } else {
        reason
    };
    Ok(format!("{} {status} {reason}\r\n", protocol.line_version).into_bytes())
}

/// The reason phrase RFC 9110 §15 (and RFC 6585) give `status`, or `""` for others.
fn canonical_reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        511 => "Network Authentication Required",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn protocols() {
        let https = url("https://example.com/");
        let http = url("http://example.com/");
        let h2 = Protocol::of("HTTP/2.0", &https);
        assert_eq!(
            (h2.line_version, h2.warc_protocol),
            ("HTTP/1.1", Some("h2"))
        );
        assert_eq!(Protocol::of("HTTP/2.0", &http).warc_protocol, Some("h2c"));
        assert_eq!(Protocol::of("HTTP/1.0", &http).line_version, "HTTP/1.0");
        assert_eq!(
            Protocol::of("HTTP/1.1", &http).warc_protocol,
            Some("http/1.1")
        );
        assert_eq!(Protocol::of("HTTP/3.0", &https).warc_protocol, Some("h3"));
        assert_eq!(Protocol::of("SPDY/9", &https).warc_protocol, None);
    }

    #[test]
    fn decoded_body_rewrites_the_head() {
        let headers = pairs(&[
            ("content-type", "text/html"),
            ("content-encoding", "gzip"),
            ("transfer-encoding", "chunked"),
            ("content-length", "20"),
            ("vary", "Accept-Encoding"),
        ]);
        let proto = Protocol::of("HTTP/1.1", &url("https://example.com/"));
        let head = text(response_head(proto, 200, "OK", &headers, 57).unwrap());
        assert_eq!(
            head,
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\
             X-Gannet-Original-Content-Encoding: gzip\r\n\
             X-Gannet-Original-Transfer-Encoding: chunked\r\n\
             X-Gannet-Original-Content-Length: 20\r\nvary: Accept-Encoding\r\n\
             Content-Length: 57\r\n\r\n"
        );
        // A Content-Length that already matches is replaced without a trace.
        let same = pairs(&[("content-length", "3")]);
        let head = text(response_head(proto, 200, "OK", &same, 3).unwrap());
        assert_eq!(head, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
    }

    #[test]
    fn http2_response_gets_an_http11_status_line_and_canonical_reason() {
        let headers = pairs(&[(":status", "404"), ("server", "x")]);
        let proto = Protocol::of("HTTP/2.0", &url("https://example.com/"));
        let head = text(response_head(proto, 404, "", &headers, 0).unwrap());
        assert_eq!(
            head,
            "HTTP/1.1 404 Not Found\r\nserver: x\r\nContent-Length: 0\r\n\r\n"
        );
        let odd = text(response_head(proto, 599, "", &[], 0).unwrap());
        assert!(odd.starts_with("HTTP/1.1 599 \r\n"));
    }

    #[test]
    fn bad_status_and_headers_are_refused() {
        let proto = Protocol::of("HTTP/1.1", &url("https://example.com/"));
        assert!(response_head(proto, 42, "", &[], 0).is_err());
        assert!(response_head(proto, 200, "O\r\nK", &[], 0).is_err());
        let evil = pairs(&[("x", "1\r\nSet-Cookie: a")]);
        assert!(response_head(proto, 200, "", &evil, 0).is_err());
        assert!(request_head(&url("https://example.com/"), proto, &evil).is_err());
    }

    #[test]
    fn request_line_and_host() {
        let u = url("https://example.com:8443/a/b?q=1#frag");
        let proto = Protocol::of("HTTP/2.0", &u);
        let head = text(request_head(&u, proto, &pairs(&[("user-agent", "gannet")])).unwrap());
        assert_eq!(
            head,
            "GET /a/b?q=1 HTTP/1.1\r\nuser-agent: gannet\r\nHost: example.com:8443\r\n\r\n"
        );
        let given = pairs(&[("Host", "example.com")]);
        let head = text(request_head(&url("http://example.com"), proto, &given).unwrap());
        assert_eq!(head, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
    }

    #[test]
    fn target_uris_are_checked() {
        assert!(parse_target("https://example.com/a%20b").is_ok());
        assert!(parse_target("https://example.com/a b").is_err());
        assert!(parse_target("https://example.com/\r\nX: y").is_err());
        assert!(parse_target("/relative").is_err());
    }

    #[test]
    fn bodiless_head_keeps_headers() {
        let proto = Protocol::of("HTTP/1.1", &url("https://example.com/"));
        let headers = pairs(&[("etag", "\"v1\"")]);
        let head = text(bodiless_response_head(proto, 304, &headers).unwrap());
        assert_eq!(head, "HTTP/1.1 304 Not Modified\r\netag: \"v1\"\r\n\r\n");
    }
}
