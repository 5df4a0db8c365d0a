//! CDS Hooks 2.0: discovery, the `patient-view` back-pain service, and feedback.
//!
//! The service reads the patient's newest QuestionnaireResponse for the `back-pain-triage`
//! Questionnaire from the prefetch, maps it exactly like `POST /fhir/QuestionnaireResponse/$triage`
//! (same validation, same engine), and answers with one card. Errors are problem+json;
//! `412 prefetch_missing` when the prefetch lacks the response. `Authorization: Bearer` on
//! these paths is the EHR's JWT (CDS Hooks security, verified in `auth`), never an API key
//! (reference §7.11).

pub mod card;
pub mod card_id;
pub mod dto;
pub mod examples;
pub mod fetch;

use actix_web::http::header;
use actix_web::{guard, web, HttpMessage, HttpRequest, HttpResponse};
use serde_json::{Map, Value};
use utoipa::OpenApi;

use crate::engine::Audience;
use crate::fhir_resources::mapping::is_our_questionnaire;
use crate::fhir_resources::questionnaire::QUESTIONNAIRE_URL;
use crate::http::body::{read_body, require_json};
use crate::http::error::{ApiError, ErrorCode, Problem};
use crate::http::state::AppState;
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
    components(schemas(crate::fhir_resources::schema::FhirBundle)),
    tags((name = "cds-hooks", description = "CDS Hooks 2.0: discovery, the `patient-view` back-pain triage \
        service (one card from the patient's newest back-pain-triage QuestionnaireResponse) and card feedback. \
        `Authorization: Bearer` carries the EHR's signed JWT, verified against the trusted issuer's JWKS when the \
        deployment enables CDS Hooks authentication (`cds_auth`), and is never read as an API key; `X-API-Key` is \
        accepted where the deployment allows it."))
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

/// A UUID in its hyphenated form (what `format: uuid` means in the schema; the `uuid` crate
/// alone would also take the braced, URN and 32-digit forms).
fn hyphenated_uuid(s: &str) -> Option<uuid::Uuid> {
    (s.len() == 36)
        .then(|| uuid::Uuid::parse_str(s).ok())
        .flatten()
}

/// An RFC 3339 date-time (`format: date-time`): `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`,
/// with real calendar days and a leap second allowed.
pub fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    let date_time = || -> Option<()> {
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
        if b.get(4) != Some(&b'-')
            || b.get(7) != Some(&b'-')
            || !matches!(b.get(10), Some(b'T' | b't'))
            || b.get(13) != Some(&b':')
            || b.get(16) != Some(&b':')
        {
            return None;
        }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if day == 0 || day > days || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut rest = &b[19..];
        if let Some(fraction) = rest.strip_prefix(b".") {
            let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            rest = &fraction[n..];
        }
        match rest {
            [b'Z' | b'z'] => Some(()),
            [b'+' | b'-', h1, h2, b':', m1, m2]
                if [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) =>
            {
                let hours = (h1 - b'0') * 10 + (h2 - b'0');
                let minutes = (m1 - b'0') * 10 + (m2 - b'0');
                (hours <= 23 && minutes <= 59).then_some(())
            }
            _ => None,
        }
    };
    date_time().is_some()
}

/// CDS Hooks 2.0 asks for feedback times in UTC; `-00:00` (RFC 3339's "offset unknown") is not.
pub fn is_utc_date_time(s: &str) -> bool {
    is_date_time(s) && (s.ends_with(['Z', 'z']) || s.ends_with("+00:00"))
}

/// An optional string member: absent and `null` are `None`, another type is refused.
fn optional_string<'v>(
    obj: &'v Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Option<&'v str>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(shape(
            &format!("{at}/{key}"),
            format!("`{key}` must be a string"),
        )),
    }
}

fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<crate::http::identity::RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

fn client(req: &HttpRequest) -> String {
    req.extensions()
        .get::<crate::http::identity::Client>()
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
    )
)]
pub async fn discovery() -> HttpResponse {
    HttpResponse::Ok().json(dto::services())
}

