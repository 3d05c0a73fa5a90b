//! Main-content extraction: find the part of a page that is its content and clean it.
//!
//! The core is Mozilla Readability's scoring, re-done over flat arrays: paragraphs score
//! their ancestors by length and commas; class/id names weigh candidates; the best
//! candidate is multiplied by (1 - link density); its siblings join it when they score
//! close to it; then boilerplate is cleaned conditionally (link-heavy, image-heavy,
//! form-heavy blocks). Unlike Readability, every per-node measure (text length, link text,
//! commas, paragraph/image/list counts) is computed once, bottom-up, in one reverse pass
//! over the arena, and updated incrementally when a node is removed, so the whole
//! extraction is linear in the page size.
//!
//! Beyond Readability: pages that are not one article (forum threads, listings, docs) are
//! handled by [`widen`], which climbs from the best candidate to the ancestor that holds
//! a run of similar content blocks.

use crate::dom::{Dom, NodeId};
use crate::metadata::text::WordSet;
use crate::metadata::{OK_MAYBE, UNLIKELY, UNLIKELY_ROLES};
use crate::tag::Tag;

/// Which of Readability's heuristics are on; later attempts turn them off one by one when
/// the result is too short.
#[derive(Debug, Clone, Copy)]
struct Flags {
    strip_unlikely: bool,
    weight_classes: bool,
    clean_conditionally: bool,
    /// The page is a discussion (forum thread, Q&A): replies are content, so "comment"
    /// class names neither strip nor weigh down a block.
    forum: bool,
}

/// Minimum article length (characters) before an attempt is accepted.
const CHAR_THRESHOLD: u32 = 500;

/// Per-node aggregates of the subtree.
#[derive(Debug, Clone, Copy, Default)]
struct Agg {
    /// Visible characters, whitespace runs counted once.
    text: u32,
    /// Characters inside links.
    link: u32,
    /// Characters inside card links (links wrapping paragraphs).
    card_link: u32,
    commas: u32,
    p: u32,
    img: u32,
    li: u32,
    input: u32,
    embed: u32,
    heading: u32,
    /// Characters inside `ul`/`ol`.
    list_text: u32,
    /// Whether the subtree contains a block element (Readability's DIV_TO_P_ELEMS).
    block: bool,
    /// Whether it contains a `table`, `pre` or `code` (never cleaned as boilerplate).
    keep: bool,
    /// Whether it contains a block element other than an image (a card's layout).
    structured: bool,
    /// Whether it contains an `h1` (the page's headline, as a rule).
    h1: bool,
    /// Characters of prose: text outside links in blocks of 25+ characters whose link
    /// density is low. What a page's content is made of.
    good: u32,
}

impl Agg {
    fn add(&mut self, o: &Agg) {
        self.text += o.text;
        self.link += o.link;
        self.card_link += o.card_link;
        self.commas += o.commas;
        self.p += o.p;
        self.img += o.img;
        self.li += o.li;
        self.input += o.input;
        self.embed += o.embed;
        self.heading += o.heading;
        self.list_text += o.list_text;
        self.good += o.good;
    }

    fn sub(&mut self, o: &Agg) {
        self.text = self.text.saturating_sub(o.text);
        self.link = self.link.saturating_sub(o.link);
        self.card_link = self.card_link.saturating_sub(o.card_link);
        self.commas = self.commas.saturating_sub(o.commas);
        self.p = self.p.saturating_sub(o.p);
        self.img = self.img.saturating_sub(o.img);
        self.li = self.li.saturating_sub(o.li);
        self.input = self.input.saturating_sub(o.input);
        self.embed = self.embed.saturating_sub(o.embed);
        self.heading = self.heading.saturating_sub(o.heading);
        self.list_text = self.list_text.saturating_sub(o.list_text);
        self.good = self.good.saturating_sub(o.good);
    }

    /// Link density not counting card links (a listing's cards are its content).
    fn item_link_density(&self) -> f32 {
        if self.text == 0 {
            0.0
        } else {
            self.link.saturating_sub(self.card_link) as f32 / self.text as f32
        }
    }

    fn link_density(&self) -> f32 {
        if self.text == 0 {
            0.0
        } else {
            self.link as f32 / self.text as f32
        }
    }
}

/// Count visible characters (whitespace runs once) and commas of a text.
fn measure(s: &str) -> (u32, u32) {
    let mut chars = 0u32;
    let mut commas = 0u32;
    let mut in_ws = true;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // ASCII without decoding (most text); the same rules as the `char` path below.
        let b = bytes[i];
        let c = if b < 0x80 {
            i += 1;
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
                if !in_ws {
                    chars += 1;
                    in_ws = true;
                }
            } else {
                in_ws = false;
                chars += 1;
                commas += u32::from(b == b',');
            }
            continue;
        } else {
            match s[i..].chars().next() {
                Some(c) => {
                    i += c.len_utf8();
                    c
                }
                None => break,
            }
        };
        if c.is_whitespace() {
            if !in_ws {
                chars += 1;
                in_ws = true;
            }
            continue;
        }
        in_ws = false;
        chars += 1;
        if matches!(
            c,
            '\u{060C}'
                | '\u{FE50}'
                | '\u{FE10}'
                | '\u{FE11}'
                | '\u{2E41}'
                | '\u{2E34}'
                | '\u{2E32}'
                | '\u{FF0C}'
                | '、'
        ) {
            commas += 1;
        }
    }
    (chars, commas)
}

/// Lowercased `class id` of an element, for the name heuristics.
fn names(dom: &Dom, id: NodeId) -> String {
    let (class, ident) = dom.class_and_id(id);
    let mut s = String::with_capacity(class.len() + ident.len() + 1);
    s.push_str(class);
    s.push(' ');
    s.push_str(ident);
    s.make_ascii_lowercase();
    s
}

/// Beyond Readability's list: consent and subscription overlays.
const UNLIKELY_EXTRA: WordSet = WordSet::new(&[
    "breadcrumb",
    "cookie",
    "consent",
    "newsletter",
    "subscribe",
    "reviews",
    "ratings",
    "facet",
    "filters",
    "filter-",
    "refine",
    // Forum signatures and the user cards of Q&A posts.
    "signature",
    "user-info",
    // Author boxes: a portrait and a paragraph about the writer, below the article
    // (`saboxplugin` is the Simple Author Box plugin, as `disqus` is a vendor's name).
    "author-box",
    "authorbox",
    "author-bio",
    "about-author",
    "author-info",
    "saboxplugin",
]);
/// Consent and cookie overlays: never content, whatever the attempt's flags.
const OVERLAY: WordSet = WordSet::new(&[
    "consent",
    "cookie-banner",
    "cookie-notice",
    "cookie-bar",
    "cookiebar",
    "cookie-law",
    "cookie-policy-banner",
    "gdpr",
    "onetrust",
    "usercentrics",
    "didomi",
]);

fn is_overlay(dom: &Dom, id: NodeId) -> bool {
    let (class, ident) = dom.class_and_id(id);
    OVERLAY.in_str(class) || OVERLAY.in_str(ident)
}
/// Readability 0.5's addition to `okMaybeItsACandidate`: MathJax containers are content.
const OK_MAYBE_EXTRA: WordSet = WordSet::new(&["mathjax"]);
const NEGATIVE: WordSet = WordSet::new(&[
    "-ad-",
    "banner",
    "combx",
    "comment",
    "com-",
    "contact",
    "footer",
    "gdpr",
    "masthead",
    "media",
    "meta",
    "outbrain",
    "promo",
    "related",
    "scroll",
    "share",
    "shoutbox",
    "sidebar",
    "skyscraper",
    "sponsor",
    "shopping",
    "tags",
    "widget",
    "cookie",
    "newsletter",
]);
/// The words of [`NEGATIVE`] that name boilerplate itself, not a way of building or
/// showing a block.
/// Headings that name a page region, not a document's topic: a section named after
/// one of these ("Comments", "Related posts") is still boilerplate.
const PAGE_REGION_TOPICS: WordSet = WordSet::new(&[
    "comment",
    "repl",
    "related",
    "share",
    "sidebar",
    "footer",
    "newsletter",
    "subscribe",
    "promo",
    "sponsor",
    "advert",
]);
const STRONG_NEGATIVE: WordSet = WordSet::new(&[
    "-ad-",
    "banner",
    "combx",
    "comment",
    "com-",
    "footer",
    "gdpr",
    "masthead",
    "outbrain",
    "promo",
    "related",
    "share",
    "shoutbox",
    "sidebar",
    "skyscraper",
    "sponsor",
    "cookie",
    "newsletter",
]);

/// Class/id words of share bars.
const SHARE: WordSet = WordSet::new(&["share", "sharing"]);

fn strongly_negative(dom: &Dom, id: NodeId) -> bool {
    let (class, ident) = dom.class_and_id(id);
    STRONG_NEGATIVE.in_str(class) || STRONG_NEGATIVE.in_str(ident)
}

const POSITIVE: WordSet = WordSet::new(&[
    "article",
    "body",
    "content",
    "entry",
    "hentry",
    "h-entry",
    "main",
    "page",
    "pagination",
    "post",
    "text",
    "blog",
    "story",
]);

fn class_weight(dom: &Dom, id: NodeId, flags: Flags) -> f32 {
    if !flags.weight_classes {
        return 0.0;
    }
    let (class, ident) = dom.class_and_id(id);
    let mut w = 0.0;
    for s in [class, ident] {
        if s.is_empty() {
            continue;
        }
        if flags.forum && REPLY.in_str(s) {
            continue;
        }
        // Judge semantic class names only: utility-CSS classes (`overflow-hidden`,
        // `text-center`, `md:grid`) say nothing about content.
        let mut neg = false;
        let mut pos = false;
        for token in s.split_ascii_whitespace() {
            // `hidden` as a whole name (not Drupal's `field--label-hidden`).
            // A BEM modifier (`animation--effect-2-scroll`, `card--media-left`) styles a
            // block; its name is before the `--`.
            let base = match token.as_bytes().windows(2).position(|w| w == b"--") {
                Some(end) => &token[..end],
                None => token,
            };
            let n = !neg
                && (NEGATIVE.in_str(base)
                    || ["hid", "hidden", "hide", "is-hidden"]
                        .iter()
                        .any(|w| token.eq_ignore_ascii_case(w)));
            let p = !pos && POSITIVE.in_str(base);
            // The utility-class test (dozens of prefixes) only for a token that would
            // change the weight.
            if (n || p) && !is_utility_class(token) {
                neg |= n;
                pos |= p;
            }
        }
        if neg {
            w -= 25.0;
        }
        if pos {
            w += 25.0;
        }
    }
    w
}

/// Utility-CSS class names (Tailwind, Bootstrap helpers): layout, not meaning.
fn is_utility_class(token: &str) -> bool {
    const LAYOUT: &[&str] = &[
        "overflow-",
        "font-",
        "leading-",
        "tracking-",
        "max-",
        "min-",
        "flex",
        "grid",
        "col-",
        "row-",
        "gap-",
        "space-",
        "justify-",
        "items-",
        "align-",
        "rounded",
        "shadow",
        "opacity-",
        "z-",
        "w-",
        "h-",
        "p-",
        "px-",
        "py-",
        "pt-",
        "pb-",
        "m-",
        "mx-",
        "my-",
        "mt-",
        "mb-",
        "d-",
        "position-",
    ];
    // `text-center`, `bg-gray-100`, `border-t`: utilities; `text-wrapper`: a name.
    const STYLE_WORDS: &[&str] = &[
        "left",
        "right",
        "center",
        "justify",
        "xs",
        "sm",
        "base",
        "lg",
        "xl",
        "2xl",
        "3xl",
        "white",
        "black",
        "gray",
        "grey",
        "slate",
        "zinc",
        "neutral",
        "red",
        "blue",
        "green",
        "yellow",
        "primary",
        "secondary",
        "muted",
        "dark",
        "light",
        "transparent",
        "t",
        "b",
        "l",
        "r",
        "x",
        "y",
        "none",
        "gradient",
        "opacity",
        "brand",
    ];
    if token.contains(':') || token.contains('[') || LAYOUT.iter().any(|p| token.starts_with(p)) {
        return true;
    }
    ["text-", "bg-", "border-"].iter().any(|p| {
        token.strip_prefix(p).is_some_and(|rest| {
            let word = rest.split('-').next().unwrap_or("");
            word.starts_with(|c: char| c.is_ascii_digit()) || STYLE_WORDS.contains(&word)
        })
    })
}

