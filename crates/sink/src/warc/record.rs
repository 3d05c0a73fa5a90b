//! One WARC record on disk: the header block (`WARC/1.1`, named fields, `Content-Length`),
//! the content block and the closing CRLF CRLF, compressed as its own gzip member. Also the
//! field values every record needs: record ids, dates and digests.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha1::{Digest, Sha1};

/// Hash input in pieces of this size, so both digests of a body share one pass over memory.
const DIGEST_CHUNK: usize = 64 * 1024;

/// The named fields of a record header, in writing order. `Content-Length` is added last by
/// [`RecordHead::encode`].
#[derive(Debug, Default)]
pub(crate) struct RecordHead {
    fields: Vec<(&'static str, String)>,
}

impl RecordHead {
    /// A head with `WARC-Type`, `WARC-Record-ID` and `WARC-Date`.
    pub(crate) fn new(warc_type: &str, record_id: &str, date: &str) -> RecordHead {
        let mut head = RecordHead::default();
        head.push("WARC-Type", warc_type);
        head.push("WARC-Record-ID", record_id);
        head.push("WARC-Date", date);
        head
    }

    /// Appends a field. Values come from [`check_value`]-checked input or from this crate.
    pub(crate) fn push(&mut self, name: &'static str, value: impl Into<String>) {
        self.fields.push((name, value.into()));
    }

    /// The header block for a content block of `content_length` bytes, ending in the empty
    /// line that separates it from the block.
    pub(crate) fn encode(&self, content_length: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(b"WARC/1.1\r\n");
        for (name, value) in &self.fields {
            push_line(&mut out, name, value);
        }
        push_line(&mut out, "Content-Length", &content_length.to_string());
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// Appends `name: value\r\n`.
pub(crate) fn push_line(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Writes one record as one gzip member: `head`, the block `parts` in order, then CRLF CRLF.
pub(crate) fn write_member<W: Write>(out: W, head: &[u8], parts: &[&[u8]]) -> io::Result<W> {
    let mut gz = GzEncoder::new(out, Compression::default());
    gz.write_all(head)?;
    for part in parts {
        gz.write_all(part)?;
    }
    gz.write_all(b"\r\n\r\n")?;
    gz.finish()
}

/// `sha1:` and the base32 SHA-1 of the concatenated `parts`.
pub(crate) fn sha1_digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha1::new();
    for part in parts {
        hasher.update(part);
    }
    format_sha1(hasher)
}

/// The block digest of `head` followed by `body`, and the payload digest of `body`, in one
/// pass over `body`.
pub(crate) fn block_and_payload_digests(head: &[u8], body: &[u8]) -> (String, String) {
    let mut block = Sha1::new();
    let mut payload = Sha1::new();
    block.update(head);
    for chunk in body.chunks(DIGEST_CHUNK) {
        block.update(chunk);
        payload.update(chunk);
    }
    (format_sha1(block), format_sha1(payload))
}

fn format_sha1(hasher: Sha1) -> String {
    format!("sha1:{}", data_encoding::BASE32.encode(&hasher.finalize()))
}

/// A fresh `<urn:uuid:…>` record id from a random (version 4) UUID.
pub(crate) fn new_record_id() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
    Ok(format_record_id(bytes))
}

/// Formats 16 random bytes as a version 4, RFC 4122 variant UUID in a WARC record id.
fn format_record_id(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = data_encoding::HEXLOWER.encode(&bytes);
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A `WARC-Date`: UTC, `YYYY-MM-DDThh:mm:ss.ffffffZ` (WARC 1.1 allows fractional seconds).
/// Times before 1970 are refused.
pub(crate) fn format_date(time: SystemTime) -> io::Result<String> {
    let since = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "WARC date before 1970-01-01"))?;
    Ok(utc(since, 6))
}

/// `YYYY-MM-DDThh:mm:ss.fffZ` (RFC 3339, UTC, milliseconds): the `fetched_at` of a page.
/// Times before 1970 (a broken clock) print as the epoch.
pub fn rfc3339_millis(time: SystemTime) -> String {
    utc(time.duration_since(UNIX_EPOCH).unwrap_or_default(), 3)
}

/// UTC date and time of `since` the epoch, with 3 or 6 fractional digits.
fn utc(since: std::time::Duration, digits: usize) -> String {
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let fraction = if digits == 3 {
        format!("{:03}", since.subsec_millis())
    } else {
        format!("{:06}", since.subsec_micros())
    };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
    )
}

