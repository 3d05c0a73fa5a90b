//! gannet's LLM extraction: an OpenAI-compatible chat-completions client that is bounded
//! and honest.
//!
//! - configuration from the environment only ([`LlmConfig::from_env`]; a request body never
//!   names a base URL or key), with a typed "not configured: set X" error;
//! - structured output through `response_format: {type: "json_schema", ...}`, every answer
//!   validated against the schema (`jsonschema`), one repair request carrying the
//!   validation error, then a typed error; without a schema, crawl4ai's block mode with a
//!   fixed schema ([`block_schema`]);
//! - the page's Markdown chunked at headings under a token budget with overlap
//!   ([`chunk_markdown`]), chunks sent concurrently under a per-call and a global cap, the
//!   answers merged (arrays concatenated, objects field by field);
//! - `max_tokens` always set, one total timeout per call, 429/5xx retried with back-off
//!   honouring `Retry-After` (seconds and HTTP-date, capped), response bodies capped;
//! - tokens reported ([`Usage`]), summed over chunks, retries and repairs.
//!
//! ```no_run
//! # async fn demo(markdown: &str) -> Result<(), gannet_llm::LlmError> {
//! use gannet_llm::{Instruction, LlmClient};
//! let client = LlmClient::from_env()?;
//! let schema = serde_json::json!({"type": "object", "properties": {"price": {"type": "string"}}});
//! let out = client.extract(markdown, Instruction::new("The product's price").with_schema(schema)).await?;
//! println!("{} ({} tokens)", out.value, out.usage.total_tokens());
//! # Ok(()) }
//! ```

mod chat;
mod chunk;
mod client;
mod config;
mod error;
mod merge;
mod wire;

pub use chunk::{chunk_markdown, estimate_tokens};
pub use client::{Extraction, Instruction, LlmClient, TextAnswer, Usage, block_schema};
pub use config::{API_KEY_VARS, BASE_URL_VARS, LlmConfig, MODEL_VARS, parse_base_url};
pub use error::LlmError;
pub use merge::merge_into;
