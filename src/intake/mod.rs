//! The reference intake page at `/intake/`: static files compiled into the binary. The page
//! (`clients/intake/src/intake.ts`, compiled to `assets/intake.js`) asks one question at a
//! time from `next_questions` of `POST /v1/triage`; it holds no state on the server and
//! loads nothing from anywhere else (`security` gives paths under /intake the page's Content-Security-Policy).

use actix_web::http::header;
use actix_web::{guard, web, HttpResponse};

use crate::http::error::{ApiError, ErrorCode};

const INDEX_HTML: &str = include_str!("assets/index.html");
const INTAKE_JS: &str = include_str!("assets/intake.js");
const INTAKE_CSS: &str = include_str!("assets/intake.css");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page_resource("/intake", || {
        HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, "/intake/"))
            .finish()
    }))
    .service(page_resource("/intake/", || {
        asset(INDEX_HTML, "text/html; charset=utf-8")
    }))
    .service(page_resource("/intake/intake.js", || {
        asset(INTAKE_JS, "text/javascript; charset=utf-8")
    }))
    .service(page_resource("/intake/intake.css", || {
        asset(INTAKE_CSS, "text/css; charset=utf-8")
    }));
}

/// A page file: GET and HEAD; any other method is the usual 405 problem.
fn page_resource(path: &str, respond: fn() -> HttpResponse) -> actix_web::Resource {
    web::resource(path)
        .route(
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(move || async move { respond() }),
        )
        .default_service(web::to(|| async {
            let mut error = ApiError::new(
                ErrorCode::MethodNotAllowed,
                "the intake page is read with GET or HEAD",
            );
            error.allow = Some("GET, HEAD".to_owned());
            Err::<HttpResponse, ApiError>(error)
        }))
}

fn asset(body: &'static str, content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        // The files change only with the binary; a short cache keeps a rollout visible.
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body)
}
