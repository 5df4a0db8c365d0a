//! CDS Hooks without a prefetch: the service asks the EHR's FHIR server itself, only when the
//! deployment allows that server, with the EHR's token, a timeout and no redirects. A FHIR
//! server fixture on loopback records what it was asked.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use spasm_triage::startup::Application;

use crate::fhir::form;
use crate::helpers::{
    captured_logs, embedded_kb, spawn_app, spawn_app_with, test_settings, TestApp,
};

const SERVICE: &str = "/cds-services/back-pain-triage";
const TOKEN: &str = "tok-7Hq2-fetch-secret";

/// A loopback FHIR server answering every request with `status`, `headers` and `body` after
/// `delay`; `asked` holds the head of each request it received.
struct FhirServer {
    origin: String,
    asked: Arc<Mutex<Vec<String>>>,
}

async fn fhir_server(status: &str, headers: &str, body: String, delay: Duration) -> FhirServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let (status, headers, log) = (status.to_owned(), headers.to_owned(), asked.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (status, headers, body, log) =
                (status.clone(), headers.clone(), body.clone(), log.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                tokio::time::sleep(delay).await;
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/fhir+json\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    FhirServer { origin, asked }
}

fn call(fhir_server: &str, authorization: Value) -> Value {
    json!({
        "hook": "patient-view",
        "hookInstance": uuid::Uuid::new_v4().to_string(),
        "fhirServer": fhir_server,
        "fhirAuthorization": authorization,
        "context": {"userId": "Practitioner/dr-1", "patientId": "pt-7c1q"}
    })
}

fn bearer() -> Value {
    json!({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300,
           "scope": "patient/QuestionnaireResponse.read", "subject": "cds-service"})
}

async fn post(app: &TestApp, body: &Value) -> crate::helpers::Reply {
    app.post_raw(
        SERVICE,
        Some("application/json"),
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

/// A searchset Bundle holding the patient's saddle-numbness response (an emergency).
async fn saddle_bundle(app: &TestApp) -> String {
    let form = form(app).await;
    let mut qr = form.response(
        json!({"age_years": 34, "sex": "male", "saddle_numbness": "present"})
            .as_object()
            .unwrap(),
    );
    qr["id"] = json!("qr-fetched");
    qr["subject"] = json!({"reference": "Patient/pt-7c1q"});
    qr["authored"] = json!("2026-01-15T09:00:00Z");
    json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": qr}]}).to_string()
}

async fn app_allowing(origins: &[&str], timeout_ms: u64) -> TestApp {
    let mut settings = test_settings();
    settings.cds.fhir_servers = origins.iter().map(|o| (*o).to_owned()).collect();
    settings.cds.fetch_timeout_ms = timeout_ms;
    spawn_app_with(settings).await
}

#[tokio::test]
async fn without_a_prefetch_the_allowed_fhir_server_is_asked_with_the_ehr_token() {
    let plain = spawn_app().await;
    let bundle = saddle_bundle(&plain).await;
    let ehr = fhir_server("200 OK", "", bundle, Duration::ZERO).await;
    let app = app_allowing(&[&ehr.origin], 3000).await;
    let r = post(&app, &call(&format!("{}/fhir/", ehr.origin), bearer())).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let card = &r.body["cards"][0];
    assert_eq!(card["indicator"], "critical", "{card}");
    assert_eq!(
        card["suggestions"][0]["actions"][0]["resource"]["supportingInfo"][0]["reference"],
        "QuestionnaireResponse/qr-fetched"
    );
    let asked = ehr.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1, "{asked:?}");
    let head = asked[0].to_ascii_lowercase();
    // The discovery's prefetch template, filled in.
    assert!(
        head.starts_with("get /fhir/questionnaireresponse?subject=patient%2fpt-7c1q&questionnaire=urn%3aspasm-triage%3aquestionnaire%2fback-pain-triage&_sort=-authored&_count=1 http/1.1"),
        "{head}"
    );
    assert!(head.contains(&format!(
        "authorization: bearer {}",
        TOKEN.to_ascii_lowercase()
    )));
    assert!(head.contains("accept: application/fhir+json"));
    let logs = captured_logs();
    assert!(!logs.contains(TOKEN), "the EHR's token reached the logs");
}

#[tokio::test]
async fn no_allowed_server_no_query_and_412() {
    let plain = spawn_app().await;
    let bundle = saddle_bundle(&plain).await;
    let ehr = fhir_server("200 OK", "", bundle, Duration::ZERO).await;
    // The default deployment queries nobody.
    let r = post(&plain, &call(&format!("{}/fhir", ehr.origin), bearer())).await;
    assert_eq!(r.status, 412, "{}", r.text);
    assert_eq!(r.body["code"], "prefetch_missing");
    // A deployment that allows another server does not query this one.
    let app = app_allowing(&["https://ehr.example.org"], 3000).await;
    let r = post(&app, &call(&format!("{}/fhir", ehr.origin), bearer())).await;
    assert_eq!(r.status, 412, "{}", r.text);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("cds.fhir_servers"));
    // Allowed, but the call gives no token: the service does not query without one.
    let app = app_allowing(&[&ehr.origin], 3000).await;
    let mut no_token = call(&format!("{}/fhir", ehr.origin), Value::Null);
    no_token
        .as_object_mut()
        .unwrap()
        .remove("fhirAuthorization");
    let r = post(&app, &no_token).await;
    assert_eq!(r.status, 412, "{}", r.text);
    assert!(ehr.asked.lock().unwrap().is_empty(), "a server was queried");
}

#[tokio::test]
async fn what_the_fhir_server_answers_wrong_is_412_and_redirects_are_not_followed() {
    let plain = spawn_app().await;
    let bundle = saddle_bundle(&plain).await;
    let elsewhere = fhir_server("200 OK", "", bundle, Duration::ZERO).await;
    let outcome = json!({"resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "forbidden"}]})
    .to_string();
    let cases = [
        (
            "refused",
            fhir_server("401 Unauthorized", "", "{}".into(), Duration::ZERO).await,
            "HTTP 401",
        ),
        (
            "redirected",
            fhir_server(
                "302 Found",
                &format!(
                    "location: {}/fhir/QuestionnaireResponse\r\n",
                    elsewhere.origin
                ),
                String::new(),
                Duration::ZERO,
            )
            .await,
            "HTTP 302",
        ),
        (
            "slow",
            fhir_server("200 OK", "", "{}".into(), Duration::from_secs(3)).await,
            "no answer within 300 ms",
        ),
        (
            "not JSON",
            fhir_server("200 OK", "", "<Bundle/>".into(), Duration::ZERO).await,
            "not JSON",
        ),
        (
            "an OperationOutcome",
            fhir_server("200 OK", "", outcome, Duration::ZERO).await,
            "could not fetch",
        ),
        (
            "too large",
            fhir_server(
                "200 OK",
                "",
                format!("\"{}\"", "x".repeat(1 << 21)),
                Duration::ZERO,
            )
            .await,
            "1 MiB",
        ),
    ];
    for (what, ehr, said) in &cases {
        let app = app_allowing(&[&ehr.origin], 300).await;
        let r = post(&app, &call(&format!("{}/fhir", ehr.origin), bearer())).await;
        assert_eq!(r.status, 412, "{what}: {}", r.text);
        assert_eq!(r.body["code"], "prefetch_missing", "{what}");
        assert!(
            r.body["detail"].as_str().unwrap().contains(said),
            "{what}: {}",
            r.body["detail"]
        );
        assert_eq!(ehr.asked.lock().unwrap().len(), 1, "{what}");
    }
    assert!(
        elsewhere.asked.lock().unwrap().is_empty(),
        "a redirect took the token to another server"
    );
}

#[tokio::test]
async fn a_malformed_fhir_authorization_is_the_callers_mistake() {
    let app = app_allowing(&["http://127.0.0.1:9"], 300).await;
    for (what, auth, path) in [
        ("not an object", json!("Bearer x"), "/fhirAuthorization"),
        (
            "no token",
            json!({"token_type": "Bearer"}),
            "/fhirAuthorization/access_token",
        ),
        (
            "not a bearer token",
            json!({"access_token": "x", "token_type": "MAC"}),
            "/fhirAuthorization/token_type",
        ),
        (
            "fhirServer not a URL",
            json!({"access_token": "x", "token_type": "Bearer"}),
            "/fhirServer",
        ),
        (
            "subject not a string",
            json!({"access_token": "x", "token_type": "Bearer", "subject": 7}),
            "/fhirAuthorization/subject",
        ),
        (
            "expires_in not seconds",
            json!({"access_token": "x", "token_type": "Bearer", "expires_in": "soon"}),
            "/fhirAuthorization/expires_in",
        ),
    ] {
        let server = if path == "/fhirServer" {
            "ehr fhir"
        } else {
            "http://127.0.0.1:9/fhir"
        };
        let r = post(&app, &call(server, auth.clone())).await;
        assert_eq!(r.status, 422, "{what}: {}", r.text);
        assert_eq!(r.body["code"], "invalid_request_shape", "{what}");
        assert_eq!(r.body["errors"][0]["path"], path, "{what}");
        if path == "/fhirServer" {
            continue;
        }
        // Checked whether or not it would be used.
        let mut without_server = call("http://127.0.0.1:9/fhir", auth);
        without_server.as_object_mut().unwrap().remove("fhirServer");
        let r = post(&app, &without_server).await;
        assert_eq!(r.status, 422, "{what}, no fhirServer: {}", r.text);
    }
}

#[test]
fn start_up_refuses_a_fhir_server_that_is_not_a_callable_origin() {
    for bad in [
        "http://ehr.example.org",
        "https://ehr.example.org/fhir",
        "https://user:pw@ehr.example.org",
        "ehr.example.org",
    ] {
        let mut settings = test_settings();
        settings.cds.fhir_servers = vec![bad.to_owned()];
        let err = Application::build(&settings, embedded_kb())
            .err()
            .unwrap_or_else(|| panic!("{bad} was accepted"));
        assert!(err.to_string().contains("cds.fhir_servers"), "{bad}: {err}");
    }
}
