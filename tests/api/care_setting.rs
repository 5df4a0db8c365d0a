//! Care-setting words (`locale.care_setting`): one text, the words of the deployment's health
//! system, in the response's language.

use serde_json::{json, Value};

use spasm_triage::startup::Application;

use crate::helpers::{embedded_kb, spawn_app, spawn_app_with, test_settings, TestApp};

/// Every golden case's request (tests/cases/), so that every fired rule's text is served.
fn case_requests() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        out.push((path.display().to_string(), case["request"].clone()));
    }
    assert!(out.len() >= 18, "the golden cases are there");
    out
}

fn with_language(request: &Value, language: &str) -> Value {
    let mut r = request.clone();
    let options = r
        .as_object_mut()
        .unwrap()
        .entry("options")
        .or_insert_with(|| json!({}));
    options["language"] = json!(language);
    r
}

/// Whether `text` says `word` as a whole word (so "GP" is not found in "GPS").
fn says(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// All golden cases in English and Spanish: no care placeholder is left, and the words of
/// `absent` never appear. Returns the concatenated bodies per language.
async fn serve_every_case(app: &TestApp, absent: &[&str]) -> (String, String) {
    let mut english = String::new();
    let mut spanish = String::new();
    for (name, request) in case_requests() {
        for (language, all) in [("en", &mut english), ("es", &mut spanish)] {
            let r = app.post_triage(&with_language(&request, language)).await;
            assert_eq!(r.status, 200, "{name} {language}: {}", r.text);
            for placeholder in ["{primary_care_doctor}", "{primary_care_practice}"] {
                assert!(
                    !r.text.contains(placeholder),
                    "{name} {language}: {placeholder} left"
                );
            }
            for word in absent {
                assert!(!says(&r.text, word), "{name} {language}: says {word:?}");
            }
            all.push_str(&r.text);
        }
    }
    (english, spanish)
}

#[tokio::test]
async fn the_default_deployment_speaks_of_the_gp() {
    let app = spawn_app().await;
    let (english, spanish) = serve_every_case(&app, &["doctor's office"]).await;
    assert!(says(&english, "GP practice"));
    assert!(says(&english, "GP"));
    assert!(spanish.contains("centro de salud"));
    assert!(spanish.contains("médico de cabecera"));
    // Unanswered screens keep the level at consultation_24, whose action names the practice.
    let r = app
        .post_triage(&json!({"answers": {"age_years": 30, "sex": "male"}}))
        .await;
    assert_eq!(r.body["triage"]["level"], "consultation_24", "{}", r.text);
    assert!(
        r.body["triage"]["action"]
            .as_str()
            .unwrap()
            .contains("ask your GP practice for an urgent appointment"),
        "{}",
        r.body["triage"]["action"]
    );
}

#[tokio::test]
async fn a_us_deployment_never_says_gp() {
    let mut settings = test_settings();
    settings.locale.care_setting = "us".to_owned();
    let app = spawn_app_with(settings).await;
    let (english, spanish) = serve_every_case(&app, &["GP", "GP practice"]).await;
    assert!(english.contains("primary care doctor"));
    assert!(english.contains("doctor's office"));
    assert!(spanish.contains("consultorio médico"));
    assert!(spanish.contains("médico de atención primaria"));
    assert!(!spanish.contains("médico de cabecera"));
    let r = app
        .post_triage(
            &json!({"answers": {"age_years": 30, "sex": "male"}, "options": {"language": "es"}}),
        )
        .await;
    assert!(
        r.body["triage"]["action"]
            .as_str()
            .unwrap()
            .contains("pida una cita urgente con su consultorio médico"),
        "{}",
        r.body["triage"]["action"]
    );
    // The words are translations like any text: Spanish is not reported as untranslated.
    assert_eq!(
        r.body["language"]["untranslated"],
        json!([]),
        "{}",
        r.body["language"]
    );
}

#[test]
fn start_up_refuses_a_care_setting_the_knowledge_base_does_not_have() {
    let mut settings = test_settings();
    settings.locale.care_setting = "usa".to_owned();
    let err = Application::build(&settings, embedded_kb()).err().unwrap();
    let message = err.to_string();
    assert!(message.contains("locale.care_setting"), "{message}");
    assert!(message.contains("uk, us"), "{message}");
}
