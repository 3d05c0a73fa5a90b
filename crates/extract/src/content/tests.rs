use super::boundary::is_aside_heading;
use super::cleanup::is_post_counter;
use super::*;

pub(super) fn markdown(html: &str) -> String {
    crate::extract_str(html, None, &crate::Options::default()).markdown
}

pub(super) fn prose(topic: &str) -> String {
    (0..6)
        .map(|i| {
            format!(
                "<p>Paragraph {i} about {topic}, with enough words, commas, and detail to \
                 count as real prose for the scorer, as an article would have it.</p>"
            )
        })
        .collect()
}

#[test]
fn aside_headings() {
    for h in [
        "Similar items",
        "People who viewed this item also viewed",
        "Related",
        "Related Articles",
        "You may also like",
        "Most Popular",
        "Your Answer",
        "References",
        "Works cited",
    ] {
        assert!(is_aside_heading(h), "{h}");
    }
    for h in [
        "References in popular culture",
        "Related work",
        "Related Expert Advice articles",
        "Popularity of the method",
        "Recommendations",
        "Trendy recipes",
    ] {
        assert!(!is_aside_heading(h), "{h}");
    }
}

#[test]
fn review_widget_headings_are_asides_only_when_bare() {
    for h in [
        "Reviews",
        "Reviews (407)",
        "Customer Reviews 4.8",
        "Reviews summary",
        "Rating snapshot",
        "Recent Events & Announcements",
    ] {
        assert!(is_aside_heading(h), "{h}");
    }
    for h in ["Reviews of budget laptops", "Reviewer's notes", "Recently"] {
        assert!(!is_aside_heading(h), "{h}");
    }
}

#[test]
fn a_review_widget_section_is_dropped() {
    let html = format!(
        "<html><body><div class=\"product\">{}<div class=\"x\"><h2>Reviews (12)</h2>\
         <p>Great blender, it crushes ice in seconds and cleans up easily, five stars.</p>\
         <p>Loud but works, the jug is big enough for a family, four stars.</p></div></div>\
         </body></html>",
        prose("blenders")
    );
    let md = markdown(&html);
    assert!(md.contains("Paragraph 5 about blenders"), "{md}");
    assert!(!md.contains("five stars"), "{md}");
}

#[test]
fn recommendation_sections_are_dropped() {
    let html = format!(
        "<html><body><article>{}<div class=\"x\"><h2>Similar items</h2>\
         <ul><li>Other thing one, a fine product</li><li>Other thing two, a fine product</li>\
         </ul></div></article></body></html>",
        prose("apples")
    );
    let md = markdown(&html);
    assert!(md.contains("Paragraph 5 about apples"), "{md}");
    assert!(!md.contains("Similar items"), "{md}");
    assert!(!md.contains("Other thing"), "{md}");
}

#[test]
fn a_page_footer_is_never_the_content() {
    let html = format!(
        "<html><body><main><h1>Garden tools</h1>\
         <p>Spades, rakes and shears for every garden, sharpened by hand.</p>\
         <p>Forks and hoes, forged in one piece of carbon steel.</p></main>\
         <footer><div class=\"inner\"><div class=\"about\">{}</div></div><p>© Garden tools</p></footer></body></html>",
        prose("our company history")
    );
    let md = markdown(&html);
    assert!(md.contains("Spades, rakes and shears"), "{md}");
    assert!(!md.contains("company history"), "{md}");
}

#[test]
fn a_data_table_with_an_unlikely_name_is_kept() {
    let rows: String = (1901..1915)
        .map(|y| format!("<tr><td>{y}</td><td>Laureate {y}</td><td>Field {y}</td></tr>"))
        .collect();
    let html = format!(
        "<html><body><main>{}<table class=\"wikitable sticky-header\">\
         <tr><th>Year</th><th>Name</th><th>Field</th></tr>{rows}</table></main>\
         </body></html>",
        prose("the prize")
    );
    let md = markdown(&html);
    assert!(md.contains("Laureate 1907"), "{md}");
}

#[test]
fn collapsed_answers_of_like_items_are_content() {
    let items: String = (1..=4)
        .map(|i| {
            format!(
                "<div class=\"sc-item q1\"><div class=\"sc-head\">Question {i}?</div>\
                 <div class=\"sc-body\" style=\"visibility:hidden\">Answer {i} explains \
                 the cover in plain words, as the page shows it on a click.</div></div>"
            )
        })
        .collect();
    let html = format!(
        "<html><body><main>{}<h2>Questions</h2><div class=\"faqs\">{items}</div>\
         <div style=\"display:none\"><p>A hidden promotion nobody opened, with enough \
         words to count as prose.</p></div></main></body></html>",
        prose("pet insurance")
    );
    let md = markdown(&html);
    assert!(md.contains("Answer 3 explains the cover"), "{md}");
    assert!(!md.contains("hidden promotion"), "{md}");
}

