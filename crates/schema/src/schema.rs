//! crawl4ai's schema JSON (`{name, baseSelector, baseFields?, fields}`), checked once.

use serde_json::{Map, Value};

use crate::css::Css;
use crate::xpath::XPath;
use crate::{SchemaError, SchemaKind};

/// A compiled selector of either dialect.
#[derive(Debug, Clone)]
pub(crate) enum Sel {
    Css(Css),
    XPath(XPath),
}

/// One step of a field's type pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StepKind {
    Text,
    Attribute,
    Html,
    Regex,
    /// A container type (`nested`, `list`, `nested_list`) met where crawl4ai treats the
    /// field as a single value: the step does nothing and the element itself is the value.
    Noop,
}

/// The `transform` of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transform {
    Lowercase,
    Uppercase,
    Strip,
}

/// `group` of a regex field: a number or a group name.
#[derive(Debug, Clone)]
pub(crate) enum Group {
    Index(usize),
    Name(String),
}

/// What a field does, by its `type`.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// `nested`: the first match, as an object of `fields`.
    Nested(Vec<Field>),
    /// `list`: every match, each an object of single-value `fields`.
    List(Vec<Field>),
    /// `nested_list`: every match, each an object of full `fields`.
    NestedList(Vec<Field>),
    /// Anything else: a pipeline of value steps.
    Single,
}

#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    /// The pipeline this field runs when used as a single value (list items,
    /// `baseFields`), where crawl4ai ignores its container type.
    pub(crate) steps: Vec<StepKind>,
    pub(crate) selector: Option<Sel>,
    pub(crate) attribute: Option<String>,
    pub(crate) pattern: Option<regex::Regex>,
    pub(crate) group: Group,
    pub(crate) transform: Option<Transform>,
    /// `default`, with JSON `null` as no default (crawl4ai cannot tell them apart).
    pub(crate) default: Option<Value>,
    /// `source: "+ tag.class"`: the field reads the base element's next matching sibling.
    pub(crate) source: Option<Source>,
}

/// A parsed `source` (`"+ tr.subtext"`); anything not starting with `+` resolves to
/// nothing, as in crawl4ai.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    Sibling {
        tag: Option<String>,
        classes: Vec<String>,
    },
    Nothing,
}

/// A schema's parts.
pub(crate) struct Parsed {
    pub(crate) name: Option<String>,
    pub(crate) base: Sel,
    pub(crate) base_fields: Vec<Field>,
    pub(crate) fields: Vec<Field>,
}

pub(crate) fn parse_schema(v: &Value, kind: SchemaKind) -> Result<Parsed, SchemaError> {
    let obj = v
        .as_object()
        .ok_or_else(|| SchemaError::Invalid("a schema is a JSON object".into()))?;
    let name = obj.get("name").and_then(Value::as_str).map(str::to_string);
    let base = obj
        .get("baseSelector")
        .and_then(Value::as_str)
        .ok_or_else(|| SchemaError::Invalid("`baseSelector` (a string) is required".into()))?;
    let base = compile_selector(base, kind, true, "baseSelector")?;
    let fields = field_list(obj, "fields", kind, "", true)?
        .ok_or_else(|| SchemaError::Invalid("`fields` (a list) is required".into()))?;
    let base_fields = field_list(obj, "baseFields", kind, "", false)?.unwrap_or_default();
    Ok(Parsed {
        name,
        base,
        base_fields,
        fields,
    })
}

