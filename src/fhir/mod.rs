//! FHIR R4 interface: the intake Questionnaire generated from the vocabulary, and
//! `QuestionnaireResponse/$triage` returning a GuidanceResponse.
//!
//! Every error under `/fhir/` is an OperationOutcome carrying the same stable code as the
//! JSON API (reference §7.11); unknown paths and methods under `/fhir/` too.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde_json::Value;
use utoipa::OpenApi;

use crate::engine::Audience;
use crate::fhir_resources::mapping::QrError;
use crate::fhir_resources::schema::{
    FhirGuidanceResponse, FhirOperationOutcome, FhirQuestionnaire, FhirQuestionnaireResponse,
};
use crate::fhir_resources::{assess_questionnaire_response, examples, guidance, questionnaire};
use crate::http::body::read_body;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::outcome::{operation_outcome_response, Ordered, FHIR_JSON, FHIR_SCOPE};
use crate::http::state::AppState;

pub const QUESTIONNAIRE_PATH: &str = "/fhir/Questionnaire/back-pain-triage";
pub const TRIAGE_PATH: &str = "/fhir/QuestionnaireResponse/$triage";

/// FHIR paths, merged into the service's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(get_questionnaire, triage),
    tags((name = "fhir", description = "FHIR R4: the intake Questionnaire and `$triage` on a QuestionnaireResponse. \
        Bodies are `application/fhir+json`; every error under `/fhir/` is an OperationOutcome whose \
        `issue[].details.coding[].code` is the JSON API's stable problem code."))
)]
pub struct FhirApiDoc;

/// Where the FHIR API lives; every error below it is an OperationOutcome.
/// Register the FHIR handlers: one scope whose unknown paths and methods are OperationOutcomes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(FHIR_SCOPE)
            .service(
                web::resource("/Questionnaire/back-pain-triage")
                    .route(web::get().to(get_questionnaire))
                    .default_service(web::to(|| async { method_not_allowed("GET") })),
            )
            .service(
                web::resource("/QuestionnaireResponse/$triage")
                    .route(web::post().to(triage))
                    .default_service(web::to(|| async { method_not_allowed("POST") })),
            )
            .default_service(web::to(|| async {
                operation_outcome_response(&ApiError::new(
                    ErrorCode::NotFound,
                    "no FHIR resource or operation at this path; see /openapi.json (tag `fhir`)",
                ))
            })),
    );
}

fn method_not_allowed(allowed: &str) -> HttpResponse {
    let mut error = ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("this method is not allowed here; allowed: {allowed}"),
    );
    error.allow = Some(allowed.to_owned());
    operation_outcome_response(&error)
}

/// A FHIR resource as an `application/fhir+json` response.
pub fn fhir_response(status: StatusCode, resource: &Value, no_store: bool) -> HttpResponse {
    match serde_json::to_vec(&Ordered(resource)) {
        Ok(body) => {
            let mut builder = HttpResponse::build(status);
            builder.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON)));
            if no_store {
                builder
                    .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
            }
            builder.body(body)
        }
        Err(_) => operation_outcome_response(&ApiError::new(
            ErrorCode::Internal,
            "an internal error occurred; quote the X-Request-Id header",
        )),
    }
}

/// `Content-Type` must be `application/fhir+json` or `application/json`.
fn require_fhir_json(req: &HttpRequest) -> Result<(), ApiError> {
    let essence = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if essence == FHIR_JSON || essence == "application/json" {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body with Content-Type: application/fhir+json (or application/json)",
        ))
    }
}

/// The `audience` query parameter; FHIR's own `_`-prefixed parameters (`_format`, `_pretty`) are ignored.
fn audience(query: &str) -> Result<Audience, ApiError> {
    let mut audience = Audience::Patient;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key.starts_with('_') {
            continue;
        }
        if key != "audience" {
            return Err(ApiError::new(
                ErrorCode::InvalidOption,
                "unknown query parameter; allowed: `audience`",
            ));
        }
        audience = match value {
            "patient" => Audience::Patient,
            "clinician" => Audience::Clinician,
            _ => {
                return Err(ApiError::new(
                    ErrorCode::InvalidOption,
                    "`audience` must be \"patient\" or \"clinician\"",
                ))
            }
        };
    }
    Ok(audience)
}

