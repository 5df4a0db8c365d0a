//! JSON bodies read into `serde_json::Value` with one check serde_json does not make: no
//! object may hold the same key twice. JSON leaves a repeated key's meaning open and
//! serde_json keeps the last value; in a clinical payload two values for one element (an
//! answer, a `linkId`, a code) are a client bug, and silently taking either could hide a red
//! flag. So a repeat is refused, wherever it is.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::body::malformed;
use super::error::{ApiError, ErrorCode};

/// A JSON value and the first key found twice in one of its objects.
pub struct Checked {
    pub value: Value,
    pub repeated_key: Option<String>,
}

/// The body as a `Value`: malformed JSON is `malformed_json`, a repeated key
/// `invalid_request_shape`.
pub fn parse_strict(body: &[u8]) -> Result<Value, ApiError> {
    let checked: Checked = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
    match checked.repeated_key {
        None => Ok(checked.value),
        Some(key) => Err(ApiError::new(
            ErrorCode::InvalidRequestShape,
            repeated_key_message(&key, "one object"),
        )),
    }
}

/// Why a key sent twice in `place` is refused.
pub fn repeated_key_message(key: &str, place: &str) -> String {
    // Keys are element names and codes, not values; still, never echo an unbounded one.
    let shown: String = key.chars().take(64).collect();
    format!("the key `{shown}` appears more than once in {place}; send it once")
}

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CheckedVisitor)
    }
}

fn plain(value: Value) -> Checked {
    Checked {
        value,
        repeated_key: None,
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    // Each conversion as serde_json's own `Value` reading makes it.
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Checked, E> {
        Ok(plain(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Checked, E> {
        Ok(plain(Value::Number(v.into())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Checked, E> {
        Ok(plain(Value::Number(v.into())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Checked, E> {
        Ok(plain(
            Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Checked, E> {
        Ok(plain(Value::String(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Checked, E> {
        Ok(plain(Value::String(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
        Ok(plain(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        let mut repeated_key = None;
        while let Some(item) = seq.next_element::<Checked>()? {
            if repeated_key.is_none() {
                repeated_key = item.repeated_key;
            }
            items.push(item.value);
        }
        Ok(Checked {
            value: Value::Array(items),
            repeated_key,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut object = Map::new();
        let mut repeated_key = None;
        while let Some(key) = map.next_key::<String>()? {
            let item = map.next_value::<Checked>()?;
            if repeated_key.is_none() {
                repeated_key = if object.contains_key(&key) {
                    Some(key.clone())
                } else {
                    item.repeated_key
                };
            }
            object.insert(key, item.value);
        }
        Ok(Checked {
            value: Value::Object(object),
            repeated_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_as_serde_json_does_and_refuses_repeated_keys_at_any_depth() {
        for body in [
            r#"{"a": [1, -2, 3.5, 1e2, 18446744073709551615, 18446744073709551616, true, null, "x\u0041"], "b": {"c": {}}}"#,
            "[]",
            "\"s\"",
            "-0",
        ] {
            let strict = parse_strict(body.as_bytes()).ok();
            let plain: Option<Value> = serde_json::from_str(body).ok();
            assert_eq!(strict, plain, "{body}");
        }
        for (body, key) in [
            (r#"{"a": 1, "a": 2}"#, "a"),
            (
                r#"{"item": [{"linkId": "x", "answer": [], "answer": [1]}]}"#,
                "answer",
            ),
            (
                r#"{"x": {"valueCoding": {"code": "present", "code": "absent"}}}"#,
                "code",
            ),
            (r#"{"se\u0078": 1, "sex": 2}"#, "sex"),
        ] {
            let error = parse_strict(body.as_bytes()).err();
            assert_eq!(
                error.as_ref().map(|e| e.code),
                Some(ErrorCode::InvalidRequestShape)
            );
            assert!(
                error.is_some_and(|e| e.detail.contains(&format!("`{key}`"))),
                "{body}"
            );
        }
        assert_eq!(
            parse_strict(b"{\"a\": \"\xff\"}").err().map(|e| e.code),
            Some(ErrorCode::MalformedJson)
        );
    }
}
