//! The `POST /v1/triage` body, read straight from the bytes.
//!
//! A full request answers every one of ~200 codes; reading it into `serde_json::Value` first
//! allocated a `String` key and a `String` value per answer and cost most of the request's
//! CPU. Here keys and string values are borrowed from the body (owned only when they carry
//! escapes), and only the answers' JSON types are kept. The result, errors included, is
//! what reading the body as a `serde_json::Value` gives (the same JSON is accepted, top-level
//! keys are checked in key order, answers reach the engine in key order; the tests check this
//! against a `Value` reading) with one difference made on purpose: a key sent twice is
//! refused instead of its last value silently winning. Two answers to one question (say
//! `saddle_numbness` present, then absent) are a client bug, and taking either could hide a
//! red flag; the FHIR mapping refuses an item answered twice in the same way.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::engine::{
    parse_answer_pairs, AnswerError, AnswerErrorKind, AnswerJson, Answers, Audience,
};
use crate::http::body::malformed;
use crate::http::error::{escape_pointer, ApiError, ErrorCode};
use crate::http::json::Checked;
use crate::view::dto::AudienceDto;

/// An answer's value as sent: only what answer parsing reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent<'a> {
    Str(Cow<'a, str>),
    Number(f64),
    Array(Vec<Sent<'a>>),
    /// `null`: asked, not answered.
    Null,
    /// `{"value": <number>, "unit": <string>}` and no other key: a number in a named unit.
    Quantity(f64, Cow<'a, str>),
    /// A boolean or any other object: never a valid answer, refused by the engine's parsing.
    Other,
}

impl AnswerJson for Sent<'_> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Sent::Str(s) => Some(s),
            _ => None,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Sent::Number(n) => Some(*n),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&[Self]> {
        match self {
            Sent::Array(items) => Some(items),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Sent::Null)
    }

    fn as_quantity(&self) -> Option<(f64, &str)> {
        match self {
            Sent::Quantity(value, unit) => Some((*value, unit)),
            _ => None,
        }
    }
}

/// The checked request: answers in key order, each key once, and the audience.
#[derive(Debug)]
pub struct TriageInput<'a> {
    pub answers: Vec<(Cow<'a, str>, Sent<'a>)>,
    /// Keys `answers` holds more than once (refused by `answers_of`).
    pub answered_twice: Vec<String>,
    pub audience: Audience,
    /// `options.language` as sent (checked against the knowledge base's languages later).
    pub language: Option<String>,
}

/// The engine's typed answers, or every problem: the engine's own, and each key sent twice.
pub fn answers_of(
    kb: &crate::knowledge::KnowledgeBase,
    input: &TriageInput<'_>,
) -> Result<Answers, ApiError> {
    let parsed = parse_answer_pairs(kb, input.answers.iter().map(|(k, v)| (k.as_ref(), v)));
    if input.answered_twice.is_empty() {
        return parsed.map_err(|e| ApiError::from_answers(&e));
    }
    let mut errors: Vec<AnswerError> = input
        .answered_twice
        .iter()
        .map(|code| AnswerError {
            kind: AnswerErrorKind::InvalidAnswerValue,
            code: code.clone(),
            message: format!("`{code}` is answered more than once; send each code once"),
            did_you_mean: Vec::new(),
        })
        .collect();
    if let Err(more) = parsed {
        errors.extend(
            more.into_iter()
                .filter(|e| !input.answered_twice.contains(&e.code)),
        );
    }
    errors.sort_by(|a, b| a.code.cmp(&b.code));
    Err(ApiError::from_answers(&errors))
}

