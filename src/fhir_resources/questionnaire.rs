//! The intake `Questionnaire`, generated from the vocabulary (never hand-written): one group
//! per vocabulary group, one question per code, answer options and ranges from the code's type.

use serde_json::{json, Map, Value};

use crate::engine::answers::REQUIRED_ANSWERS;
use crate::knowledge::condition::Cond;
use crate::knowledge::i18n::RESPONSE_LABELS;
use crate::knowledge::{CodeDef, KnowledgeBase, ValueKind, RESPONSE_VALUES};
use crate::view::dto::Texts;

/// `Questionnaire.id`.
pub const QUESTIONNAIRE_ID: &str = "back-pain-triage";
/// `Questionnaire.url`: the canonical a QuestionnaireResponse names in `questionnaire`.
pub const QUESTIONNAIRE_URL: &str = "urn:spasm-triage:Questionnaire/back-pain-triage";
/// Code system of the tri-state answers (`present`, `absent`, `unknown`).
pub const TRI_SYSTEM: &str = "urn:spasm-triage:tri";
/// Code system of the treatment-response answers (`tried_*` codes).
pub const RESPONSE_SYSTEM: &str = "urn:spasm-triage:response";
pub const LOINC: &str = "http://loinc.org";
pub const UCUM: &str = "http://unitsofmeasure.org";
const EXT_MIN: &str = "http://hl7.org/fhir/StructureDefinition/minValue";
const EXT_MAX: &str = "http://hl7.org/fhir/StructureDefinition/maxValue";
const EXT_UNIT: &str = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit";

/// The tri-state answers with their displays.
pub const TRI_OPTIONS: [(&str, &str); 3] = [
    ("present", "Yes"),
    ("absent", "No"),
    ("unknown", "Not sure"),
];

/// The code system of a choice code's answers: shared for tri-state and treatment
/// responses, one per code for enums and sets.
pub fn answer_system(def: &CodeDef) -> String {
    match def.kind {
        ValueKind::Tri => TRI_SYSTEM.to_owned(),
        ValueKind::Response => RESPONSE_SYSTEM.to_owned(),
        _ => format!("urn:spasm-triage:{}", def.code),
    }
}

/// The answers of a choice code with their displays, in the order to show them (empty for
/// numbers): also the concepts of its CodeSystem.
pub fn answer_concepts(def: &CodeDef) -> Vec<(String, String)> {
    match &def.kind {
        ValueKind::Tri => TRI_OPTIONS
            .iter()
            .map(|(c, d)| ((*c).to_owned(), (*d).to_owned()))
            .collect(),
        ValueKind::Enum { values } | ValueKind::Set { values } => values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let shown = def.labels.get(i).cloned().unwrap_or_else(|| display(v));
                (v.clone(), shown)
            })
            .collect(),
        ValueKind::Response => RESPONSE_VALUES
            .iter()
            .zip(RESPONSE_LABELS)
            .map(|(v, l)| ((*v).to_owned(), l.to_owned()))
            .collect(),
        ValueKind::Integer { .. } | ValueKind::Number { .. } => Vec::new(),
    }
}

