//! spasm-triage: explainable triage decision support for back muscle spasm and
//! low back pain. Data flows one way: request → parsed answers → engine →
//! assessment → response.

pub mod api;
pub mod cds;
pub mod clock;
pub mod configuration;
pub mod engine;
pub mod fhir;
pub mod knowledge;
pub mod metrics;
pub mod openapi;
pub mod security;
pub mod startup;
pub mod telemetry;
