//! The standfirst of an article: the lead paragraph between the headline and the body.
//!
//! News sites set the headline, a one- or two-sentence summary and the byline in a header
//! block above the story's own container; the candidate scoring takes the container and
//! leaves the summary out, though it is the first thing the story says (trafeval's
//! annotators ask for it: the third most common "must contain" snippet that trafilatura
//! finds and gannet lost, bench/runs/2026-12-08-precision4). Found by structure: after
//! the page's `h1`, before the gathered content, inside their common ancestor, a block of
//! prose (no block inside, sentences, almost no links) that is not a caption, list item,
//! table cell or a page region (nav, aside, footer, form).

use super::*;

/// Bounds of a standfirst (visible characters): a sentence or two, not a story.
const LEAD_MIN: u32 = 80;
const LEAD_MAX: u32 = 700;

impl<'d, 'i> Extractor<'d, 'i> {
    /// The article's lead paragraph when it sits outside the gathered content, between
    /// the page's headline and the content ([`self`](self) module docs).
    pub(super) fn standfirst(&self, top: NodeId) -> Option<NodeId> {
        // Where the headline ended: the node after it. The title heading went in
        // preclean (the title is output apart); else the last h1 before the content.
        let start = match self.headline_next {
            Some(n) => n,
            None => {
                let mut h1 = None;
                // Document order by walking: nodes made while cleaning have later indices.
                for d in self.dom.descendants(self.dom.root()) {
                    if d == top {
                        break;
                    }
                    if self.dom.is(d, Tag::H1) {
                        h1 = Some(d);
                    }
                }
                self.next_after(h1?)?
            }
        };
        let common = self.common_ancestor(start, top)?;
        let mut after = false;
        let mut walk = self.dom.descendants(common);
        while let Some(d) = walk.next() {
            if d == top {
                break;
            }
            after |= d == start;
            // Before the headline, or an ancestor of the content: walk on, into it.
            if !after || self.dom.is_ancestor(d, top) {
                continue;
            }
            if !self.dom.is_element(d) {
                continue;
            }
            if matches!(
                self.dom.tag(d),
                Some(
                    Tag::Nav
                        | Tag::Aside
                        | Tag::Footer
                        | Tag::Form
                        | Tag::Figure
                        | Tag::Figcaption
                        | Tag::Li
                        | Tag::Ul
                        | Tag::Ol
                        | Tag::Table
                        | Tag::Blockquote
                        | Tag::Button
                        | Tag::Select
                )
            ) || self.memo.is_hidden(self.dom, d)
            {
                walk.skip_subtree(d);
                continue;
            }
            let a = self.agg_of(d);
            if a.block || !matches!(self.dom.tag(d), Some(Tag::P | Tag::Div)) {
                continue;
            }
            if a.text < LEAD_MIN
                || a.text > LEAD_MAX
                || a.img > 0
                || a.link * 10 > a.text
                || a.good * 10 < a.text * 9
            {
                walk.skip_subtree(d);
                continue;
            }
            let text = self.dom.text_content(d);
            let t = text.trim_end();
            let sentence = t.ends_with(['.', '!', '?', '…', '"', '“', '”', '»', '«', ')'])
                && t.split_whitespace().count() >= 12;
            if sentence {
                return Some(d);
            }
            walk.skip_subtree(d);
        }
        None
    }

    /// The node after `id`'s subtree in document order (its next sibling, or its nearest
    /// ancestor's), if any.
    pub(super) fn next_after(&self, id: NodeId) -> Option<NodeId> {
        let mut x = id;
        loop {
            if let Some(n) = self.dom.next_sibling(x) {
                return Some(n);
            }
            x = self.dom.parent(x)?;
        }
    }
}
