//! The boundary of shop and site pages (products, services, collections): data that a
//! template prints for its scripts is not what the page says.

use super::*;

/// Smallest block (characters) that [`Extractor::remove_url_dumps`] judges.
const URL_DUMP_MIN: u32 = 1000;
/// How far above an address (levels) its block may sit: bounds the work on hostile,
/// deeply nested pages.
const URL_DUMP_DEPTH: usize = 64;

impl<'d, 'i> Extractor<'d, 'i> {
    /// Remove the blocks of `article` that are mostly web addresses written out as text
    /// (a product template's hidden list of thumbnail URLs per colour): an address is not
    /// prose, and no reader reads a thousand characters of them. The innermost such
    /// blocks go, so a container holding the page's description beside the list stays.
    /// Links are not counted (a list of links is judged by link density); a block holding
    /// a table or code is kept. One walk over the text when the article has no such text.
    pub(super) fn remove_url_dumps(&mut self, article: NodeId) {
        // Bare-URL characters per node, summed bottom-up over the article only when the
        // article holds enough of them.
        let mut total = 0u32;
        let mut texts: Vec<(NodeId, u32)> = Vec::new();
        for id in self.dom.descendants(article) {
            if let Some(t) = self.dom.text(id)
                && t.len() >= 12
                && is_bare_url(t)
                && self.within[id.index()] & IN_CODE == 0
            {
                let n = self.agg_of(id).text;
                total += n;
                texts.push((id, n));
            }
        }
        if total < URL_DUMP_MIN {
            return;
        }
        let mut urls: std::collections::HashMap<NodeId, u32> = std::collections::HashMap::new();
        for (id, n) in texts {
            for a in self.dom.ancestors(id).take(URL_DUMP_DEPTH) {
                if a == article {
                    break;
                }
                *urls.entry(a).or_default() += n;
            }
        }
        // Innermost first (descendants come after their ancestors in document order),
        // each judged on what is left of it: a block whose dump went with an inner block
        // is not a dump any more.
        let mut candidates: Vec<NodeId> = urls.keys().copied().collect();
        candidates.sort_unstable_by(|a, b| b.cmp(a));
        for id in candidates {
            let n = urls.get(&id).copied().unwrap_or(0);
            let a = self.agg_of(id);
            if a.text < URL_DUMP_MIN || n * 3 < a.text * 2 || a.link * 4 >= a.text || a.keep {
                continue;
            }
            for anc in self.dom.ancestors(id).take(URL_DUMP_DEPTH) {
                if anc == article {
                    break;
                }
                if let Some(x) = urls.get_mut(&anc) {
                    *x = x.saturating_sub(n);
                }
            }
            if debug() {
                eprintln!(
                    "url dump removes {}.{} text {}",
                    self.dom.tag_name(id),
                    names(self.dom, id).trim(),
                    self.agg_of(id).text
                );
            }
            self.remove(id);
        }
    }
}

impl Extractor<'_, '_> {
    /// A non-modal `role="dialog"` sheet of prose right after the button that opens it
    /// (a shop's "Description" button and the drawer with the product's text): content
    /// a click away, like a collapsed accordion, not a pop-up. A modal dialog
    /// (`aria-modal="true"`) blocks the page and stays out; a menu's sheet is links.
    pub(super) fn is_disclosed_sheet(&self, id: NodeId) -> bool {
        let a = self.agg_of(id);
        a.good >= 100
            && a.link_density() < 0.3
            && self
                .dom
                .attr(id, "role")
                .is_some_and(|r| r.trim() == "dialog")
            && self.dom.attr(id, "aria-modal") != Some("true")
            && self.dom.prev_element_sibling(id).is_some_and(|b| {
                self.dom.is(b, Tag::Button)
                    && self.agg_of(b).text > 0
                    && !self.memo.is_hidden(self.dom, b)
            })
    }

    /// Whether an `aside` is the panel of a [`Self::is_disclosed_sheet`] (the sheet's
    /// body, not a sidebar of the page). Preclean drops every other dialog, so a dialog
    /// still in the tree is such a sheet.
    pub(super) fn in_disclosed_sheet(&self, id: NodeId) -> bool {
        self.dom.is(id, Tag::Aside)
            && self.dom.parent(id).is_some_and(|p| {
                self.dom
                    .attr(p, "role")
                    .is_some_and(|r| r.trim() == "dialog")
            })
    }
}
