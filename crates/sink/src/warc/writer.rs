//! [`WarcWriter`]: turns exchanges into records, keeps the current file, rotates, commits
//! positions and resumes from them.

use std::fs::{self, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::net::IpAddr;
use std::path::Path;
use std::time::SystemTime;

use super::file::{self, CountingFile};
use super::http::{self, Protocol};
use super::record::{self, RecordHead};
use super::{Exchange, NotModified, WarcConfig, WarcPosition};

/// The `conformsTo` of our `warcinfo` records.
const CONFORMS_TO: &str =
    "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/";

/// The `WARC-Profile` of a revisit for a 304 response.
const SERVER_NOT_MODIFIED: &str = "http://netpreserve.org/warc/1.1/revisit/server-not-modified";

/// Writes WARC 1.1 records into rotating `.warc.gz` files; see [the module docs](super).
#[derive(Debug)]
pub struct WarcWriter {
    config: WarcConfig,
    /// Index of the file being written.
    file_index: u32,
    out: CountingFile,
    /// Record id of the current file's `warcinfo`.
    warcinfo_id: String,
    /// Set after an I/O error that may have left a partial record behind.
    broken: bool,
}

impl WarcWriter {
    /// Starts a new output: file `00000` with its `warcinfo` record. Creates the directory of
    /// the prefix if needed, and fails with `AlreadyExists` if files of this prefix exist.
    pub fn create(config: WarcConfig) -> io::Result<WarcWriter> {
        check_config(&config)?;
        file::create_dir(&config.prefix)?;
        if let Some((_, path)) = file::existing_files(&config.prefix)?.first() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists; resume that crawl or pick another prefix",
                    path.display()
                ),
            ));
        }
        let (out, warcinfo_id) = open_new(&config, 0)?;
        Ok(WarcWriter {
            config,
            file_index: 0,
            out,
            warcinfo_id,
            broken: false,
        })
    }

    /// Continues an output at a committed position: truncates file `pos.file_index` to
    /// `pos.offset`, deletes the files after it, and appends from there (writing a fresh
    /// `warcinfo` if the file is now empty). Records written after the position are gone.
    pub fn resume(config: WarcConfig, pos: WarcPosition) -> io::Result<WarcWriter> {
        check_config(&config)?;
        file::create_dir(&config.prefix)?;
        let path = file::file_path(&config.prefix, pos.file_index);
        let mut handle = match OpenOptions::new().write(true).open(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && pos.offset == 0 => OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)?,
            other => other.map_err(|e| with_path(e, &path))?,
        };
        let len = handle.metadata()?.len();
        if len < pos.offset {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} has {len} bytes, fewer than the committed {}",
                    path.display(),
                    pos.offset
                ),
            ));
        }
        for (index, later) in file::existing_files(&config.prefix)? {
            if index > pos.file_index {
                fs::remove_file(&later).map_err(|e| with_path(e, &later))?;
            }
        }
        handle.set_len(pos.offset)?;
        handle.seek(SeekFrom::Start(pos.offset))?;
        let mut out = CountingFile::new(handle, pos.offset);
        let warcinfo_id = if pos.offset == 0 {
            write_warcinfo(&mut out, &config, &path)?
        } else {
            file::read_warcinfo_id(&path)?
        };
        Ok(WarcWriter {
            config,
            file_index: pos.file_index,
            out,
            warcinfo_id,
            broken: false,
        })
    }

    /// Writes a `request` record and a `response` record for `exchange`, in the same file.
    ///
    /// Fails with `InvalidInput`, writing nothing, if the URL is not absolute or a header,
    /// status or date cannot be written; other errors come from the file system.
    pub fn write_exchange(&mut self, exchange: &Exchange<'_>) -> io::Result<()> {
        let url = http::parse_target(exchange.url)?;
        let protocol = Protocol::of(exchange.http_version, &url);
        let date = record::format_date(exchange.date)?;
        let request = http::request_head(&url, protocol, exchange.request_headers)?;
        let response = http::response_head(
            protocol,
            exchange.status,
            exchange.reason,
            exchange.response_headers,
            exchange.body.len(),
        )?;
        let request_id = record::new_record_id()?;
        let response_id = record::new_record_id()?;
        let (block_digest, payload_digest) =
            record::block_and_payload_digests(&response, exchange.body);
        let target = Target {
            url: exchange.url,
            date: &date,
            ip: exchange.ip,
            protocol,
        };

        self.guarded(|this| {
            this.rotate_if_full()?;
            let mut head = this.http_head("response", &response_id, &target);
            head.push("Content-Type", "application/http;msgtype=response");
            head.push("WARC-Block-Digest", block_digest);
            head.push("WARC-Payload-Digest", payload_digest);
            let block_len = (response.len() + exchange.body.len()) as u64;
            let response_record = head.encode(block_len);
            this.write_request(&request, &request_id, &response_id, &target)?;
            record::write_member(&mut this.out, &response_record, &[&response, exchange.body])?;
            Ok(())
        })
    }

    /// Writes a `request` record and a `revisit` record (profile `server-not-modified`) for a
    /// 304 answer to a conditional re-fetch. The revisit's block is the 304 head.
    ///
    /// Fails like [`WarcWriter::write_exchange`].
    pub fn write_revisit_not_modified(&mut self, revisit: &NotModified<'_>) -> io::Result<()> {
        let url = http::parse_target(revisit.url)?;
        let protocol = Protocol::of(revisit.http_version, &url);
        let date = record::format_date(revisit.date)?;
        let refers_to_date = revisit
            .refers_to_date
            .map(record::format_date)
            .transpose()?;
        let request = http::request_head(&url, protocol, revisit.request_headers)?;
        let response = http::bodiless_response_head(protocol, 304, revisit.response_headers)?;
        let request_id = record::new_record_id()?;
        let revisit_id = record::new_record_id()?;
        let block_digest = record::sha1_digest(&[&response]);
        let target = Target {
            url: revisit.url,
            date: &date,
            ip: revisit.ip,
            protocol,
        };

        self.guarded(|this| {
            this.rotate_if_full()?;
            let mut head = this.http_head("revisit", &revisit_id, &target);
            head.push("WARC-Profile", SERVER_NOT_MODIFIED);
            head.push("WARC-Refers-To-Target-URI", revisit.url);
            if let Some(refers_to_date) = refers_to_date {
                head.push("WARC-Refers-To-Date", refers_to_date);
            }
            head.push("Content-Type", "application/http;msgtype=response");
            head.push("WARC-Block-Digest", block_digest);
            let revisit_record = head.encode(response.len() as u64);
            this.write_request(&request, &request_id, &revisit_id, &target)?;
            record::write_member(&mut this.out, &revisit_record, &[&response])?;
            Ok(())
        })
    }

    /// Hands every record written so far to the OS and returns the position to commit: a
    /// process crash after this loses nothing before it.
    pub fn flush(&mut self) -> io::Result<WarcPosition> {
        self.guarded(|this| {
            this.out.flush()?;
            Ok(this.position())
        })
    }

    /// Like [`WarcWriter::flush`], and also waits until the data is on disk (`fsync`), so the
    /// position survives power loss too.
    pub fn sync(&mut self) -> io::Result<WarcPosition> {
        self.guarded(|this| {
            this.out.sync()?;
            Ok(this.position())
        })
    }

    fn position(&self) -> WarcPosition {
        WarcPosition {
            file_index: self.file_index,
            offset: self.out.len(),
        }
    }

    /// Runs `write` unless an earlier write failed; marks the writer broken if this one fails.
    fn guarded<T>(&mut self, write: impl FnOnce(&mut Self) -> io::Result<T>) -> io::Result<T> {
        if self.broken {
            return Err(io::Error::other(
                "WARC writer failed earlier; resume from the last committed position",
            ));
        }
        let result = write(self);
        self.broken = result.is_err();
        result
    }

    /// Starts the next file, with its `warcinfo`, if the current one is full. The finished
    /// file is synced to disk first.
    fn rotate_if_full(&mut self) -> io::Result<()> {
        if self.out.len() < self.config.max_file_bytes {
            return Ok(());
        }
        let next = self
            .file_index
            .checked_add(1)
            .ok_or_else(|| io::Error::other("WARC file index overflow"))?;
        self.out.sync()?;
        let (out, warcinfo_id) = open_new(&self.config, next)?;
        self.out = out;
        self.warcinfo_id = warcinfo_id;
        self.file_index = next;
        Ok(())
    }

    /// The `request` record of an exchange, concurrent to record `concurrent_to`.
    fn write_request(
        &mut self,
        request: &[u8],
        request_id: &str,
        concurrent_to: &str,
        target: &Target<'_>,
    ) -> io::Result<()> {
        let mut head = self.http_head("request", request_id, target);
        head.push("WARC-Concurrent-To", concurrent_to);
        head.push("Content-Type", "application/http;msgtype=request");
        head.push("WARC-Block-Digest", record::sha1_digest(&[request]));
        let head = head.encode(request.len() as u64);
        record::write_member(&mut self.out, &head, &[request])?;
        Ok(())
    }

    /// The fields every record of an HTTP exchange starts with.
    fn http_head(&self, warc_type: &str, record_id: &str, target: &Target<'_>) -> RecordHead {
        let mut head = RecordHead::new(warc_type, record_id, target.date);
        head.push("WARC-Target-URI", target.url);
        if let Some(ip) = target.ip {
            head.push("WARC-IP-Address", ip.to_string());
        }
        head.push("WARC-Warcinfo-ID", self.warcinfo_id.as_str());
        if let Some(protocol) = target.protocol.warc_protocol {
            head.push("WARC-Protocol", protocol);
        }
        head
    }
}

