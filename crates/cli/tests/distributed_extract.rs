//! Extraction on a distributed crawl: `gannet crawl --redis … --schema FILE` and
//! `--extract PROMPT --json-schema FILE` store the schema's text and the prompt with the
//! crawl, so every `gannet worker` that joins extracts the same way. Real `redis-server`
//! processes, testkit sites, the real binary; the LLM case runs the real llama.cpp server
//! with SmolLM2-135M (scripts/llm-server builds it) and asserts exact values.

#![allow(clippy::unwrap_used)] // Test helpers unwrap: a panic is a failed test.

#[allow(dead_code)]
#[path = "../../llm/tests/llama/mod.rs"]
mod llama;

use gannet_testkit::redis::RedisServer as Redis;
use gannet_testkit::{Response, Site, SiteBuilder, TempDir};
use serde_json::{Value, json};
mod common;
use common::{LLM_VARS, assert_ok, wait_created, wait_exit};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// A run that has not ended after this long is a hang.
const RUN_LIMIT: Duration = Duration::from_secs(240);

fn gannet(env: &[(&str, String)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gannet"));
    for var in LLM_VARS {
        c.env_remove(var);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.env(
        "RUST_LOG",
        "gannet=info,gannet_crawl=warn,gannet_frontier_redis=warn",
    )
    .stdin(Stdio::null())
    .stdout(Stdio::null());
    c
}

const FLAGS: &[&str] = &[
    "--scope",
    "any",
    "--delay",
    "0",
    "--ignore-robots",
    "--no-sitemaps",
    "--no-auto-throttle",
    "-q",
];

fn log_file(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

/// `gannet crawl SEEDS --redis URL --crawl-id ID --out OUT FLAGS extra`.
fn creator(
    redis: &str,
    id: &str,
    seeds: &[Site],
    out: &Path,
    extra: &[&str],
    env: &[(&str, String)],
    log: &Path,
) -> Child {
    let mut c = gannet(env);
    c.arg("crawl");
    for s in seeds {
        c.arg(s.origin().as_str());
    }
    c.args(["--redis", redis, "--crawl-id", id])
        .args(FLAGS)
        .args(extra)
        .arg("--out")
        .arg(out)
        .stderr(log_file(log))
        .spawn()
        .unwrap()
}

/// `gannet worker --redis URL --crawl-id ID --out OUT`, with only `env`'s LLM settings.
fn worker(redis: &str, id: &str, out: &Path, env: &[(&str, String)], log: &Path) -> Child {
    gannet(env)
        .args(["worker", "--redis", redis, "--crawl-id", id])
        .args(["--concurrency", "8", "-q", "--out"])
        .arg(out)
        .stderr(log_file(log))
        .spawn()
        .unwrap()
}

/// Every record of the outputs, by URL; a URL written twice fails.
fn records(outs: &[PathBuf]) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for out in outs {
        let text = std::fs::read_to_string(out).unwrap_or_default();
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let url = v["url"].as_str().unwrap().to_string();
            assert!(all.insert(url.clone(), v).is_none(), "{url} written twice");
        }
    }
    all
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

/// `hosts` sites of `pages` product pages each (a tree of links), every response delayed
/// by `delay`: page `i` of site `h` sells "Item h-i" at "$i.99".
fn shops(hosts: usize, pages: usize, delay: Duration) -> Vec<Site> {
    (0..hosts)
        .map(|h| {
            let mut b = SiteBuilder::new();
            for i in 0..pages {
                let path = if i == 0 { "/".into() } else { format!("/p{i}") };
                let links: String = [2 * i + 1, 2 * i + 2]
                    .iter()
                    .filter(|&&j| j < pages)
                    .map(|j| format!("<a href=/p{j}>p{j}</a> "))
                    .collect();
                let body = format!(
                    "<title>Item {h}-{i}</title><article><div class=product>\
                     <h2 class=name>Item {h}-{i}</h2><span class=price>${i}.99</span>\
                     <p>A fine item, long enough to be content. {links}</p></div></article>"
                );
                b = b.response(&path, Response::html(body).delay(delay));
            }
            b.start_blocking()
        })
        .collect()
}

/// crawl4ai's JsonCssExtractionStrategy schema of the shops' pages.
const PRODUCT_SCHEMA: &str = r#"{"name": "products", "baseSelector": "div.product", "fields": [
  {"name": "name", "selector": "h2.name", "type": "text"},
  {"name": "price", "selector": "span.price", "type": "text"}]}"#;

