//! Reading and searching the canonical resources the FHIR outputs name: the knowledge-base
//! Library and the CodeSystems and ValueSets of the answer and level codes
//! (`fhir_resources::terminology` builds them from the knowledge base).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::{accepts_fhir_json, canonical_search, fhir_response, method_not_allowed};
use crate::fhir_resources::examples;
use crate::fhir_resources::terminology as terms;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::outcome::operation_outcome_response;
use crate::http::state::AppState;

/// A read-only resource: GET, any other method 405.
fn get<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler))
        .default_service(web::to(|| async { method_not_allowed("GET") }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get("/Library", search_library))
        .service(get("/Library/{id}", get_library))
        .service(get("/CodeSystem", search_code_system))
        .service(get("/CodeSystem/{id}", get_code_system))
        .service(get("/ValueSet", search_value_set))
        .service(get("/ValueSet/{id}", get_value_set));
}

#[derive(Clone, Copy)]
enum Kind {
    Library,
    CodeSystem,
    ValueSet,
}

fn resources(state: &AppState, kind: Kind) -> Vec<Value> {
    let kb = &state.kb;
    match kind {
        Kind::Library => vec![terms::library(kb)],
        Kind::CodeSystem => terms::terminologies(kb)
            .iter()
            .map(|t| terms::code_system(kb, t))
            .collect(),
        Kind::ValueSet => terms::terminologies(kb)
            .iter()
            .map(|t| terms::value_set(kb, t))
            .collect(),
    }
}

fn read(req: &HttpRequest, state: &AppState, kind: Kind, id: &str) -> HttpResponse {
    if let Err(e) = accepts_fhir_json(req) {
        return operation_outcome_response(&e);
    }
    match resources(state, kind).into_iter().find(|r| r["id"] == id) {
        Some(resource) => fhir_response(StatusCode::OK, &resource, false),
        None => operation_outcome_response(&ApiError::new(
            ErrorCode::NotFound,
            "no resource with this id; search by `url` to list them",
        )),
    }
}

fn search(req: &HttpRequest, state: &AppState, kind: Kind) -> HttpResponse {
    if let Err(e) = accepts_fhir_json(req) {
        return operation_outcome_response(&e);
    }
    match canonical_search(req) {
        Ok(wanted) => fhir_response(
            StatusCode::OK,
            &terms::searchset(resources(state, kind), wanted.as_deref(), &state.kb.version),
            false,
        ),
        Err(e) => operation_outcome_response(&e),
    }
}

/// Read the knowledge-base Library
///
/// The Library that `GuidanceResponse.moduleCanonical` names (`urn:spasm-triage:knowledge-base`):
/// the knowledge base's version, its digest as an identifier, and the guidance it cites as
/// `relatedArtifact`. Its id is `knowledge-base`.
#[utoipa::path(
    get,
    path = "/fhir/Library/{id}",
    operation_id = "getFhirLibrary",
    tag = "fhir",
    params(("id" = String, Path, description = "`knowledge-base`")),
    responses(
        (status = 200, description = "The Library (example: sources trimmed)", content_type = "application/fhir+json",
            body = Object, example = json!(examples::library())),
        (status = 404, description = "No Library with this id (`not_found`)", content_type = "application/fhir+json",
            body = crate::fhir_resources::schema::FhirOperationOutcome, example = json!(not_found_example())),
    )
)]
pub async fn get_library(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    read(&req, &state, Kind::Library, &id)
}

/// Search the Libraries by `url`
///
/// A `searchset` Bundle with the knowledge-base Library when `url` is
/// `urn:spasm-triage:knowledge-base` (optionally `|version`, or `version=`) or absent.
#[utoipa::path(
    get,
    path = "/fhir/Library",
    operation_id = "searchFhirLibrary",
    tag = "fhir",
    params(
        ("url" = Option<String>, Query, description = "Canonical URL, optionally `|version`"),
        ("version" = Option<String>, Query, description = "The knowledge base version"),
    ),
    responses(
        (status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object,
            example = json!(examples::search_of(examples::library()))),
        (status = 422, description = "A search parameter other than `url` and `version` (`invalid_option`)",
            body = crate::fhir_resources::schema::FhirOperationOutcome, content_type = "application/fhir+json",
            example = json!(examples::outcome_unknown_search_parameter())),
    )
)]
pub async fn search_library(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    search(&req, &state, Kind::Library)
}

