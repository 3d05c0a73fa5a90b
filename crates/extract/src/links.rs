//! URLs in a page: resolving `href`s against the page (and its `<base href>`), picking an
//! image's real source behind lazy-loading placeholders, and collecting the [`Link`]s and
//! [`Image`]s of a subtree.

use crate::dom::{Dom, NodeId};
use crate::tag::Tag;
use gannet_core::{Image, Link};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use url::Url;

/// Resolve `href` to an absolute URL string.
///
/// Surrounding whitespace is trimmed. Empty and fragment-only (`#`) hrefs, `javascript:`,
/// `vbscript:`, `data:` and `about:` URLs give `None`; `mailto:` and `tel:` are returned as
/// they are. Without a base URL an absolute href is normalized and a relative one is returned
/// unchanged (there is nothing to resolve it against).
pub fn resolve(base: Option<&Url>, href: &str) -> Option<String> {
    let href = href.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\u{a0}');
    if href.is_empty() || href == "#" {
        return None;
    }
    if let Some(scheme) = scheme_of(href) {
        if scheme.eq_ignore_ascii_case("javascript")
            || scheme.eq_ignore_ascii_case("vbscript")
            || scheme.eq_ignore_ascii_case("data")
            || scheme.eq_ignore_ascii_case("about")
        {
            return None;
        }
        if scheme.eq_ignore_ascii_case("mailto") || scheme.eq_ignore_ascii_case("tel") {
            return Some(href.to_string());
        }
    }
    match base {
        Some(b) => b.join(href).ok().map(String::from),
        None => match Url::parse(href) {
            Ok(u) => Some(u.into()),
            Err(_) => Some(href.to_string()),
        },
    }
}

/// The URL scheme of `href` (`"https"` of `https://...`), if it has one.
fn scheme_of(href: &str) -> Option<&str> {
    let colon = href.find(':')?;
    let scheme = &href[..colon];
    let mut bytes = scheme.bytes();
    let first = bytes.next()?;
    (first.is_ascii_alphabetic()
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
    .then_some(scheme)
}

/// The URL that relative links of the page resolve against: the first `<base href>`
/// (itself resolved against the page URL), else the page URL.
pub fn base_url(dom: &Dom, page: Option<&Url>) -> Option<Url> {
    let href = dom
        .ids()
        .filter(|&id| dom.is(id, Tag::Base) && dom.is_attached(id))
        .find_map(|id| dom.attr(id, "href"))
        .map(str::trim)
        .filter(|h| !h.is_empty());
    if let Some(href) = href {
        let resolved = match page {
            Some(p) => p.join(href).ok(),
            None => Url::parse(href).ok(),
        };
        if let Some(u) = resolved.filter(|u| !u.cannot_be_a_base()) {
            return Some(u);
        }
    }
    page.cloned()
}

/// Whether an image URL is a lazy-loading placeholder rather than the image itself.
fn is_placeholder(src: &str) -> bool {
    let src = src.trim();
    if src.is_empty() || src == "#" {
        return true;
    }
    if src.len() >= 5 && src[..5].eq_ignore_ascii_case("data:") {
        return true;
    }
    if src.len() >= 11 && src[..11].eq_ignore_ascii_case("about:blank") {
        return true;
    }
    // The file name, without query or fragment.
    let path = src.split(['?', '#']).next().unwrap_or(src);
    let name = path.rsplit('/').next().unwrap_or(path);
    let name = name.to_ascii_lowercase();
    const MARKERS: [&str; 9] = [
        "blank",
        "spacer",
        "placeholder",
        "lazy",
        "1x1",
        "pixel.gif",
        "transparent.",
        "grey.gif",
        "loading.gif",
    ];
    MARKERS.iter().any(|m| name.contains(m))
}

/// The best candidate of a `srcset`: largest width descriptor, else largest density.
fn best_srcset(srcset: &str) -> Option<&str> {
    let mut best: Option<(&str, f64, bool)> = None; // (url, value, is_width)
    let bytes = srcset.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut url = &srcset[start..i];
        let mut descriptor = "";
        if url.ends_with(',') {
            url = url.trim_end_matches(',');
        } else {
            let dstart = i;
            let mut depth = 0usize;
            while i < bytes.len() {
                match bytes[i] {
                    b'(' => depth += 1,
                    b')' => depth = depth.saturating_sub(1),
                    b',' if depth == 0 => break,
                    _ => {}
                }
                i += 1;
            }
            descriptor = srcset[dstart..i].trim();
        }
        if url.is_empty() || is_placeholder(url) {
            continue;
        }
        let (value, is_width) = parse_descriptor(descriptor);
        let better = match best {
            None => true,
            Some((_, bv, bw)) => match (is_width, bw) {
                (true, false) => true,
                (false, true) => false,
                _ => value > bv,
            },
        };
        if better {
            best = Some((url, value, is_width));
        }
    }
    best.map(|(u, _, _)| u)
}

