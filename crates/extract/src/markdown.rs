//! GitHub-flavoured Markdown and plain-text rendering of a DOM subtree.
//!
//! One pass over the tree (no recursion but for table cells, figures and captions, which
//! are one level deep), writing into one `String`. Inline state is lazy: a space, a line
//! break or an emphasis/link opener is only written when real content follows, so empty
//! emphasis and empty links never appear and spaces end up outside the markers.

use crate::dom::{Dom, NodeId};
use crate::links::{self, is_invisible};
use crate::tag::Tag;
use url::Url;

/// Render the subtree at `root` as GitHub-flavoured Markdown. Relative links and image
/// sources are resolved against `base`. The result is empty or ends with one newline.
pub fn to_markdown(dom: &Dom, root: NodeId, base: Option<&Url>) -> String {
    let mut r = Renderer::new(dom, base, false);
    r.walk(root);
    r.finish()
}

/// Like [`to_markdown`], for a subtree main-content extraction has already cleaned: it
/// decided which hidden elements (collapsed tabs, accordions) are content, so the
/// renderer does not skip elements for being hidden.
pub(crate) fn to_markdown_cleaned(dom: &Dom, root: NodeId, base: Option<&Url>) -> String {
    let mut r = Renderer::new(dom, base, false);
    r.keep_hidden = true;
    r.walk(root);
    r.finish()
}

/// Like [`to_text`], for a subtree main-content extraction has already cleaned.
pub(crate) fn to_text_cleaned(dom: &Dom, root: NodeId) -> String {
    let mut r = Renderer::new(dom, None, true);
    r.keep_hidden = true;
    r.walk(root);
    r.finish()
}

/// Render the subtree at `root` as plain text: blocks separated by blank lines, list items
/// on their own lines, table cells separated by `" | "`, no Markdown syntax.
pub fn to_text(dom: &Dom, root: NodeId) -> String {
    let mut r = Renderer::new(dom, None, true);
    r.walk(root);
    r.finish()
}

/// A pending separation between the last content and the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Break {
    None,
    Newline,
    /// A blank line that a following list item turns into a newline (keeps lists tight).
    SoftBlank,
    Blank,
}

/// A block container that prefixes lines: a blockquote or a list item.
#[derive(Debug, Clone, Copy)]
enum SegKind {
    Quote,
    Bullet,
    Number(u64),
}

#[derive(Debug, Clone, Copy)]
struct Seg {
    kind: SegKind,
    started: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MarkKind {
    Em,
    Strong,
    Del,
    Link,
}

/// An open inline marker; `url` is a range of `Renderer::urls` for links.
#[derive(Debug, Clone, Copy)]
struct Mark {
    kind: MarkKind,
    started: bool,
    url: (u32, u32),
}

#[derive(Debug, Clone, Copy)]
struct List {
    ordered: bool,
    next: u64,
    reversed: bool,
}

const F_BLOCK: u8 = 1;
const F_SEG: u8 = 2;
const F_MARK: u8 = 4;
const F_LIST: u8 = 8;
const F_SINGLE: u8 = 16;
const F_HEADING: u8 = 32;

const MAX_SPAN: usize = 1000;
const MAX_CELLS: usize = 100_000;
const MAX_NUMBER: u64 = 999_999_999;

/// Line and inline state, saved and restored around table cells.
#[derive(Debug, Clone, Copy)]
struct State {
    pending: Break,
    pending_space: bool,
    pending_hard: u8,
    /// At the start of a line whose prefix is not written yet.
    need_prefix: bool,
    /// Nothing but the prefix written on this line (Markdown line-start escaping applies).
    line_start: bool,
    /// Nothing written on this line or cell yet: spaces are dropped.
    fresh: bool,
    wrote_any: bool,
    /// Heading level whose `#` marker is still to be written.
    heading: u8,
    /// Inside a heading or table cell: breaks become spaces.
    single_line: u32,
    /// Marks below this index belong to an enclosing context (a table cell's outside).
    floor: usize,
}

struct Renderer<'a> {
    dom: &'a Dom,
    base: Option<&'a Url>,
    plain: bool,
    /// Render hidden elements too (extraction already judged them).
    keep_hidden: bool,
    out: String,
    st: State,
    segs: Vec<Seg>,
    marks: Vec<Mark>,
    urls: String,
    /// Closers written last, contiguous up to the end of `out`: (kind, start, end).
    closed: Vec<(MarkKind, usize, usize)>,
    lists: Vec<List>,
    frames: Vec<u8>,
    in_link: u32,
    scratch: String,
    tbuf: String,
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c' | '\u{a0}')
}

/// [`RUN_BYTES`] bit: an ASCII byte plain text copies as it is (not whitespace).
const PLAIN_RUN: u8 = 1;
/// [`RUN_BYTES`] bit: an ASCII byte Markdown copies as it is away from a line start (not
/// whitespace, not a character [`Renderer::text`] may escape).
const MARKDOWN_RUN: u8 = 2;
/// Per byte, which runs it may be part of ([`PLAIN_RUN`], [`MARKDOWN_RUN`]).
const RUN_BYTES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let ws = matches!(b as u8, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c');
        let special = matches!(
            b as u8,
            b'\\' | b'`' | b'*' | b'_' | b'~' | b'[' | b']' | b'(' | b'<' | b'&'
        );
        if !ws {
            t[b] = PLAIN_RUN;
            if !special {
                t[b] |= MARKDOWN_RUN;
            }
        }
        b += 1;
    }
    t
};

impl<'a> Renderer<'a> {
    fn new(dom: &'a Dom, base: Option<&'a Url>, plain: bool) -> Self {
        Renderer {
            dom,
            base,
            plain,
            keep_hidden: false,
            out: String::with_capacity(4096),
            st: State {
                pending: Break::None,
                pending_space: false,
                pending_hard: 0,
                need_prefix: true,
                line_start: true,
                fresh: true,
                wrote_any: false,
                heading: 0,
                single_line: 0,
                floor: 0,
            },
            segs: Vec::new(),
            marks: Vec::new(),
            urls: String::new(),
            closed: Vec::new(),
            lists: Vec::new(),
            frames: Vec::new(),
            in_link: 0,
            scratch: String::new(),
            tbuf: String::new(),
        }
    }

    fn finish(mut self) -> String {
        self.close_marks();
        let end = self.out.trim_end().len();
        self.out.truncate(end);
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.out
    }

    /// Walk the subtree at `root` in document order.
    fn walk(&mut self, root: NodeId) {
        let dom = self.dom;
        let mut node = root;
        let mut descend = self.enter(node);
        loop {
            if descend && let Some(c) = dom.first_child(node) {
                node = c;
                descend = self.enter(node);
                continue;
            }
            loop {
                self.exit(node);
                if node == root {
                    return;
                }
                if let Some(s) = dom.next_sibling(node) {
                    node = s;
                    descend = self.enter(node);
                    break;
                }
                match dom.parent(node) {
                    Some(p) => node = p,
                    None => return,
                }
            }
        }
    }

    // ---- breaks, prefixes and lazy state -------------------------------------------

    fn request(&mut self, b: Break) {
        if self.st.single_line > 0 {
            self.st.pending_space = true;
            return;
        }
        if b > self.st.pending {
            self.st.pending = b;
        }
        self.st.pending_hard = 0;
    }

    /// Start of a block: a blank line before it, unless it is the first thing in a list item.
    fn block_start(&mut self, b: Break) {
        if let Some(s) = self.segs.last()
            && !s.started
            && !matches!(s.kind, SegKind::Quote)
        {
            self.st.pending_hard = 0;
            return;
        }
        self.request(b);
    }

    fn block_end(&mut self) {
        self.request(Break::SoftBlank);
    }

