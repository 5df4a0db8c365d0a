use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_ready_answer_ok() {
    let app = spawn_app().await;
    for path in ["/health", "/ready"] {
        let r = app.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body, json!({"status": "ok"}), "{path}");
    }
}

#[tokio::test]
async fn vocabulary_lists_required_screens_first() {
    let app = spawn_app().await;
    let r = app.get("/v1/vocabulary").await;
    assert_eq!(r.status, 200);
    let codes = r.body["codes"].as_array().unwrap();
    assert!(codes.len() > 150, "{} codes", codes.len());
    let first: Vec<&str> = codes
        .iter()
        .take(3)
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        first,
        [
            "sudden_unilateral_weakness_or_numbness",
            "chest_pain",
            "saddle_numbness"
        ]
    );
    let saddle = &codes[2];
    assert_eq!(saddle["type"], "tri");
    assert_eq!(saddle["required_screen"], true);
    assert!(saddle["screens_for"]
        .as_array()
        .unwrap()
        .contains(&json!("cauda_equina_syndrome")));
    let age = codes.iter().find(|c| c["code"] == "age_years").unwrap();
    assert_eq!(
        (
            age["type"].as_str(),
            age["minimum"].as_f64(),
            age["maximum"].as_f64()
        ),
        (Some("integer"), Some(0.0), Some(120.0))
    );
}

#[tokio::test]
async fn knowledge_base_lists_rules_with_sources_and_review_status() {
    let app = spawn_app().await;
    let r = app.get("/v1/knowledge-base").await;
    assert_eq!(r.status, 200);
    let rules = r.body["rules"].as_array().unwrap();
    let r01 = rules.iter().find(|x| x["id"] == "R01").unwrap();
    assert_eq!(r01["level"], "emergency");
    assert!(!r01["sources"].as_array().unwrap().is_empty());
    assert!(["draft", "reference", "approved"].contains(&r01["review"].as_str().unwrap()));
    assert!(rules.iter().any(|x| x["id"] == "MOD-travel"));
    assert!(r.body["digest"].as_str().unwrap().starts_with("sha256:"));
    assert!(!r.body["sources"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn served_spec_equals_the_committed_one() {
    let app = spawn_app().await;
    let r = app.get("/openapi.json").await;
    assert_eq!(r.status, 200);
    let committed: Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    assert!(
        r.body == committed,
        "openapi/openapi.json is stale: regenerate it with `cargo run --quiet -- openapi > openapi/openapi.json`"
    );
    assert_eq!(r.body["openapi"], "3.1.0");
    let answers = &r.body["components"]["schemas"]["Answers"];
    assert_eq!(answers["additionalProperties"], false);
    assert_eq!(
        answers["properties"]["saddle_numbness"]["enum"],
        json!(["present", "absent", "unknown"])
    );
    assert_eq!(answers["required"], json!(["age_years", "sex"]));
}

#[tokio::test]
async fn docs_page_is_served_from_the_binary() {
    let app = spawn_app().await;
    let r = app.get("/docs/").await;
    assert_eq!(r.status, 200);
    assert!(
        r.text.contains("swagger-ui"),
        "{}",
        &r.text[..r.text.len().min(300)]
    );
    let init = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(init.status, 200);
    assert!(init.text.contains("/openapi.json"));
    assert!(
        init.text.contains("\"validatorUrl\": \"none\"") || init.text.contains("validatorUrl"),
        "{}",
        init.text
    );
    let css = app.get("/docs/swagger-ui.css").await;
    assert_eq!(css.status, 200);
}
