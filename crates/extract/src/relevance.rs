//! Query-focused Markdown: the blocks of a page that bear on a query, scored with BM25
//! (crawl4ai's "BM25 content filter"), kept in document order under their section
//! headings.
//!
//! The input is Markdown we rendered, so blocks are easy to find: paragraphs, headings,
//! top-level list items (with what is nested in them), tables and fenced code. Each block
//! is a document of a small BM25 collection; headings weigh more (a query that names a
//! section wants the section). A kept block brings its nearest heading along, so the
//! answer still says where each part came from.

/// crawl4ai's default `bm25_threshold`.
pub const DEFAULT_THRESHOLD: f32 = 1.0;

/// Query words beyond this many are ignored.
const MAX_QUERY_TERMS: usize = 64;

const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Words too common to tell blocks apart (English; other languages keep all words).
const STOP_WORDS: &[&str] = &[
    "a", "about", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from",
    "has", "have", "how", "i", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our",
    "that", "the", "their", "this", "to", "was", "we", "what", "when", "where", "which", "who",
    "why", "will", "with", "you", "your",
];

/// The blocks of `markdown` whose BM25 score for `query` reaches `threshold`, each with
/// its nearest heading, in document order, separated by blank lines. A query with no
/// searchable word selects nothing.
pub fn bm25_filter(markdown: &str, query: &str, threshold: f32) -> String {
    // Distinct words in query order; a query is a few words, and a hostile one must not
    // multiply the work.
    let mut terms: Vec<String> = Vec::new();
    for t in tokens(query) {
        if terms.len() == MAX_QUERY_TERMS {
            break;
        }
        if !terms.contains(&t) {
            terms.push(t);
        }
    }
    if terms.is_empty() {
        return String::new();
    }
    let blocks = split_blocks(markdown);
    if blocks.is_empty() {
        return String::new();
    }
    let index: std::collections::HashMap<&str, usize> = terms
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    // Per block: its length in words and how often each query term occurs (one pass over
    // the words, whatever the number of terms).
    let counts: Vec<(usize, Vec<u32>)> = blocks
        .iter()
        .map(|b| {
            let words = tokens(&visible(b.text));
            let mut tf = vec![0u32; terms.len()];
            for w in &words {
                if let Some(&i) = index.get(w.as_str()) {
                    tf[i] += 1;
                }
            }
            (words.len(), tf)
        })
        .collect();
    let n = counts.len() as f32;
    let avg_len = (counts.iter().map(|c| c.0).sum::<usize>() as f32 / n).max(1.0);
    let idf: Vec<f32> = (0..terms.len())
        .map(|i| {
            let with = counts.iter().filter(|c| c.1[i] > 0).count() as f32;
            (1.0 + (n - with + 0.5) / (with + 0.5)).ln()
        })
        .collect();
    let mut keep = vec![false; blocks.len()];
    let mut heading: Option<usize> = None;
    for (i, (block, (len, tf))) in blocks.iter().zip(&counts).enumerate() {
        let len = *len as f32;
        let score: f32 = tf
            .iter()
            .zip(&idf)
            .map(|(&tf, idf)| {
                let tf = tf as f32;
                idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg_len))
            })
            .sum::<f32>()
            * block.weight();
        if score >= threshold {
            keep[i] = true;
            if let Some(h) = heading {
                keep[h] = true;
            }
        }
        if block.heading > 0 {
            heading = Some(i);
        }
    }
    let mut out = String::new();
    for (block, _) in blocks.iter().zip(&keep).filter(|(_, k)| **k) {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(block.text);
    }
    out
}

/// One Markdown block: its source lines, and its heading level (0: not a heading).
struct Block<'a> {
    text: &'a str,
    heading: u8,
}

impl Block<'_> {
    /// crawl4ai weighs headings by level (h1 5, h2 4, h3 3, lower 2).
    fn weight(&self) -> f32 {
        match self.heading {
            0 => 1.0,
            1 => 5.0,
            2 => 4.0,
            3 => 3.0,
            _ => 2.0,
        }
    }
}

