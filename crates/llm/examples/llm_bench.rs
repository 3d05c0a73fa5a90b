//! The LLM bench's gannet side (bench/llm/run.sh): each HTML file's main content as
//! Markdown, headed by its title (what `gannet scrape --extract` and the page service send),
//! then one `LlmClient::extract` with the schema, timed. One JSON line per page on stdout:
//! `{file, ms, prompt_tokens, completion_tokens, requests, value, error}`. The LLM comes
//! from the environment (GANNET_LLM_BASE_URL, GANNET_LLM_MODEL, ...); pages run one at a
//! time, so `ms` is one page's latency.
//!
//! usage: cargo run --release -p gannet-llm --example llm_bench -- SCHEMA PROMPT FILE...

#![allow(clippy::unwrap_used, clippy::expect_used)] // A bench tool: a panic is a failed run.

use std::time::Instant;

use gannet_llm::{Instruction, LlmClient};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [schema, prompt, files @ ..] = args.as_slice() else {
        eprintln!("usage: llm_bench SCHEMA PROMPT FILE...");
        std::process::exit(64);
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let schema = std::fs::read_to_string(schema).expect("schema file");
    let client = LlmClient::from_env().expect("LLM settings");
    for file in files {
        let html = std::fs::read(file).expect("page");
        let url = url::Url::parse(&format!(
            "http://bench.invalid/{}",
            std::path::Path::new(file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ))
        .expect("url");
        let doc = gannet_extract::extract(&html, Some(&url), &gannet_extract::Options::default());
        let text = match &doc.title {
            Some(title) if !doc.markdown.trim_start().starts_with("# ") => {
                format!("# {title}\n\n{}", doc.markdown)
            }
            _ => doc.markdown.clone(),
        };
        let instruction = Instruction::new(prompt.clone())
            .with_schema_json(&schema)
            .expect("schema");
        let started = Instant::now();
        let out = client.extract(&text, instruction).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let name = std::path::Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let line = match out {
            Ok(e) => serde_json::json!({"file": name, "ms": ms,
                "prompt_tokens": e.usage.prompt_tokens, "completion_tokens": e.usage.completion_tokens,
                "requests": e.usage.requests, "value": e.value, "error": null}),
            Err(e) => serde_json::json!({"file": name, "ms": ms, "prompt_tokens": 0,
                "completion_tokens": 0, "requests": 0, "value": null, "error": e.to_string()}),
        };
        println!("{line}");
    }
}
