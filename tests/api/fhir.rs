//! FHIR R4: the generated Questionnaire, `$triage` against the golden vignettes, and
//! OperationOutcome errors with the JSON API's codes.

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Map, Value};

use crate::helpers::{embedded_kb, spawn_app, TestApp};

pub const TRIAGE: &str = "/fhir/QuestionnaireResponse/$triage";
pub const QUESTIONNAIRE: &str = "/fhir/Questionnaire/back-pain-triage";

/// How the Questionnaire asks each question: (type, repeats, answer-option system).
pub struct Form {
    groups: Vec<(String, Vec<String>)>,
    items: HashMap<String, (String, bool, Option<String>)>,
}

pub async fn form(app: &TestApp) -> Form {
    let q = app.get(QUESTIONNAIRE).await.body;
    let mut groups = Vec::new();
    let mut items = HashMap::new();
    for group in q["item"].as_array().unwrap() {
        let mut codes = Vec::new();
        for item in group["item"].as_array().unwrap() {
            let link_id = item["linkId"].as_str().unwrap().to_owned();
            let system = item["answerOption"][0]["valueCoding"]["system"]
                .as_str()
                .map(str::to_owned);
            items.insert(
                link_id.clone(),
                (
                    item["type"].as_str().unwrap().to_owned(),
                    item["repeats"] == true,
                    system,
                ),
            );
            codes.push(link_id);
        }
        groups.push((group["linkId"].as_str().unwrap().to_owned(), codes));
    }
    Form { groups, items }
}

impl Form {
    fn answers(&self, code: &str, value: &Value) -> Vec<Value> {
        match self.items.get(code) {
            Some((kind, _, _)) if kind == "integer" => vec![json!({ "valueInteger": value })],
            Some((kind, _, _)) if kind == "decimal" => vec![json!({ "valueDecimal": value })],
            Some((_, true, system)) => value
                .as_array()
                .unwrap()
                .iter()
                .map(|v| json!({ "valueCoding": { "system": system, "code": v } }))
                .collect(),
            Some((_, false, system)) => {
                vec![json!({ "valueCoding": { "system": system, "code": value } })]
            }
            None => vec![json!({ "valueCoding": { "code": value } })],
        }
    }

    /// A QuestionnaireResponse for an `answers` map, grouped as the Questionnaire groups it.
    pub fn response(&self, answers: &Map<String, Value>) -> Value {
        let mut items = Vec::new();
        for (group, codes) in &self.groups {
            let answered: Vec<Value> = codes
                .iter()
                .filter_map(|c| {
                    answers
                        .get(c)
                        .map(|v| json!({ "linkId": c, "answer": self.answers(c, v) }))
                })
                .collect();
            if !answered.is_empty() {
                items.push(json!({ "linkId": group, "item": answered }));
            }
        }
        for (code, value) in answers {
            if !self.items.contains_key(code) {
                items.push(json!({ "linkId": code, "answer": self.answers(code, value) }));
            }
        }
        json!({
            "resourceType": "QuestionnaireResponse",
            "questionnaire": "urn:spasm-triage:Questionnaire/back-pain-triage",
            "status": "completed",
            "item": items
        })
    }
}

pub async fn post_fhir(app: &TestApp, path: &str, body: &Value) -> crate::helpers::Reply {
    app.post_raw(
        path,
        Some("application/fhir+json"),
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

/// The golden cases: (file name, request).
/// The triage level of a GuidanceResponse (its contained RiskAssessment's outcome).
pub fn level(guidance: &Value) -> String {
    guidance["contained"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resourceType"] == "RiskAssessment")
        .unwrap()["prediction"][0]["outcome"]["coding"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn golden_cases() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let case: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                case["request"].clone(),
            )
        })
        .collect()
}

fn contained<'a>(guidance: &'a Value, resource_type: &str) -> &'a Value {
    guidance["contained"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resourceType"] == resource_type)
        .unwrap_or_else(|| panic!("no contained {resource_type}"))
}

/// Values of the parameters named `name` (or, for parts, the named sub-part of each).
fn params<'a>(guidance: &'a Value, name: &str) -> Vec<&'a Value> {
    contained(guidance, "Parameters")["parameter"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == name)
        .collect()
}

