//! The boundary of discussions (forum threads, Q&A pages): every post is content.

use super::*;

/// How far above the best candidate (levels) a post may sit.
const POST_DEPTH: usize = 5;

impl<'d, 'i> Extractor<'d, 'i> {
    /// On a discussion, the block that holds every post: the parent of the first element
    /// at or above `top` (up to [`POST_DEPTH`] levels) that is one of two or more like
    /// siblings (same tag, same class without its numbered tokens, as `post_2`,
    /// `msg4175421`) whose other members carry prose. One long post (a pasted log)
    /// outweighs the short replies around it, and [`Self::widen`], which asks for much
    /// more prose above, stops at it. Not past `body`, not into a block that is mostly
    /// links. `None` when the page is not a discussion or no such run is found.
    pub(super) fn thread_of(&mut self, top: NodeId, body: NodeId) -> Option<NodeId> {
        if !self.flags.forum {
            return None;
        }
        let mut n = top;
        for _ in 0..POST_DEPTH {
            let p = self.dom.parent(n)?;
            if n == body || p == body || !self.dom.is_element(p) {
                return None;
            }
            if self.dom.attr(n, "class").is_some_and(|c| !c.is_empty()) {
                let tag = self.dom.tag(n);
                let sig = self.memo.class_signature(self.dom, n);
                let mut like = 0u32;
                let mut others_good = 0u32;
                let kids: Vec<NodeId> = self.dom.element_children(p).collect();
                for c in kids {
                    if self.dom.tag(c) == tag && self.memo.class_signature(self.dom, c) == sig {
                        like += 1;
                        if c != n {
                            others_good += self.agg_of(c).good;
                        }
                    }
                }
                if like >= 2 && others_good >= 50 && self.agg_of(p).link_density() < 0.5 {
                    return Some(p);
                }
            }
            n = p;
        }
        None
    }
}
