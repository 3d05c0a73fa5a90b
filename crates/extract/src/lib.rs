//! gannet-extract: HTML bytes to a [`gannet_core::Document`].
//!
//! Pure: `extract(bytes, url, options)` does no I/O.

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
    Document {
        url: url.map(|u| u.to_string()),
        text: text.into_owned(),
        ..Document::default()
    }
}
