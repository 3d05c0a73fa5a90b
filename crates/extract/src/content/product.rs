//! The boundary of shop and site pages (products, services, collections): data that a
//! template prints for its scripts is not what the page says.

use super::*;

/// Smallest block (characters) that [`Extractor::remove_url_dumps`] judges.
const URL_DUMP_MIN: u32 = 1000;

impl<'d, 'i> Extractor<'d, 'i> {
    /// Remove the blocks of `article` that are mostly web addresses written out as text
    /// (a product template's hidden list of thumbnail URLs per colour, a data table for
    /// scripts): an address is not prose, and no reader reads a thousand characters of
    /// them. Links are not counted (a list of links is judged by link density); a block
    /// holding code is kept. One walk over the text when the article has no such text.
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
            for a in self.dom.ancestors(id) {
                if a == article {
                    break;
                }
                *urls.entry(a).or_default() += n;
            }
        }
        // Outermost first: a removed block takes its inner ones with it.
        let mut dumps: Vec<NodeId> = urls
            .into_iter()
            .filter(|&(id, n)| {
                let a = self.agg_of(id);
                a.text >= URL_DUMP_MIN
                    && n * 3 >= a.text * 2
                    && a.link * 4 < a.text
                    && !self.contains_code(id)
            })
            .map(|(id, _)| id)
            .collect();
        dumps.sort_unstable();
        for id in dumps {
            if !self.dom.is_ancestor(article, id) {
                continue;
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
