//! A JSON body kept with its text: LLM schemas are sent to the model as the caller wrote
//! them (property order steers a small model and llama.cpp's grammar), and a parsed
//! `serde_json::Value` has lost that order.

use axum::Json;
use axum::extract::{FromRequest, Request};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::{ApiError, Body};

/// A JSON body (or why it could not be read, as [`Body`]) and its bytes.
pub(crate) struct WithText<T> {
    pub(crate) body: Body<T>,
    pub(crate) text: Bytes,
}

impl<S, T> FromRequest<S> for WithText<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let text = Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            let code = if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                "body_too_large"
            } else {
                "bad_request"
            };
            ApiError::new(status, code, e.body_text())
        })?;
        let mut again = Request::new(axum::body::Body::from(text.clone()));
        *again.headers_mut() = headers;
        let body = Json::<T>::from_request(again, state).await;
        Ok(Self { body, text })
    }
}

/// The text of the value at `path` in a JSON document, as written. crawl4ai's
/// `{"type": "dict", "value": ...}` wrapping is looked through at every step; a
/// `{"type": X, "params": {...}}` config is entered with the key `params`.
pub(crate) fn raw_at(text: &[u8], path: &[&str]) -> Option<String> {
    let text = std::str::from_utf8(text).ok()?;
    let mut here: &RawValue = serde_json::from_str(text).ok()?;
    for key in path {
        here = unwrap_dict(here);
        here = match key.parse::<usize>() {
            // An index into an array.
            Ok(i) => *serde_json::from_str::<Vec<&RawValue>>(here.get())
                .ok()?
                .get(i)?,
            Err(_) => {
                let map: std::collections::HashMap<String, &RawValue> =
                    serde_json::from_str(here.get()).ok()?;
                map.get(*key).copied()?
            }
        };
    }
    Some(unwrap_dict(here).get().to_owned())
}

fn unwrap_dict(v: &RawValue) -> &RawValue {
    let Ok(map) = serde_json::from_str::<std::collections::HashMap<String, &RawValue>>(v.get())
    else {
        return v;
    };
    match (map.get("type").map(|t| t.get()), map.get("value")) {
        (Some("\"dict\""), Some(value)) => value,
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_text_keeps_the_order_and_looks_through_dict_wrapping() {
        let body = br#"{"crawler_config": {"type": "CrawlerRunConfig", "params": {
            "extraction_strategy": {"type": "LLMExtractionStrategy", "params": {
            "schema": {"type": "dict", "value": {"type": "object", "properties":
            {"zeta": {"type": "string"}, "alpha": {"type": "number"}}}}}}}}}"#;
        let path = [
            "crawler_config",
            "params",
            "extraction_strategy",
            "params",
            "schema",
        ];
        let text = raw_at(body, &path).unwrap();
        assert!(
            text.find("zeta").unwrap() < text.find("alpha").unwrap(),
            "{text}"
        );
        assert!(text.starts_with(r#"{"type": "object""#), "{text}");
        assert_eq!(raw_at(body, &["nope"]), None);
        let v2 = br#"{"formats": ["markdown", {"type": "json", "schema": {"b": 1, "a": 2}}]}"#;
        assert_eq!(
            raw_at(v2, &["formats", "1", "schema"]).unwrap(),
            r#"{"b": 1, "a": 2}"#
        );
        assert_eq!(raw_at(b"not json", &path), None);
    }
}
