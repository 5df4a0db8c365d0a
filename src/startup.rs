//! Building and running the HTTP server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::api;
use crate::configuration::Settings;
use crate::http::drain::Drain;
use crate::http::state::AppState;
use crate::knowledge::KnowledgeBase;
use crate::openapi;
use crate::view::dto::Texts;

pub struct Application {
    port: u16,
    server: Server,
    drain: Arc<Drain>,
    shutdown_timeout: Duration,
}

/// Counts one open connection for as long as actix keeps its connection data.
struct ConnectionGuard(Arc<AtomicUsize>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The soft descriptor limit, where the platform tells (Linux).
fn descriptor_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
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
        let card_ids = web::Data::new(
            crate::cds::card_id::CardIds::new(
                &settings.cds.card_key,
                settings.cds.max_feedback_entries,
            )
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
        );
        // Fail closed on a unit no question offers: a typo would silently ask in °C.
        for unit in &settings.locale.units {
            let offered = kb.vocabulary.codes.iter().any(|c| {
                c.unit.as_deref() == Some(unit.as_str())
                    || c.alternative_units.iter().any(|a| a.unit == *unit)
            });
            if !offered {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("locale.units: `{unit}` is not a unit any number question offers (°F, lb, st)"),
                ));
            }
        }
        let care = choose_care_setting(&kb, &settings.locale.care_setting)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let fhir_fetch = web::Data::new(
            crate::cds::fetch::FhirFetch::new(&settings.cds)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
        );
        for warning in settings.open_warnings() {
            tracing::warn!("{warning}");
        }
        let drain = Arc::new(Drain::default());
        let drain_data = web::Data::from(drain.clone());
        let connections = drain.connections.clone();
        let workers = if settings.server.workers > 0 {
            settings.server.workers
        } else {
            std::thread::available_parallelism().map_or(1, usize::from)
        };
        // actix caps per worker; the setting is the total.
        let per_worker = settings.server.max_connections.div_ceil(workers).max(1);
        if let Some(limit) = descriptor_limit() {
            if settings.server.max_connections + 64 > limit {
                tracing::warn!(
                    max_connections = settings.server.max_connections,
                    descriptor_limit = limit,
                    "server.max_connections is not below the descriptor limit (ulimit -n): \
                     raise the limit or lower the cap"
                );
            }
        }
        let doc = openapi::document(&kb);
        let openapi_json = openapi::to_json(&doc).map_err(std::io::Error::other)?;
        let texts = Texts::new(
            &kb,
            settings.texts.emergency_number.clone(),
            settings.texts.urgent_line.clone(),
            settings.locale.units.clone(),
            care,
        );
        let state = web::Data::new(AppState {
            kb,
            texts,
            body_limit: settings.server.body_limit_bytes,
            body_timeout: Duration::from_secs(settings.server.request_timeout_secs.max(1)),
            openapi_json,
            routes: routes(&doc),
        });
        let intake_enabled = settings.intake.enabled;
        let server = HttpServer::new(move || {
            // The last `wrap` is the outermost: span, then headers/CORS, then access control.
            App::new()
                .wrap(from_fn(crate::security::access))
                .wrap(from_fn(crate::security::headers_and_cors))
                .wrap(from_fn(crate::telemetry::request_span))
                .app_data(state.clone())
                .app_data(security.clone())
                .app_data(metrics.clone())
                .app_data(card_ids.clone())
                .app_data(fhir_fetch.clone())
                .app_data(drain_data.clone())
                .configure(api::configure)
                .configure(crate::fhir::configure)
                .configure(crate::cds::configure)
                .configure(|cfg| {
                    if intake_enabled {
                        crate::intake::configure(cfg);
                    }
                })
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
                .default_service(web::to(crate::http::routes::fallback))
        })
        .on_connect(move |_, extensions| {
            connections.fetch_add(1, Ordering::Relaxed);
            extensions.insert(ConnectionGuard(connections.clone()));
        })
        // Signals are handled in `run_until_signalled`: actix's own graceful stop drops
        // requests already received but not yet dispatched on keep-alive connections.
        .disable_signals()
        .workers(workers)
        .max_connections(per_worker)
        .backlog(settings.server.backlog)
        .keep_alive(Duration::from_secs(5))
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        .client_request_timeout(Duration::from_secs(
            settings.server.request_timeout_secs.max(1),
        ))
        .bind((settings.server.host.as_str(), settings.server.port))?;
        let port = server
            .addrs()
            .first()
            .map(|a| a.port())
            .ok_or_else(|| std::io::Error::other("the server bound no address"))?;
        Ok(Application {
            port,
            server: server.run(),
            drain,
            shutdown_timeout: Duration::from_secs(settings.server.shutdown_timeout_secs),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serve until the server is dropped (tests; no signal handling).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Serve until SIGTERM/SIGINT, then drain: stop accepting, answer every request already
    /// received or still arriving on open connections with `Connection: close`, and stop once
    /// every connection has closed (idle keep-alive ones after their 5 s timeout) or
    /// `shutdown_timeout_secs` has passed.
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let drain = self.drain.clone();
        let timeout = self.shutdown_timeout;
        actix_web::rt::spawn(async move {
            wait_for_signal().await;
            drain.draining.store(true, Ordering::Relaxed);
            handle.pause().await;
            tracing::info!(
                connections = drain.connections(),
                "draining: no new connections; open ones finish with Connection: close"
            );
            let deadline = Instant::now() + timeout;
            while drain.connections() > 0 && Instant::now() < deadline {
                actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            }
            tracing::info!(left = drain.connections(), "drained; stopping");
            handle.stop(true).await;
        });
        self.server.await
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                tracing::error!("cannot listen for SIGTERM/SIGINT; drain on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The care-setting words a deployment asked for (`locale.care_setting`; empty: the knowledge
/// base's first set). An unknown set stops the start: a typo would otherwise tell a patient in
/// one country to see a doctor by another country's name.
fn choose_care_setting(
    kb: &crate::knowledge::KnowledgeBase,
    wanted: &str,
) -> Result<Option<crate::knowledge::CareSetting>, String> {
    let wanted = wanted.trim();
    if wanted.is_empty() {
        return Ok(kb.care_settings.first().cloned());
    }
    kb.care_settings
        .iter()
        .find(|c| c.id == wanted)
        .cloned()
        .map(Some)
        .ok_or_else(|| {
            let known: Vec<&str> = kb.care_settings.iter().map(|c| c.id.as_str()).collect();
            format!(
                "locale.care_setting: `{wanted}` is not a care setting of the knowledge base (one of: {})",
                known.join(", ")
            )
        })
}
