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
use crate::fhir_resources::{
    assess_questionnaire_response, capability, examples, guidance, questionnaire,
};
use crate::http::body::read_body;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::outcome::{operation_outcome_response, Ordered, FHIR_JSON, FHIR_SCOPE};
use crate::http::state::AppState;

mod adaptive;
mod terminology;

pub const QUESTIONNAIRE_PATH: &str = "/fhir/Questionnaire/back-pain-triage";
pub const TRIAGE_PATH: &str = "/fhir/QuestionnaireResponse/$triage";

/// FHIR paths, merged into the service's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(get_metadata, get_operation_definition, search_questionnaire, get_questionnaire, triage,
        terminology::get_library, terminology::search_library, terminology::get_code_system,
        terminology::search_code_system, terminology::get_value_set, terminology::search_value_set,
        adaptive::next_question),
    tags((name = "fhir", description = "FHIR R4: the intake Questionnaire, `$triage` on a QuestionnaireResponse, and the Library, CodeSystems and ValueSets the outputs name. \
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
                web::resource("/metadata")
                    .route(web::get().to(get_metadata))
                    .default_service(web::to(|| async { method_not_allowed("GET") })),
            )
            .service(
                web::resource("/OperationDefinition/QuestionnaireResponse-triage")
                    .route(web::get().to(get_operation_definition))
                    .default_service(web::to(|| async { method_not_allowed("GET") })),
            )
            .service(
                web::resource("/Questionnaire")
                    .route(web::get().to(search_questionnaire))
                    .default_service(web::to(|| async { method_not_allowed("GET") })),
            )
            .service(
                web::resource("/Questionnaire/back-pain-triage")
                    .route(web::get().to(get_questionnaire))
                    .default_service(web::to(|| async { method_not_allowed("GET") })),
            )
            .configure(terminology::configure)
            .configure(adaptive::configure)
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

pub(crate) fn method_not_allowed(allowed: &str) -> HttpResponse {
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
pub(crate) fn require_fhir_json(req: &HttpRequest) -> Result<(), ApiError> {
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

/// Codes answered although their branching (`ask_when`, the Questionnaire's `enableWhen`)
/// is false for the other answers.
fn disabled_answers<'a>(
    kb: &'a crate::knowledge::KnowledgeBase,
    answers: &crate::engine::Answers,
) -> Vec<&'a str> {
    let facts = crate::engine::Facts::new(kb, answers);
    // "No", "not sure" and "does not apply" to a question that does not apply say nothing.
    let says_something = |id: usize| match answers.get(id) {
        Some(crate::engine::Value::Tri(t)) => *t == crate::engine::Tri::Present,
        Some(crate::engine::Value::Choice(c)) => !matches!(
            kb.vocabulary.code(id).kind.choice_name(*c),
            Some("unknown" | "not_applicable")
        ),
        Some(_) => true,
        None => false,
    };
    answers
        .answered()
        .filter(|id| says_something(*id))
        .filter(|id| {
            kb.vocabulary
                .code(*id)
                .ask_when
                .as_ref()
                .is_some_and(|w| !facts.eval(w))
        })
        .map(|id| kb.vocabulary.code(id).code.as_str())
        .collect()
}

/// The QuestionnaireResponse of a `$triage` body: the body itself, or the `response`
/// parameter of a Parameters resource (the usual FHIR operation form).
/// The QuestionnaireResponse of an operation body: the body itself, or the Parameters
/// parameter `name` (`response` for `$triage`, `in` for `$next-question`).
pub(crate) fn questionnaire_response_of(
    body: Value,
    name: &str,
    op: &str,
) -> Result<Value, ApiError> {
    if body.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
        return Ok(body);
    }
    let mut found = None;
    for p in body["parameter"].as_array().into_iter().flatten() {
        if p["name"] == name {
            if found.is_some() {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequestShape,
                    format!(
                        "Parameters holds `{name}` more than once; send one QuestionnaireResponse"
                    ),
                ));
            }
            found = Some(p["resource"].clone());
        } else if p["name"] != "audience" {
            return Err(ApiError::new(
                ErrorCode::InvalidRequestShape,
                format!("unknown parameter; `{op}` takes `{name}` (a QuestionnaireResponse)"),
            ));
        }
    }
    match found {
        Some(resource) if resource.is_object() => Ok(resource),
        _ => Err(ApiError::new(
            ErrorCode::InvalidRequestShape,
            format!(
                "Parameters must hold the QuestionnaireResponse as parameter `{name}` (`resource`)"
            ),
        )),
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
    )
)]
pub async fn get_questionnaire(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Err(e) = accepts_fhir_json(&req) {
        return operation_outcome_response(&e);
    }
    let tag = questionnaire_etag(&state);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if unchanged {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish();
    }
    let mut response = fhir_response(
        StatusCode::OK,
        &questionnaire::questionnaire(&state.kb, &state.texts),
        false,
    );
    if let Ok(v) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// The Questionnaire changes only with the knowledge base and the configured texts: a weak
/// validator over both (the digest names the rule files; the numbers fill the description).
fn questionnaire_etag(state: &AppState) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    state.texts.emergency_number.hash(&mut h);
    state.texts.urgent_line.hash(&mut h);
    let digest = state.kb.digest.trim_start_matches("sha256:");
    format!(
        "W/\"{}-{:016x}\"",
        &digest[..digest.len().min(16)],
        h.finish()
    )
}

