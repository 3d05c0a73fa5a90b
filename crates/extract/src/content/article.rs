//! The boundary of an article: its body (with figures, captions, tables, code and
//! quotes) without what surrounds a story on a news or blog site. Runs on pages the
//! page-type decision calls articles, on a site's own pages (service: undated prose,
//! often a news story whose date the page does not declare), and on listings whose
//! content is at least half prose (a story with a list in it): where the cards are the
//! content the teasers are, and on a forum the replies are.
//!
//! - **Teaser runs**: a run of sibling blocks of the same shape (tag and class), each
//!   mostly a link to another page or headed by one ("More news", "You may also like",
//!   in any language: the structure says it, not the words).
//! - **"Read also" lines**: a paragraph that is a short label and one link to another
//!   page ("Lesen Sie auch: …", "Lea también: …").
//! - **Comments**: a block named as a comment region (`#comments`, `comment-list`,
//!   `#respond`, Disqus), unless it holds most of the content. On a forum the page-type
//!   decision keeps them.
//! - **Credit lines standing alone**: a short block that is a photo credit or a source
//!   line ("Foto: …", "© …", "Bild: …", "Photo: …").
//! - **Captions carrying a credit** ("… © dpa", "… Foto: X"), and **datelines** (a
//!   date with a few words) before the first or after the last paragraph of prose.
//! - **Links after the story**: blocks that are mostly links to other pages, after the
//!   last paragraph of prose (a lone headline link, "see also", legal links).
//! - **Empty sections**: a heading (or a bold-only label line) with nothing under it
//!   before the next heading of its rank or the end: the label of a block already
//!   removed.

use super::*;

/// Longest text (visible characters) of one teaser item.
const TEASER_ITEM_MAX: u32 = 400;
/// Longest label (visible characters, outside the link) of a "read also" line.
const READ_ALSO_LABEL_MAX: u32 = 40;
/// Longest text of a label line read as a heading (bold-only paragraph).
const LABEL_LINE_MAX: u32 = 80;
/// Longest credit line (visible characters).
const CREDIT_MAX: u32 = 90;
/// Longest caption (visible characters) dropped for the credit it carries.
const CAPTION_MAX: u32 = 300;
/// Longest dateline (characters).
const DATELINE_MAX: usize = 50;
/// Prose (characters, see `Agg::good`) of a block that the story's text ends with.
const TAIL_PROSE_MIN: u32 = 100;

/// Whether a class or id names a comment region: `comments`, `comment-list`,
/// `commentlist`, `comments-area`, `respond`, `disqus_thread` (not the state classes an
/// article element carries: `no-comments`, `comments-open`).
fn is_comment_name(s: &str) -> bool {
    // Most names say nothing of comments: one case-insensitive scan first.
    if !contains_ci(s, b"comment") && !contains_ci(s, b"disqus") && !contains_ci(s, b"respond") {
        return false;
    }
    s.split_ascii_whitespace().any(|t| {
        (contains_ci(t, b"comment")
            || contains_ci(t, b"disqus")
            || t.eq_ignore_ascii_case("respond"))
            && !contains_ci(t, b"commentary")
            && ![
                "no-comments",
                "comments-open",
                "comments-closed",
                "has-comments",
            ]
            .iter()
            .any(|x| t.eq_ignore_ascii_case(x))
    })
}

/// Whether `hay` contains the lowercase ASCII `needle`, ignoring ASCII case.
fn contains_ci(hay: &str, needle: &[u8]) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Words that open a credit line (lowercase), followed by `:` or a space.
const CREDIT_WORDS: &[&str] = &[
    "foto",
    "fotos",
    "photo",
    "photos",
    "photograph",
    "bild",
    "bilder",
    "image",
    "credit",
    "credits",
    "crédito",
    "crédit",
    "quelle",
    "source",
    "fuente",
    "fonte",
    "źródło",
    "titelbild",
    "beitragsbild",
    "copyright",
];

/// Markers of a credit inside a caption (lowercase): the caption names the image's
/// source ("… © dpa", "… Foto: GdP/Hagen Immel", "… Photograph: Guy Smallman").
const CREDIT_MARKERS: &[&str] = &[
    "©",
    "(c) ",
    "foto:",
    "fotos:",
    "photo:",
    "photograph:",
    "photos:",
    "bild:",
    "image:",
    "credit:",
    "crédit:",
    "crédito:",
];

