//! Configuration of the fetcher, and the content-type gate that decides which responses count
//! as pages.

use crate::guard::ExemptAddress;
use std::time::Duration;

/// How a [`Fetcher`](crate::Fetcher) behaves. Build one with [`FetchConfig::default`] and
/// change the fields you need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchConfig {
    /// The `User-Agent` header. The default names gannet, its version and its home page.
    pub user_agent: String,
    /// Limit on establishing a TCP (and TLS) connection. Default 10 s.
    pub connect_timeout: Duration,
    /// Limit on the whole fetch: every redirect hop, the headers and the body. Default 30 s.
    pub timeout: Duration,
    /// Limit on the body after decompression, in bytes. Default 10 MiB.
    pub max_body_bytes: u64,
    /// How many redirects are followed before giving up. Default 10.
    pub max_redirects: usize,
    /// Which content types are accepted. Default: HTML, XHTML and plain text.
    pub accept_content: ContentGate,
    /// Whether addresses that are not publicly reachable may be fetched: loopback, private,
    /// link-local, cloud metadata and the rest of [`classify`](crate::classify). Default
    /// `true`: the CLI fetches what it is told, localhost included.
    ///
    /// With `false` (the HTTP server), a refused address fails the fetch with
    /// [`FetchErrorKind::ForbiddenAddress`](crate::FetchErrorKind::ForbiddenAddress) before
    /// any connection: IP-literal hosts are checked before every request (redirect hops
    /// included), host names are resolved once by a guarded resolver whose checked addresses
    /// are the only ones dialled (no DNS rebinding), and proxies from the environment are
    /// ignored. The [`guard`](crate::guard) module describes the policy.
    pub allow_private: bool,
    /// Addresses let through although the guard refuses them, when `allow_private` is
    /// `false`: for tests (a loopback test site) and for a known internal service. An
    /// [`ExemptAddress::Ip`] covers the address on every port, for literal hosts and resolved
    /// names; an [`ExemptAddress::Socket`] covers one address and port, for IP-literal hosts
    /// only. Default: none.
    pub exempt_addresses: Vec<ExemptAddress>,
}

/// The default `User-Agent`: `gannet/VERSION (+https://github.com/gannet-crawler/gannet)`.
pub fn default_user_agent() -> String {
    format!(
        "gannet/{} (+https://github.com/gannet-crawler/gannet)",
        env!("CARGO_PKG_VERSION")
    )
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            user_agent: default_user_agent(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 10,
            accept_content: ContentGate::default(),
            allow_private: true,
            exempt_addresses: Vec::new(),
        }
    }
}

/// Which responses the fetcher accepts, by the MIME essence of their `Content-Type`.
///
/// A response is refused with [`FetchErrorKind::UnsupportedContentType`](crate::FetchErrorKind)
/// before its body is read. A response without a `Content-Type` is sniffed (except with
/// [`ContentGate::Any`]): it passes when its body starts with `<` after an optional byte order
/// mark and whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ContentGate {
    /// `text/html`, `application/xhtml+xml` and `text/plain` (the default).
    #[default]
    Documents,
    /// Exactly these MIME essences, in lowercase (e.g. `"text/html"`).
    Only(Vec<String>),
    /// Every response, whatever its type; nothing is sniffed.
    Any,
}

impl ContentGate {
    /// The MIME essences [`ContentGate::Documents`] accepts.
    pub const DOCUMENT_TYPES: &'static [&'static str] =
        &["text/html", "application/xhtml+xml", "text/plain"];

    /// True when a response whose MIME essence (lowercase) is `essence` is accepted.
    pub fn allows(&self, essence: &str) -> bool {
        match self {
            ContentGate::Documents => Self::DOCUMENT_TYPES.contains(&essence),
            ContentGate::Only(types) => types.iter().any(|t| t == essence),
            ContentGate::Any => true,
        }
    }

    /// True when a response without a `Content-Type` must be sniffed as HTML to pass.
    pub(crate) fn sniffs_missing_type(&self) -> bool {
        !matches!(self, ContentGate::Any)
    }
}

/// Splits a `Content-Type` value into its lowercased MIME essence and its `charset` parameter.
pub(crate) fn parse_content_type(value: &str) -> (Option<String>, Option<String>) {
    let mut parts = value.split(';');
    let essence = parts
        .next()
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty());
    let charset = parts.find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'').trim();
        (!value.is_empty()).then(|| value.to_owned())
    });
    (essence, charset)
}

/// What sniffing the start of a body without a `Content-Type` concluded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sniff {
    /// Only a BOM and whitespace so far: need more bytes.
    Undecided,
    /// The first significant byte is `<`.
    Html,
    /// Something else.
    NotHtml,
}

/// Looks for `<` as the first byte after an optional BOM (UTF-8, or UTF-16 with its zero
/// bytes) and ASCII whitespace.
pub(crate) fn sniff_html(body: &[u8]) -> Sniff {
    let (rest, step) = if let Some(rest) = body.strip_prefix(b"\xEF\xBB\xBF") {
        (rest, 1)
    } else if let Some(rest) = body.strip_prefix(b"\xFF\xFE") {
        (rest, 2)
    } else if let Some(rest) = body.strip_prefix(b"\xFE\xFF") {
        (rest.get(1..).unwrap_or_default(), 2)
    } else {
        (body, 1)
    };
    for &b in rest.iter().step_by(step) {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0C' => continue,
            b'<' => return Sniff::Html,
            _ => return Sniff::NotHtml,
        }
    }
    Sniff::Undecided
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_parsing() {
        assert_eq!(
            parse_content_type("Text/HTML; Charset=\"Shift_JIS\""),
            (Some("text/html".into()), Some("Shift_JIS".into()))
        );
        assert_eq!(
            parse_content_type("image/png"),
            (Some("image/png".into()), None)
        );
        assert_eq!(parse_content_type(" ; charset="), (None, None));
        assert_eq!(
            parse_content_type("text/html;foo=bar; charset = koi8-r "),
            (Some("text/html".into()), Some("koi8-r".into()))
        );
    }

    #[test]
    fn gate() {
        let gate = ContentGate::default();
        assert!(gate.allows("text/html"));
        assert!(gate.allows("application/xhtml+xml"));
        assert!(gate.allows("text/plain"));
        assert!(!gate.allows("image/png"));
        assert!(ContentGate::Any.allows("image/png"));
        assert!(ContentGate::Only(vec!["application/json".into()]).allows("application/json"));
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff_html(b"  \n<!doctype html>"), Sniff::Html);
        assert_eq!(sniff_html(b"\xEF\xBB\xBF<html>"), Sniff::Html);
        assert_eq!(sniff_html(b"\xFF\xFE \0<\0"), Sniff::Html);
        assert_eq!(sniff_html(b"\xFE\xFF\0 \0<"), Sniff::Html);
        assert_eq!(sniff_html(b"   "), Sniff::Undecided);
        assert_eq!(sniff_html(b""), Sniff::Undecided);
        assert_eq!(sniff_html(b"\x89PNG"), Sniff::NotHtml);
        assert_eq!(sniff_html(b"{\"a\":1}"), Sniff::NotHtml);
    }
}
