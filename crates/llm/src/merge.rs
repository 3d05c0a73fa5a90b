//! Merging the values extracted from the chunks of one page into one value.

use serde_json::Value;

/// Merges `next` (a later chunk's value) into `acc`: arrays are concatenated (an item equal
/// to one already taken from an earlier chunk is dropped: the chunks overlap, so the same
/// item is often seen twice), objects are merged field by field, an empty value (null, "",
/// [] or {}) is replaced by a non-empty one, and otherwise the earlier chunk's scalar wins.
pub fn merge_into(acc: &mut Value, next: Value) {
    if is_empty(acc) {
        if !is_empty(&next) {
            *acc = next;
        }
        return;
    }
    match (acc, next) {
        (Value::Array(a), Value::Array(b)) => {
            let before = a.len();
            for item in b {
                if !a[..before].contains(&item) {
                    a.push(item);
                }
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => merge_into(existing, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arrays_concatenate_objects_merge_scalars_keep_first() {
        let mut acc = json!({"title": "A", "price": null, "items": [1, 2], "meta": {"x": 1}});
        merge_into(
            &mut acc,
            json!({"title": "B", "price": "3", "items": [2, 3, 3], "meta": {"y": 2}, "new": true}),
        );
        assert_eq!(
            acc,
            json!({"title": "A", "price": "3", "items": [1, 2, 3, 3], "meta": {"x": 1, "y": 2}, "new": true})
        );
    }

    #[test]
    fn empty_accumulator_takes_the_next_value() {
        let mut acc = Value::Null;
        merge_into(&mut acc, json!([1]));
        assert_eq!(acc, json!([1]));
        merge_into(&mut acc, Value::Null);
        assert_eq!(acc, json!([1]));
    }
}
