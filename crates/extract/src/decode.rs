//! Charset decoding of HTML bytes: picks the encoding of a fetched page and decodes it to text.
//!
//! The order follows browsers (WHATWG "determine the character encoding"), with one deliberate
//! change for a crawler: bytes that are valid, non-ASCII UTF-8 are decoded as UTF-8 even when
//! the server or a `<meta>` says otherwise, because a legacy page that happens to be valid
//! UTF-8 is rare while a page mislabelled as `iso-8859-1` is common.
//!
//! 1. a byte order mark (UTF-8, UTF-16LE, UTF-16BE);
//! 2. valid UTF-8 containing non-ASCII bytes (and UTF-8 cut inside its last character);
//! 3. the charset of the HTTP `Content-Type` header;
//! 4. `<meta charset>` or `<meta http-equiv=content-type content="…charset=…">`, found by a
//!    prescan of the head (up to `</head>` or `<body>`, at most the first 64 KiB);
//! 5. pure ASCII, which is UTF-8;
//! 6. chardetng (Firefox's detector) on the first 64 KiB, with the URL's top-level domain as a
//!    hint when the caller gives one;
//! 7. windows-1252.
//!
//! Unknown labels are ignored. As in the HTML spec a `<meta>` naming UTF-16 means UTF-8, and
//! `x-user-defined` means windows-1252; the `replacement` encoding (labels such as
//! `iso-2022-kr`) is ignored rather than turning the page into one U+FFFD. Valid UTF-8 and
//! ASCII input is returned borrowed, without a copy. Nothing here panics on any input.

use encoding_rs::{Encoding, REPLACEMENT, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252, X_USER_DEFINED};
use std::borrow::Cow;
use url::Url;

/// How many bytes of the document the `<meta>` prescan and chardetng look at.
const SNIFF_LIMIT: usize = 64 * 1024;

/// Decode HTML bytes to text, returning the text and the encoding that was used.
///
/// `header_charset` is the `charset` parameter of the HTTP `Content-Type` header, if any.
/// See the [module documentation](self) for the order in which the encoding is chosen.
pub fn decode_html<'a>(
    bytes: &'a [u8],
    header_charset: Option<&str>,
) -> (Cow<'a, str>, &'static Encoding) {
    decode_html_for_url(bytes, header_charset, None)
}

/// Like [`decode_html`], but gives the top-level domain of `url` to the statistical detector
/// as a hint (a `.jp` page without any declared charset is more likely Shift_JIS than GBK).
pub fn decode_html_for_url<'a>(
    bytes: &'a [u8],
    header_charset: Option<&str>,
    url: Option<&Url>,
) -> (Cow<'a, str>, &'static Encoding) {
    // 1. Byte order mark.
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let rest = bytes.get(bom_len..).unwrap_or_default();
        let (text, _) = encoding.decode_without_bom_handling(rest);
        return (text, encoding);
    }

    // 2. Valid UTF-8 with non-ASCII content (the common case: no copy).
    let ascii = bytes.is_ascii();
    if !ascii {
        match std::str::from_utf8(bytes) {
            Ok(text) => return (Cow::Borrowed(text), UTF_8),
            Err(error) if is_truncated_utf8(bytes, &error) => {
                return (String::from_utf8_lossy(bytes), UTF_8);
            }
            Err(_) => {}
        }
    }

    // 3. HTTP header, 4. <meta> prescan.
    let declared = header_charset
        .and_then(|label| transport_encoding(label, ascii))
        .or_else(|| prescan_meta(bytes.get(..SNIFF_LIMIT).unwrap_or(bytes)));
    if let Some(encoding) = declared {
        return decode_with(bytes, encoding);
    }

    // 5. Pure ASCII is valid UTF-8.
    if ascii {
        return decode_with(bytes, UTF_8);
    }

    // 6. chardetng, 7. windows-1252 (chardetng's own fallback for Latin text).
    let encoding = detect(bytes, url);
    decode_with(bytes, encoding)
}

/// Decodes `bytes` (which carry no BOM) with `encoding`, borrowing when the input allows it.
fn decode_with<'a>(
    bytes: &'a [u8],
    encoding: &'static Encoding,
) -> (Cow<'a, str>, &'static Encoding) {
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    (text, encoding)
}

