//! `gannet crawl`'s progress on stderr (a bar on a terminal, a line every few seconds
//! otherwise, JSON lines with `--log-format json`) and its closing summary.

use crate::crawl_cmd::LogFormat;
use gannet_crawl::{Stats, StopReason, Summary};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The progress display: a bar on a terminal, periodic lines otherwise.
pub(crate) struct Progress {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Progress {
    pub(crate) fn start(stats: Arc<Stats>, log: LogFormat) -> Progress {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let tty = std::io::stderr().is_terminal() && log == LogFormat::Text;
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let bar = tty.then(|| {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                );
                bar.enable_steady_tick(Duration::from_millis(200));
                bar
            });
            let period = if tty {
                Duration::from_millis(250)
            } else {
                Duration::from_secs(5)
            };
            let mut ticker = tokio::time::interval(period);
            ticker.tick().await;
            let mut last = (Instant::now(), 0u64);
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    _ = &mut stopped => break,
                }
                let written = Stats::get(&stats.written);
                let now = Instant::now();
                let rate =
                    (written - last.1) as f64 / now.duration_since(last.0).as_secs_f64().max(1e-3);
                if !tty {
                    last = (now, written);
                }
                let line = ProgressLine {
                    elapsed: started.elapsed().as_secs_f64(),
                    pages: written,
                    queued: Stats::get(&stats.queued),
                    in_flight: Stats::get(&stats.in_flight),
                    pages_per_sec: if tty {
                        written as f64 / started.elapsed().as_secs_f64().max(1e-3)
                    } else {
                        rate
                    },
                    failed: Stats::get(&stats.failed),
                    skipped: Stats::get(&stats.skipped),
                    bytes: Stats::get(&stats.bytes),
                };
                match (&bar, log) {
                    (Some(bar), _) => bar.set_message(line.text()),
                    (None, LogFormat::Text) => eprintln!("progress: {}", line.text()),
                    (None, LogFormat::Json) => eprintln!("{}", line.json()),
                }
            }
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
        });
        Progress { stop, task }
    }

    pub(crate) fn finish(self) {
        let _ = self.stop.send(());
        self.task.abort();
    }
}

struct ProgressLine {
    elapsed: f64,
    pages: u64,
    queued: u64,
    in_flight: u64,
    pages_per_sec: f64,
    failed: u64,
    skipped: u64,
    bytes: u64,
}

impl ProgressLine {
    fn text(&self) -> String {
        format!(
            "pages {} | queued {} | in flight {} | {:.0} pages/s | failed {} | skipped {} | {}",
            self.pages,
            self.queued,
            self.in_flight,
            self.pages_per_sec,
            self.failed,
            self.skipped,
            human_bytes(self.bytes)
        )
    }

    fn json(&self) -> String {
        serde_json::json!({
            "event": "progress",
            "elapsed_s": (self.elapsed * 10.0).round() / 10.0,
            "pages": self.pages,
            "queued": self.queued,
            "in_flight": self.in_flight,
            "pages_per_s": (self.pages_per_sec * 10.0).round() / 10.0,
            "failed": self.failed,
            "skipped": self.skipped,
            "bytes": self.bytes,
        })
        .to_string()
    }
}

fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.2} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else {
        format!("{:.0} kB", n / 1e3)
    }
}

pub(crate) fn print_summary(s: &Summary, log: LogFormat) {
    let secs = s.elapsed.as_secs_f64();
    let rate = s.written as f64 / secs.max(1e-3);
    let stop = match s.stop {
        StopReason::Finished => "finished",
        StopReason::MaxPages => "max pages reached",
        StopReason::MaxTime => "max time reached",
        StopReason::Interrupted => "interrupted (continue with --resume)",
    };
    match log {
        LogFormat::Json => {
            let reasons: serde_json::Map<String, serde_json::Value> = s
                .reasons
                .iter()
                .map(|(r, n)| (r.clone(), serde_json::Value::from(*n)))
                .collect();
            let line = serde_json::json!({
                "event": "summary",
                "stop": stop,
                "pages": s.written,
                "rendered": s.rendered,
                "failed": s.failed,
                "skipped": s.skipped,
                "robots_blocked": s.robots_blocked,
                "not_modified": s.not_modified,
                "retries": s.retries,
                "duplicate_links": s.duplicate_links,
                "bytes": s.bytes,
                "reasons": reasons,
                "elapsed_s": (secs * 1000.0).round() / 1000.0,
                "pages_per_s": (rate * 10.0).round() / 10.0,
                "frontier": {
                    "queued": s.frontier.queued,
                    "done": s.frontier.done,
                    "failed": s.frontier.failed,
                    "skipped": s.frontier.skipped,
                },
            });
            eprintln!("{line}");
        }
        LogFormat::Text => {
            eprintln!(
                "crawl {stop}: {} pages in {secs:.1} s ({rate:.1} pages/s), {} failed, {} skipped \
                 ({} by robots.txt), {} retries, {} duplicate links dropped, {} received",
                s.written,
                s.failed,
                s.skipped,
                s.robots_blocked,
                s.retries,
                s.duplicate_links,
                human_bytes(s.bytes)
            );
            if s.not_modified > 0 {
                eprintln!("  {} not modified (304)", s.not_modified);
            }
            if s.rendered > 0 {
                eprintln!("  {} rendered in the browser", s.rendered);
            }
            for (reason, n) in &s.reasons {
                eprintln!("  {n:>8}  {reason}");
            }
            if s.frontier.queued > 0 {
                eprintln!("  {} URLs still queued", s.frontier.queued);
            }
        }
    }
}
