//! A compact, arena-allocated HTML tree built for extraction speed.
//!
//! Nodes live in one `Vec` in document (pre-)order; links between them are `u32` indices.
//! Text and attribute strings live in one shared string buffer, addressed by spans, so a
//! page costs a handful of allocations instead of one per node. The tree is mutable in the
//! one way extraction needs: nodes can be detached. Nothing here recurses, so a
//! 100,000-deep document cannot overflow the stack (the parser also caps depth).

use crate::tag::Tag;

/// Index of a node in a [`Dom`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The node's position in document order (its index in the arena).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

const NONE: u32 = u32::MAX;

/// A range of the DOM's string buffer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

/// An attribute: name (lowercase) and value (character references decoded).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attr {
    pub(crate) name: Span,
    pub(crate) value: Span,
}

/// What a node is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NodeData {
    Document,
    Element {
        tag: Tag,
        /// The lowercase name (kept for every element; `Tag::Other` needs it).
        name: Span,
        attrs_start: u32,
        attrs_len: u32,
    },
    Text(Span),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub(crate) data: NodeData,
    pub(crate) parent: u32,
    pub(crate) first_child: u32,
    pub(crate) last_child: u32,
    pub(crate) next: u32,
    pub(crate) prev: u32,
}

/// A parsed HTML document.
#[derive(Debug, Clone)]
pub struct Dom {
    pub(crate) nodes: Vec<Node>,
    pub(crate) attrs: Vec<Attr>,
    pub(crate) buf: String,
    /// While recording: the changes since recording began, to undo them.
    journal: Option<Journal>,
}

/// The node count when recording began, and every node's state before each change (the
/// tree changes only in its links and by new nodes; attributes and text never change).
#[derive(Debug, Clone)]
struct Journal {
    len: usize,
    before: Vec<(u32, Node)>,
}

fn opt(i: u32) -> Option<NodeId> {
    (i != NONE).then_some(NodeId(i))
}

impl Dom {
    /// Parse HTML text. Never fails: any input gives a tree.
    pub fn parse(html: &str) -> Dom {
        crate::parse::parse(html)
    }

    pub(crate) fn with_capacity(html: &str) -> Dom {
        let html_len = html.len();
        // About one node per `<` (an element and the text after it; end tags add none).
        // Sizing the arena once avoids the doubling that would hold 1.5× the nodes at the
        // moment of a reallocation, which matters on multi-megabyte pages.
        let tags = memchr::memchr_iter(b'<', html.as_bytes()).count();
        let mut dom = Dom {
            nodes: Vec::with_capacity(tags.min(html_len / 3) + 16),
            attrs: Vec::with_capacity(html_len / 60 + 16),
            buf: String::with_capacity(html_len / 2 + 64),
            journal: None,
        };
        dom.nodes.push(Node {
            data: NodeData::Document,
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            next: NONE,
            prev: NONE,
        });
        dom
    }

    /// The document node, parent of everything.
    pub fn root(&self) -> NodeId {
        NodeId(0)
    }

