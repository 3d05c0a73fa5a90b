//! The `<title>`-based article title: Mozilla Readability's `_getArticleTitle`, and the
//! removal of a site name from either end of a title.

use super::text::{collapse_ascii_ws, is_js_space, js_len, js_trim, normalize_ws, word_count};

/// Characters that separate a page title from a site or section name when surrounded by
/// white space.
const SEPARATORS: &[char] = &['|', '-', '–', '—', '\\', '/', '>', '»'];
/// The "hierarchical" ones (breadcrumb-like).
const HIERARCHICAL: &[char] = &['\\', '/', '>', '»'];

/// Byte offsets of the matches of `/\s[SEP]\s/g` (non-overlapping, left to right); each
/// offset is where the leading white space starts.
fn separator_matches(s: &str, set: &[char]) -> Vec<usize> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < chars.len() {
        let (at, a) = chars[i];
        let (_, b) = chars[i + 1];
        let (_, c) = chars[i + 2];
        if is_js_space(a) && set.contains(&b) && is_js_space(c) {
            out.push(at);
            i += 3;
        } else {
            i += 1;
        }
    }
    out
}

/// What the title heuristics need to know about the document's headings; computed only
/// when a heuristic asks.
pub(crate) struct Headings<'a> {
    /// Text of every `h1` and `h2` (raw text content), in document order.
    pub(crate) h1_h2: &'a dyn Fn() -> Vec<String>,
    /// Text of the only `h1`, when there is exactly one.
    pub(crate) single_h1: &'a dyn Fn() -> Option<String>,
}

/// Readability's `_getArticleTitle` over the raw `<title>` text.
pub(crate) fn article_title(raw_title: &str, headings: &Headings<'_>) -> String {
    let orig = collapse_ascii_ws(raw_title);
    let orig = js_trim(&orig).to_owned();
    let mut cur = orig.clone();
    let mut hierarchical = false;

    let seps = separator_matches(&cur, SEPARATORS);
    if let Some(&last) = seps.last() {
        hierarchical = !separator_matches(&cur, HIERARCHICAL).is_empty();
        cur = orig[..last].to_owned();
        if word_count(&cur) < 3 {
            // Drop everything up to and including the first separator character.
            cur = match orig.find(SEPARATORS) {
                Some(i) => {
                    let ch_len = orig[i..].chars().next().map_or(1, char::len_utf8);
                    orig[i + ch_len..].to_owned()
                }
                None => orig.clone(),
            };
        }
    } else if cur.contains(": ") {
        let trimmed = js_trim(&cur);
        let matched = (headings.h1_h2)().iter().any(|h| js_trim(h) == trimmed);
        if !matched {
            if let Some(last) = orig.rfind(':') {
                cur = orig[last + 1..].to_owned();
            }
            let first = orig.find(':').unwrap_or(0);
            if word_count(&cur) < 3 {
                cur = orig[first + 1..].to_owned();
            } else if word_count(&orig[..first]) > 5 {
                cur = orig.clone();
            }
        }
    } else if (js_len(&cur) > 150 || js_len(&cur) < 15)
        && let Some(h1) = (headings.single_h1)()
    {
        cur = collapse_runs(js_trim(&h1));
    }

    cur = collapse_runs(js_trim(&cur));
    let wc = word_count(&cur);
    if wc <= 4 {
        let stripped: String = orig.chars().filter(|c| !SEPARATORS.contains(c)).collect();
        if !hierarchical || wc != word_count(&stripped).saturating_sub(1) {
            cur = orig;
        }
    }
    cur
}

/// `s.replace(/\s{2,}/g, " ")`.
fn collapse_runs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    for c in s.chars() {
        if is_js_space(c) {
            run.push(c);
        } else {
            flush_run(&mut out, &mut run);
            out.push(c);
        }
    }
    flush_run(&mut out, &mut run);
    out
}

fn flush_run(out: &mut String, run: &mut String) {
    if run.chars().count() >= 2 {
        out.push(' ');
    } else {
        out.push_str(run);
    }
    run.clear();
}

