//! CDS Hooks 2.0: discovery, cards from prefetched QuestionnaireResponses, 412, feedback.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use spasm_triage::configuration::ApiKey;

use crate::fhir::{form, golden_cases, strings, Form};
use crate::helpers::{
    captured_logs, embedded_kb, spawn_app, spawn_app_with, test_settings, TestApp,
};

const SERVICE: &str = "/cds-services/back-pain-triage";

fn call(prefetch: Option<Value>) -> Value {
    let mut body = json!({
        "hook": "patient-view",
        "hookInstance": uuid::Uuid::new_v4().to_string(),
        "fhirServer": "https://ehr.example.org/fhir",
        "context": {"userId": "Practitioner/dr-1", "patientId": "pt-7c1q"}
    });
    if let Some(p) = prefetch {
        body["prefetch"] = p;
    }
    body
}

fn qr_for(form: &Form, answers: &Value, authored: &str) -> Value {
    let mut qr = form.response(answers.as_object().unwrap());
    qr["subject"] = json!({"reference": "Patient/pt-7c1q"});
    qr["authored"] = json!(authored);
    qr
}

async fn post(app: &TestApp, path: &str, body: &Value) -> crate::helpers::Reply {
    app.post_raw(
        path,
        Some("application/json"),
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

#[tokio::test]
async fn discovery_describes_the_patient_view_service() {
    let app = spawn_app().await;
    let r = app.get("/cds-services").await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let services = r.body["services"].as_array().unwrap();
    assert_eq!(services.len(), 1);
    let s = &services[0];
    assert_eq!(s["id"], "back-pain-triage");
    assert_eq!(s["hook"], "patient-view");
    assert!(!s["title"].as_str().unwrap().is_empty());
    assert!(!s["description"].as_str().unwrap().is_empty());
    let prefetch = s["prefetch"]["questionnaireResponse"].as_str().unwrap();
    assert!(prefetch.starts_with("QuestionnaireResponse?"));
    assert!(prefetch.contains("{{context.patientId}}"));
    assert!(prefetch.contains("questionnaire=urn:spasm-triage:Questionnaire/back-pain-triage"));
    assert!(prefetch.contains("_sort=-authored"));
    let usage = s["usageRequirements"].as_str().unwrap();
    assert!(usage.contains("questionnaireResponse") && usage.contains("412"));
}

fn check_card(card: &Value, level: &str, kb_version: &str) {
    let uuid = uuid::Uuid::parse_str(card["uuid"].as_str().unwrap()).unwrap();
    assert_eq!(uuid.get_version_num(), 4);
    let summary = card["summary"].as_str().unwrap();
    assert!(
        !summary.is_empty() && summary.chars().count() < 140,
        "{summary}"
    );
    let indicator = match level {
        "emergency_ambulance" | "emergency" => "critical",
        "consultation_24" => "warning",
        _ => "info",
    };
    assert_eq!(card["indicator"], indicator, "{level}");
    let label = card["source"]["label"].as_str().unwrap();
    assert!(label.contains(kb_version), "{label}");
    assert!(card["detail"]
        .as_str()
        .unwrap()
        .contains(&format!("`{level}`")));
    for reason in card["overrideReasons"].as_array().unwrap() {
        assert!(!reason["display"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn every_golden_vignette_gives_a_card_with_the_required_fields() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let kb = embedded_kb();
    let mut indicators = std::collections::BTreeSet::new();
    for (name, request) in golden_cases() {
        let json_api = app
            .post_triage(
                &json!({"answers": request["answers"], "options": {"audience": "clinician"}}),
            )
            .await;
        let level = json_api.body["triage"]["level"]
            .as_str()
            .unwrap()
            .to_owned();
        let qr = qr_for(&form, &request["answers"], "2026-01-15T09:00:00Z");
        let r = post(
            &app,
            SERVICE,
            &call(Some(json!({"questionnaireResponse": qr}))),
        )
        .await;
        assert_eq!(r.status, 200, "{name}: {}", r.text);
        assert_eq!(r.headers["cache-control"], "no-store");
        let cards = r.body["cards"].as_array().unwrap();
        assert_eq!(cards.len(), 1, "{name}");
        check_card(&cards[0], &level, &kb.version);
        // A referral to act on exactly where something must happen today.
        let urgent = matches!(
            level.as_str(),
            "emergency_ambulance" | "emergency" | "consultation_24"
        );
        assert_eq!(cards[0].get("suggestions").is_some(), urgent, "{name}");
        if urgent {
            assert_eq!(
                cards[0]["suggestions"][0]["actions"][0]["resource"]["code"]["coding"][0]["code"],
                level.as_str(),
                "{name}"
            );
        }
        indicators.insert(cards[0]["indicator"].as_str().unwrap().to_owned());
        let detail = cards[0]["detail"].as_str().unwrap();
        for flag in json_api.body["red_flags"].as_array().unwrap() {
            let id = flag["rule_id"].as_str().unwrap();
            assert!(
                detail.contains(&format!("**{id}**")),
                "{name}: {id} not in detail"
            );
            for code in strings(&flag["triggered_by"]) {
                assert!(
                    detail.contains(&format!("`{code}`")),
                    "{name}: {code} not in detail"
                );
            }
        }
        for code in strings(&json_api.body["completeness"]["missing_screens"]) {
            assert!(
                detail.contains(&format!("`{code}`")),
                "{name}: screen {code} not in detail"
            );
        }
    }
    assert_eq!(
        indicators.into_iter().collect::<Vec<_>>(),
        ["critical", "info", "warning"]
    );
}

#[tokio::test]
async fn a_searchset_bundle_gives_the_newest_usable_response() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let screened = |extra: Value| {
        let mut answers = crate::helpers::screened(serde_json::Map::new())["answers"].clone();
        answers["age_years"] = json!(40);
        answers["sex"] = json!("male");
        for (k, v) in extra.as_object().unwrap() {
            answers[k] = v.clone();
        }
        answers
    };
    let old_emergency = qr_for(
        &form,
        &screened(json!({"saddle_numbness": "present"})),
        "2026-01-10T09:00:00Z",
    );
    let newest_self_care = qr_for(&form, &screened(json!({})), "2026-01-15T09:00:00+01:00");
    let mut newer_in_error = qr_for(
        &form,
        &screened(json!({"chest_pain": "present"})),
        "2026-01-16T09:00:00Z",
    );
    newer_in_error["status"] = json!("entered-in-error");
    let mut other_patient = qr_for(
        &form,
        &screened(json!({"chest_pain": "present"})),
        "2026-01-17T09:00:00Z",
    );
    other_patient["subject"] = json!({"reference": "Patient/p-2"});
    let bundle = json!({"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": old_emergency}, {"resource": newer_in_error},
        {"resource": newest_self_care}, {"resource": other_patient},
        {"resource": {"resourceType": "OperationOutcome", "issue": []}}
    ]});
    let r = post(
        &app,
        SERVICE,
        &call(Some(json!({"questionnaireResponse": bundle}))),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["cards"][0]["indicator"], "info");
    assert!(r.body["cards"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("`self_care`"));

    // A usable response without `authored` cannot be ordered: the most urgent candidate is
    // carded, so a red flag in it is never skipped.
    let dated_self_care = qr_for(&form, &screened(json!({})), "2026-01-15T09:00:00Z");
    let mut undated_emergency = qr_for(
        &form,
        &screened(json!({"saddle_numbness": "present"})),
        "2026-01-01T00:00:00Z",
    );
    undated_emergency
        .as_object_mut()
        .unwrap()
        .remove("authored");
    let bundle = json!({"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": dated_self_care}, {"resource": undated_emergency}
    ]});
    let r = post(
        &app,
        SERVICE,
        &call(Some(json!({"questionnaireResponse": bundle}))),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["cards"][0]["indicator"], "critical", "{}", r.text);
}

#[tokio::test]
async fn without_the_prefetch_the_service_answers_412() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let some_qr = qr_for(
        &form,
        &json!({"age_years": 40, "sex": "male"}),
        "2026-01-15T09:00:00Z",
    );
    let mut for_someone_else = some_qr.clone();
    for_someone_else["subject"] = json!({"reference": "Patient/p-2"});
    for prefetch in [
        None,
        Some(json!({})),
        Some(json!({"questionnaireResponse": null})),
        Some(json!({"patient": {"resourceType": "Patient", "id": "pt-7c1q"}})),
        Some(
            json!({"questionnaireResponse": {"resourceType": "Bundle", "type": "searchset", "total": 0}}),
        ),
        Some(
            json!({"questionnaireResponse": {"resourceType": "Bundle", "type": "searchset", "entry": []}}),
        ),
        Some(json!({"questionnaireResponse": for_someone_else})),
        // The EHR could not run the query and says so (CDS Hooks 2.0 prefetch).
        Some(
            json!({"questionnaireResponse": {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "exception"}]}}),
        ),
    ] {
        let r = post(&app, SERVICE, &call(prefetch.clone())).await;
        assert_eq!(r.status, 412, "{prefetch:?}: {}", r.text);
        assert_eq!(r.headers["content-type"], "application/problem+json");
        assert_eq!(r.body["code"], "prefetch_missing");
        assert_eq!(r.body["type"], "urn:spasm-triage:problem:prefetch_missing");
        assert_eq!(r.body["status"], 412);
    }
    let ok = post(
        &app,
        SERVICE,
        &call(Some(json!({"questionnaireResponse": some_qr}))),
    )
    .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn bad_calls_get_problems() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let good = call(Some(json!({"questionnaireResponse":
        qr_for(&form, &json!({"age_years": 40, "sex": "male"}), "2026-01-15T09:00:00Z")})));
    let r = post(&app, "/cds-services/unknown-service", &good).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (404, Some("not_found"))
    );
    let r = post(
        &app,
        "/cds-services/unknown-service/feedback",
        &json!({"feedback": []}),
    )
    .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (404, Some("not_found"))
    );
    let r = app
        .post_raw(SERVICE, Some("application/json"), b"{\"hook\":".to_vec())
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let r = app
        .post_raw(SERVICE, Some("text/plain"), b"{}".to_vec())
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let r = app.get(SERVICE).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
    assert_eq!(r.headers["allow"], "POST");

    let mut wrong_hook = good.clone();
    wrong_hook["hook"] = json!("order-sign");
    let mut no_instance = good.clone();
    no_instance.as_object_mut().unwrap().remove("hookInstance");
    let mut no_patient = good.clone();
    no_patient["context"] = json!({"userId": "Practitioner/dr-1"});
    let mut not_qr = good.clone();
    not_qr["prefetch"]["questionnaireResponse"] =
        json!({"resourceType": "Patient", "id": "pt-7c1q"});
    let mut unknown = good.clone();
    unknown["prefetch"]["questionnaireResponse"]["item"][0]["item"]
        .as_array_mut()
        .unwrap()
        .push(json!({"linkId": "saddle_numbnes", "answer": [{"valueCoding": {"code": "absent"}}]}));
    let mut in_bundle = good.clone();
    in_bundle["prefetch"]["questionnaireResponse"] = json!({"resourceType": "Bundle", "type": "searchset",
        "entry": [{"resource": unknown["prefetch"]["questionnaireResponse"].clone()}]});
    let mut instance_not_uuid = good.clone();
    instance_not_uuid["hookInstance"] = json!("call-17");
    let mut encounter_not_string = good.clone();
    encounter_not_string["context"]["encounterId"] = json!(17);
    let mut entry_not_object = good.clone();
    entry_not_object["prefetch"]["questionnaireResponse"] =
        json!({"resourceType": "Bundle", "type": "searchset", "entry": [7]});
    let mut resource_not_object = good.clone();
    resource_not_object["prefetch"]["questionnaireResponse"] =
        json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": "x"}]});
    let mut bundle_type_not_string = good.clone();
    bundle_type_not_string["prefetch"]["questionnaireResponse"] =
        json!({"resourceType": "Bundle", "type": 1, "entry": []});
    let mut subject_reference_not_string = good.clone();
    subject_reference_not_string["prefetch"]["questionnaireResponse"]["subject"] =
        json!({"reference": 5});
    for (what, body, code, path) in [
        ("wrong hook", wrong_hook, "invalid_request_shape", "/hook"),
        (
            "no hookInstance",
            no_instance,
            "invalid_request_shape",
            "/hookInstance",
        ),
        (
            "no patientId",
            no_patient,
            "invalid_request_shape",
            "/context/patientId",
        ),
        (
            "prefetch not a QuestionnaireResponse",
            not_qr,
            "invalid_request_shape",
            "/prefetch/questionnaireResponse/resourceType",
        ),
        (
            "unknown linkId",
            unknown,
            "unknown_answer_code",
            "/prefetch/questionnaireResponse/item/0/item/2",
        ),
        (
            "unknown linkId in a bundle",
            in_bundle,
            "unknown_answer_code",
            "/prefetch/questionnaireResponse/entry/0/resource/item/0/item/2",
        ),
        (
            "hookInstance not a UUID",
            instance_not_uuid,
            "invalid_request_shape",
            "/hookInstance",
        ),
        (
            "encounterId not a string",
            encounter_not_string,
            "invalid_request_shape",
            "/context/encounterId",
        ),
        (
            "bundle entry not an object",
            entry_not_object,
            "invalid_request_shape",
            "/prefetch/questionnaireResponse/entry/0",
        ),
        (
            "bundle resource not an object",
            resource_not_object,
            "invalid_request_shape",
            "/prefetch/questionnaireResponse/entry/0/resource",
        ),
        (
            "bundle type not a string",
            bundle_type_not_string,
            "invalid_request_shape",
            "/prefetch/questionnaireResponse/type",
        ),
        (
            "subject.reference not a string",
            subject_reference_not_string,
            "invalid_request_shape",
            "/prefetch/questionnaireResponse/subject/reference",
        ),
    ] {
        let r = post(&app, SERVICE, &body).await;
        assert_eq!(r.status, 422, "{what}: {}", r.text);
        assert_eq!(r.headers["content-type"], "application/problem+json");
        assert_eq!(r.body["code"], code, "{what}");
        assert_eq!(r.body["errors"][0]["path"], path, "{what}");
    }
}

