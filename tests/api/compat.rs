//! Knowledge-base compatibility: a form built against an older release keeps working.
//!
//! Every release's vocabulary (every code, type and allowed value) and golden cases are
//! committed under `tests/compat/<release>/`. Against the current knowledge base:
//! - every code and every value of every committed vocabulary is accepted (200; a deprecated
//!   one comes back with a warning and `Deprecation` header), never `unknown_answer_code` or
//!   `invalid_answer_value`;
//! - every golden case written against an older release gets a level no lower than it had;
//! - a QuestionnaireResponse answering an old linkId is assessed the same way.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::helpers::{spawn_app, TestApp};

const LEVELS: [&str; 5] = [
    "self_care",
    "consultation",
    "consultation_24",
    "emergency",
    "emergency_ambulance",
];

fn rank(level: &str) -> usize {
    LEVELS.iter().position(|l| *l == level).unwrap_or(0) + 1
}

fn releases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("vocabulary.json").is_file())
        .collect();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no committed release under {}",
        root.display()
    );
    dirs
}

/// Every value a form built on this vocabulary entry could send.
fn values_of(entry: &Value) -> Vec<Value> {
    let listed = || -> Vec<Value> { entry["values"].as_array().cloned().unwrap_or_default() };
    match entry["type"].as_str().unwrap() {
        "tri" | "enum" | "response" => listed(),
        "set" => listed().into_iter().map(|v| json!([v])).collect(),
        "integer" | "number" => vec![entry["minimum"].clone(), entry["maximum"].clone()],
        other => panic!("unknown type {other}"),
    }
}

async fn post(app: &TestApp, code: &str, value: &Value) -> (u16, Value, bool) {
    let mut answers = Map::new();
    answers.insert("age_years".into(), json!(40));
    answers.insert("sex".into(), json!("female"));
    answers.insert(code.to_owned(), value.clone());
    let r = app.post_triage(&json!({ "answers": answers })).await;
    (r.status, r.body, r.headers.contains_key("deprecation"))
}

#[tokio::test]
async fn every_code_and_value_of_every_committed_vocabulary_is_accepted() {
    let app = spawn_app().await;
    let current = app.get("/v1/vocabulary").await.body;
    let status_of = |code: &str| -> String {
        current["codes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == code)
            .map(|c| c["status"].as_str().unwrap_or("").to_owned())
            .unwrap_or_else(|| "missing".to_owned())
    };
    let mut failures = Vec::new();
    let mut posted = 0;
    for release in releases() {
        let vocabulary: Value = serde_json::from_str(
            &std::fs::read_to_string(release.join("vocabulary.json")).unwrap(),
        )
        .unwrap();
        let name = release.file_name().unwrap().to_string_lossy().into_owned();
        for entry in vocabulary["codes"].as_array().unwrap() {
            let code = entry["code"].as_str().unwrap();
            let status = status_of(code);
            for value in values_of(entry) {
                posted += 1;
                let (code_status, body, deprecation) = post(&app, code, &value).await;
                if code_status != 200 {
                    failures.push(format!(
                        "{name}: `{code}` = {value}: status {code_status} {}",
                        body["errors"]
                    ));
                    continue;
                }
                let warned = body["warnings"]
                    .as_array()
                    .is_some_and(|w| w.iter().any(|w| w["answer"] == code));
                if status == "deprecated" && !(warned && deprecation) {
                    failures.push(format!(
                        "{name}: deprecated `{code}` = {value} came back without a warning and Deprecation header"
                    ));
                }
                if status == "active"
                    && warned
                    && !body["warnings"]
                        .to_string()
                        .contains("deprecated_answer_value")
                {
                    failures.push(format!("{name}: active `{code}` came back with a warning"));
                }
            }
        }
    }
    assert!(posted > 500, "only {posted} code/value pairs posted");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn golden_cases_of_older_releases_never_get_a_lower_level() {
    let app = spawn_app().await;
    let changelog = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/rules/CHANGELOG.md"),
    )
    .unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for release in releases() {
        let cases = release.join("cases");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&cases)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let case: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let was = case["expect"]["level"].as_str().unwrap();
            let r = app.post_triage(&case["request"]).await;
            checked += 1;
            let now = r.body["triage"]["level"].as_str().unwrap_or("none");
            if r.status != 200 || rank(now) < rank(was) {
                failures.push(format!(
                    "{}: was {was}, now {now} (status {})",
                    path.display(),
                    r.status
                ));
            } else if now != was {
                // A level that went up is allowed, but the release notes must say so.
                let file = path.file_name().unwrap().to_string_lossy().into_owned();
                if !changelog.contains(&file) {
                    failures.push(format!(
                        "{file}: level {was} → {now}, not listed in config/rules/CHANGELOG.md"
                    ));
                }
            }
        }
    }
    assert!(checked >= 18, "only {checked} old cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The split of `pain_unremitting_or_night` (2026.12.0) end to end: the old answer is
/// mapped cautiously, the response says so, and the level is never lower than before.
#[tokio::test]
async fn a_split_code_is_mapped_with_a_warning_and_headers_and_never_a_lower_level() {
    let app = spawn_app().await;
    let mut answers = Map::new();
    for (k, v) in [
        ("age_years", json!(24)),
        ("sex", json!("male")),
        ("onset_days_ago", json!(200)),
        ("pain_unremitting_or_night", json!("present")),
    ] {
        answers.insert(k.into(), v);
    }
    let body = crate::helpers::screened(answers);
    let r = app.post_triage(&body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // 2026.11.0 gave consultation_24 (R14) for exactly these answers.
    assert!(rank(r.body["triage"]["level"].as_str().unwrap()) >= rank("consultation_24"));
    let flags: Vec<&str> = r.body["red_flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule_id"].as_str())
        .collect();
    assert!(flags.contains(&"R14"), "{flags:?}");
    let warning = &r.body["warnings"][0];
    assert_eq!(warning["code"], "deprecated_answer_code");
    assert_eq!(warning["answer"], "pain_unremitting_or_night");
    assert_eq!(
        warning["replaced_by"],
        json!(["pain_at_rest", "night_pain"])
    );
    assert!(warning["sunset"].is_string());
    let deprecation = r.headers["deprecation"].to_str().unwrap();
    assert!(deprecation.starts_with('@'), "{deprecation}");
    assert!(r.headers["sunset"].to_str().unwrap().ends_with("GMT"));
    assert!(r.headers["link"]
        .to_str()
        .unwrap()
        .contains("rel=\"deprecation\""));

    // The replacement codes themselves carry no warning.
    let mut answers = Map::new();
    for (k, v) in [
        ("age_years", json!(24)),
        ("sex", json!("male")),
        ("pain_at_rest", json!("present")),
    ] {
        answers.insert(k.into(), v);
    }
    let r = app.post_triage(&crate::helpers::screened(answers)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["warnings"], json!([]));
    assert!(!r.headers.contains_key("deprecation"));

    // Old and new code together could disagree about a red flag: refused, not guessed.
    let mut answers = Map::new();
    for (k, v) in [
        ("age_years", json!(24)),
        ("sex", json!("male")),
        ("pain_unremitting_or_night", json!("present")),
        ("pain_at_rest", json!("absent")),
    ] {
        answers.insert(k.into(), v);
    }
    let r = app.post_triage(&json!({ "answers": answers })).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["errors"][0]["code"], "invalid_answer_value");
    assert_eq!(
        r.body["errors"][0]["path"],
        "/answers/pain_unremitting_or_night"
    );
}

