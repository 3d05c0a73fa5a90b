//! `gannet crawl --extract PROMPT [--json-schema FILE]` (and `gannet scrape --extract`)
//! against a real llama.cpp server with SmolLM2-135M (built and cached by
//! scripts/llm-server) on a loopback site: every JSONL record carries the model's
//! `extracted` value and its `usage`. A loopback stub answering truncated JSON stands in
//! for a broken provider on the error path only: the error lands in the page's record and
//! the crawl goes on.

#![allow(clippy::unwrap_used)] // Test helpers unwrap: a panic is a failed test.

#[allow(dead_code)]
#[path = "../../llm/tests/llama/mod.rs"]
mod llama;

#[path = "../../llm/tests/stub/mod.rs"]
mod stub;

mod common;
use common::LLM_VARS;
use std::path::Path;
use std::process::{Command, Output};

use gannet_testkit::{SiteBuilder, TempDir};
use serde_json::{Value, json};

/// Property order as a user writes it (the model and llama.cpp's grammar follow it).
const PRODUCT_SCHEMA: &str = r#"{"type": "object",
  "properties": {"name": {"type": "string"}, "price": {"type": "string"}, "manufacturer": {"type": "string"}},
  "required": ["name", "price", "manufacturer"], "additionalProperties": false}"#;

const PROMPT: &str = "Extract the product's name, price and manufacturer.";

/// A product page in the shape the small model reads exactly.
fn product(name: &str, maker: &str, price: &str, blurb: &str) -> String {
    format!(
        "<!doctype html><html><head><title>{name}</title></head><body><article><h1>{name}</h1>\
         <p>Manufacturer: {maker}</p><p>Price: {price}</p><p>{blurb}</p><h2>Shipping</h2>\
         <p>Free shipping on orders over $100. Delivery takes 3 to 5 business days.</p>\
         </article></body></html>"
    )
}

const PRODUCTS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "/anvil",
        "Acme Anvil 3000",
        "Acme Corporation",
        "$49.99",
        "The Acme Anvil 3000 is a heavy steel anvil for blacksmiths. It weighs 50 kg and ships in a wooden crate.",
    ),
    (
        "/kettle",
        "Polar Kettle",
        "Nordic Steel",
        "$25.00",
        "The Polar Kettle is an electric kettle that boils one litre of water in three minutes.",
    ),
];

fn shop() -> gannet_testkit::Site {
    let links: String = PRODUCTS
        .iter()
        .map(|(path, name, ..)| format!("<li><a href=\"{path}\">{name}</a></li>"))
        .collect();
    let mut site = SiteBuilder::new().page(
        "/",
        format!("<html><head><title>Shop</title></head><body><h1>Shop</h1><ul>{links}</ul></body></html>"),
    );
    for (path, name, maker, price, blurb) in PRODUCTS {
        site = site.page(path, product(name, maker, price, blurb));
    }
    site.start_blocking()
}

/// Runs the binary with only the given LLM settings in its environment.
fn gannet(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gannet"));
    for var in LLM_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("run gannet")
}

