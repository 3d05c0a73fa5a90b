//! The article boundary's tests: teaser runs, read-also lines, comments, credits and
//! datelines, trailing links, boilerplate lines, trailing labels, illustrated sections.

use super::tests::{markdown, page_type, prose};

/// An article page (declared), its body, and `tail` after the body inside the same
/// container.
fn news_page(tail: &str) -> String {
    let body = prose("the harbour");
    format!(
        "<html><head><script type=\"application/ld+json\">{{\"@context\":\"https://schema.org\",\
         \"@type\":\"NewsArticle\",\"headline\":\"Harbour\"}}</script></head><body>\
         <div class=\"story\"><h1>Harbour</h1>{body}{tail}</div></body></html>"
    )
}

#[test]
fn an_article_loses_its_trailing_teaser_cards_and_their_heading_in_any_language() {
    let cards: String = (0..3)
        .map(|i| {
            format!(
                "<div class=\"teaser\"><h3><a href=\"/news/{i}\">Another story number {i} from \
                 the newsroom today</a></h3><p>Short blurb {i}.</p></div>"
            )
        })
        .collect();
    let md = markdown(&news_page(&format!("<h2>Weitere Artikel</h2>{cards}")));
    assert!(md.contains("Paragraph 5 about the harbour"), "{md}");
    assert!(!md.contains("Another story number"), "{md}");
    assert!(!md.contains("Weitere Artikel"), "{md}");
}

#[test]
fn an_article_loses_an_in_body_list_of_links_to_other_stories() {
    let list = "<h4>Lesen Sie auch</h4><ul>\
        <li><a href=\"/a\">Darf ich meine Zaubernuss umpflanzen?</a></li>\
        <li><a href=\"/b\">Ist die Zaubernuss giftig für Hunde?</a></li>\
        <li><a href=\"/c\">Warum blüht meine Zaubernuss nicht?</a></li></ul>";
    let body = prose("the witch hazel");
    let html = news_page(&format!("{list}{body}"));
    let md = markdown(&html);
    assert!(!md.contains("Zaubernuss"), "{md}");
    assert!(!md.contains("Lesen Sie auch"), "{md}");
    assert!(md.contains("Paragraph 5 about the witch hazel"), "{md}");
}

#[test]
fn a_read_also_line_leaves_an_article_but_a_sentence_with_a_link_stays() {
    let tail = "<p><strong>Lea también:</strong> <a href=\"/otra\">Impiden ingreso a Nicaragua a \
        reportero y camarógrafo estadounidense</a></p>\
        <p>The mayor said on <a href=\"/tuesday\">Tuesday</a> that the harbour would open.</p>";
    let md = markdown(&news_page(tail));
    assert!(!md.contains("Impiden ingreso"), "{md}");
    assert!(md.contains("the harbour would open"), "{md}");
}

#[test]
fn links_side_by_side_in_a_sentence_are_not_a_teaser_run() {
    let tail = "<p>Talks between <a href=\"/de\">Deutschland und seinen Nachbarn</a>, \
        <a href=\"/fr\">Frankreich und seinen Regionen</a> and \
        <a href=\"/be\">Belgien und seinen Provinzen</a> went on all week.</p>";
    let md = markdown(&news_page(tail));
    assert!(md.contains("Frankreich und seinen Regionen"), "{md}");
}

#[test]
fn a_listing_keeps_its_cards() {
    let cards: String = (0..8)
        .map(|i| {
            format!(
                "<div class=\"card\"><h3><a href=\"/p/{i}\">The story number {i} of the week, told</a>\
                 </h3><span>By Ann Lee</span> <span>3 min read</span></div>"
            )
        })
        .collect();
    let html = format!(
        "<html><head><script type=\"application/ld+json\">{{\"@type\":\"Article\"}}</script></head>\
         <body><h1>Stories</h1><div class=\"grid\">{cards}</div></body></html>"
    );
    let doc = crate::extract_str(&html, None, &crate::Options::default());
    assert_eq!(doc.page_type, Some(gannet_core::PageType::Listing));
    assert!(
        doc.markdown.contains("The story number 7"),
        "{}",
        doc.markdown
    );
}

