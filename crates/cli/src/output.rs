//! Output formats shared by `extract` and `scrape`: how a [`Document`] is printed.

use anyhow::Context;
use gannet_core::Document;
use serde::Serialize;

/// What to print for a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// GitHub-flavoured Markdown.
    Markdown,
    /// Plain text.
    Text,
    /// The cleaned HTML of the content.
    Html,
    /// One JSON object with metadata, Markdown, text, links and images.
    Json,
}

impl Format {
    /// File extension for `--out DIR` outputs.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Text => "txt",
            Format::Html => "html",
            Format::Json => "json",
        }
    }
}

/// How a page was rendered in the browser (JSON output only).
#[derive(Debug, Serialize)]
pub(crate) struct RenderInfo {
    pub(crate) rendered: bool,
    /// Why smart mode rendered it (absent when rendering was asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) render_reason: Option<String>,
    /// HTTP status of the document as the browser got it (0 when unknown).
    pub(crate) status: u16,
    /// Time in the browser: from getting a tab to having the DOM.
    pub(crate) render_ms: u64,
    /// The whole page: fetch or render, and extraction.
    pub(crate) elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) js_result: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) js_error: Option<String>,
}

/// A document plus what only the CLI knows about it.
#[derive(Serialize)]
struct JsonOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(flatten)]
    doc: &'a Document,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    render: Option<&'a RenderInfo>,
}

/// Render a document in a format. `html` is the cleaned content HTML for `Format::Html`;
/// `render` says how a browser produced the page (JSON only).
pub(crate) fn render(
    doc: &Document,
    html: Option<&str>,
    format: Format,
    file: Option<&str>,
    render: Option<&RenderInfo>,
) -> anyhow::Result<String> {
    Ok(match format {
        Format::Markdown => doc.markdown.clone(),
        Format::Text => doc.text.clone(),
        Format::Html => html.unwrap_or_default().to_string(),
        Format::Json => {
            serde_json::to_string(&JsonOut { file, doc, render }).context("serializing JSON")?
        }
    })
}

/// Ensure text ends with exactly one newline (empty stays empty).
pub(crate) fn with_newline(mut s: String) -> String {
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
