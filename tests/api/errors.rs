//! Bad input gets its documented problem+json, and the service keeps serving.

use serde_json::{json, Value};

use crate::helpers::spawn_app;

struct Case {
    what: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

fn case(what: &'static str, body: impl Into<Vec<u8>>, status: u16, code: &'static str) -> Case {
    Case {
        what,
        content_type: Some("application/json"),
        body: body.into(),
        status,
        code,
    }
}

fn deeply_nested(depth: usize) -> String {
    format!(
        r#"{{"answers": {{"age_years": 30, "sex": "male", "fever": {}{}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

#[tokio::test]
async fn bad_inputs_get_their_documented_problem() {
    let app = spawn_app().await;
    let big = format!(
        r#"{{"answers": {{"age_years": 30, "sex": "male"}}, "pad": "{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let cases = vec![
        case(
            "malformed JSON",
            r#"{"answers": {"age_years": 30,"#,
            400,
            "malformed_json",
        ),
        case("empty body", "", 400, "malformed_json"),
        Case {
            what: "wrong content type",
            content_type: Some("text/plain"),
            body: br#"{"answers": {}}"#.to_vec(),
            status: 415,
            code: "unsupported_media_type",
        },
        Case {
            what: "no content type",
            content_type: None,
            body: br#"{"answers": {}}"#.to_vec(),
            status: 415,
            code: "unsupported_media_type",
        },
        case("body over 64 KiB", big, 413, "payload_too_large"),
        case(
            "unknown code",
            r#"{"answers": {"age_years": 30, "sex": "male", "wobbly_knees": "present"}}"#,
            422,
            "unknown_answer_code",
        ),
        case(
            "misspelt code",
            r#"{"answers": {"age_years": 30, "sex": "male", "saddle_numbnes": "absent"}}"#,
            422,
            "unknown_answer_code",
        ),
        case(
            "wrong type",
            r#"{"answers": {"age_years": "thirty", "sex": "male"}}"#,
            422,
            "invalid_answer_value",
        ),
        case(
            "out-of-range number",
            r#"{"answers": {"age_years": 130, "sex": "male"}}"#,
            422,
            "invalid_answer_value",
        ),
        case(
            "fractional integer",
            r#"{"answers": {"age_years": 30.5, "sex": "male"}}"#,
            422,
            "invalid_answer_value",
        ),
        case(
            "out-of-range temperature",
            r#"{"answers": {"age_years": 30, "sex": "male", "temperature_c": 50}}"#,
            422,
            "invalid_answer_value",
        ),
        case(
            "missing age_years",
            r#"{"answers": {"sex": "male"}}"#,
            422,
            "missing_required_answer",
        ),
        case(
            "missing sex",
            r#"{"answers": {"age_years": 30}}"#,
            422,
            "missing_required_answer",
        ),
        case(
            "derived code sent as an answer",
            r#"{"answers": {"age_years": 30, "sex": "male", "sepsis_signs": "present"}}"#,
            422,
            "derived_answer_code",
        ),
        case(
            "array where a string is expected",
            r#"{"answers": {"age_years": 30, "sex": ["male"]}}"#,
            422,
            "invalid_answer_value",
        ),
        case(
            "object where a string is expected",
            r#"{"answers": {"age_years": 30, "sex": "male", "fever": {"v": 1}}}"#,
            422,
            "invalid_answer_value",
        ),
        case(
            "deeply nested JSON",
            deeply_nested(200),
            400,
            "malformed_json",
        ),
        case(
            "invalid UTF-8",
            b"{\"answers\": {\"age_years\": 30, \"sex\": \"m\xff\"}}".to_vec(),
            400,
            "malformed_json",
        ),
        case(
            "number out of range for JSON",
            r#"{"answers": {"age_years": 1e400, "sex": "male"}}"#,
            400,
            "malformed_json",
        ),
        case(
            "unknown option",
            r#"{"answers": {"age_years": 30, "sex": "male"}, "options": {"locale": "en"}}"#,
            422,
            "invalid_option",
        ),
        case(
            "language null",
            r#"{"answers": {"age_years": 30, "sex": "male"}, "options": {"language": null}}"#,
            422,
            "invalid_option",
        ),
        case(
            "language without a catalog",
            r#"{"answers": {"age_years": 30, "sex": "male"}, "options": {"language": "fr"}}"#,
            422,
            "invalid_option",
        ),
        case(
            "bad audience",
            r#"{"answers": {"age_years": 30, "sex": "male"}, "options": {"audience": "doctor"}}"#,
            422,
            "invalid_option",
        ),
        case("not an object", "[1, 2]", 422, "invalid_request_shape"),
        case(
            "answers missing",
            r#"{"options": {}}"#,
            422,
            "invalid_request_shape",
        ),
        case(
            "answers not an object",
            r#"{"answers": "none"}"#,
            422,
            "invalid_request_shape",
        ),
        case(
            "unknown top-level key",
            r#"{"answers": {"age_years": 30, "sex": "male"}, "extra": true}"#,
            422,
            "invalid_request_shape",
        ),
        case(
            "answers sent twice",
            r#"{"answers": {"age_years": 30, "sex": "male"}, "answers": {"age_years": 30, "sex": "male"}}"#,
            422,
            "invalid_request_shape",
        ),
        case(
            "an option sent twice",
            r#"{"answers": {"age_years": 30, "sex": "male"}, "options": {"audience": "clinician", "audience": "patient"}}"#,
            422,
            "invalid_option",
        ),
        case(
            "a safety screen answered twice (never last-wins)",
            r#"{"answers": {"age_years": 30, "sex": "male", "saddle_numbness": "present", "saddle_numbness": "absent"}}"#,
            422,
            "invalid_answer_value",
        ),
    ];
    for c in cases {
        let r = app.post_raw("/v1/triage", c.content_type, c.body).await;
        assert_eq!(r.status, c.status, "{}: {}", c.what, r.text);
        assert_eq!(
            r.headers.get("content-type").unwrap(),
            "application/problem+json",
            "{}",
            c.what
        );
        assert_eq!(r.body["code"], c.code, "{}: {}", c.what, r.text);
        assert_eq!(r.body["status"], c.status, "{}", c.what);
        assert_eq!(
            r.body["type"],
            format!("urn:spasm-triage:problem:{}", c.code),
            "{}",
            c.what
        );
        assert!(
            r.body["title"].is_string() && r.body["detail"].is_string(),
            "{}",
            c.what
        );
    }
    // Still serving.
    assert_eq!(app.get("/health").await.status, 200);
    let ok = app
        .post_triage(&json!({"answers": {"age_years": 30, "sex": "male"}}))
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn error_messages_name_the_field_never_the_value() {
    let app = spawn_app().await;
    let r = app
        .post_triage(&json!({"answers": {"age_years": 30, "sex": "zebra-7731"}}))
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.text.contains("zebra-7731"), "{}", r.text);
    assert_eq!(r.body["errors"][0]["path"], "/answers/sex");
}

fn without_detail(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("detail");
    }
    v
}

#[tokio::test]
async fn unknown_answer_code_json_is_pinned() {
    let app = spawn_app().await;
    let r = app
        .post_triage(
            &json!({"answers": {"age_years": 30, "sex": "male", "saddle_numbnes": "absent"}}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({
            "type": "urn:spasm-triage:problem:unknown_answer_code",
            "title": "An answer uses a code that is not in the vocabulary",
            "status": 422,
            "detail": "1 answer could not be accepted",
            "code": "unknown_answer_code",
            "errors": [{
                "path": "/answers/saddle_numbnes",
                "code": "unknown_answer_code",
                "message": "`saddle_numbnes` is not a vocabulary code; did you mean `saddle_numbness`?",
                "did_you_mean": ["saddle_numbness"]
            }]
        })
    );
}

#[tokio::test]
async fn answer_value_errors_json_is_pinned() {
    let app = spawn_app().await;
    let r = app
        .post_triage(
            &json!({"answers": {"age_years": 130, "sex": "male", "sepsis_signs": "present"}}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({
            "type": "urn:spasm-triage:problem:invalid_answer_value",
            "title": "An answer has a value its code does not allow",
            "status": 422,
            "detail": "2 answers could not be accepted",
            "code": "invalid_answer_value",
            "errors": [
                {"path": "/answers/age_years", "code": "invalid_answer_value", "message": "`age_years` must be a whole number from 0 to 120"},
                {"path": "/answers/sepsis_signs", "code": "derived_answer_code", "message": "`sepsis_signs` is worked out by the service from other answers and cannot be sent"}
            ]
        })
    );
    let r = app.post_triage(&json!({"answers": {"sex": "male"}})).await;
    assert_eq!(
        r.body,
        json!({
            "type": "urn:spasm-triage:problem:missing_required_answer",
            "title": "A required answer is missing",
            "status": 422,
            "detail": "1 answer could not be accepted",
            "code": "missing_required_answer",
            "errors": [{"path": "/answers/age_years", "code": "missing_required_answer", "message": "`age_years` is required"}]
        })
    );
}

#[tokio::test]
async fn shape_and_option_errors_json_is_pinned() {
    let app = spawn_app().await;
    let r = app.post_triage(&json!({"answers": []})).await;
    assert_eq!(
        r.body,
        json!({
            "type": "urn:spasm-triage:problem:invalid_request_shape",
            "title": "The request does not have the expected shape",
            "status": 422,
            "detail": "`answers` must be an object keyed by vocabulary code",
            "code": "invalid_request_shape",
            "errors": [{"path": "/answers", "code": "invalid_request_shape", "message": "`answers` must be an object keyed by vocabulary code"}]
        })
    );
    let r = app
        .post_triage(&json!({"answers": {}, "options": {"audience": "doctor"}}))
        .await;
    assert_eq!(
        r.body,
        json!({
            "type": "urn:spasm-triage:problem:invalid_option",
            "title": "An option is not valid",
            "status": 422,
            "detail": "`audience` must be \"patient\" or \"clinician\"",
            "code": "invalid_option",
            "errors": [{"path": "/options/audience", "code": "invalid_option", "message": "`audience` must be \"patient\" or \"clinician\""}]
        })
    );
}

#[tokio::test]
async fn transport_errors_json_is_pinned() {
    let app = spawn_app().await;
    let r = app
        .post_raw(
            "/v1/triage",
            Some("application/json"),
            b"{\"answers\": ".to_vec(),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"type": "urn:spasm-triage:problem:malformed_json", "title": "The request body is not valid JSON", "status": 400,
               "detail": "the JSON ends too early at line 1, column 12", "code": "malformed_json"})
    );
    let r = app
        .post_raw(
            "/v1/triage?saddle_numbness=present",
            Some("application/json"),
            br#"{"answers": {"age_years": 30, "sex": "male"}}"#.to_vec(),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"type": "urn:spasm-triage:problem:invalid_request_shape", "title": "The request does not have the expected shape", "status": 422,
               "detail": "`/v1/triage` takes no query parameters; send answers and options in the body", "code": "invalid_request_shape",
               "errors": [{"path": "", "code": "invalid_request_shape", "message": "`/v1/triage` takes no query parameters; send answers and options in the body"}]})
    );
    let r = app
        .post_raw("/v1/triage", Some("text/plain"), b"{}".to_vec())
        .await;
    assert_eq!(
        r.body,
        json!({"type": "urn:spasm-triage:problem:unsupported_media_type", "title": "The request body must be application/json", "status": 415,
               "detail": "send the body with Content-Type: application/json", "code": "unsupported_media_type"})
    );
    let r = app
        .post_raw("/v1/triage", Some("application/json"), vec![b' '; 70_000])
        .await;
    assert_eq!(
        r.body,
        json!({"type": "urn:spasm-triage:problem:payload_too_large", "title": "The request body is too large", "status": 413,
               "detail": "the body must be at most 65536 bytes", "code": "payload_too_large"})
    );
    let r = app.get("/v1/nothing-here").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        without_detail(r.body),
        json!({"type": "urn:spasm-triage:problem:not_found", "title": "No such resource", "status": 404, "code": "not_found"})
    );
    let r = app.get("/v1/triage").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers.get("allow").unwrap(), "POST");
    assert_eq!(
        r.body,
        json!({"type": "urn:spasm-triage:problem:method_not_allowed", "title": "Method not allowed on this resource", "status": 405,
               "detail": "GET is not allowed here; allowed: POST", "code": "method_not_allowed"})
    );
}

#[test]
fn internal_error_json_is_opaque() {
    use actix_web::ResponseError;
    use spasm_triage::http::error::{ApiError, ErrorCode};
    let e = ApiError::new(
        ErrorCode::Internal,
        "an internal error occurred; quote the X-Request-Id header",
    );
    assert_eq!(e.status_code().as_u16(), 500);
    assert_eq!(
        serde_json::to_value(e.problem()).unwrap(),
        json!({"type": "urn:spasm-triage:problem:internal", "title": "Internal error", "status": 500,
               "detail": "an internal error occurred; quote the X-Request-Id header", "code": "internal"})
    );
}

#[tokio::test]
async fn trailing_slash_with_an_allowed_method_is_not_found_not_method_not_allowed() {
    // Regression: `POST /v1/triage/` answered 405 "POST is not allowed here; allowed: POST".
    let app = spawn_app().await;
    let r = app
        .post_raw("/v1/triage/", Some("application/json"), b"{}".to_vec())
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body["code"], "not_found");
    assert_eq!(
        r.body["detail"],
        "no resource at this path; did you mean /v1/triage?"
    );
    let r = app.get("/v1/triage/").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers.get("allow").unwrap(), "POST");
}
