//! Unit tests of the sitemap parser.

use super::parse::parse_capped;
use super::*;
use std::io::Write;

fn base() -> Url {
    Url::parse("https://example.com/sitemaps/sitemap.xml").unwrap()
}

fn parse(text: &str) -> ParsedSitemap {
    parse_sitemap(text.as_bytes(), &base()).unwrap()
}

fn urls(parsed: &ParsedSitemap) -> Vec<&str> {
    match &parsed.sitemap {
        Sitemap::Urls(urls) => urls.iter().map(|u| u.loc.as_str()).collect(),
        Sitemap::Index(_) => panic!("expected a urlset, got an index"),
    }
}

fn index(parsed: &ParsedSitemap) -> Vec<&str> {
    match &parsed.sitemap {
        Sitemap::Index(sitemaps) => sitemaps.iter().map(Url::as_str).collect(),
        Sitemap::Urls(_) => panic!("expected an index, got a urlset"),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

const URLSET: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://example.com/a</loc>
    <lastmod>2026-11-01</lastmod>
    <changefreq>daily</changefreq>
    <image:image><image:loc>https://cdn.example.com/a.png</image:loc></image:image>
  </url>
  <url><loc>
      https://example.com/b?x=1&amp;y=2
  </loc></url>
  <url><loc><![CDATA[https://example.com/c?p=<1>]]></loc></url>
  <url><loc>https://example.com/&#x64;&#101;</loc></url>
  <url><loc>/relative</loc></url>
  <url><loc>mailto:someone@example.com</loc></url>
  <url><loc>http://[bad</loc></url>
  <url><lastmod>2026-01-01</lastmod></url>
</urlset>
"#;

#[test]
fn urlset() {
    let parsed = parse(URLSET);
    assert_eq!(
        urls(&parsed),
        [
            "https://example.com/a",
            "https://example.com/b?x=1&y=2",
            "https://example.com/c?p=%3C1%3E",
            "https://example.com/de",
            "https://example.com/relative",
        ]
    );
    let Sitemap::Urls(list) = &parsed.sitemap else {
        unreachable!()
    };
    assert_eq!(list[0].lastmod.as_deref(), Some("2026-11-01"));
    assert_eq!(list[1].lastmod, None);
    assert_eq!(parsed.skipped, 3);
    assert!(!parsed.truncated);
    assert_eq!(parsed.error, None);
}

#[test]
fn prefixed_namespace_and_bom() {
    let text = "\u{feff}  <sm:urlset xmlns:sm=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
        <sm:url><sm:loc>https://example.com/p</sm:loc></sm:url></sm:urlset>";
    assert_eq!(urls(&parse(text)), ["https://example.com/p"]);
}

#[test]
fn index_keeps_same_scheme_and_host_only() {
    let text = r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://example.com/s1.xml.gz</loc><lastmod>2026-01-01</lastmod></sitemap>
      <sitemap><loc>https://example.com:443/s2.xml</loc></sitemap>
      <sitemap><loc>http://example.com/s3.xml</loc></sitemap>
      <sitemap><loc>https://other.example/s4.xml</loc></sitemap>
      <sitemap><loc>https://example.com:8443/s5.xml</loc></sitemap>
    </sitemapindex>"#;
    let parsed = parse(text);
    assert_eq!(
        index(&parsed),
        [
            "https://example.com/s1.xml.gz",
            "https://example.com/s2.xml"
        ]
    );
    assert_eq!(parsed.skipped, 3);
}

#[test]
fn gzip_body() {
    let parsed = parse_sitemap(&gzip(URLSET.as_bytes()), &base()).unwrap();
    assert_eq!(urls(&parsed).len(), 5);
}

#[test]
fn gzip_bomb_stops_at_the_cap() {
    // Gzip members concatenate: one small member of 1 MiB of empty elements, repeated, makes
    // 60 MiB of XML from one compression. The parser streams it; the cap ends it.
    let mut piece = Vec::new();
    while piece.len() < 1024 * 1024 {
        piece.extend_from_slice(b"<x/>");
    }
    let piece = gzip(&piece);
    let mut bomb = gzip(b"<urlset>");
    for _ in 0..60 {
        bomb.extend_from_slice(&piece);
    }
    assert!(bomb.len() < 1024 * 1024);
    assert_eq!(
        parse_sitemap(&bomb, &base()),
        Err(SitemapError::TooLarge {
            limit: MAX_SITEMAP_BYTES
        })
    );
}

#[test]
fn size_cap_is_exact() {
    let text = b"https://example.com/a\n";
    let exact = text.len() as u64;
    assert!(parse_capped(text, &base(), exact).is_ok());
    assert_eq!(
        parse_capped(text, &base(), exact - 1),
        Err(SitemapError::TooLarge { limit: exact - 1 })
    );
    let gz = gzip(text);
    assert!(parse_capped(&gz, &base(), exact).is_ok());
    assert!(parse_capped(&gz, &base(), exact - 1).is_err());
}

#[test]
fn corrupt_gzip_is_an_error() {
    let mut gz = gzip(URLSET.as_bytes());
    gz.truncate(gz.len() / 2);
    gz.extend_from_slice(b"garbage garbage garbage");
    assert!(
        parse_sitemap(&gz, &base()).is_err() || {
            // Enough may have decoded for some entries: then they are kept with the error.
            let parsed = parse_sitemap(&gz, &base()).unwrap();
            parsed.error.is_some()
        }
    );
    assert!(matches!(
        parse_sitemap(&[0x1f, 0x8b, 0, 1, 2, 3], &base()),
        Err(SitemapError::Decompression(_))
    ));
}

#[test]
fn entry_cap() {
    let mut text = String::from("<urlset>");
    for i in 0..MAX_SITEMAP_ENTRIES + 10 {
        text.push_str(&format!("<url><loc>https://example.com/{i}</loc></url>"));
    }
    text.push_str("</urlset>");
    let parsed = parse(&text);
    assert_eq!(parsed.sitemap.len(), MAX_SITEMAP_ENTRIES);
    assert!(parsed.truncated);
}

#[test]
fn plain_text() {
    let text = "https://example.com/1\r\n\n  https://example.com/2  \nnot a url\nftp://x/y\n\
                https://example.com/3";
    let parsed = parse(text);
    assert_eq!(
        urls(&parsed),
        [
            "https://example.com/1",
            "https://example.com/2",
            "https://example.com/sitemaps/not%20a%20url",
            "https://example.com/3",
        ]
    );
    assert_eq!(parsed.skipped, 1);
}

#[test]
fn empty_and_odd_roots() {
    assert!(parse("").sitemap.is_empty());
    assert!(parse("  \n ").sitemap.is_empty());
    assert!(parse("<urlset/>").sitemap.is_empty());
    assert_eq!(
        parse_sitemap(b"<!DOCTYPE html><html><body>404</body></html>", &base()),
        Err(SitemapError::NotASitemap("html".into()))
    );
    assert_eq!(
        parse_sitemap(b"<rss version=\"2.0\"></rss>", &base()),
        Err(SitemapError::NotASitemap("rss".into()))
    );
}

#[test]
fn malformed_xml_keeps_what_came_before() {
    let text = "<urlset><url><loc>https://example.com/ok</loc></url><url><loc>x</lo";
    let parsed = parse(text);
    assert_eq!(urls(&parsed), ["https://example.com/ok"]);
    assert!(matches!(parsed.error, Some(SitemapError::Xml { .. })));
    // Junk the tolerant reader accepts: no panic, and the good entry survives.
    let text = "<urlset><url><loc>https://example.com/ok</loc></url><url <<<>>> </urlset>";
    let parsed = parse_sitemap(text.as_bytes(), &base()).unwrap();
    assert_eq!(urls(&parsed), ["https://example.com/ok"]);
    assert!(matches!(
        parse_sitemap(b"<urlset <<<", &base()),
        Err(SitemapError::Xml { .. })
    ));
}

#[test]
fn overlong_loc_is_skipped() {
    let long = "a".repeat(MAX_FIELD_CHARS + 10);
    let text = format!("<urlset><url><loc>https://example.com/{long}</loc></url></urlset>");
    let parsed = parse(&text);
    assert!(parsed.sitemap.is_empty());
    assert_eq!(parsed.skipped, 1);
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_sitemap(&bytes, &base());
        }

        #[test]
        fn random_xmlish_never_panics(parts in proptest::collection::vec(
            prop_oneof![
                Just("<urlset>"), Just("</urlset>"), Just("<sitemapindex>"), Just("<url>"),
                Just("</url>"), Just("<loc>"), Just("</loc>"), Just("<sitemap>"),
                Just("https://example.com/x"), Just("&amp;"), Just("&#xZZ;"), Just("<![CDATA["),
                Just("]]>"), Just("<lastmod>"), Just("</lastmod>"), Just("<a:loc>"), Just("<"),
            ],
            0..40,
        )) {
            let text = parts.concat();
            let _ = parse_sitemap(text.as_bytes(), &base());
            let _ = parse_sitemap(&gzip(text.as_bytes()), &base());
        }
    }
}
