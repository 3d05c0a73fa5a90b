//! A crawl's extraction as text: the crawl4ai schema file's text (`--schema`, with its
//! `--schema-type`), or the LLM prompt (`--extract`) with its JSON Schema's text
//! (`--json-schema`). A local crawl reads it from the files; a distributed crawl stores it
//! with its flags in Redis, so every worker that joins compiles the same schema and sends
//! the same prompt. The texts are kept as written: a JSON Schema's property order steers
//! a small model and llama.cpp's grammar, and a crawl4ai schema's field order is its
//! items' key order.

use crate::UsageError;
use crate::schema_opt::{Extractor, SchemaArgs, SchemaType};
use anyhow::Context;
use std::io::Read;
use std::path::Path;

/// Most bytes of a schema (crawl4ai schema or JSON Schema) stored with a distributed crawl.
pub(crate) const MAX_STORED_SCHEMA_BYTES: u64 = 64 * 1024;
/// Most bytes of an `--extract` prompt stored with a distributed crawl.
pub(crate) const MAX_STORED_PROMPT_BYTES: usize = 16 * 1024;

/// What a crawl extracts from every page, as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExtractionSpec {
    /// `--schema`: a crawl4ai schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) schema: Option<SchemaSpec>,
    /// `--extract`: the LLM step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) llm: Option<LlmSpec>,
}

/// A crawl4ai schema file's text and the strategy that reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SchemaSpec {
    /// `css`, `xpath` or `regex` (`--schema-type`).
    pub(crate) kind: String,
    /// The file's text, as written.
    pub(crate) text: String,
}

/// The LLM step: the prompt and, optionally, the JSON Schema's text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LlmSpec {
    pub(crate) prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) json_schema: Option<String>,
}

impl ExtractionSpec {
    /// Reads the flags' files. `stored`: the spec goes into Redis with a distributed crawl,
    /// so each text is bounded ([`MAX_STORED_SCHEMA_BYTES`], [`MAX_STORED_PROMPT_BYTES`])
    /// and a larger one is a usage error naming the flag and the limit.
    pub(crate) fn read(
        schema: &SchemaArgs,
        extract: Option<&str>,
        json_schema: Option<&Path>,
        stored: bool,
    ) -> anyhow::Result<ExtractionSpec> {
        let limit = stored.then_some(MAX_STORED_SCHEMA_BYTES);
        let schema = match &schema.schema {
            Some(path) => Some(SchemaSpec {
                kind: schema_kind_name(schema.schema_type).to_owned(),
                text: read_text("--schema", path, limit)?,
            }),
            None => None,
        };
        let llm = match extract {
            Some(prompt) => {
                if stored && prompt.len() > MAX_STORED_PROMPT_BYTES {
                    return Err(UsageError(format!(
                        "--extract: the prompt is {} bytes; a distributed crawl stores it in \
                         Redis for every worker, at most {MAX_STORED_PROMPT_BYTES} bytes",
                        prompt.len()
                    ))
                    .into());
                }
                Some(LlmSpec {
                    prompt: prompt.to_owned(),
                    json_schema: match json_schema {
                        Some(path) => Some(read_text("--json-schema", path, limit)?),
                        None => None,
                    },
                })
            }
            None => None,
        };
        Ok(ExtractionSpec { schema, llm })
    }

    /// Whether every text is within what a distributed crawl stores (a spec read back from
    /// Redis is checked again: the store is not trusted more than a flag).
    pub(crate) fn within_stored_bounds(&self) -> bool {
        let schema_ok = |t: &str| t.len() as u64 <= MAX_STORED_SCHEMA_BYTES;
        self.schema.as_ref().is_none_or(|s| schema_ok(&s.text))
            && self.llm.as_ref().is_none_or(|l| {
                l.prompt.len() <= MAX_STORED_PROMPT_BYTES
                    && l.json_schema.as_deref().is_none_or(schema_ok)
            })
    }

    /// Whether anything is extracted.
    pub(crate) fn is_empty(&self) -> bool {
        self.schema.is_none() && self.llm.is_none()
    }

    /// The compiled crawl4ai schema, if any (a bad one is a usage error naming why).
    pub(crate) fn schema_strategy(&self) -> anyhow::Result<Option<gannet_schema::Strategy>> {
        let Some(spec) = &self.schema else {
            return Ok(None);
        };
        let kind = <SchemaType as clap::ValueEnum>::from_str(&spec.kind, true)
            .map_err(|_| UsageError(format!("unknown schema type {:?}", spec.kind)))?;
        Ok(Some(
            Extractor::from_text(&spec.text, kind, "--schema")?.into_strategy(),
        ))
    }

    /// The LLM step, if any: the client from this machine's environment (a missing setting
    /// is a usage error naming it) and the instruction with the schema's text as written.
    pub(crate) fn llm(&self) -> anyhow::Result<Option<gannet_crawl::CrawlLlm>> {
        let Some(spec) = &self.llm else {
            return Ok(None);
        };
        let (client, instruction) = crate::scrape_cmd::llm_extraction_text(
            &spec.prompt,
            spec.json_schema.as_deref().map(|t| (t, "--json-schema")),
        )
        .context("--extract needs an LLM on this machine")?;
        Ok(Some(gannet_crawl::CrawlLlm {
            client,
            instruction,
        }))
    }
}

/// The `--schema-type` value's name as the flag spells it.
fn schema_kind_name(kind: SchemaType) -> &'static str {
    match kind {
        SchemaType::Css => "css",
        SchemaType::Xpath => "xpath",
        SchemaType::Regex => "regex",
    }
}

/// A flag's file as text, at most `limit` bytes when given (else a usage error).
fn read_text(flag: &str, path: &Path, limit: Option<u64>) -> anyhow::Result<String> {
    let file =
        std::fs::File::open(path).with_context(|| format!("reading {flag} {}", path.display()))?;
    let mut text = String::new();
    match limit {
        Some(limit) => {
            file.take(limit + 1)
                .read_to_string(&mut text)
                .with_context(|| format!("reading {flag} {}", path.display()))?;
            if text.len() as u64 > limit {
                return Err(UsageError(format!(
                    "{flag} {}: over {limit} bytes; a distributed crawl stores it in Redis \
                     for every worker, at most {limit} bytes",
                    path.display()
                ))
                .into());
            }
        }
        None => {
            let mut file = file;
            file.read_to_string(&mut text)
                .with_context(|| format!("reading {flag} {}", path.display()))?;
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_round_trips_through_json_with_its_texts_as_written() {
        let spec = ExtractionSpec {
            schema: Some(SchemaSpec {
                kind: "xpath".into(),
                text: "{\"name\": \"x\",\n \"baseSelector\": \"//p\", \"fields\": []}".into(),
            }),
            llm: None,
        };
        let json = serde_json::to_string(&spec).expect("json");
        assert_eq!(
            serde_json::from_str::<ExtractionSpec>(&json).expect("back"),
            spec
        );
        assert!(
            spec.schema_strategy().expect("compiles").is_some(),
            "an xpath schema"
        );
        assert!(ExtractionSpec::default().is_empty());
        assert!(spec.within_stored_bounds());
        let huge = ExtractionSpec {
            schema: None,
            llm: Some(LlmSpec {
                prompt: "x".repeat(MAX_STORED_PROMPT_BYTES + 1),
                json_schema: None,
            }),
        };
        assert!(!huge.within_stored_bounds());
        // A field this version does not know is refused, not ignored.
        assert!(serde_json::from_str::<ExtractionSpec>(r#"{"later": 1}"#).is_err());
    }
}