/// A QuestionnaireResponse built from the 2026.11.0 Questionnaire still works: its old
/// linkId is mapped and the GuidanceResponse carries a warning OperationOutcome.
#[tokio::test]
async fn questionnaire_responses_from_the_older_questionnaire_still_work() {
    let app = spawn_app().await;
    let old: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/2026.11.0/questionnaire.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(old.to_string().contains("\"pain_unremitting_or_night\""));
    let coding =
        |code: &str| json!([{ "valueCoding": { "system": "urn:spasm-triage:tri", "code": code } }]);
    let mut items = vec![
        json!({ "linkId": "age_years", "answer": [{ "valueInteger": 24 }] }),
        json!({ "linkId": "sex", "answer": [{ "valueCoding": { "system": "urn:spasm-triage:sex", "code": "male" } }] }),
        json!({ "linkId": "pain_unremitting_or_night", "answer": coding("present") }),
    ];
    for code in [
        "sudden_unilateral_weakness_or_numbness",
        "chest_pain",
        "saddle_numbness",
        "urinary_retention_new",
        "urinary_incontinence_new",
        "bowel_incontinence_new",
        "bilateral_leg_symptoms",
        "leg_weakness_progressive",
        "major_trauma",
        "fever",
        "history_of_cancer",
        "unexplained_weight_loss",
    ] {
        items.push(json!({ "linkId": code, "answer": coding("absent") }));
    }
    let qr = json!({
        "resourceType": "QuestionnaireResponse",
        "questionnaire": format!("{}|2026.11.0", old["url"].as_str().unwrap()),
        "status": "completed",
        "item": items,
    });
    let r = app
        .post_raw(
            "/fhir/QuestionnaireResponse/$triage",
            Some("application/fhir+json"),
            serde_json::to_vec(&qr).unwrap(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["evaluationMessage"][0]["reference"], "#deprecations");
    let outcome = r.body["contained"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "deprecations")
        .expect("contained OperationOutcome");
    assert_eq!(outcome["issue"][0]["severity"], "warning");
    assert!(outcome["issue"][0]["details"]["text"]
        .as_str()
        .unwrap()
        .contains("pain_unremitting_or_night"));
}

/// The release notes name every code added or deprecated since the newest committed release.
#[tokio::test]
async fn the_changelog_names_every_added_and_deprecated_code() {
    let app = spawn_app().await;
    let current = app.get("/v1/vocabulary").await.body;
    let changelog = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/rules/CHANGELOG.md"),
    )
    .unwrap();
    let version = current["knowledge_base"]["version"].as_str().unwrap();
    let section = changelog
        .split("\n## ")
        .find(|s| s.starts_with(version))
        .unwrap_or_else(|| panic!("CHANGELOG.md has no section for {version}"));
    let newest = releases().pop().unwrap();
    let old: Value =
        serde_json::from_str(&std::fs::read_to_string(newest.join("vocabulary.json")).unwrap())
            .unwrap();
    let old_codes: Vec<&str> = old["codes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["code"].as_str())
        .collect();
    let mut missing = Vec::new();
    for c in current["codes"].as_array().unwrap() {
        let code = c["code"].as_str().unwrap();
        let changed = !old_codes.contains(&code) || c["status"] != "active";
        if changed && !section.contains(&format!("`{code}`")) {
            missing.push(code);
        }
    }
    assert!(
        missing.is_empty(),
        "not in the {version} changelog: {missing:?}"
    );
}