/// FHIR content negotiation: JSON only. `_format` or `Accept` asking for XML (or anything but
/// JSON) gets 406, never a JSON body the client did not ask for.
pub(crate) fn accepts_fhir_json(req: &HttpRequest) -> Result<(), ApiError> {
    let json_ok = |t: &str| {
        let essence = t
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        matches!(
            essence.as_str(),
            "application/fhir+json" | "application/json" | "json" | "*/*" | "application/*" | ""
        )
    };
    for pair in req.query_string().split('&') {
        if let Some(format) = pair.strip_prefix("_format=") {
            let format = format
                .replace("%2B", "+")
                .replace("%2b", "+")
                .replace("%2F", "/")
                .replace("%2f", "/");
            if !json_ok(&format) {
                return Err(ApiError::new(
                    ErrorCode::NotAcceptable,
                    "this server speaks FHIR JSON only: `_format` must be json or application/fhir+json",
                ));
            }
        }
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !accept.trim().is_empty() && !accept.split(',').any(json_ok) {
        return Err(ApiError::new(
            ErrorCode::NotAcceptable,
            "this server speaks FHIR JSON only: accept application/fhir+json",
        ));
    }
    Ok(())
}

/// The server's CapabilityStatement
///
/// FHIR R4 (4.0.1), JSON only: the intake Questionnaire (read, search by `url`) and the
/// `$triage` operation on QuestionnaireResponse.
#[utoipa::path(
    get,
    path = "/fhir/metadata",
    operation_id = "getFhirCapabilityStatement",
    tag = "fhir",
    responses(
        (status = 200, description = "The CapabilityStatement", content_type = "application/fhir+json",
            body = Object, example = json!(examples::capability_statement())),
    )
)]
pub async fn get_metadata(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Err(e) = accepts_fhir_json(&req) {
        return operation_outcome_response(&e);
    }
    fhir_response(
        StatusCode::OK,
        &capability::capability_statement(&state.kb),
        false,
    )
}