    /// Number of nodes ever created (detached ones included). Ids run from 0 to `len() - 1`
    /// in document order.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the document has no nodes but the root.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    /// Every node id, in document order (detached ones included).
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = NodeId> + use<> {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    pub(crate) fn span(&self, s: Span) -> &str {
        let start = s.start as usize;
        self.buf.get(start..start + s.len as usize).unwrap_or("")
    }

    /// The element's tag, or `None` for text and the document node.
    pub fn tag(&self, id: NodeId) -> Option<Tag> {
        match self.nodes[id.index()].data {
            NodeData::Element { tag, .. } => Some(tag),
            _ => None,
        }
    }

    /// Whether the node is an element with this tag.
    pub fn is(&self, id: NodeId, tag: Tag) -> bool {
        self.tag(id) == Some(tag)
    }

    /// Whether the node is an element.
    pub fn is_element(&self, id: NodeId) -> bool {
        matches!(self.nodes[id.index()].data, NodeData::Element { .. })
    }

    /// Whether the node is a text node.
    pub fn is_text(&self, id: NodeId) -> bool {
        matches!(self.nodes[id.index()].data, NodeData::Text(_))
    }

    /// The element's lowercase name (`""` for other nodes).
    pub fn tag_name(&self, id: NodeId) -> &str {
        match self.nodes[id.index()].data {
            NodeData::Element { tag, name, .. } if name.len == 0 => tag.name(),
            NodeData::Element { name, .. } => self.span(name),
            _ => "",
        }
    }

    /// A text node's text (`None` for other nodes).
    pub fn text(&self, id: NodeId) -> Option<&str> {
        match self.nodes[id.index()].data {
            NodeData::Text(s) => Some(self.span(s)),
            _ => None,
        }
    }

    /// The element's attributes as `(name, value)`, in source order.
    pub fn attrs(&self, id: NodeId) -> impl Iterator<Item = (&str, &str)> {
        let (start, len) = match self.nodes[id.index()].data {
            NodeData::Element {
                attrs_start,
                attrs_len,
                ..
            } => (attrs_start as usize, attrs_len as usize),
            _ => (0, 0),
        };
        self.attrs[start..start + len]
            .iter()
            .map(|a| (self.span(a.name), self.span(a.value)))
    }

    /// The value of attribute `name` (lowercase), if present.
    pub fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        self.attrs(id).find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Whether the element has attribute `name`.
    pub fn has_attr(&self, id: NodeId, name: &str) -> bool {
        self.attr(id, name).is_some()
    }

    /// `class` and `id` attributes joined by a space, lowercase not applied.
    pub fn class_and_id(&self, id: NodeId) -> (&str, &str) {
        let mut class = "";
        let mut ident = "";
        for (n, v) in self.attrs(id) {
            match n {
                "class" if class.is_empty() => class = v,
                "id" if ident.is_empty() => ident = v,
                _ => {}
            }
        }
        (class, ident)
    }

    /// The parent node.
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        opt(self.nodes[id.index()].parent)
    }

    /// The first child.
    pub fn first_child(&self, id: NodeId) -> Option<NodeId> {
        opt(self.nodes[id.index()].first_child)
    }

    /// The last child.
    pub fn last_child(&self, id: NodeId) -> Option<NodeId> {
        opt(self.nodes[id.index()].last_child)
    }

    /// The next sibling.
    pub fn next_sibling(&self, id: NodeId) -> Option<NodeId> {
        opt(self.nodes[id.index()].next)
    }

    /// The previous sibling.
    pub fn prev_sibling(&self, id: NodeId) -> Option<NodeId> {
        opt(self.nodes[id.index()].prev)
    }

    /// The next sibling that is an element.
    pub fn next_element_sibling(&self, id: NodeId) -> Option<NodeId> {
        let mut cur = self.next_sibling(id);
        while let Some(c) = cur {
            if self.is_element(c) {
                return Some(c);
            }
            cur = self.next_sibling(c);
        }
        None
    }

    /// The previous sibling that is an element.
    pub fn prev_element_sibling(&self, id: NodeId) -> Option<NodeId> {
        let mut cur = self.prev_sibling(id);
        while let Some(c) = cur {
            if self.is_element(c) {
                return Some(c);
            }
            cur = self.prev_sibling(c);
        }
        None
    }

