//! The client against a provider that misbehaves: every error path ends in a typed error
//! or a recovery, within the configured bounds. A loopback stub stands in for the broken
//! provider; the working path runs against a real model in tests/real_model.rs.

mod stub;

use std::time::{Duration, Instant, SystemTime};

use gannet_llm::{Instruction, LlmClient, LlmConfig, LlmError, parse_base_url};
use serde_json::{Value, json};
use stub::{Reply, Stub};

fn product_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
        "required": ["name", "price"]
    })
}

fn client(stub: &Stub, tune: impl FnOnce(&mut LlmConfig)) -> LlmClient {
    let mut cfg = LlmConfig::new(
        parse_base_url(&stub.base_url()).expect("url"),
        "stub-model",
        Some("sk-test".into()),
    );
    cfg.backoff_base = Duration::from_millis(20);
    cfg.total_timeout = Duration::from_secs(20);
    tune(&mut cfg);
    LlmClient::new(cfg).expect("client")
}

fn product() -> Instruction {
    Instruction::new("The product").with_schema(product_schema())
}

const PAGE: &str = "# Widget\n\nPrice: 9.5\n";
const GOOD: &str = r#"{"name": "Widget", "price": 9.5}"#;

#[tokio::test]
async fn request_carries_model_max_tokens_schema_and_key() {
    let stub = Stub::start(|_, _| Reply::completion(GOOD, "stop")).await;
    let out = client(&stub, |c| c.max_tokens = 321)
        .extract(PAGE, product())
        .await
        .expect("extracts");
    assert_eq!(out.value, json!({"name": "Widget", "price": 9.5}));
    assert_eq!(
        (
            out.usage.prompt_tokens,
            out.usage.completion_tokens,
            out.usage.requests
        ),
        (100, 10, 1)
    );
    let body = &stub.bodies()[0];
    assert_eq!(body["model"], "stub-model");
    assert_eq!(body["max_tokens"], 321);
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(
        body["response_format"]["json_schema"]["schema"],
        product_schema()
    );
    assert_eq!(body["response_format"]["json_schema"]["name"], "extraction");
    assert!(
        body["messages"][1]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("Price: 9.5")
    );
    assert!(
        stub.headers(0)
            .contains(&("authorization".into(), "Bearer sk-test".into()))
    );
}

#[tokio::test]
async fn http_429_with_retry_after_seconds_is_waited_out() {
    let stub = Stub::start(|n, _| match n {
        0 => Reply::status(429, r#"{"error":{"message":"slow down"}}"#)
            .with_header("Retry-After", "1"),
        _ => Reply::completion(GOOD, "stop"),
    })
    .await;
    let t = Instant::now();
    // A back-off of 20 ms would be used if Retry-After were ignored.
    let out = client(&stub, |_| {})
        .extract(PAGE, product())
        .await
        .expect("recovers");
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        t.elapsed()
    );
    assert_eq!(out.value["name"], "Widget");
    assert_eq!(stub.count(), 2);
    assert_eq!(out.usage.requests, 1, "only answered requests count tokens");
}

#[tokio::test]
async fn http_429_with_retry_after_http_date_is_waited_out() {
    let stub = Stub::start(|n, _| match n {
        0 => Reply::status(429, "").with_header(
            "Retry-After",
            &httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2)),
        ),
        _ => Reply::completion(GOOD, "stop"),
    })
    .await;
    let t = Instant::now();
    client(&stub, |_| {})
        .extract(PAGE, product())
        .await
        .expect("recovers");
    // The date has one-second resolution: the wait is between 1 and 2 s.
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        t.elapsed()
    );
    assert_eq!(stub.count(), 2);
}