#[tokio::test]
async fn a_key_repeated_anywhere_in_a_call_is_refused() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let good = call(Some(json!({"questionnaireResponse":
        qr_for(&form, &json!({"age_years": 40, "sex": "male", "saddle_numbness": "present"}), "2026-01-15T09:00:00Z")})));
    let text = serde_json::to_string(&good).unwrap();
    let r = post(&app, SERVICE, &good).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let repeated = text.replacen(
        r#"{"code":"present""#,
        r#"{"code":"absent","code":"present""#,
        1,
    );
    assert_ne!(repeated, text);
    let r = app
        .post_raw(SERVICE, Some("application/json"), repeated.into_bytes())
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["code"], "invalid_request_shape");
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("`code` appears more than once"));
    let feedback = format!(
        r#"{{"feedback": [{{"card": "{}", "outcome": "accepted", "outcome": "overridden", "outcomeTimestamp": "2026-01-15T09:40:00Z"}}]}}"#,
        uuid::Uuid::new_v4()
    );
    let r = app
        .post_raw(
            &format!("{SERVICE}/feedback"),
            Some("application/json"),
            feedback.into_bytes(),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
}

#[tokio::test]
async fn the_bearer_jwt_is_not_an_api_key() {
    const KEY: &str = "cds-test-key-91a2";
    let mut settings = test_settings();
    settings.auth.enabled = true;
    settings.auth.keys = vec![ApiKey {
        client: "ehr-cds".into(),
        sha256: hex::encode(Sha256::digest(KEY.as_bytes())),
    }];
    let app = spawn_app_with(settings).await;
    let url = format!("{}/cds-services", app.address);
    // The key itself sent as a bearer token is not accepted here: the bearer is the EHR's JWT.
    let bearer_only = app.client.get(&url).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(bearer_only.status(), 401);
    let with_jwt_and_key = app
        .client
        .get(&url)
        .bearer_auth("eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCJ9.e30.sig")
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(with_jwt_and_key.status(), 200);
}