fn crawl_args<'a>(seed: &'a str, out: &'a str, schema: &'a str) -> Vec<&'a str> {
    vec![
        "crawl",
        seed,
        "--out",
        out,
        "--delay",
        "0",
        "--no-sitemaps",
        "--quiet",
        "--extract",
        PROMPT,
        "--json-schema",
        schema,
    ]
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn record<'a>(records: &'a [Value], url: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["url"] == url)
        .unwrap_or_else(|| panic!("no record of {url} in {records:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_extract_fills_each_record_with_the_real_model() {
    let Some(llama) = llama::start("cli-crawl-extract").await else {
        return;
    };
    let site = shop();
    let dir = TempDir::new("cli-llm-crawl");
    let schema = dir.path("product.json");
    std::fs::write(&schema, PRODUCT_SCHEMA).unwrap();
    let out = dir.path("out.jsonl");
    let env = [
        (
            "GANNET_LLM_BASE_URL",
            format!("http://127.0.0.1:{}/v1", llama.port),
        ),
        ("GANNET_LLM_MODEL", "SmolLM2-135M-Instruct".to_owned()),
        ("GANNET_LLM_MAX_TOKENS", "512".to_owned()),
    ];
    let seed = site.url("/").to_string();
    let (out_s, schema_s) = (
        out.to_str().unwrap().to_owned(),
        schema.to_str().unwrap().to_owned(),
    );
    let args: Vec<String> = crawl_args(&seed, &out_s, &schema_s)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let run = {
        let env = env.clone();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            gannet(&args, &env)
        })
        .await
        .unwrap()
    };
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let all = records(&out);
    assert_eq!(all.len(), 1 + PRODUCTS.len(), "{all:?}");
    for (path, name, maker, price, _) in PRODUCTS {
        let r = record(&all, site.url(path).as_str());
        assert_eq!(
            r["extracted"],
            json!({"name": name, "price": price, "manufacturer": maker}),
            "{r}"
        );
        let usage = &r["usage"];
        assert!(usage["prompt_tokens"].as_u64() > Some(50), "{usage}");
        assert!(usage["completion_tokens"].as_u64() > Some(5), "{usage}");
        assert_eq!(
            usage["total_tokens"].as_u64(),
            Some(
                usage["prompt_tokens"].as_u64().unwrap()
                    + usage["completion_tokens"].as_u64().unwrap()
            )
        );
        assert_eq!(usage["chunks"], 1);
        assert_eq!(usage["truncated"], false);
        // The page's Markdown is there as without --extract.
        assert!(r["markdown"].as_str().unwrap().contains(maker), "{r}");
    }
    // The index page got the schema's shape too (whatever a small model makes of a list).
    let index = record(&all, &seed);
    assert!(index["extracted"].is_object(), "{index}");
    assert!(
        index["usage"]["prompt_tokens"].as_u64() > Some(0),
        "{index}"
    );

    // `gannet scrape URL --extract` gives the same value for one page.
    let anvil = site.url("/anvil").to_string();
    let scraped = tokio::task::spawn_blocking(move || {
        gannet(
            &[
                "scrape",
                &anvil,
                "--extract",
                PROMPT,
                "--json-schema",
                &schema_s,
            ],
            &env,
        )
    })
    .await
    .unwrap();
    assert!(
        scraped.status.success(),
        "{}",
        String::from_utf8_lossy(&scraped.stderr)
    );
    let page: Value = serde_json::from_slice(&scraped.stdout).unwrap();
    assert_eq!(
        page["extracted"],
        record(&all, site.url("/anvil").as_str())["extracted"]
    );
}

#[test]
fn a_failing_llm_is_recorded_per_page_and_the_crawl_goes_on() {
    let site = shop();
    let dir = TempDir::new("cli-llm-broken");
    let schema = dir.path("product.json");
    std::fs::write(&schema, PRODUCT_SCHEMA).unwrap();
    let out = dir.path("out.jsonl");
    // A broken provider (the llm crate's stub): every chat completion is truncated JSON.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stub = rt.block_on(stub::Stub::start(|_, _| {
        stub::Reply::completion("{\"name\": \"Acme", "stop")
    }));
    let port = stub.port;
    let seed = site.url("/").to_string();
    let env = [
        ("GANNET_LLM_BASE_URL", format!("http://127.0.0.1:{port}/v1")),
        ("GANNET_LLM_MODEL", "broken".to_owned()),
    ];
    let run = gannet(
        &crawl_args(&seed, out.to_str().unwrap(), schema.to_str().unwrap()),
        &env,
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let all = records(&out);
    assert_eq!(all.len(), 1 + PRODUCTS.len(), "{all:?}");
    for r in &all {
        assert_eq!(r["extracted"]["code"], "llm_failed", "{r}");
        let message = r["extracted"]["error"].as_str().unwrap();
        assert!(message.contains("JSON"), "{message}");
        assert!(r.get("usage").is_none(), "{r}");
        assert!(r["markdown"].is_string());
    }
    // The summary counts the failures by reason.
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("LLM extraction failed (llm_failed)"),
        "{stderr}"
    );
}

#[test]
fn no_llm_configured_is_a_usage_error_naming_the_setting() {
    let dir = TempDir::new("cli-llm-none");
    let out = dir.path("out.jsonl");
    let run = gannet(
        &[
            "crawl",
            "http://127.0.0.1:9/",
            "--out",
            out.to_str().unwrap(),
            "--extract",
            PROMPT,
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("GANNET_LLM_BASE_URL"), "{stderr}");
    assert!(!out.exists(), "nothing crawled");
    // --extract and --schema are two extractions.
    let run = gannet(
        &[
            "crawl",
            "http://127.0.0.1:9/",
            "--out",
            out.to_str().unwrap(),
            "--extract",
            PROMPT,
            "--schema",
            "x.json",
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(2), "clap refuses the pair");
}
