//! gannet-extract: HTML bytes to a [`gannet_core::Document`].
//!
//! Pure: [`extract`] does no I/O. The pipeline is
//! decode ([`decode`]) → parse ([`Dom`], our own fast parser) → metadata ([`metadata`]) →
//! main content (`content`, Readability-style scoring widened for multi-block pages) →
//! Markdown and text ([`markdown`]) + links and images ([`links`]).
//!
//! ```
//! let html = b"<html><head><title>Hello - Site</title></head><body><article>\
//!     <h1>Hello</h1><p>A first paragraph of real content, long enough to count.</p>\
//!     </article></body></html>";
//! let doc = gannet_extract::extract(html, None, &gannet_extract::Options::default());
//! assert!(doc.markdown.contains("A first paragraph"));
//! ```

mod content;
pub mod decode;
pub mod dom;
mod entities;
pub mod links;
pub mod markdown;
pub mod metadata;
mod parse;
pub mod relevance;
pub mod serialize;
pub mod tag;
mod tagtext;
mod textstat;

pub use dom::{Dom, NodeId};
pub use parse::MAX_DEPTH;
pub use tag::Tag;

use gannet_core::Document;
use url::Url;

/// How to extract.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Render the whole page instead of its main content.
    pub raw: bool,
    /// Charset named by the transport (HTTP `Content-Type`), if any.
    pub charset: Option<String>,
    /// Leave [`Document::links`] empty: for callers that want only the Markdown (links in
    /// the Markdown are resolved either way). Resolving every link of a link-heavy page
    /// is a tenth of its extraction.
    pub skip_links: bool,
}

/// Extract a document from HTML bytes (any charset: see [`decode`]).
pub fn extract(html: &[u8], url: Option<&Url>, options: &Options) -> Document {
    let (text, _) = decode::decode_html(html, options.charset.as_deref());
    ParsedPage::parse(&text, url)
        .into_document(options, false)
        .0
}

/// Extract a document and also return the cleaned content as HTML.
pub fn extract_with_html(html: &[u8], url: Option<&Url>, options: &Options) -> (Document, String) {
    let (text, _) = decode::decode_html(html, options.charset.as_deref());
    ParsedPage::parse(&text, url).into_document(options, true)
}

/// Extract a document from HTML text.
pub fn extract_str(html: &str, url: Option<&Url>, options: &Options) -> Document {
    ParsedPage::parse(html, url).into_document(options, false).0
}

/// A page parsed once: its DOM as parsed, its metadata and the URL its links resolve
/// against. Every view of the page comes from this one parse: the main content
/// ([`ParsedPage::document`] with `raw: false`), the whole page (`raw: true`) and
/// selections over [`ParsedPage::dom`] (schemas), in any number and order.
#[derive(Debug, Clone)]
pub struct ParsedPage {
    dom: Dom,
    url: Option<Url>,
    meta: metadata::Metadata,
    nodes: metadata::MetadataNodes,
    /// The page URL, else its canonical URL.
    page_url: Option<Url>,
    /// `<base href>`, else the page URL.
    base: Option<Url>,
}

impl ParsedPage {
    /// Parses HTML text (never fails: any input gives a page).
    pub fn parse(html: &str, url: Option<&Url>) -> ParsedPage {
        let dom = Dom::parse(html);
        let (meta, nodes) = metadata::analyze(
            &dom,
            url,
            &metadata::MetadataOptions {
                title: metadata::TitleStyle::Auto,
            },
        );
        // Relative links resolve against <base href>, the page URL, else the canonical URL.
        let page_url = url
            .cloned()
            .or_else(|| meta.canonical.as_deref().and_then(|c| Url::parse(c).ok()));
        let base = links::base_url(&dom, page_url.as_ref()).or_else(|| page_url.clone());
        ParsedPage {
            dom,
            url: url.cloned(),
            meta,
            nodes,
            page_url,
            base,
        }
    }

    /// Decodes HTML bytes (any charset: see [`decode`]) and parses them.
    pub fn decode(html: &[u8], url: Option<&Url>, charset: Option<&str>) -> ParsedPage {
        let (text, _) = decode::decode_html(html, charset);
        ParsedPage::parse(&text, url)
    }