#[test]
fn every_worker_of_a_distributed_crawl_extracts_with_the_stored_schema() {
    let redis = Redis::with_args(&["--save", "", "--appendonly", "no"]);
    let (hosts, pages) = (6, 6);
    let sites = shops(hosts, pages, Duration::from_millis(40));
    let dir = TempDir::new("dist-schema");
    let schema = dir.path("schema.json");
    std::fs::write(&schema, PRODUCT_SCHEMA).unwrap();
    let outs: Vec<PathBuf> = (0..3).map(|i| dir.path(&format!("w{i}.jsonl"))).collect();
    let logs: Vec<PathBuf> = (0..3).map(|i| dir.path(&format!("w{i}.log"))).collect();
    // The creator holds two hosts at a time (concurrency / per-host + 1): the joined
    // workers get the others.
    let schema_arg = schema.display().to_string();
    let mut children = vec![creator(
        &redis.url(),
        "shops",
        &sites,
        &outs[0],
        &[
            "--concurrency",
            "1",
            "--per-host",
            "1",
            "--schema",
            &schema_arg,
        ],
        &[],
        &logs[0],
    )];
    wait_created(&redis, "shops");
    // The workers read the schema from Redis, not from a file: there is none left.
    std::fs::remove_file(&schema).unwrap();
    for i in 1..3 {
        children.push(worker(&redis.url(), "shops", &outs[i], &[], &logs[i]));
    }
    for (i, c) in children.iter_mut().enumerate() {
        let status = wait_exit(RUN_LIMIT, c, "a worker", &logs[i]);
        assert_ok(status, "a worker", &logs[i]);
    }
    let all = records(&outs);
    assert_eq!(
        all.len(),
        hosts * pages,
        "every page once: {:?}",
        all.keys()
    );
    for (h, site) in sites.iter().enumerate() {
        for i in 0..pages {
            let path = if i == 0 { "/".into() } else { format!("/p{i}") };
            let r = &all[site.url(&path).as_str()];
            assert_eq!(
                r["extracted"],
                json!([{"name": format!("Item {h}-{i}"), "price": format!("${i}.99")}]),
                "{r}"
            );
        }
    }
    let joined = lines(&outs[1]) + lines(&outs[2]);
    assert!(
        joined > 0,
        "the joined workers wrote nothing: {:?}",
        outs.iter().map(|o| lines(o)).collect::<Vec<_>>()
    );
}

