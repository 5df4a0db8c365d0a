//! FHIR errors: an `OperationOutcome` carrying the same stable code as the JSON API
//! (reference §7.11), as `application/fhir+json`.

use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::error::ApiError;

pub const FHIR_JSON: &str = "application/fhir+json";

/// Where the FHIR face is mounted; errors under it are OperationOutcomes.
pub const FHIR_SCOPE: &str = "/fhir";

/// Whether `path` is under the FHIR API.
pub fn serves_fhir(path: &str) -> bool {
    path.strip_prefix(FHIR_SCOPE)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// JSON with `resourceType`, `id`, `url`, `linkId` and `name` first in every object
/// (FHIR's convention; serde_json's maps are otherwise sorted).
pub struct Ordered<'a>(pub &'a Value);

const FIRST_KEYS: [&str; 5] = ["resourceType", "id", "url", "linkId", "name"];

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for key in FIRST_KEYS {
                    if let Some(v) = map.get(key) {
                        m.serialize_entry(key, &Ordered(v))?;
                    }
                }
                for (k, v) in map {
                    if !FIRST_KEYS.contains(&k.as_str()) {
                        m.serialize_entry(k, &Ordered(v))?;
                    }
                }
                m.end()
            }
            Value::Array(list) => {
                let mut seq = s.serialize_seq(Some(list.len()))?;
                for v in list {
                    seq.serialize_element(&Ordered(v))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

/// The FHIR issue type for a stable code (finer than the status where FHIR has a better word).
pub fn issue_type(code: &str, status: u16) -> &'static str {
    match code {
        "malformed_json" | "invalid_request_shape" => "structure",
        "unknown_answer_code" | "derived_answer_code" => "code-invalid",
        "invalid_answer_value" => "value",
        "missing_required_answer" => "required",
        _ => match status {
            401 => "security",
            404 => "not-found",
            405 | 406 | 415 => "not-supported",
            413 => "too-costly",
            429 => "throttled",
            408 => "timeout",
            500..=599 => "exception",
            _ => "invalid",
        },
    }
}

/// A generated XHTML narrative (`text`) of one paragraph: R4 wants one on every resource
/// that is not contained (dom-6).
pub fn narrative(text: &str) -> Value {
    json!({
        "status": "generated",
        "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{}</p></div>", escape_xml(text)),
    })
}

/// Text for XHTML: the five XML specials escaped.
pub fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
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
    json!({ "resourceType": "OperationOutcome", "text": narrative(&format!("{}: {}", error.code.title(), error.detail)), "issue": issues })
}

/// An HTTP response with the error's status and its OperationOutcome.
pub fn operation_outcome_response(error: &ApiError) -> HttpResponse {
    // Reuse the problem response for status and headers (Allow, Retry-After, WWW-Authenticate).
    let mut response = error.error_response();
    let outcome = operation_outcome(error);
    let body = serde_json::to_vec(&Ordered(&outcome)).unwrap_or_default();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(FHIR_JSON),
    );
    response.set_body(actix_web::body::BoxBody::new(body))
}