/// A card the service issued for `answers` (feedback is accepted only for those).
async fn card_for(app: &TestApp, answers: &Value) -> Value {
    let form = form(app).await;
    let qr = qr_for(&form, answers, "2026-01-15T09:00:00Z");
    let r = post(
        app,
        SERVICE,
        &call(Some(json!({"questionnaireResponse": qr}))),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["cards"][0].clone()
}

/// The uuid of an issued card: age and sex only, so `consultation_24` (screens unanswered)
/// and a referral suggestion.
async fn issued_card(app: &TestApp) -> String {
    let card = card_for(app, &json!({"age_years": 40, "sex": "male"})).await;
    card["uuid"].as_str().unwrap().to_owned()
}

/// The uuid of an issued `self_care` card (no suggestion): vignette 01's answers.
async fn benign_card(app: &TestApp) -> String {
    let (_, request) = golden_cases()
        .into_iter()
        .find(|(name, _)| name.starts_with("01_"))
        .unwrap();
    let card = card_for(app, &request["answers"]).await;
    assert_eq!(card["indicator"], "info", "{card}");
    assert!(card.get("suggestions").is_none(), "{card}");
    card["uuid"].as_str().unwrap().to_owned()
}

fn feedback_entry(card: &str) -> Value {
    json!({"card": card, "outcome": "overridden",
           "overrideReason": {"reason": {"system": "urn:spasm-triage:cds-override-reason", "code": "already-assessed"}},
           "outcomeTimestamp": "2026-01-15T09:40:00Z"})
}

#[tokio::test]
async fn feedback_for_a_card_never_issued_is_refused_and_not_audited() {
    let app = spawn_app().await;
    let forged: Vec<String> = (0..50).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let body =
        json!({"feedback": forged.iter().take(20).map(|c| feedback_entry(c)).collect::<Vec<_>>()});
    let r = post(&app, &format!("{SERVICE}/feedback"), &body).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["code"], "unknown_card");
    assert_eq!(r.body["errors"][0]["path"], "/feedback/0/card");
    // One issued card does not carry forged ones along.
    let card = issued_card(&app).await;
    let body = json!({"feedback": [feedback_entry(&card), feedback_entry(&forged[20])]});
    let r = post(&app, &format!("{SERVICE}/feedback"), &body).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["errors"][0]["path"], "/feedback/1/card");
    // A card uuid with one character changed is not one we issued.
    let last = if card.ends_with('0') { '1' } else { '0' };
    let altered = format!("{}{last}", &card[..card.len() - 1]);
    let r = post(
        &app,
        &format!("{SERVICE}/feedback"),
        &json!({"feedback": [feedback_entry(&altered)]}),
    )
    .await;
    assert_eq!(r.body["code"], "unknown_card", "{}", r.text);
    // Another deployment's key (each test server draws its own) does not verify ours.
    let other = spawn_app().await;
    let r = post(
        &other,
        &format!("{SERVICE}/feedback"),
        &json!({"feedback": [feedback_entry(&card)]}),
    )
    .await;
    assert_eq!(r.body["code"], "unknown_card", "{}", r.text);
    // At most 20 entries per request, even for issued cards.
    let many: Vec<Value> = (0..21).map(|_| feedback_entry(&card)).collect();
    let r = post(
        &app,
        &format!("{SERVICE}/feedback"),
        &json!({"feedback": many}),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["code"], "invalid_request_shape");
    assert!(r.body["detail"].as_str().unwrap().contains("at most 20"));
    let logs = captured_logs();
    for f in &forged {
        assert!(
            !logs.contains(f.as_str()),
            "a forged card reached the audit trail"
        );
    }
    let ok = post(
        &app,
        &format!("{SERVICE}/feedback"),
        &json!({"feedback": [feedback_entry(&card)]}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}

#[tokio::test]
async fn feedback_is_acknowledged_and_audited_without_free_text() {
    let app = spawn_app().await;
    let card = issued_card(&app).await;
    let accepted = benign_card(&app).await;
    let body = json!({"feedback": [
        {"card": card, "outcome": "overridden",
         "overrideReason": {"reason": {"system": "urn:spasm-triage:cds-override-reason", "code": "already-assessed"},
                            "userComment": "COMMENT-zq81 patient seen by Dr X"},
         "outcomeTimestamp": "2026-01-15T09:40:00Z"},
        {"card": accepted, "outcome": "accepted", "acceptedSuggestions": [],
         "outcomeTimestamp": "2026-01-15T09:41:00Z"}
    ]});
    let r = post(&app, &format!("{SERVICE}/feedback"), &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["received"], 2);
    let logs = captured_logs();
    let line = logs
        .lines()
        .find(|l| l.contains(&card) && l.contains("\"event\":\"cds_feedback\""))
        .expect("an audit event for the feedback");
    let event: Value = serde_json::from_str(line).unwrap();
    assert_eq!(event["fields"]["event"], "cds_feedback");
    assert_eq!(event["fields"]["card"], card.as_str());
    assert_eq!(event["fields"]["outcome"], "overridden");
    assert_eq!(event["fields"]["override_reason"], "already-assessed");
    assert!(logs
        .lines()
        .any(|l| l.contains(&accepted) && l.contains("\"outcome\":\"accepted\"")));
    assert!(
        !logs.contains("COMMENT-zq81"),
        "the user comment reached the logs"
    );

    for (what, bad, path) in [
        ("no feedback array", json!({"card": card}), "/feedback"),
        (
            "card not a uuid",
            json!({"feedback": [{"card": "nope", "outcome": "accepted", "outcomeTimestamp": "2026-01-15T09:40:00Z"}]}),
            "/feedback/0/card",
        ),
        (
            "bad outcome",
            json!({"feedback": [{"card": card, "outcome": "ignored", "outcomeTimestamp": "2026-01-15T09:40:00Z"}]}),
            "/feedback/0/outcome",
        ),
        (
            "no timestamp",
            json!({"feedback": [{"card": card, "outcome": "accepted"}]}),
            "/feedback/0/outcomeTimestamp",
        ),
        (
            "card in the 32-digit form",
            json!({"feedback": [{"card": card.replace('-', ""), "outcome": "accepted", "outcomeTimestamp": "2026-01-15T09:40:00Z"}]}),
            "/feedback/0/card",
        ),
        (
            "timestamp without a time",
            json!({"feedback": [{"card": card, "outcome": "accepted", "outcomeTimestamp": "2026-01-15"}]}),
            "/feedback/0/outcomeTimestamp",
        ),
        (
            "timestamp on a day that does not exist",
            json!({"feedback": [{"card": card, "outcome": "accepted", "outcomeTimestamp": "2026-02-29T09:40:00Z"}]}),
            "/feedback/0/outcomeTimestamp",
        ),
        (
            "timestamp without a time zone",
            json!({"feedback": [{"card": card, "outcome": "accepted", "outcomeTimestamp": "2026-01-15T09:40:00"}]}),
            "/feedback/0/outcomeTimestamp",
        ),
        (
            "timestamp not in UTC",
            json!({"feedback": [{"card": card, "outcome": "accepted", "outcomeTimestamp": "2026-01-15T09:40:00+01:00"}]}),
            "/feedback/0/outcomeTimestamp",
        ),
        (
            "reason without a code",
            json!({"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-01-15T09:40:00Z",
            "overrideReason": {"reason": {"system": "urn:x"}}}]}),
            "/feedback/0/overrideReason/reason/code",
        ),
        (
            "reason system not a string",
            json!({"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-01-15T09:40:00Z",
            "overrideReason": {"reason": {"system": 7, "code": "x"}}}]}),
            "/feedback/0/overrideReason/reason/system",
        ),
        (
            "reason not a Coding",
            json!({"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-01-15T09:40:00Z",
            "overrideReason": {"reason": "already-assessed"}}]}),
            "/feedback/0/overrideReason/reason",
        ),
        (
            "comment not a string",
            json!({"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-01-15T09:40:00Z",
            "overrideReason": {"userComment": 12}}]}),
            "/feedback/0/overrideReason/userComment",
        ),
        (
            "suggestions not an array",
            json!({"feedback": [{"card": card, "outcome": "accepted", "outcomeTimestamp": "2026-01-15T09:40:00Z",
            "acceptedSuggestions": {}}]}),
            "/feedback/0/acceptedSuggestions",
        ),
    ] {
        let r = post(&app, &format!("{SERVICE}/feedback"), &bad).await;
        assert_eq!(r.status, 422, "{what}: {}", r.text);
        assert_eq!(r.body["code"], "invalid_request_shape", "{what}");
        assert_eq!(r.body["errors"][0]["path"], path, "{what}");
    }
}