#[test]
fn escaped_markup_never_reaches_the_markdown() {
    let tail = "<p>&lt;img height=\"1\" width=\"1\" style=\"display:none\" \
        src=\"https://www.facebook.com/tr?id=1&amp;ev=PageView&amp;noscript=1\"/&gt;</p>\
        <p>The <code>&lt;img&gt;</code> element and the word &lt;img&gt; in prose stay.</p>";
    let md = markdown(&news_page(tail));
    assert!(!md.contains("facebook.com/tr"), "{md}");
    assert!(md.contains("in prose stay"), "{md}");
    // The description standing in for an empty page is cleaned the same way.
    let html = "<html><head><meta name=\"description\" content=\"&lt;img height=&quot;1&quot; \
        src=&quot;https://px.example/tr&quot;/&gt; A story about the harbour and its boats, long \
        enough to be a description of the page, with a second sentence to make it longer.\"></head><body><p>Short.</p></body></html>";
    let md = markdown(html);
    assert!(!md.contains("px.example"), "{md}");
    assert!(md.contains("A story about the harbour"), "{md}");
}

#[test]
fn an_article_loses_its_comments_but_a_thread_keeps_its_replies() {
    let comments: String = (0..3)
        .map(|i| {
            format!(
                "<li class=\"comment\"><div class=\"comment-author\">Reader {i}</div>\
                 <p>Comment {i}: I read this story about the harbour and I have an opinion, \
                 which I now share at some length with everyone else.</p></li>"
            )
        })
        .collect();
    let tail = format!(
        "<div id=\"comments\"><h3>3 Kommentare</h3><ol class=\"commentlist\">{comments}</ol>\
         <div id=\"respond\"><h3>Kommentar verfassen</h3></div></div>"
    );
    let md = markdown(&news_page(&tail));
    assert!(md.contains("Paragraph 5 about the harbour"), "{md}");
    assert!(!md.contains("I have an opinion"), "{md}");
    assert!(!md.contains("Kommentar verfassen"), "{md}");
    // The same replies on a discussion page are its content.
    let thread = format!(
        "<html><body class=\"forum\"><div class=\"thread\"><p>Question: what do you think of \
         the harbour plan, which the council published on Monday?</p>\
         <ol class=\"commentlist\">{comments}</ol></div></body></html>"
    );
    let md = markdown(&thread);
    assert!(md.contains("Comment 2: I read this story"), "{md}");
}

#[test]
fn credit_lines_standing_alone_leave_an_article_but_captions_stay() {
    let tail = "<figure><img src=\"/boat.jpg\"><figcaption>The ferry leaves the harbour at \
        dawn.</figcaption></figure><p>Foto: Hagen Immel</p><p>© AFP / Marco Bertorello</p>";
    let md = markdown(&news_page(tail));
    assert!(md.contains("The ferry leaves the harbour at dawn."), "{md}");
    assert!(!md.contains("Hagen Immel"), "{md}");
    assert!(!md.contains("Bertorello"), "{md}");
    assert!(md.contains("Paragraph 5 about the harbour"), "{md}");
}

#[test]
fn links_after_the_last_paragraph_leave_an_article_but_a_reference_list_stays() {
    let tail = "<h3><a href=\"/news/ice\">Another headline from the same newsroom</a></h3>\
        <p><a href=\"/impressum\">Impressum</a> | <a href=\"/privacy\">Datenschutz</a></p>\
        <ol><li>Smith, J. (2019). A study of harbours and their tides, pages 1-20, \
        Journal of Coasts. <a href=\"https://doi.org/x\">doi</a></li>\
        <li><a href=\"https://example.org/report\">The harbour authority's annual report</a></li></ol>";
    let md = markdown(&news_page(tail));
    assert!(md.contains("Paragraph 5 about the harbour"), "{md}");
    assert!(!md.contains("Another headline"), "{md}");
    assert!(!md.contains("Impressum"), "{md}");
    assert!(md.contains("A study of harbours"), "{md}");
    assert!(md.contains("annual report"), "{md}");
}

