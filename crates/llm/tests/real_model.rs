//! The client against a real OpenAI-compatible server: llama.cpp's `llama-server` running
//! SmolLM2-135M-Instruct on loopback (built and cached by scripts/llm-server). Greedy
//! decoding (temperature 0) under a `json_schema` response format: the values asserted are
//! the exact values on the fixture pages.

mod llama;

use gannet_llm::{Instruction, LlmError};
use serde_json::{Value, json};

const PRODUCT: &str = include_str!("fixtures/product.md");
const BOOKS: &str = include_str!("fixtures/books.md");

fn product_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "price": {"type": "string"},
            "manufacturer": {"type": "string"}
        },
        "required": ["name", "price", "manufacturer"],
        "additionalProperties": false
    })
}

fn books_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "books": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"title": {"type": "string"}, "price": {"type": "string"}},
                    "required": ["title", "price"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["books"],
        "additionalProperties": false
    })
}

#[tokio::test]
async fn real_model_fills_a_product_schema_exactly() {
    let Some(server) = llama::start("real_model_fills_a_product_schema_exactly").await else {
        return;
    };
    let out = server
        .client()
        .extract(
            PRODUCT,
            Instruction::new("Extract the product's name, price and manufacturer.")
                .with_schema(product_schema()),
        )
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
    let Some(server) = llama::start("real_model_lists_book_titles_and_prices_exactly").await else {
        return;
    };
    let out = server
        .client()
        .extract(
            BOOKS,
            Instruction::new("List every book with its title and price.")
                .with_schema(books_schema()),
        )
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

/// The same book page cut into one chunk per heading: the chunks' lists are concatenated
/// in page order and the tokens of every request are summed.
#[tokio::test]
async fn real_model_merges_chunked_lists_in_page_order() {
    let Some(server) = llama::start("real_model_merges_chunked_lists_in_page_order").await else {
        return;
    };
    let single = server
        .client()
        .extract(
            BOOKS,
            Instruction::new("List every book with its title and price.")
                .with_schema(books_schema()),
        )
        .await
        .expect("single chunk");
    let mut cfg = server.config();
    cfg.chunk_tokens = 20;
    cfg.overlap_tokens = 0;
    let client = gannet_llm::LlmClient::new(cfg).expect("client");
    let out = client
        .extract(
            BOOKS,
            Instruction::new("List every book with its title and price.")
                .with_schema(books_schema()),
        )
        .await
        .expect("extracts");
    assert!(out.chunks >= 3, "chunks: {}", out.chunks);
    let titles: Vec<&str> = out.value["books"]
        .as_array()
        .expect("books")
        .iter()
        .filter_map(|b| b["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        ["A Light in the Attic", "Tipping the Velvet", "Soumission"]
    );
    assert!(out.usage.requests as usize >= out.chunks);
    assert!(
        out.usage.prompt_tokens > single.usage.prompt_tokens,
        "{:?} vs {:?}",
        out.usage,
        single.usage
    );
}

#[tokio::test]
async fn real_model_answers_blocks_questions_and_summaries() {
    let Some(server) = llama::start("real_model_answers_blocks_questions_and_summaries").await
    else {
        return;
    };
    let client = server.client();
    let blocks = client
        .extract(PRODUCT, Instruction::default())
        .await
        .expect("block mode");
    let list = blocks.value.as_array().expect("a list of blocks");
    assert!(!list.is_empty());
    for (i, b) in list.iter().enumerate() {
        assert_eq!(b["index"], i);
        assert!(b["content"].is_string() && b["tags"].is_array(), "{b}");
    }
    let answer = client
        .answer(PRODUCT, "How much does the Acme Anvil 3000 cost?")
        .await
        .expect("answer");
    assert!(answer.text.contains("49.99"), "{answer:?}");
    assert!(answer.usage.completion_tokens > 0);
    let summary = client.summarize(PRODUCT).await.expect("summary");
    assert!(summary.text.contains("nvil"), "{summary:?}");
    // A schema the server's grammar cannot satisfy within max_tokens ends typed, not hung.
    let mut cfg = server.config();
    cfg.max_tokens = 3;
    let err = gannet_llm::LlmClient::new(cfg)
        .expect("client")
        .extract(
            PRODUCT,
            Instruction::new("product").with_schema(product_schema()),
        )
        .await
        .expect_err("3 tokens cannot hold the object");
    assert!(
        matches!(err, LlmError::Truncated { max_tokens: 3, .. }),
        "{err:?}"
    );
}