/// Read and check the top level of a request body.
pub fn parse_request(body: &[u8]) -> Result<TriageInput<'_>, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let top = Top::deserialize(&mut de).map_err(|e| malformed(&e))?;
    de.end().map_err(|e| malformed(&e))?;
    let Top::Object {
        answers,
        options,
        first_unknown_key,
        repeated_member,
        repeated_in_options,
    } = top
    else {
        return Err(ApiError::field(
            ErrorCode::InvalidRequestShape,
            "",
            "the body must be a JSON object with `answers`",
        ));
    };
    if let Some(key) = first_unknown_key {
        return Err(ApiError::field(
            ErrorCode::InvalidRequestShape,
            format!("/{}", escape_pointer(&key)),
            "unknown top-level key; allowed: `answers`, `options`",
        ));
    }
    if let Some(key) = repeated_member {
        return Err(ApiError::field(
            ErrorCode::InvalidRequestShape,
            format!("/{key}"),
            format!("`{key}` appears more than once; send it once"),
        ));
    }
    if let Some(key) = repeated_in_options {
        return Err(ApiError::field(
            ErrorCode::InvalidOption,
            "/options",
            crate::http::json::repeated_key_message(&key, "`options`"),
        ));
    }
    let Options { audience, language } = match options {
        None | Some(Value::Null) => Options::default(),
        Some(options) => parse_options(options)?,
    };
    match answers {
        Some(AnswersMember::Object(mut answers)) => {
            // Key order, as a JSON object reads; each key once (a repeated key is reported).
            answers.sort_by(|a, b| a.0.cmp(&b.0));
            let mut answered_twice: Vec<String> = Vec::new();
            answers.dedup_by(|later, earlier| {
                let same = later.0 == earlier.0;
                if same && answered_twice.last().map(String::as_str) != Some(&*later.0) {
                    answered_twice.push(later.0.clone().into_owned());
                }
                same
            });
            Ok(TriageInput {
                answers,
                answered_twice,
                audience,
                language,
            })
        }
        Some(AnswersMember::NotAnObject) => Err(ApiError::field(
            ErrorCode::InvalidRequestShape,
            "/answers",
            "`answers` must be an object keyed by vocabulary code",
        )),
        None => Err(ApiError::field(
            ErrorCode::InvalidRequestShape,
            "/answers",
            "`answers` is required",
        )),
    }
}

#[derive(Debug, Default)]
struct Options {
    audience: Audience,
    language: Option<String>,
}

fn parse_options(options: Value) -> Result<Options, ApiError> {
    let Value::Object(map) = options else {
        return Err(ApiError::field(
            ErrorCode::InvalidOption,
            "/options",
            "`options` must be an object",
        ));
    };
    let mut parsed = Options::default();
    for (key, value) in map {
        match key.as_str() {
            "audience" => {
                let audience: AudienceDto = serde_json::from_value(value).map_err(|_| {
                    ApiError::field(
                        ErrorCode::InvalidOption,
                        "/options/audience",
                        "`audience` must be \"patient\" or \"clinician\"",
                    )
                })?;
                parsed.audience = audience.into();
            }
            "language" => match value {
                Value::String(tag) => parsed.language = Some(tag),
                _ => {
                    return Err(ApiError::field(
                        ErrorCode::InvalidOption,
                        "/options/language",
                        "`language` must be a language tag such as \"en\" or \"es\"",
                    ))
                }
            },
            _ => {
                return Err(ApiError::field(
                    ErrorCode::InvalidOption,
                    format!("/options/{}", escape_pointer(&key)),
                    "unknown option; allowed: `audience`, `language`",
                ))
            }
        }
    }
    Ok(parsed)
}

/// The body's top level. Every JSON value is read to its end (so malformed JSON anywhere is
/// reported as such before any shape problem).
enum Top<'a> {
    Object {
        answers: Option<AnswersMember<'a>>,
        options: Option<Value>,
        /// The smallest key that is neither `answers` nor `options`.
        first_unknown_key: Option<String>,
        /// `answers` or `options` when sent more than once.
        repeated_member: Option<&'static str>,
        /// A key repeated inside (the last) `options`.
        repeated_in_options: Option<String>,
    },
    NotAnObject,
}

enum AnswersMember<'a> {
    Object(Vec<(Cow<'a, str>, Sent<'a>)>),
    NotAnObject,
}

/// A key, borrowed from the body unless it carries escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Implements every scalar `visit_*` of a visitor as "not the expected shape".
macro_rules! scalars_are {
    ($value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            skip_seq(seq)?;
            Ok($value)
        }
    };
}