/// Whether a caption carries a credit ([`CREDIT_MARKERS`]).
fn has_credit(text: &str) -> bool {
    let lower = text.to_lowercase();
    CREDIT_MARKERS.iter().any(|m| lower.contains(m))
}

/// Whether a line is a dateline standing alone: a date (a year, or day and month in
/// digits), with at most a few words around it ("Publiziert: 03.04.2020, 12:35",
/// "16 marca 2021", "Updated 2 June 2021"). The story's metadata, not its text.
fn is_dateline(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > DATELINE_MAX {
        return false;
    }
    let mut words = 0;
    let mut year = false;
    for tok in t
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if tok.chars().all(|c| c.is_ascii_digit()) {
            if tok.len() == 4 && (tok.starts_with("19") || tok.starts_with("20")) {
                year = true;
            }
        } else if tok.chars().any(char::is_alphabetic) {
            words += 1;
        }
    }
    year && words <= 3
}

/// Whether a line is a credit: it opens with `©`/`(c)`, or with a credit word and a
/// colon, or is one in parentheses ("(Foto: dpa)").
fn is_credit_line(text: &str) -> bool {
    let t = text.trim().trim_matches(|c: char| c == '*' || c == '_');
    let t = t.strip_prefix('(').unwrap_or(t);
    if t.starts_with('©') || t.to_ascii_lowercase().starts_with("(c)") {
        return true;
    }
    let lower = t.to_lowercase();
    CREDIT_WORDS.iter().any(|w| {
        lower
            .strip_prefix(w)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    })
}

impl<'d, 'i> Extractor<'d, 'i> {
    /// Drop comment regions, teaser runs, "read also" lines, credit lines and datelines,
    /// links after the story, on article pages boilerplate lines and the label lines
    /// that end the story (`tail.rs`), and the headings left with nothing under them.
    pub(super) fn article_boundary(&mut self, article: NodeId) {
        let before = self.agg_of(article).text;
        self.remove_comment_regions(article);
        self.remove_teaser_runs(article);
        self.remove_read_also_lines(article);
        self.remove_credit_lines(article);
        self.remove_trailing_links(article);
        // A site's own page (service) speaks to its reader in its own voice: its notes
        // and calls are its content.
        if self.page_type == PageType::Article {
            self.remove_boilerplate_lines(article);
            self.remove_trailing_labels(article);
        }
        // A site's own page (service) may have headings over nothing but images or
        // widgets: its empty labels go only when something above was taken from it.
        if self.page_type == PageType::Article || self.agg_of(article).text < before {
            self.remove_empty_sections(article);
        }
    }

    /// Remove the link blocks that follow the story's last paragraph of prose: after the
    /// text ends, a block that is mostly links to other pages (a list of further stories,
    /// a lone headline link, "see also", the site's legal links) is not the story.
    /// Images, tables and code stay, and so does a tail that is most of the content.
    fn remove_trailing_links(&mut self, article: NodeId) {
        let order: Vec<NodeId> = self.dom.descendants(article).collect();
        // The last block of prose: text of its own, long, with few links.
        let Some(last) = order.iter().rposition(|&d| {
            matches!(
                self.dom.tag(d),
                Some(Tag::P | Tag::Div | Tag::Li | Tag::Blockquote | Tag::Td | Tag::Section)
            ) && {
                let a = self.agg_of(d);
                !a.block && a.good >= TAIL_PROSE_MIN && a.link_density() < 0.3
            }
        }) else {
            return;
        };
        let end = self.past_subtree(&order, last);
        let total = self.agg_of(article).text;
        let mut found = Vec::new();
        let mut text = 0u32;
        let mut skip: Option<NodeId> = None;
        for &d in &order[end.min(order.len())..] {
            if skip.is_some_and(|s| self.dom.is_ancestor(s, d)) {
                continue;
            }
            let Some(tag) = self.dom.tag(d) else {
                continue;
            };
            // A list or table is judged whole: a list of references, some of whose
            // items are mostly a link, stays.
            let whole = matches!(tag, Tag::Ul | Tag::Ol | Tag::Dl | Tag::Table);
            if !whole
                && !matches!(
                    tag,
                    Tag::P
                        | Tag::Div
                        | Tag::Section
                        | Tag::H1
                        | Tag::H2
                        | Tag::H3
                        | Tag::H4
                        | Tag::H5
                        | Tag::H6
                )
            {
                continue;
            }
            let a = self.agg_of(d);
            let linked = a.text > 0
                && !a.keep
                && a.img == 0
                && a.link * 2 >= a.text
                // Words around the links make a sentence ("Talks between A, B and C
                // went on"), not a list of links.
                && a.text - a.link.min(a.text) <= (a.text / 4).max(25)
                && a.good < TAIL_PROSE_MIN
                && self.links_elsewhere(d);
            if linked {
                text += a.text;
                found.push(d);
                skip = Some(d);
            } else if whole {
                skip = Some(d);
            }
        }
        // The story's prose must outweigh what follows it (cards after a short intro
        // are a listing's items).
        if text.saturating_mul(3) > self.agg_of(article).good {
            return;
        }
        if found.is_empty() || text * 2 > total {
            return;
        }
        for d in found {
            if debug() {
                tracing::debug!(
                    target: "gannet_extract::debug",
                    node = %format_args!("{}.{}", self.dom.tag_name(d), names(self.dom, d).trim()),
                    text = self.agg_of(d).text,
                    "trailing links remove"
                );
            }
            self.remove(d);
        }
    }

