//! Cleanup inside the chosen content: what is never content (preclean), Readability's
//! conditional cleaning, duplicates of a layout, control labels.

use super::*;

/// Beyond Readability's list: consent and subscription overlays.
pub(super) const UNLIKELY_EXTRA: WordSet = WordSet::new(&[
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
pub(super) const OVERLAY: WordSet = WordSet::new(&[
    "consent",
    "cookie-banner",
    "cookie-notice",
    "cookie-bar",
    "cookiebar",
    "cookie-law",
    "cookie-policy-banner",
    "gdpr",
    // The GDPR's German and Romance-language names (consent managers name their boxes so).
    "dsgvo",
    "rgpd",
    "onetrust",
    "usercentrics",
    "didomi",
]);

pub(super) fn is_overlay(dom: &Dom, id: NodeId) -> bool {
    let (class, ident) = dom.class_and_id(id);
    OVERLAY.in_str(class) || OVERLAY.in_str(ident)
}
/// Readability 0.5's addition to `okMaybeItsACandidate`: MathJax containers are content.
pub(super) const OK_MAYBE_EXTRA: WordSet = WordSet::new(&["mathjax"]);

/// Headings that name a page region, not a document's topic: a section named after
/// one of these ("Comments", "Related posts") is still boilerplate.
pub(super) const PAGE_REGION_TOPICS: WordSet = WordSet::new(&[
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
/// The words of [`NEGATIVE`] that name boilerplate itself, not a way of building or
/// showing a block.
pub(super) const STRONG_NEGATIVE: WordSet = WordSet::new(&[
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
pub(super) const SHARE: WordSet = WordSet::new(&["share", "sharing"]);

pub(super) fn strongly_negative(dom: &Dom, id: NodeId) -> bool {
    let (class, ident) = dom.class_and_id(id);
    STRONG_NEGATIVE.in_str(class) || STRONG_NEGATIVE.in_str(ident)
}

/// Whole texts of page controls (lowercase): post actions, shop buttons drawn as links,
/// teaser links.
pub(super) const CONTROL_LABELS: &[&str] = &[
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
pub(super) fn is_post_counter(t: &str) -> bool {
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
pub(super) const USER_CARD_FIELDS: &[&str] = &[
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
pub(super) const USER_CARD_MAX: u32 = 120;

/// Longest text (visible characters) read as a control label: the longest of
/// [`CONTROL_LABELS`] ("report inappropriate content") with room for punctuation.
pub(super) const CONTROL_LABEL_MAX: u32 = 32;

/// Sections repeated word for word at least this long (visible characters) are layout
/// copies wherever they sit.
pub(super) const DUPLICATE_MIN: u32 = 500;
/// Shorter sections down to this length are copies when the second follows the first
/// within its own length.
pub(super) const DUPLICATE_SMALL: u32 = 60;

impl<'d, 'i> Extractor<'d, 'i> {
    /// Remove what is never content: scripts, hidden nodes, unlikely candidates (by
    /// class/id/role), the byline and a heading that repeats the title.
    pub(super) fn preclean(&mut self, body: NodeId) {
        let mut remove = Vec::new();
        let body_text = self.agg_of(body).text;
        let body_good = self.agg_of(body).good;
        let mut walk = self.dom.descendants(body);
        while let Some(id) = walk.next() {
            let Some(tag) = self.dom.tag(id) else {
                continue;
            };
            use Tag::*;
            if tag == Form && self.agg_of(id).input > 0 {
                // Its controls go below; what they were part of is remembered.
                self.control_forms.push(id);
            }
            let drop = match tag {
                // Scripts run in browsers, so <noscript> is not shown; keep it only when it
                // holds most of the page (forums that serve crawlers their posts there).
                Noscript => self.agg_of(id).text * 2 < body_text,
                // A button that swallowed the page (an unclosed start tag) is not a button.
                Button | Select => self.agg_of(id).text < 500,
                Script | Style | Template | Head | Title | Meta | Link | Svg | Canvas | Input
                | Textarea | Option | Object | Embed | Iframe | Dialog | Base => true,
                // Ruby annotations (furigana: the reading of the characters before them)
                // would interleave a second copy of the text with the text.
                Rt | Rp => true,
                _ => {
                    // (`is_hidden` says no to a node holding most of the page.)
                    let holds_most = self.agg_of(id).text * 5 >= body_text * 4
                        || (self.agg_of(id).good >= 500 && self.agg_of(id).good * 2 > body_good)
                        || self.is_collapsed_item_body(id);
                    (!holds_most && self.memo.is_hidden(self.dom, id))
                        || (self
                            .dom
                            .attr(id, "role")
                            .is_some_and(|r| UNLIKELY_ROLES.contains(&r.trim()))
                            && !self.is_disclosed_sheet(id))
                        || (self.flags.strip_unlikely
                            && self.agg_of(id).text * 5 < body_text * 3
                            && !self.is_content_head(id)
                            && self.is_unlikely(id, tag))
                        // A consent box may carry more text than a short story (every
                        // vendor's purposes): it goes when the rest of the page has prose.
                        || ((self.agg_of(id).text * 2 < body_text
                            || body_good.saturating_sub(self.agg_of(id).good) >= 1000)
                            && is_overlay(self.dom, id))
                        || self.input.skip_nodes.contains(&id)
                        || (self.within[id.index()] & IN_CODE == 0 && self.is_json_data(id))
                }
            };
            if drop {
                if debug() && self.agg_of(id).text > debug_min() * 5 {
                    tracing::debug!(
                        target: "gannet_extract::debug",
                        node = %format_args!("{}.{}", self.dom.tag_name(id), names(self.dom, id).trim()),
                        text = self.agg_of(id).text,
                        "preclean drops"
                    );
                }
                remove.push(id);
                walk.skip_subtree(id);
            }
        }
        for &id in &remove {
            if self.dom.tag(id).is_some_and(|t| t.is_heading())
                && self.input.skip_nodes.contains(&id)
            {
                self.headline_next = self.next_after(id);
            }
        }
        for id in remove {
            self.dom.detach(id);
        }
    }

    /// A hidden block of prose right after a visible head, inside one of a run of like
    /// items: the answer of a FAQ entry, the body of an accordion section, shown on click
    /// whatever the page's class names (styled-components' `kAHMfN` say nothing).
    pub(super) fn is_collapsed_item_body(&self, id: NodeId) -> bool {
        self.agg_of(id).good >= 25
            && self.dom.parent(id).is_some_and(|p| self.is_repeated(p))
            && self
                .dom
                .prev_element_sibling(id)
                .is_some_and(|q| self.agg_of(q).text > 0 && !self.memo.is_hidden(self.dom, q))
    }

    /// An element whose only content is a JSON object or array (state a script reads,
    /// parked in a hidden block): data, not prose. Code blocks are never data.
    pub(super) fn is_json_data(&self, id: NodeId) -> bool {
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
    pub(super) fn is_control_label(&self, id: NodeId, tag: Tag) -> bool {
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
    pub(super) fn is_user_card_field(&self, id: NodeId) -> bool {
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

    pub(super) fn is_unlikely(&self, id: NodeId, tag: Tag) -> bool {
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
    pub(super) fn is_named_for_its_heading(&self, id: NodeId, ident: &str) -> bool {
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

    /// Readability's prepArticle: drop boilerplate inside the chosen content.
    pub(super) fn prepare(&mut self, article: NodeId) {
        // Elements never content inside an article.
        let mut always = Vec::new();
        self.control_forms.sort_unstable();
        let mut walk = self.dom.descendants(article);
        while let Some(id) = walk.next() {
            if matches!(
                self.dom.tag(id),
                Some(Tag::Footer | Tag::Aside | Tag::Nav | Tag::Form)
            ) && !self.agg_of(id).keep
                && !self.in_disclosed_sheet(id)
                && (self.dom.tag(id) != Some(Tag::Form)
                    || self.agg_of(id).input > 0
                    || (self.page_type != PageType::Forum
                        && !self.flags.forum
                        && self.control_forms.binary_search(&id).is_ok()))
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
        if !matches!(self.page_type, PageType::Article | PageType::Forum) {
            self.remove_url_dumps(article);
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
            // An article's and a thread's items (posts, related cards) keep the rules.
            if !self.flags.forum
                && (self.listing || !matches!(self.page_type, PageType::Article | PageType::Forum))
            {
                self.item_fields = self.item_fields(article);
            }
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
        // Headings that look like boilerplate; empty paragraphs; markup that reached the
        // page as text (an escaped tracking pixel), unless in code.
        let ids: Vec<NodeId> = self.dom.descendants(article).collect();
        for id in ids.into_iter().rev() {
            match self.dom.tag(id) {
                None if self
                    .dom
                    .text(id)
                    .is_some_and(|t| t.len() < 4096 && crate::tagtext::is_tag_text(t))
                    && !self
                        .dom
                        .ancestors(id)
                        .any(|a| matches!(self.dom.tag(a), Some(Tag::Pre | Tag::Code))) =>
                {
                    self.remove(id)
                }
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
        // Articles, site pages, and listings that are mostly prose (see `article.rs`).
        let a = self.agg_of(article);
        if matches!(self.page_type, PageType::Article | PageType::Service)
            || (self.page_type == PageType::Listing && a.good * 2 >= a.text)
        {
            self.article_boundary(article);
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
    pub(super) fn remove_duplicates(&mut self, article: NodeId) {
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
                tracing::debug!(
                    target: "gannet_extract::debug",
                    node = %format_args!("{}.{}", self.dom.tag_name(id), names(self.dom, id).trim()),
                    text = self.agg_of(id).text,
                    "duplicate removes"
                );
            }
            self.remove(id);
        }
    }

    /// Per node, a hash of its words in order, whatever elements they sit in: a
    /// polynomial hash, so a parent's is composed from its children's in one bottom-up
    /// pass (linear time, however deep the blocks nest).
    pub(super) fn text_hashes(&self, article: NodeId) -> Vec<u64> {
        const BASE: u64 = 0x100_0000_01b3;
        // (hash, BASE^words) per node.
        let mut acc = vec![(0u64, 1u64); self.dom.len()];
        let nodes: Vec<NodeId> = self.dom.descendants(article).collect();
        for &id in nodes.iter().rev() {
            let (mut h, mut pow) = (0u64, 1u64);
            if let Some(t) = self.dom.text(id) {
                for w in crate::textstat::words(t) {
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

    pub(super) fn has_media(&self, id: NodeId) -> bool {
        self.dom.descendants(id).any(|d| {
            matches!(
                self.dom.tag(d),
                Some(Tag::Img | Tag::Video | Tag::Audio | Tag::Picture | Tag::Math | Tag::Br)
            )
        })
    }

    /// Readability's `_cleanConditionally` test.
    pub(super) fn should_clean(&mut self, id: NodeId) -> bool {
        if self.grid == Some(id) || self.is_item_field(id) {
            return false;
        }
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
        // Readability's image rule is for galleries and ad blocks; a section of prose
        // paragraphs between its charts or photos (not a list: cards with pictures) is
        // a story told with pictures.
        let illustrated = (a.p >= 2 && a.li == 0 && a.good >= 250 && a.link_density() < 0.2)
            || (a.link == 0 && a.good >= 150 && a.good * 5 >= a.text * 4);
        let remove = (img > 1.0 && p / img < 0.5 && !in_figure && !illustrated)
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

    pub(super) fn contains_code(&self, id: NodeId) -> bool {
        self.dom
            .descendants(id)
            .any(|d| matches!(self.dom.tag(d), Some(Tag::Pre | Tag::Code)))
    }

    /// Readability's data-table test: a table of data, not of layout.
    pub(super) fn is_data_table(&self, table: NodeId) -> bool {
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
