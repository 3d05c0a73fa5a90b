//! A JSON body kept with its text: LLM schemas are sent to the model as the caller wrote
//! them (property order steers a small model and llama.cpp's grammar), and a parsed
//! `serde_json::Value` has lost that order.

use axum::Json;
use axum::extract::{FromRequest, Request};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;
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
        // The parts (headers, and the extensions that carry the body limit set by
        // `DefaultBodyLimit`) go with both reads: a request rebuilt without them would
        // be held to axum's default 2 MB whatever the server's `max_body_bytes`.
        let (parts, body) = req.into_parts();
        let text = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|e| {
                let status = e.status();
                let code = if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    "body_too_large"
                } else {
                    "bad_request"
                };
                ApiError::new(status, code, e.body_text())
            })?;
        let again = Request::from_parts(parts, axum::body::Body::from(text.clone()));
        let body = Json::<T>::from_request(again, state).await;
        Ok(Self { body, text })
    }
}

/// The text of the value at `path` in a JSON document, as written, with crawl4ai's
/// `{"type": "dict", "value": ...}` wrapping removed at every level (its client wraps
/// every dict of a config, nested ones too). A `{"type": X, "params": {...}}` config is
/// entered with the key `params`; a number in the path indexes an array.
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
            Err(_) => entries(here)?
                .into_iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)?,
        };
    }
    Some(undict(here))
}

/// An object's entries in their order, if it is an object.
fn entries(v: &RawValue) -> Option<Vec<(String, &RawValue)>> {
    serde_json::from_str::<Entries<'_>>(v.get())
        .ok()
        .map(|e| e.0)
}

struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Entries<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

fn unwrap_dict(v: &RawValue) -> &RawValue {
    match entries(v).as_deref() {
        Some([(t, kind), (k, value)]) | Some([(k, value), (t, kind)])
            if t == "type" && k == "value" && kind.get() == "\"dict\"" =>
        {
            value
        }
        _ => v,
    }
}

/// The value's text with every dict wrapping removed, keys in their order.
fn undict(v: &RawValue) -> String {
    let v = unwrap_dict(v);
    if let Some(entries) = entries(v) {
        let inner: Vec<String> = entries
            .iter()
            .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), undict(v)))
            .collect();
        return format!("{{{}}}", inner.join(","));
    }
    if let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(v.get()) {
        let inner: Vec<String> = items.iter().map(|i| undict(i)).collect();
        return format!("[{}]", inner.join(","));
    }
    v.get().to_owned()
}

/// A parsed value with every dict wrapping removed.
pub(crate) fn undict_value(v: &Value) -> Value {
    match v {
        Value::Object(o)
            if o.len() == 2
                && o.get("type").and_then(Value::as_str) == Some("dict")
                && o.contains_key("value") =>
        {
            undict_value(&o["value"])
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), undict_value(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(undict_value).collect()),
        other => other.clone(),
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
        assert!(text.starts_with(r#"{"type":"object""#), "{text}");
        assert_eq!(raw_at(body, &["nope"]), None);
        let v2 = br#"{"formats": ["markdown", {"type": "json", "schema": {"b": 1, "a": 2}}]}"#;
        assert_eq!(
            raw_at(v2, &["formats", "1", "schema"]).unwrap(),
            r#"{"b":1,"a":2}"#
        );
        let nested = br#"{"s": {"type": "dict", "value": {"b": {"type": "dict",
            "value": {"y": 1, "x": [{"type": "dict", "value": {"q": 2}}]}}, "a": 3}}}"#;
        assert_eq!(
            raw_at(nested, &["s"]).unwrap(),
            r#"{"b":{"y":1,"x":[{"q":2}]},"a":3}"#
        );
        assert_eq!(raw_at(b"not json", &path), None);
    }
}
