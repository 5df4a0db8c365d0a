//! FHIR errors: an `OperationOutcome` carrying the same stable code as the JSON API
//! (reference §7.11), as `application/fhir+json`.

use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::api::error::ApiError;

pub const FHIR_JSON: &str = "application/fhir+json";

/// The OperationOutcome resource for an error.
pub fn operation_outcome(error: &ApiError) -> serde_json::Value {
    let code = error.code.as_str();
    let issue_code = match error.code.status().as_u16() {
        401 => "security",
        404 => "not-found",
        405 | 415 => "not-supported",
        413 => "too-costly",
        429 => "throttled",
        408 => "timeout",
        500..=599 => "exception",
        _ => "invalid",
    };
    let details = |text: &str| {
        json!({
            "coding": [{ "system": "urn:spasm-triage:problem", "code": code }],
            "text": text
        })
    };
    let mut issues: Vec<serde_json::Value> = error
        .errors
        .iter()
        .map(|e| {
            json!({
                "severity": "error",
                "code": issue_code,
                "details": details(&e.message),
                "expression": [e.path.clone()]
            })
        })
        .collect();
    if issues.is_empty() {
        issues.push(
            json!({ "severity": "error", "code": issue_code, "details": details(&error.detail) }),
        );
    }
    json!({ "resourceType": "OperationOutcome", "issue": issues })
}

/// An HTTP response with the error's status and its OperationOutcome.
pub fn operation_outcome_response(error: &ApiError) -> HttpResponse {
    // Reuse the problem response for status and headers (Allow, Retry-After, WWW-Authenticate).
    let mut response = error.error_response();
    let body = serde_json::to_vec(&operation_outcome(error)).unwrap_or_default();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(FHIR_JSON),
    );
    response.set_body(actix_web::body::BoxBody::new(body))
}
