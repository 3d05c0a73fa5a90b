//! Crash safety of `gannet crawl`, end to end: the real binary is killed with SIGKILL at
//! random moments and resumed with `--resume`, over and over, and what it finally wrote must
//! be exactly what a clean crawl writes: every page once, none lost, none twice, no torn
//! record.
//!
//! The kill moments come from a seeded PRNG; the seed is printed, and
//! `GANNET_CRASH_SEED=<seed> cargo test -p gannet --test crash -- --nocapture` replays a
//! failure. `GANNET_CRASH_KILLS=<n>` asks for more kills per format (a longer soak).
//!
//! One loopback site (a few hundred pages: a tree plus cross links, some pages with several
//! KB of text, a few slow responses, 404s, redirects, a robots.txt with a disallowed
//! section) is crawled per output format (JSONL, WARC, Markdown tree):
//!
//! 1. a clean crawl gives the reference: its pages (each exactly once, all of the site's)
//!    and its frontier counts (done, failed, skipped, queued);
//! 2. rounds of: a fresh crawl, then `--resume` runs (with the seed given again or not),
//!    each killed with SIGKILL after a random delay (a third in start-up, the rest spread
//!    up to beyond the clean crawl's duration, so kills land in start-up, in the middle of
//!    fetches, writes and commits, and near the end), until a run finishes by itself. A
//!    kill before the state held a frontier makes the next `--resume` say "nothing to
//!    resume" (exit 64), and the harness starts over, as documented. Then every record must
//!    be whole (each JSONL line parses; each WARC member inflates and each record is as
//!    long as its `Content-Length`, and `warcio check` passes when `scripts/py-tools`
//!    installed it; each Markdown file is complete), every page appears exactly once with
//!    the clean crawl's content, and the frontier counts equal the clean crawl's. The
//!    first round also checks that a resume of a finished crawl changes nothing. Rounds
//!    repeat until enough kills have landed.

use gannet_testkit::{Response, Site, SiteBuilder};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Pages of the site besides `/`.
const PAGES: usize = 480;
/// Kills that must land per format (JSONL; WARC and Markdown take fewer).
const KILLS: usize = 24;
/// A run that has not ended after this long is a hang: the test fails.
const RUN_LIMIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------
// The site

/// A small deterministic PRNG (SplitMix64): the same seed gives the same kill moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Uniform in `[lo, hi)`.
    fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let span = hi.saturating_sub(lo).as_micros().max(1);
        lo + Duration::from_micros(self.below(u64::try_from(span).unwrap_or(u64::MAX)))
    }
}

const WORDS: &[&str] = &[
    "gannet", "plunge", "colony", "cliff", "wing", "ocean", "shoal", "herring", "mackerel",
    "feather", "nest", "current", "tide", "spray", "island", "storm", "harbour", "lantern",
    "compass", "rope", "sail", "keel", "anchor", "gull", "puffin", "kelp", "reef", "dune",
];

/// `n` words of text, a sentence every twelve words.
fn prose(rng: &mut Rng, n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let word = WORDS[rng.below(WORDS.len() as u64) as usize];
        if i % 12 == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                s.extend(first.to_uppercase());
                s.push_str(chars.as_str());
            }
        } else {
            s.push_str(word);
        }
        s.push_str(if i % 12 == 11 { ". " } else { " " });
    }
    s.push('.');
    s
}

fn page_path(i: usize) -> String {
    format!("/p/{i}")
}

/// The links of page `i` (0 is `/`): its children in a 4-ary tree, two cross links, the
/// home page, and now and then a missing page, a disallowed one, or a redirect to a page.
fn links_of(i: usize) -> Vec<String> {
    let mut links: Vec<String> = (1..=4)
        .map(|k| i * 4 + k)
        .filter(|&c| c <= PAGES)
        .map(page_path)
        .collect();
    for cross in [(i * 7 + 3) % PAGES + 1, (i * 13 + 5) % PAGES + 1] {
        links.push(page_path(cross));
    }
    links.push("/".into());
    if i % 40 == 7 {
        links.push(format!("/missing/{i}"));
    }
    if i % 50 == 9 {
        links.push(format!("/private/{i}"));
    }
    if i % 60 == 11 {
        links.push(format!("/old/{i}"));
    }
    links
}

