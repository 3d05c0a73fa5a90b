//! API errors: `{"error": {"code", "message"}}` with the right status. crawl4ai's client
//! reads a top-level `detail`, so the message is there too.
//!
//! The leaf of the crate: every other module may use it, it uses none of them.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A JSON request body, or why it could not be read (turned into an [`ApiError`]).
pub(crate) type Body<T> = Result<Json<T>, JsonRejection>;

/// An error answer.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// Seconds a client should wait before retrying (503, 429).
    pub(crate) retry_after: Option<u64>,
    /// The class of a refused address (`forbidden_address`).
    pub(crate) address_class: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            address_class: None,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// The address guard refused a URL: 403 `forbidden_address`, naming the class.
    pub(crate) fn forbidden_address(class: String, message: impl Into<String>) -> Self {
        Self {
            address_class: Some(class),
            ..Self::new(StatusCode::FORBIDDEN, "forbidden_address", message)
        }
    }

    pub(crate) fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub(crate) fn internal(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, code, message)
    }

    pub(crate) fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    pub(crate) fn busy(message: impl Into<String>, retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
        }
    }
}

/// The body of every error answer (also the `Error` schema of `/openapi.json`).
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct ErrorBody {
    pub(crate) error: ErrorDetail,
    /// The message again, where crawl4ai's client looks for it.
    pub(crate) detail: String,
    /// Always false.
    pub(crate) success: bool,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct ErrorDetail {
    /// Machine-readable: bad_request, bad_json, unauthorized, not_found, body_too_large,
    /// rate_limited, page_failed, forbidden_address, busy, …
    pub(crate) code: String,
    /// What went wrong, for people.
    pub(crate) message: String,
    /// With `forbidden_address`: the class of the refused address (private, loopback,
    /// link-local, cloud-metadata, shared-address-space, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) address_class: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
                address_class: self.address_class,
            },
            detail: self.message,
            success: false,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// A JSON body that failed to parse is a 400 with serde's message (line and column).
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        let status = e.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "body_too_large"
        } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            "unsupported_media_type"
        } else {
            "bad_json"
        };
        ApiError::new(status, code, e.body_text())
    }
}

/// Why the server could not start: the crate's public error, one variant per kind, so a
/// caller (the CLI) can tell the user's mistake from the machine's refusal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The settings are unsafe or inconsistent: the user's to fix.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listen address could not be bound (port in use, no permission, not an address
    /// of this machine).
    #[error("cannot listen on {addr}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The job store in the data directory could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] gannet_fetch::FetchError),
    /// The MCP session over stdio failed (its handshake, or the transport).
    #[error("MCP over stdio failed")]
    Mcp(#[source] std::io::Error),
}

/// A setting that is refused, with the reason (names the key or the flag).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub(crate) String);

impl ConfigError {
    /// The reason, for people.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl From<String> for ConfigError {
    fn from(message: String) -> Self {
        Self(message)
    }
}

impl From<&str> for ConfigError {
    fn from(message: &str) -> Self {
        Self(message.to_owned())
    }
}

/// The job store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {}", path.display())]
    CreateDir {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// SQLite could not open or prepare the job database.
    #[error("cannot open the job store {}", path.display())]
    Open {
        path: std::path::PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The cluster's Redis (`--redis`) did not answer at start.
    #[error("cannot reach the job store at {url}: {message}")]
    Redis { url: String, message: String },
}
