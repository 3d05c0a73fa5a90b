//! Tests of [`WarcWriter`]: the records it writes, read back member by member.

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use super::*;

/// A fresh directory under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gannet-warc-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// One record read back: header fields and block.
#[derive(Debug)]
struct Rec {
    fields: Vec<(String, String)>,
    block: Vec<u8>,
}

impl Rec {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    fn kind(&self) -> &str {
        self.get("WARC-Type").unwrap()
    }
}

/// Reads a file, checking that every gzip member holds exactly one record.
fn read_records(path: &Path) -> Vec<Rec> {
    let data = fs::read(path).unwrap();
    let mut rest = &data[..];
    let mut records = Vec::new();
    while !rest.is_empty() {
        let mut gz = flate2::bufread::GzDecoder::new(rest);
        let mut text = Vec::new();
        gz.read_to_end(&mut text).unwrap();
        rest = gz.into_inner();
        let end = text.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = std::str::from_utf8(&text[..end]).unwrap();
        let mut lines = head.split("\r\n");
        assert_eq!(lines.next(), Some("WARC/1.1"));
        let fields: Vec<(String, String)> = lines
            .map(|line| {
                let (n, v) = line.split_once(": ").unwrap();
                (n.to_owned(), v.to_owned())
            })
            .collect();
        let len: usize = fields
            .iter()
            .find(|(n, _)| n == "Content-Length")
            .unwrap()
            .1
            .parse()
            .unwrap();
        let block = text[end + 4..end + 4 + len].to_vec();
        assert_eq!(&text[end + 4 + len..], b"\r\n\r\n", "one record per member");
        records.push(Rec { fields, block });
    }
    records
}

fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn exchange<'a>(
    url: &'a str,
    request_headers: &'a [(String, String)],
    response_headers: &'a [(String, String)],
    body: &'a [u8],
) -> Exchange<'a> {
    Exchange {
        url,
        date: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        ip: Some("192.0.2.7".parse().unwrap()),
        http_version: "HTTP/1.1",
        request_headers,
        status: 200,
        reason: "OK",
        response_headers,
        body,
    }
}

