//! gannet-schema: deterministic structured extraction, crawl4ai-compatible.
//!
//! Pure: (document, schema) → JSON. Implements crawl4ai's `JsonCssExtractionStrategy`
//! (and `JsonLxmlExtractionStrategy`, its alias), `JsonXPathExtractionStrategy` and
//! `RegexExtractionStrategy` with crawl4ai's semantics (0.9.5): the first match of a
//! selector wins, `None` values and empty items are dropped, `type` may be a pipeline
//! (`["attribute", "regex"]`), `transform` is lowercase/uppercase/strip, `source: "+ sel"`
//! reads a following sibling, `default` stands in for a missing value and for a field
//! whose extraction fails.
//!
//! CSS runs Servo's `selectors` on gannet's own DOM (one parse, shared with Markdown
//! extraction); XPath runs our own XPath 1.0 evaluator (a documented subset: see
//! [`xpath`]). Text and HTML values imitate BeautifulSoup (CSS) and lxml (XPath), the
//! backends crawl4ai uses.
//!
//! Deliberate differences, each a clear error where crawl4ai would silently give the
//! default on every page: an invalid selector, a regex that does not compile or has no
//! such `group`, an unknown `type` or `transform`, `computed` fields (crawl4ai no longer
//! evaluates `expression`s; a `function` cannot come from JSON), and regex features
//! Rust's linear-time engine lacks (look-around, backreferences). Where gannet's parser
//! differs from lxml's (it keeps no comments, no `<style>` or non-JSON `<script>`
//! bodies, and builds malformed markup by HTML5's rules), `html` values and text may
//! differ on such markup.
//!
//! ```
//! let schema = gannet_schema::Schema::css(&serde_json::json!({
//!     "name": "products", "baseSelector": "div.product",
//!     "fields": [
//!         {"name": "title", "selector": "h2", "type": "text"},
//!         {"name": "price", "selector": ".price", "type": "regex", "pattern": "([\\d.]+)"},
//!     ]
//! })).unwrap();
//! let dom = gannet_extract::Dom::parse(
//!     "<div class=product><h2> Tea </h2><span class=price>$4.50</span></div>");
//! let items = schema.extract(&dom).unwrap();
//! assert_eq!(items, vec![serde_json::json!({"title": "Tea", "price": "4.50"})]);
//! ```

mod css;
mod extract;
mod pyre;
mod regex_strategy;
mod schema;
mod serialize;
pub mod xpath;

use gannet_extract::Dom;
use serde_json::Value;

pub use regex_strategy::{ALL as REGEX_ALL, BUILTIN_PATTERNS, RegexStrategy};

/// Which selector dialect a schema's selectors are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaKind {
    /// CSS (`JsonCssExtractionStrategy`, `JsonLxmlExtractionStrategy`).
    Css,
    /// XPath (`JsonXPathExtractionStrategy`).
    XPath,
}

impl SchemaKind {
    /// The kind for a crawl4ai strategy class name, if it is a JSON schema strategy.
    pub fn from_strategy_name(name: &str) -> Option<SchemaKind> {
        match name {
            "JsonCssExtractionStrategy" | "JsonLxmlExtractionStrategy" => Some(SchemaKind::Css),
            "JsonXPathExtractionStrategy" => Some(SchemaKind::XPath),
            _ => None,
        }
    }
}

/// A deterministic crawl4ai extraction strategy, as a crawl4ai request names it.
#[derive(Debug, Clone)]
pub enum Strategy {
    /// `JsonCssExtractionStrategy`, `JsonLxmlExtractionStrategy`,
    /// `JsonXPathExtractionStrategy`: runs on the parsed page.
    Json(Schema),
    /// `RegexExtractionStrategy`: runs on the text its `input_format` names
    /// (crawl4ai's default `fit_html`; also `html`, `cleaned_html`, `markdown`,
    /// `fit_markdown`, `text`): the caller provides that text.
    Regex {
        strategy: RegexStrategy,
        input_format: String,
    },
}

impl Strategy {
    /// From crawl4ai's serialized form `{"type": NAME, "params": {...}}` (the params
    /// already unwrapped; a `{"type": "dict", "value": ...}` schema is unwrapped here).
    /// `None` for a strategy that is not deterministic (LLM, cosine): not ours.
    pub fn from_crawl4ai(name: &str, params: &Value) -> Option<Result<Strategy, SchemaError>> {
        let param = |k: &str| {
            let v = params.get(k)?;
            Some(match v {
                Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("dict") => {
                    o.get("value").unwrap_or(v)
                }
                _ => v,
            })
        };
        if let Some(kind) = SchemaKind::from_strategy_name(name) {
            let Some(schema) = param("schema") else {
                return Some(Err(SchemaError::Invalid(format!("{name} needs `schema`"))));
            };
            return Some(Schema::from_json(schema, kind).map(Strategy::Json));
        }
        if name != "RegexExtractionStrategy" {
            return None;
        }
        let mut p = serde_json::Map::new();
        for k in ["pattern", "custom"] {
            if let Some(v) = param(k) {
                p.insert(k.to_string(), v.clone());
            }
        }
        let input_format = param("input_format")
            .and_then(Value::as_str)
            .unwrap_or("fit_html")
            .to_string();
        Some(
            RegexStrategy::from_params(&Value::Object(p)).map(|strategy| Strategy::Regex {
                strategy,
                input_format,
            }),
        )
    }
}

