//! Extraction jobs through `gannet serve`: crawl4ai's `POST /llm/job` + `GET
//! /llm/job/{task_id}` (raw HTTP, as crawl4ai's docs show it: its Docker client has no
//! method for it) and a `/crawl/job` with an `LLMExtractionStrategy`, against a real
//! llama.cpp server with SmolLM2-135M (built and cached by scripts/llm-server).

mod common;

#[path = "fixtures/product.rs"]
mod product;

#[allow(dead_code)]
#[path = "../../llm/tests/llama/mod.rs"]
mod llama;

use std::time::{Duration, Instant};

use common::*;
use gannet_testkit::SiteBuilder;
use product::*;
use serde_json::{Value, json};

/// Polls a crawl4ai task until it is no longer `processing`.
async fn poll(c: &reqwest::Client, url: &str) -> Value {
    let began = Instant::now();
    loop {
        let status = get_json(c, url).await;
        if status["status"] != "processing" {
            return status;
        }
        assert!(began.elapsed() < Duration::from_secs(600), "{status}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_jobs_are_refused_clearly_without_an_llm_or_with_a_bad_request() {
    let site = SiteBuilder::new().page("/product", PRODUCT).start().await;
    let mut cfg = test_config("llm-job-refused");
    // Not from this process's environment: a server with no LLM.
    cfg.llm = None;
    let server = start(cfg).await;
    let c = client();
    let product = site.url("/product").to_string();
    let (status, answer) = post_json(
        &c,
        server.url("/llm/job"),
        json!({"url": product, "q": PROMPT}),
    )
    .await;
    if status == 200 {
        // The environment configured an LLM for this process: nothing to check here.
        eprintln!("an LLM is configured in the environment: {answer}");
    } else {
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["code"], "llm_not_configured", "{answer}");
    }
    // A schema that is not JSON, an empty instruction: 400 before any job exists.
    let (status, answer) = post_json(
        &c,
        server.url("/llm/job"),
        json!({"url": product, "q": PROMPT, "schema": "{\"type\": "}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "bad_schema", "{answer}");
    let (status, _) = post_json(
        &c,
        server.url("/llm/job"),
        json!({"url": product, "q": "  "}),
    )
    .await;
    assert_eq!(status, 400);
    // No such task.
    let r = c
        .get(server.url("/llm/job/0123456789abcdef0123456789abcdef"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status().as_u16(), 404);
    server.stop().await;
}

/// One llama-server at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl4ai_llm_job_and_crawl_job_with_the_real_model() {
    let _serial = SERIAL.lock().await;
    let Some(llama) = llama::start("server-llm-job").await else {
        return;
    };
    let site = SiteBuilder::new().page("/product", PRODUCT).start().await;
    let mut cfg = test_config("llm-job");
    cfg.llm = Some(llama.config());
    let server = start(cfg).await;
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("client");
    let product = site.url("/product").to_string();

    // crawl4ai's LlmJobPayload: the schema is a JSON string; a provider is ignored (and
    // said to be).
    let body =
        json!({"url": product, "q": PROMPT, "schema": PRODUCT_SCHEMA, "provider": "openai/gpt-4o"});
    let (status, started) = post_json(&c, server.url("/llm/job"), body).await;
    assert_eq!(status, 200, "{started}");
    let id = started["task_id"].as_str().expect("a task id").to_owned();
    assert_eq!(started["status"], "processing");
    assert_eq!(started["url"], product);
    let href = started["_links"]["status"]["href"]
        .as_str()
        .expect("a link");
    assert_eq!(href, server.url(&format!("/llm/job/{id}")));
    assert!(
        started["unsupported_options"]
            .to_string()
            .contains("provider"),
        "{started}"
    );
    let done = poll(&c, href).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["task_id"], id.as_str());
    assert_eq!(done["url"], product);
    assert!(done["created_at"].as_str().is_some_and(|t| t.contains('T')));
    assert_eq!(
        done["_links"]["refresh"]["href"],
        server.url(&format!("/llm/job/{id}"))
    );
    // crawl4ai's result is the parsed extracted_content: a list of items.
    assert_eq!(done["result"], json!([expected_product()]), "{done}");
    assert!(done["usage"]["prompt_tokens"].as_u64() > Some(50), "{done}");

    // /crawl/job with LLMExtractionStrategy as crawl4ai's client sends it: the schema
    // reaches the model in the client's order although the job is stored as a value.
    let body = format!(
        r#"{{"urls": ["{product}"], "crawler_config": {{"type": "CrawlerRunConfig", "params": {{
        "extraction_strategy": {{"type": "LLMExtractionStrategy", "params": {{
        "instruction": "{PROMPT}", "schema": {{"type": "dict", "value": {PRODUCT_SCHEMA}}}}}}}}}}}}}"#
    );
    let (status, started) = post_text(&c, server.url("/crawl/job"), body).await;
    assert_eq!(status, 202, "{started}");
    let crawl_id = started["task_id"].as_str().expect("a task id").to_owned();
    let done = poll(&c, &server.url(&format!("/crawl/job/{crawl_id}"))).await;
    assert_eq!(done["status"], "completed", "{done}");
    let result = &done["result"]["results"][0];
    let items: Value = serde_json::from_str(
        result["extracted_content"]
            .as_str()
            .unwrap_or_else(|| panic!("{result}")),
    )
    .expect("JSON");
    assert_eq!(items, json!([expected_product()]));

    // Block mode (no schema): crawl4ai's {index, tags, content} blocks, held to the bounded
    // block schema, so the job ends in one request instead of running to max_tokens twice.
    let body = json!({"url": product, "q": "Split the page content into blocks."});
    let (status, started) = post_json(&c, server.url("/llm/job"), body).await;
    assert_eq!(status, 200, "{started}");
    let href = started["_links"]["status"]["href"]
        .as_str()
        .expect("a link")
        .to_owned();
    let done = poll(&c, &href).await;
    assert_eq!(done["status"], "completed", "{done}");
    let blocks = done["result"].as_array().expect("a list of blocks");
    assert!((1..=8).contains(&blocks.len()), "{done}");
    let page_text = PRODUCT.replace(['<', '>'], "\n");
    for (i, b) in blocks.iter().enumerate() {
        let keys: Vec<&String> = b.as_object().expect("an object").keys().collect();
        assert_eq!(keys, ["content", "index", "tags"], "{b}");
        assert_eq!(b["index"], i);
        assert!(b["tags"].as_array().is_some_and(|t| t.len() <= 3), "{b}");
        let content = b["content"].as_str().expect("content");
        assert!(content.chars().count() <= 200, "{b}");
        // Drawn from the page: its first sentence is one of the page's.
        let first = content.find(". ").map_or(content, |end| &content[..=end]);
        assert!(first.len() > 10 && page_text.contains(first.trim()), "{b}");
    }
    assert_eq!(done["usage"]["requests"], 1, "{done}");
    assert!(
        done["usage"]["completion_tokens"].as_u64() > Some(0),
        "{done}"
    );

    // An LLM job's id is not a crawl4ai crawl task here, and a crawl job's is not an LLM
    // job: each route answers its own kind.
    let r = c
        .get(server.url(&format!("/llm/job/{crawl_id}")))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status().as_u16(), 404);
    server.stop().await;
}