#[test]
fn writes_warcinfo_request_and_response() {
    let dir = temp_dir("records");
    let mut config = WarcConfig::new(dir.join("crawl"));
    config.extra_info = headers(&[("robots", "obey"), ("http-header-user-agent", "gannet/0.1")]);
    let mut writer = WarcWriter::create(config).unwrap();
    let req = headers(&[("Host", "example.com"), ("User-Agent", "gannet/0.1")]);
    let resp = headers(&[
        ("content-type", "text/html"),
        ("content-encoding", "br"),
        ("content-length", "9"),
    ]);
    let body = b"<p>hello</p>";
    writer
        .write_exchange(&exchange("https://example.com/a?b=1", &req, &resp, body))
        .unwrap();
    let pos = writer.flush().unwrap();
    assert_eq!(pos.file_index, 0);

    let path = dir.join("crawl-00000.warc.gz");
    assert_eq!(pos.offset, fs::metadata(&path).unwrap().len());
    let records = read_records(&path);
    let kinds: Vec<&str> = records.iter().map(Rec::kind).collect();
    assert_eq!(kinds, ["warcinfo", "request", "response"]);

    let info = &records[0];
    assert_eq!(info.get("Content-Type"), Some("application/warc-fields"));
    assert_eq!(info.get("WARC-Filename"), Some("crawl-00000.warc.gz"));
    let info_text = std::str::from_utf8(&info.block).unwrap();
    assert!(info_text.starts_with("software: gannet/"));
    assert!(info_text.contains("format: WARC File Format 1.1\r\n"));
    assert!(info_text.contains("robots: obey\r\nhttp-header-user-agent: gannet/0.1\r\n"));

    let (request, response) = (&records[1], &records[2]);
    let info_id = info.get("WARC-Record-ID").unwrap();
    for rec in [request, response] {
        assert_eq!(
            rec.get("WARC-Target-URI"),
            Some("https://example.com/a?b=1")
        );
        assert_eq!(rec.get("WARC-Date"), Some("2023-11-14T22:13:20.000000Z"));
        assert_eq!(rec.get("WARC-IP-Address"), Some("192.0.2.7"));
        assert_eq!(rec.get("WARC-Warcinfo-ID"), Some(info_id));
        assert_eq!(rec.get("WARC-Protocol"), Some("http/1.1"));
        assert_eq!(
            rec.get("WARC-Block-Digest").unwrap(),
            record::sha1_digest(&[&rec.block])
        );
    }
    assert_eq!(
        request.get("WARC-Concurrent-To"),
        response.get("WARC-Record-ID")
    );
    assert_eq!(
        request.get("Content-Type"),
        Some("application/http;msgtype=request")
    );
    assert_eq!(
        response.get("Content-Type"),
        Some("application/http;msgtype=response")
    );
    assert_eq!(
        std::str::from_utf8(&request.block).unwrap(),
        "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: gannet/0.1\r\n\r\n"
    );
    let mut want = b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\
        X-Gannet-Original-Content-Encoding: br\r\nX-Gannet-Original-Content-Length: 9\r\n\
        Content-Length: 12\r\n\r\n"
        .to_vec();
    want.extend_from_slice(body);
    assert_eq!(response.block, want);
    assert_eq!(
        response.get("WARC-Payload-Digest").unwrap(),
        record::sha1_digest(&[body])
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn revisit_for_not_modified() {
    let dir = temp_dir("revisit");
    let mut writer = WarcWriter::create(WarcConfig::new(dir.join("crawl"))).unwrap();
    let req = headers(&[("Host", "example.com"), ("If-None-Match", "\"v1\"")]);
    let resp = headers(&[("etag", "\"v1\"")]);
    writer
        .write_revisit_not_modified(&NotModified {
            url: "https://example.com/",
            date: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            ip: None,
            http_version: "HTTP/2.0",
            request_headers: &req,
            response_headers: &resp,
            refers_to_date: Some(UNIX_EPOCH + Duration::from_secs(1_600_000_000)),
        })
        .unwrap();
    writer.flush().unwrap();
    let records = read_records(&dir.join("crawl-00000.warc.gz"));
    let revisit = &records[2];
    assert_eq!(revisit.kind(), "revisit");
    assert_eq!(revisit.get("WARC-Profile"), Some(SERVER_NOT_MODIFIED));
    assert_eq!(
        revisit.get("WARC-Refers-To-Target-URI"),
        Some("https://example.com/")
    );
    assert_eq!(
        revisit.get("WARC-Refers-To-Date"),
        Some("2020-09-13T12:26:40.000000Z")
    );
    assert_eq!(revisit.get("WARC-Protocol"), Some("h2"));
    assert_eq!(revisit.get("WARC-IP-Address"), None);
    assert_eq!(
        revisit.block,
        b"HTTP/1.1 304 Not Modified\r\netag: \"v1\"\r\n\r\n"
    );
    assert_eq!(
        records[1].get("WARC-Concurrent-To"),
        revisit.get("WARC-Record-ID")
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_writes_nothing_and_keeps_the_writer_usable() {
    let dir = temp_dir("bad-input");
    let mut writer = WarcWriter::create(WarcConfig::new(dir.join("crawl"))).unwrap();
    let before = writer.flush().unwrap();
    let evil = headers(&[("x", "a\r\nInjected: 1")]);
    let err = writer
        .write_exchange(&exchange("https://example.com/", &evil, &[], b""))
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    let err = writer
        .write_exchange(&exchange("not a url", &[], &[], b""))
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(writer.flush().unwrap(), before);
    writer
        .write_exchange(&exchange("https://example.com/", &[], &[], b"ok"))
        .unwrap();
    assert!(writer.flush().unwrap().offset > before.offset);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn create_refuses_to_overwrite() {
    let dir = temp_dir("exists");
    fs::write(dir.join("crawl-00003.warc.gz"), b"").unwrap();
    let err = WarcWriter::create(WarcConfig::new(dir.join("crawl"))).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rotates_between_exchanges() {
    let dir = temp_dir("rotate");
    let mut config = WarcConfig::new(dir.join("crawl"));
    config.max_file_bytes = 1;
    let mut writer = WarcWriter::create(config).unwrap();
    for i in 0..3 {
        let url = format!("https://example.com/{i}");
        writer
            .write_exchange(&exchange(&url, &[], &[], b"body"))
            .unwrap();
    }
    let pos = writer.flush().unwrap();
    // The warcinfo alone fills file 0, so each exchange starts a new file.
    assert_eq!(pos.file_index, 3);
    assert_eq!(read_records(&dir.join("crawl-00000.warc.gz")).len(), 1);
    for i in 1..=3u32 {
        let records = read_records(&file::file_path(&dir.join("crawl"), i));
        let kinds: Vec<&str> = records.iter().map(Rec::kind).collect();
        assert_eq!(kinds, ["warcinfo", "request", "response"]);
        let info_id = records[0].get("WARC-Record-ID");
        assert!(
            records[1..]
                .iter()
                .all(|r| r.get("WARC-Warcinfo-ID") == info_id)
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resume_truncates_to_the_committed_position() {
    let dir = temp_dir("resume");
    let mut config = WarcConfig::new(dir.join("crawl"));
    config.max_file_bytes = 2000;
    let mut writer = WarcWriter::create(config.clone()).unwrap();
    let body = vec![b'a'; 100];
    writer
        .write_exchange(&exchange("https://example.com/kept", &[], &[], &body))
        .unwrap();
    let pos = writer.flush().unwrap();
    // Enough uncommitted writing to rotate into later files, then a crash.
    for i in 0..30 {
        let url = format!("https://example.com/lost/{i}");
        writer
            .write_exchange(&exchange(&url, &[], &[], &body))
            .unwrap();
    }
    drop(writer);
    assert!(dir.join("crawl-00001.warc.gz").exists());

    let mut writer = WarcWriter::resume(config, pos).unwrap();
    assert_eq!(writer.flush().unwrap(), pos);
    assert!(!dir.join("crawl-00001.warc.gz").exists());
    writer
        .write_exchange(&exchange("https://example.com/after", &[], &[], &body))
        .unwrap();
    writer.flush().unwrap();

    let records = read_records(&dir.join("crawl-00000.warc.gz"));
    let uris: Vec<&str> = records
        .iter()
        .filter_map(|r| r.get("WARC-Target-URI"))
        .collect();
    assert_eq!(
        uris,
        [
            "https://example.com/kept",
            "https://example.com/kept",
            "https://example.com/after",
            "https://example.com/after"
        ]
    );
    let info_id = records[0].get("WARC-Record-ID");
    assert!(
        records[1..]
            .iter()
            .all(|r| r.get("WARC-Warcinfo-ID") == info_id)
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resume_at_an_empty_file_writes_a_warcinfo() {
    let dir = temp_dir("resume-empty");
    let config = WarcConfig::new(dir.join("crawl"));
    let mut writer = WarcWriter::create(config.clone()).unwrap();
    writer
        .write_exchange(&exchange("https://example.com/lost", &[], &[], b"x"))
        .unwrap();
    drop(writer);
    let pos = WarcPosition {
        file_index: 0,
        offset: 0,
    };
    let mut writer = WarcWriter::resume(config.clone(), pos).unwrap();
    writer
        .write_exchange(&exchange("https://example.com/new", &[], &[], b"x"))
        .unwrap();
    writer.flush().unwrap();
    let records = read_records(&dir.join("crawl-00000.warc.gz"));
    let kinds: Vec<&str> = records.iter().map(Rec::kind).collect();
    assert_eq!(kinds, ["warcinfo", "request", "response"]);
    assert_eq!(
        records[2].get("WARC-Target-URI"),
        Some("https://example.com/new")
    );

    // A position past the end of the file is refused, not padded.
    let past = WarcPosition {
        file_index: 0,
        offset: 1 << 40,
    };
    let err = WarcWriter::resume(config.clone(), past).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    // A missing file is fine at offset 0 only.
    let missing = WarcPosition {
        file_index: 7,
        offset: 10,
    };
    assert_eq!(
        WarcWriter::resume(config, missing).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn position_round_trips_through_serde() {
    let pos = WarcPosition {
        file_index: 2,
        offset: 12_345,
    };
    let json = serde_json::to_string(&pos).unwrap();
    assert_eq!(json, r#"{"file_index":2,"offset":12345}"#);
    assert_eq!(serde_json::from_str::<WarcPosition>(&json).unwrap(), pos);
}
