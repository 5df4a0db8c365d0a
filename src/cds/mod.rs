//! CDS Hooks 2.0: discovery, the `patient-view` back-pain service, and feedback.
//!
//! The service reads the patient's newest QuestionnaireResponse for the `back-pain-triage`
//! Questionnaire from the prefetch, maps it exactly like `POST /fhir/QuestionnaireResponse/$triage`
//! (same validation, same engine), and answers with one card. Errors are problem+json;
//! `412 prefetch_missing` when the prefetch lacks the response. `Authorization: Bearer` on
//! these paths is the EHR's JWT (CDS Hooks security), never an API key (reference §7.11).

pub mod card;
pub mod dto;

use actix_web::http::header;
use actix_web::{guard, web, HttpMessage, HttpRequest, HttpResponse};
use serde_json::{Map, Value};
use utoipa::OpenApi;

use crate::api::error::{ApiError, ErrorCode, Problem};
use crate::api::triage::{malformed, read_body, require_json};
use crate::api::AppState;
use crate::engine::Audience;
use crate::fhir::mapping::is_our_questionnaire;
use crate::fhir::questionnaire::QUESTIONNAIRE_URL;
use dto::{CdsCards, CdsFeedbackAck, CdsFeedbackRequest, CdsRequest, CdsServices};

/// The one service's id: `POST /cds-services/back-pain-triage`.
pub const SERVICE_ID: &str = "back-pain-triage";
/// The prefetch key the service needs.
pub const PREFETCH_KEY: &str = "questionnaireResponse";
/// The hook the service answers.
pub const HOOK: &str = "patient-view";

/// CDS Hooks paths, merged into the service's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(discovery, service, feedback),
    tags((name = "cds-hooks", description = "CDS Hooks 2.0: discovery, the `patient-view` back-pain triage \
        service (one card from the patient's newest back-pain-triage QuestionnaireResponse) and card feedback. \
        `Authorization: Bearer` carries the EHR's JWT and is never read as an API key: send keys in `X-API-Key`."))
)]
pub struct CdsApiDoc;

/// Register the CDS Hooks handlers; other methods fall through to the service's 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/cds-services")
            .guard(guard::Get())
            .to(discovery),
    )
    .service(
        web::resource("/cds-services/{id}")
            .guard(guard::Post())
            .to(service),
    )
    .service(
        web::resource("/cds-services/{id}/feedback")
            .guard(guard::Post())
            .to(feedback),
    );
}

fn problem(error: ApiError) -> HttpResponse {
    actix_web::ResponseError::error_response(&error)
}

fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!(
            "no CDS service with this id; the service is `{SERVICE_ID}` (see GET /cds-services)"
        ),
    )
}

fn shape(path: &str, message: impl Into<String>) -> ApiError {
    ApiError::field(ErrorCode::InvalidRequestShape, path, message)
}

/// A token safe to log: 1–64 characters from `[A-Za-z0-9._:-]`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<crate::telemetry::RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

fn client(req: &HttpRequest) -> String {
    req.extensions()
        .get::<crate::security::Client>()
        .map(|c| c.0.clone())
        .unwrap_or_else(|| "anonymous".to_owned())
}

