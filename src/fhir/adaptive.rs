//! `POST /fhir/Questionnaire/$next-question`: the SDC adaptive-questionnaire operation, driven
//! by the same next-question choice as the JSON API (`fhir_resources::adaptive`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::{
    accepts_fhir_json, fhir_response, method_not_allowed, questionnaire_response_of,
    require_fhir_json,
};
use crate::fhir_resources::adaptive;
use crate::fhir_resources::examples;
use crate::fhir_resources::mapping::QrError;
use crate::fhir_resources::schema::FhirOperationOutcome;
use crate::fhir_resources::schema::FhirQuestionnaireResponse;
use crate::http::body::read_body;
use crate::http::error::ApiError;
use crate::http::outcome::operation_outcome_response;
use crate::http::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/Questionnaire/$next-question")
            .route(web::post().to(next_question))
            .default_service(web::to(|| async { method_not_allowed("POST") })),
    );
}

/// The next question of an adaptive form (SDC `$next-question`)
///
/// Input: a QuestionnaireResponse (bare, or as Parameters `in`) whose contained Questionnaire
/// holds the questions asked so far (the first call may send none: the service makes it).
/// Output: the same response with the next question added to the contained Questionnaire
/// (`questionnaire` = `#adaptive`) and `status` `in-progress`, or `completed` when the rules
/// need nothing more. The order is the JSON API's `next_questions`: age and sex, required
/// screens, what could raise the level, medicine screens, causes, STarT Back. A question the
/// contained Questionnaire holds but the response leaves unanswered counts as skipped
/// (declined) and is not asked again; a skipped safety screen keeps the level floored. At an
/// emergency level the contained Questionnaire starts with a `display` item `urgent-action`
/// holding what to do now. The assessment itself is `POST /fhir/QuestionnaireResponse/$triage`
/// with the returned response (its answers are codes of the full Questionnaire).
#[utoipa::path(
    post,
    path = "/fhir/Questionnaire/$next-question",
    operation_id = "fhirNextQuestion",
    tag = "fhir",
    request_body(
        description = "The QuestionnaireResponse so far (schema below; `questionnaire` `#adaptive` with the contained \
            Questionnaire the previous call returned, or left out on the first call), or the same wrapped in \
            Parameters as `in`",
        content(
            (FhirQuestionnaireResponse = "application/fhir+json", example = json!(examples::next_question_request())),
        )
    ),
    responses(
        (status = 200, description = "The QuestionnaireResponse with the next question in its contained Questionnaire",
            body = Object, content_type = "application/fhir+json",
            example = json!(examples::next_question_response())),
        (status = 422, description = "A response that cannot be read: `invalid_request_shape`, `unknown_answer_code`, `invalid_answer_value`",
            body = FhirOperationOutcome, content_type = "application/fhir+json",
            example = json!(examples::outcome_unknown_link_id())),
    )
)]
pub async fn next_question(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    match run(&req, payload, &state).await {
        Ok(response) => response,
        Err(error) => operation_outcome_response(&error),
    }
}

async fn run(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    accepts_fhir_json(req)?;
    require_fhir_json(req)?;
    let body = read_body(req, payload, state.body_limit, state.body_timeout).await?;
    let body: Value = crate::http::json::parse_strict(&body)?;
    let qr = questionnaire_response_of(body, "in", "$next-question")?;
    let step = adaptive::next_question(&state.kb, &state.texts, &qr).map_err(QrError::into_fhir)?;
    Ok(fhir_response(StatusCode::OK, &step.response, true))
}
