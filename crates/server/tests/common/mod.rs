//! What the server's integration tests share: the test site, a server on a free loopback
//! port, and small HTTP helpers. Each test binary uses some of them.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use gannet_server::{Server, ServerConfig};
use gannet_testkit::{Response, Site, SiteBuilder};
use serde_json::Value;

pub(crate) const ARTICLE: &str = r#"<!doctype html><html lang="en"><head><title>Gannets</title></head><body>
<nav><a href="/">Home</a> <a href="/other">Other</a> Site navigation</nav>
<article><h1>Gannets</h1>
<p>Gannets are seabirds comprising the genus Morus in the family Sulidae, closely related to boobies. They hunt fish by diving from a height into the sea and pursuing their prey underwater.</p>
<p>Gannets have a number of adaptations which enable them to do this, such as air sacs in their face and chest under their skin which act like bubble wrap, cushioning the impact with the water.</p>
<p>See also the <a href="/other">other page</a> about their colonies and how they breed on cliffs.</p>
</article><footer>Footer text</footer></body></html>"#;

pub(crate) const SPA: &str = r#"<!doctype html><html><head><title>App</title></head><body><div id="root"></div><script>
document.getElementById('root').innerHTML =
  '<article><h1 id="late">App</h1><p>Rendered by a script, only a browser sees this text at all.</p></article>';
</script></body></html>"#;

pub(crate) async fn site() -> Site {
    SiteBuilder::new()
        .page("/article", ARTICLE)
        .page(
            "/other",
            "<html><head><title>Other</title></head><body><p>Colonies on cliffs.</p></body></html>",
        )
        .page("/spa", SPA)
        .response(
            "/slow",
            Response::html("<html><body><p>slow</p></body></html>")
                .delay(Duration::from_millis(800)),
        )
        .response(
            "/slower",
            Response::html("<html><body><p>slower</p></body></html>")
                .delay(Duration::from_millis(4000)),
        )
        .start()
        .await
}

pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub(crate) task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(15), self.task).await;
    }
}

pub(crate) fn test_config(name: &str) -> ServerConfig {
    let mut cfg = ServerConfig {
        listen: "127.0.0.1:0".parse().expect("an address"),
        allow_private: true,
        access_log: false,
        ..ServerConfig::default()
    };
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("server-{name}"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("browser temp root");
    cfg.browser.temp_root = root.clone();
    cfg.data_dir = Some(root.join("data"));
    cfg.crawl_delay = Duration::ZERO;
    cfg
}

pub(crate) async fn start(cfg: ServerConfig) -> Running {
    let server = Server::bind(cfg).await.expect("bind the server");
    let addr = server.local_addr().expect("address");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        task,
    }
}

/// A GET's body as text.
pub(crate) async fn get_text(c: &reqwest::Client, url: &str) -> String {
    c.get(url)
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("a text body")
}

/// A POST of JSON: the status and the JSON answer.
pub(crate) async fn post_json(c: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let r = c.post(url).json(&body).send().await.expect("POST");
    let status = r.status().as_u16();
    (status, r.json().await.expect("a JSON answer"))
}

/// A GET's JSON answer.
pub(crate) async fn get_json(c: &reqwest::Client, url: &str) -> Value {
    c.get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("a JSON answer")
}

/// The server's `/metrics` text.
pub(crate) async fn metrics(c: &reqwest::Client, server: &Running) -> String {
    get_text(c, &server.url("/metrics")).await
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

pub(crate) async fn poll_until_finished(c: &reqwest::Client, url: &str) -> Value {
    let started = Instant::now();
    loop {
        let job: Value = c
            .get(url)
            .send()
            .await
            .expect("poll the job")
            .json()
            .await
            .expect("job JSON");
        let status = job["status"].as_str().unwrap_or_default().to_string();
        if ["completed", "failed", "cancelled"].contains(&status.as_str()) {
            return job;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "job never finished: {job}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The Python of the venv `target/<venv>` (made by `scripts/<venv>`, which scripts/test
/// runs).
pub(crate) fn venv_python(venv: &str) -> std::path::PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target")
        .join(venv)
        .join("bin/python");
    assert!(
        python.exists(),
        "{} missing: run scripts/{venv} (scripts/test does)",
        python.display()
    );
    python
}

/// Runs the MCP client script `tests/<script>` with the venv's Python and these
/// arguments, within 240 s; it must exit 0 and print `mcp client: ok`. Returns its stdout.
pub(crate) async fn mcp_client_script(venv: &str, script: &str, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(script);
    let mut cmd = tokio::process::Command::new(venv_python(venv));
    cmd.arg(&script)
        .args(args)
        .env("HOME", std::env::temp_dir())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(240), cmd.output())
        .await
        .expect("the client finishes within 240 s")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("mcp client: ok"),
        "mcp client {args:?} failed:\n{stdout}\n{stderr}"
    );
    stdout
}