    fn write_marker(&mut self, kind: SegKind, first: bool) {
        match kind {
            SegKind::Quote => self.out.push_str("> "),
            SegKind::Bullet => self.out.push_str(if first { "- " } else { "  " }),
            SegKind::Number(n) => {
                let buf = itoa_buf(n);
                let digits = buf.as_str();
                if first {
                    self.out.push_str(digits);
                    self.out.push_str(". ");
                } else {
                    for _ in 0..digits.len() + 2 {
                        self.out.push(' ');
                    }
                }
            }
        }
    }

    fn write_prefix(&mut self) {
        for i in 0..self.segs.len() {
            let s = self.segs[i];
            self.write_marker(s.kind, !s.started);
            self.segs[i].started = true;
        }
    }

    fn write_blank_prefix(&mut self) {
        for i in 0..self.segs.len() {
            let s = self.segs[i];
            if s.started {
                self.write_marker(s.kind, false);
            }
        }
        let end = self.out.trim_end_matches(' ').len();
        self.out.truncate(end);
    }

    fn close_marks(&mut self) {
        for i in (self.st.floor..self.marks.len()).rev() {
            if self.marks[i].started {
                self.marks[i].started = false;
                let m = self.marks[i];
                self.write_closer(m);
            }
        }
    }

    fn write_closer(&mut self, m: Mark) {
        let start = self.out.len();
        if self.closed.last().is_some_and(|c| c.2 != start) {
            self.closed.clear();
        }
        match m.kind {
            MarkKind::Em => self.out.push('*'),
            MarkKind::Strong => self.out.push_str("**"),
            MarkKind::Del => self.out.push_str("~~"),
            MarkKind::Link => {
                self.out.push_str("](");
                let (a, b) = (m.url.0 as usize, m.url.1 as usize);
                let url = self.urls.get(a..b).unwrap_or("");
                push_url(&mut self.out, url);
                self.out.push(')');
            }
        }
        self.closed.push((m.kind, start, self.out.len()));
    }

    fn write_paragraph_break(&mut self, blank: bool) {
        self.close_marks();
        self.out.push('\n');
        if blank {
            self.write_blank_prefix();
            self.out.push('\n');
        }
        self.st.need_prefix = true;
    }

    /// Write whatever is pending before content: line break and prefix, a space, the
    /// heading marker and unopened emphasis/link markers (when `open` is set).
    fn flush(&mut self, open: bool) {
        if self.st.pending != Break::None {
            let b = self.st.pending;
            self.st.pending = Break::None;
            if self.st.wrote_any {
                self.write_paragraph_break(b >= Break::SoftBlank);
            }
            self.st.pending_hard = 0;
            self.st.pending_space = false;
        } else if self.st.pending_hard > 0 {
            let two = self.st.pending_hard >= 2;
            self.st.pending_hard = 0;
            self.st.pending_space = false;
            if two {
                self.write_paragraph_break(true);
            } else {
                if !self.plain {
                    self.out.push('\\');
                }
                self.out.push('\n');
                self.st.need_prefix = true;
            }
        }
        if self.st.need_prefix {
            self.st.need_prefix = false;
            self.write_prefix();
            self.st.line_start = true;
            self.st.fresh = true;
            self.st.pending_space = false;
        }
        if self.st.pending_space {
            self.st.pending_space = false;
            if !self.st.fresh {
                self.out.push(' ');
                self.st.line_start = false;
            }
        }
        if self.st.heading > 0 {
            for _ in 0..self.st.heading {
                self.out.push('#');
            }
            self.out.push(' ');
            self.st.heading = 0;
            self.st.line_start = false;
        }
        if open {
            for i in self.st.floor..self.marks.len() {
                if !self.marks[i].started {
                    self.marks[i].started = true;
                    let kind = self.marks[i].kind;
                    // `**a****b**` → `**ab**`: reopening right after the same closer.
                    if let Some(&(k, start, end)) = self.closed.last()
                        && k == kind
                        && kind != MarkKind::Link
                        && end == self.out.len()
                    {
                        self.out.truncate(start);
                        self.closed.pop();
                        continue;
                    }
                    self.closed.clear();
                    match kind {
                        MarkKind::Em => self.out.push('*'),
                        MarkKind::Strong => self.out.push_str("**"),
                        MarkKind::Del => self.out.push_str("~~"),
                        MarkKind::Link => {
                            if self.out.ends_with('!') && !self.out.ends_with("\\!") {
                                self.out.pop();
                                self.out.push_str("\\!");
                            }
                            self.out.push('[');
                        }
                    }
                    self.st.line_start = false;
                }
            }
        }
        self.st.fresh = false;
        self.st.wrote_any = true;
    }

    fn push_mark(&mut self, kind: MarkKind, url: Option<&str>) -> bool {
        if self.plain || self.marks[self.st.floor..].iter().any(|m| m.kind == kind) {
            return false;
        }
        let mut range = (0, 0);
        if let Some(u) = url {
            let a = self.urls.len();
            self.urls.push_str(u);
            range = (a as u32, self.urls.len() as u32);
            self.in_link += 1;
        }
        self.marks.push(Mark {
            kind,
            started: false,
            url: range,
        });
        true
    }

    fn pop_mark(&mut self) {
        if let Some(m) = self.marks.pop() {
            if m.started {
                self.write_closer(m);
            }
            if m.kind == MarkKind::Link {
                self.in_link = self.in_link.saturating_sub(1);
                self.urls.truncate(m.url.0 as usize);
            }
        }
    }

    // ---- enter / exit ---------------------------------------------------------------

    fn skipped(&self, id: NodeId, tag: Tag) -> bool {
        use Tag::*;
        if matches!(
            tag,
            Script
                | Style
                | Template
                | Head
                | Title
                | Noscript
                | Svg
                | Canvas
                | Button
                | Input
                | Select
                | Textarea
                | Meta
                | Link
                | Base
                | Option
                | Optgroup
                | Object
                | Applet
                | Param
                | Source
                | Track
                | Map
                | Area
                | Frameset
                | Frame
                | Noframes
                | Noembed
                | Dialog
                | Rp
        ) {
            return true;
        }
        if self.keep_hidden {
            return false;
        }
        for (name, value) in self.dom.attrs(id) {
            match name {
                "hidden" => return true,
                "aria-hidden" if value.trim().eq_ignore_ascii_case("true") => return true,
                "style" if display_none(value) => return true,
                _ => {}
            }
        }
        false
    }