/// True when `bytes` are valid UTF-8 except for a character cut off at the very end (a body
/// truncated by a size cap), and the valid part holds non-ASCII text.
fn is_truncated_utf8(bytes: &[u8], error: &std::str::Utf8Error) -> bool {
    error.error_len().is_none()
        && bytes.len() - error.valid_up_to() < 4
        && !bytes
            .get(..error.valid_up_to())
            .unwrap_or_default()
            .is_ascii()
}

/// The encoding named by an HTTP `charset` parameter, if it is one we should honour.
///
/// A transport-level UTF-16 is honoured (as browsers do) unless the body is plain ASCII, which
/// is certainly not UTF-16 text.
fn transport_encoding(label: &str, ascii: bool) -> Option<&'static Encoding> {
    let label = label.trim().trim_matches(|c| c == '"' || c == '\'');
    let encoding = Encoding::for_label(label.as_bytes())?;
    if encoding == REPLACEMENT {
        return None;
    }
    if encoding == X_USER_DEFINED {
        return Some(WINDOWS_1252);
    }
    if ascii && (encoding == UTF_16LE || encoding == UTF_16BE) {
        return None;
    }
    Some(encoding)
}

/// The encoding named by a `<meta>` label, after the HTML spec's substitutions.
///
/// Lenient where browsers are not: `<meta charset=koi8-r/>` (value glued to the `/`) counts.
fn meta_encoding(label: &[u8]) -> Option<&'static Encoding> {
    let encoding =
        Encoding::for_label(label).or_else(|| Encoding::for_label(label.strip_suffix(b"/")?))?;
    if encoding == REPLACEMENT {
        None
    } else if encoding == UTF_16LE || encoding == UTF_16BE {
        Some(UTF_8)
    } else if encoding == X_USER_DEFINED {
        Some(WINDOWS_1252)
    } else {
        Some(encoding)
    }
}

/// Runs chardetng on the first [`SNIFF_LIMIT`] bytes.
fn detect(bytes: &[u8], url: Option<&Url>) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    // Start at the first non-ASCII byte: a long ASCII head says nothing about the encoding.
    let start = bytes.iter().position(|b| !b.is_ascii()).unwrap_or(0);
    let rest = bytes.get(start..).unwrap_or_default();
    let sample = rest.get(..SNIFF_LIMIT).unwrap_or(rest);
    detector.feed(sample, sample.len() == rest.len());
    let tld = url.and_then(top_level_domain);
    detector.guess(
        tld.as_deref().map(str::as_bytes),
        chardetng::Utf8Detection::Allow,
    )
}

/// The last label of a URL's domain, lowercased (`None` for IP addresses).
fn top_level_domain(url: &Url) -> Option<String> {
    let domain = url.domain()?;
    let tld = domain.trim_end_matches('.').rsplit('.').next()?;
    (!tld.is_empty() && tld.is_ascii()).then(|| tld.to_ascii_lowercase())
}

fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

/// Case-insensitive "does `bytes` at `pos` start with `lower_needle`".
fn starts_with_ci(bytes: &[u8], pos: usize, lower_needle: &[u8]) -> bool {
    bytes
        .get(pos..pos + lower_needle.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(lower_needle))
}

/// Finds `needle` in `hay` from `from`, returning the index just after it.
fn find_after(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = hay.get(from..)?;
    memchr::memmem::find(rest, needle).map(|i| from + i + needle.len())
}