fn split_blocks(markdown: &str) -> Vec<Block<'_>> {
    // Byte ranges (start, end, heading level) of the blocks, gathered line by line.
    let mut ranges: Vec<(usize, usize, u8)> = Vec::new();
    // The block being gathered: where it starts, where its last line ends.
    let mut start: Option<usize> = None;
    let mut end = 0;
    // Inside a fenced code block: its fence.
    let mut fence: Option<&str> = None;
    let mut offset = 0;
    for line in markdown.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        let trimmed = line.trim_end_matches(['\n', '\r']);
        let bare = trimmed.trim_start();
        if let Some(f) = fence {
            end = offset;
            if bare.starts_with(f) && bare.trim_end().chars().all(|c| c == '`' || c == '~') {
                ranges.push((start.take().unwrap_or(line_start), end, 0));
                fence = None;
            }
            continue;
        }
        let indent = trimmed.len() - bare.len();
        if bare.is_empty() {
            if let Some(s) = start.take() {
                ranges.push((s, end, 0));
            }
            continue;
        }
        if indent <= 3 && (bare.starts_with("```") || bare.starts_with("~~~")) {
            if let Some(s) = start.take() {
                ranges.push((s, end, 0));
            }
            fence = Some(&bare[..3]);
            start = Some(line_start);
            end = offset;
            continue;
        }
        let level = heading_level(bare);
        if indent <= 3 && level > 0 {
            if let Some(s) = start.take() {
                ranges.push((s, end, 0));
            }
            ranges.push((line_start, offset, level));
            continue;
        }
        // A top-level list item starts a block of its own (its nested lines follow it).
        if indent == 0
            && is_list_item(bare)
            && let Some(s) = start.take()
        {
            ranges.push((s, end, 0));
        }
        if start.is_none() {
            start = Some(line_start);
        }
        end = offset;
    }
    if let Some(s) = start {
        ranges.push((s, end.max(s), 0));
    }
    ranges
        .into_iter()
        .map(|(s, e, heading)| Block {
            text: markdown[s..e].trim_end(),
            heading,
        })
        .filter(|b| !b.text.trim().is_empty())
        .collect()
}

/// `# Title` → 1 … `###### Title` → 6; anything else 0.
fn heading_level(line: &str) -> u8 {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
        hashes as u8
    } else {
        0
    }
}