#[test]
fn a_prose_block_in_a_builder_widget_is_content_but_a_promo_is_not() {
    let html = format!(
        "<html><body><main>{}<div class=\"hs_cos_wrapper_widget\"><h3>Our process</h3>\
         <p>We design, build and test every model with your team, week by week, until \
         it serves your customers and their customers well.</p></div><div class=\"promo-box\"><p>Subscribe \
         today and save twenty percent on every plan, for the first year of service.</p>\
         </div></main></body></html>",
        prose("consulting")
    );
    let md = markdown(&html);
    assert!(md.contains("We design, build and test"), "{md}");
    assert!(!md.contains("Subscribe today"), "{md}");
}

#[test]
fn an_author_box_is_not_content() {
    let html = format!(
        "<html><body><article>{}<div class=\"entry-author-description author-bio\">\
         <img src=\"a.png\"><p>Karina is the owner of a cleaning company, with a \
         background in finance and a love of tidy homes. She writes about products, routines \
         and the people who keep houses running.</p></div></article></body></html>",
        prose("cleaning trends")
    );
    let md = markdown(&html);
    assert!(md.contains("Paragraph 5 about cleaning trends"), "{md}");
    assert!(!md.contains("Karina is the owner"), "{md}");
}

#[test]
fn repeated_layouts_are_extracted_once() {
    let section = format!("<div class=\"v\"><h2>Costs</h2>{}</div>", prose("kitchens"));
    let html = format!(
        "<html><body><main><div class=\"desktop\">{section}</div>\
         <div class=\"mobile\">{section}</div></main></body></html>"
    );
    let md = markdown(&html);
    assert_eq!(md.matches("Paragraph 3 about kitchens").count(), 1, "{md}");
}

#[test]
fn a_small_block_drawn_twice_side_by_side_is_extracted_once() {
    let card = "<div class=\"hero\"><h3>Fast setup</h3><p>Connect your account in \
                minutes and start planning with your whole team today.</p></div>";
    let html = format!(
        "<html><body><main>{}<div class=\"d\">{card}</div><div class=\"m\">{card}</div>\
         {}</main></body></html>",
        prose("boards"),
        prose("teams")
    );
    let md = markdown(&html);
    assert_eq!(md.matches("Connect your account").count(), 1, "{md}");
}

#[test]
fn a_small_block_repeated_far_apart_is_kept() {
    let note = "<div class=\"note\"><strong>Warning</strong><p>Never share your \
                secret key, and rotate it at once if it leaks.</p></div>";
    let html = format!(
        "<html><body><article>{note}{}{note}</article></body></html>",
        prose("keys")
    );
    let md = markdown(&html);
    assert_eq!(md.matches("Never share your").count(), 2, "{md}");
}

#[test]
fn json_state_in_a_block_is_not_content_but_a_json_example_is() {
    let state = r#"{"buybox":[{"displayPrice":"EUR 15.49","priceAmount":15.49,"currency":"EUR","offer":"new"}]}"#;
    let html = format!(
        "<html><body><article>{}<div class=\"price-data\">{state}</div>\
         <pre><code>{state}</code></pre></article></body></html>",
        prose("books")
    );
    let md = markdown(&html);
    assert_eq!(md.matches("displayPrice").count(), 1, "{md}");
    assert!(md.contains("```"), "{md}");
}

#[test]
fn control_labels_are_not_content() {
    let html = format!(
        "<html><body><article>{}<div class=\"post\"><p>Reply hazy, ask again later, \
         said the toy, with enough words and commas to be counted as prose.</p>\
         <a href=\"/p/1\">Permalink</a><span>Add to wishlist</span>\
         <a href=\"/r/1\">Report inappropriate content</a></div>\
         <a href=\"/p/2\">View full details</a><span>Video</span>\
         <a href=\"/ask\">Ask Question</a><a href=\"/jobs/1\">Apply now</a>\
         <a href=\"#main\">Skip to main content</a><span>Comments</span>\
         </article></body></html>",
        prose("posts")
    );
    let md = markdown(&html);
    for label in [
        "full details",
        "Video",
        "Ask Question",
        "Apply now",
        "Skip to",
        "Comments",
    ] {
        assert!(!md.contains(label), "{label}: {md}");
    }
    assert!(!md.contains("Permalink"), "{md}");
    assert!(!md.contains("wishlist"), "{md}");
    assert!(!md.contains("inappropriate"), "{md}");
    assert!(md.contains("Reply hazy"), "{md}");
}