    /// Handle the start of a node; returns whether to walk its children.
    fn enter(&mut self, id: NodeId) -> bool {
        let dom = self.dom;
        let Some(tag) = dom.tag(id) else {
            if let Some(t) = dom.text(id) {
                self.text(t);
            }
            return true;
        };
        if self.skipped(id, tag) {
            self.frames.push(0);
            return false;
        }
        let mut f = 0u8;
        let mut descend = true;
        use Tag::*;
        match tag {
            Br => {
                if self.st.single_line > 0 {
                    self.st.pending_space = true;
                } else if !self.st.fresh && self.st.pending == Break::None {
                    self.st.pending_hard = (self.st.pending_hard + 1).min(2);
                    self.st.pending_space = false;
                }
            }
            Hr => {
                self.block_start(Break::Blank);
                // A rule before anything separates nothing (and would open the document
                // like a front-matter block).
                if !self.plain && self.st.single_line == 0 && !self.out.trim().is_empty() {
                    self.flush(false);
                    self.out.push_str("---");
                }
                self.block_end();
            }
            Img => self.image(id),
            A => {
                let href = dom.attr(id, "href").unwrap_or("");
                let permalink = href.trim_start().starts_with('#')
                    && is_anchor(dom, id)
                    && (self.st.heading_ctx() || is_pilcrow(dom, id));
                if permalink {
                    descend = false;
                } else if self.in_link == 0
                    && let Some(url) = links::resolve(self.base, href)
                    && self.push_mark(MarkKind::Link, Some(&url))
                {
                    f |= F_MARK;
                }
            }
            Em | I => {
                if self.push_mark(MarkKind::Em, None) {
                    f |= F_MARK;
                }
            }
            Strong | B => {
                if self.push_mark(MarkKind::Strong, None) {
                    f |= F_MARK;
                }
            }
            Del | S | Strike => {
                if self.push_mark(MarkKind::Del, None) {
                    f |= F_MARK;
                }
            }
            Code | Kbd | Samp | Tt => {
                self.inline_code(id);
                descend = false;
            }
            Pre => {
                if self.st.single_line > 0 {
                    self.inline_code(id);
                } else {
                    self.code_block(id);
                }
                descend = false;
            }
            Math => {
                self.math(id);
                descend = false;
            }
            Video | Audio | Iframe | Embed => {
                self.media(id, tag);
                descend = false;
            }
            H1 | H2 | H3 | H4 | H5 | H6 => {
                self.block_start(Break::Blank);
                if !self.plain {
                    self.st.heading = tag.heading_level() as u8;
                }
                self.st.single_line += 1;
                f |= F_HEADING | F_SINGLE | F_BLOCK;
            }
            Ul | Ol | Menu | Dir => {
                let in_item = self
                    .segs
                    .last()
                    .is_some_and(|s| !matches!(s.kind, SegKind::Quote));
                let ordered = tag == Ol;
                let reversed = ordered && dom.has_attr(id, "reversed");
                let start = dom
                    .attr(id, "start")
                    .and_then(|s| s.trim().parse::<i64>().ok())
                    .map(|n| n.clamp(0, MAX_NUMBER as i64) as u64);
                let next = match start {
                    Some(n) => n,
                    None if reversed => {
                        dom.element_children(id).filter(|&c| dom.is(c, Li)).count() as u64
                    }
                    None => 1,
                };
                // Only a bullet list or one numbered from 1 may interrupt a paragraph.
                let interrupts = !ordered || next == 1;
                self.block_start(if in_item && interrupts {
                    Break::Newline
                } else {
                    Break::Blank
                });
                self.lists.push(List {
                    ordered,
                    next: next.min(MAX_NUMBER),
                    reversed,
                });
                f |= F_LIST | F_BLOCK;
            }
            Li => {
                if self.st.single_line > 0 {
                    self.st.pending_space = true;
                } else if self.st.pending == Break::SoftBlank {
                    self.st.pending = Break::Newline;
                } else {
                    self.request(Break::Newline);
                }
                let kind = match self.lists.last_mut() {
                    Some(l) if l.ordered => {
                        if let Some(v) = dom
                            .attr(id, "value")
                            .and_then(|v| v.trim().parse::<u64>().ok())
                        {
                            l.next = v.min(MAX_NUMBER);
                        }
                        let n = l.next;
                        l.next = if l.reversed {
                            l.next.saturating_sub(1)
                        } else {
                            (l.next + 1).min(MAX_NUMBER)
                        };
                        SegKind::Number(n)
                    }
                    _ => SegKind::Bullet,
                };
                if !self.plain && self.st.single_line == 0 {
                    self.segs.push(Seg {
                        kind,
                        started: false,
                    });
                    f |= F_SEG;
                }
                f |= F_BLOCK;
            }
            Blockquote => {
                self.block_start(Break::Blank);
                if !self.plain && self.st.single_line == 0 {
                    self.segs.push(Seg {
                        kind: SegKind::Quote,
                        started: false,
                    });
                    f |= F_SEG;
                }
                f |= F_BLOCK;
            }
            Dt | Summary => {
                self.block_start(Break::Blank);
                if self.push_mark(MarkKind::Strong, None) {
                    f |= F_MARK;
                }
                f |= F_BLOCK;
            }
            Table => {
                self.block_start(Break::Blank);
                f |= F_BLOCK;
                if self.st.single_line == 0 && self.table(id) {
                    descend = false;
                }
            }
            Figure => {
                self.block_start(Break::Blank);
                f |= F_BLOCK;
                let cap = dom.element_children(id).find(|&c| dom.is(c, Figcaption));
                if let Some(cap) = cap
                    && dom.next_sibling(cap).is_some_and(|_| {
                        dom.children(id).skip_while(|&c| c != cap).skip(1).any(|c| {
                            dom.tag(c).is_some()
                                || dom.text(c).is_some_and(|t| !t.trim().is_empty())
                        })
                    })
                {
                    self.frames.push(f);
                    for c in dom.children(id) {
                        if c != cap {
                            self.walk(c);
                        }
                    }
                    self.walk(cap);
                    self.frames.pop();
                    descend = false;
                }
            }
            _ => {
                if tag.is_block() {
                    self.block_start(Break::Blank);
                    f |= F_BLOCK;
                }
            }
        }
        self.frames.push(f);
        descend
    }

    fn exit(&mut self, id: NodeId) {
        if !self.dom.is_element(id) {
            return;
        }
        let f = self.frames.pop().unwrap_or(0);
        if f & F_MARK != 0 {
            self.pop_mark();
        }
        if f & F_SINGLE != 0 {
            self.st.single_line = self.st.single_line.saturating_sub(1);
        }
        if f & F_HEADING != 0 {
            self.st.heading = 0;
        }
        if f & F_SEG != 0 {
            self.segs.pop();
        }
        if f & F_LIST != 0 {
            self.lists.pop();
        }
        if f & F_BLOCK != 0 {
            self.block_end();
        }
    }

    // ---- text -----------------------------------------------------------------------

    fn text(&mut self, s: &str) {
        let mut word_start = true;
        let mut iter = s.char_indices().peekable();
        while let Some((i, c)) = iter.next() {
            if is_ws(c) {
                self.st.pending_space = true;
                word_start = true;
                continue;
            }
            if is_invisible(c) {
                continue;
            }
            if word_start {
                self.flush(true);
                word_start = false;
            }
            // A run of ASCII that is neither whitespace nor anything Markdown would escape
            // (away from a line start) is copied as it is, not char by char.
            let mask = if self.plain {
                PLAIN_RUN
            } else if self.st.line_start {
                0
            } else {
                MARKDOWN_RUN
            };
            if RUN_BYTES[usize::from(s.as_bytes()[i])] & mask != 0 {
                let run = s.as_bytes()[i..]
                    .iter()
                    .take_while(|&&b| RUN_BYTES[usize::from(b)] & mask != 0)
                    .count();
                self.out.push_str(&s[i..i + run]);
                if run > 1 {
                    iter.nth(run - 2);
                }
                continue;
            }
            if self.plain {
                self.out.push(c);
                continue;
            }
            let next = iter.peek().map(|&(_, n)| n);
            let line_start = self.st.line_start;
            self.st.line_start = false;
            if !c.is_ascii() {
                self.out.push(c);
                continue;
            }
            let prev = self.out.chars().next_back();
            let next_ws = next.is_none_or(is_ws);
            match c {
                '\\' => {
                    if next.is_some_and(|n| n.is_ascii_punctuation()) {
                        self.out.push_str("\\\\");
                    } else {
                        self.out.push('\\');
                    }
                }
                '`' => self.out.push_str("\\`"),
                '*' => {
                    if !line_start && !can_open(prev, next, false) {
                        self.out.push('*');
                    } else {
                        self.out.push_str("\\*");
                    }
                }
                '_' | '~' => {
                    if can_open(prev, next, true) {
                        self.out.push('\\');
                    }
                    self.out.push(c);
                }
                '[' => {
                    if self.in_link > 0 {
                        self.out.push_str("\\[");
                    } else {
                        self.out.push('[');
                    }
                }
                ']' => {
                    if self.in_link > 0 || matches!(next, Some('(' | '[' | ':')) {
                        self.out.push_str("\\]");
                    } else {
                        self.out.push(']');
                    }
                }
                '(' => {
                    if self.out.ends_with(']') && !self.out.ends_with("\\]") {
                        self.out.pop();
                        self.out.push_str("\\]");
                    }
                    self.out.push('(');
                }
                '<' => {
                    if next.is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'))
                    {
                        self.out.push_str("\\<");
                    } else {
                        self.out.push('<');
                    }
                }
                '&' => {
                    if looks_like_entity(&s[i + 1..]) {
                        self.out.push_str("\\&");
                    } else {
                        self.out.push('&');
                    }
                }
                '#' if line_start && {
                    let run = s[i..].bytes().take_while(|&b| b == b'#').count();
                    run <= 6 && s[i + run..].chars().next().is_none_or(is_ws)
                } =>
                {
                    self.out.push_str("\\#");
                }
                '>' if line_start => {
                    self.out.push('\\');
                    self.out.push(c);
                }
                '-' | '+' | '=' if line_start && (next_ws || next == Some(c)) => {
                    self.out.push('\\');
                    self.out.push(c);
                }
                '0'..='9' if line_start => {
                    // An ordered-list marker at line start: `1. ` or `1) `.
                    self.out.push(c);
                    let mut n = 1;
                    while let Some(&(_, d)) = iter.peek() {
                        if d.is_ascii_digit() && n < 10 {
                            self.out.push(d);
                            iter.next();
                            n += 1;
                        } else {
                            break;
                        }
                    }
                    if let Some(&(j, p)) = iter.peek()
                        && (p == '.' || p == ')')
                        && s[j + 1..].chars().next().is_none_or(is_ws)
                    {
                        self.out.push('\\');
                        self.out.push(p);
                        iter.next();
                    }
                }
                _ => self.out.push(c),
            }
        }
    }

