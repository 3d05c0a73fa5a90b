//! String helpers shared by the metadata sources: whitespace as JavaScript sees it
//! (Readability's regular expressions use `\s`), word counts, token similarity.

/// JavaScript's `\s`: Unicode white space plus U+FEFF.
pub(crate) fn is_js_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// Trim JavaScript white space from both ends.
pub(crate) fn js_trim(s: &str) -> &str {
    s.trim_matches(is_js_space)
}

/// Collapse every run of white space into one space and trim.
pub(crate) fn normalize_ws(s: &str) -> String {
    collapse(s, is_js_space)
}

/// Collapse runs of characters for which `is_space` holds into one space, and trim.
fn collapse(s: &str, is_space: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending = false;
    for c in s.chars() {
        if is_space(c) {
            pending = !out.is_empty();
        } else {
            if pending {
                out.push(' ');
                pending = false;
            }
            out.push(c);
        }
    }
    out
}

/// Normalized text, `None` when nothing is left.
pub(crate) fn clean(s: &str) -> Option<String> {
    let n = normalize_ws(s);
    (!n.is_empty()).then_some(n)
}

/// `document.title` semantics: strip and collapse ASCII white space.
pub(crate) fn collapse_ascii_ws(s: &str) -> String {
    collapse(s, |c| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c'))
}

/// `str.split(/\s+/).length` in JavaScript: runs of white space plus one.
pub(crate) fn word_count(s: &str) -> usize {
    let mut runs = 0;
    let mut in_ws = false;
    for c in s.chars() {
        let ws = is_js_space(c);
        if ws && !in_ws {
            runs += 1;
        }
        in_ws = ws;
    }
    runs + 1
}

/// Length in UTF-16 code units, as JavaScript's `String.length`.
pub(crate) fn js_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Lowercase tokens split on what JavaScript's `\W+` splits on (anything but ASCII
/// letters, digits and `_`).
fn tokens(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Readability's `_textSimilarity(a, b)`: 1 minus the share (by joined length) of `b`'s
/// tokens that do not occur in `a`. 1 = `b` is made of `a`'s words, 0 = nothing shared.
pub(crate) fn text_similarity(a: &str, b: &str) -> f64 {
    let ta = tokens(a);
    let tb = tokens(b);
    if ta.is_empty() || tb.is_empty() {
        return 0.0;
    }
    let joined_len = |ts: &[&String]| -> usize {
        let n: usize = ts.iter().map(|t| js_len(t)).sum();
        n + ts.len().saturating_sub(1)
    };
    let all: Vec<&String> = tb.iter().collect();
    let uniq: Vec<&String> = tb.iter().filter(|t| !ta.contains(t)).collect();
    let total = joined_len(&all);
    if total == 0 {
        return 0.0;
    }
    1.0 - joined_len(&uniq) as f64 / total as f64
}

/// A set of lowercase ASCII words (at most 64) searched for as substrings,
/// case-insensitively, in one pass over the haystack: two tables map each byte (either
/// case) to the words whose first (second) byte it is, so most positions cost two lookups
/// and an AND.
pub(crate) struct WordSet {
    words: &'static [&'static str],
    first: [u64; 256],
    second: [u64; 256],
}

impl WordSet {
    /// Build the set (at compile time). Words must be non-empty lowercase ASCII.
    pub(crate) const fn new(words: &'static [&'static str]) -> WordSet {
        let mut first = [0u64; 256];
        let mut second = [0u64; 256];
        let mut k = 0;
        while k < words.len() && k < 64 {
            let b = words[k].as_bytes();
            if !b.is_empty() {
                // Both cases of a lowercase letter, so the search needs no case folding.
                // (An uppercase first letter never matched a folded haystack: left out.)
                if b[0].is_ascii_lowercase() {
                    first[b[0] as usize] |= 1 << k;
                    first[b[0].to_ascii_uppercase() as usize] |= 1 << k;
                } else if !b[0].is_ascii_uppercase() {
                    first[b[0] as usize] |= 1 << k;
                }
                if b.len() >= 2 {
                    second[b[1] as usize] |= 1 << k;
                    second[b[1].to_ascii_uppercase() as usize] |= 1 << k;
                } else {
                    let mut c = 0;
                    while c < 256 {
                        second[c] |= 1 << k;
                        c += 1;
                    }
                }
            }
            k += 1;
        }
        WordSet {
            words,
            first,
            second,
        }
    }

    /// Whether `hay` contains one of the words, ignoring ASCII case.
    pub(crate) fn in_str(&self, hay: &str) -> bool {
        let h = hay.as_bytes();
        let Some((&b0, rest)) = h.split_first() else {
            return false;
        };
        // Words that may start at the previous position, filtered by this byte as their
        // second: one pass, two lookups and an AND per byte.
        let mut starting = self.first[b0 as usize];
        for (i, &b) in rest.iter().enumerate() {
            let m = starting & self.second[b as usize];
            starting = self.first[b as usize];
            if m != 0 && self.matches_at(h, i, m) {
                return true;
            }
        }
        // The last byte: only one-byte words (their second-byte row is all ones).
        let m = starting & self.second[0];
        m != 0 && self.matches_at(h, h.len() - 1, m)
    }

    /// Whether one of the candidate words `m` (a bit mask) occurs at `h[i..]`.
    fn matches_at(&self, h: &[u8], i: usize, mut m: u64) -> bool {
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            m &= m - 1;
            let w = self.words[k].as_bytes();
            if h.len() - i >= w.len() && h[i..i + w.len()].eq_ignore_ascii_case(w) {
                return true;
            }
        }
        false
    }
}

/// Whether the string looks like an absolute URL (what `new URL(s)` accepts, roughly).
pub(crate) fn is_url(s: &str) -> bool {
    let s = s.trim();
    if s.starts_with("//") {
        return true;
    }
    match s.find(':') {
        Some(i) if i > 0 => {
            let scheme = &s[..i];
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && (s[i + 1..].starts_with("//") || matches!(scheme, "mailto" | "urn"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace() {
        assert_eq!(normalize_ws("  a \n\t b\u{a0}c  "), "a b c");
        assert_eq!(clean(" \n "), None);
        assert_eq!(collapse_ascii_ws(" a\n b\u{a0} "), "a b\u{a0}");
        assert_eq!(word_count(""), 1);
        assert_eq!(word_count("a b  c"), 3);
        assert_eq!(word_count(" a"), 2);
    }

    #[test]
    fn similarity() {
        assert!((text_similarity("Hello world", "hello WORLD") - 1.0).abs() < 1e-9);
        assert_eq!(text_similarity("", "x"), 0.0);
        let s = text_similarity("alpha beta", "alpha gamma");
        assert!(s > 0.4 && s < 0.6, "{s}");
    }

    #[test]
    fn ci_and_urls() {
        const W: WordSet = WordSet::new(&["-ad-", "author", "ab"]);
        assert!(W.in_str("Post-AUTHOR x"));
        assert!(W.in_str("x-ad-y"));
        assert!(!W.in_str("autho"));
        assert!(!W.in_str(""));
        assert!(W.in_str("cab"));
        assert!(W.in_str("cAB"));
        const ONE: WordSet = WordSet::new(&["x"]);
        assert!(ONE.in_str("aX"));
        assert!(!ONE.in_str("ab"));
        assert!(is_url("https://example.com/x"));
        assert!(!is_url("Jane Doe"));
        assert!(!is_url("By: Jane"));
    }
}
