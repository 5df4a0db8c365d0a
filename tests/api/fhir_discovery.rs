//! What an EHR meets first: the CapabilityStatement, the OperationDefinition, search by url,
//! the Parameters form of `$triage`, JSON-only negotiation, caching, narrative, and answers
//! the Questionnaire's own branching disables.

use serde_json::{json, Map, Value};

use crate::fhir::{form, level, post_fhir, QUESTIONNAIRE, TRIAGE};
use crate::helpers::{embedded_kb, spawn_app};

fn answers(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[tokio::test]
async fn the_server_describes_itself() {
    let app = spawn_app().await;
    let r = app.get("/fhir/metadata").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/fhir+json");
    let c = &r.body;
    assert_eq!(c["resourceType"], "CapabilityStatement");
    assert_eq!(c["fhirVersion"], "4.0.1");
    assert_eq!(c["version"], embedded_kb().version);
    assert!(c["text"]["div"]
        .as_str()
        .unwrap()
        .starts_with("<div xmlns=\"http://www.w3.org/1999/xhtml\">"));
    let resources = c["rest"][0]["resource"].as_array().unwrap();
    let qr = resources
        .iter()
        .find(|x| x["type"] == "QuestionnaireResponse")
        .unwrap();
    let definition = qr["operation"][0]["definition"].as_str().unwrap();
    // The canonical it names is served.
    let op = app
        .get("/fhir/OperationDefinition/QuestionnaireResponse-triage")
        .await;
    assert_eq!(op.status, 200);
    assert_eq!(op.body["url"], definition);
    assert_eq!(op.body["code"], "triage");
    assert_eq!(op.body["parameter"][0]["name"], "response");
}

#[tokio::test]
async fn questionnaires_are_found_by_canonical_url() {
    let app = spawn_app().await;
    let kb = embedded_kb();
    let url = "urn:spasm-triage:Questionnaire/back-pain-triage";
    for query in [
        format!("url={url}"),
        format!("url={url}%7C{}", kb.version),
        String::new(),
    ] {
        let r = app.get(&format!("/fhir/Questionnaire?{query}")).await;
        assert_eq!(r.status, 200, "{query}");
        assert_eq!(r.body["resourceType"], "Bundle");
        assert_eq!(r.body["type"], "searchset");
        assert_eq!(r.body["total"], 1, "{query}");
        assert_eq!(r.body["entry"][0]["resource"]["url"], url);
    }
    for query in [
        "url=urn:other",
        "url=urn:spasm-triage:Questionnaire/back-pain-triage%7C1999.1.0",
    ] {
        let r = app.get(&format!("/fhir/Questionnaire?{query}")).await;
        assert_eq!(r.body["total"], 0, "{query}");
    }
    let r = app.get("/fhir/Questionnaire?title=x").await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["resourceType"], "OperationOutcome");
}

#[tokio::test]
async fn triage_takes_a_parameters_body_like_any_fhir_operation() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let qr = form.response(&answers(&[
        ("age_years", json!(40)),
        ("sex", json!("male")),
        ("saddle_numbness", json!("present")),
    ]));
    let bare = post_fhir(&app, TRIAGE, &qr).await;
    let wrapped = post_fhir(
        &app,
        TRIAGE,
        &json!({ "resourceType": "Parameters", "parameter": [{ "name": "response", "resource": qr }] }),
    )
    .await;
    assert_eq!(wrapped.status, 200);
    assert_eq!(wrapped.body["resourceType"], "GuidanceResponse");
    assert_eq!(level(&wrapped.body), level(&bare.body));
    let empty = post_fhir(
        &app,
        TRIAGE,
        &json!({ "resourceType": "Parameters", "parameter": [] }),
    )
    .await;
    assert_eq!(empty.status, 422);
    assert_eq!(
        empty.body["issue"][0]["details"]["coding"][0]["code"],
        "invalid_request_shape"
    );
}

#[tokio::test]
async fn xml_is_refused_with_406_and_json_is_cached_by_etag() {
    let app = spawn_app().await;
    let xml = app
        .client
        .get(format!("{}{QUESTIONNAIRE}", app.address))
        .header("accept", "application/fhir+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(xml.status(), 406);
    let r = app.get(&format!("{QUESTIONNAIRE}?_format=xml")).await;
    assert_eq!(r.status, 406);
    assert_eq!(
        r.body["issue"][0]["details"]["coding"][0]["code"],
        "not_acceptable"
    );

    let first = app.get(QUESTIONNAIRE).await;
    assert_eq!(first.status, 200);
    assert!(first.body["text"]["div"]
        .as_str()
        .unwrap()
        .contains("questions"));
    let tag = first.headers["etag"].to_str().unwrap().to_owned();
    assert!(tag.starts_with("W/\""), "{tag}");
    let again = app
        .client
        .get(format!("{}{QUESTIONNAIRE}", app.address))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let other = app
        .client
        .get(format!("{}{QUESTIONNAIRE}", app.address))
        .header("if-none-match", "W/\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn an_answer_its_branching_disables_is_used_and_flagged() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let male_pregnant = form.response(&answers(&[
        ("age_years", json!(30)),
        ("sex", json!("male")),
        ("pregnancy_status", json!("pregnant")),
    ]));
    let g = post_fhir(&app, TRIAGE, &male_pregnant).await.body;
    let warnings = g["contained"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "disabled-answers")
        .unwrap_or_else(|| panic!("no warning in {g}"));
    assert!(warnings["issue"][0]["details"]["text"]
        .as_str()
        .unwrap()
        .contains("pregnancy_status"));
    assert!(g["evaluationMessage"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["reference"] == "#disabled-answers"));
    // A woman answering it is not flagged; nor a man saying it does not apply.
    for sex_and_answer in [("female", "pregnant"), ("male", "not_applicable")] {
        let qr = form.response(&answers(&[
            ("age_years", json!(30)),
            ("sex", json!(sex_and_answer.0)),
            ("pregnancy_status", json!(sex_and_answer.1)),
        ]));
        let g = post_fhir(&app, TRIAGE, &qr).await.body;
        assert!(
            !g["contained"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["id"] == "disabled-answers"),
            "{sex_and_answer:?}"
        );
    }
}

#[tokio::test]
async fn outputs_use_only_simple_fhirpath() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let g = post_fhir(
        &app,
        TRIAGE,
        &form.response(&answers(&[
            ("age_years", json!(40)),
            ("sex", json!("male")),
        ])),
    )
    .await
    .body;
    for d in g["dataRequirement"].as_array().unwrap() {
        for path in d["mustSupport"].as_array().unwrap() {
            let p = path.as_str().unwrap();
            assert!(
                p.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'),
                "{p}"
            );
        }
    }
    let no_age = form.response(&answers(&[("sex", json!("male"))]));
    let o = post_fhir(&app, TRIAGE, &no_age).await.body;
    for issue in o["issue"].as_array().unwrap() {
        for e in issue["expression"].as_array().into_iter().flatten() {
            let e = e.as_str().unwrap();
            assert!(
                e.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._[]".contains(c)),
                "{e}"
            );
        }
    }
}
