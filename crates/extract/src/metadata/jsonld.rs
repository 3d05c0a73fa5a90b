//! Schema.org JSON-LD (`<script type="application/ld+json">`).
//!
//! Like Readability, the first script holding an article-type object (`Article`,
//! `NewsArticle`, `BlogPosting`, ...: directly, in a top-level array or in `@graph`) gives
//! the title, byline, description, publisher and date. Beyond Readability: broken JSON is
//! repaired where cheap (trailing commas, raw control characters, CDATA and comment
//! wrappers, several concatenated values), `@type` may be an array, authors may be plain
//! strings, and other objects (`WebPage`, ...) fill in dates, authors and images the
//! article object lacks. Nothing here panics; oversized scripts are skipped.

use super::text::{clean, is_url};
use serde_json::{Map, Value};

/// Scripts larger than this are not parsed.
pub(crate) const MAX_JSON_BYTES: usize = 2 << 20;
/// At most this many objects are examined per script (huge `@graph`s).
const MAX_OBJECTS: usize = 256;

/// What JSON-LD says about the page.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct JsonLd {
    /// From the article object: `name` / `headline` (see [`pick_title`]).
    pub(crate) name: Option<String>,
    pub(crate) headline: Option<String>,
    /// Article author names joined by ", " (author objects with a `name`, as Readability).
    pub(crate) byline: Option<String>,
    /// Article authors given as plain strings, or `creator`s.
    pub(crate) loose_byline: Option<String>,
    pub(crate) description: Option<String>,
    /// `publisher.name` of the article object.
    pub(crate) site_name: Option<String>,
    pub(crate) date_published: Option<String>,
    pub(crate) image: Option<String>,
    /// Whether an article object was found.
    pub(crate) found_article: bool,
    /// The `@type`s of every object, in document order (at most
    /// [`MAX_TYPES`](crate::metadata::MAX_TYPES)).
    pub(crate) types: Vec<String>,
    /// Fallbacks from any other object (first found wins).
    pub(crate) other_byline: Option<String>,
    pub(crate) other_date: Option<String>,
    pub(crate) other_image: Option<String>,
    pub(crate) other_site_name: Option<String>,
    pub(crate) other_description: Option<String>,
}

/// Readability's `jsonLdArticleTypes` (`/^Article|...|Report|...|APIReference$/`: the
/// anchors bind only to the first and last alternatives).
pub(crate) fn is_article_type_str(t: &str) -> bool {
    const INNER: &[&str] = &[
        "AdvertiserContentArticle",
        "NewsArticle",
        "AnalysisNewsArticle",
        "AskPublicNewsArticle",
        "BackgroundNewsArticle",
        "OpinionNewsArticle",
        "ReportageNewsArticle",
        "ReviewNewsArticle",
        "Report",
        "SatiricalArticle",
        "ScholarlyArticle",
        "MedicalScholarlyArticle",
        "SocialMediaPosting",
        "BlogPosting",
        "LiveBlogPosting",
        "DiscussionForumPosting",
        "TechArticle",
    ];
    t.starts_with("Article") || t.ends_with("APIReference") || INNER.iter().any(|n| t.contains(n))
}

fn type_strs(obj: &Map<String, Value>) -> Vec<&str> {
    match obj.get("@type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_article(obj: &Map<String, Value>) -> bool {
    type_strs(obj).iter().any(|t| is_article_type_str(t))
}

/// `@context` is absent or names schema.org.
fn context_ok(ctx: Option<&Value>) -> bool {
    fn names_schema(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains("schema.org"),
            Value::Object(o) => o.get("@vocab").is_some_and(names_schema),
            Value::Array(a) => a.iter().any(names_schema),
            _ => false,
        }
    }
    ctx.is_none_or(names_schema)
}

/// Remove wrappers and repair the common breakage of hand-written JSON-LD.
fn unwrap_script(text: &str) -> &str {
    let mut t = text.trim();
    for (open, close) in [("<![CDATA[", "]]>"), ("<!--", "-->")] {
        if let Some(rest) = t.strip_prefix(open) {
            t = rest.trim_start();
            if let Some(rest) = t.strip_suffix(close) {
                t = rest.trim_end();
            }
        }
    }
    // "//<![CDATA[ ... //]]>" style wrappers.
    if let Some(rest) = t.strip_prefix("//<![CDATA[") {
        t = rest.trim_start();
    }
    if let Some(rest) = t.strip_suffix("//]]>") {
        t = rest.trim_end();
    }
    t.trim_end_matches(';').trim()
}

