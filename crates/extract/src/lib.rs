//! gannet-extract: HTML bytes to a [`gannet_core::Document`].
//!
//! Pure: `extract(bytes, url, options)` does no I/O. The pipeline is
//! decode ([`decode`]) → parse ([`Dom`]) → metadata ([`metadata`]) → main content
//! (`content`) → Markdown and text ([`markdown`]) + links and images ([`links`]).

mod content;
pub mod decode;
pub mod dom;
mod entities;
pub mod links;
pub mod markdown;
pub mod metadata;
mod parse;
pub mod serialize;
pub mod tag;

pub use dom::{Dom, NodeId};
pub use parse::MAX_DEPTH;
pub use tag::Tag;

use gannet_core::Document;
use url::Url;

/// How to extract.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Render the whole page instead of its main content.
    pub raw: bool,
    /// Charset named by the transport (HTTP `Content-Type`), if any.
    pub charset: Option<String>,
}

/// Extract a document from HTML bytes.
pub fn extract(html: &[u8], url: Option<&Url>, options: &Options) -> Document {
    let (text, _) = decode::decode_html(html, options.charset.as_deref());
    extract_str(&text, url, options)
}

/// Extract a document and also return the cleaned content as HTML.
pub fn extract_with_html(html: &[u8], url: Option<&Url>, options: &Options) -> (Document, String) {
    let (text, _) = decode::decode_html(html, options.charset.as_deref());
    run(&text, url, options, true)
}

/// Extract a document from HTML text.
pub fn extract_str(html: &str, url: Option<&Url>, options: &Options) -> Document {
    run(html, url, options, false).0
}

fn run(html: &str, url: Option<&Url>, options: &Options, want_html: bool) -> (Document, String) {
    let dom = Dom::parse(html);
    let title = dom
        .find_any(Tag::Title)
        .map(|t| dom.text_content(t).split_whitespace().collect::<Vec<_>>().join(" "));
    let (clean, root) = if options.raw {
        let root = dom.body().unwrap_or(dom.root());
        (dom, root)
    } else {
        let input = content::ContentInput {
            title: title.as_deref(),
            byline_nodes: &[],
        };
        content::extract_content(&dom, &input)
    };
    let text = quick_text(&clean, root);
    let html_out = if want_html { serialize::to_html(&clean, root) } else { String::new() };
    let doc = Document {
        url: url.map(|u| u.to_string()),
        title,
        word_count: text.split_whitespace().count(),
        markdown: text.clone(),
        text,
        ..Document::default()
    };
    (doc, html_out)
}

fn quick_text(dom: &Dom, root: NodeId) -> String {
    let mut out = String::new();
    for d in dom.descendants(root) {
        if let Some(t) = dom.text(d) {
            out.push_str(t);
        } else if dom.tag(d).is_some_and(|t| t.is_block() || t == Tag::Br) {
            out.push('\n');
        }
    }
    out
}
