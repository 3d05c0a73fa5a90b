//! Charset decoding of HTML bytes (being written).
use encoding_rs::Encoding;
use std::borrow::Cow;

/// Decode HTML bytes to text.
pub fn decode_html<'a>(bytes: &'a [u8], _header_charset: Option<&str>) -> (Cow<'a, str>, &'static Encoding) {
    (String::from_utf8_lossy(bytes), encoding_rs::UTF_8)
}
