//! Page metadata: title, byline, excerpt, site name, publication time, language,
//! direction, canonical URL and lead image.
//!
//! One linear scan over the arena ([`Dom::ids`]) collects everything: `<meta>`, `<link>`,
//! JSON-LD scripts, `<title>`, headings, `<time>`, microdata, and Readability's byline
//! candidate (its document walk, emulated in the scan by skipping the index range of a
//! pruned subtree). Field priorities follow Mozilla Readability (≥ 0.5), which the
//! project measures against, with extra sources appended after Readability's own:
//!
//! - **title**: JSON-LD article `name`/`headline` (the one closer to the `<title>` when they
//!   differ), `dc:title`, `dcterm:title`, `og:title`, `weibo:*:title`, `<meta name=title>`,
//!   `twitter:title`, `parsely-title`, then Readability's `<title>` heuristics
//!   (separators, colon, single `<h1>`).
//! - **byline**: JSON-LD authors, `dc:creator`, `dcterm:creator`, `author`,
//!   `parsely-author`, `article:author` (unless a URL), other author metas, then the DOM
//!   (`rel=author`, `itemprop~=author`, class/id `byline|author|dateline|writtenby|p-author`,
//!   text shorter than 100 characters; an `itemprop=name` inside wins).
//! - **excerpt**: JSON-LD `description`, `dc:description`, `og:description`,
//!   `description`, `twitter:description`.
//! - **site name**: JSON-LD `publisher.name`, `og:site_name`.
//! - **published time**: JSON-LD `datePublished`, `article:published_time`,
//!   `parsely-pub-date`, other date metas, `<time pubdate>` / `itemprop=datePublished`.
//!
//! Text is whitespace-normalized and trimmed; empty values are `None`. Strings from
//! JSON-LD and `<meta content>` get Readability's second, basic entity decoding (`&amp;`,
//! `&quot;`, `&#39;`, ...), since pages often escape them twice.

mod jsonld;
pub(crate) mod text;
mod title;

use crate::dom::{Dom, NodeId};
use crate::tag::Tag;
use std::collections::HashMap;
use text::{WordSet, clean, is_url, js_len, js_trim, text_similarity};
use url::Url;

/// Metadata of a page. Every field is trimmed, whitespace-normalized and non-empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    /// The article title.
    pub title: Option<String>,
    /// Author(s), as the page states them.
    pub byline: Option<String>,
    /// A short description (from metadata only; callers fall back to the first paragraph).
    pub excerpt: Option<String>,
    /// The site's name.
    pub site_name: Option<String>,
    /// Publication time, as given (usually ISO 8601).
    pub published_time: Option<String>,
    /// Language (`<html lang>`, else `Content-Language`).
    pub lang: Option<String>,
    /// Text direction (`<html dir>` or `<body dir>`).
    pub dir: Option<String>,
    /// Canonical URL (absolute when a page URL is known).
    pub canonical: Option<String>,
    /// Lead image URL (absolute when a page URL is known).
    pub image: Option<String>,
    /// The types the page declares, in document order, at most [`MAX_TYPES`]: JSON-LD
    /// `@type`s (`NewsArticle`, `Product`, `QAPage`), microdata `itemtype`s (last path
    /// segment) and `og:type` (as `og:article`). What the page-type decision reads first.
    pub types: Vec<String>,
}

/// Whether a declared type names an article (Readability's JSON-LD article types:
/// `Article`, `NewsArticle`, `BlogPosting`, `TechArticle`, ...).
pub(crate) fn is_article_type(t: &str) -> bool {
    jsonld::is_article_type_str(t)
}

/// At most this many declared types are kept per page.
pub const MAX_TYPES: usize = 24;

/// Nodes of the body that carry metadata rather than article text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetadataNodes {
    /// The element Readability takes the byline from (only when no metadata gives one:
    /// otherwise Readability leaves the element in the article, and so does this).
    pub byline: Option<NodeId>,
    /// The first `h1`/`h2` that repeats the title.
    pub title_heading: Option<NodeId>,
}

/// How [`Metadata::title`] is chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TitleStyle {
    /// As Mozilla Readability: the metadata title (JSON-LD, Dublin Core, OpenGraph, ...)
    /// verbatim, else the `<title>` heuristics. Site names in `og:title` stay.
    #[default]
    Readability,
    /// The page's own headline: a visible `<h1>` that matches the metadata title, else the
    /// metadata title with the site name (`og:site_name`, JSON-LD publisher or `WebSite`)
    /// cut off its start or end. Closer to what a reader sees as the title (and to the
    /// WCXB truth), further from Readability.
    Headline,
    /// `Readability` for pages that say they are articles (OpenGraph type, publication
    /// time, a JSON-LD author), `Headline` for the others.
    Auto,
}