fn loose_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Remove a site name from the start or end of a title ("Story | Site", "Site: Story"),
/// when one separator-delimited part equals (loosely) one of `site_names`. The title is
/// returned unchanged when nothing matches or when the rest would be empty.
pub(crate) fn strip_site_name(title: &str, site_names: &[&str]) -> String {
    let keys: Vec<String> = site_names
        .iter()
        .map(|s| loose_key(s))
        .filter(|k| !k.is_empty())
        .collect();
    if keys.is_empty() {
        return title.to_owned();
    }
    let t = normalize_ws(title);
    let seps = separator_matches(&t, SEPARATORS);
    if let (Some(&first), Some(&last)) = (seps.first(), seps.last()) {
        // Suffix: " | Site" (the part after the last separator).
        let tail = &t[last..];
        let tail = tail.char_indices().nth(3).map_or("", |(i, _)| &tail[i..]);
        if keys.contains(&loose_key(tail)) {
            let head = t[..last].trim();
            if !head.is_empty() {
                return head.to_owned();
            }
        }
        // Prefix: "Site | ".
        let head = &t[..first];
        if keys.contains(&loose_key(head)) {
            let rest = &t[first..];
            let rest = rest
                .char_indices()
                .nth(3)
                .map_or("", |(i, _)| &rest[i..])
                .trim();
            if !rest.is_empty() {
                return rest.to_owned();
            }
        }
    }
    if let Some(i) = t.find(": ")
        && keys.contains(&loose_key(&t[..i]))
    {
        let rest = t[i + 2..].trim();
        if !rest.is_empty() {
            return rest.to_owned();
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(t: &str, h1_h2: &[&str], single_h1: Option<&str>) -> String {
        let all = || h1_h2.iter().map(|s| s.to_string()).collect();
        let one = || single_h1.map(str::to_owned);
        article_title(
            t,
            &Headings {
                h1_h2: &all,
                single_h1: &one,
            },
        )
    }

    fn title(t: &str) -> String {
        with(t, &[], None)
    }

    #[test]
    fn separators_drop_the_last_part() {
        assert_eq!(
            title("Obama admits US gun laws are his 'biggest frustration' - BBC News"),
            "Obama admits US gun laws are his 'biggest frustration'"
        );
        assert_eq!(
            title("Lorem ipsum dolor sit amet – My website"),
            "Lorem ipsum dolor sit amet"
        );
        assert_eq!(
            title("Get your Frontend JavaScript Code Covered | Code | Nicolas Perriault"),
            "Get your Frontend JavaScript Code Covered | Code"
        );
        assert_eq!(
            title(
                "Firefox — Customize and make it your own — The most flexible browser on\n the Web — Mozilla"
            ),
            "Firefox — Customize and make it your own — The most flexible browser on the Web"
        );
    }

    #[test]
    fn separators_too_few_words_take_the_rest() {
        // "Site - A long enough article title here": the part before is one word.
        assert_eq!(
            title("Site - A long enough article title here"),
            "A long enough article title here"
        );
        // Short results fall back to the whole title.
        assert_eq!(title("Home | Example"), "Home | Example");
    }

    #[test]
    fn colon_heuristic() {
        assert_eq!(
            title(
                "Silicon Exposed: Open Verilog flow for Silego GreenPak4 programmable logic devices"
            ),
            "Open Verilog flow for Silego GreenPak4 programmable logic devices"
        );
        let h = "This is a long title with a colon: Hello there";
        let t = with(h, &[h], None);
        assert_eq!(t, "This is a long title with a colon: Hello there");
    }

    #[test]
    fn single_h1_for_short_titles() {
        let t = with("Quanta", &[], Some("  The Hidden  Heroines of Chaos "));
        assert_eq!(t, "The Hidden Heroines of Chaos");
    }

    #[test]
    fn site_name_stripping() {
        assert_eq!(
            strip_site_name("Story title | The Site", &["The Site"]),
            "Story title"
        );
        assert_eq!(
            strip_site_name("THE SITE » Story title", &["the site"]),
            "Story title"
        );
        assert_eq!(strip_site_name("Site: Story", &["Site"]), "Story");
        assert_eq!(strip_site_name("Story | Other", &["Site"]), "Story | Other");
        assert_eq!(strip_site_name("Site", &["Site"]), "Site");
    }
}
