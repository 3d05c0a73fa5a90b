//! Hostile input never panics and stays bounded: generated HTML (proptest), arbitrary bytes,
//! deep nesting, huge attribute and entity runs, and a large page.

#![allow(clippy::unwrap_used)] // Test helpers unwrap: a panic is a failed test.
use gannet_extract::{Options, extract};
use proptest::prelude::*;

/// Fragments that exercise the tokenizer's and the tree builder's edge cases.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<p>".to_string()),
        Just("</p>".to_string()),
        Just("<div class=\"content\">".to_string()),
        Just("</div>".to_string()),
        Just("<table><tr><td>".to_string()),
        Just("</td></tr></table>".to_string()),
        Just("<ul><li>".to_string()),
        Just("<pre><code class=\"language-rust\">".to_string()),
        Just("<a href=\"/x?a=1&amp;b=2\">".to_string()),
        Just("</a>".to_string()),
        Just("<img src=\"data:,\" data-src=\"/i.png\">".to_string()),
        Just("<script>var a = '</div>';</script>".to_string()),
        Just("<style>p{}</style>".to_string()),
        Just("<!-- comment".to_string()),
        Just("-->".to_string()),
        Just("<svg><path/></svg>".to_string()),
        Just("<math><mi>x</mi></math>".to_string()),
        Just("&amp;&#x1F600;&#0;&notin;&".to_string()),
        Just("<![CDATA[".to_string()),
        Just("<td rowspan=1000000 colspan=99999>".to_string()),
        Just("<h1>".to_string()),
        Just("<blockquote>".to_string()),
        Just("<noscript>".to_string()),
        Just("<body>".to_string()),
        Just("<html>".to_string()),
        "[a-zA-Z0-9 ,.<>/=\"'&;#-]{0,40}",
        "\\PC{0,20}",
    ]
}

fn cases() -> u32 {
    std::env::var("GANNET_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn generated_html_never_panics(parts in proptest::collection::vec(fragment(), 0..80)) {
        let html = parts.concat();
        let doc = extract(html.as_bytes(), None, &Options::default());
        let raw = extract(html.as_bytes(), None, &Options { raw: true, ..Options::default() });
        prop_assert!(doc.markdown.len() <= html.len() * 8 + 1024);
        prop_assert!(raw.markdown.len() <= html.len() * 8 + 1024);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = extract(&bytes, None, &Options::default());
    }
}

#[test]
fn deep_nesting_is_bounded() {
    let depth = 100_000;
    let html = format!(
        "{}deep text{}",
        "<div><span>".repeat(depth),
        "</span></div>".repeat(depth)
    );
    let doc = extract(html.as_bytes(), None, &Options::default());
    assert!(doc.text.contains("deep text"));
    let unclosed = "<div>".repeat(depth) + "x";
    let doc = extract(
        unclosed.as_bytes(),
        None,
        &Options {
            raw: true,
            ..Options::default()
        },
    );
    assert!(doc.text.contains('x'));
}

#[test]
fn long_runs_are_bounded() {
    let attrs = format!("<p {}>text</p>", "a=\"b\" ".repeat(100_000));
    let _ = extract(attrs.as_bytes(), None, &Options::default());
    let entities = "&amp".repeat(200_000);
    let doc = extract(
        entities.as_bytes(),
        None,
        &Options {
            raw: true,
            ..Options::default()
        },
    );
    assert!(doc.text.contains("&&&"));
    let unterminated = format!("<a href=\"{}", "x".repeat(1_000_000));
    let _ = extract(unterminated.as_bytes(), None, &Options::default());
}

#[test]
fn large_page_extracts() {
    let para = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod \
                tempor incididunt ut labore et dolore magna aliqua.</p>";
    let html = format!(
        "<html><body><article>{}</article></body></html>",
        para.repeat(40_000)
    );
    let doc = extract(html.as_bytes(), None, &Options::default());
    assert!(doc.word_count > 500_000);
}

#[test]
fn wide_pages_of_unlike_siblings_are_linear() {
    // 100,000 siblings, each with its own class: sibling comparisons must not be quadratic
    // (this finishes in well under a second; a quadratic pass would take minutes).
    let mut html = String::from("<div>");
    for i in 0..100_000 {
        html.push_str(&format!(
            "<div class=\"c{i}\"><p>text {i} with a few words</p></div>"
        ));
    }
    html.push_str("</div>");
    let doc = extract(html.as_bytes(), None, &Options::default());
    assert!(doc.word_count > 100_000);
}
