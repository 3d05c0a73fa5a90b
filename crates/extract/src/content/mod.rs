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
//!
//! The files: `scoring` (per-node measures, class weights, the best candidate),
//! `page_type` (what kind of page it is), `boundary` (where the content ends: widening,
//! sibling gathering, sections about other pages), `listing` (runs of like items, the
//! grid of cards a collection page is made of), `cleanup` (what is never content,
//! conditional cleaning, duplicates, control labels), `hidden` (hidden markup).

use crate::dom::{Dom, NodeId};
use crate::metadata::text::WordSet;
use crate::metadata::{OK_MAYBE, UNLIKELY, UNLIKELY_ROLES};
use crate::tag::Tag;
use gannet_core::PageType;

mod article;
mod boilerplate;
mod boundary;
mod cleanup;
mod forum;
mod hidden;
mod lead;
mod listing;
mod page_type;
mod product;
mod tail;
pub(crate) use page_type::{Signals as PageSignals, decide as decide_page_type, is_discussion};
mod scoring;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_article;
#[cfg(test)]
mod tests_types;

use hidden::*;
use page_type::*;
use scoring::*;

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

/// `GANNET_DEBUG` set: explain choices (tracing events, target `gannet_extract::debug`;
/// `gannet extract` shows them on stderr). Nothing is computed for them when unset.
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
    /// The types the page declares ([`crate::metadata::Metadata::types`]).
    pub(crate) types: &'a [String],
    /// Whether the page gives a publication time.
    pub(crate) published: bool,
}

/// Extract the main content from `dom`. Returns the cleaned DOM and the node to render.
///
/// Every attempt works on `dom` itself: the DOM records the first attempt's changes, and
/// the rare retries roll them back, which gives the parsed tree again (same node ids, so
/// `input.skip_nodes` and the [`Memo`] stay valid) without parsing the page again or
/// copying the DOM on every page that the first attempt settles. An attempt kept as the
/// best so far while later ones try is copied.
pub(crate) fn extract_content(mut dom: Dom, input: &ContentInput<'_>) -> (Dom, NodeId, PageType) {
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
    let mut best: Option<(Dom, NodeId, u32, Facts)> = None;
    dom.record();
    let last = attempts.len() - 1;
    for (k, flags) in attempts.into_iter().enumerate() {
        if k > 0 {
            dom.rollback();
        }
        let (root, len, page_good, facts) = Extractor::new(&mut dom, flags, input, &mut memo).run();
        // Readability accepts 500 characters; a page with much more prose than that
        // (its sections all named "…headerWrapper", say) deserves a retry first.
        let threshold = CHAR_THRESHOLD.max((page_good / 5).min(1000));
        let better = best.as_ref().is_none_or(|b| len > b.2);
        if len >= threshold || (k == last && better) {
            dom.stop_recording();
            let (page_type, why) = page_type_of(input, forum, &facts);
            if debug() {
                tracing::debug!(target: "gannet_extract::debug", page_type = page_type.as_str(), why = %why, facts = ?facts, "page type");
            }
            return (dom, root, page_type);
        }
        if better {
            let mut copy = dom.clone();
            copy.stop_recording();
            best = Some((copy, root, len, facts));
        }
    }
    match best {
        Some((d, root, _, facts)) => (d, root, page_type_of(input, forum, &facts).0),
        None => {
            dom.rollback();
            dom.stop_recording();
            let root = dom.root();
            (dom, root, page_type_of(input, forum, &Facts::default()).0)
        }
    }
}

/// What the accepted attempt measured of its content, for the page-type decision.
#[derive(Debug, Clone, Copy, Default)]
struct Facts {
    listing: bool,
    text: u32,
    good: u32,
    link: u32,
    code_blocks: u32,
}