/// The proleptic Gregorian date of `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Refuses a header field name that is empty or not an HTTP token (RFC 9110 §5.1).
pub(crate) fn check_name(name: &str) -> io::Result<()> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(invalid(format!("bad header name {name:?}")));
    }
    Ok(())
}

/// Refuses a field value that would break the header block (CR, LF or NUL).
pub(crate) fn check_value(value: &str) -> io::Result<()> {
    if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(invalid(format!(
            "header value with a line break: {value:?}"
        )));
    }
    Ok(())
}

/// An `InvalidInput` error: the caller's data cannot be written as asked.
pub(crate) fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fetched_at_is_rfc3339_millis() {
        use std::time::Duration;
        assert_eq!(rfc3339_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_404_833_123);
        assert_eq!(rfc3339_millis(t), "2026-11-23T03:33:53.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(&rfc3339_millis(leap)[..10], "2000-02-29");
    }

    use super::*;
    use std::io::Read;
    use std::time::Duration;

    #[test]
    fn sha1_base32_of_known_bytes() {
        assert_eq!(sha1_digest(&[]), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
        assert_eq!(
            sha1_digest(&[b"abc"]),
            "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5"
        );
        assert_eq!(
            sha1_digest(&[b"hello", b" ", b"world"]),
            "sha1:FKXGYNOJJ7H3IFO35FPUBC445EPOQRXN"
        );
    }

    #[test]
    fn block_and_payload_digests_split_head_and_body() {
        let body = vec![b'x'; 3 * DIGEST_CHUNK + 17];
        let (block, payload) = block_and_payload_digests(b"head", &body);
        assert_eq!(block, sha1_digest(&[b"head", &body]));
        assert_eq!(payload, sha1_digest(&[&body]));
        let (_, empty) = block_and_payload_digests(b"head", b"");
        assert_eq!(empty, "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    }

    #[test]
    fn record_ids_are_v4_uuids() {
        assert_eq!(
            format_record_id([0xff; 16]),
            "<urn:uuid:ffffffff-ffff-4fff-bfff-ffffffffffff>"
        );
        assert_eq!(
            format_record_id([0; 16]),
            "<urn:uuid:00000000-0000-4000-8000-000000000000>"
        );
        let a = new_record_id().unwrap();
        let b = new_record_id().unwrap();
        assert_ne!(a, b);
        let uuid = a
            .strip_prefix("<urn:uuid:")
            .unwrap()
            .strip_suffix('>')
            .unwrap();
        let groups: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'));
        assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert!(uuid.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
    }

    #[test]
    fn dates_are_utc_with_microseconds() {
        let at = |secs: u64, micros: u32| UNIX_EPOCH + Duration::new(secs, micros * 1000);
        assert_eq!(
            format_date(at(0, 0)).unwrap(),
            "1970-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            format_date(at(1_700_000_000, 123_456)).unwrap(),
            "2023-11-14T22:13:20.123456Z"
        );
        // A leap day and the end of a year.
        assert_eq!(
            format_date(at(951_782_400, 0)).unwrap(),
            "2000-02-29T00:00:00.000000Z"
        );
        assert_eq!(
            format_date(at(1_735_689_599, 0)).unwrap(),
            "2024-12-31T23:59:59.000000Z"
        );
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(
            format_date(before).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn header_format() {
        let mut head = RecordHead::new("resource", "<urn:uuid:x>", "2023-11-14T22:13:20Z");
        head.push("WARC-Target-URI", "http://example.com/");
        let text = String::from_utf8(head.encode(42)).unwrap();
        assert_eq!(
            text,
            "WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:x>\r\n\
             WARC-Date: 2023-11-14T22:13:20Z\r\nWARC-Target-URI: http://example.com/\r\n\
             Content-Length: 42\r\n\r\n"
        );
    }

    #[test]
    fn a_record_is_one_gzip_member() {
        let head = RecordHead::new("resource", "<urn:uuid:x>", "d").encode(5);
        let bytes = write_member(Vec::new(), &head, &[b"he", b"llo"]).unwrap();
        let mut gz = flate2::read::GzDecoder::new(&bytes[..]);
        let mut text = Vec::new();
        gz.read_to_end(&mut text).unwrap();
        let mut want = head.clone();
        want.extend_from_slice(b"hello\r\n\r\n");
        assert_eq!(text, want);
    }

    #[test]
    fn names_and_values_are_checked() {
        assert!(check_name("X-Thing_1").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("Bad Name").is_err());
        assert!(check_name("Bad:").is_err());
        assert!(check_value("text/html; charset=utf-8").is_ok());
        assert!(check_value("a\r\nInjected: yes").is_err());
        assert!(check_value("a\nb").is_err());
    }
}
