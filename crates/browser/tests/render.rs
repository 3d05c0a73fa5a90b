//! The browser pool against real Debian Chromium and a loopback test site.
//!
//! Every test gets its own profile root, so it can count its own browser processes and
//! profile directories (leak checks) while other tests run in parallel.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use gannet_browser::process::{count_browser_processes, count_profile_dirs};
use gannet_browser::{
    Block, BrowserConfig, Error, Pool, PoolConfig, RenderRequest, Screenshot, WaitFor,
};
use gannet_testkit::{Response, Site, SiteBuilder};

fn temp_root(name: &str) -> PathBuf {
    let root =
        std::env::temp_dir().join(format!("gannet-browser-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("create the profile root");
    root
}

fn config(name: &str) -> PoolConfig {
    PoolConfig {
        temp_root: temp_root(name),
        ..PoolConfig::default()
    }
}

fn request(site: &Site, path: &str) -> RenderRequest {
    let mut req = RenderRequest::new(site.url(path));
    req.timeout = Duration::from_secs(20);
    req
}

/// Shuts the pool down and checks that nothing is left behind.
async fn close(pool: Pool) {
    let root = pool.temp_root().to_path_buf();
    pool.shutdown().await;
    assert_eq!(count_browser_processes(&root), 0, "browser processes left");
    assert_eq!(count_profile_dirs(&root), 0, "profile dirs left");
    let _ = std::fs::remove_dir_all(&root);
}

const INJECTING: &str = r#"<!doctype html><html><head><title>Shell</title>
<script>
document.addEventListener('DOMContentLoaded', () => {
  const p = document.createElement('p');
  p.id = 'sync';
  p.textContent = 'Written by a script on DOMContentLoaded.';
  document.getElementById('app').appendChild(p);
});
window.addEventListener('load', () => {
  fetch('/data.json').then(r => r.json()).then(d => {
    const p = document.createElement('p');
    p.id = 'fetched';
    p.textContent = d.text;
    document.getElementById('app').appendChild(p);
  });
});
</script></head><body><div id="app"></div></body></html>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_content_and_fetched_content_are_rendered() {
    let site = SiteBuilder::new()
        .page("/", INJECTING)
        .response(
            "/data.json",
            Response::typed(
                "application/json",
                r#"{"text":"Fetched after load from the API."}"#,
            )
            .delay(Duration::from_millis(300)),
        )
        .start()
        .await;
    let pool = Pool::new(config("inject")).unwrap();
    let page = pool.render(&request(&site, "/")).await.unwrap();
    assert!(
        page.html
            .contains("Written by a script on DOMContentLoaded."),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("Fetched after load from the API."),
        "{}",
        page.html
    );
    assert!(
        page.html.starts_with("<!DOCTYPE html>"),
        "{}",
        &page.html[..40]
    );
    assert_eq!(page.status, 200);
    assert_eq!(page.final_url, site.url("/").as_str());
    close(pool).await;
}

/// An app shell: a header at once, the main content filled by a timer `delay_ms` after
/// `load` (no request in between, so only the DOM tells that the page changed).
fn late_shell(delay_ms: u32, text: &str) -> String {
    format!(
        r#"<!doctype html><html><head><title>Late shell</title><script>
window.addEventListener('load', () => setTimeout(() => {{
  const main = document.getElementById('app');
  main.innerHTML = '<h1>Late article</h1><p>{text}</p><p>A second paragraph, long enough that the extractor keeps the article as the page\'s main content.</p>';
}}, {delay_ms}));
</script></head><body><header><a href="/">Home</a> <a href="/about">About</a></header>
<main id="app"><p>Loading…</p></main></body></html>"#
    )
}

fn markdown(page: &gannet_browser::Rendered) -> String {
    let url = url::Url::parse(&page.final_url).expect("the final URL parses");
    gannet_extract::extract(page.html.as_bytes(), Some(&url), &Default::default()).markdown
}

// Smart mode renders with the default wait: content a script adds after `load`, with no
// request to watch, must still be in the Markdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_wait_lets_the_dom_settle_after_load() {
    let fast = "Filled in by a timer three hundred milliseconds after the load event.";
    let slow = "Filled in by a timer one second after the load event, well past any quiet window.";
    // An empty app that never settles: only a clock, ticking every 50 ms, for ever.
    let ticking = r#"<!doctype html><html><body><main><p id="t">0</p></main>
<script>let n = 0; setInterval(() => { document.getElementById('t').textContent = String(++n); }, 50);</script>
</body></html>"#;
    // A page with content is taken as it is, however much it changes.
    let busy = r#"<!doctype html><html><body><main><h1>Clock</h1>
<p>This page never stops changing: a clock ticks every fifty milliseconds, for ever, but
its article is there at load, so the render does not wait for the DOM to go quiet.</p>
<p id="t">0</p></main>
<script>let n = 0; setInterval(() => { document.getElementById('t').textContent = String(++n); }, 50);</script>
</body></html>"#;
    let site = SiteBuilder::new()
        .page("/fast", late_shell(300, fast))
        .page("/slow", late_shell(1000, slow))
        .page("/ticking", ticking)
        .page("/busy", busy)
        .start()
        .await;
    let pool = Pool::new(config("settle")).unwrap();
    // The launch stays out of the timings below (under CI load it can take seconds).
    pool.warm_up().await.unwrap();

    for (path, text) in [("/fast", fast), ("/slow", slow)] {
        let started = Instant::now();
        let page = pool.render(&request(&site, path)).await.unwrap();
        let md = markdown(&page);
        assert!(md.contains(text), "{path}: {md}");
        assert!(!md.contains("Loading…"), "{path}: {md}");
        // Taken soon after the content came, not at the 4 s bound of an empty page.
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{path}: {:?}",
            started.elapsed()
        );
    }

    // The explicit `load` wait is unchanged: the timer has not fired yet.
    let mut req = request(&site, "/slow");
    req.wait = WaitFor::Load;
    let page = pool.render(&req).await.unwrap();
    // (The text is also in the script's source: look at the element.)
    assert!(
        page.html
            .contains(r#"<main id="app"><p>Loading…</p></main>"#),
        "{}",
        page.html
    );

    // An empty DOM that never settles is taken at the 4 s bound, not at the request's
    // deadline (20 s).
    let started = Instant::now();
    let page = pool.render(&request(&site, "/ticking")).await.unwrap();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(3500), "{took:?}");
    assert!(took < Duration::from_secs(8), "{took:?}");
    assert!(page.html.contains(r#"<p id="t">"#));

    let started = Instant::now();
    let page = pool.render(&request(&site, "/busy")).await.unwrap();
    // Not held to the 4 s bound of an empty page (slack for a loaded machine).
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(markdown(&page).contains("never stops changing"));

    // ... and never past the request's own deadline.
    let mut req = request(&site, "/ticking");
    req.timeout = Duration::from_millis(1500);
    let started = Instant::now();
    let result = pool.render(&req).await;
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    match result {
        Ok(page) => assert!(page.html.contains(r#"<p id="t">"#)),
        // Only a machine too busy to navigate in time may miss it, and then it says so.
        Err(e) => assert!(matches!(e, Error::Timeout { .. }), "{e}"),
    }
    close(pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_css_and_js_conditions() {
    let late = r#"<html><body><div id="c"></div><script>
      setTimeout(() => { document.getElementById('c').innerHTML = '<p id="late">Late paragraph.</p>'; window.done = true; }, 800);
    </script></body></html>"#;
    let site = SiteBuilder::new().page("/late", late).start().await;
    let pool = Pool::new(config("waitfor")).unwrap();

    let mut req = request(&site, "/late");
    req.wait = "css:#late".parse().unwrap();
    let page = pool.render(&req).await.unwrap();
    assert!(page.html.contains("Late paragraph."));

    req.wait = WaitFor::Js("window.done === true".into());
    let page = pool.render(&req).await.unwrap();
    assert!(page.html.contains("Late paragraph."));

    // A condition that never holds is a timeout naming it.
    // (5 s: under CI load the navigation alone has taken over 2 s.)
    req.wait = "css:#never".parse().unwrap();
    req.timeout = Duration::from_secs(5);
    let started = Instant::now();
    let err = pool.render(&req).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("css:#never"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // A selector that is not CSS is the caller's error, reported at once.
    req.wait = "css:#[".parse().unwrap();
    req.timeout = Duration::from_secs(20);
    let err = pool.render(&req).await.unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    close(pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_that_never_finishes_loading() {
    let html = r#"<html><body><p>Visible text before the stalled image.</p><img src="/stall.png"></body></html>"#;
    let site = SiteBuilder::new()
        .page("/", html)
        .response(
            "/stall.png",
            Response::typed("image/png", "x").delay(Duration::from_secs(120)),
        )
        .start()
        .await;
    let pool = Pool::new(config("stall")).unwrap();
    // Waiting for `load` times out...
    let mut req = request(&site, "/");
    req.wait = WaitFor::Load;
    req.timeout = Duration::from_secs(2);
    let started = Instant::now();
    let err = pool.render(&req).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // ...while the default wait takes the DOM once `load` is overdue.
    let mut req = request(&site, "/");
    req.timeout = Duration::from_secs(15);
    let page = pool.render(&req).await.unwrap();
    assert!(page.html.contains("Visible text before the stalled image."));
    close(pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_errors_do_not_fail_the_render() {
    let html = r#"<html><body><p>Content survives the error.</p>
      <script>undefinedFunction();</script>
      <script>document.body.insertAdjacentHTML('beforeend', '<p>Second script still runs.</p>')</script>
      </body></html>"#;
    let site = SiteBuilder::new().page("/", html).start().await;
    let pool = Pool::new(config("jserror")).unwrap();
    let mut req = request(&site, "/");
    req.js = Some("document.querySelectorAll('p').length".into());
    let page = pool.render(&req).await.unwrap();
    assert!(page.html.contains("Content survives the error."));
    assert!(page.html.contains("Second script still runs."));
    assert_eq!(page.js_result, Some(serde_json::json!(2)));
    assert_eq!(page.js_error, None);

    // User code that throws reports the exception and still returns the page.
    req.js = Some("(async () => { throw new Error('boom from user code'); })()".into());
    let page = pool.render(&req).await.unwrap();
    assert!(
        page.js_error
            .as_deref()
            .unwrap_or("")
            .contains("boom from user code")
    );
    assert!(page.html.contains("Content survives the error."));
    close(pool).await;
}

fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&png[12..16], b"IHDR");
    let w = u32::from_be_bytes(png[16..20].try_into().expect("4 bytes"));
    let h = u32::from_be_bytes(png[20..24].try_into().expect("4 bytes"));
    (w, h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_and_pdf() {
    let tall = r#"<html><body style="margin:0"><div style="height:2000px;background:#eef">Tall page</div></body></html>"#;
    let site = SiteBuilder::new().page("/", tall).start().await;
    let pool = Pool::new(config("shots")).unwrap();
    let mut req = request(&site, "/");
    req.viewport = Some((640, 480));
    req.screenshot = Some(Screenshot { full_page: false });
    req.pdf = true;
    let page = pool.render(&req).await.unwrap();
    assert_eq!(png_size(page.screenshot.as_ref().unwrap()), (640, 480));
    let pdf = page.pdf.unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    assert!(
        pdf.windows(5).rev().take(64).any(|w| w == b"%%EOF"),
        "PDF has no trailer"
    );

    req.screenshot = Some(Screenshot { full_page: true });
    req.pdf = false;
    let page = pool.render(&req).await.unwrap();
    assert_eq!(png_size(page.screenshot.as_ref().unwrap()), (640, 2000));

    // The viewport is restored after a full-page shot.
    req.screenshot = Some(Screenshot { full_page: false });
    let page = pool.render(&req).await.unwrap();
    assert_eq!(png_size(page.screenshot.as_ref().unwrap()), (640, 480));

    // A PDF alone: the tab is never shown (pooled tabs load hidden), and prints anyway.
    // (The load event: the default wait would give this near-empty page its 4 s.)
    req.screenshot = None;
    req.pdf = true;
    req.wait = WaitFor::Load;
    let page = pool.render(&req).await.unwrap();
    let pdf = page.pdf.unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    assert!(
        pdf.windows(5).rev().take(64).any(|w| w == b"%%EOF"),
        "PDF has no trailer"
    );
    close(pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_resources_are_not_requested() {
    let html = r#"<html><head><link rel="stylesheet" href="/s.css"></head><body><p>Text</p><img src="/a.png"></body></html>"#;
    let site = SiteBuilder::new()
        .page("/", html)
        .response("/a.png", Response::typed("image/png", "png"))
        .response("/s.css", Response::typed("text/css", "p{color:red}"))
        .start()
        .await;
    let pool = Pool::new(config("block")).unwrap();
    let mut req = request(&site, "/");
    req.block = Block::parse_list("images,stylesheets").unwrap();
    req.wait = WaitFor::Load;
    let page = pool.render(&req).await.unwrap();
    assert!(page.html.contains("Text"));
    assert_eq!(site.hits("/a.png"), 0);
    assert_eq!(site.hits("/s.css"), 0);
    // The same (reused) tab without blocking loads them again.
    req.block.clear();
    pool.render(&req).await.unwrap();
    assert_eq!(site.hits("/a.png"), 1);
    assert_eq!(site.hits("/s.css"), 1);
    close(pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_keep_cookies_and_are_isolated() {
    let site = SiteBuilder::new()
        .page(
            "/login",
            "<html><body><script>document.cookie = 'sid=s3cret; path=/';</script>in</body></html>",
        )
        .page("/account", "<html><body>account</body></html>")
        .start()
        .await;
    let pool = Pool::new(config("session")).unwrap();
    let mut login = request(&site, "/login");
    login.session = Some("alice".into());
    pool.render(&login).await.unwrap();

    let mut account = request(&site, "/account");
    account.js = Some("document.cookie".into());
    account.session = Some("alice".into());
    let page = pool.render(&account).await.unwrap();
    assert_eq!(page.js_result, Some(serde_json::json!("sid=s3cret")));

    account.session = Some("bob".into());
    let page = pool.render(&account).await.unwrap();
    assert_eq!(
        page.js_result,
        Some(serde_json::json!("")),
        "another session sees no cookie"
    );
    account.session = None;
    let page = pool.render(&account).await.unwrap();
    assert_eq!(
        page.js_result,
        Some(serde_json::json!("")),
        "sessionless requests see no cookie"
    );

    assert!(pool.close_session("alice").await);
    assert!(!pool.close_session("alice").await);
    account.session = Some("alice".into());
    let page = pool.render(&account).await.unwrap();
    assert_eq!(
        page.js_result,
        Some(serde_json::json!("")),
        "a closed session forgets"
    );

    account.session = Some("../etc/passwd".into());
    assert!(matches!(
        pool.render(&account).await,
        Err(Error::Invalid(_))
    ));
    close(pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_browser_is_replaced_and_the_request_retried() {
    let html = r#"<html><body><p>Slow page content.</p><img src="/slow.png"></body></html>"#;
    let site = SiteBuilder::new()
        .page("/", html)
        .response(
            "/slow.png",
            Response::typed("image/png", "x").delay(Duration::from_millis(1500)),
        )
        .start()
        .await;
    let pool = Pool::new(config("crash")).unwrap();
    pool.warm_up().await.unwrap();
    let pids = pool.browser_pids();
    assert_eq!(pids.len(), 1);
    let mut req = request(&site, "/");
    req.wait = WaitFor::Load;
    let render = tokio::spawn({
        let pool = pool.clone();
        async move { pool.render(&req).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::process::Command::new("kill")
        .args(["-9", &pids[0].to_string()])
        .status()
        .unwrap();
    let page = render.await.unwrap().unwrap();
    assert!(page.html.contains("Slow page content."));
    let m = pool.metrics();
    assert!(m.crashes >= 1 && m.retries >= 1 && m.launches >= 2, "{m:?}");
    assert_ne!(pool.browser_pids(), pids);
    close(pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiers_promote_and_idle_browsers_are_reaped() {
    let site = SiteBuilder::new()
        .page("/", "<html><body>x</body></html>")
        .start()
        .await;
    let pool = Pool::new(PoolConfig {
        cold_ttl: Duration::from_millis(1500),
        hot_ttl: Duration::from_secs(60),
        janitor_interval: Duration::from_millis(100),
        ..config("tiers")
    })
    .unwrap();
    let req = request(&site, "/");
    let rare = BrowserConfig {
        locale: Some("de-DE".into()),
        ..Default::default()
    };
    let frequent = BrowserConfig {
        text_mode: true,
        ..Default::default()
    };
    assert_eq!(
        pool.render(&req).await.unwrap().tier,
        gannet_browser::Tier::Permanent
    );
    let mut tiers = Vec::new();
    for _ in 0..3 {
        tiers.push(pool.render_with(&frequent, &req).await.unwrap().tier);
    }
    assert_eq!(tiers.last(), Some(&gannet_browser::Tier::Hot), "{tiers:?}");
    assert_eq!(
        pool.render_with(&rare, &req).await.unwrap().tier,
        gannet_browser::Tier::Cold
    );
    let m = pool.metrics();
    assert_eq!(
        (m.browsers_permanent, m.browsers_hot, m.browsers_cold),
        (1, 1, 1),
        "{m:?}"
    );

    // The cold browser goes after its short TTL; the hot and permanent ones stay.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let m = pool.metrics();
    assert_eq!(
        (m.browsers_permanent, m.browsers_hot, m.browsers_cold),
        (1, 1, 0),
        "{m:?}"
    );
    assert!(m.reaped >= 1);
    assert_eq!(pool.browser_pids().len(), 2);
    assert!(
        m.hits_permanent == 1 && m.hits_cold == 1 + 2 && m.hits_hot == 1,
        "{m:?}"
    );
    close(pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_capacity_queue_with_a_bound_and_a_deadline() {
    let site = SiteBuilder::new()
        .response(
            "/slow",
            Response::html("<html><body>slow</body></html>").delay(Duration::from_millis(1500)),
        )
        .start()
        .await;
    let pool = Pool::new(PoolConfig {
        max_concurrent: 1,
        queue_limit: 1,
        ..config("queue")
    })
    .unwrap();
    pool.warm_up().await.unwrap();
    let first = tokio::spawn({
        let (pool, req) = (pool.clone(), request(&site, "/slow"));
        async move { pool.render(&req).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = tokio::spawn({
        let (pool, req) = (pool.clone(), request(&site, "/slow"));
        async move { pool.render(&req).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The queue (one place) is full: the third is refused at once.
    let started = Instant::now();
    let third = pool.render(&request(&site, "/slow")).await;
    assert!(matches!(third, Err(Error::Busy(_))), "{third:?}");
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(pool.metrics().queue_depth, 1);
    // The queued one runs once the first is done.
    assert!(first.await.unwrap().is_ok());
    assert!(second.await.unwrap().is_ok());

    // A waiting request whose deadline passes gets Busy, not a hang.
    let hog = tokio::spawn({
        let (pool, req) = (pool.clone(), request(&site, "/slow"));
        async move { pool.render(&req).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut short = request(&site, "/slow");
    short.timeout = Duration::from_millis(400);
    let started = Instant::now();
    assert!(matches!(pool.render(&short).await, Err(Error::Busy(_))));
    assert!(started.elapsed() < Duration::from_millis(1000));
    // A request with a long deadline but a short queue wait (a render it can do
    // without) gives up on the queue after its wait, not its deadline.
    let mut optional = request(&site, "/slow");
    optional.timeout = Duration::from_secs(20);
    optional.queue_wait = Some(Duration::from_millis(300));
    let started = Instant::now();
    let skipped = pool.render(&optional).await;
    assert!(matches!(skipped, Err(Error::Busy(_))), "{skipped:?}");
    assert!(started.elapsed() < Duration::from_millis(1000));
    assert!(hog.await.unwrap().is_ok());
    assert!(pool.metrics().busy_rejections >= 3);
    close(pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_are_recycled_after_their_page_budget() {
    let site = SiteBuilder::new()
        .page("/", "<html><body>x</body></html>")
        .start()
        .await;
    let pool = Pool::new(PoolConfig {
        recycle_after: 3,
        recycle_jitter: 0.0,
        ..config("recycle")
    })
    .unwrap();
    let req = request(&site, "/");
    let mut pids = std::collections::BTreeSet::new();
    for _ in 0..7 {
        pool.render(&req).await.unwrap();
        pids.extend(pool.browser_pids());
    }
    let m = pool.metrics();
    assert_eq!(m.launches, 3, "{m:?}");
    assert_eq!(m.recycles, 2, "{m:?}");
    assert_eq!(pids.len(), 3);
    // Retired browsers are gone once their pages are done.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(pool.browser_pids().len(), 1);
    assert!(count_browser_processes(pool.temp_root()) > 0);
    close(pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn navigation_errors_are_reported() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let pool = Pool::new(config("naverr")).unwrap();
    let mut req = RenderRequest::new(format!("http://127.0.0.1:{port}/").parse().unwrap());
    req.timeout = Duration::from_secs(10);
    let err = pool.render(&req).await.unwrap_err();
    assert!(matches!(err, Error::Navigation { .. }), "{err}");
    assert!(err.to_string().contains("ERR_CONNECTION_REFUSED"), "{err}");
    close(pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_page_times_out_and_the_pool_keeps_working() {
    let site = SiteBuilder::new()
        .page(
            "/hang",
            "<html><body><p>never</p><script>while (true) {}</script></body></html>",
        )
        .page("/ok", "<html><body><p>Fine page.</p></body></html>")
        .start()
        .await;
    let pool = Pool::new(config("hang")).unwrap();
    // The browser starts outside the 3 s budget: under CI load a launch alone can take
    // that long, and this test is about the page, not the launch.
    pool.warm_up().await.unwrap();
    let mut req = request(&site, "/hang");
    req.timeout = Duration::from_secs(3);
    let started = Instant::now();
    let err = pool.render(&req).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    // The next page renders (in a fresh tab, or a fresh browser if the old one was hung).
    let page = pool.render(&request(&site, "/ok")).await.unwrap();
    assert!(page.html.contains("Fine page."));
    close(pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_egress_guard_stops_every_browser_request_to_a_denied_address() {
    let site = SiteBuilder::new()
        .page("/secret", "<html><body>internal secret</body></html>")
        .page("/img.png", "png")
        .start()
        .await;
    let deny_loopback: gannet_browser::egress::Policy =
        std::sync::Arc::new(|ip: std::net::IpAddr| {
            if ip.is_loopback() {
                Err("loopback".to_string())
            } else {
                Ok(())
            }
        });
    let pool = Pool::new(PoolConfig {
        egress: Some(gannet_browser::egress::EgressPolicy(deny_loopback)),
        ..config("egress")
    })
    .unwrap();
    // A navigation to the denied address shows the guard's refusal, not the page.
    let page = pool.render(&request(&site, "/secret")).await.unwrap();
    assert_eq!(page.status, 403, "{}", page.html);
    assert!(page.html.contains("gannet egress guard"), "{}", page.html);
    assert!(!page.html.contains("internal secret"));
    // A page from elsewhere (here: inline) whose script, image and iframe aim at it.
    let target = site.url("/secret");
    let html = format!(
        r#"<html><body><img src="{img}"><iframe src="{target}"></iframe><script>
        window.result = fetch("{target}").then(r => r.status).catch(e => 'blocked');
        </script></body></html>"#,
        img = site.url("/img.png")
    );
    let data_url = format!("data:text/html,{}", urlencode(&html));
    let mut req = RenderRequest::new(data_url.parse().unwrap());
    req.timeout = Duration::from_secs(20);
    req.js = Some("window.result".into());
    let page = pool.render(&req).await.unwrap();
    assert!(
        page.js_result != Some(serde_json::json!(200)),
        "the script reached the denied address: {:?}",
        page.js_result
    );
    assert_eq!(
        site.hits("/secret"),
        0,
        "a browser request reached the denied address"
    );
    assert_eq!(site.hits("/img.png"), 0);
    close(pool).await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A page whose article a script writes in an animation frame (`raf`) or once an element
/// is in view (`io`, an IntersectionObserver): both need the page shown.
fn shown_only_page(kind: &str, n: usize) -> String {
    let fill = format!(
        "document.getElementById('app').innerHTML = '<h1>Article {kind} {n}</h1><p>' + \
         'Written when the page could see it, number {n}. '.repeat(12) + '</p>';"
    );
    let trigger = match kind {
        "raf" => format!("requestAnimationFrame(() => {{ {fill} }});"),
        _ => format!(
            "new IntersectionObserver((es, o) => {{ if (es.some(e => e.isIntersecting)) \
             {{ o.disconnect(); {fill} }} }}).observe(document.getElementById('sentinel'));"
        ),
    };
    format!(
        "<!doctype html><html><head><title>{kind} {n}</title></head><body>\
         <div id=\"sentinel\">top</div><main id=\"app\"></main><script>{trigger}</script></body></html>"
    )
}

// Pooled tabs load their pages hidden (cheap: nothing painted). A page that renders in an
// animation frame or when an element comes into view must still come back with its
// content, whichever tab it lands in; a plain page is never shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_and_in_view_content_renders_in_every_tab() {
    let mut site = SiteBuilder::new().page(
        "/plain",
        "<html><body><main><p>A plain page, complete in its HTML.</p></main></body></html>",
    );
    for n in 0..6 {
        site = site
            .page(&format!("/raf/{n}"), shown_only_page("raf", n))
            .page(&format!("/io/{n}"), shown_only_page("io", n));
    }
    let site = site.start().await;
    let pool = Pool::new(PoolConfig {
        tabs_per_browser: 4,
        max_concurrent: 4,
        ..config("shown")
    })
    .unwrap();
    pool.warm_up().await.unwrap();
    let mut jobs = Vec::new();
    for n in 0..6 {
        for kind in ["raf", "io"] {
            let (pool, mut req) = (pool.clone(), request(&site, &format!("/{kind}/{n}")));
            req.js = Some("document.visibilityState".into());
            jobs.push(tokio::spawn(
                async move { (kind, n, pool.render(&req).await) },
            ));
        }
    }
    for job in jobs {
        let (kind, n, page) = job.await.unwrap();
        let page = page.unwrap();
        assert!(
            markdown(&page).contains(&format!("Written when the page could see it, number {n}.")),
            "{kind} {n} came back without its content: {}",
            page.html
        );
        assert_eq!(
            page.js_result,
            Some(serde_json::json!("visible")),
            "{kind} {n}"
        );
    }
    // A page that waits for nothing a hidden page lacks is rendered hidden.
    let mut plain = request(&site, "/plain");
    plain.js = Some("document.visibilityState".into());
    let page = pool.render(&plain).await.unwrap();
    assert!(page.html.contains("complete in its HTML"));
    assert_eq!(page.js_result, Some(serde_json::json!("hidden")));
    close(pool).await;
}
