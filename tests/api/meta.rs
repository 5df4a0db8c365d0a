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
    // Every id that can appear in `decided_by` is listed, cause floors included.
    let kb = crate::helpers::embedded_kb();
    for id in kb
        .rules
        .iter()
        .map(|r| r.id.clone())
        .chain(kb.floors.iter().map(|f| f.id.clone()))
        .chain(
            kb.causes
                .iter()
                .filter_map(|c| c.floor.as_ref())
                .map(|f| f.id.clone()),
        )
    {
        let listed = rules.iter().find(|x| x["id"] == id.as_str());
        assert!(listed.is_some(), "{id} is not listed");
    }
    let gi = rules
        .iter()
        .find(|x| x["id"] == "CAUSE-referred_visceral_gi")
        .unwrap();
    assert_eq!(
        (gi["level"].as_str(), gi["timeframe"].as_str()),
        (Some("consultation"), Some("within_1_week"))
    );
    assert!(gi["condition"]
        .as_str()
        .unwrap()
        .contains("epigastric_pain"));
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
        json!(["present", "absent", "unknown", null])
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

#[tokio::test]
async fn spec_documents_every_status_each_operation_returns() {
    let app = spawn_app().await;
    let spec: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let documented = |path: &str, method: &str| -> Vec<String> {
        spec["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is not in the spec"))
            .keys()
            .cloned()
            .collect()
    };
    let triage = documented("/v1/triage", "post");
    for (content_type, body) in [
        (Some("application/json"), b"{\"answers\": {".to_vec()),
        (Some("text/plain"), b"{}".to_vec()),
        (Some("application/json"), vec![b' '; 70_000]),
        (Some("application/json"), b"{\"answers\": []}".to_vec()),
        (
            Some("application/json"),
            b"{\"answers\": {\"age_years\": 34, \"sex\": \"male\"}}".to_vec(),
        ),
    ] {
        let r = app.post_raw("/v1/triage", content_type, body).await;
        assert!(
            triage.contains(&r.status.to_string()),
            "POST /v1/triage answered {} which the spec does not document ({triage:?})",
            r.status
        );
    }
    for path in [
        "/v1/vocabulary",
        "/v1/knowledge-base",
        "/health",
        "/ready",
        "/openapi.json",
    ] {
        let ok = app.get(path).await;
        let wrong_method = app.post_raw(path, None, Vec::new()).await;
        let statuses = documented(path, "get");
        for r in [ok, wrong_method] {
            assert!(
                statuses.contains(&r.status.to_string()),
                "{path} answered {}, not documented ({statuses:?})",
                r.status
            );
        }
    }
    let r = app.get("/v1/triage").await;
    assert!(triage.contains(&r.status.to_string()));
    // Every documented response carries an example, and every body is problem+json or JSON.
    for (name, response) in spec["components"]["responses"].as_object().unwrap() {
        let content = &response["content"]["application/problem+json"];
        assert!(
            content["example"].is_object() || content["examples"].is_object(),
            "components.responses.{name} has no problem+json example"
        );
        assert!(response["headers"]["X-Request-Id"].is_object(), "{name}");
    }
}

/// Every property of the assessment, at every depth, says what it means (integrators read the
/// spec, not the code).
#[tokio::test]
async fn every_triage_response_property_is_described() {
    let app = spawn_app().await;
    let spec = app.get("/openapi.json").await.body;
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.rsplit('/').next().unwrap().to_owned());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let described = |v: &Value| {
        v.get("description").is_some()
            || ["oneOf", "allOf", "anyOf"].iter().any(|k| {
                v[k].as_array()
                    .is_some_and(|a| a.iter().any(|x| x.get("description").is_some()))
            })
    };
    let mut todo = vec!["TriageResponse".to_owned()];
    let mut seen = Vec::new();
    let mut missing = Vec::new();
    while let Some(name) = todo.pop() {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        // A flattened part is an `allOf` member: its own schema is walked too.
        let schema = &schemas[&name];
        refs(&schema["allOf"], &mut todo);
        let mut props = serde_json::Map::new();
        for part in std::iter::once(schema).chain(schema["allOf"].as_array().into_iter().flatten())
        {
            if let Some(p) = part["properties"].as_object() {
                props.extend(p.clone());
            }
        }
        for (p, v) in &props {
            if !described(v) {
                missing.push(format!("{name}.{p}"));
            }
            refs(v, &mut todo);
        }
    }
    assert!(seen.len() > 10, "walked only {seen:?}");
    assert!(missing.is_empty(), "undescribed: {missing:?}");
    assert!(spec["paths"]["/metrics"]["get"].is_object());
}

/// An example the generator could not compute comes out as `null`: never ship one.
#[test]
fn no_example_in_the_spec_is_null() {
    fn walk(value: &Value, at: &str, nulls: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    let here = format!("{at}/{key}");
                    if key == "example" && inner.is_null() {
                        nulls.push(here.clone());
                    }
                    walk(inner, &here, nulls);
                }
            }
            Value::Array(items) => {
                for (i, inner) in items.iter().enumerate() {
                    walk(inner, &format!("{at}/{i}"), nulls);
                }
            }
            _ => {}
        }
    }
    let spec: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let mut nulls = Vec::new();
    walk(&spec, "", &mut nulls);
    assert!(nulls.is_empty(), "null examples: {nulls:?}");
}