/// Why a schema (or regex strategy) is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemaError {
    /// Not the shape crawl4ai's schema has.
    #[error("invalid schema: {0}")]
    Invalid(String),
    /// A selector that does not parse (or uses an unsupported XPath construct).
    #[error("field `{field}`: bad selector {selector:?}: {reason}")]
    Selector {
        field: String,
        selector: String,
        reason: String,
    },
    /// A regex that does not compile here.
    #[error("field `{field}`: bad regex: {reason}")]
    Regex { field: String, reason: String },
    /// A `computed` field (an `expression` or a `function`): never evaluated.
    #[error(
        "field `{0}`: computed fields (`expression`/`function`) are not supported: \
         gannet never executes code from a schema"
    )]
    Computed(String),
}

/// Why an extraction failed where crawl4ai's fails the whole page.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExtractError {
    /// A `baseFields` entry raised (crawl4ai does not catch errors there), e.g. a
    /// `transform` on an attribute the element lacks.
    #[error("base field `{field}` failed: {reason}")]
    BaseField { field: String, reason: String },
    /// The base selector could not be evaluated (XPath work budget exceeded).
    #[error("base selector failed: {0}")]
    Base(String),
}

/// A compiled crawl4ai JSON schema, reusable across pages.
#[derive(Debug, Clone)]
pub struct Schema {
    kind: SchemaKind,
    name: Option<String>,
    base: schema::Sel,
    base_fields: Vec<schema::Field>,
    fields: Vec<schema::Field>,
}

impl Schema {
    /// Compile a schema (`{name, baseSelector, baseFields?, fields}`) of either dialect.
    pub fn from_json(v: &Value, kind: SchemaKind) -> Result<Schema, SchemaError> {
        let p = schema::parse_schema(v, kind)?;
        Ok(Schema {
            kind,
            name: p.name,
            base: p.base,
            base_fields: p.base_fields,
            fields: p.fields,
        })
    }

    /// A CSS schema (`JsonCssExtractionStrategy`).
    pub fn css(v: &Value) -> Result<Schema, SchemaError> {
        Schema::from_json(v, SchemaKind::Css)
    }

    /// An XPath schema (`JsonXPathExtractionStrategy`).
    pub fn xpath(v: &Value) -> Result<Schema, SchemaError> {
        Schema::from_json(v, SchemaKind::XPath)
    }

    /// The dialect of its selectors.
    pub fn kind(&self) -> SchemaKind {
        self.kind
    }

    /// The schema's `name`, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Extract the items of a parsed page: one JSON object per base element that yields
    /// at least one field. The DOM must be as parsed (not cleaned by main-content
    /// extraction).
    pub fn extract(&self, dom: &Dom) -> Result<Vec<Value>, ExtractError> {
        extract::Run {
            dom,
            kind: self.kind,
        }
        .run(&self.base, &self.base_fields, &self.fields)
    }

    /// Parse `html` and extract.
    pub fn extract_html(&self, html: &str) -> Result<Vec<Value>, ExtractError> {
        self.extract(&Dom::parse(html))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategies_from_crawl4ais_serialized_form() {
        let schema = json!({"baseSelector": "li", "fields": [{"name": "t", "type": "text"}]});
        for (name, params) in [
            ("JsonCssExtractionStrategy", json!({"schema": schema})),
            (
                "JsonLxmlExtractionStrategy",
                json!({"schema": {"type": "dict", "value": schema}}),
            ),
        ] {
            let Some(Ok(Strategy::Json(s))) = Strategy::from_crawl4ai(name, &params) else {
                panic!("{name}");
            };
            assert_eq!(s.kind(), SchemaKind::Css);
            assert_eq!(
                s.extract_html("<li>a<li>b").unwrap(),
                [json!({"t": "a"}), json!({"t": "b"})]
            );
        }
        let x = json!({"schema": {"baseSelector": "//li", "fields": []}});
        assert!(matches!(
            Strategy::from_crawl4ai("JsonXPathExtractionStrategy", &x),
            Some(Ok(Strategy::Json(s))) if s.kind() == SchemaKind::XPath
        ));
        let r = json!({"pattern": 1, "custom": {"type": "dict", "value": {"n": "\\d+"}}});
        let Some(Ok(Strategy::Regex {
            strategy,
            input_format,
        })) = Strategy::from_crawl4ai("RegexExtractionStrategy", &r)
        else {
            panic!("regex");
        };
        assert_eq!(input_format, "fit_html");
        assert_eq!(strategy.extract("u", "a@b.co 42").len(), 2);
        assert!(Strategy::from_crawl4ai("LLMExtractionStrategy", &json!({})).is_none());
        assert!(matches!(
            Strategy::from_crawl4ai("JsonCssExtractionStrategy", &json!({})),
            Some(Err(SchemaError::Invalid(_)))
        ));
    }
}
