//! What kind of page this is.

use super::*;

/// Path words of discussion pages.
pub(super) const DISCUSSION_PATH: WordSet = WordSet::new(&[
    "/forum",
    "/thread",
    "/t/",
    "/topic/",
    "/discussion",
    "/questions/",
    "/community/",
    "/boards/",
    "showthread",
    "viewtopic",
    "/comments/",
]);
/// Class words of discussion markup (on `html`, `body` or `article`/`main` elements).
pub(super) const DISCUSSION_CLASS: WordSet = WordSet::new(&[
    "forum",
    "thread",
    "topic",
    "discussion",
    "question",
    "bbpress",
    "phpbb",
]);

/// Whether the page is a discussion: replies there are content, not boilerplate.
pub(super) fn is_discussion(dom: &Dom, url_path: Option<&str>) -> bool {
    if url_path.is_some_and(|p| DISCUSSION_PATH.in_str(p)) {
        return true;
    }
    dom.ids().take(20_000).any(|id| {
        matches!(
            dom.tag(id),
            Some(Tag::Html | Tag::Body | Tag::Article | Tag::Main)
        ) && {
            let (class, ident) = dom.class_and_id(id);
            DISCUSSION_CLASS.in_str(class) || DISCUSSION_CLASS.in_str(ident)
        }
    })
}

/// Class/id words of replies in discussions.
pub(super) const REPLY: WordSet = WordSet::new(&["comment", "repl", "answer"]);
