//! Prometheus metrics, `GET /metrics` (text exposition format 0.0.4). Labels carry
//! routes, methods, statuses and triage levels only: never patient data.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use actix_web::{get, web, HttpResponse};

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 11] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), Series>,
    assessments: BTreeMap<&'static str, u64>,
}

pub struct Metrics {
    inner: Mutex<Inner>,
    kb_version: String,
    kb_digest: String,
}

impl Metrics {
    pub fn new(kb_version: &str, kb_digest: &str) -> Metrics {
        Metrics {
            inner: Mutex::new(Inner::default()),
            kb_version: kb_version.to_owned(),
            kb_digest: kb_digest.to_owned(),
        }
    }

    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let key = (route.to_owned(), method.to_owned(), status);
        let series = inner.requests.entry(key).or_default();
        series.count += 1;
        series.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                series.buckets[i] += 1;
            }
        }
    }

    /// Count one assessment by level (the telemetry middleware, from the audit record).
    pub fn assessment(&self, level: &'static str) {
        if let Ok(mut inner) = self.inner.lock() {
            *inner.assessments.entry(level).or_default() += 1;
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let Ok(inner) = self.inner.lock() else {
            return out;
        };
        out.push_str("# HELP http_requests_total HTTP requests by route pattern, method and status.\n# TYPE http_requests_total counter\n");
        for ((route, method, status), s) in &inner.requests {
            let _ = writeln!(out, "http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {}", s.count);
        }
        out.push_str("# HELP http_request_duration_seconds HTTP request latency.\n# TYPE http_request_duration_seconds histogram\n");
        for ((route, method, status), s) in &inner.requests {
            let labels = format!("route=\"{route}\",method=\"{method}\",status=\"{status}\"");
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out.push_str("# HELP triage_assessments_total Assessments issued, by triage level.\n# TYPE triage_assessments_total counter\n");
        for level in [
            "emergency_ambulance",
            "emergency",
            "consultation_24",
            "consultation",
            "self_care",
        ] {
            let n = inner.assessments.get(level).copied().unwrap_or(0);
            let _ = writeln!(out, "triage_assessments_total{{level=\"{level}\"}} {n}");
        }
        out.push_str("# HELP knowledge_base_info The knowledge base in use.\n# TYPE knowledge_base_info gauge\n");
        let _ = writeln!(
            out,
            "knowledge_base_info{{version=\"{}\",digest=\"{}\"}} 1",
            self.kb_version, self.kb_digest
        );
        out.push_str("# HELP build_info The service build.\n# TYPE build_info gauge\n");
        let _ = writeln!(
            out,
            "build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        out
    }
}

/// Prometheus metrics
///
/// Request counts and latency histograms by route pattern and status, assessments by
/// triage level, the knowledge base version as an info metric, and build info. Open
/// without a key by default (`auth.open_paths`); no label carries patient data or a
/// client-chosen string (unknown methods are `other`, unmatched paths `unmatched`).
#[utoipa::path(get, path = "/metrics", operation_id = "getMetrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", content_type = "text/plain",
        body = String, example = json!("triage_assessments_total{level=\"self_care\"} 3\n"))))]
#[get("/metrics")]
pub async fn metrics(m: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("content-type", "text/plain; version=0.0.4; charset=utf-8"))
        .body(m.render())
}
