//! The boundary of listings and collections: a shop's or catalogue's grid of item cards.

use super::*;

impl<'d, 'i> Extractor<'d, 'i> {
    /// A grid of item cards (`cards`, from [`Self::item_runs`]) that comes before the
    /// best prose block `top` in the page, apart from it: a collection page whose
    /// items are its content and whose prose (a category description, a FAQ for search
    /// engines) follows them. An article's related cards come after the article.
    pub(super) fn leading_grid(&self, cards: NodeId, top: NodeId) -> Option<NodeId> {
        if cards.index() >= top.index()
            || self.dom.is_ancestor(top, cards)
            || self.dom.is_ancestor(cards, top)
        {
            return None;
        }
        Some(cards)
    }

    /// The element whose children include the largest run (by text) of at least four
    /// items with the same tag and class (the item list of a listing page), and the one
    /// with the largest run of cards: six or more like items, each with a link (to the
    /// item's own page), most with a picture, more link and label than prose, as on a
    /// shop's or a catalogue's grid. One walk for both.
    pub(super) fn item_runs(&self, body: NodeId) -> (Option<NodeId>, Option<(NodeId, u32)>) {
        let mut best: Option<(NodeId, u32)> = None;
        let mut cards: Option<(NodeId, u32)> = None;
        let mut groups: Vec<Group<'_>> = Vec::new();
        for id in std::iter::once(body).chain(self.dom.descendants(body)) {
            if !self.dom.is_element(id) || self.agg_of(id).text < 200 {
                continue;
            }
            groups.clear();
            for c in self.dom.element_children(id) {
                let tag = self.dom.tag(c);
                let class = item_signature(self.dom.attr(c, "class").unwrap_or(""));
                let a = self.agg_of(c);
                let g = match groups.iter_mut().find(|g| g.tag == tag && g.class == class) {
                    Some(g) => g,
                    None => {
                        groups.push(Group {
                            tag,
                            class,
                            ..Group::default()
                        });
                        let Some(g) = groups.last_mut() else { break };
                        g
                    }
                };
                g.count += 1;
                g.text += a.text;
                g.link += a.link.saturating_sub(a.card_link);
                g.good += a.good;
                g.linked += u32::from(a.link > 0);
                g.pictured += u32::from(a.img > 0);
                if groups.len() > 32 {
                    break;
                }
            }
            for g in &groups {
                if g.count < 4 || matches!(g.tag, Some(Tag::Option | Tag::Tr | Tag::Td | Tag::Th)) {
                    continue;
                }
                // Right under <body>, unnamed blocks are page regions, not list items.
                if id == body && g.class.is_empty() {
                    continue;
                }
                // Navigation menus are runs of links; items carry text besides their link.
                if g.text == 0 || g.link as f32 / g.text as f32 > 0.85 || g.text / g.count < 20 {
                    continue;
                }
                if best.is_none_or(|(_, t)| g.text > t) {
                    best = Some((id, g.text));
                }
                // Cards of things to buy or look at: each links to its page and most
                // carry a picture.
                if g.count >= 6
                    && g.linked * 10 >= g.count * 9
                    && g.pictured * 2 >= g.count
                    && g.good * 2 < g.text
                    && cards.is_none_or(|(_, t)| g.text > t)
                {
                    cards = Some((id, g.text));
                }
            }
        }
        (best.map(|(id, _)| id), cards)
    }

    /// The class signatures of the fields of like items in `article`: a named block that
    /// sits in one of a run of like items (its child or grandchild) and
    /// recurs in at least four of them, such as a listing's author line or a card's
    /// rating. What every item carries is part of the items, whatever its link density;
    /// cleaning it piecemeal takes the same field from every item. Sorted.
    pub(super) fn item_fields(&mut self, article: NodeId) -> Vec<u64> {
        let mut seen: Vec<(u64, NodeId, u32)> = Vec::new();
        let ids: Vec<NodeId> = self.dom.descendants(article).collect();
        for id in ids {
            if !self.dom.is_element(id) || self.dom.attr(id, "class").is_none_or(str::is_empty) {
                continue;
            }
            // The item holding it: itself or an ancestor up to two levels up.
            let item = self
                .dom
                .ancestors(id)
                .take(2)
                .take_while(|&a| a != article)
                .find(|&a| self.is_repeated(a));
            let Some(item) = item else { continue };
            let sig = self.memo.class_signature(self.dom, id);
            seen.push((sig, item, 0));
        }
        // Count distinct items per signature.
        seen.sort_unstable_by_key(|&(s, item, _)| (s, item));
        seen.dedup_by_key(|&mut (s, item, _)| (s, item));
        let mut fields = Vec::new();
        let mut k = 0;
        while k < seen.len() {
            let s = seen[k].0;
            let n = seen[k..].iter().take_while(|e| e.0 == s).count();
            if n >= 4 {
                fields.push(s);
            }
            k += n;
        }
        fields
    }

    /// Whether element `id` is one of the [`Self::item_fields`].
    pub(super) fn is_item_field(&mut self, id: NodeId) -> bool {
        !self.item_fields.is_empty()
            && self.dom.attr(id, "class").is_some_and(|c| !c.is_empty())
            && {
                let sig = self.memo.class_signature(self.dom, id);
                self.item_fields.binary_search(&sig).is_ok()
            }
    }
}

/// Children of one element with the same tag and class signature.
#[derive(Default)]
struct Group<'a> {
    tag: Option<Tag>,
    class: &'a str,
    count: u32,
    text: u32,
    /// Link text outside card links.
    link: u32,
    good: u32,
    /// Items holding a link.
    linked: u32,
    /// Items holding an image.
    pictured: u32,
}

