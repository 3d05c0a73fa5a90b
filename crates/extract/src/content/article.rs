//! The boundary of an article: its body (with figures, captions, tables, code and
//! quotes) without what surrounds a story on a news or blog site. Runs only on pages the
//! page-type decision calls articles: on a listing the teasers are the content, on a
//! forum the replies are.
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

/// Whether a class or id names a comment region: `comments`, `comment-list`,
/// `commentlist`, `comments-area`, `respond`, `disqus_thread` (not the state classes an
/// article element carries: `no-comments`, `comments-open`).
fn is_comment_name(s: &str) -> bool {
    s.split_ascii_whitespace().any(|t| {
        let t = t.to_ascii_lowercase();
        (t.contains("comment") || t.contains("disqus") || t == "respond")
            && !t.contains("commentary")
            && !matches!(
                t.as_str(),
                "no-comments" | "comments-open" | "comments-closed" | "has-comments"
            )
    })
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
    /// Drop teaser runs, "read also" lines and the headings left with nothing under them.
    pub(super) fn article_boundary(&mut self, article: NodeId) {
        self.remove_comment_regions(article);
        self.remove_teaser_runs(article);
        self.remove_read_also_lines(article);
        self.remove_credit_lines(article);
        self.remove_empty_sections(article);
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
        let mut before = vec![0u32; self.dom.len()];
        let mut acc = 0u32;
        for d in self.dom.descendants(article) {
            if let Some(b) = before.get_mut(d.index()) {
                *b = acc;
            }
            if self.dom.is_text(d) {
                acc = acc.saturating_add(self.agg_of(d).good);
            }
        }
        let mut runs: Vec<Vec<NodeId>> = Vec::new();
        for p in parents {
            let kids: Vec<NodeId> = self.dom.element_children(p).collect();
            if kids.len() < 2 {
                continue;
            }
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
                    // it, only lists of bare links ("read also").
                    let last = run[run.len() - 1];
                    let after = total_good.saturating_sub(
                        before.get(last.index()).copied().unwrap_or(0) + self.agg_of(last).good,
                    );
                    let placed = after < 200 || run.iter().all(links_only);
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
                        eprintln!(
                            "teaser removes {}.{} text {}",
                            self.dom.tag_name(k),
                            names(self.dom, k).trim(),
                            self.agg_of(k).text
                        );
                    }
                    self.remove(k);
                }
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
            let links: Vec<NodeId> = self
                .dom
                .descendants(p)
                .filter(|&d| self.dom.is(d, Tag::A))
                .collect();
            let [link] = links[..] else {
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
                eprintln!("read-also line removed: {text:?}");
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
                eprintln!(
                    "comments remove {}.{} text {}",
                    self.dom.tag_name(d),
                    names(self.dom, d).trim(),
                    self.agg_of(d).text
                );
            }
            self.remove(d);
        }
    }

    /// Remove short blocks that are a photo credit or a source line on their own.
    fn remove_credit_lines(&mut self, article: NodeId) {
        let blocks: Vec<NodeId> = self
            .dom
            .descendants(article)
            .filter(|&d| {
                matches!(
                    self.dom.tag(d),
                    Some(Tag::P | Tag::Div | Tag::Span | Tag::Figcaption | Tag::Small | Tag::Cite)
                )
            })
            .collect();
        for b in blocks.into_iter().rev() {
            let a = self.agg_of(b);
            if a.text == 0 || a.text > CREDIT_MAX || a.block {
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
            if is_credit_line(&self.dom.text_content(b)) {
                if debug() {
                    eprintln!("credit line removed: {:?}", self.dom.text_content(b).trim());
                }
                self.remove(b);
            }
        }
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
        t.split_whitespace().count() <= 6 && !t.ends_with(['.', '!', '?'])
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
            if debug() {
                eprintln!(
                    "empty section head removed: {:?}",
                    self.dom.text_content(d).trim()
                );
            }
            self.remove(d);
        }
    }
}