    /// Whether a block is a teaser: short, and mostly link text, or headed by a link, or
    /// wrapped in one (a card).
    fn is_teaser_item(&self, id: NodeId) -> bool {
        // Blocks only: links side by side in a sentence are not a run of teasers (and a
        // run of bare card links is a listing's, not an article's).
        if !matches!(
            self.dom.tag(id),
            Some(Tag::Li | Tag::Div | Tag::Article | Tag::Section | Tag::Figure | Tag::P)
        ) {
            return false;
        }
        let a = self.agg_of(id);
        if a.text == 0 || a.text > TEASER_ITEM_MAX || a.keep {
            return false;
        }
        // Mostly a headline-long link (a nav label is shorter).
        if (a.link * 2 >= a.text && a.link >= 20)
            || (a.card_link * 2 >= a.text && a.card_link >= 20)
        {
            return self.links_elsewhere(id);
        }
        // Headed by a link: a headline to another page over its blurb.
        self.dom.descendants(id).any(|d| {
            heading_rank(self.dom, d).is_some() && {
                let h = self.agg_of(d);
                h.text >= 10 && h.link * 10 >= h.text * 9
            }
        }) && self.links_elsewhere(id)
    }

    /// Whether a block's links lead to other pages (not anchors of this one).
    fn links_elsewhere(&self, id: NodeId) -> bool {
        let mut any = false;
        for d in std::iter::once(id).chain(self.dom.descendants(id)) {
            if self.dom.is(d, Tag::A) {
                match self.dom.attr(d, "href").map(str::trim) {
                    Some(h) if !h.is_empty() && !h.starts_with('#') => any = true,
                    _ => return false,
                }
            }
        }
        any
    }