/// Drop trailing commas and control characters (raw ones inside strings become spaces).
fn repair(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_str {
            if escaped {
                escaped = false;
                out.push(c);
            } else if c == '\\' {
                escaped = true;
                out.push(c);
            } else if c == '"' {
                in_str = false;
                out.push(c);
            } else if c.is_control() {
                out.push(' ');
            } else {
                out.push(c);
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if c == ',' {
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if !matches!(chars.get(j), Some('}') | Some(']')) {
                out.push(c);
            }
        } else if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
            out.push(' ');
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// Parse one script's text into zero or more JSON values.
pub(crate) fn parse_script(text: &str) -> Vec<Value> {
    if text.len() > MAX_JSON_BYTES {
        return Vec::new();
    }
    let t = unwrap_script(text);
    if t.is_empty() {
        return Vec::new();
    }
    if let Ok(v) = serde_json::from_str::<Value>(t) {
        return vec![v];
    }
    let fixed = repair(t);
    if let Ok(v) = serde_json::from_str::<Value>(&fixed) {
        return vec![v];
    }
    // Several values one after the other: keep those that parse.
    serde_json::Deserializer::from_str(&fixed)
        .into_iter::<Value>()
        .map_while(Result::ok)
        .take(16)
        .collect()
}

/// Objects of a parsed script in document order: the value itself, items of a top-level
/// array, items of `@graph`, a `mainEntity`; each with whether its context is schema.org.
fn objects<'a>(v: &'a Value, out: &mut Vec<&'a Map<String, Value>>, ctx_ok: bool, depth: u8) {
    if out.len() >= MAX_OBJECTS || depth > 4 {
        return;
    }
    match v {
        Value::Array(items) => {
            for it in items {
                objects(it, out, ctx_ok, depth + 1);
            }
        }
        Value::Object(o) => {
            let ok = if o.contains_key("@context") {
                context_ok(o.get("@context"))
            } else {
                ctx_ok
            };
            if !ok {
                return;
            }
            if o.contains_key("@type") {
                out.push(o);
            }
            if let Some(g) = o.get("@graph") {
                objects(g, out, ok, depth + 1);
            }
            if let Some(m) = o.get("mainEntity")
                && m.is_object()
            {
                objects(m, out, ok, depth + 1);
            }
        }
        _ => {}
    }
}

fn str_field(o: &Map<String, Value>, key: &str) -> Option<String> {
    o.get(key).and_then(Value::as_str).and_then(clean)
}

/// Names from an `author` / `creator` value: an object with `name`, an array of those,
/// and (with `strings`) plain name strings. URLs are not names.
fn author_names(v: &Value, out: &mut Vec<String>, strings: bool) {
    match v {
        Value::String(s) if strings => {
            if let Some(s) = clean(s)
                && !is_url(&s)
            {
                out.push(s);
            }
        }
        Value::Object(o) => match o.get("name") {
            Some(Value::String(s)) => {
                if let Some(s) = clean(s) {
                    out.push(s);
                }
            }
            Some(Value::Array(a)) => {
                if let Some(s) = a.iter().find_map(Value::as_str).and_then(clean) {
                    out.push(s);
                }
            }
            _ => {}
        },
        Value::Array(a) => {
            for it in a.iter().take(32) {
                if !it.is_array() {
                    author_names(it, out, strings);
                }
            }
        }
        _ => {}
    }
}

fn join_unique(names: Vec<String>) -> Option<String> {
    let mut seen: Vec<String> = Vec::new();
    for n in names {
        if !seen.contains(&n) {
            seen.push(n);
        }
    }
    (!seen.is_empty()).then(|| seen.join(", "))
}

/// Readability's byline: `author` objects with a `name` (one, or an array).
fn byline_of(o: &Map<String, Value>) -> Option<String> {
    let mut names = Vec::new();
    if let Some(a) = o.get("author") {
        author_names(a, &mut names, false);
    }
    join_unique(names)
}

/// A looser byline: also plain strings, and `creator`.
fn loose_byline_of(o: &Map<String, Value>) -> Option<String> {
    ["author", "creator"].iter().find_map(|k| {
        let mut names = Vec::new();
        author_names(o.get(*k)?, &mut names, true);
        join_unique(names)
    })
}

fn publisher_name(o: &Map<String, Value>) -> Option<String> {
    match o.get("publisher")? {
        Value::Object(p) => str_field(p, "name"),
        Value::Array(a) => a
            .iter()
            .find_map(|p| p.as_object().and_then(|p| str_field(p, "name"))),
        Value::String(s) if !is_url(s) => clean(s),
        _ => None,
    }
}

fn image_of(o: &Map<String, Value>) -> Option<String> {
    fn url(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => clean(s),
            Value::Object(o) => o
                .get("url")
                .or_else(|| o.get("contentUrl"))
                .and_then(Value::as_str)
                .and_then(clean),
            Value::Array(a) => a.iter().take(8).find_map(url),
            _ => None,
        }
    }
    o.get("image")
        .or_else(|| o.get("thumbnailUrl"))
        .and_then(url)
}

fn date_of(o: &Map<String, Value>) -> Option<String> {
    str_field(o, "datePublished").or_else(|| str_field(o, "dateCreated"))
}

/// Read every script (in document order) into one [`JsonLd`].
pub(crate) fn extract<'a>(scripts: impl IntoIterator<Item = &'a str>) -> JsonLd {
    let mut out = JsonLd::default();
    for text in scripts {
        for v in parse_script(text) {
            let mut objs = Vec::new();
            objects(&v, &mut objs, true, 0);
            for o in objs {
                for t in type_strs(o) {
                    if out.types.len() < crate::metadata::MAX_TYPES {
                        out.types.push(t.to_string());
                    }
                }
                if !out.found_article && is_article(o) {
                    out.found_article = true;
                    out.name = str_field(o, "name");
                    out.headline = str_field(o, "headline");
                    out.byline = byline_of(o);
                    out.loose_byline = loose_byline_of(o);
                    out.description = str_field(o, "description");
                    out.site_name = publisher_name(o);
                    out.date_published = str_field(o, "datePublished");
                    out.image = image_of(o);
                    if out.date_published.is_none() {
                        out.other_date = out.other_date.take().or_else(|| date_of(o));
                    }
                    continue;
                }
                let types = type_strs(o);
                let is_site = types
                    .iter()
                    .any(|t| *t == "WebSite" || t.ends_with("Organization"));
                if is_site {
                    if out.other_site_name.is_none() && types.contains(&"WebSite") {
                        out.other_site_name = str_field(o, "name");
                    }
                    continue;
                }
                let is_person = types.contains(&"Person");
                if is_person {
                    continue;
                }
                if out.other_byline.is_none() {
                    out.other_byline = loose_byline_of(o);
                }
                if out.other_date.is_none() {
                    out.other_date = date_of(o);
                }
                if out.other_image.is_none() {
                    out.other_image = image_of(o);
                }
                if out.other_site_name.is_none() {
                    out.other_site_name = publisher_name(o);
                }
                if out.other_description.is_none()
                    && types
                        .iter()
                        .any(|t| t.ends_with("WebPage") || *t == "Product")
                {
                    out.other_description = str_field(o, "description");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_with_article() {
        let j = extract([r#"{"@context":"https://schema.org","@graph":[
            {"@type":"WebSite","name":"Example Site"},
            {"@type":"WebPage","name":"Page","datePublished":"2020-01-01"},
            {"@type":"NewsArticle","headline":"The headline","author":{"@type":"Person","name":" Jane  Doe "},
             "publisher":{"@type":"Organization","name":"Example News"},"datePublished":"2021-02-03T04:05:06Z",
             "description":"What happened."}]}"#]);
        assert!(j.found_article);
        assert_eq!(j.headline.as_deref(), Some("The headline"));
        assert_eq!(j.name, None);
        assert_eq!(j.byline.as_deref(), Some("Jane Doe"));
        assert_eq!(j.site_name.as_deref(), Some("Example News"));
        assert_eq!(j.date_published.as_deref(), Some("2021-02-03T04:05:06Z"));
        assert_eq!(j.description.as_deref(), Some("What happened."));
        assert_eq!(j.other_site_name.as_deref(), Some("Example Site"));
    }

    #[test]
    fn arrays_of_authors_and_objects() {
        let j = extract([
            r#"{"@context":"http://schema.org","@type":"WebPage","name":"x"}"#,
            r#"[{"@context":"https://schema.org/","@type":["BlogPosting"],"name":"Post",
                "author":[{"name":"A"},{"name":"B"},"C","https://example.com/me"]}]"#,
        ]);
        assert!(j.found_article);
        assert_eq!(j.name.as_deref(), Some("Post"));
        assert_eq!(j.byline.as_deref(), Some("A, B"));
        assert_eq!(j.loose_byline.as_deref(), Some("A, B, C"));
    }

    #[test]
    fn broken_json_is_repaired_or_skipped() {
        let j = extract([r#"<!--{"@context":"https://schema.org","@type":"Article",
            "headline":"Line
break","author":{"name":"X",},}-->"#]);
        assert!(j.found_article);
        assert_eq!(j.headline.as_deref(), Some("Line break"));
        assert_eq!(j.byline.as_deref(), Some("X"));
        let j = extract(["{not json at all", "", "[[[[", "\"str\""]);
        assert_eq!(j, JsonLd::default());
    }

    #[test]
    fn wrong_context_is_ignored() {
        let j = extract([r#"{"@context":"https://example.org","@type":"Article","name":"No"}"#]);
        assert!(!j.found_article);
    }

    #[test]
    fn deep_or_huge_input_does_not_panic() {
        let deep = "[".repeat(10_000);
        assert!(parse_script(&deep).is_empty());
        let big = format!("\"{}\"", "a".repeat(MAX_JSON_BYTES + 1));
        assert!(parse_script(&big).is_empty());
    }
}
