//! FHIR R4 resources shared by the FHIR and CDS Hooks faces: the Questionnaire generated
//! from the vocabulary, QuestionnaireResponse mapping, the GuidanceResponse rendering, their
//! OpenAPI schemas and examples. No routes here: the faces own those.

pub mod adaptive;
pub mod capability;
pub mod examples;
pub mod guidance;
pub mod mapping;
pub mod questionnaire;
pub mod schema;
pub mod terminology;

use serde_json::Value;

use crate::engine::{self, Audience};
use crate::knowledge::KnowledgeBase;
use crate::view::dto::{Texts, TriageResponse};
use mapping::{map_response, Mapped, QrError};

/// The JSON API's assessment of a QuestionnaireResponse: mapped, validated and assessed exactly
/// like `POST /v1/triage`; used by `$triage` and by CDS Hooks.
pub fn assess_questionnaire_response<'a>(
    kb: &'a KnowledgeBase,
    texts: &'a Texts,
    qr: &Value,
    audience: Audience,
    assessment_id: String,
) -> Result<(TriageResponse<'a>, Mapped), QrError> {
    let mapped = map_response(kb, qr)?;
    let assessment = engine::assess(kb, &mapped.answers, audience);
    let mut response = TriageResponse::build(kb, &assessment, texts, assessment_id);
    response.warnings = crate::view::dto::warnings(kb, &mapped.answers);
    Ok((response, mapped))
}