fn part<'a>(param: &'a Value, name: &str) -> Vec<&'a Value> {
    param["part"]
        .as_array()
        .map(|parts| parts.iter().filter(|p| p["name"] == name).collect())
        .unwrap_or_default()
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_questionnaire_is_generated_from_the_vocabulary() {
    let app = spawn_app().await;
    let kb = embedded_kb();
    let r = app.get(QUESTIONNAIRE).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/fhir+json");
    let q = &r.body;
    assert_eq!(q["resourceType"], "Questionnaire");
    assert_eq!(q["id"], "back-pain-triage");
    assert_eq!(q["url"], "urn:spasm-triage:Questionnaire/back-pain-triage");
    assert_eq!(q["version"], kb.version.as_str());
    assert!(q["status"] == "draft" || q["status"] == "active");

    let mut link_ids = BTreeSet::new();
    let mut questions = Vec::new();
    let groups = q["item"].as_array().unwrap();
    let with_codes: Vec<&str> = kb
        .vocabulary
        .groups
        .iter()
        .filter(|g| kb.vocabulary.codes.iter().any(|c| c.group == g.id))
        .map(|g| g.id.as_str())
        .collect();
    assert_eq!(
        groups
            .iter()
            .map(|g| g["linkId"].as_str().unwrap())
            .collect::<Vec<_>>(),
        with_codes,
        "one group per vocabulary group, in order"
    );
    for group in groups {
        assert_eq!(group["type"], "group");
        let def = kb
            .vocabulary
            .groups
            .iter()
            .find(|g| g.id == group["linkId"].as_str().unwrap())
            .unwrap();
        assert_eq!(group["text"], def.label.as_str());
        assert!(link_ids.insert(group["linkId"].as_str().unwrap().to_owned()));
        for item in group["item"].as_array().unwrap() {
            let code = item["linkId"].as_str().unwrap();
            assert!(link_ids.insert(code.to_owned()), "linkId {code} repeats");
            let id = kb
                .vocabulary
                .lookup(code)
                .expect("linkId is a vocabulary code");
            let def = kb.vocabulary.code(id);
            assert_eq!(def.group, group["linkId"].as_str().unwrap());
            assert_eq!(item["text"], def.question.as_str());
            questions.push(code.to_owned());
            let required = def.required_screen || code == "age_years" || code == "sex";
            assert_eq!(item["required"] == true, required, "{code} required");
            match def.kind.type_name() {
                "tri" => {
                    assert_eq!(item["type"], "choice");
                    let options: Vec<&Value> = item["answerOption"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|o| &o["valueCoding"]["code"])
                        .collect();
                    assert_eq!(options, vec!["present", "absent", "unknown"]);
                    assert_eq!(
                        item["answerOption"][0]["valueCoding"]["system"],
                        "urn:spasm-triage:tri"
                    );
                }
                "integer" | "number" => {
                    let integer = def.kind.type_name() == "integer";
                    assert_eq!(item["type"], if integer { "integer" } else { "decimal" });
                    let ext = item["extension"].as_array().unwrap();
                    for url in [
                        "http://hl7.org/fhir/StructureDefinition/minValue",
                        "http://hl7.org/fhir/StructureDefinition/maxValue",
                    ] {
                        let e = ext.iter().find(|e| e["url"] == url).unwrap();
                        let key = if integer {
                            "valueInteger"
                        } else {
                            "valueDecimal"
                        };
                        assert!(e[key].is_number(), "{code} {url}");
                    }
                    if def.unit.is_some() {
                        assert!(ext.iter().any(|e| e["url"]
                            == "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"));
                    }
                }
                "set" => {
                    assert_eq!(item["type"], "choice");
                    assert_eq!(item["repeats"], true);
                    assert_eq!(
                        item["answerOption"].as_array().unwrap().len(),
                        def.kind.choices().len()
                    );
                }
                _ => {
                    assert_eq!(item["type"], "choice");
                    assert!(item.get("repeats").is_none());
                }
            }
            match &def.loinc {
                Some(loinc) => assert_eq!(
                    item["code"],
                    json!([{ "system": "http://loinc.org", "code": loinc }]),
                    "{code} LOINC"
                ),
                None => assert!(item.get("code").is_none()),
            }
        }
    }
    assert_eq!(
        questions.len(),
        kb.vocabulary.codes.iter().filter(|c| c.is_active()).count(),
        "one item per current vocabulary code (deprecated codes are not asked)"
    );
    // STarT Back: items 91340-0 … 91348-3, the group the panel 91349-1.
    let sbt = [
        "91340-0", "91341-8", "91342-6", "91343-4", "91344-2", "91345-9", "91346-7", "91347-5",
        "91348-3",
    ];
    let loincs: Vec<String> = kb
        .vocabulary
        .codes
        .iter()
        .filter(|c| c.group == "startback")
        .filter_map(|c| c.loinc.clone())
        .collect();
    assert_eq!(loincs, sbt.map(str::to_owned).to_vec());
    // Measured vital signs carry their LOINC observation codes too.
    for (code, loinc) in [
        ("heart_rate_bpm", "8867-4"),
        ("systolic_bp_mmhg", "8480-6"),
        ("respiratory_rate", "9279-1"),
        ("oxygen_saturation", "59408-5"),
    ] {
        let id = kb.vocabulary.lookup(code).unwrap();
        assert_eq!(
            kb.vocabulary.code(id).loinc.as_deref(),
            Some(loinc),
            "{code}"
        );
    }
    let sbt_group = groups
        .iter()
        .find(|g| g["code"][0]["code"] == "91349-1")
        .expect("the STarT Back group carries the panel code");
    assert_eq!(sbt_group["code"][0]["system"], "http://loinc.org");
    assert_eq!(sbt_group["item"].as_array().unwrap().len(), 9);
    // pregnancy_status is asked unless sex is male.
    let pregnancy = groups
        .iter()
        .flat_map(|g| g["item"].as_array().unwrap())
        .find(|i| i["linkId"] == "pregnancy_status")
        .unwrap();
    assert_eq!(pregnancy["enableWhen"][0]["question"], "sex");
    assert_eq!(pregnancy["enableWhen"][0]["operator"], "!=");
    assert_eq!(pregnancy["enableWhen"][0]["answerCoding"]["code"], "male");
}

