//! Serialize a (cleaned) subtree back to HTML, for `--format html` and for tests.

use crate::dom::{Dom, NodeId};
use crate::tag::Tag;

/// The subtree of `id` as HTML (the node itself included, unless it is the document).
pub fn to_html(dom: &Dom, id: NodeId) -> String {
    let mut out = String::new();
    // Iterative walk: (node, entering).
    let mut stack = vec![(id, true)];
    while let Some((n, entering)) = stack.pop() {
        if let Some(t) = dom.text(n) {
            let raw = dom
                .parent(n)
                .and_then(|p| dom.tag(p))
                .is_some_and(|t| matches!(t, Tag::Script | Tag::Style));
            if raw {
                out.push_str(t);
            } else {
                escape(t, false, &mut out);
            }
            continue;
        }
        let is_el = dom.is_element(n);
        if entering {
            if is_el {
                out.push('<');
                out.push_str(dom.tag_name(n));
                for (k, v) in dom.attrs(n) {
                    out.push(' ');
                    out.push_str(k);
                    out.push_str("=\"");
                    escape(v, true, &mut out);
                    out.push('"');
                }
                out.push('>');
                if dom.tag(n).is_some_and(Tag::is_void) {
                    continue;
                }
            }
            stack.push((n, false));
            let children: Vec<NodeId> = dom.children(n).collect();
            for c in children.into_iter().rev() {
                stack.push((c, true));
            }
        } else if is_el {
            out.push_str("</");
            out.push_str(dom.tag_name(n));
            out.push('>');
        }
    }
    out
}

fn escape(s: &str, attr: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' if !attr => out.push_str("&lt;"),
            '>' if !attr => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
}