/// Discover the CDS services
///
/// CDS Hooks 2.0 discovery: one `patient-view` service, `back-pain-triage`, with the prefetch
/// template for the patient's newest back-pain-triage QuestionnaireResponse.
#[utoipa::path(
    get,
    path = "/cds-services",
    operation_id = "cdsDiscovery",
    tag = "cds-hooks",
    security(("ApiKey" = [])),
    responses(
        (status = 200, description = "The service descriptors", body = CdsServices,
            headers(("X-Request-Id" = String, description = "Request id for support")),
            example = json!(dto::services())),
        (status = 401, description = "No valid `X-API-Key` (`unauthorized`); only when the deployment enables keys",
            body = Problem, content_type = "application/problem+json"),
        (status = 405, description = "Method not allowed (`method_not_allowed`), with `Allow`",
            body = Problem, content_type = "application/problem+json",
            headers(("Allow" = String, description = "`GET`"))),
        (status = 429, description = "Rate limit spent (`rate_limited`); only when the deployment enables rate limits",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
pub async fn discovery() -> HttpResponse {
    HttpResponse::Ok().json(dto::services())
}

/// Call the back-pain triage service
///
/// CDS Hooks 2.0 service call for the `patient-view` hook. The prefetch `questionnaireResponse`
/// is a QuestionnaireResponse for `urn:spasm-triage:Questionnaire/back-pain-triage`, or a
/// searchset Bundle of them (the newest `authored` is used; responses entered in error, for
/// another Questionnaire or about another patient than `context.patientId` are skipped). It is
/// mapped exactly like `POST /fhir/QuestionnaireResponse/$triage` and assessed for a clinician.
/// The answer is one card: `critical` for emergency levels, `warning` for `consultation_24`,
/// `info` otherwise, with the fired rules, their triggering answers and the unanswered safety
/// screens in `detail`. Without the prefetch: `412 prefetch_missing` (the service does not
/// query the FHIR server).
#[utoipa::path(
    post,
    path = "/cds-services/{id}",
    operation_id = "cdsService",
    tag = "cds-hooks",
    security(("ApiKey" = [])),
    params(("id" = String, Path, description = "The service id: `back-pain-triage`")),
    request_body(content = CdsRequest, content_type = "application/json",
        example = json!(dto::request_example())),
    responses(
        (status = 200, description = "One card", body = CdsCards,
            headers(("Cache-Control" = String, description = "`no-store`"), ("X-Request-Id" = String, description = "Request id for support")),
            example = json!(dto::cards_example())),
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = Problem, content_type = "application/problem+json",
            example = json!(dto::problem(ErrorCode::MalformedJson, "syntax error at line 1, column 12"))),
        (status = 401, description = "No valid `X-API-Key` (`unauthorized`); only when the deployment enables keys",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No service with this id (`not_found`)", body = Problem, content_type = "application/problem+json",
            example = json!(dto::problem_of(&not_found()))),
        (status = 405, description = "Method not allowed (`method_not_allowed`), with `Allow`",
            body = Problem, content_type = "application/problem+json",
            headers(("Allow" = String, description = "`POST`"))),
        (status = 412, description = "The prefetch lacks the QuestionnaireResponse (`prefetch_missing`)",
            body = Problem, content_type = "application/problem+json",
            example = json!(dto::problem_of(&prefetch_missing("the prefetch has no `questionnaireResponse`")))),
        (status = 413, description = "Body over the limit (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a usable CDS Hooks request, or the QuestionnaireResponse cannot be assessed: \
            `invalid_request_shape`, `unknown_answer_code`, `derived_answer_code`, `invalid_answer_value`, `missing_required_answer`; \
            `path` points into the request",
            body = Problem, content_type = "application/problem+json",
            example = json!(dto::unknown_code_example())),
        (status = 429, description = "Rate limit spent (`rate_limited`); only when the deployment enables rate limits",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
pub async fn service(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    match run_service(&req, &id, payload, &state).await {
        Ok(response) => response,
        Err(error) => problem(error),
    }
}

fn prefetch_missing(detail: &str) -> ApiError {
    ApiError::new(
        ErrorCode::PrefetchMissing,
        format!(
            "{detail}; send prefetch `{PREFETCH_KEY}`: the patient's newest QuestionnaireResponse for \
             {QUESTIONNAIRE_URL} (see GET /cds-services)"
        ),
    )
}

/// The checked parts of a service call.
struct Call<'a> {
    hook_instance: &'a str,
    patient_id: &'a str,
    prefetch: &'a Value,
}

fn parse_call(body: &Value) -> Result<Call<'_>, ApiError> {
    let Value::Object(top) = body else {
        return Err(shape(
            "",
            "the body must be a CDS Hooks request (a JSON object)",
        ));
    };
    match top.get("hook").and_then(Value::as_str) {
        Some(HOOK) => {}
        Some(_) => {
            return Err(shape(
                "/hook",
                format!("this service answers the `{HOOK}` hook"),
            ))
        }
        None => return Err(shape("/hook", "`hook` is required")),
    }
    let hook_instance = top
        .get("hookInstance")
        .and_then(Value::as_str)
        .filter(|s| is_token(s))
        .ok_or_else(|| {
            shape(
                "/hookInstance",
                "`hookInstance` is required: a UUID (at most 64 characters from [A-Za-z0-9._:-])",
            )
        })?;
    let Some(Value::Object(context)) = top.get("context") else {
        return Err(shape(
            "/context",
            "`context` is required: an object with `userId` and `patientId`",
        ));
    };
    for key in ["userId", "patientId"] {
        if context
            .get(key)
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            return Err(shape(
                &format!("/context/{key}"),
                format!("`context.{key}` is required for the `{HOOK}` hook"),
            ));
        }
    }
    let patient_id = context
        .get("patientId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let prefetch = match top.get("prefetch") {
        None | Some(Value::Null) => return Err(prefetch_missing("the request has no prefetch")),
        Some(Value::Object(prefetch)) => prefetch,
        Some(_) => return Err(shape("/prefetch", "`prefetch` must be an object")),
    };
    let prefetch = match prefetch.get(PREFETCH_KEY) {
        None | Some(Value::Null) => {
            return Err(prefetch_missing(&format!(
                "the prefetch has no `{PREFETCH_KEY}`"
            )))
        }
        Some(value) => value,
    };
    Ok(Call {
        hook_instance,
        patient_id,
        prefetch,
    })
}