#[tokio::test]
async fn every_golden_vignette_gives_the_same_decision_as_the_json_api() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let cases = golden_cases();
    assert!(cases.len() >= 18);
    let mut failures = Vec::new();
    for (name, request) in &cases {
        let answers = request["answers"].as_object().unwrap();
        let audience = request["options"]["audience"].as_str().unwrap_or("patient");
        let json_api = app.post_triage(request).await;
        assert_eq!(json_api.status, 200, "{name}: {}", json_api.text);
        let qr = form.response(answers);
        let fhir = post_fhir(&app, &format!("{TRIAGE}?audience={audience}"), &qr).await;
        if fhir.status != 200 {
            failures.push(format!("{name}: status {}: {}", fhir.status, fhir.text));
            continue;
        }
        let g = &fhir.body;
        let b = &json_api.body;
        let risk = contained(g, "RiskAssessment");
        let level = &risk["prediction"][0]["outcome"]["coding"][0];
        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(format!("{name}: {what}"));
            }
        };
        check(
            level["code"] == b["triage"]["level"]
                && level["system"] == "urn:spasm-triage:triage-level",
            format!("level {level} vs {}", b["triage"]["level"]),
        );
        check(
            params(g, "level")[0]["valueCoding"]["code"] == b["triage"]["level"],
            "Parameters level".into(),
        );
        check(
            params(g, "timeframe")[0]["valueCode"] == b["triage"]["timeframe"],
            "timeframe".into(),
        );
        let decided: Vec<&Value> = params(g, "decided_by")
            .iter()
            .map(|p| &p["valueString"])
            .collect();
        check(
            json!(decided) == b["triage"]["decided_by"],
            format!("decided_by {decided:?} vs {}", b["triage"]["decided_by"]),
        );
        let flags: Vec<Value> = params(g, "red_flag")
            .iter()
            .map(|p| part(p, "rule_id")[0]["valueString"].clone())
            .collect();
        let expected: Vec<Value> = b["red_flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule_id"].clone())
            .collect();
        check(
            flags == expected,
            format!("red flags {flags:?} vs {expected:?}"),
        );
        for (param, flag) in params(g, "red_flag")
            .iter()
            .zip(b["red_flags"].as_array().unwrap())
        {
            let triggered: Vec<&Value> = part(param, "triggered_by")
                .iter()
                .map(|p| &p["valueCode"])
                .collect();
            check(
                json!(triggered) == flag["triggered_by"],
                format!("{} triggered_by", flag["rule_id"]),
            );
        }
        let complete = b["completeness"]["complete"] == true;
        check(
            g["status"] == if complete { "success" } else { "data-required" },
            format!("status {} with complete = {complete}", g["status"]),
        );
        let missing = strings(&b["completeness"]["missing_screens"]);
        let required: Vec<String> = g["dataRequirement"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|d| {
                        d["extension"][0]["valueString"]
                            .as_str()
                            .unwrap()
                            .to_owned()
                    })
                    .collect()
            })
            .unwrap_or_default();
        check(
            required == missing,
            format!("dataRequirement {required:?} vs missing {missing:?}"),
        );
        let advice: Vec<Value> = params(g, "advice")
            .iter()
            .map(|p| part(p, "id")[0]["valueString"].clone())
            .collect();
        let expected_advice: Vec<Value> = b["advice"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].clone())
            .collect();
        check(advice == expected_advice, "advice ids".into());
        let nets: Vec<Value> = params(g, "safety_net")
            .iter()
            .map(|p| part(p, "id")[0]["valueString"].clone())
            .collect();
        let expected_nets: Vec<Value> = b["safety_net"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].clone())
            .collect();
        check(nets == expected_nets, "safety net ids".into());
    }
    assert!(
        failures.is_empty(),
        "FHIR vs JSON API:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn unanswered_screens_give_data_required_with_the_floored_risk_assessment() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let answers = json!({"age_years": 34, "sex": "male", "onset_days_ago": 1,
        "trigger_heavy_lifting": "present", "saddle_numbness": "absent"});
    let mut qr = form.response(answers.as_object().unwrap());
    qr["id"] = json!("qr-77");
    qr["subject"] = json!({"reference": "Patient/p-77", "display": "Test patient"});
    qr["encounter"] = json!({"reference": "Encounter/e-77"});
    let r = post_fhir(&app, TRIAGE, &qr).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers["content-type"], "application/fhir+json");
    assert_eq!(r.headers["cache-control"], "no-store");
    let g = &r.body;
    assert_eq!(g["resourceType"], "GuidanceResponse");
    assert_eq!(g["status"], "data-required");
    assert_eq!(g["subject"], qr["subject"]);
    assert_eq!(g["encounter"], qr["encounter"]);
    assert!(g["occurrenceDateTime"].as_str().unwrap().ends_with('Z'));
    let kb = embedded_kb();
    assert_eq!(
        g["moduleCanonical"],
        format!("urn:spasm-triage:knowledge-base|{}", kb.version)
    );
    assert_eq!(g["outputParameters"]["reference"], "#output");
    assert_eq!(g["dataRequirement"].as_array().unwrap().len(), 11);
    assert_eq!(
        g["dataRequirement"][0]["extension"][0]["valueString"],
        "sudden_unilateral_weakness_or_numbness"
    );
    // R4: mustSupport is a simple path (identifiers only).
    assert_eq!(
        g["dataRequirement"][0]["mustSupport"],
        json!(["item.answer"])
    );
    let risk = contained(g, "RiskAssessment");
    assert_eq!(risk["id"], "risk");
    assert_eq!(risk["status"], "final");
    assert_eq!(
        risk["prediction"][0]["outcome"]["coding"][0]["code"],
        "consultation_24"
    );
    assert_eq!(risk["basis"][0]["reference"], "QuestionnaireResponse/qr-77");
    assert_eq!(risk["subject"], qr["subject"]);
    assert!(risk["note"][0]["text"].as_str().unwrap().contains("R25"));
    assert_eq!(
        params(g, "risk_assessment")[0]["valueReference"]["reference"],
        "#risk"
    );
    assert_eq!(params(g, "missing_screen").len(), 11);
    assert_eq!(
        g["requestIdentifier"]["value"],
        r.headers["x-request-id"].to_str().unwrap()
    );
    // `$` may come percent-encoded.
    let encoded = post_fhir(&app, "/fhir/QuestionnaireResponse/%24triage", &qr).await;
    assert_eq!(encoded.status, 200);
    // application/json is accepted too.
    let plain = app
        .post_raw(
            TRIAGE,
            Some("application/json"),
            serde_json::to_vec(&qr).unwrap(),
        )
        .await;
    assert_eq!(plain.status, 200);
}

