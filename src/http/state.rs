//! The read-only state every worker shares.

use std::sync::Arc;

use crate::knowledge::KnowledgeBase;
use crate::view::dto::Texts;

/// Shared, read-only state of every worker.
pub struct AppState {
    pub kb: Arc<KnowledgeBase>,
    pub texts: Texts,
    pub body_limit: usize,
    /// How long a request body may take to arrive (`server.request_timeout_secs`).
    pub body_timeout: std::time::Duration,
    /// The OpenAPI document, serialised once at start-up.
    pub openapi_json: String,
    /// Every documented path (templated) with its methods, for 404 vs 405.
    pub routes: Vec<(String, Vec<String>)>,
}