    /// Remove runs of at least three like siblings (two when each is headed by a link or
    /// is a whole card) that are all teasers and hold little of the article's prose.
    fn remove_teaser_runs(&mut self, article: NodeId) {
        let total_good = self.agg_of(article).good;
        let total_text = self.agg_of(article).text;
        let parents: Vec<NodeId> = std::iter::once(article)
            .chain(self.dom.descendants(article))
            .filter(|&p| self.dom.is_element(p) && self.within[p.index()] & IN_CODE == 0)
            .collect();
        // Prose (characters) before each node in document order: what follows a run.
        // Worked out when a page first has a run to judge (most have none).
        let mut before: Vec<u32> = Vec::new();
        let mut runs: Vec<Vec<NodeId>> = Vec::new();
        let mut kids: Vec<NodeId> = Vec::new();
        for p in parents {
            if self.dom.element_children(p).nth(1).is_none() {
                continue;
            }
            kids.clear();
            kids.extend(self.dom.element_children(p));
            let mut i = 0;
            while i < kids.len() {
                let key = (
                    self.dom.tag(kids[i]),
                    self.memo.class_signature(self.dom, kids[i]),
                );
                let mut j = i + 1;
                while j < kids.len()
                    && (
                        self.dom.tag(kids[j]),
                        self.memo.class_signature(self.dom, kids[j]),
                    ) == key
                {
                    j += 1;
                }
                let run = &kids[i..j];
                if run.len() >= 2 && run.iter().all(|&k| self.is_teaser_item(k)) {
                    let good: u32 = run.iter().map(|&k| self.agg_of(k).good).sum();
                    let text: u32 = run.iter().map(|&k| self.agg_of(k).text).sum();
                    let links_only = |k: &NodeId| {
                        let a = self.agg_of(*k);
                        a.link * 10 >= a.text * 9
                    };
                    let strong = run.len() >= 3
                        || run.iter().all(|&k| {
                            let a = self.agg_of(k);
                            a.card_link * 2 >= a.text || links_only(&k)
                        });
                    // Cards with blurbs only after the story's prose (trailing); inside
                    // it, only lists of bare links that interrupt the prose ("read
                    // also"): the story goes on after them in the same section. A list
                    // of links that a section is made of (a tutorial's topics, a guide's
                    // picks) ends at the next heading.
                    let last = run[run.len() - 1];
                    if before.is_empty() {
                        before = vec![0u32; self.dom.len()];
                        let mut acc = 0u32;
                        for d in self.dom.descendants(article) {
                            if let Some(b) = before.get_mut(d.index()) {
                                *b = acc;
                            }
                            if self.dom.is_text(d) {
                                acc = acc.saturating_add(self.agg_of(d).good);
                            }
                        }
                    }
                    let after = total_good.saturating_sub(
                        before.get(last.index()).copied().unwrap_or(0) + self.agg_of(last).good,
                    );
                    let whole = run.len() == kids.len() && p != article;
                    let container = if whole { p } else { last };
                    let placed = after < 200
                        || (run.iter().all(links_only) && self.prose_follows(container));
                    // A run that is most of the content is the content (a listing).
                    if strong
                        && placed
                        && good * 3 < total_good
                        && text * 2 < total_text
                        && text >= 40
                    {
                        runs.push(run.to_vec());
                    }
                }
                i = j;
            }
        }
        for run in runs {
            // The run's label: a heading (or bold label line) right before it, or before
            // the list that is the run.
            let first = run[0];
            let whole = self.dom.parent(first).filter(|&p| {
                p != article
                    && self.dom.element_children(p).count() == run.len()
                    && matches!(
                        self.dom.tag(p),
                        Some(Tag::Ul | Tag::Ol | Tag::Div | Tag::Section)
                    )
            });
            let label = self
                .dom
                .prev_element_sibling(whole.unwrap_or(first))
                .filter(|&h| self.head_rank(h).is_some());
            if let Some(h) = label
                && self.dom.is_ancestor(article, h)
            {
                self.remove(h);
            }
            for k in run {
                if self.dom.is_ancestor(article, k) {
                    if debug() && self.agg_of(k).text > debug_min() / 4 {
                        tracing::debug!(
                            target: "gannet_extract::debug",
                            node = %format_args!("{}.{}", self.dom.tag_name(k), names(self.dom, k).trim()),
                            text = self.agg_of(k).text,
                            "teaser removes"
                        );
                    }
                    self.remove(k);
                }
            }
        }
    }

    /// Whether the next block after `id` (climbing out of blocks it ends) is prose, not
    /// a heading: the text goes on after it.
    fn prose_follows(&self, id: NodeId) -> bool {
        let mut cur = id;
        loop {
            match self.dom.next_element_sibling(cur) {
                Some(n) => {
                    let a = self.agg_of(n);
                    return heading_rank(self.dom, n).is_none()
                        && a.heading == 0
                        && a.good >= 80
                        && a.link_density() < 0.3;
                }
                None => match self.dom.parent(cur) {
                    Some(p) if self.dom.is_element(p) => cur = p,
                    _ => return false,
                },
            }
        }
    }

