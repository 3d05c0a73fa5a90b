//! The tail of an article: short label lines after the story's last paragraph.
//!
//! A story ends with its last paragraph of prose. What a template sets after it inside
//! the story's container is short and says nothing: controls and prompts ("drukuj",
//! "Möchten Sie den Artikel teilen?", "Hier können Sie den Artikel bewerten"), labels of
//! sections whose items went ("Verwandte Artikel", "Mehr zum Thema", "Über den Autor"),
//! an advertisement's "Reklama", a "Publiziert: …" stamp. Found by place and shape, not
//! words: the run of lines at the very end, after the last paragraph of prose and after
//! the last line that is not a label; a label is a line (a text block with no block
//! inside) of at most [`LABEL_MAX`] characters that is not a sentence (no full stop,
//! question or exclamation mark), with no image, not in a table, code or figure. The most common kind of "must not contain" snippet that trafilatura
//! drops and gannet kept (bench/runs/2026-12-08-precision4).

use super::*;

/// Longest label line (visible characters).
const LABEL_MAX: u32 = 60;
/// Prose that ends a story: a block of its own text, long, with few links.
const PROSE_MIN: u32 = 100;

impl<'d, 'i> Extractor<'d, 'i> {
    /// Remove the label lines after the story's last paragraph ([`self`](self) docs).
    pub(super) fn remove_trailing_labels(&mut self, article: NodeId) {
        let order: Vec<NodeId> = self.dom.descendants(article).collect();
        let Some(last) = order.iter().rposition(|&d| {
            self.dom.is_element(d) && {
                let a = self.agg_of(d);
                !a.block && a.good >= PROSE_MIN && a.link_density() < 0.3
            }
        }) else {
            return;
        };
        let end = self.past_subtree(&order, last);
        // From the end back: the label lines after the last line that is not one.
        let mut found: Vec<NodeId> = Vec::new();
        let mut text = 0u32;
        for &d in order[end.min(order.len())..].iter().rev() {
            if !self.dom.is_element(d) || found.iter().any(|&f| self.dom.is_ancestor(d, f)) {
                continue;
            }
            let a = self.agg_of(d);
            if a.text == 0 && a.img == 0 && a.embed == 0 {
                continue;
            }
            // A line: a block element with no block inside. (Inline text is judged with
            // the line it is part of; list items are a list's, judged as content.)
            let line = !a.block
                && matches!(
                    self.dom.tag(d),
                    Some(
                        Tag::P
                            | Tag::Div
                            | Tag::H1
                            | Tag::H2
                            | Tag::H3
                            | Tag::H4
                            | Tag::H5
                            | Tag::H6
                            | Tag::Section
                            | Tag::Header
                            | Tag::Center
                    )
                );
            if !line {
                // Content that is not a line (a list, table, code, quote, image) ends the
                // tail; inline text and containers of lines seen already do not.
                if matches!(
                    self.dom.tag(d),
                    Some(
                        Tag::Li
                            | Tag::Ul
                            | Tag::Ol
                            | Tag::Dl
                            | Tag::Pre
                            | Tag::Code
                            | Tag::Table
                            | Tag::Blockquote
                            | Tag::Figure
                            | Tag::Img
                            | Tag::Picture
                            | Tag::Video
                    )
                ) {
                    break;
                }
                continue;
            }
            // A list's items are content (features, references), whatever their length.
            if self
                .dom
                .ancestors(d)
                .take_while(|&x| x != article)
                .any(|x| self.dom.is(x, Tag::Li))
            {
                break;
            }
            let label = a.text <= LABEL_MAX
                && !a.keep
                && a.img == 0
                && a.embed == 0
                && self
                    .within
                    .get(d.index())
                    .is_none_or(|w| w & (IN_TABLE | IN_CODE | IN_FIGURE) == 0)
                && {
                    let t = self.dom.text_content(d);
                    let t = t
                        .trim()
                        .trim_end_matches(['"', '\'', '”', '“', '»', '«', '’', ')', '*', '_']);
                    !t.ends_with(['.', '…', '!', '?', '。', '！', '？'])
                };
            if !label {
                break;
            }
            text += a.text;
            found.push(d);
        }
        if found.is_empty() || text.saturating_mul(5) > self.agg_of(article).good {
            return;
        }
        for d in found {
            self.remove_line(d, "trailing label");
        }
    }
}
