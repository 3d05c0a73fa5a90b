//! crawl4ai's `JsonElementExtractionStrategy` field machinery, step for step.
//!
//! Where crawl4ai raises a Python exception inside a field, the field takes its default
//! (its `_extract_field` catches everything); an exception inside a `list` item spoils
//! the whole list (default); one in a `baseFields` entry escapes `extract` (crawl4ai
//! fails the page): we return [`ExtractError::BaseField`]. [`Raise`] models those
//! exceptions.

use gannet_extract::{Dom, NodeId, Tag};
use serde_json::{Map, Value};

use crate::schema::{Field, Group, Kind, Sel, Source, StepKind, Transform};
use crate::serialize;
use crate::xpath::{self, XNode};
use crate::{ExtractError, SchemaKind};

/// A Python exception in crawl4ai's code path (the reason, for errors and tests).
#[derive(Debug, Clone)]
pub(crate) struct Raise(pub(crate) String);

/// What a selector yields: an element (or text/document node), or a string (XPath
/// attribute and text results are strings in lxml).
#[derive(Debug, Clone)]
enum Item {
    Node(NodeId),
    Str(String),
}

/// A value on its way through a type pipeline.
#[derive(Debug, Clone)]
enum Val {
    Node(NodeId),
    Str(String),
    /// A multi-valued attribute (`class`, `rel`, ...): bs4 returns a list.
    List(Vec<String>),
}

pub(crate) struct Run<'a> {
    pub(crate) dom: &'a Dom,
    pub(crate) kind: SchemaKind,
}

fn attr_err(what: &str, on: &str) -> Raise {
    Raise(format!(
        "AttributeError: '{on}' object has no attribute '{what}'"
    ))
}

