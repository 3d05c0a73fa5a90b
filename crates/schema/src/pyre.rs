//! Python `re` patterns on Rust's `regex` (linear time, no backtracking).
//!
//! Most patterns mean the same in both. What Rust cannot do (look-around,
//! backreferences, possessive/atomic groups, conditionals) is refused with an error naming
//! it; Python's `\Z` becomes `\z`. Known differences that remain: Python's `$` (without
//! `(?m)`) also matches before a final newline; Rust's class syntax accepts set
//! operations (`[a-z&&[^x]]`) and POSIX classes that Python reads literally.

use regex::{Regex, RegexBuilder};

/// Compiled size caps for user patterns (a pathological pattern is refused, not built).
const SIZE_LIMIT: usize = 4 << 20;
const DFA_SIZE_LIMIT: usize = 8 << 20;

/// Translate and compile a Python pattern, with Python flags as inline Rust flags.
pub(crate) fn compile(pattern: &str, flags: &str) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    let full = if flags.is_empty() {
        translated
    } else {
        format!("(?{flags}){translated}")
    };
    RegexBuilder::new(&full)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .build()
        .map_err(|e| e.to_string())
}

/// Rewrite the Python-only spellings Rust reads differently; refuse what it cannot run.
fn translate(p: &str) -> Result<String, String> {
    let mut out = String::with_capacity(p.len());
    let mut chars = p.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    return Err("pattern ends with a lone backslash".into());
                };
                match n {
                    'Z' if !in_class => out.push_str("\\z"),
                    '1'..='9' if !in_class => {
                        return Err(format!("backreference \\{n} (not supported)"));
                    }
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // `]` or `^]` first in a class is a literal in both dialects.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            '[' if in_class => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '(' if !in_class && chars.peek() == Some(&'?') => {
                chars.next();
                let what = chars.peek().copied();
                match what {
                    Some('=') | Some('!') => {
                        return Err("look-ahead (?= / ?!) (not supported)".into());
                    }
                    Some('<') => {
                        let mut ahead = chars.clone();
                        ahead.next();
                        if matches!(ahead.peek(), Some('=') | Some('!')) {
                            return Err("look-behind (?<= / ?<!) (not supported)".into());
                        }
                        out.push_str("(?");
                    }
                    Some('>') => return Err("atomic group (?>...) (not supported)".into()),
                    Some('(') => return Err("conditional group (?(...)) (not supported)".into()),
                    Some('#') => {
                        // A comment group: drop it.
                        for d in chars.by_ref() {
                            if d == ')' {
                                break;
                            }
                        }
                    }
                    Some('P') => {
                        let mut ahead = chars.clone();
                        ahead.next();
                        if ahead.peek() == Some(&'=') {
                            return Err("named backreference (?P=name) (not supported)".into());
                        }
                        out.push_str("(?");
                    }
                    _ => out.push_str("(?"),
                }
            }
            '*' | '+' | '?' | '}' if !in_class && chars.peek() == Some(&'+') => {
                return Err("possessive quantifier (not supported)".into());
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Byte offset → code point offset (Python's spans count characters).
pub(crate) fn char_offset(s: &str, byte: usize) -> usize {
    s.get(..byte).map_or(0, |p| p.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_spellings_and_refusals() {
        assert!(
            compile(r"price: (\d+)\Z", "")
                .unwrap()
                .is_match("price: 12")
        );
        assert!(compile(r"[]a]+", "").unwrap().is_match("]"));
        assert!(compile(r"[[]", "").unwrap().is_match("["));
        assert!(compile(r"(?P<n>\d+)", "").unwrap().is_match("5"));
        assert!(compile(r"a(?#note)b", "").unwrap().is_match("ab"));
        assert!(
            compile(r#"https?://[^\s\"'<>]+"#, "im")
                .unwrap()
                .is_match("HTTP://x")
        );
        for (p, what) in [
            (r"a(?=b)", "look-ahead"),
            (r"(?<!x)a", "look-behind"),
            (r"(a)\1", "backreference"),
            (r"(?P<x>a)(?P=x)", "named backreference"),
            (r"a++", "possessive"),
            (r"(?>a)", "atomic"),
        ] {
            let e = compile(p, "").unwrap_err();
            assert!(e.contains(what), "{p}: {e}");
        }
        assert!(compile("(", "").is_err());
    }
}