    /// Remove paragraphs that are a short label and one link to another page, the link
    /// being most of the text: a pointer to another story inside the body.
    fn remove_read_also_lines(&mut self, article: NodeId) {
        let ps: Vec<NodeId> = self
            .dom
            .descendants(article)
            .filter(|&d| matches!(self.dom.tag(d), Some(Tag::P | Tag::Div | Tag::Li)))
            .collect();
        for p in ps.into_iter().rev() {
            let a = self.agg_of(p);
            if a.text == 0 || a.text > 300 || a.block || a.img > 0 {
                continue;
            }
            let mut links = self.dom.descendants(p).filter(|&d| self.dom.is(d, Tag::A));
            let (Some(link), None) = (links.next(), links.next()) else {
                continue;
            };
            let l = self.agg_of(link);
            let label = a.text.saturating_sub(l.text);
            if l.text < 20 || label == 0 || label > READ_ALSO_LABEL_MAX || l.text * 3 < a.text * 2 {
                continue;
            }
            if !self.links_elsewhere(p) {
                continue;
            }
            // The label comes first and ends as a label does.
            let text = self.dom.text_content(p);
            let text = text.trim();
            let link_text = self.dom.text_content(link);
            let Some(at) = text.find(link_text.trim()) else {
                continue;
            };
            let head = text[..at].trim_end().trim_end_matches(['*', '_', ' ']);
            if !head.ends_with([':', '»', '>', '|']) && !head.ends_with("->") {
                continue;
            }
            if debug() {
                tracing::debug!(target: "gannet_extract::debug", text = text.trim(), "read-also line removed");
            }
            self.remove(p);
        }
    }

    /// Remove blocks named as comment regions (readers' comments, the reply form, a
    /// comment system's frame) that hold little of the article's prose.
    fn remove_comment_regions(&mut self, article: NodeId) {
        let total = self.agg_of(article);
        let mut found = Vec::new();
        let mut walk = self.dom.descendants(article);
        while let Some(d) = walk.next() {
            if !self.dom.is_element(d) {
                continue;
            }
            let a = self.agg_of(d);
            if a.text * 2 >= total.text || a.good * 2 >= total.good.max(1) {
                continue;
            }
            let (class, ident) = self.dom.class_and_id(d);
            if is_comment_name(class) || is_comment_name(ident) {
                found.push(d);
                walk.skip_subtree(d);
            }
        }
        // Comments that outweigh the post: a discussion the decision missed, whose
        // replies are its content.
        let good: u32 = found.iter().map(|&d| self.agg_of(d).good).sum();
        if good * 2 >= total.good {
            return;
        }
        for d in found {
            if debug() && self.agg_of(d).text > debug_min() / 4 {
                tracing::debug!(
                    target: "gannet_extract::debug",
                    node = %format_args!("{}.{}", self.dom.tag_name(d), names(self.dom, d).trim()),
                    text = self.agg_of(d).text,
                    "comments remove"
                );
            }
            self.remove(d);
        }
    }

    /// Remove short blocks that are a photo credit or a source line on their own.
    fn remove_credit_lines(&mut self, article: NodeId) {
        let order: Vec<NodeId> = self.dom.descendants(article).collect();
        // Datelines stand before the story's first paragraph of prose or after its last.
        let prose = |d: &NodeId| {
            let a = self.agg_of(*d);
            self.dom.is_element(*d)
                && !a.block
                && a.good >= TAIL_PROSE_MIN
                && a.link_density() < 0.3
        };
        let first = order.iter().position(prose).unwrap_or(order.len());
        let last = order.iter().rposition(prose).unwrap_or(0);
        let blocks: Vec<(usize, NodeId)> = order
            .iter()
            .copied()
            .enumerate()
            .filter(|&(_, d)| {
                matches!(
                    self.dom.tag(d),
                    Some(Tag::P | Tag::Div | Tag::Span | Tag::Figcaption | Tag::Small | Tag::Cite)
                )
            })
            .collect();
        for (at, b) in blocks.into_iter().rev() {
            let a = self.agg_of(b);
            if a.text == 0 || a.text > CAPTION_MAX || a.block {
                continue;
            }
            // Alone: the only text of its parent block, or a block of its own.
            if self.dom.is(b, Tag::Span)
                && self
                    .dom
                    .parent(b)
                    .is_none_or(|p| self.agg_of(p).text > a.text + 2)
            {
                continue;
            }
            let short = a.text <= CREDIT_MAX;
            let caption = self.is_caption(b);
            if !short && !caption {
                continue;
            }
            let text = self.dom.text_content(b);
            let in_table = self
                .within
                .get(b.index())
                .is_some_and(|w| w & (IN_TABLE | IN_CODE) != 0);
            let dateline = !in_table && (at < first || at > last) && is_dateline(&text);
            if (short && (is_credit_line(&text) || dateline)) || (caption && has_credit(&text)) {
                if debug() {
                    tracing::debug!(target: "gannet_extract::debug", text = text.trim(), "credit line removed");
                }
                self.remove(b);
            }
        }
    }