#[tokio::test]
async fn retry_after_beyond_the_cap_fails_at_once() {
    let stub = Stub::start(|_, _| Reply::status(429, "").with_header("Retry-After", "3600")).await;
    let t = Instant::now();
    let err = client(&stub, |_| {})
        .extract(PAGE, product())
        .await
        .expect_err("rate limited");
    assert!(t.elapsed() < Duration::from_secs(5));
    match err {
        LlmError::RateLimited {
            attempts,
            retry_after,
        } => {
            assert_eq!(
                (attempts, retry_after),
                (1, Some(Duration::from_secs(3600)))
            );
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn persistent_429_exhausts_the_retries() {
    let stub = Stub::start(|_, _| Reply::status(429, "")).await;
    let err = client(&stub, |c| c.max_retries = 2)
        .extract(PAGE, product())
        .await
        .expect_err("429");
    assert!(
        matches!(
            err,
            LlmError::RateLimited {
                attempts: 3,
                retry_after: None
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(stub.count(), 3);
}

#[tokio::test]
async fn http_5xx_then_success_recovers() {
    let stub = Stub::start(|n, _| match n {
        0 => Reply::status(503, "overloaded"),
        1 => Reply::status(502, "<html>bad gateway</html>"),
        _ => Reply::completion(GOOD, "stop"),
    })
    .await;
    let out = client(&stub, |_| {})
        .extract(PAGE, product())
        .await
        .expect("recovers");
    assert_eq!(out.value["price"], 9.5);
    assert_eq!(stub.count(), 3);
}

#[tokio::test]
async fn persistent_5xx_is_a_server_error() {
    let stub = Stub::start(|_, _| Reply::status(500, "boom")).await;
    let err = client(&stub, |c| c.max_retries = 1)
        .extract(PAGE, product())
        .await
        .expect_err("500");
    assert!(
        matches!(
            err,
            LlmError::ServerError {
                status: 500,
                attempts: 2
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let stub =
        Stub::start(|_, _| Reply::status(401, r#"{"error":{"message":"invalid key"}}"#)).await;
    let err = client(&stub, |_| {})
        .extract(PAGE, product())
        .await
        .expect_err("401");
    match &err {
        LlmError::Rejected { status, message } => {
            assert_eq!((*status, message.as_str()), (401, "invalid key"))
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(!err.is_transient());
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn invalid_output_is_repaired_once_with_the_validation_error() {
    let stub = Stub::start(|n, _| match n {
        0 => Reply::completion(r#"{"name": 5, "price": 9.5}"#, "stop"),
        _ => Reply::completion(GOOD, "stop"),
    })
    .await;
    let out = client(&stub, |_| {})
        .extract(PAGE, product())
        .await
        .expect("repaired");
    assert_eq!(out.value, json!({"name": "Widget", "price": 9.5}));
    assert_eq!(
        (
            out.usage.prompt_tokens,
            out.usage.completion_tokens,
            out.usage.requests
        ),
        (200, 20, 2)
    );
    let repair = &stub.bodies()[1];
    let messages = repair["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[2]["role"], "assistant");
    assert_eq!(messages[2]["content"], r#"{"name": 5, "price": 9.5}"#);
    let ask = messages[3]["content"].as_str().unwrap_or_default();
    assert!(
        ask.contains("schema violation") && ask.contains("/name"),
        "{ask}"
    );
}

#[tokio::test]
async fn invalid_json_twice_is_a_typed_error() {
    let stub =
        Stub::start(|_, _| Reply::completion("Sure! The product is a Widget.", "stop")).await;
    let err = client(&stub, |_| {})
        .extract(PAGE, product())
        .await
        .expect_err("invalid");
    match err {
        LlmError::InvalidOutput { error, output } => {
            assert!(error.contains("not valid JSON"), "{error}");
            assert_eq!(output, "Sure! The product is a Widget.");
        }
        other => panic!("expected InvalidOutput, got {other:?}"),
    }
    assert_eq!(stub.count(), 2, "exactly one repair");
}

#[tokio::test]
async fn truncated_json_at_max_tokens_is_a_typed_error() {
    let stub = Stub::start(|_, _| Reply::completion(r#"{"name": "Wid"#, "length")).await;
    let err = client(&stub, |c| c.max_tokens = 5)
        .extract(PAGE, product())
        .await
        .expect_err("cut");
    assert!(
        matches!(err, LlmError::Truncated { max_tokens: 5, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn truncated_http_body_is_a_transport_error() {
    let stub = Stub::start(|_, _| {
        Reply::Raw(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"choices\":[".to_vec())
    })
    .await;
    let err = client(&stub, |_| {})
        .extract(PAGE, product())
        .await
        .expect_err("cut body");
    assert!(matches!(err, LlmError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn non_completion_body_is_malformed() {
    let stub = Stub::start(|_, _| Reply::status(200, "<html>captive portal</html>")).await;
    let err = client(&stub, |_| {})
        .extract(PAGE, product())
        .await
        .expect_err("html");
    assert!(matches!(err, LlmError::MalformedResponse(_)), "{err:?}");
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let big = "x".repeat(200_000);
    let stub = Stub::start(move |_, _| Reply::completion(&big, "stop")).await;
    let err = client(&stub, |c| c.max_response_bytes = 64 * 1024)
        .extract(PAGE, product())
        .await
        .expect_err("too large");
    assert!(
        matches!(err, LlmError::ResponseTooLarge { limit: 65536 }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_hanging_server_hits_the_total_timeout() {
    let stub = Stub::start(|_, _| Reply::Hang).await;
    let t = Instant::now();
    let err = client(&stub, |c| c.total_timeout = Duration::from_secs(1))
        .extract(PAGE, product())
        .await
        .expect_err("hang");
    assert!(
        matches!(err, LlmError::Timeout(d) if d == Duration::from_secs(1)),
        "{err:?}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "bounded: {:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_a_transport_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut cfg = LlmConfig::new(
        parse_base_url(&format!("http://127.0.0.1:{port}/v1")).expect("url"),
        "m",
        None,
    );
    cfg.backoff_base = Duration::from_millis(10);
    cfg.max_retries = 2;
    let err = LlmClient::new(cfg)
        .expect("client")
        .extract(PAGE, product())
        .await
        .expect_err("refused");
    assert!(matches!(err, LlmError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn an_invalid_schema_is_refused_before_any_request() {
    let stub = Stub::start(|_, _| Reply::completion(GOOD, "stop")).await;
    let bad = Instruction::new("x").with_schema(json!({"type": "no-such-type"}));
    let err = client(&stub, |_| {})
        .extract(PAGE, bad)
        .await
        .expect_err("schema");
    assert!(matches!(err, LlmError::InvalidSchema(_)), "{err:?}");
    assert_eq!(stub.count(), 0);
}

/// A page of several chunks: each chunk is one request, at most `per_request_concurrency`
/// in flight, and the answers are merged in page order.
#[tokio::test]
async fn chunks_run_under_the_per_request_cap_and_merge_in_order() {
    let stub = Stub::start(|_, body| {
        let user = body["messages"][1]["content"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let section = user
            .lines()
            .find_map(|l| l.strip_prefix("## Section "))
            .unwrap_or("?")
            .to_owned();
        let answer = json!({"items": [format!("item {section}")], "title": format!("t{section}")});
        Reply::After(
            Duration::from_millis(150),
            Box::new(Reply::completion(&answer.to_string(), "stop")),
        )
    })
    .await;
    let page: String = (1..=6)
        .map(|i| format!("## Section {i}\n\n{}\n\n", "lorem ipsum dolor ".repeat(40)))
        .collect();
    let schema = json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "string"}}, "title": {"type": "string"}}});
    let out = client(&stub, |c| {
        c.chunk_tokens = 250;
        c.overlap_tokens = 0;
        c.per_request_concurrency = 2;
    })
    .extract(&page, Instruction::new("items").with_schema(schema))
    .await
    .expect("extracts");
    assert_eq!(out.chunks, 6);
    assert_eq!(stub.max_in_flight(), 2);
    let items: Vec<String> = (1..=6).map(|i| format!("item {i}")).collect();
    assert_eq!(out.value, json!({"items": items, "title": "t1"}));
    assert_eq!((out.usage.prompt_tokens, out.usage.requests), (600, 6));
}

/// Two calls at once share the client's global cap.
#[tokio::test]
async fn concurrent_calls_share_the_global_cap() {
    let stub = Stub::start(|_, _| {
        Reply::After(
            Duration::from_millis(150),
            Box::new(Reply::completion(r#"{"items": ["x"]}"#, "stop")),
        )
    })
    .await;
    let page: String = (1..=4)
        .map(|i| format!("## Section {i}\n\n{}\n\n", "lorem ipsum dolor ".repeat(40)))
        .collect();
    let schema = json!({"type": "object", "properties": {"items": {"type": "array"}}});
    let c = client(&stub, |c| {
        c.chunk_tokens = 250;
        c.overlap_tokens = 0;
        c.per_request_concurrency = 4;
        c.global_concurrency = 3;
    });
    let a = c.extract(&page, Instruction::new("a").with_schema(schema.clone()));
    let b = c.extract(&page, Instruction::new("b").with_schema(schema));
    let (a, b) = tokio::join!(a, b);
    assert_eq!(a.expect("a").chunks + b.expect("b").chunks, 8);
    assert_eq!(stub.count(), 8);
    assert_eq!(stub.max_in_flight(), 3);
}

#[tokio::test]
async fn block_mode_uses_the_fixed_schema_and_returns_the_blocks() {
    let stub = Stub::start(|_, _| {
        Reply::completion(
            r#"{"blocks": [{"index": 7, "tags": ["price"], "content": "Price: 9.5"}]}"#,
            "stop",
        )
    })
    .await;
    let out = client(&stub, |_| {})
        .extract(PAGE, Instruction::default())
        .await
        .expect("blocks");
    assert_eq!(
        out.value,
        json!([{"index": 0, "tags": ["price"], "content": "Price: 9.5"}])
    );
    let format = &stub.bodies()[0]["response_format"]["json_schema"];
    assert_eq!(format["name"], "blocks");
    assert_eq!(format["strict"], true);
    // The fixed block schema, its number of blocks bounded by the page's length.
    let (sent, fixed) = (&format["schema"], gannet_llm::block_schema());
    let blocks = &sent["properties"]["blocks"];
    assert_eq!(blocks["items"], fixed["properties"]["blocks"]["items"]);
    let most = blocks["maxItems"].as_u64().expect("bounded");
    assert!(
        most >= 1 && most <= PAGE.len().div_ceil(100) as u64,
        "{blocks}"
    );
}