/// Whether a QuestionnaireResponse can be about `patient_id` (no subject: cannot tell, so yes).
fn about_patient(qr: &Map<String, Value>, patient_id: &str) -> bool {
    match qr
        .get("subject")
        .and_then(|s| s.get("reference"))
        .and_then(Value::as_str)
    {
        None => true,
        Some(reference) => {
            let wanted = format!("Patient/{patient_id}");
            reference == wanted || reference.ends_with(&format!("/{wanted}"))
        }
    }
}

/// Whether a prefetched QuestionnaireResponse is one to assess.
fn usable(qr: &Map<String, Value>, patient_id: &str) -> bool {
    qr.get("status").and_then(Value::as_str) != Some("entered-in-error")
        && qr
            .get("questionnaire")
            .and_then(Value::as_str)
            .is_none_or(is_our_questionnaire)
        && about_patient(qr, patient_id)
}

/// Seconds since the epoch of a FHIR `dateTime` (partial dates allowed), for ordering.
pub fn instant(s: &str) -> Option<i64> {
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        s.get(range).and_then(|t| t.parse::<i64>().ok())
    };
    let year = num(0..4)?;
    let month = if s.len() >= 7 { num(5..7)? } else { 1 };
    let day = if s.len() >= 10 { num(8..10)? } else { 1 };
    let (mut hour, mut minute, mut second) = (0, 0, 0);
    let mut offset = 0;
    if s.len() >= 19 && s.as_bytes().get(10) == Some(&b'T') {
        hour = num(11..13)?;
        minute = num(14..16)?;
        second = num(17..19)?;
        let zone = s[19..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
        if let Some(sign) = zone.chars().next().filter(|c| *c == '+' || *c == '-') {
            let h = zone.get(1..3).and_then(|t| t.parse::<i64>().ok())?;
            let m = zone.get(4..6).and_then(|t| t.parse::<i64>().ok())?;
            offset = (h * 60 + m) * 60 * if sign == '+' { 1 } else { -1 };
        }
    }
    // Days from civil (H. Hinnant).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// The QuestionnaireResponse to assess and its JSON pointer in the request.
fn select<'a>(prefetch: &'a Value, patient_id: &str) -> Result<(&'a Value, String), ApiError> {
    let base = format!("/prefetch/{PREFETCH_KEY}");
    let none_usable = || {
        prefetch_missing(&format!(
            "the prefetch `{PREFETCH_KEY}` holds no usable QuestionnaireResponse for this patient"
        ))
    };
    match prefetch.get("resourceType").and_then(Value::as_str) {
        Some("QuestionnaireResponse") => match prefetch {
            Value::Object(qr) if usable(qr, patient_id) => Ok((prefetch, base)),
            _ => Err(none_usable()),
        },
        Some("Bundle") => {
            let entries = match prefetch.get("entry") {
                None | Some(Value::Null) => &[][..],
                Some(Value::Array(entries)) => entries.as_slice(),
                Some(_) => {
                    return Err(shape(&format!("{base}/entry"), "`entry` must be an array"));
                }
            };
            let mut best: Option<(usize, &Value, Option<i64>)> = None;
            for (i, entry) in entries.iter().enumerate() {
                let Some(resource) = entry.get("resource") else {
                    continue;
                };
                let Value::Object(qr) = resource else {
                    continue;
                };
                if qr.get("resourceType").and_then(Value::as_str) != Some("QuestionnaireResponse")
                    || !usable(qr, patient_id)
                {
                    continue;
                }
                let authored = qr.get("authored").and_then(Value::as_str).and_then(instant);
                let newer = match &best {
                    None => true,
                    Some((_, _, best_time)) => authored > *best_time,
                };
                if newer {
                    best = Some((i, resource, authored));
                }
            }
            best.map(|(i, resource, _)| (resource, format!("{base}/entry/{i}/resource")))
                .ok_or_else(none_usable)
        }
        _ => Err(shape(
            &format!("{base}/resourceType"),
            "the prefetch must be a QuestionnaireResponse or a searchset Bundle of them",
        )),
    }
}

