//! `next_questions` and languages as a form meets them over HTTP.

use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test]
async fn next_questions_lead_with_the_required_screens_and_never_repeat_an_answer() {
    let app = spawn_app().await;
    let r = app
        .post_triage(&json!({ "answers": { "age_years": 30, "sex": "male" } }))
        .await;
    assert_eq!(r.status, 200);
    let next = r.body["next_questions"].as_array().unwrap();
    assert!(!next.is_empty() && next.len() <= 5);
    assert_eq!(next[0]["code"], "sudden_unilateral_weakness_or_numbness");
    assert_eq!(next[0]["reason"], "required_screen");
    assert_eq!(next[0]["type"], "tri");
    assert_eq!(next[0]["labels"], json!(["Yes", "No", "Not sure"]));
    assert!(!next[0]["why"].as_str().unwrap().is_empty());

    // Declined (null) and "unknown" both retire a question.
    let r = app
        .post_triage(&json!({ "answers": {
            "age_years": 30, "sex": "male",
            "sudden_unilateral_weakness_or_numbness": null,
            "chest_pain": "unknown"
        } }))
        .await;
    assert_eq!(r.status, 200);
    let codes: Vec<&str> = r.body["next_questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"sudden_unilateral_weakness_or_numbness"));
    assert!(!codes.contains(&"chest_pain"));
    // A declined screen is still not ruled out: the floor stays.
    assert_eq!(r.body["completeness"]["complete"], false);
    assert_eq!(r.body["triage"]["level"], "consultation_24");
}

#[tokio::test]
async fn an_emergency_asks_only_what_could_make_it_more_urgent() {
    let app = spawn_app().await;
    let r = app
        .post_triage(
            &json!({ "answers": { "age_years": 30, "sex": "male", "saddle_numbness": "present" } }),
        )
        .await;
    assert_eq!(r.body["triage"]["level"], "emergency");
    for q in r.body["next_questions"].as_array().unwrap() {
        assert_ne!(q["reason"], "required_screen", "{q}");
        assert_ne!(q["reason"], "medicine_screen", "{q}");
    }
}

#[tokio::test]
async fn spanish_is_chosen_by_option_or_accept_language_and_falls_back_to_english() {
    let app = spawn_app().await;
    let body =
        json!({ "answers": { "age_years": 30, "sex": "male" }, "options": { "language": "es" } });
    let r = app.post_triage(&body).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-language"], "es");
    assert_eq!(r.body["language"]["code"], "es");
    assert_eq!(
        r.body["next_questions"][0]["labels"],
        json!(["Sí", "No", "No lo sé"])
    );
    assert_eq!(r.body["next_questions"][0]["review"], "draft");
    let disclaimer = r.body["disclaimer"].as_str().unwrap();
    assert!(disclaimer.starts_with("Este servicio"), "{disclaimer}");
    assert_eq!(r.body["disclaimer_review"], "draft");

    // The header works too; the option wins over it.
    let english = json!({ "answers": { "age_years": 30, "sex": "male" } });
    let r = app
        .post_triage_with_header(&english, "Accept-Language", "es-ES,es;q=0.9,en;q=0.5")
        .await;
    assert_eq!(r.headers["content-language"], "es");
    let explicit =
        json!({ "answers": { "age_years": 30, "sex": "male" }, "options": { "language": "en" } });
    let r = app
        .post_triage_with_header(&explicit, "Accept-Language", "es")
        .await;
    assert_eq!(r.headers["content-language"], "en");
    assert!(r.body["disclaimer"]
        .as_str()
        .unwrap()
        .starts_with("This service"));
    let unsupported: Value = json!({ "answers": { "age_years": 30, "sex": "male" } });
    let r = app
        .post_triage_with_header(&unsupported, "Accept-Language", "fr")
        .await;
    assert_eq!(r.headers["content-language"], "en");
    assert_eq!(r.body["language"]["untranslated"], json!([]));
}

#[tokio::test]
async fn the_vocabulary_speaks_the_language_of_accept_language() {
    let app = spawn_app().await;
    let r = app
        .get_with_header("/v1/vocabulary", "Accept-Language", "es-MX, en;q=0.5")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-language"], "es");
    assert!(r.headers["vary"]
        .to_str()
        .unwrap()
        .contains("Accept-Language"));
    assert_eq!(r.body["language"]["code"], "es");
    let codes = r.body["codes"].as_array().unwrap();
    let age = codes.iter().find(|c| c["code"] == "age_years").unwrap();
    assert_eq!(age["question"], "¿Cuántos años tiene?");
    let saddle = codes
        .iter()
        .find(|c| c["code"] == "saddle_numbness")
        .unwrap();
    assert_eq!(saddle["labels"], json!(["Sí", "No", "No lo sé"]));
    let demographics = r.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "demographics")
        .unwrap();
    assert_ne!(demographics["label"], "About you");

    let r = app.get("/v1/vocabulary").await;
    assert_eq!(r.headers["content-language"], "en");
    assert_eq!(
        r.body["language"],
        json!({ "code": "en", "untranslated": [] })
    );
    let age = r.body["codes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "age_years")
        .unwrap()
        .clone();
    assert_eq!(age["question"], "How old are you, in years?");
}