#[cfg(test)]
mod tests {
    use gannet_core::PageType;

    fn extract(html: &str) -> crate::Document {
        crate::extract_str(html, None, &crate::Options::default())
    }

    fn prose(topic: &str) -> String {
        (0..6)
            .map(|i| {
                format!(
                    "<p>Paragraph {i} about {topic}, with enough words, commas, and detail to \
                     count as real prose for the scorer, as a category page would have it.</p>"
                )
            })
            .collect()
    }

    fn cards(n: usize) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "<div class=\"card\"><a href=\"/p/{i}\"><img src=\"/i/{i}.jpg\" alt=\"\">\
                     <span>Trail shoe model {i}</span></a><span>$1{i}9.00</span></div>"
                )
            })
            .collect()
    }

    fn menu() -> String {
        let items: String = (0..12)
            .map(|i| format!("<li><a href=\"/c/{i}\">Department {i}</a></li>"))
            .collect();
        format!("<header><nav><ul>{items}</ul></nav></header>")
    }

    #[test]
    fn a_grid_of_cards_before_the_prose_is_the_content() {
        let html = format!(
            "<html><body>{}<main><h1>Trail shoes</h1><div class=\"grid\">{}</div>\
             <div class=\"seo\"><h2>About trail shoes</h2>{}</div></main></body></html>",
            menu(),
            cards(10),
            prose("choosing trail shoes")
        );
        let doc = extract(&html);
        for i in [0, 4, 9] {
            assert!(
                doc.markdown.contains(&format!("Trail shoe model {i}")),
                "card {i} missing: {}",
                doc.markdown
            );
        }
        assert!(
            doc.markdown
                .contains("Paragraph 3 about choosing trail shoes")
        );
        assert!(!doc.markdown.contains("Department 5"), "{}", doc.markdown);
        assert_eq!(doc.page_type, Some(PageType::Listing));
    }

    #[test]
    fn cards_after_an_article_stay_out() {
        let html = format!(
            "<html><body>{}<main><article><h1>A story</h1>{}{}</article>\
             <h2>More to shop</h2><div class=\"grid\">{}</div></main></body></html>",
            menu(),
            prose("the story"),
            prose("the story's second half"),
            cards(8)
        );
        let doc = extract(&html);
        assert!(
            doc.markdown
                .contains("Paragraph 5 about the story's second half")
        );
        assert!(
            !doc.markdown.contains("Trail shoe model"),
            "{}",
            doc.markdown
        );
    }

    #[test]
    fn runs_without_pictures_are_not_a_grid() {
        // A table of contents before the text: links without pictures.
        let toc: String = (0..8)
            .map(|i| {
                format!(
                    "<div class=\"toc\"><a href=\"#s{i}\">Section number {i} of the guide</a></div>"
                )
            })
            .collect();
        let html = format!(
            "<html><body><main><div class=\"toc-wrap\">{toc}</div><div class=\"text\">{}</div>\
             </main></body></html>",
            prose("the guide")
        );
        let doc = extract(&html);
        assert!(doc.markdown.contains("Paragraph 2 about the guide"));
        assert!(
            !doc.markdown.contains("Section number 3"),
            "{}",
            doc.markdown
        );
    }

    #[test]
    fn a_purchase_form_is_not_the_product() {
        let ld = r#"<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Kettle"}</script>"#;
        let html = format!(
            "<html><head>{ld}</head><body>{}<main><h1>Electric kettle</h1><div class=\"product-info\">\
             <form action=\"/cart/add\" method=\"post\"><span>Colour</span>\
             <select name=\"c\"><option>Red</option><option>Blue</option></select>\
             <span>Only three left in stock, order now, ships in two days, free returns, pay in four, \
             gift wrap, engraving, a two-year warranty, support by phone, chat, or mail</span>\
             <button type=\"submit\">Add to cart</button></form>\
             {}</div></main></body></html>",
            menu(),
            prose("the kettle")
        );
        let doc = extract(&html);
        assert_eq!(doc.page_type, Some(PageType::Product));
        assert!(doc.markdown.contains("Paragraph 4 about the kettle"));
        assert!(
            !doc.markdown.contains("Only three left"),
            "{}",
            doc.markdown
        );
    }

    #[test]
    fn every_item_keeps_its_fields() {
        // A list of papers: each entry's author line is all links, which alone would be
        // cleaned as boilerplate; it is a field every entry carries.
        let entries: String = (0..8)
            .map(|i| {
                format!(
                    "<dt><a href=\"/abs/{i}\">arXiv:{i}</a></dt><dd><div class=\"meta\">\
                     <div class=\"title\">Title: A study of problem {i} in planning</div>\
                     <div class=\"authors\"><a href=\"/a/x{i}\">Ann Author{i}</a> \
                     <a href=\"/a/y{i}\">Bob Writer</a> <a href=\"/a/z{i}\">Cy Scholar</a></div>\
                     <p>We study problem {i}, with methods, proofs, and experiments that show \
                     what works, what does not, and why, in some detail.</p></div></dd>"
                )
            })
            .collect();
        let html = format!(
            "<html><body>{}<main><h1>Recent submissions</h1><dl class=\"articles\">{entries}</dl>\
             </main></body></html>",
            menu()
        );
        let doc = extract(&html);
        // (The first entry's authors may be read as the page's byline.)
        for i in [1, 5, 7] {
            assert!(
                doc.markdown.contains(&format!("Ann Author{i}")),
                "{}",
                doc.markdown
            );
        }
        assert!(!doc.markdown.contains("Department 3"), "{}", doc.markdown);
    }
}
