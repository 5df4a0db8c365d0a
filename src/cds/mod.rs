//! CDS Hooks 2.0: discovery, the `patient-view` back-pain service, and feedback.

use actix_web::web;
use utoipa::OpenApi;

/// CDS Hooks paths, merged into the service's OpenAPI document.
#[derive(OpenApi)]
#[openapi()]
pub struct CdsApiDoc;

/// Register the CDS Hooks handlers.
pub fn configure(_cfg: &mut web::ServiceConfig) {}
