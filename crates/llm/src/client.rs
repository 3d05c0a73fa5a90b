//! The calls a page service makes: structured extraction (a JSON schema, or crawl4ai's
//! block mode), question answering over a page, and a page summary.

use std::sync::Arc;

use futures_util::future::try_join_all;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::chat::{Completion, Transport, shorten};
use crate::chunk::chunk_markdown;
use crate::config::LlmConfig;
use crate::error::LlmError;
use crate::merge::merge_into;
use crate::wire::{JsonSchemaFormat, Message, ResponseFormat};

/// Tokens spent by one call, summed over its chunks, retries that got an answer, and
/// repairs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Chat completions answered (chunks + repairs + map/reduce steps).
    pub requests: u32,
}

impl Usage {
    pub fn total_tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }

    fn add(&mut self, other: Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.requests += other.requests;
    }
}

/// What to extract: a prompt and, optionally, the JSON schema the answer must match.
/// Without a schema, the answer is crawl4ai's "blocks" ([`block_schema`]).
#[derive(Debug, Clone, Default)]
pub struct Instruction {
    pub prompt: String,
    pub schema: Option<Value>,
    /// OpenAI's `strict` flag (its strict mode accepts only a subset of JSON Schema, so it
    /// is off for callers' schemas unless asked; the output is validated here either way).
    pub strict: bool,
    /// The schema as the caller wrote it: sent as is, so that its property order (which
    /// steers a small model, and llama.cpp's grammar) survives `serde_json`'s sorted maps.
    schema_text: Option<String>,
}

impl Instruction {
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            schema: None,
            strict: false,
            schema_text: None,
        }
    }

    /// A schema as a value (its properties are sent in `serde_json`'s key order, sorted;
    /// prefer [`Instruction::with_schema_json`] when the order matters).
    pub fn with_schema(mut self, schema: Value) -> Self {
        self.schema = Some(schema);
        self.schema_text = None;
        self
    }

    /// The schema's text as it will be sent, when it was given as text
    /// ([`Instruction::with_schema_json`]).
    pub fn schema_text(&self) -> Option<&str> {
        self.schema_text.as_deref()
    }

    /// A schema from its JSON text, kept as written (property order included).
    pub fn with_schema_json(mut self, text: &str) -> Result<Self, LlmError> {
        let schema: Value = serde_json::from_str(text)
            .map_err(|e| LlmError::InvalidSchema(format!("not JSON: {e}")))?;
        self.schema = Some(schema);
        self.schema_text = Some(text.trim().to_owned());
        Ok(self)
    }
}

/// The value extracted from a page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extraction {
    /// The merged value; in block mode, the list of blocks `{index, tags, content}`.
    pub value: Value,
    pub usage: Usage,
    /// Chunks sent.
    pub chunks: usize,
    /// True when the page had more chunks than `max_chunks` and the rest was not read.
    pub truncated: bool,
}

/// A free-text answer (question answering, summary).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextAnswer {
    pub text: String,
    pub usage: Usage,
    pub chunks: usize,
    pub truncated: bool,
}

/// Longest block `content`, in characters (a bound in the schema: llama.cpp's grammar and
/// the validator both hold the model to it).
const BLOCK_CONTENT_CHARS: usize = 200;
/// Most tags per block, and longest tag.
const BLOCK_TAGS: usize = 3;
const BLOCK_TAG_CHARS: usize = 24;
/// Most blocks one chunk's answer holds.
const MAX_BLOCKS: usize = 8;
/// Completion tokens one block may take at most (content, tags, and the whitespace a JSON
/// grammar lets a model write between tokens; 135 measured with SmolLM2 at the bounds).
const TOKENS_PER_BLOCK: usize = 160;
/// Characters of page per block (a short page gets few blocks).
const CHARS_PER_BLOCK: usize = 100;

