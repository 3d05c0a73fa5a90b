//! Structured extraction through `gannet serve`: crawl4ai's `extraction_strategy` (schema,
//! regex, LLM), `GET /llm/{url}`, Firecrawl's `json` format and `/v1/extract`. The LLM is
//! a real llama.cpp server with SmolLM2-135M (built and cached by scripts/llm-server);
//! a loopback stub answering garbage stands in for a broken provider on the error path.

mod common;

#[path = "fixtures/product.rs"]
mod product;

#[allow(dead_code)]
#[path = "../../llm/tests/llama/mod.rs"]
mod llama;

#[path = "../../llm/tests/stub/mod.rs"]
mod stub;

use std::time::{Duration, Instant};

use common::*;
use gannet_testkit::SiteBuilder;
use product::*;
use serde_json::{Value, json};

const SHOP: &str = r#"<html><head><title>Shop</title></head><body><h1>Shop</h1>
<div class="product"><h2> Tea </h2><span class="price">$4.50</span><a href="/tea">more</a></div>
<div class="product"><h2>Coffee</h2><span class="price">$7.00</span><a href="/coffee">more</a></div>
<p>Write to sales@example.com for bulk orders.</p></body></html>"#;

async fn shop_site() -> gannet_testkit::Site {
    SiteBuilder::new()
        .page("/product", PRODUCT)
        .page("/shop", SHOP)
        .start()
        .await
}

