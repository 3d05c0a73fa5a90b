use std::time::Duration;

/// Everything that can go wrong between a page and its extracted value. Each variant says
/// what a caller can do about it (configure, retry later, change the schema, ...).
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// No LLM is configured: the message names the setting to add.
    #[error("LLM not configured: set {missing}")]
    NotConfigured { missing: &'static str },
    /// A setting is present but unusable.
    #[error("invalid LLM configuration: {0}")]
    InvalidConfig(String),
    /// The caller's JSON schema is not a valid JSON Schema.
    #[error("invalid JSON schema: {0}")]
    InvalidSchema(String),
    /// The server kept answering 429 (or asked for a wait longer than allowed).
    #[error("LLM server rate-limited the request after {attempts} attempt(s){}", retry_after_note(*.retry_after))]
    RateLimited {
        attempts: u32,
        retry_after: Option<Duration>,
    },
    /// The server kept failing with a 5xx status (or a refused connection: status 0).
    #[error("LLM server failed with status {status} after {attempts} attempt(s)")]
    ServerError { status: u16, attempts: u32 },
    /// The server refused the request with a status that retrying will not change
    /// (400 bad schema, 401 bad key, 404 unknown model, ...).
    #[error("LLM server answered {status}: {message}")]
    Rejected { status: u16, message: String },
    /// The connection failed or broke mid-answer.
    #[error("LLM transport error: {0}")]
    Transport(String),
    /// The whole call took longer than the configured total timeout.
    #[error("LLM call timed out after {0:?}")]
    Timeout(Duration),
    /// The server's answer was larger than the configured cap.
    #[error("LLM response larger than {limit} bytes")]
    ResponseTooLarge { limit: usize },
    /// The server's answer is not an OpenAI chat completion.
    #[error("malformed LLM response: {0}")]
    MalformedResponse(String),
    /// The model ran into `max_tokens` and its output, repaired once, is still cut short.
    #[error("LLM output truncated at max_tokens={max_tokens}: {error}")]
    Truncated { max_tokens: u32, error: String },
    /// The model's output, repaired once, still does not match the schema.
    #[error("LLM output does not match the schema after one repair: {error}")]
    InvalidOutput {
        /// The validation (or JSON parse) error of the last attempt.
        error: String,
        /// The start of the last output, for the logs.
        output: String,
    },
    /// The model refused to answer (OpenAI's `refusal` field).
    #[error("LLM refused: {0}")]
    Refused(String),
}

fn retry_after_note(d: Option<Duration>) -> String {
    match d {
        Some(d) => format!(" (Retry-After {}s)", d.as_secs()),
        None => String::new(),
    }
}

impl LlmError {
    /// Whether the same call may succeed later unchanged (rate limits, outages, timeouts).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::ServerError { .. }
                | Self::Transport(_)
                | Self::Timeout(_)
        )
    }
}