    /// Append `s` with whitespace collapsed and invisible characters dropped, into
    /// `scratch` (used for alt text, inline code and math).
    fn collect_text(&mut self, id: NodeId, keep_breaks: bool) {
        self.scratch.clear();
        let dom = self.dom;
        let mut it = dom.descendants(id);
        while let Some(d) = it.next() {
            if let Some(t) = dom.text(d) {
                if keep_breaks {
                    for c in t.chars() {
                        if c == '\u{a0}' {
                            self.scratch.push(' ');
                        } else if !is_invisible(c) {
                            self.scratch.push(c);
                        }
                    }
                } else {
                    push_collapsed(&mut self.scratch, t);
                }
            } else if let Some(tag) = dom.tag(d) {
                if d != id && self.skipped(d, tag) {
                    it.skip_subtree(d);
                } else if keep_breaks && (tag == Tag::Br || (d != id && tag.is_block())) {
                    if !self.scratch.is_empty() && !self.scratch.ends_with('\n') || tag == Tag::Br {
                        self.scratch.push('\n');
                    }
                } else if !keep_breaks && (tag == Tag::Br || tag.is_block()) {
                    self.scratch.push(' ');
                }
            }
        }
    }

    fn inline_code(&mut self, id: NodeId) {
        self.collect_text(id, false);
        let code = std::mem::take(&mut self.scratch);
        let trimmed = code.trim_matches(' ');
        if code.starts_with(' ') {
            self.st.pending_space = true;
        }
        if !trimmed.is_empty() {
            self.flush(true);
            self.st.line_start = false;
            if self.plain {
                self.out.push_str(trimmed);
            } else {
                let fence = longest_run(trimmed, '`') + 1;
                let pad = trimmed.starts_with('`') || trimmed.ends_with('`');
                push_n(&mut self.out, '`', fence);
                if pad {
                    self.out.push(' ');
                }
                self.out.push_str(trimmed);
                if pad {
                    self.out.push(' ');
                }
                push_n(&mut self.out, '`', fence);
            }
        }
        if code.ends_with(' ') && !trimmed.is_empty() {
            self.st.pending_space = true;
        }
        self.scratch = code;
    }

    fn code_block(&mut self, id: NodeId) {
        self.collect_text(id, true);
        let mut code = std::mem::take(&mut self.scratch);
        if code.trim().is_empty() {
            self.scratch = code;
            return;
        }
        let body = code.strip_prefix('\n').unwrap_or(&code);
        let body = body.strip_suffix('\n').unwrap_or(body);
        self.block_start(Break::Blank);
        self.flush(false);
        if self.plain {
            for (i, line) in body.split('\n').enumerate() {
                if i > 0 {
                    self.out.push('\n');
                    self.write_prefix();
                }
                self.out.push_str(line.trim_end());
            }
        } else {
            let fence = (longest_run(body, '`') + 1).max(3);
            push_n(&mut self.out, '`', fence);
            let lang = code_language(self.dom, id);
            self.out.push_str(lang);
            for line in body.split('\n') {
                self.out.push('\n');
                if line.trim().is_empty() {
                    self.write_blank_prefix();
                } else {
                    self.write_prefix();
                    self.out.push_str(line);
                }
            }
            self.out.push('\n');
            self.write_prefix();
            push_n(&mut self.out, '`', fence);
        }
        self.st.line_start = false;
        self.block_end();
        code.clear();
        self.scratch = code;
    }

    fn image(&mut self, id: NodeId) {
        if self.plain {
            return;
        }
        let Some(src) = links::image_src(self.dom, id).and_then(|s| links::resolve(self.base, s))
        else {
            return;
        };
        let alt = self.dom.attr(id, "alt").unwrap_or("");
        self.flush(true);
        self.st.line_start = false;
        self.out.push_str("![");
        let mut space = false;
        for w in alt.split(is_ws).filter(|w| !w.is_empty()) {
            if space {
                self.out.push(' ');
            }
            space = true;
            for c in w.chars() {
                if matches!(c, '[' | ']' | '\\' | '`') {
                    self.out.push('\\');
                }
                if !is_invisible(c) {
                    self.out.push(c);
                }
            }
        }
        self.out.push_str("](");
        push_url(&mut self.out, &src);
        self.out.push(')');
    }

    fn math(&mut self, id: NodeId) {
        let dom = self.dom;
        let tex = dom
            .attr(id, "alttext")
            .filter(|t| !t.trim().is_empty())
            .map(str::to_string)
            .or_else(|| {
                dom.descendants(id)
                    .find(|&d| {
                        dom.tag_name(d) == "annotation"
                            && dom.attr(d, "encoding").is_some_and(|e| e.contains("tex"))
                    })
                    .map(|d| dom.text_content(d))
            });
        match tex {
            Some(t) => {
                self.scratch.clear();
                push_collapsed(&mut self.scratch, &t);
            }
            None => self.collect_text(id, false),
        }
        let t = std::mem::take(&mut self.scratch);
        let trimmed = t.trim();
        if !trimmed.is_empty() {
            self.flush(true);
            self.st.line_start = false;
            if self.plain {
                self.out.push_str(trimmed);
            } else {
                self.out.push('$');
                self.out.push_str(trimmed);
                self.out.push('$');
            }
        }
        self.scratch = t;
    }

