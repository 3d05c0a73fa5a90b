//! Text measures read on every text node of every page: visible characters and commas.
//!
//! Extraction measures all of a page's text once (the content scores start from it), so
//! this is a per-byte loop over the whole page: ASCII is read eight bytes at a time
//! (SWAR: whitespace and commas found with word arithmetic), other text char by char.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Bit 7 of each byte of `w` (all bytes ASCII) set where the byte equals `b` (ASCII).
#[inline]
fn eq_mask(w: u64, b: u8) -> u64 {
    let x = w ^ (LO * u64::from(b));
    // x's bytes are < 0x80: adding 0x7f sets bit 7 exactly where x != 0, without carries.
    !(x + LO * 0x7f) & HI
}

/// How many bytes of `m` have bit 7 set (`m` has no other bits): the bits moved to bit 0
/// of each byte and summed into the top byte by one multiplication (no `popcnt` needed).
#[inline]
fn bytes_set(m: u64) -> u32 {
    ((m >> 7).wrapping_mul(LO) >> 56) as u32
}

/// The eight bytes at `i` as a little-endian word, if there are eight.
#[inline]
fn word_at(bytes: &[u8], i: usize) -> Option<u64> {
    let chunk: [u8; 8] = bytes.get(i..i + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}

/// The high bit of each byte of an all-ASCII word that is ASCII whitespace: bytes 9..=13
/// (tab to CR) and space. For x < 0x80, x + 0x77 has bit 7 set iff x >= 9, and x + 0x72
/// iff x >= 14; no carry leaves a byte.
#[inline]
fn ascii_ws_mask(w: u64) -> u64 {
    let ctrl = (w + LO * (0x80 - 9)) & !(w + LO * (0x80 - 14)) & HI;
    ctrl | eq_mask(w, b' ')
}

/// Count visible characters (whitespace runs once) and commas of a text. Whitespace is
/// ASCII whitespace (space, tab, LF, VT, FF, CR) and Unicode `White_Space`; commas are
/// `,` and the CJK/Arabic commas.
pub(crate) fn measure(s: &str) -> (u32, u32) {
    let bytes = s.as_bytes();
    let mut chars = 0u32;
    let mut commas = 0u32;
    let mut in_ws = true;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(w) = word_at(bytes, i) {
            if w & HI == 0 {
                let ws = ascii_ws_mask(w);
                // A whitespace byte after whitespace (or at the start of a run) is not
                // counted; every other byte is.
                let prev = (ws << 8) | if in_ws { 0x80 } else { 0 };
                chars += 8 - bytes_set(ws & prev);
                commas += bytes_set(eq_mask(w, b','));
                in_ws = ws >> 63 != 0;
                i += 8;
                continue;
            }
            // Some byte of the eight is not ASCII: read them char by char.
            let stop = i + 8;
            while i < stop {
                i = step(s, i, &mut chars, &mut commas, &mut in_ws);
            }
            continue;
        }
        i = step(s, i, &mut chars, &mut commas, &mut in_ws);
    }
    (chars, commas)
}

/// One character of [`measure`] at byte `i` (a char boundary); returns the next boundary.
#[inline]
fn step(s: &str, i: usize, chars: &mut u32, commas: &mut u32, in_ws: &mut bool) -> usize {
    let Some(&b) = s.as_bytes().get(i) else {
        return s.len();
    };
    let (c, next) = if b < 0x80 {
        (char::from(b), i + 1)
    } else {
        match s.get(i..).and_then(|t| t.chars().next()) {
            Some(c) => (c, i + c.len_utf8()),
            None => return s.len(),
        }
    };
    if c.is_whitespace() {
        if !*in_ws {
            *chars += 1;
            *in_ws = true;
        }
        return next;
    }
    *in_ws = false;
    *chars += 1;
    if matches!(
        c,
        ',' | '\u{060C}'
            | '\u{FE50}'
            | '\u{FE10}'
            | '\u{FE11}'
            | '\u{2E41}'
            | '\u{2E34}'
            | '\u{2E32}'
            | '\u{FF0C}'
            | '、'
    ) {
        *commas += 1;
    }
    next
}

/// The words of `s`, as [`str::split_whitespace`] gives them (Unicode `White_Space`
/// separates), found byte by byte in ASCII text instead of char by char.
pub(crate) fn words(s: &str) -> Words<'_> {
    Words { s, pos: 0 }
}

/// Iterator of [`words`].
pub(crate) struct Words<'a> {
    s: &'a str,
    pos: usize,
}

/// [`CLASS`] of an ASCII byte that is not whitespace.
const WORD: u8 = 0;
/// [`CLASS`] of ASCII whitespace (tab to CR, space).
const SPACE: u8 = 1;
/// [`CLASS`] of a byte of a non-ASCII char (decoded to tell).
const OTHER: u8 = 2;
/// Per byte: [`WORD`], [`SPACE`] or [`OTHER`].
const CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = if matches!(b as u8, b' ' | b'\t'..=b'\r') {
            SPACE
        } else {
            WORD
        };
        b += 1;
    }
    t
};

