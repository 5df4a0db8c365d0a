//! Parsing a request's `answers` object against the vocabulary.
//!
//! This is the edge between untrusted JSON and the engine: after `parse_answers`
//! every value has the code's type and lies in its range. Errors name the field
//! and what is allowed, never the value sent (it may be health data).

use serde_json::{Map, Value as Json};

use crate::knowledge::{
    CodeDef, CodeId, KnowledgeBase, Lifecycle, MappedValue, ValueKind, ValueMapping,
    RESPONSE_VALUES,
};

/// Answers every request must carry (API contract).
pub const REQUIRED_ANSWERS: [&str; 2] = ["age_years", "sex"];

/// Unknown codes per request that get "did you mean" suggestions (the rest are still
/// reported, without them).
pub const MAX_SUGGESTED_CODES: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Present,
    Absent,
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Tri(Tri),
    Number(f64),
    /// Index into the code's allowed values (enum or response).
    Choice(u16),
    /// Indices into the code's allowed values, sorted, without duplicates.
    Set(Vec<u16>),
}

/// Parsed answers, indexed by vocabulary code id.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    values: Vec<Option<Value>>,
    /// Codes sent as `null`: asked, and the person could not or would not answer. The
    /// engine reads them as unanswered; only the next-question choice tells them apart.
    declined: Vec<CodeId>,
    /// Deprecated codes and values that were sent and mapped to their replacements.
    mapped: Vec<Mapped>,
}

/// A deprecated input that was accepted and mapped before the engine ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapped {
    /// A deprecated code, answered; its replacements now carry the answer.
    Code(CodeId),
    /// A deprecated value of an enum code, replaced by a current one.
    Value { code: CodeId, from: u16, to: u16 },
}

impl Answers {
    /// No answers at all (every code unknown).
    pub fn empty(kb: &KnowledgeBase) -> Answers {
        Answers {
            values: vec![None; kb.vocabulary.codes.len()],
            declined: Vec::new(),
            mapped: Vec::new(),
        }
    }

    /// Deprecated inputs accepted in this request, in the order they were read.
    pub fn mapped(&self) -> &[Mapped] {
        &self.mapped
    }

    pub fn get(&self, id: CodeId) -> Option<&Value> {
        self.values.get(id).and_then(Option::as_ref)
    }

    /// Set an answer directly (tests, the FHIR mapping); the caller guarantees its type.
    pub fn set(&mut self, id: CodeId, value: Option<Value>) {
        if let Some(slot) = self.values.get_mut(id) {
            *slot = value;
        }
    }

    /// Asked already: answered (even `unknown`) or declined with `null`.
    pub fn was_asked(&self, id: CodeId) -> bool {
        self.get(id).is_some() || self.declined.contains(&id)
    }

    /// Mark a code as asked without an answer (`null`).
    pub fn decline(&mut self, id: CodeId) {
        if id < self.values.len() && !self.declined.contains(&id) {
            self.declined.push(id);
        }
    }

    pub fn tri(&self, id: CodeId) -> Tri {
        match self.get(id) {
            Some(Value::Tri(t)) => *t,
            _ => Tri::Unknown,
        }
    }

    pub fn number(&self, id: CodeId) -> Option<f64> {
        match self.get(id) {
            Some(Value::Number(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn choice(&self, id: CodeId) -> Option<u16> {
        match self.get(id) {
            Some(Value::Choice(c)) => Some(*c),
            _ => None,
        }
    }

    /// Ids of the codes that carry an answer.
    pub fn answered(&self) -> impl Iterator<Item = CodeId> + '_ {
        self.values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_ref().map(|_| i))
    }
}

/// Why an answer was refused (stable codes of the API contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerErrorKind {
    UnknownAnswerCode,
    DerivedAnswerCode,
    InvalidAnswerValue,
    MissingRequiredAnswer,
}

impl AnswerErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            AnswerErrorKind::UnknownAnswerCode => "unknown_answer_code",
            AnswerErrorKind::DerivedAnswerCode => "derived_answer_code",
            AnswerErrorKind::InvalidAnswerValue => "invalid_answer_value",
            AnswerErrorKind::MissingRequiredAnswer => "missing_required_answer",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnswerError {
    pub kind: AnswerErrorKind,
    /// The answer code concerned.
    pub code: String,
    pub message: String,
    pub did_you_mean: Vec<String>,
}

/// What answer parsing reads of a JSON value: `serde_json::Value`, or the values the HTTP
/// layer borrows straight from a request body.
pub trait AnswerJson: Sized {
    fn as_str(&self) -> Option<&str>;
    /// Any JSON number, as `serde_json::Value::as_f64` gives it.
    fn as_f64(&self) -> Option<f64>;
    fn as_array(&self) -> Option<&[Self]>;
    /// JSON `null`: the question was asked and not answered.
    fn is_null(&self) -> bool;
    /// `{"value": <number>, "unit": <string>}` and nothing else: a number in a named unit.
    fn as_quantity(&self) -> Option<(f64, &str)>;
}

impl AnswerJson for Json {
    fn as_str(&self) -> Option<&str> {
        Json::as_str(self)
    }

