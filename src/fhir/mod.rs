//! FHIR R4 interface: the intake Questionnaire generated from the vocabulary, and
//! `QuestionnaireResponse/$triage` returning a GuidanceResponse.

pub mod outcome;

use actix_web::web;
use utoipa::OpenApi;

/// FHIR paths, merged into the service's OpenAPI document.
#[derive(OpenApi)]
#[openapi()]
pub struct FhirApiDoc;

/// Register the FHIR handlers.
pub fn configure(_cfg: &mut web::ServiceConfig) {}
