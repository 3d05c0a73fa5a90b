//! A tree of Markdown files, one per page, the path mirroring the URL:
//! `https://example.com/docs/intro.html?x=1` → `example.com/docs/intro@<hash>.md`.
//! Each file starts with YAML front matter (url, title, fetched_at). The position is the
//! number of pages written.
//!
//! Files cannot be "truncated" like a JSONL stream, so the tree keeps a journal,
//! `.gannet-uncommitted` in its root: `<page number> <path>` for every file written,
//! appended before the file is written, emptied once the frontier has committed
//! ([`TreeSink::committed`]). A resume from position N deletes the files of pages N and
//! later: their pages are fetched again, and a page that now fails or redirects leaves no
//! stale file behind. The numbers make this exact even when a crash falls between the
//! frontier's commit and the emptying of the journal (those entries are below N). A fresh crawl writes into the directory as it is; files of an earlier
//! crawl stay unless the same URL is written again.

use crate::{PageRecord, Prepared, bad_position};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use url::Url;

/// A Markdown tree being written.
#[derive(Debug)]
pub struct TreeSink {
    root: PathBuf,
    pages: u64,
    journal: File,
}

/// The journal of files written since the last commit.
const JOURNAL: &str = ".gannet-uncommitted";

/// The file of a page.
pub(crate) fn file(page: &PageRecord) -> Prepared {
    let url = page.document.url.as_deref().unwrap_or_default();
    let mut out = String::with_capacity(page.document.markdown.len() + 256);
    out.push_str("---\n");
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    out.push_str(&format!("url: {}\n", quoted(url)));
    if let Some(title) = &page.document.title {
        out.push_str(&format!("title: {}\n", quoted(title)));
    }
    out.push_str(&format!("fetched_at: {}\n", quoted(&page.meta.fetched_at)));
    out.push_str("---\n\n");
    out.push_str(&page.document.markdown);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Prepared::File(tree_path(url), out.into_bytes())
}

/// The relative path of a URL's file in the tree.
pub fn tree_path(url: &str) -> PathBuf {
    let Ok(url) = Url::parse(url) else {
        return PathBuf::from("_invalid").join(format!("{:016x}.md", hash(url)));
    };
    let mut path = PathBuf::from(sanitize(&match url.port() {
        Some(port) => format!("{}_{port}", url.host_str().unwrap_or("_")),
        None => url.host_str().unwrap_or("_").to_owned(),
    }));
    let segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    let (dirs, last) = match segments.split_last() {
        Some((last, dirs)) => (dirs, *last),
        None => (&[][..], ""),
    };
    for dir in dirs.iter().filter(|d| !d.is_empty()) {
        path.push(sanitize(dir));
    }
    let mut name = if last.is_empty() {
        "index".to_owned()
    } else {
        let stem = [".html", ".htm", ".xhtml", ".php", ".asp", ".aspx"]
            .iter()
            .find_map(|ext| last.strip_suffix(ext))
            .unwrap_or(last);
        sanitize(stem)
    };
    if let Some(query) = url.query() {
        name.push_str(&format!("@{:08x}", hash(query) as u32));
    }
    name.push_str(".md");
    path.push(name);
    path
}

/// A path segment safe on every file system: no separators, no dot names, bounded length.
fn sanitize(segment: &str) -> String {
    let mut s: String = segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '%' | '~' | '+' | '=' | ',' | '@')
            {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.chars().all(|c| c == '.') {
        s = s.replace('.', "_");
        s.push('_');
    }
    if s.len() > 150 {
        let h = hash(segment);
        s.truncate(150);
        s.push_str(&format!("~{:08x}", h as u32));
    }
    s
}

