//! QuestionnaireResponse → answers, shared by `$triage` and CDS Hooks.
//!
//! Each answered `linkId` becomes an entry of the same `answers` map `POST /v1/triage` takes
//! (`valueCoding.code` for choices, `valueInteger`/`valueDecimal` for numbers, every answer
//! of a repeating item for sets), and the map goes through the same `engine::parse_answers`,
//! so an answer refused there is refused here with the same code. Messages name items,
//! never the values sent.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::questionnaire::{answer_system, QUESTIONNAIRE_ID, QUESTIONNAIRE_URL};
use crate::engine::{parse_answers, AnswerError, AnswerErrorKind, Answers};
use crate::http::error::{escape_pointer, ApiError, ErrorCode};
use crate::knowledge::{KnowledgeBase, ValueKind};

/// One step of a location inside the QuestionnaireResponse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(&'static str),
    Index(usize),
}

/// Where a problem is: a path in the resource, or an item that is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loc {
    At(Vec<Seg>),
    Missing(String),
}

/// A refused QuestionnaireResponse: the error (codes as in the JSON API) and, for each
/// of its field errors, where the problem is, to render as FHIRPath or as a JSON pointer.
#[derive(Debug, Clone)]
pub struct QrError {
    error: ApiError,
    locs: Vec<Loc>,
}

impl QrError {
    pub(crate) fn shape(loc: Vec<Seg>, message: impl Into<String>) -> QrError {
        QrError {
            error: ApiError::field(ErrorCode::InvalidRequestShape, "", message),
            locs: vec![Loc::At(loc)],
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.error.code
    }

    fn render(mut self, path: impl Fn(&Loc) -> String) -> ApiError {
        for (field, loc) in self.error.errors.iter_mut().zip(&self.locs) {
            field.path = path(loc);
        }
        self.error
    }

    /// For an OperationOutcome: each `expression` a FHIRPath into the resource.
    pub fn into_fhir(self) -> ApiError {
        self.render(fhirpath)
    }

    /// For problem+json: each `path` a JSON pointer, below `prefix` (the resource's own pointer).
    pub fn into_pointer(self, prefix: &str) -> ApiError {
        self.render(|loc| pointer(prefix, loc))
    }
}

/// `QuestionnaireResponse.item[0].item[3].answer[0]`.
pub fn fhirpath(loc: &Loc) -> String {
    match loc {
        Loc::At(segs) => {
            let mut out = String::from("QuestionnaireResponse");
            for seg in segs {
                match seg {
                    Seg::Key(k) => {
                        out.push('.');
                        out.push_str(k);
                    }
                    Seg::Index(i) => out.push_str(&format!("[{i}]")),
                }
            }
            out
        }
        // R4 allows only element names and indexers here: an item that is not there is
        // reported on the item list (the message names the linkId).
        Loc::Missing(_) => "QuestionnaireResponse.item".to_owned(),
    }
}

/// `<prefix>/item/0/item/3/answer/0`; a missing item points at the top-level `item`.
pub fn pointer(prefix: &str, loc: &Loc) -> String {
    let mut out = prefix.to_owned();
    match loc {
        Loc::At(segs) => {
            for seg in segs {
                out.push('/');
                match seg {
                    Seg::Key(k) => out.push_str(&escape_pointer(k)),
                    Seg::Index(i) => out.push_str(&i.to_string()),
                }
            }
        }
        Loc::Missing(_) => out.push_str("/item"),
    }
    out
}

/// A QuestionnaireResponse turned into answers, with what the outputs copy from it.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub answers: Answers,
    /// `subject` (reference, type, identifier and display only).
    pub subject: Option<Value>,
    /// `encounter` (reference, type, identifier and display only).
    pub encounter: Option<Value>,
    /// A Reference to the QuestionnaireResponse for `RiskAssessment.basis`.
    pub basis: Value,
}

/// Statuses a response can be assessed in.
const STATUSES: [&str; 4] = ["in-progress", "completed", "amended", "stopped"];

fn with(loc: &[Seg], more: &[Seg]) -> Vec<Seg> {
    let mut v = loc.to_vec();
    v.extend_from_slice(more);
    v
}

/// A FHIR `id`: `[A-Za-z0-9\-\.]{1,64}`.
pub fn is_fhir_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// `obj[field]` when it is a string, `None` when it is absent; any other JSON type (null
/// included: FHIR JSON has no nulls) is refused, as the request schemas declare.
fn optional_string<'v>(
    obj: &'v Map<String, Value>,
    field: &'static str,
    at: &[Seg],
) -> Result<Option<&'v str>, QrError> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(QrError::shape(
            with(at, &[Seg::Key(field)]),
            format!("`{field}` must be a string"),
        )),
    }
}