    /// The children, first to last.
    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children {
            dom: self,
            next: self.nodes[id.index()].first_child,
        }
    }

    /// The element children, first to last.
    pub fn element_children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id).filter(|&c| self.is_element(c))
    }

    /// The node's descendants in document order, not including the node itself.
    pub fn descendants(&self, id: NodeId) -> Descendants<'_> {
        Descendants {
            dom: self,
            root: id,
            next: self.first_child(id),
        }
    }

    /// The ancestors, parent first.
    pub fn ancestors(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.parent(id), move |&p| self.parent(p))
    }

    /// Whether `ancestor` is a proper ancestor of `id`.
    pub fn is_ancestor(&self, ancestor: NodeId, id: NodeId) -> bool {
        self.ancestors(id).any(|a| a == ancestor)
    }

    /// The first descendant element with this tag, in document order.
    pub fn find(&self, id: NodeId, tag: Tag) -> Option<NodeId> {
        self.descendants(id).find(|&d| self.is(d, tag))
    }

    /// The first element with this tag in the whole document (attached or not), found by a
    /// linear scan of the arena: no tree walk.
    pub fn find_any(&self, tag: Tag) -> Option<NodeId> {
        self.ids().find(|&d| self.is(d, tag))
    }

    /// All text below `id`, concatenated as it is in the source (no whitespace folding).
    pub fn text_content(&self, id: NodeId) -> String {
        if let Some(t) = self.text(id) {
            return t.to_string();
        }
        // Sized first: one allocation instead of a doubling per few text nodes.
        let len = self
            .descendants(id)
            .filter_map(|d| self.text(d))
            .map(str::len)
            .sum();
        let mut out = String::with_capacity(len);
        self.append_text(id, &mut out);
        out
    }

    /// Append the text below `id` (or of `id` itself, if it is text) to `out`.
    pub fn append_text(&self, id: NodeId, out: &mut String) {
        if let Some(t) = self.text(id) {
            out.push_str(t);
            return;
        }
        for d in self.descendants(id) {
            if let Some(t) = self.text(d) {
                out.push_str(t);
            }
        }
    }

    /// The `<body>` element, if the page has one.
    pub fn body(&self) -> Option<NodeId> {
        self.find_any(Tag::Body).filter(|&b| self.is_attached(b))
    }

    /// Whether the node is still connected to the document root.
    pub fn is_attached(&self, id: NodeId) -> bool {
        id == self.root() || self.ancestors(id).any(|a| a == self.root())
    }

    /// Record changes from now on, so that [`Dom::rollback`] can undo them (main-content
    /// extraction's retries start again from the parsed page, without parsing it again).
    pub(crate) fn record(&mut self) {
        self.journal = Some(Journal {
            len: self.nodes.len(),
            before: Vec::new(),
        });
    }

    /// Stop recording (and forget what was recorded).
    pub(crate) fn stop_recording(&mut self) {
        self.journal = None;
    }

    /// Undo every change since [`Dom::record`] (or the last rollback): the tree is again as
    /// it was, node for node, and recording goes on.
    pub(crate) fn rollback(&mut self) {
        let Some(j) = &mut self.journal else {
            return;
        };
        // Newest first, so each node ends in its state before its first change.
        for (i, node) in j.before.drain(..).rev() {
            self.nodes[i as usize] = node;
        }
        self.nodes.truncate(j.len);
    }

    /// Note node `i`'s state before a change, when recording.
    fn save(&mut self, i: u32) {
        if let Some(j) = &mut self.journal
            && (i as usize) < j.len
        {
            j.before.push((i, self.nodes[i as usize]));
        }
    }

    /// Remove a node (and its subtree) from its parent. Detached nodes keep their own
    /// subtree and can still be read.
    pub fn detach(&mut self, id: NodeId) {
        let i = id.index();
        let Node {
            parent, prev, next, ..
        } = self.nodes[i];
        if parent == NONE {
            return;
        }
        self.save(id.0);
        self.save(parent);
        if prev != NONE {
            self.save(prev);
            self.nodes[prev as usize].next = next;
        } else {
            self.nodes[parent as usize].first_child = next;
        }
        if next != NONE {
            self.save(next);
            self.nodes[next as usize].prev = prev;
        } else {
            self.nodes[parent as usize].last_child = prev;
        }
        let n = &mut self.nodes[i];
        n.parent = NONE;
        n.prev = NONE;
        n.next = NONE;
    }

    /// Replace an element by its children (unwrap it).
    pub fn unwrap(&mut self, id: NodeId) {
        let Some(parent) = self.parent(id) else {
            return;
        };
        let mut child = self.first_child(id);
        while let Some(c) = child {
            child = self.next_sibling(c);
            self.detach(c);
            self.insert_before(parent, c, id);
        }
        self.detach(id);
    }

    /// Insert the detached node `new` into `parent` before `reference`.
    fn insert_before(&mut self, parent: NodeId, new: NodeId, reference: NodeId) {
        let r = reference.index();
        let prev = self.nodes[r].prev;
        self.save(new.0);
        self.save(reference.0);
        self.save(parent.0);
        if prev != NONE {
            self.save(prev);
        }
        {
            let n = &mut self.nodes[new.index()];
            n.parent = parent.0;
            n.prev = prev;
            n.next = reference.0;
        }
        self.nodes[r].prev = new.0;
        if prev != NONE {
            self.nodes[prev as usize].next = new.0;
        } else {
            self.nodes[parent.index()].first_child = new.0;
        }
    }

    /// Create a new, detached element (no attributes).
    pub fn create_element(&mut self, tag: Tag) -> NodeId {
        self.nodes.push(Node {
            data: NodeData::Element {
                tag,
                name: Span::default(),
                attrs_start: 0,
                attrs_len: 0,
            },
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            next: NONE,
            prev: NONE,
        });
        NodeId(self.nodes.len() as u32 - 1)
    }

    /// Move `child` (detaching it first) to the end of `parent`'s children.
    pub fn append_child(&mut self, parent: NodeId, child: NodeId) {
        self.detach(child);
        let last = self.nodes[parent.index()].last_child;
        self.save(child.0);
        self.save(parent.0);
        if last != NONE {
            self.save(last);
        }
        {
            let c = &mut self.nodes[child.index()];
            c.parent = parent.0;
            c.prev = last;
            c.next = NONE;
        }
        if last != NONE {
            self.nodes[last as usize].next = child.0;
        } else {
            self.nodes[parent.index()].first_child = child.0;
        }
        self.nodes[parent.index()].last_child = child.0;
    }

    /// Change an element's tag (e.g. a `<div>` holding only text becomes a `<p>`).
    pub fn set_tag(&mut self, id: NodeId, new_tag: Tag) {
        self.save(id.0);
        if let NodeData::Element { tag, name, .. } = &mut self.nodes[id.index()].data {
            *tag = new_tag;
            *name = Span::default();
        }
    }

    /// Append a new node as the last child of `parent`; used by the parser.
    pub(crate) fn append(&mut self, parent: u32, data: NodeData) -> u32 {
        let id = self.nodes.len() as u32;
        let last = self.nodes[parent as usize].last_child;
        self.nodes.push(Node {
            data,
            parent,
            first_child: NONE,
            last_child: NONE,
            next: NONE,
            prev: last,
        });
        if last != NONE {
            self.nodes[last as usize].next = id;
        } else {
            self.nodes[parent as usize].first_child = id;
        }
        self.nodes[parent as usize].last_child = id;
        id
    }
}

