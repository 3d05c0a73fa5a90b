//! URL canonicalization: the one spelling of a URL that the seen-set keys on.
//!
//! The WHATWG parser (`url`) already lowercases scheme and host, drops default ports,
//! resolves dot segments and percent-encodes what must be. On top of that we:
//! - accept only `http` and `https`;
//! - drop the fragment (`#...` never names another resource);
//! - uppercase the hex digits of percent escapes and decode escapes of unreserved
//!   characters (`%7e` and `%7E` → `~`, `%41` → `A`), as RFC 3986 §6.2.2 allows;
//! - drop an empty query (`/a?` → `/a`).
//!
//! The query is not sorted and no parameter is removed: both change what some servers
//! return, and a crawler that skips pages is worse than one that fetches a few twice.

use url::Url;
use xxhash_rust::xxh3::xxh3_64;

/// A canonical URL's fingerprint: the key of the seen-set. 64-bit xxh3 of the canonical
/// string; a collision needs ~4·10⁹ URLs to be likely.
pub fn fingerprint(canonical: &str) -> i64 {
    i64::from_ne_bytes(xxh3_64(canonical.as_bytes()).to_ne_bytes())
}

/// Canonicalizes an absolute URL string; `None` if it does not parse or is not http(s).
pub fn canonicalize_str(href: &str) -> Option<Url> {
    let url = Url::parse(href.trim()).ok()?;
    canonicalize(url)
}

/// Resolves `href` against `base` and canonicalizes the result.
pub fn canonicalize_join(base: &Url, href: &str) -> Option<Url> {
    canonicalize(base.join(href.trim()).ok()?)
}

/// Canonicalizes a parsed URL; `None` if it is not http(s) or has no host.
pub fn canonicalize(mut url: Url) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    url.set_fragment(None);
    if url.query() == Some("") {
        url.set_query(None);
    }
    if url.as_str().contains('%') {
        let path = normalize_escapes(url.path());
        if path != url.path() {
            url.set_path(&path);
        }
        if let Some(query) = url.query() {
            let q = normalize_escapes(query);
            if q != query {
                url.set_query(Some(&q));
            }
        }
    }
    Some(url)
}

/// Uppercases percent-escape hex digits and decodes escapes of unreserved characters.
fn normalize_escapes(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            let value = h * 16 + l;
            if value.is_ascii_alphanumeric() || matches!(value, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(value));
            } else {
                out.push('%');
                out.push(char::from(bytes[i + 1].to_ascii_uppercase()));
                out.push(char::from(bytes[i + 2].to_ascii_uppercase()));
            }
            i += 3;
            continue;
        }
        // Copy one UTF-8 character (the parser left only ASCII here, but be safe).
        let len = utf8_len(bytes[i]);
        out.push_str(&s[i..(i + len).min(s.len())]);
        i += len;
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The host key that politeness and per-host queues use: `scheme://host[:port]`.
pub fn origin_key(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        canonicalize_str(s).map(String::from).unwrap_or_default()
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(
            c("HTTP://Example.COM:80/a/./b/../c#frag"),
            "http://example.com/a/c"
        );
        assert_eq!(c("https://h:443"), "https://h/");
        assert_eq!(c("http://h/a?"), "http://h/a");
        assert_eq!(
            c("http://h/%7euser/%41%2f?q=%7e%2a"),
            "http://h/~user/A%2F?q=~%2A"
        );
        assert_eq!(c("http://h/caf%c3%a9"), "http://h/caf%C3%A9");
        assert_eq!(c("http://h/a b"), "http://h/a%20b");
        assert_eq!(c("http://h/%"), "http://h/%");
        assert_eq!(c("http://h/%4"), "http://h/%4");
        assert_eq!(c("ftp://h/x"), "");
        assert_eq!(c("mailto:a@b"), "");
        assert_eq!(c("not a url"), "");
    }

    #[test]
    fn same_resource_same_fingerprint() {
        let a = c("http://H/%7Ex#1");
        let b = c("http://h:80/~x#2");
        assert_eq!(a, b);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint("http://h/~y"));
    }

    #[test]
    fn joins_relative_hrefs() {
        let base = Url::parse("http://h/dir/page.html").unwrap();
        let u = canonicalize_join(&base, " ../x.html#top ").unwrap();
        assert_eq!(u.as_str(), "http://h/x.html");
        assert_eq!(origin_key(&u), "http://h");
    }
}