#[tokio::test]
async fn feedback_takes_nulls_as_absent_and_logs_free_text_codes_as_other() {
    let app = spawn_app().await;
    let card = issued_card(&app).await;
    let second = benign_card(&app).await;
    let body = json!({"feedback": [
        {"card": card, "outcome": "overridden", "acceptedSuggestions": null,
         "overrideReason": {"reason": {"system": null, "code": "FREE-patient said it is fine"}, "userComment": null},
         "outcomeTimestamp": "2026-01-15t09:40:00.5+00:00"},
        {"card": second, "outcome": "accepted", "overrideReason": {"reason": null},
         "outcomeTimestamp": "2028-02-29T23:59:60Z"}
    ]});
    let r = post(&app, &format!("{SERVICE}/feedback"), &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["received"], 2);
    let logs = captured_logs();
    let line = logs
        .lines()
        .find(|l| l.contains(&card) && l.contains("\"event\":\"cds_feedback\""))
        .expect("an audit event for the feedback");
    let event: Value = serde_json::from_str(line).unwrap();
    assert_eq!(event["fields"]["override_reason"], "other");
    assert!(
        !logs.contains("FREE-patient"),
        "a free-text code reached the logs"
    );
}

#[tokio::test]
async fn the_card_call_is_audited_and_answer_values_stay_out_of_the_logs() {
    let app = spawn_app().await;
    let form = form(&app).await;
    // Distinctive values: an age and a weight nobody else sends.
    let qr = qr_for(
        &form,
        &json!({"age_years": 87, "sex": "female", "weight_kg": 61.37}),
        "2026-01-15T09:00:00Z",
    );
    let body = call(Some(json!({"questionnaireResponse": qr})));
    let instance = body["hookInstance"].as_str().unwrap().to_owned();
    let r = post(&app, SERVICE, &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let card = r.body["cards"][0]["uuid"].as_str().unwrap().to_owned();
    let logs = captured_logs();
    let line = logs
        .lines()
        .find(|l| l.contains(&card) && l.contains("\"cds_card\""))
        .expect("an audit event for the card");
    assert!(line.contains(&instance));
    assert!(line.contains("\"target\":\"audit\""));
    assert!(!logs.contains("61.37"));
    assert!(!logs.contains("pt-7c1q"), "the patient id reached the logs");
}

#[tokio::test]
async fn urgent_cards_suggest_a_referral_and_accepting_one_names_it() {
    let app = spawn_app().await;
    let saddle = json!({"age_years": 34, "sex": "male", "saddle_numbness": "present"});
    let mut form_qr = qr_for(&form(&app).await, &saddle, "2026-01-15T09:00:00Z");
    form_qr["id"] = json!("qr-1042");
    let mut body = call(Some(json!({"questionnaireResponse": form_qr})));
    body["context"]["encounterId"] = json!("enc-9");
    let r = post(&app, SERVICE, &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let card = &r.body["cards"][0];
    assert_eq!(card["indicator"], "critical");
    assert_eq!(card["selectionBehavior"], "at-most-one");
    let suggestion = &card["suggestions"][0];
    assert_eq!(suggestion["isRecommended"], true);
    let action = &suggestion["actions"][0];
    assert_eq!(action["type"], "create");
    let request = &action["resource"];
    assert_eq!(request["resourceType"], "ServiceRequest");
    assert_eq!(request["status"], "draft");
    assert_eq!(request["intent"], "proposal");
    assert_eq!(request["priority"], "stat");
    assert_eq!(
        request["code"]["coding"][0]["system"],
        "urn:spasm-triage:triage-level"
    );
    assert_eq!(request["code"]["coding"][0]["code"], "emergency");
    assert_eq!(request["subject"]["reference"], "Patient/pt-7c1q");
    assert_eq!(request["encounter"]["reference"], "Encounter/enc-9");
    assert_eq!(
        request["supportingInfo"][0]["reference"],
        "QuestionnaireResponse/qr-1042"
    );
    assert!(request["reasonCode"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("R01: "));
    let authored = request["authoredOn"].as_str().unwrap();
    assert!(spasm_triage::cds::is_utc_date_time(authored), "{authored}");
    assert_eq!(request["occurrenceDateTime"], authored);
    assert_eq!(request["text"]["status"], "generated");

    // consultation_24: urgent, within the next 24 hours.
    let urgent = card_for(&app, &json!({"age_years": 40, "sex": "male"})).await;
    assert_eq!(urgent["indicator"], "warning");
    let request = &urgent["suggestions"][0]["actions"][0]["resource"];
    assert_eq!(request["priority"], "urgent");
    let period = &request["occurrencePeriod"];
    let start = spasm_triage::cds::instant(period["start"].as_str().unwrap()).unwrap();
    let end = spasm_triage::cds::instant(period["end"].as_str().unwrap()).unwrap();
    assert_eq!(end - start, 86_400);
    assert!(
        request.get("supportingInfo").is_none(),
        "the response had no id"
    );

    // Accepting the card must name its suggestion, and only its own.
    let card_id = card["uuid"].as_str().unwrap();
    let suggestion_id = suggestion["uuid"].as_str().unwrap();
    let other_suggestion = urgent["suggestions"][0]["uuid"].as_str().unwrap();
    let entry = |suggestions: Value| {
        json!({"feedback": [{"card": card_id, "outcome": "accepted",
                             "acceptedSuggestions": suggestions, "outcomeTimestamp": "2026-01-15T09:40:00Z"}]})
    };
    let feedback = format!("{SERVICE}/feedback");
    for (what, suggestions, code, path) in [
        (
            "left out",
            Value::Null,
            "invalid_request_shape",
            "/feedback/0/acceptedSuggestions",
        ),
        (
            "empty",
            json!([]),
            "invalid_request_shape",
            "/feedback/0/acceptedSuggestions",
        ),
        (
            "without an id",
            json!([{}]),
            "invalid_request_shape",
            "/feedback/0/acceptedSuggestions/0/id",
        ),
        (
            "another card's suggestion",
            json!([{"id": other_suggestion}]),
            "unknown_suggestion",
            "/feedback/0/acceptedSuggestions/0/id",
        ),
        (
            "made up",
            json!([{"id": uuid::Uuid::new_v4().to_string()}]),
            "unknown_suggestion",
            "/feedback/0/acceptedSuggestions/0/id",
        ),
        (
            "the card's own uuid",
            json!([{"id": card_id}]),
            "unknown_suggestion",
            "/feedback/0/acceptedSuggestions/0/id",
        ),
    ] {
        let r = post(&app, &feedback, &entry(suggestions)).await;
        assert_eq!(r.status, 422, "{what}: {}", r.text);
        assert_eq!(r.body["code"], code, "{what}");
        assert_eq!(r.body["errors"][0]["path"], path, "{what}");
    }
    let r = post(&app, &feedback, &entry(json!([{"id": suggestion_id}]))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(captured_logs()
        .lines()
        .any(|l| l.contains(card_id) && l.contains("\"accepted_suggestions\":1")));

    // A card without suggestions has none to accept; an override accepts none.
    let benign = benign_card(&app).await;
    let r = post(
        &app,
        &feedback,
        &json!({"feedback": [{"card": benign, "outcome": "accepted",
                             "acceptedSuggestions": [{"id": suggestion_id}], "outcomeTimestamp": "2026-01-15T09:40:00Z"}]}),
    )
    .await;
    assert_eq!(r.body["code"], "unknown_suggestion", "{}", r.text);
    let r = post(
        &app,
        &feedback,
        &json!({"feedback": [{"card": card_id, "outcome": "overridden",
                             "acceptedSuggestions": [{"id": suggestion_id}], "outcomeTimestamp": "2026-01-15T09:40:00Z"}]}),
    )
    .await;
    assert_eq!(r.body["code"], "invalid_request_shape", "{}", r.text);
}