/// `(value, is_width)` of a srcset descriptor list such as `640w` or `2x` (default `1x`).
fn parse_descriptor(d: &str) -> (f64, bool) {
    for part in d.split_ascii_whitespace() {
        let (num, is_width) = match part.as_bytes().last() {
            Some(b'w') => (&part[..part.len() - 1], true),
            Some(b'x') => (&part[..part.len() - 1], false),
            _ => continue,
        };
        if let Ok(v) = num.parse::<f64>() {
            return (v, is_width);
        }
    }
    (1.0, false)
}

/// The real source of an `<img>`: its `src` unless that is a placeholder (a `data:` URI, a
/// blank/spacer/lazy/placeholder image), else the usual lazy-loading attributes
/// (`data-src`, `data-original`, `data-lazy-src`, `data-url`), else the largest candidate
/// of `data-srcset`/`srcset`, else the `srcset` of a sibling `<source>` in a `<picture>`.
/// The value is trimmed but not resolved (see [`resolve`]).
pub fn image_src(dom: &Dom, img: NodeId) -> Option<&str> {
    let mut src = None;
    let mut lazy: [Option<&str>; 4] = [None; 4];
    let mut data_srcset = None;
    let mut srcset = None;
    for (name, value) in dom.attrs(img) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match name {
            "src" => src = Some(value),
            "data-src" => lazy[0] = Some(value),
            "data-original" => lazy[1] = Some(value),
            "data-lazy-src" => lazy[2] = Some(value),
            "data-url" => lazy[3] = Some(value),
            "data-srcset" | "data-lazy-srcset" => data_srcset = Some(value),
            "srcset" => srcset = Some(value),
            _ => {}
        }
    }
    if let Some(s) = src.filter(|s| !is_placeholder(s)) {
        return Some(s);
    }
    if let Some(s) = lazy.into_iter().flatten().find(|s| !is_placeholder(s)) {
        return Some(s);
    }
    if let Some(s) = data_srcset.and_then(best_srcset) {
        return Some(s);
    }
    if let Some(s) = srcset.and_then(best_srcset) {
        return Some(s);
    }
    let picture = dom.parent(img).filter(|&p| dom.is(p, Tag::Picture))?;
    dom.element_children(picture)
        .filter(|&c| dom.is(c, Tag::Source))
        .find_map(|c| {
            dom.attr(c, "srcset")
                .or_else(|| dom.attr(c, "data-srcset"))
                .and_then(best_srcset)
        })
}

/// Append `s` with whitespace runs collapsed to single spaces and zero-width characters
/// dropped; a space separates it from what `out` already holds.
fn push_collapsed(out: &mut String, s: &str) {
    for word in s.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        push_visible(out, word);
    }
}

/// Append `word` without its zero-width characters ([`is_invisible`]).
fn push_visible(out: &mut String, word: &str) {
    if word.is_ascii() {
        out.push_str(word);
    } else {
        out.extend(word.chars().filter(|&c| !is_invisible(c)));
    }
}

/// Zero-width and soft-hyphen characters, dropped from text.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}' | '\u{ad}'
    )
}

/// Whitespace-normalized text of a subtree (`<script>`/`<style>` text is never in the DOM
/// as content here; `<svg>`/`<template>` subtrees are skipped).
fn normalized_text(dom: &Dom, id: NodeId, out: &mut String) -> String {
    out.clear();
    let mut descendants = dom.descendants(id);
    let mut space = false;
    while let Some(d) = descendants.next() {
        if let Some(t) = dom.text(d) {
            let mut first = true;
            for word in t.split(|c: char| c.is_whitespace()) {
                if !first {
                    space = true;
                }
                first = false;
                if word.is_empty() {
                    continue;
                }
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                push_visible(out, word);
            }
        } else if matches!(
            dom.tag(d),
            Some(Tag::Script | Tag::Style | Tag::Template | Tag::Svg)
        ) {
            descendants.skip_subtree(d);
        } else if dom.tag(d).is_some_and(|t| t.is_block() || t == Tag::Br) {
            space = true;
        }
    }
    // An exact-size copy: the scratch buffer grows once per page, not once per link.
    out.as_str().to_owned()
}