/// Options of [`extract_metadata_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetadataOptions {
    /// How the title is chosen.
    pub title: TitleStyle,
}

/// Extract the page's metadata (Readability-compatible title).
pub fn extract_metadata(dom: &Dom, url: Option<&Url>) -> Metadata {
    analyze(dom, url, &MetadataOptions::default()).0
}

/// Extract the page's metadata with options.
pub fn extract_metadata_with(dom: &Dom, url: Option<&Url>, options: &MetadataOptions) -> Metadata {
    analyze(dom, url, options).0
}

/// Elements of the body that hold the byline / the headline, so that main-content
/// extraction can drop them from the article text (Readability removes the byline node and
/// a heading that repeats the title).
pub fn byline_nodes(dom: &Dom) -> Vec<NodeId> {
    let (_, nodes) = analyze(dom, None, &MetadataOptions::default());
    nodes
        .byline
        .into_iter()
        .chain(nodes.title_heading)
        .collect()
}

/// Whether `heading` (an `h1`..`h6`) repeats `title`: its words are (almost) all words of
/// the title (Readability's similarity > 0.75), or their normalized texts are equal, or
/// one is a prefix/suffix of the other at a separator (a title with the site name cut off).
pub fn is_title_heading(dom: &Dom, heading: NodeId, title: &str) -> bool {
    if !dom.tag(heading).is_some_and(Tag::is_heading) {
        return false;
    }
    let text = visible_text(dom, heading, usize::MAX).unwrap_or_default();
    heading_matches_title(&text, title)
}

fn heading_matches_title(heading: &str, title: &str) -> bool {
    let h = loose(heading);
    let t = loose(title);
    if h.is_empty() || t.is_empty() {
        return false;
    }
    if h == t || text_similarity(title, heading) > 0.75 {
        return true;
    }
    // "Title | Site" vs "Title" (either way round): a whole-word prefix or suffix that
    // covers most of the longer text.
    let (short, long) = if h.len() < t.len() {
        (&h, &t)
    } else {
        (&t, &h)
    };
    short.len() * 2 >= long.len()
        && (long.starts_with(&format!("{short} ")) || long.ends_with(&format!(" {short}")))
}

