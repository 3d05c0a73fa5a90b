//! The client against a real OpenAI-compatible server: llama.cpp's `llama-server` running
//! SmolLM2-135M-Instruct on loopback (built and cached by scripts/llm-server). Greedy
//! decoding (temperature 0) under a `json_schema` response format: the values asserted are
//! the exact values on the fixture pages.

mod llama;

use gannet_llm::{Instruction, LlmClient, LlmError};
use serde_json::json;

const PRODUCT: &str = include_str!("fixtures/product.md");
const BOOKS: &str = include_str!("fixtures/books.md");

/// Property order as a user writes it (sent as is: it steers the grammar and the model).
const PRODUCT_SCHEMA: &str = r#"{"type": "object",
  "properties": {"name": {"type": "string"}, "price": {"type": "string"}, "manufacturer": {"type": "string"}},
  "required": ["name", "price", "manufacturer"], "additionalProperties": false}"#;

const BOOKS_SCHEMA: &str = r#"{"type": "object",
  "properties": {"books": {"type": "array", "items": {"type": "object",
    "properties": {"title": {"type": "string"}, "price": {"type": "string"}},
    "required": ["title", "price"], "additionalProperties": false}}},
  "required": ["books"], "additionalProperties": false}"#;

fn product() -> Instruction {
    Instruction::new("Extract the product's name, price and manufacturer.")
        .with_schema_json(PRODUCT_SCHEMA)
        .expect("schema")
}

fn books() -> Instruction {
    Instruction::new("List every book with its title and price.")
        .with_schema_json(BOOKS_SCHEMA)
        .expect("schema")
}

/// One llama-server at a time: the machine has 2 cores, and parallel servers only slow
/// each other down.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn real_model_fills_a_product_schema_exactly() {
    let _serial = SERIAL.lock().await;
    let Some(server) = llama::start("product").await else {
        return;
    };
    let out = server
        .client()
        .extract(PRODUCT, product())
        .await
        .expect("extracts");
    assert_eq!(
        out.value,
        json!({"name": "Acme Anvil 3000", "price": "$49.99", "manufacturer": "Acme Corporation"})
    );
    assert_eq!(out.chunks, 1);
    assert!(
        out.usage.prompt_tokens > 50 && out.usage.completion_tokens > 5,
        "{:?}",
        out.usage
    );
}

#[tokio::test]
async fn real_model_lists_book_titles_and_prices_exactly() {
    let _serial = SERIAL.lock().await;
    let Some(server) = llama::start("books").await else {
        return;
    };
    let out = server
        .client()
        .extract(BOOKS, books())
        .await
        .expect("extracts");
    assert_eq!(
        out.value,
        json!({"books": [
            {"title": "A Light in the Attic", "price": "£51.77"},
            {"title": "Tipping the Velvet", "price": "£53.74"},
            {"title": "Soumission", "price": "£50.10"}
        ]})
    );
}

/// The product page cut at its headings into two chunks (the product, then shipping):
/// both are asked, the objects are merged field by field (the first chunk's values win
/// over later ones), and the tokens of both requests are summed.
#[tokio::test]
async fn real_model_merges_chunks_field_by_field() {
    let _serial = SERIAL.lock().await;
    let Some(server) = llama::start("chunked").await else {
        return;
    };
    let mut cfg = server.config();
    cfg.chunk_tokens = 50;
    cfg.overlap_tokens = 0;
    let chunks = gannet_llm::chunk_markdown(PRODUCT, cfg.chunk_tokens, cfg.overlap_tokens);
    assert_eq!(chunks.len(), 2, "{chunks:?}");
    assert!(chunks[1].starts_with("## Shipping"), "{chunks:?}");
    let out = LlmClient::new(cfg)
        .expect("client")
        .extract(PRODUCT, product())
        .await
        .expect("extracts");
    assert_eq!(out.chunks, 2);
    assert_eq!(
        out.value,
        json!({"name": "Acme Anvil 3000", "price": "$49.99", "manufacturer": "Acme Corporation"})
    );
    assert!(out.usage.requests >= 2, "{:?}", out.usage);
}

