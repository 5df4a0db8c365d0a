//! Building and running the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::api::dto::Texts;
use crate::api::{self, AppState};
use crate::configuration::Settings;
use crate::knowledge::KnowledgeBase;
use crate::openapi;

pub struct Application {
    port: u16,
    server: Server,
}

/// Every documented path with its methods, for telling 404 from 405.
fn routes(doc: &utoipa::openapi::OpenApi) -> Vec<(String, Vec<String>)> {
    doc.paths
        .paths
        .iter()
        .map(|(path, item)| {
            let mut methods = Vec::new();
            for (method, op) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
            ] {
                if op.is_some() {
                    methods.push(method.to_owned());
                }
            }
            (path.clone(), methods)
        })
        .collect()
}

impl Application {
    /// Bind (port 0 picks a free port) and build the server; it runs once awaited.
    pub fn build(settings: &Settings, kb: Arc<KnowledgeBase>) -> std::io::Result<Application> {
        let security = web::Data::new(
            crate::security::Security::new(settings)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
        );
        let metrics = web::Data::new(crate::metrics::Metrics::new(&kb.version, &kb.digest));
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))?;
        let port = listener.local_addr()?.port();
        let doc = openapi::document(&kb);
        let openapi_json = openapi::to_json(&doc).map_err(std::io::Error::other)?;
        let state = web::Data::new(AppState {
            kb,
            texts: Texts {
                emergency_number: settings.texts.emergency_number.clone(),
                urgent_line: settings.texts.urgent_line.clone(),
            },
            body_limit: settings.server.body_limit_bytes,
            body_timeout: Duration::from_secs(settings.server.request_timeout_secs.max(1)),
            openapi_json,
            routes: routes(&doc),
        });
        let mut server = HttpServer::new(move || {
            // The last `wrap` is the outermost: span, then headers/CORS, then access control.
            App::new()
                .wrap(from_fn(crate::security::access))
                .wrap(from_fn(crate::security::headers_and_cors))
                .wrap(from_fn(crate::telemetry::request_span))
                .app_data(state.clone())
                .app_data(security.clone())
                .app_data(metrics.clone())
                .configure(api::configure)
                .configure(crate::fhir::configure)
                .configure(crate::cds::configure)
                .service(crate::metrics::metrics)
                .service(web::resource("/docs").get(|| async {
                    actix_web::HttpResponse::PermanentRedirect()
                        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
                        .finish()
                }))
                .service(
                    SwaggerUi::new("/docs/{_:.*}")
                        .config(SwaggerConfig::new(["/openapi.json"]).validator_url("none")),
                )
                .default_service(web::to(api::fallback))
        })
        .listen(listener)?
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        .client_request_timeout(Duration::from_secs(
            settings.server.request_timeout_secs.max(1),
        ));
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        Ok(Application {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serve until SIGTERM/SIGINT; requests in flight complete first (graceful shutdown).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
