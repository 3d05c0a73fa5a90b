//! CSS selectors (Servo's `selectors` crate) matched on gannet's arena DOM.
//!
//! The `Element` implementation follows scraper's (`element_ref/element.rs` and
//! `selector.rs`): a `(&Dom, NodeId)` handle, names compared as the parser stored them
//! (lowercase), no namespaces, no pseudo-elements, no quirks mode (ids and classes are
//! case-sensitive, as soupsieve matches them).

use std::cell::Cell;
use std::fmt;
use std::ptr::NonNull;

use cssparser::ToCss;
use gannet_extract::{Dom, NodeId};
use precomputed_hash::PrecomputedHash;
use selectors::attr::{AttrSelectorOperation, CaseSensitivity, NamespaceConstraint};
use selectors::bloom::BloomFilter;
use selectors::matching::{self, ElementSelectorFlags, MatchingContext};
use selectors::parser::{self as sp, ParseRelative, SelectorList, SelectorParseErrorKind};
use selectors::{Element, OpaqueElement};

/// A parsed selector group (`a, b > c`).
#[derive(Clone)]
pub(crate) struct Css {
    list: SelectorList<Simple>,
}

impl fmt::Debug for Css {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.list.to_css_string())
    }
}

impl Css {
    /// Parse a selector group; the error is cssparser's description.
    pub(crate) fn parse(text: &str) -> Result<Css, String> {
        let mut parser = cssparser::Parser::new(text);
        SelectorList::parse(&Parser, &mut parser, ParseRelative::No)
            .map(|list| Css { list })
            .map_err(|e| describe(&e.kind))
    }

    /// Whether `el` matches, with `:scope` standing for `scope`.
    fn matches(
        &self,
        el: El<'_>,
        scope: Option<El<'_>>,
        caches: &mut matching::SelectorCaches,
    ) -> bool {
        let mut context = MatchingContext::new(
            matching::MatchingMode::Normal,
            None,
            caches,
            matching::QuirksMode::NoQuirks,
            matching::NeedsSelectorFlags::No,
            matching::MatchingForInvalidation::No,
        );
        context.scope_element = scope.map(|s| s.opaque());
        self.list
            .slice()
            .iter()
            .any(|s| matching::matches_selector(s, 0, None, el, &mut context))
    }

    /// soupsieve's `select`: the descendants of `root` (not `root` itself) that match, in
    /// document order. `root` may be the document node.
    ///
    /// Matching is bounded: past [`WORK_BUDGET`] tree steps (a `:has()` on a huge, deep
    /// page is quadratic) the selection stops with [`BudgetExceeded`].
    pub(crate) fn select(&self, dom: &Dom, root: NodeId) -> Result<Vec<NodeId>, BudgetExceeded> {
        let mut caches = matching::SelectorCaches::default();
        let work = Cell::new(0u64);
        let work = &work;
        let scope = dom.is_element(root).then_some(El {
            dom,
            id: root,
            work,
        });
        let mut out = Vec::new();
        let mut walk = dom.descendants(root);
        while let Some(d) = walk.next() {
            if !dom.is_element(d) {
                continue;
            }
            if self.matches(El { dom, id: d, work }, scope, &mut caches) {
                out.push(d);
            }
            if work.get() > WORK_BUDGET {
                return Err(BudgetExceeded);
            }
            // soupsieve does not enter a `<template>` below the root: its contents are not
            // part of the document.
            if dom.tag_name(d) == "template" {
                walk.skip_subtree(d);
            }
        }
        Ok(out)
    }
}

/// Most tree steps one selection may take.
const WORK_BUDGET: u64 = 50_000_000;

/// A selection ran out of its work budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("CSS selection exceeded its work budget")]
pub(crate) struct BudgetExceeded;

/// A selector parse error in words.
fn describe(kind: &cssparser::ParseErrorKind<SelectorParseErrorKind>) -> String {
    match kind {
        cssparser::ParseErrorKind::Basic(b) => b.to_string(),
        cssparser::ParseErrorKind::Custom(
            SelectorParseErrorKind::UnsupportedPseudoClassOrElement,
        ) => "unsupported pseudo-class or pseudo-element".into(),
        cssparser::ParseErrorKind::Custom(other) => format!("{other:?}"),
    }
}

/// A handle on one element of a [`Dom`].
#[derive(Clone, Copy)]
struct El<'a> {
    dom: &'a Dom,
    id: NodeId,
    /// Tree steps taken by the current selection.
    work: &'a Cell<u64>,
}

impl fmt::Debug for El<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} #{}>", self.dom.tag_name(self.id), self.id.index())
    }
}

