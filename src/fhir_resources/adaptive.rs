//! SDC adaptive questionnaires (`Questionnaire/$next-question`): the QuestionnaireResponse
//! carries its own contained Questionnaire, and each call adds the next question to it, in
//! the order `next_questions` gives the JSON API (same engine, same choice). A question the
//! contained Questionnaire asked but the response leaves unanswered was seen and skipped:
//! it counts as declined (the JSON API's `null`), so it is not asked again and a skipped
//! safety screen keeps its floor.

use serde_json::{json, Map, Value};

use super::mapping::{map_response, QrError};
use super::questionnaire::{question, QUESTIONNAIRE_URL};
use crate::engine::{self, answers::REQUIRED_ANSWERS, Audience};
use crate::http::outcome::narrative;
use crate::knowledge::{KnowledgeBase, Level};
use crate::view::dto::{Texts, TriageResponse};

/// The contained Questionnaire's id and canonical.
pub const ADAPTIVE_ID: &str = "adaptive";
pub const ADAPTIVE_URL: &str = "urn:spasm-triage:Questionnaire/back-pain-triage-adaptive";
const SDC_ADAPTIVE: &str =
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-adaptive";
/// The display item that puts an emergency's action above the questions still worth asking.
pub const URGENT_ACTION_LINK_ID: &str = "urgent-action";

/// What `$next-question` answers: the response with the next question added, or completed.
pub struct NextStep {
    pub response: Value,
    /// The level the answers so far give (`None` before age and sex are known).
    pub level: Option<Level>,
}

/// Every linkId answered in a response (any depth), and every linkId present at all.
fn link_ids(items: &Value, answered: &mut Vec<String>, present: &mut Vec<String>) {
    for item in items.as_array().map(Vec::as_slice).unwrap_or_default() {
        if let Some(id) = item.get("linkId").and_then(Value::as_str) {
            present.push(id.to_owned());
            if item
                .get("answer")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
            {
                answered.push(id.to_owned());
            }
        }
        if let Some(children) = item.get("item") {
            link_ids(children, answered, present);
        }
    }
}

/// The question items of the contained Questionnaire (display items are ours, not questions).
fn asked(contained: &Value) -> Vec<String> {
    contained["item"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|i| i["type"] != "display")
        .filter_map(|i| i["linkId"].as_str().map(str::to_owned))
        .collect()
}

fn adaptive_questionnaire(kb: &KnowledgeBase) -> Value {
    json!({
        "resourceType": "Questionnaire",
        "id": ADAPTIVE_ID,
        "meta": { "profile": [SDC_ADAPTIVE] },
        "url": ADAPTIVE_URL,
        "version": kb.version,
        "name": "BackPainTriageAdaptive",
        "title": "Back pain and back muscle spasm triage intake (adaptive)",
        "status": "draft",
        "subjectType": ["Patient"],
        "derivedFrom": [QUESTIONNAIRE_URL],
        "item": []
    })
}

/// An item to add: the full Questionnaire's question, without `enableWhen` (the server decides
/// what to ask, and the items it would name may not be in this form).
fn adaptive_item(kb: &KnowledgeBase, code: &str) -> Option<Value> {
    let id = kb.vocabulary.lookup(code)?;
    let mut item = question(kb, kb.vocabulary.code(id));
    if let Value::Object(map) = &mut item {
        map.remove("enableWhen");
        map.remove("enableBehavior");
    }
    Some(item)
}

