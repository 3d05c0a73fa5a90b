//! One chat completion over HTTP: bounded body, retries of 429/5xx/refused connections
//! with back-off honouring `Retry-After` (seconds or HTTP-date), within the call's deadline,
//! under the client's global concurrency cap.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::Usage;
use crate::config::LlmConfig;
use crate::error::LlmError;
use crate::wire::{ChatRequest, ChatResponse, ErrorBody, Message, ResponseFormat};

/// What the model said, and what it cost.
pub(crate) struct Completion {
    pub(crate) content: String,
    /// `length` when the model ran into `max_tokens`.
    pub(crate) finish_reason: Option<String>,
    pub(crate) usage: Usage,
}

impl Completion {
    pub(crate) fn cut_short(&self) -> bool {
        self.finish_reason.as_deref() == Some("length")
    }
}

pub(crate) struct Transport {
    pub(crate) cfg: LlmConfig,
    pub(crate) http: reqwest::Client,
    pub(crate) endpoint: String,
    pub(crate) global: Semaphore,
}

enum Attempt {
    Done(Completion),
    Fatal(LlmError),
    /// Worth another try: `status` 0 = the connection was refused.
    Retry {
        status: u16,
        retry_after: Option<Duration>,
        message: String,
    },
}

impl Transport {
    pub(crate) fn new(cfg: LlmConfig) -> Result<Self, LlmError> {
        // reqwest is built with `rustls-no-provider`: install ring (as gannet-fetch does).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("gannet-llm/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::InvalidConfig(format!("HTTP client: {}", chain(&e))))?;
        let endpoint = format!(
            "{}/chat/completions",
            cfg.base_url.as_str().trim_end_matches('/')
        );
        let global = Semaphore::new(cfg.global_concurrency.max(1));
        Ok(Self {
            cfg,
            http,
            endpoint,
            global,
        })
    }

    /// One chat completion, retried on 429/5xx/refused connection, never past `deadline`.
    pub(crate) async fn chat(
        &self,
        messages: &[Message],
        format: Option<ResponseFormat<'_>>,
        deadline: Instant,
    ) -> Result<Completion, LlmError> {
        let request = ChatRequest {
            model: &self.cfg.model,
            messages,
            max_tokens: self.cfg.max_tokens,
            temperature: self.cfg.temperature,
            stream: false,
            response_format: format,
        };
        let body = serde_json::to_vec(&request)
            .map_err(|e| LlmError::InvalidConfig(format!("request does not serialize: {e}")))?;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let outcome = {
                let _permit = self
                    .global
                    .acquire()
                    .await
                    .map_err(|_| LlmError::Transport("client closed".into()))?;
                debug!(endpoint = %self.endpoint, attempt, bytes = body.len(), "llm request");
                self.send_once(body.clone()).await
            };
            let (status, retry_after, message) = match outcome {
                Attempt::Done(c) => return Ok(c),
                Attempt::Fatal(e) => return Err(e),
                Attempt::Retry {
                    status,
                    retry_after,
                    message,
                } => (status, retry_after, message),
            };
            let give_up = || match status {
                429 => LlmError::RateLimited {
                    attempts: attempt,
                    retry_after,
                },
                0 => LlmError::Transport(message.clone()),
                s => LlmError::ServerError {
                    status: s,
                    attempts: attempt,
                },
            };
            if attempt > self.cfg.max_retries {
                return Err(give_up());
            }
            let wait = match retry_after {
                Some(ra) if ra > self.cfg.max_retry_after => {
                    warn!(
                        status,
                        retry_after_s = ra.as_secs(),
                        "llm Retry-After beyond the cap; giving up"
                    );
                    return Err(give_up());
                }
                Some(ra) => ra,
                None => backoff(self.cfg.backoff_base, attempt).min(self.cfg.max_retry_after),
            };
            if Instant::now() + wait >= deadline {
                warn!(
                    status,
                    wait_ms = wait.as_millis() as u64,
                    "llm retry would pass the deadline; giving up"
                );
                return Err(give_up());
            }
            warn!(status, attempt, wait_ms = wait.as_millis() as u64, %message, "llm request failed; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    async fn send_once(&self, body: Vec<u8>) -> Attempt {
        let mut req = self
            .http
            .post(&self.endpoint)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(key) = &self.cfg.api_key {
            req = req.bearer_auth(key);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                return Attempt::Retry {
                    status: 0,
                    retry_after: None,
                    message: chain(&e),
                };
            }
            Err(e) => return Attempt::Fatal(LlmError::Transport(chain(&e))),
        };
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
            || status.is_server_error()
        {
            let retry_after = retry_after(resp.headers(), SystemTime::now());
            let text = read_capped(resp, 2048).await.unwrap_or_default();
            return Attempt::Retry {
                status: status.as_u16(),
                retry_after,
                message: error_message(&text),
            };
        }
        if !status.is_success() {
            let text = read_capped(resp, 4096).await.unwrap_or_default();
            return Attempt::Fatal(LlmError::Rejected {
                status: status.as_u16(),
                message: error_message(&text),
            });
        }
        let limit = self.cfg.max_response_bytes;
        let bytes = match read_limited(resp, limit).await {
            Ok(b) => b,
            Err(e) => return Attempt::Fatal(e),
        };
        match parse_completion(&bytes) {
            Ok(c) => Attempt::Done(c),
            Err(e) => Attempt::Fatal(e),
        }
    }
}

