//! The WARC writer checked by a real WARC tool: warcio (`warcio check` verifies the block and
//! payload digests, `warcio index` and `warcio extract` parse every record). Run
//! `scripts/py-tools` once to install warcio into `target/py-tools`.

#![allow(clippy::unwrap_used)] // Test helpers unwrap: a panic is a failed test.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gannet_sink::warc::{Exchange, NotModified, WarcConfig, WarcWriter};
use serde_json::Value;

/// The warcio binary that `scripts/py-tools` installs; the test fails, never skips, without it.
fn warcio() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = root.join("target/py-tools/bin/warcio");
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/py-tools (from the workspace root) to install warcio",
        bin.display()
    );
    bin
}

/// A fresh directory for one test's output.
fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("warc-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `.warc.gz` files in `dir`, sorted.
fn warc_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".warc.gz"))
        .collect();
    files.sort();
    files
}

/// Runs `warcio check -v` on `file` and asserts it passes; returns what it printed.
fn check(file: &Path) -> String {
    let out = Command::new(warcio())
        .arg("check")
        .arg("-v")
        .arg(file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "warcio check {} failed:\n{text}\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// `warcio index` of `file`: one JSON object per record.
fn index(file: &Path) -> Vec<Value> {
    let out = Command::new(warcio())
        .args([
            "index",
            "-f",
            "offset,warc-type,warc-target-uri,http:status,warc-profile",
        ])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "warcio index failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The payload of the record at `offset`, as `warcio extract --payload` reads it.
fn payload(file: &Path, offset: &Value) -> Vec<u8> {
    let offset = offset
        .as_u64()
        .map(|o| o.to_string())
        .unwrap_or_else(|| offset.to_string());
    let out = Command::new(warcio())
        .args(["extract", "--payload"])
        .arg(file)
        .arg(offset.trim_matches('"'))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "warcio extract failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::new(secs, 250_000_000)
}

/// Bytes that compress badly and contain CR, LF and NUL.
fn binary(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Writes one exchange of `body` with sensible headers.
fn write(writer: &mut WarcWriter, url: &str, version: &str, status: u16, body: &[u8]) {
    let request = headers(&[
        ("Host", "example.com"),
        ("User-Agent", "gannet/0.1 (+https://x)"),
    ]);
    let response = headers(&[
        ("content-type", "application/octet-stream"),
        ("content-encoding", "gzip"),
        ("content-length", "3"),
    ]);
    let ip: IpAddr = "2001:db8::1".parse().unwrap();
    writer
        .write_exchange(&Exchange {
            url,
            date: at(1_700_000_000),
            ip: Some(ip),
            http_version: version,
            request_headers: &request,
            status,
            reason: "",
            response_headers: &response,
            body,
        })
        .unwrap();
}

#[test]
fn warcio_checks_and_indexes_every_record() {
    let dir = out_dir("warcio");
    let mut config = WarcConfig::new(dir.join("crawl"));
    config.max_file_bytes = 8 * 1024;
    config.extra_info = headers(&[("robots", "obey"), ("http-header-user-agent", "gannet/0.1")]);
    let mut writer = WarcWriter::create(config).unwrap();

    let html =
        b"<!doctype html><html><head><title>Hi</title></head><body>\xc3\xa9t\xc3\xa9</body></html>";
    let request = headers(&[("Host", "example.com"), ("Accept", "text/html")]);
    let response = headers(&[
        ("content-type", "text/html; charset=utf-8"),
        ("transfer-encoding", "chunked"),
        ("content-encoding", "br"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
    ]);
    writer
        .write_exchange(&Exchange {
            url: "https://example.com/page?q=%C3%A9",
            date: at(1_700_000_000),
            ip: Some("192.0.2.1".parse().unwrap()),
            http_version: "HTTP/1.1",
            request_headers: &request,
            status: 200,
            reason: "OK",
            response_headers: &response,
            body: html,
        })
        .unwrap();
    let blob = binary(20_000);
    write(
        &mut writer,
        "https://example.com/blob.bin",
        "HTTP/1.1",
        200,
        &blob,
    );
    write(
        &mut writer,
        "https://example.com/empty",
        "HTTP/1.1",
        200,
        b"",
    );
    write(
        &mut writer,
        "https://example.com/h2",
        "HTTP/2.0",
        200,
        b"over h2",
    );
    write(
        &mut writer,
        "http://example.com/missing",
        "HTTP/1.0",
        404,
        b"not here",
    );
    write(
        &mut writer,
        "https://example.com/nocontent",
        "HTTP/2.0",
        204,
        b"",
    );
    writer
        .write_revisit_not_modified(&NotModified {
            url: "https://example.com/page?q=%C3%A9",
            date: at(1_700_086_400),
            ip: None,
            http_version: "HTTP/2.0",
            request_headers: &headers(&[("Host", "example.com"), ("If-None-Match", "\"v1\"")]),
            response_headers: &headers(&[
                ("etag", "\"v1\""),
                ("date", "Wed, 15 Nov 2023 22:13:20 GMT"),
            ]),
            refers_to_date: Some(at(1_700_000_000)),
        })
        .unwrap();
    writer.flush().unwrap();
    drop(writer);

    let files = warc_files(&dir);
    assert!(
        files.len() >= 2,
        "expected rotation into 2+ files, got {files:?}"
    );
    let mut seen = Vec::new();
    for file in &files {
        let report = check(file);
        println!("warcio check -v {}:\n{report}", file.display());
        assert!(!report.contains("digest failed"), "{report}");
        let records = index(file);
        println!("warcio index {}: {} records", file.display(), records.len());
        assert_eq!(
            records[0]["warc-type"], "warcinfo",
            "each file starts with warcinfo"
        );
        for record in &records {
            let kind = record["warc-type"].as_str().unwrap().to_owned();
            let uri = record["warc-target-uri"].as_str().unwrap_or("").to_owned();
            if kind == "response" && uri.ends_with("/blob.bin") {
                assert_eq!(
                    payload(file, &record["offset"]),
                    blob,
                    "binary payload round-trips"
                );
            }
            if kind == "response" && uri.ends_with("/page?q=%C3%A9") {
                assert_eq!(
                    payload(file, &record["offset"]),
                    html,
                    "HTML payload round-trips"
                );
            }
            if kind == "revisit" {
                assert_eq!(record["http:status"], "304");
                assert_eq!(
                    record["warc-profile"],
                    "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
                );
            }
            seen.push((kind, uri, record["http:status"].as_str().map(str::to_owned)));
        }
    }
    let want: Vec<(&str, &str, Option<&str>)> = vec![
        ("request", "https://example.com/page?q=%C3%A9", None),
        ("response", "https://example.com/page?q=%C3%A9", Some("200")),
        ("request", "https://example.com/blob.bin", None),
        ("response", "https://example.com/blob.bin", Some("200")),
        ("request", "https://example.com/empty", None),
        ("response", "https://example.com/empty", Some("200")),
        ("request", "https://example.com/h2", None),
        ("response", "https://example.com/h2", Some("200")),
        ("request", "http://example.com/missing", None),
        ("response", "http://example.com/missing", Some("404")),
        ("request", "https://example.com/nocontent", None),
        ("response", "https://example.com/nocontent", Some("204")),
        ("request", "https://example.com/page?q=%C3%A9", None),
        ("revisit", "https://example.com/page?q=%C3%A9", Some("304")),
    ];
    let got: Vec<(&str, &str, Option<&str>)> = seen
        .iter()
        .filter(|(kind, _, _)| kind != "warcinfo")
        .map(|(kind, uri, status)| (kind.as_str(), uri.as_str(), status.as_deref()))
        .collect();
    assert_eq!(got, want);
    let warcinfos = seen
        .iter()
        .filter(|(kind, _, _)| kind == "warcinfo")
        .count();
    assert_eq!(warcinfos, files.len());
}

#[test]
fn records_after_the_committed_position_vanish_on_resume() {
    let dir = out_dir("resume");
    let mut config = WarcConfig::new(dir.join("crawl"));
    config.max_file_bytes = 10 * 1024;
    let mut writer = WarcWriter::create(config.clone()).unwrap();
    let blob = binary(6_000);
    for i in 0..3 {
        write(
            &mut writer,
            &format!("https://example.com/kept/{i}"),
            "HTTP/1.1",
            200,
            &blob,
        );
    }
    let pos = writer.flush().unwrap();
    assert!(
        pos.file_index >= 1,
        "the committed part already spans files: {pos:?}"
    );
    for i in 0..6 {
        write(
            &mut writer,
            &format!("https://example.com/lost/{i}"),
            "HTTP/1.1",
            200,
            &blob,
        );
    }
    // The crash: the writer goes away without a commit.
    drop(writer);
    assert!(warc_files(&dir).len() > pos.file_index as usize + 1);

    let mut writer = WarcWriter::resume(config, pos).unwrap();
    for i in 0..3 {
        write(
            &mut writer,
            &format!("https://example.com/after/{i}"),
            "HTTP/2.0",
            200,
            &blob,
        );
    }
    writer.flush().unwrap();
    drop(writer);

    let mut uris = Vec::new();
    for file in warc_files(&dir) {
        check(&file);
        for record in index(&file) {
            if record["warc-type"] == "response" {
                uris.push(record["warc-target-uri"].as_str().unwrap().to_owned());
            }
        }
    }
    let want: Vec<String> = (0..3)
        .map(|i| format!("https://example.com/kept/{i}"))
        .chain((0..3).map(|i| format!("https://example.com/after/{i}")))
        .collect();
    assert_eq!(uris, want);
}