fn page_html(i: usize, rng: &mut Rng) -> String {
    // Every fifth page carries several KB of text, so its write takes a while.
    let words = match i % 5 {
        0 => 1500,
        _ => 60,
    };
    let mut html = format!(
        "<!doctype html><html><head><title>Page {i}</title></head><body><article>\
         <h1>Page {i}</h1><p>{}</p><ul>",
        prose(rng, words)
    );
    for link in links_of(i) {
        html.push_str(&format!("<li><a href=\"{link}\">to {link}</a></li>"));
    }
    html.push_str("</ul>");
    html.push_str(&format!(
        "<p>{}</p></article></body></html>",
        prose(rng, 40)
    ));
    html
}

/// The site, shared by every test of this binary (it lives until the process exits).
fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let mut rng = Rng(0x6a09_e667_f3bc_c908);
        let mut site = SiteBuilder::new()
            .robots("User-agent: *\nDisallow: /private/\n")
            .page("/", page_html(0, &mut rng));
        for i in 1..=PAGES {
            let mut response = Response::html(page_html(i, &mut rng));
            // A few slow pages: kills land while they are being fetched.
            if i % 31 == 0 {
                response = response.delay(Duration::from_millis(250));
            }
            site = site.response(&page_path(i), response);
            if i % 60 == 11 {
                site = site.redirect(&format!("/old/{i}"), 301, &page_path(i + 1));
            }
        }
        site.start_blocking()
    })
}

// ---------------------------------------------------------------------------------------
// Running the binary

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Jsonl,
    Warc,
    Markdown,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Warc => "warc",
            Format::Markdown => "markdown",
        }
    }
}

/// One crawl's paths: its output and its state directory.
struct Target {
    format: Format,
    out: PathBuf,
    state: PathBuf,
}

impl Target {
    fn new(dir: &Path, format: Format, name: &str) -> Target {
        let out = match format {
            Format::Jsonl => dir.join(format!("{name}.jsonl")),
            Format::Warc => dir.join(format!("{name}.warc.gz")),
            Format::Markdown => dir.join(format!("{name}-md")),
        };
        Target {
            format,
            out,
            state: dir.join(format!("{name}.state")),
        }
    }

    /// Starts `gannet crawl`: fresh, or `--resume` with or without the seed (the state
    /// has it).
    fn spawn(&self, run: Run) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gannet"));
        command.arg("crawl");
        if run != (Run::Resume { with_seed: false }) {
            command.arg(site().origin().as_str());
        }
        command
            .arg("--out")
            .arg(&self.out)
            .args(["--format", self.format.name()])
            .arg("--state")
            .arg(&self.state)
            .args(["--delay", "0", "--no-auto-throttle", "--per-host", "8"])
            .args(["--concurrency", "16", "--no-sitemaps", "-q"])
            .args(["--log-format", "json"]);
        if run != Run::Fresh {
            command.arg("--resume");
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the gannet binary")
    }
}

/// How a crawl is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    /// A new crawl, replacing any state and output.
    Fresh,
    /// `--resume`, with the seed given again or not.
    Resume { with_seed: bool },
}

/// How a run ended.
enum Ended {
    /// It exited by itself.
    Exited(ExitStatus, String),
    /// It was killed (SIGKILL) at the chosen moment.
    Killed,
}

/// Waits for `child` until `kill_after` (then kills it with SIGKILL) or until it exits.
fn run_until(mut child: Child, kill_after: Option<Duration>) -> Ended {
    let started = Instant::now();
    let deadline = kill_after.unwrap_or(RUN_LIMIT).min(RUN_LIMIT);
    loop {
        if let Some(status) = child.try_wait().expect("poll gannet") {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            return Ended::Exited(status, stderr);
        }
        if started.elapsed() >= deadline {
            // Child::kill sends SIGKILL on Unix: no handler runs, nothing is flushed.
            child.kill().expect("kill gannet");
            child.wait().expect("reap gannet");
            assert!(
                kill_after.is_some(),
                "gannet crawl ran for over {RUN_LIMIT:?}"
            );
            return Ended::Killed;
        }
        // Not async code: the test thread has nothing else to do while the crawl runs.
        #[allow(clippy::disallowed_methods)]
        std::thread::sleep(Duration::from_millis(2));
    }
}

// ---------------------------------------------------------------------------------------
// Reading outputs

/// A page as an output holds it: its URL and what it says about it, less what changes from
/// one fetch to the next (fetch time, depth and referrer, which depend on crawl order).
type Page = (String, String);

/// Every page in the output, in output order (repeats kept).
fn output_pages(target: &Target) -> Vec<Page> {
    match target.format {
        Format::Jsonl => jsonl_pages(&target.out),
        Format::Warc => warc_pages(&target.out),
        Format::Markdown => markdown_pages(&target.out),
    }
}