impl<'a> El<'a> {
    /// A neighbour, counting the step; past the budget every step ends the walk.
    fn wrap(self, id: Option<NodeId>) -> Option<El<'a>> {
        let w = self.work.get() + 1;
        self.work.set(w);
        if w > WORK_BUDGET {
            return None;
        }
        id.map(|id| El {
            dom: self.dom,
            id,
            work: self.work,
        })
    }
}

/// The `selectors` parser configuration: Level 4 (`:is`, `:where`, `:has`,
/// `:nth-child(An+B of S)`), nothing vendor-specific.
#[derive(Clone, Copy, Debug)]
struct Parser;

impl<'i> sp::Parser<'i> for Parser {
    type Impl = Simple;
    type Error = SelectorParseErrorKind;

    fn parse_is_and_where(&self) -> bool {
        true
    }

    fn parse_has(&self) -> bool {
        true
    }

    fn parse_nth_child_of(&self) -> bool {
        true
    }
}

/// `SelectorImpl` with plain strings, no pseudo-classes beyond the tree-structural ones
/// `selectors` itself knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Simple;

impl sp::SelectorImpl for Simple {
    type AttrValue = CssString;
    type Identifier = CssString;
    type LocalName = CssString;
    type NamespacePrefix = CssString;
    type NamespaceUrl = CssString;
    type BorrowedNamespaceUrl = CssString;
    type BorrowedLocalName = CssString;
    type NonTSPseudoClass = NoPseudo;
    type PseudoElement = NoPseudoElement;
    type ExtraMatchingData<'a> = ();
}

/// A string that `selectors` can hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CssString(String);

impl<'a> From<&'a str> for CssString {
    fn from(s: &'a str) -> Self {
        CssString(s.to_owned())
    }
}

impl AsRef<str> for CssString {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl ToCss for CssString {
    fn to_css<W: fmt::Write>(&self, dest: &mut W) -> fmt::Result {
        cssparser::serialize_identifier(&self.0, dest)
    }
}

impl PrecomputedHash for CssString {
    fn precomputed_hash(&self) -> u32 {
        // FNV-1a: only feeds the bloom filter, which we do not use.
        self.0.bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ b as u32).wrapping_mul(0x0100_0193)
        })
    }
}

/// No non-tree-structural pseudo-classes (`:hover`, `:checked`, ...): they are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NoPseudo {}

impl sp::NonTSPseudoClass for NoPseudo {
    fn is_active_or_hover(&self) -> bool {
        match *self {}
    }
    fn is_user_action_state(&self) -> bool {
        match *self {}
    }
}

impl ToCss for NoPseudo {
    fn to_css<W: fmt::Write>(&self, _dest: &mut W) -> fmt::Result {
        match *self {}
    }
}

/// No pseudo-elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NoPseudoElement {}

impl sp::PseudoElement for NoPseudoElement {}

impl ToCss for NoPseudoElement {
    fn to_css<W: fmt::Write>(&self, _dest: &mut W) -> fmt::Result {
        match *self {}
    }
}