#[test]
fn call_to_action_links_are_not_content() {
    let html = format!(
        "<html><body><article>{}<p>Our spring menu is out, with enough words and \
         commas to be counted as prose, read on for more.</p>\
         <p><a href=\"/menu\">Read more</a></p><p><a href=\"/all\">View all</a></p>\
         <p><a href=\"#top\">Back to top</a></p><p>Loading…</p><div>Sponsored</div>\
         <p>In stock</p><p><a href=\"/cart\">Add to cart</a></p>\
         </article></body></html>",
        prose("menus")
    );
    let md = markdown(&html);
    assert!(!md.contains("Read more"), "{md}");
    assert!(!md.contains("View all"), "{md}");
    assert!(!md.contains("Back to top"), "{md}");
    assert!(!md.contains("Loading"), "{md}");
    assert!(!md.contains("Sponsored"), "{md}");
    assert!(!md.contains("In stock"), "{md}");
    assert!(!md.contains("Add to cart"), "{md}");
    assert!(md.contains("read on for more"), "{md}");
}

#[test]
fn post_numbers_and_counts_leave_discussions() {
    let posts: String = (1..=4)
        .map(|i| {
            format!(
                "<div class=\"message\"><ul><li><a href=\"/t/9/post-{i}\">#{i}</a></li></ul>\
                 <p>Answer number {i} to the question, with enough words, commas, and detail \
                 to count as prose.</p><div class=\"votes\">{}</div>\
                 <span>{i} likes</span></div>",
                i * 17
            )
        })
        .collect();
    let html = format!(
        "<html><body class=\"forum\"><main><div class=\"thread\">{posts}</div></main>\
         </body></html>"
    );
    let md = markdown(&html);
    assert!(md.contains("Answer number 4"), "{md}");
    assert!(!md.contains("#3"), "{md}");
    assert!(!md.contains("51"), "{md}");
    assert!(!md.contains("2 likes"), "{md}");
    assert!(is_post_counter("1.2k") && is_post_counter("#12") && is_post_counter("1 like"));
    assert!(!is_post_counter("2024 goals") && !is_post_counter("#hashtag"));
}

#[test]
fn repeated_paragraphs_are_kept() {
    let p = "<p>The same long paragraph, said twice on purpose, with enough words, \
             commas, and length to count as prose well past the size of a section.</p>";
    let html = format!(
        "<html><body><article>{}{p}{p}</article></body></html>",
        prose("pears")
    );
    let md = markdown(&html);
    assert_eq!(md.matches("said twice on purpose").count(), 2, "{md}");
}

#[test]
fn hidden_block_with_most_of_the_prose_is_content() {
    // The menu makes the hidden block less than 80% of the page's text, not of its prose.
    let menu: String = (0..20)
        .map(|i| format!("<a href=\"/c/{i}\">Category number {i} of the shop</a> "))
        .collect();
    let html = format!(
        "<html><body><div class=\"menu-wrap\">{menu}</div>\
         <div style=\"display:none\">{}</div></body></html>",
        prose("coffee")
    );
    let md = markdown(&html);
    assert!(md.contains("Paragraph 2 about coffee"), "{md}");
}

#[test]
fn screen_reader_text_is_hidden() {
    let html = format!(
        "<html><body><article>{}<p><span class=\"sr-only\">Skip this label</span>\
         Visible words of the last paragraph, long enough to be read.</p>\
         </article></body></html>",
        prose("tea")
    );
    let md = markdown(&html);
    assert!(md.contains("Visible words"), "{md}");
    assert!(!md.contains("Skip this label"), "{md}");
}

