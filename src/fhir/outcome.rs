//! FHIR errors: an `OperationOutcome` carrying the same stable code as the JSON API
//! (reference §7.11), as `application/fhir+json`.

use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::api::error::ApiError;

pub const FHIR_JSON: &str = "application/fhir+json";

/// The FHIR issue type for a stable code (finer than the status where FHIR has a better word).
fn issue_type(code: &str, status: u16) -> &'static str {
    match code {
        "malformed_json" | "invalid_request_shape" => "structure",
        "unknown_answer_code" | "derived_answer_code" => "code-invalid",
        "invalid_answer_value" => "value",
        "missing_required_answer" => "required",
        _ => match status {
            401 => "security",
            404 => "not-found",
            405 | 415 => "not-supported",
            413 => "too-costly",
            429 => "throttled",
            408 => "timeout",
            500..=599 => "exception",
            _ => "invalid",
        },
    }
}

/// The OperationOutcome resource for an error: one issue per field error (each with its own
/// code, as in the problem's `errors[]`; the first is the problem's `code`), else one issue.
pub fn operation_outcome(error: &ApiError) -> serde_json::Value {
    let status = error.code.status().as_u16();
    let issue = |code: &str, text: &str| {
        json!({
            "severity": "error",
            "code": issue_type(code, status),
            "details": {
                "coding": [{ "system": "urn:spasm-triage:problem", "code": code }],
                "text": text
            }
        })
    };
    let mut issues: Vec<serde_json::Value> = error
        .errors
        .iter()
        .map(|e| {
            let mut i = issue(&e.code, &e.message);
            if !e.path.is_empty() {
                i["expression"] = json!([e.path]);
            }
            i
        })
        .collect();
    if issues.is_empty() {
        issues.push(issue(error.code.as_str(), &error.detail));
    }
    json!({ "resourceType": "OperationOutcome", "issue": issues })
}

/// An HTTP response with the error's status and its OperationOutcome.
pub fn operation_outcome_response(error: &ApiError) -> HttpResponse {
    // Reuse the problem response for status and headers (Allow, Retry-After, WWW-Authenticate).
    let mut response = error.error_response();
    let outcome = operation_outcome(error);
    let body = serde_json::to_vec(&super::Ordered(&outcome)).unwrap_or_default();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(FHIR_JSON),
    );
    response.set_body(actix_web::body::BoxBody::new(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::error::ErrorCode;

    #[test]
    fn every_issue_type_is_one_the_schema_declares() {
        for code in ErrorCode::ALL {
            let t = issue_type(code.as_str(), code.status().as_u16());
            assert!(
                super::super::schema::ISSUE_TYPES.contains(&t),
                "{code:?} gives `{t}`, missing from the OperationOutcome schema"
            );
        }
    }
}