/// The parts of a Reference worth copying; anything else is dropped.
fn reference(value: &Value, key: &'static str) -> Result<Option<Value>, QrError> {
    let Some(value) = value.get(key) else {
        return Ok(None);
    };
    let Value::Object(obj) = value else {
        return Err(QrError::shape(
            vec![Seg::Key(key)],
            format!("`{key}` must be a Reference (an object)"),
        ));
    };
    let mut out = Map::new();
    for field in ["reference", "type", "display"] {
        if let Some(s) = optional_string(obj, field, &[Seg::Key(key)])? {
            if !s.trim().is_empty() {
                out.insert(field.to_owned(), json!(s));
            }
        }
    }
    match obj.get("identifier") {
        None => {}
        Some(Value::Object(identifier)) => {
            let at = [Seg::Key(key), Seg::Key("identifier")];
            let mut id = Map::new();
            for field in ["system", "value"] {
                if let Some(s) = optional_string(identifier, field, &at)? {
                    if !s.trim().is_empty() {
                        id.insert(field.to_owned(), json!(s));
                    }
                }
            }
            if !id.is_empty() {
                out.insert("identifier".to_owned(), Value::Object(id));
            }
        }
        Some(_) => {
            return Err(QrError::shape(
                vec![Seg::Key(key), Seg::Key("identifier")],
                format!("`{key}.identifier` must be an Identifier (an object)"),
            ))
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

fn basis(qr: &Map<String, Value>) -> Value {
    if let Some(id) = qr
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| is_fhir_id(s))
    {
        return json!({ "reference": format!("QuestionnaireResponse/{id}") });
    }
    if let Some(Value::Object(identifier)) = qr.get("identifier") {
        let system = identifier.get("system").and_then(Value::as_str);
        let value = identifier.get("value").and_then(Value::as_str);
        if let (Some(system), Some(value)) = (system, value) {
            if !system.trim().is_empty() && !value.trim().is_empty() {
                return json!({
                    "type": "QuestionnaireResponse",
                    "identifier": { "system": system, "value": value }
                });
            }
        }
    }
    json!({ "display": "The QuestionnaireResponse sent with the request" })
}

/// Whether `questionnaire` names this service's Questionnaire.
pub fn is_our_questionnaire(canonical: &str) -> bool {
    let url = canonical.split('|').next().unwrap_or_default();
    url == QUESTIONNAIRE_URL || url == format!("Questionnaire/{QUESTIONNAIRE_ID}")
}

/// An item of the response, with its answers.
struct Entry<'a> {
    link_id: &'a str,
    loc: Vec<Seg>,
    answers: Vec<(&'a Map<String, Value>, Vec<Seg>)>,
}

/// Members of an item the service reads, plus those FHIR allows on any element.
const ITEM_ELEMENTS: [&str; 7] = [
    "linkId",
    "definition",
    "text",
    "answer",
    "item",
    "id",
    "extension",
];
/// Members of an answer besides its `value[x]`.
const ANSWER_ELEMENTS: [&str; 3] = ["item", "id", "extension"];

/// Refuse a member of an item or answer that is not one of `allowed` (or a `value[x]` when
/// `value_x`). A misspelt `answer` or `item` would otherwise drop answers without a word,
/// and a `modifierExtension` changes the meaning of its element in a way this service does not
/// know, so neither can be assessed safely.
fn only_known(
    obj: &Map<String, Value>,
    allowed: &[&str],
    value_x: bool,
    at: &[Seg],
    what: &str,
) -> Result<(), QrError> {
    for key in obj.keys() {
        // FHIR JSON puts a primitive's id and extensions in `_<name>` (e.g. `_text`).
        let name = key.strip_prefix('_').unwrap_or(key);
        if allowed.contains(&name) || (value_x && name.starts_with("value")) {
            continue;
        }
        let message = if key == "modifierExtension" {
            format!("a `modifierExtension` on {what} is not understood by this service, so the response cannot be assessed")
        } else {
            let shown: String = key.chars().take(64).collect();
            let near = allowed.iter().find(|a| {
                key.eq_ignore_ascii_case(a) || key.trim_end_matches('s').eq_ignore_ascii_case(a)
            });
            let hint = near
                .map(|a| format!("; did you mean `{a}`?"))
                .unwrap_or_default();
            let list = allowed
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let value_x = if value_x { "`value[x]`, " } else { "" };
            format!("`{shown}` is not an element of {what}{hint} (allowed: {value_x}{list})")
        };
        return Err(QrError::shape(at.to_vec(), message));
    }
    optional_string(obj, "id", at)?;
    optional_string(obj, "definition", at)?;
    if obj.get("extension").is_some_and(|e| {
        !e.as_array()
            .is_some_and(|list| list.iter().all(Value::is_object))
    }) {
        return Err(QrError::shape(
            with(at, &[Seg::Key("extension")]),
            "`extension` must be an array of Extensions (objects)",
        ));
    }
    Ok(())
}

fn walk<'a>(items: &'a Value, loc: &[Seg], out: &mut Vec<Entry<'a>>) -> Result<(), QrError> {
    let Value::Array(list) = items else {
        return Err(QrError::shape(loc.to_vec(), "`item` must be an array"));
    };
    for (i, item) in list.iter().enumerate() {
        let here = with(loc, &[Seg::Index(i)]);
        let Value::Object(obj) = item else {
            return Err(QrError::shape(here, "each item must be an object"));
        };
        let link_id = match obj.get("linkId") {
            Some(Value::String(s)) if !s.is_empty() => s.as_str(),
            _ => {
                return Err(QrError::shape(
                    with(&here, &[Seg::Key("linkId")]),
                    "each item needs a `linkId` string",
                ))
            }
        };
        only_known(
            obj,
            &ITEM_ELEMENTS,
            false,
            &here,
            "a QuestionnaireResponse item",
        )?;
        optional_string(obj, "text", &here)?;
        let mut answers = Vec::new();
        let mut nested = Vec::new();
        if let Some(list) = obj.get("answer") {
            let Value::Array(list) = list else {
                return Err(QrError::shape(
                    with(&here, &[Seg::Key("answer")]),
                    "`answer` must be an array",
                ));
            };
            for (j, answer) in list.iter().enumerate() {
                let at = with(&here, &[Seg::Key("answer"), Seg::Index(j)]);
                let Value::Object(answer) = answer else {
                    return Err(QrError::shape(at, "each answer must be an object"));
                };
                only_known(answer, &ANSWER_ELEMENTS, true, &at, "an answer")?;
                if let Some(items) = answer.get("item") {
                    nested.push((items, with(&at, &[Seg::Key("item")])));
                }
                answers.push((answer, at));
            }
        }
        out.push(Entry {
            link_id,
            loc: here.clone(),
            answers,
        });
        for (items, at) in nested {
            walk(items, &at, out)?;
        }
        if let Some(items) = obj.get("item") {
            walk(items, &with(&here, &[Seg::Key("item")]), out)?;
        }
    }
    Ok(())
}

fn invalid(code: &str, message: String) -> AnswerError {
    AnswerError {
        kind: AnswerErrorKind::InvalidAnswerValue,
        code: code.to_owned(),
        message,
        did_you_mean: Vec::new(),
    }
}

/// The one `value[x]` of an answer, as (`valueCoding`, value).
fn answer_value(answer: &Map<String, Value>) -> Result<(&str, &Value), &'static str> {
    let mut values = answer.iter().filter(|(k, _)| k.starts_with("value"));
    match (values.next(), values.next()) {
        (Some((k, v)), None) => Ok((k.as_str(), v)),
        (None, _) => Err("has no value[x]"),
        (Some(_), Some(_)) => Err("has more than one value[x]"),
    }
}

