//! `POST /v1/triage`.

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};

use super::request::{answers_of, parse_request};
use crate::engine;
use crate::http::body::{read_body, require_json};
use crate::http::error::{ApiError, ErrorCode};
use crate::http::state::AppState;
use crate::knowledge::KnowledgeBase;
use crate::view::dto::{DeprecationHeaders, Texts, TriageRequest, TriageResponse};
use crate::view::language::Lang;

/// Assess back pain answers
///
/// Runs the red-flag rules, cause scoring, STarT Back and content selection on one
/// set of answers and returns an explained assessment. Deterministic: the same
/// answers give the same body apart from `assessment_id`. A required safety screen
/// left unknown floors the level at `consultation_24` and comes back in
/// `completeness.questions`.
#[utoipa::path(
    post,
    path = "/v1/triage",
    operation_id = "triage",
    tag = "triage",
    request_body(content = TriageRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The assessment", body = TriageResponse,
            headers(
                ("Cache-Control" = String, description = "`no-store`"),
                ("Content-Language" = String, description = "The language of the patient texts (`language.code`): `options.language`, else the best of `Accept-Language`, else `en`"),
                ("Vary" = String, description = "`Accept-Language`"),
                ("Deprecation" = String, description = "RFC 9745, only when a deprecated answer code or value was sent: `@` and the Unix time of the earliest deprecation (the body's `warnings` say which and what replaces it)"),
                ("Sunset" = String, description = "RFC 8594, only with `Deprecation` when the deprecated input has a planned removal: an HTTP-date"),
                ("Link" = String, description = "With `Deprecation`: `</v1/vocabulary>; rel=\"deprecation\"`, where each code's `status` and `lifecycle` are listed"),
            )),
    )
)]
#[post("/v1/triage")]
pub async fn triage(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !req.query_string().is_empty() {
        // Answers belong in the body: a URL ends up in proxy and browser logs.
        return Err(ApiError::field(
            ErrorCode::InvalidRequestShape,
            "",
            "`/v1/triage` takes no query parameters; send answers and options in the body",
        ));
    }
    require_json(&req)?;
    let body = read_body(&req, payload, state.body_limit, state.body_timeout).await?;
    let accept_language = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let (response, deprecation) =
        triage_body_with_headers(&state.kb, &state.texts, &body, accept_language)?;
    crate::http::observe::record_assessment(&req, &response);
    // Sized for a typical assessment (11–20 KB with next_questions) so the buffer is written
    // once, not regrown and copied while writing.
    let mut json = Vec::with_capacity(32 * 1024);
    serde_json::to_writer(&mut json, &response)
        .map_err(|_| ApiError::new(ErrorCode::Internal, "the assessment could not be written"))?;
    let mut ok = HttpResponse::Ok();
    ok.insert_header((header::CACHE_CONTROL, "no-store"));
    ok.insert_header((header::CONTENT_LANGUAGE, response.language.code));
    ok.insert_header((header::VARY, "Accept-Language"));
    if let Some(DeprecationHeaders {
        deprecation,
        sunset,
    }) = deprecation
    {
        ok.insert_header(("Deprecation", deprecation));
        ok.insert_header((
            header::LINK,
            "</v1/vocabulary>; rel=\"deprecation\"; type=\"application/json\"",
        ));
        if let Some(sunset) = sunset {
            ok.insert_header(("Sunset", sunset));
        }
    }
    Ok(ok.content_type("application/json").body(json))
}

/// The whole request path after the transport: body bytes → parsed answers → engine →
/// response. Pure apart from the new assessment id; the fuzz target drives it directly.
pub fn triage_body<'a>(
    kb: &'a KnowledgeBase,
    texts: &'a Texts,
    body: &[u8],
) -> Result<TriageResponse<'a>, ApiError> {
    triage_body_with_headers(kb, texts, body, None).map(|(response, _)| response)
}

/// [`triage_body`] plus the `Deprecation` / `Sunset` header values when the request used
/// deprecated codes or values.
pub fn triage_body_with_headers<'a>(
    kb: &'a KnowledgeBase,
    texts: &'a Texts,
    body: &[u8],
    accept_language: Option<&str>,
) -> Result<(TriageResponse<'a>, Option<DeprecationHeaders>), ApiError> {
    let input = parse_request(body)?;
    let lang = Lang::choose(kb, input.language.as_deref(), accept_language).map_err(|e| {
        ApiError::field(
            ErrorCode::InvalidOption,
            "/options/language",
            format!(
                "`language` must be one of {}",
                e.available
                    .iter()
                    .map(|l| format!("\"{l}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let answers = answers_of(kb, &input)?;
    let assessment = engine::assess(kb, &answers, input.audience);
    let mut response = TriageResponse::build_in(
        kb,
        &assessment,
        texts,
        uuid::Uuid::new_v4().to_string(),
        &lang,
    );
    response.warnings = crate::view::dto::warnings(kb, &answers);
    Ok((
        response,
        crate::view::dto::deprecation_headers(kb, &answers),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_errors_have_their_own_codes() {
        let code = |body: &str| parse_request(body.as_bytes()).err().map(|e| e.code);
        assert_eq!(code("[]"), Some(ErrorCode::InvalidRequestShape));
        assert_eq!(code("{}"), Some(ErrorCode::InvalidRequestShape));
        assert_eq!(
            code(r#"{"answers": []}"#),
            Some(ErrorCode::InvalidRequestShape)
        );
        assert_eq!(
            code(r#"{"answers": {}, "extra": 1}"#),
            Some(ErrorCode::InvalidRequestShape)
        );
        assert_eq!(
            code(r#"{"answers": {}, "options": {"audience": "doctor"}}"#),
            Some(ErrorCode::InvalidOption)
        );
        assert_eq!(
            code(r#"{"answers": {}, "options": {"language": 7}}"#),
            Some(ErrorCode::InvalidOption)
        );
        assert_eq!(
            code(r#"{"answers": {}, "options": {"locale": "en"}}"#),
            Some(ErrorCode::InvalidOption)
        );
        assert_eq!(
            code(r#"{"answers": {}, "options": {"language": "es"}}"#),
            None
        );
        assert_eq!(code(r#"{"answers": {}"#), Some(ErrorCode::MalformedJson));
        assert_eq!(
            code(r#"{"answers": {}, "options": {"audience": "clinician"}}"#),
            None
        );
    }
}
