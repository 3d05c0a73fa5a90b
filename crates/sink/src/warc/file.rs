//! The files of a WARC output: their names (`{prefix}-{NNNNN}.warc.gz`), finding the ones on
//! disk, a writer that counts the bytes it has written, and reading the `warcinfo` id back
//! from a file's first record when a crawl resumes.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use super::record::invalid;

/// Longest `warcinfo` header we read back when resuming.
const MAX_HEAD_BYTES: u64 = 64 * 1024;

/// The path of file `index` of a crawl written under `prefix`.
pub(crate) fn file_path(prefix: &Path, index: u32) -> PathBuf {
    let mut name = OsString::from(prefix.as_os_str());
    name.push(format!("-{index:05}.warc.gz"));
    PathBuf::from(name)
}

/// The directory of `prefix` and the start of its file names, or an error if `prefix` does
/// not end in a file name.
fn split_prefix(prefix: &Path) -> io::Result<(PathBuf, String)> {
    let stem = prefix
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| {
            invalid(format!(
                "WARC prefix {prefix:?} does not end in a file name"
            ))
        })?;
    let dir = match prefix.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, format!("{stem}-")))
}

/// Creates the directory of `prefix` if needed.
pub(crate) fn create_dir(prefix: &Path) -> io::Result<()> {
    let (dir, _) = split_prefix(prefix)?;
    fs::create_dir_all(dir)
}

/// The indexes and paths of the files of `prefix` that exist, in index order.
pub(crate) fn existing_files(prefix: &Path) -> io::Result<Vec<(u32, PathBuf)>> {
    let (dir, start) = split_prefix(prefix)?;
    let mut found = Vec::new();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(index) = name
            .to_str()
            .and_then(|name| name.strip_prefix(&start))
            .and_then(|rest| rest.strip_suffix(".warc.gz"))
            .filter(|digits| digits.len() >= 5 && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u32>().ok())
        else {
            continue;
        };
        found.push((index, entry.path()));
    }
    found.sort();
    Ok(found)
}

/// The `WARC-Record-ID` of the `warcinfo` record a file starts with.
pub(crate) fn read_warcinfo_id(path: &Path) -> io::Result<String> {
    let file = File::open(path)?;
    // GzDecoder stops at the end of the first member: the first record.
    let mut head = Vec::new();
    GzDecoder::new(file)
        .take(MAX_HEAD_BYTES)
        .read_to_end(&mut head)?;
    let not_warcinfo = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} does not start with a warcinfo record", path.display()),
        )
    };
    let end = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(not_warcinfo)?;
    let text = std::str::from_utf8(&head[..end]).map_err(|_| not_warcinfo())?;
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    match (field("WARC-Type").as_deref(), field("WARC-Record-ID")) {
        (Some("warcinfo"), Some(id)) => Ok(id),
        _ => Err(not_warcinfo()),
    }
}

/// A buffered file writer that knows how many bytes went into it: the file offset once
/// flushed.
#[derive(Debug)]
pub(crate) struct CountingFile {
    inner: BufWriter<File>,
    written: u64,
}

impl CountingFile {
    /// Wraps `file`, whose current length (and append position) is `len`.
    pub(crate) fn new(file: File, len: u64) -> CountingFile {
        CountingFile {
            inner: BufWriter::with_capacity(256 * 1024, file),
            written: len,
        }
    }

    /// Bytes in the file once flushed.
    pub(crate) fn len(&self) -> u64 {
        self.written
    }

    /// Flushes the buffer and asks the OS to put the data on disk.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        self.inner.flush()?;
        self.inner.get_ref().sync_data()
    }
}

impl Write for CountingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            file_path(Path::new("out/crawl"), 0),
            Path::new("out/crawl-00000.warc.gz")
        );
        assert_eq!(
            file_path(Path::new("c"), 123_456),
            Path::new("c-123456.warc.gz")
        );
        assert!(split_prefix(Path::new("/")).is_err());
        assert_eq!(
            split_prefix(Path::new("c")).unwrap(),
            (PathBuf::from("."), "c-".into())
        );
    }

    #[test]
    fn finds_only_its_own_files() {
        let dir = std::env::temp_dir().join(format!("gannet-warc-files-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        for name in [
            "crawl-00002.warc.gz",
            "crawl-00000.warc.gz",
            "crawl-0001.warc.gz",
            "crawl-00001.warc",
            "crawlx-00003.warc.gz",
            "other-00004.warc.gz",
        ] {
            fs::write(dir.join(name), b"").unwrap();
        }
        let found = existing_files(&dir.join("crawl")).unwrap();
        let indexes: Vec<u32> = found.iter().map(|(i, _)| *i).collect();
        assert_eq!(indexes, [0, 2]);
        assert!(
            existing_files(&dir.join("missing/crawl"))
                .unwrap()
                .is_empty()
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