/// The WHATWG "prescan a byte stream to determine its encoding", over the head only.
///
/// Skips comments, `<!…>`, `<?…>` and end tags, steps over the attributes of other tags (so a
/// `>` inside a quoted value does not end them), and stops at `</head` or `<body`.
fn prescan_meta(bytes: &[u8]) -> Option<&'static Encoding> {
    let mut pos = 0;
    while let Some(offset) = memchr::memchr(b'<', bytes.get(pos..)?) {
        pos += offset;
        if starts_with_ci(bytes, pos, b"<!--") {
            // The `-->` may share its dashes with the opening `<!--` (`<!-->`).
            pos = find_after(bytes, pos + 2, b"-->")?;
        } else if starts_with_ci(bytes, pos, b"<meta")
            && bytes
                .get(pos + 5)
                .is_some_and(|&b| is_space(b) || b == b'/')
        {
            let (found, next) = parse_meta(bytes, pos + 5);
            if found.is_some() {
                return found;
            }
            pos = next;
        } else if tag_is(bytes, pos, b"</head") || tag_is(bytes, pos, b"<body") {
            return None;
        } else if bytes.get(pos + 1).is_some_and(u8::is_ascii_alphabetic)
            || (bytes.get(pos + 1) == Some(&b'/')
                && bytes.get(pos + 2).is_some_and(u8::is_ascii_alphabetic))
        {
            // A start or end tag: skip its name, then its attributes.
            pos += 1;
            while bytes.get(pos).is_some_and(|&b| !is_space(b) && b != b'>') {
                pos += 1;
            }
            loop {
                match next_attribute(bytes, pos) {
                    Attr::Found { next, .. } => pos = next,
                    Attr::End(next) => {
                        pos = next;
                        break;
                    }
                }
            }
        } else if matches!(bytes.get(pos + 1), Some(b'!' | b'/' | b'?')) {
            pos = find_after(bytes, pos + 1, b">")?;
        } else {
            pos += 1;
        }
    }
    None
}

/// True when a tag named `lower_name` (e.g. `<body`) starts at `pos`, followed by a delimiter.
fn tag_is(bytes: &[u8], pos: usize, lower_name: &[u8]) -> bool {
    starts_with_ci(bytes, pos, lower_name)
        && bytes
            .get(pos + lower_name.len())
            .is_none_or(|&b| is_space(b) || b == b'/' || b == b'>')
}

/// One step of the WHATWG "get an attribute" algorithm.
enum Attr {
    /// An attribute (name and value lowercased) and the position after it.
    Found {
        name: Vec<u8>,
        value: Vec<u8>,
        next: usize,
    },
    /// The tag (or the input) ended; the position after the `>`.
    End(usize),
}

fn next_attribute(bytes: &[u8], mut pos: usize) -> Attr {
    let at = |i: usize| bytes.get(i).copied();
    while at(pos).is_some_and(|b| is_space(b) || b == b'/') {
        pos += 1;
    }
    match at(pos) {
        None => return Attr::End(bytes.len()),
        Some(b'>') => return Attr::End(pos + 1),
        Some(_) => {}
    }
    let mut name = Vec::new();
    let mut value = Vec::new();
    // Attribute name.
    loop {
        match at(pos) {
            None => return Attr::End(bytes.len()),
            Some(b'=') if !name.is_empty() => {
                pos += 1;
                break;
            }
            Some(b) if is_space(b) => {
                while at(pos).is_some_and(is_space) {
                    pos += 1;
                }
                if at(pos) != Some(b'=') {
                    return Attr::Found {
                        name,
                        value,
                        next: pos,
                    };
                }
                pos += 1;
                break;
            }
            Some(b'/' | b'>') => {
                return Attr::Found {
                    name,
                    value,
                    next: pos,
                };
            }
            Some(b) => {
                name.push(b.to_ascii_lowercase());
                pos += 1;
            }
        }
    }
    // Attribute value.
    while at(pos).is_some_and(is_space) {
        pos += 1;
    }
    match at(pos) {
        None => Attr::End(bytes.len()),
        Some(quote @ (b'"' | b'\'')) => {
            let start = pos + 1;
            match bytes
                .get(start..)
                .and_then(|rest| memchr::memchr(quote, rest))
            {
                Some(len) => {
                    value.extend(bytes[start..start + len].iter().map(u8::to_ascii_lowercase));
                    Attr::Found {
                        name,
                        value,
                        next: start + len + 1,
                    }
                }
                None => Attr::End(bytes.len()),
            }
        }
        Some(b'>') => Attr::Found {
            name,
            value,
            next: pos,
        },
        Some(_) => {
            while let Some(b) = at(pos) {
                if is_space(b) || b == b'>' {
                    break;
                }
                value.push(b.to_ascii_lowercase());
                pos += 1;
            }
            Attr::Found {
                name,
                value,
                next: pos,
            }
        }
    }
}