/// The host of an absolute URL as the URL parser serializes it (`scheme://[user@]host[:port]/…`),
/// read off the string instead of parsing it again; `None` without an authority
/// (`mailto:`).
fn serialized_host(href: &str) -> Option<&str> {
    let rest = &href[href.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        &host_port[..host_port.find(']').map_or(host_port.len(), |i| i + 1)]
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    (!host.is_empty()).then_some(host)
}

/// The host without a leading `www.`, lowercased by the URL parser already.
fn strip_www(host: &str) -> &str {
    host.strip_prefix("www.").unwrap_or(host)
}

/// How many distinct `href`s [`collect_links`] remembers per page (a bound on the memory
/// a page of 100,000 distinct links costs beyond its links).
const SEEN_MAX: usize = 4096;

/// A fast hash of short keys (the `href`s of one page) for [`collect_links`]: eight bytes
/// a step, multiply and rotate (as `FxHash`). Not collision-resistant, which a per-page
/// map bounded by [`SEEN_MAX`] entries does not need.
#[derive(Default)]
struct UrlHasher(u64);

impl Hasher for UrlHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(a)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

/// Every `<a href>` under `root` (and `root` itself), in document order, with an absolute
/// href, whitespace-normalized text (falling back to `title`, `aria-label`, then the alt
/// text of an image inside), `rel`, and whether it stays on `page_host` (ignoring a leading
/// `www.`; when `page_host` is `None` the base URL's host is used). Links that resolve to
/// nothing (`javascript:`, `#`) are left out, and so are in-page anchors (`href="#..."`):
/// they name no other resource, and a source listing with one per line would otherwise
/// bring 100,000 of them.
pub fn collect_links(
    dom: &Dom,
    root: NodeId,
    base: Option<&Url>,
    page_host: Option<&str>,
) -> Vec<Link> {
    let host = page_host
        .or_else(|| base.and_then(|b| b.host_str()))
        .map(|h| strip_www(h).to_ascii_lowercase());
    let mut links = Vec::new();
    let mut scratch = String::new();
    // A page links to many URLs more than once (menus, "read more", share bars): each
    // `href` is resolved, and judged internal, once.
    let mut seen: HashMap<&str, Option<(String, bool)>, BuildHasherDefault<UrlHasher>> =
        HashMap::default();
    for id in std::iter::once(root).chain(dom.descendants(root)) {
        if !dom.is(id, Tag::A) {
            continue;
        }
        let Some(raw) = dom.attr(id, "href") else {
            continue;
        };
        if raw.trim_start().starts_with('#') {
            continue;
        }
        let judge = || {
            let href = resolve(base, raw)?;
            let internal = match scheme_of(&href) {
                Some(_) => match (serialized_host(&href), &host) {
                    (Some(h), Some(page)) => strip_www(&h.to_ascii_lowercase()) == page.as_str(),
                    _ => false,
                },
                // Unresolvable without a base: a relative link stays on the site.
                None => true,
            };
            Some((href, internal))
        };
        let resolved = match seen.get(raw) {
            Some(r) => r.clone(),
            None if seen.len() < SEEN_MAX => seen.entry(raw).or_insert_with(judge).clone(),
            None => judge(),
        };
        let Some((href, internal)) = resolved else {
            continue;
        };
        let mut text = normalized_text(dom, id, &mut scratch);
        if text.is_empty() {
            let fallback = dom
                .attr(id, "title")
                .or_else(|| dom.attr(id, "aria-label"))
                .filter(|t| !t.trim().is_empty())
                .or_else(|| {
                    dom.descendants(id)
                        .filter(|&d| dom.is(d, Tag::Img))
                        .find_map(|d| dom.attr(d, "alt").filter(|a| !a.trim().is_empty()))
                });
            if let Some(f) = fallback {
                push_collapsed(&mut text, f);
            }
        }
        let rel = dom
            .attr(id, "rel")
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        links.push(Link {
            href,
            text,
            rel,
            internal,
        });
    }
    links
}

/// Every `<img>` under `root` (and `root` itself) with a real source (see [`image_src`]),
/// resolved against `base`, in document order, without repeated sources. Tracking pixels
/// (`width="1" height="1"`) are left out.
pub fn collect_images(dom: &Dom, root: NodeId, base: Option<&Url>) -> Vec<Image> {
    let mut seen = HashSet::new();
    let mut images = Vec::new();
    for id in std::iter::once(root).chain(dom.descendants(root)) {
        if !dom.is(id, Tag::Img) || is_tracking_pixel(dom, id) {
            continue;
        }
        let Some(src) = image_src(dom, id).and_then(|s| resolve(base, s)) else {
            continue;
        };
        if !seen.insert(src.clone()) {
            continue;
        }
        let mut alt = String::new();
        push_collapsed(&mut alt, dom.attr(id, "alt").unwrap_or(""));
        images.push(Image { src, alt });
    }
    images
}

/// Whether an `<img>` declares itself 1×1 (or 0×0): an analytics beacon.
pub(crate) fn is_tracking_pixel(dom: &Dom, img: NodeId) -> bool {
    let tiny = |name| {
        dom.attr(img, name)
            .map(|v| v.trim().trim_end_matches("px"))
            .is_some_and(|v| v == "0" || v == "1")
    };
    tiny("width") && tiny("height")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn hosts_read_off_serialized_urls() {
        assert_eq!(
            serialized_host("https://a.example:8080/x"),
            Some("a.example")
        );
        assert_eq!(serialized_host("http://u:p@h/x?y#z"), Some("h"));
        assert_eq!(serialized_host("http://[::1]:80/"), Some("[::1]"));
        assert_eq!(serialized_host("http://h"), Some("h"));
        assert_eq!(serialized_host("mailto:a@b"), None);
    }

    #[test]
    fn resolve_relative_and_absolute() {
        let b = url("https://example.com/a/b.html");
        assert_eq!(
            resolve(Some(&b), " c.html ").as_deref(),
            Some("https://example.com/a/c.html")
        );
        assert_eq!(
            resolve(Some(&b), "/x?y=1#z").as_deref(),
            Some("https://example.com/x?y=1#z")
        );
        assert_eq!(
            resolve(Some(&b), "//cdn.example.org/i.png").as_deref(),
            Some("https://cdn.example.org/i.png")
        );
        assert_eq!(
            resolve(Some(&b), "#sec").as_deref(),
            Some("https://example.com/a/b.html#sec")
        );
        assert_eq!(
            resolve(Some(&b), "a b.html").as_deref(),
            Some("https://example.com/a/a%20b.html")
        );
        assert_eq!(
            resolve(None, "HTTPS://Example.COM").as_deref(),
            Some("https://example.com/")
        );
        assert_eq!(resolve(None, "rel/x").as_deref(), Some("rel/x"));
    }

    #[test]
    fn resolve_drops_and_keeps_schemes() {
        let b = url("https://example.com/");
        for bad in [
            "",
            "  ",
            "#",
            "javascript:void(0)",
            " JavaScript:alert(1)",
            "data:text/html,x",
            "about:blank",
        ] {
            assert_eq!(resolve(Some(&b), bad), None, "{bad:?}");
        }
        assert_eq!(
            resolve(Some(&b), "mailto:a@b.c").as_deref(),
            Some("mailto:a@b.c")
        );
        assert_eq!(
            resolve(Some(&b), "tel:+1 555").as_deref(),
            Some("tel:+1 555")
        );
    }

    #[test]
    fn base_href_is_honoured() {
        let dom = Dom::parse(
            r#"<html><head><base href="/docs/"></head><body><a href="x">x</a></body></html>"#,
        );
        let page = url("https://example.com/a/b");
        let base = base_url(&dom, Some(&page)).unwrap();
        assert_eq!(base.as_str(), "https://example.com/docs/");
        let dom = Dom::parse("<p>no base</p>");
        assert_eq!(base_url(&dom, Some(&page)), Some(page.clone()));
        assert_eq!(base_url(&dom, None), None);
        let dom = Dom::parse(r#"<base href="https://cdn.example.org/x/"><p>x"#);
        assert_eq!(
            base_url(&dom, None).unwrap().as_str(),
            "https://cdn.example.org/x/"
        );
    }

    fn first_img(dom: &Dom) -> NodeId {
        dom.find_any(Tag::Img).unwrap()
    }

    #[test]
    fn image_src_prefers_real_sources() {
        let cases = [
            (r#"<img src="a.png">"#, Some("a.png")),
            (r#"<img src=" a.png " data-src="b.png">"#, Some("a.png")),
            (
                r#"<img src="data:image/gif;base64,R0lGOD" data-src="real.jpg">"#,
                Some("real.jpg"),
            ),
            (
                r#"<img src="/img/blank.gif" data-original="o.jpg">"#,
                Some("o.jpg"),
            ),
            (
                r#"<img src="spacer.png" data-lazy-src="l.jpg">"#,
                Some("l.jpg"),
            ),
            (
                r#"<img src="lazy-placeholder.svg" data-srcset="s.jpg 300w, m.jpg 800w, l.jpg 600w">"#,
                Some("m.jpg"),
            ),
            (r#"<img srcset="a.jpg 1x, b.jpg 2x">"#, Some("b.jpg")),
            (
                r#"<img srcset="https://c.x/w_300,h_200/a.jpg 300w, https://c.x/w_900,h_600/a.jpg 900w">"#,
                Some("https://c.x/w_900,h_600/a.jpg"),
            ),
            (
                r#"<picture><source srcset="p1.webp 1x, p2.webp 2x"><img src="data:,"></picture>"#,
                Some("p2.webp"),
            ),
            (r#"<img src="data:image/png;base64,xx">"#, None),
            (r#"<img alt="x">"#, None),
        ];
        for (html, want) in cases {
            let dom = Dom::parse(html);
            assert_eq!(image_src(&dom, first_img(&dom)), want, "{html}");
        }
    }

    #[test]
    fn srcset_parsing() {
        assert_eq!(best_srcset("a.jpg"), Some("a.jpg"));
        assert_eq!(best_srcset("a.jpg, b.jpg 2x"), Some("b.jpg"));
        assert_eq!(best_srcset("a.jpg,b.jpg 2x"), Some("a.jpg,b.jpg"));
        assert_eq!(best_srcset(" , "), None);
        assert_eq!(best_srcset("a.jpg 2x, b.jpg 100w"), Some("b.jpg"));
    }

    #[test]
    fn links_are_collected() {
        let html = r#"<body><p>See <a href="/a" rel="nofollow"> the
            <b>A</b>  page</a>, <a href="https://www.example.com/b">B</a>,
            <a href="https://other.org/c" title="Other"></a>
            <a href="javascript:void(0)">js</a>
            <a href="/d"><img src="d.png" alt="Dee"></a>
            <a href="mailto:x@example.com">mail</a></p></body>"#;
        let dom = Dom::parse(html);
        let base = url("https://example.com/dir/page");
        let links = collect_links(&dom, dom.root(), Some(&base), Some("example.com"));
        let got: Vec<_> = links
            .iter()
            .map(|l| {
                (
                    l.href.as_str(),
                    l.text.as_str(),
                    l.rel.as_deref(),
                    l.internal,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "https://example.com/a",
                    "the A page",
                    Some("nofollow"),
                    true
                ),
                ("https://www.example.com/b", "B", None, true),
                ("https://other.org/c", "Other", None, false),
                ("https://example.com/d", "Dee", None, true),
                ("mailto:x@example.com", "mail", None, false),
            ]
        );
        // The host falls back to the base URL's.
        let links = collect_links(&dom, dom.root(), Some(&base), None);
        assert!(links[0].internal && !links[2].internal);
    }

    #[test]
    fn images_are_collected_and_deduplicated() {
        let html = r#"<p><img src="a.png" alt=" A
            one "><img src="/a.png"><img src="data:x" data-src="b.png"><img src="px.gif" width=1 height=1><img></p>"#;
        let dom = Dom::parse(html);
        let base = url("https://example.com/");
        let images = collect_images(&dom, dom.root(), Some(&base));
        assert_eq!(
            images,
            vec![
                Image {
                    src: "https://example.com/a.png".into(),
                    alt: "A one".into()
                },
                Image {
                    src: "https://example.com/b.png".into(),
                    alt: String::new()
                },
            ]
        );
    }
}
