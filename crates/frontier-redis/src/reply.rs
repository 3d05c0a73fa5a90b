//! Reading script replies (RESP2 shapes: integers, bulk strings, arrays).

use crate::error::FrontierError;
use redis::Value;

pub(crate) fn int(v: &Value) -> Result<i64, FrontierError> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::BulkString(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .map(|f| f as i64)
            .ok_or_else(|| FrontierError::reply(format!("not a number: {v:?}"))),
        Value::SimpleString(s) => s
            .parse::<f64>()
            .map(|f| f as i64)
            .map_err(|_| FrontierError::reply(format!("not a number: {s}"))),
        Value::Double(d) => Ok(*d as i64),
        other => Err(FrontierError::reply(format!("not a number: {other:?}"))),
    }
}

pub(crate) fn string(v: &Value) -> Result<String, FrontierError> {
    match v {
        Value::BulkString(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Ok(s.clone()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Nil => Ok(String::new()),
        other => Err(FrontierError::reply(format!("not a string: {other:?}"))),
    }
}

pub(crate) fn array(v: &Value) -> Result<&[Value], FrontierError> {
    match v {
        Value::Array(a) => Ok(a),
        Value::Nil => Ok(&[]),
        other => Err(FrontierError::reply(format!("not an array: {other:?}"))),
    }
}

pub(crate) fn at(a: &[Value], i: usize) -> Result<&Value, FrontierError> {
    a.get(i)
        .ok_or_else(|| FrontierError::reply(format!("reply too short ({} < {})", a.len(), i + 1)))
}

/// A shard's hint: {version, earliest ready time or -1, earliest lease expiry or -1}.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hint {
    pub(crate) shard: u16,
    pub(crate) version: i64,
    pub(crate) ready: i64,
    pub(crate) lease: i64,
}

pub(crate) fn hint(shard: u16, v: &Value) -> Result<Hint, FrontierError> {
    let a = array(v)?;
    Ok(Hint {
        shard,
        version: int(at(a, 0)?)?,
        ready: int(at(a, 1)?)?,
        lease: int(at(a, 2)?)?,
    })
}
