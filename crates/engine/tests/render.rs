//! `--render auto|always` crawls: pages go through the browser pool (real Debian Chromium)
//! and still obey robots.txt, scope and the sinks' rules.

use gannet_browser::process::{count_browser_processes, count_profile_dirs};
use gannet_crawl::{Crawl, CrawlConfig, CrawlError, RenderPolicy, Summary};
use gannet_sink::Format;
use gannet_testkit::{Site, SiteBuilder};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

fn test_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("render-crawl-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tmp")).expect("create the test directory");
    dir
}

fn config(site: &Site, dir: &Path, render: RenderPolicy) -> CrawlConfig {
    let mut config = CrawlConfig::new(vec![site.url("/")], dir.join("out.jsonl"), Format::Jsonl);
    config.min_delay = Duration::ZERO;
    config.per_host = 4;
    config.sitemaps = false;
    config.extract_threads = 2;
    config.robots_retry = Duration::from_millis(20);
    config.render = render;
    config.render_timeout = Duration::from_secs(20);
    config.browser.temp_root = dir.join("tmp");
    config
}

async fn crawl(config: CrawlConfig) -> Summary {
    let root = config.browser.temp_root.clone();
    let crawl = Crawl::open(config).await.expect("open the crawl");
    let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let summary = tokio::time::timeout(Duration::from_secs(90), crawl.run(stop_rx))
        .await
        .expect("the crawl ends within 90 s")
        .expect("the crawl runs");
    // The crawl closes its browsers before it returns.
    assert_eq!(count_browser_processes(&root), 0);
    assert_eq!(count_profile_dirs(&root), 0);
    summary
}

fn pages(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("out.jsonl"))
        .expect("read the output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn by_path<'a>(pages: &'a [Value], path: &str) -> Option<&'a Value> {
    pages.iter().find(|p| {
        p["url"]
            .as_str()
            .and_then(|u| Url::parse(u).ok())
            .is_some_and(|u| u.path() == path)
    })
}

/// Links that exist only after a script ran: an HTTP crawl never finds /deep.
const JS_LINKS: &str = r#"<!doctype html><html><head><title>Home</title><script>
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('app').innerHTML =
    '<h1>Home</h1><p>Rendered home page.</p><a href="/deep">deep page</a> <a href="/private">private</a>';
});
</script></head><body><div id="app"></div></body></html>"#;

const DEEP: &str = r#"<!doctype html><html><body><div id="root"></div><script>
document.getElementById('root').innerHTML = '<article><h1>Deep</h1><p>Text that only a browser sees on the deep page.</p></article>';
</script></body></html>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_always_follows_script_made_links_and_obeys_robots() {
    let site = SiteBuilder::new()
        .robots("User-agent: *\nDisallow: /private\n")
        .page("/", JS_LINKS)
        .page("/deep", DEEP)
        .page("/private", "<html><body>secret</body></html>")
        .start()
        .await;
    let dir = test_dir("always");
    let summary = crawl(config(&site, &dir, RenderPolicy::Always)).await;
    let pages = pages(&dir);
    assert_eq!(summary.written, 2, "{summary:?}");
    assert_eq!(summary.rendered, 2);
    assert_eq!(summary.robots_blocked, 1);
    assert_eq!(
        site.hits("/private"),
        0,
        "robots.txt applies to rendered crawls"
    );
    let deep = by_path(&pages, "/deep").expect("/deep was reached through a script-made link");
    assert!(
        deep["markdown"]
            .as_str()
            .unwrap()
            .contains("only a browser sees")
    );
    assert_eq!(deep["status"], 200);

    // Over HTTP alone the script-made link does not exist.
    let dir = test_dir("never");
    let summary = crawl(config(&site, &dir, RenderPolicy::Never)).await;
    assert_eq!(summary.written, 1);
    assert_eq!(summary.rendered, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_auto_renders_only_pages_that_need_it() {
    let home = format!(
        r#"<!doctype html><html><head><title>Static</title><script>var analytics = 1;</script></head><body><article><h1>Static home</h1><p>{}</p><a href="/deep">the app</a></article></body></html>"#,
        "Server-rendered words need no browser. ".repeat(40)
    );
    let site = SiteBuilder::new()
        .page("/", home)
        .page("/deep", DEEP)
        .start()
        .await;
    let dir = test_dir("auto");
    let summary = crawl(config(&site, &dir, RenderPolicy::Auto)).await;
    let pages = pages(&dir);
    assert_eq!(summary.written, 2, "{summary:?}");
    assert_eq!(summary.rendered, 1, "only the empty app shell is rendered");
    let deep = by_path(&pages, "/deep").unwrap();
    assert!(
        deep["markdown"]
            .as_str()
            .unwrap()
            .contains("only a browser sees")
    );
    let home = by_path(&pages, "/").unwrap();
    assert!(
        home["markdown"]
            .as_str()
            .unwrap()
            .contains("need no browser")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendering_into_warc_is_refused() {
    let site = SiteBuilder::new().page("/", "<html></html>").start().await;
    let dir = test_dir("warc");
    let mut config = config(&site, &dir, RenderPolicy::Always);
    config.format = Format::Warc;
    config.out = dir.join("out.warc.gz");
    match Crawl::open(config).await {
        Err(CrawlError::Config(msg)) => assert!(msg.contains("WARC"), "{msg}"),
        other => panic!("expected a config error, got {:?}", other.err()),
    }
}
