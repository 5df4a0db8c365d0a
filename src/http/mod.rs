//! The HTTP foundation under every face (JSON API, FHIR, CDS Hooks) and the middleware:
//! body reading with limits, the strict JSON reader, the error table and its two renderings
//! (problem+json and OperationOutcome), the shared state, the client identity and request
//! id, what a face records for the audit line, and the drain flag. It imports no face and
//! no middleware.

pub mod body;
pub mod drain;
pub mod error;
pub mod identity;
pub mod json;
pub mod observe;
pub mod outbound;
pub mod outcome;
pub mod routes;
pub mod state;
