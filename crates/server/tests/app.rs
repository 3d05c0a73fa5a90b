//! The service as a tower `Service` ([`gannet_server::app`]), called without a socket: the
//! whole router with its middleware, over a real loopback test site as the web.

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gannet_server::{AppState, ServerConfig, app};
use gannet_testkit::SiteBuilder;
use serde_json::{Value, json};
use tower::ServiceExt;

fn config(name: &str) -> ServerConfig {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("app-{name}"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("temp root");
    let mut cfg = ServerConfig {
        allow_private: true,
        access_log: false,
        data_dir: Some(root.join("data")),
        ..ServerConfig::default()
    };
    cfg.browser.temp_root = root;
    cfg
}

/// One request through the router: status, the `x-request-id` header, the JSON body.
async fn call(state: &AppState, req: Request<Body>) -> (StatusCode, Option<String>, Value) {
    let response = app(state.clone()).oneshot(req).await.expect("infallible");
    let status = response.status();
    let id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("the body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, id, body)
}

fn post(path: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("a request")
}

#[tokio::test]
async fn the_router_answers_without_a_socket() {
    let site = SiteBuilder::new()
        .page(
            "/a",
            "<html><head><title>A page</title></head><body><article><h1>Gannets</h1>\
             <p>Gannets dive into the sea from a height to catch fish, and they nest in \
             large colonies on cliffs.</p></article></body></html>",
        )
        .start()
        .await;
    let state = AppState::new(config("oneshot")).expect("the state");

    let (status, id, health) = call(
        &state,
        Request::get("/health").body(Body::empty()).expect("GET"),
    )
    .await;
    assert_eq!(
        (status, health["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    assert!(
        id.is_some_and(|id| id.len() == 16),
        "a generated request id"
    );

    let (status, _, md) = call(&state, post("/md", &json!({"url": site.url("/a")}))).await;
    assert_eq!(status, StatusCode::OK, "{md}");
    let markdown = md["markdown"].as_str().expect("markdown");
    assert!(markdown.contains("nest in large colonies"), "{markdown}");
    assert_eq!(site.hits("/a"), 1);

    // Middleware is part of the app: errors are JSON with the route's request id echoed.
    let missing = Request::get("/nope")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .expect("GET");
    let (status, id, error) = call(&state, missing).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(id.as_deref(), Some("abc-123"));
    assert_eq!(error["error"]["code"], "not_found");

    // A job through our API, read back through Firecrawl's status route.
    let (status, _, started) = call(
        &state,
        post("/v1/crawl", &json!({"url": site.url("/a"), "limit": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let id = started["id"].as_str().expect("an id").to_owned();
    let mut last = Value::Null;
    for _ in 0..100 {
        let (_, _, s) = call(
            &state,
            Request::get(format!("/v1/crawl/{id}"))
                .body(Body::empty())
                .expect("GET"),
        )
        .await;
        last = s;
        if last["status"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(last["status"], "completed", "{last}");
    assert_eq!(
        last["data"][0]["metadata"]["sourceURL"],
        site.url("/a").as_str()
    );
}