fn page_type_of(input: &ContentInput<'_>, forum: bool, f: &Facts) -> (PageType, &'static str) {
    page_type::decide(&page_type::Signals {
        types: input.types,
        url_path: input.url_path,
        published: input.published,
        forum,
        listing: f.listing,
        text: f.text,
        good: f.good,
        link: f.link,
        code_blocks: f.code_blocks,
    })
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
    /// The grid of cards a collection page is made of ([`Self::leading_grid`]): never
    /// cleaned as a whole (its cards still are, one by one).
    grid: Option<NodeId>,
    /// Forms that held controls (buttons, fields, menus) before preclean dropped them:
    /// a purchase form, a search box, a sign-up.
    control_forms: Vec<NodeId>,
    /// Class signatures of the fields of the content's like items ([`Self::item_fields`]).
    item_fields: Vec<u64>,
    /// Per node: at least two siblings share its tag and class.
    repeated: Vec<bool>,
    /// What kind of page it is, decided before cleaning: cleaning draws the boundary
    /// this kind of page needs.
    page_type: PageType,
    headline_next: Option<NodeId>,
}

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
            grid: None,
            control_forms: Vec::new(),
            item_fields: Vec::new(),
            repeated: Vec::new(),
            page_type: PageType::Other,
            headline_next: None,
        }
    }

    /// Extract: the content root, its length in characters, and how much prose the whole
    /// page has.
    fn run(mut self) -> (NodeId, u32, u32, Facts) {
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
            tracing::debug!(
                target: "gannet_extract::debug",
                flags = ?self.flags,
                top = path.join(" < "),
                score = self.score.get(top.index()).copied().unwrap_or(0.0),
                text = self.agg_of(top).text,
                "top candidate"
            );
        }
        let widened = self.widen(top, body);
        // A discussion: the block of all its posts, when it holds the widened block.
        let mut top = match self.thread_of(top, body) {
            Some(thread) if self.dom.is_ancestor(thread, widened) => thread,
            _ => widened,
        };
        let mut intro = None;
        let (best_list, cards) = self.item_runs(body);
        // (A grid that is also the page's largest run is the listing below.)
        let grid = cards
            .filter(|&(c, _)| Some(c) != best_list)
            .and_then(|(c, _)| self.leading_grid(c, top));
        if let Some(grid) = grid {
            let t = self.agg_of(top);
            if debug() {
                tracing::debug!(
                    target: "gannet_extract::debug",
                    node = %format_args!("{}.{}", self.dom.tag_name(grid), names(self.dom, grid).trim()),
                    text = self.agg_of(grid).text,
                    prose_text = t.text,
                    "grid before the prose block"
                );
            }
            self.listing = true;
            self.grid = Some(grid);
            let prose = top;
            top = grid;
            if t.good >= 200 && t.link_density() < 0.3 {
                intro = Some(prose);
            }
        } else if let Some(list) = best_list {
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
                    tracing::debug!(
                        target: "gannet_extract::debug",
                        node = %format_args!("{}.{}", self.dom.tag_name(list), names(self.dom, list).trim()),
                        text = l.text,
                        top_text = t.text,
                        top_good = t.good,
                        "listing beats top"
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
        let lead = self.standfirst(top);
        let mut article = self.gather(top, body);
        // (The prose block may be among the siblings gathered already.)
        if let Some(intro) = intro.filter(|&i| !self.dom.is_ancestor(article, i)) {
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
        // The page's type, from what it declares and what the content gathered holds,
        // before cleaning: cleaning draws the boundary of that type.
        let a = self.agg_of(article);
        let facts = Facts {
            listing: self.listing,
            text: a.text,
            good: a.good,
            link: a.link,
            code_blocks: self
                .dom
                .descendants(article)
                .filter(|&d| self.dom.is(d, Tag::Pre))
                .count() as u32,
        };
        self.page_type = page_type_of(self.input, self.flags.forum, &facts).0;
        let mut lead_len = 0;
        if let Some(lead) = lead.filter(|&l| {
            self.page_type == PageType::Article
                && !self.agg_of(article).h1
                && !self.dom.is_ancestor(article, l)
        }) {
            if debug() {
                let t = self.dom.text_content(lead);
                tracing::debug!(target: "gannet_extract::debug", lead = t.trim(), "standfirst added");
            }
            lead_len = self.agg_of(lead).text;
            let both = self.new_article();
            self.move_into(both, lead);
            self.move_into(both, article);
            article = both;
        }
        self.prepare(article);
        let len = self.agg_of(article).text.saturating_sub(lead_len);
        (article, len, page_good, facts)
    }

    fn agg_of(&self, id: NodeId) -> Agg {
        self.agg.get(id.index()).copied().unwrap_or_default()
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

    fn move_into(&mut self, article: NodeId, node: NodeId) {
        let a = self.agg_of(node);
        self.dom.append_child(article, node);
        let art = &mut self.agg[article.index()];
        art.add(&a);
        art.keep |= a.keep;
        art.block = true;
    }

    /// In `order` (nodes in document order), the index of the first node after the
    /// subtree of `order[at]` (`order.len()` when none is).
    fn past_subtree(&self, order: &[NodeId], at: usize) -> usize {
        let root = order[at];
        order[at..]
            .iter()
            .position(|&d| d != root && !self.dom.is_ancestor(root, d))
            .map_or(order.len(), |k| at + k)
    }

    /// [`Self::remove`] a line of the content, saying why under `GANNET_DEBUG` (with
    /// its text: short lines fall under `remove`'s own trace threshold).
    fn remove_line(&mut self, id: NodeId, why: &'static str) {
        if debug() {
            tracing::debug!(
                target: "gannet_extract::debug",
                text = self.dom.text_content(id).trim(),
                why,
                "line removed"
            );
        }
        self.remove(id);
    }

    /// Remove a node and subtract its measures from its ancestors.
    fn remove(&mut self, id: NodeId) {
        let a = self.agg_of(id);
        if debug() && a.text > debug_min() {
            tracing::debug!(
                target: "gannet_extract::debug",
                node = %format_args!("{}.{}", self.dom.tag_name(id), names(self.dom, id).trim()),
                text = a.text,
                links = a.link_density(),
                p = a.p,
                li = a.li,
                img = a.img,
                input = a.input,
                embed = a.embed,
                good = a.good,
                "clean removes"
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

    /// The lowest common ancestor of two nodes.
    fn common_ancestor(&self, a: NodeId, b: NodeId) -> Option<NodeId> {
        let chain: Vec<NodeId> = std::iter::once(a).chain(self.dom.ancestors(a)).collect();
        std::iter::once(b)
            .chain(self.dom.ancestors(b))
            .find(|x| chain.contains(x))
    }
}
