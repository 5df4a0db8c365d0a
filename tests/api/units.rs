//! Number answers in other units: `{"value", "unit"}` converted at the boundary, and a
//! deployment that asks in °F and lb (`locale.units`).

use serde_json::{json, Value};

use spasm_triage::startup::Application;

use crate::helpers::{embedded_kb, spawn_app, spawn_app_with, test_settings};

/// The response without what differs per request.
fn comparable(mut body: Value) -> Value {
    body.as_object_mut().unwrap().remove("assessment_id");
    body
}

fn with(answers: Value) -> Value {
    let mut all = json!({"age_years": 46, "sex": "female", "unable_to_walk": "present"});
    all.as_object_mut()
        .unwrap()
        .extend(answers.as_object().unwrap().clone());
    json!({ "answers": all })
}

#[tokio::test]
async fn fahrenheit_pounds_and_stones_are_read_as_celsius_and_kilograms() {
    let app = spawn_app().await;
    for (sent, same_as) in [
        // At the fever threshold: 100.4 °F is 38.0 °C exactly, so the fever rules fire.
        (
            json!({"temperature_c": {"value": 100.4, "unit": "°F"}}),
            json!({"temperature_c": 38.0}),
        ),
        (
            json!({"temperature_c": {"value": 100.3, "unit": "°F"}}),
            json!({"temperature_c": 37.944444}),
        ),
        (
            json!({"temperature_c": {"value": 37.2, "unit": "°C"}}),
            json!({"temperature_c": 37.2}),
        ),
        (
            json!({"weight_kg": {"value": 99, "unit": "lb"}}),
            json!({"weight_kg": 44.905645}),
        ),
        (
            json!({"weight_kg": {"value": 11.5, "unit": "st"}}),
            json!({"weight_kg": 73.028372}),
        ),
    ] {
        let a = app.post_triage(&with(sent.clone())).await;
        let b = app.post_triage(&with(same_as)).await;
        assert_eq!(a.status, 200, "{sent}: {}", a.text);
        assert_eq!(comparable(a.body), comparable(b.body), "{sent}");
    }
    // The threshold really is crossed by the converted value.
    let hot = app
        .post_triage(&with(
            json!({"temperature_c": {"value": 100.4, "unit": "°F"}}),
        ))
        .await;
    let cool = app
        .post_triage(&with(
            json!({"temperature_c": {"value": 100.3, "unit": "°F"}}),
        ))
        .await;
    assert_ne!(
        hot.body["triage"]["level"], cool.body["triage"]["level"],
        "{}",
        hot.text
    );
    assert_eq!(
        hot.body["triage"]["level"], "emergency_ambulance",
        "{}",
        hot.text
    );
}

#[tokio::test]
async fn a_unit_the_code_does_not_offer_or_a_value_out_of_range_is_refused() {
    let app = spawn_app().await;
    for bad in [
        json!({"value": 310, "unit": "K"}),
        json!({"value": 70, "unit": "lb"}),
        json!({"value": 120, "unit": "°F"}),
        json!({"value": "101", "unit": "°F"}),
        json!({"value": 101, "unit": "°F", "site": "oral"}),
        json!({"value": 101}),
    ] {
        let r = app
            .post_triage(&with(json!({ "temperature_c": bad })))
            .await;
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
        assert_eq!(r.body["code"], "invalid_answer_value", "{bad}");
        let detail = r.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
            + r.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("86 to 111.2"), "{bad}: {detail}");
    }
    // Codes without other units take none.
    let r = app
        .post_triage(&with(
            json!({"heart_rate_bpm": {"value": 80, "unit": "beats/min"}}),
        ))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
}

#[tokio::test]
async fn a_deployment_in_fahrenheit_and_pounds_asks_in_them() {
    let mut settings = test_settings();
    settings.locale.units = vec!["°F".to_owned(), "lb".to_owned()];
    let app = spawn_app_with(settings).await;
    let vocabulary = app.get("/v1/vocabulary").await;
    let code = |body: &Value, name: &str| -> Value {
        body["codes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == name)
            .cloned()
            .unwrap()
    };
    let temperature = code(&vocabulary.body, "temperature_c");
    assert_eq!(temperature["unit"], "°F");
    assert_eq!(temperature["minimum"], 86.0);
    assert_eq!(temperature["maximum"], 111.2);
    assert_eq!(temperature["units"], json!(["°C", "°F"]));
    assert!(temperature["question"]
        .as_str()
        .unwrap()
        .contains("Fahrenheit"));
    let weight = code(&vocabulary.body, "weight_kg");
    assert_eq!(weight["unit"], "lb");
    assert!(weight["question"].as_str().unwrap().contains("pounds"));
    assert_eq!(weight["units"], json!(["kg", "lb", "st"]));
    // In Spanish too.
    let es = app
        .get_with_header("/v1/vocabulary", "accept-language", "es")
        .await;
    assert!(code(&es.body, "temperature_c")["question"]
        .as_str()
        .unwrap()
        .contains("Fahrenheit"));
    // The next questions ask in °F: walk the loop, skipping every question, until it comes.
    let mut answers = json!({"age_years": 46, "sex": "female"});
    let mut asked = None;
    for _ in 0..300 {
        let r = app.post_triage(&json!({ "answers": answers })).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let Some(next) = r.body["next_questions"].get(0).cloned() else {
            break;
        };
        if next["code"] == "temperature_c" {
            asked = Some(next);
            break;
        }
        answers[next["code"].as_str().unwrap()] = Value::Null;
    }
    let asked = asked.expect("temperature_c is among the next questions");
    assert_eq!(asked["unit"], "°F", "{asked}");
    assert_eq!(asked["minimum"], 86.0, "{asked}");
    assert!(asked["question"].as_str().unwrap().contains("Fahrenheit"));
    // Plain numbers keep meaning °C.
    let plain = app.post_triage(&with(json!({"temperature_c": 38.0}))).await;
    assert_eq!(plain.status, 200, "{}", plain.text);
    assert_eq!(plain.body["triage"]["level"], "emergency_ambulance");
    // The default deployment asks in °C.
    let default = spawn_app().await.get("/v1/vocabulary").await;
    assert_eq!(code(&default.body, "temperature_c")["unit"], "°C");
    assert_eq!(code(&default.body, "temperature_c")["minimum"], 30.0);
}

#[test]
fn start_up_refuses_a_unit_no_question_offers() {
    let mut settings = test_settings();
    settings.locale.units = vec!["K".to_owned()];
    let err = Application::build(&settings, embedded_kb()).err().unwrap();
    assert!(err.to_string().contains("locale.units"), "{err}");
}