#[test]
fn carousel_slides_out_of_view_are_content_but_clones_are_not() {
    let slide = |class: &str, hidden: bool, who: &str| {
        format!(
            "<div class=\"{class}\"{}><blockquote><p>{who} says the service \
             answered every ticket within the hour, and the team loved it.</p>\
             </blockquote></div>",
            if hidden { " aria-hidden=\"true\"" } else { "" }
        )
    };
    let html = format!(
        "<html><body><main><div class=\"post\">{}<div class=\"slick-track\">{}{}{}{}\
         </div></div></main></body></html>",
        prose("support desks"),
        slide("slick-slide slick-cloned", true, "Carol"),
        slide("slick-slide slick-current", false, "Alice"),
        slide("slick-slide", true, "Bob"),
        slide("slick-slide slick-cloned", true, "Alice"),
    );
    let md = markdown(&html);
    assert!(md.contains("Alice says"), "{md}");
    assert!(md.contains("Bob says"), "{md}");
    assert!(!md.contains("Carol says"), "{md}");
    assert_eq!(md.matches("Alice says").count(), 1, "{md}");
}

#[test]
fn a_category_description_apart_from_its_products_is_kept_with_them() {
    let cards: String = (0..30)
        .map(|i| {
            format!(
                "<li class=\"product\"><a href=\"/p/{i}\"><h3>Ergonomic vertical mouse \
                 model {i}</h3><span>$4{i}.00</span></a></li>"
            )
        })
        .collect();
    let html = format!(
        "<html><body><div class=\"wrap\"><div class=\"col-left\">\
         <div class=\"category-description\"><p>An ergonomic mouse keeps the hand and \
         wrist in a neutral position, which matters because we use a mouse far more \
         than we notice, and the repeated motion of mousing can strain the forearm over \
         a long working day.</p></div></div><div class=\"col-main\">\
         <ul class=\"products\">{cards}</ul></div></div></body></html>"
    );
    let md = markdown(&html);
    assert!(md.contains("neutral position"), "{md}");
    assert!(md.contains("vertical mouse model 29"), "{md}");
    let (intro, items) = (md.find("neutral position"), md.find("model 0"));
    assert!(intro < items, "{md}");
}

#[test]
fn bootstrap_d_none_is_hidden_unless_a_breakpoint_shows_it() {
    let html = format!(
        "<html><body><main><div class=\"post\">{}\
         <div class=\"d-none\" itemprop=\"datePublished\">2016-06-17 16:14:36 +00:00</div>\
         <p class=\"d-none d-md-block\">Shown on wide screens: the desktop summary of \
         the kayak trip, with its dates.</p>\
         <span class=\"v-visible-sr\">Commented</span></div></main></body></html>",
        prose("kayaks")
    );
    let md = markdown(&html);
    assert!(md.contains("Paragraph 5 about kayaks"), "{md}");
    assert!(!md.contains("2016-06-17"), "{md}");
    assert!(!md.contains("Commented"), "{md}");
    assert!(md.contains("Shown on wide screens"), "{md}");
    // Class lists of any script (CSS-in-JS names like `⚙`) are read safely.
    assert!(is_display_none_class("⚙ rs-2 d-none"));
    assert!(!is_display_none_class("é d-none d-lg-flex"));
}

#[test]
fn a_section_named_after_its_heading_is_not_a_page_region() {
    let html = format!(
        "<html><body><main><div class=\"body\"><section id=\"quickstart\">\
         <h1>Quickstart</h1>{}</section>\
         <section id=\"cookies\"><h2>Cookies¶</h2><p>If a response contains \
         some cookies, you can quickly access them through the cookies attribute of \
         the response object, as the example below shows.</p><p>To send your own cookies \
         to the server, you can use the cookies parameter, which takes a dictionary or a \
         cookie jar; a jar also lets you scope each cookie to a domain and a path, so \
         that the right cookies go to the right server.</p><p>Sessions keep cookies \
         across requests for you.</p></section>\
         <section id=\"comments\"><h2>Comments</h2><p>Log in to leave a comment on \
         this page, and see what other readers said about the library.</p></section>\
         </div></main></body></html>",
        prose("requests")
    );
    let md = markdown(&html);
    assert!(md.contains("Paragraph 5 about requests"), "{md}");
    assert!(md.contains("quickly access them"), "{md}");
    assert!(!md.contains("leave a comment"), "{md}");
}

#[test]
fn the_content_head_with_its_introduction_is_kept() {
    let html = format!(
        "<html><body><header class=\"site\"><a href=\"/\">Docs home</a></header>\
         <main><div class=\"layout__header\"><h1>Using the Fetch API</h1>\
         <section><p>The Fetch API provides a JavaScript interface for making HTTP \
         requests and processing the responses, with promises instead of callbacks.</p>\
         <p>Fetch is the modern replacement for XMLHttpRequest: it is integrated with \
         service workers and with Cross-Origin Resource Sharing, and it is available in \
         windows and in workers alike, which makes it the one API to learn.</p>\
         </section></div><div class=\"layout__body\">{}</div></main></body></html>",
        prose("fetch")
    );
    let md = markdown(&html);
    assert!(md.contains("Paragraph 5 about fetch"), "{md}");
    assert!(md.contains("provides a JavaScript interface"), "{md}");
    assert!(!md.contains("Docs home"), "{md}");
}