/// Get the intake Questionnaire
///
/// The FHIR R4 Questionnaire generated from the vocabulary of the loaded knowledge base
/// (`version` is the knowledge base version): one `group` per vocabulary group, one question
/// per answer code (`linkId` = code, `text` = intake question). Tri-state codes are `choice`
/// items with `present`/`absent`/`unknown` (system `urn:spasm-triage:tri`); numbers are
/// `integer`/`decimal` with `minValue`/`maxValue` and `questionnaire-unit` extensions;
/// enums and treatment responses are `choice`; sets are repeating `choice`. Required safety
/// screens, `age_years` and `sex` are `required`; STarT Back items carry their LOINC codes
/// and their group the panel code 91349-1.
#[utoipa::path(
    get,
    path = "/fhir/Questionnaire/back-pain-triage",
    operation_id = "getFhirQuestionnaire",
    tag = "fhir",
    responses(
        (status = 200, description = "The Questionnaire (example trimmed to a few groups and items)",
            body = FhirQuestionnaire, content_type = "application/fhir+json",
            headers(("X-Request-Id" = String, description = "Request id for support")),
            example = json!(examples::questionnaire())),
        (status = 401, description = "No valid API key (`unauthorized`); only when the deployment enables keys",
            body = FhirOperationOutcome, content_type = "application/fhir+json",
            headers(("WWW-Authenticate", description = "`Bearer`")),
            example = json!(examples::outcome_unauthorized())),
        (status = 405, description = "Method not allowed (`method_not_allowed`), with `Allow`",
            body = FhirOperationOutcome, content_type = "application/fhir+json",
            headers(("Allow" = String, description = "`GET`")),
            example = json!(examples::outcome_method_not_allowed("GET"))),
        (status = 429, description = "Rate limit spent, or too many failed authentications from this address (`rate_limited`)",
            body = FhirOperationOutcome, content_type = "application/fhir+json",
            headers(("Retry-After" = String, description = "Seconds to wait")),
            example = json!(examples::outcome_rate_limited())),
    )
)]
pub async fn get_questionnaire(state: web::Data<AppState>) -> HttpResponse {
    fhir_response(
        StatusCode::OK,
        &questionnaire::questionnaire(&state.kb, &state.texts),
        false,
    )
}