impl Run<'_> {
    pub(crate) fn run(
        &self,
        base: &Sel,
        base_fields: &[Field],
        fields: &[Field],
    ) -> Result<Vec<Value>, ExtractError> {
        let start = match self.kind {
            // lxml's `html.fromstring` hands back the `<html>` element of a document.
            SchemaKind::XPath => self
                .dom
                .element_children(self.dom.root())
                .find(|&c| self.dom.is(c, Tag::Html))
                .unwrap_or(self.dom.root()),
            SchemaKind::Css => self.dom.root(),
        };
        let bases = self
            .select(&Item::Node(start), base)
            .map_err(|r| ExtractError::Base(r.0))?;
        let mut out = Vec::new();
        for el in bases {
            let mut item = Map::new();
            for f in base_fields {
                let v = self
                    .single_field(&el, f)
                    .map_err(|r| ExtractError::BaseField {
                        field: f.name.clone(),
                        reason: r.0,
                    })?;
                if let Some(v) = v {
                    item.insert(f.name.clone(), v);
                }
            }
            for (k, v) in self.item(&el, fields) {
                item.insert(k, v);
            }
            if !item.is_empty() {
                out.push(Value::Object(item));
            }
        }
        Ok(out)
    }

    fn select(&self, el: &Item, sel: &Sel) -> Result<Vec<Item>, Raise> {
        let Item::Node(id) = el else {
            return Err(attr_err(
                match sel {
                    Sel::Css(_) => "select",
                    Sel::XPath(_) => "xpath",
                },
                "str",
            ));
        };
        match sel {
            Sel::Css(css) => Ok(css
                .select(self.dom, *id)
                .map_err(|e| Raise(e.to_string()))?
                .into_iter()
                .map(Item::Node)
                .collect()),
            Sel::XPath(x) => {
                let nodes = x
                    .select(self.dom, XNode::Node(*id))
                    .map_err(|e| Raise(e.to_string()))?;
                Ok(nodes
                    .into_iter()
                    .map(|n| match n {
                        XNode::Node(i) if self.dom.is_text(i) => {
                            Item::Str(serialize::nl(self.dom.text(i).unwrap_or("").to_string()))
                        }
                        XNode::Node(i) => Item::Node(i),
                        XNode::Attr(i, a) => {
                            Item::Str(serialize::nl(xpath::attr_value(self.dom, i, a)))
                        }
                    })
                    .collect())
            }
        }
    }

    /// `_extract_item`: every field, `None` values left out. Never raises.
    fn item(&self, el: &Item, fields: &[Field]) -> Map<String, Value> {
        let mut m = Map::new();
        for f in fields {
            let v = self.field(el, f).unwrap_or_else(|_| f.default.clone());
            if let Some(v) = v {
                m.insert(f.name.clone(), v);
            }
        }
        m
    }

    /// `_extract_field` without its catch-all (the caller applies the default).
    fn field(&self, el: &Item, f: &Field) -> Result<Option<Value>, Raise> {
        let resolved;
        let el = match &f.source {
            Some(src) => match self.resolve_source(el, src)? {
                Some(s) => {
                    resolved = s;
                    &resolved
                }
                None => return Ok(f.default.clone()),
            },
            None => el,
        };
        let selector = f.selector.as_ref();
        match (&f.kind, selector) {
            (Kind::Nested(fields), Some(sel)) => {
                let found = self.select(el, sel)?;
                Ok(Some(Value::Object(match found.first() {
                    Some(first) if self.truthy(first) => self.item(first, fields),
                    _ => Map::new(),
                })))
            }
            (Kind::List(fields), Some(sel)) => {
                let mut out = Vec::new();
                for e in self.select(el, sel)? {
                    let mut m = Map::new();
                    for sub in fields {
                        if let Some(v) = self.single_field(&e, sub)? {
                            m.insert(sub.name.clone(), v);
                        }
                    }
                    out.push(Value::Object(m));
                }
                Ok(Some(Value::Array(out)))
            }
            (Kind::NestedList(fields), Some(sel)) => Ok(Some(Value::Array(
                self.select(el, sel)?
                    .iter()
                    .map(|e| Value::Object(self.item(e, fields)))
                    .collect(),
            ))),
            _ => self.single_field(el, f),
        }
    }

    /// Python truthiness of a selected element: a bs4 `Tag` is always true; an lxml
    /// element is true when it has children (comments count in lxml; gannet's parser
    /// keeps none); a string when non-empty.
    fn truthy(&self, it: &Item) -> bool {
        match (it, self.kind) {
            (Item::Str(s), _) => !s.is_empty(),
            (Item::Node(_), SchemaKind::Css) => true,
            (Item::Node(id), SchemaKind::XPath) => self.dom.element_children(*id).next().is_some(),
        }
    }

    fn resolve_source(&self, el: &Item, src: &Source) -> Result<Option<Item>, Raise> {
        let Source::Sibling { tag, classes } = src else {
            return Ok(None);
        };
        let Item::Node(id) = el else {
            return Err(attr_err("find_next_sibling", "str"));
        };
        let dom = self.dom;
        let mut cur = dom.next_element_sibling(*id);
        while let Some(s) = cur {
            let name_ok = tag
                .as_deref()
                .is_none_or(|t| t == "*" && self.kind == SchemaKind::XPath || dom.tag_name(s) == t);
            if name_ok && self.classes_match(s, classes) {
                return Ok(Some(Item::Node(s)));
            }
            cur = dom.next_element_sibling(s);
        }
        Ok(None)
    }

    fn classes_match(&self, el: NodeId, classes: &[String]) -> bool {
        if classes.is_empty() {
            return true;
        }
        let Some(class) = self.dom.attr(el, "class") else {
            return false;
        };
        match self.kind {
            // bs4 calls crawl4ai's `lambda c: c and all(cl in c ...)` on each class and on
            // the joined list: substring tests.
            SchemaKind::Css => {
                let tokens = serialize::bs4_tokens(class);
                let joined = tokens.join(" ");
                tokens
                    .iter()
                    .chain(std::iter::once(&joined))
                    .any(|c| !c.is_empty() && classes.iter().all(|cl| c.contains(cl.as_str())))
            }
            // `contains(concat(' ', normalize-space(@class), ' '), ' cls ')`.
            SchemaKind::XPath => {
                let norm: Vec<&str> = class
                    .split([' ', '\t', '\n', '\r'])
                    .filter(|w| !w.is_empty())
                    .collect();
                let padded = format!(" {} ", norm.join(" "));
                classes.iter().all(|cl| padded.contains(&format!(" {cl} ")))
            }
        }
    }

    /// `_extract_single_field`.
    fn single_field(&self, el: &Item, f: &Field) -> Result<Option<Value>, Raise> {
        let selected = match &f.selector {
            Some(sel) => match self.select(el, sel)?.into_iter().next() {
                Some(s) => s,
                None => return Ok(f.default.clone()),
            },
            None => el.clone(),
        };
        let mut value = Some(match selected {
            Item::Node(n) => Val::Node(n),
            Item::Str(s) => Val::Str(s),
        });
        for step in &f.steps {
            let Some(v) = value.take() else { break };
            value = match step {
                StepKind::Text => Some(Val::Str(self.text(&v)?)),
                StepKind::Attribute => self.attribute(&v, f.attribute.as_deref().unwrap_or(""))?,
                StepKind::Html => Some(Val::Str(self.html(&v)?)),
                StepKind::Regex => match &f.pattern {
                    None => Some(v),
                    Some(re) => {
                        let text = match v {
                            Val::Str(s) => s,
                            other => self.text(&other)?,
                        };
                        re.captures(&text).and_then(|c| {
                            let m = match &f.group {
                                Group::Index(i) => c.get(*i),
                                Group::Name(n) => c.name(n),
                            };
                            m.map(|m| Val::Str(m.as_str().to_string()))
                        })
                    }
                },
                StepKind::Noop => Some(v),
            };
            if value.is_none() {
                break;
            }
        }
        if let Some(t) = f.transform {
            value = Some(match value {
                Some(Val::Str(s)) => Val::Str(match t {
                    Transform::Lowercase => s.to_lowercase(),
                    Transform::Uppercase => s.to_uppercase(),
                    Transform::Strip => serialize::py_strip(&s).to_string(),
                }),
                None => return Err(attr_err("lower/upper/strip", "NoneType")),
                Some(Val::List(_)) => return Err(attr_err("lower/upper/strip", "list")),
                Some(Val::Node(_)) => {
                    return Err(Raise("TypeError: 'NoneType' object is not callable".into()));
                }
            });
        }
        Ok(match value {
            Some(v) => Some(self.to_json(v)),
            None => f.default.clone(),
        })
    }

    fn text(&self, v: &Val) -> Result<String, Raise> {
        match v {
            Val::Node(n) => Ok(match self.kind {
                SchemaKind::Css => serialize::bs4_text(self.dom, *n),
                SchemaKind::XPath => serialize::lxml_text(self.dom, *n),
            }),
            Val::Str(_) => Err(attr_err("get_text", "str")),
            Val::List(_) => Err(attr_err("get_text", "list")),
        }
    }

    fn attribute(&self, v: &Val, name: &str) -> Result<Option<Val>, Raise> {
        let Val::Node(n) = v else {
            return Err(attr_err("get", "str"));
        };
        if !self.dom.is_element(*n) {
            return Ok(None);
        }
        let Some(value) = self.dom.attr(*n, name) else {
            return Ok(None);
        };
        if self.kind == SchemaKind::Css && serialize::bs4_multi_valued(self.dom.tag_name(*n), name)
        {
            return Ok(Some(Val::List(serialize::bs4_tokens(value))));
        }
        Ok(Some(Val::Str(serialize::nl(value.to_string()))))
    }

    fn html(&self, v: &Val) -> Result<String, Raise> {
        match (v, self.kind) {
            (Val::Node(n), SchemaKind::Css) => Ok(serialize::bs4_html(self.dom, *n)),
            (Val::Node(n), SchemaKind::XPath) => Ok(serialize::lxml_html(self.dom, *n)),
            // `str(x)` on a string is the string; on a list, its repr.
            (Val::Str(s), SchemaKind::Css) => Ok(s.clone()),
            (Val::List(l), SchemaKind::Css) => Ok(py_list_repr(l)),
            (_, SchemaKind::XPath) => {
                Err(Raise("TypeError: Type 'str' cannot be serialized.".into()))
            }
        }
    }

    /// A value as crawl4ai's `json.dumps(..., default=str)` writes it: an element left in
    /// the pipeline becomes its HTML.
    fn to_json(&self, v: Val) -> Value {
        match v {
            Val::Str(s) => Value::String(s),
            Val::List(l) => Value::Array(l.into_iter().map(Value::String).collect()),
            Val::Node(n) => Value::String(match self.kind {
                SchemaKind::Css => serialize::bs4_html(self.dom, n),
                SchemaKind::XPath => serialize::lxml_html(self.dom, n),
            }),
        }
    }
}

/// Python's `repr` of a list of strings (`['a', 'b']`).
fn py_list_repr(l: &[String]) -> String {
    let items: Vec<String> = l
        .iter()
        .map(|s| {
            let q = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::new();
            out.push(q);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == q => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(q);
            out
        })
        .collect();
    format!("[{}]", items.join(", "))
}
