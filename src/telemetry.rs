//! Logging with tracing. One span per request carries the request id, method and route; one
//! line per request gives the status, latency and client, and for an assessment the
//! decision (level, deciding and fired rules) on the `audit` target.
//! Answer values never reach a log: handlers that see the payload record only
//! decisions, and nothing here serialises a request body.

use std::io::IsTerminal;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing::Instrument;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Registry};

use crate::configuration::LogFormat;
use crate::http::identity::RequestId;
use crate::http::observe::AssessmentRecord;
use crate::http::routes::method_label;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Build a subscriber writing to `sink`; tests pass a buffer, the binary stdout.
pub fn get_subscriber<W>(
    filter: &str,
    format: LogFormat,
    sink: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    match format {
        LogFormat::Json => Box::new(
            Registry::default().with(filter).with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(sink),
            ),
        ),
        // Colours only for a person at a terminal; escape codes cost time and garble files.
        LogFormat::Pretty => Box::new(
            Registry::default().with(filter).with(
                tracing_subscriber::fmt::layer()
                    .compact()
                    .with_ansi(std::io::stdout().is_terminal())
                    .with_writer(sink),
            ),
        ),
    }
}

fn accept_request_id(value: Option<&HeaderValue>) -> Option<String> {
    let s = value?.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    ok.then(|| s.to_owned())
}

/// Outermost middleware: the request span and the one line per request.
///
/// The line is written once the response is ready: `request completed` with the status,
/// latency and client, or, for a request that produced an assessment, the `audit` event
/// `assessment issued` carrying those and the decision. One line, not two, because each
/// formatted line costs more than the rest of the request's logging together; and nothing is
/// recorded on the span after it opens (re-recording a JSON-formatted span re-serialises it).
pub async fn request_span(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let request_id = accept_request_id(req.headers().get(REQUEST_ID_HEADER))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    // The route pattern, not the path: a path could carry identifiers.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(req.method());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = %route,
    );
    let metrics = req
        .app_data::<actix_web::web::Data<crate::metrics::Metrics>>()
        .cloned();
    let drain = req
        .app_data::<actix_web::web::Data<crate::http::drain::Drain>>()
        .cloned();
    let result = next.call(req).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    let latency_ms = seconds * 1000.0;
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            if let Some(m) = &metrics {
                m.observe(&route, method, status, seconds);
            }
            if drain.as_ref().is_some_and(|d| d.draining()) {
                // Draining: this connection's last response; the client reconnects elsewhere.
                res.response_mut()
                    .head_mut()
                    .set_connection_type(actix_web::http::ConnectionType::Close);
            }
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                res.headers_mut()
                    .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
            }
            let client = res
                .request()
                .extensions()
                .get::<crate::http::identity::Client>()
                .map(|c| c.0.clone());
            let client = client.as_deref().unwrap_or("anonymous");
            let assessment = res.request().extensions_mut().remove::<AssessmentRecord>();
            if let (Some(a), Some(m)) = (&assessment, &metrics) {
                m.assessment(a.level);
            }
            span.in_scope(|| match assessment {
                Some(a) => tracing::info!(
                    target: "audit",
                    event = "assessment",
                    assessment_id = %a.assessment_id,
                    request_id = %request_id,
                    time = %crate::clock::utc_now(),
                    client = %client,
                    knowledge_base_version = %a.knowledge_base_version,
                    knowledge_base_digest = %a.knowledge_base_digest,
                    level = %a.level,
                    decided_by = %a.decided_by,
                    rule_ids = %a.rule_ids,
                    complete = a.complete,
                    missing_screens = a.missing_screens,
                    status,
                    latency_ms,
                    "assessment issued"
                ),
                None => tracing::info!(status, latency_ms, client = %client, "request completed"),
            });
            Ok(res)
        }
        Err(e) => {
            span.in_scope(|| {
                tracing::warn!(latency_ms, "request failed before a response");
            });
            Err(e)
        }
    }
}
