//! Structured extraction in the page service, once for every face: a crawl4ai schema or
//! regex strategy ([`gannet_schema`], on the page's one parse), or an LLM call
//! ([`gannet_llm`], on the page's Markdown) that fills a JSON schema, answers a question
//! or summarizes.

use std::sync::Arc;

use gannet_llm::{Instruction, LlmClient, LlmError, Usage};
use serde_json::Value;

/// What a request wants extracted from a page, beside its Markdown.
#[derive(Debug, Clone)]
pub enum Extraction {
    /// A crawl4ai schema (CSS, XPath) or regex strategy: deterministic, on the parsed page.
    Schema(Arc<gannet_schema::Strategy>),
    /// The configured LLM fills the instruction's JSON schema (or crawl4ai's blocks).
    Llm {
        instruction: Instruction,
        input: LlmInput,
    },
    /// The configured LLM answers a question about the page (a string value).
    Answer { question: String, input: LlmInput },
}

impl Extraction {
    /// Whether it calls the LLM.
    pub fn uses_llm(&self) -> bool {
        !matches!(self, Extraction::Schema(_))
    }

    fn llm_input(&self) -> Option<LlmInput> {
        match self {
            Extraction::Schema(_) => None,
            Extraction::Llm { input, .. } | Extraction::Answer { input, .. } => Some(*input),
        }
    }
}

/// What text of the page the LLM reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LlmInput {
    /// The main content's Markdown (crawl4ai's `fit_markdown`, Firecrawl's default).
    #[default]
    MainMarkdown,
    /// The whole page's Markdown (crawl4ai's `markdown`).
    PageMarkdown,
    /// The cleaned HTML of the main content (crawl4ai's `html`, `cleaned_html`).
    Html,
}

/// An extracted value and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// A schema's items (a list), the LLM's value, or an answer (a string).
    pub value: Value,
    /// Tokens spent, when an LLM was called.
    pub usage: Option<Usage>,
    /// Chunks of the page the LLM read (0 without an LLM).
    pub chunks: usize,
    /// The page had more chunks than the LLM client reads.
    pub truncated: bool,
}

/// Why an extraction gave no value; the page itself is fine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExtractionError {
    /// The schema could not be applied to this page.
    #[error("schema extraction failed: {0}")]
    Schema(String),
    /// No LLM is configured on this server or command line.
    #[error("{0}")]
    NotConfigured(String),
    /// The LLM call failed (`transient`: retrying later may work).
    #[error("{message}")]
    Llm { message: String, transient: bool },
}

impl ExtractionError {
    /// A machine-readable name: `schema_failed`, `llm_not_configured`, `llm_unavailable`
    /// (transient), `llm_failed`.
    pub fn code(&self) -> &'static str {
        match self {
            ExtractionError::Schema(_) => "schema_failed",
            ExtractionError::NotConfigured(_) => "llm_not_configured",
            ExtractionError::Llm {
                transient: true, ..
            } => "llm_unavailable",
            ExtractionError::Llm { .. } => "llm_failed",
        }
    }

    pub(crate) fn of_llm(e: &LlmError) -> Self {
        match e {
            LlmError::NotConfigured { .. } => ExtractionError::NotConfigured(e.to_string()),
            _ => ExtractionError::Llm {
                message: e.to_string(),
                transient: e.is_transient(),
            },
        }
    }
}

/// Runs a crawl4ai JSON schema (CSS, XPath) on the DOM as parsed.
pub(crate) fn run_json(
    schema: &gannet_schema::Schema,
    dom: &gannet_extract::Dom,
) -> Result<Extracted, ExtractionError> {
    let items = schema
        .extract(dom)
        .map_err(|e| ExtractionError::Schema(e.to_string()))?;
    Ok(plain(Value::Array(items)))
}

/// Runs a regex strategy on the text its `input_format` names.
pub(crate) fn run_regex(
    strategy: &gannet_schema::RegexStrategy,
    url: &str,
    text: &str,
) -> Extracted {
    plain(Value::Array(strategy.extract(url, text)))
}

fn plain(value: Value) -> Extracted {
    Extracted {
        value,
        usage: None,
        chunks: 0,
        truncated: false,
    }
}

/// Which view of the page a regex strategy's `input_format` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RegexInput {
    /// `html`: the page source.
    Source,
    /// `markdown`, `raw_markdown`: the whole page's Markdown.
    PageMarkdown,
    /// `cleaned_html`: the whole page, cleaned.
    PageHtml,
    /// `fit_markdown`: the main content's Markdown.
    MainMarkdown,
    /// `text`: the main content's text.
    MainText,
    /// `fit_html` (crawl4ai's default) and anything else: the main content's HTML.
    MainHtml,
}

impl RegexInput {
    pub(crate) fn of(input_format: &str) -> Self {
        match input_format {
            "html" => RegexInput::Source,
            "markdown" | "raw_markdown" => RegexInput::PageMarkdown,
            "cleaned_html" => RegexInput::PageHtml,
            "fit_markdown" => RegexInput::MainMarkdown,
            "text" => RegexInput::MainText,
            _ => RegexInput::MainHtml,
        }
    }
}

/// The text of a page an LLM call reads.
pub(crate) fn llm_text(extraction: Option<&Extraction>, summary: bool) -> Option<LlmInput> {
    extraction
        .and_then(Extraction::llm_input)
        .or(summary.then_some(LlmInput::MainMarkdown))
}

/// The main content's Markdown as an LLM reads it: the main content leaves the title out
/// (it is metadata), so it comes first as the page's heading. The page service and the
/// crawl worker (`gannet crawl --extract`) send the same text.
pub(crate) fn titled_markdown(doc: &gannet_core::Document) -> String {
    match &doc.title {
        Some(title) if !doc.markdown.trim_start().starts_with("# ") => {
            format!("# {title}\n\n{}", doc.markdown)
        }
        _ => doc.markdown.clone(),
    }
}

/// Runs an LLM extraction on `text`.
pub(crate) async fn run_llm(
    client: Result<&LlmClient, &str>,
    extraction: &Extraction,
    text: &str,
) -> Result<Extracted, ExtractionError> {
    let client = client.map_err(|why| ExtractionError::NotConfigured(why.to_owned()))?;
    match extraction {
        Extraction::Schema(_) => Err(ExtractionError::Schema(
            "a schema runs with the page's extraction".into(),
        )),
        Extraction::Llm { instruction, .. } => client
            .extract(text, instruction.clone())
            .await
            .map(|out| Extracted {
                value: out.value,
                usage: Some(out.usage),
                chunks: out.chunks,
                truncated: out.truncated,
            })
            .map_err(|e| ExtractionError::of_llm(&e)),
        Extraction::Answer { question, .. } => client
            .answer(text, question)
            .await
            .map(|out| Extracted {
                value: Value::String(out.text),
                usage: Some(out.usage),
                chunks: out.chunks,
                truncated: out.truncated,
            })
            .map_err(|e| ExtractionError::of_llm(&e)),
    }
}

/// A summary of `text`.
pub(crate) async fn run_summary(
    client: Result<&LlmClient, &str>,
    text: &str,
) -> Result<Extracted, ExtractionError> {
    let client = client.map_err(|why| ExtractionError::NotConfigured(why.to_owned()))?;
    client
        .summarize(text)
        .await
        .map(|out| Extracted {
            value: Value::String(out.text),
            usage: Some(out.usage),
            chunks: out.chunks,
            truncated: out.truncated,
        })
        .map_err(|e| ExtractionError::of_llm(&e))
}
