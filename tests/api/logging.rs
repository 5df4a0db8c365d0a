use serde_json::json;

use crate::helpers::{captured_logs, spawn_app};

#[tokio::test]
async fn answer_values_never_reach_the_logs_but_decisions_do() {
    let app = spawn_app().await;
    // Distinctive values: an unusual age, temperature and weight, plus a misspelt key value.
    let body = json!({
        "answers": {
            "age_years": 87, "sex": "female", "temperature_c": 39.3, "weight_kg": 123.456,
            "urinary_retention_new": "present", "pregnancy_status": "not_applicable"
        }
    });
    let r = app
        .client
        .post(format!("{}/v1/triage", app.address))
        .header("x-request-id", "log-test-7f3a")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bad = app
        .post_triage(&json!({"answers": {"age_years": 30, "sex": "quokka-9981"}}))
        .await;
    assert_eq!(bad.status, 422);
    // The completion event is written after the response is sent: wait for it.
    let mut logs = String::new();
    for _ in 0..50 {
        logs = captured_logs();
        if logs.contains("log-test-7f3a") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let line = logs
        .lines()
        .find(|l| l.contains("log-test-7f3a"))
        .expect("request logged");
    assert!(line.contains("\"target\":\"audit\""), "{line}");
    assert!(line.contains("\"level\":\"emergency\""), "{line}");
    assert!(line.contains("\"status\":200"), "{line}");
    assert!(line.contains("R01"), "{line}");
    assert!(line.contains("\"route\":\"/v1/triage\""), "{line}");
    // One line per request: the audit event carries the completion.
    assert_eq!(
        logs.lines().filter(|l| l.contains("log-test-7f3a")).count(),
        1,
        "{logs}"
    );
    for secret in [
        // A weight value unlikely to appear in a timestamp or latency.
        "123.456",
        "quokka-9981",
        "not_applicable",
        "urinary_retention_new",
    ] {
        assert!(!logs.contains(secret), "log contains `{secret}`");
    }
}