/// Read a CodeSystem
///
/// The codes of one `urn:spasm-triage:*` system with their displays and each display's review
/// status (property `review`): `tri` (yes / no / not sure), `response` (did a treatment help),
/// `triage-level`, and one per choice answer code, its id the code with `-` for `_` (e.g.
/// `pregnancy-status` for `urn:spasm-triage:pregnancy_status`).
#[utoipa::path(
    get,
    path = "/fhir/CodeSystem/{id}",
    operation_id = "getFhirCodeSystem",
    tag = "fhir",
    params(("id" = String, Path, description = "e.g. `tri`, `triage-level`, `pregnancy-status`")),
    responses(
        (status = 200, description = "The CodeSystem", content_type = "application/fhir+json",
            body = Object, example = json!(examples::code_system())),
        (status = 404, description = "No CodeSystem with this id (`not_found`)", content_type = "application/fhir+json",
            body = crate::fhir_resources::schema::FhirOperationOutcome, example = json!(not_found_example())),
    )
)]
pub async fn get_code_system(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    read(&req, &state, Kind::CodeSystem, &id)
}

/// Search the CodeSystems by `url`
///
/// A `searchset` Bundle of the CodeSystems whose `url` matches (optionally `|version`, or
/// `version=`), or of all of them without `url`.
#[utoipa::path(
    get,
    path = "/fhir/CodeSystem",
    operation_id = "searchFhirCodeSystem",
    tag = "fhir",
    params(
        ("url" = Option<String>, Query, description = "A system, e.g. `urn:spasm-triage:tri`, optionally `|version`"),
        ("version" = Option<String>, Query, description = "The knowledge base version"),
    ),
    responses(
        (status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object,
            example = json!(examples::search_of(examples::code_system()))),
        (status = 422, description = "A search parameter other than `url` and `version` (`invalid_option`)",
            body = crate::fhir_resources::schema::FhirOperationOutcome, content_type = "application/fhir+json",
            example = json!(examples::outcome_unknown_search_parameter())),
    )
)]
pub async fn search_code_system(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    search(&req, &state, Kind::CodeSystem)
}

/// Read a ValueSet
///
/// All codes of the CodeSystem with the same id (`urn:spasm-triage:ValueSet/<id>`).
#[utoipa::path(
    get,
    path = "/fhir/ValueSet/{id}",
    operation_id = "getFhirValueSet",
    tag = "fhir",
    params(("id" = String, Path, description = "The CodeSystem's id, e.g. `pregnancy-status`")),
    responses(
        (status = 200, description = "The ValueSet", content_type = "application/fhir+json",
            body = Object, example = json!(examples::value_set())),
        (status = 404, description = "No ValueSet with this id (`not_found`)", content_type = "application/fhir+json",
            body = crate::fhir_resources::schema::FhirOperationOutcome, example = json!(not_found_example())),
    )
)]
pub async fn get_value_set(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    read(&req, &state, Kind::ValueSet, &id)
}

/// Search the ValueSets by `url`
///
/// A `searchset` Bundle of the ValueSets whose `url` matches (optionally `|version`, or
/// `version=`), or of all of them without `url`.
#[utoipa::path(
    get,
    path = "/fhir/ValueSet",
    operation_id = "searchFhirValueSet",
    tag = "fhir",
    params(
        ("url" = Option<String>, Query, description = "e.g. `urn:spasm-triage:ValueSet/tri`, optionally `|version`"),
        ("version" = Option<String>, Query, description = "The knowledge base version"),
    ),
    responses(
        (status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object,
            example = json!(examples::search_of(examples::value_set()))),
        (status = 422, description = "A search parameter other than `url` and `version` (`invalid_option`)",
            body = crate::fhir_resources::schema::FhirOperationOutcome, content_type = "application/fhir+json",
            example = json!(examples::outcome_unknown_search_parameter())),
    )
)]
pub async fn search_value_set(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    search(&req, &state, Kind::ValueSet)
}

fn not_found_example() -> Value {
    crate::http::outcome::operation_outcome(&ApiError::new(
        ErrorCode::NotFound,
        "no resource with this id; search by `url` to list them",
    ))
}
