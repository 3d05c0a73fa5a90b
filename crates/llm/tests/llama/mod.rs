//! A real llama.cpp `llama-server` with SmolLM2-135M-Instruct, started on a free loopback
//! port for one test and killed when it ends. `scripts/llm-server` builds and caches both
//! (scripts/test runs it first); `GANNET_LLAMA_SERVER` / `GANNET_LLM_GGUF` point at them,
//! else the cache (`${GANNET_CACHE:-$HOME/.cache/gannet}/llama/`) is looked in.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gannet_llm::{LlmClient, LlmConfig, parse_base_url};

pub(crate) struct LlamaServer {
    child: Child,
    pub(crate) port: u16,
    log: PathBuf,
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os("GANNET_CACHE") {
        Some(c) => Some(PathBuf::from(c).join("llama")),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/gannet/llama")),
    }
}

fn locate() -> Option<(PathBuf, PathBuf)> {
    let from_env = |var: &str| std::env::var_os(var).map(PathBuf::from);
    let cache = cache_dir();
    let server = from_env("GANNET_LLAMA_SERVER")
        .or_else(|| cache.as_ref().map(|c| c.join("bin/llama-server")))?;
    let gguf = from_env("GANNET_LLM_GGUF").or_else(|| {
        cache
            .as_ref()
            .map(|c| c.join("SmolLM2-135M-Instruct.Q4_1.gguf"))
    })?;
    (server.is_file() && gguf.is_file()).then_some((server, gguf))
}

/// Starts the server, or returns None after a loud message when it is not built (outside
/// CI only: under CI=true a missing server fails the test, since scripts/test provides it).
pub(crate) async fn start(test: &str) -> Option<LlamaServer> {
    let Some((server, gguf)) = locate() else {
        let msg = format!(
            "SKIPPED {test}: llama-server or the SmolLM2 GGUF is missing; run scripts/llm-server \
             (or set GANNET_LLAMA_SERVER and GANNET_LLM_GGUF)"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "{msg} (required under CI)"
        );
        eprintln!("\n!!!!!!!! {msg} !!!!!!!!\n");
        return None;
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let log = std::env::temp_dir().join(format!("gannet-llama-{port}.log"));
    let log_file = std::fs::File::create(&log).expect("log file");
    let child = Command::new(&server)
        .arg("-m")
        .arg(&gguf)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        // One thread: on a loaded 2-core machine two spinning llama.cpp threads decode several
        // times slower than one (measured: 48 tokens in 11.8 s with -t 2, 5.0 s with -t 1).
        .args(["-c", "8192", "-np", "2", "-t", "1", "--no-webui"])
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log"))
        .stderr(log_file)
        .spawn()
        .expect("spawn llama-server");
    let guard = LlamaServer { child, port, log };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let health = http
            .get(format!("http://127.0.0.1:{port}/health"))
            .send()
            .await;
        if health.is_ok_and(|r| r.status().is_success()) {
            return Some(guard);
        }
        let log = std::fs::read_to_string(&guard.log).unwrap_or_default();
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "llama-server did not become healthy in 180 s; log:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

impl LlamaServer {
    pub(crate) fn config(&self) -> LlmConfig {
        let mut cfg = LlmConfig::new(
            parse_base_url(&format!("http://127.0.0.1:{}/v1", self.port)).expect("url"),
            "SmolLM2-135M-Instruct",
            None,
        );
        cfg.temperature = 0.0;
        cfg.max_tokens = 512;
        cfg.total_timeout = Duration::from_secs(300);
        cfg
    }

    pub(crate) fn client(&self) -> LlmClient {
        LlmClient::new(self.config()).expect("client")
    }
}
