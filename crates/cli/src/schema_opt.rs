//! `--schema FILE [--schema-type css|xpath|regex]`: crawl4ai-compatible structured
//! extraction (crates/schema) for the commands that take it.

use crate::UsageError;
use anyhow::Context;
use std::path::PathBuf;

/// Which crawl4ai strategy reads the schema file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SchemaType {
    /// `JsonCssExtractionStrategy` (and `JsonLxmlExtractionStrategy`).
    Css,
    /// `JsonXPathExtractionStrategy`.
    Xpath,
    /// `RegexExtractionStrategy`: the file is `{"pattern": FLAGS, "custom": {label: regex}}`,
    /// matched against the page's HTML.
    Regex,
}

/// The flags.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SchemaArgs {
    /// Extract structured data with a crawl4ai schema file (JSON) instead of Markdown:
    /// prints the list of items as JSON.
    #[arg(long, value_name = "FILE")]
    pub(crate) schema: Option<PathBuf>,
    /// The strategy the schema file is for.
    #[arg(long, value_enum, default_value = "css", requires = "schema")]
    pub(crate) schema_type: SchemaType,
}

/// A compiled schema of either kind.
pub(crate) enum Extractor {
    Json(gannet_schema::Schema),
    Regex(gannet_schema::RegexStrategy),
}

impl Extractor {
    /// Read and compile the schema file, if one was given.
    pub(crate) fn load(args: &SchemaArgs) -> anyhow::Result<Option<Extractor>> {
        let Some(path) = &args.schema else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading schema {}", path.display()))?;
        Extractor::from_text(&text, args.schema_type, &path.display().to_string()).map(Some)
    }

    /// Compile a schema from its text (`label` names it in errors: the file, or the flag).
    pub(crate) fn from_text(
        text: &str,
        kind: SchemaType,
        label: &str,
    ) -> anyhow::Result<Extractor> {
        let spec: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| UsageError(format!("schema {label}: not JSON: {e}")))?;
        let e = match kind {
            SchemaType::Css => gannet_schema::Schema::css(&spec).map(Extractor::Json),
            SchemaType::Xpath => gannet_schema::Schema::xpath(&spec).map(Extractor::Json),
            SchemaType::Regex => {
                gannet_schema::RegexStrategy::from_params(&spec).map(Extractor::Regex)
            }
        };
        // A schema the user wrote is refused as a usage error (exit 64), naming why.
        e.map_err(|e| UsageError(format!("schema {label}: {e}")).into())
    }

    /// As the page service's strategy (a regex reads the page source, as here).
    pub(crate) fn into_strategy(self) -> gannet_schema::Strategy {
        match self {
            Extractor::Json(s) => gannet_schema::Strategy::Json(s),
            Extractor::Regex(strategy) => gannet_schema::Strategy::Regex {
                strategy,
                input_format: "html".into(),
            },
        }
    }

    /// The items extracted from one page's HTML (any charset).
    pub(crate) fn run(&self, html: &[u8], url: Option<&str>) -> anyhow::Result<serde_json::Value> {
        let (text, _) = gannet_extract::decode::decode_html(html, None);
        let items = match self {
            Extractor::Json(s) => s.extract(&gannet_extract::Dom::parse(&text))?,
            Extractor::Regex(r) => r.extract(url.unwrap_or(""), &text),
        };
        Ok(serde_json::Value::Array(items))
    }
}