/// Add the next question (or finish) for a QuestionnaireResponse with a contained Questionnaire.
pub fn next_question(kb: &KnowledgeBase, texts: &Texts, qr: &Value) -> Result<NextStep, QrError> {
    let Value::Object(input) = qr else {
        return map_response(kb, qr).map(|_| NextStep {
            response: Value::Null,
            level: None,
        });
    };
    // `questionnaire` is replaced below for the assessment, so its type is checked here.
    if input.get("questionnaire").is_some_and(|q| !q.is_string()) {
        return Err(QrError::shape(
            vec![super::mapping::Seg::Key("questionnaire")],
            "`questionnaire` must be a canonical URL (a string), e.g. `#adaptive`",
        ));
    }
    let mut response = input.clone();
    let contained_at = response
        .get("contained")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().position(|r| r["resourceType"] == "Questionnaire"));
    let mut contained = match contained_at {
        Some(i) => response["contained"][i].clone(),
        None => adaptive_questionnaire(kb),
    };
    // Our own emergency banner from the previous step is rebuilt each time.
    if let Some(items) = contained["item"].as_array_mut() {
        items.retain(|i| i["linkId"] != URGENT_ACTION_LINK_ID);
    }
    let (mut answered, mut present) = (Vec::new(), Vec::new());
    if let Some(items) = response.get("item") {
        link_ids(items, &mut answered, &mut present);
    }
    let shown = asked(&contained);

    // Assess as the full Questionnaire would: the answers are the same codes.
    let mut as_full = response.clone();
    as_full.remove("contained");
    as_full.insert("questionnaire".into(), json!(QUESTIONNAIRE_URL));
    // `status` is required (FHIR 1..1): the mapping below refuses a response without one.
    let first_missing = REQUIRED_ANSWERS
        .iter()
        .find(|code| !answered.iter().any(|a| a == *code));
    let (next_code, level, action) = match first_missing {
        Some(code) => {
            // Validate what was sent (a wrong value type is refused now, not later).
            if let Err(e) = map_response(kb, &Value::Object(as_full.clone())) {
                if !matches!(
                    e.code(),
                    crate::http::error::ErrorCode::MissingRequiredAnswer
                ) {
                    return Err(e);
                }
            }
            (Some((*code).to_owned()), None, None)
        }
        None => {
            let mut mapped = map_response(kb, &Value::Object(as_full))?;
            for code in shown.iter().chain(&present) {
                if !answered.contains(code) {
                    if let Some(id) = kb.vocabulary.lookup(code) {
                        mapped.answers.decline(id);
                    }
                }
            }
            let assessment = engine::assess(kb, &mapped.answers, Audience::Patient);
            let view = TriageResponse::build(kb, &assessment, texts, String::new());
            let level = assessment.level;
            let urgent = matches!(level, Level::Emergency | Level::EmergencyAmbulance)
                .then(|| view.triage.action.to_string());
            (
                view.next_questions.first().map(|q| q.code.to_owned()),
                Some(level),
                urgent,
            )
        }
    };

    let items = contained["item"].as_array_mut();
    if let Some(items) = items {
        if let Some(code) = &next_code {
            if let Some(item) = adaptive_item(kb, code) {
                items.push(item);
            }
        }
        if let Some(action) = &action {
            // Shown first: what to do now, before any question still worth asking.
            items.insert(
                0,
                json!({ "linkId": URGENT_ACTION_LINK_ID, "type": "display", "text": action }),
            );
        }
    }
    let count = asked(&contained).len();
    if let Value::Object(map) = &mut contained {
        map.insert(
            "text".into(),
            narrative(&format!(
                "Adaptive back pain intake: {count} questions asked so far."
            )),
        );
    }
    let status = if next_code.is_some() {
        "in-progress"
    } else {
        "completed"
    };
    let mut others: Vec<Value> = response
        .get("contained")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter(|r| r["resourceType"] != "Questionnaire")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    others.insert(0, contained);
    response.insert("contained".into(), Value::Array(others));
    response.insert("questionnaire".into(), json!(format!("#{ADAPTIVE_ID}")));
    response.insert("status".into(), json!(status));
    response.remove("text");
    let mut out = Map::new();
    // resourceType first, as FHIR JSON is usually read.
    out.insert("resourceType".into(), json!("QuestionnaireResponse"));
    out.extend(response);
    Ok(NextStep {
        response: Value::Object(out),
        level,
    })
}