/// Whether the non-ASCII char at byte `i` of `s` (a boundary) is whitespace, and its
/// length in bytes.
#[inline]
fn other_at(s: &str, i: usize) -> (bool, usize) {
    match s.get(i..).and_then(|t| t.chars().next()) {
        Some(c) => (c.is_whitespace(), c.len_utf8()),
        None => (false, 1),
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.s;
        let bytes = s.as_bytes();
        let mut i = self.pos;
        while let Some(&b) = bytes.get(i) {
            match CLASS[usize::from(b)] {
                WORD => break,
                SPACE => i += 1,
                _ => {
                    let (ws, len) = other_at(s, i);
                    if !ws {
                        break;
                    }
                    i += len;
                }
            }
        }
        if i >= bytes.len() {
            self.pos = bytes.len();
            return None;
        }
        let start = i;
        while let Some(&b) = bytes.get(i) {
            match CLASS[usize::from(b)] {
                WORD => i += 1,
                SPACE => break,
                _ => {
                    let (ws, len) = other_at(s, i);
                    if ws {
                        break;
                    }
                    i += len;
                }
            }
        }
        self.pos = i;
        s.get(start..i)
    }
}

/// How many words `s` has (`words(s).count()`), ASCII read eight bytes at a time.
pub(crate) fn word_count(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut count = 0usize;
    let mut in_ws = true;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(w) = word_at(bytes, i)
            && w & HI == 0
        {
            let ws = ascii_ws_mask(w);
            let prev = (ws << 8) | if in_ws { 0x80 } else { 0 };
            // A word starts at a byte that is not whitespace after one that is.
            count += bytes_set(!ws & prev & HI) as usize;
            in_ws = ws >> 63 != 0;
            i += 8;
            continue;
        }
        let Some(&b) = bytes.get(i) else {
            break;
        };
        let (ws, len) = match CLASS[usize::from(b)] {
            WORD => (false, 1),
            SPACE => (true, 1),
            _ => other_at(s, i),
        };
        if !ws && in_ws {
            count += 1;
        }
        in_ws = ws;
        i += len;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The plain char-by-char definition (the code before the SWAR loop).
    fn reference(s: &str) -> (u32, u32) {
        let mut chars = 0u32;
        let mut commas = 0u32;
        let mut in_ws = true;
        for c in s.chars() {
            let ws = if c.is_ascii() {
                matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
            } else {
                c.is_whitespace()
            };
            if ws {
                if !in_ws {
                    chars += 1;
                    in_ws = true;
                }
                continue;
            }
            in_ws = false;
            chars += 1;
            if matches!(
                c,
                ',' | '\u{060C}'
                    | '\u{FE50}'
                    | '\u{FE10}'
                    | '\u{FE11}'
                    | '\u{2E41}'
                    | '\u{2E34}'
                    | '\u{2E32}'
                    | '\u{FF0C}'
                    | '、'
            ) {
                commas += 1;
            }
        }
        (chars, commas)
    }

    #[test]
    fn counts_runs_once_and_commas() {
        assert_eq!(measure(""), (0, 0));
        assert_eq!(measure("   "), (0, 0));
        assert_eq!(measure("a, b"), (4, 1));
        // Leading whitespace is not counted, a trailing run once.
        assert_eq!(measure("  one,  two,\tthree \n"), (16, 2));
        assert_eq!(
            measure("long words, in a sentence of more than eight bytes"),
            (50, 1)
        );
        assert_eq!(measure("日本語、テキスト，です"), (11, 2));
        assert_eq!(measure("x\u{a0}\u{a0}y\u{2003}z"), (5, 0));
        assert_eq!(measure("\x0b\x0c\r\n\t ,"), (1, 1));
    }

    #[test]
    fn words_split_on_unicode_whitespace() {
        let w: Vec<&str> = words("  a\tbc\u{a0}d\u{3000}é  f\x0b").collect();
        assert_eq!(w, ["a", "bc", "d", "é", "f"]);
        assert_eq!(words("").count(), 0);
        assert_eq!(words(" \n ").count(), 0);
        assert_eq!(
            word_count("  a\tbc\u{a0}d\u{3000}é  f\x0b and some longer words"),
            9
        );
    }

    proptest! {
        #[test]
        fn words_same_as_split_whitespace(s in any::<String>()) {
            let ours: Vec<&str> = words(&s).collect();
            let std: Vec<&str> = s.split_whitespace().collect();
            prop_assert_eq!(word_count(&s), std.len());
            prop_assert_eq!(ours, std);
        }

        #[test]
        fn words_same_on_spaced_text(s in "[ a-z\\t\\n\\r\\x0b\\x0c\u{a0}\u{2003}\u{85}é日]{0,60}") {
            let ours: Vec<&str> = words(&s).collect();
            let std: Vec<&str> = s.split_whitespace().collect();
            prop_assert_eq!(word_count(&s), std.len());
            prop_assert_eq!(ours, std);
        }

        #[test]
        fn same_as_char_by_char(s in "[ a-z,\\t\\n\\r\\x0b\\x0c\u{a0}\u{2003}é、，日-]{0,80}") {
            prop_assert_eq!(measure(&s), reference(&s));
        }

        #[test]
        fn same_on_any_text(s in any::<String>()) {
            prop_assert_eq!(measure(&s), reference(&s));
        }
    }
}