    fn media(&mut self, id: NodeId, tag: Tag) {
        if self.plain {
            return;
        }
        let dom = self.dom;
        let src = dom
            .attr(id, "src")
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                dom.element_children(id)
                    .filter(|&c| dom.is(c, Tag::Source))
                    .find_map(|c| dom.attr(c, "src"))
            });
        let Some(url) = src.and_then(|s| links::resolve(self.base, s)) else {
            return;
        };
        let label = match tag {
            Tag::Video => "Video",
            Tag::Audio => "Audio",
            _ => dom
                .attr(id, "title")
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .unwrap_or("Embedded content"),
        };
        let block = tag.is_block();
        if block {
            self.block_start(Break::Blank);
        }
        self.flush(self.in_link == 0);
        self.st.line_start = false;
        // Video and audio are embeds, as images are: GitLab's Markdown (and others) play
        // `![label](clip.mp4)`; an `iframe` stays a link to what it frames. In a link,
        // the label is the link's text.
        if matches!(tag, Tag::Video | Tag::Audio) && self.in_link == 0 {
            self.out.push('!');
        }
        self.out.push('[');
        for c in label.chars() {
            if matches!(c, '[' | ']' | '\\') {
                self.out.push('\\');
            }
            self.out.push(if is_ws(c) { ' ' } else { c });
        }
        self.out.push_str("](");
        push_url(&mut self.out, &url);
        self.out.push(')');
        if block {
            self.block_end();
        }
    }

    // ---- tables ---------------------------------------------------------------------

    /// Render a data table as a GFM table; `false` when it is a layout table (the caller
    /// then walks it as plain blocks).
    fn table(&mut self, t: NodeId) -> bool {
        let dom = self.dom;
        let mut rows: Vec<NodeId> = Vec::new();
        let mut head = 0;
        let mut caption = None;
        for c in dom.element_children(t) {
            match dom.tag(c) {
                Some(Tag::Tr) => rows.push(c),
                Some(Tag::Thead) => {
                    let at = head;
                    for (k, r) in dom
                        .element_children(c)
                        .filter(|&r| dom.is(r, Tag::Tr))
                        .enumerate()
                    {
                        rows.insert(at + k, r);
                        head += 1;
                    }
                }
                Some(Tag::Tbody | Tag::Tfoot) => {
                    rows.extend(dom.element_children(c).filter(|&r| dom.is(r, Tag::Tr)));
                }
                Some(Tag::Caption) if caption.is_none() => caption = Some(c),
                _ => {}
            }
        }
        // Shape and layout check.
        let mut max_width = 0usize;
        let mut total = 0usize;
        for &r in &rows {
            let mut w = 0usize;
            for cell in dom
                .element_children(r)
                .filter(|&c| matches!(dom.tag(c), Some(Tag::Td | Tag::Th)))
            {
                w = w.saturating_add(span(dom, cell, "colspan"));
                if self.has_block_content(cell) {
                    return false;
                }
            }
            total = total.saturating_add(w);
            max_width = max_width.max(w);
        }
        if max_width <= 1 || rows.len() < 2 {
            return false;
        }
        let _ = total;

        if let Some(cap) = caption {
            self.walk(cap);
        }
        // Render cells into `out`, then move them to `tbuf`.
        let saved = self.st;
        let start = self.out.len();
        let mut grid: Vec<(u32, u32)> = Vec::new();
        let mut widths: Vec<usize> = Vec::new();
        let mut carry: Vec<usize> = Vec::new();
        const EMPTY: (u32, u32) = (0, 0);
        let mut any = false;
        for &r in &rows {
            if grid.len() >= MAX_CELLS {
                break;
            }
            let row_start = grid.len();
            let mut col = 0usize;
            for cell in dom
                .element_children(r)
                .filter(|&c| matches!(dom.tag(c), Some(Tag::Td | Tag::Th)))
            {
                while col < carry.len() && carry[col] > 0 {
                    carry[col] -= 1;
                    grid.push(EMPTY);
                    col += 1;
                }
                if grid.len() >= MAX_CELLS {
                    break;
                }
                let cs = self.out.len();
                self.st = State {
                    pending: Break::None,
                    pending_space: false,
                    pending_hard: 0,
                    need_prefix: false,
                    line_start: false,
                    fresh: true,
                    wrote_any: true,
                    heading: 0,
                    single_line: saved.single_line + 1,
                    floor: self.marks.len(),
                };
                self.walk(cell);
                let ce = self.out.len();
                if ce > cs {
                    any = true;
                }
                grid.push(((cs - start) as u32, (ce - start) as u32));
                let colspan = span(dom, cell, "colspan");
                let rowspan = span(dom, cell, "rowspan");
                for k in 0..colspan {
                    if k > 0 {
                        grid.push(EMPTY);
                    }
                    if carry.len() <= col {
                        carry.resize(col + 1, 0);
                    }
                    carry[col] = rowspan - 1;
                    col += 1;
                }
            }
            while col < carry.len() {
                if carry[col] > 0 {
                    carry[col] -= 1;
                    grid.push(EMPTY);
                } else if carry[col..].iter().all(|&c| c == 0) {
                    break;
                } else {
                    grid.push(EMPTY);
                }
                col += 1;
            }
            widths.push(grid.len() - row_start);
        }
        self.st = saved;
        let mut tbuf = std::mem::take(&mut self.tbuf);
        tbuf.clear();
        tbuf.push_str(&self.out[start..]);
        self.out.truncate(start);
        self.closed.clear();
        if !any {
            self.tbuf = tbuf;
            return true;
        }
        let ncols = widths.iter().copied().max().unwrap_or(0).max(1);
        let max_rows = (1_000_000 / ncols).max(2);
        // Columns empty in every row (spacers) are dropped.
        let mut keep = vec![false; ncols];
        let mut at = 0usize;
        for &w in widths.iter().take(max_rows) {
            for (c, &(a, b)) in grid[at..at + w].iter().enumerate() {
                if !keep[c]
                    && tbuf
                        .get(a as usize..b as usize)
                        .is_some_and(|t| !t.trim().is_empty())
                {
                    keep[c] = true;
                }
            }
            at += w;
        }
        let kept = keep.iter().filter(|&&k| k).count().max(1);
        self.flush(false);
        let mut at = 0usize;
        for (ri, &w) in widths.iter().enumerate().take(max_rows) {
            if ri > 0 {
                self.out.push('\n');
                self.write_prefix();
            }
            let row = &grid[at..at + w];
            at += w;
            if self.plain {
                let mut first = true;
                for &(a, b) in row {
                    let cell = tbuf.get(a as usize..b as usize).unwrap_or("").trim();
                    if cell.is_empty() {
                        continue;
                    }
                    if !first {
                        self.out.push_str(" | ");
                    }
                    first = false;
                    self.out.push_str(cell);
                }
                continue;
            }
            self.out.push('|');
            for c in (0..ncols).filter(|&c| keep[c]) {
                let (a, b) = row.get(c).copied().unwrap_or(EMPTY);
                let cell = tbuf.get(a as usize..b as usize).unwrap_or("").trim();
                self.out.push(' ');
                for ch in cell.chars() {
                    match ch {
                        '|' => self.out.push_str("\\|"),
                        '\n' => self.out.push(' '),
                        _ => self.out.push(ch),
                    }
                }
                if !cell.is_empty() {
                    self.out.push(' ');
                }
                self.out.push('|');
            }
            if ri == 0 {
                self.out.push('\n');
                self.write_prefix();
                self.out.push('|');
                for _ in 0..kept {
                    self.out.push_str(" --- |");
                }
            }
        }
        self.st.line_start = false;
        self.tbuf = tbuf;
        true
    }

    /// Whether a table cell holds block content that a GFM cell cannot: a nested table,
    /// a list, code block, quote, heading or several paragraphs.
    fn has_block_content(&self, cell: NodeId) -> bool {
        let dom = self.dom;
        let mut paragraphs = 0;
        let mut it = dom.descendants(cell);
        while let Some(d) = it.next() {
            let Some(tag) = dom.tag(d) else { continue };
            if d != cell && self.skipped(d, tag) {
                it.skip_subtree(d);
                continue;
            }
            use Tag::*;
            match tag {
                Table | Ul | Ol | Dl | Pre | Blockquote | H1 | H2 | H3 | H4 | H5 | H6 | Hr => {
                    return true;
                }
                P => {
                    paragraphs += 1;
                    if paragraphs > 1 {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }
}

impl State {
    fn heading_ctx(&self) -> bool {
        self.heading > 0 || self.single_line > 0
    }
}

/// A `colspan`/`rowspan` value, 1..=1000.
fn span(dom: &Dom, cell: NodeId, name: &str) -> usize {
    dom.attr(cell, name)
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, MAX_SPAN)
}

/// A heading's permalink anchor (`¶`, `#`, `§`, an icon): nothing worth rendering.
fn is_anchor(dom: &Dom, a: NodeId) -> bool {
    let t = dom.text_content(a);
    let t = t.trim();
    t.is_empty() || t.chars().count() <= 2 && !t.chars().any(char::is_alphanumeric)
}

/// A permalink marker outside headings (Sphinx's `¶` after a definition term).
fn is_pilcrow(dom: &Dom, a: NodeId) -> bool {
    let t = dom.text_content(a);
    matches!(t.trim(), "¶" | "§" | "#" | "🔗")
        || dom
            .attr(a, "class")
            .is_some_and(|c| c.contains("headerlink"))
}

fn display_none(style: &str) -> bool {
    let mut rest = style;
    while let Some(i) = rest.find("display") {
        rest = &rest[i + 7..];
        let r = rest.trim_start();
        if let Some(r) = r.strip_prefix(':')
            && r.trim_start()
                .get(..4)
                .is_some_and(|v| v.eq_ignore_ascii_case("none"))
        {
            return true;
        }
    }
    false
}

/// Whether an emphasis delimiter between `prev` and `next` (`None`: a boundary) could
/// open emphasis. `strict` applies the `_` rule: no opening inside a word.
fn can_open(prev: Option<char>, next: Option<char>, strict: bool) -> bool {
    let prev_ws = prev.is_none_or(char::is_whitespace);
    let prev_punct = prev.is_some_and(is_punct);
    match next {
        None => !strict || prev_ws || prev_punct,
        Some(n) if is_ws(n) || n.is_whitespace() => false,
        Some(n) => {
            let left = !is_punct(n) || prev_ws || prev_punct;
            left && (!strict || prev_ws || prev_punct)
        }
    }
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation() || (!c.is_ascii() && !c.is_alphanumeric() && !c.is_whitespace())
}

fn looks_like_entity(rest: &str) -> bool {
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() && i < 32 && (b[i].is_ascii_alphanumeric() || (i == 0 && b[i] == b'#')) {
        i += 1;
    }
    i > 0 && b.get(i) == Some(&b';')
}

fn push_collapsed(out: &mut String, s: &str) {
    for c in s.chars() {
        if is_ws(c) {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else if !is_invisible(c) {
            out.push(c);
        }
    }
}

fn longest_run(s: &str, ch: char) -> usize {
    let mut best = 0;
    let mut cur = 0;
    for c in s.chars() {
        if c == ch {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

fn push_n(out: &mut String, c: char, n: usize) {
    for _ in 0..n {
        out.push(c);
    }
}

/// Write a link destination: spaces and angle brackets percent-encoded, unbalanced
/// parentheses escaped.
fn push_url(out: &mut String, url: &str) {
    let mut depth = 0i32;
    let mut balanced = true;
    for c in url.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    balanced = false;
                }
            }
            _ => {}
        }
    }
    balanced &= depth == 0;
    for c in url.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '\n' | '\r' | '\t' => {}
            '(' | ')' if !balanced => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
}

/// Small stack buffer for formatting a list number.
struct NumBuf {
    buf: [u8; 20],
    len: usize,
}

impl NumBuf {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[20 - self.len..]).unwrap_or("0")
    }
}

