//! Structured extraction as the dialects ask for it: crawl4ai's `extraction_strategy`
//! and Firecrawl's `json` format become the page service's [`Extraction`]; its value or
//! error goes back in their shapes.

use std::sync::Arc;

use axum::http::StatusCode;
use gannet_crawl::page::{Extracted, Extraction, ExtractionError, LlmInput, PageRequest};
use serde_json::{Map, Value, json};

use super::PageService;
use crate::error::ApiError;

/// A serialized `{"type": "dict", "value": {...}}` or plain value.
fn plain(v: &Value) -> &Value {
    match v {
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("dict") => {
            o.get("value").unwrap_or(v)
        }
        _ => v,
    }
}

/// A bad schema: 400 `bad_schema`, the message naming the field.
pub(crate) fn bad_schema(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_schema",
        format!("{what}: {e}"),
    )
}

/// crawl4ai's `extraction_strategy` (`{type, params}`): a schema or regex strategy, or
/// `LLMExtractionStrategy`. Options we do not honour are added to `unsupported`; a
/// pre-0.9 `llm_config` with credentials is accepted and its credentials ignored (a
/// request never points the server's LLM client anywhere).
pub(crate) fn crawl4ai_strategy(
    value: &Value,
    unsupported: &mut Vec<String>,
) -> Result<Option<Extraction>, ApiError> {
    const WHAT: &str = "crawler_config.extraction_strategy";
    // crawl4ai's client wraps every dict, nested ones too.
    let value = &super::body::undict_value(value);
    if value.is_null() {
        return Ok(None);
    }
    let Some(name) = value.get("type").and_then(Value::as_str) else {
        return Err(bad_schema(WHAT, "needs `type` (the strategy's class name)"));
    };
    let params = plain(value.get("params").unwrap_or(&Value::Null));
    let empty = Map::new();
    let p = params.as_object().unwrap_or(&empty);
    if name == "LLMExtractionStrategy" {
        return llm_strategy(p, unsupported).map(Some);
    }
    match gannet_schema::Strategy::from_crawl4ai(name, params) {
        Some(Ok(strategy)) => Ok(Some(Extraction::Schema(Arc::new(strategy)))),
        Some(Err(e)) => Err(bad_schema(WHAT, e)),
        None => {
            unsupported.push(format!("{WHAT}={name}"));
            Ok(None)
        }
    }
}

fn llm_strategy(
    p: &Map<String, Value>,
    unsupported: &mut Vec<String>,
) -> Result<Extraction, ApiError> {
    const WHAT: &str = "crawler_config.extraction_strategy";
    let get = |k: &str| p.get(k).map(plain).filter(|v| !v.is_null());
    let prompt = get("instruction")
        .and_then(Value::as_str)
        .unwrap_or("Extract the relevant information from the page.");
    // crawl4ai's client leaves `extraction_type` out of what it sends (it serializes the
    // attribute `extract_type`): a schema means schema mode unless "block" is explicit.
    let mode =
        get("extraction_type")
            .and_then(Value::as_str)
            .unwrap_or(if get("schema").is_some() {
                "schema"
            } else {
                "block"
            });
    let mut instruction = gannet_llm::Instruction::new(prompt);
    if mode == "schema" {
        let Some(schema) = get("schema") else {
            return Err(bad_schema(
                WHAT,
                "extraction_type \"schema\" needs `schema`",
            ));
        };
        if !schema.is_object() {
            return Err(bad_schema(
                &format!("{WHAT}.params.schema"),
                "must be a JSON Schema object",
            ));
        }
        instruction = instruction.with_schema(schema.clone());
    }
    let input = match get("input_format").and_then(Value::as_str) {
        None | Some("markdown") => LlmInput::PageMarkdown,
        Some("fit_markdown") => LlmInput::MainMarkdown,
        Some("html" | "cleaned_html" | "fit_html") => LlmInput::Html,
        Some(other) => {
            unsupported.push(format!("{WHAT}.input_format={other}"));
            LlmInput::PageMarkdown
        }
    };
    if let Some(config) = get("llm_config") {
        let config = plain(config.get("params").unwrap_or(config));
        for (k, v) in config.as_object().into_iter().flatten() {
            if plain(v).is_null() {
                continue;
            }
            unsupported.push(format!(
                "{WHAT}.llm_config.{k} (ignored: the server's LLM settings apply)"
            ));
        }
    }
    for k in p.keys() {
        match k.as_str() {
            "instruction" | "extraction_type" | "schema" | "input_format" | "llm_config" => {}
            // Chunking and output handling are the server's; these ask for what it does.
            "chunk_token_threshold"
            | "overlap_rate"
            | "word_token_rate"
            | "apply_chunking"
            | "verbose"
            | "force_json_response"
            | "extra_args"
            | "provider"
            | "api_token"
            | "base_url" => {
                if matches!(k.as_str(), "provider" | "api_token" | "base_url") && get(k).is_some() {
                    unsupported.push(format!(
                        "{WHAT}.{k} (ignored: the server's LLM settings apply)"
                    ));
                }
            }
            other => unsupported.push(format!("{WHAT}.{other}")),
        }
    }
    Ok(Extraction::Llm { instruction, input })
}