#[test]
fn a_caption_with_a_credit_and_a_dateline_leave_an_article_but_dates_in_the_text_stay() {
    let head = "<p>Publiziert: 03.04.2020, 12:35</p>";
    let body = prose("the harbour");
    let figure = "<figure><img src=\"/h.jpg\"><figcaption>The harbour at dawn. \
        Foto: Hagen Immel</figcaption></figure>";
    let html = format!(
        "<html><head><script type=\"application/ld+json\">{{\"@context\":\"https://schema.org\",\
         \"@type\":\"NewsArticle\",\"headline\":\"Harbour\"}}</script></head><body>\
         <div class=\"story\"><h1>Harbour</h1>{head}{figure}{body}\
         <p>Deadline: 03.11.2019 (postmark)</p>{body}</div></body></html>"
    );
    let md = markdown(&html);
    assert!(md.contains("Paragraph 5 about the harbour"), "{md}");
    assert!(!md.contains("Publiziert"), "{md}");
    assert!(!md.contains("Hagen Immel"), "{md}");
    assert!(!md.contains("harbour at dawn"), "{md}");
    // In the middle of the story, a line with a date is the story's.
    assert!(md.contains("Deadline: 03.11.2019"), "{md}");
}

#[test]
fn a_caption_without_a_credit_stays() {
    let figure = "<figure><img src=\"/h.jpg\"><figcaption>The harbour at dawn, \
        seen from the lighthouse</figcaption></figure>";
    let md = markdown(&news_page(figure));
    assert!(md.contains("seen from the lighthouse"), "{md}");
}

#[test]
fn a_service_page_loses_trailing_teasers_but_keeps_a_heading_over_a_widget() {
    let body = prose("our workshop");
    let cards: String = (0..3)
        .map(|i| {
            format!(
                "<div class=\"teaser\"><h3><a href=\"/news/{i}\">Another story number {i} from \
                 the newsroom today</a></h3><p>Short blurb {i}.</p></div>"
            )
        })
        .collect();
    let page = |tail: &str| {
        format!("<html><body><div class=\"page\"><h1>Workshop</h1>{body}{tail}</div></body></html>")
    };
    assert_eq!(page_type(&page("")), Some(gannet_core::PageType::Service));
    let md = markdown(&page(&format!("<h2>Weitere Artikel</h2>{cards}")));
    assert!(md.contains("Paragraph 5 about our workshop"), "{md}");
    assert!(!md.contains("Another story number"), "{md}");
    // Over a map drawn by script: nothing under the heading in the HTML.
    let md = markdown(&page("<h2>Find us</h2><div id=\"map\"></div>"));
    assert!(md.contains("Find us"), "{md}");
}

#[test]
fn an_appeal_in_a_box_after_the_story_leaves_an_article_in_any_language() {
    for appeal in [
        "<div class=\"support-box\"><p><em>Gefällt dir unser Magazin? Unterstütze uns mit \
         einem <a href=\"/abo\">Abo</a>!</em></p></div>",
        "<div class=\"note\"><p><strong>Never miss a story: sign up for our \
         <a href=\"/newsletter\">newsletter</a> today!</strong></p></div>",
        "<div class=\"cta\"><p>Tú también puedes apoyar el periodismo independiente: \
         <a href=\"/socios\">hazte miembro</a>.</p></div>",
    ] {
        let md = markdown(&news_page(appeal));
        assert!(md.contains("Paragraph 5 about the harbour"), "{md}");
        for gone in ["Magazin", "newsletter", "periodismo"] {
            assert!(!md.contains(gone), "{appeal}: {md}");
        }
    }
}

#[test]
fn the_storys_own_closing_lines_stay() {
    // Second person, in a box, at the end, but asking nothing: the story's advice.
    let advice = "<div class=\"info-box\"><p>You can visit the harbour museum every day of \
        the week, and the guides there will tell you about the old ships and the cranes. \
        Entry is free for children.</p></div>";
    let md = markdown(&news_page(advice));
    assert!(md.contains("You can visit the harbour museum"), "{md}");
    // An appeal-like sentence among the story's own paragraphs (no box of its own).
    let quote = "<p>“Support our fishermen!” the mayor told the crowd, and asked them to \
        follow the harbour council on Twitter.</p>";
    let md = markdown(&news_page(quote));
    assert!(md.contains("Support our fishermen"), "{md}");
}

#[test]
fn a_section_told_with_charts_stays() {
    let chart = |i: u32| format!("<img src=\"/chart{i}.png\" alt=\"\">");
    let section = format!(
        "<div class=\"content-article\"><p>Small parties win few seats but many votes in \
         total and the charts below show how many there are in each state today.</p>{}{}\
         <p>Some of them run in only a few states and so we kept to the largest ones in \
         the overview that follows here.</p>{}{}<p>The last chart shows the share of the \
         votes that went to parties outside the parliament.</p>{}</div>",
        chart(1),
        chart(2),
        chart(3),
        chart(4),
        (5..11).map(chart).collect::<String>()
    );
    let md = markdown(&news_page(&section));
    assert!(md.contains("Small parties win few seats"), "{md}");
    assert!(md.contains("we kept to the largest ones"), "{md}");
    // A list of cards with pictures is still a widget.
    assert!(md.contains("Paragraph 5 about the harbour"), "{md}");
}