    fn as_f64(&self) -> Option<f64> {
        Json::as_f64(self)
    }

    fn as_array(&self) -> Option<&[Self]> {
        Json::as_array(self).map(Vec::as_slice)
    }

    fn is_null(&self) -> bool {
        Json::is_null(self)
    }

    fn as_quantity(&self) -> Option<(f64, &str)> {
        let object = self.as_object().filter(|o| o.len() == 2)?;
        Some((
            object.get("value")?.as_f64()?,
            object.get("unit")?.as_str()?,
        ))
    }
}

/// Parse an `answers` object. Every problem is reported, in code order.
pub fn parse_answers(
    kb: &KnowledgeBase,
    answers: &Map<String, Json>,
) -> Result<Answers, Vec<AnswerError>> {
    parse_answer_pairs(kb, answers.iter().map(|(k, v)| (k.as_str(), v)))
}

/// Parse the members of an `answers` object, given as a JSON object reads: in key order,
/// each key once. (Suggestions go to the first unknown keys in that order.)
pub fn parse_answer_pairs<'k, 'v, V: AnswerJson + 'v>(
    kb: &KnowledgeBase,
    answers: impl IntoIterator<Item = (&'k str, &'v V)>,
) -> Result<Answers, Vec<AnswerError>> {
    let vocabulary = &kb.vocabulary;
    let mut parsed = Answers::empty(kb);
    let mut errors = Vec::new();
    let mut suggested = 0;
    for (key, json) in answers {
        let Some(id) = vocabulary.lookup(key) else {
            if vocabulary.is_derived_name(key) {
                errors.push(AnswerError {
                    kind: AnswerErrorKind::DerivedAnswerCode,
                    code: key.to_owned(),
                    message: format!("`{key}` is worked out by the service from other answers and cannot be sent"),
                    did_you_mean: Vec::new(),
                });
            } else {
                // Suggestions cost up to a few hundred microseconds per key and a body may
                // hold a thousand unknown keys: only the first few get them.
                let did_you_mean = if suggested < MAX_SUGGESTED_CODES {
                    suggested += 1;
                    vocabulary.suggestions(key)
                } else {
                    Vec::new()
                };
                errors.push(AnswerError {
                    kind: AnswerErrorKind::UnknownAnswerCode,
                    code: key.to_owned(),
                    message: if did_you_mean.is_empty() {
                        format!("`{key}` is not a vocabulary code (see GET /v1/vocabulary)")
                    } else {
                        format!(
                            "`{key}` is not a vocabulary code; did you mean `{}`?",
                            did_you_mean.join("`, `")
                        )
                    },
                    did_you_mean,
                });
            }
            continue;
        };
        let def = vocabulary.code(id);
        if let Lifecycle::Retired(d) = &def.lifecycle {
            let instead: Vec<&str> = d
                .replaced_by
                .iter()
                .map(|r| vocabulary.code(r.code).code.as_str())
                .collect();
            errors.push(AnswerError {
                kind: AnswerErrorKind::UnknownAnswerCode,
                code: key.to_owned(),
                message: format!(
                    "`{key}` was retired in knowledge-base release {}; {}",
                    d.since,
                    if instead.is_empty() {
                        "leave it out (see GET /v1/vocabulary)".to_owned()
                    } else {
                        format!("send `{}` instead", instead.join("`, `"))
                    }
                ),
                did_you_mean: instead.iter().map(|c| (*c).to_owned()).collect(),
            });
            continue;
        }
        if json.is_null() && !REQUIRED_ANSWERS.contains(&key) {
            // Same as leaving the code out for the engine; remembered so it is not asked again.
            parsed.decline(id);
            continue;
        }
        match parse_value(def, json) {
            Ok(Some(Value::Choice(c))) => {
                match def.deprecated_values.iter().find(|d| d.value == c) {
                    Some(d) => {
                        parsed.mapped.push(Mapped::Value {
                            code: id,
                            from: c,
                            to: d.replaced_by,
                        });
                        parsed.values[id] = Some(Value::Choice(d.replaced_by));
                    }
                    None => parsed.values[id] = Some(Value::Choice(c)),
                }
            }
            Ok(value) => parsed.values[id] = value,
            Err(expected) => errors.push(AnswerError {
                kind: AnswerErrorKind::InvalidAnswerValue,
                code: key.to_owned(),
                message: format!("`{key}` must be {expected}"),
                did_you_mean: Vec::new(),
            }),
        }
        if def.deprecation().is_some() && parsed.values[id].is_some() {
            parsed.mapped.push(Mapped::Code(id));
        }
    }
    map_deprecated(kb, &mut parsed, &mut errors);
    for required in REQUIRED_ANSWERS {
        let given = vocabulary
            .lookup(required)
            .is_some_and(|id| parsed.get(id).is_some());
        let refused = errors.iter().any(|e| e.code == required);
        if !given && !refused {
            errors.push(AnswerError {
                kind: AnswerErrorKind::MissingRequiredAnswer,
                code: required.to_owned(),
                message: format!("`{required}` is required"),
                did_you_mean: Vec::new(),
            });
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        errors.sort_by(|a, b| a.code.cmp(&b.code));
        Err(errors)
    }
}

/// Move each deprecated code's answer onto its replacements, so the engine reads only
/// current codes. A replacement the request also answered directly is a conflict: refused
/// rather than guessed, because the two answers could disagree about a red flag.
fn map_deprecated(kb: &KnowledgeBase, parsed: &mut Answers, errors: &mut Vec<AnswerError>) {
    let vocabulary = &kb.vocabulary;
    let old_codes: Vec<CodeId> = parsed
        .mapped
        .iter()
        .filter_map(|m| match m {
            Mapped::Code(id) => Some(*id),
            Mapped::Value { .. } => None,
        })
        .collect();
    let mut set_by_mapping: Vec<CodeId> = Vec::new();
    for old in old_codes {
        let def = vocabulary.code(old);
        let Some(deprecation) = def.deprecation() else {
            continue;
        };
        let Some(value) = parsed.values[old].take() else {
            continue;
        };
        for r in &deprecation.replaced_by {
            let new_value = match &r.mapping {
                ValueMapping::Identity => Some(value.clone()),
                ValueMapping::Table(table) => {
                    let from = match &value {
                        Value::Tri(Tri::Present) => Some(MappedValue::Present),
                        Value::Tri(Tri::Absent) => Some(MappedValue::Absent),
                        Value::Tri(Tri::Unknown) => Some(MappedValue::Unknown),
                        Value::Choice(c) => Some(MappedValue::Choice(*c)),
                        _ => None,
                    };
                    table
                        .iter()
                        .find(|(o, _)| Some(*o) == from)
                        .map(|(_, n)| match n {
                            MappedValue::Present => Value::Tri(Tri::Present),
                            MappedValue::Absent => Value::Tri(Tri::Absent),
                            MappedValue::Unknown => Value::Tri(Tri::Unknown),
                            MappedValue::Choice(c) => Value::Choice(*c),
                        })
                }
            };
            let Some(new_value) = new_value else {
                continue;
            };
            let new_code = &vocabulary.code(r.code).code;
            match &parsed.values[r.code] {
                None => {
                    parsed.values[r.code] = Some(new_value);
                    set_by_mapping.push(r.code);
                }
                Some(existing) if set_by_mapping.contains(&r.code) => {
                    // Two deprecated codes feed one replacement: present wins (§7.1.1).
                    if matches!(existing, Value::Tri(t) if *t != Tri::Present)
                        && matches!(new_value, Value::Tri(Tri::Present) | Value::Tri(Tri::Absent))
                    {
                        parsed.values[r.code] = Some(new_value);
                    }
                }
                Some(_) => errors.push(AnswerError {
                    kind: AnswerErrorKind::InvalidAnswerValue,
                    code: def.code.clone(),
                    message: format!(
                        "`{}` is deprecated and replaced by `{new_code}`, which was also answered; send only `{new_code}`",
                        def.code
                    ),
                    did_you_mean: Vec::new(),
                }),
            }
        }
    }
}

/// What a number code takes, with its range in each unit it may be given in.
fn number_expected(def: &CodeDef, min: f64, max: f64) -> String {
    let Some(base) = def
        .unit
        .as_deref()
        .filter(|_| !def.alternative_units.is_empty())
    else {
        return format!("a number from {min} to {max}");
    };
    let mut out = format!("a number from {min} to {max} ({base})");
    for alt in &def.alternative_units {
        let (low, high) =
            crate::knowledge::units::range_in(base, &alt.unit, min, max).unwrap_or((min, max));
        out.push_str(&format!(
            ", or {{\"value\": <number>, \"unit\": \"{}\"}} from {low} to {high}",
            alt.unit
        ));
    }
    out
}

/// The parsed value, or a description of what is allowed.
fn parse_value<V: AnswerJson>(def: &CodeDef, json: &V) -> Result<Option<Value>, String> {
    let kind = &def.kind;
    match kind {
        ValueKind::Tri => match json.as_str() {
            Some("present") => Ok(Some(Value::Tri(Tri::Present))),
            Some("absent") => Ok(Some(Value::Tri(Tri::Absent))),
            Some("unknown") => Ok(Some(Value::Tri(Tri::Unknown))),
            _ => Err("one of \"present\", \"absent\", \"unknown\"".to_owned()),
        },
        ValueKind::Integer { min, max } => {
            let n = json.as_f64().filter(|n| n.is_finite() && n.fract() == 0.0);
            match n {
                Some(n) if n >= *min && n <= *max => Ok(Some(Value::Number(n))),
                _ => Err(format!("a whole number from {min} to {max}")),
            }
        }
        ValueKind::Number { min, max } => {
            let base = def.unit.as_deref().unwrap_or_default();
            // A plain number is in the code's own unit; `{"value", "unit"}` names its unit,
            // converted here, at the boundary, so the rules only ever read the code's unit.
            let n = match json.as_quantity() {
                Some((value, unit))
                    if unit == base || def.alternative_units.iter().any(|a| a.unit == unit) =>
                {
                    // In another unit the range is the one published for it (the code's
                    // range converted and rounded inwards), so what the OpenAPI schema allows
                    // is exactly what is accepted.
                    crate::knowledge::units::range_in(base, unit, *min, *max)
                        .filter(|(low, high)| value >= *low && value <= *high)
                        .and_then(|_| crate::knowledge::units::to_base(base, unit, value))
                }
                Some(_) => None,
                None => json.as_f64(),
            };
            match n.filter(|n| n.is_finite()) {
                Some(n) if n >= *min && n <= *max => Ok(Some(Value::Number(n))),
                _ => Err(number_expected(def, *min, *max)),
            }
        }
        ValueKind::Enum { values } => json
            .as_str()
            .and_then(|s| kind.choice_index(s))
            .map(|i| Some(Value::Choice(i)))
            .ok_or_else(|| format!("one of {}", quoted(values.iter().map(String::as_str)))),
        ValueKind::Response => json
            .as_str()
            .and_then(|s| kind.choice_index(s))
            .map(|i| Some(Value::Choice(i)))
            .ok_or_else(|| format!("one of {}", quoted(RESPONSE_VALUES.into_iter()))),
        ValueKind::Set { values } => {
            let expected = || {
                format!(
                    "an array of distinct values from {}",
                    quoted(values.iter().map(String::as_str))
                )
            };
            let items = json.as_array().ok_or_else(expected)?;
            let mut indices = Vec::with_capacity(items.len());
            for item in items {
                let i = item
                    .as_str()
                    .and_then(|s| kind.choice_index(s))
                    .ok_or_else(expected)?;
                if indices.contains(&i) {
                    return Err(expected());
                }
                indices.push(i);
            }
            indices.sort_unstable();
            Ok(Some(Value::Set(indices)))
        }
    }
}

fn quoted<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