/// Lowercase words (letters and digits), space-joined.
fn loose(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(w.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Metadata and the body nodes that carry it, in one scan.
pub fn analyze(
    dom: &Dom,
    url: Option<&Url>,
    options: &MetadataOptions,
) -> (Metadata, MetadataNodes) {
    let scan = Scan::run(dom);
    scan.finish(dom, url, options)
}

/// Readability's `unlikelyCandidates` (also used by main-content extraction).
pub(crate) const UNLIKELY: WordSet = WordSet::new(&[
    "-ad-",
    "ai2html",
    "banner",
    "breadcrumbs",
    "combx",
    "comment",
    "community",
    "cover-wrap",
    "disqus",
    "extra",
    "footer",
    "gdpr",
    "header",
    "legends",
    "menu",
    "related",
    "remark",
    "replies",
    "rss",
    "shoutbox",
    "sidebar",
    "skyscraper",
    "social",
    "sponsor",
    "supplemental",
    "ad-break",
    "agegate",
    "pagination",
    "pager",
    "popup",
    "yom-remote",
]);
/// Readability's `okMaybeItsACandidate`.
pub(crate) const OK_MAYBE: WordSet = WordSet::new(&[
    "and", "article", "body", "column", "content", "main", "shadow",
]);
/// Readability's `byline`.
const BYLINE: WordSet = WordSet::new(&["byline", "author", "dateline", "writtenby", "p-author"]);
/// ARIA roles of navigation and dialogs.
pub(crate) const UNLIKELY_ROLES: &[&str] = &[
    "menu",
    "menubar",
    "complementary",
    "navigation",
    "alert",
    "alertdialog",
    "dialog",
];

/// Date metas beyond Readability's, in priority order (lowercase `name`/`property`/`itemprop`).
const DATE_KEYS: &[&str] = &[
    "og:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "published_time",
    "published-date",
    "article.published",
    "article_date_original",
    "sailthru.date",
    "dc.date",
    "dc.date.issued",
    "dc.date.created",
    "dcterms.date",
    "dcterms.issued",
    "dcterms.created",
    "dcterms.available",
    "citation_publication_date",
    "citation_date",
    "citation_online_date",
    "prism.publicationdate",
    "datecreated",
    "weibo:article:create_at",
    "og:updated_time",
    "article:modified_time",
    "datemodified",
];

/// What the scan collects.
struct Scan<'d> {
    html: Option<NodeId>,
    body: Option<NodeId>,
    title: Option<NodeId>,
    /// All `h1`/`h2` outside `<noscript>` (for the title heuristics).
    headings: Vec<NodeId>,
    h1_count: usize,
    first_h1: Option<NodeId>,
    /// `h1`/`h2` that Readability's walk reaches (not in a pruned subtree).
    walk_headings: Vec<NodeId>,
    jsonld: Vec<&'d str>,
    /// Readability's meta values (its key patterns; the last one wins).
    rvalues: HashMap<String, String>,
    /// Every meta by lowercase `name`, `property` token, `itemprop`, `http-equiv` (first
    /// one wins).
    extra: HashMap<String, String>,
    canonical: Option<&'d str>,
    base_href: Option<&'d str>,
    /// `<time pubdate>` / `itemprop=datePublished` value.
    time_published: Option<String>,
    /// The DOM byline: element, last index of its subtree, text.
    byline: Option<(NodeId, usize, String)>,
    /// The DOM byline Readability's second pass (no unlikely-candidate pruning, run when
    /// the first finds too little text) would find: the first valid one outside hidden
    /// subtrees. Used when the first pass finds none.
    relaxed_byline: Option<(NodeId, usize, String)>,
    /// Microdata `itemprop=headline` text.
    itemprop_headline: Option<NodeId>,
    /// Microdata `itemtype` values (at most [`MAX_TYPES`]).
    itemtypes: Vec<&'d str>,
}

/// Last arena index of `id`'s subtree (the arena is in document order).
fn subtree_end(dom: &Dom, id: NodeId) -> usize {
    let mut cur = id;
    let mut end = id.index();
    while let Some(c) = dom.last_child(cur) {
        end = end.max(c.index());
        cur = c;
    }
    end
}

/// Text below `id` outside script/style/noscript, trimmed and whitespace-normalized;
/// `None` when its trimmed length reaches `cap` UTF-16 units (the scan stops there).
fn visible_text(dom: &Dom, id: NodeId, cap: usize) -> Option<String> {
    let mut raw = String::new();
    let mut it = dom.descendants(id);
    while let Some(d) = it.next() {
        if let Some(t) = dom.text(d) {
            raw.push_str(t);
            if cap != usize::MAX && js_len(js_trim(&raw)) >= cap {
                return None;
            }
        } else if matches!(
            dom.tag(d),
            Some(Tag::Script | Tag::Style | Tag::Noscript | Tag::Template)
        ) {
            it.skip_subtree(d);
        }
    }
    Some(text::normalize_ws(&raw))
}

/// The attributes the document walk looks at, read in one pass.
#[derive(Default)]
struct WalkAttrs<'a> {
    class: &'a str,
    id: &'a str,
    itemprop: Option<&'a str>,
    itemtype: Option<&'a str>,
    rel: Option<&'a str>,
    role: Option<&'a str>,
    aria_modal: bool,
    aria_hidden: bool,
    hidden: bool,
    style: &'a str,
}

