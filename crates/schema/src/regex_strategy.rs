//! crawl4ai's `RegexExtractionStrategy`: built-in patterns chosen by bit flags, plus
//! custom `{label: regex}`, each match an item `{url, label, value, span}`.

use regex::Regex;
use serde_json::{Value, json};

use crate::SchemaError;

/// The built-in patterns, in crawl4ai's order; pattern `i` is flag `1 << i`
/// (`RegexExtractionStrategy.Email` = 1, `PhoneIntl` = 2, ... `CreditCard` = 1 << 20).
pub const BUILTIN_PATTERNS: [(&str, &str); 21] = [
    ("email", r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    ("phone_intl", r"\+?\d[\d .()-]{7,}\d"),
    ("phone_us", r"\(?\d{3}\)?[ -. ]?\d{3}[ -. ]?\d{4}"),
    ("url", r#"https?://[^\s\"'<>]+"#),
    ("ipv4", r"(?:\d{1,3}\.){3}\d{1,3}"),
    ("ipv6", r"[A-F0-9]{1,4}(?::[A-F0-9]{1,4}){7}"),
    (
        "uuid",
        r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    ),
    ("currency", r"(?:USD|EUR|RM|\$|€|£)\s?\d+(?:[.,]\d{2})?"),
    ("percentage", r"\d+(?:\.\d+)?%"),
    ("number", r"\b\d{1,3}(?:[,.\s]\d{3})*(?:\.\d+)?\b"),
    ("date_iso", r"\d{4}-\d{2}-\d{2}"),
    ("date_us", r"\d{1,2}/\d{1,2}/\d{2,4}"),
    (
        "time_24h",
        r"\b(?:[01]?\d|2[0-3]):[0-5]\d(?:[:.][0-5]\d)?\b",
    ),
    ("postal_us", r"\b\d{5}(?:-\d{4})?\b"),
    ("postal_uk", r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b"),
    ("html_color_hex", r"#[0-9A-Fa-f]{6}\b"),
    ("twitter_handle", r"@[\w]{1,15}"),
    ("hashtag", r"#[\w-]+"),
    ("mac_addr", r"(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}"),
    ("iban", r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}"),
    (
        "credit_card",
        r"\b(?:4\d{12}(?:\d{3})?|5[1-5]\d{14}|3[47]\d{13}|6(?:011|5\d{2})\d{12})\b",
    ),
];

/// `RegexExtractionStrategy.All`.
pub const ALL: u64 = (1 << 21) - 1;

/// A compiled regex strategy.
#[derive(Debug, Clone)]
pub struct RegexStrategy {
    patterns: Vec<(String, Regex)>,
}

impl RegexStrategy {
    /// The built-ins selected by `flags`, then `custom` (a custom label equal to a built-in
    /// one replaces it in place, as Python's `dict.update` does). Patterns are Python
    /// regexes, compiled case-insensitive and multi-line as crawl4ai does.
    pub fn new(flags: u64, custom: &[(String, String)]) -> Result<RegexStrategy, SchemaError> {
        let mut merged: Vec<(String, String)> = BUILTIN_PATTERNS
            .iter()
            .enumerate()
            .filter(|(i, _)| flags & (1 << i) != 0)
            .map(|(_, (l, p))| (l.to_string(), p.to_string()))
            .collect();
        for (label, pat) in custom {
            match merged.iter_mut().find(|(l, _)| l == label) {
                Some(slot) => slot.1 = pat.clone(),
                None => merged.push((label.clone(), pat.clone())),
            }
        }
        let patterns = merged
            .into_iter()
            .map(|(label, p)| {
                crate::pyre::compile(&p, "im")
                    .map(|re| (label.clone(), re))
                    .map_err(|reason| SchemaError::Regex {
                        field: label,
                        reason,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RegexStrategy { patterns })
    }

    /// From crawl4ai's parameters: `{"pattern": <int flags>, "custom": {label: regex} or
    /// [[label, regex], ...]}` (both optional).
    pub fn from_params(params: &Value) -> Result<RegexStrategy, SchemaError> {
        let obj = params
            .as_object()
            .ok_or_else(|| SchemaError::Invalid("regex parameters are a JSON object".into()))?;
        let flags = match obj.get("pattern") {
            None | Some(Value::Null) => 0,
            Some(v) => v.as_u64().ok_or_else(|| {
                SchemaError::Invalid("`pattern` is an integer of bit flags".into())
            })?,
        };
        let pair = |l: &Value, p: &Value| match (l.as_str(), p.as_str()) {
            (Some(l), Some(p)) => Ok((l.to_string(), p.to_string())),
            _ => Err(SchemaError::Invalid(
                "`custom` maps labels to regex strings".into(),
            )),
        };
        let custom = match obj.get("custom") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(l, p)| pair(&Value::String(l.clone()), p))
                .collect::<Result<_, _>>()?,
            Some(Value::Array(a)) => a
                .iter()
                .map(|e| match e.as_array().map(Vec::as_slice) {
                    Some([l, p]) => pair(l, p),
                    _ => Err(SchemaError::Invalid(
                        "`custom` pairs are [label, regex]".into(),
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(SchemaError::Invalid(
                    "`custom` is an object or a list of pairs".into(),
                ));
            }
        };
        RegexStrategy::new(flags, &custom)
    }

    /// Every match of every pattern, pattern by pattern, as crawl4ai's items. Spans count
    /// characters (Python's), not bytes.
    pub fn extract(&self, url: &str, content: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for (label, re) in &self.patterns {
            // Python's finditer: an empty match right after a non-empty one counts.
            let mut at = 0;
            let mut last_empty_at = None;
            let mut chars_before = (0usize, 0usize); // (byte, char) of the last offset
            while at <= content.len() {
                let Some(m) = re.find_at(content, at) else {
                    break;
                };
                if m.is_empty() && last_empty_at == Some(m.start()) {
                    // Step over one character and look again.
                    match content[m.start()..].chars().next() {
                        Some(c) => {
                            at = m.start() + c.len_utf8();
                            continue;
                        }
                        None => break,
                    }
                }
                let start = advance(content, &mut chars_before, m.start());
                let end = advance(content, &mut chars_before, m.end());
                out.push(json!({
                    "url": url,
                    "label": label,
                    "value": m.as_str(),
                    "span": [start, end],
                }));
                if m.is_empty() {
                    last_empty_at = Some(m.end());
                    match content[m.end()..].chars().next() {
                        Some(c) => at = m.end() + c.len_utf8(),
                        None => break,
                    }
                } else {
                    last_empty_at = None;
                    at = m.end();
                }
            }
        }
        out
    }
}

/// Char offset of byte offset `to`, counting on from the last position.
fn advance(s: &str, last: &mut (usize, usize), to: usize) -> usize {
    let (b, c) = *last;
    let chars = if to >= b {
        c + s[b..to].chars().count()
    } else {
        crate::pyre::char_offset(s, to)
    };
    *last = (to, chars);
    chars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_by_flag_and_custom_labels() {
        let s = RegexStrategy::new(1 | (1 << 3), &[("sku".into(), r"SKU-\d+".into())]).unwrap();
        let text = "Write to Ann@Example.com — see https://x.org/a?b=1 or sku-42.";
        let items = s.extract("http://p/", text);
        let got: Vec<(String, String, Vec<u64>)> = items
            .iter()
            .map(|i| {
                (
                    i["label"].as_str().unwrap().to_string(),
                    i["value"].as_str().unwrap().to_string(),
                    i["span"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|n| n.as_u64().unwrap())
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("email".into(), "Ann@Example.com".into(), vec![9, 24]),
                ("url".into(), "https://x.org/a?b=1".into(), vec![31, 50]),
                (
                    "sku".into(),
                    "sku-42.".trim_end_matches('.').into(),
                    vec![54, 60]
                ),
            ]
        );
        assert_eq!(items[0]["url"], "http://p/");
    }

    #[test]
    fn empty_matches_follow_python() {
        let s = RegexStrategy::new(0, &[("a".into(), "a*".into())]).unwrap();
        let spans: Vec<Value> = s
            .extract("", "baaab")
            .iter()
            .map(|i| i["span"].clone())
            .collect();
        assert_eq!(
            spans,
            [json!([0, 0]), json!([1, 4]), json!([4, 4]), json!([5, 5])]
        );
        assert!(RegexStrategy::new(0, &[("bad".into(), "(?<=x)y".into())]).is_err());
        let p =
            RegexStrategy::from_params(&json!({"pattern": ALL, "custom": [["x", "y"]]})).unwrap();
        assert_eq!(p.patterns.len(), 22);
    }
}