/// Triage a QuestionnaireResponse
///
/// Assesses a QuestionnaireResponse for the `back-pain-triage` Questionnaire and returns a
/// GuidanceResponse. Each answered `linkId` is an answer code; the answers go through the same
/// validation and engine as `POST /v1/triage`, so refusals carry the same codes
/// (`unknown_answer_code` with did-you-mean, `invalid_answer_value` for a wrong `value[x]`
/// type or value, `missing_required_answer` for `age_years`/`sex`, `invalid_request_shape`
/// for a resource that is not a usable QuestionnaireResponse), as an OperationOutcome.
///
/// `status` is `success`, or `data-required` when required safety screens are unanswered:
/// the assessment (floored at `consultation_24`) is still returned, and `dataRequirement`
/// names the screens to ask. `contained` holds the RiskAssessment (`#risk`) and the
/// Parameters (`#output`) with everything the JSON API returns. `?audience=clinician` adds
/// clinician texts and full cause evidence.
#[utoipa::path(
    post,
    path = "/fhir/QuestionnaireResponse/$triage",
    operation_id = "fhirTriage",
    tag = "fhir",
    params(("audience" = Option<crate::view::dto::AudienceDto>, Query, description = "`patient` (default) or `clinician`. FHIR's `_format` and `_pretty` are ignored; any other parameter is refused (`invalid_option`).")),
    request_body(
        description = "A QuestionnaireResponse for `urn:spasm-triage:Questionnaire/back-pain-triage`",
        content(
            (FhirQuestionnaireResponse = "application/fhir+json", example = json!(examples::questionnaire_response_example())),
            (FhirQuestionnaireResponse = "application/json", example = json!(examples::questionnaire_response_example())),
        )
    ),
    responses(
        (status = 200, description = "The GuidanceResponse (example: Parameters trimmed)", body = FhirGuidanceResponse,
            content_type = "application/fhir+json",
            headers(("Cache-Control" = String, description = "`no-store`"), ("X-Request-Id" = String, description = "Request id for support")),
            examples(
                ("success" = (summary = "Every required screen answered", value = json!(examples::guidance_response(true)))),
                ("data-required" = (summary = "Required screens unanswered: floored assessment plus dataRequirement", value = json!(examples::guidance_response(false)))),
            )),
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = FhirOperationOutcome,
            content_type = "application/fhir+json", example = json!(examples::outcome_malformed())),
        (status = 401, description = "No valid API key (`unauthorized`); only when the deployment enables keys",
            body = FhirOperationOutcome, content_type = "application/fhir+json",
            headers(("WWW-Authenticate", description = "`Bearer`")),
            example = json!(examples::outcome_unauthorized())),
        (status = 405, description = "Method not allowed (`method_not_allowed`), with `Allow`",
            body = FhirOperationOutcome, content_type = "application/fhir+json",
            headers(("Allow" = String, description = "`POST`")),
            example = json!(examples::outcome_method_not_allowed("POST"))),
        (status = 408, description = "The body did not arrive within `server.request_timeout_secs` (`request_timeout`)",
            body = FhirOperationOutcome, content_type = "application/fhir+json", example = json!(examples::outcome_timeout())),
        (status = 413, description = "Body over the limit (`payload_too_large`)", body = FhirOperationOutcome,
            content_type = "application/fhir+json", example = json!(examples::outcome_too_large())),
        (status = 415, description = "Not `application/fhir+json` or `application/json` (`unsupported_media_type`)",
            body = FhirOperationOutcome, content_type = "application/fhir+json", example = json!(examples::outcome_media_type())),
        (status = 422, description = "A QuestionnaireResponse that cannot be assessed: `invalid_request_shape`, \
            `unknown_answer_code`, `derived_answer_code`, `invalid_answer_value`, `missing_required_answer`, `invalid_option`",
            body = FhirOperationOutcome, content_type = "application/fhir+json",
            examples(
                ("unknown_answer_code" = (summary = "A linkId that is not a vocabulary code", value = json!(examples::outcome_unknown_link_id()))),
                ("invalid_answer_value" = (summary = "A value[x] of the wrong type", value = json!(examples::outcome_wrong_value_type()))),
                ("missing_required_answer" = (summary = "age_years or sex unanswered", value = json!(examples::outcome_missing_required()))),
                ("invalid_request_shape" = (summary = "Not a QuestionnaireResponse", value = json!(examples::outcome_wrong_resource_type()))),
            )),
        (status = 429, description = "Rate limit spent, or too many failed authentications from this address (`rate_limited`)",
            body = FhirOperationOutcome, content_type = "application/fhir+json",
            headers(("Retry-After" = String, description = "Seconds to wait")),
            example = json!(examples::outcome_rate_limited())),
    )
)]
pub async fn triage(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    match run_triage(&req, payload, &state).await {
        Ok(response) => response,
        Err(error) => operation_outcome_response(&error),
    }
}

async fn run_triage(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let audience = audience(req.query_string())?;
    require_fhir_json(req)?;
    let body = read_body(req, payload, state.body_limit, state.body_timeout).await?;
    let qr: Value = crate::http::json::parse_strict(&body)?;
    let (response, mapped) = assess_questionnaire_response(
        &state.kb,
        &state.texts,
        &qr,
        audience,
        uuid::Uuid::new_v4().to_string(),
    )
    .map_err(QrError::into_fhir)?;
    crate::http::observe::record_assessment(req, &response);
    let request_id = req
        .extensions()
        .get::<crate::http::identity::RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let resource =
        guidance::guidance_response(&response, &mapped, &request_id, &crate::clock::utc_now());
    Ok(fhir_response(StatusCode::OK, &resource, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_puts_resource_type_first() {
        let v = serde_json::json!({"b": 1, "id": "x", "resourceType": "T", "a": [{"z": 1, "linkId": "l"}]});
        let text = serde_json::to_string(&Ordered(&v)).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"resourceType":"T","id":"x","a":[{"linkId":"l","z":1}],"b":1}"#
        );
    }

    #[test]
    fn audience_query() {
        assert_eq!(audience("").ok(), Some(Audience::Patient));
        assert_eq!(
            audience("audience=clinician&_format=json").ok(),
            Some(Audience::Clinician)
        );
        assert_eq!(
            audience("audience=nurse").err().map(|e| e.code),
            Some(ErrorCode::InvalidOption)
        );
        assert_eq!(
            audience("lang=en").err().map(|e| e.code),
            Some(ErrorCode::InvalidOption)
        );
    }
}