fn itoa_buf(mut n: u64) -> NumBuf {
    let mut b = NumBuf {
        buf: [0; 20],
        len: 0,
    };
    loop {
        b.len += 1;
        b.buf[20 - b.len] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || b.len == 20 {
            break;
        }
    }
    b
}

/// The language of a code block, from `class="language-x"`, `lang-x`, `highlight-x`,
/// `brush: x` or `data-lang` on the `<pre>`, its `<code>` or the wrapping element.
fn code_language(dom: &Dom, pre: NodeId) -> &str {
    let code = dom.element_children(pre).find(|&c| dom.is(c, Tag::Code));
    let parent = dom.parent(pre);
    for id in [Some(pre), code, parent].into_iter().flatten() {
        for name in ["data-lang", "data-language"] {
            if let Some(l) = dom.attr(id, name).map(str::trim).filter(|l| valid_lang(l)) {
                return l;
            }
        }
        let Some(class) = dom.attr(id, "class") else {
            continue;
        };
        if let Some(i) = class.find("brush:") {
            let l = class[i + 6..].trim_start();
            let end = l
                .find(|c: char| c == ';' || c.is_whitespace())
                .unwrap_or(l.len());
            if valid_lang(&l[..end]) {
                return &l[..end];
            }
        }
        for tok in class.split_ascii_whitespace() {
            let l = tok
                .strip_prefix("language-")
                .or_else(|| tok.strip_prefix("lang-"))
                .or_else(|| tok.strip_prefix("highlight-source-"))
                .or_else(|| tok.strip_prefix("highlight-"))
                .or_else(|| tok.strip_prefix("sourceCode-"));
            if let Some(l) = l.filter(|l| valid_lang(l)) {
                return l;
            }
        }
    }
    ""
}