/// Runs `gannet crawl --redis` (unreachable Redis: every refusal here comes first).
fn refused_creator(extra: &[&str], env: &[(&str, String)], dir: &TempDir) -> Output {
    gannet(env)
        .args([
            "crawl",
            "http://127.0.0.1:9/",
            "--redis",
            "redis://127.0.0.1:1",
        ])
        .args(["--crawl-id", "x", "--out"])
        .arg(dir.path("out.jsonl"))
        .args(extra)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn an_oversized_or_unrunnable_extraction_is_refused_before_the_crawl_exists() {
    let dir = TempDir::new("dist-extract-refused");
    // A schema over the stored limit (64 KiB): refused, naming the flag and the limit.
    let huge = dir.path("huge.json");
    let fields: Vec<String> = (0..3000)
        .map(|i| format!(r#"{{"name": "field{i}", "selector": ".f{i}", "type": "text"}}"#))
        .collect();
    std::fs::write(
        &huge,
        format!(
            r#"{{"name": "x", "baseSelector": "p", "fields": [{}]}}"#,
            fields.join(",")
        ),
    )
    .unwrap();
    assert!(std::fs::metadata(&huge).unwrap().len() > 64 * 1024);
    let huge_arg = huge.display().to_string();
    let out = refused_creator(&["--schema", &huge_arg], &[], &dir);
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--schema") && err.contains("65536 bytes"),
        "{err}"
    );
    // The same for a JSON Schema and a prompt.
    let llm = [
        ("GANNET_LLM_BASE_URL", "http://127.0.0.1:9/v1".to_owned()),
        ("GANNET_LLM_MODEL", "m".to_owned()),
    ];
    let out = refused_creator(
        &["--extract", "the fields", "--json-schema", &huge_arg],
        &llm,
        &dir,
    );
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--json-schema") && err.contains("65536 bytes"),
        "{err}"
    );
    let prompt = "describe ".repeat(2000);
    let out = refused_creator(&["--extract", &prompt], &llm, &dir);
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--extract") && err.contains("16384 bytes"),
        "{err}"
    );
    // A schema that does not compile, and --extract without an LLM: refused up front too.
    let bad = dir.path("bad.json");
    std::fs::write(&bad, r#"{"name": "x", "fields": []}"#).unwrap();
    let bad_arg = bad.display().to_string();
    let out = refused_creator(&["--schema", &bad_arg], &[], &dir);
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    let out = refused_creator(&["--extract", "the title"], &[], &dir);
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("GANNET_LLM_BASE_URL"), "{err}");
    assert!(!dir.path("out.jsonl").exists(), "nothing crawled");
}

#[test]
fn a_worker_without_an_llm_refuses_to_join_an_extract_crawl() {
    let redis = Redis::with_args(&["--save", "", "--appendonly", "no"]);
    let dir = TempDir::new("dist-extract-nollm");
    // The creator has an LLM configured (never called: its one seed is unreachable and
    // tried once), so the crawl is created with the prompt.
    let llm = [
        ("GANNET_LLM_BASE_URL", "http://127.0.0.1:9/v1".to_owned()),
        ("GANNET_LLM_MODEL", "m".to_owned()),
    ];
    let (out0, log0) = (dir.path("c.jsonl"), dir.path("c.log"));
    let mut c = gannet(&llm)
        .args(["crawl", "http://127.0.0.1:9/", "--redis", &redis.url()])
        .args([
            "--crawl-id",
            "nollm",
            "--max-attempts",
            "1",
            "--ignore-robots",
            "-q",
        ])
        .args(["--extract", "the title", "--out"])
        .arg(&out0)
        .stderr(log_file(&log0))
        .spawn()
        .unwrap();
    assert_ok(
        wait_exit(RUN_LIMIT, &mut c, "the creator", &log0),
        "the creator",
        &log0,
    );
    // A worker with no LLM settings: exit 64 naming the setting, nothing written.
    let (out1, log1) = (dir.path("w.jsonl"), dir.path("w.log"));
    let mut w = worker(&redis.url(), "nollm", &out1, &[], &log1);
    let status = wait_exit(RUN_LIMIT, &mut w, "the worker", &log1);
    let log = std::fs::read_to_string(&log1).unwrap();
    assert_eq!(status.code(), Some(64), "{log}");
    assert!(log.contains("GANNET_LLM_BASE_URL"), "{log}");
    assert!(!out1.exists(), "nothing written");
    // With one, it joins (and finds the crawl finished).
    let (out2, log2) = (dir.path("w2.jsonl"), dir.path("w2.log"));
    let mut w = worker(&redis.url(), "nollm", &out2, &llm, &log2);
    assert_ok(
        wait_exit(RUN_LIMIT, &mut w, "the worker", &log2),
        "the worker",
        &log2,
    );
}

/// Property order as a user writes it (the model and llama.cpp's grammar follow it).
const LLM_SCHEMA: &str = r#"{"type": "object",
  "properties": {"name": {"type": "string"}, "price": {"type": "string"}, "manufacturer": {"type": "string"}},
  "required": ["name", "price", "manufacturer"], "additionalProperties": false}"#;

const PROMPT: &str = "Extract the product's name, price and manufacturer.";

