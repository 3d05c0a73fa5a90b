//! Whether an element is hidden by its markup.

use super::*;

/// Class/id words of containers that hide content until a click.
pub(super) const COLLAPSED: WordSet = WordSet::new(&[
    "tab",
    "panel",
    "accordion",
    "collaps",
    "expand",
    "faq",
    "answer",
    "toggle",
    "readmore",
    "read-more",
    "spoiler",
]);

/// Whether element `id` with these `role`, `class` and `id` attributes (the first of
/// each, as [`Dom::attr`] and [`Dom::class_and_id`] read them) hides content until a click.
pub(super) fn is_collapsed_content(
    dom: &Dom,
    id: NodeId,
    role: Option<&str>,
    class: &str,
    ident: &str,
) -> bool {
    matches!(role, Some("tabpanel" | "region"))
        || dom.is(id, Tag::Details)
        || COLLAPSED.in_str(class)
        || COLLAPSED.in_str(ident)
}

/// Class names of text shown to screen readers only (Bootstrap, WordPress, Tailwind).
pub(super) const SCREEN_READER_ONLY: WordSet = WordSet::new(&[
    "sr-only",
    "visually-hidden",
    "visuallyhidden",
    "screen-reader",
    "screenreader",
    "v-visible-sr",
]);

/// Whether a class names one slide of a carousel (Slick, Swiper, Bootstrap, Splide, Glide,
/// Owl) that is not a clone: carousels mark the slides out of view `aria-hidden`, but
/// they are content a click away, like collapsed tabs. The clones an endless carousel
/// draws at both ends repeat real slides.
pub(super) fn is_carousel_slide(class: &str) -> bool {
    let mut slide = false;
    for t in class.split_ascii_whitespace() {
        let t = t.to_ascii_lowercase();
        if t.contains("clone") || t.contains("duplicate") {
            return false;
        }
        slide |= t.ends_with("-slide")
            || t.ends_with("__slide")
            || t == "carousel-item"
            || t == "owl-item";
    }
    slide
}

/// Whether a class list hides an element at every screen size: Bootstrap's (and Stack
/// Overflow's) `d-none` without a `d-*` display class beside it (`d-none d-md-block`
/// shows on wider screens).
pub(super) fn is_display_none_class(class: &str) -> bool {
    // Most classes have no `d-` token: found without splitting.
    let b = class.as_bytes();
    let d_token = memchr::memchr_iter(b'-', b).any(|i| {
        i >= 1 && b[i - 1].eq_ignore_ascii_case(&b'd') && (i == 1 || b[i - 2].is_ascii_whitespace())
    });
    if !d_token {
        return false;
    }
    let mut none = false;
    for t in class.split_ascii_whitespace() {
        if t.eq_ignore_ascii_case("d-none") {
            none = true;
        } else if t.len() > 2 && t.as_bytes()[..2].eq_ignore_ascii_case(b"d-") {
            return false;
        }
    }
    none
}

/// Whether an element is hidden by its markup (`hidden`, `aria-hidden`, inline
/// `display:none` or `visibility:hidden`, screen-reader-only classes). Callers exempt a
/// node that holds most of the page: pages that hide their whole body until scripts run
/// (flash-of-unstyled-content guards, an open modal) must not lose it; such a node is
/// hidden by a script's state (a modal open, hydration pending), not because it is
/// boilerplate. A page's answers are kept in its [`Memo`].
pub(super) fn is_hidden(dom: &Dom, id: NodeId) -> bool {
    // Collapsed tabs, accordions and FAQ answers are content a click away.
    // The attributes read below, in one pass (an element without any is not hidden).
    let mut any = false;
    let (mut class, mut ident) = ("", "");
    let mut first_id = None;
    let mut role = None;
    for (k, v) in dom.attrs(id) {
        any = true;
        match k {
            "class" if class.is_empty() => class = v,
            "id" => {
                first_id = first_id.or(Some(v));
                if ident.is_empty() {
                    ident = v;
                }
            }
            "role" if role.is_none() => role = Some(v),
            _ => {}
        }
    }
    if !any || is_collapsed_content(dom, id, role, class, ident) {
        return false;
    }
    // Text for screen readers only is not on the page.
    if SCREEN_READER_ONLY.in_str(class) || is_display_none_class(class) {
        return true;
    }
    // React's streamed server rendering parks finished Suspense boundaries in
    // `<div hidden id="S:n">` until a script moves them in place: that is the content.
    if first_id.is_some_and(|i| i.starts_with("S:")) {
        return false;
    }
    for (k, v) in dom.attrs(id) {
        match k {
            "hidden" => return true,
            // A popover (menus, off-canvas panels, "install the app" cards) is not shown
            // until a button opens it: the UA stylesheet hides `[popover]` when closed.
            "popover" => return true,
            "aria-hidden" if v == "true" => {
                return !class.contains("fallback-image") && !is_carousel_slide(class);
            }
            "style" if style_hides(v) => return true,
            _ => {}
        }
    }
    false
}

/// Whether an inline style says `display:none` or `visibility:hidden` (any case, any
/// whitespace inside). Short styles are compacted on the stack: no allocation.
fn style_hides(style: &str) -> bool {
    let mut stack = [0u8; 256];
    let mut heap = Vec::new();
    let mut len = 0;
    for c in style.chars().filter(|c| !c.is_whitespace()) {
        let mut utf8 = [0u8; 4];
        let bytes = c.to_ascii_lowercase().encode_utf8(&mut utf8).as_bytes();
        if heap.is_empty() && len + bytes.len() <= stack.len() {
            stack[len..len + bytes.len()].copy_from_slice(bytes);
            len += bytes.len();
        } else {
            if heap.is_empty() {
                heap.extend_from_slice(&stack[..len]);
            }
            heap.extend_from_slice(bytes);
        }
    }
    let compact = if heap.is_empty() {
        &stack[..len]
    } else {
        &heap[..]
    };
    memchr::memmem::find(compact, b"display:none").is_some()
        || memchr::memmem::find(compact, b"visibility:hidden").is_some()
}

#[cfg(test)]
mod tests {
    use super::style_hides;

    #[test]
    fn style_hides_any_case_and_spacing() {
        assert!(style_hides("DISPLAY : None"));
        assert!(style_hides("color: red; visibility:\u{a0}hidden"));
        assert!(!style_hides("display: block"));
        assert!(!style_hides(""));
        // Longer than the stack buffer: compacted on the heap, same answer.
        let long = format!("{}display: none", "margin: 0; ".repeat(40));
        assert!(style_hides(&long));
        assert!(!style_hides(&"margin: 0; ".repeat(40)));
        // Non-ASCII is kept (not lowercased), whitespace of any script dropped.
        assert!(!style_hides("displaÿ:none"));
        assert!(style_hides("display\u{3000}:none"));
    }
}