/// Iterator over a node's children.
pub struct Children<'a> {
    dom: &'a Dom,
    next: u32,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let cur = opt(self.next)?;
        self.next = self.dom.nodes[cur.index()].next;
        Some(cur)
    }
}

/// Iterator over a node's descendants in document order.
pub struct Descendants<'a> {
    dom: &'a Dom,
    root: NodeId,
    next: Option<NodeId>,
}

impl Descendants<'_> {
    /// Skip the subtree of the node returned last: the walk goes on with its next sibling
    /// (or its nearest ancestor's).
    pub fn skip_subtree(&mut self, of: NodeId) {
        self.next = self.after_subtree(of);
    }

    fn after_subtree(&self, mut cur: NodeId) -> Option<NodeId> {
        loop {
            if cur == self.root {
                return None;
            }
            if let Some(n) = self.dom.next_sibling(cur) {
                return Some(n);
            }
            cur = self.dom.parent(cur)?;
        }
    }
}

impl Iterator for Descendants<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let cur = self.next?;
        self.next = match self.dom.first_child(cur) {
            Some(c) => Some(c),
            None => self.after_subtree(cur),
        };
        Some(cur)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every node's links, for comparing trees node for node.
    fn links(dom: &Dom) -> Vec<(u32, u32, u32, u32, u32)> {
        dom.nodes
            .iter()
            .map(|n| (n.parent, n.first_child, n.last_child, n.next, n.prev))
            .collect()
    }

    #[test]
    fn rollback_restores_the_parsed_tree() {
        let html = "<body><div id=a><p>one</p><p>two <b>x</b></p></div><ul><li>i</li></ul></body>";
        let mut dom = Dom::parse(html);
        let parsed = links(&dom);
        let len = dom.len();
        dom.record();
        for _ in 0..2 {
            let p = dom.find_any(Tag::P).unwrap();
            let li = dom.find_any(Tag::Li).unwrap();
            let b = dom.find_any(Tag::B).unwrap();
            dom.detach(p);
            let wrapper = dom.create_element(Tag::Div);
            dom.append_child(wrapper, li);
            dom.append_child(wrapper, b);
            dom.unwrap(dom.find_any(Tag::Ul).unwrap());
            assert_ne!(links(&dom), parsed);
            dom.rollback();
            assert_eq!(dom.len(), len);
            assert_eq!(links(&dom), parsed);
        }
        dom.stop_recording();
        assert_eq!(
            crate::serialize::to_html(&dom, dom.root()),
            crate::serialize::to_html(&Dom::parse(html), Dom::parse(html).root())
        );
    }
}