/// Every line must be a whole JSON object: a torn line must not survive a resume.
fn jsonl_pages(path: &Path) -> Vec<Page> {
    let text = std::fs::read_to_string(path).expect("read the JSONL output");
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the JSONL output ends in a torn line"
    );
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
                panic!(
                    "line {} of the JSONL output is not JSON ({e}): {line:.200}",
                    n + 1
                )
            });
            let field = |name: &str| {
                value[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("line {} has no {name}", n + 1))
                    .to_owned()
            };
            (
                field("url"),
                format!("{}\n{}", field("sha256"), field("markdown")),
            )
        })
        .collect()
}

/// The WARC files of an output `NAME.warc.gz`: `NAME-00000.warc.gz`, ...
fn warc_files(out: &Path) -> Vec<PathBuf> {
    let name = out.file_name().unwrap_or_default().to_string_lossy();
    let stem = name.strip_suffix(".warc.gz").unwrap_or(&name).to_owned();
    let dir = out.parent().expect("output has a directory");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list the output directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix(&format!("{stem}-")))
                .is_some_and(|rest| rest.ends_with(".warc.gz"))
        })
        .collect();
    files.sort();
    files
}

/// The `response` records: target URI and HTTP body. Every gzip member is decompressed
/// and the records are walked by their `Content-Length`, so a torn record fails.
fn warc_pages(out: &Path) -> Vec<Page> {
    let files = warc_files(out);
    assert!(!files.is_empty(), "no WARC file beside {}", out.display());
    let mut pages = Vec::new();
    for file in files {
        let mut data = Vec::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(&file).expect("open WARC file"))
            .read_to_end(&mut data)
            .unwrap_or_else(|e| panic!("{} is not whole gzip: {e}", file.display()));
        let mut at = 0;
        let mut first = true;
        while at < data.len() {
            let rest = &data[at..];
            let head_end = find(rest, b"\r\n\r\n")
                .unwrap_or_else(|| panic!("{}: a record without its head", file.display()));
            let head = std::str::from_utf8(&rest[..head_end]).expect("WARC head is UTF-8");
            assert!(
                head.starts_with("WARC/1.1\r\n"),
                "{}: not a WARC record at byte {at}",
                file.display()
            );
            let field = |name: &str| {
                head.lines().find_map(|line| {
                    let (n, v) = line.split_once(':')?;
                    n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                })
            };
            let len: usize = field("Content-Length")
                .and_then(|v| v.parse().ok())
                .expect("WARC record has a Content-Length");
            let kind = field("WARC-Type").expect("WARC record has a type");
            if first {
                assert_eq!(kind, "warcinfo", "{} starts with {kind}", file.display());
                first = false;
            }
            let block_start = head_end + 4;
            let end = block_start + len;
            assert!(
                rest.len() >= end + 4 && &rest[end..end + 4] == b"\r\n\r\n",
                "{}: record at byte {at} is cut short",
                file.display()
            );
            if kind == "response" {
                let block = &rest[block_start..end];
                let body = find(block, b"\r\n\r\n").map_or(&[][..], |i| &block[i + 4..]);
                pages.push((
                    field("WARC-Target-URI").expect("response has a target"),
                    String::from_utf8_lossy(body).into_owned(),
                ));
            }
            at += end + 4;
        }
    }
    pages
}