#[tokio::test]
async fn real_model_answers_questions_and_summarizes() {
    let _serial = SERIAL.lock().await;
    let Some(server) = llama::start("answer").await else {
        return;
    };
    let mut cfg = server.config();
    cfg.max_tokens = 64;
    let client = LlmClient::new(cfg).expect("client");
    let answer = client
        .answer(PRODUCT, "How much does the Acme Anvil 3000 cost?")
        .await
        .expect("answer");
    // SmolLM2-135M does not answer questions reliably (it fills schemas well): the round
    // trip and its accounting are checked here, the answer's quality is not.
    assert!(!answer.text.trim().is_empty(), "{answer:?}");
    assert_eq!((answer.chunks, answer.usage.requests), (1, 1));
    assert!(answer.usage.prompt_tokens > 50 && answer.usage.completion_tokens > 0);
    let summary = client.summarize(PRODUCT).await.expect("summary");
    assert!(summary.text.contains("Anvil"), "{summary:?}");
    assert_eq!(summary.usage.requests, 1);
    // An object cannot fit in 3 tokens: the call ends with a typed error, not a hang.
    let mut cfg = server.config();
    cfg.max_tokens = 3;
    let err = LlmClient::new(cfg)
        .expect("client")
        .extract(PRODUCT, product())
        .await
        .expect_err("3 tokens cannot hold the object");
    assert!(
        matches!(err, LlmError::Truncated { max_tokens: 3, .. }),
        "{err:?}"
    );
}

/// crawl4ai's block mode (no schema): the answer is held to the bounded block schema, so a
/// small model that loops inside a block's content stops at its bounds instead of running
/// to `max_tokens` (and a repair to `max_tokens` again: minutes on a loaded machine).
#[tokio::test]
async fn real_model_splits_a_page_into_bounded_blocks() {
    let _serial = SERIAL.lock().await;
    let Some(server) = llama::start("blocks").await else {
        return;
    };
    let out = server
        .client()
        .extract(PRODUCT, Instruction::new(""))
        .await
        .expect("blocks");
    let blocks = out.value.as_array().expect("a list of blocks");
    // 257 characters of page, max_tokens 512: at most 3 blocks.
    assert!((1..=3).contains(&blocks.len()), "{blocks:?}");
    let page: String = PRODUCT.split_whitespace().collect::<Vec<_>>().join(" ");
    for (i, b) in blocks.iter().enumerate() {
        let keys: Vec<&String> = b.as_object().expect("an object").keys().collect();
        assert_eq!(keys, ["content", "index", "tags"], "{b}");
        assert_eq!(b["index"], i, "renumbered in page order");
        let tags = b["tags"].as_array().expect("tags");
        assert!(tags.len() <= 3, "{b}");
        assert!(
            tags.iter()
                .all(|t| t.as_str().is_some_and(|t| t.chars().count() <= 24)),
            "{b}"
        );
        let content = b["content"].as_str().expect("content");
        assert!(content.chars().count() <= 200, "{b}");
        // Drawn from the page: its first sentence is one of the page's (SmolLM2 then
        // repeats itself up to the bound, which is what the bound is for).
        let first = match content.find(". ") {
            Some(end) => &content[..=end],
            None => content,
        };
        assert!(first.len() > 10 && page.contains(first.trim()), "{b}");
    }
    // One request (no repair: the bounded answer is complete), its tokens reported.
    assert_eq!((out.chunks, out.usage.requests), (1, 1), "{:?}", out.usage);
    assert!(out.usage.prompt_tokens > 50, "{:?}", out.usage);
    assert!(
        out.usage.completion_tokens > 0 && out.usage.completion_tokens < 512,
        "{:?}",
        out.usage
    );
}