/// The JSON answer for one item, or why its FHIR shape is wrong.
fn item_value(
    kb: &KnowledgeBase,
    id: crate::knowledge::CodeId,
    entry: &Entry<'_>,
) -> Result<Value, (AnswerError, Vec<Seg>)> {
    let def = kb.vocabulary.code(id);
    let code = def.code.as_str();
    let system = answer_system(def);
    let (expected, choice) = match def.kind {
        ValueKind::Integer { .. } => ("valueInteger", false),
        ValueKind::Number { .. } => ("valueDecimal", false),
        _ => ("valueCoding", true),
    };
    let repeats = matches!(def.kind, ValueKind::Set { .. });
    if !repeats && entry.answers.len() > 1 {
        return Err((
            invalid(code, format!("`{code}` takes one answer")),
            entry.loc.clone(),
        ));
    }
    let mut values = Vec::with_capacity(entry.answers.len());
    for (answer, at) in &entry.answers {
        let wrong = |why: &str| {
            let how = if choice {
                format!("`{expected}` from system `{system}`")
            } else {
                format!("`{expected}`")
            };
            (
                invalid(
                    code,
                    format!("`{code}` must be answered with {how}; the answer {why}"),
                ),
                at.clone(),
            )
        };
        let (key, value) = answer_value(answer).map_err(wrong)?;
        if key != expected {
            return Err(wrong("uses another value[x] type"));
        }
        if choice {
            let Value::Object(coding) = value else {
                return Err(wrong("is not a Coding"));
            };
            if coding
                .get("system")
                .is_some_and(|s| s.as_str() != Some(system.as_str()))
            {
                return Err(wrong("uses another code system"));
            }
            if coding.get("display").is_some_and(|d| !d.is_string()) {
                return Err(wrong("has a `display` that is not a string"));
            }
            values.push(coding.get("code").cloned().unwrap_or(Value::Null));
        } else {
            values.push(value.clone());
        }
    }
    if repeats {
        Ok(Value::Array(values))
    } else {
        Ok(values.pop().unwrap_or(Value::Null))
    }
}

