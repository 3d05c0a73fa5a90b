//! Splitting a page's Markdown into chunks that fit a token budget, at headings first,
//! then paragraphs, then lines, with a little overlap so that a fact cut at a chunk edge is
//! still whole in one of the two chunks.

/// Estimated tokens of `text`, without a tokenizer: one token per 4 ASCII bytes (English
/// prose and Markdown run at 3.5–4.5 bytes per token on the BPE tokenizers of GPT-4o,
/// Llama 3 and SmolLM2) plus one token per non-ASCII character (CJK text runs near one
/// token per character; accented Latin letters are over-counted, which only makes chunks
/// smaller). An estimate, chosen over `tiktoken-rs` (8 MB of tables, and the wrong
/// vocabulary for most local models anyway): the server's `usage` is the count we report.
pub fn estimate_tokens(text: &str) -> usize {
    let mut ascii = 0usize;
    let mut other = 0usize;
    for c in text.chars() {
        if c.is_ascii() {
            ascii += 1;
        } else {
            other += 1;
        }
    }
    ascii.div_ceil(4) + other
}

/// Splits `markdown` into chunks of at most about `budget` estimated tokens. Cuts fall
/// before ATX headings (outside fenced code) where possible, else between paragraphs, else
/// between lines, else inside a line (at a character boundary). Each chunk after the first
/// starts with about `overlap` tokens from the end of the one before. Always returns at
/// least one chunk (an empty page gives one empty chunk).
pub fn chunk_markdown(markdown: &str, budget: usize, overlap: usize) -> Vec<String> {
    let budget = budget.max(16);
    let overlap = overlap.min(budget / 4);
    if estimate_tokens(markdown) <= budget {
        return vec![markdown.to_owned()];
    }
    // Room for the overlap carried into every chunk but the first.
    let room = budget - overlap;
    let mut pieces = Vec::new();
    for section in sections(markdown) {
        split_to_fit(section, room, &mut pieces);
    }
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut current_tokens = 0usize;
    for piece in pieces {
        let t = estimate_tokens(piece);
        if current_tokens + t > room && !current.is_empty() {
            chunks.push(std::mem::take(&mut current));
            current_tokens = 0;
        }
        current.push_str(piece);
        current_tokens += t;
    }
    if !current.is_empty() || chunks.is_empty() {
        chunks.push(current);
    }
    if overlap == 0 {
        return chunks;
    }
    let mut out = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        if i == 0 {
            out.push(chunk.clone());
            continue;
        }
        let mut with = tail(&chunks[i - 1], overlap).to_owned();
        if !with.is_empty() && !with.ends_with('\n') {
            with.push('\n');
        }
        with.push_str(chunk);
        out.push(with);
    }
    out
}

/// The Markdown cut before every ATX heading that is not inside a fenced code block. Each
/// slice keeps its line ends, so the slices concatenate back to the input.
fn sections(markdown: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut fence: Option<&str> = None;
    let mut pos = 0usize;
    for line in markdown.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(f) = fence {
            if trimmed.starts_with(f) {
                fence = None;
            }
        } else if trimmed.starts_with("```") {
            fence = Some("```");
        } else if trimmed.starts_with("~~~") {
            fence = Some("~~~");
        } else if is_heading(trimmed) && pos > start {
            out.push(&markdown[start..pos]);
            start = pos;
        }
        pos += line.len();
    }
    if start < markdown.len() {
        out.push(&markdown[start..]);
    }
    out
}

fn is_heading(line: &str) -> bool {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes)
        && matches!(
            line.as_bytes().get(hashes),
            Some(b' ' | b'\t' | b'\n' | b'\r') | None
        )
}