#[test]
fn an_article_loses_the_label_lines_after_its_last_paragraph() {
    // Controls, prompts and section labels whose items went, in any language.
    let tail = "<div class=\"tools\"><span>drukuj</span></div>\
        <p><strong>Möchten Sie den Artikel teilen</strong></p>\
        <h3>Verwandte Artikel</h3><div>REKLAMA</div>";
    let md = markdown(&news_page(tail));
    assert!(md.contains("Paragraph 5 about the harbour"), "{md}");
    for label in ["drukuj", "Möchten Sie", "Verwandte Artikel", "REKLAMA"] {
        assert!(!md.contains(label), "{label}: {md}");
    }
}

#[test]
fn short_sentences_lists_and_code_at_the_end_of_an_article_stay() {
    // A closing sentence, a question to the reader, a list of features, a labelled
    // code block: content, however short; and a label before content is kept.
    let tail = "<p>The harbour reopens in May.</p>\
        <p><em>Have you visited the harbour?</em></p>\
        <h3>Opening hours</h3><ul><li>Monday to Friday</li><li>Saturday mornings</li></ul>\
        <p>Then run this:</p><pre><code>harbour --open</code></pre>\
        <p>原标题：港口重新开放。</p>";
    let md = markdown(&news_page(tail));
    for kept in [
        "The harbour reopens in May.",
        "Have you visited the harbour?",
        "Opening hours",
        "Saturday mornings",
        "Then run this:",
        "harbour --open",
        "港口重新开放",
    ] {
        assert!(md.contains(kept), "{kept}: {md}");
    }
}

#[test]
fn a_site_page_keeps_its_closing_labels() {
    // Not an article (no declared type, no date): a service page's last lines are its
    // own (contact labels, opening times).
    let body = prose("the harbour office");
    let html = format!(
        "<html><body><div class=\"page\"><h1>Harbour office</h1>{body}\
         <h3>Contact</h3><p>Harbour office, Quay 3</p></div></body></html>"
    );
    assert_ne!(page_type(&html), Some(gannet_core::PageType::Article));
    let md = markdown(&html);
    assert!(md.contains("Harbour office, Quay 3"), "{md}");
}

/// A news page whose header (headline, standfirst, byline) sits apart from the story's
/// container, with a related-story teaser after the headline too.
fn page_with_header(dek: &str) -> String {
    let body = prose("the new bridge");
    format!(
        "<html><head><script type=\"application/ld+json\">{{\"@context\":\"https://schema.org\",\
         \"@type\":\"NewsArticle\",\"headline\":\"Bridge\"}}</script><title>Bridge</title></head>\
         <body><nav><a href=\"/\">Home</a> <a href=\"/news\">News</a></nav><main>\
         <header class=\"hd\"><h1>Bridge</h1>{dek}<p class=\"by\">By Jo Smith</p></header>\
         <div class=\"story-body\">{body}</div></main></body></html>"
    )
}

#[test]
fn an_articles_standfirst_above_its_body_is_kept() {
    let dek = "<p class=\"sub\">The city will open the new bridge over the river next spring, \
               two years late and at twice the planned cost, officials said on Monday.</p>";
    let md = markdown(&page_with_header(dek));
    assert!(md.contains("Paragraph 5 about the new bridge"), "{md}");
    assert!(
        md.contains("two years late and at twice the planned cost"),
        "{md}"
    );
    let lead = md.find("two years late").expect("the standfirst");
    let body = md.find("Paragraph 1 about").expect("the body");
    assert!(lead < body, "the standfirst comes first: {md}");
}

#[test]
fn a_header_line_that_is_not_a_standfirst_stays_out() {
    // A link line and a short label are not a lead paragraph.
    let line = "<p><a href=\"/a\">Read our coverage of the new bridge and the river crossing \
                plans over the last ten years here</a></p><p>Updated 5 May.</p>";
    let md = markdown(&page_with_header(line));
    assert!(md.contains("Paragraph 5 about the new bridge"), "{md}");
    assert!(!md.contains("Read our coverage"), "{md}");
}
