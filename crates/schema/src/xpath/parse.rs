//! XPath 1.0 parser for the subset gannet evaluates (see the crate docs). Anything else is
//! refused with [`XPathError::Unsupported`] naming the construct.

use super::{Axis, Expr, Func, NodeTest, Step, XPathError};

/// Deepest nesting of parentheses/predicates/function calls accepted: a hostile selector
/// cannot overflow the stack.
const MAX_NESTING: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    DotDot,
    At,
    Comma,
    ColonColon,
    Slash,
    SlashSlash,
    Pipe,
    Plus,
    Minus,
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    Star,
    Literal(String),
    Number(f64),
    Name(String),
    Var(String),
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '\u{b7}')
}

fn lex(src: &str) -> Result<Vec<Tok>, XPathError> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let syntax = |msg: &str| XPathError::Syntax(msg.to_string());
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                i += 1;
                continue;
            }
            '(' => toks.push(Tok::LParen),
            ')' => toks.push(Tok::RParen),
            '[' => toks.push(Tok::LBracket),
            ']' => toks.push(Tok::RBracket),
            '@' => toks.push(Tok::At),
            ',' => toks.push(Tok::Comma),
            '|' => toks.push(Tok::Pipe),
            '+' => toks.push(Tok::Plus),
            '-' => toks.push(Tok::Minus),
            '=' => toks.push(Tok::Eq),
            '*' => toks.push(Tok::Star),
            '!' if next == Some('=') => {
                toks.push(Tok::Neq);
                i += 1;
            }
            '<' if next == Some('=') => {
                toks.push(Tok::Le);
                i += 1;
            }
            '<' => toks.push(Tok::Lt),
            '>' if next == Some('=') => {
                toks.push(Tok::Ge);
                i += 1;
            }
            '>' => toks.push(Tok::Gt),
            ':' if next == Some(':') => {
                toks.push(Tok::ColonColon);
                i += 1;
            }
            '/' if next == Some('/') => {
                toks.push(Tok::SlashSlash);
                i += 1;
            }
            '/' => toks.push(Tok::Slash),
            '.' if next == Some('.') => {
                toks.push(Tok::DotDot);
                i += 1;
            }
            '.' if !next.is_some_and(|n| n.is_ascii_digit()) => toks.push(Tok::Dot),
            '"' | '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&d| d == c)
                    .ok_or_else(|| syntax("unterminated string literal"))?;
                toks.push(Tok::Literal(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
                continue;
            }
            c if c.is_ascii_digit() || c == '.' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = text
                    .parse::<f64>()
                    .map_err(|_| syntax(&format!("bad number {text:?}")))?;
                toks.push(Tok::Number(n));
                continue;
            }
            '$' => {
                let start = i + 1;
                i = start;
                while i < chars.len() && is_name_char(chars[i]) {
                    i += 1;
                }
                toks.push(Tok::Var(chars[start..i].iter().collect()));
                continue;
            }
            c if is_name_start(c) => {
                let start = i;
                while i < chars.len()
                    && (is_name_char(chars[i])
                        || (chars[i] == ':'
                            && chars.get(i + 1) != Some(&':')
                            && chars
                                .get(i + 1)
                                .is_some_and(|&n| is_name_start(n) || n == '*')))
                {
                    i += 1;
                }
                if chars.get(i) == Some(&'*') && chars[i - 1] == ':' {
                    i += 1;
                }
                toks.push(Tok::Name(chars[start..i].iter().collect()));
                continue;
            }
            other => return Err(syntax(&format!("unexpected character {other:?}"))),
        }
        i += 1;
    }
    Ok(toks)
}

pub(super) fn parse(src: &str) -> Result<Expr, XPathError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    if p.pos != p.toks.len() {
        return Err(XPathError::Syntax(format!(
            "unexpected {:?} after the expression",
            p.toks[p.pos]
        )));
    }
    Ok(e)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

