//! A loopback HTTP server that answers like a broken OpenAI-compatible provider, for the
//! client's error paths only (the happy path runs against a real llama.cpp server in
//! tests/real_model.rs). Raw tokio TCP: one request per connection, `Connection: close`.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub(crate) enum Reply {
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Bytes written as they are, then the connection is closed.
    Raw(Vec<u8>),
    /// Accept, read the request, never answer.
    Hang,
    /// Wait, then answer.
    After(Duration, Box<Reply>),
}

impl Reply {
    pub(crate) fn status(status: u16, body: &str) -> Self {
        Self::Http {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    pub(crate) fn with_header(self, name: &str, value: &str) -> Self {
        match self {
            Self::Http {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.to_owned(), value.to_owned()));
                Self::Http {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }

    /// A 200 chat completion whose message is `content`.
    pub(crate) fn completion(content: &str, finish_reason: &str) -> Self {
        let body = json!({
            "id": "stub", "object": "chat.completion", "model": "stub",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
        });
        Self::status(200, &body.to_string())
    }
}

/// Headers and JSON body of one received request.
type Recorded = (Vec<(String, String)>, Value);

type Script = dyn Fn(usize, &Value) -> Reply + Send + Sync;

pub(crate) struct Stub {
    pub(crate) port: u16,
    requests: Arc<Mutex<Vec<Recorded>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stub {
    /// Serves `script(n, request_body)` for the n-th request (from 0).
    pub(crate) async fn start(
        script: impl Fn(usize, &Value) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let script: Arc<Script> = Arc::new(script);
        let counter = Arc::new(AtomicUsize::new(0));
        let (r, i, m) = (requests.clone(), in_flight.clone(), max_in_flight.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (script, counter, r, i, m) = (
                    script.clone(),
                    counter.clone(),
                    r.clone(),
                    i.clone(),
                    m.clone(),
                );
                tokio::spawn(async move {
                    serve(stream, &*script, &counter, &r, &i, &m).await;
                });
            }
        });
        Self {
            port,
            requests,
            in_flight,
            max_in_flight,
            task,
        }
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// Request bodies received so far, in arrival order.
    pub(crate) fn bodies(&self) -> Vec<Value> {
        self.requests
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }

    pub(crate) fn headers(&self, n: usize) -> Vec<(String, String)> {
        self.requests.lock().expect("lock")[n].0.clone()
    }

    pub(crate) fn count(&self) -> usize {
        self.requests.lock().expect("lock").len()
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn serve(
    mut stream: TcpStream,
    script: &Script,
    counter: &AtomicUsize,
    requests: &Mutex<Vec<Recorded>>,
    in_flight: &AtomicUsize,
    max_in_flight: &AtomicUsize,
) {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let header_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        match stream.read(&mut tmp).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + len {
        match stream.read(&mut tmp).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
    let body: Value =
        serde_json::from_slice(&buf[header_end..header_end + len]).unwrap_or(Value::Null);
    let n = counter.fetch_add(1, Ordering::SeqCst);
    requests.lock().expect("lock").push((headers, body.clone()));
    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    max_in_flight.fetch_max(now, Ordering::SeqCst);
    let mut reply = script(n, &body);
    loop {
        match reply {
            Reply::After(d, next) => {
                tokio::time::sleep(d).await;
                reply = *next;
            }
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            Reply::Raw(bytes) => {
                let _ = stream.write_all(&bytes).await;
                break;
            }
            Reply::Http {
                status,
                headers,
                body,
            } => {
                let mut out = format!(
                    "HTTP/1.1 {status} Stub\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                out.push_str(&body);
                let _ = stream.write_all(out.as_bytes()).await;
                break;
            }
        }
    }
    in_flight.fetch_sub(1, Ordering::SeqCst);
    let _ = stream.shutdown().await;
}