/// Runs `warcio check` (block and payload digests of every record) on the WARC files of
/// `out`, when `scripts/py-tools` has installed it; the record walk above runs regardless.
fn warcio_check(out: &Path) {
    let warcio = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py-tools/bin/warcio");
    if !warcio.exists() {
        eprintln!(
            "crash harness: no {} (scripts/py-tools), skipping warcio check",
            warcio.display()
        );
        return;
    }
    for file in warc_files(out) {
        let output = Command::new(&warcio)
            .arg("check")
            .arg(&file)
            .output()
            .expect("run warcio");
        assert!(
            output.status.success(),
            "warcio check {} failed: {}{}",
            file.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Every file of the Markdown tree: the `url:` of its front matter, and its text without
/// the `fetched_at:` line. Each file must sit at its URL's path.
fn markdown_pages(root: &Path) -> Vec<Page> {
    let mut pages = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("list the Markdown tree") {
            let path = entry.expect("read the Markdown tree").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            // The tree's journal of uncommitted files (empty after a finished crawl).
            if path.file_name().is_some_and(|n| n == ".gannet-uncommitted") {
                let len = std::fs::metadata(&path).expect("journal").len();
                assert_eq!(len, 0, "a finished crawl leaves an empty journal");
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read a Markdown file");
            let url = text
                .strip_prefix("---\nurl: ")
                .and_then(|rest| rest.lines().next())
                .and_then(|quoted| serde_json::from_str::<String>(quoted).ok())
                .unwrap_or_else(|| panic!("{} has no front matter url", path.display()));
            let url_path = url::Url::parse(&url).expect("page URL").path().to_owned();
            let want = match url_path.trim_start_matches('/') {
                "" => "index.md".to_owned(),
                rest => format!("{rest}.md"),
            };
            assert!(path.ends_with(&want), "{} holds {url}", path.display());
            let kept: Vec<&str> = text
                .lines()
                .filter(|line| !line.starts_with("fetched_at: "))
                .collect();
            pages.push((url, kept.join("\n")));
        }
    }
    pages
}

/// The output as a map, failing on any page that appears more than once.
fn distinct(pages: Vec<Page>, what: &str) -> BTreeMap<String, String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (url, _) in &pages {
        *counts.entry(url.clone()).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{what}: pages written more than once: {twice:?}"
    );
    pages.into_iter().collect()
}

/// The frontier's counts by state (`queued`, `done`, `failed`, `skipped`) from the JSON
/// summary a finished run prints last on stderr.
fn frontier_counts(stderr: &str) -> serde_json::Value {
    stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|v| v["event"] == "summary")
        .map(|v| v["frontier"].clone())
        .unwrap_or_else(|| panic!("no JSON summary on stderr: {stderr}"))
}

// ---------------------------------------------------------------------------------------
// The harness

fn seed() -> u64 {
    std::env::var("GANNET_CRASH_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
}

fn kills_wanted(default: usize) -> usize {
    std::env::var("GANNET_CRASH_KILLS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

fn scratch_named(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("crash-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

/// The URLs every crawl of the site must write: `/` and `/p/1..=PAGES`.
fn expected_pages() -> BTreeSet<String> {
    std::iter::once(site().url("/").to_string())
        .chain((1..=PAGES).map(|i| site().url(&page_path(i)).to_string()))
        .collect()
}

/// A clean crawl: the reference output of `format`, and how long it took.
/// What a clean crawl gives: its pages, its frontier counts, and how long it took.
struct Reference {
    pages: BTreeMap<String, String>,
    counts: serde_json::Value,
    took: Duration,
}

fn clean_crawl(dir: &Path, format: Format) -> Reference {
    let target = Target::new(dir, format, "clean");
    let started = Instant::now();
    let ended = run_until(target.spawn(Run::Fresh), None);
    let took = started.elapsed();
    let counts = match ended {
        Ended::Exited(status, stderr) => {
            assert!(status.success(), "clean crawl failed ({status}): {stderr}");
            frontier_counts(&stderr)
        }
        Ended::Killed => unreachable!("a clean crawl is not killed"),
    };
    let pages = distinct(output_pages(&target), "clean crawl");
    assert_eq!(
        pages.keys().cloned().collect::<BTreeSet<_>>(),
        expected_pages(),
        "the clean {} crawl did not write exactly the site's pages",
        format.name()
    );
    assert_eq!(counts["done"], pages.len(), "{counts}");
    assert_eq!(counts["queued"], 0, "{counts}");
    Reference {
        pages,
        counts,
        took,
    }
}

/// Kills and resumes crawls of `format` until `kills` kills have landed, checking the
/// output against a clean crawl's after every round.
fn crash_and_resume(format: Format, kills: usize) {
    let seed = seed();
    let name = format.name();
    eprintln!("crash harness ({name}): seed {seed} (replay with GANNET_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let dir = scratch_named(format.name());
    let clean = clean_crawl(&dir, format);
    eprintln!(
        "crash harness ({name}): clean crawl {:?}, {} pages, frontier {}",
        clean.took,
        clean.pages.len(),
        clean.counts
    );
    let reference = &clean.pages;
    // Kill moments: a third in start-up (5-150 ms), the rest spread up to a bit beyond
    // the clean crawl's duration (every run has less left to do than the clean one).
    let longest = clean.took.mul_f64(1.2).max(Duration::from_millis(300));
    let started = Instant::now();
    let mut landed = 0;
    let mut started_over = 0;
    let mut round = 0;
    while landed < kills {
        round += 1;
        let target = Target::new(&dir, format, &format!("round{round}"));
        let mut run = Run::Fresh;
        let mut runs = 0;
        let counts = loop {
            runs += 1;
            assert!(runs < 500, "seed {seed}: round {round} never finished");
            let kill_after = (landed < kills).then(|| {
                if rng.below(3) == 0 {
                    rng.between(Duration::from_millis(5), Duration::from_millis(150))
                } else {
                    rng.between(Duration::from_millis(20), longest)
                }
            });
            match run_until(target.spawn(run), kill_after) {
                Ended::Killed => {
                    landed += 1;
                    run = Run::Resume {
                        with_seed: rng.below(2) == 0,
                    };
                }
                Ended::Exited(status, stderr) if status.success() => {
                    break frontier_counts(&stderr);
                }
                Ended::Exited(status, stderr)
                    if run != Run::Fresh && stderr.contains("nothing to resume") =>
                {
                    // Killed before the state directory held a frontier: the documented
                    // answer is to start over.
                    assert_eq!(status.code(), Some(64), "seed {seed}: {stderr}");
                    run = Run::Fresh;
                    started_over += 1;
                }
                Ended::Exited(status, stderr) => {
                    panic!(
                        "seed {seed}: round {round}, run {runs} ({run:?}) failed \
                         ({status}): {stderr}"
                    );
                }
            }
        };
        // The frontier agrees with the output: the same URLs done, failed and skipped
        // as in the clean crawl, nothing left queued.
        assert_eq!(
            counts, clean.counts,
            "seed {seed}, {name} round {round}: frontier counts differ from the clean crawl's"
        );
        let got = distinct(
            output_pages(&target),
            &format!("seed {seed}, {name} round {round}"),
        );
        let missing: Vec<_> = reference.keys().filter(|u| !got.contains_key(*u)).collect();
        let extra: Vec<_> = got.keys().filter(|u| !reference.contains_key(*u)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "seed {seed}, {name} round {round}: {} pages missing {missing:?}, {} extra {extra:?}",
            missing.len(),
            extra.len()
        );
        for (url, text) in &got {
            assert!(
                reference[url] == *text,
                "seed {seed}, {name} round {round}: {url} differs from the clean crawl's"
            );
        }
        if format == Format::Warc {
            warcio_check(&target.out);
        }
        if round == 1 {
            // A resume of a finished crawl has nothing to do and changes nothing.
            match run_until(target.spawn(Run::Resume { with_seed: false }), None) {
                Ended::Exited(status, stderr) => {
                    assert!(status.success(), "resume of a finished crawl: {stderr}");
                    assert_eq!(frontier_counts(&stderr), clean.counts, "{stderr}");
                }
                Ended::Killed => unreachable!("not killed"),
            }
            let again = distinct(output_pages(&target), "resume of a finished crawl");
            assert!(
                again == got,
                "a resume of a finished crawl changed the output"
            );
        }
        eprintln!("crash harness ({name}): round {round}: {runs} runs, output checked");
    }
    eprintln!(
        "crash harness ({name}): {landed} kills ({started_over} before the state held a \
         frontier) in {round} rounds, {:?}; every page once",
        started.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn jsonl_survives_kill_9_at_random_moments() {
    crash_and_resume(Format::Jsonl, kills_wanted(KILLS));
}

#[test]
fn warc_survives_kill_9_at_random_moments() {
    crash_and_resume(Format::Warc, kills_wanted(KILLS / 2));
}

#[test]
fn markdown_tree_survives_kill_9_at_random_moments() {
    crash_and_resume(Format::Markdown, kills_wanted(KILLS / 2));
}

/// A crawl killed after creating its frontier file but before storing its seeds left a
/// state with nothing in it: `--resume` says there is nothing to resume (exit 64), as it
/// does when there is no state at all, so the caller knows to start over.
#[test]
fn resume_of_a_state_killed_before_its_seeds_were_stored() {
    let dir = scratch_named("empty-state");
    let target = Target::new(&dir, Format::Jsonl, "early");
    std::fs::create_dir_all(&target.state).expect("create the state directory");
    std::fs::write(target.state.join("frontier.sqlite"), b"").expect("create the frontier");
    match run_until(target.spawn(Run::Resume { with_seed: false }), None) {
        Ended::Exited(status, stderr) => {
            assert_eq!(status.code(), Some(64), "{stderr}");
            assert!(stderr.contains("nothing to resume"), "{stderr}");
        }
        Ended::Killed => unreachable!("not killed"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
