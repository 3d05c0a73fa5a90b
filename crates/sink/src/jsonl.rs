//! JSON Lines: one object per page, appended to one file. The position is a byte offset.

use crate::{JsonRecord, PageRecord};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// A JSONL file being written.
#[derive(Debug)]
pub struct JsonlSink {
    out: BufWriter<File>,
    offset: u64,
}

/// The line of a page (ends with `\n`).
pub(crate) fn line(page: &PageRecord) -> io::Result<Vec<u8>> {
    // Sized once: a reallocation of a multi-megabyte line would briefly hold it twice.
    let doc = &page.document;
    let links: usize = doc
        .links
        .iter()
        .map(|l| l.href.len() + l.text.len() + 48)
        .sum();
    let estimate = (doc.markdown.len() + doc.text.len() + links) / 16 * 17 + 2048;
    let mut bytes = Vec::with_capacity(estimate);
    serde_json::to_writer(
        &mut bytes,
        &JsonRecord {
            document: &page.document,
            meta: &page.meta,
        },
    )?;
    bytes.push(b'\n');
    Ok(bytes)
}

impl JsonlSink {
    /// Opens `path`: truncated to `position` (bytes) when resuming, else created empty.
    pub fn open(path: &Path, position: Option<&str>) -> io::Result<JsonlSink> {
        let offset = match position {
            Some(p) => p
                .trim()
                .parse::<u64>()
                .map_err(|_| crate::bad_position(p))?,
            None => 0,
        };
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(position.is_none())
            .open(path)?;
        let len = file.metadata()?.len();
        if len < offset {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is shorter ({len} bytes) than the crawl state says ({offset}); \
                     was it edited? Start a new crawl without --resume",
                    path.display()
                ),
            ));
        }
        file.set_len(offset)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        io::Seek::seek(out.get_mut(), io::SeekFrom::Start(offset))?;
        Ok(JsonlSink { out, offset })
    }

    /// Appends one prepared line.
    pub fn write(&mut self, line: &[u8]) -> io::Result<()> {
        self.out.write_all(line)?;
        self.offset += line.len() as u64;
        Ok(())
    }

    /// Flushes to the OS; the position is the byte offset.
    pub fn checkpoint(&mut self) -> io::Result<String> {
        self.out.flush()?;
        Ok(self.offset.to_string())
    }

    /// Flushes and syncs.
    pub fn finish(&mut self) -> io::Result<String> {
        let position = self.checkpoint()?;
        self.out.get_ref().sync_data()?;
        Ok(position)
    }
}
