//! An XPath 1.0 evaluator over gannet's DOM, for the subset scraping schemas use.
//!
//! Supported: location paths (absolute and relative, `//`, `.`, `..`, `@`), the axes
//! `child`, `descendant`, `descendant-or-self`, `parent`, `self`, `ancestor`,
//! `ancestor-or-self`, `following-sibling`, `preceding-sibling`, `attribute`; node tests
//! (names, `*`, `text()`, `node()`, `comment()`); predicates (numbers are positions);
//! unions `|`; `or`, `and`, `=`, `!=`, `<`, `<=`, `>`, `>=`, unary `-`; string and number
//! literals; the functions `position() last() count() string() concat() contains()
//! starts-with() normalize-space() string-length() substring-before() substring-after()
//! translate() not() true() false() boolean() number() name() local-name()`.
//!
//! Refused with [`XPathError::Unsupported`]: arithmetic, variables, the `following`,
//! `preceding` and `namespace` axes, namespace prefixes, other functions. Comments are not
//! kept by gannet's parser, so `comment()` selects nothing.

mod eval;
mod parse;

use eval::{Ctx, Eval, Val};
use gannet_extract::{Dom, NodeId};
use std::cell::Cell;

/// Why an XPath expression is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XPathError {
    /// Not XPath 1.0.
    #[error("XPath syntax error: {0}")]
    Syntax(String),
    /// XPath 1.0, but outside the subset gannet evaluates.
    #[error("XPath construct not supported: {0}")]
    Unsupported(String),
    /// Nested deeper than the parser accepts.
    #[error("XPath expression nested too deeply")]
    TooDeep,
    /// A selector must select nodes (a path, a union, a filtered node-set).
    #[error("XPath selector does not select nodes")]
    NotNodeSet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Axis {
    Child,
    Descendant,
    DescendantOrSelf,
    Parent,
    Current,
    Ancestor,
    AncestorOrSelf,
    FollowingSibling,
    PrecedingSibling,
    Attribute,
}