impl<'a> WalkAttrs<'a> {
    fn read(dom: &'a Dom, el: NodeId) -> WalkAttrs<'a> {
        let mut a = WalkAttrs::default();
        for (n, v) in dom.attrs(el) {
            match n {
                "class" if a.class.is_empty() => a.class = v,
                "id" if a.id.is_empty() => a.id = v,
                "itemprop" if a.itemprop.is_none() => a.itemprop = Some(v),
                "itemtype" if a.itemtype.is_none() => a.itemtype = Some(v),
                "rel" if a.rel.is_none() => a.rel = Some(v),
                "role" if a.role.is_none() => a.role = Some(v),
                "aria-modal" => a.aria_modal = v == "true",
                "aria-hidden" => a.aria_hidden = v.trim() == "true",
                "hidden" => a.hidden = true,
                "style" => a.style = v,
                _ => {}
            }
        }
        a
    }

    /// Readability's `_isProbablyVisible`, negated.
    fn is_hidden(&self) -> bool {
        self.hidden
            || (self.aria_hidden && !self.class.contains("fallback-image"))
            || style_hides(self.style)
    }
}

/// `display: none` or `visibility: hidden` in a style attribute.
fn style_hides(style: &str) -> bool {
    const VALUES: WordSet = WordSet::new(&["none", "hidden"]);
    if style.is_empty() || !VALUES.in_str(style) {
        return false;
    }
    let compact: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    compact.contains("display:none") || compact.contains("visibility:hidden")
}

/// A valid byline element (text of 1 to 99 characters, no form field inside): the
/// element, the end of its subtree, and its text (that of an `itemprop=name` inside, if
/// any).
fn dom_byline(dom: &Dom, id: NodeId) -> Option<(NodeId, usize, String)> {
    let t = visible_text(dom, id, 100).filter(|t| !t.is_empty())?;
    let has_field = dom.descendants(id).any(|d| match dom.tag(d) {
        Some(Tag::Textarea | Tag::Select) => true,
        Some(Tag::Input) => !dom.attr(d, "type").is_some_and(|t| {
            matches!(
                t.to_ascii_lowercase().as_str(),
                "hidden" | "submit" | "button"
            )
        }),
        _ => false,
    });
    if has_field {
        return None;
    }
    let named = dom
        .descendants(id)
        .find(|&d| dom.attr(d, "itemprop").is_some_and(|p| p.contains("name")))
        .and_then(|d| visible_text(dom, d, usize::MAX));
    let text = named.filter(|n| !n.is_empty()).unwrap_or(t);
    Some((id, subtree_end(dom, id), text))
}

/// Readability's `_hasAncestorTag(node, tag)` with its default depth (3).
fn has_ancestor_within(dom: &Dom, id: NodeId, tags: &[Tag]) -> bool {
    dom.ancestors(id)
        .take(4)
        .any(|a| dom.tag(a).is_some_and(|t| tags.contains(&t)))
}

/// Readability's `propertyPattern` on a `property` attribute: the key of its first match.
fn readability_property_key(prop: &str) -> Option<String> {
    const PREFIXES: &[&str] = &["article", "dcterm", "dc", "og", "twitter"];
    const NAMES: &[&str] = &[
        "author",
        "creator",
        "description",
        "published_time",
        "title",
        "site_name",
    ];
    let lower = prop.to_ascii_lowercase();
    let b = lower.as_str();
    for (i, _) in b.char_indices() {
        let rest = &b[i..];
        for p in PREFIXES {
            let Some(after) = rest.strip_prefix(p) else {
                continue;
            };
            let after = after.trim_start();
            let Some(after) = after.strip_prefix(':') else {
                continue;
            };
            let after = after.trim_start();
            if let Some(n) = NAMES.iter().find(|n| after.starts_with(**n)) {
                return Some(format!("{p}:{n}"));
            }
        }
    }
    None
}

/// Readability's `namePattern` on a `name` attribute (whole value); returns its key.
fn readability_name_key(name: &str) -> Option<String> {
    const PREFIXES: &[&str] = &[
        "weibo:article",
        "weibo:webpage",
        "dcterm",
        "dc",
        "og",
        "twitter",
        "parsely",
    ];
    const NAMES: &[&str] = &[
        "author",
        "creator",
        "pub-date",
        "description",
        "title",
        "site_name",
    ];
    let lower = name.to_lowercase();
    let s = js_trim(&lower);
    let ok = NAMES.contains(&s)
        || PREFIXES.iter().any(|p| {
            s.strip_prefix(p)
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix(['-', '.', ':']))
                .is_some_and(|r| NAMES.contains(&r.trim_start()))
        });
    ok.then(|| {
        lower
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| if c == '.' { ':' } else { c })
            .collect()
    })
}