fn is_list_item(line: &str) -> bool {
    if let Some(rest) = line.strip_prefix(['-', '*', '+']) {
        return rest.starts_with(' ');
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && digits <= 9 && matches!(&line.as_bytes()[digits..], [b'.' | b')', b' ', ..])
}

/// The words of a block as a reader sees them: link and image targets left out.
fn visible(block: &str) -> String {
    let mut out = String::with_capacity(block.len());
    let mut rest = block;
    while let Some(i) = rest.find("](") {
        out.push_str(&rest[..i]);
        out.push(' ');
        let after = &rest[i + 2..];
        // The destination ends at the first `)` (URLs we render have no bare parens).
        rest = after.find(')').map_or("", |j| &after[j + 1..]);
    }
    out.push_str(rest);
    out
}

/// Lowercase words of two or more letters or digits, English stop words and plural `s`
/// dropped; each CJK ideograph or kana is a word of its own (those scripts have no spaces).
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if word.chars().count() >= 2 && !STOP_WORDS.contains(&word.as_str()) {
            let w = if word.is_ascii()
                && word.len() > 3
                && word.ends_with('s')
                && !word.ends_with("ss")
            {
                word[..word.len() - 1].to_string()
            } else {
                word.clone()
            };
            out.push(w);
        }
        word.clear();
    };
    for c in text.chars() {
        if is_cjk(c) {
            flush(&mut word, &mut out);
            out.push(c.to_string());
        } else if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else {
            flush(&mut word, &mut out);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF // hiragana, katakana
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xF900..=0xFAFF // compatibility ideographs
        | 0xAC00..=0xD7AF) // hangul syllables
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "\
[Home](https://example.com/) [Shop](https://example.com/shop) [Diving gear](https://example.com/diving)

# Gannets

Gannets are seabirds of the North Atlantic that nest in large colonies on cliffs.

## Diving

Gannets dive from heights of thirty metres and pursue fish underwater.
Air sacs in the face and chest cushion the impact of the dive.

- Dives reach speeds of 100 km/h.
- Most dives are shallow.

## Breeding

A pair raises one chick a year; both parents feed it.

```python
def dive(height):
    return height * 2
```

Copyright 2026 Example Birds. All rights reserved.
";

    #[test]
    fn keeps_the_blocks_about_the_query_under_their_heading() {
        let out = bm25_filter(PAGE, "how do gannets dive", DEFAULT_THRESHOLD);
        assert!(out.contains("## Diving"), "{out}");
        assert!(out.contains("pursue fish underwater"), "{out}");
        assert!(out.contains("- Dives reach speeds"), "{out}");
        assert!(!out.contains("both parents feed"), "{out}");
        assert!(!out.contains("Copyright"), "{out}");
        // The nav's link targets are not words: "diving" in a URL is no match, and the
        // first heading is not dragged in by a block of a later section.
        assert!(!out.contains("[Shop]"), "{out}");
        // Document order.
        let dive = out.find("## Diving").unwrap();
        let speeds = out.find("Dives reach").unwrap();
        assert!(dive < speeds);
    }

    #[test]
    fn code_fences_are_one_block_and_blank_lines_inside_them_do_not_split() {
        let md =
            "Intro text about nothing.\n\n```rust\nfn dive() {}\n\nfn climb() {}\n```\n\nOutro.";
        let out = bm25_filter(md, "dive", 0.5);
        assert_eq!(out, "```rust\nfn dive() {}\n\nfn climb() {}\n```");
    }

    #[test]
    fn a_higher_threshold_keeps_less_and_no_words_keep_nothing() {
        let loose = bm25_filter(PAGE, "gannets colonies dive fish", 0.5);
        let strict = bm25_filter(PAGE, "gannets colonies dive fish", 4.0);
        assert!(strict.len() < loose.len(), "{strict}\n---\n{loose}");
        assert_eq!(bm25_filter(PAGE, "the of and", DEFAULT_THRESHOLD), "");
        assert_eq!(bm25_filter(PAGE, "", DEFAULT_THRESHOLD), "");
        assert_eq!(bm25_filter("", "gannets", DEFAULT_THRESHOLD), "");
    }

    #[test]
    fn words_without_spaces_match_by_character() {
        let md = "# 鸟类\n\n北方塘鹅是一种海鸟，在悬崖上筑巢。\n\n今天的天气很好，我们去公园散步。";
        let out = bm25_filter(md, "塘鹅", DEFAULT_THRESHOLD);
        assert!(out.contains("北方塘鹅"), "{out}");
        assert!(!out.contains("公园"), "{out}");
    }

    #[test]
    fn a_huge_query_and_page_stay_linear() {
        let page: String = (0..20_000)
            .map(|i| format!("Paragraph {i} about word{} and more.\n\n", i % 97))
            .collect();
        let query: String = (0..100_000).map(|i| format!("word{i} ")).collect();
        let out = bm25_filter(&page, &query, DEFAULT_THRESHOLD);
        // Only the first 64 query words count, and the call returns promptly.
        assert!(out.len() < page.len());
    }

    proptest::proptest! {
        #[test]
        fn any_input_gives_a_subset_of_the_blocks(md in "[#`~|*+\\-0-9a-z .\n]{0,400}", q in "[a-z ]{0,30}") {
            let out = bm25_filter(&md, &q, 0.1);
            for block in out.split("\n\n") {
                proptest::prop_assert!(md.contains(block.trim_end()), "{block:?} not in {md:?}");
            }
        }
    }

    #[test]
    fn tokens_drop_stop_words_and_plural_s() {
        assert_eq!(
            tokens("The Gannets' dives, and CLASS sizes: x 42"),
            ["gannet", "dive", "class", "size", "42"]
        );
    }
}
