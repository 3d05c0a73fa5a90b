//! Markup that reached a page as text: `&lt;img height="1" …&gt;` in a `<noscript>`, a
//! description or a paragraph. No tag text may reach the Markdown; a tag *named* in prose
//! ("the `<img>` element") has no attributes and stays.

/// Whether `s` is, apart from whitespace, only tags, at least one with an attribute.
pub(crate) fn is_tag_text(s: &str) -> bool {
    let t = s.trim();
    if !t.starts_with('<') || !t.ends_with('>') {
        return false;
    }
    let mut rest = t;
    let mut attrs = false;
    while !rest.is_empty() {
        let Some(len) = tag_len(rest) else {
            return false;
        };
        attrs |= rest[..len].contains('=');
        rest = rest[len..].trim_start();
    }
    attrs
}

/// Length of the tag `s` starts with (`<name …>` or `</name>`), if it starts with one.
fn tag_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'<') {
        return None;
    }
    let name_start = if b.get(1) == Some(&b'/') { 2 } else { 1 };
    if !b.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let end = s.find('>')?;
    if s[1..end].contains('<') {
        return None;
    }
    Some(end + 1)
}

/// `s` without the tags with attributes in it (`<img src=…>` goes, the word `<img>` in
/// prose stays), whitespace left as it was around them.
pub(crate) fn strip_tags_with_attributes(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('<') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match tag_len(tail) {
            Some(len) if tail[..len].contains('=') => rest = &tail[len..],
            _ => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_with_attributes_are_markup_but_a_named_tag_is_prose() {
        assert!(is_tag_text(
            r#" <img height="1" width="1" style="display:none" src="https://px.example/tr?id=1"/> "#
        ));
        assert!(is_tag_text(r#"<iframe src="x"></iframe>"#));
        assert!(!is_tag_text("<img>"));
        assert!(!is_tag_text("Use the <img> element"));
        assert!(!is_tag_text("a < b > c"));
        assert_eq!(
            strip_tags_with_attributes(r#"<img height="1" src="x"/> A story, with <b> kept."#),
            " A story, with <b> kept."
        );
    }
}