fn valid_lang(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 32
        && l.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'#' | b'.' | b'_'))
        && !matches!(
            l,
            "none" | "plain" | "plaintext" | "text" | "nohighlight" | "default"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(html: &str) -> String {
        let dom = Dom::parse(html);
        let body = dom.body().unwrap_or(dom.root());
        let base = Url::parse("https://example.com/dir/page.html").ok();
        to_markdown(&dom, body, base.as_ref())
    }

    fn txt(html: &str) -> String {
        let dom = Dom::parse(html);
        let body = dom.body().unwrap_or(dom.root());
        to_text(&dom, body)
    }

    #[test]
    fn paragraphs_and_headings() {
        assert_eq!(
            md("<h1>Title</h1><p>One</p><p>Two</p>"),
            "# Title\n\nOne\n\nTwo\n"
        );
        assert_eq!(md("<h3>  a <b>b</b>\n</h3>"), "### a **b**\n");
        assert_eq!(md("<h2></h2><p>x</p>"), "x\n");
        assert_eq!(md("<h2>a<br>b</h2>"), "## a b\n");
        assert_eq!(md(""), "");
        assert_eq!(md("<p> </p>"), "");
    }

    #[test]
    fn whitespace_around_inline_elements() {
        assert_eq!(
            md("<p>a <a href='/b'>b</a> c</p>"),
            "a [b](https://example.com/b) c\n"
        );
        assert_eq!(
            md("<p>a<a href='/b'>b</a>c</p>"),
            "a[b](https://example.com/b)c\n"
        );
        assert_eq!(md("<p>a<b> b </b>c</p>"), "a **b** c\n");
        assert_eq!(md("<p>  a \n\t b&nbsp;&nbsp;c\u{200b}d  </p>"), "a b cd\n");
    }

    #[test]
    fn emphasis() {
        assert_eq!(
            md("<p><em>x</em> <i>y</i> <strong>z</strong> <b>w</b></p>"),
            "*x* *y* **z** **w**\n"
        );
        assert_eq!(md("<p>a<em> </em>b<strong></strong></p>"), "a b\n");
        assert_eq!(md("<p><b><strong>x</strong></b></p>"), "**x**\n");
        assert_eq!(md("<p><del>a</del> <s>b</s></p>"), "~~a~~ ~~b~~\n");
        assert_eq!(md("<p><b>a <i>b</i></b></p>"), "**a *b***\n");
        assert_eq!(md("<p><b>/etc</b><b>:</b> x</p>"), "**/etc:** x\n");
        assert_eq!(md("<p><b><i>a</i></b><b><i>b</i></b></p>"), "***ab***\n");
        assert_eq!(md("<p><b>a</b> <b>b</b></p>"), "**a** **b**\n");
    }

    #[test]
    fn links() {
        assert_eq!(
            md("<p><a href='x.html'>x</a></p>"),
            "[x](https://example.com/dir/x.html)\n"
        );
        assert_eq!(md("<p>a<a href='x'> </a>b</p>"), "a b\n");
        assert_eq!(md("<p><a href='javascript:void(0)'>js</a></p>"), "js\n");
        assert_eq!(md("<p><a href='#'>top</a></p>"), "top\n");
        assert_eq!(
            md("<p><a href='/l'><img src='/i.png' alt='pic'></a></p>"),
            "[![pic](https://example.com/i.png)](https://example.com/l)\n"
        );
        assert_eq!(
            md("<p>Wow!<a href='/z'>z</a></p>"),
            "Wow\\![z](https://example.com/z)\n"
        );
        assert_eq!(
            md("<p><a href='/a'>[1]</a></p>"),
            "[\\[1\\]](https://example.com/a)\n"
        );
        assert_eq!(
            md("<p><a href='/a'>a <a href='/b'>b</a></a></p>"),
            "[a](https://example.com/a) [b](https://example.com/b)\n"
        );
        assert_eq!(
            md("<p><a href='/w(x'>w</a></p>"),
            "[w](https://example.com/w\\(x)\n"
        );
        assert_eq!(
            md("<p><a href='mailto:a@b.c'>mail</a></p>"),
            "[mail](mailto:a@b.c)\n"
        );
    }

    #[test]
    fn block_inside_link() {
        assert_eq!(
            md("<a href='/p'><h3>Title</h3><p>Teaser</p></a>"),
            "### [Title](https://example.com/p)\n\n[Teaser](https://example.com/p)\n"
        );
    }

    #[test]
    fn images() {
        assert_eq!(
            md("<p><img src='a.png' alt='A [b]'></p>"),
            "![A \\[b\\]](https://example.com/dir/a.png)\n"
        );
        assert_eq!(
            md("<img src='data:image/gif;base64,xx' data-src='/real.jpg' alt=''>"),
            "![](https://example.com/real.jpg)\n"
        );
        assert_eq!(md("<img alt='nosrc'>"), "");
    }

    #[test]
    fn line_breaks() {
        assert_eq!(md("<p>a<br>b</p>"), "a\\\nb\n");
        assert_eq!(md("<p>a<br><br>b</p>"), "a\n\nb\n");
        assert_eq!(md("<p><br>a<br></p>"), "a\n");
        assert_eq!(md("<p>a<br> <br> <br>b</p>"), "a\n\nb\n");
        assert_eq!(txt("<p>a<br>b</p>"), "a\nb\n");
    }

    #[test]
    fn horizontal_rule() {
        assert_eq!(md("<p>a</p><hr><p>b</p>"), "a\n\n---\n\nb\n");
        // A rule before anything is dropped: it would read as a front-matter fence.
        assert_eq!(md("<hr><p>a</p><hr><p>b</p>"), "a\n\n---\n\nb\n");
    }

    #[test]
    fn lists() {
        assert_eq!(md("<ul><li>a</li><li>b</li></ul>"), "- a\n- b\n");
        assert_eq!(md("<ol><li>a</li><li>b</li></ol>"), "1. a\n2. b\n");
        assert_eq!(
            md("<ol start='9'><li>a</li><li>b</li></ol>"),
            "9. a\n10. b\n"
        );
        assert_eq!(md("<ol reversed><li>a</li><li>b</li></ol>"), "2. a\n1. b\n");
        assert_eq!(
            md("<ul><li>a<ul><li>b<ol><li>c</li></ol></li></ul></li><li>d</li></ul>"),
            "- a\n  - b\n    1. c\n- d\n"
        );
        assert_eq!(
            md("<ul><li><p>a</p></li><li><p>b</p></li></ul>"),
            "- a\n- b\n"
        );
        assert_eq!(
            md("<ol><li><p>a</p><p>b</p></li><li>c</li></ol>"),
            "1. a\n\n   b\n2. c\n"
        );
        assert_eq!(md("<p>x</p><ul><li>a</li></ul><p>y</p>"), "x\n\n- a\n\ny\n");
        assert_eq!(
            md("<ul><li>a<ul><li>b</li></ul>c</li></ul>"),
            "- a\n  - b\n\n  c\n"
        );
        assert_eq!(md("<ul><li></li><li> </li><li>x</li></ul>"), "- x\n");
        assert_eq!(
            md("<ul><li><pre>code</pre></li></ul>"),
            "- ```\n  code\n  ```\n"
        );
        assert_eq!(txt("<ul><li>a</li><li>b</li></ul><p>c</p>"), "a\nb\n\nc\n");
    }

    #[test]
    fn blockquotes() {
        assert_eq!(
            md("<blockquote><p>a</p><p>b</p></blockquote>"),
            "> a\n>\n> b\n"
        );
        assert_eq!(
            md("<blockquote>a<blockquote>b</blockquote>c</blockquote>"),
            "> a\n>\n> > b\n>\n> c\n"
        );
        assert_eq!(md("<blockquote>a<br>b</blockquote>"), "> a\\\n> b\n");
        assert_eq!(
            md("<ul><li><blockquote>q</blockquote></li></ul>"),
            "- > q\n"
        );
    }

    #[test]
    fn code_blocks() {
        assert_eq!(md("<pre>a\n  b</pre>"), "```\na\n  b\n```\n");
        assert_eq!(md("<pre>\nfirst\n</pre>"), "```\nfirst\n```\n");
        assert_eq!(
            md("<pre><code class='language-rust'>fn x() {}</code></pre>"),
            "```rust\nfn x() {}\n```\n"
        );
        assert_eq!(md("<pre class='lang-py'>x</pre>"), "```py\nx\n```\n");
        assert_eq!(
            md("<div class='highlight highlight-source-js'><pre>x</pre></div>"),
            "```js\nx\n```\n"
        );
        assert_eq!(
            md("<pre class='brush: php; gutter: false'>x</pre>"),
            "```php\nx\n```\n"
        );
        assert_eq!(md("<pre>a```b</pre>"), "````\na```b\n````\n");
        assert_eq!(md("<pre>a<br>b</pre>"), "```\na\nb\n```\n");
        assert_eq!(
            md("<pre><span>let</span> <a href='x'>x</a> = 1;</pre>"),
            "```\nlet x = 1;\n```\n"
        );
        assert_eq!(md("<pre>*a* <b>_</b></pre>"), "```\n*a* _\n```\n");
        assert_eq!(
            md("<blockquote><pre>a\n\nb</pre></blockquote>"),
            "> ```\n> a\n>\n> b\n> ```\n"
        );
        assert_eq!(md("<pre>  </pre>"), "");
        assert_eq!(txt("<pre>a\n  b</pre>"), "a\n  b\n");
    }

    #[test]
    fn inline_code() {
        assert_eq!(md("<p>Use <code>x</code>.</p>"), "Use `x`.\n");
        assert_eq!(md("<p><code>a`b</code></p>"), "``a`b``\n");
        assert_eq!(md("<p><code>`a</code></p>"), "`` `a ``\n");
        assert_eq!(md("<p>a<code> b </code>c</p>"), "a `b` c\n");
        assert_eq!(
            md("<p><code>*x*</code> <kbd>Ctrl</kbd></p>"),
            "`*x*` `Ctrl`\n"
        );
        assert_eq!(md("<p><code></code>x</p>"), "x\n");
    }

    #[test]
    fn escaping() {
        assert_eq!(md("<p>2 * 3 = 6</p>"), "2 * 3 = 6\n");
        assert_eq!(md("<p>*a* _b_ snake_case</p>"), "\\*a* \\_b_ snake_case\n");
        assert_eq!(
            md("<p>__init__ Price* ~5 a~b 晚安~</p>"),
            "\\_\\_init__ Price* \\~5 a~b 晚安~\n"
        );
        assert_eq!(md("<p>#1 fan</p><p>## x</p>"), "#1 fan\n\n\\## x\n");
        assert_eq!(
            md("<p># a</p><p>> b</p><p>- c</p><p>+ d</p><p>1. e</p><p>2) f</p>"),
            "\\# a\n\n\\> b\n\n\\- c\n\n\\+ d\n\n1\\. e\n\n2\\) f\n"
        );
        assert_eq!(md("<p>a # b > c - d 1. e</p>"), "a # b > c - d 1. e\n");
        assert_eq!(
            md("<p>[x](y) [1] a&lt;3 &lt;div&gt; &amp;amp; AT&amp;T</p>"),
            "[x\\](y) [1] a<3 \\<div> \\&amp; AT&T\n"
        );
        assert_eq!(
            md("<p>`tick` back\\slash \\*</p>"),
            "\\`tick\\` back\\slash \\\\\\*\n"
        );
        assert_eq!(md("<p>2024. A year</p>"), "2024\\. A year\n");
        assert_eq!(md("<p>---</p>"), "\\---\n");
    }

    #[test]
    fn tables() {
        assert_eq!(
            md("<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>"),
            "| A | B |\n| --- | --- |\n| 1 | 2 |\n"
        );
        assert_eq!(
            md(
                "<table><tbody><tr><td>a|b</td><td>c<br>d</td></tr></tbody><thead><tr><th>H</th><th>I</th></tr></thead></table>"
            ),
            "| H | I |\n| --- | --- |\n| a\\|b | c d |\n"
        );
        assert_eq!(
            md(
                "<table><tr><td colspan=2>a</td><td>b</td></tr><tr><td rowspan=2>c</td><td>d</td><td>e</td></tr><tr><td>f</td><td>g</td></tr></table>"
            ),
            "| a | | b |\n| --- | --- | --- |\n| c | d | e |\n| | f | g |\n"
        );
        assert_eq!(md("<table></table>"), "");
        assert_eq!(md("<table><tr><td></td><td></td></tr></table>"), "");
        assert_eq!(
            md(
                "<table><caption>Cap</caption><tr><td><a href='/x'>x</a></td><td><code>a|b</code></td></tr><tr><td></td><td>y</td></tr></table>"
            ),
            "Cap\n\n| [x](https://example.com/x) | `a\\|b` |\n| --- | --- |\n| | y |\n"
        );
        assert_eq!(
            txt("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>"),
            "a | b\nc | d\n"
        );
    }

    #[test]
    fn layout_tables_render_as_blocks() {
        assert_eq!(
            md("<table><tr><td>a</td><td>b</td></tr></table>"),
            "a\n\nb\n"
        );
        assert_eq!(
            md(
                "<table><tr><td></td><td>a</td><td> </td></tr><tr><td></td><td>b</td><td></td></tr></table>"
            ),
            "| a |\n| --- |\n| b |\n"
        );
        assert_eq!(
            md("<table><tr><td>one</td></tr><tr><td>two</td></tr></table>"),
            "one\n\ntwo\n"
        );
        assert_eq!(
            md("<table><tr><td><p>a</p><p>b</p></td><td>c</td></tr></table>"),
            "a\n\nb\n\nc\n"
        );
        assert_eq!(
            md(
                "<table><tr><td><ul><li>x</li></ul></td><td><table><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4</td></tr></table></td></tr></table>"
            ),
            "- x\n\n| 1 | 2 |\n| --- | --- |\n| 3 | 4 |\n"
        );
    }

    #[test]
    fn huge_tables_do_not_blow_up() {
        let mut html = String::from("<table><tr>");
        for i in 0..10_000 {
            html.push_str(&format!("<td>{i}</td>"));
        }
        html.push_str("</tr><tr><td colspan=99999 rowspan=99999>x</td></tr></table>");
        let out = md(&html);
        assert!(out.starts_with("| 0 | 1 |"));
        assert!(out.len() < 1_000_000);
    }

    #[test]
    fn definition_lists_details_figures() {
        assert_eq!(md("<dl><dt>T</dt><dd>D</dd></dl>"), "**T**\n\nD\n");
        assert_eq!(
            md("<details><summary>S</summary><p>B</p></details>"),
            "**S**\n\nB\n"
        );
        assert_eq!(
            md("<figure><figcaption>Cap</figcaption><img src='/a.png' alt='A'></figure>"),
            "![A](https://example.com/a.png)\n\nCap\n"
        );
        assert_eq!(
            md("<figure><img src='/a.png' alt='A'><figcaption>Cap</figcaption></figure>"),
            "![A](https://example.com/a.png)\n\nCap\n"
        );
    }

    #[test]
    fn math_media_sup_sub() {
        assert_eq!(md("<p>x<sup>2</sup> H<sub>2</sub>O</p>"), "x2 H2O\n");
        assert_eq!(
            md("<p>E <math alttext='mc^2'><mi>m</mi></math></p>"),
            "E $mc^2$\n"
        );
        assert_eq!(
            md(
                "<p><math><semantics><mi>x</mi><annotation encoding='application/x-tex'>x_1</annotation></semantics></math></p>"
            ),
            "$x_1$\n"
        );
        assert_eq!(
            md("<video src='/v.mp4'></video>"),
            "![Video](https://example.com/v.mp4)\n"
        );
        assert_eq!(
            md("<audio><source src='/a.mp3'></audio>"),
            "![Audio](https://example.com/a.mp3)\n"
        );
        assert_eq!(
            md("<iframe src='https://yt.com/e/1' title='Clip'></iframe>"),
            "[Clip](https://yt.com/e/1)\n"
        );
        assert_eq!(md("<video></video>"), "");
    }

    #[test]
    fn skipped_elements() {
        assert_eq!(
            md(
                "<p>a<script>x</script><style>y</style><span hidden>h</span><span aria-hidden='true'>i</span><span style='color:red;display : none'>s</span>b</p><noscript>n</noscript><svg><text>t</text></svg><button>B</button><template>T</template><select><option>o</option></select>"
            ),
            "ab\n"
        );
    }

    #[test]
    fn heading_permalinks_dropped() {
        assert_eq!(md("<h2 id='x'>Intro<a href='#x'>¶</a></h2>"), "## Intro\n");
        assert_eq!(
            md("<dl><dt>f(x)<a class='headerlink' href='#f'>¶</a></dt><dd>Does f.</dd></dl>"),
            "**f(x)**\n\nDoes f.\n"
        );
        assert_eq!(
            md("<h2><a href='#x'>Intro</a></h2>"),
            "## [Intro](https://example.com/dir/page.html#x)\n"
        );
    }

    #[test]
    fn deep_trees_do_not_overflow() {
        let html = "<div><blockquote><ul><li>".repeat(2000) + "x";
        let out = md(&html);
        assert!(out.contains('x'));
        let html = "<b><i><a href='/x'><span>".repeat(5000) + "y";
        assert!(md(&html).contains('y'));
    }

    #[test]
    fn cjk_and_rtl() {
        assert_eq!(
            md("<p>日本語の<b>テキスト</b>です。</p>"),
            "日本語の**テキスト**です。\n"
        );
        assert_eq!(
            md("<p dir='rtl'>\u{200f}שלום <a href='/he'>עולם</a></p>"),
            "שלום [עולם](https://example.com/he)\n"
        );
    }

    #[test]
    fn output_ends_with_one_newline_and_no_trailing_spaces() {
        let out = md("<div>a  </div>\n\n<div>  b </div><p></p><p>c<br></p>  ");
        assert_eq!(out, "a\n\nb\n\nc\n");
    }

    #[test]
    fn plain_text() {
        assert_eq!(
            txt(
                "<h1>T</h1><p>a <b>b</b> <a href='/x'>c</a> <img src='i.png' alt='i'></p><blockquote>q</blockquote>"
            ),
            "T\n\na b c\n\nq\n"
        );
    }
}
