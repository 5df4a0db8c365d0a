//! SDC adaptive forms: `Questionnaire/$next-question` walked as a form filler would, on every
//! golden vignette, ends where `$triage` of the vignette's full answers ends.

use serde_json::{json, Map, Value};

use spasm_triage::engine::{parse_answers, Facts, Tri, Value as Answer};
use spasm_triage::knowledge::ValueKind;

use crate::fhir::{form, golden_cases, level, post_fhir, TRIAGE};
use crate::helpers::{embedded_kb, spawn_app, TestApp};

/// What the person of a case says when asked `code`, as the engine's own walk test has it: the
/// case's answer; else what its answers mean (a deprecated code's replacement, a fever from a
/// measured temperature); else nothing (the question is skipped).
fn reply(full: &Map<String, Value>, code: &str) -> Option<Value> {
    if let Some(v) = full.get(code) {
        return Some(v.clone());
    }
    let kb = embedded_kb();
    let parsed = parse_answers(&kb, full).ok()?;
    let id = kb.vocabulary.lookup(code)?;
    let def = kb.vocabulary.code(id);
    if def.kind == ValueKind::Tri && Facts::new(&kb, &parsed).is_present(id) {
        return Some(Value::from("present"));
    }
    match parsed.get(id)? {
        Answer::Tri(Tri::Present) => Some(Value::from("present")),
        Answer::Tri(Tri::Absent) => Some(Value::from("absent")),
        Answer::Tri(Tri::Unknown) => Some(Value::from("unknown")),
        Answer::Number(n) => Some(Value::from(*n)),
        Answer::Choice(c) => def.kind.choice_name(*c).map(Value::from),
        Answer::Set(items) => Some(
            items
                .iter()
                .filter_map(|c| def.kind.choice_name(*c).map(Value::from))
                .collect(),
        ),
    }
}

const NEXT: &str = "/fhir/Questionnaire/$next-question";

/// The questions of the contained Questionnaire (not our display items), in order.
fn asked(response: &Value) -> Vec<String> {
    response["contained"][0]["item"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] != "display")
        .map(|i| i["linkId"].as_str().unwrap().to_owned())
        .collect()
}

struct Walk {
    answered: Map<String, Value>,
    last: Value,
    calls: usize,
}

/// Answer each question the service adds from `answers`, or skip it when they do not say.
async fn walk(app: &TestApp, answers: &Map<String, Value>) -> Walk {
    let form = form(app).await;
    let mut answered = Map::new();
    let mut response = json!({ "resourceType": "QuestionnaireResponse", "status": "in-progress" });
    for calls in 1..=200 {
        let r = post_fhir(app, NEXT, &response).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let next = r.body;
        assert_eq!(next["questionnaire"], "#adaptive");
        assert_eq!(next["contained"][0]["resourceType"], "Questionnaire");
        if next["status"] == "completed" {
            return Walk {
                answered,
                last: next,
                calls,
            };
        }
        assert_eq!(next["status"], "in-progress");
        let code = asked(&next).last().cloned().unwrap();
        if let Some(value) = reply(answers, &code) {
            answered.insert(code, value);
        }
        // What a form filler sends back: its answers, and the form it was given.
        let mut qr = form.response(&answered);
        qr["status"] = json!("in-progress");
        qr["questionnaire"] = json!("#adaptive");
        qr["contained"] = next["contained"].clone();
        response = qr;
    }
    panic!("no end after 200 questions");
}

#[tokio::test]
async fn every_vignette_walked_question_by_question_reaches_its_level() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let mut calls = Vec::new();
    for (name, request) in golden_cases() {
        let answers = request["answers"].as_object().unwrap().clone();
        let full = post_fhir(&app, TRIAGE, &form.response(&answers)).await;
        assert_eq!(full.status, 200, "{name}: {}", full.text);
        let w = walk(&app, &answers).await;
        let walked = post_fhir(&app, TRIAGE, &form.response(&w.answered)).await;
        assert_eq!(walked.status, 200, "{name}: {}", walked.text);
        let never_asked: Vec<&String> = answers
            .keys()
            .filter(|c| !w.answered.contains_key(*c))
            .collect();
        assert_eq!(
            level(&walked.body),
            level(&full.body),
            "{name}: answers never asked for: {never_asked:?}; asked: {:?}",
            asked(&w.last)
        );
        // Nothing asked twice.
        let mut seen = asked(&w.last);
        let n = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), n, "{name}: a question was asked twice");
        calls.push(w.calls);
    }
    calls.sort_unstable();
    assert!(calls.len() >= 18);
    println!(
        "$next-question calls per vignette: median {}",
        calls[calls.len() / 2]
    );
}

#[tokio::test]
async fn an_emergency_puts_the_action_first_and_skipped_screens_are_not_asked_again() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let mut answers = Map::new();
    answers.insert("age_years".into(), json!(40));
    answers.insert("sex".into(), json!("male"));
    answers.insert("saddle_numbness".into(), json!("present"));
    let mut qr = form.response(&answers);
    qr["status"] = json!("in-progress");
    let r = post_fhir(&app, NEXT, &qr).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let first = &r.body["contained"][0]["item"][0];
    assert_eq!(first["linkId"], "urgent-action");
    assert_eq!(first["type"], "display");
    assert!(
        first["text"].as_str().unwrap().contains("emergency"),
        "{first}"
    );

    // A benign start: the first question is a required screen; skipping it moves on.
    let mut answers = Map::new();
    answers.insert("age_years".into(), json!(40));
    answers.insert("sex".into(), json!("male"));
    let mut qr = form.response(&answers);
    qr["status"] = json!("in-progress");
    let step = post_fhir(&app, NEXT, &qr).await.body;
    let asked_first = asked(&step);
    let skipped = asked_first.last().unwrap().clone();
    let mut again = form.response(&answers);
    again["status"] = json!("in-progress");
    again["contained"] = step["contained"].clone();
    let step = post_fhir(&app, NEXT, &again).await.body;
    let now = asked(&step);
    assert_eq!(now.len(), asked_first.len() + 1);
    assert_ne!(now.last().unwrap(), &skipped);
    assert_eq!(step["contained"][0]["item"][0]["linkId"], now[0]);

    // Age and sex come first, and wrong answers are refused as in $triage.
    let empty = json!({ "resourceType": "QuestionnaireResponse", "status": "in-progress" });
    let step = post_fhir(&app, NEXT, &empty).await.body;
    assert_eq!(asked(&step), vec!["age_years"]);
    let wrong = json!({ "resourceType": "QuestionnaireResponse", "status": "in-progress",
        "item": [{ "linkId": "age_years", "answer": [{ "valueString": "forty" }] }] });
    let r = post_fhir(&app, NEXT, &wrong).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["resourceType"], "OperationOutcome");
    // The Parameters form of the operation.
    let params =
        json!({ "resourceType": "Parameters", "parameter": [{ "name": "in", "resource": empty }] });
    let r = post_fhir(&app, NEXT, &params).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(asked(&r.body), vec!["age_years"]);
}

#[tokio::test]
async fn a_response_without_its_status_is_refused() {
    let app = spawn_app().await;
    let r = post_fhir(
        &app,
        NEXT,
        &json!({"resourceType": "QuestionnaireResponse"}),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["resourceType"], "OperationOutcome");
    let r = post_fhir(
        &app,
        NEXT,
        &json!({"resourceType": "QuestionnaireResponse", "status": "in-progress", "questionnaire": 7}),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
}