    /// The DOM as parsed (main-content extraction works on a copy).
    pub fn dom(&self) -> &Dom {
        &self.dom
    }

    /// The page's metadata.
    pub fn metadata(&self) -> &metadata::Metadata {
        &self.meta
    }

    /// The URL relative links resolve against (`<base href>`, the page URL, else the
    /// canonical URL).
    pub fn base_url(&self) -> Option<&Url> {
        self.base.as_ref()
    }

    /// The page as a document: its main content, or the whole page with `raw`
    /// (`options.charset` is not read: the page is already decoded). The parsed DOM stays
    /// as it is, for further views.
    pub fn document(&self, options: &Options) -> Document {
        self.view(None, options, false).0
    }

    /// [`ParsedPage::document`], with the cleaned content also serialized as HTML.
    pub fn document_with_html(&self, options: &Options) -> (Document, String) {
        self.view(None, options, true)
    }

    /// The last view of a page: as [`ParsedPage::document`] (the HTML empty unless
    /// `want_html`), without copying the DOM.
    pub fn into_document(mut self, options: &Options, want_html: bool) -> (Document, String) {
        if options.raw {
            return self.view(None, options, want_html);
        }
        let dom = std::mem::replace(&mut self.dom, Dom::with_capacity(""));
        self.view(Some(dom), options, want_html)
    }

    /// One view; `owned` is the DOM main-content extraction may consume, when the caller
    /// gives it up (else the DOM is copied). Links are always read from `owned` or the
    /// parsed DOM before it changes.
    fn view(&self, owned: Option<Dom>, options: &Options, want_html: bool) -> (Document, String) {
        let url = self.url.as_ref();
        let page_url = self.page_url.as_ref();
        let base = self.base.as_ref();
        let meta = &self.meta;
        let source = owned.as_ref().unwrap_or(&self.dom);
        let page_host = page_url.and_then(|u| u.host_str().map(str::to_string));
        let all_links = if options.skip_links {
            Vec::new()
        } else {
            links::collect_links(source, source.root(), base, page_host.as_deref())
        };
        let content;
        let (clean, root, page_type) = if options.raw {
            // The whole page: the type from what it declares and its discussion markup.
            let forum = content::is_discussion(source, page_url.map(Url::path));
            let page_type = content::decide_page_type(&content::PageSignals {
                types: &meta.types,
                url_path: page_url.map(Url::path),
                published: meta.published_time.is_some(),
                forum,
                ..Default::default()
            })
            .0;
            let root = source.body().unwrap_or(source.root());
            (source, root, page_type)
        } else {
            let skip: Vec<NodeId> = self
                .nodes
                .byline
                .into_iter()
                .chain(self.nodes.title_heading)
                .collect();
            let input = content::ContentInput {
                url_path: page_url.map(Url::path),
                skip_nodes: &skip,
                types: &meta.types,
                published: meta.published_time.is_some(),
            };
            let dom = owned.unwrap_or_else(|| self.dom.clone());
            let (dom, root, page_type) = content::extract_content(dom, &input);
            content = dom;
            (&content, root, page_type)
        };
        let (markdown, text) = if options.raw {
            (
                markdown::to_markdown(clean, root, base),
                markdown::to_text(clean, root),
            )
        } else {
            (
                markdown::to_markdown_cleaned(clean, root, base),
                markdown::to_text_cleaned(clean, root),
            )
        };
        let (markdown, text) = if options.raw {
            (markdown, text)
        } else {
            with_description(markdown, text, meta.excerpt.as_deref())
        };
        let images = links::collect_images(clean, root, base);
        let html_out = if want_html {
            serialize::to_html(clean, root)
        } else {
            String::new()
        };
        let excerpt = meta.excerpt.clone().or_else(|| first_paragraph(&text));
        let doc = Document {
            url: url.map(|u| u.to_string()),
            title: meta.title.clone(),
            byline: meta.byline.clone(),
            excerpt,
            site_name: meta.site_name.clone(),
            published_time: meta.published_time.clone(),
            lang: meta.lang.clone(),
            dir: meta.dir.clone(),
            word_count: textstat::word_count(&text),
            markdown,
            text,
            links: all_links,
            images,
            page_type: Some(page_type),
            extracted: None,
            usage: None,
        };
        (doc, html_out)
    }
}