fn field_list(
    obj: &Map<String, Value>,
    key: &str,
    kind: SchemaKind,
    path: &str,
    full_fields: bool,
) -> Result<Option<Vec<Field>>, SchemaError> {
    let Some(v) = obj.get(key) else {
        return Ok(None);
    };
    let list = v
        .as_array()
        .ok_or_else(|| SchemaError::Invalid(format!("`{path}{key}` must be a list")))?;
    list.iter()
        .map(|f| parse_field(f, kind, path, full_fields))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn step_of(name: &str, field: &str) -> Result<StepKind, SchemaError> {
    Ok(match name {
        "text" => StepKind::Text,
        "attribute" => StepKind::Attribute,
        "html" => StepKind::Html,
        "regex" => StepKind::Regex,
        "nested" | "list" | "nested_list" => StepKind::Noop,
        "computed" => return Err(SchemaError::Computed(field.to_string())),
        other => {
            return Err(SchemaError::Invalid(format!(
                "field `{field}`: unknown type {other:?} (text, attribute, html, regex, \
                 nested, list, nested_list)"
            )));
        }
    })
}

/// `full`: the field is read by `_extract_field` (`fields`, `nested`/`nested_list`
/// fields), where container types apply; otherwise (`baseFields`, a `list`'s fields)
/// crawl4ai reads it as a single value whatever its type.
fn parse_field(v: &Value, kind: SchemaKind, path: &str, full: bool) -> Result<Field, SchemaError> {
    let obj = v
        .as_object()
        .ok_or_else(|| SchemaError::Invalid(format!("a field of `{path}` is not an object")))?;
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| SchemaError::Invalid(format!("a field of `{path}` has no `name`")))?;
    let full_fields = full;
    let full = format!("{path}{name}");
    let bad = |msg: &str| SchemaError::Invalid(format!("field `{full}`: {msg}"));
    if obj.contains_key("expression") || obj.contains_key("function") {
        return Err(SchemaError::Computed(full.clone()));
    }
    let ty = obj.get("type").ok_or_else(|| bad("`type` is required"))?;
    let (steps, container) = match ty {
        Value::String(s) => (vec![step_of(s, &full)?], Some(s.as_str())),
        Value::Array(list) => {
            let steps = list
                .iter()
                .map(|s| {
                    s.as_str()
                        .ok_or_else(|| bad("`type` lists names"))
                        .and_then(|s| step_of(s, &full))
                })
                .collect::<Result<Vec<_>, _>>()?;
            (steps, None)
        }
        _ => return Err(bad("`type` is a name or a list of names")),
    };
    let selector = match obj.get("selector") {
        None => None,
        Some(Value::String(s)) => Some(compile_selector(s, kind, false, &full)?),
        Some(_) => return Err(bad("`selector` must be a string")),
    };
    let attribute = match obj.get("attribute") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(bad("`attribute` must be a string")),
    };
    if steps.contains(&StepKind::Attribute) && attribute.is_none() {
        return Err(bad("type `attribute` needs `attribute`"));
    }
    let group = match obj.get("group") {
        None => Group::Index(1),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(i) => Group::Index(i as usize),
            None => return Err(bad("`group` must be a group number or name")),
        },
        Some(Value::String(s)) => Group::Name(s.clone()),
        Some(_) => return Err(bad("`group` must be a group number or name")),
    };
    let pattern = match obj.get("pattern") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.is_empty() => None,
        Some(Value::String(p)) => {
            let re = crate::pyre::compile(p, "").map_err(|e| SchemaError::Regex {
                field: full.clone(),
                reason: e,
            })?;
            let exists = match &group {
                Group::Index(i) => *i < re.captures_len(),
                Group::Name(n) => re.capture_names().flatten().any(|c| c == n),
            };
            if !exists && steps.contains(&StepKind::Regex) {
                return Err(SchemaError::Regex {
                    field: full.clone(),
                    reason: format!(
                        "the pattern has no group {} (set `group`, 0 for the whole match)",
                        match &group {
                            Group::Index(i) => i.to_string(),
                            Group::Name(n) => format!("{n:?}"),
                        }
                    ),
                });
            }
            Some(re)
        }
        Some(_) => return Err(bad("`pattern` must be a string")),
    };
    let transform = match obj.get("transform") {
        None => None,
        Some(Value::String(t)) => Some(match t.as_str() {
            "lowercase" => Transform::Lowercase,
            "uppercase" => Transform::Uppercase,
            "strip" => Transform::Strip,
            other => {
                return Err(bad(&format!(
                    "unknown transform {other:?} (lowercase, uppercase, strip)"
                )));
            }
        }),
        Some(_) => return Err(bad("`transform` must be a string")),
    };
    let default = obj.get("default").filter(|d| !d.is_null()).cloned();
    let source = match obj.get("source") {
        None => None,
        Some(Value::String(s)) => Some(parse_source(s)),
        Some(_) => return Err(bad("`source` must be a string")),
    };
    let sub = |key, full_sub| field_list(obj, key, kind, &format!("{full}."), full_sub);
    let kind = match container {
        Some(c @ ("nested" | "list" | "nested_list")) if full_fields => {
            if selector.is_none() {
                return Err(bad(&format!("type `{c}` needs `selector`")));
            }
            let fields = sub("fields", c != "list")?
                .ok_or_else(|| bad(&format!("type `{c}` needs `fields`")))?;
            match c {
                "nested" => Kind::Nested(fields),
                "list" => Kind::List(fields),
                _ => Kind::NestedList(fields),
            }
        }
        _ => Kind::Single,
    };
    Ok(Field {
        name: name.to_string(),
        kind,
        steps,
        selector,
        attribute,
        pattern,
        group,
        transform,
        default,
        source,
    })
}

fn parse_source(s: &str) -> Source {
    let s = s.trim_matches(crate::serialize::is_py_space);
    let Some(rest) = s.strip_prefix('+') else {
        return Source::Nothing;
    };
    let sel = rest.trim_matches(crate::serialize::is_py_space);
    let mut parts = sel.split('.');
    let tag = parts
        .next()
        .map(|t| t.trim_matches(crate::serialize::is_py_space))
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let classes = parts
        .map(|p| p.trim_matches(crate::serialize::is_py_space))
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    Source::Sibling { tag, classes }
}

/// Compile a selector. XPath field selectors go through crawl4ai's own rewriting first
/// (`_css_to_xpath`: `a > b` → `//a/b`, `a b` → `//a//b`, `a` → `//a`, unless the
/// selector has a `/`; then a `.` prefix unless it starts with one).
fn compile_selector(
    s: &str,
    kind: SchemaKind,
    base: bool,
    field: &str,
) -> Result<Sel, SchemaError> {
    let err = |reason: String| SchemaError::Selector {
        field: field.to_string(),
        selector: s.to_string(),
        reason,
    };
    match kind {
        SchemaKind::Css => Css::parse(s).map(Sel::Css).map_err(err),
        SchemaKind::XPath => {
            let text = if base { s.to_string() } else { css_to_xpath(s) };
            XPath::parse(&text)
                .map(Sel::XPath)
                .map_err(|e| err(e.to_string()))
        }
    }
}

/// crawl4ai's `JsonXPathExtractionStrategy._get_elements` rewriting of a field selector.
pub(crate) fn css_to_xpath(s: &str) -> String {
    let x = if s.contains('/') {
        s.to_string()
    } else if s.contains(" > ") {
        format!("//{}", s.split(" > ").collect::<Vec<_>>().join("/"))
    } else if s.contains(' ') {
        format!("//{}", s.split(' ').collect::<Vec<_>>().join("//"))
    } else {
        format!("//{s}")
    };
    if x.starts_with('.') {
        x
    } else {
        format!(".{x}")
    }
}