/// Sends an LLM schema as the caller wrote it: the text at `path` of the request body
/// replaces the parsed schema (whose property order `serde_json` sorted).
pub(crate) fn keep_schema_order(req: &mut PageRequest, body: &[u8], path: &[&str]) {
    let Some(Extraction::Llm { instruction, .. }) = &mut req.extraction else {
        return;
    };
    if instruction.schema.is_none() {
        return;
    }
    if let Some(text) = super::body::raw_at(body, path)
        && let Ok(kept) = instruction.clone().with_schema_json(&text)
    {
        *instruction = kept;
    }
}

/// The text of an `extraction_strategy`'s schema as the client wrote it (in a
/// `{type, params}` CrawlerRunConfig or a bare one), kept for a job's runner.
pub(crate) fn strategy_schema_text(body: &[u8]) -> Option<String> {
    const STRATEGY: [&str; 3] = ["extraction_strategy", "params", "schema"];
    let wrapped = [&["crawler_config", "params"][..], &STRATEGY[..]].concat();
    let bare = [&["crawler_config"][..], &STRATEGY[..]].concat();
    super::body::raw_at(body, &wrapped).or_else(|| super::body::raw_at(body, &bare))
}

/// [`keep_schema_order`] with the schema's text at hand (a stored job's): used when it
/// is the same schema as the parsed one, else the parsed one stays.
pub(crate) fn keep_schema_text(req: &mut PageRequest, text: &str) {
    let Some(Extraction::Llm { instruction, .. }) = &mut req.extraction else {
        return;
    };
    let Some(parsed) = &instruction.schema else {
        return;
    };
    if let Ok(kept) = instruction.clone().with_schema_json(text)
        && kept.schema.as_ref() == Some(parsed)
    {
        *instruction = kept;
    }
}

/// An LLM extraction asked of a server without an LLM: 400 `llm_not_configured`, naming
/// the setting to add.
pub(crate) fn check_llm(pages: &PageService, req: &PageRequest) -> Result<(), ApiError> {
    let wants_llm = req.summary || req.extraction.as_ref().is_some_and(Extraction::uses_llm);
    match pages.llm() {
        Err(why) if wants_llm => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "llm_not_configured",
            why.to_string(),
        )),
        _ => Ok(()),
    }
}

/// An extraction's failure as an answer: 502 `llm_failed`, 503 `llm_unavailable`
/// (transient), 422 `schema_failed`, 400 `llm_not_configured`.
pub(crate) fn extraction_api_error(e: &ExtractionError) -> ApiError {
    let status = match e {
        ExtractionError::Schema(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ExtractionError::NotConfigured(_) => StatusCode::BAD_REQUEST,
        ExtractionError::Llm {
            transient: true, ..
        } => StatusCode::SERVICE_UNAVAILABLE,
        ExtractionError::Llm { .. } => StatusCode::BAD_GATEWAY,
    };
    ApiError::new(status, e.code(), e.to_string())
}

/// Tokens spent, in snake case (crawl4ai) or camel case (Firecrawl).
pub(crate) fn usage_json(e: &Extracted, camel: bool) -> Value {
    let Some(u) = e.usage else {
        return Value::Null;
    };
    if camel {
        json!({"promptTokens": u.prompt_tokens, "completionTokens": u.completion_tokens,
               "totalTokens": u.total_tokens(), "requests": u.requests})
    } else {
        json!({"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
               "total_tokens": u.total_tokens(), "requests": u.requests})
    }
}

/// An extraction's error as a value in an answer: `{code, message}`.
pub(crate) fn error_json(e: &ExtractionError) -> Value {
    json!({"code": e.code(), "message": e.to_string()})
}