fn hash(s: &str) -> u64 {
    // FNV-1a: stable across runs and versions, unlike std's hasher.
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl TreeSink {
    /// Opens the tree rooted at `root` (created if missing).
    pub fn open(root: &Path, position: Option<&str>) -> io::Result<TreeSink> {
        let pages = match position {
            Some(p) => p.trim().parse::<u64>().map_err(|_| bad_position(p))?,
            None => 0,
        };
        fs::create_dir_all(root)?;
        let journal_path = root.join(JOURNAL);
        if position.is_some() && journal_path.exists() {
            // Pages numbered from the position on were written after the last commit:
            // they will be fetched again. Earlier entries were committed.
            for line in io::BufReader::new(File::open(&journal_path)?).lines() {
                let line = line?;
                let Some((number, rel)) = line.split_once(' ') else {
                    continue; // a torn last line: its file write never started
                };
                if number.parse::<u64>().map_or(true, |n| n < pages) {
                    continue;
                }
                let rel = PathBuf::from(rel);
                if rel.is_relative() && !rel.components().any(|c| c.as_os_str() == "..") {
                    match fs::remove_file(root.join(&rel)) {
                        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                        _ => {}
                    }
                }
            }
        }
        let journal = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&journal_path)?;
        Ok(TreeSink {
            root: root.to_owned(),
            pages,
            journal,
        })
    }

    /// The frontier committed everything written so far: empty the journal.
    pub fn committed(&mut self) -> io::Result<()> {
        self.journal.set_len(0)?;
        io::Seek::seek(&mut self.journal, io::SeekFrom::Start(0))?;
        Ok(())
    }

    /// Writes one page's file (replacing an earlier version).
    pub fn write(&mut self, rel: &Path, bytes: &[u8]) -> io::Result<()> {
        let line = format!("{} {}\n", self.pages, rel.to_string_lossy());
        self.journal.write_all(line.as_bytes())?;
        let path = self.root.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(path, bytes)?;
        self.pages += 1;
        Ok(())
    }

    /// Files are written whole; the position is the page count.
    pub fn checkpoint(&mut self) -> io::Result<String> {
        Ok(self.pages.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resume_removes_files_written_after_the_last_commit() {
        let root = std::env::temp_dir().join(format!("gannet-tree-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let mut sink = TreeSink::open(&root, None).unwrap();
        sink.write(Path::new("h/a.md"), b"a").unwrap();
        let position = sink.checkpoint().unwrap();
        sink.committed().unwrap();
        sink.write(Path::new("h/b.md"), b"b").unwrap();
        drop(sink); // killed before the commit of b
        let mut sink = TreeSink::open(&root, Some(&position)).unwrap();
        assert!(root.join("h/a.md").exists());
        assert!(!root.join("h/b.md").exists());
        // Killed after the frontier committed c but before the journal was emptied: c stays.
        sink.write(Path::new("h/c.md"), b"c").unwrap();
        let position = sink.checkpoint().unwrap();
        drop(sink);
        let sink = TreeSink::open(&root, Some(&position)).unwrap();
        assert!(root.join("h/c.md").exists());
        drop(sink);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn paths_mirror_urls() {
        let p = |u: &str| tree_path(u).to_string_lossy().into_owned();
        assert_eq!(p("https://example.com/"), "example.com/index.md");
        assert_eq!(p("https://example.com/docs/"), "example.com/docs/index.md");
        assert_eq!(
            p("https://example.com/docs/intro.html"),
            "example.com/docs/intro.md"
        );
        assert_eq!(p("http://127.0.0.1:8080/a/b"), "127.0.0.1_8080/a/b.md");
        assert!(p("https://h/a?x=1").starts_with("h/a@"));
        assert_ne!(p("https://h/a?x=1"), p("https://h/a?x=2"));
        assert_eq!(p("https://h/%2E%2E/x"), "h/x.md");
        assert_eq!(p("https://h/.%2E./x"), "h/.%2E./x.md");
        assert_eq!(p("https://h/a b/c:d"), "h/a%20b/c_d.md");
        assert!(p(&format!("https://h/{}", "x".repeat(400))).len() < 200);
    }
}
