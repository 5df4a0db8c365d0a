//! The canonical resources behind what the FHIR outputs name: the knowledge-base Library
//! (`GuidanceResponse.moduleCanonical`) and a CodeSystem and ValueSet for every
//! `urn:spasm-triage:*` answer or level system the Questionnaire and GuidanceResponse use.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::fhir::{form, post_fhir, QUESTIONNAIRE, TRIAGE};
use crate::helpers::{embedded_kb, spawn_app};

fn answers(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// Every coding system a resource uses, anywhere in it.
fn systems(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let (Some(Value::String(system)), Some(_)) = (map.get("system"), map.get("code")) {
                found.insert(system.clone());
            }
            map.values().for_each(|v| systems(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| systems(v, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_module_canonical_names_a_library_that_is_served() {
    let app = spawn_app().await;
    let kb = embedded_kb();
    let answered = form(&app)
        .await
        .response(&answers(json!({"age_years": 40, "sex": "male"})));
    let r = post_fhir(&app, TRIAGE, &answered).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let module = r.body["moduleCanonical"].as_str().unwrap().to_owned();
    let (url, version) = module.split_once('|').unwrap();
    assert_eq!(version, kb.version);

    let found = app
        .get(&format!("/fhir/Library?url={url}&version={version}"))
        .await;
    assert_eq!(found.status, 200);
    assert_eq!(found.body["total"], 1);
    let library = &found.body["entry"][0]["resource"];
    assert_eq!(library["resourceType"], "Library");
    assert_eq!(library["url"], url);
    assert_eq!(library["version"], kb.version);
    assert_eq!(library["identifier"][0]["value"], kb.digest);
    assert_eq!(
        library["relatedArtifact"].as_array().unwrap().len(),
        kb.sources.len()
    );
    let read = app.get("/fhir/Library/knowledge-base").await;
    assert_eq!(&read.body, library);
    // Another version is not this one.
    let other = app.get(&format!("/fhir/Library?url={url}|1999.1.0")).await;
    assert_eq!(other.body["total"], 0);
}

#[tokio::test]
async fn every_system_the_outputs_use_has_a_code_system_with_its_codes() {
    let app = spawn_app().await;
    let questionnaire = app.get(QUESTIONNAIRE).await.body;
    let answered = form(&app).await.response(&answers(
        json!({"age_years": 40, "sex": "female", "pregnancy_status": "not_pregnant"}),
    ));
    let guidance = post_fhir(&app, TRIAGE, &answered).await.body;
    let mut used = BTreeSet::new();
    systems(&questionnaire, &mut used);
    systems(&guidance, &mut used);
    let ours: Vec<&String> = used
        .iter()
        .filter(|s| s.starts_with("urn:spasm-triage:") && *s != "urn:spasm-triage:problem")
        .collect();
    assert!(ours.len() > 10, "{ours:?}");

    let all = app.get("/fhir/CodeSystem").await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body["type"], "searchset");
    for system in ours {
        let r = app.get(&format!("/fhir/CodeSystem?url={system}")).await;
        assert_eq!(r.body["total"], 1, "no CodeSystem for {system}");
        let cs = &r.body["entry"][0]["resource"];
        assert_eq!(cs["content"], "complete");
        let codes: BTreeSet<&str> = cs["concept"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap())
            .collect();
        // Every code the Questionnaire offers in that system is a concept of it.
        let mut offered = BTreeSet::new();
        collect_codes(&questionnaire, system, &mut offered);
        for code in &offered {
            assert!(codes.contains(code.as_str()), "{system}: {code} missing");
        }
        for concept in cs["concept"].as_array().unwrap() {
            let review = concept["property"][0]["valueCode"].as_str().unwrap();
            assert!(
                matches!(review, "draft" | "reference" | "approved"),
                "{review}"
            );
        }
        // Its ValueSet is served under the id the CodeSystem names.
        let id = cs["id"].as_str().unwrap();
        let vs = app.get(&format!("/fhir/ValueSet/{id}")).await;
        assert_eq!(vs.status, 200, "{id}");
        assert_eq!(vs.body["url"], cs["valueSet"]);
        assert_eq!(vs.body["compose"]["include"][0]["system"], *system);
    }
}

fn collect_codes(value: &Value, system: &str, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if map.get("system").and_then(Value::as_str) == Some(system) {
                if let Some(code) = map.get("code").and_then(Value::as_str) {
                    found.insert(code.to_owned());
                }
            }
            map.values().for_each(|v| collect_codes(v, system, found));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_codes(v, system, found)),
        _ => {}
    }
}

#[tokio::test]
async fn unknown_ids_and_parameters_are_operation_outcomes() {
    let app = spawn_app().await;
    for path in [
        "/fhir/CodeSystem/no-such-system",
        "/fhir/ValueSet/no_such",
        "/fhir/Library/other",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.body["resourceType"], "OperationOutcome", "{path}");
        assert_eq!(
            r.body["issue"][0]["details"]["coding"][0]["code"],
            "not_found"
        );
    }
    let r = app.get("/fhir/CodeSystem?name=tri").await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body["issue"][0]["details"]["coding"][0]["code"],
        "invalid_option"
    );
    let r = app.get("/fhir/CodeSystem/tri?_format=xml").await;
    assert_eq!(r.status, 406);
    // The CapabilityStatement lists them.
    let c = app.get("/fhir/metadata").await.body;
    for kind in ["Library", "CodeSystem", "ValueSet"] {
        assert!(
            c["rest"][0]["resource"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["type"] == kind),
            "{kind}"
        );
    }
}