    /// Whether a block is an image's caption: a `figcaption`, a block in a `figure`,
    /// or a block right after an image (or a block holding only images).
    fn is_caption(&self, id: NodeId) -> bool {
        if self.dom.is(id, Tag::Figcaption) {
            return true;
        }
        if self
            .dom
            .parent(id)
            .is_some_and(|p| self.dom.is(p, Tag::Figure))
        {
            return true;
        }
        self.dom.prev_element_sibling(id).is_some_and(|s| {
            matches!(self.dom.tag(s), Some(Tag::Img | Tag::Picture | Tag::Figure)) || {
                let a = self.agg_of(s);
                a.img > 0 && a.text == 0
            }
        })
    }

    /// Rank of a block as a section head: its heading rank, or 7 for a label line (a
    /// short paragraph all in bold).
    fn head_rank(&self, id: NodeId) -> Option<u8> {
        if let Some(r) = heading_rank(self.dom, id) {
            return Some(r);
        }
        if !self.dom.is(id, Tag::P) {
            return None;
        }
        let a = self.agg_of(id);
        if a.text == 0 || a.text > LABEL_LINE_MAX || a.link > 0 || a.img > 0 {
            return None;
        }
        let mut kids = self.dom.children(id).filter(|&c| {
            self.dom.is_element(c) || self.dom.text(c).is_some_and(|t| !t.trim().is_empty())
        });
        match (kids.next(), kids.next()) {
            (Some(only), None) if matches!(self.dom.tag(only), Some(Tag::Strong | Tag::B)) => {
                Some(7)
            }
            _ => None,
        }
    }

    /// Whether a head reads as a label ("More news", "Weitere Artikel"): a few words, not
    /// a sentence (a pull quote set as a heading, a closing line in bold, stay).
    fn is_label(&self, id: NodeId) -> bool {
        let t = self.dom.text_content(id);
        let t = t.trim();
        t.split_whitespace().count() <= 6
            && t.chars().count() <= LABEL_LINE_MAX as usize
            && !t.ends_with(['.', '!', '?'])
            && !t.contains(['。', '，', '！', '？'])
    }

    /// Remove section heads with nothing under them: followed by a head of their rank or
    /// above, or by the end of the article.
    fn remove_empty_sections(&mut self, article: NodeId) {
        // Document order: heads, and content (text outside heads, images, tables).
        let mut events: Vec<(NodeId, Option<u8>)> = Vec::new();
        let mut walk = self.dom.descendants(article);
        while let Some(d) = walk.next() {
            if let Some(r) = self.head_rank(d) {
                events.push((d, Some(r)));
                walk.skip_subtree(d);
            } else if self
                .dom
                .text(d)
                .is_some_and(|t| t.chars().any(|c| !c.is_whitespace()))
                || matches!(
                    self.dom.tag(d),
                    Some(Tag::Img | Tag::Table | Tag::Pre | Tag::Video | Tag::Iframe)
                )
            {
                if events.last().is_none_or(|e| e.1.is_some()) {
                    events.push((d, None));
                }
                if !self.dom.is_text(d) {
                    walk.skip_subtree(d);
                }
            }
        }
        // A head is empty when the next event is a head of its rank or above, or none.
        // Walk backwards so that a head over only empty heads is empty too.
        let mut empty = Vec::new();
        let mut next_rank: Option<u8> = Some(0); // 0: the end of the article
        let mut seen_content_since: bool = false;
        for &(d, rank) in events.iter().rev() {
            match rank {
                None => {
                    seen_content_since = true;
                    next_rank = None;
                }
                Some(r) => {
                    let is_empty =
                        !seen_content_since && next_rank.is_some_and(|n| n == 0 || n <= r);
                    if is_empty {
                        empty.push(d);
                    } else {
                        next_rank = Some(r);
                        seen_content_since = false;
                    }
                }
            }
        }
        let total = self.agg_of(article).text;
        for d in empty {
            if self.agg_of(d).text * 4 > total || !self.is_label(d) {
                continue;
            }
            self.remove_line(d, "empty section head");
        }
    }
}
