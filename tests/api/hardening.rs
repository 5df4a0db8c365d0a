//! Production hardening against the real server: keys, CORS, headers, limits, metrics, audit.

use serde_json::json;
use sha2::{Digest, Sha256};
use spasm_triage::configuration::ApiKey;

use crate::helpers::{captured_logs, spawn_app, spawn_app_with, test_settings};

const KEY: &str = "test-key-4b1d9e";

async fn app_with_keys() -> crate::helpers::TestApp {
    let mut settings = test_settings();
    settings.auth.enabled = true;
    settings.auth.keys = vec![ApiKey {
        client: "clinic-hardening".into(),
        sha256: hex::encode(Sha256::digest(KEY.as_bytes())),
    }];
    spawn_app_with(settings).await
}

fn triage_body() -> serde_json::Value {
    json!({"answers": {"age_years": 41, "sex": "male"}})
}

#[tokio::test]
async fn without_a_valid_key_the_api_answers_401() {
    let app = app_with_keys().await;
    let url = format!("{}/v1/triage", app.address);
    let none = app
        .client
        .post(&url)
        .json(&triage_body())
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    assert_eq!(none.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = none.json().await.unwrap();
    assert_eq!(
        body,
        json!({"type": "urn:spasm-triage:problem:unauthorized", "title": "A valid API key is required", "status": 401,
               "detail": "send a valid API key", "code": "unauthorized"})
    );
    let wrong = app
        .client
        .post(&url)
        .bearer_auth("nope")
        .json(&triage_body())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let bearer = app
        .client
        .post(&url)
        .bearer_auth(KEY)
        .json(&triage_body())
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
    let header = app
        .client
        .post(&url)
        .header("x-api-key", KEY)
        .json(&triage_body())
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), 200);
    // The scheme name is case-insensitive.
    let lowercase = app
        .client
        .post(&url)
        .header("authorization", format!("bearer {KEY}"))
        .json(&triage_body())
        .send()
        .await
        .unwrap();
    assert_eq!(lowercase.status(), 200);
    // Probes stay open.
    assert_eq!(
        app.client
            .get(format!("{}/health", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.client
            .get(format!("{}/metrics", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.client
            .get(format!("{}/v1/vocabulary", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn the_audit_event_names_the_client_and_holds_no_answers() {
    let app = app_with_keys().await;
    let body = json!({"answers": {"age_years": 93, "sex": "female", "weight_kg": 77.77, "pregnancy_status": "not_applicable", "saddle_numbness": "present"}});
    let r = app
        .client
        .post(format!("{}/v1/triage", app.address))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let assessment: serde_json::Value = r.json().await.unwrap();
    let id = assessment["assessment_id"].as_str().unwrap().to_owned();
    let mut line = None;
    for _ in 0..50 {
        line = captured_logs()
            .lines()
            .find(|l| l.contains(&id) && l.contains("\"target\":\"audit\""))
            .map(str::to_owned);
        if line.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let line = line.expect("audit event for the assessment");
    let event: serde_json::Value = serde_json::from_str(&line).unwrap();
    let fields = &event["fields"];
    assert_eq!(fields["client"], "clinic-hardening");
    assert_eq!(fields["level"], "emergency");
    assert!(fields["rule_ids"].as_str().unwrap().contains("R01"));
    assert_eq!(
        fields["knowledge_base_digest"],
        assessment["knowledge_base"]["digest"]
    );
    assert_eq!(fields["complete"], false);
    assert_eq!(fields["missing_screens"], 11);
    assert!(fields["time"].as_str().unwrap().ends_with('Z'));
    for secret in [
        "77.77",
        "not_applicable",
        "saddle_numbness",
        "\"93\"",
        ":93",
    ] {
        assert!(
            !line.contains(secret),
            "audit line contains {secret}: {line}"
        );
    }
    assert!(!captured_logs().contains(KEY), "the key reached the logs");
}

#[tokio::test]
async fn allowed_origins_get_cors_headers_and_others_do_not() {
    let mut settings = test_settings();
    settings.cors.allowed_origins = vec!["https://intake.example.org".into()];
    let app = spawn_app_with(settings).await;
    let url = format!("{}/v1/triage", app.address);
    let allowed = app
        .client
        .post(&url)
        .header("origin", "https://intake.example.org")
        .json(&triage_body())
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://intake.example.org"
    );
    // Vary may come as several header lines (Accept-Language from the handler, Origin here).
    assert!(allowed
        .headers()
        .get_all("vary")
        .iter()
        .any(|v| v.to_str().unwrap().contains("Origin")));
    let other = app
        .client
        .post(&url)
        .header("origin", "https://evil.example.com")
        .json(&triage_body())
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://intake.example.org")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, authorization",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert!(preflight.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert!(preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));
    let refused = app
        .client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let mut settings = test_settings();
    settings.security.hsts_max_age_secs = 31_536_000;
    let app = spawn_app_with(settings).await;
    for path in ["/health", "/v1/vocabulary", "/docs/", "/nowhere"] {
        let r = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(h["strict-transport-security"], "max-age=31536000", "{path}");
    }
    let plain = spawn_app().await;
    let r = plain
        .client
        .get(format!("{}/health", plain.address))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
    let triage = plain.post_triage(&triage_body()).await;
    assert_eq!(triage.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn over_the_rate_limit_the_api_answers_429_with_retry_after() {
    let mut settings = test_settings();
    settings.rate_limit.enabled = true;
    settings.rate_limit.requests_per_minute = 1;
    settings.rate_limit.burst = 2;
    let app = spawn_app_with(settings).await;
    assert_eq!(app.post_triage(&triage_body()).await.status, 200);
    assert_eq!(app.post_triage(&triage_body()).await.status, 200);
    let limited = app.post_triage(&triage_body()).await;
    assert_eq!(limited.status, 429);
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(limited.body["code"], "rate_limited");
    assert_eq!(limited.headers["content-type"], "application/problem+json");
    // Probes are not limited.
    assert_eq!(app.get("/health").await.status, 200);
}

fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_requests_and_assessments() {
    let app = spawn_app().await;
    let before = app.get("/metrics").await.text;
    assert_eq!(app.post_triage(&json!({"answers": {"age_years": 52, "sex": "male", "urinary_retention_new": "present"}})).await.status, 200);
    assert_eq!(
        app.post_triage(&json!({"answers": {"age_years": 52}}))
            .await
            .status,
        422
    );
    let after = app.get("/metrics").await;
    assert!(after.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = after.text;
    let ok = "http_requests_total{route=\"/v1/triage\",method=\"POST\",status=\"200\"}";
    let bad = "http_requests_total{route=\"/v1/triage\",method=\"POST\",status=\"422\"}";
    assert_eq!(metric(&text, ok), metric(&before, ok) + 1.0, "{text}");
    assert_eq!(metric(&text, bad), metric(&before, bad) + 1.0);
    let emergency = "triage_assessments_total{level=\"emergency\"}";
    assert_eq!(metric(&text, emergency), metric(&before, emergency) + 1.0);
    assert!(text.contains("http_request_duration_seconds_bucket{route=\"/v1/triage\",method=\"POST\",status=\"200\",le=\"+Inf\"}"));
    let version = crate::helpers::embedded_kb().version.clone();
    assert!(text.contains(&format!(
        "knowledge_base_info{{version=\"{version}\",digest=\"sha256:"
    )));
    assert!(text.contains("build_info{version="));
    assert!(!text.contains("urinary_retention_new"));
}

#[tokio::test]
async fn a_body_that_trickles_in_past_the_request_timeout_gets_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut settings = test_settings();
    settings.server.request_timeout_secs = 1;
    let app = spawn_app_with(settings).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    for (path, content_type, code) in [
        (
            "/v1/triage",
            "application/json",
            "\"code\":\"request_timeout\"",
        ),
        (
            "/fhir/QuestionnaireResponse/$triage",
            "application/fhir+json",
            "\"resourceType\":\"OperationOutcome\"",
        ),
        (
            "/cds-services/back-pain-triage",
            "application/json",
            "\"code\":\"request_timeout\"",
        ),
    ] {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        // The head promises 400 bytes; 10 arrive and the rest never does.
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\n\
             Content-Length: 400\r\n\r\n{{\"answers\""
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let started = std::time::Instant::now();
        let mut reply = Vec::new();
        let mut buf = [0u8; 4096];
        // Read until the response is complete or the server closes (bounded by the test).
        while !String::from_utf8_lossy(&reply).contains(code) {
            let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buf))
                .await
                .expect("no response within 10 s")
                .unwrap();
            if n == 0 {
                break;
            }
            reply.extend_from_slice(&buf[..n]);
        }
        let reply = String::from_utf8_lossy(&reply);
        assert!(reply.starts_with("HTTP/1.1 408"), "{path}: {reply}");
        assert!(reply.contains(code), "{path}: {reply}");
        let waited = started.elapsed();
        assert!(
            waited >= std::time::Duration::from_millis(900),
            "{path}: answered after {waited:?}, before the timeout"
        );
    }
}

#[tokio::test]
async fn refusals_under_fhir_are_operation_outcomes() {
    let app = app_with_keys().await;
    let r = app
        .client
        .get(format!(
            "{}/fhir/Questionnaire/back-pain-triage",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/fhir+json");
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["resourceType"], "OperationOutcome");
    assert_eq!(body["issue"][0]["code"], "security");
    assert_eq!(
        body["issue"][0]["details"]["coding"][0]["code"],
        "unauthorized"
    );
    // Outside /fhir/ the same refusal stays problem+json.
    let r = app
        .client
        .get(format!("{}/cds-services", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn made_up_methods_and_paths_never_become_labels_or_log_fields() {
    let app = spawn_app().await;
    let before = app.get("/metrics").await.text;
    let filler = "A".repeat(1000);
    for i in 0..40 {
        let method = reqwest::Method::from_bytes(format!("M{i}{filler}").as_bytes()).unwrap();
        let r = app
            .client
            .request(method, format!("{}/made-up-{i}-{filler}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        // A known path with an unknown method: 405, and the method is not echoed.
        let method = reqwest::Method::from_bytes(format!("X{i}{filler}").as_bytes()).unwrap();
        let r = app
            .client
            .request(method, format!("{}/v1/triage", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405);
        assert!(!r.text().await.unwrap().contains(&filler));
    }
    let after = app.get("/metrics").await.text;
    assert!(!after.contains(&filler), "a client string became a label");
    assert!(!after.contains("made-up"), "a raw path became a label");
    let other = "http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"}";
    assert_eq!(
        metric(&after, other),
        metric(&before, other) + 40.0,
        "{after}"
    );
    let known = "http_requests_total{route=\"/v1/triage\",method=\"other\",status=\"405\"}";
    assert!(metric(&after, known) >= 40.0, "{after}");
    // Bounded: 80 odd requests add at most a few series, not 80.
    assert!(
        after.len() < before.len() + 8_000,
        "{} -> {}",
        before.len(),
        after.len()
    );
    assert!(
        !captured_logs().contains(&filler),
        "a client method reached the logs"
    );
}

#[tokio::test]
async fn wrong_keys_are_throttled_per_peer_with_retry_after() {
    let app = app_with_keys().await;
    let url = format!("{}/v1/triage", app.address);
    let send = |key: &'static str, forwarded: Option<&'static str>| {
        let mut req = app.client.post(&url).bearer_auth(key).json(&triage_body());
        if let Some(f) = forwarded {
            req = req.header("x-forwarded-for", f);
        }
        req.send()
    };
    // The default allowance: 10 failures at once.
    for i in 0..10 {
        assert_eq!(
            send("wrong", None).await.unwrap().status(),
            401,
            "attempt {i}"
        );
    }
    let limited = send("wrong", None).await.unwrap();
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        limited.headers()["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value = limited.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Throttled before any credential is checked, so guessing gains nothing meanwhile.
    assert_eq!(send(KEY, None).await.unwrap().status(), 429);
    // A forwarded header from a peer that is not a trusted proxy is no fresh identity.
    assert_eq!(
        send("wrong", Some("203.0.113.9")).await.unwrap().status(),
        429
    );
    // Probes stay open.
    assert_eq!(app.get("/health").await.status, 200);
}

#[tokio::test]
async fn behind_a_trusted_proxy_failures_count_per_forwarded_client() {
    let mut settings = test_settings();
    settings.auth.enabled = true;
    settings.auth.keys = vec![ApiKey {
        client: "clinic-proxy".into(),
        sha256: hex::encode(Sha256::digest(KEY.as_bytes())),
    }];
    settings.auth.failure_burst = 2;
    settings.auth.trusted_proxies = vec!["127.0.0.1".into()];
    let app = spawn_app_with(settings).await;
    let url = format!("{}/v1/vocabulary", app.address);
    let send = |forwarded: &'static str| {
        app.client
            .get(&url)
            .header("x-api-key", "wrong")
            .header("x-forwarded-for", forwarded)
            .send()
    };
    // The proxy appends the client it saw; earlier entries are the client's own claims.
    assert_eq!(send("198.51.100.1, 10.0.0.1").await.unwrap().status(), 401);
    assert_eq!(send("198.51.100.2, 10.0.0.1").await.unwrap().status(), 401);
    assert_eq!(send("10.0.0.1").await.unwrap().status(), 429);
    assert_eq!(send("10.0.0.2").await.unwrap().status(), 401);
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut settings = test_settings();
    settings.server.workers = 1;
    settings.server.max_connections = 1;
    let app = spawn_app_with(settings).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let request = format!("GET /health HTTP/1.1\r\nHost: {address}\r\n\r\n");
    async fn read_reply(stream: &mut tokio::net::TcpStream) -> String {
        let mut reply = Vec::new();
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&reply).contains("{\"status\":\"ok\"}") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed: {}", String::from_utf8_lossy(&reply));
            reply.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&reply).into_owned()
    }
    let mut first = tokio::net::TcpStream::connect(&address).await.unwrap();
    first.write_all(request.as_bytes()).await.unwrap();
    assert!(read_reply(&mut first).await.starts_with("HTTP/1.1 200"));
    // The first connection stays open (keep-alive): the second waits in the backlog.
    let mut second = tokio::net::TcpStream::connect(&address).await.unwrap();
    second.write_all(request.as_bytes()).await.unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(
        std::time::Duration::from_millis(500),
        second.read(&mut byte),
    )
    .await;
    assert!(early.is_err(), "served over the cap: {early:?}");
    drop(first);
    let reply = tokio::time::timeout(std::time::Duration::from_secs(10), read_reply(&mut second))
        .await
        .expect("served once the first connection closed");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

/// What actix-http answers before any route or middleware runs (README, "Errors"): a bare
/// status, no body, and the connection closed. Pinned so a change in actix is noticed; the
/// service cannot hook these (see the README for why).
#[tokio::test]
async fn framework_errors_before_routing_are_bare() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let many_headers: String = (0..100).map(|i| format!("x-h{i}: v\r\n")).collect();
    for (what, request, status) in [
        ("not HTTP", "GARBAGE\r\n\r\n".to_owned(), "HTTP/1.1 400"),
        (
            "conflicting framing",
            "POST /v1/triage HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
                .to_owned(),
            "HTTP/1.1 400",
        ),
        (
            "over 96 headers",
            format!("GET /health HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n"),
            "HTTP/1.1 431",
        ),
    ] {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut reply = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            stream.read_to_end(&mut reply),
        )
        .await
        .expect("closed by the server")
        .unwrap();
        let reply = String::from_utf8_lossy(&reply).to_ascii_lowercase();
        assert!(
            reply.starts_with(&status.to_ascii_lowercase()),
            "{what}: {reply}"
        );
        assert!(reply.contains("content-length: 0"), "{what}: {reply}");
        assert!(!reply.contains("problem+json"), "{what}: {reply}");
    }
}