#[test]
fn poster_card_fields_leave_discussions() {
    let posts: String = (1..=4)
        .map(|i| {
            format!(
                "<div class=\"post\"><div class=\"poster\"><span>Posts: 1,20{i}</span>\
                 <div>Joined: Feb 201{i}<br>Location: Boise, ID</div></div>\
                 <p>Answer number {i} to the question, with enough words, commas, and detail \
                 to count as prose. Location: the shed, where the lathe is.</p></div>"
            )
        })
        .collect();
    let html = format!(
        "<html><body class=\"forum\"><main><div class=\"thread\">{posts}</div></main>\
         </body></html>"
    );
    let md = markdown(&html);
    assert!(md.contains("Answer number 4"), "{md}");
    assert!(md.contains("where the lathe is"), "{md}");
    assert!(!md.contains("Posts:"), "{md}");
    assert!(!md.contains("Joined"), "{md}");
    assert!(!md.contains("Boise"), "{md}");
}

#[test]
fn a_breadcrumb_trail_is_not_content() {
    let html = format!(
        "<html><body><main><div class=\"post\"><ol class=\"breadcrumb\">\
         <li><a href=\"/\">Home</a></li><li><a href=\"/w\">Watches</a></li>\
         <li><a href=\"/w/m\">Mens View All</a></li></ol>{}</div></main></body></html>",
        prose("watches")
    );
    let md = markdown(&html);
    assert!(md.contains("Paragraph 5 about watches"), "{md}");
    assert!(!md.contains("Mens View All"), "{md}");
}

#[test]
fn closed_popovers_are_hidden() {
    let html = format!(
        "<html><body><main><div class=\"post\">{}\
         <div popover id=\"install\"><p>To install this app on your phone, tap the \
         icon and then add the page to your home screen, then confirm it.</p>\
         </div></div></main></body></html>",
        prose("kayaks")
    );
    let md = markdown(&html);
    assert!(md.contains("Paragraph 5 about kayaks"), "{md}");
    assert!(!md.contains("To install this app"), "{md}");
}

#[test]
fn a_top_block_that_is_the_list_of_cards_is_cleaned_as_a_listing() {
    let cards: String = (0..10)
        .map(|i| {
            format!(
                "<div class=\"item\"><div class=\"inner\">\
                 <a href=\"/p{i}\">Sturdy oak desk model {i}</a>\
                 <p>Solid wood, seats two, comes flat-packed, item {i}.</p>\
                 <ul><li>Width 120 cm</li><li>Depth 60 cm</li></ul></div></div>"
            )
        })
        .collect();
    let html = format!(
        "<html><body><nav><a href=\"/\">Home</a></nav>\
         <div class=\"results\">{cards}<div class=\"bar\"><a href=\"/in\">Sign in to \
         save your list</a> <a href=\"/help\">Help centre</a></div></div></body></html>"
    );
    let md = markdown(&html);
    assert!(md.contains("Sturdy oak desk model 7"), "{md}");
    assert!(md.contains("comes flat-packed, item 3"), "{md}");
    assert!(!md.contains("Help centre"), "{md}");
}

#[test]
fn class_signature_ignores_ids() {
    assert_eq!(
        class_signature("thing id-t1_o8oqlp9 comment"),
        class_signature("thing id-t1_o8prfyw comment")
    );
    assert_ne!(
        class_signature("thing comment"),
        class_signature("thing link")
    );
}

pub(super) fn page_type(html: &str) -> Option<gannet_core::PageType> {
    crate::extract_str(html, None, &crate::Options::default()).page_type
}

