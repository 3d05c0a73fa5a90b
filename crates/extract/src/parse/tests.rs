//! Tree-builder and tokenizer tests: each case is HTML in, serialized tree out.

use crate::dom::Dom;
use crate::serialize::to_html;

fn tree(html: &str) -> String {
    let dom = Dom::parse(html);
    to_html(&dom, dom.root())
}

#[test]
fn implied_paragraph_and_list_ends() {
    assert_eq!(tree("<p>a<p>b<div>c</div>"), "<p>a</p><p>b</p><div>c</div>");
    assert_eq!(
        tree("<ul><li>a<li>b</ul>x"),
        "<ul><li>a</li><li>b</li></ul>x"
    );
    assert_eq!(
        tree("<ul><li>a<ul><li>b</ul><li>c</ul>"),
        "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>"
    );
    assert_eq!(
        tree("<dl><dt>a<dd>b<dt>c</dl>"),
        "<dl><dt>a</dt><dd>b</dd><dt>c</dt></dl>"
    );
    assert_eq!(tree("<h1>a<h2>b</h2>"), "<h1>a</h1><h2>b</h2>");
}

#[test]
fn tables_close_cells_and_rows() {
    assert_eq!(
        tree("<table><tr><td>a<td>b<tr><th>c</table>d"),
        "<table><tr><td>a</td><td>b</td></tr><tr><th>c</th></tr></table>d"
    );
    // An end tag does not escape a cell.
    assert_eq!(
        tree("<div><table><tr><td></div>x</td></tr></table>y</div>"),
        "<div><table><tr><td>x</td></tr></table>y</div>"
    );
}

#[test]
fn void_raw_text_and_comments() {
    assert_eq!(
        tree("<p>a<br>b<img src=x.png>c</p>"),
        "<p>a<br>b<img src=\"x.png\">c</p>"
    );
    assert_eq!(tree("<script>if (a<b) {}</script>x"), "<script></script>x");
    assert_eq!(
        tree("<script type=application/ld+json>{\"a\":\"</b>\"}</script>"),
        "<script type=\"application/ld+json\">{\"a\":\"</b>\"}</script>"
    );
    assert_eq!(
        tree("<style>p{}</style><!-- c --><p>x<!-->y"),
        "<style></style><p>xy</p>"
    );
    assert_eq!(
        tree("<title>a &amp; <b></title>"),
        "<title>a &amp; &lt;b&gt;</title>"
    );
    assert_eq!(
        tree("<textarea><p>x</textarea>"),
        "<textarea>&lt;p&gt;x</textarea>"
    );
}

#[test]
fn entities() {
    assert_eq!(
        tree("a&amp;b &lt; &notit; &copy &#233;&#xE9; &#x80;"),
        "a&amp;b &lt; ¬it; © éé €"
    );
    assert_eq!(tree("&nbsp;&hellip;&NotEqualTilde;"), "&nbsp;…≂̸");
    assert_eq!(
        tree("<a href=\"?a=1&copy=2&amp;b=3\">x</a>"),
        "<a href=\"?a=1&amp;copy=2&amp;b=3\">x</a>"
    );
    assert_eq!(
        tree("&#0;&#xD800;&#99999999999;&"),
        "\u{FFFD}\u{FFFD}\u{FFFD}&amp;"
    );
}

#[test]
fn attributes_of_every_shape() {
    assert_eq!(
        tree("<div CLASS='a b' id=x data-y = \"1\" hidden disabled/>z</div>"),
        "<div class=\"a b\" id=\"x\" data-y=\"1\" hidden=\"\" disabled=\"\">z</div>"
    );
}

#[test]
fn foreign_self_closing() {
    assert_eq!(
        tree("<p><svg><path d=\"1\"/><rect/></svg>text</p>"),
        "<p><svg><path d=\"1\"></path><rect></rect></svg>text</p>"
    );
    // In HTML a self-closing div is still open.
    assert_eq!(tree("<div/>a</div>b"), "<div>a</div>b");
}

#[test]
fn malformed_input_never_panics() {
    for html in [
        "<",
        "<<",
        "</",
        "</>",
        "<!",
        "<!-",
        "<!--",
        "<a",
        "<a href",
        "<a href=",
        "<a href='",
        "&",
        "&#",
        "&#x",
        "&#xZ",
        "<script>",
        "<script></scr",
        "<![CDATA[",
        "<svg><![CDATA[x",
        "</p></p></li></table>",
        "<table><td>",
        "\u{0}<\u{0}>",
        "<p>é&eacute",
    ] {
        let _ = tree(html);
    }
}

#[test]
fn deep_nesting_is_capped() {
    let html = "<div>".repeat(100_000) + "deep" + &"</div>".repeat(100_000);
    let dom = Dom::parse(&html);
    let text_node = dom.ids().find(|&i| dom.text(i) == Some("deep")).unwrap();
    assert!(dom.ancestors(text_node).count() <= crate::parse::MAX_DEPTH + 1);
}

#[test]
fn duplicate_html_and_body_are_merged() {
    let dom = Dom::parse("<html><head><title>t</title></head><body><p>a<body><p>b</html>");
    let body = dom.body().unwrap();
    assert_eq!(dom.text_content(body), "ab");
}

#[test]
fn an_unclosed_button_ends_with_its_container() {
    // A start tag missing its `>` swallows `</button` as an attribute name: the button
    // stays open, and browsers close it at the next `</div>` (button is no boundary of
    // the default scope).
    let t = tree("<div><button class=\"x\"\nShare\n</button></div><p>after</p>");
    assert!(t.starts_with("<div><button class=\"x\""), "{t}");
    assert!(t.ends_with("></button></div><p>after</p>"), "{t}");
    // `</p>` and inline end tags still stop at a button.
    assert_eq!(
        tree("<p>a<button>b</p>c</button>d"),
        "<p>a<button>bc</button>d</p>"
    );
    assert_eq!(
        tree("<span>a<button>b</span>c</button>"),
        "<span>a<button>bc</button></span>"
    );
}

#[test]
fn a_formatting_element_closed_over_blocks_leaves_them_open() {
    // A card link holding blocks, then a nested link (the adoption agency's case): the
    // blocks stay open, so their own end tags close them and not the list around them.
    let t = tree(
        "<ul><li><a href=a><h2>t</h2><div class=s><div><a href=b>c</a></div></div>\
         </a></li><li>d</li></ul><p>e</p>",
    );
    assert!(t.contains("<div><a href=\"b\">c</a></div></div>"), "{t}");
    assert!(t.ends_with("<li>d</li></ul><p>e</p>"), "{t}");
    // `</b>` over a div: the div's text after it stays in the div.
    let t = tree("<div id=o><b>x<div>y</b>z</div>w</div><p>v</p>");
    assert!(t.ends_with("<div>yz</div></b>w</div><p>v</p>"), "{t}");
}

#[test]
fn common_entities_agree_with_the_table() {
    for name in [
        "amp;", "nbsp;", "quot;", "lt;", "gt;", "apos;", "rsquo;", "lsquo;", "rdquo;", "ldquo;",
        "mdash;", "ndash;", "hellip;", "copy;", "raquo;", "laquo;", "middot;", "bull;",
    ] {
        let table = crate::entities::ENTITIES
            .binary_search_by(|(n, _)| (*n).cmp(name.as_bytes()))
            .ok()
            .map(|i| crate::entities::ENTITIES[i].1);
        assert!(table.is_some(), "{name}");
        assert_eq!(super::common_entity(name.as_bytes()), table, "{name}");
    }
}