/// Call the back-pain triage service
///
/// CDS Hooks 2.0 service call for the `patient-view` hook. The prefetch `questionnaireResponse`
/// is a QuestionnaireResponse for `urn:spasm-triage:Questionnaire/back-pain-triage`, or a
/// searchset Bundle of them (the newest `authored` is used, and when `authored` cannot decide,
/// missing or tied, the most urgent of the undecided responses; responses entered in error, for
/// another Questionnaire or about another patient than `context.patientId` are skipped). It is
/// mapped exactly like `POST /fhir/QuestionnaireResponse/$triage` and assessed for a clinician.
/// The answer is one card: `critical` for emergency levels, `warning` for `consultation_24`,
/// `info` otherwise, with the fired rules, their triggering answers and the unanswered safety
/// screens in `detail`; at `consultation_24` and above a referral suggestion. Without the
/// prefetch: `412 prefetch_missing`, unless the call gives `fhirServer` and
/// `fhirAuthorization` and the deployment lists that server's origin in `cds.fhir_servers`:
/// then the service runs the prefetch query against it with the token (timeout, no
/// redirects, 1 MiB at most) and answers 412 if that fails.
#[utoipa::path(
    post,
    path = "/cds-services/{id}",
    operation_id = "cdsService",
    tag = "cds-hooks",
    security(("ApiKey" = [])),
    params(("id" = String, Path, description = "The service id: `back-pain-triage`")),
    request_body(content = CdsRequest, content_type = "application/json",
        example = json!(examples::request_example())),
    responses(
        (status = 200, description = "One card", body = CdsCards,
            headers(("Cache-Control" = String, description = "`no-store`"), ("X-Request-Id" = String, description = "Request id for support")),
            example = json!(examples::cards_example())),
        (status = 404, description = "No service with this id (`not_found`)", body = Problem, content_type = "application/problem+json",
            example = json!(dto::problem_of(&not_found()))),
        (status = 412, description = "The prefetch lacks the QuestionnaireResponse, or the EHR sent an OperationOutcome in its place (it could not fetch it), \
            and it could not be fetched from `fhirServer` (not allowed, no token, refused, timed out, redirected, not FHIR JSON, over 1 MiB) (`prefetch_missing`)",
            body = Problem, content_type = "application/problem+json",
            example = json!(dto::problem_of(&prefetch_missing("the prefetch has no `questionnaireResponse`")))),
        (status = 422, description = "Not a usable CDS Hooks request, or the QuestionnaireResponse cannot be assessed: \
            `invalid_request_shape`, `unknown_answer_code`, `derived_answer_code`, `invalid_answer_value`, `missing_required_answer`; \
            `path` points into the request",
            body = Problem, content_type = "application/problem+json",
            example = json!(examples::unknown_code_example())),
    )
)]
pub async fn service(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    cards: web::Data<card_id::CardIds>,
    fetcher: web::Data<Option<fetch::FhirFetch>>,
) -> HttpResponse {
    match run_service(
        &req,
        &id,
        payload,
        &state,
        &cards,
        fetcher.as_ref().as_ref(),
    )
    .await
    {
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
    hook_instance: uuid::Uuid,
    patient_id: &'a str,
    encounter_id: Option<&'a str>,
    /// The prefetched data; `None` with why it is missing (412 unless it can be fetched).
    prefetch: Result<&'a Value, ApiError>,
    /// Where the data could be fetched from instead.
    source: Option<fetch::Source<'a>>,
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
        .and_then(hyphenated_uuid)
        .ok_or_else(|| {
            shape(
                "/hookInstance",
                "`hookInstance` is required: a UUID (8-4-4-4-12 hexadecimal digits)",
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
    optional_string(context, "encounterId", "/context")?;
    let patient_id = context
        .get("patientId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let prefetch = match top.get("prefetch") {
        None | Some(Value::Null) => Err(prefetch_missing("the request has no prefetch")),
        Some(Value::Object(prefetch)) => match prefetch.get(PREFETCH_KEY) {
            None | Some(Value::Null) => Err(prefetch_missing(&format!(
                "the prefetch has no `{PREFETCH_KEY}`"
            ))),
            Some(value) => Ok(value),
        },
        Some(_) => return Err(shape("/prefetch", "`prefetch` must be an object")),
    };
    let source = fetch::source_of(top, |path, message| shape(path, message.to_owned()))?;
    let encounter_id = context
        .get("encounterId")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty());
    Ok(Call {
        hook_instance,
        patient_id,
        encounter_id,
        prefetch,
        source,
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
            // A versioned reference (`Patient/p1/_history/3`) names the same patient.
            let reference = reference
                .split_once("/_history/")
                .map_or(reference, |(unversioned, _)| unversioned);
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

/// The QuestionnaireResponses to assess, each with its JSON pointer in the request: the newest
/// usable one by `authored`. When that order cannot decide (a usable response without a
/// readable `authored`, or two with the same newest time) every undecided candidate is
/// returned, and the caller reports the most urgent: skipping one could hide a red flag.
fn select<'a>(
    prefetch: &'a Value,
    patient_id: &str,
    base: &str,
) -> Result<Vec<(&'a Value, String)>, ApiError> {
    let base = base.to_owned();
    let none_usable = || {
        prefetch_missing(&format!(
            "the prefetch `{PREFETCH_KEY}` holds no usable QuestionnaireResponse for this patient"
        ))
    };
    match prefetch.get("resourceType").and_then(Value::as_str) {
        // The EHR could not run the prefetch query and sent why (CDS Hooks 2.0, "Prefetch
        // template"): the data is missing, not malformed.
        Some("OperationOutcome") => Err(prefetch_missing(&format!(
            "the EHR could not fetch the prefetch `{PREFETCH_KEY}` (it sent an OperationOutcome)"
        ))),
        Some("QuestionnaireResponse") => match prefetch {
            Value::Object(qr) if usable(qr, patient_id) => Ok(vec![(prefetch, base)]),
            _ => Err(none_usable()),
        },
        Some("Bundle") => {
            if prefetch.get("type").is_some_and(|t| !t.is_string()) {
                return Err(shape(&format!("{base}/type"), "`type` must be a string"));
            }
            let entries = match prefetch.get("entry") {
                None | Some(Value::Null) => &[][..],
                Some(Value::Array(entries)) => entries.as_slice(),
                Some(_) => {
                    return Err(shape(&format!("{base}/entry"), "`entry` must be an array"));
                }
            };
            let mut usable_responses: Vec<(&Value, String, Option<i64>)> = Vec::new();
            for (i, entry) in entries.iter().enumerate() {
                let at = format!("{base}/entry/{i}");
                let Value::Object(entry) = entry else {
                    return Err(shape(&at, "each entry must be an object"));
                };
                let resource = match entry.get("resource") {
                    None => continue,
                    Some(resource @ Value::Object(_)) => resource,
                    Some(_) => {
                        return Err(shape(
                            &format!("{at}/resource"),
                            "`resource` must be a FHIR resource (an object)",
                        ))
                    }
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
                usable_responses.push((resource, format!("{at}/resource"), authored));
            }
            let newest = usable_responses.iter().filter_map(|(_, _, t)| *t).max();
            let candidates: Vec<(&Value, String)> = usable_responses
                .into_iter()
                .filter(|(_, _, t)| t.is_none() || *t == newest)
                .map(|(resource, pointer, _)| (resource, pointer))
                .collect();
            if candidates.is_empty() {
                Err(none_usable())
            } else {
                Ok(candidates)
            }
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
    cards: &card_id::CardIds,
    fetcher: Option<&fetch::FhirFetch>,
) -> Result<HttpResponse, ApiError> {
    if id != SERVICE_ID {
        return Err(not_found());
    }
    require_json(req)?;
    let body = read_body(req, payload, state.body_limit, state.body_timeout).await?;
    let body: Value = crate::http::json::parse_strict(&body)?;
    let call = parse_call(&body)?;
    let fetched: Value;
    let (prefetch, base) = match (call.prefetch, &call.source, fetcher) {
        (Ok(prefetch), _, _) => (prefetch, format!("/prefetch/{PREFETCH_KEY}")),
        // No prefetch: ask the EHR's FHIR server, when this deployment allows it. Pointers
        // into what it answered start at its root.
        (Err(_), Some(source), Some(fetcher)) => {
            fetched = fetcher.latest(source, call.patient_id).await?;
            (&fetched, String::new())
        }
        (Err(missing), _, _) => return Err(missing),
    };
    let assessment_id = uuid::Uuid::new_v4().to_string();
    let mut response = None;
    let mut assessed: Option<&Value> = None;
    for (qr, pointer) in select(prefetch, call.patient_id, &base)? {
        let (candidate, _) = crate::fhir_resources::assess_questionnaire_response(
            &state.kb,
            &state.texts,
            qr,
            Audience::Clinician,
            assessment_id.clone(),
        )
        .map_err(|e| e.into_pointer(&pointer))?;
        // The most urgent of the undecided candidates; the first on a tie.
        if response
            .as_ref()
            .is_none_or(|r: &crate::view::dto::TriageResponse<'_>| {
                candidate.triage.rank > r.triage.rank
            })
        {
            response = Some(candidate);
            assessed = Some(qr);
        }
    }
    let Some(response) = response else {
        return Err(prefetch_missing(
            "the prefetch holds no usable QuestionnaireResponse",
        ));
    };
    crate::http::observe::record_assessment(req, &response);
    let with_suggestion = card::suggests_referral(response.triage.level);
    let card_uuid = cards.issue(with_suggestion).map_err(|e| {
        tracing::error!(error = %e, "cannot issue a card id");
        ApiError::new(ErrorCode::Internal, "internal error")
    })?;
    let suggestion = with_suggestion.then(|| cards.suggestion_of(&card_uuid).to_string());
    let setting = card::Setting {
        patient_id: call.patient_id,
        encounter_id: call.encounter_id,
        response_reference: assessed
            .and_then(|qr| qr.get("id"))
            .and_then(Value::as_str)
            .filter(|id| crate::fhir_resources::mapping::is_fhir_id(id))
            .map(|id| format!("QuestionnaireResponse/{id}")),
        now: crate::clock::now_secs(),
    };
    let card = card::card(&response, card_uuid.to_string(), suggestion, &setting);
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
/// override reason. Only cards this service issued are accepted (their uuids carry a keyed
/// tag), at most `cds.max_feedback_entries` per request. Each entry becomes one event on the `audit` log target
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
        example = json!(examples::feedback_example())),
    responses(
        (status = 200, description = "Feedback recorded", body = CdsFeedbackAck,
            headers(("X-Request-Id" = String, description = "Request id for support")),
            example = json!({"received": 1})),
        (status = 404, description = "No service with this id (`not_found`)", body = Problem, content_type = "application/problem+json",
            example = json!(dto::problem_of(&not_found()))),
        (status = 422, description = "Not a CDS Hooks feedback body, or more than `cds.max_feedback_entries` (20) entries \
            (`invalid_request_shape`); a `card` that is not the uuid of a card this service issued (`unknown_card`)", body = Problem,
            content_type = "application/problem+json",
            example = json!(dto::problem_of(&shape("/feedback/0/outcome", "`outcome` must be \"accepted\" or \"overridden\"")))),
    )
)]
pub async fn feedback(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    cards: web::Data<card_id::CardIds>,
) -> HttpResponse {
    match run_feedback(&req, &id, payload, &state, &cards).await {
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

/// The checked `acceptedSuggestions` of one entry (how many): an accepted card that carried a
/// suggestion must name it (CDS Hooks 2.0: required for accepted outcomes), and no entry may
/// name a suggestion its card did not carry.
fn accepted_suggestions(
    entry: &Map<String, Value>,
    outcome: &str,
    card: &uuid::Uuid,
    issued: card_id::Issued,
    cards: &card_id::CardIds,
    at: &dyn Fn(&str) -> String,
) -> Result<usize, ApiError> {
    let list = match entry.get("acceptedSuggestions") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(list)) => list.as_slice(),
        Some(_) => {
            return Err(shape(
                &at("/acceptedSuggestions"),
                "`acceptedSuggestions` must be an array",
            ))
        }
    };
    if outcome == "accepted" && issued.with_suggestion && list.is_empty() {
        return Err(shape(
            &at("/acceptedSuggestions"),
            "`acceptedSuggestions` is required when a card with a suggestion is accepted: \
             [{\"id\": <the suggestion's uuid>}]",
        ));
    }
    if outcome != "accepted" && !list.is_empty() {
        return Err(shape(
            &at("/acceptedSuggestions"),
            "`acceptedSuggestions` belongs to an accepted outcome only",
        ));
    }
    let carried = issued.with_suggestion.then(|| cards.suggestion_of(card));
    for (j, accepted) in list.iter().enumerate() {
        let id_at = at(&format!("/acceptedSuggestions/{j}/id"));
        let id = accepted.get("id").and_then(Value::as_str).ok_or_else(|| {
            shape(
                &id_at,
                "each accepted suggestion needs `id`: the suggestion's uuid",
            )
        })?;
        if hyphenated_uuid(id).is_none_or(|id| Some(id) != carried) {
            return Err(ApiError::field(
                ErrorCode::UnknownSuggestion,
                id_at,
                "not the uuid of a suggestion on this card",
            ));
        }
    }
    Ok(list.len())
}

fn parse_feedback(body: &Value, cards: &card_id::CardIds) -> Result<Vec<Feedback>, ApiError> {
    let Some(Value::Array(entries)) = body.get("feedback") else {
        return Err(shape(
            "/feedback",
            "`feedback` is required: an array of card outcomes",
        ));
    };
    if entries.len() > cards.max_feedback {
        return Err(shape(
            "/feedback",
            format!(
                "at most {} feedback entries per request",
                cards.max_feedback
            ),
        ));
    }
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let at = |key: &str| format!("/feedback/{i}{key}");
        let Value::Object(entry) = entry else {
            return Err(shape(&at(""), "each feedback entry must be an object"));
        };
        let card = entry
            .get("card")
            .and_then(Value::as_str)
            .and_then(hyphenated_uuid)
            .ok_or_else(|| shape(&at("/card"), "`card` is required: the card's `uuid`"))?;
        let Some(issued) = cards.verify(&card) else {
            return Err(ApiError::field(
                ErrorCode::UnknownCard,
                at("/card"),
                "`card` is not the uuid of a card this service issued",
            ));
        };
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
            .is_none_or(|s| !is_utc_date_time(s))
        {
            return Err(shape(
                &at("/outcomeTimestamp"),
                "`outcomeTimestamp` is required: an RFC 3339 date-time in UTC (`Z` or `+00:00`)",
            ));
        }
        let override_reason = match entry.get("overrideReason") {
            None | Some(Value::Null) => None,
            Some(Value::Object(reason)) => {
                optional_string(reason, "userComment", &at("/overrideReason"))?;
                match reason.get("reason") {
                    None | Some(Value::Null) => None,
                    Some(Value::Object(coding)) => {
                        let reason_at = at("/overrideReason/reason");
                        optional_string(coding, "system", &reason_at)?;
                        let code = coding.get("code").and_then(Value::as_str).ok_or_else(|| {
                            shape(
                                &format!("{reason_at}/code"),
                                "`overrideReason.reason.code` is required: a string",
                            )
                        })?;
                        // Codes are logged; anything but a plain token is logged as `other`.
                        Some(if is_token(code) { code } else { "other" }.to_owned())
                    }
                    Some(_) => {
                        return Err(shape(
                            &at("/overrideReason/reason"),
                            "`overrideReason.reason` must be a Coding (an object)",
                        ))
                    }
                }
            }
            Some(_) => {
                return Err(shape(
                    &at("/overrideReason"),
                    "`overrideReason` must be an object",
                ))
            }
        };
        let accepted_suggestions = accepted_suggestions(entry, outcome, &card, issued, cards, &at)?;
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
    cards: &card_id::CardIds,
) -> Result<HttpResponse, ApiError> {
    if id != SERVICE_ID {
        return Err(not_found());
    }
    require_json(req)?;
    let body = read_body(req, payload, state.body_limit, state.body_timeout).await?;
    let body: Value = crate::http::json::parse_strict(&body)?;
    let entries = parse_feedback(&body, cards)?;
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
    fn clock_times_read_back_as_the_same_instant() {
        assert_eq!(crate::clock::utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(crate::clock::utc(1_796_645_106), "2026-12-07T12:05:06Z");
        for secs in [0u64, 86_399, 951_782_400, 1_796_645_106, 4_102_444_800] {
            let back = instant(&crate::clock::utc(secs));
            assert_eq!(back, i64::try_from(secs).ok());
        }
    }

    #[test]
    fn feedback_times_are_utc() {
        for good in [
            "2026-01-15T09:40:00Z",
            "2026-01-15t09:40:00.5z",
            "2026-01-15T09:40:00+00:00",
        ] {
            assert!(is_utc_date_time(good), "{good}");
        }
        for bad in [
            "2026-01-15T09:40:00+01:00",
            "2026-01-15T09:40:00-00:00",
            "2026-01-15T09:40:00-05:00",
            "2026-01-15T09:40:00",
        ] {
            assert!(!is_utc_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn date_times_are_rfc_3339_with_a_time_zone() {
        for good in [
            "2026-01-15T09:40:00Z",
            "2026-01-15t09:40:00z",
            "2026-01-15T09:40:00.123456+05:30",
            "2028-02-29T23:59:60-00:00",
        ] {
            assert!(is_date_time(good), "{good}");
        }
        for bad in [
            "2026-01-15",
            "2026-01-15T09:40:00",
            "2026-01-15 09:40:00Z",
            "2026-02-29T09:40:00Z",
            "2026-13-01T09:40:00Z",
            "2026-01-15T24:00:00Z",
            "2026-01-15T09:40:00.Z",
            "2026-01-15T09:40:00+2:00",
            "2026-01-15T09:40:00+24:00",
            "2026-01-15T09:40:00Z ",
            "2026-01-15T09:40:00Z\n",
            "+026-01-15T09:40:00Z",
            "２０２６-01-15T09:40:00Z",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn uuids_only_in_the_hyphenated_form() {
        assert!(hyphenated_uuid("3f0c8d5e-6a1b-4c2d-9e8f-7a6b5c4d3e2f").is_some());
        assert!(hyphenated_uuid("3F0C8D5E-6A1B-4C2D-9E8F-7A6B5C4D3E2F").is_some());
        assert!(hyphenated_uuid("3f0c8d5e6a1b4c2d9e8f7a6b5c4d3e2f").is_none());
        assert!(hyphenated_uuid("{3f0c8d5e-6a1b-4c2d-9e8f-7a6b5c4d3e2f}").is_none());
        assert!(hyphenated_uuid("urn:uuid:3f0c8d5e-6a1b-4c2d-9e8f-7a6b5c4d3e2f").is_none());
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
        let pointers = |bundle: &Value, patient: &str| -> Vec<String> {
            select(bundle, patient, "/prefetch/questionnaireResponse")
                .map(|c| c.into_iter().map(|(_, p)| p).collect())
                .unwrap_or_default()
        };
        assert_eq!(
            pointers(&bundle, "p1"),
            ["/prefetch/questionnaireResponse/entry/2/resource"]
        );
        let err = select(&bundle, "p9", "/prefetch/questionnaireResponse")
            .err()
            .map(|e| e.code);
        assert_eq!(err, Some(ErrorCode::PrefetchMissing));
        // A versioned subject reference names the same patient.
        let versioned = serde_json::json!({"resourceType": "Bundle", "entry": [
            {"resource": qr("2026-01-01T10:00:00Z", "completed", "p1/_history/3")}]});
        assert_eq!(pointers(&versioned, "p1").len(), 1);
        // When `authored` cannot order them, every undecided response is a candidate.
        let mut undated = qr("", "completed", "p1");
        undated.as_object_mut().map(|o| o.remove("authored"));
        let ambiguous = serde_json::json!({"resourceType": "Bundle", "entry": [
            {"resource": qr("2026-01-01T10:00:00Z", "completed", "p1")},
            {"resource": qr("2026-01-02T10:00:00Z", "completed", "p1")},
            {"resource": undated},
            {"resource": qr("2026-01-02T10:00:00Z", "completed", "p1")},
        ]});
        assert_eq!(
            pointers(&ambiguous, "p1"),
            [1, 2, 3].map(|i| format!("/prefetch/questionnaireResponse/entry/{i}/resource"))
        );
    }
}
