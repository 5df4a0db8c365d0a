//! The examples of the CDS Hooks part of the OpenAPI document: real requests and real output
//! of the embedded knowledge base.

use serde_json::{json, Value};

use super::card::{card, suggests_referral, Setting};
use super::dto::{problem_of, CdsCards, OVERRIDE_SYSTEM};
use super::{HOOK, PREFETCH_KEY};

/// The `$triage` request example (about `Patient/example`).
fn example_qr() -> Value {
    crate::fhir_resources::examples::questionnaire_response_example()
}

pub fn request_example() -> Value {
    json!({
        "hook": HOOK,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": { "userId": "Practitioner/example", "patientId": "example" },
        "prefetch": { PREFETCH_KEY: {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{ "resource": example_qr() }]
        }}
    })
}

/// The card for the example request (real output, with a fixed uuid).
pub fn cards_example() -> Value {
    let Some(kb) = crate::fhir_resources::examples::embedded() else {
        return Value::Null;
    };
    let texts = crate::view::dto::Texts::builtin(kb);
    let Ok((response, _)) = crate::fhir_resources::assess_questionnaire_response(
        kb,
        &texts,
        &example_qr(),
        crate::engine::Audience::Clinician,
        crate::fhir_resources::examples::EXAMPLE_ASSESSMENT_ID.to_owned(),
    ) else {
        return Value::Null;
    };
    let qr = example_qr();
    let setting = Setting {
        patient_id: "example",
        encounter_id: None,
        response_reference: qr["id"]
            .as_str()
            .map(|id| format!("QuestionnaireResponse/{id}")),
        // 2026-01-15T09:30:00Z
        now: 1_768_469_400,
    };
    let suggestion = suggests_referral(response.triage.level)
        .then(|| "5e1c2b7d-0f3a-4b6c-8d9e-1a2b3c4d5e6f".to_owned());
    let card = card(
        &response,
        "3f0c8d5e-6a1b-4c2d-9e8f-7a6b5c4d3e2f".to_owned(),
        suggestion,
        &setting,
    );
    serde_json::to_value(CdsCards { cards: vec![card] }).unwrap_or_default()
}

pub fn unknown_code_example() -> Value {
    let mut qr = example_qr();
    if let Some(Value::Array(items)) = qr.pointer_mut("/item/0/item") {
        items.push(json!({ "linkId": "saddle_numbnes", "answer": [{ "valueCoding": { "code": "absent" } }] }));
    }
    let body = json!({
        "hook": HOOK, "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": { "userId": "Practitioner/example", "patientId": "example" },
        "prefetch": { PREFETCH_KEY: qr }
    });
    let Some(kb) = crate::fhir_resources::examples::embedded() else {
        return Value::Null;
    };
    match crate::fhir_resources::mapping::map_response(kb, &body["prefetch"][PREFETCH_KEY]) {
        Err(e) => problem_of(&e.into_pointer(&format!("/prefetch/{PREFETCH_KEY}"))),
        Ok(_) => Value::Null,
    }
}

pub fn feedback_example() -> Value {
    json!({
        "feedback": [{
            "card": "3f0c8d5e-6a1b-4c2d-9e8f-7a6b5c4d3e2f",
            "outcome": "overridden",
            "overrideReason": {
                "reason": { "system": OVERRIDE_SYSTEM, "code": "already-assessed" },
                "userComment": "seen in clinic this morning"
            },
            "outcomeTimestamp": "2026-01-15T09:40:00Z"
        }]
    })
}