/// What the records of one exchange share.
struct Target<'a> {
    url: &'a str,
    date: &'a str,
    ip: Option<IpAddr>,
    protocol: Protocol,
}

/// Refuses config values that cannot go into a `warcinfo` record.
fn check_config(config: &WarcConfig) -> io::Result<()> {
    record::check_value(&config.software)?;
    for (name, value) in &config.extra_info {
        record::check_name(name)?;
        record::check_value(value)?;
    }
    Ok(())
}

/// Creates file `index` (it must not exist) and writes its `warcinfo`.
fn open_new(config: &WarcConfig, index: u32) -> io::Result<(CountingFile, String)> {
    let path = file::file_path(&config.prefix, index);
    let handle = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| with_path(e, &path))?;
    let mut out = CountingFile::new(handle, 0);
    let warcinfo_id = write_warcinfo(&mut out, config, &path)?;
    Ok((out, warcinfo_id))
}

/// Writes the `warcinfo` record that opens the file at `path`; returns its record id.
fn write_warcinfo(out: &mut CountingFile, config: &WarcConfig, path: &Path) -> io::Result<String> {
    let mut block = Vec::new();
    record::push_line(&mut block, "software", &config.software);
    record::push_line(&mut block, "format", "WARC File Format 1.1");
    record::push_line(&mut block, "conformsTo", CONFORMS_TO);
    let has_hostname = config.extra_info.iter().any(|(name, _)| name == "hostname");
    if let Some(hostname) = hostname().filter(|_| !has_hostname) {
        record::push_line(&mut block, "hostname", &hostname);
    }
    for (name, value) in &config.extra_info {
        record::push_line(&mut block, name, value);
    }
    let id = record::new_record_id()?;
    let mut head = RecordHead::new("warcinfo", &id, &record::format_date(SystemTime::now())?);
    if let Some(name) = path.file_name().and_then(|name| name.to_str()) {
        head.push("WARC-Filename", name);
    }
    head.push("Content-Type", "application/warc-fields");
    head.push("WARC-Block-Digest", record::sha1_digest(&[&block]));
    let head = head.encode(block.len() as u64);
    record::write_member(out, &head, &[&block])?;
    Ok(id)
}

/// This machine's host name, when the OS tells us (Linux).
fn hostname() -> Option<String> {
    let name = fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty() && record::check_value(name).is_ok()).then(|| name.to_owned())
}

/// Adds the path to an I/O error's message.
fn with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests;