/// Reads the attributes of a `<meta` tag whose name ends at `pos`; returns the encoding it
/// declares, if any, and the position after the tag.
fn parse_meta(bytes: &[u8], mut pos: usize) -> (Option<&'static Encoding>, usize) {
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut got_pragma = false;
    let mut need_pragma: Option<bool> = None;
    let mut charset: Option<&'static Encoding> = None;
    loop {
        match next_attribute(bytes, pos) {
            Attr::End(next) => {
                pos = next;
                break;
            }
            Attr::Found { name, value, next } => {
                pos = next;
                if seen.contains(&name) {
                    continue;
                }
                match name.as_slice() {
                    b"http-equiv" => got_pragma |= value == b"content-type",
                    b"content" if charset.is_none() => {
                        if let Some(label) = charset_from_content(&value) {
                            charset = meta_encoding(label);
                            need_pragma = Some(true);
                        }
                    }
                    b"charset" => {
                        charset = meta_encoding(value.trim_ascii());
                        need_pragma = Some(false);
                    }
                    _ => {}
                }
                seen.push(name);
            }
        }
    }
    match need_pragma {
        Some(true) if !got_pragma => (None, pos),
        Some(_) => (charset, pos),
        None => (None, pos),
    }
}

/// The WHATWG "extract a character encoding from a meta element": the label after `charset=`
/// in a `content` attribute (already lowercased).
fn charset_from_content(content: &[u8]) -> Option<&[u8]> {
    let mut pos = 0;
    loop {
        pos = find_after(content, pos, b"charset")?;
        let mut i = pos;
        while content.get(i).copied().is_some_and(is_space) {
            i += 1;
        }
        if content.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while content.get(i).copied().is_some_and(is_space) {
            i += 1;
        }
        let rest = content.get(i..)?;
        return match rest.first() {
            Some(&quote @ (b'"' | b'\'')) => {
                let end = memchr::memchr(quote, &rest[1..])?;
                Some(&rest[1..1 + end])
            }
            Some(_) => {
                let end = rest
                    .iter()
                    .position(|&b| is_space(b) || b == b';')
                    .unwrap_or(rest.len());
                Some(&rest[..end])
            }
            None => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{
        EUC_JP, EUC_KR, GB18030, GBK, KOI8_R, SHIFT_JIS, WINDOWS_1250, WINDOWS_1251,
    };

    const JA: &str = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。";
    const ZH: &str = "中华人民共和国的首都是北京，这是一个美丽的城市。";
    const KO: &str = "대한민국의 수도는 서울입니다. 한국어 텍스트입니다.";
    const CS: &str = "Příliš žluťoučký kůň úpěl ďábelské ódy.";
    const RU: &str = "Съешь же ещё этих мягких французских булок, да выпей чаю.";

    /// A head with more than 1024 bytes before the `<meta>` that carries `meta`.
    fn page(meta: &str, body: &str) -> String {
        let filler = "<meta name=\"description\" content=\"padding padding padding\">\n".repeat(25);
        assert!(filler.len() > 1024);
        format!(
            "<!DOCTYPE html><html><head><title>t</title>\n{filler}{meta}\n</head>\
             <body><p>{body}</p></body></html>"
        )
    }

    fn encode(text: &str, encoding: &'static Encoding) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(
            !unmappable,
            "test text not representable in {}",
            encoding.name()
        );
        bytes.into_owned()
    }

    fn check(bytes: &[u8], header: Option<&str>, want: &'static Encoding, phrase: &str) {
        let (text, got) = decode_html(bytes, header);
        assert_eq!(got.name(), want.name());
        assert!(text.contains(phrase), "{phrase:?} not in {text:?}");
    }

    #[test]
    fn shift_jis_from_late_meta() {
        let bytes = encode(&page("<meta charset=\"Shift_JIS\">", JA), SHIFT_JIS);
        check(&bytes, None, SHIFT_JIS, JA);
    }

    #[test]
    fn shift_jis_from_header() {
        let bytes = encode(&page("", JA), SHIFT_JIS);
        check(&bytes, Some("shift_jis"), SHIFT_JIS, JA);
    }

    #[test]
    fn gbk_from_header_and_gb18030_from_meta() {
        check(&encode(&page("", ZH), GBK), Some("GBK"), GBK, ZH);
        let meta = "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb18030\">";
        check(&encode(&page(meta, ZH), GB18030), None, GB18030, ZH);
    }

    #[test]
    fn gb2312_label_means_gbk() {
        let bytes = encode(&page("<meta charset=gb2312>", ZH), GBK);
        check(&bytes, None, GBK, ZH);
    }

    #[test]
    fn euc_kr_from_http_equiv_meta() {
        let meta = "<META HTTP-EQUIV='content-type' CONTENT='text/html;charset=\"EUC-KR\"'>";
        check(&encode(&page(meta, KO), EUC_KR), None, EUC_KR, KO);
    }

    #[test]
    fn windows_1250_czech() {
        let bytes = encode(&page("<meta charset='windows-1250'>", CS), WINDOWS_1250);
        check(&bytes, None, WINDOWS_1250, CS);
        check(
            &encode(&page("", CS), WINDOWS_1250),
            Some("cp1250"),
            WINDOWS_1250,
            CS,
        );
    }

    #[test]
    fn windows_1251_and_koi8_r_cyrillic() {
        check(
            &encode(&page("", RU), WINDOWS_1251),
            Some("windows-1251"),
            WINDOWS_1251,
            RU,
        );
        let bytes = encode(&page("<meta charset=KOI8-R/>", RU), KOI8_R);
        check(&bytes, None, KOI8_R, RU);
        check(&encode(&page("", RU), KOI8_R), Some("koi8-r"), KOI8_R, RU);
    }

    #[test]
    fn content_without_http_equiv_is_ignored() {
        // `content` with a charset needs http-equiv=content-type; the next meta decides.
        let meta = "<meta content=\"text/html; charset=euc-jp\"><meta charset=shift_jis>";
        check(&encode(&page(meta, JA), SHIFT_JIS), None, SHIFT_JIS, JA);
    }

    #[test]
    fn header_wins_over_meta() {
        let bytes = encode(&page("<meta charset=euc-jp>", JA), SHIFT_JIS);
        check(&bytes, Some("Shift_JIS"), SHIFT_JIS, JA);
        let bytes = encode(&page("<meta charset=koi8-r>", RU), WINDOWS_1251);
        check(&bytes, Some("\"windows-1251\""), WINDOWS_1251, RU);
    }

    #[test]
    fn bom_wins_over_header_and_meta() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(page("<meta charset=koi8-r>", RU).as_bytes());
        check(&bytes, Some("windows-1251"), UTF_8, RU);

        let html = page("<meta charset=utf-8>", JA);
        let mut le = vec![0xFF, 0xFE];
        le.extend(html.encode_utf16().flat_map(u16::to_le_bytes));
        check(&le, Some("shift_jis"), UTF_16LE, JA);
        let mut be = vec![0xFE, 0xFF];
        be.extend(html.encode_utf16().flat_map(u16::to_be_bytes));
        check(&be, None, UTF_16BE, JA);
    }

    #[test]
    fn valid_utf8_wins_over_wrong_labels_and_is_borrowed() {
        let html = page("<meta charset=iso-8859-1>", "café déjà vu — naïve");
        let (text, encoding) = decode_html(html.as_bytes(), Some("iso-8859-1"));
        assert_eq!(encoding, UTF_8);
        assert!(matches!(text, Cow::Borrowed(_)));
        assert!(text.contains("café déjà vu — naïve"));
    }

    #[test]
    fn ascii_is_borrowed() {
        let html = page("", "plain ascii");
        let (text, encoding) = decode_html(html.as_bytes(), None);
        assert_eq!(encoding, UTF_8);
        assert!(matches!(text, Cow::Borrowed(_)));
        let (text, encoding) = decode_html(html.as_bytes(), Some("windows-1252"));
        assert_eq!(encoding, WINDOWS_1252);
        assert!(matches!(text, Cow::Borrowed(_)));
    }

    #[test]
    fn bogus_labels_are_ignored() {
        let bytes = encode(
            &page(
                "<meta charset=\"x-no-such-charset\"><meta charset=koi8-r>",
                RU,
            ),
            KOI8_R,
        );
        // The first meta with an unknown label does not stop the scan for a later one.
        check(&bytes, Some("no-such-thing"), KOI8_R, RU);
        // With only bogus labels, the detector decides.
        let long_ru = RU.repeat(4);
        let bytes = encode(&page("<meta charset=bogus>", &long_ru), WINDOWS_1251);
        check(&bytes, Some("bogus"), WINDOWS_1251, RU);
    }

    #[test]
    fn meta_utf16_means_utf8_and_x_user_defined_means_1252() {
        let mut bytes = page("<meta charset=utf-16le>", "").into_bytes();
        bytes.extend_from_slice(b"caf\xE9"); // invalid UTF-8, so the meta is consulted
        check(&bytes, None, UTF_8, "caf\u{FFFD}");
        let mut bytes = page("<meta charset=x-user-defined>", "").into_bytes();
        bytes.extend_from_slice(b"caf\xE9");
        check(&bytes, None, WINDOWS_1252, "café");
    }

    #[test]
    fn replacement_labels_are_ignored() {
        let bytes = encode(
            &page("<meta charset=iso-2022-kr><meta charset=euc-kr>", KO),
            EUC_KR,
        );
        check(&bytes, Some("iso-2022-kr"), EUC_KR, KO);
    }

    #[test]
    fn meta_in_comment_or_attribute_value_or_body_is_ignored() {
        let head = "<!-- <meta charset=euc-jp> --><link title='<meta charset=euc-jp>' href=x>\
                    <meta charset=shift_jis>";
        check(&encode(&page(head, JA), SHIFT_JIS), None, SHIFT_JIS, JA);
        // A meta after <body> is not read: the detector decides (and finds Shift_JIS).
        let html = format!(
            "<html><head></head><body><meta charset=euc-jp><p>{}</p>",
            JA.repeat(3)
        );
        let (_, encoding) = decode_html(&encode(&html, SHIFT_JIS), None);
        assert_ne!(encoding, EUC_JP);
    }

    #[test]
    fn meta_beyond_sniff_limit_is_ignored_without_panicking() {
        let filler = "<meta name=x content=y>".repeat(SNIFF_LIMIT / 20);
        let html = format!(
            "<head>{filler}<meta charset=koi8-r></head><body>{}</body>",
            RU.repeat(5)
        );
        let bytes = encode(&html, KOI8_R);
        let (text, encoding) = decode_html(&bytes, None);
        assert_ne!(encoding, UTF_8);
        assert!(!text.is_empty());
    }

    #[test]
    fn truncated_multibyte_at_end() {
        let mut bytes = page("", JA).into_bytes();
        bytes.truncate(bytes.len() - "ない。</p></body></html>".len() + 1);
        let (text, encoding) = decode_html(&bytes, None);
        assert_eq!(encoding, UTF_8);
        assert!(text.ends_with('\u{FFFD}'), "{text:?}");
        assert!(text.contains("名前はまだ無"));

        let mut bytes = encode(JA, SHIFT_JIS);
        bytes.pop(); // half of the final two-byte character
        let (text, encoding) = decode_html(&bytes, Some("shift_jis"));
        assert_eq!(encoding, SHIFT_JIS);
        assert!(text.starts_with("吾輩は猫である"));
        assert!(text.ends_with('\u{FFFD}'));
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let cases: &[&[u8]] = &[
            b"",
            b"<",
            b"<meta",
            b"<meta ",
            b"<meta charset",
            b"<meta charset=",
            b"<meta charset=\"",
            b"<meta http-equiv=content-type content=\"charset=",
            b"<meta http-equiv=content-type content=\"charset='x",
            b"<!--",
            b"<!-->",
            b"</",
            b"<a b='",
            b"\xFF",
            b"\xFE",
            b"\xEF\xBB",
            b"\xE3\x81",
            b"<meta charset=utf-16be>\x00\xFF",
        ];
        for case in cases {
            let _ = decode_html(case, None);
            let _ = decode_html(case, Some("utf-16"));
            let _ = decode_html(case, Some(""));
        }
    }

    #[test]
    fn tld_hint_is_used() {
        let url = Url::parse("https://example.jp/").unwrap();
        let bytes = encode(JA, SHIFT_JIS);
        let (text, encoding) = decode_html_for_url(&bytes, None, Some(&url));
        assert_eq!(encoding, SHIFT_JIS);
        assert_eq!(text, JA);
    }

    #[test]
    fn charset_from_content_cases() {
        assert_eq!(
            charset_from_content(b"text/html; charset=utf-8"),
            Some(&b"utf-8"[..])
        );
        assert_eq!(
            charset_from_content(b"text/html;charset = 'koi8-r' "),
            Some(&b"koi8-r"[..])
        );
        assert_eq!(
            charset_from_content(b"charsetx charset=a;b"),
            Some(&b"a"[..])
        );
        assert_eq!(charset_from_content(b"charset=\"unterminated"), None);
        assert_eq!(charset_from_content(b"text/html"), None);
    }
}