impl<'d> Scan<'d> {
    fn run(dom: &'d Dom) -> Scan<'d> {
        let mut s = Scan {
            html: None,
            body: None,
            title: None,
            headings: Vec::new(),
            h1_count: 0,
            first_h1: None,
            walk_headings: Vec::new(),
            jsonld: Vec::new(),
            rvalues: HashMap::new(),
            extra: HashMap::new(),
            canonical: None,
            base_href: None,
            time_published: None,
            byline: None,
            relaxed_byline: None,
            itemprop_headline: None,
            itemtypes: Vec::new(),
        };
        // Index ranges (inclusive ends) of subtrees: pruned by Readability's walk, inside
        // <noscript>, inside <svg>/<math>.
        let mut pruned_end: Option<usize> = None;
        let mut hidden_end: Option<usize> = None;
        let mut noscript_end: Option<usize> = None;
        let mut foreign_end: Option<usize> = None;
        let within = |end: Option<usize>, i: usize| end.is_some_and(|e| i <= e);

        for id in dom.ids() {
            let Some(tag) = dom.tag(id) else {
                continue;
            };
            let i = id.index();
            let in_noscript = within(noscript_end, i);
            let in_foreign = within(foreign_end, i);
            match tag {
                Tag::Html if s.html.is_none() => s.html = Some(id),
                Tag::Body if s.body.is_none() => s.body = Some(id),
                Tag::Title if s.title.is_none() && !in_foreign => s.title = Some(id),
                Tag::Meta => s.meta(dom, id),
                Tag::Link => {
                    if s.canonical.is_none()
                        && let Some(rel) = dom.attr(id, "rel")
                        && rel
                            .split_ascii_whitespace()
                            .any(|r| r.eq_ignore_ascii_case("canonical"))
                    {
                        s.canonical = dom.attr(id, "href").filter(|h| !h.trim().is_empty());
                    }
                }
                Tag::Base if s.base_href.is_none() => s.base_href = dom.attr(id, "href"),
                Tag::Script => {
                    let is_ld = dom
                        .attr(id, "type")
                        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"));
                    if is_ld && let Some(t) = dom.first_child(id).and_then(|c| dom.text(c)) {
                        s.jsonld.push(t);
                    }
                }
                Tag::H1 | Tag::H2 if !in_noscript => {
                    s.headings.push(id);
                    if tag == Tag::H1 {
                        s.h1_count += 1;
                        s.first_h1.get_or_insert(id);
                    }
                }
                Tag::Time if s.time_published.is_none() => {
                    let pub_like = dom.has_attr(id, "pubdate")
                        || dom
                            .attr(id, "itemprop")
                            .is_some_and(|p| p.eq_ignore_ascii_case("datePublished"));
                    if pub_like {
                        s.time_published = dom
                            .attr(id, "datetime")
                            .and_then(clean)
                            .or_else(|| visible_text(dom, id, 200).and_then(|t| clean(&t)));
                    }
                }
                Tag::Noscript if noscript_end.is_none_or(|e| i > e) => {
                    noscript_end = Some(subtree_end(dom, id));
                }
                Tag::Svg | Tag::Math if foreign_end.is_none_or(|e| i > e) => {
                    foreign_end = Some(subtree_end(dom, id));
                }
                _ => {}
            }
            let a = WalkAttrs::read(dom, id);
            if let Some(t) = a.itemtype
                && s.itemtypes.len() < MAX_TYPES
            {
                s.itemtypes.push(t);
            }
            if let Some(ip) = a.itemprop {
                s.microdata(dom, id, tag, ip);
            }

            // Readability's document walk.
            if within(hidden_end, i) {
                continue;
            }
            if a.is_hidden()
                || (a.aria_modal && a.role == Some("dialog"))
                || matches!(
                    tag,
                    Tag::Noscript | Tag::Script | Tag::Style | Tag::Template
                )
            {
                hidden_end = Some(subtree_end(dom, id));
                continue;
            }
            let strict = !within(pruned_end, i);
            if s.byline.is_none() && (strict || s.relaxed_byline.is_none()) {
                // Beyond Readability: form fields ("Name *" of a comment form: see
                // `dom_byline`) and "authoriz..." names are not bylines.
                const NOT_BYLINE: WordSet = WordSet::new(&["authoriz"]);
                let by_name = (BYLINE.in_str(a.class) || BYLINE.in_str(a.id))
                    && !NOT_BYLINE.in_str(a.class)
                    && !NOT_BYLINE.in_str(a.id);
                let candidate = (a.rel == Some("author")
                    || a.itemprop.is_some_and(|p| p.contains("author"))
                    || by_name)
                    && !matches!(
                        tag,
                        Tag::Label | Tag::Input | Tag::Select | Tag::Option | Tag::Textarea
                    );
                if candidate && let Some(found) = dom_byline(dom, id) {
                    if s.relaxed_byline.is_none() {
                        s.relaxed_byline = Some(found.clone());
                    }
                    if strict {
                        s.byline = Some(found);
                    }
                }
            }
            if !strict {
                continue;
            }
            if matches!(tag, Tag::H1 | Tag::H2) {
                s.walk_headings.push(id);
            }
            let unlikely = (UNLIKELY.in_str(a.class) || UNLIKELY.in_str(a.id))
                && !OK_MAYBE.in_str(a.class)
                && !OK_MAYBE.in_str(a.id)
                && !matches!(tag, Tag::Body | Tag::A)
                && !has_ancestor_within(dom, id, &[Tag::Table, Tag::Code]);
            let bad_role = a.role.is_some_and(|r| UNLIKELY_ROLES.contains(&r));
            if unlikely || bad_role {
                pruned_end = Some(subtree_end(dom, id));
            }
        }
        s
    }

    fn meta(&mut self, dom: &'d Dom, id: NodeId) {
        let Some(content) = dom.attr(id, "content").filter(|c| !c.is_empty()) else {
            return;
        };
        let value = js_trim(content).to_owned();
        let mut matched = false;
        if let Some(p) = dom.attr(id, "property").filter(|p| !p.is_empty())
            && let Some(k) = readability_property_key(p)
        {
            self.rvalues.insert(k, value.clone());
            matched = true;
        }
        if !matched
            && let Some(k) = dom
                .attr(id, "name")
                .filter(|n| !n.is_empty())
                .and_then(readability_name_key)
        {
            self.rvalues.insert(k, value.clone());
        }
        for (n, v) in dom.attrs(id) {
            match n {
                "name" | "itemprop" | "http-equiv" => {
                    let k = v.trim().to_lowercase();
                    if !k.is_empty() {
                        self.extra.entry(k).or_insert_with(|| value.clone());
                    }
                }
                "property" => {
                    for k in v.split_ascii_whitespace() {
                        self.extra
                            .entry(k.to_lowercase())
                            .or_insert_with(|| value.clone());
                    }
                }
                _ => {}
            }
        }
    }

    /// Microdata on elements other than `<meta>` (those are in `extra`).
    fn microdata(&mut self, dom: &'d Dom, id: NodeId, tag: Tag, itemprop: &str) {
        if tag == Tag::Meta {
            return;
        }
        for p in itemprop.split_ascii_whitespace() {
            if p.eq_ignore_ascii_case("headline") && self.itemprop_headline.is_none() {
                self.itemprop_headline = Some(id);
            } else if p.eq_ignore_ascii_case("datePublished") && self.time_published.is_none() {
                self.time_published = dom
                    .attr(id, "content")
                    .or_else(|| dom.attr(id, "datetime"))
                    .and_then(clean)
                    .or_else(|| visible_text(dom, id, 200).and_then(|t| clean(&t)));
            }
        }
    }

    fn r(&self, key: &str) -> Option<String> {
        self.rvalues
            .get(key)
            .and_then(|v| clean(&unescape_basic(v)))
    }

    fn x(&self, key: &str) -> Option<String> {
        self.extra.get(key).and_then(|v| clean(&unescape_basic(v)))
    }

    fn finish(
        self,
        dom: &Dom,
        url: Option<&Url>,
        options: &MetadataOptions,
    ) -> (Metadata, MetadataNodes) {
        let ld = jsonld::extract(self.jsonld.iter().copied());
        let mut types: Vec<String> = ld.types.clone();
        for t in &self.itemtypes {
            // `https://schema.org/Product`, several URLs in one attribute.
            for u in t.split_ascii_whitespace() {
                let name = u.trim_end_matches('/').rsplit('/').next().unwrap_or("");
                if !name.is_empty() && types.len() < MAX_TYPES {
                    types.push(name.to_string());
                }
            }
        }
        if let Some(og) = self.r("og:type").or_else(|| self.x("og:type"))
            && types.len() < MAX_TYPES
        {
            types.push(format!("og:{}", og.to_ascii_lowercase()));
        }
        let ld_clean =
            |s: &Option<String>| s.as_deref().map(unescape_basic).and_then(|s| clean(&s));

        // Readability's <title> heuristics, computed once and only if needed.
        let raw_title = self
            .title
            .map(|t| {
                let mut s = String::new();
                dom.append_text(t, &mut s);
                s
            })
            .unwrap_or_default();
        let h1_h2 = || {
            self.headings
                .iter()
                .map(|&h| visible_text(dom, h, usize::MAX).unwrap_or_default())
                .collect::<Vec<_>>()
        };
        let single_h1 = || {
            (self.h1_count == 1)
                .then_some(self.first_h1)
                .flatten()
                .and_then(|h| visible_text(dom, h, usize::MAX))
        };
        let heads = title::Headings {
            h1_h2: &h1_h2,
            single_h1: &single_h1,
        };
        let mut doc_title_cache: Option<String> = None;
        let mut doc_title = || {
            doc_title_cache
                .get_or_insert_with(|| title::article_title(&raw_title, &heads))
                .clone()
        };

        let ld_title = match (ld_clean(&ld.name), ld_clean(&ld.headline)) {
            (Some(n), Some(h)) if n != h => {
                let t = doc_title();
                let name_matches = text_similarity(&n, &t) > 0.75;
                let headline_matches = text_similarity(&h, &t) > 0.75;
                Some(if headline_matches && !name_matches {
                    h
                } else {
                    n
                })
            }
            (n, h) => n.or(h),
        };
        let site_name = ld_clean(&ld.site_name).or_else(|| self.r("og:site_name"));
        let site_names: Vec<String> = [site_name.clone(), ld_clean(&ld.other_site_name)]
            .into_iter()
            .flatten()
            .collect();
        let headline_style = match options.title {
            TitleStyle::Readability => false,
            TitleStyle::Headline => true,
            // Articles keep Readability's metadata title; other pages (products, docs,
            // listings, forums) are titled by their visible headline.
            TitleStyle::Auto => {
                let article = self
                    .r("og:type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("article"))
                    || self.r("article:published_time").is_some()
                    || self.r("author").is_some()
                    || ld.byline.is_some();
                !article
            }
        };
        let strip = |t: String| {
            if !headline_style {
                return t;
            }
            let names: Vec<&str> = site_names.iter().map(String::as_str).collect();
            title::strip_site_name(&t, &names)
        };
        let title = ld_title
            .or_else(|| self.r("dc:title"))
            .or_else(|| self.r("dcterm:title"))
            .or_else(|| self.r("og:title"))
            .or_else(|| self.r("weibo:article:title"))
            .or_else(|| self.r("weibo:webpage:title"))
            .or_else(|| self.r("title"))
            .or_else(|| self.r("twitter:title"))
            .or_else(|| self.r("parsely-title"))
            .map(strip)
            .map(|t| {
                if !headline_style {
                    return t;
                }
                self.walk_headings
                    .iter()
                    .filter(|&&h| dom.is(h, Tag::H1))
                    .find_map(|&h| {
                        let txt = visible_text(dom, h, usize::MAX)?;
                        heading_matches_title(&txt, &t).then_some(txt)
                    })
                    .and_then(|x| clean(&x))
                    .unwrap_or(t)
            })
            .or_else(|| clean(&doc_title()))
            .or_else(|| {
                self.itemprop_headline
                    .or(self.first_h1)
                    .and_then(|h| visible_text(dom, h, usize::MAX))
                    .and_then(|t| clean(&t))
            });

        let article_author = self.r("article:author").filter(|a| !is_url(a));
        let meta_byline = ld_clean(&ld.byline)
            .or_else(|| self.r("dc:creator"))
            .or_else(|| self.r("dcterm:creator"))
            .or_else(|| self.r("author"))
            .or_else(|| self.r("parsely-author"))
            .or(article_author);
        let extra_byline = || {
            [
                "sailthru.author",
                "dcterms.creator",
                "citation_author",
                "byl",
                "author",
            ]
            .iter()
            .find_map(|k| self.x(k))
            .filter(|a| !is_url(a))
            .map(|a| a.strip_prefix("By ").map(str::to_owned).unwrap_or(a))
        };
        let dom_found = self.byline.as_ref().or(self.relaxed_byline.as_ref());
        let dom_byline = dom_found.and_then(|(_, _, t)| clean(t));
        let byline = meta_byline
            .clone()
            .or_else(extra_byline)
            .or(dom_byline)
            .or_else(|| ld_clean(&ld.loose_byline))
            .or_else(|| ld_clean(&ld.other_byline));

        let excerpt = ld_clean(&ld.description)
            .or_else(|| self.r("dc:description"))
            .or_else(|| self.r("dcterm:description"))
            .or_else(|| self.r("og:description"))
            .or_else(|| self.r("weibo:article:description"))
            .or_else(|| self.r("weibo:webpage:description"))
            .or_else(|| self.r("description"))
            .or_else(|| self.r("twitter:description"))
            .or_else(|| self.x("dcterms.description"))
            .or_else(|| self.x("sailthru.description"))
            .or_else(|| ld_clean(&ld.other_description));

        let published_time = ld_clean(&ld.date_published)
            .or_else(|| self.r("article:published_time"))
            .or_else(|| self.r("parsely-pub-date"))
            .or_else(|| DATE_KEYS.iter().find_map(|k| self.x(k)))
            .or_else(|| self.time_published.clone())
            .or_else(|| ld_clean(&ld.other_date));

        let html_attr = |name: &str| self.html.and_then(|h| dom.attr(h, name)).and_then(clean);
        let lang = html_attr("lang").or_else(|| {
            self.x("content-language")
                .and_then(|l| l.split(',').next().and_then(clean))
        });
        let dir = html_attr("dir")
            .or_else(|| self.body.and_then(|b| dom.attr(b, "dir")).and_then(clean))
            .map(|d| d.to_ascii_lowercase());

        let base = resolve_base(url, self.base_href);
        let canonical = self
            .canonical
            .and_then(clean)
            .or_else(|| self.x("og:url"))
            .map(|c| absolutize(base.as_ref(), &c));
        let image = self
            .x("og:image")
            .or_else(|| self.x("og:image:url"))
            .or_else(|| self.x("og:image:secure_url"))
            .or_else(|| self.x("twitter:image"))
            .or_else(|| self.x("twitter:image:src"))
            .or_else(|| ld_clean(&ld.image))
            .or_else(|| ld_clean(&ld.other_image))
            .or_else(|| self.x("image"))
            .or_else(|| self.x("thumbnailurl"))
            .map(|c| absolutize(base.as_ref(), &c));

        // Nodes: the DOM byline only when Readability would take it (no metadata byline);
        // the first walked h1/h2 that repeats the title, outside that byline element.
        let byline_node = if meta_byline.is_none() {
            dom_found.map(|(id, end, _)| (*id, *end))
        } else {
            None
        };
        let title_heading = title.as_deref().and_then(|t| {
            self.walk_headings
                .iter()
                .copied()
                .filter(|h| {
                    !byline_node.is_some_and(|(b, end)| h.index() >= b.index() && h.index() <= end)
                })
                .find(|&h| {
                    let text = visible_text(dom, h, usize::MAX).unwrap_or_default();
                    text_similarity(t, &text) > 0.75
                })
        });

        (
            Metadata {
                title,
                byline,
                excerpt,
                site_name,
                published_time,
                lang,
                dir,
                canonical,
                image,
                types,
            },
            MetadataNodes {
                byline: byline_node.map(|(id, _)| id),
                title_heading,
            },
        )
    }
}

fn resolve_base(url: Option<&Url>, base_href: Option<&str>) -> Option<Url> {
    let href = base_href.map(str::trim).filter(|h| !h.is_empty());
    match (url, href) {
        (Some(u), Some(h)) => u.join(h).ok().or_else(|| Some(u.clone())),
        (Some(u), None) => Some(u.clone()),
        (None, Some(h)) => Url::parse(h).ok(),
        (None, None) => None,
    }
}

fn absolutize(base: Option<&Url>, s: &str) -> String {
    match base {
        Some(b) => b.join(s).map_or_else(|_| s.to_owned(), |u| u.to_string()),
        None => s.to_owned(),
    }
}

/// Readability's `_unescapeHtmlEntities`: the five basic named references and numeric
/// ones (pages often escape metadata twice).
fn unescape_basic(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('&') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let mut done = false;
        for (name, ch) in [
            ("&quot;", '"'),
            ("&amp;", '&'),
            ("&apos;", '\''),
            ("&lt;", '<'),
            ("&gt;", '>'),
        ] {
            if let Some(after) = tail.strip_prefix(name) {
                out.push(ch);
                rest = after;
                done = true;
                break;
            }
        }
        if !done && let Some((ch, len)) = numeric_ref(tail) {
            out.push(ch);
            rest = &tail[len..];
            done = true;
        }
        if !done {
            out.push('&');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// `&#NNN;` or `&#xHHH;` at the start of `s`: the character (U+FFFD for NUL, surrogates
/// and values beyond Unicode, as an HTML parser does) and the reference's length.
fn numeric_ref(s: &str) -> Option<(char, usize)> {
    let body = s.strip_prefix("&#")?;
    let (hex, digits) = match body.strip_prefix(['x', 'X']) {
        Some(h) => (true, h),
        None => (false, body),
    };
    let n = digits
        .bytes()
        .take_while(|b| {
            if hex {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        })
        .count();
    if n == 0 || digits.as_bytes().get(n) != Some(&b';') {
        return None;
    }
    let v = u32::from_str_radix(&digits[..n], if hex { 16 } else { 10 }).unwrap_or(u32::MAX);
    let ch = match char::from_u32(v) {
        Some('\0') | None => '\u{fffd}',
        Some(c) => c,
    };
    Some((ch, 2 + usize::from(hex) + n + 1))
}

#[cfg(test)]
mod tests;