/// The OperationDefinition of `$triage`
///
/// Describes `POST /fhir/QuestionnaireResponse/$triage`: its input (a QuestionnaireResponse,
/// or Parameters with a `response` part) and its output (a GuidanceResponse). The
/// CapabilityStatement (`GET /fhir/metadata`) points here.
#[utoipa::path(
    get,
    path = "/fhir/OperationDefinition/QuestionnaireResponse-triage",
    operation_id = "getFhirTriageOperationDefinition",
    tag = "fhir",
    responses(
        (status = 200, description = "The OperationDefinition", content_type = "application/fhir+json",
            body = Object, example = json!(examples::operation_definition())),
    )
)]
pub async fn get_operation_definition(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> HttpResponse {
    if let Err(e) = accepts_fhir_json(&req) {
        return operation_outcome_response(&e);
    }
    fhir_response(
        StatusCode::OK,
        &capability::operation_definition(&state.kb),
        false,
    )
}

/// Search the Questionnaires by `url`
///
/// A `searchset` Bundle: the intake Questionnaire when `url` is its canonical (optionally
/// `|version` matching the knowledge base) or absent; empty otherwise. FHIR's own
/// `_`-prefixed parameters are ignored; any other parameter is `invalid_option`.
#[utoipa::path(
    get,
    path = "/fhir/Questionnaire",
    operation_id = "searchFhirQuestionnaire",
    tag = "fhir",
    params(("url" = Option<String>, Query, description = "Canonical URL, optionally `|version`")),
    responses(
        (status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object,
            example = json!(examples::questionnaire_search())),
        (status = 422, description = "A search parameter other than `url` (`invalid_option`)", body = FhirOperationOutcome,
            content_type = "application/fhir+json", example = json!(examples::outcome_unknown_search_parameter())),
    )
)]
pub async fn search_questionnaire(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Err(e) = accepts_fhir_json(&req) {
        return operation_outcome_response(&e);
    }
    let wanted = match canonical_search(&req) {
        Ok(wanted) => wanted,
        Err(e) => return operation_outcome_response(&e),
    };
    let matches = wanted.as_deref().is_none_or(|url| {
        let (base, version) = url.split_once('|').unwrap_or((url, ""));
        base == questionnaire::QUESTIONNAIRE_URL
            && (version.is_empty() || version == state.kb.version)
    });
    let entries: Vec<Value> = if matches {
        vec![serde_json::json!({
            "fullUrl": format!("urn:spasm-triage:Questionnaire/{}", questionnaire::QUESTIONNAIRE_ID),
            "resource": questionnaire::questionnaire(&state.kb, &state.texts),
            "search": { "mode": "match" }
        })]
    } else {
        Vec::new()
    };
    let bundle = serde_json::json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": entries.len(),
        "entry": entries,
    });
    fhir_response(StatusCode::OK, &bundle, false)
}

/// The `url` search parameter of a canonical resource search (`url|version` as FHIR allows;
/// a separate `version` is folded into it). FHIR's own `_`-prefixed parameters are ignored;
/// anything else is refused, never silently ignored.
pub(crate) fn canonical_search(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let (mut url, mut version) = (None, None);
    for pair in req.query_string().split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            _ if key.starts_with('_') => {}
            "url" => url = Some(percent_decode(value)),
            "version" => version = Some(percent_decode(value)),
            _ => {
                return Err(ApiError::new(
                    ErrorCode::InvalidOption,
                    "unknown search parameter; supported: `url`",
                ))
            }
        }
    }
    Ok(match (url, version) {
        (Some(url), Some(version)) if !url.contains('|') => Some(format!("{url}|{version}")),
        (url, _) => url,
    })
}

/// `%XX` escapes and `+` of a query value, as a URL-encoded form sends it.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
        (status = 422, description = "A QuestionnaireResponse that cannot be assessed: `invalid_request_shape`, \
            `unknown_answer_code`, `derived_answer_code`, `invalid_answer_value`, `missing_required_answer`, `invalid_option`",
            body = FhirOperationOutcome, content_type = "application/fhir+json",
            examples(
                ("unknown_answer_code" = (summary = "A linkId that is not a vocabulary code", value = json!(examples::outcome_unknown_link_id()))),
                ("invalid_answer_value" = (summary = "A value[x] of the wrong type", value = json!(examples::outcome_wrong_value_type()))),
                ("missing_required_answer" = (summary = "age_years or sex unanswered", value = json!(examples::outcome_missing_required()))),
                ("invalid_request_shape" = (summary = "Not a QuestionnaireResponse", value = json!(examples::outcome_wrong_resource_type()))),
            )),
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
    accepts_fhir_json(req)?;
    require_fhir_json(req)?;
    let body = read_body(req, payload, state.body_limit, state.body_timeout).await?;
    let body: Value = crate::http::json::parse_strict(&body)?;
    let qr = questionnaire_response_of(body, "response", "$triage")?;
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
    let mut resource =
        guidance::guidance_response(&response, &mapped, &request_id, &crate::clock::utc_now());
    guidance::warn_disabled_answers(&mut resource, &disabled_answers(&state.kb, &mapped.answers));
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