#[test]
fn declared_types_decide_the_page_type() {
    use gannet_core::PageType;
    let body = prose("the harbour");
    let with_ld = |t: &str| {
        format!(
            "<html><head><script type=\"application/ld+json\">{{\"@context\":\"https://schema.org\",\
             \"@type\":\"{t}\",\"name\":\"x\"}}</script></head><body><main>{body}</main></body></html>"
        )
    };
    assert_eq!(page_type(&with_ld("NewsArticle")), Some(PageType::Article));
    assert_eq!(page_type(&with_ld("BlogPosting")), Some(PageType::Article));
    assert_eq!(page_type(&with_ld("QAPage")), Some(PageType::Forum));
    assert_eq!(
        page_type(&with_ld("DiscussionForumPosting")),
        Some(PageType::Forum)
    );
    assert_eq!(page_type(&with_ld("Product")), Some(PageType::Product));
    assert_eq!(
        page_type(&with_ld("TechArticle")),
        Some(PageType::Documentation)
    );
    assert_eq!(
        page_type(&with_ld("CollectionPage")),
        Some(PageType::Listing)
    );
    // Microdata and OpenGraph say it too.
    let micro = format!(
        "<html><body><div itemscope itemtype=\"https://schema.org/Product\">{body}</div></body></html>"
    );
    assert_eq!(page_type(&micro), Some(PageType::Product));
    let og = format!(
        "<html><head><meta property=\"og:type\" content=\"article\"></head><body>{body}</body></html>"
    );
    assert_eq!(page_type(&og), Some(PageType::Article));
}

#[test]
fn structure_decides_the_page_type_when_nothing_is_declared() {
    use gannet_core::PageType;
    // Dated prose: an article; the same prose without a date: a site's own page.
    let body = prose("the harbour");
    let dated = format!(
        "<html><head><meta property=\"article:published_time\" content=\"2024-05-01\"></head>\
         <body><div>{body}</div></body></html>"
    );
    assert_eq!(page_type(&dated), Some(PageType::Article));
    let undated = format!("<html><body><div>{body}</div></body></html>");
    assert_eq!(page_type(&undated), Some(PageType::Service));
    // A run of like cards, each a link to another page with a blurb: a listing.
    let cards: String = (0..8)
        .map(|i| {
            format!(
                "<div class=\"card\"><h3><a href=\"/p/{i}\">The story number {i} of the week, told</a>\
                 </h3><span>By Ann Lee</span> <span>3 min read</span></div>"
            )
        })
        .collect();
    let listing =
        format!("<html><body><h1>Shop</h1><div class=\"grid\">{cards}</div></body></html>");
    assert_eq!(page_type(&listing), Some(PageType::Listing));
    // Documentation: code blocks in the content.
    let docs = format!(
        "<html><body><div>{body}<pre>let a = 1;</pre><p>Then call it.</p><pre>f(a);</pre></div></body></html>"
    );
    assert_eq!(page_type(&docs), Some(PageType::Documentation));
    // A discussion by its markup.
    let thread = format!("<html><body class=\"forum\"><div>{body}</div></body></html>");
    assert_eq!(page_type(&thread), Some(PageType::Forum));
}

#[test]
fn ruby_readings_are_not_text() {
    let body: String = (0..4)
        .map(|i| {
            format!(
                "<p>{i}: <ruby>子<rt>こ</rt></ruby>どもへの<ruby>虐待<rp>(</rp><rt>ぎゃくたい\
                 </rt><rp>)</rp></ruby>をなくすための<ruby>法律<rt>ほうりつ</rt></ruby>ができて、\
                 親が子どもを教育するために、たたいたり蹴ったりする体罰を禁止することになりました。\
                 最近、親に虐待された子どもを児童相談所が守ることができなくて、事件が続いています。</p>"
            )
        })
        .collect();
    let md = markdown(&format!(
        "<html><body><article>{body}</article></body></html>"
    ));
    assert!(
        md.contains("子どもへの虐待をなくすための法律ができて"),
        "{md}"
    );
    assert!(!md.contains("ぎゃくたい"), "{md}");
}

#[test]
fn a_consent_box_longer_than_the_story_is_not_content() {
    let purposes: String = (0..30)
        .map(|i| {
            format!(
                "<p><strong>Zweck {i}:</strong> Fehleranalyse, statistische Auswertung \
                 unserer Website, Erhebung von Verbindungsdaten und von Daten Ihres Webbrowsers, \
                 Speicherung von Daten auf Ihrem Endgerät bis zu zwei Jahre.</p>"
            )
        })
        .collect();
    let html = format!(
        "<html><body><div class=\"sp-dsgvo sp-dsgvo-popup-overlay\">{purposes}</div>\
         <article><h1>Weinhandel</h1>{}{}</article></body></html>",
        prose("the wine trade"),
        prose("the vineyards")
    );
    let md = markdown(&html);
    assert!(md.contains("Paragraph 5 about the wine trade"), "{md}");
    assert!(!md.contains("Fehleranalyse"), "{md}");
}
