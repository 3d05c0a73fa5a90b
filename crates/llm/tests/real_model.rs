//! The client against a real OpenAI-compatible server: llama.cpp's `llama-server` running
//! SmolLM2-135M-Instruct on loopback (built and cached by scripts/llm-server). Greedy
//! decoding (temperature 0) under a `json_schema` response format: the values asserted are
//! the exact values on the fixture pages.

mod llama;

use gannet_llm::Instruction;
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