/// The fixed schema of crawl4ai's block mode, `{blocks: [{index, tags, content}]}` in this
/// order, bounded so that a whole answer fits in `max_tokens`: without bounds a small model
/// loops inside one `content` string until `max_tokens` (the answer is then cut, invalid,
/// and its repair runs to `max_tokens` again). At most [`MAX_BLOCKS`] blocks, fewer for a
/// short chunk (one per [`CHARS_PER_BLOCK`] characters) or a small `max_tokens` (one per
/// [`TOKENS_PER_BLOCK`]); contents of at most [`BLOCK_CONTENT_CHARS`] characters.
fn block_schema_text(chunk_chars: usize, max_tokens: u32) -> String {
    let by_page = chunk_chars.div_ceil(CHARS_PER_BLOCK);
    let by_budget = max_tokens as usize / TOKENS_PER_BLOCK;
    let blocks = by_page.min(by_budget).clamp(1, MAX_BLOCKS);
    format!(
        r#"{{"type":"object","properties":{{"blocks":{{"type":"array","items":{{"type":"object","properties":{{"index":{{"type":"integer","minimum":0,"maximum":999}},"tags":{{"type":"array","items":{{"type":"string","maxLength":{BLOCK_TAG_CHARS}}},"maxItems":{BLOCK_TAGS}}},"content":{{"type":"string","maxLength":{BLOCK_CONTENT_CHARS}}}}},"required":["index","tags","content"],"additionalProperties":false}},"maxItems":{blocks}}}}},"required":["blocks"],"additionalProperties":false}}"#
    )
}

/// The fixed schema of crawl4ai's block mode, `{blocks: [{index, tags, content}]}`, at its
/// largest bounds (a call sends fewer blocks for a short page or a small `max_tokens`).
pub fn block_schema() -> Value {
    serde_json::from_str(&block_schema_text(usize::MAX / 2, u32::MAX)).unwrap_or(Value::Null)
}

const EXTRACT_SYSTEM: &str = "You extract information from a web page. Reply with one JSON value that matches the JSON schema, using only facts from the page. Use null or an empty list when the page does not say.";
const BLOCKS_PROMPT: &str = "Split the page content into semantically coherent blocks. For each block give its index (from 0), a few topic tags, and its content.";
const NOT_FOUND: &str = "NOT FOUND";

/// Most chunks one call sends (more are dropped and reported as `truncated`).
const MAX_CHUNKS: usize = 64;

/// An OpenAI-compatible chat-completions client. Cheap to clone; clones share the
/// connection pool and the global concurrency cap.
#[derive(Clone)]
pub struct LlmClient {
    inner: Arc<Transport>,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("cfg", &self.inner.cfg)
            .finish()
    }
}

impl LlmClient {
    /// A client configured from the environment ([`LlmConfig::from_lookup`] names the
    /// variables); [`LlmError::NotConfigured`] says which one to set.
    pub fn from_env() -> Result<Self, LlmError> {
        Self::new(LlmConfig::from_env()?)
    }

    pub fn new(cfg: LlmConfig) -> Result<Self, LlmError> {
        Ok(Self {
            inner: Arc::new(Transport::new(cfg)?),
        })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.inner.cfg
    }

