//! Text and HTML of an element, as crawl4ai's two backends produce them.
//!
//! * CSS (BeautifulSoup over lxml): text is `get_text(strip=True)` — every string
//!   stripped of Python whitespace, empty ones dropped, joined with nothing; strings inside
//!   `script`, `style`, `template`, `rt`, `rp` belong to those elements only. HTML is
//!   `str(tag)`: attributes sorted by name, multi-valued attributes (`class`, `rel`, ...)
//!   re-joined with single spaces, `&`, `<`, `>` escaped, quotes chosen as bs4 does, void
//!   elements as `<br/>`.
//! * XPath (lxml): text is `"".join(el.xpath(".//text()")).strip()`. HTML is
//!   `etree.tostring(el)`: XML serialization, attributes in source order, childless
//!   elements as `<div/>`, **followed by the element's tail text**.

use gannet_extract::{Dom, NodeId};

/// Python's `str.isspace()` characters (Unicode White_Space plus U+001C..U+001F).
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()`.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// HTML's newline normalization (CRLF and CR become LF), which libxml2 applies to the
/// input and gannet's parser does not.
pub(crate) fn nl(s: String) -> String {
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s
    }
}

/// Elements whose strings BeautifulSoup keeps in a string class of their own.
fn bs4_container(name: &str) -> bool {
    matches!(name, "rt" | "rp" | "style" | "script" | "template")
}

/// BeautifulSoup's `el.get_text(strip=True)`.
pub(crate) fn bs4_text(dom: &Dom, el: NodeId) -> String {
    let name = dom.tag_name(el);
    // The string class wanted: the element's own container name, or plain strings.
    let want = bs4_container(name).then_some(name);
    // The container around `el` (innermost ancestor-or-self that is one).
    let outer = std::iter::once(el)
        .chain(dom.ancestors(el))
        .map(|a| dom.tag_name(a))
        .find(|n| bs4_container(n));
    let mut out = String::new();
    // Iterative walk with the innermost container of each level.
    let mut stack: Vec<(NodeId, Option<&str>)> = dom
        .children(el)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(|c| (c, outer))
        .collect();
    while let Some((n, container)) = stack.pop() {
        if let Some(t) = dom.text(n) {
            if container == want {
                out.push_str(py_strip(t));
            }
            continue;
        }
        let child_name = dom.tag_name(n);
        let inner = if bs4_container(child_name) {
            Some(child_name)
        } else {
            container
        };
        let first = stack.len();
        stack.extend(dom.children(n).map(|c| (c, inner)));
        stack[first..].reverse();
    }
    nl(out)
}

/// lxml's `"".join(el.xpath(".//text()")).strip()`.
pub(crate) fn lxml_text(dom: &Dom, el: NodeId) -> String {
    let mut out = String::new();
    dom.append_text(el, &mut out);
    let out = nl(out);
    let trimmed = py_strip(&out);
    if trimmed.len() == out.len() {
        out
    } else {
        trimmed.to_string()
    }
}

/// Attributes bs4 splits into lists (`DEFAULT_CDATA_LIST_ATTRIBUTES` of its HTML builder).
pub(crate) fn bs4_multi_valued(tag: &str, attr: &str) -> bool {
    matches!(attr, "class" | "accesskey" | "dropzone")
        || matches!(
            (tag, attr),
            ("a" | "link", "rel" | "rev")
                | ("td" | "th", "headers")
                | ("form", "accept-charset")
                | ("object", "archive")
                | ("area", "rel")
                | ("icon", "sizes")
                | ("iframe", "sandbox")
                | ("output", "for")
        )
}

/// bs4 splits list attributes on runs of non-whitespace (`\S+`, Python's `\s`).
pub(crate) fn bs4_tokens(v: &str) -> Vec<String> {
    v.split(is_py_space)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// The element's attributes with duplicates dropped (the first wins, as in the tree).
fn unique_attrs(dom: &Dom, el: NodeId) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for (k, v) in dom.attrs(el) {
        if !out.iter().any(|(n, _)| *n == k) {
            out.push((k, v));
        }
    }
    out
}

/// bs4's empty-element tags (HTML void elements and their historical kin).
fn bs4_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "keygen"
            | "link"
            | "menuitem"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
            | "basefont"
            | "bgsound"
            | "command"
            | "frame"
            | "image"
            | "isindex"
            | "nextid"
            | "spacer"
    )
}

fn escape_minimal(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// BeautifulSoup's `str(tag)` (the "minimal" formatter).
pub(crate) fn bs4_html(dom: &Dom, el: NodeId) -> String {
    let mut out = String::new();
    let mut stack = vec![(el, true)];
    while let Some((n, entering)) = stack.pop() {
        if let Some(t) = dom.text(n) {
            let raw = dom
                .parent(n)
                .is_some_and(|p| matches!(dom.tag_name(p), "script" | "style"));
            // bs4 collapses a whitespace-only string to one newline or space, outside
            // `pre` and `textarea`.
            if !t.is_empty()
                && t.bytes()
                    .all(|b| matches!(b, b' ' | b'\n' | b'\t' | b'\x0c' | b'\r'))
                && !dom
                    .ancestors(n)
                    .any(|a| matches!(dom.tag_name(a), "pre" | "textarea"))
            {
                out.push(if t.contains('\n') { '\n' } else { ' ' });
            } else if raw {
                out.push_str(t);
            } else {
                escape_minimal(t, &mut out);
            }
            continue;
        }
        if !dom.is_element(n) {
            continue;
        }
        let name = dom.tag_name(n);
        if !entering {
            out.push_str("</");
            out.push_str(name);
            out.push('>');
            continue;
        }
        out.push('<');
        out.push_str(name);
        let mut attrs = unique_attrs(dom, n);
        attrs.sort_by(|a, b| a.0.cmp(b.0));
        for (k, v) in attrs {
            let joined;
            let mut v = v;
            if bs4_multi_valued(name, k) {
                joined = bs4_tokens(v).join(" ");
                v = &joined;
            }
            if name == "meta" && k == "charset" {
                // bs4 substitutes the output encoding into `<meta charset>`.
                v = "utf-8";
            }
            let mut esc = String::with_capacity(v.len());
            escape_minimal(v, &mut esc);
            out.push(' ');
            out.push_str(k);
            out.push('=');
            if esc.contains('"') {
                if esc.contains('\'') {
                    out.push('"');
                    out.push_str(&esc.replace('"', "&quot;"));
                    out.push('"');
                } else {
                    out.push('\'');
                    out.push_str(&esc);
                    out.push('\'');
                }
            } else {
                out.push('"');
                out.push_str(&esc);
                out.push('"');
            }
        }
        if bs4_void(name) && dom.first_child(n).is_none() {
            out.push_str("/>");
            continue;
        }
        out.push('>');
        stack.push((n, false));
        let first = stack.len();
        stack.extend(dom.children(n).map(|c| (c, true)));
        stack[first..].reverse();
    }
    nl(out)
}

fn escape_xml(s: &str, attr: bool, out: &mut String) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        // Newlines as libxml2 normalized them: CRLF and CR are LF.
        let c = if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            '\n'
        } else {
            c
        };
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

/// lxml's `etree.tostring(el, encoding="unicode")`, tail included.
pub(crate) fn lxml_html(dom: &Dom, el: NodeId) -> String {
    let mut out = String::new();
    let mut stack = vec![(el, true)];
    while let Some((n, entering)) = stack.pop() {
        if let Some(t) = dom.text(n) {
            escape_xml(t, false, &mut out);
            continue;
        }
        if !dom.is_element(n) {
            continue;
        }
        let name = dom.tag_name(n);
        if !entering {
            out.push_str("</");
            out.push_str(name);
            out.push('>');
            continue;
        }
        out.push('<');
        out.push_str(name);
        for (k, v) in unique_attrs(dom, n) {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            escape_xml(v, true, &mut out);
            out.push('"');
        }
        if dom.first_child(n).is_none() {
            out.push_str("/>");
            continue;
        }
        out.push('>');
        stack.push((n, false));
        let first = stack.len();
        stack.extend(dom.children(n).map(|c| (c, true)));
        stack[first..].reverse();
    }
    // The tail: text nodes right after the element.
    let mut next = dom.next_sibling(el);
    while let Some(t) = next.and_then(|s| dom.text(s)) {
        escape_xml(t, false, &mut out);
        next = next.and_then(|s| dom.next_sibling(s));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use gannet_extract::Tag;

    #[test]
    fn bs4_text_skips_script_template_and_ruby_text() {
        let dom = Dom::parse(
            "<div> Hello <b>W</b>\u{a0}x <template>t</template><ruby>漢<rt>kan</rt></ruby>\
             <script type=application/ld+json>{\"a\":1}</script></div>",
        );
        let div = dom.find_any(Tag::Div).unwrap();
        assert_eq!(bs4_text(&dom, div), "HelloWx漢");
        let script = dom.find_any(Tag::Script).unwrap();
        assert_eq!(bs4_text(&dom, script), "{\"a\":1}");
        assert_eq!(lxml_text(&dom, div), "Hello W\u{a0}x t漢kan{\"a\":1}");
    }

    #[test]
    fn bs4_html_sorts_attributes_and_joins_classes() {
        let dom = Dom::parse(
            "<div z=1 class=' c  d ' id=i title='say \"hi\"' data-q=\"it's &quot;x&quot;\">\
             1 &lt; 2<br><input disabled></div>",
        );
        let div = dom.find_any(Tag::Div).unwrap();
        assert_eq!(
            bs4_html(&dom, div),
            "<div class=\"c d\" data-q=\"it's &quot;x&quot;\" id=\"i\" title='say \"hi\"' \
             z=\"1\">1 &lt; 2<br/><input disabled=\"\"/></div>"
        );
        assert_eq!(lxml_html(&dom, dom.find_any(Tag::Br).unwrap()), "<br/>");
    }

    #[test]
    fn newlines_are_normalized_as_libxml2_does() {
        let dom = Dom::parse("<p title=\"a\r\nb\">x\r\ny\rz</p>");
        let p = dom.find_any(Tag::P).unwrap();
        assert_eq!(bs4_text(&dom, p), "x\ny\nz");
        assert_eq!(lxml_text(&dom, p), "x\ny\nz");
        assert_eq!(bs4_html(&dom, p), "<p title=\"a\nb\">x\ny\nz</p>");
        assert_eq!(lxml_html(&dom, p), "<p title=\"a&#10;b\">x\ny\nz</p>");
    }

    #[test]
    fn lxml_html_keeps_source_order_and_the_tail() {
        let dom = Dom::parse("<p><span b=\"x\ny\" a=1>s</span> tail &amp; more<i></i></p>");
        let span = dom.find_any(Tag::Span).unwrap();
        assert_eq!(
            lxml_html(&dom, span),
            "<span b=\"x&#10;y\" a=\"1\">s</span> tail &amp; more"
        );
        assert_eq!(lxml_html(&dom, dom.find_any(Tag::I).unwrap()), "<i/>");
    }
}
