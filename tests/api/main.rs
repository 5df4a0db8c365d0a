//! Black-box tests against the real server on a random port.
// Test code asserts by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod care_setting;
mod cds;
mod cds_auth;
mod cds_fetch;
mod compat;
mod errors;
mod fhir;
mod fhir_adaptive;
mod fhir_discovery;
mod fhir_terminology;
mod golden;
mod hardening;
mod helpers;
mod intake_flow;
mod intake_page;
mod logging;
mod meta;
mod triage;
mod units;
