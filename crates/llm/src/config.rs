//! Where the client talks to and how far it may go: read from the environment (gannet's
//! own names first, then the anchors' names), never from a request body.

use std::time::Duration;

use url::Url;

use crate::error::LlmError;

/// The settings of an [`LlmClient`](crate::LlmClient). Build one with
/// [`LlmConfig::from_env`], or [`LlmConfig::new`] and adjust the public fields.
#[derive(Clone)]
pub struct LlmConfig {
    /// Base URL of the OpenAI-compatible API, up to and including its version segment
    /// (`https://api.openai.com/v1`, `http://127.0.0.1:8080/v1`); the client posts to
    /// `{base_url}/chat/completions`.
    pub base_url: Url,
    /// Model name sent in every request.
    pub model: String,
    /// Bearer token, if the server wants one.
    pub api_key: Option<String>,
    /// `max_tokens` of every request (always sent: an unbounded answer is never asked for).
    pub max_tokens: u32,
    /// Sampling temperature (0 = greedy, reproducible on llama.cpp).
    pub temperature: f32,
    /// Wall-clock limit for one whole call (`extract`, `answer`, `summarize`), retries,
    /// back-off sleeps and every chunk included.
    pub total_timeout: Duration,
    /// Input budget of one chunk, in estimated tokens (see [`estimate_tokens`](crate::estimate_tokens)).
    pub chunk_tokens: usize,
    /// Tokens of the previous chunk repeated at the start of the next one.
    pub overlap_tokens: usize,
    /// Most chunks of one call in flight at once.
    pub per_request_concurrency: usize,
    /// Most requests in flight at once over every call of this client (and its clones).
    pub global_concurrency: usize,
    /// Retries of one request after a 429, a 5xx or a refused connection (so at most
    /// `max_retries + 1` attempts).
    pub max_retries: u32,
    /// A `Retry-After` longer than this is not waited for: the call fails with
    /// [`LlmError::RateLimited`] at once.
    pub max_retry_after: Duration,
    /// First back-off when the server gives no `Retry-After`; doubled per attempt.
    pub backoff_base: Duration,
    /// Largest response body read from the server.
    pub max_response_bytes: usize,
}

impl std::fmt::Debug for LlmConfig {
    // Hand-written: the API key never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url.as_str())
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("max_tokens", &self.max_tokens)
            .field("total_timeout", &self.total_timeout)
            .field("chunk_tokens", &self.chunk_tokens)
            .field("overlap_tokens", &self.overlap_tokens)
            .field("per_request_concurrency", &self.per_request_concurrency)
            .field("global_concurrency", &self.global_concurrency)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

/// The environment variables read for the base URL, first match wins.
pub const BASE_URL_VARS: &[&str] = &["GANNET_LLM_BASE_URL", "LLM_BASE_URL", "OPENAI_BASE_URL"];
/// The environment variables read for the model, first match wins (`LLM_PROVIDER` is
/// crawl4ai's `provider/model` form and is read last).
pub const MODEL_VARS: &[&str] = &["GANNET_LLM_MODEL", "MODEL_NAME"];
/// The environment variables read for the API key, first match wins.
pub const API_KEY_VARS: &[&str] = &["GANNET_LLM_API_KEY", "OPENAI_API_KEY", "LLM_API_KEY"];

impl LlmConfig {
    /// A configuration with gannet's defaults around the three settings that have none.
    pub fn new(base_url: Url, model: impl Into<String>, api_key: Option<String>) -> Self {
        Self {
            base_url,
            model: model.into(),
            api_key,
            max_tokens: 1024,
            temperature: 0.0,
            total_timeout: Duration::from_secs(120),
            chunk_tokens: 3000,
            overlap_tokens: 150,
            per_request_concurrency: 4,
            global_concurrency: 16,
            max_retries: 3,
            max_retry_after: Duration::from_secs(60),
            backoff_base: Duration::from_millis(500),
            max_response_bytes: 4 << 20,
        }
    }

