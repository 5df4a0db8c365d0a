use serde_json::json;

use crate::helpers::{screened, spawn_app};

#[tokio::test]
async fn contract_example_returns_a_real_assessment() {
    let app = spawn_app().await;
    let body = json!({
        "answers": {
            "age_years": 34, "sex": "male", "onset_days_ago": 1, "onset_type": "sudden",
            "pain_nrs_now": 7, "trigger_heavy_lifting": "present", "muscle_tender_or_knotted": "present",
            "saddle_numbness": "absent", "tried_ice": "helped", "sbt_1_leg_pain": "disagree"
        },
        "options": { "audience": "patient" }
    });
    let r = app.post_triage(&body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    assert!(r.headers.get("x-request-id").is_some());
    let b = &r.body;
    // Eleven required screens are unanswered: floored at consultation_24 by R25.
    assert_eq!(b["triage"]["level"], "consultation_24");
    assert_eq!(b["triage"]["decided_by"], json!(["R25"]));
    assert_eq!(b["completeness"]["complete"], false);
    assert_eq!(
        b["completeness"]["questions"][0]["code"],
        "sudden_unilateral_weakness_or_numbness"
    );
    assert!(b["knowledge_base"]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    // One item answered, eight unknown: the total could be 0..8, spanning every group.
    assert_eq!(b["startback"]["risk"], "indeterminate");
    assert_eq!(b["startback"]["total_range"], json!([0, 8]));
    assert_eq!(b["startback"]["missing_items"].as_array().unwrap().len(), 8);
    assert_eq!(b["phase"]["id"], "phase_acute_0_72h");
    assert!(uuid::Uuid::parse_str(b["assessment_id"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn fully_screened_spasm_is_self_care_with_explanations() {
    let app = spawn_app().await;
    let mut answers = serde_json::Map::new();
    for (k, v) in [
        ("age_years", json!(34)),
        ("sex", json!("male")),
        ("onset_days_ago", json!(1)),
        ("onset_type", json!("sudden")),
        ("trigger_heavy_lifting", json!("present")),
        ("muscle_tender_or_knotted", json!("present")),
    ] {
        answers.insert(k.to_owned(), v);
    }
    let r = app.post_triage(&screened(answers)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = &r.body;
    assert_eq!(b["triage"]["level"], "self_care");
    assert_eq!(b["triage"]["timeframe"], "none");
    assert_eq!(b["triage"]["decided_by"], json!([]));
    assert_eq!(b["triage"]["care_settings"], json!(["pharmacist"]));
    assert_eq!(b["completeness"]["complete"], true);
    assert_eq!(b["causes"][0]["cause"], "muscle_strain_or_spasm");
    assert!(b["causes"][0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["code"] == "trigger_heavy_lifting"));
    assert!(!b["advice"].as_array().unwrap().is_empty());
    assert!(b["red_flags"].as_array().unwrap().is_empty());
    // The emergency number placeholder is filled from configuration.
    assert!(!r.text.contains("{emergency_number}"));
}

#[tokio::test]
async fn same_request_gives_the_same_body_apart_from_the_id() {
    let app = spawn_app().await;
    let body = json!({"answers": {"age_years": 70, "sex": "female", "onset_type": "sudden", "osteoporosis_known": "present"}});
    let mut a = app.post_triage(&body).await.body;
    let mut b = app.post_triage(&body).await.body;
    assert_ne!(a["assessment_id"], b["assessment_id"]);
    a["assessment_id"] = json!(null);
    b["assessment_id"] = json!(null);
    assert_eq!(a, b);
}

#[tokio::test]
async fn clinician_audience_adds_clinician_text() {
    let app = spawn_app().await;
    let patient = app.post_triage(&json!({"answers": {"age_years": 52, "sex": "male", "urinary_retention_new": "present"}})).await;
    let clinician = app
        .post_triage(&json!({"answers": {"age_years": 52, "sex": "male", "urinary_retention_new": "present"}, "options": {"audience": "clinician"}}))
        .await;
    assert_eq!(patient.body["triage"]["level"], "emergency");
    let r01 = |b: &serde_json::Value| {
        b["red_flags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == "R01")
            .cloned()
            .unwrap()
    };
    assert!(r01(&patient.body).get("clinician_text").is_none());
    assert!(r01(&clinician.body)["clinician_text"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(
        r01(&patient.body)["triggered_by"],
        json!(["urinary_retention_new"])
    );
    assert_eq!(patient.body["advice"], json!([]));
    assert_eq!(patient.body["medications"], json!([]));
    assert_eq!(patient.body["causes"], json!([]));
}

#[tokio::test]
async fn integer_written_with_a_zero_fraction_is_accepted() {
    let app = spawn_app().await;
    let r = app
        .post_triage(&json!({"answers": {"age_years": 26.0, "sex": "male"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn request_id_is_echoed_when_safe_and_replaced_when_not() {
    let app = spawn_app().await;
    let ok = app
        .client
        .get(format!("{}/health", app.address))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.headers().get("x-request-id").unwrap(), "abc-123");
    let bad = app
        .client
        .get(format!("{}/health", app.address))
        .header("x-request-id", "has space")
        .send()
        .await
        .unwrap();
    assert_ne!(bad.headers().get("x-request-id").unwrap(), "has space");
}

/// Every text in an assessment says whether a clinician has signed it off.
#[tokio::test]
async fn every_text_carries_its_review_status() {
    let app = spawn_app().await;
    let mut answers = serde_json::Map::new();
    for (k, v) in [
        ("age_years", json!(34)),
        ("sex", json!("male")),
        ("onset_days_ago", json!(1)),
        ("pain_worse_straining", json!("present")),
        ("muscle_tender_or_knotted", json!("present")),
        ("trigger_heavy_lifting", json!("present")),
    ] {
        answers.insert(k.to_owned(), v);
    }
    // Some screens left out, so R25, questions and medicine questions all appear.
    answers.insert("saddle_numbness".into(), json!("absent"));
    let r = app.post_triage(&json!({ "answers": answers })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = &r.body;
    let statuses = ["draft", "reference", "approved"];
    let ok = |v: &serde_json::Value| v.as_str().is_some_and(|s| statuses.contains(&s));
    assert!(ok(&b["triage"]["action_review"]), "{}", b["triage"]);
    assert!(ok(&b["disclaimer_review"]));
    let mut seen = 0;
    for list in ["red_flags", "causes", "advice", "medications", "safety_net"] {
        let items = b[list].as_array().unwrap();
        assert!(!items.is_empty(), "{list} is empty in this fixture");
        for item in items {
            assert!(ok(&item["review"]), "{list}: {item}");
            seen += 1;
        }
    }
    for list in ["questions", "medicine_questions"] {
        let items = b["completeness"][list].as_array().unwrap();
        assert!(
            !items.is_empty(),
            "completeness.{list} is empty in this fixture"
        );
        for item in items {
            assert!(ok(&item["review"]), "{list}: {item}");
            seen += 1;
        }
    }
    assert!(seen > 20, "only {seen} texts checked");
}
