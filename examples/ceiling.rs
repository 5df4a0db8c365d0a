//! The framework ceiling for `scripts/bench-http.sh`: a bare actix-web server with
//! the service's worker count, one `POST /v1/triage` that parses the request body
//! into `serde_json::Value` (and nothing more) and answers with a pre-built JSON
//! body of the same size as the real service's response, plus `GET /ready`.
//! No middleware, no logging: what actix-web and serde_json alone can do here.
//!
//! Usage: `ceiling [PORT] [RESPONSE_BYTES]` (defaults 8081 and 4096); the worker
//! count is actix-web's default (one per core), as in the service, unless
//! `CEILING_WORKERS` is set.

// A measuring tool, not service code: a bad argument should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::http::header;
use actix_web::{web, App, HttpResponse, HttpServer};

/// A valid JSON object of exactly `len` bytes (at least 12): `{"pad":"xxx…"}`.
fn response_body(len: usize) -> web::Bytes {
    let frame = r#"{"pad":""}"#.len();
    let mut body = String::with_capacity(len.max(frame));
    body.push_str(r#"{"pad":""#);
    body.extend(std::iter::repeat_n('x', len.saturating_sub(frame)));
    body.push_str(r#""}"#);
    web::Bytes::from(body)
}

async fn triage(body: web::Bytes, response: web::Data<web::Bytes>) -> HttpResponse {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(value) => {
            std::hint::black_box(value);
            HttpResponse::Ok()
                .content_type(header::ContentType::json())
                .body(response.get_ref().clone())
        }
        Err(_) => HttpResponse::BadRequest().finish(),
    }
}

async fn ready() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(header::ContentType::json())
        .body(r#"{"status":"ok"}"#)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().map_or(8081, |a| a.parse().expect("PORT"));
    let bytes: usize = args
        .next()
        .map_or(4096, |a| a.parse().expect("RESPONSE_BYTES"));
    let response = web::Data::new(response_body(bytes));
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(response.clone())
            .app_data(web::PayloadConfig::new(64 * 1024))
            .route("/v1/triage", web::post().to(triage))
            .route("/ready", web::get().to(ready))
    })
    .bind(("127.0.0.1", port))?;
    if let Some(workers) = std::env::var("CEILING_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
    {
        server = server.workers(workers);
    }
    server.run().await
}

#[cfg(test)]
mod tests {
    use super::response_body;

    #[test]
    fn body_has_the_requested_length_and_is_json() {
        for len in [12, 100, 5000] {
            let body = response_body(len);
            assert_eq!(body.len(), len);
            assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());
        }
    }
}