    /// Reads the process environment; see [`LlmConfig::from_lookup`].
    pub fn from_env() -> Result<Self, LlmError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `get` (an environment lookup):
    ///
    /// - base URL: `GANNET_LLM_BASE_URL`, `LLM_BASE_URL`, `OPENAI_BASE_URL`; else, when
    ///   `LLM_PROVIDER` names `openai/…` (crawl4ai's form), OpenAI's public URL;
    /// - model: `GANNET_LLM_MODEL`, `MODEL_NAME`, else the part after `/` in `LLM_PROVIDER`;
    /// - API key: `GANNET_LLM_API_KEY`, `OPENAI_API_KEY`, `LLM_API_KEY` (optional: local
    ///   servers want none);
    /// - limits: `GANNET_LLM_MAX_TOKENS`, `GANNET_LLM_TIMEOUT_SECS`, `GANNET_LLM_CHUNK_TOKENS`,
    ///   `GANNET_LLM_CONCURRENCY` (global cap).
    ///
    /// A missing base URL or model is [`LlmError::NotConfigured`], naming what to set.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, LlmError> {
        let first = |names: &[&str]| {
            names.iter().find_map(|n| {
                get(n)
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
            })
        };
        let provider = get("LLM_PROVIDER")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        let (provider_name, provider_model) = match provider.as_deref() {
            Some(p) => match p.split_once('/') {
                Some((name, model)) => (Some(name.to_owned()), Some(model.to_owned())),
                None => (Some(p.to_owned()), None),
            },
            None => (None, None),
        };
        let base = match first(BASE_URL_VARS) {
            Some(b) => b,
            None if provider_name.as_deref() == Some("openai") => {
                "https://api.openai.com/v1".to_owned()
            }
            None => {
                return Err(LlmError::NotConfigured {
                    missing: "GANNET_LLM_BASE_URL (or OPENAI_BASE_URL / LLM_BASE_URL)",
                });
            }
        };
        let base_url = parse_base_url(&base)?;
        let Some(model) = first(MODEL_VARS).or(provider_model.filter(|m| !m.is_empty())) else {
            return Err(LlmError::NotConfigured {
                missing: "GANNET_LLM_MODEL (or MODEL_NAME / LLM_PROVIDER=provider/model)",
            });
        };
        let mut cfg = Self::new(base_url, model, first(API_KEY_VARS));
        if let Some(v) = number(&get, "GANNET_LLM_MAX_TOKENS")? {
            cfg.max_tokens = u32::try_from(v).unwrap_or(u32::MAX).max(1);
        }
        if let Some(v) = number(&get, "GANNET_LLM_TIMEOUT_SECS")? {
            cfg.total_timeout = Duration::from_secs(v.max(1));
        }
        if let Some(v) = number(&get, "GANNET_LLM_CHUNK_TOKENS")? {
            cfg.chunk_tokens = usize::try_from(v).unwrap_or(usize::MAX).max(64);
        }
        if let Some(v) = number(&get, "GANNET_LLM_CONCURRENCY")? {
            cfg.global_concurrency = usize::try_from(v).unwrap_or(usize::MAX).max(1);
        }
        Ok(cfg)
    }
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<u64>, LlmError> {
    match get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    {
        None => Ok(None),
        Some(v) => v
            .parse::<u64>()
            .map(Some)
            .map_err(|_| LlmError::InvalidConfig(format!("{name}={v:?} is not a whole number"))),
    }
}

/// Parses a base URL; only http and https, and a trailing `/chat/completions` (a common
/// paste) is taken off.
pub fn parse_base_url(s: &str) -> Result<Url, LlmError> {
    let trimmed = s.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/chat/completions").unwrap_or(trimmed);
    let url = Url::parse(trimmed)
        .map_err(|e| LlmError::InvalidConfig(format!("LLM base URL {s:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(LlmError::InvalidConfig(format!(
            "LLM base URL {s:?}: scheme must be http or https"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn nothing_set_names_the_base_url_then_the_model() {
        let e = LlmConfig::from_lookup(env(&[])).expect_err("unconfigured");
        assert!(
            e.to_string()
                .starts_with("LLM not configured: set GANNET_LLM_BASE_URL"),
            "{e}"
        );
        let e = LlmConfig::from_lookup(env(&[("GANNET_LLM_BASE_URL", "http://127.0.0.1:1/v1")]))
            .expect_err("no model");
        assert!(e.to_string().contains("set GANNET_LLM_MODEL"), "{e}");
    }

    #[test]
    fn gannet_names_win_over_the_anchors_names() {
        let cfg = LlmConfig::from_lookup(env(&[
            ("OPENAI_BASE_URL", "http://openai.invalid/v1"),
            (
                "GANNET_LLM_BASE_URL",
                "http://127.0.0.1:9/v1/chat/completions",
            ),
            ("MODEL_NAME", "m2"),
            ("GANNET_LLM_MODEL", "m1"),
            ("OPENAI_API_KEY", "k2"),
            ("GANNET_LLM_MAX_TOKENS", "77"),
        ]))
        .expect("configured");
        assert_eq!(cfg.base_url.as_str(), "http://127.0.0.1:9/v1");
        assert_eq!(
            (cfg.model.as_str(), cfg.api_key.as_deref()),
            ("m1", Some("k2"))
        );
        assert_eq!(cfg.max_tokens, 77);
        assert!(
            !format!("{cfg:?}").contains("k2"),
            "the key must not reach Debug"
        );
    }

    #[test]
    fn crawl4ai_provider_form_gives_model_and_openai_url() {
        let cfg = LlmConfig::from_lookup(env(&[("LLM_PROVIDER", "openai/gpt-4o-mini")]))
            .expect("configured");
        assert_eq!(cfg.base_url.as_str(), "https://api.openai.com/v1");
        assert_eq!(cfg.model, "gpt-4o-mini");
    }

    #[test]
    fn bad_values_are_typed_errors() {
        let e = LlmConfig::from_lookup(env(&[("LLM_BASE_URL", "ftp://x"), ("MODEL_NAME", "m")]))
            .expect_err("scheme");
        assert!(matches!(e, LlmError::InvalidConfig(_)), "{e}");
        let e = LlmConfig::from_lookup(env(&[
            ("LLM_BASE_URL", "http://x/v1"),
            ("MODEL_NAME", "m"),
            ("GANNET_LLM_TIMEOUT_SECS", "soon"),
        ]))
        .expect_err("number");
        assert!(e.to_string().contains("GANNET_LLM_TIMEOUT_SECS"), "{e}");
    }
}