/// `"helped_within_48h"` → `"Helped within 48h"`.
fn display(value: &str) -> String {
    let spaced = value.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// The UCUM coding of a vocabulary unit where there is an obvious one, else display text only.
fn unit_coding(unit: &str) -> Value {
    let ucum = match unit {
        "years" => Some("a"),
        "days" => Some("d"),
        "weeks" => Some("wk"),
        "kg" => Some("kg"),
        "°C" => Some("Cel"),
        _ => None,
    };
    match ucum {
        Some(code) => json!({ "system": UCUM, "code": code, "display": unit }),
        None => json!({ "display": unit }),
    }
}

fn coding_options(system: &str, values: impl IntoIterator<Item = (String, String)>) -> Value {
    Value::Array(
        values
            .into_iter()
            .map(|(code, shown)| {
                json!({ "valueCoding": { "system": system, "code": code, "display": shown } })
            })
            .collect(),
    )
}

fn bound(url: &str, integer: bool, value: f64) -> Value {
    if integer {
        // Vocabulary bounds of integer codes are whole numbers (validated at load).
        json!({ "url": url, "valueInteger": value as i64 })
    } else {
        json!({ "url": url, "valueDecimal": value })
    }
}

/// `enableWhen` items (and whether all must hold) for a branching condition, where FHIR
/// R4 can say it: one answer test, a `not` of one, or an `all`/`any` of such tests.
/// `None` when it cannot (the question is then always enabled: asking too much is safe).
fn enable_when(kb: &KnowledgeBase, cond: &Cond) -> Option<(Vec<Value>, bool)> {
    let tests = |cond: &Cond, negate_outer: bool| -> Option<(Vec<Value>, bool)> {
        let (code, values, negate, present) = match cond {
            Cond::Choice {
                code,
                values,
                negate,
            } => (*code, values.clone(), *negate != negate_outer, false),
            Cond::Present(code) => (*code, Vec::new(), negate_outer, true),
            _ => return None,
        };
        let def = kb.vocabulary.code(code);
        let system = answer_system(def);
        let names: Vec<String> = if present {
            vec!["present".to_owned()]
        } else {
            values
                .iter()
                .filter_map(|v| def.kind.choice_name(*v))
                .map(str::to_owned)
                .collect()
        };
        let items: Vec<Value> = names
            .iter()
            .map(|v| {
                json!({
                    "question": def.code,
                    "operator": if negate { "!=" } else { "=" },
                    "answerCoding": { "system": system, "code": v }
                })
            })
            .collect();
        // "is one of" holds when any matches; "is none of" when all differ.
        (!items.is_empty()).then_some((items, negate))
    };
    match cond {
        Cond::Not(inner) => tests(inner, true),
        Cond::Any(list) | Cond::All(list) => {
            let want_all = matches!(cond, Cond::All(_));
            let mut items = Vec::new();
            for c in list {
                let (more, all) = tests(c, false)?;
                if more.len() > 1 && all != want_all {
                    return None;
                }
                items.extend(more);
            }
            Some((items, want_all))
        }
        other => tests(other, false),
    }
}

pub fn question(kb: &KnowledgeBase, def: &CodeDef) -> Value {
    let mut item = Map::new();
    item.insert("linkId".into(), json!(def.code));
    item.insert("text".into(), json!(def.question));
    let required = def.required_screen || REQUIRED_ANSWERS.contains(&def.code.as_str());
    let system = answer_system(def);
    match &def.kind {
        ValueKind::Tri => {
            item.insert("type".into(), json!("choice"));
            item.insert(
                "answerOption".into(),
                coding_options(&system, answer_concepts(def)),
            );
        }
        ValueKind::Integer { min, max } | ValueKind::Number { min, max } => {
            let integer = matches!(def.kind, ValueKind::Integer { .. });
            item.insert(
                "type".into(),
                json!(if integer { "integer" } else { "decimal" }),
            );
            let mut extensions = vec![bound(EXT_MIN, integer, *min), bound(EXT_MAX, integer, *max)];
            if let Some(unit) = &def.unit {
                extensions.push(json!({ "url": EXT_UNIT, "valueCoding": unit_coding(unit) }));
            }
            item.insert("extension".into(), Value::Array(extensions));
        }
        ValueKind::Enum { .. } | ValueKind::Set { .. } => {
            item.insert("type".into(), json!("choice"));
            if matches!(def.kind, ValueKind::Set { .. }) {
                item.insert("repeats".into(), json!(true));
            }
            item.insert(
                "answerOption".into(),
                coding_options(&system, answer_concepts(def)),
            );
        }
        ValueKind::Response => {
            item.insert("type".into(), json!("choice"));
            item.insert(
                "answerOption".into(),
                coding_options(&system, answer_concepts(def)),
            );
        }
    }
    if required {
        item.insert("required".into(), json!(true));
    }
    // The question's own branching, else (older knowledge bases) its screen's `unless`.
    let unless = kb
        .vocabulary
        .required_screens
        .iter()
        .find(|s| kb.vocabulary.code(s.code).code == def.code)
        .and_then(|s| s.unless.as_ref())
        .map(|u| Cond::Not(Box::new(u.clone())));
    let branching = def.ask_when.clone().or(unless);
    if let Some((conditions, all)) = branching.as_ref().and_then(|w| enable_when(kb, w)) {
        if conditions.len() > 1 {
            item.insert(
                "enableBehavior".into(),
                json!(if all { "all" } else { "any" }),
            );
        }
        item.insert("enableWhen".into(), Value::Array(conditions));
    }
    if let Some(loinc) = &def.loinc {
        item.insert("code".into(), json!([{ "system": LOINC, "code": loinc }]));
    }
    Value::Object(item)
}

/// The Questionnaire for a knowledge base.
pub fn questionnaire(kb: &KnowledgeBase, texts: &Texts) -> Value {
    let startback_group = kb
        .startback
        .items
        .first()
        .map(|item| kb.vocabulary.code(item.code).group.as_str());
    let groups: Vec<Value> = kb
        .vocabulary
        .groups
        .iter()
        .filter_map(|group| {
            let items: Vec<Value> = kb
                .vocabulary
                .codes
                .iter()
                // Deprecated codes still work in QuestionnaireResponses built from an older
                // version, but the current Questionnaire asks only current questions.
                .filter(|c| c.group == group.id && c.is_active())
                .map(|c| question(kb, c))
                .collect();
            if items.is_empty() {
                return None;
            }
            let mut g = Map::new();
            g.insert("linkId".into(), json!(group.id));
            g.insert("text".into(), json!(group.label));
            g.insert("type".into(), json!("group"));
            if startback_group == Some(group.id.as_str()) {
                g.insert(
                    "code".into(),
                    json!([{
                        "system": LOINC,
                        "code": kb.startback.panel_loinc,
                        "display": "Keele STarT Back Screening Tool"
                    }]),
                );
            }
            g.insert("item".into(), Value::Array(items));
            Some(Value::Object(g))
        })
        .collect();
    json!({
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "text": crate::http::outcome::narrative(&format!(
            "Back pain and back muscle spasm triage intake, knowledge base {}: {} questions in {} groups.",
            kb.version,
            kb.vocabulary.codes.iter().filter(|c| c.is_active()).count(),
            kb.vocabulary.groups.len()
        )),
        "url": QUESTIONNAIRE_URL,
        "version": kb.version,
        "name": "BackPainTriage",
        "title": "Back pain and back muscle spasm triage intake",
        "status": "draft",
        "subjectType": ["Patient"],
        "publisher": "spasm-triage",
        "description": format!(
            "Generated from the vocabulary of knowledge base {} ({}). Answer what is known; \
             an unanswered question means unknown. Required safety screens left unanswered keep \
             the triage level at consultation_24 or above. {}",
            kb.version,
            kb.digest,
            texts.text(crate::knowledge::i18n::SOURCE_LANGUAGE, &kb.disclaimer)
        ),
        "item": groups,
    })
}
