//! Examples for the OpenAPI document, produced by the code that serves the endpoints (on the
//! embedded knowledge base, with a fixed id and time so the committed spec is stable), and
//! `questionnaire_response`, which builds a QuestionnaireResponse from an `answers` map.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use super::guidance::guidance_response as render_guidance;
use super::mapping::map_response;
use super::questionnaire::{
    answer_system, questionnaire as render_questionnaire, QUESTIONNAIRE_URL,
};
use crate::engine::Audience;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::outcome::operation_outcome;
use crate::knowledge::{self, KnowledgeBase, RuleSource, ValueKind};
use crate::view::dto::Texts;

pub const EXAMPLE_ASSESSMENT_ID: &str = "7d1f3c2a-5b8e-4f6d-9a0c-1e2b3c4d5e6f";
pub const EXAMPLE_REQUEST_ID: &str = "b1946ac9-2f4e-4a57-9d4c-3a8a2c1d9e10";
pub const EXAMPLE_TIME: &str = "2026-01-15T09:30:00Z";

/// The embedded knowledge base, loaded once, for examples.
pub fn embedded() -> Option<&'static KnowledgeBase> {
    static KB: OnceLock<Option<KnowledgeBase>> = OnceLock::new();
    KB.get_or_init(|| knowledge::load(&RuleSource::Embedded).ok())
        .as_ref()
}

/// A QuestionnaireResponse for an `answers` map (as `POST /v1/triage` takes it): one group per
/// vocabulary group, answers typed as the Questionnaire asks. Keys that are not vocabulary
/// codes go into an extra group as `valueString` answers (so the service can refuse them).
pub fn questionnaire_response(kb: &KnowledgeBase, answers: &Map<String, Value>) -> Value {
    let answer = |code: &str, value: &Value| -> Vec<Value> {
        let Some(id) = kb.vocabulary.lookup(code) else {
            return vec![json!({ "valueString": value.to_string() })];
        };
        let def = kb.vocabulary.code(id);
        let system = answer_system(def);
        match (&def.kind, value) {
            (ValueKind::Integer { .. }, v) => vec![json!({ "valueInteger": v })],
            (ValueKind::Number { .. }, v) => vec![json!({ "valueDecimal": v })],
            (ValueKind::Set { .. }, Value::Array(values)) => values
                .iter()
                .map(|v| json!({ "valueCoding": { "system": system, "code": v } }))
                .collect(),
            (_, v) => vec![json!({ "valueCoding": { "system": system, "code": v } })],
        }
    };
    let mut groups = Vec::new();
    for group in &kb.vocabulary.groups {
        let items: Vec<Value> = kb
            .vocabulary
            .codes
            .iter()
            .filter(|c| c.group == group.id)
            .filter_map(|c| {
                answers
                    .get(&c.code)
                    .map(|v| json!({ "linkId": c.code, "answer": answer(&c.code, v) }))
            })
            .collect();
        if !items.is_empty() {
            groups.push(json!({ "linkId": group.id, "item": items }));
        }
    }
    let unknown: Vec<Value> = answers
        .iter()
        .filter(|(k, _)| kb.vocabulary.lookup(k).is_none())
        .map(|(k, v)| json!({ "linkId": k, "answer": answer(k, v) }))
        .collect();
    if !unknown.is_empty() {
        groups.push(json!({ "linkId": "other", "item": unknown }));
    }
    json!({
        "resourceType": "QuestionnaireResponse",
        "questionnaire": QUESTIONNAIRE_URL,
        "status": "completed",
        "item": groups,
    })
}