/// What items of one list share in their class: the first class name without digits
/// (`post-26729` and `post-26730` are both `post-`).
fn item_signature(class: &str) -> &str {
    let first = class.split_ascii_whitespace().next().unwrap_or("");
    let end = first
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(first.len());
    &first[..end]
}

/// What like items share in their class attribute: its tokens without the ones carrying
/// digits (`comment id-t1_o8oqlp9` and `comment id-t1_o8prfyw` are alike), hashed.
fn class_signature(class: &str) -> u64 {
    let mut h = FNV_OFFSET;
    for token in class
        .split_ascii_whitespace()
        .filter(|t| !t.bytes().any(|b| b.is_ascii_digit()))
    {
        h = fnv(h, token.as_bytes());
        h = fnv(h, b" ");
    }
    h
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a over bytes, continuing from `h`: cheap, for short keys.
fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Rank of a heading element (1 for `h1`).
fn heading_rank(dom: &Dom, id: NodeId) -> Option<u8> {
    match dom.tag(id)? {
        Tag::H1 => Some(1),
        Tag::H2 => Some(2),
        Tag::H3 => Some(3),
        Tag::H4 => Some(4),
        Tag::H5 => Some(5),
        Tag::H6 => Some(6),
        _ => None,
    }
}

/// How headings of sections about other pages begin (lowercase): related stories,
/// recommendations, shop cross-sells, reply forms.
const ASIDE_HEADINGS: &[&str] = &[
    "more related",
    "you may also",
    "you might also",
    "you may like",
    "you might like",
    "you'll also like",
    "you will also like",
    "we think you",
    "recommended for you",
    "recommended articles",
    "recommended posts",
    "recommended stories",
    "recommended reading",
    "recommended products",
    "read next",
    "read this next",
    "what to read next",
    "up next",
    "more from",
    "more stories",
    "more articles",
    "more like this",
    "most popular",
    "most read",
    "popular posts",
    "popular articles",
    "popular stories",
    "trending",
    "recently viewed",
    "people who viewed",
    "people who bought",
    "people also",
    "customers who viewed",
    "customers who bought",
    "customers also",
    "frequently bought together",
    "similar items",
    "similar products",
    "similar articles",
    "similar posts",
    "explore related",
    "leave a reply",
    "leave a comment",
    "post a comment",
    "add a comment",
    "your answer",
    "post as a guest",
    "sign in to comment",
    "create an account or sign in",
    "top posters in this topic",
    "most popular posts",
    // Review widgets and news feeds beside a product or service page.
    "rating snapshot",
    "write a review",
    "recent events",
    "latest news",
    "more recent",
    "featured insights",
];
/// Headings that name a section of other people's reviews when they are all the heading
/// says (a count aside): "Reviews (407)", "Customer reviews". "Reviews of budget laptops"
/// heads an article's own section, so these are not prefixes.
const REVIEW_HEADINGS: &[&str] = &[
    "reviews",
    "customer reviews",
    "product reviews",
    "ratings & reviews",
    "ratings and reviews",
    "reviews and ratings",
    "reviews & ratings",
    "reviews summary",
    "review summary",
    "customer ratings",
    "average ratings",
    "average rating",
];
/// Headings of a document's citation apparatus, when they are all the heading says: the
/// list of works cited, not what the page says.
const CITATION_HEADINGS: &[&str] = &[
    "references",
    "references and notes",
    "notes and references",
    "bibliography",
    "works cited",
];

/// What a heading `Related …` may name to be about other pages ("Related work" and
/// "Related expert advice" are sections of the page itself).
const RELATED_WHAT: &[&str] = &[
    "articles",
    "posts",
    "stories",
    "content",
    "coverage",
    "topics",
    "videos",
    "items",
    "products",
    "links",
    "reading",
    "reads",
    "discussions",
    "questions",
    "threads",
    "news",
    "pages",
    "searches",
];

/// Whether a heading names a section about other pages ([`ASIDE_HEADINGS`]).
fn is_aside_heading(text: &str) -> bool {
    let t = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .replace('\u{2019}', "'");
    let t = t.trim_matches(|c: char| !c.is_alphanumeric());
    let starts = |p: &str| {
        t.strip_prefix(p)
            .is_some_and(|rest| !rest.starts_with(char::is_alphanumeric))
    };
    if let Some(rest) = t.strip_prefix("related") {
        let rest = rest.trim_start_matches(|c: char| c == ':' || c.is_whitespace());
        return rest.is_empty() || RELATED_WHAT.contains(&rest);
    }
    // "Reviews (407)", "Customer reviews 4.8": the words without a trailing count.
    let bare = t.trim_end_matches(|c: char| !c.is_alphabetic());
    REVIEW_HEADINGS.contains(&bare)
        || CITATION_HEADINGS.contains(&bare)
        || ASIDE_HEADINGS.iter().any(|p| starts(p))
}

/// Path words of discussion pages.
const DISCUSSION_PATH: WordSet = WordSet::new(&[
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
const DISCUSSION_CLASS: WordSet = WordSet::new(&[
    "forum",
    "thread",
    "topic",
    "discussion",
    "question",
    "bbpress",
    "phpbb",
]);

/// Whether the page is a discussion: replies there are content, not boilerplate.
fn is_discussion(dom: &Dom, url_path: Option<&str>) -> bool {
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
const REPLY: WordSet = WordSet::new(&["comment", "repl", "answer"]);

/// Class/id words of containers that hide content until a click.
const COLLAPSED: WordSet = WordSet::new(&[
    "tab",
    "panel",
    "accordion",
    "collaps",
    "expand",
    "faq",
    "answer",
    "toggle",
    "readmore",
    "read-more",
    "spoiler",
]);

/// Whether element `id` with these `role`, `class` and `id` attributes (the first of
/// each, as [`Dom::attr`] and [`Dom::class_and_id`] read them) hides content until a click.
fn is_collapsed_content(
    dom: &Dom,
    id: NodeId,
    role: Option<&str>,
    class: &str,
    ident: &str,
) -> bool {
    matches!(role, Some("tabpanel" | "region"))
        || dom.is(id, Tag::Details)
        || COLLAPSED.in_str(class)
        || COLLAPSED.in_str(ident)
}

/// Class names of text shown to screen readers only (Bootstrap, WordPress, Tailwind).
const SCREEN_READER_ONLY: WordSet = WordSet::new(&[
    "sr-only",
    "visually-hidden",
    "visuallyhidden",
    "screen-reader",
    "screenreader",
    "v-visible-sr",
]);

/// Whether a class names one slide of a carousel (Slick, Swiper, Bootstrap, Splide, Glide,
/// Owl) that is not a clone: carousels mark the slides out of view `aria-hidden`, but
/// they are content a click away, like collapsed tabs. The clones an endless carousel
/// draws at both ends repeat real slides.
fn is_carousel_slide(class: &str) -> bool {
    let mut slide = false;
    for t in class.split_ascii_whitespace() {
        let t = t.to_ascii_lowercase();
        if t.contains("clone") || t.contains("duplicate") {
            return false;
        }
        slide |= t.ends_with("-slide")
            || t.ends_with("__slide")
            || t == "carousel-item"
            || t == "owl-item";
    }
    slide
}

/// Whether a class list hides an element at every screen size: Bootstrap's (and Stack
/// Overflow's) `d-none` without a `d-*` display class beside it (`d-none d-md-block`
/// shows on wider screens).
fn is_display_none_class(class: &str) -> bool {
    // Most classes have no `d-` token: found without splitting.
    let b = class.as_bytes();
    let d_token = memchr::memchr_iter(b'-', b).any(|i| {
        i >= 1 && b[i - 1].eq_ignore_ascii_case(&b'd') && (i == 1 || b[i - 2].is_ascii_whitespace())
    });
    if !d_token {
        return false;
    }
    let mut none = false;
    for t in class.split_ascii_whitespace() {
        if t.eq_ignore_ascii_case("d-none") {
            none = true;
        } else if t.len() > 2 && t.as_bytes()[..2].eq_ignore_ascii_case(b"d-") {
            return false;
        }
    }
    none
}

/// Whether an element is hidden by its markup (`hidden`, `aria-hidden`, inline
/// `display:none` or `visibility:hidden`, screen-reader-only classes). Callers exempt a
/// node that holds most of the page: pages that hide their whole body until scripts run
/// (flash-of-unstyled-content guards, an open modal) must not lose it; such a node is
/// hidden by a script's state (a modal open, hydration pending), not because it is
/// boilerplate. A page's answers are kept in its [`Memo`].
fn is_hidden(dom: &Dom, id: NodeId) -> bool {
    // Collapsed tabs, accordions and FAQ answers are content a click away.
    // The attributes read below, in one pass (an element without any is not hidden).
    let mut any = false;
    let (mut class, mut ident) = ("", "");
    let mut first_id = None;
    let mut role = None;
    for (k, v) in dom.attrs(id) {
        any = true;
        match k {
            "class" if class.is_empty() => class = v,
            "id" => {
                first_id = first_id.or(Some(v));
                if ident.is_empty() {
                    ident = v;
                }
            }
            "role" if role.is_none() => role = Some(v),
            _ => {}
        }
    }
    if !any || is_collapsed_content(dom, id, role, class, ident) {
        return false;
    }
    // Text for screen readers only is not on the page.
    if SCREEN_READER_ONLY.in_str(class) || is_display_none_class(class) {
        return true;
    }
    // React's streamed server rendering parks finished Suspense boundaries in
    // `<div hidden id="S:n">` until a script moves them in place: that is the content.
    if first_id.is_some_and(|i| i.starts_with("S:")) {
        return false;
    }
    for (k, v) in dom.attrs(id) {
        match k {
            "hidden" => return true,
            // A popover (menus, off-canvas panels, "install the app" cards) is not shown
            // until a button opens it: the UA stylesheet hides `[popover]` when closed.
            "popover" => return true,
            "aria-hidden" if v == "true" => {
                return !class.contains("fallback-image") && !is_carousel_slide(class);
            }
            "style" => {
                let v = v.to_ascii_lowercase();
                let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
                if compact.contains("display:none") || compact.contains("visibility:hidden") {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// `GANNET_DEBUG` set: explain choices on stderr.
fn debug() -> bool {
    static DEBUG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("GANNET_DEBUG").is_some())
}

/// Smallest removal (characters) that `GANNET_DEBUG` reports (`GANNET_DEBUG=all`: 30).
fn debug_min() -> u32 {
    static MIN: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *MIN.get_or_init(|| {
        if std::env::var_os("GANNET_DEBUG").is_some_and(|v| v == "all") {
            30
        } else {
            200
        }
    })
}

/// Everything extraction needs from the caller.
pub(crate) struct ContentInput<'a> {
    /// Path of the page's URL (or canonical URL), when known.
    pub(crate) url_path: Option<&'a str>,
    /// Nodes that carry metadata, not content: the byline and a heading repeating the title.
    pub(crate) skip_nodes: &'a [NodeId],
}

/// Extract the main content from `dom`. Returns the cleaned DOM and the node to render.
///
/// Every attempt works on `dom` itself: the DOM records the first attempt's changes, and
/// the rare retries roll them back, which gives the parsed tree again (same node ids, so
/// `input.skip_nodes` and the [`Memo`] stay valid) without parsing the page again or
/// copying the DOM on every page that the first attempt settles. An attempt kept as the
/// best so far while later ones try is copied.
pub(crate) fn extract_content(mut dom: Dom, input: &ContentInput<'_>) -> (Dom, NodeId) {
    let forum = is_discussion(&dom, input.url_path);
    let attempts = [
        Flags {
            strip_unlikely: true,
            weight_classes: true,
            clean_conditionally: true,
            forum,
        },
        Flags {
            strip_unlikely: false,
            weight_classes: true,
            clean_conditionally: true,
            forum,
        },
        Flags {
            strip_unlikely: false,
            weight_classes: false,
            clean_conditionally: true,
            forum,
        },
        Flags {
            strip_unlikely: false,
            weight_classes: false,
            clean_conditionally: false,
            forum,
        },
    ];
    let mut memo = Memo::new(dom.len());
    let mut best: Option<(Dom, NodeId, u32)> = None;
    dom.record();
    let last = attempts.len() - 1;
    for (k, flags) in attempts.into_iter().enumerate() {
        if k > 0 {
            dom.rollback();
        }
        let (root, len, page_good) = Extractor::new(&mut dom, flags, input, &mut memo).run();
        // Readability accepts 500 characters; a page with much more prose than that
        // (its sections all named "…headerWrapper", say) deserves a retry first.
        let threshold = CHAR_THRESHOLD.max((page_good / 5).min(1000));
        let better = best.as_ref().is_none_or(|b| len > b.2);
        if len >= threshold || (k == last && better) {
            dom.stop_recording();
            return (dom, root);
        }
        if better {
            let mut copy = dom.clone();
            copy.stop_recording();
            best = Some((copy, root, len));
        }
    }
    match best {
        Some((d, root, _)) => (d, root),
        None => {
            dom.rollback();
            dom.stop_recording();
            let root = dom.root();
            (dom, root)
        }
    }
}

/// What extraction measures of the page's nodes that no attempt changes (the text of text
/// nodes, the class of elements), kept across the aggregate passes (two per attempt) and
/// the attempts (which start again from the same tree, with the same node ids).
struct Memo {
    /// Per text node: visible characters and commas; `UNMEASURED` until measured.
    text: Vec<(u32, u32)>,
    /// Per element: [`class_signature`] of its class; 0 until computed (a signature of 0
    /// is computed every time, which is only slower).
    class: Vec<u64>,
    /// Per element: [`class_weight`] with class weighting on (the `forum` flag is the
    /// page's); NaN until computed.
    weight: Vec<f32>,
    /// Per node: which containers (`IN_*` bits) are among its ancestors in the parsed
    /// tree; empty until the first aggregate pass.
    within: Vec<u8>,
    /// Per element: [`is_hidden`] by its own markup (not holding most of the page):
    /// 0 until computed, then 1 (no) or 2 (yes). Read from `&self` checks, hence cells.
    hidden: Vec<std::cell::Cell<u8>>,
}

const UNMEASURED: (u32, u32) = (u32::MAX, 0);

impl Memo {
    /// For a page of `n` nodes (nodes created later are measured, not kept).
    fn new(n: usize) -> Memo {
        Memo {
            text: vec![UNMEASURED; n],
            class: vec![0; n],
            weight: vec![f32::NAN; n],
            within: Vec::new(),
            hidden: vec![std::cell::Cell::new(0); n],
        }
    }

    /// [`is_hidden`] of element `id` by its own markup.
    fn is_hidden(&self, dom: &Dom, id: NodeId) -> bool {
        match self.hidden.get(id.index()) {
            Some(c) if c.get() != 0 => c.get() == 2,
            Some(c) => {
                let hidden = is_hidden(dom, id);
                c.set(1 + u8::from(hidden));
                hidden
            }
            None => is_hidden(dom, id),
        }
    }

    /// [`class_weight`] of element `id`.
    fn class_weight(&mut self, dom: &Dom, id: NodeId, flags: Flags) -> f32 {
        if !flags.weight_classes {
            return 0.0;
        }
        match self.weight.get_mut(id.index()) {
            Some(w) if w.is_nan() => {
                *w = class_weight(dom, id, flags);
                *w
            }
            Some(w) => *w,
            None => class_weight(dom, id, flags),
        }
    }

    /// [`measure`] of text node `id`'s text `t`.
    fn measure(&mut self, id: NodeId, t: &str) -> (u32, u32) {
        match self.text.get_mut(id.index()) {
            Some(m) if *m == UNMEASURED => {
                *m = measure(t);
                *m
            }
            Some(m) => *m,
            None => measure(t),
        }
    }

    /// [`class_signature`] of element `id`'s class.
    fn class_signature(&mut self, dom: &Dom, id: NodeId) -> u64 {
        let compute = || class_signature(dom.attr(id, "class").unwrap_or(""));
        match self.class.get_mut(id.index()) {
            Some(h) if *h == 0 => {
                *h = compute();
                *h
            }
            Some(h) => *h,
            None => compute(),
        }
    }
}

struct Extractor<'d, 'i> {
    dom: &'d mut Dom,
    flags: Flags,
    input: &'i ContentInput<'i>,
    memo: &'d mut Memo,
    agg: Vec<Agg>,
    score: Vec<f32>,
    scored: Vec<bool>,
    /// Per node: which containers (`IN_*` bits) are among its ancestors.
    within: Vec<u8>,
    /// The content is a run of like items (cards): cleaning keeps link-heavy items.
    listing: bool,
    /// Per node: at least two siblings share its tag and class.
    repeated: Vec<bool>,
}

/// Whole texts of page controls (lowercase): post actions, shop buttons drawn as links,
/// teaser links.
const CONTROL_LABELS: &[&str] = &[
    "reply",
    "quote",
    "report",
    "permalink",
    "share",
    "save",
    "embed",
    "compare",
    "add to compare",
    "add to wishlist",
    "add to wish list",
    "quick shop",
    "quick view",
    "read full article",
    "toggle caption",
    "select all",
    "code select all",
    "report post",
    "report inappropriate content",
    "mark post as helpful",
    "read more",
    "show more",
    "show less",
    "see more",
    "view more",
    "load more",
    "view all",
    "see all",
    "shop now",
    "back to top",
    "jump to content",
    "skip to content",
    "skip to main content",
    "skip navigation",
    "comments",
    "replies",
    "author",
    "member",
    "continue reading",
    // Placeholders and badges: a script's pending content, an ad's label.
    "loading",
    "sponsored",
    "advertisement",
    "in stock",
    "out of stock",
    "sold out",
    "top rated",
    "best seller",
    "bestseller",
    "just in",
    "add to cart",
    "add to bag",
    "add to basket",
    "buy now",
    "quick add",
    "choose options",
    "select options",
    "view full details",
    "apply now",
    "ask question",
    "video",
];

/// Whether a (lowercase, whitespace-collapsed) text is what a discussion shows beside a
/// post: its number (`#12`), a count (`3`, `1.2k`: votes, replies) or `2 likes`.
fn is_post_counter(t: &str) -> bool {
    let t = t.trim();
    let t = t
        .strip_suffix(" likes")
        .or_else(|| t.strip_suffix(" like"))
        .unwrap_or(t);
    let t = t.strip_prefix('#').unwrap_or(t);
    let t = t.strip_suffix(['k', 'm']).unwrap_or(t);
    !t.is_empty()
        && t.starts_with(|c: char| c.is_ascii_digit())
        && t.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
}

/// Labels of the fields of a poster's card beside each post (lowercase).
const USER_CARD_FIELDS: &[&str] = &[
    "posts",
    "threads",
    "joined",
    "join date",
    "registered",
    "member since",
    "reputation",
    "reaction score",
    "messages",
    "location",
];

/// Longest text (visible characters) of a block read as poster's card fields.
const USER_CARD_MAX: u32 = 120;

/// Longest text (visible characters) read as a control label: the longest of
/// [`CONTROL_LABELS`] ("report inappropriate content") with room for punctuation.
const CONTROL_LABEL_MAX: u32 = 32;

/// Sections repeated word for word at least this long (visible characters) are layout
/// copies wherever they sit.
const DUPLICATE_MIN: u32 = 500;
/// Shorter sections down to this length are copies when the second follows the first
/// within its own length.
const DUPLICATE_SMALL: u32 = 60;

const IN_CODE: u8 = 1;
const IN_FIGURE: u8 = 2;
const IN_TABLE: u8 = 4;
const IN_FOOTER: u8 = 8;

/// An array of `n` copies of `value`, with room for the few nodes extraction creates (the
/// article wrapper), so that a push never doubles the array of a million-node page.
fn per_node<T: Clone>(n: usize, value: T) -> Vec<T> {
    let mut v = Vec::with_capacity(n + 64);
    v.resize(n, value);
    v
}

impl<'d, 'i> Extractor<'d, 'i> {
    fn new(
        dom: &'d mut Dom,
        flags: Flags,
        input: &'i ContentInput<'i>,
        memo: &'d mut Memo,
    ) -> Self {
        let n = dom.len();
        Extractor {
            dom,
            flags,
            input,
            memo,
            agg: per_node(n, Agg::default()),
            score: per_node(n, 0.0),
            scored: per_node(n, false),
            within: per_node(n, 0),
            listing: false,
            repeated: Vec::new(),
        }
    }

    /// Extract: the content root, its length in characters, and how much prose the whole
    /// page has.
    fn run(mut self) -> (NodeId, u32, u32) {
        let body = self.dom.body().unwrap_or(self.dom.root());
        self.compute_aggregates();
        let page_good = self.agg_of(body).good;
        self.preclean(body);
        self.compute_aggregates();
        let top = self.select(body);
        if debug() {
            let path: Vec<String> = std::iter::once(top)
                .chain(self.dom.ancestors(top))
                .map(|n| format!("{}.{}", self.dom.tag_name(n), names(self.dom, n).trim()))
                .collect();
            eprintln!(
                "flags {:?} top {} score {} text {}",
                self.flags,
                path.join(" < "),
                self.score.get(top.index()).copied().unwrap_or(0.0),
                self.agg_of(top).text
            );
        }
        let mut top = self.widen(top, body);
        let mut intro = None;
        if let Some(list) = self.best_listing(body) {
            let l = self.agg_of(list);
            let t = self.agg_of(top);
            // Pages made of cards (listings, shops, news indexes) have little prose for the
            // paragraph scores; take the run of like items when it carries more text than the
            // best prose block and is not its descendant.
            // A long article keeps its place, whatever lists the page also has.
            // The items may sit right in <body> (a shop whose list escaped its container);
            // take that only when no real prose block competes.
            if (list != body || t.good < 300)
                && l.text > t.text.saturating_mul(2)
                && t.good < 2500
                && !self.dom.is_ancestor(top, list)
            {
                if debug() {
                    eprintln!(
                        "listing {}.{} text {} beats top text {} good {}",
                        self.dom.tag_name(list),
                        names(self.dom, list).trim(),
                        l.text,
                        t.text,
                        t.good
                    );
                }
                self.listing = true;
                // Keep the prose block too when both sit in one content container (a
                // category intro above its products).
                let lca = self.common_ancestor(top, list);
                let prose = top;
                top = match lca {
                    Some(c) if c != body && self.agg_of(c).link_density() < 0.7 => c,
                    _ => self.widen(list, body),
                };
                // The two apart (no container of both that is not mostly links): keep
                // the prose block beside the items when it is real prose, a category's
                // description.
                if !self.dom.is_ancestor(top, prose)
                    && !self.dom.is_ancestor(prose, top)
                    && t.good >= 200
                    && t.link_density() < 0.3
                {
                    intro = Some(prose);
                }
            } else if ((list == top && t.good * 2 < t.text) || self.dom.is_ancestor(top, list))
                && l.text * 3 > t.text * 2
                && t.good.saturating_sub(l.good) < 500
            {
                // The content is mostly a list of cards: clean it as a listing.
                self.listing = true;
            }
        }
        let mut article = self.gather(top, body);
        if let Some(intro) = intro {
            let both = self.new_article();
            if intro.index() < top.index() {
                self.move_into(both, intro);
                self.move_into(both, article);
            } else {
                self.move_into(both, article);
                self.move_into(both, intro);
            }
            article = both;
        }
        self.prepare(article);
        let len = self.agg_of(article).text;
        (article, len, page_good)
    }

    fn agg_of(&self, id: NodeId) -> Agg {
        self.agg.get(id.index()).copied().unwrap_or_default()
    }

    /// Remove what is never content: scripts, hidden nodes, unlikely candidates (by
    /// class/id/role), the byline and a heading that repeats the title.
    fn preclean(&mut self, body: NodeId) {
        let mut remove = Vec::new();
        let body_text = self.agg_of(body).text;
        let body_good = self.agg_of(body).good;
        let mut walk = self.dom.descendants(body);
        while let Some(id) = walk.next() {
            let Some(tag) = self.dom.tag(id) else {
                continue;
            };
            use Tag::*;
            let drop = match tag {
                // Scripts run in browsers, so <noscript> is not shown; keep it only when it
                // holds most of the page (forums that serve crawlers their posts there).
                Noscript => self.agg_of(id).text * 2 < body_text,
                // A button that swallowed the page (an unclosed start tag) is not a button.
                Button | Select => self.agg_of(id).text < 500,
                Script | Style | Template | Head | Title | Meta | Link | Svg | Canvas | Input
                | Textarea | Option | Object | Embed | Iframe | Dialog | Base => true,
                _ => {
                    // (`is_hidden` says no to a node holding most of the page.)
                    let holds_most = self.agg_of(id).text * 5 >= body_text * 4
                        || (self.agg_of(id).good >= 500 && self.agg_of(id).good * 2 > body_good)
                        || self.is_collapsed_item_body(id);
                    (!holds_most && self.memo.is_hidden(self.dom, id))
                        || self
                            .dom
                            .attr(id, "role")
                            .is_some_and(|r| UNLIKELY_ROLES.contains(&r.trim()))
                        || (self.flags.strip_unlikely
                            && self.agg_of(id).text * 5 < body_text * 3
                            && !self.is_content_head(id)
                            && self.is_unlikely(id, tag))
                        || (self.agg_of(id).text * 2 < body_text && is_overlay(self.dom, id))
                        || self.input.skip_nodes.contains(&id)
                        || (self.within[id.index()] & IN_CODE == 0 && self.is_json_data(id))
                }
            };
            if drop {
                if debug() && self.agg_of(id).text > debug_min() * 5 {
                    eprintln!(
                        "preclean drops {}.{} with {} chars",
                        self.dom.tag_name(id),
                        names(self.dom, id).trim(),
                        self.agg_of(id).text
                    );
                }
                remove.push(id);
                walk.skip_subtree(id);
            }
        }
        for id in remove {
            self.dom.detach(id);
        }
    }

    /// A block holding the page's `h1` and the prose that opens the content (MDN's
    /// `layout__header`: title and introduction): a "header" by name, but the content's
    /// head, not the page's. 300 characters of prose, so that a news article's header
    /// (headline, a one-line standfirst, the date) stays out as Readability leaves it.
    fn is_content_head(&self, id: NodeId) -> bool {
        let a = self.agg_of(id);
        a.h1 && a.good >= 300 && a.link_density() < 0.3
    }

    /// A hidden block of prose right after a visible head, inside one of a run of like
    /// items: the answer of a FAQ entry, the body of an accordion section, shown on click
    /// whatever the page's class names (styled-components' `kAHMfN` say nothing).
    fn is_collapsed_item_body(&self, id: NodeId) -> bool {
        self.agg_of(id).good >= 25
            && self.dom.parent(id).is_some_and(|p| self.is_repeated(p))
            && self
                .dom
                .prev_element_sibling(id)
                .is_some_and(|q| self.agg_of(q).text > 0 && !self.memo.is_hidden(self.dom, q))
    }

    /// An element whose only content is a JSON object or array (state a script reads,
    /// parked in a hidden block): data, not prose. Code blocks are never data.
    fn is_json_data(&self, id: NodeId) -> bool {
        if self.agg_of(id).text < 80 || matches!(self.dom.tag(id), Some(Tag::Pre | Tag::Code)) {
            return false;
        }
        let mut kids = self.dom.children(id);
        let (Some(only), None) = (kids.next(), kids.next()) else {
            return false;
        };
        let Some(t) = self.dom.text(only) else {
            return false;
        };
        let t = t.trim();
        (t.starts_with("{\"") || t.starts_with("[{\""))
            && (t.ends_with('}') || t.ends_with(']'))
            && t.matches("\":").count() >= 3
    }

    /// A link or small block whose whole text is what a page control says ("Reply",
    /// "Permalink", "Add to wishlist", "Read full article"): an action, not content.
    fn is_control_label(&self, id: NodeId, tag: Tag) -> bool {
        if !matches!(
            tag,
            Tag::A | Tag::Span | Tag::Li | Tag::Div | Tag::P | Tag::Label
        ) {
            return false;
        }
        let t = self.dom.text_content(id);
        let t = t
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let bare = t.trim_matches(|c: char| !c.is_alphanumeric());
        CONTROL_LABELS.contains(&bare) || (self.flags.forum && is_post_counter(&t))
    }

    /// On a discussion page, a small block whose text is a poster's card field ("Posts:
    /// 1,204", "Joined: Feb 2019", "Location: Boise, ID"), or several of them: who wrote
    /// a post, not what it says.
    fn is_user_card_field(&self, id: NodeId) -> bool {
        if !matches!(
            self.dom.tag(id),
            Some(Tag::Div | Tag::Span | Tag::Li | Tag::P | Tag::Dl | Tag::Dd | Tag::Small)
        ) {
            return false;
        }
        let t = self.dom.text_content(id);
        let t = t.trim_start().to_lowercase();
        USER_CARD_FIELDS.iter().any(|f| {
            t.strip_prefix(f)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
    }

    fn is_unlikely(&self, id: NodeId, tag: Tag) -> bool {
        if matches!(
            tag,
            Tag::Body | Tag::A | Tag::Html | Tag::Main | Tag::Article
        ) {
            return false;
        }
        if tag == Tag::Nav {
            return true;
        }
        // Keep anything inside a table or code block (tested first: it is one load, and
        // on source listings it spares the name scans of every highlighted token).
        if self.within[id.index()] & (IN_CODE | IN_TABLE) != 0 {
            return false;
        }
        let (class, ident) = self.dom.class_and_id(id);
        let unlikely = |s: &str| UNLIKELY.in_str(s) || UNLIKELY_EXTRA.in_str(s);
        let maybe = |s: &str| {
            OK_MAYBE.in_str(s) || OK_MAYBE_EXTRA.in_str(s) || (self.flags.forum && REPLY.in_str(s))
        };
        if !(unlikely(class) || unlikely(ident)) || maybe(class) || maybe(ident) {
            return false;
        }
        // A section named after its heading is a document's section; a table of data is
        // content whatever its names say (`sticky-header` names how its header row
        // behaves, not a page header).
        !(self.is_named_for_its_heading(id, ident) || (tag == Tag::Table && self.is_data_table(id)))
    }

    /// Whether a section is named after its own heading (Sphinx's `<section
    /// id="cookies"><h2>Cookies</h2>`, Django's `s-extra-fields-…`): the name is the
    /// topic of a document's section, not a page region ("cookies", "header", "extra").
    fn is_named_for_its_heading(&self, id: NodeId, ident: &str) -> bool {
        let Some(h) = self.dom.element_children(id).next() else {
            return false;
        };
        if heading_rank(self.dom, h).is_none() || self.agg_of(h).text > 120 {
            return false;
        }
        let slug: String = self
            .dom
            .text_content(h)
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let name: String = ident
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        slug.len() >= 4
            && !PAGE_REGION_TOPICS.in_str(&slug)
            && name.ends_with(&slug)
            && name.len() <= slug.len() + 8
    }

    /// One reverse pass over the arena: children come after their parents in document
    /// order, so every child is complete before its parent reads it.
    fn compute_aggregates(&mut self) {
        let n = self.dom.len();
        let mut alive = vec![false; n];
        alive[0] = true;
        for i in 1..n {
            let id = NodeId(i as u32);
            alive[i] = self
                .dom
                .parent(id)
                .is_some_and(|p| p.index() < i && alive[p.index()]);
        }
        // Forward pass: parents come before children in document order. The containers
        // above each node are the parsed tree's in both passes (preclean only detaches
        // whole subtrees, whose nodes keep their marks) and in every attempt (a rollback
        // restores the tree): worked out once per page.
        if self.memo.within.len() == n && self.within.len() >= n {
            self.within[..n].copy_from_slice(&self.memo.within);
        } else {
            for i in 1..n {
                let id = NodeId(i as u32);
                if let Some(p) = self.dom.parent(id).filter(|p| p.index() < i) {
                    let bit = match self.dom.tag(p) {
                        Some(Tag::Pre | Tag::Code) => IN_CODE,
                        Some(Tag::Figure) => IN_FIGURE,
                        Some(Tag::Table) => IN_TABLE,
                        Some(Tag::Footer) => IN_FOOTER,
                        _ => 0,
                    };
                    self.within[i] = self.within[p.index()] | bit;
                }
            }
            if self.memo.within.is_empty() {
                self.memo.within = self.within[..n.min(self.within.len())].to_vec();
            }
        }
        // Reuse the array (and its spare room) rather than hold two.
        let mut agg = std::mem::take(&mut self.agg);
        agg.clear();
        agg.resize(n, Agg::default());
        for i in (0..n).rev() {
            if !alive[i] {
                continue;
            }
            let id = NodeId(i as u32);
            let mut a = agg[i];
            if let Some(t) = self.dom.text(id) {
                // Script data (JSON-LD, __NEXT_DATA__) is not visible text.
                if self.dom.parent(id).is_some_and(|p| {
                    matches!(
                        self.dom.tag(p),
                        Some(Tag::Script | Tag::Style | Tag::Template)
                    )
                }) {
                    continue;
                }
                let (chars, commas) = self.memo.measure(id, t);
                a.text = chars;
                a.commas = commas;
            } else if let Some(tag) = self.dom.tag(id) {
                use Tag::*;
                match tag {
                    A => {
                        a.link = a.text;
                        if a.p > 0 || a.structured {
                            a.card_link = a.text;
                        }
                    }
                    P => a.p += 1,
                    Img => a.img += 1,
                    Li => a.li += 1,
                    Input | Select | Textarea | Button => a.input += 1,
                    Embed | Object | Iframe => a.embed += 1,
                    H1 | H2 | H3 | H4 | H5 | H6 => a.heading = a.text,
                    Ul | Ol => a.list_text = a.text,
                    _ => {}
                }
                if matches!(tag, Table | Pre | Code) {
                    a.keep = true;
                }
                a.h1 |= tag == H1;
            }
            agg[i] = a;
            if let Some(p) = self.dom.parent(id) {
                let child = agg[i];
                let parent = &mut agg[p.index()];
                parent.add(&child);
                parent.keep |= child.keep;
                parent.h1 |= child.h1;
                parent.structured |= child.structured
                    || matches!(
                        self.dom.tag(id),
                        Some(
                            Tag::Div
                                | Tag::P
                                | Tag::Span
                                | Tag::H2
                                | Tag::H3
                                | Tag::H4
                                | Tag::H5
                                | Tag::H6
                                | Tag::Figure
                                | Tag::Section
                        )
                    );
                parent.block |= child.block
                    || matches!(
                        self.dom.tag(id),
                        Some(
                            Tag::Blockquote
                                | Tag::Dl
                                | Tag::Div
                                | Tag::Img
                                | Tag::Ol
                                | Tag::P
                                | Tag::Pre
                                | Tag::Table
                                | Tag::Ul
                                | Tag::Section
                                | Tag::Article
                                | Tag::Figure
                        )
                    );
            }
        }
        self.agg = agg;
        self.compute_good(&alive);
        // Both passes: preclean reads it too (a hidden answer in a run of FAQ items).
        self.compute_repeated(&alive);
    }

    /// Mark prose: a block (nearest block-level ancestor of a text) with 25+ characters
    /// and link density under 1/3 contributes its non-link text to `good` of every
    /// ancestor. One pass over text nodes plus one reverse pass to sum.
    fn compute_good(&mut self, alive: &[bool]) {
        let n = self.dom.len();
        let mut own = vec![0u32; n];
        for i in 0..n {
            if !alive[i] {
                continue;
            }
            let id = NodeId(i as u32);
            if !self.dom.is_text(id) {
                continue;
            }
            let mut in_link = false;
            let mut block = None;
            for a in self.dom.ancestors(id) {
                match self.dom.tag(a) {
                    Some(Tag::A) => in_link = true,
                    Some(t) if t.is_block() => {
                        block = Some(a);
                        break;
                    }
                    _ => {}
                }
            }
            if in_link {
                continue;
            }
            let Some(b) = block else { continue };
            let ba = self.agg[b.index()];
            if ba.text >= 25 && ba.link_density() < 0.33 {
                own[i] = self.agg[i].text;
            }
        }
        for i in (0..n).rev() {
            if !alive[i] {
                continue;
            }
            let id = NodeId(i as u32);
            let g = own[i];
            self.agg[i].good += g;
            if let Some(p) = self.dom.parent(id) {
                own[p.index()] += self.agg[i].good;
            }
        }
    }

    /// Climb from the best candidate to the ancestor that holds the rest of the content:
    /// forum posts, listing items, the sections of a service page. An ancestor is taken
    /// when it adds a good share of prose without diluting it much with boilerplate.
    fn widen(&self, top: NodeId, body: NodeId) -> NodeId {
        let t = self.agg_of(top);
        if t.text == 0 {
            return top;
        }
        let mut best = top;
        let mut best_good = t.good.max(1);
        let base_ratio = t.good as f32 / t.text as f32;
        let mut cur = self.dom.parent(top);
        while let Some(a) = cur {
            if !self.dom.is_element(a) {
                break;
            }
            let x = self.agg_of(a);
            if x.text == 0 {
                break;
            }
            let ratio = x.good as f32 / x.text as f32;
            if debug() {
                eprintln!(
                    "widen? {}.{} good {} text {} ratio {:.2} (base {:.2}) links {:.2}",
                    self.dom.tag_name(a),
                    names(self.dom, a).trim(),
                    x.good,
                    x.text,
                    ratio,
                    base_ratio,
                    x.link_density()
                );
            }
            // Much more prose above tolerates more links around it.
            let link_cap = if x.good > best_good.saturating_mul(3) {
                0.55
            } else {
                0.45
            };
            if ratio < (base_ratio * 0.6).max(0.35) || x.link_density() > link_cap {
                break;
            }
            if x.good as f32 >= best_good as f32 * 1.6 {
                best = a;
                best_good = x.good;
            }
            if a == body {
                break;
            }
            cur = self.dom.parent(a);
        }
        best
    }

    fn init_score(&mut self, id: NodeId) {
        let i = id.index();
        if self.scored[i] {
            return;
        }
        self.scored[i] = true;
        use Tag::*;
        let base = match self.dom.tag(id) {
            Some(Div | Article | Main | Section) => 5.0,
            Some(Pre | Td | Blockquote) => 3.0,
            Some(Address | Ol | Ul | Dl | Dd | Dt | Li | Form) => -3.0,
            Some(H1 | H2 | H3 | H4 | H5 | H6 | Th) => -5.0,
            _ => 0.0,
        };
        self.score[i] = base + self.memo.class_weight(self.dom, id, self.flags);
    }

    /// Score paragraphs into their ancestors and pick the best candidate.
    fn select(&mut self, body: NodeId) -> NodeId {
        let mut candidates: Vec<NodeId> = Vec::new();
        let ids: Vec<NodeId> = self.dom.descendants(body).collect();
        for id in ids {
            let Some(tag) = self.dom.tag(id) else {
                continue;
            };
            let a = self.agg_of(id);
            let paragraph = match tag {
                Tag::P | Tag::Td | Tag::Pre => true,
                Tag::Div | Tag::Section | Tag::Article | Tag::Li => !a.block,
                Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6 => false,
                _ => false,
            };
            let own_text;
            let (text, commas) = if paragraph {
                (a.text, a.commas)
            } else if matches!(tag, Tag::Div | Tag::Section | Tag::Article) && a.block {
                // Text that sits directly in a block container (Readability wraps it in
                // a <p>): score it as a paragraph of this container.
                own_text = self.inline_text(id);
                (own_text.0, own_text.1)
            } else {
                continue;
            };
            if text < 25 {
                continue;
            }
            let score = 1.0 + commas as f32 + (text / 100).min(3) as f32;
            let mut level = 0usize;
            let start = if paragraph {
                self.dom.parent(id)
            } else {
                Some(id)
            };
            let mut cur = start;
            while let Some(anc) = cur {
                if level >= 5 || !self.dom.is_element(anc) {
                    break;
                }
                if !self.scored[anc.index()] {
                    self.init_score(anc);
                    candidates.push(anc);
                }
                let divider = match level {
                    0 => 1.0,
                    1 => 2.0,
                    l => l as f32 * 3.0,
                };
                self.score[anc.index()] += score / divider;
                level += 1;
                cur = self.dom.parent(anc);
            }
        }
        // A page footer is never the content, whatever its paragraphs score (on a page
        // of cards with little prose, its blurbs can outscore everything else).
        let outside: Vec<NodeId> = candidates
            .iter()
            .copied()
            .filter(|&c| self.within[c.index()] & IN_FOOTER == 0 && !self.dom.is(c, Tag::Footer))
            .collect();
        if !outside.is_empty() {
            candidates = outside;
        }
        // Scale by link density.
        let mut top: Vec<(NodeId, f32)> = Vec::with_capacity(candidates.len());
        for c in candidates {
            let s = self.score[c.index()] * (1.0 - self.agg_of(c).link_density());
            self.score[c.index()] = s;
            top.push((c, s));
        }
        top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let Some(&(mut best, best_score)) = top.first() else {
            return body;
        };
        if matches!(self.dom.tag(best), Some(Tag::Body | Tag::Html)) {
            return body;
        }
        // Several strong candidates sharing an ancestor: that ancestor holds the content.
        let alternatives: Vec<NodeId> = top
            .iter()
            .skip(1)
            .take(4)
            .filter(|(_, s)| *s >= best_score * 0.75)
            .map(|(n, _)| *n)
            .collect();
        if alternatives.len() >= 3 {
            let mut parent = self.dom.parent(best);
            while let Some(p) = parent {
                if p == body || !self.dom.is_element(p) {
                    break;
                }
                let holders = alternatives
                    .iter()
                    .filter(|&&a| self.dom.is_ancestor(p, a))
                    .count();
                if holders >= 3 {
                    best = p;
                    break;
                }
                parent = self.dom.parent(p);
            }
        }
        self.init_score(best);
        // Climb while the score goes up (content is spread over siblings).
        let mut last = self.score[best.index()];
        let threshold = last / 3.0;
        let mut parent = self.dom.parent(best);
        while let Some(p) = parent {
            if p == body || !self.dom.is_element(p) {
                break;
            }
            if !self.scored[p.index()] {
                parent = self.dom.parent(p);
                continue;
            }
            let s = self.score[p.index()];
            if s < threshold {
                break;
            }
            if s > last {
                best = p;
                break;
            }
            last = s;
            parent = self.dom.parent(p);
        }
        // An only child stands for its parent.
        while let Some(p) = self.dom.parent(best) {
            if p == body || !self.dom.is_element(p) || self.dom.element_children(p).count() != 1 {
                break;
            }
            best = p;
        }
        best
    }

    /// Characters and commas of the text directly inside `id` (text children and inline
    /// element children).
    fn inline_text(&self, id: NodeId) -> (u32, u32) {
        let mut chars = 0;
        let mut commas = 0;
        for c in self.dom.children(id) {
            let inline = match self.dom.tag(c) {
                None => true,
                Some(t) => !t.is_block() && !self.agg_of(c).block,
            };
            if inline {
                let a = self.agg_of(c);
                chars += a.text;
                commas += a.commas;
            }
        }
        (chars, commas)
    }

    /// A new `<div>` to hold the content, with room in the per-node arrays.
    fn new_article(&mut self) -> NodeId {
        let article = self.dom.create_element(Tag::Div);
        self.agg.push(Agg::default());
        self.score.push(0.0);
        self.scored.push(false);
        self.within.push(0);
        article
    }

    /// The top candidate plus the siblings that belong with it, moved into a new `<div>`.
    fn gather(&mut self, top: NodeId, body: NodeId) -> NodeId {
        let article = self.new_article();
        if top == body {
            let children: Vec<NodeId> = self.dom.children(body).collect();
            for c in children {
                self.move_into(article, c);
            }
            return article;
        }
        let Some(parent) = self.dom.parent(top) else {
            self.move_into(article, top);
            return article;
        };
        let top_score = self.score[top.index()];
        let threshold = (top_score * 0.2).max(10.0);
        let top_class = self.dom.attr(top, "class").unwrap_or("").to_string();
        let siblings: Vec<NodeId> = self.dom.children(parent).collect();
        for s in siblings {
            let append = if s == top {
                true
            } else if !self.dom.is_element(s) {
                false
            } else if s.index() < top.index() && self.is_content_head(s) {
                // The head of the content before it (title and introduction).
                true
            } else {
                let mut bonus = 0.0;
                if !top_class.is_empty() && self.dom.attr(s, "class") == Some(top_class.as_str()) {
                    bonus += top_score * 0.2;
                }
                if self.scored[s.index()] && self.score[s.index()] + bonus >= threshold {
                    true
                } else if self.dom.is(s, Tag::P) {
                    let a = self.agg_of(s);
                    let density = a.link_density();
                    if a.text > 80 && density < 0.25 {
                        true
                    } else if a.text > 0 && a.text <= 80 && density == 0.0 {
                        let t = self.dom.text_content(s);
                        let t = t.trim_end();
                        t.ends_with('.') || t.contains(". ")
                    } else {
                        false
                    }
                } else {
                    false
                }
            };
            if append {
                self.move_into(article, s);
            }
        }
        article
    }

    fn move_into(&mut self, article: NodeId, node: NodeId) {
        let a = self.agg_of(node);
        self.dom.append_child(article, node);
        let art = &mut self.agg[article.index()];
        art.add(&a);
        art.keep |= a.keep;
        art.block = true;
    }

    /// Remove a node and subtract its measures from its ancestors.
    fn remove(&mut self, id: NodeId) {
        let a = self.agg_of(id);
        if debug() && a.text > debug_min() {
            eprintln!(
                "clean removes {}.{} text {} links {:.2} p {} li {} img {} input {} embed {} good {}",
                self.dom.tag_name(id),
                names(self.dom, id).trim(),
                a.text,
                a.link_density(),
                a.p,
                a.li,
                a.img,
                a.input,
                a.embed,
                a.good
            );
        }
        // Empty nodes (the common case in hostile, deeply nested pages) change no measure:
        // skip the walk to the root.
        if a.text > 0 || a.p > 0 || a.img > 0 || a.li > 0 || a.input > 0 || a.embed > 0 {
            let mut cur = self.dom.parent(id);
            while let Some(anc) = cur {
                if let Some(x) = self.agg.get_mut(anc.index()) {
                    x.sub(&a);
                }
                cur = self.dom.parent(anc);
            }
        }
        self.dom.detach(id);
    }

    /// Readability's prepArticle: drop boilerplate inside the chosen content.
    fn prepare(&mut self, article: NodeId) {
        // Elements never content inside an article.
        let mut always = Vec::new();
        let mut walk = self.dom.descendants(article);
        while let Some(id) = walk.next() {
            if matches!(
                self.dom.tag(id),
                Some(Tag::Footer | Tag::Aside | Tag::Nav | Tag::Form)
            ) && !self.agg_of(id).keep
                && (self.dom.tag(id) != Some(Tag::Form) || self.agg_of(id).input > 0)
            {
                always.push(id);
                walk.skip_subtree(id);
            }
        }
        for id in always {
            if self.dom.tag(id) == Some(Tag::Form) && self.agg_of(id).text > 500 {
                continue;
            }
            self.remove(id);
        }
        // Share bars and similar short widgets.
        // Reverse document order throughout: a node is visited before its ancestors, so
        // nothing visited can sit in a subtree removed earlier in the same loop, and no
        // attachment check (a walk to the root) is needed.
        let ids: Vec<NodeId> = self.dom.descendants(article).collect();
        for &id in ids.iter().rev() {
            if !self.dom.is_element(id) {
                continue;
            }
            let (class, ident) = self.dom.class_and_id(id);
            if (SHARE.in_str(class) || SHARE.in_str(ident)) && self.agg_of(id).text < 500 {
                self.remove(id);
            }
        }
        if !self.listing {
            self.remove_aside_sections(article);
        }
        if self.flags.clean_conditionally {
            // Reverse document order: inner blocks are judged before the blocks holding them.
            let ids: Vec<NodeId> = self.dom.descendants(article).collect();
            for &id in ids.iter().rev() {
                if matches!(
                    self.dom.tag(id),
                    Some(
                        Tag::Form
                            | Tag::Fieldset
                            | Tag::Table
                            | Tag::Ul
                            | Tag::Ol
                            | Tag::Div
                            | Tag::Section
                            | Tag::Aside
                            | Tag::Header
                    )
                ) && self.should_clean(id)
                {
                    self.remove(id);
                }
            }
        }
        self.remove_duplicates(article);
        // Headings that look like boilerplate; empty paragraphs.
        let ids: Vec<NodeId> = self.dom.descendants(article).collect();
        for id in ids.into_iter().rev() {
            match self.dom.tag(id) {
                Some(Tag::H1 | Tag::H2)
                    if self.memo.class_weight(self.dom, id, self.flags) < 0.0 =>
                {
                    self.remove(id)
                }
                Some(Tag::P | Tag::Div | Tag::Section) => {
                    let a = self.agg_of(id);
                    if a.text == 0 && a.img == 0 && a.embed == 0 && !a.keep && !self.has_media(id) {
                        self.remove(id);
                    }
                }
                _ => {}
            }
        }
        // Control labels go last: the cleaning rules above read link density with them.
        let ids: Vec<NodeId> = self.dom.descendants(article).collect();
        for &id in ids.iter().rev() {
            let text = self.agg_of(id).text;
            if (text <= CONTROL_LABEL_MAX
                && self
                    .dom
                    .tag(id)
                    .is_some_and(|t| self.is_control_label(id, t)))
                || (self.flags.forum && text <= USER_CARD_MAX && self.is_user_card_field(id))
            {
                self.remove(id);
            }
        }
    }

    /// Remove the sections that a heading names as being about other pages: related
    /// stories, recommendations, "people also viewed", reply forms. The section is the
    /// block the heading opens (climbing while it is the first element), or, in flat
    /// markup, the heading and its siblings up to the next heading of its rank.
    fn remove_aside_sections(&mut self, article: NodeId) {
        let total = self.agg_of(article).text;
        let headings: Vec<NodeId> = self
            .dom
            .descendants(article)
            .filter(|&d| heading_rank(self.dom, d).is_some())
            .collect();
        for h in headings {
            if self.agg_of(h).text > 80 || !self.dom.is_ancestor(article, h) {
                continue;
            }
            if !is_aside_heading(&self.dom.text_content(h)) {
                continue;
            }
            let mut s = h;
            while let Some(p) = self.dom.parent(s) {
                if p == article
                    || self.dom.element_children(p).next() != Some(s)
                    || self.agg_of(p).text * 2 > total
                {
                    break;
                }
                s = p;
            }
            if debug() {
                eprintln!(
                    "aside section {:?} removes {}.{} text {}",
                    self.dom.text_content(h).trim(),
                    self.dom.tag_name(s),
                    names(self.dom, s).trim(),
                    self.agg_of(s).text
                );
            }
            if s != h {
                self.remove(s);
                continue;
            }
            // Flat markup: the heading and what follows it, up to the next heading of its
            // rank or above.
            let rank = heading_rank(self.dom, h).unwrap_or(1);
            let mut run = vec![h];
            let mut size = self.agg_of(h).text;
            let mut cur = self.dom.next_element_sibling(h);
            while let Some(c) = cur {
                if heading_rank(self.dom, c).is_some_and(|r| r <= rank) {
                    break;
                }
                size += self.agg_of(c).text;
                run.push(c);
                cur = self.dom.next_element_sibling(c);
            }
            // Without a block of its own, the section must look like one: mostly links.
            let links: u32 = run.iter().map(|&r| self.agg_of(r).link).sum();
            if size * 2 > total || links * 2 < size {
                continue;
            }
            for r in run {
                self.remove(r);
            }
        }
    }

    /// Remove blocks that repeat an earlier block word for word: pages built for several
    /// screen sizes carry their content once per layout, all but one hidden by CSS.
    /// Sections only (blocks of blocks), and not quotes or code (a paragraph said twice, a
    /// reply quoting a post, an example shown twice are content). Large sections
    /// ([`DUPLICATE_MIN`]) go wherever they repeat (a whole layout twice); small ones
    /// ([`DUPLICATE_SMALL`], a card or a hero block drawn for desktop and for mobile) only
    /// when the copy follows the first closely: a note a document repeats in several
    /// places is content.
    fn remove_duplicates(&mut self, article: NodeId) {
        let hashes = self.text_hashes(article);
        let mut seen: std::collections::HashMap<u64, NodeId> = std::collections::HashMap::new();
        let mut dups = Vec::new();
        // Per node: visible characters before it in the article, in document order.
        let mut offset = vec![0u32; self.dom.len()];
        let mut run = 0u32;
        for id in self.dom.descendants(article) {
            if let Some(o) = offset.get_mut(id.index()) {
                *o = run;
            }
            if self.dom.text(id).is_some() {
                run = run.saturating_add(self.agg_of(id).text);
            }
        }
        let at = |id: NodeId| offset.get(id.index()).copied().unwrap_or(0);
        let mut walk = self.dom.descendants(article);
        while let Some(id) = walk.next() {
            if !self.dom.is_element(id) {
                continue;
            }
            let a = self.agg_of(id);
            if a.text < DUPLICATE_SMALL {
                walk.skip_subtree(id);
                continue;
            }
            if matches!(
                self.dom.tag(id),
                Some(Tag::Blockquote | Tag::Pre | Tag::Code | Tag::Table)
            ) {
                walk.skip_subtree(id);
                continue;
            }
            // Sections, not paragraphs: a text may say the same thing twice.
            if !a.block {
                continue;
            }
            let h = hashes.get(id.index()).copied().unwrap_or(0);
            match seen.get(&h) {
                // A block and its only child have the same words: not a repeat.
                Some(&first)
                    if !self.dom.is_ancestor(first, id)
                        && (a.text >= DUPLICATE_MIN
                            || at(id).saturating_sub(at(first) + self.agg_of(first).text)
                                <= a.text) =>
                {
                    dups.push(id);
                    walk.skip_subtree(id);
                }
                Some(_) => {}
                None => {
                    seen.insert(h, id);
                }
            }
        }
        for id in dups {
            if debug() {
                eprintln!(
                    "duplicate removes {}.{} text {}",
                    self.dom.tag_name(id),
                    names(self.dom, id).trim(),
                    self.agg_of(id).text
                );
            }
            self.remove(id);
        }
    }

    /// Per node, a hash of its words in order, whatever elements they sit in: a
    /// polynomial hash, so a parent's is composed from its children's in one bottom-up
    /// pass (linear time, however deep the blocks nest).
    fn text_hashes(&self, article: NodeId) -> Vec<u64> {
        const BASE: u64 = 0x100_0000_01b3;
        // (hash, BASE^words) per node.
        let mut acc = vec![(0u64, 1u64); self.dom.len()];
        let nodes: Vec<NodeId> = self.dom.descendants(article).collect();
        for &id in nodes.iter().rev() {
            let (mut h, mut pow) = (0u64, 1u64);
            if let Some(t) = self.dom.text(id) {
                for w in t.split_whitespace() {
                    h = h
                        .wrapping_mul(BASE)
                        .wrapping_add(fnv(FNV_OFFSET, w.as_bytes()));
                    pow = pow.wrapping_mul(BASE);
                }
            } else {
                for c in self.dom.children(id) {
                    let (ch, cp) = acc.get(c.index()).copied().unwrap_or((0, 1));
                    h = h.wrapping_mul(cp).wrapping_add(ch);
                    pow = pow.wrapping_mul(cp);
                }
            }
            if let Some(x) = acc.get_mut(id.index()) {
                *x = (h, pow);
            }
        }
        acc.into_iter().map(|(h, _)| h).collect()
    }

    fn has_media(&self, id: NodeId) -> bool {
        self.dom.descendants(id).any(|d| {
            matches!(
                self.dom.tag(d),
                Some(Tag::Img | Tag::Video | Tag::Audio | Tag::Picture | Tag::Math | Tag::Br)
            )
        })
    }

    /// Readability's `_cleanConditionally` test.
    fn should_clean(&mut self, id: NodeId) -> bool {
        let a = self.agg_of(id);
        let tag = self.dom.tag(id);
        if a.keep && tag != Some(Tag::Table) {
            // Code blocks and tables inside are content.
            if self.contains_code(id) {
                return false;
            }
        }
        if tag == Some(Tag::Table) && self.is_data_table(id) {
            return false;
        }
        if self.within[id.index()] & IN_CODE != 0 {
            return false;
        }
        let mut is_list = matches!(tag, Some(Tag::Ul | Tag::Ol));
        if !is_list && a.text > 0 && a.list_text as f32 / a.text as f32 > 0.9 {
            is_list = true;
        }
        let weight = self.memo.class_weight(self.dom, id, self.flags);
        // A negative name does not outweigh a block of real prose.
        if weight < 0.0 {
            // A name that says what a block is (promo, share, comments, sidebar) needs
            // much prose to be overruled; one that only says how it is built or shown
            // (widget, media, scroll, meta) yields to a block that is nearly all prose:
            // page builders wrap every module in `widget`, carousels `scroll`.
            let prose = a.link_density() < 0.2
                && (a.good >= 400
                    || (a.good >= 100
                        && a.good * 5 >= a.text * 4
                        && !strongly_negative(self.dom, id)));
            // One entry of a list of like entries (a listing's `div.meta`).
            let entry = a.text >= 100
                && a.link_density() < 0.5
                && (self.is_repeated(id)
                    || self.dom.parent(id).is_some_and(|p| self.is_repeated(p)));
            if !(prose || entry) {
                return true;
            }
        }
        if a.commas >= 10 {
            return false;
        }
        // Count-based rules (images per paragraph, list items per paragraph) are for
        // widgets; a block that carries real prose is content whatever its markup
        // (forum posts written with <br> instead of <p>, feature lists).
        let entry =
            || self.is_repeated(id) || self.dom.parent(id).is_some_and(|p| self.is_repeated(p));
        if a.link_density() < 0.2 && (a.good >= 500 || (a.good >= 100 && entry())) {
            return false;
        }
        let p = a.p as f32;
        let img = a.img as f32;
        let li = a.li as f32 - 100.0;
        let input = a.input as f32;
        let heading_density = if a.text == 0 {
            0.0
        } else {
            a.heading as f32 / a.text as f32
        };
        let link_density = if self.listing {
            a.item_link_density()
        } else {
            a.link_density()
        };
        let content_length = a.text;
        let in_figure = self.within[id.index()] & IN_FIGURE != 0;
        // Items of a repeated structure (listing entries, posts) carry title links:
        // tolerate more link text than in a lone block.
        let modifier = if self.listing {
            0.7
        } else if self.is_repeated(id) {
            0.45
        } else {
            0.0
        };
        let remove = (img > 1.0 && p / img < 0.5 && !in_figure)
            || (!is_list && li > p)
            || (input > (p / 3.0).floor())
            || (!is_list
                && heading_density < 0.9
                && content_length < 25
                && (img == 0.0 || img > 2.0)
                && link_density > 0.0)
            || (!is_list && weight < 25.0 && link_density > 0.2 + modifier)
            || (weight >= 25.0 && link_density > 0.5 + modifier)
            || ((a.embed == 1 && content_length < 75) || a.embed > 1);
        if is_list && remove {
            // A list of images (a gallery) is content.
            let all_single = self
                .dom
                .element_children(id)
                .all(|c| self.dom.element_children(c).count() <= 1 && self.agg_of(c).img == 1);
            if all_single && a.img > 0 {
                return false;
            }
        }
        remove
    }

    /// The lowest common ancestor of two nodes.
    fn common_ancestor(&self, a: NodeId, b: NodeId) -> Option<NodeId> {
        let chain: Vec<NodeId> = std::iter::once(a).chain(self.dom.ancestors(a)).collect();
        std::iter::once(b)
            .chain(self.dom.ancestors(b))
            .find(|x| chain.contains(x))
    }

    /// The element whose children include the largest run (by text) of at least four
    /// items with the same tag and class: the item list of a listing page.
    fn best_listing(&self, body: NodeId) -> Option<NodeId> {
        let mut best: Option<(NodeId, u32)> = None;
        let mut groups: Vec<(Option<Tag>, &str, u32, u32, u32)> = Vec::new();
        // (tag, signature, count, text, link text outside cards)
        for id in std::iter::once(body).chain(self.dom.descendants(body)) {
            if !self.dom.is_element(id) || self.agg_of(id).text < 200 {
                continue;
            }
            groups.clear();
            for c in self.dom.element_children(id) {
                let tag = self.dom.tag(c);
                let class = item_signature(self.dom.attr(c, "class").unwrap_or(""));
                let a = self.agg_of(c);
                match groups.iter_mut().find(|g| g.0 == tag && g.1 == class) {
                    Some(g) => {
                        g.2 += 1;
                        g.3 += a.text;
                        g.4 += a.link.saturating_sub(a.card_link);
                    }
                    None => {
                        groups.push((tag, class, 1, a.text, a.link.saturating_sub(a.card_link)))
                    }
                }
                if groups.len() > 32 {
                    break;
                }
            }
            for &(tag, class, count, text, link) in &groups {
                if count < 4 || matches!(tag, Some(Tag::Option | Tag::Tr | Tag::Td | Tag::Th)) {
                    continue;
                }
                // Right under <body>, unnamed blocks are page regions, not list items.
                if id == body && class.is_empty() {
                    continue;
                }
                // Navigation menus are runs of links; items carry text besides their link.
                if text == 0 || link as f32 / text as f32 > 0.85 || text / count < 20 {
                    continue;
                }
                if best.is_none_or(|(_, t)| text > t) {
                    best = Some((id, text));
                }
            }
        }
        best.map(|(id, _)| id)
    }

    /// Whether at least two siblings share this element's tag and class: one item of a
    /// list of like items.
    fn is_repeated(&self, id: NodeId) -> bool {
        self.repeated.get(id.index()).copied().unwrap_or(false)
    }

    /// Mark every element that has at least two siblings with its tag and class. One pass
    /// over each parent's children (a map per parent), so a parent with 100,000 unlike
    /// children costs linear time, not quadratic.
    fn compute_repeated(&mut self, alive: &[bool]) {
        let n = self.dom.len();
        let mut repeated = vec![false; n];
        // Few distinct kinds of children is the rule: a small vector searched linearly,
        // with a map only for parents whose children are very varied.
        let mut small: Vec<(Option<Tag>, u64, u32)> = Vec::new();
        let mut large: std::collections::HashMap<(Option<Tag>, u64), u32> =
            std::collections::HashMap::new();
        for (i, &is_alive) in alive.iter().enumerate().take(n) {
            let parent = NodeId(i as u32);
            if !is_alive || !self.dom.is_element(parent) {
                continue;
            }
            if self.dom.element_children(parent).nth(2).is_none() {
                continue;
            }
            small.clear();
            large.clear();
            for c in self.dom.element_children(parent) {
                let key = (self.dom.tag(c), self.memo.class_signature(self.dom, c));
                if large.is_empty() {
                    match small.iter().position(|g| g.0 == key.0 && g.1 == key.1) {
                        Some(k) => small[k].2 += 1,
                        None if small.len() < 16 => small.push((key.0, key.1, 1)),
                        None => {
                            large.extend(small.iter().map(|g| ((g.0, g.1), g.2)));
                            *large.entry(key).or_insert(0) += 1;
                        }
                    }
                } else {
                    *large.entry(key).or_insert(0) += 1;
                }
            }
            if large.is_empty() && small.iter().all(|g| g.2 < 3) {
                continue;
            }
            for c in self.dom.element_children(parent) {
                let (tag, class) = (self.dom.tag(c), self.memo.class_signature(self.dom, c));
                let count = if large.is_empty() {
                    small
                        .iter()
                        .find(|g| g.0 == tag && g.1 == class)
                        .map_or(0, |g| g.2)
                } else {
                    large.get(&(tag, class)).copied().unwrap_or(0)
                };
                repeated[c.index()] = count >= 3;
            }
        }
        self.repeated = repeated;
    }

    fn contains_code(&self, id: NodeId) -> bool {
        self.dom
            .descendants(id)
            .any(|d| matches!(self.dom.tag(d), Some(Tag::Pre | Tag::Code)))
    }

    /// Readability's data-table test: a table of data, not of layout.
    fn is_data_table(&self, table: NodeId) -> bool {
        if self.dom.attr(table, "role") == Some("presentation") {
            return false;
        }
        if self.dom.attr(table, "datatable") == Some("0") {
            return false;
        }
        if self.dom.has_attr(table, "summary") {
            return true;
        }
        let mut rows = 0usize;
        let mut cols = 0usize;
        for d in self.dom.descendants(table) {
            match self.dom.tag(d) {
                Some(
                    Tag::Caption | Tag::Thead | Tag::Tfoot | Tag::Th | Tag::Col | Tag::Colgroup,
                ) => {
                    return true;
                }
                Some(Tag::Table) => return false,
                Some(Tag::Tr) => {
                    rows += 1;
                    let c = self
                        .dom
                        .element_children(d)
                        .filter(|&c| matches!(self.dom.tag(c), Some(Tag::Td | Tag::Th)))
                        .count();
                    cols = cols.max(c);
                }
                _ => {}
            }
        }
        if rows == 1 || cols == 1 {
            return false;
        }
        rows >= 10 || cols > 4 || rows * cols > 10
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markdown(html: &str) -> String {
        crate::extract_str(html, None, &crate::Options::default()).markdown
    }

    fn prose(topic: &str) -> String {
        (0..6)
            .map(|i| {
                format!(
                    "<p>Paragraph {i} about {topic}, with enough words, commas, and detail to \
                     count as real prose for the scorer, as an article would have it.</p>"
                )
            })
            .collect()
    }

    #[test]
    fn aside_headings() {
        for h in [
            "Similar items",
            "People who viewed this item also viewed",
            "Related",
            "Related Articles",
            "You may also like",
            "Most Popular",
            "Your Answer",
            "References",
            "Works cited",
        ] {
            assert!(is_aside_heading(h), "{h}");
        }
        for h in [
            "References in popular culture",
            "Related work",
            "Related Expert Advice articles",
            "Popularity of the method",
            "Recommendations",
            "Trendy recipes",
        ] {
            assert!(!is_aside_heading(h), "{h}");
        }
    }

    #[test]
    fn review_widget_headings_are_asides_only_when_bare() {
        for h in [
            "Reviews",
            "Reviews (407)",
            "Customer Reviews 4.8",
            "Reviews summary",
            "Rating snapshot",
            "Recent Events & Announcements",
        ] {
            assert!(is_aside_heading(h), "{h}");
        }
        for h in ["Reviews of budget laptops", "Reviewer's notes", "Recently"] {
            assert!(!is_aside_heading(h), "{h}");
        }
    }

    #[test]
    fn a_review_widget_section_is_dropped() {
        let html = format!(
            "<html><body><div class=\"product\">{}<div class=\"x\"><h2>Reviews (12)</h2>\
             <p>Great blender, it crushes ice in seconds and cleans up easily, five stars.</p>\
             <p>Loud but works, the jug is big enough for a family, four stars.</p></div></div>\
             </body></html>",
            prose("blenders")
        );
        let md = markdown(&html);
        assert!(md.contains("Paragraph 5 about blenders"), "{md}");
        assert!(!md.contains("five stars"), "{md}");
    }

    #[test]
    fn recommendation_sections_are_dropped() {
        let html = format!(
            "<html><body><article>{}<div class=\"x\"><h2>Similar items</h2>\
             <ul><li>Other thing one, a fine product</li><li>Other thing two, a fine product</li>\
             </ul></div></article></body></html>",
            prose("apples")
        );
        let md = markdown(&html);
        assert!(md.contains("Paragraph 5 about apples"), "{md}");
        assert!(!md.contains("Similar items"), "{md}");
        assert!(!md.contains("Other thing"), "{md}");
    }

    #[test]
    fn a_page_footer_is_never_the_content() {
        let html = format!(
            "<html><body><main><h1>Garden tools</h1>\
             <p>Spades, rakes and shears for every garden, sharpened by hand.</p>\
             <p>Forks and hoes, forged in one piece of carbon steel.</p></main>\
             <footer><div class=\"inner\"><div class=\"about\">{}</div></div><p>© Garden tools</p></footer></body></html>",
            prose("our company history")
        );
        let md = markdown(&html);
        assert!(md.contains("Spades, rakes and shears"), "{md}");
        assert!(!md.contains("company history"), "{md}");
    }

    #[test]
    fn a_data_table_with_an_unlikely_name_is_kept() {
        let rows: String = (1901..1915)
            .map(|y| format!("<tr><td>{y}</td><td>Laureate {y}</td><td>Field {y}</td></tr>"))
            .collect();
        let html = format!(
            "<html><body><main>{}<table class=\"wikitable sticky-header\">\
             <tr><th>Year</th><th>Name</th><th>Field</th></tr>{rows}</table></main>\
             </body></html>",
            prose("the prize")
        );
        let md = markdown(&html);
        assert!(md.contains("Laureate 1907"), "{md}");
    }

    #[test]
    fn collapsed_answers_of_like_items_are_content() {
        let items: String = (1..=4)
            .map(|i| {
                format!(
                    "<div class=\"sc-item q1\"><div class=\"sc-head\">Question {i}?</div>\
                     <div class=\"sc-body\" style=\"visibility:hidden\">Answer {i} explains \
                     the cover in plain words, as the page shows it on a click.</div></div>"
                )
            })
            .collect();
        let html = format!(
            "<html><body><main>{}<h2>Questions</h2><div class=\"faqs\">{items}</div>\
             <div style=\"display:none\"><p>A hidden promotion nobody opened, with enough \
             words to count as prose.</p></div></main></body></html>",
            prose("pet insurance")
        );
        let md = markdown(&html);
        assert!(md.contains("Answer 3 explains the cover"), "{md}");
        assert!(!md.contains("hidden promotion"), "{md}");
    }

    #[test]
    fn a_prose_block_in_a_builder_widget_is_content_but_a_promo_is_not() {
        let html = format!(
            "<html><body><main>{}<div class=\"hs_cos_wrapper_widget\"><h3>Our process</h3>\
             <p>We design, build and test every model with your team, week by week, until \
             it serves your customers and their customers well.</p></div><div class=\"promo-box\"><p>Subscribe \
             today and save twenty percent on every plan, for the first year of service.</p>\
             </div></main></body></html>",
            prose("consulting")
        );
        let md = markdown(&html);
        assert!(md.contains("We design, build and test"), "{md}");
        assert!(!md.contains("Subscribe today"), "{md}");
    }

    #[test]
    fn an_author_box_is_not_content() {
        let html = format!(
            "<html><body><article>{}<div class=\"entry-author-description author-bio\">\
             <img src=\"a.png\"><p>Karina is the owner of a cleaning company, with a \
             background in finance and a love of tidy homes. She writes about products, routines \
             and the people who keep houses running.</p></div></article></body></html>",
            prose("cleaning trends")
        );
        let md = markdown(&html);
        assert!(md.contains("Paragraph 5 about cleaning trends"), "{md}");
        assert!(!md.contains("Karina is the owner"), "{md}");
    }

    #[test]
    fn repeated_layouts_are_extracted_once() {
        let section = format!("<div class=\"v\"><h2>Costs</h2>{}</div>", prose("kitchens"));
        let html = format!(
            "<html><body><main><div class=\"desktop\">{section}</div>\
             <div class=\"mobile\">{section}</div></main></body></html>"
        );
        let md = markdown(&html);
        assert_eq!(md.matches("Paragraph 3 about kitchens").count(), 1, "{md}");
    }

    #[test]
    fn a_small_block_drawn_twice_side_by_side_is_extracted_once() {
        let card = "<div class=\"hero\"><h3>Fast setup</h3><p>Connect your account in \
                    minutes and start planning with your whole team today.</p></div>";
        let html = format!(
            "<html><body><main>{}<div class=\"d\">{card}</div><div class=\"m\">{card}</div>\
             {}</main></body></html>",
            prose("boards"),
            prose("teams")
        );
        let md = markdown(&html);
        assert_eq!(md.matches("Connect your account").count(), 1, "{md}");
    }

    #[test]
    fn a_small_block_repeated_far_apart_is_kept() {
        let note = "<div class=\"note\"><strong>Warning</strong><p>Never share your \
                    secret key, and rotate it at once if it leaks.</p></div>";
        let html = format!(
            "<html><body><article>{note}{}{note}</article></body></html>",
            prose("keys")
        );
        let md = markdown(&html);
        assert_eq!(md.matches("Never share your").count(), 2, "{md}");
    }

    #[test]
    fn json_state_in_a_block_is_not_content_but_a_json_example_is() {
        let state = r#"{"buybox":[{"displayPrice":"EUR 15.49","priceAmount":15.49,"currency":"EUR","offer":"new"}]}"#;
        let html = format!(
            "<html><body><article>{}<div class=\"price-data\">{state}</div>\
             <pre><code>{state}</code></pre></article></body></html>",
            prose("books")
        );
        let md = markdown(&html);
        assert_eq!(md.matches("displayPrice").count(), 1, "{md}");
        assert!(md.contains("```"), "{md}");
    }

    #[test]
    fn control_labels_are_not_content() {
        let html = format!(
            "<html><body><article>{}<div class=\"post\"><p>Reply hazy, ask again later, \
             said the toy, with enough words and commas to be counted as prose.</p>\
             <a href=\"/p/1\">Permalink</a><span>Add to wishlist</span>\
             <a href=\"/r/1\">Report inappropriate content</a></div>\
             <a href=\"/p/2\">View full details</a><span>Video</span>\
             <a href=\"/ask\">Ask Question</a><a href=\"/jobs/1\">Apply now</a>\
             <a href=\"#main\">Skip to main content</a><span>Comments</span>\
             </article></body></html>",
            prose("posts")
        );
        let md = markdown(&html);
        for label in [
            "full details",
            "Video",
            "Ask Question",
            "Apply now",
            "Skip to",
            "Comments",
        ] {
            assert!(!md.contains(label), "{label}: {md}");
        }
        assert!(!md.contains("Permalink"), "{md}");
        assert!(!md.contains("wishlist"), "{md}");
        assert!(!md.contains("inappropriate"), "{md}");
        assert!(md.contains("Reply hazy"), "{md}");
    }

    #[test]
    fn call_to_action_links_are_not_content() {
        let html = format!(
            "<html><body><article>{}<p>Our spring menu is out, with enough words and \
             commas to be counted as prose, read on for more.</p>\
             <p><a href=\"/menu\">Read more</a></p><p><a href=\"/all\">View all</a></p>\
             <p><a href=\"#top\">Back to top</a></p><p>Loading…</p><div>Sponsored</div>\
             <p>In stock</p><p><a href=\"/cart\">Add to cart</a></p>\
             </article></body></html>",
            prose("menus")
        );
        let md = markdown(&html);
        assert!(!md.contains("Read more"), "{md}");
        assert!(!md.contains("View all"), "{md}");
        assert!(!md.contains("Back to top"), "{md}");
        assert!(!md.contains("Loading"), "{md}");
        assert!(!md.contains("Sponsored"), "{md}");
        assert!(!md.contains("In stock"), "{md}");
        assert!(!md.contains("Add to cart"), "{md}");
        assert!(md.contains("read on for more"), "{md}");
    }

    #[test]
    fn post_numbers_and_counts_leave_discussions() {
        let posts: String = (1..=4)
            .map(|i| {
                format!(
                    "<div class=\"message\"><ul><li><a href=\"/t/9/post-{i}\">#{i}</a></li></ul>\
                     <p>Answer number {i} to the question, with enough words, commas, and detail \
                     to count as prose.</p><div class=\"votes\">{}</div>\
                     <span>{i} likes</span></div>",
                    i * 17
                )
            })
            .collect();
        let html = format!(
            "<html><body class=\"forum\"><main><div class=\"thread\">{posts}</div></main>\
             </body></html>"
        );
        let md = markdown(&html);
        assert!(md.contains("Answer number 4"), "{md}");
        assert!(!md.contains("#3"), "{md}");
        assert!(!md.contains("51"), "{md}");
        assert!(!md.contains("2 likes"), "{md}");
        assert!(is_post_counter("1.2k") && is_post_counter("#12") && is_post_counter("1 like"));
        assert!(!is_post_counter("2024 goals") && !is_post_counter("#hashtag"));
    }

    #[test]
    fn repeated_paragraphs_are_kept() {
        let p = "<p>The same long paragraph, said twice on purpose, with enough words, \
                 commas, and length to count as prose well past the size of a section.</p>";
        let html = format!(
            "<html><body><article>{}{p}{p}</article></body></html>",
            prose("pears")
        );
        let md = markdown(&html);
        assert_eq!(md.matches("said twice on purpose").count(), 2, "{md}");
    }

    #[test]
    fn hidden_block_with_most_of_the_prose_is_content() {
        // The menu makes the hidden block less than 80% of the page's text, not of its prose.
        let menu: String = (0..20)
            .map(|i| format!("<a href=\"/c/{i}\">Category number {i} of the shop</a> "))
            .collect();
        let html = format!(
            "<html><body><div class=\"menu-wrap\">{menu}</div>\
             <div style=\"display:none\">{}</div></body></html>",
            prose("coffee")
        );
        let md = markdown(&html);
        assert!(md.contains("Paragraph 2 about coffee"), "{md}");
    }

    #[test]
    fn screen_reader_text_is_hidden() {
        let html = format!(
            "<html><body><article>{}<p><span class=\"sr-only\">Skip this label</span>\
             Visible words of the last paragraph, long enough to be read.</p>\
             </article></body></html>",
            prose("tea")
        );
        let md = markdown(&html);
        assert!(md.contains("Visible words"), "{md}");
        assert!(!md.contains("Skip this label"), "{md}");
    }

    #[test]
    fn carousel_slides_out_of_view_are_content_but_clones_are_not() {
        let slide = |class: &str, hidden: bool, who: &str| {
            format!(
                "<div class=\"{class}\"{}><blockquote><p>{who} says the service \
                 answered every ticket within the hour, and the team loved it.</p>\
                 </blockquote></div>",
                if hidden { " aria-hidden=\"true\"" } else { "" }
            )
        };
        let html = format!(
            "<html><body><main><div class=\"post\">{}<div class=\"slick-track\">{}{}{}{}\
             </div></div></main></body></html>",
            prose("support desks"),
            slide("slick-slide slick-cloned", true, "Carol"),
            slide("slick-slide slick-current", false, "Alice"),
            slide("slick-slide", true, "Bob"),
            slide("slick-slide slick-cloned", true, "Alice"),
        );
        let md = markdown(&html);
        assert!(md.contains("Alice says"), "{md}");
        assert!(md.contains("Bob says"), "{md}");
        assert!(!md.contains("Carol says"), "{md}");
        assert_eq!(md.matches("Alice says").count(), 1, "{md}");
    }

    #[test]
    fn a_category_description_apart_from_its_products_is_kept_with_them() {
        let cards: String = (0..30)
            .map(|i| {
                format!(
                    "<li class=\"product\"><a href=\"/p/{i}\"><h3>Ergonomic vertical mouse \
                     model {i}</h3><span>$4{i}.00</span></a></li>"
                )
            })
            .collect();
        let html = format!(
            "<html><body><div class=\"wrap\"><div class=\"col-left\">\
             <div class=\"category-description\"><p>An ergonomic mouse keeps the hand and \
             wrist in a neutral position, which matters because we use a mouse far more \
             than we notice, and the repeated motion of mousing can strain the forearm over \
             a long working day.</p></div></div><div class=\"col-main\">\
             <ul class=\"products\">{cards}</ul></div></div></body></html>"
        );
        let md = markdown(&html);
        assert!(md.contains("neutral position"), "{md}");
        assert!(md.contains("vertical mouse model 29"), "{md}");
        let (intro, items) = (md.find("neutral position"), md.find("model 0"));
        assert!(intro < items, "{md}");
    }

    #[test]
    fn bootstrap_d_none_is_hidden_unless_a_breakpoint_shows_it() {
        let html = format!(
            "<html><body><main><div class=\"post\">{}\
             <div class=\"d-none\" itemprop=\"datePublished\">2016-06-17 16:14:36 +00:00</div>\
             <p class=\"d-none d-md-block\">Shown on wide screens: the desktop summary of \
             the kayak trip, with its dates.</p>\
             <span class=\"v-visible-sr\">Commented</span></div></main></body></html>",
            prose("kayaks")
        );
        let md = markdown(&html);
        assert!(md.contains("Paragraph 5 about kayaks"), "{md}");
        assert!(!md.contains("2016-06-17"), "{md}");
        assert!(!md.contains("Commented"), "{md}");
        assert!(md.contains("Shown on wide screens"), "{md}");
        // Class lists of any script (CSS-in-JS names like `⚙`) are read safely.
        assert!(is_display_none_class("⚙ rs-2 d-none"));
        assert!(!is_display_none_class("é d-none d-lg-flex"));
    }

    #[test]
    fn a_section_named_after_its_heading_is_not_a_page_region() {
        let html = format!(
            "<html><body><main><div class=\"body\"><section id=\"quickstart\">\
             <h1>Quickstart</h1>{}</section>\
             <section id=\"cookies\"><h2>Cookies¶</h2><p>If a response contains \
             some cookies, you can quickly access them through the cookies attribute of \
             the response object, as the example below shows.</p><p>To send your own cookies \
             to the server, you can use the cookies parameter, which takes a dictionary or a \
             cookie jar; a jar also lets you scope each cookie to a domain and a path, so \
             that the right cookies go to the right server.</p><p>Sessions keep cookies \
             across requests for you.</p></section>\
             <section id=\"comments\"><h2>Comments</h2><p>Log in to leave a comment on \
             this page, and see what other readers said about the library.</p></section>\
             </div></main></body></html>",
            prose("requests")
        );
        let md = markdown(&html);
        assert!(md.contains("Paragraph 5 about requests"), "{md}");
        assert!(md.contains("quickly access them"), "{md}");
        assert!(!md.contains("leave a comment"), "{md}");
    }

    #[test]
    fn the_content_head_with_its_introduction_is_kept() {
        let html = format!(
            "<html><body><header class=\"site\"><a href=\"/\">Docs home</a></header>\
             <main><div class=\"layout__header\"><h1>Using the Fetch API</h1>\
             <section><p>The Fetch API provides a JavaScript interface for making HTTP \
             requests and processing the responses, with promises instead of callbacks.</p>\
             <p>Fetch is the modern replacement for XMLHttpRequest: it is integrated with \
             service workers and with Cross-Origin Resource Sharing, and it is available in \
             windows and in workers alike, which makes it the one API to learn.</p>\
             </section></div><div class=\"layout__body\">{}</div></main></body></html>",
            prose("fetch")
        );
        let md = markdown(&html);
        assert!(md.contains("Paragraph 5 about fetch"), "{md}");
        assert!(md.contains("provides a JavaScript interface"), "{md}");
        assert!(!md.contains("Docs home"), "{md}");
    }

    #[test]
    fn poster_card_fields_leave_discussions() {
        let posts: String = (1..=4)
            .map(|i| {
                format!(
                    "<div class=\"post\"><div class=\"poster\"><span>Posts: 1,20{i}</span>\
                     <div>Joined: Feb 201{i}<br>Location: Boise, ID</div></div>\
                     <p>Answer number {i} to the question, with enough words, commas, and detail \
                     to count as prose. Location: the shed, where the lathe is.</p></div>"
                )
            })
            .collect();
        let html = format!(
            "<html><body class=\"forum\"><main><div class=\"thread\">{posts}</div></main>\
             </body></html>"
        );
        let md = markdown(&html);
        assert!(md.contains("Answer number 4"), "{md}");
        assert!(md.contains("where the lathe is"), "{md}");
        assert!(!md.contains("Posts:"), "{md}");
        assert!(!md.contains("Joined"), "{md}");
        assert!(!md.contains("Boise"), "{md}");
    }

    #[test]
    fn a_breadcrumb_trail_is_not_content() {
        let html = format!(
            "<html><body><main><div class=\"post\"><ol class=\"breadcrumb\">\
             <li><a href=\"/\">Home</a></li><li><a href=\"/w\">Watches</a></li>\
             <li><a href=\"/w/m\">Mens View All</a></li></ol>{}</div></main></body></html>",
            prose("watches")
        );
        let md = markdown(&html);
        assert!(md.contains("Paragraph 5 about watches"), "{md}");
        assert!(!md.contains("Mens View All"), "{md}");
    }

    #[test]
    fn closed_popovers_are_hidden() {
        let html = format!(
            "<html><body><main><div class=\"post\">{}\
             <div popover id=\"install\"><p>To install this app on your phone, tap the \
             icon and then add the page to your home screen, then confirm it.</p>\
             </div></div></main></body></html>",
            prose("kayaks")
        );
        let md = markdown(&html);
        assert!(md.contains("Paragraph 5 about kayaks"), "{md}");
        assert!(!md.contains("To install this app"), "{md}");
    }

    #[test]
    fn a_top_block_that_is_the_list_of_cards_is_cleaned_as_a_listing() {
        let cards: String = (0..10)
            .map(|i| {
                format!(
                    "<div class=\"item\"><div class=\"inner\">\
                     <a href=\"/p{i}\">Sturdy oak desk model {i}</a>\
                     <p>Solid wood, seats two, comes flat-packed, item {i}.</p>\
                     <ul><li>Width 120 cm</li><li>Depth 60 cm</li></ul></div></div>"
                )
            })
            .collect();
        let html = format!(
            "<html><body><nav><a href=\"/\">Home</a></nav>\
             <div class=\"results\">{cards}<div class=\"bar\"><a href=\"/in\">Sign in to \
             save your list</a> <a href=\"/help\">Help centre</a></div></div></body></html>"
        );
        let md = markdown(&html);
        assert!(md.contains("Sturdy oak desk model 7"), "{md}");
        assert!(md.contains("comes flat-packed, item 3"), "{md}");
        assert!(!md.contains("Help centre"), "{md}");
    }

    #[test]
    fn class_signature_ignores_ids() {
        assert_eq!(
            class_signature("thing id-t1_o8oqlp9 comment"),
            class_signature("thing id-t1_o8prfyw comment")
        );
        assert_ne!(
            class_signature("thing comment"),
            class_signature("thing link")
        );
    }
}