/// Content shorter than this (visible characters) may be a page whose body its scripts
/// fill in.
const SCRIPT_SHELL_CHARS: usize = 100;

/// A page whose body carries (almost) no text, rendered by scripts, still says what it
/// holds in its description (`og:description`, JSON-LD, `<meta name=description>`): a
/// forum thread's first post, a product's blurb. When the content found is short and the
/// description at least twice as long, the description leads the content.
fn with_description(markdown: String, text: String, description: Option<&str>) -> (String, String) {
    let visible = |s: &str| s.chars().filter(|c| !c.is_whitespace()).count();
    let desc = description.map(tagtext::strip_tags_with_attributes);
    let Some(desc) = desc.as_deref().map(str::trim).filter(|d| !d.is_empty()) else {
        return (markdown, text);
    };
    let found = visible(&text);
    let said = visible(desc);
    if found >= SCRIPT_SHELL_CHARS || said < SCRIPT_SHELL_CHARS || said < found * 2 {
        return (markdown, text);
    }
    // Render through the parser and renderer, so Markdown syntax in it is escaped.
    let mut html = String::with_capacity(desc.len() + 8);
    html.push_str("<p>");
    for c in desc.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            c => html.push(c),
        }
    }
    html.push_str("</p>");
    let dom = Dom::parse(&html);
    let root = dom.body().unwrap_or(dom.root());
    let join = |lead: String, rest: &str| {
        let rest = rest.trim();
        if rest.is_empty() {
            lead
        } else {
            format!("{}\n\n{rest}", lead.trim_end())
        }
    };
    (
        join(markdown::to_markdown(&dom, root, None), &markdown),
        join(markdown::to_text(&dom, root), &text),
    )
}

/// The first paragraph of the content that reads like prose, as an excerpt.
fn first_paragraph(text: &str) -> Option<String> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|p| p.chars().count() >= 40)
        .map(|p| {
            if p.chars().count() > 300 {
                let cut: String = p.chars().take(300).collect();
                format!("{}…", cut.trim_end())
            } else {
                p
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESC: &str = "I'm new to astronomy and excited to start exploring the night sky. \
        I'd love some advice on choosing my first telescope, something *beginner-friendly*.";

    #[test]
    fn skip_links_leaves_the_list_empty_and_the_markdown_links_resolved() {
        let html = b"<html><body><article><h1>T</h1><p>A paragraph long enough to be the content, \
            with <a href=\"/other\">a link</a> in the middle of it, and more words after.</p>\
            </article></body></html>";
        let url = Url::parse("https://example.com/a/").unwrap();
        let full = extract(html, Some(&url), &Options::default());
        let lean = extract(
            html,
            Some(&url),
            &Options {
                skip_links: true,
                ..Options::default()
            },
        );
        assert!(!full.links.is_empty());
        assert!(lean.links.is_empty());
        assert_eq!(full.markdown, lean.markdown);
        assert!(
            lean.markdown.contains("(https://example.com/other)"),
            "{}",
            lean.markdown
        );
    }

    #[test]
    fn an_empty_script_shell_page_is_given_its_description() {
        let html = format!(
            "<html><head><title>Thread</title><meta property=\"og:description\" \
             content=\"{DESC}\"></head><body><div id=app></div>\
             <a href=/>Home</a></body></html>"
        );
        let doc = extract_str(&html, None, &Options::default());
        assert!(
            doc.text.contains("excited to start exploring"),
            "{}",
            doc.text
        );
        // Markdown syntax in the description is escaped, not interpreted.
        assert!(
            doc.markdown.contains("\\*beginner-friendly"),
            "{}",
            doc.markdown
        );
    }

    #[test]
    fn a_page_with_content_keeps_it_alone() {
        let para = "A paragraph of real content, long enough to count as the article. ".repeat(4);
        let html = format!(
            "<html><head><meta name=\"description\" content=\"{DESC}\"></head>\
             <body><article><p>{para}</p></article></body></html>"
        );
        let doc = extract_str(&html, None, &Options::default());
        assert!(!doc.text.contains("astronomy"), "{}", doc.text);
        assert!(doc.text.contains("real content"));
    }
}
