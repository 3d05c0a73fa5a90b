//! Boundaries per page type: product pages (data for scripts, disclosure sheets) and
//! discussions (every post).

use gannet_core::PageType;

fn extract(html: &str, url: Option<&str>) -> crate::Document {
    let url = url.and_then(|u| url::Url::parse(u).ok());
    crate::extract_str(html, url.as_ref(), &crate::Options::default())
}

fn product_head() -> &'static str {
    "<script type=\"application/ld+json\">{\"@context\":\"https://schema.org\",\
     \"@type\":\"Product\",\"name\":\"Staple Tee\"}</script>"
}

fn description() -> String {
    (0..3)
        .map(|i| {
            format!(
                "<p>The staple tee, part {i}: enduring comfort in a regular fit, crafted \
                 from combed cotton, with neck ribbing, side seams, and double needle hems \
                 for durability and minimal shrinkage.</p>"
            )
        })
        .collect()
}

#[test]
fn a_list_of_addresses_written_as_text_is_not_the_product() {
    let urls: String = (0..60)
        .map(|i| {
            format!(
                "<dt>thumb_{i}:</dt><dd>https://cdn.example.com/images/stencil/160x160/\
                 uploaded/5001/THUMB_{i}_COLOUR.jpg</dd>"
            )
        })
        .collect();
    let html = format!(
        "<html><head>{}</head><body><main><h1>Staple Tee</h1>{}\
         <div class=\"product-data\"><dl>{urls}</dl></div></main></body></html>",
        product_head(),
        description()
    );
    let doc = extract(&html, Some("https://shop.example.com/products/staple-tee"));
    assert_eq!(doc.page_type, Some(PageType::Product));
    assert!(
        doc.markdown.contains("enduring comfort"),
        "{}",
        doc.markdown
    );
    assert!(
        !doc.markdown.contains("cdn.example.com/images"),
        "{}",
        doc.markdown
    );
}

#[test]
fn a_bare_url_is_not_prose() {
    assert!(super::scoring::is_bare_url(
        " https://cdn.example.com/a/b/c.jpg\n"
    ));
    assert!(super::scoring::is_bare_url("//cdn.example.com/x.png"));
    assert!(!super::scoring::is_bare_url(
        "See https://example.com for more."
    ));
    assert!(!super::scoring::is_bare_url("A sentence about cotton."));
}

/// A product page whose description sits in a sheet that its "Description" button opens.
fn sheet_page(modal: &str) -> String {
    format!(
        "<html><head>{}</head><body><main><h1>Arrival T-Shirt</h1>\
         <div class=\"price\">$22</div>\
         <section class=\"accordions\"><div class=\"accordion\">\
         <button class=\"info\"><h5>Description</h5></button>\
         <div class=\"sheet\" role=\"dialog\"{modal}><aside class=\"sheet-aside\">\
         <h5>Description</h5><div class=\"sheet-content\">{}</div></aside></div>\
         </div></section></main></body></html>",
        product_head(),
        description()
    )
}

#[test]
fn a_sheet_opened_by_its_button_is_content() {
    let doc = extract(&sheet_page(""), None);
    assert!(
        doc.markdown.contains("enduring comfort"),
        "{}",
        doc.markdown
    );
    // `aria-modal="false"` is not modal either.
    let doc = extract(&sheet_page(" aria-modal=\"false\""), None);
    assert!(
        doc.markdown.contains("enduring comfort"),
        "{}",
        doc.markdown
    );
}

#[test]
fn a_modal_dialog_stays_out() {
    let html = format!(
        "<html><body><main><h1>Trail guide</h1>{}</main>\
         <button>Sign up</button><div role=\"dialog\" aria-modal=\"true\">\
         <p>Join our newsletter today for weekly deals, trail guides, and news about \
         products, delivered to your inbox every Friday morning.</p></div></body></html>",
        description()
    );
    let doc = extract(&html, None);
    assert!(
        doc.markdown.contains("enduring comfort"),
        "{}",
        doc.markdown
    );
    assert!(!doc.markdown.contains("newsletter"), "{}", doc.markdown);
}

#[test]
fn one_long_post_does_not_hide_the_replies() {
    // A pasted log: one post with far more text than the thread's replies together.
    let log: String = (0..150)
        .map(|i| {
            format!(
                "2024-05-03 10:09:{:02} ERROR (MainThread), [homeassistant], Error doing job, \
                 line {i}, in run, result, self, args, kwargs\n",
                i % 60
            )
        })
        .collect();
    let post = |n: usize, body: &str| {
        format!(
            "<div class=\"topic-body crawler-post post_{n}\"><div class=\"post\">{body}</div></div>"
        )
    };
    let replies: String = [
        "Looks like it is something to do with the local integration. Try disabling it and restarting, then tell us.",
        "I found a thread already open on the tracker: it seems to be a general problem, and it is being discussed.",
        "Thanks, disabling the integration fixed the start-up for me. I will follow the thread on the tracker.",
    ]
    .iter()
    .enumerate()
    .map(|(i, t)| post(i + 3, &format!("<p>{t}</p>")))
    .collect();
    let html = format!(
        "<html><body><header><nav><a href=\"/\">Home</a></nav></header><main>\
         <div class=\"posts\">{}{}{replies}</div></main></body></html>",
        post(
            1,
            "<p>Home Assistant is starting, not everything will be available until it is \
             finished: the message stays after every reboot. How can I solve it?</p>"
        ),
        post(
            2,
            &format!(
                "<p>This is part of the log, I hope it is sufficient:</p><pre><code>{log}</code></pre>"
            )
        ),
    );
    let doc = extract(
        &html,
        Some("https://community.example.org/t/stuck-on-start/724779"),
    );
    assert_eq!(doc.page_type, Some(PageType::Forum));
    let md = &doc.markdown;
    assert!(md.contains("line 149"), "{md}");
    assert!(md.contains("every reboot"), "{md}");
    assert!(md.contains("Try disabling it"), "{md}");
    assert!(md.contains("fixed the start-up"), "{md}");
}