    /// Extracts from a page's Markdown what `instruction` asks, in the shape of its schema
    /// (or as blocks). The page is chunked by headings; every chunk's answer is validated
    /// against the schema (one repair request on failure), then the answers are merged.
    pub async fn extract(
        &self,
        markdown: &str,
        instruction: Instruction,
    ) -> Result<Extraction, LlmError> {
        let started = Instant::now();
        let deadline = started + self.inner.cfg.total_timeout;
        let block_mode = instruction.schema.is_none();
        let (chunks, truncated) = self.chunks(markdown);
        let n = chunks.len();
        let (schema, schema_text, strict) = match instruction.schema {
            Some(s) => {
                let text = match instruction.schema_text {
                    Some(t) => t,
                    None => serde_json::to_string(&s)
                        .map_err(|e| LlmError::InvalidSchema(e.to_string()))?,
                };
                (s, text, instruction.strict)
            }
            None => {
                let longest = chunks.iter().map(|c| c.chars().count()).max().unwrap_or(0);
                let text = block_schema_text(longest, self.inner.cfg.max_tokens);
                let schema = serde_json::from_str(&text)
                    .map_err(|e| LlmError::InvalidSchema(e.to_string()))?;
                (schema, text, true)
            }
        };
        let validator = jsonschema::validator_for(&schema)
            .map_err(|e| LlmError::InvalidSchema(e.to_string()))?;
        let prompt = if instruction.prompt.trim().is_empty() {
            if block_mode {
                BLOCKS_PROMPT.to_owned()
            } else {
                "Extract the data described by the JSON schema.".to_owned()
            }
        } else {
            instruction.prompt
        };
        let schema_raw = serde_json::value::RawValue::from_string(schema_text.clone())
            .map_err(|e| LlmError::InvalidSchema(e.to_string()))?;
        let format = ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: if block_mode { "blocks" } else { "extraction" },
                schema: &schema_raw,
                strict,
            },
        };
        let per_request = Semaphore::new(self.inner.cfg.per_request_concurrency.max(1));
        let calls = chunks.iter().enumerate().map(|(i, chunk)| {
            let per_request = &per_request;
            let user = extract_prompt(&prompt, &schema_text, chunk, i, n);
            let validator = &validator;
            async move {
                let _permit = per_request
                    .acquire()
                    .await
                    .map_err(|_| LlmError::Transport("closed".into()))?;
                self.structured(user, format, validator, deadline).await
            }
        });
        let results = self.bounded(deadline, try_join_all(calls)).await?;
        let mut usage = Usage::default();
        let mut value = Value::Null;
        for (v, u) in results {
            usage.add(u);
            merge_into(&mut value, v);
        }
        if block_mode {
            value = renumber_blocks(value);
        }
        info!(
            chunks = n,
            truncated,
            prompt_tokens = usage.prompt_tokens,
            completion_tokens = usage.completion_tokens,
            requests = usage.requests,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "llm extraction done"
        );
        Ok(Extraction {
            value,
            usage,
            chunks: n,
            truncated,
        })
    }

    /// Answers `question` from the page (crawl4ai's `GET /llm/{url}?q=`). A page of several
    /// chunks is asked chunk by chunk, then the partial answers are combined.
    pub async fn answer(&self, markdown: &str, question: &str) -> Result<TextAnswer, LlmError> {
        let map = format!(
            "Answer the question using only the web page content. If the content does not contain the answer, reply exactly {NOT_FOUND}."
        );
        let reduce = format!(
            "These are partial answers to one question, each from a part of the same web page. Combine them into one answer to the question.\n\nQuestion: {question}"
        );
        let ask = format!("\n\nQuestion: {question}");
        self.text_task(markdown, &map, &ask, &reduce).await
    }

    /// A short summary of the page (Firecrawl's `summary` format). Long pages are
    /// summarized chunk by chunk, then the summaries are summarized.
    pub async fn summarize(&self, markdown: &str) -> Result<TextAnswer, LlmError> {
        self.text_task(
            markdown,
            "Summarize the web page content in a few sentences.",
            "",
            "These are summaries of consecutive parts of one web page. Write one summary of the whole page in a few sentences.",
        )
        .await
    }

    async fn text_task(
        &self,
        markdown: &str,
        map_task: &str,
        after_page: &str,
        reduce_task: &str,
    ) -> Result<TextAnswer, LlmError> {
        let deadline = Instant::now() + self.inner.cfg.total_timeout;
        let (chunks, truncated) = self.chunks(markdown);
        let n = chunks.len();
        let per_request = Semaphore::new(self.inner.cfg.per_request_concurrency.max(1));
        let calls = chunks.iter().map(|chunk| {
            let per_request = &per_request;
            let messages = vec![
                Message::system(map_task.to_owned()),
                Message::user(format!(
                    "Web page content:\n<page>\n{chunk}\n</page>{after_page}"
                )),
            ];
            async move {
                let _permit = per_request
                    .acquire()
                    .await
                    .map_err(|_| LlmError::Transport("closed".into()))?;
                self.inner.chat(&messages, None, deadline).await
            }
        });
        let parts: Vec<Completion> = self.bounded(deadline, try_join_all(calls)).await?;
        let mut usage = Usage::default();
        for p in &parts {
            usage.add(p.usage);
        }
        let texts: Vec<String> = parts
            .into_iter()
            .map(|p| p.content.trim().to_owned())
            .collect();
        let text = if n == 1 {
            texts.into_iter().next().unwrap_or_default()
        } else {
            let found: Vec<&String> = texts.iter().filter(|t| t.as_str() != NOT_FOUND).collect();
            if found.is_empty() {
                NOT_FOUND.to_owned()
            } else if found.len() == 1 {
                found[0].clone()
            } else {
                let joined = found
                    .iter()
                    .enumerate()
                    .map(|(i, t)| format!("Part {}: {t}", i + 1))
                    .collect::<Vec<_>>()
                    .join("\n\n");
                let messages = vec![
                    Message::system(reduce_task.to_owned()),
                    Message::user(joined),
                ];
                let c = self
                    .bounded(deadline, self.inner.chat(&messages, None, deadline))
                    .await?;
                usage.add(c.usage);
                c.content.trim().to_owned()
            }
        };
        Ok(TextAnswer {
            text,
            usage,
            chunks: n,
            truncated,
        })
    }

    /// One chunk's structured answer: validated, repaired once, else a typed error.
    async fn structured(
        &self,
        user: String,
        format: ResponseFormat<'_>,
        validator: &jsonschema::Validator,
        deadline: Instant,
    ) -> Result<(Value, Usage), LlmError> {
        let mut messages = vec![Message::system(EXTRACT_SYSTEM), Message::user(user)];
        let first = self.inner.chat(&messages, Some(format), deadline).await?;
        let mut usage = first.usage;
        let problem = match check_output(&first.content, validator) {
            Ok(v) => return Ok((v, usage)),
            Err(error) if first.cut_short() => {
                // Cut at max_tokens: a repair has the same budget and would be cut again
                // (doubling the time spent); the budget is the problem, said as such.
                return Err(LlmError::Truncated {
                    max_tokens: self.inner.cfg.max_tokens,
                    error,
                });
            }
            Err(problem) => problem,
        };
        warn!(error = %problem, cut_short = first.cut_short(), "llm output invalid; asking for a repair");
        messages.push(Message::assistant(shorten(&first.content, 4000)));
        messages.push(Message::user(format!(
            "That reply is not valid: {problem}. Reply again with only the complete JSON value matching the schema."
        )));
        let second = self.inner.chat(&messages, Some(format), deadline).await?;
        usage.add(second.usage);
        match check_output(&second.content, validator) {
            Ok(v) => Ok((v, usage)),
            Err(error) if second.cut_short() => Err(LlmError::Truncated {
                max_tokens: self.inner.cfg.max_tokens,
                error,
            }),
            Err(error) => Err(LlmError::InvalidOutput {
                error,
                output: shorten(&second.content, 300),
            }),
        }
    }

    fn chunks(&self, markdown: &str) -> (Vec<String>, bool) {
        let cfg = &self.inner.cfg;
        let mut chunks = chunk_markdown(markdown, cfg.chunk_tokens, cfg.overlap_tokens);
        let truncated = chunks.len() > MAX_CHUNKS;
        chunks.truncate(MAX_CHUNKS);
        (chunks, truncated)
    }

    async fn bounded<T>(
        &self,
        deadline: Instant,
        fut: impl Future<Output = Result<T, LlmError>>,
    ) -> Result<T, LlmError> {
        tokio::time::timeout_at(deadline, fut)
            .await
            .map_err(|_| LlmError::Timeout(self.inner.cfg.total_timeout))?
    }
}