/// An `$triage` refusal: status, OperationOutcome, the issue codes.
async fn refusal(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Vec<String>) {
    let r = app.post_raw(path, Some(content_type), body).await;
    assert_eq!(
        r.headers["content-type"], "application/fhir+json",
        "{}",
        r.text
    );
    assert_eq!(r.body["resourceType"], "OperationOutcome", "{}", r.text);
    let codes = r.body["issue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(i["severity"], "error");
            assert_eq!(
                i["details"]["coding"][0]["system"],
                "urn:spasm-triage:problem"
            );
            i["details"]["coding"][0]["code"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    (r.status, codes)
}

#[tokio::test]
async fn bad_fhir_input_gets_an_operation_outcome_with_the_json_api_code() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let fhir = "application/fhir+json";
    let body = |v: &Value| serde_json::to_vec(v).unwrap();
    let base = json!({"age_years": 40, "sex": "female"});

    // Answer problems: same status and codes as POST /v1/triage with the same answers.
    let answer_cases = [
        (
            "unknown linkId",
            json!({"age_years": 40, "sex": "female", "saddle_numbnes": "absent"}),
            "unknown_answer_code",
        ),
        (
            "derived code",
            json!({"age_years": 40, "sex": "female", "sepsis_signs": "present"}),
            "derived_answer_code",
        ),
        (
            "value out of range",
            json!({"age_years": 150, "sex": "female"}),
            "invalid_answer_value",
        ),
        (
            "value not allowed",
            json!({"age_years": 40, "sex": "female", "fever": "yes"}),
            "invalid_answer_value",
        ),
        (
            "sex missing",
            json!({"age_years": 40}),
            "missing_required_answer",
        ),
        (
            "two problems",
            json!({"sex": "female", "fevr": "present"}),
            "missing_required_answer",
        ),
    ];
    for (what, answers, code) in answer_cases {
        let json_api = app.post_triage(&json!({ "answers": answers })).await;
        assert_eq!(json_api.body["code"], code, "{what}: {}", json_api.text);
        let qr = form.response(answers.as_object().unwrap());
        let (status, codes) = refusal(&app, TRIAGE, fhir, body(&qr)).await;
        assert_eq!(status, json_api.status, "{what}");
        let expected: Vec<String> = json_api.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(codes, expected, "{what}");
        assert_eq!(codes[0], code, "{what}");
    }

    // FHIR-shape problems.
    let mut wrong_type = form.response(base.as_object().unwrap());
    wrong_type["item"][0]["item"][0]["answer"][0] = json!({"valueString": "forty"});
    let mut decimal_for_integer = form.response(base.as_object().unwrap());
    decimal_for_integer["item"][0]["item"][0]["answer"][0] = json!({"valueDecimal": 40.0});
    let mut coding_for_tri = form.response(
        json!({"age_years": 40, "sex": "female", "fever": "absent"})
            .as_object()
            .unwrap(),
    );
    let fever = coding_for_tri["item"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .flat_map(|g| g["item"].as_array_mut().unwrap().iter_mut())
        .find(|i| i["linkId"] == "fever")
        .unwrap();
    fever["answer"][0] = json!({"valueBoolean": false});
    let mut other_system = form.response(base.as_object().unwrap());
    other_system["item"][0]["item"][1]["answer"][0]["valueCoding"]["system"] =
        json!("http://hl7.org/fhir/administrative-gender");
    let mut two_answers = form.response(base.as_object().unwrap());
    two_answers["item"][0]["item"][1]["answer"] = json!([
        {"valueCoding": {"code": "female"}}, {"valueCoding": {"code": "male"}}
    ]);
    let mut twice = form.response(base.as_object().unwrap());
    let copy = twice["item"][0].clone();
    twice["item"].as_array_mut().unwrap().push(copy);
    let mut other_questionnaire = form.response(base.as_object().unwrap());
    other_questionnaire["questionnaire"] = json!("http://loinc.org/q/91349-1");
    let mut no_status = form.response(base.as_object().unwrap());
    no_status.as_object_mut().unwrap().remove("status");
    let mut in_error = form.response(base.as_object().unwrap());
    in_error["status"] = json!("entered-in-error");
    let mut no_link_id = form.response(base.as_object().unwrap());
    no_link_id["item"][0]["item"][0]
        .as_object_mut()
        .unwrap()
        .remove("linkId");
    // Every element the request schema declares is refused when sent with another type.
    let retyped = |pointer: &str, value: Value| {
        let mut qr = form.response(base.as_object().unwrap());
        qr["subject"] =
            json!({"reference": "Patient/p1", "identifier": {"system": "urn:x", "value": "1"}});
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        match qr.pointer_mut(parent).unwrap() {
            Value::Object(obj) => {
                obj.insert(key.to_owned(), value);
            }
            Value::Array(list) => list[key.parse::<usize>().unwrap()] = value,
            other => panic!("{parent} is {other}"),
        }
        qr
    };
    let declared_elements = [
        ("/id", json!(1042)),
        ("/authored", json!(20260115)),
        ("/subject/reference", json!(5)),
        ("/subject/display", json!(null)),
        ("/subject/identifier", json!("urn:x|1")),
        ("/subject/identifier/value", json!(1)),
        ("/item/0/text", json!(["Demographics"])),
        ("/item/0/item/1/answer/0/valueCoding/display", json!(false)),
    ];
    for (pointer, value) in declared_elements {
        let (status, codes) = refusal(&app, TRIAGE, fhir, body(&retyped(pointer, value))).await;
        let expected = if pointer.ends_with("display") && pointer.contains("answer") {
            "invalid_answer_value"
        } else {
            "invalid_request_shape"
        };
        assert_eq!((status, codes[0].as_str()), (422, expected), "{pointer}");
    }
    let big = format!(
        r#"{{"resourceType": "QuestionnaireResponse", "status": "completed", "text": "{}"}}"#,
        "x".repeat(70 * 1024)
    );

    // (what, path, content type, body, status, code)
    type Refusal<'a> = (&'a str, &'a str, &'a str, Vec<u8>, u16, &'a str);
    let cases: Vec<Refusal> = vec![
        (
            "wrong resourceType",
            TRIAGE,
            fhir,
            body(&json!({"resourceType": "Patient", "id": "p"})),
            422,
            "invalid_request_shape",
        ),
        (
            "not an object",
            TRIAGE,
            fhir,
            body(&json!([1, 2])),
            422,
            "invalid_request_shape",
        ),
        (
            "wrong value[x] type",
            TRIAGE,
            fhir,
            body(&wrong_type),
            422,
            "invalid_answer_value",
        ),
        (
            "valueDecimal for an integer item",
            TRIAGE,
            fhir,
            body(&decimal_for_integer),
            422,
            "invalid_answer_value",
        ),
        (
            "valueBoolean for a choice item",
            TRIAGE,
            fhir,
            body(&coding_for_tri),
            422,
            "invalid_answer_value",
        ),
        (
            "another code system",
            TRIAGE,
            fhir,
            body(&other_system),
            422,
            "invalid_answer_value",
        ),
        (
            "two answers to a single-answer item",
            TRIAGE,
            fhir,
            body(&two_answers),
            422,
            "invalid_answer_value",
        ),
        (
            "answered twice",
            TRIAGE,
            fhir,
            body(&twice),
            422,
            "invalid_answer_value",
        ),
        (
            "another Questionnaire",
            TRIAGE,
            fhir,
            body(&other_questionnaire),
            422,
            "invalid_request_shape",
        ),
        (
            "no status",
            TRIAGE,
            fhir,
            body(&no_status),
            422,
            "invalid_request_shape",
        ),
        (
            "entered in error",
            TRIAGE,
            fhir,
            body(&in_error),
            422,
            "invalid_request_shape",
        ),
        (
            "item without linkId",
            TRIAGE,
            fhir,
            body(&no_link_id),
            422,
            "invalid_request_shape",
        ),
        (
            "malformed JSON",
            TRIAGE,
            fhir,
            b"{\"resourceType\": ".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "wrong content type",
            TRIAGE,
            "text/plain",
            body(&base),
            415,
            "unsupported_media_type",
        ),
        (
            "too large",
            TRIAGE,
            fhir,
            big.into_bytes(),
            413,
            "payload_too_large",
        ),
        (
            "bad audience",
            "/fhir/QuestionnaireResponse/$triage?audience=nurse",
            fhir,
            body(&form.response(base.as_object().unwrap())),
            422,
            "invalid_option",
        ),
        (
            "unknown FHIR path",
            "/fhir/Patient",
            fhir,
            b"{}".to_vec(),
            404,
            "not_found",
        ),
        (
            "POST to the Questionnaire",
            QUESTIONNAIRE,
            fhir,
            b"{}".to_vec(),
            405,
            "method_not_allowed",
        ),
    ];
    for (what, path, content_type, body, status, code) in cases {
        let (got, codes) = refusal(&app, path, content_type, body).await;
        assert_eq!(got, status, "{what}: {codes:?}");
        assert_eq!(codes[0], code, "{what}");
    }

    // GET on $triage: 405 with Allow, as an OperationOutcome.
    let r = app.get(TRIAGE).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "POST");
    assert_eq!(
        r.body["issue"][0]["details"]["coding"][0]["code"],
        "method_not_allowed"
    );

    // The message names the item and the fix, never the value sent; expressions are FHIRPath.
    let r = post_fhir(&app, TRIAGE, &wrong_type).await;
    let issue = &r.body["issue"][0];
    assert_eq!(
        issue["expression"][0],
        "QuestionnaireResponse.item[0].item[0].answer[0]"
    );
    assert!(issue["details"]["text"]
        .as_str()
        .unwrap()
        .contains("valueInteger"));
    assert!(!r.text.contains("forty"));
    let unknown = form.response(
        json!({"age_years": 40, "sex": "female", "saddle_numbnes": "absent"})
            .as_object()
            .unwrap(),
    );
    let r = post_fhir(&app, TRIAGE, &unknown).await;
    assert!(r.body["issue"][0]["details"]["text"]
        .as_str()
        .unwrap()
        .contains("did you mean `saddle_numbness`"));
    assert_eq!(r.body["issue"][0]["code"], "code-invalid");

    // And the service keeps serving.
    let ok = post_fhir(&app, TRIAGE, &form.response(base.as_object().unwrap())).await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn nested_groups_and_answer_items_are_walked() {
    let app = spawn_app().await;
    let qr = json!({
        "resourceType": "QuestionnaireResponse",
        "status": "in-progress",
        "item": [{
            "linkId": "outer",
            "item": [{
                "linkId": "inner",
                "item": [
                    {"linkId": "age_years", "answer": [{"valueInteger": 70}]},
                    {"linkId": "sex", "answer": [{"valueCoding": {"code": "male"}}],
                        "item": [{"linkId": "note", "text": "display only"}]}
                ]
            }]
        }, {
            "linkId": "medications",
            "item": [{"linkId": "fever", "answer": [{
                "valueCoding": {"system": "urn:spasm-triage:tri", "code": "present"},
                "item": [{"linkId": "temperature_c", "answer": [{"valueDecimal": 38.6}]}]
            }]}]
        }]
    });
    let r = post_fhir(&app, TRIAGE, &qr).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let json_api = app
        .post_triage(&json!({"answers": {"age_years": 70, "sex": "male", "fever": "present", "temperature_c": 38.6}}))
        .await;
    let risk = contained(&r.body, "RiskAssessment");
    assert_eq!(
        risk["prediction"][0]["outcome"]["coding"][0]["code"],
        json_api.body["triage"]["level"]
    );
}

#[tokio::test]
async fn misspelt_elements_modifier_extensions_and_repeated_keys_are_refused_not_ignored() {
    let app = spawn_app().await;
    let form = form(&app).await;
    let fhir = "application/fhir+json";
    // A red flag answered present, so that any silent drop would show as a lower level.
    let answers = json!({"age_years": 40, "sex": "male", "saddle_numbness": "present"});
    let qr = form.response(answers.as_object().unwrap());
    let (group, index) = qr["item"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .find_map(|(g, group)| {
            group["item"]
                .as_array()
                .unwrap()
                .iter()
                .position(|i| i["linkId"] == "saddle_numbness")
                .map(|i| (g, i))
        })
        .unwrap();
    let item = format!("/item/{group}/item/{index}");
    let accepted = post_fhir(&app, TRIAGE, &qr).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);

    let renamed = |from: &str, to: &str| {
        let mut qr = qr.clone();
        let obj = qr.pointer_mut(from).unwrap().as_object_mut().unwrap();
        let (key, value) = to.split_once('=').unwrap();
        let value: Value = serde_json::from_str(value).unwrap();
        obj.insert(key.to_owned(), value);
        qr
    };
    let answers_misspelt = {
        let mut qr = qr.clone();
        let obj = qr.pointer_mut(&item).unwrap().as_object_mut().unwrap();
        let answer = obj.remove("answer").unwrap();
        obj.insert("answers".to_owned(), answer);
        qr
    };
    let items_misspelt = {
        let mut qr = qr.clone();
        let group = format!("/item/{group}");
        let obj = qr.pointer_mut(&group).unwrap().as_object_mut().unwrap();
        let items = obj.remove("item").unwrap();
        obj.insert("items".to_owned(), items);
        qr
    };
    let cases = [
        (
            "`answers` for `answer`",
            answers_misspelt,
            "did you mean `answer`?",
        ),
        ("`items` for `item`", items_misspelt, "did you mean `item`?"),
        (
            "modifierExtension on an item",
            renamed(
                &item,
                r#"modifierExtension=[{"url": "urn:x", "valueBoolean": true}]"#,
            ),
            "modifierExtension",
        ),
        (
            "modifierExtension on an answer",
            renamed(&format!("{item}/answer/0"), r#"modifierExtension=[]"#),
            "modifierExtension",
        ),
        (
            "modifierExtension on the resource",
            renamed("", r#"modifierExtension=[]"#),
            "modifierExtension",
        ),
        (
            "an unknown member of an answer",
            renamed(&format!("{item}/answer/0"), r#"negated=true"#),
            "`negated` is not an element of an answer",
        ),
    ];
    for (what, qr, message) in cases {
        let r = post_fhir(&app, TRIAGE, &qr).await;
        assert_eq!(r.status, 422, "{what}: {}", r.text);
        assert_eq!(
            r.body["issue"][0]["details"]["coding"][0]["code"], "invalid_request_shape",
            "{what}"
        );
        let text = r.body["issue"][0]["details"]["text"].as_str().unwrap();
        assert!(text.contains(message), "{what}: {text}");
    }
    // Allowed FHIR members are accepted: id, extension, definition on items; id on answers.
    let with_allowed = renamed(&item, r#"definition="urn:x#saddle""#);
    let with_allowed = {
        let mut qr = with_allowed;
        qr.pointer_mut(&item).unwrap()["extension"] = json!([{"url": "urn:x"}]);
        // A primitive's extensions, as FHIR JSON carries them.
        qr.pointer_mut(&item).unwrap()["_linkId"] = json!({"extension": [{"url": "urn:x"}]});
        qr.pointer_mut(&format!("{item}/answer/0")).unwrap()["id"] = json!("a1");
        qr
    };
    let r = post_fhir(&app, TRIAGE, &with_allowed).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A key repeated anywhere in the body: never last-wins.
    let text = serde_json::to_string(&qr).unwrap();
    let repeated_answer = text.replacen(
        r#""answer":[{"valueCoding":{"code":"present""#,
        r#""answer":[],"answer":[{"valueCoding":{"code":"present""#,
        1,
    );
    assert_ne!(repeated_answer, text, "the fixture has the saddle answer");
    let repeated_code = text.replacen(
        r#"{"code":"present""#,
        r#"{"code":"absent","code":"present""#,
        1,
    );
    for (what, body) in [("answer", repeated_answer), ("code", repeated_code)] {
        let r = app.post_raw(TRIAGE, Some(fhir), body.into_bytes()).await;
        assert_eq!(r.status, 422, "{what}: {}", r.text);
        let text = r.body["issue"][0]["details"]["text"].as_str().unwrap();
        assert!(
            text.contains(&format!("`{what}` appears more than once")),
            "{text}"
        );
    }
}