/// One product page per site (the small model reads this shape exactly), name, maker, price.
const PRODUCTS: &[(&str, &str, &str, &str)] = &[
    (
        "Acme Anvil 3000",
        "Acme Corporation",
        "$49.99",
        "The Acme Anvil 3000 is a heavy steel anvil for blacksmiths. It weighs 50 kg and ships in a wooden crate.",
    ),
    (
        "Polar Kettle",
        "Nordic Steel",
        "$25.00",
        "The Polar Kettle is an electric kettle that boils one litre of water in three minutes.",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joined_worker_extracts_with_the_stored_prompt_and_json_schema_on_the_real_model() {
    let Some(llama) = llama::start("distributed-extract").await else {
        return;
    };
    let sites: Vec<Site> = PRODUCTS
        .iter()
        .map(|(name, maker, price, blurb)| {
            SiteBuilder::new()
                .page(
                    "/",
                    format!(
                        "<!doctype html><html><head><title>{name}</title></head><body><article>\
                         <h1>{name}</h1><p>Manufacturer: {maker}</p><p>Price: {price}</p>\
                         <p>{blurb}</p><h2>Shipping</h2><p>Free shipping on orders over $100. \
                         Delivery takes 3 to 5 business days.</p></article></body></html>"
                    ),
                )
                .start_blocking()
        })
        .collect();
    let redis = Redis::with_args(&["--save", "", "--appendonly", "no"]);
    let dir = TempDir::new("dist-llm");
    let schema = dir.path("product.json");
    std::fs::write(&schema, LLM_SCHEMA).unwrap();
    let llm = [
        (
            "GANNET_LLM_BASE_URL",
            format!("http://127.0.0.1:{}/v1", llama.port),
        ),
        ("GANNET_LLM_MODEL", "SmolLM2-135M-Instruct".to_owned()),
        ("GANNET_LLM_MAX_TOKENS", "512".to_owned()),
    ];
    let redis_url = redis.url();
    let (outs, ok) = tokio::task::spawn_blocking(move || {
        let outs: Vec<PathBuf> = (0..2).map(|i| dir.path(&format!("w{i}.jsonl"))).collect();
        let logs: Vec<PathBuf> = (0..2).map(|i| dir.path(&format!("w{i}.log"))).collect();
        let schema_arg = schema.display().to_string();
        // The creator stores the crawl and stops at once (`--max-time 0`, its own choice, not
        // stored): the worker that joins does every page, from the stored prompt and schema
        // text alone (the file is gone).
        let mut c = creator(
            &redis_url,
            "llm",
            &sites,
            &outs[0],
            &[
                "--max-time",
                "0",
                "--extract",
                PROMPT,
                "--json-schema",
                &schema_arg,
            ],
            &llm,
            &logs[0],
        );
        assert_ok(
            wait_exit(RUN_LIMIT, &mut c, "the creator", &logs[0]),
            "the creator",
            &logs[0],
        );
        assert_eq!(lines(&outs[0]), 0, "the creator fetched nothing");
        std::fs::remove_file(&schema).unwrap();
        let mut w = worker(&redis_url, "llm", &outs[1], &llm, &logs[1]);
        assert_ok(
            wait_exit(RUN_LIMIT, &mut w, "the worker", &logs[1]),
            "the worker",
            &logs[1],
        );
        assert_eq!(lines(&outs[1]), PRODUCTS.len(), "the worker did every page");
        let urls: Vec<String> = sites.iter().map(|s| s.url("/").to_string()).collect();
        (outs, (dir, urls))
    })
    .await
    .unwrap();
    let (_dir, urls) = ok;
    let all = records(&outs);
    assert_eq!(all.len(), PRODUCTS.len(), "{all:?}");
    for ((name, maker, price, _), url) in PRODUCTS.iter().zip(&urls) {
        let r = &all[url.as_str()];
        assert_eq!(
            r["extracted"],
            json!({"name": name, "price": price, "manufacturer": maker}),
            "{r}"
        );
        assert!(r["usage"]["prompt_tokens"].as_u64() > Some(50), "{r}");
        assert!(r["usage"]["completion_tokens"].as_u64() > Some(5), "{r}");
    }
}
