//! What kind of page this is.

use super::*;

/// Path words of discussion pages.
pub(super) const DISCUSSION_PATH: WordSet = WordSet::new(&[
    "/forum",
    "/thread",
    "/t/",
    "/topic/",
    "/discussion",
    "/questions/",
    "/community/",
    "/boards/",
    "showthread",
    "viewtopic",
    "/comments/",
]);
/// Class words of discussion markup (on `html`, `body` or `article`/`main` elements).
pub(super) const DISCUSSION_CLASS: WordSet = WordSet::new(&[
    "forum",
    "thread",
    "topic",
    "discussion",
    "question",
    "bbpress",
    "phpbb",
]);

/// Whether the page is a discussion: replies there are content, not boilerplate.
pub(crate) fn is_discussion(dom: &Dom, url_path: Option<&str>) -> bool {
    if url_path.is_some_and(|p| DISCUSSION_PATH.in_str(p)) {
        return true;
    }
    dom.ids().take(20_000).any(|id| {
        matches!(
            dom.tag(id),
            Some(Tag::Html | Tag::Body | Tag::Article | Tag::Main)
        ) && {
            let (class, ident) = dom.class_and_id(id);
            DISCUSSION_CLASS.in_str(class) || DISCUSSION_CLASS.in_str(ident)
        }
    })
}

/// Class/id words of replies in discussions.
pub(super) const REPLY: WordSet = WordSet::new(&["comment", "repl", "answer"]);

/// Declared types (JSON-LD, microdata, `og:type`) of discussions.
const FORUM_TYPES: &[&str] = &["DiscussionForumPosting", "QAPage", "Question"];
/// Declared types of products for sale.
const PRODUCT_TYPES: &[&str] = &["Product", "ProductGroup", "IndividualProduct", "og:product"];
/// Declared types of technical documentation.
const DOC_TYPES: &[&str] = &["TechArticle", "APIReference"];
/// Declared types of collections.
const LISTING_TYPES: &[&str] = &["CollectionPage", "SearchResultsPage", "ItemList"];
/// Path words of documentation sites.
const DOC_PATH: WordSet = WordSet::new(&[
    "/docs/",
    "/doc/",
    "/documentation/",
    "/manual/",
    "/reference/",
    "/api/",
    "/guide/",
    "/guides/",
    "/tutorial/",
]);

/// What the decision reads: what the page declares and what extraction measured.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Signals<'a> {
    /// Declared types ([`crate::metadata::Metadata::types`]).
    pub(crate) types: &'a [String],
    /// The URL's path, when known.
    pub(crate) url_path: Option<&'a str>,
    /// The page gives a publication time.
    pub(crate) published: bool,
    /// The page is a discussion ([`is_discussion`]).
    pub(crate) forum: bool,
    /// The content chosen is a run of like items (cards).
    pub(crate) listing: bool,
    /// Visible characters of the content chosen.
    pub(crate) text: u32,
    /// Characters of prose in it (see `Agg::good`).
    pub(crate) good: u32,
    /// Characters inside links in it.
    pub(crate) link: u32,
    /// Code blocks (`pre`) in it.
    pub(crate) code_blocks: u32,
}

fn declared(types: &[String], names: &[&str]) -> bool {
    types.iter().any(|t| names.iter().any(|n| t == n))
}

/// Decide the page's type, with the reason (for `GANNET_DEBUG`). Declared types first
/// (a discussion, a product, an article, documentation, a collection), then the structure
/// extraction measured: a run of like items is a listing; code blocks or a documentation
/// path make documentation; a dated page of prose is an article; the rest of prose is a
/// site's own page (service).
pub(crate) fn decide(s: &Signals<'_>) -> (PageType, &'static str) {
    let article_declared = s
        .types
        .iter()
        .any(|t| t == "og:article" || crate::metadata::is_article_type(t));
    if s.forum || declared(s.types, FORUM_TYPES) {
        return (PageType::Forum, "discussion markup, path or declared type");
    }
    if declared(s.types, PRODUCT_TYPES) && !article_declared {
        return (PageType::Product, "declared product");
    }
    if declared(s.types, DOC_TYPES) {
        return (PageType::Documentation, "declared TechArticle/APIReference");
    }
    // Site software declares `Article` on every page; a run of like items that carries
    // the content, with little prose in it, says more.
    let links = if s.text == 0 {
        1.0
    } else {
        s.link as f32 / s.text as f32
    };
    let dated_prose = s.published && s.good >= 500 && links < 0.3;
    if s.listing && s.good * 2 < s.text {
        return (PageType::Listing, "a run of like items is the content");
    }
    if s.listing && !article_declared && !dated_prose {
        return (PageType::Listing, "a run of like items, undated");
    }
    if article_declared {
        return (PageType::Article, "declared article type");
    }
    if declared(s.types, LISTING_TYPES) {
        return (PageType::Listing, "declared collection");
    }
    if s.code_blocks >= 2 || s.url_path.is_some_and(|p| DOC_PATH.in_str(p)) {
        return (PageType::Documentation, "code blocks or documentation path");
    }
    if dated_prose {
        return (PageType::Article, "dated prose");
    }
    if s.good >= 300 && links < 0.5 {
        return (PageType::Service, "undated prose");
    }
    (PageType::Other, "little prose")
}