/// Pushes `text` as one piece if it fits `room`, else its paragraphs, lines, or
/// character runs, each fitting.
fn split_to_fit<'a>(text: &'a str, room: usize, out: &mut Vec<&'a str>) {
    if estimate_tokens(text) <= room {
        out.push(text);
        return;
    }
    let paragraphs = split_keep(text, "\n\n");
    if paragraphs.len() > 1 {
        for p in paragraphs {
            split_to_fit(p, room, out);
        }
        return;
    }
    let lines = split_keep(text, "\n");
    if lines.len() > 1 {
        for l in lines {
            split_to_fit(l, room, out);
        }
        return;
    }
    // One long line: cut it at character boundaries, `room` tokens at a time.
    let mut start = 0usize;
    let mut tokens = 0usize;
    let mut ascii_run = 0usize;
    for (i, c) in text.char_indices() {
        let t = if c.is_ascii() {
            ascii_run += 1;
            usize::from(ascii_run % 4 == 1)
        } else {
            1
        };
        if tokens + t > room && i > start {
            out.push(&text[start..i]);
            start = i;
            tokens = 0;
            ascii_run = usize::from(c.is_ascii());
        }
        tokens += t;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
}

/// `text` cut after every `sep`, the separator kept at the end of each part.
fn split_keep<'a>(text: &'a str, sep: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut start = 0usize;
    while let Some(i) = text[start..].find(sep) {
        let end = start + i + sep.len();
        out.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// About the last `tokens` tokens of `text`, starting at a line start when one is near.
fn tail(text: &str, tokens: usize) -> &str {
    if tokens == 0 {
        return "";
    }
    let mut taken = 0usize;
    let mut start = text.len();
    for (i, c) in text.char_indices().rev() {
        taken += if c.is_ascii() { 1 } else { 4 };
        if taken.div_ceil(4) > tokens {
            break;
        }
        start = i;
    }
    let window = &text[start..];
    // Prefer to begin at a line start inside the window (no half words).
    match window.find('\n') {
        Some(nl) if nl + 1 < window.len() => &window[nl + 1..],
        _ => window,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_page_is_one_chunk() {
        assert_eq!(
            chunk_markdown("# A\n\nshort", 100, 10),
            vec!["# A\n\nshort"]
        );
        assert_eq!(chunk_markdown("", 100, 10), vec![String::new()]);
    }

    #[test]
    fn cuts_fall_before_headings_and_respect_the_budget() {
        let section = |h: &str| format!("## {h}\n\n{}\n\n", "word ".repeat(60));
        let md: String = ["One", "Two", "Three", "Four"]
            .iter()
            .map(|h| section(h))
            .collect();
        let chunks = chunk_markdown(&md, 100, 0);
        assert_eq!(chunks.len(), 4, "{chunks:?}");
        for (c, h) in chunks.iter().zip(["One", "Two", "Three", "Four"]) {
            assert!(c.starts_with(&format!("## {h}\n")), "{c:?}");
            assert!(estimate_tokens(c) <= 100);
        }
        assert_eq!(chunks.concat(), md);
    }

    #[test]
    fn headings_inside_code_fences_are_not_cut_points() {
        let md = format!("# Top\n\n```\n# not a heading\n{}\n```\n", "x ".repeat(300));
        assert_eq!(sections(&md).len(), 1);
    }

    #[test]
    fn overlap_repeats_the_previous_tail() {
        let md: String = (0..40)
            .map(|i| format!("line number {i:03} of the page\n"))
            .collect();
        let chunks = chunk_markdown(&md, 60, 12);
        assert!(chunks.len() > 2);
        for pair in chunks.windows(2) {
            let first_line = pair[1].lines().next().unwrap_or_default();
            assert!(
                pair[0].contains(first_line),
                "{:?} not in {:?}",
                first_line,
                pair[0]
            );
        }
        for c in &chunks {
            assert!(estimate_tokens(c) <= 60 + 1, "{c:?}");
        }
    }

    #[test]
    fn one_huge_line_is_cut_at_char_boundaries() {
        let md = "é".repeat(1000) + &"a".repeat(1000);
        let chunks = chunk_markdown(&md, 100, 0);
        assert_eq!(chunks.concat(), md);
        assert!(chunks.iter().all(|c| estimate_tokens(c) <= 100));
    }

    #[test]
    fn estimate_counts_cjk_per_char() {
        assert_eq!(estimate_tokens("abcd"), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
        assert_eq!(estimate_tokens("日本語"), 3);
    }
}
