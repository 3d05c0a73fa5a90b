//! Where the content ends: widening from the best candidate to the run of like blocks
//! around it, sibling gathering, the listing's item run, and the sections about other
//! pages that an article drops.

use super::*;

/// How headings of sections about other pages begin (lowercase): related stories,
/// recommendations, shop cross-sells, reply forms.
pub(super) const ASIDE_HEADINGS: &[&str] = &[
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
pub(super) const REVIEW_HEADINGS: &[&str] = &[
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
pub(super) const CITATION_HEADINGS: &[&str] = &[
    "references",
    "references and notes",
    "notes and references",
    "bibliography",
    "works cited",
];

/// What a heading `Related …` may name to be about other pages ("Related work" and
/// "Related expert advice" are sections of the page itself).
pub(super) const RELATED_WHAT: &[&str] = &[
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
pub(super) fn is_aside_heading(text: &str) -> bool {
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

impl<'d, 'i> Extractor<'d, 'i> {
    /// A block holding the page's `h1` and the prose that opens the content (MDN's
    /// `layout__header`: title and introduction): a "header" by name, but the content's
    /// head, not the page's. 300 characters of prose, so that a news article's header
    /// (headline, a one-line standfirst, the date) stays out as Readability leaves it.
    pub(super) fn is_content_head(&self, id: NodeId) -> bool {
        let a = self.agg_of(id);
        a.h1 && a.good >= 300 && a.link_density() < 0.3
    }

    /// Climb from the best candidate to the ancestor that holds the rest of the content:
    /// forum posts, listing items, the sections of a service page. An ancestor is taken
    /// when it adds a good share of prose without diluting it much with boilerplate.
    pub(super) fn widen(&self, top: NodeId, body: NodeId) -> NodeId {
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
                tracing::trace!(
                    target: "gannet_extract::debug",
                    node = %format_args!("{}.{}", self.dom.tag_name(a), names(self.dom, a).trim()),
                    good = x.good,
                    text = x.text,
                    ratio,
                    base_ratio,
                    links = x.link_density(),
                    "widen?"
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

    /// The top candidate plus the siblings that belong with it, moved into a new `<div>`.
    pub(super) fn gather(&mut self, top: NodeId, body: NodeId) -> NodeId {
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

    /// Remove the sections that a heading names as being about other pages: related
    /// stories, recommendations, "people also viewed", reply forms. The section is the
    /// block the heading opens (climbing while it is the first element), or, in flat
    /// markup, the heading and its siblings up to the next heading of its rank.
    pub(super) fn remove_aside_sections(&mut self, article: NodeId) {
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
                tracing::debug!(
                    target: "gannet_extract::debug",
                    heading = self.dom.text_content(h).trim(),
                    node = %format_args!("{}.{}", self.dom.tag_name(s), names(self.dom, s).trim()),
                    text = self.agg_of(s).text,
                    "aside section removed"
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
}