fn extract_prompt(prompt: &str, schema: &str, chunk: &str, i: usize, n: usize) -> String {
    let part = if n > 1 {
        format!(" (part {} of {n})", i + 1)
    } else {
        String::new()
    };
    format!(
        "{prompt}\n\nJSON schema: {schema}\n\nWeb page content{part}:\n<page>\n{chunk}\n</page>"
    )
}

/// The model's text as a JSON value that matches the schema, or what is wrong with it.
/// A Markdown code fence around the JSON is tolerated.
fn check_output(content: &str, validator: &jsonschema::Validator) -> Result<Value, String> {
    let mut text = content.trim();
    if let Some(rest) = text.strip_prefix("```") {
        let rest = rest.strip_prefix("json").unwrap_or(rest);
        text = rest.trim().strip_suffix("```").unwrap_or(rest).trim();
    }
    if text.is_empty() {
        return Err("the reply is empty".into());
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("the reply is not valid JSON ({e})"))?;
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .take(5)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("at {at}: {}", shorten(&e.to_string(), 200))
        })
        .collect();
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(format!("schema violation: {}", errors.join("; ")))
    }
}

/// Block mode's value: the list of blocks, indexed 0.. in page order.
fn renumber_blocks(value: Value) -> Value {
    let blocks = match value {
        Value::Object(mut o) => o.remove("blocks").unwrap_or(Value::Array(Vec::new())),
        _ => Value::Array(Vec::new()),
    };
    match blocks {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, mut b)| {
                    if let Some(o) = b.as_object_mut() {
                        o.insert("index".into(), json!(i));
                    }
                    b
                })
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_output_reports_parse_and_schema_errors() {
        let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]});
        let v = jsonschema::validator_for(&schema).expect("schema");
        assert_eq!(
            check_output("```json\n{\"name\": \"x\"}\n```", &v),
            Ok(json!({"name": "x"}))
        );
        let e = check_output("{\"name\": 5}", &v).expect_err("wrong type");
        assert!(e.contains("at /name"), "{e}");
        let e = check_output("{\"name\": \"x", &v).expect_err("truncated");
        assert!(e.contains("not valid JSON"), "{e}");
        assert!(check_output("  ", &v).is_err());
    }

    #[test]
    fn the_block_schema_is_bounded_by_the_page_and_the_token_budget() {
        let max_items = |chunk: usize, tokens: u32| {
            let s: Value = serde_json::from_str(&block_schema_text(chunk, tokens)).expect("json");
            s["properties"]["blocks"]["maxItems"]
                .as_u64()
                .expect("bounded")
        };
        assert_eq!(
            max_items(330, 1024),
            4,
            "a short page: one block per 100 chars"
        );
        assert_eq!(
            max_items(330, 512),
            3,
            "a small budget: one block per 160 tokens"
        );
        assert_eq!(max_items(50_000, 8192), 8, "never more than 8");
        assert_eq!(max_items(0, 16), 1, "always room for one");
        let text = block_schema_text(330, 1024);
        // Sent in crawl4ai's order, every string bounded.
        let (i, t, c) = (
            text.find("\"index\"").expect("index"),
            text.find("\"tags\"").expect("tags"),
            text.find("\"content\"").expect("content"),
        );
        assert!(i < t && t < c, "{text}");
        let schema = block_schema();
        let item = &schema["properties"]["blocks"]["items"]["properties"];
        assert_eq!(item["content"]["maxLength"], 200);
        assert_eq!(item["tags"]["maxItems"], 3);
        assert_eq!(item["tags"]["items"]["maxLength"], 24);
        assert!(jsonschema::validator_for(&schema).is_ok());
    }

    #[test]
    fn blocks_are_renumbered_in_page_order() {
        let v = json!({"blocks": [{"index": 3, "tags": [], "content": "a"}, {"index": 0, "tags": [], "content": "b"}]});
        assert_eq!(
            renumber_blocks(v),
            json!([{"index": 0, "tags": [], "content": "a"}, {"index": 1, "tags": [], "content": "b"}])
        );
    }
}