fn parse_completion(bytes: &[u8]) -> Result<Completion, LlmError> {
    let parsed: ChatResponse = serde_json::from_slice(bytes)
        .map_err(|e| LlmError::MalformedResponse(format!("not a chat completion: {e}")))?;
    let usage = Usage {
        prompt_tokens: parsed.usage.as_ref().map_or(0, |u| u.prompt_tokens),
        completion_tokens: parsed.usage.as_ref().map_or(0, |u| u.completion_tokens),
        requests: 1,
    };
    let Some(choice) = parsed.choices.into_iter().next() else {
        return Err(LlmError::MalformedResponse("no choices".into()));
    };
    if let Some(refusal) = choice.message.refusal.filter(|r| !r.is_empty()) {
        return Err(LlmError::Refused(refusal));
    }
    Ok(Completion {
        content: choice.message.content.unwrap_or_default(),
        finish_reason: choice.finish_reason,
        usage,
    })
}

/// The body, failing with [`LlmError::ResponseTooLarge`] past `limit` bytes (checked
/// against Content-Length first, then while streaming).
async fn read_limited(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, LlmError> {
    let declared = resp
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(LlmError::ResponseTooLarge { limit });
    }
    let mut buf = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| LlmError::Transport(format!("reading the answer: {}", chain(&e))))?
    {
        if buf.len() + chunk.len() > limit {
            return Err(LlmError::ResponseTooLarge { limit });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// Up to `limit` bytes of an error body, as text (for messages only).
async fn read_capped(mut resp: reqwest::Response, limit: usize) -> Option<String> {
    let mut buf = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let take = chunk.len().min(limit - buf.len());
        buf.extend_from_slice(&chunk[..take]);
        if buf.len() >= limit {
            break;
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// The `error.message` of an OpenAI-style error body, else the body itself, shortened.
fn error_message(text: &str) -> String {
    let msg = serde_json::from_str::<ErrorBody>(text)
        .map(|b| b.error.message)
        .unwrap_or_else(|_| text.trim().to_owned());
    shorten(&msg, 500)
}

pub(crate) fn shorten(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// `Retry-After` as a wait from `now`: delta-seconds or an HTTP-date (a date in the past
/// is a wait of zero). Unparseable values are ignored.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `base * 2^(attempt-1)`, saturating.
fn backoff(base: Duration, attempt: u32) -> Duration {
    base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
}

/// An error and its sources on one line (reqwest hides the useful part in the sources).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(v).expect("header"));
        h
    }

    #[test]
    fn retry_after_seconds_and_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00 GMT
        assert_eq!(
            retry_after(&headers("7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:00:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_doubles_and_saturates() {
        let b = Duration::from_millis(100);
        assert_eq!(backoff(b, 1), Duration::from_millis(100));
        assert_eq!(backoff(b, 3), Duration::from_millis(400));
        assert!(backoff(b, 1000) >= Duration::from_secs(6000));
    }

    #[test]
    fn completion_parsing_is_typed() {
        let ok = br#"{"choices":[{"message":{"content":"{}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#;
        let c = parse_completion(ok).expect("parses");
        assert_eq!(
            (
                c.content.as_str(),
                c.usage.prompt_tokens,
                c.usage.completion_tokens
            ),
            ("{}", 5, 2)
        );
        assert!(matches!(
            parse_completion(b"{\"choices\":[]}"),
            Err(LlmError::MalformedResponse(_))
        ));
        assert!(matches!(
            parse_completion(b"<html>"),
            Err(LlmError::MalformedResponse(_))
        ));
        let refusal = br#"{"choices":[{"message":{"content":null,"refusal":"no"}}]}"#;
        assert!(matches!(
            parse_completion(refusal),
            Err(LlmError::Refused(_))
        ));
    }
}
