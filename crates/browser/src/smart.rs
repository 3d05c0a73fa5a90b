//! Smart render mode: decide from a page fetched over HTTP whether it needs JavaScript.
//!
//! Rendering costs 10–100× a plain fetch, so `--render auto` renders only pages that show
//! they are built by scripts. The rule (documented in the README):
//!
//! - a page with no `<script>` never needs rendering (nothing could add content);
//! - a page whose extracted main content has at least [`ENOUGH_WORDS`] words does not;
//! - otherwise it is rendered when one of these holds:
//!   - **noscript wall**: a `<noscript>` says JavaScript is required or disabled;
//!   - **SPA root**: an element that frameworks mount into (`id="root"`, `app`, `__next`,
//!     `__nuxt`, `___gatsby`, `svelte`, `q-app`, `<app-root>`, `data-reactroot`, ...);
//!   - **near-empty body**: fewer than [`NEAR_EMPTY_WORDS`] words of content.

/// Main-content words from which an HTTP page is taken as is.
pub const ENOUGH_WORDS: usize = 150;
/// Below this many words a page with scripts is rendered whatever else it shows.
pub const NEAR_EMPTY_WORDS: usize = 25;
/// Only the first bytes are scanned (the signals sit in the head and the top of the body).
const SCAN_LIMIT: usize = 2 << 20;

/// Why a page needs rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RenderReason {
    NoscriptWall,
    SpaRoot,
    NearEmptyBody,
}

impl std::fmt::Display for RenderReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RenderReason::NoscriptWall => "a <noscript> says JavaScript is required",
            RenderReason::SpaRoot => "an empty single-page-app root",
            RenderReason::NearEmptyBody => "almost no content without JavaScript",
        })
    }
}

/// Decides for one page: `html` as fetched, `content_words` the word count of its
/// extracted main content.
pub fn needs_render(html: &str, content_words: usize) -> Option<RenderReason> {
    // Most pages have enough words: decide before copying up to 2 MiB to lowercase it.
    if content_words >= ENOUGH_WORDS {
        return None;
    }
    let mut end = html.len().min(SCAN_LIMIT);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let lower = html[..end].to_ascii_lowercase();
    if !lower.contains("<script") {
        return None;
    }
    if noscript_wall(&lower) {
        return Some(RenderReason::NoscriptWall);
    }
    if spa_root(&lower) {
        return Some(RenderReason::SpaRoot);
    }
    if content_words < NEAR_EMPTY_WORDS {
        return Some(RenderReason::NearEmptyBody);
    }
    None
}

fn noscript_wall(lower: &str) -> bool {
    const PHRASES: &[&str] = &[
        "enable javascript",
        "enable js",
        "javascript is required",
        "javascript is disabled",
        "javascript must be enabled",
        "javascript to be enabled",
        "requires javascript",
        "require javascript",
        "need javascript",
        "needs javascript",
        "turn on javascript",
        "javascript enabled",
        "without javascript",
        "activate javascript",
        "activer javascript",
        "javascript aktivieren",
        "habilita javascript",
    ];
    let mut rest = lower;
    while let Some(start) = rest.find("<noscript") {
        let after = &rest[start..];
        let end = after.find("</noscript").unwrap_or(after.len().min(4096));
        let inner = &after[..end];
        if PHRASES.iter().any(|p| inner.contains(p)) {
            return true;
        }
        rest = &after[end.max(1)..];
    }
    false
}

fn spa_root(lower: &str) -> bool {
    const IDS: &[&str] = &[
        "root",
        "app",
        "__next",
        "__nuxt",
        "___gatsby",
        "svelte",
        "q-app",
        "app-root",
        "main-app",
        "react-root",
        "ember-app",
        "vue-app",
    ];
    for quote in ['"', '\''] {
        for id in IDS {
            if lower.contains(&format!("id={quote}{id}{quote}")) {
                return true;
            }
        }
    }
    lower.contains("<app-root") || lower.contains("data-reactroot") || lower.contains("ng-app")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_pages_are_never_rendered() {
        let html =
            "<html><body><div id=root></div><noscript>enable JavaScript</noscript></body></html>";
        assert_eq!(needs_render(html, 0), None, "no script, nothing to run");
    }

    #[test]
    fn pages_with_content_are_not_rendered() {
        let html = r#"<html><body><div id="root"><p>...</p></div><script src=a.js></script></body></html>"#;
        assert_eq!(needs_render(html, 400), None);
    }

    #[test]
    fn spa_shells_are_rendered() {
        let html = r#"<html><head><script src="/main.js"></script></head><body><div id="app"></div></body></html>"#;
        assert_eq!(needs_render(html, 0), Some(RenderReason::SpaRoot));
        let next = r#"<body><div id="__next"><p>Loading</p></div><script>self.__next_f=[]</script></body>"#;
        assert_eq!(needs_render(next, 30), Some(RenderReason::SpaRoot));
    }

    #[test]
    fn noscript_walls_are_rendered() {
        let html = r#"<body><noscript>You need to enable JavaScript to run this app.</noscript><script src=x.js></script><div id=main></div></body>"#;
        assert_eq!(needs_render(html, 3), Some(RenderReason::NoscriptWall));
        // A noscript with a tracking pixel is no wall.
        let pixel = r#"<body><noscript><img src="https://t.example/p.gif"></noscript><script>x()</script><p>one two three</p></body>"#;
        assert_eq!(needs_render(pixel, 60), None);
    }

    #[test]
    fn near_empty_pages_with_scripts_are_rendered() {
        let html = "<body><script>document.write('hi')</script></body>";
        assert_eq!(needs_render(html, 0), Some(RenderReason::NearEmptyBody));
        assert_eq!(needs_render(html, NEAR_EMPTY_WORDS), None);
    }

    #[test]
    fn multibyte_text_at_the_scan_limit_does_not_panic() {
        let mut html = String::from("<script></script>");
        while html.len() < SCAN_LIMIT + 10 {
            html.push('é');
        }
        assert_eq!(needs_render(&html, 0), Some(RenderReason::NearEmptyBody));
    }
}