/// The README's example answers (acute spasm after lifting), optionally fully screened.
pub fn example_answers(screened: bool) -> Map<String, Value> {
    let mut answers = json!({
        "age_years": 34, "sex": "male", "onset_days_ago": 1, "onset_type": "sudden",
        "pain_nrs_now": 7, "trigger_heavy_lifting": "present", "muscle_tender_or_knotted": "present",
        "saddle_numbness": "absent", "tried_ice": "helped", "sbt_1_leg_pain": "disagree"
    });
    if let (true, Some(map)) = (screened, answers.as_object_mut()) {
        for code in [
            "sudden_unilateral_weakness_or_numbness",
            "chest_pain",
            "urinary_retention_new",
            "urinary_incontinence_new",
            "bowel_incontinence_new",
            "bilateral_leg_symptoms",
            "leg_weakness_progressive",
            "major_trauma",
            "fever",
            "history_of_cancer",
            "unexplained_weight_loss",
        ] {
            map.insert(code.to_owned(), json!("absent"));
        }
    }
    match answers {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn with_subject(mut qr: Value) -> Value {
    if let Value::Object(obj) = &mut qr {
        obj.insert("id".to_owned(), json!("qr-1042"));
        obj.insert(
            "subject".to_owned(),
            json!({ "reference": "Patient/example" }),
        );
        obj.insert("authored".to_owned(), json!("2026-01-15T09:25:00Z"));
    }
    qr
}

/// The request example of `$triage`.
pub fn questionnaire_response_example() -> Value {
    embedded()
        .map(|kb| with_subject(questionnaire_response(kb, &example_answers(true))))
        .unwrap_or(Value::Null)
}

/// The Questionnaire, trimmed to a few groups and items.
/// The CapabilityStatement of the embedded knowledge base.
pub fn capability_statement() -> Value {
    embedded()
        .map(super::capability::capability_statement)
        .unwrap_or(Value::Null)
}

/// The `$triage` OperationDefinition of the embedded knowledge base.
pub fn operation_definition() -> Value {
    embedded()
        .map(super::capability::operation_definition)
        .unwrap_or(Value::Null)
}

pub fn questionnaire() -> Value {
    let Some(kb) = embedded() else {
        return Value::Null;
    };
    let mut q = render_questionnaire(kb, &Texts::builtin(kb));
    let keep = [
        "age_years",
        "sex",
        "pregnancy_status",
        "saddle_numbness",
        "sbt_1_leg_pain",
        "sbt_9_bothersome",
    ];
    if let Some(groups) = q.get_mut("item").and_then(Value::as_array_mut) {
        for group in groups.iter_mut() {
            if let Some(items) = group.get_mut("item").and_then(Value::as_array_mut) {
                items.retain(|i| keep.iter().any(|k| i["linkId"] == *k));
            }
        }
        groups.retain(|g| g["item"].as_array().is_some_and(|i| !i.is_empty()));
    }
    q
}

/// A GuidanceResponse for the example answers, its Parameters trimmed.
pub fn guidance_response(screened: bool) -> Value {
    let Some(kb) = embedded() else {
        return Value::Null;
    };
    let qr = with_subject(questionnaire_response(kb, &example_answers(screened)));
    let texts = Texts::builtin(kb);
    let Ok((response, mapped)) = super::assess_questionnaire_response(
        kb,
        &texts,
        &qr,
        Audience::Patient,
        EXAMPLE_ASSESSMENT_ID.to_owned(),
    ) else {
        return Value::Null;
    };
    let mut g = render_guidance(&response, &mapped, EXAMPLE_REQUEST_ID, EXAMPLE_TIME);
    let keep = [
        "assessment_id",
        "knowledge_base",
        "level",
        "timeframe",
        "action",
        "decided_by",
        "red_flag",
        "missing_screen",
        "risk_assessment",
    ];
    if let Some(contained) = g.get_mut("contained").and_then(Value::as_array_mut) {
        for resource in contained.iter_mut() {
            if let Some(params) = resource.get_mut("parameter").and_then(Value::as_array_mut) {
                params.retain(|p| keep.iter().any(|k| p["name"] == *k));
                let mut seen = 0;
                params.retain(|p| {
                    if p["name"] == "missing_screen" {
                        seen += 1;
                        seen <= 2
                    } else {
                        true
                    }
                });
            }
        }
    }
    if let Some(requirements) = g.get_mut("dataRequirement").and_then(Value::as_array_mut) {
        requirements.truncate(2);
    }
    g
}

fn refusal(qr: Value) -> Value {
    let Some(kb) = embedded() else {
        return Value::Null;
    };
    match map_response(kb, &qr) {
        Err(e) => operation_outcome(&e.into_fhir()),
        Ok(_) => Value::Null,
    }
}

fn example_qr(answers: Value) -> Value {
    let Some(kb) = embedded() else {
        return Value::Null;
    };
    match answers {
        Value::Object(map) => questionnaire_response(kb, &map),
        _ => Value::Null,
    }
}

pub fn outcome_unknown_link_id() -> Value {
    refusal(example_qr(
        json!({"age_years": 34, "sex": "male", "saddle_numbnes": "absent"}),
    ))
}

pub fn outcome_wrong_value_type() -> Value {
    let mut qr = example_qr(json!({"age_years": 34, "sex": "male"}));
    if let Some(answer) = qr.pointer_mut("/item/0/item/0/answer/0") {
        *answer = json!({ "valueString": "thirty-four" });
    }
    refusal(qr)
}

pub fn outcome_missing_required() -> Value {
    refusal(example_qr(json!({"age_years": 34})))
}

pub fn outcome_wrong_resource_type() -> Value {
    refusal(json!({"resourceType": "Patient", "id": "example"}))
}

pub fn outcome_unknown_search_parameter() -> Value {
    operation_outcome(&ApiError::new(
        ErrorCode::InvalidOption,
        "unknown search parameter; supported: `url`",
    ))
}

/// The search result for the Questionnaire's canonical (real output, trimmed like
/// [`questionnaire`]).
pub fn questionnaire_search() -> Value {
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 1,
        "entry": [{
            "fullUrl": format!("urn:spasm-triage:Questionnaire/{}", super::questionnaire::QUESTIONNAIRE_ID),
            "resource": questionnaire(),
            "search": { "mode": "match" }
        }]
    })
}