async fn run_service(
    req: &HttpRequest,
    id: &str,
    payload: web::Payload,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    if id != SERVICE_ID {
        return Err(not_found());
    }
    require_json(req)?;
    let body = read_body(req, payload, state.body_limit).await?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| malformed(&e))?;
    let call = parse_call(&body)?;
    let (qr, pointer) = select(call.prefetch, call.patient_id)?;
    let (response, _) = crate::fhir::assess_questionnaire_response(
        &state.kb,
        &state.texts,
        qr,
        Audience::Clinician,
        uuid::Uuid::new_v4().to_string(),
    )
    .map_err(|e| e.into_pointer(&pointer))?;
    crate::telemetry::record_assessment(req, &response);
    let card = card::card(&response, uuid::Uuid::new_v4().to_string());
    tracing::info!(
        target: "audit",
        event = "cds_card",
        service = SERVICE_ID,
        hook_instance = %call.hook_instance,
        card = %card.uuid,
        assessment_id = %response.assessment_id,
        indicator = %card.indicator.as_str(),
        level = %response.triage.level,
        request_id = %request_id(req),
        client = %client(req),
        "cds card issued"
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CdsCards { cards: vec![card] }))
}

/// Give feedback on a card
///
/// CDS Hooks 2.0 feedback: whether the clinician accepted or overrode each card, with the
/// override reason. Each entry becomes one event on the `audit` log target
/// (`event = "cds_feedback"`: card uuid, outcome, override reason code); comments are never
/// logged.
#[utoipa::path(
    post,
    path = "/cds-services/{id}/feedback",
    operation_id = "cdsFeedback",
    tag = "cds-hooks",
    security(("ApiKey" = [])),
    params(("id" = String, Path, description = "The service id: `back-pain-triage`")),
    request_body(content = CdsFeedbackRequest, content_type = "application/json",
        example = json!(dto::feedback_example())),
    responses(
        (status = 200, description = "Feedback recorded", body = CdsFeedbackAck,
            headers(("X-Request-Id" = String, description = "Request id for support")),
            example = json!({"received": 1})),
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid `X-API-Key` (`unauthorized`); only when the deployment enables keys",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No service with this id (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 405, description = "Method not allowed (`method_not_allowed`), with `Allow`",
            body = Problem, content_type = "application/problem+json",
            headers(("Allow" = String, description = "`POST`"))),
        (status = 413, description = "Body over the limit (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a CDS Hooks feedback body (`invalid_request_shape`)", body = Problem,
            content_type = "application/problem+json",
            example = json!(dto::problem_of(&shape("/feedback/0/outcome", "`outcome` must be \"accepted\" or \"overridden\"")))),
        (status = 429, description = "Rate limit spent (`rate_limited`); only when the deployment enables rate limits",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
pub async fn feedback(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    match run_feedback(&req, &id, payload, &state).await {
        Ok(response) => response,
        Err(error) => problem(error),
    }
}

/// One checked feedback entry: only what may be logged.
struct Feedback {
    card: uuid::Uuid,
    outcome: &'static str,
    override_reason: Option<String>,
    accepted_suggestions: usize,
}

fn parse_feedback(body: &Value) -> Result<Vec<Feedback>, ApiError> {
    let Some(Value::Array(entries)) = body.get("feedback") else {
        return Err(shape(
            "/feedback",
            "`feedback` is required: an array of card outcomes",
        ));
    };
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let at = |key: &str| format!("/feedback/{i}{key}");
        let Value::Object(entry) = entry else {
            return Err(shape(&at(""), "each feedback entry must be an object"));
        };
        let card = entry
            .get("card")
            .and_then(Value::as_str)
            .and_then(|s| uuid::Uuid::parse_str(s).ok())
            .ok_or_else(|| shape(&at("/card"), "`card` is required: the card's `uuid`"))?;
        let outcome = match entry.get("outcome").and_then(Value::as_str) {
            Some("accepted") => "accepted",
            Some("overridden") => "overridden",
            _ => {
                return Err(shape(
                    &at("/outcome"),
                    "`outcome` must be \"accepted\" or \"overridden\"",
                ))
            }
        };
        if entry
            .get("outcomeTimestamp")
            .and_then(Value::as_str)
            .is_none_or(|s| instant(s).is_none())
        {
            return Err(shape(
                &at("/outcomeTimestamp"),
                "`outcomeTimestamp` is required: an ISO 8601 date-time",
            ));
        }
        let override_reason = match entry.get("overrideReason") {
            None | Some(Value::Null) => None,
            Some(Value::Object(reason)) => match reason.get("reason") {
                None | Some(Value::Null) => None,
                Some(coding) => Some(
                    coding
                        .get("code")
                        .and_then(Value::as_str)
                        .filter(|c| is_token(c))
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            shape(
                                &at("/overrideReason/reason/code"),
                                "`overrideReason.reason` must be a Coding whose `code` has at most 64 characters from [A-Za-z0-9._:-]",
                            )
                        })?,
                ),
            },
            Some(_) => {
                return Err(shape(
                    &at("/overrideReason"),
                    "`overrideReason` must be an object",
                ))
            }
        };
        let accepted_suggestions = match entry.get("acceptedSuggestions") {
            None | Some(Value::Null) => 0,
            Some(Value::Array(list)) => list.len(),
            Some(_) => {
                return Err(shape(
                    &at("/acceptedSuggestions"),
                    "`acceptedSuggestions` must be an array",
                ))
            }
        };
        out.push(Feedback {
            card,
            outcome,
            override_reason,
            accepted_suggestions,
        });
    }
    Ok(out)
}