/// Map a QuestionnaireResponse for the service's Questionnaire to parsed answers.
pub fn map_response(kb: &KnowledgeBase, qr: &Value) -> Result<Mapped, QrError> {
    let Value::Object(obj) = qr else {
        return Err(QrError::shape(
            Vec::new(),
            "the body must be a QuestionnaireResponse resource (a JSON object)",
        ));
    };
    if obj.get("resourceType").and_then(Value::as_str) != Some("QuestionnaireResponse") {
        return Err(QrError::shape(
            vec![Seg::Key("resourceType")],
            "`resourceType` must be \"QuestionnaireResponse\"",
        ));
    }
    if let Some(q) = obj.get("questionnaire") {
        if !q.as_str().is_some_and(is_our_questionnaire) {
            return Err(QrError::shape(
                vec![Seg::Key("questionnaire")],
                format!(
                    "`questionnaire` must be `{QUESTIONNAIRE_URL}` (optionally with `|version`), \
                     the Questionnaire served at GET /fhir/Questionnaire/{QUESTIONNAIRE_ID}"
                ),
            ));
        }
    }
    match obj.get("status").and_then(Value::as_str) {
        Some(s) if STATUSES.contains(&s) => {}
        Some("entered-in-error") => {
            return Err(QrError::shape(
                vec![Seg::Key("status")],
                "a QuestionnaireResponse entered in error cannot be assessed",
            ))
        }
        _ => return Err(QrError::shape(
            vec![Seg::Key("status")],
            "`status` is required: one of \"in-progress\", \"completed\", \"amended\", \"stopped\"",
        )),
    }
    if obj.contains_key("modifierExtension") {
        return Err(QrError::shape(
            vec![Seg::Key("modifierExtension")],
            "a `modifierExtension` on the QuestionnaireResponse is not understood by this \
             service, so the response cannot be assessed",
        ));
    }
    optional_string(obj, "id", &[])?;
    optional_string(obj, "authored", &[])?;
    let subject = reference(qr, "subject")?;
    let encounter = reference(qr, "encounter")?;

    let mut entries = Vec::new();
    if let Some(items) = obj.get("item") {
        walk(items, &[Seg::Key("item")], &mut entries)?;
    }

    let mut map = Map::new();
    let mut locs: HashMap<&str, Vec<Seg>> = HashMap::new();
    let mut refused: Vec<(AnswerError, Loc)> = Vec::new();
    for entry in &entries {
        let first = !locs.contains_key(entry.link_id);
        if first {
            locs.insert(entry.link_id, entry.loc.clone());
        }
        if entry.answers.is_empty() {
            continue;
        }
        if map.contains_key(entry.link_id) {
            refused.push((
                invalid(
                    entry.link_id,
                    format!("`{}` is answered more than once", entry.link_id),
                ),
                Loc::At(entry.loc.clone()),
            ));
            continue;
        }
        let value = match kb.vocabulary.lookup(entry.link_id) {
            // Unknown and derived names: parse_answers refuses them with their own codes.
            None => Value::Null,
            Some(id) => match item_value(kb, id, entry) {
                Ok(value) => value,
                Err((error, at)) => {
                    refused.push((error, Loc::At(at)));
                    Value::Null
                }
            },
        };
        if !first {
            locs.insert(entry.link_id, entry.loc.clone());
        }
        map.insert(entry.link_id.to_owned(), value);
    }

    let parsed = parse_answers(kb, &map);
    let answers = match parsed {
        Ok(answers) if refused.is_empty() => answers,
        other => {
            if let Err(errors) = other {
                for e in errors {
                    if refused.iter().any(|(r, _)| r.code == e.code) {
                        continue;
                    }
                    let loc = locs
                        .get(e.code.as_str())
                        .cloned()
                        .map_or_else(|| Loc::Missing(e.code.clone()), Loc::At);
                    refused.push((e, loc));
                }
            }
            refused.sort_by(|a, b| a.0.code.cmp(&b.0.code));
            let errors: Vec<AnswerError> = refused.iter().map(|(e, _)| e.clone()).collect();
            return Err(QrError {
                error: ApiError::from_answers(&errors),
                locs: refused.into_iter().map(|(_, loc)| loc).collect(),
            });
        }
    };
    Ok(Mapped {
        answers,
        subject,
        encounter,
        basis: basis(obj),
    })
}
