//! Shared types of gannet: what an extracted page looks like ([`Document`]) and the
//! [`Link`]s and [`Image`]s found in it.
//!
//! This crate does no I/O and has almost no dependencies, so that third-party fetchers,
//! frontiers and sinks can depend on it alone.

#![deny(missing_docs)]

use serde::{Deserialize, Serialize};

/// One page after extraction: metadata, main content as Markdown and plain text, and the
/// page's links and images with absolute URLs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// The page's URL (after redirects), if known.
    pub url: Option<String>,
    /// The headline: the page's real title, with site-name suffixes removed.
    pub title: Option<String>,
    /// The author line, e.g. "Jane Doe".
    pub byline: Option<String>,
    /// A short summary: the page's description, or the first paragraph of the content.
    pub excerpt: Option<String>,
    /// The site's name, e.g. "The Guardian".
    pub site_name: Option<String>,
    /// Publication time as given by the page (ISO 8601 where the page uses it).
    pub published_time: Option<String>,
    /// Language of the page (`<html lang>` or metadata), e.g. `en-GB`.
    pub lang: Option<String>,
    /// Text direction, `ltr` or `rtl`, when the page says.
    pub dir: Option<String>,
    /// Main content (or the whole page in raw mode) as GitHub-flavoured Markdown.
    pub markdown: String,
    /// The same content as plain text.
    pub text: String,
    /// Every link of the page, in document order, with absolute `href`s.
    pub links: Vec<Link>,
    /// Images of the main content (or of the whole page in raw mode).
    pub images: Vec<Image>,
    /// Number of words of `text`.
    pub word_count: usize,
    /// What kind of page this is, as extraction judged it (`None` for records without
    /// an extracted page, such as a 304 revisit).
    #[serde(default)]
    pub page_type: Option<PageType>,
    /// Structured data a schema extracted from the page (`gannet crawl --schema`): the
    /// list of items. Absent when none was asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extracted: Option<serde_json::Value>,
    /// What an LLM extraction cost (`gannet crawl --extract`): `prompt_tokens`,
    /// `completion_tokens`, `total_tokens`, `requests`, `chunks`, `truncated`. Absent
    /// when no LLM was called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<serde_json::Value>,
}

/// What kind of page a document is: extraction draws the content's boundary by it (an
/// article drops its comments and teaser lists, a forum thread keeps every post), and
/// users filter crawls by it. Serialized in lowercase (`"article"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageType {
    /// One text: a news story, a blog post, an essay, a recipe.
    Article,
    /// A discussion: a forum thread, a Q&A page, a post with its replies as content.
    Forum,
    /// A list of items that link elsewhere: a category, a search result, a news index.
    Listing,
    /// One product for sale.
    Product,
    /// Technical documentation: a manual page, an API reference.
    Documentation,
    /// A site's own page about what it offers: a landing, service or company page.
    Service,
    /// None of the above, or not enough to tell.
    #[default]
    Other,
}

impl PageType {
    /// The lowercase name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            PageType::Article => "article",
            PageType::Forum => "forum",
            PageType::Listing => "listing",
            PageType::Product => "product",
            PageType::Documentation => "documentation",
            PageType::Service => "service",
            PageType::Other => "other",
        }
    }
}

/// A hyperlink found in a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Absolute URL the link points to.
    pub href: String,
    /// The link's visible text, whitespace-normalized.
    pub text: String,
    /// The `rel` attribute, if any (e.g. `nofollow`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
    /// Whether the link stays on the page's host.
    pub internal: bool,
}

/// An image found in a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Absolute URL of the image.
    pub src: String,
    /// Its alternative text.
    pub alt: String,
}