/// The knowledge-base Library, its sources trimmed to two.
pub fn library() -> Value {
    let Some(kb) = embedded() else {
        return Value::Null;
    };
    let mut library = super::terminology::library(kb);
    if let Some(related) = library["relatedArtifact"].as_array_mut() {
        related.truncate(2);
    }
    library
}

/// The CodeSystem of `pregnancy_status` answers, with its ValueSet.
fn pregnancy_terminology(kb: &KnowledgeBase) -> Option<super::terminology::Terminology> {
    super::terminology::terminologies(kb)
        .into_iter()
        .find(|t| t.id == "pregnancy-status")
}

pub fn code_system() -> Value {
    embedded()
        .and_then(|kb| pregnancy_terminology(kb).map(|t| super::terminology::code_system(kb, &t)))
        .unwrap_or(Value::Null)
}

pub fn value_set() -> Value {
    embedded()
        .and_then(|kb| pregnancy_terminology(kb).map(|t| super::terminology::value_set(kb, &t)))
        .unwrap_or(Value::Null)
}

/// A searchset Bundle holding one example resource.
pub fn search_of(resource: Value) -> Value {
    let version = resource["version"].as_str().unwrap_or_default().to_owned();
    super::terminology::searchset(vec![resource], None, &version)
}

/// A `$next-question` input: age and sex answered, the contained Questionnaire not yet made.
pub fn next_question_request() -> Value {
    let Some(kb) = embedded() else {
        return Value::Null;
    };
    let answers: Map<String, Value> = [("age_years", json!(34)), ("sex", json!("male"))]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let mut qr = questionnaire_response(kb, &answers);
    qr["status"] = json!("in-progress");
    qr
}

/// Its answer: the response with the first question the rules want added.
pub fn next_question_response() -> Value {
    let Some(kb) = embedded() else {
        return Value::Null;
    };
    let request = next_question_request();
    super::adaptive::next_question(kb, &Texts::builtin(kb), &request)
        .map(|step| step.response)
        .unwrap_or(Value::Null)
}