impl Axis {
    fn reverse(self) -> bool {
        matches!(
            self,
            Axis::Parent | Axis::Ancestor | Axis::AncestorOrSelf | Axis::PrecedingSibling
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeTest {
    Name(String),
    Any,
    Text,
    Node,
    Comment,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    axis: Axis,
    test: NodeTest,
    preds: Vec<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Func {
    Position,
    Last,
    Count,
    String,
    Concat,
    Contains,
    StartsWith,
    NormalizeSpace,
    StringLength,
    SubstringBefore,
    SubstringAfter,
    Translate,
    Not,
    True,
    False,
    Boolean,
    Number,
    Name,
    LocalName,
}

impl Func {
    fn from_name(n: &str) -> Option<Func> {
        Some(match n {
            "position" => Func::Position,
            "last" => Func::Last,
            "count" => Func::Count,
            "string" => Func::String,
            "concat" => Func::Concat,
            "contains" => Func::Contains,
            "starts-with" => Func::StartsWith,
            "normalize-space" => Func::NormalizeSpace,
            "string-length" => Func::StringLength,
            "substring-before" => Func::SubstringBefore,
            "substring-after" => Func::SubstringAfter,
            "translate" => Func::Translate,
            "not" => Func::Not,
            "true" => Func::True,
            "false" => Func::False,
            "boolean" => Func::Boolean,
            "number" => Func::Number,
            "name" => Func::Name,
            "local-name" => Func::LocalName,
            _ => return None,
        })
    }

    fn check_arity(self, n: usize) -> Result<(), XPathError> {
        let ok = match self {
            Func::Position | Func::Last | Func::True | Func::False => n == 0,
            Func::Count | Func::Not | Func::Boolean => n == 1,
            Func::String
            | Func::NormalizeSpace
            | Func::StringLength
            | Func::Number
            | Func::Name
            | Func::LocalName => n <= 1,
            Func::Contains | Func::StartsWith | Func::SubstringBefore | Func::SubstringAfter => {
                n == 2
            }
            Func::Translate => n == 3,
            Func::Concat => n >= 2,
        };
        if ok {
            Ok(())
        } else {
            Err(XPathError::Syntax(format!(
                "wrong number of arguments ({n}) for {self:?}"
            )))
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Cmp(Cmp, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Union(Vec<Expr>),
    Path { absolute: bool, steps: Vec<Step> },
    Filter(Box<Expr>, Vec<Expr>, Vec<Step>),
    Literal(String),
    Number(f64),
    Call(Func, Vec<Expr>),
}

impl Expr {
    fn is_node_set(&self) -> bool {
        match self {
            Expr::Union(_) | Expr::Path { .. } => true,
            Expr::Filter(inner, _, _) => inner.is_node_set(),
            _ => false,
        }
    }
}

/// A node of the XPath data model over a [`Dom`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum XNode {
    /// The document, an element or a text node.
    Node(NodeId),
    /// The `n`th (distinct) attribute of an element.
    Attr(NodeId, u32),
}

impl XNode {
    /// Document-order key: an element, then its attributes, then its children.
    fn key(self) -> (usize, u32) {
        match self {
            XNode::Node(n) => (n.index(), 0),
            XNode::Attr(n, i) => (n.index(), i + 1),
        }
    }
}

/// A compiled XPath selector.
#[derive(Debug, Clone)]
pub struct XPath {
    expr: Expr,
}

/// Most node visits one evaluation may make: `//*//*//*` on a large page is cubic.
const WORK_BUDGET: u64 = 20_000_000;

/// An evaluation ran out of its work budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("XPath evaluation exceeded its work budget")]
pub struct BudgetExceeded;

impl XPath {
    /// Compile a selector; it must select nodes.
    pub fn parse(src: &str) -> Result<XPath, XPathError> {
        let expr = parse::parse(src)?;
        if !expr.is_node_set() {
            return Err(XPathError::NotNodeSet);
        }
        Ok(XPath { expr })
    }

    /// The nodes selected from context node `ctx`, in document order.
    pub fn select(&self, dom: &Dom, ctx: XNode) -> Result<Vec<XNode>, BudgetExceeded> {
        let ev = Eval {
            dom,
            work: Cell::new(0),
        };
        match ev.eval(
            &self.expr,
            Ctx {
                node: ctx,
                pos: 1,
                size: 1,
            },
        )? {
            Val::Nodes(n) => Ok(n),
            _ => Ok(Vec::new()),
        }
    }
}

/// An element's attributes, the first of duplicates only.
pub(crate) fn unique_attrs(dom: &Dom, id: NodeId) -> impl Iterator<Item = (&str, &str)> {
    let mut seen: Vec<&str> = Vec::new();
    dom.attrs(id).filter(move |(k, _)| {
        if seen.contains(k) {
            false
        } else {
            seen.push(k);
            true
        }
    })
}

/// The string of an attribute node.
pub(crate) fn attr_value(dom: &Dom, id: NodeId, i: u32) -> String {
    unique_attrs(dom, id)
        .nth(i as usize)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(dom: &Dom, xp: &str) -> Vec<String> {
        let x = XPath::parse(xp).unwrap();
        x.select(dom, XNode::Node(dom.root()))
            .unwrap()
            .into_iter()
            .map(|n| match n {
                XNode::Node(id) if dom.is_element(id) => {
                    format!("<{}>{}", dom.tag_name(id), dom.text_content(id))
                }
                XNode::Node(id) => dom.text(id).unwrap_or("").to_string(),
                XNode::Attr(id, i) => format!("@{}", attr_value(dom, id, i)),
            })
            .collect()
    }

    const PAGE: &str = "<html><body><div class='p  x'><h2>A</h2><span class=price>1</span></div>\
        <div class=p><h2>B</h2><a href='/b'>b</a><span class='price old'>2</span></div>\
        <ul><li>1</li><li>2</li><li>3</li></ul></body></html>";

    #[test]
    fn paths_predicates_and_functions() {
        let dom = Dom::parse(PAGE);
        assert_eq!(sel(&dom, "//div/h2"), ["<h2>A", "<h2>B"]);
        assert_eq!(sel(&dom, "//li[2]"), ["<li>2"]);
        assert_eq!(sel(&dom, "//li[last()]"), ["<li>3"]);
        assert_eq!(sel(&dom, "(//li)[position() != 1]"), ["<li>2", "<li>3"]);
        assert_eq!(sel(&dom, "//div[a]/h2/text()"), ["B"]);
        assert_eq!(sel(&dom, "//a/@href"), ["@/b"]);
        assert_eq!(
            sel(
                &dom,
                "//div[contains(concat(' ', normalize-space(@class), ' '), ' x ')]/h2"
            ),
            ["<h2>A"]
        );
        assert_eq!(
            sel(
                &dom,
                "//span[starts-with(@class, 'price') and not(contains(@class, 'old'))]"
            ),
            ["<span>1"]
        );
        assert_eq!(
            sel(&dom, "//h2[.='B']/following-sibling::span"),
            ["<span>2"]
        );
        assert_eq!(
            sel(&dom, "//span/preceding-sibling::*[1]"),
            ["<h2>A", "<a>b"]
        );
        assert_eq!(
            sel(&dom, "//a/ancestor::div/h2 | //li[1]"),
            ["<h2>B", "<li>1"]
        );
        assert_eq!(
            sel(&dom, "//li[. > 1 or . = '1'][count(../li) = 3]").len(),
            3
        );
        assert_eq!(sel(&dom, "/html/body/ul/li[-1]").len(), 0);
        assert_eq!(sel(&dom, "//*[name()='ul']/..").len(), 1);
    }

    #[test]
    fn refusals_name_the_construct() {
        let err = |x: &str| XPath::parse(x).unwrap_err().to_string();
        assert!(err("//li[position() + 1]").contains("arithmetic"));
        assert!(err("//a[$v]").contains("variable"));
        assert!(err("//a/following::b").contains("following axis"));
        assert!(err("//svg:path").contains("namespace"));
        assert!(err("//a[matches(@x, 'y')]").contains("matches()"));
        assert!(err("count(//a)").contains("does not select nodes"));
        assert!(err("//a[").contains("syntax"));
        assert!(XPath::parse(&format!("{}1{}", "(".repeat(200), ")".repeat(200))).is_err());
    }
}
