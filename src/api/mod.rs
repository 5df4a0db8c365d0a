//! The HTTP layer: wire types, handlers and error mapping. It parses requests,
//! calls the engine, and renders responses; it holds no clinical logic.

pub mod dto;
pub mod error;
pub mod json;
pub mod language;
pub mod meta;
pub mod request;
pub mod triage;

use std::sync::Arc;

use actix_web::{web, HttpRequest};

use crate::knowledge::KnowledgeBase;
use dto::Texts;
use error::{ApiError, ErrorCode};

/// Shared, read-only state of every worker.
pub struct AppState {
    pub kb: Arc<KnowledgeBase>,
    pub texts: Texts,
    pub body_limit: usize,
    /// How long a request body may take to arrive (`server.request_timeout_secs`).
    pub body_timeout: std::time::Duration,
    /// The OpenAPI document, serialised once at start-up.
    pub openapi_json: String,
    /// Every documented path (templated) with its methods, for 404 vs 405.
    pub routes: Vec<(String, Vec<String>)>,
}

/// Register every handler. The Swagger UI and CORS live in `startup`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(triage::triage)
        .service(meta::vocabulary)
        .service(meta::knowledge_base)
        .service(meta::health)
        .service(meta::ready)
        .service(meta::openapi_json);
}

fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(a, b)| (a.starts_with('{') && a.ends_with('}') && !b.is_empty()) || a == b)
}

/// Anything no route took: 405 with `Allow` for a known path, 404 otherwise.
pub async fn fallback(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let path = req.path();
    if let Some((template, methods)) = state.routes.iter().find(|(t, _)| path_matches(t, path)) {
        // Only a trailing slash differs (`/v1/triage/`): with an allowed method the route
        // did not take it, so the resource is not here; never "POST not allowed; allowed: POST".
        if methods.iter().any(|m| m == req.method().as_str()) {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no resource at this path; did you mean {template}?"),
            ));
        }
        let mut error = ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!(
                "{} is not allowed here; allowed: {}",
                // Never echo an arbitrary client token back.
                match crate::telemetry::method_label(req.method()) {
                    "other" => "this method",
                    known => known,
                },
                methods.join(", ")
            ),
        );
        error.allow = Some(methods.join(", "));
        return Err(error);
    }
    Err(ApiError::new(
        ErrorCode::NotFound,
        "no resource at this path; see /openapi.json for the endpoints",
    ))
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn templated_paths_match_one_segment() {
        assert!(path_matches(
            "/cds-services/{id}",
            "/cds-services/back-pain"
        ));
        assert!(!path_matches("/cds-services/{id}", "/cds-services"));
        assert!(path_matches("/v1/triage", "/v1/triage/"));
        assert!(!path_matches("/v1/triage", "/v1/triages"));
    }
}
