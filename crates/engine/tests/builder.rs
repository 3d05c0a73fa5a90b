//! `Crawl::builder` over a frontier and a sink chosen by the caller (what `gannet worker`
//! will be), and `FrontierConfig::build`, which owns the state directory now: a real crawl
//! of a loopback site each.

use gannet_crawl::{Crawl, CrawlConfig, CrawlError, SinkConfig, StopReason, Summary};
use gannet_frontier::{Frontier, FrontierConfig, FrontierError, SqliteFrontier, StoreConfig};
use gannet_sink::Format;
use gannet_testkit::{Site, SiteBuilder};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

fn test_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("builder-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test directory");
    dir
}

/// `/` → `/p0`..`/p4`, each linking home.
async fn site() -> Site {
    let page = |title: &str, links: &[String]| {
        let mut body = format!(
            "<!doctype html><html><head><title>{title}</title></head><body><main>\
             <h1>{title}</h1><p>The page {title}, with enough words in one paragraph for \
             extraction to keep it as the main content.</p><ul>"
        );
        for link in links {
            body.push_str(&format!("<li><a href=\"{link}\">{link}</a></li>"));
        }
        body.push_str("</ul></main></body></html>");
        body
    };
    let leaves: Vec<String> = (0..5).map(|i| format!("/p{i}")).collect();
    let mut builder = SiteBuilder::new()
        .robots("User-agent: *\nDisallow:\n")
        .page("/", page("Home", &leaves));
    for leaf in &leaves {
        builder = builder.page(leaf, page(leaf, &["/".to_owned()]));
    }
    builder.start().await
}

fn config(seed: &Url, out: PathBuf) -> CrawlConfig {
    let mut config = CrawlConfig::new(vec![seed.clone()], out, Format::Jsonl);
    config.min_delay = Duration::ZERO;
    config.sitemaps = false;
    config.extract_threads = 2;
    config
}

async fn run(crawl: Crawl) -> Summary {
    let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::time::timeout(Duration::from_secs(60), crawl.run(stop_rx))
        .await
        .expect("the crawl ends within 60 s")
        .expect("the crawl runs")
}

fn written_urls(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("read the output");
    let mut urls: Vec<String> = text
        .lines()
        .map(|line| {
            let page: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            page["url"].as_str().expect("url").to_owned()
        })
        .collect();
    urls.sort();
    urls
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crawl_runs_on_a_frontier_and_sink_given_to_the_builder() {
    let site = site().await;
    let dir = test_dir("given");
    let frontier = Arc::new(
        SqliteFrontier::open_in_memory(StoreConfig::default()).expect("an in-memory frontier"),
    );
    let shared: Arc<dyn Frontier> = frontier.clone();
    // The config's own output and state directory are not used.
    let unused = dir.join("unused.jsonl");
    let crawl = Crawl::builder(config(&site.origin(), unused.clone()))
        .frontier(shared)
        .sink(SinkConfig {
            format: Format::Jsonl,
            out: dir.join("pages.jsonl"),
        })
        .open()
        .await
        .expect("open");
    let summary = run(crawl).await;
    assert_eq!(summary.stop, StopReason::Finished);
    assert_eq!(summary.written, 6, "{summary:?}");
    let origin = site.origin();
    let mut expected: Vec<String> = std::iter::once(origin.to_string())
        .chain((0..5).map(|i| format!("{origin}p{i}")))
        .collect();
    expected.sort();
    assert_eq!(written_urls(&dir.join("pages.jsonl")), expected);
    assert!(!unused.exists());
    assert!(!dir.join("unused.jsonl.state").exists());
    // The frontier we handed over holds the crawl: every URL done, the seeds, and the
    // sink's final position (the JSONL file's length).
    let counts = frontier.counts().await.expect("counts");
    assert_eq!((counts.done, counts.queued, counts.in_flight), (6, 0, 0));
    let state = frontier.resume_state().await.expect("resume state");
    assert_eq!(state.seeds, [origin]);
    let len = std::fs::metadata(dir.join("pages.jsonl"))
        .expect("output")
        .len();
    let checkpoint = state.checkpoint.expect("a checkpoint");
    assert!(
        checkpoint.as_str().contains(&len.to_string()),
        "{checkpoint:?} vs {len} bytes"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_frontier_config_owns_the_state_directory() {
    let dir = test_dir("state");
    let state = dir.join("crawl.state");
    // Resuming where nothing was crawled: the documented usage error.
    let mut resume = FrontierConfig::new(state.clone());
    resume.resume = true;
    match resume.build() {
        Err(FrontierError::Config(message)) => {
            assert!(message.starts_with("nothing to resume: "), "{message}");
            assert!(message.contains("crawl.state"), "{message}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    // The same through the engine: a usage error, as the CLI reports it (exit 64).
    let site = site().await;
    let mut crawl_config = config(&site.origin(), dir.join("out.jsonl"));
    crawl_config.state_dir = Some(state.clone());
    crawl_config.resume = true;
    match Crawl::open(crawl_config.clone()).await {
        Err(CrawlError::Config(message)) => assert!(message.starts_with("nothing to resume")),
        Err(e) => panic!("expected a config error, got {e}"),
        Ok(_) => panic!("expected a config error, got a crawl"),
    }
    // A fresh crawl removes what an earlier one left.
    std::fs::create_dir_all(&state).expect("create");
    std::fs::write(state.join("leftover"), b"x").expect("write");
    crawl_config.resume = false;
    let fresh = crawl_config.frontier_config();
    assert_eq!(fresh.state_dir, state);
    assert_eq!(fresh.store.max_pages_per_host, Some(100_000));
    drop(fresh.build().expect("build"));
    assert!(!state.join("leftover").exists());
    assert!(state.join("frontier.sqlite").exists());
    // A crawl, then a resume of the finished crawl through the config: nothing is left.
    let summary = run(Crawl::open(crawl_config.clone()).await.expect("open")).await;
    assert_eq!(summary.written, 6, "{summary:?}");
    crawl_config.resume = true;
    crawl_config.seeds.clear();
    let summary = run(Crawl::open(crawl_config).await.expect("resume")).await;
    assert_eq!(summary.stop, StopReason::Finished);
    assert_eq!(summary.written, 0);
    assert_eq!(summary.frontier.done, 6);
    assert_eq!(written_urls(&dir.join("out.jsonl")).len(), 6);
}