impl Element for El<'_> {
    type Impl = Simple;

    fn opaque(&self) -> OpaqueElement {
        // A distinct non-null address per node; never dereferenced.
        let ptr = std::ptr::without_provenance_mut::<()>(self.id.index() + 1);
        OpaqueElement::from_ptr(NonNull::new(ptr).unwrap_or(NonNull::dangling()))
    }

    fn parent_element(&self) -> Option<Self> {
        // Navigation stops at a `<template>` (soupsieve's `get_parent`).
        self.wrap(
            self.dom
                .parent(self.id)
                .filter(|&p| self.dom.is_element(p) && self.dom.tag_name(p) != "template"),
        )
    }

    fn parent_node_is_shadow_root(&self) -> bool {
        false
    }

    fn containing_shadow_host(&self) -> Option<Self> {
        None
    }

    fn is_pseudo_element(&self) -> bool {
        false
    }

    fn prev_sibling_element(&self) -> Option<Self> {
        self.wrap(self.dom.prev_element_sibling(self.id))
    }

    fn next_sibling_element(&self) -> Option<Self> {
        self.wrap(self.dom.next_element_sibling(self.id))
    }

    fn first_element_child(&self) -> Option<Self> {
        self.wrap(self.dom.element_children(self.id).next())
    }

    fn is_html_element_in_html_document(&self) -> bool {
        true
    }

    fn has_local_name(&self, name: &CssString) -> bool {
        self.dom.tag_name(self.id) == name.0
    }

    fn has_namespace(&self, ns: &CssString) -> bool {
        ns.0.is_empty() || ns.0 == "http://www.w3.org/1999/xhtml"
    }

    fn is_same_type(&self, other: &Self) -> bool {
        self.dom.tag_name(self.id) == other.dom.tag_name(other.id)
    }

    fn attr_matches(
        &self,
        _ns: &NamespaceConstraint<&CssString>,
        local_name: &CssString,
        operation: &AttrSelectorOperation<&CssString>,
    ) -> bool {
        // The first of duplicate attributes counts, as in the HTML tree.
        self.dom
            .attr(self.id, &local_name.0)
            .is_some_and(|v| operation.eval_str(v))
    }

    fn match_non_ts_pseudo_class(
        &self,
        pc: &NoPseudo,
        _context: &mut MatchingContext<'_, Simple>,
    ) -> bool {
        match *pc {}
    }

    fn match_pseudo_element(
        &self,
        pe: &NoPseudoElement,
        _context: &mut MatchingContext<'_, Simple>,
    ) -> bool {
        match *pe {}
    }

    fn apply_selector_flags(&self, _flags: ElementSelectorFlags) {}

    fn is_link(&self) -> bool {
        matches!(self.dom.tag_name(self.id), "a" | "area" | "link")
            && self.dom.has_attr(self.id, "href")
    }

    fn is_html_slot_element(&self) -> bool {
        false
    }

    fn has_id(&self, id: &CssString, case_sensitivity: CaseSensitivity) -> bool {
        self.dom
            .attr(self.id, "id")
            .is_some_and(|v| case_sensitivity.eq(v.as_bytes(), id.0.as_bytes()))
    }

    fn has_class(&self, name: &CssString, case_sensitivity: CaseSensitivity) -> bool {
        self.dom.attr(self.id, "class").is_some_and(|v| {
            v.split(is_html_space)
                .any(|c| case_sensitivity.eq(c.as_bytes(), name.0.as_bytes()))
        })
    }

    fn has_custom_state(&self, _name: &CssString) -> bool {
        false
    }

    fn imported_part(&self, _name: &CssString) -> Option<CssString> {
        None
    }

    fn is_part(&self, _name: &CssString) -> bool {
        false
    }

    fn is_empty(&self) -> bool {
        !self
            .dom
            .children(self.id)
            .any(|c| self.dom.is_element(c) || self.dom.text(c).is_some_and(|t| !t.is_empty()))
    }

    fn is_root(&self) -> bool {
        self.dom
            .parent(self.id)
            .is_some_and(|p| p == self.dom.root())
    }

    fn add_element_unique_hashes(&self, _filter: &mut BloomFilter) -> bool {
        false
    }
}

/// ASCII whitespace as HTML splits class lists.
fn is_html_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dom: &Dom, ids: &[NodeId]) -> Vec<String> {
        ids.iter()
            .map(|&i| {
                let mut s = dom.tag_name(i).to_string();
                if let Some(c) = dom.attr(i, "class") {
                    s.push('.');
                    s.push_str(c);
                }
                s
            })
            .collect()
    }

    #[test]
    fn selects_descendants_in_document_order() {
        let dom = Dom::parse(
            "<div class='a b' id=x><p class=b>1</p><span><p>2</p></span></div><p class=b>3</p>",
        );
        let sel = Css::parse("p.b, span > p").unwrap();
        assert_eq!(
            names(&dom, &sel.select(&dom, dom.root()).unwrap()),
            ["p.b", "p", "p.b"]
        );
        let div = sel.select(&dom, dom.root()).unwrap()[0];
        let div = dom.parent(div).unwrap();
        // The root of a select is not a candidate itself; :scope is the root.
        let sc = Css::parse(":scope > p, div").unwrap();
        assert_eq!(names(&dom, &sc.select(&dom, div).unwrap()), ["p.b"]);
        assert!(
            Css::parse("#x:has(> span p)")
                .unwrap()
                .select(&dom, dom.root())
                .unwrap()
                .len()
                == 1
        );
        assert!(Css::parse("div:hover").is_err());
        assert!(Css::parse("p >").is_err());
        assert!(Css::parse("> p").is_err());
    }

    #[test]
    fn attributes_nth_child_and_empty() {
        let dom = Dom::parse(
            "<ul><li data-k='x y'>a</li><li></li><li data-k=Z>c</li></ul><input type=TEXT>",
        );
        let count = |s: &str| {
            Css::parse(s)
                .unwrap()
                .select(&dom, dom.root())
                .unwrap()
                .len()
        };
        assert_eq!(count("li[data-k~=y]"), 1);
        assert_eq!(count("li[data-k^=x]"), 1);
        assert_eq!(count("li[data-k=z i]"), 1);
        assert_eq!(count("li:nth-child(2n+1)"), 2);
        assert_eq!(count("li:empty"), 1);
        assert_eq!(count("li:last-of-type"), 1);
        assert_eq!(count("li:not([data-k])"), 1);
        // `type` values compare case-insensitively in HTML.
        assert_eq!(count("input[type=text]"), 1);
    }
}
