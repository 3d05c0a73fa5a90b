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

mod parse;

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

#[derive(Debug, Clone)]
enum Val {
    Nodes(Vec<XNode>),
    Str(String),
    Num(f64),
    Bool(bool),
}

#[derive(Clone, Copy)]
struct Ctx {
    node: XNode,
    pos: usize,
    size: usize,
}

struct Eval<'a> {
    dom: &'a Dom,
    work: Cell<u64>,
}

/// XPath's whitespace (`normalize-space`).
fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn num_to_string(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if n == n.trunc() && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn str_to_num(s: &str) -> f64 {
    let t = s.trim_matches(is_xml_space);
    if t.is_empty() || t.contains(['e', 'E', '+']) || t.starts_with("inf") {
        return f64::NAN;
    }
    t.parse().unwrap_or(f64::NAN)
}

impl Eval<'_> {
    fn tick(&self, n: usize) -> Result<(), BudgetExceeded> {
        let w = self.work.get() + n as u64;
        self.work.set(w);
        if w > WORK_BUDGET {
            Err(BudgetExceeded)
        } else {
            Ok(())
        }
    }

    fn string_value(&self, n: XNode) -> String {
        match n {
            XNode::Node(id) => self
                .dom
                .text(id)
                .map_or_else(|| self.dom.text_content(id), str::to_string),
            XNode::Attr(id, i) => self
                .attr_at(id, i)
                .map(|(_, v)| v.to_string())
                .unwrap_or_default(),
        }
    }

    fn attr_at(&self, id: NodeId, i: u32) -> Option<(&str, &str)> {
        unique_attrs(self.dom, id).nth(i as usize)
    }

    fn to_str(&self, v: &Val) -> String {
        match v {
            Val::Nodes(n) => n.first().map(|&n| self.string_value(n)).unwrap_or_default(),
            Val::Str(s) => s.clone(),
            Val::Num(n) => num_to_string(*n),
            Val::Bool(b) => b.to_string(),
        }
    }

    fn to_num(&self, v: &Val) -> f64 {
        match v {
            Val::Num(n) => *n,
            Val::Bool(b) => f64::from(u8::from(*b)),
            other => str_to_num(&self.to_str(other)),
        }
    }

    fn to_bool(v: &Val) -> bool {
        match v {
            Val::Nodes(n) => !n.is_empty(),
            Val::Str(s) => !s.is_empty(),
            Val::Num(n) => *n != 0.0 && !n.is_nan(),
            Val::Bool(b) => *b,
        }
    }

    fn eval(&self, e: &Expr, ctx: Ctx) -> Result<Val, BudgetExceeded> {
        Ok(match e {
            Expr::Or(a, b) => {
                Val::Bool(Self::to_bool(&self.eval(a, ctx)?) || Self::to_bool(&self.eval(b, ctx)?))
            }
            Expr::And(a, b) => {
                Val::Bool(Self::to_bool(&self.eval(a, ctx)?) && Self::to_bool(&self.eval(b, ctx)?))
            }
            Expr::Cmp(op, a, b) => {
                let (a, b) = (self.eval(a, ctx)?, self.eval(b, ctx)?);
                Val::Bool(self.compare(*op, &a, &b))
            }
            Expr::Neg(a) => Val::Num(-self.to_num(&self.eval(a, ctx)?)),
            Expr::Literal(s) => Val::Str(s.clone()),
            Expr::Number(n) => Val::Num(*n),
            Expr::Union(parts) => {
                let mut all = Vec::new();
                for p in parts {
                    if let Val::Nodes(n) = self.eval(p, ctx)? {
                        all.extend(n);
                    }
                }
                sort_dedup(&mut all);
                Val::Nodes(all)
            }
            Expr::Path { absolute, steps } => {
                let start = if *absolute {
                    XNode::Node(self.dom.root())
                } else {
                    ctx.node
                };
                Val::Nodes(self.steps(vec![start], steps)?)
            }
            Expr::Filter(primary, preds, steps) => {
                let Val::Nodes(mut nodes) = self.eval(primary, ctx)? else {
                    return Ok(Val::Nodes(Vec::new()));
                };
                for p in preds {
                    nodes = self.filter(nodes, p)?;
                }
                Val::Nodes(self.steps(nodes, steps)?)
            }
            Expr::Call(f, args) => self.call(*f, args, ctx)?,
        })
    }

    fn steps(&self, mut nodes: Vec<XNode>, steps: &[Step]) -> Result<Vec<XNode>, BudgetExceeded> {
        let mut i = 0;
        while i < steps.len() {
            let mut step = &steps[i];
            // `//x` is `descendant-or-self::node()/child::x`; without predicates on `x` it
            // selects what `descendant::x` does, in one walk instead of one per node.
            let fused;
            if step.axis == Axis::DescendantOrSelf
                && step.test == NodeTest::Node
                && step.preds.is_empty()
                && let Some(next) = steps.get(i + 1)
                && next.axis == Axis::Child
                && next.preds.is_empty()
            {
                fused = Step {
                    axis: Axis::Descendant,
                    test: next.test.clone(),
                    preds: Vec::new(),
                };
                step = &fused;
                i += 1;
            }
            // A predicate-free descendant step from a node inside another context node's
            // subtree adds nothing: `//a//b//c` stays linear.
            if matches!(step.axis, Axis::Descendant | Axis::DescendantOrSelf)
                && step.preds.is_empty()
            {
                nodes = self.outermost(nodes);
            }
            let mut out = Vec::new();
            for &n in &nodes {
                let mut found = self.axis(n, step)?;
                for p in &step.preds {
                    found = self.filter(found, p)?;
                }
                out.extend(found);
            }
            sort_dedup(&mut out);
            nodes = out;
            i += 1;
        }
        Ok(nodes)
    }

    /// The nodes (in document order) not inside the subtree of an earlier one. Relies on
    /// arena order being document order, as it is in a parsed (uncleaned) DOM.
    fn outermost(&self, nodes: Vec<XNode>) -> Vec<XNode> {
        let mut out = Vec::with_capacity(nodes.len());
        let mut end: Option<usize> = None;
        for n in nodes {
            if let XNode::Node(id) = n {
                if end.is_some_and(|e| id.index() <= e) {
                    continue;
                }
                let mut last = id;
                while let Some(c) = self.dom.last_child(last) {
                    last = c;
                }
                end = Some(last.index());
            }
            out.push(n);
        }
        out
    }

    /// Apply a predicate to nodes given in axis order.
    fn filter(&self, nodes: Vec<XNode>, pred: &Expr) -> Result<Vec<XNode>, BudgetExceeded> {
        let size = nodes.len();
        let mut out = Vec::with_capacity(size);
        for (i, n) in nodes.into_iter().enumerate() {
            let v = self.eval(
                pred,
                Ctx {
                    node: n,
                    pos: i + 1,
                    size,
                },
            )?;
            let keep = match v {
                Val::Num(x) => x == (i + 1) as f64,
                other => Self::to_bool(&other),
            };
            if keep {
                out.push(n);
            }
        }
        Ok(out)
    }

    fn test(&self, n: XNode, test: &NodeTest, axis: Axis) -> bool {
        match n {
            XNode::Attr(id, i) => match test {
                NodeTest::Any | NodeTest::Node => true,
                NodeTest::Name(name) => self.attr_at(id, i).is_some_and(|(k, _)| k == name),
                _ => false,
            },
            XNode::Node(id) => match test {
                NodeTest::Node => true,
                NodeTest::Text => self.dom.is_text(id),
                NodeTest::Comment => false,
                NodeTest::Any => axis != Axis::Attribute && self.dom.is_element(id),
                NodeTest::Name(name) => self.dom.is_element(id) && self.dom.tag_name(id) == name,
            },
        }
    }

    /// The nodes of `step`'s axis from `n` that pass its node test, in axis order.
    fn axis(&self, n: XNode, step: &Step) -> Result<Vec<XNode>, BudgetExceeded> {
        let dom = self.dom;
        let XNode::Node(id) = n else {
            // Attributes have a parent and a self, nothing else.
            let out: Vec<XNode> = match (step.axis, n) {
                (Axis::Current, _) => vec![n],
                (Axis::Parent | Axis::Ancestor | Axis::AncestorOrSelf, XNode::Attr(el, _)) => {
                    let mut v = Vec::new();
                    if step.axis == Axis::AncestorOrSelf {
                        v.push(n);
                    }
                    v.push(XNode::Node(el));
                    if step.axis != Axis::Parent {
                        v.extend(dom.ancestors(el).map(XNode::Node));
                    }
                    v
                }
                _ => Vec::new(),
            };
            return Ok(out
                .into_iter()
                .filter(|&x| self.test(x, &step.test, step.axis))
                .collect());
        };
        let mut out = Vec::new();
        let mut push = |x: NodeId| {
            let x = XNode::Node(x);
            if self.test(x, &step.test, step.axis) {
                out.push(x);
            }
        };
        let mut visited = 0usize;
        match step.axis {
            Axis::Child => dom.children(id).for_each(|c| {
                visited += 1;
                push(c)
            }),
            Axis::Descendant | Axis::DescendantOrSelf => {
                if step.axis == Axis::DescendantOrSelf {
                    push(id);
                }
                dom.descendants(id).for_each(|c| {
                    visited += 1;
                    push(c)
                });
            }
            Axis::Parent => dom.parent(id).into_iter().for_each(&mut push),
            Axis::Current => push(id),
            Axis::Ancestor | Axis::AncestorOrSelf => {
                if step.axis == Axis::AncestorOrSelf {
                    push(id);
                }
                dom.ancestors(id).for_each(|c| {
                    visited += 1;
                    push(c)
                });
            }
            Axis::FollowingSibling => {
                let mut s = dom.next_sibling(id);
                while let Some(x) = s {
                    visited += 1;
                    push(x);
                    s = dom.next_sibling(x);
                }
            }
            Axis::PrecedingSibling => {
                let mut s = dom.prev_sibling(id);
                while let Some(x) = s {
                    visited += 1;
                    push(x);
                    s = dom.prev_sibling(x);
                }
            }
            Axis::Attribute => {
                if dom.is_element(id) {
                    let count = unique_attrs(dom, id).count() as u32;
                    for i in 0..count {
                        let a = XNode::Attr(id, i);
                        if self.test(a, &step.test, step.axis) {
                            out.push(a);
                        }
                    }
                }
            }
        }
        self.tick(visited + 1)?;
        debug_assert!(step.axis.reverse() || out.windows(2).all(|w| w[0].key() < w[1].key()));
        Ok(out)
    }

    fn compare(&self, op: Cmp, a: &Val, b: &Val) -> bool {
        match (a, b) {
            (Val::Nodes(x), Val::Nodes(y)) => {
                let ys: Vec<String> = y.iter().map(|&n| self.string_value(n)).collect();
                x.iter().any(|&n| {
                    let s = self.string_value(n);
                    ys.iter()
                        .any(|t| self.compare_atoms(op, &Val::Str(s.clone()), &Val::Str(t.clone())))
                })
            }
            (Val::Nodes(x), other) => x
                .iter()
                .any(|&n| self.compare_atoms(op, &self.node_as(n, other), other)),
            (other, Val::Nodes(y)) => y
                .iter()
                .any(|&n| self.compare_atoms(op, other, &self.node_as(n, other))),
            _ => self.compare_atoms(op, a, b),
        }
    }

    /// A node converted to the type of the other operand, for comparisons.
    fn node_as(&self, n: XNode, other: &Val) -> Val {
        let s = self.string_value(n);
        match other {
            Val::Num(_) => Val::Num(str_to_num(&s)),
            Val::Bool(_) => Val::Bool(true),
            _ => Val::Str(s),
        }
    }

    fn compare_atoms(&self, op: Cmp, a: &Val, b: &Val) -> bool {
        match op {
            Cmp::Eq | Cmp::Ne => {
                let eq = if matches!(a, Val::Bool(_)) || matches!(b, Val::Bool(_)) {
                    Self::to_bool(a) == Self::to_bool(b)
                } else if matches!(a, Val::Num(_)) || matches!(b, Val::Num(_)) {
                    self.to_num(a) == self.to_num(b)
                } else {
                    self.to_str(a) == self.to_str(b)
                };
                eq == (op == Cmp::Eq)
            }
            _ => {
                let (x, y) = (self.to_num(a), self.to_num(b));
                match op {
                    Cmp::Lt => x < y,
                    Cmp::Le => x <= y,
                    Cmp::Gt => x > y,
                    _ => x >= y,
                }
            }
        }
    }

    fn arg_str(&self, args: &[Expr], ctx: Ctx) -> Result<String, BudgetExceeded> {
        Ok(match args.first() {
            Some(a) => {
                let v = self.eval(a, ctx)?;
                self.to_str(&v)
            }
            None => self.string_value(ctx.node),
        })
    }

    fn call(&self, f: Func, args: &[Expr], ctx: Ctx) -> Result<Val, BudgetExceeded> {
        let s = |i: usize| -> Result<String, BudgetExceeded> {
            let v = self.eval(&args[i], ctx)?;
            Ok(self.to_str(&v))
        };
        Ok(match f {
            Func::Position => Val::Num(ctx.pos as f64),
            Func::Last => Val::Num(ctx.size as f64),
            Func::Count => match self.eval(&args[0], ctx)? {
                Val::Nodes(n) => Val::Num(n.len() as f64),
                _ => Val::Num(f64::NAN),
            },
            Func::String => Val::Str(self.arg_str(args, ctx)?),
            Func::Concat => {
                let mut out = String::new();
                for i in 0..args.len() {
                    out.push_str(&s(i)?);
                }
                Val::Str(out)
            }
            Func::Contains => Val::Bool(s(0)?.contains(&s(1)?)),
            Func::StartsWith => Val::Bool(s(0)?.starts_with(&s(1)?)),
            Func::SubstringBefore => {
                let (a, b) = (s(0)?, s(1)?);
                Val::Str(a.find(&b).map(|i| a[..i].to_string()).unwrap_or_default())
            }
            Func::SubstringAfter => {
                let (a, b) = (s(0)?, s(1)?);
                Val::Str(
                    a.find(&b)
                        .map(|i| a[i + b.len()..].to_string())
                        .unwrap_or_default(),
                )
            }
            Func::NormalizeSpace => {
                let v = self.arg_str(args, ctx)?;
                Val::Str(
                    v.split(is_xml_space)
                        .filter(|w| !w.is_empty())
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            }
            Func::StringLength => Val::Num(self.arg_str(args, ctx)?.chars().count() as f64),
            Func::Translate => {
                let (a, from, to) = (s(0)?, s(1)?, s(2)?);
                let from: Vec<char> = from.chars().collect();
                let to: Vec<char> = to.chars().collect();
                Val::Str(
                    a.chars()
                        .filter_map(|c| match from.iter().position(|&x| x == c) {
                            Some(i) => to.get(i).copied(),
                            None => Some(c),
                        })
                        .collect(),
                )
            }
            Func::Not => Val::Bool(!Self::to_bool(&self.eval(&args[0], ctx)?)),
            Func::True => Val::Bool(true),
            Func::False => Val::Bool(false),
            Func::Boolean => Val::Bool(Self::to_bool(&self.eval(&args[0], ctx)?)),
            Func::Number => match args.first() {
                Some(a) => {
                    let v = self.eval(a, ctx)?;
                    Val::Num(self.to_num(&v))
                }
                None => Val::Num(str_to_num(&self.string_value(ctx.node))),
            },
            Func::Name | Func::LocalName => {
                let node = match args.first() {
                    Some(a) => match self.eval(a, ctx)? {
                        Val::Nodes(n) => n.first().copied(),
                        _ => None,
                    },
                    None => Some(ctx.node),
                };
                Val::Str(match node {
                    Some(XNode::Node(id)) => self.dom.tag_name(id).to_string(),
                    Some(XNode::Attr(id, i)) => self
                        .attr_at(id, i)
                        .map(|(k, _)| k.to_string())
                        .unwrap_or_default(),
                    None => String::new(),
                })
            }
        })
    }
}

fn sort_dedup(v: &mut Vec<XNode>) {
    v.sort_by_key(|n| n.key());
    v.dedup();
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