/// A value that is not needed, read to its end with every check a `Value` reading makes
/// (serde's `IgnoredAny` would let invalid UTF-8 in strings through).
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SkipVisitor;
        impl<'de> Visitor<'de> for SkipVisitor {
            type Value = Skip;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalars_are!(Skip);
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                skip_map(map)?;
                Ok(Skip)
            }
        }
        deserializer.deserialize_any(SkipVisitor)
    }
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<Skip>()?.is_some() {}
    Ok(())
}

fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<Skip, Skip>()?.is_some() {}
    Ok(())
}

impl<'de> Deserialize<'de> for Top<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TopVisitor;
        impl<'de> Visitor<'de> for TopVisitor {
            type Value = Top<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalars_are!(Top::NotAnObject);
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut answers = None;
                let mut options = None;
                let mut first_unknown_key: Option<String> = None;
                let mut repeated_member = None;
                let mut repeated_in_options = None;
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match key.as_ref() {
                        "answers" => {
                            if answers.is_some() {
                                repeated_member.get_or_insert("answers");
                            }
                            answers = Some(map.next_value::<AnswersMember<'de>>()?);
                        }
                        "options" => {
                            if options.is_some() {
                                repeated_member.get_or_insert("options");
                            }
                            let checked = map.next_value::<Checked>()?;
                            repeated_in_options = checked.repeated_key;
                            options = Some(checked.value);
                        }
                        other => {
                            map.next_value::<Skip>()?;
                            if first_unknown_key.as_deref().is_none_or(|k| other < k) {
                                first_unknown_key = Some(other.to_owned());
                            }
                        }
                    }
                }
                Ok(Top::Object {
                    answers,
                    options,
                    first_unknown_key,
                    repeated_member,
                    repeated_in_options,
                })
            }
        }
        deserializer.deserialize_any(TopVisitor)
    }
}

impl<'de> Deserialize<'de> for AnswersMember<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnswersVisitor;
        impl<'de> Visitor<'de> for AnswersVisitor {
            type Value = AnswersMember<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalars_are!(AnswersMember::NotAnObject);
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut answers = Vec::with_capacity(map.size_hint().unwrap_or(16).min(256));
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    answers.push((key, map.next_value::<Sent<'de>>()?));
                }
                Ok(AnswersMember::Object(answers))
            }
        }
        deserializer.deserialize_any(AnswersVisitor)
    }
}

