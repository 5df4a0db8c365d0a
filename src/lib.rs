//! spasm-triage: explainable triage decision support for back muscle spasm and
//! low back pain. Data flows one way: request → parsed answers → engine →
//! assessment → response. Layers, lowest first (docs/architecture.md):
//! `knowledge` (data) → `engine` (pure) → `view` (the assessment as the API shows it) →
//! `http` (the foundation every face stands on) → `fhir_resources` (FHIR resources shared
//! by the FHIR and CDS Hooks faces) → the faces `api`, `fhir`, `cds` (and the static
//! `intake` page, a client of `api` over HTTP only) → middleware
//! (`security`, `telemetry`, `metrics`) → `openapi`, `startup`.

pub mod api;
pub mod cds;
pub mod clock;
pub mod configuration;
pub mod engine;
pub mod fhir;
pub mod fhir_resources;
pub mod http;
pub mod intake;
pub mod knowledge;
pub mod metrics;
pub mod openapi;
pub mod security;
pub mod startup;
pub mod telemetry;
pub mod view;