fn unsupported(what: impl Into<String>) -> XPathError {
    XPathError::Unsupported(what.into())
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.pos + k)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Tok) -> Result<(), XPathError> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(XPathError::Syntax(format!(
                "expected {t:?}, found {:?}",
                self.peek()
            )))
        }
    }

    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, XPathError>,
    ) -> Result<T, XPathError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(XPathError::TooDeep);
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn expr(&mut self) -> Result<Expr, XPathError> {
        self.nested(Self::or_expr)
    }

    fn or_expr(&mut self) -> Result<Expr, XPathError> {
        let mut e = self.and_expr()?;
        while matches!(self.peek(), Some(Tok::Name(n)) if n == "or") {
            self.pos += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and_expr()?));
        }
        Ok(e)
    }

    fn and_expr(&mut self) -> Result<Expr, XPathError> {
        let mut e = self.equality()?;
        while matches!(self.peek(), Some(Tok::Name(n)) if n == "and") {
            self.pos += 1;
            e = Expr::And(Box::new(e), Box::new(self.equality()?));
        }
        Ok(e)
    }

    fn equality(&mut self) -> Result<Expr, XPathError> {
        let mut e = self.relational()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Eq) => super::Cmp::Eq,
                Some(Tok::Neq) => super::Cmp::Ne,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::Cmp(op, Box::new(e), Box::new(self.relational()?));
        }
    }

    fn relational(&mut self) -> Result<Expr, XPathError> {
        let mut e = self.additive()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Lt) => super::Cmp::Lt,
                Some(Tok::Le) => super::Cmp::Le,
                Some(Tok::Gt) => super::Cmp::Gt,
                Some(Tok::Ge) => super::Cmp::Ge,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::Cmp(op, Box::new(e), Box::new(self.additive()?));
        }
    }

    fn additive(&mut self) -> Result<Expr, XPathError> {
        let e = self.unary()?;
        match self.peek() {
            Some(Tok::Plus | Tok::Minus | Tok::Star) => {
                Err(unsupported("arithmetic (+, -, *, div, mod)"))
            }
            Some(Tok::Name(n)) if n == "div" || n == "mod" => {
                Err(unsupported("arithmetic (+, -, *, div, mod)"))
            }
            _ => Ok(e),
        }
    }

    fn unary(&mut self) -> Result<Expr, XPathError> {
        if self.eat(&Tok::Minus) {
            let e = self.nested(Self::unary)?;
            return Ok(Expr::Neg(Box::new(e)));
        }
        self.union()
    }

    fn union(&mut self) -> Result<Expr, XPathError> {
        let first = self.path_expr()?;
        if self.peek() != Some(&Tok::Pipe) {
            return Ok(first);
        }
        let mut parts = vec![first];
        while self.eat(&Tok::Pipe) {
            parts.push(self.path_expr()?);
        }
        Ok(Expr::Union(parts))
    }

    /// Whether the next tokens start a filter expression (a primary expression) rather
    /// than a location path.
    fn starts_primary(&self) -> bool {
        match self.peek() {
            Some(Tok::LParen | Tok::Literal(_) | Tok::Number(_) | Tok::Var(_)) => true,
            Some(Tok::Name(n)) => {
                self.peek_at(1) == Some(&Tok::LParen)
                    && !matches!(
                        n.as_str(),
                        "node" | "text" | "comment" | "processing-instruction"
                    )
            }
            _ => false,
        }
    }

    fn path_expr(&mut self) -> Result<Expr, XPathError> {
        if self.starts_primary() {
            let primary = self.primary()?;
            let mut preds = Vec::new();
            while self.peek() == Some(&Tok::LBracket) {
                preds.push(self.predicate()?);
            }
            let mut steps = Vec::new();
            if matches!(self.peek(), Some(Tok::Slash | Tok::SlashSlash)) {
                self.relative_steps(&mut steps, true)?;
            }
            if preds.is_empty() && steps.is_empty() {
                return Ok(primary);
            }
            return Ok(Expr::Filter(Box::new(primary), preds, steps));
        }
        let mut steps = Vec::new();
        let absolute = match self.peek() {
            Some(Tok::Slash) => {
                self.pos += 1;
                if self.starts_step() {
                    steps.push(self.step()?);
                    self.relative_steps(&mut steps, false)?;
                }
                true
            }
            Some(Tok::SlashSlash) => {
                self.relative_steps(&mut steps, true)?;
                true
            }
            _ => {
                steps.push(self.step()?);
                self.relative_steps(&mut steps, false)?;
                false
            }
        };
        Ok(Expr::Path { absolute, steps })
    }

    fn starts_step(&self) -> bool {
        matches!(
            self.peek(),
            Some(Tok::Dot | Tok::DotDot | Tok::At | Tok::Star | Tok::Name(_))
        )
    }

    /// `(/ Step | // Step)*`; with `first`, a separator is required at once.
    fn relative_steps(&mut self, steps: &mut Vec<Step>, first: bool) -> Result<(), XPathError> {
        let _ = first;
        loop {
            match self.peek() {
                Some(Tok::Slash) => {
                    self.pos += 1;
                }
                Some(Tok::SlashSlash) => {
                    self.pos += 1;
                    steps.push(Step {
                        axis: Axis::DescendantOrSelf,
                        test: NodeTest::Node,
                        preds: Vec::new(),
                    });
                }
                _ => return Ok(()),
            }
            steps.push(self.step()?);
        }
    }

    fn step(&mut self) -> Result<Step, XPathError> {
        if self.eat(&Tok::Dot) {
            return Ok(Step {
                axis: Axis::Current,
                test: NodeTest::Node,
                preds: Vec::new(),
            });
        }
        if self.eat(&Tok::DotDot) {
            return Ok(Step {
                axis: Axis::Parent,
                test: NodeTest::Node,
                preds: Vec::new(),
            });
        }
        let axis = if self.eat(&Tok::At) {
            Axis::Attribute
        } else if let (Some(Tok::Name(n)), Some(Tok::ColonColon)) = (self.peek(), self.peek_at(1)) {
            let axis = match n.as_str() {
                "child" => Axis::Child,
                "descendant" => Axis::Descendant,
                "descendant-or-self" => Axis::DescendantOrSelf,
                "parent" => Axis::Parent,
                "self" => Axis::Current,
                "ancestor" => Axis::Ancestor,
                "ancestor-or-self" => Axis::AncestorOrSelf,
                "following-sibling" => Axis::FollowingSibling,
                "preceding-sibling" => Axis::PrecedingSibling,
                "attribute" => Axis::Attribute,
                "following" | "preceding" | "namespace" => {
                    return Err(unsupported(format!("the {n} axis")));
                }
                other => return Err(XPathError::Syntax(format!("unknown axis {other:?}"))),
            };
            self.pos += 2;
            axis
        } else {
            Axis::Child
        };
        let test = match self.peek().cloned() {
            Some(Tok::Star) => {
                self.pos += 1;
                NodeTest::Any
            }
            Some(Tok::Name(n)) => {
                self.pos += 1;
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    let test = match n.as_str() {
                        "node" => NodeTest::Node,
                        "text" => NodeTest::Text,
                        "comment" => NodeTest::Comment,
                        "processing-instruction" => {
                            if matches!(self.peek(), Some(Tok::Literal(_))) {
                                self.pos += 1;
                            }
                            NodeTest::Comment
                        }
                        other => {
                            return Err(XPathError::Syntax(format!(
                                "{other}() is not a node test"
                            )));
                        }
                    };
                    self.expect(&Tok::RParen)?;
                    test
                } else if n.contains(':') {
                    return Err(unsupported(format!("namespace prefix in {n:?}")));
                } else {
                    NodeTest::Name(n)
                }
            }
            other => {
                return Err(XPathError::Syntax(format!(
                    "expected a node test, found {other:?}"
                )));
            }
        };
        let mut preds = Vec::new();
        while self.peek() == Some(&Tok::LBracket) {
            preds.push(self.predicate()?);
        }
        Ok(Step { axis, test, preds })
    }

    fn predicate(&mut self) -> Result<Expr, XPathError> {
        self.expect(&Tok::LBracket)?;
        let e = self.expr()?;
        self.expect(&Tok::RBracket)?;
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, XPathError> {
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(&Tok::RParen)?;
                Ok(e)
            }
            Some(Tok::Literal(s)) => {
                self.pos += 1;
                Ok(Expr::Literal(s))
            }
            Some(Tok::Number(n)) => {
                self.pos += 1;
                Ok(Expr::Number(n))
            }
            Some(Tok::Var(v)) => Err(unsupported(format!("variable ${v}"))),
            Some(Tok::Name(name)) => {
                self.pos += 2; // name and `(`
                let func = Func::from_name(&name)
                    .ok_or_else(|| unsupported(format!("function {name}()")))?;
                let mut args = Vec::new();
                if !self.eat(&Tok::RParen) {
                    loop {
                        args.push(self.expr()?);
                        if self.eat(&Tok::RParen) {
                            break;
                        }
                        self.expect(&Tok::Comma)?;
                    }
                }
                func.check_arity(args.len())?;
                Ok(Expr::Call(func, args))
            }
            other => Err(XPathError::Syntax(format!(
                "expected an expression, found {other:?}"
            ))),
        }
    }
}