fn no_llm_config(name: &str) -> gannet_server::ServerConfig {
    let mut cfg = test_config(name);
    // Not from this process's environment: a server with no LLM.
    cfg.llm = Some(gannet_llm::LlmConfig::new(
        gannet_llm::parse_base_url("http://127.0.0.1:9/v1").expect("url"),
        "none",
        None,
    ));
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl4ai_schema_and_regex_strategies_and_their_errors() {
    let site = shop_site().await;
    let server = start(no_llm_config("extract-schema")).await;
    let c = client();
    let shop = site.url("/shop").to_string();
    let schema = json!({"name": "products", "baseSelector": "div.product", "fields": [
        {"name": "title", "selector": "h2", "type": "text"},
        {"name": "price", "selector": ".price", "type": "regex", "pattern": "([\\d.]+)"},
        {"name": "link", "selector": "a", "type": "attribute", "attribute": "href"},
    ]});
    let (status, answer) = post_json(
        &c,
        server.url("/crawl"),
        json!({"urls": [shop], "crawler_config": {"type": "CrawlerRunConfig", "params": {
            "extraction_strategy": {"type": "JsonCssExtractionStrategy",
                "params": {"schema": {"type": "dict", "value": schema}}}}}}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let result = &answer["results"][0];
    let items: Value =
        serde_json::from_str(result["extracted_content"].as_str().expect("a JSON string"))
            .expect("JSON");
    assert_eq!(
        items,
        json!([{"title": "Tea", "price": "4.50", "link": "/tea"},
               {"title": "Coffee", "price": "7.00", "link": "/coffee"}])
    );
    assert_eq!(answer["unsupported_options"], json!([]));
    assert!(result["metadata"]["page_type"].is_string(), "{result}");

    // Regex strategy: crawl4ai's built-in e-mail pattern (flag 1).
    let (status, answer) = post_json(
        &c,
        server.url("/crawl"),
        json!({"urls": [shop], "crawler_config": {"params": {"extraction_strategy":
            {"type": "RegexExtractionStrategy", "params": {"pattern": 1, "input_format": "html"}}}}}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let items: Value = serde_json::from_str(
        answer["results"][0]["extracted_content"]
            .as_str()
            .expect("string"),
    )
    .expect("JSON");
    assert_eq!(items[0]["label"], "email");
    assert_eq!(items[0]["value"], "sales@example.com");

    // A bad schema: 400 naming the field and what is wrong with it.
    let (status, answer) = post_json(
        &c,
        server.url("/crawl"),
        json!({"urls": [shop], "crawler_config": {"params": {"extraction_strategy":
            {"type": "JsonCssExtractionStrategy", "params": {"schema": {"baseSelector": "div",
             "fields": [{"name": "price", "selector": "span[[", "type": "text"}]}}}}}}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "bad_schema");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`price`") && message.contains("span[["),
        "{message}"
    );

    // Computed fields are refused, never run.
    let (status, answer) = post_json(
        &c,
        server.url("/crawl"),
        json!({"urls": [shop], "crawler_config": {"params": {"extraction_strategy":
            {"type": "JsonCssExtractionStrategy", "params": {"schema": {"baseSelector": "div",
             "fields": [{"name": "x", "type": "computed", "expression": "1+1"}]}}}}}}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`x`")
    );

    // An LLM strategy on a server whose LLM cannot be reached is a typed error per page.
    let (status, answer) = post_json(
        &c,
        server.url("/v1/scrape"),
        json!({"url": shop, "formats": [{"type": "json", "prompt": "The prices"}]}),
    )
    .await;
    assert!(status == 503 || status == 502, "{status} {answer}");
    assert!(
        answer["error"]["code"]
            .as_str()
            .is_some_and(|c| c.starts_with("llm_")),
        "{answer}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_llm_configured_is_a_clear_400() {
    let site = shop_site().await;
    let mut cfg = test_config("extract-no-llm");
    cfg.llm = None;
    // The environment of the test process decides; skip when it configures an LLM.
    if gannet_llm::LlmConfig::from_env().is_ok() {
        return;
    }
    let server = start(cfg).await;
    let c = client();
    let shop = site.url("/shop").to_string();
    let (status, answer) = post_json(
        &c,
        server.url("/v1/scrape"),
        json!({"url": shop, "formats": ["json"], "jsonOptions": {"prompt": "The prices"}}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "llm_not_configured");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("GANNET_LLM"),
        "{answer}"
    );
    let r = c
        .get(server.url(&format!("/llm/{shop}?q=What%20costs%20tea")))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status().as_u16(), 400);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_garbage_is_a_typed_error_in_the_answer() {
    let site = shop_site().await;
    // A broken provider: every chat completion is truncated JSON.
    let stub = stub::Stub::start(|_, _| stub::Reply::completion("{\"name\": \"Acme", "stop")).await;
    let port = stub.port;
    let mut cfg = test_config("extract-garbage");
    cfg.llm = Some(gannet_llm::LlmConfig::new(
        gannet_llm::parse_base_url(&format!("http://127.0.0.1:{port}/v1")).expect("url"),
        "broken",
        None,
    ));
    let server = start(cfg).await;
    let c = client();
    let product = site.url("/product").to_string();
    let body = format!(
        r#"{{"urls": ["{product}"], "crawler_config": {{"type": "CrawlerRunConfig", "params": {{
        "extraction_strategy": {{"type": "LLMExtractionStrategy", "params": {{
        "instruction": "{PROMPT}", "extraction_type": "schema",
        "schema": {{"type": "dict", "value": {PRODUCT_SCHEMA}}}}}}}}}}}}}"#
    );
    let (status, answer) = post_text(&c, server.url("/crawl"), body).await;
    assert_eq!(status, 200, "{answer}");
    let result = &answer["results"][0];
    assert_eq!(result["extracted_content"], Value::Null, "{result}");
    assert_eq!(
        result["metadata"]["extraction_error"]["code"], "llm_failed",
        "{result}"
    );
    // Firecrawl: the json format was the point of the request: 502 with the code.
    let (status, answer) = post_text(
        &c,
        server.url("/v1/scrape"),
        format!(
            r#"{{"url": "{product}", "formats": ["json"], "jsonOptions": {{"prompt": "{PROMPT}", "schema": {PRODUCT_SCHEMA}}}}}"#
        ),
    )
    .await;
    assert_eq!(status, 502, "{answer}");
    assert_eq!(answer["error"]["code"], "llm_failed");
    let text = metrics(&c, &server).await;
    assert!(
        text.lines()
            .any(|l| l.starts_with("gannet_llm_failures_total ") && !l.ends_with(" 0")),
        "{text}"
    );
    server.stop().await;
    drop(stub);
}

/// One llama-server at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_model_fills_schemas_through_crawl4ai_firecrawl_and_extract() {
    let _serial = SERIAL.lock().await;
    let Some(llama) = llama::start("server-extraction").await else {
        return;
    };
    let site = shop_site().await;
    let mut cfg = test_config("extract-llm");
    cfg.llm = Some(llama.config());
    let server = start(cfg).await;
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("client");
    let product = site.url("/product").to_string();

    // crawl4ai: LLMExtractionStrategy as its 0.8 client sends it, with credentials that
    // must be ignored (and said to be).
    let body = format!(
        r#"{{"urls": ["{product}"], "crawler_config": {{"type": "CrawlerRunConfig", "params": {{
        "extraction_strategy": {{"type": "LLMExtractionStrategy", "params": {{
        "llm_config": {{"type": "LLMConfig", "params": {{"provider": "openai/gpt-4o",
            "api_token": "sk-not-used", "base_url": "http://attacker.invalid/v1"}}}},
        "instruction": "{PROMPT}", "extraction_type": "schema",
        "schema": {{"type": "dict", "value": {PRODUCT_SCHEMA}}}}}}}}}}}}}"#
    );
    let (status, answer) = post_text(&c, server.url("/crawl"), body).await;
    assert_eq!(status, 200, "{answer}");
    let result = &answer["results"][0];
    let items: Value = serde_json::from_str(
        result["extracted_content"]
            .as_str()
            .unwrap_or_else(|| panic!("{result}")),
    )
    .expect("JSON");
    assert_eq!(items, json!([expected_product()]));
    assert!(result["metadata"]["llm_usage"]["prompt_tokens"].as_u64() > Some(50));
    let unsupported = answer["unsupported_options"].to_string();
    assert!(
        unsupported.contains("llm_config.api_token") && unsupported.contains("llm_config.base_url"),
        "{unsupported}"
    );

    // Firecrawl v1: formats ["json"] with jsonOptions.
    let (status, answer) = post_text(
        &c,
        server.url("/v1/scrape"),
        format!(
            r#"{{"url": "{product}", "formats": ["markdown", "json"], "jsonOptions": {{"prompt": "{PROMPT}", "schema": {PRODUCT_SCHEMA}}}}}"#
        ),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["json"], expected_product(), "{answer}");
    assert!(answer["data"]["metadata"]["pageType"].is_string());
    assert!(answer.get("warning").is_none() && answer["data"].get("warning").is_none());

    // Firecrawl /v1/extract: a job, polled until done, with tokensUsed.
    let (status, started) = post_text(
        &c,
        server.url("/v1/extract"),
        format!(r#"{{"urls": ["{product}"], "prompt": "{PROMPT}", "schema": {PRODUCT_SCHEMA}}}"#),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let id = started["id"].as_str().expect("an id").to_string();
    let began = Instant::now();
    let done = loop {
        let status = get_json(&c, &server.url(&format!("/v1/extract/{id}"))).await;
        if status["status"] != "processing" {
            break status;
        }
        assert!(began.elapsed() < Duration::from_secs(600), "{status}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["data"], expected_product());
    assert!(done["tokensUsed"].as_u64() > Some(50), "{done}");

    let text = metrics(&c, &server).await;
    let counter = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    assert!(counter("gannet_llm_prompt_tokens_total") > 150, "{text}");
    assert!(counter("gannet_llm_completion_tokens_total") > 15, "{text}");
    assert!(counter("gannet_llm_requests_total") >= 3, "{text}");
    server.stop().await;
}

/// crawl4ai's Docker client and firecrawl-py, unchanged, asking for structured data (the
/// schema strategy always; the LLM ones against the real model). Needs `scripts/py-tools`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_anchors_clients_extract_unchanged() {
    let python =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py-tools/bin/python");
    assert!(
        python.exists(),
        "{} missing: run scripts/py-tools (scripts/test does)",
        python.display()
    );
    let _serial = SERIAL.lock().await;
    let llama = llama::start("server-extraction-clients").await;
    let site = shop_site().await;
    let mut cfg = no_llm_config("extract-clients");
    if let Some(llama) = &llama {
        cfg.llm = Some(llama.config());
    }
    let server = start(cfg).await;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/extraction_clients.py");
    let mut cmd = tokio::process::Command::new(&python);
    cmd.arg(&script)
        .arg(server.url(""))
        .arg(site.url("/").as_str().trim_end_matches('/'))
        .args(llama.is_some().then_some("llm"))
        .env("HOME", std::env::temp_dir())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(600), cmd.output())
        .await
        .expect("the clients finish within 600 s")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "clients failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("crawl4ai client: ok"), "{stdout}");
    if llama.is_some() {
        assert!(stdout.contains("firecrawl client: ok"), "{stdout}");
    }
    server.stop().await;
}
