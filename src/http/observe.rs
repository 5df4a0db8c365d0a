//! What a face tells the middleware about the request it served: the decision of an
//! assessment (never an answer), for the audit line and the level counter.

use actix_web::HttpMessage;

/// The decision of one assessment, for the request's audit line. Never an answer.
#[derive(Debug, Clone)]
pub struct AssessmentRecord {
    pub assessment_id: String,
    pub knowledge_base_version: String,
    pub knowledge_base_digest: String,
    pub level: &'static str,
    pub decided_by: String,
    pub rule_ids: String,
    pub complete: bool,
    pub missing_screens: usize,
}

/// Record an assessment on the request: the telemetry middleware writes it as the request's
/// one line on the `audit` target (the medico-legal record) and counts it by level.
pub fn record_assessment(
    req: &actix_web::HttpRequest,
    response: &crate::view::dto::TriageResponse<'_>,
) {
    let rule_ids = response
        .red_flags
        .iter()
        .map(|f| f.rule_id)
        .collect::<Vec<_>>()
        .join(",");
    req.extensions_mut().insert(AssessmentRecord {
        assessment_id: response.assessment_id.clone(),
        knowledge_base_version: response.knowledge_base.version.to_string(),
        knowledge_base_digest: response.knowledge_base.digest.to_string(),
        level: response.triage.level,
        decided_by: response.triage.decided_by.join(","),
        rule_ids,
        complete: response.completeness.complete,
        missing_screens: response.completeness.missing_screens.len(),
    });
}