async fn run_feedback(
    req: &HttpRequest,
    id: &str,
    payload: web::Payload,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    if id != SERVICE_ID {
        return Err(not_found());
    }
    require_json(req)?;
    let body = read_body(req, payload, state.body_limit).await?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| malformed(&e))?;
    let entries = parse_feedback(&body)?;
    let request_id = request_id(req);
    let client = client(req);
    for f in &entries {
        tracing::info!(
            target: "audit",
            event = "cds_feedback",
            service = SERVICE_ID,
            card = %f.card,
            outcome = %f.outcome,
            override_reason = %f.override_reason.as_deref().unwrap_or(""),
            accepted_suggestions = f.accepted_suggestions,
            request_id = %request_id,
            client = %client,
            "cds feedback received"
        );
    }
    Ok(HttpResponse::Ok().json(CdsFeedbackAck {
        received: entries.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_order_with_offsets_and_partial_dates() {
        assert_eq!(instant("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(instant("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(instant("2026-01-01"), Some(1_767_225_600));
        assert_eq!(instant("2026"), Some(1_767_225_600));
        assert!(instant("2026-01-15T09:30:00.123-05:00") > instant("2026-01-15T09:30:00Z"));
        assert_eq!(instant("yesterday"), None);
    }

    #[test]
    fn bundle_selection_takes_the_newest_usable_response() {
        let qr = |authored: &str, status: &str, patient: &str| {
            serde_json::json!({"resourceType": "QuestionnaireResponse", "status": status,
                "authored": authored, "subject": {"reference": format!("Patient/{patient}")}})
        };
        let bundle = serde_json::json!({"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": qr("2026-01-01T10:00:00Z", "completed", "p1")},
            {"resource": qr("2026-01-03T10:00:00Z", "entered-in-error", "p1")},
            {"resource": qr("2026-01-02T10:00:00Z", "completed", "p1")},
            {"resource": qr("2026-01-04T10:00:00Z", "completed", "p2")},
        ]});
        let (_, pointer) = select(&bundle, "p1").unwrap_or((&Value::Null, String::new()));
        assert_eq!(pointer, "/prefetch/questionnaireResponse/entry/2/resource");
        let err = select(&bundle, "p9").err().map(|e| e.code);
        assert_eq!(err, Some(ErrorCode::PrefetchMissing));
    }
}