impl<'de> Deserialize<'de> for Sent<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SentVisitor;
        impl<'de> Visitor<'de> for SentVisitor {
            type Value = Sent<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Sent::Other)
            }
            // As `serde_json::Value::as_f64` converts each kind of number.
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Sent::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Sent::Number(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Sent::Number(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Sent::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Sent::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Sent::Str(Cow::Owned(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Sent::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(64));
                while let Some(item) = seq.next_element::<Sent<'de>>()? {
                    items.push(item);
                }
                Ok(Sent::Array(items))
            }
            // As `serde_json::Value` reads an object: a repeated key's last value wins.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut value, mut unit, mut other) = (None, None, false);
                while let Some((Key(key), sent)) = map.next_entry::<Key<'de>, Sent<'de>>()? {
                    match key.as_ref() {
                        "value" => value = Some(sent),
                        "unit" => unit = Some(sent),
                        _ => other = true,
                    }
                }
                Ok(match (value, unit, other) {
                    (Some(Sent::Number(n)), Some(Sent::Str(u)), false) => Sent::Quantity(n, u),
                    _ => Sent::Other,
                })
            }
        }
        deserializer.deserialize_any(SentVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{parse_answers, Answers};
    use crate::knowledge::{self, KnowledgeBase, RuleSource};
    use proptest::prelude::*;
    use serde_json::Map;

    /// The reading this module replaces: the whole body as a `serde_json::Value`.
    fn through_value(kb: &KnowledgeBase, body: &[u8]) -> Result<(Answers, Audience), ApiError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
        let Value::Object(mut top) = value else {
            return Err(ApiError::field(
                ErrorCode::InvalidRequestShape,
                "",
                "the body must be a JSON object with `answers`",
            ));
        };
        if let Some(key) = top.keys().find(|k| *k != "answers" && *k != "options") {
            return Err(ApiError::field(
                ErrorCode::InvalidRequestShape,
                format!("/{}", escape_pointer(key)),
                "unknown top-level key; allowed: `answers`, `options`",
            ));
        }
        let audience = match top.remove("options") {
            None | Some(Value::Null) => Audience::Patient,
            Some(options) => parse_options(options)?.audience,
        };
        let answers: Map<String, Value> = match top.remove("answers") {
            Some(Value::Object(answers)) => answers,
            Some(_) => {
                return Err(ApiError::field(
                    ErrorCode::InvalidRequestShape,
                    "/answers",
                    "`answers` must be an object keyed by vocabulary code",
                ))
            }
            None => {
                return Err(ApiError::field(
                    ErrorCode::InvalidRequestShape,
                    "/answers",
                    "`answers` is required",
                ))
            }
        };
        let answers = parse_answers(kb, &answers).map_err(|e| ApiError::from_answers(&e))?;
        Ok((answers, audience))
    }

    fn straight(kb: &KnowledgeBase, body: &[u8]) -> Result<(Answers, Audience), ApiError> {
        let input = parse_request(body)?;
        Ok((answers_of(kb, &input)?, input.audience))
    }

    /// Whether `straight` refused `body` for a key sent twice, and the key really is there twice.
    fn refused_as_repeated(body: &[u8], error: &ApiError) -> bool {
        let text = String::from_utf8_lossy(body);
        // Every `"…":` in the body, unescaped (the generated keys hold no quotes).
        let keys: Vec<String> = text
            .match_indices("\":")
            .filter_map(|(end, _)| {
                let start = text[..end].rfind('"')?;
                serde_json::from_str::<String>(&text[start..=end]).ok()
            })
            .collect();
        let repeated = |key: &str| keys.iter().filter(|k| *k == key).count() >= 2;
        let answered_twice = error
            .errors
            .iter()
            .filter(|e| e.message.contains("answered more than once"))
            .count();
        if answered_twice > 0 {
            return error
                .errors
                .iter()
                .filter(|e| e.message.contains("answered more than once"))
                .all(|e| repeated(e.path.trim_start_matches("/answers/")));
        }
        if let Some(key) = error
            .detail
            .strip_prefix("the key `")
            .and_then(|rest| rest.split('`').next())
        {
            return error
                .detail
                .ends_with("more than once in `options`; send it once")
                && repeated(key);
        }
        ["answers", "options"].iter().any(|k| {
            error
                .detail
                .starts_with(&format!("`{k}` appears more than once"))
                && repeated(k)
        })
    }

    fn kb() -> &'static KnowledgeBase {
        static KB: std::sync::OnceLock<KnowledgeBase> = std::sync::OnceLock::new();
        KB.get_or_init(|| knowledge::load(&RuleSource::Embedded).expect("embedded kb"))
    }

    /// The same result as the `Value` reading, except a refusal of a key really sent twice.
    fn same(body: &[u8]) {
        let new = straight(kb(), body);
        if let Err(e) = &new {
            if refused_as_repeated(body, e) {
                return;
            }
        }
        let old = format!("{:?}", through_value(kb(), body));
        assert_eq!(
            old,
            format!("{new:?}"),
            "body: {:?}",
            String::from_utf8_lossy(body)
        );
    }

    const KEYS: &[&str] = &[
        "answers",
        "options",
        "audience",
        "age_years",
        "sex",
        "fever",
        "weight_kg",
        "cancer_type",
        "fevr",
        "sepsis_signs",
        "ag\\u0065_years",
        "extra",
        "",
    ];
    const SCALARS: &[&str] = &[
        "\"present\"",
        "\"absent\"",
        "\"unknown\"",
        "\"pr\\u0065sent\"",
        "\"male\"",
        "\"female\"",
        "\"clinician\"",
        "\"breast\"",
        "\"lung\"",
        "\"\\ud83d\\ude00\"",
        "\"\"",
        "0",
        "-0",
        "34",
        "34.0",
        "34.5",
        "1e2",
        "-5",
        "70.25",
        "18446744073709551616",
        "1e400",
        "true",
        "false",
        "null",
    ];

    fn json_text() -> impl Strategy<Value = String> {
        let leaf = prop::sample::select(SCALARS).prop_map(str::to_owned);
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                prop::collection::vec((prop::sample::select(KEYS), inner), 0..7).prop_map(
                    |members| {
                        let members: Vec<String> = members
                            .into_iter()
                            .map(|(k, v)| format!("\"{k}\":{v}"))
                            .collect();
                        format!("{{{}}}", members.join(","))
                    }
                ),
            ]
        })
    }

    /// Mostly well-formed bodies; some with a byte changed, removed or cut off, to check that
    /// broken JSON and invalid UTF-8 are refused the same way wherever they are.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        (json_text(), 0usize..1000, 0u8..8, any::<u8>()).prop_map(|(text, at, how, byte)| {
            let mut bytes = text.into_bytes();
            let at = at % (bytes.len() + 1);
            match how {
                0 => bytes.insert(at, 0xff),
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                2 => bytes.truncate(at),
                3 => bytes.insert(at, byte),
                _ => {}
            }
            bytes
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn reads_every_body_as_a_value_reading_would(body in body()) {
            same(&body);
        }

        #[test]
        fn reads_every_requestlike_body_as_a_value_reading_would(
            answers in prop::collection::vec((prop::sample::select(KEYS), json_text()), 0..8),
            options in prop::option::of(json_text()),
        ) {
            let answers: Vec<String> =
                answers.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
            let body = match options {
                Some(o) => format!("{{\"answers\": {{{}}}, \"options\": {o}}}", answers.join(", ")),
                None => format!("{{\"answers\": {{{}}}}}", answers.join(", ")),
            };
            same(body.as_bytes());
        }
    }

    #[test]
    fn keys_sent_twice_are_refused_with_every_other_problem() {
        let refusal = |body: &str| straight(kb(), body.as_bytes()).err();
        let e = refusal(
            r#"{"answers": {"saddle_numbness": "present", "age_years": 40, "sex": "male",
                "saddle_numbness": "absent", "fevr": "x", "sex": "female"}}"#,
        );
        let paths: Vec<(String, String)> = e
            .iter()
            .flat_map(|e| &e.errors)
            .map(|f| (f.path.clone(), f.code.clone()))
            .collect();
        assert_eq!(
            paths,
            [
                ("/answers/fevr", "unknown_answer_code"),
                ("/answers/saddle_numbness", "invalid_answer_value"),
                ("/answers/sex", "invalid_answer_value"),
            ]
            .map(|(p, c)| (p.to_owned(), c.to_owned()))
        );
        // Escapes do not hide a repeat: `se\u0078` is `sex`.
        let e = refusal(r#"{"answers": {"age_years": 40, "sex": "male", "se\u0078": "male"}}"#);
        assert_eq!(
            e.map(|e| e.errors[0].path.clone()).as_deref(),
            Some("/answers/sex")
        );
        for (body, path) in [
            (
                r#"{"answers": 1, "answers": {"age_years": 40, "sex": "male"}}"#,
                "/answers",
            ),
            (
                r#"{"answers": {"age_years": 40, "sex": "male"}, "options": {}, "options": null}"#,
                "/options",
            ),
        ] {
            let e = refusal(body);
            assert_eq!(
                e.as_ref().map(|e| e.code),
                Some(ErrorCode::InvalidRequestShape),
                "{body}"
            );
            assert_eq!(
                e.map(|e| e.errors[0].path.clone()).as_deref(),
                Some(path),
                "{body}"
            );
        }
    }

    #[test]
    fn unknown_keys_are_reported_smallest_first_and_broken_json_anywhere_is_malformed() {
        for body in [
            r#"{"zeta": 1, "answers": {}, "alpha": 2}"#,
            r#"{"answers": {"age_years": 40, "sex": "male", "fevr": 1, "abc": 2}}"#,
            "{\"answers\": {}, \"x\": \"\u{1}\"}",
            "{\"answers\": {\"age_years\": 40, \"sex\": {\"k\": \"\\ud800\"}}}",
        ] {
            same(body.as_bytes());
        }
        let mut invalid_utf8 = br#"{"answers": {}, "extra": "#.to_vec();
        invalid_utf8.extend_from_slice(b"\"\xff\"}");
        same(&invalid_utf8);
        assert_eq!(
            straight(kb(), &invalid_utf8).err().map(|e| e.code),
            Some(ErrorCode::MalformedJson)
        );
    }
}
