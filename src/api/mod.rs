//! The HTTP layer: wire types, handlers and error mapping. It parses requests,
//! calls the engine, and renders responses; it holds no clinical logic.

pub mod meta;
pub mod request;
pub mod triage;

use actix_web::web;

/// Register every handler. The Swagger UI and CORS live in `startup`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(triage::triage)
        .service(meta::vocabulary)
        .service(meta::knowledge_base)
        .service(meta::health)
        .service(meta::ready)
        .service(meta::openapi_json);
}
