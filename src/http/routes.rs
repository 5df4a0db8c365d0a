//! What happens to a request no route took: 405 with `Allow` for a known path, else 404;
//! and the bounded labels a request is known by in logs and metrics.

use actix_web::{web, HttpRequest};

use super::error::{ApiError, ErrorCode};
use super::state::AppState;

/// The method as a bounded label: a standard method, else `other`. A client can send any
/// token as a method; used raw it would grow metrics and log lines without bound.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method as M;
    match *method {
        M::GET => "GET",
        M::HEAD => "HEAD",
        M::POST => "POST",
        M::PUT => "PUT",
        M::DELETE => "DELETE",
        M::PATCH => "PATCH",
        M::OPTIONS => "OPTIONS",
        M::CONNECT => "CONNECT",
        M::TRACE => "TRACE",
        _ => "other",
    }
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
                match method_label(req.method()) {
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
