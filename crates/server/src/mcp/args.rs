//! The tools' argument and result types. Argument schemas are flat (no `anyOf`, `oneOf`
//! or `$ref`: some agent hosts reject them): optional numbers are plain integers with a
//! default, enums are inlined string enums whose values are accepted in any case.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A string enum accepted case-insensitively, with an inlined `{"type": "string", "enum"}`
/// schema.
macro_rules! loose_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? } default $default:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum $name {
            $($variant,)+
        }

        impl Default for $name {
            fn default() -> Self {
                Self::$default
            }
        }

        impl $name {
            pub(crate) const NAMES: &'static [&'static str] = &[$($text),+];

            pub(crate) fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                $(if s.eq_ignore_ascii_case($text) { return Some(Self::$variant); })+
                None
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "{s:?}: use one of {}",
                        Self::NAMES.join(", ")
                    ))
                })
            }
        }

        impl JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({"type": "string", "enum": Self::NAMES})
            }
        }
    };
}

loose_enum!(
    /// What `scrape` answers with.
    Format { Markdown = "markdown", Text = "text", Html = "html", Json = "json" } default Markdown
);
loose_enum!(
    /// Whether a page is rendered in the browser.
    RenderMode { Auto = "auto", Always = "always", Never = "never" } default Auto
);

fn yes() -> bool {
    true
}

/// `scrape`: one page.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ScrapeArgs {
    /// The page, an absolute http(s) URL.
    pub(crate) url: String,
    /// markdown (default), text, html or json (the page's metadata and Markdown).
    #[serde(default)]
    pub(crate) format: Format,
    /// The main content only (default true); false: the whole page.
    #[serde(default = "yes")]
    pub(crate) only_main_content: bool,
    /// auto (default: render only a page that needs JavaScript), always, never (HTTP
    /// only).
    #[serde(default)]
    pub(crate) render: RenderMode,
    /// Render and wait for this: a CSS selector (`css:` optional) or `js:` and a
    /// JavaScript condition.
    #[serde(default)]
    pub(crate) wait_for: String,
    /// Fields to pull out of the page with the server's LLM, said in a sentence (with
    /// `json_schema`: how to fill it). The answer is in `extracted`.
    #[serde(default)]
    pub(crate) prompt: String,
    /// A JSON Schema (an object) the LLM's answer must fill; asks for an LLM extraction.
    #[serde(default)]
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub(crate) json_schema: Option<serde_json::Map<String, Value>>,
    /// A crawl4ai CSS extraction schema (`{name, baseSelector, fields}`): its items, in
    /// `extracted`, without an LLM. Takes precedence over `prompt` and `json_schema`.
    #[serde(default)]
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub(crate) css_schema: Option<serde_json::Map<String, Value>>,
}

/// `crawl`: start a crawl job of a site.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct CrawlArgs {
    /// The start URL, an absolute http(s) URL.
    pub(crate) url: String,
    /// Most pages (default 100, at most 10,000).
    #[serde(default)]
    #[schemars(with = "u64")]
    pub(crate) limit: Option<u64>,
    /// Most links from the start page (at most 100); absent: no limit.
    #[serde(default)]
    #[schemars(with = "u64")]
    pub(crate) depth: Option<u64>,
    /// Regular expressions over the whole URL; a URL must match one (when given).
    #[serde(default)]
    pub(crate) include: Vec<String>,
    /// Regular expressions over the whole URL; a URL matching one is skipped.
    #[serde(default)]
    pub(crate) exclude: Vec<String>,
}

/// `crawl_status`: a job's status and a page of its results.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct CrawlStatusArgs {
    /// The job id `crawl` answered with.
    pub(crate) id: String,
    /// The `next_cursor` of the previous answer (absent: from the first result).
    #[serde(default)]
    #[schemars(with = "i64")]
    pub(crate) cursor: Option<i64>,
    /// Results a page (default 10, at most 100; at most 8 MiB a page).
    #[serde(default)]
    #[schemars(with = "u64")]
    pub(crate) limit: Option<u64>,
}

/// `map`: a site's URLs.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct MapArgs {
    /// The site, an absolute http(s) URL (its page's links and the sitemaps of its host).
    pub(crate) url: String,
    /// Most URLs (default 1,000, at most 100,000).
    #[serde(default)]
    #[schemars(with = "u64")]
    pub(crate) limit: Option<u64>,
    /// Only URLs containing this text (case-insensitive).
    #[serde(default)]
    pub(crate) search: String,
    /// Read the sitemaps (default true).
    #[serde(default = "yes")]
    pub(crate) sitemaps: bool,
}

/// `screenshot`: a PNG of the rendered page.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ScreenshotArgs {
    /// The page, an absolute http(s) URL.
    pub(crate) url: String,
    /// The whole page (default true) or the first screen.
    #[serde(default = "yes")]
    pub(crate) full_page: bool,
}

/// `search_page`: the blocks of a page that bear on a query (BM25).
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct SearchPageArgs {
    /// The page, an absolute http(s) URL.
    pub(crate) url: String,
    /// What to look for; empty: the page's title and description.
    #[serde(default)]
    pub(crate) query: String,
}

/// `scrape`'s structured result.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ScrapeOut {
    /// The URL asked for.
    pub(crate) url: String,
    /// The URL after redirects.
    pub(crate) final_url: String,
    /// The HTTP status.
    pub(crate) status: u16,
    /// The page's title, when it has one.
    pub(crate) title: String,
    /// The format of `content`.
    pub(crate) format: String,
    /// The page in that format.
    pub(crate) content: String,
    /// Whether the page was rendered in the browser.
    pub(crate) rendered: bool,
    /// What `css_schema` (a list of items), or `prompt`/`json_schema` (the LLM's value)
    /// extracted; absent without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) extracted: Option<Value>,
}

/// `crawl`'s structured result.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CrawlOut {
    /// The job id, for `crawl_status`.
    pub(crate) id: String,
    /// queued.
    pub(crate) status: String,
}

/// `crawl_status`'s structured result.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CrawlStatusOut {
    pub(crate) id: String,
    /// queued, running, completed, failed or cancelled.
    pub(crate) status: String,
    /// Pages known so far (grows while the crawl discovers links).
    pub(crate) total: i64,
    /// Pages done.
    pub(crate) done: i64,
    /// This page of results: one object per page crawled (url, status, markdown, …).
    pub(crate) results: Vec<Value>,
    /// Pass as `cursor` for the next page (results after this one; while the crawl runs,
    /// more may come after it).
    pub(crate) next_cursor: i64,
    /// Whether more results are stored after this page now.
    pub(crate) more: bool,
    /// The job's error, when it failed.
    pub(crate) error: String,
}

/// `map`'s structured result.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct MapOut {
    pub(crate) url: String,
    /// The site's URLs: the page itself, its internal links, then its sitemaps' URLs.
    pub(crate) links: Vec<String>,
}

/// `search_page`'s structured result.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SearchPageOut {
    pub(crate) url: String,
    pub(crate) query: String,
    /// The blocks that bear on the query, under their headings, as Markdown.
    pub(crate) markdown: String,
}
