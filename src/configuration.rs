//! Settings: built-in defaults < `config/default.toml` < `config/{APP_ENV}.toml`
//! < environment variables `APP__SECTION__KEY`. Unknown keys stop start-up.

use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

/// Defaults compiled into the binary, so it runs from any directory with no files.
const BUILT_IN: &str = r#"
[server]
host = "127.0.0.1"
port = 8080
workers = 0
body_limit_bytes = 65536
shutdown_timeout_secs = 30
request_timeout_secs = 10
max_connections = 4096
backlog = 1024

[log]
format = "pretty"
level = "info"

[knowledge_base]
directory = ""
require_signed_off = false

[texts]
emergency_number = "999"
urgent_line = "NHS 111"

[auth]
enabled = false
open_paths = ["/health", "/ready", "/metrics"]
keys = []
failures_per_minute = 10
failure_burst = 10
trusted_proxies = []

[cds_auth]
enabled = false
audience = ""
issuers = []
max_iat_skew_secs = 60
jwks_cache_secs = 300
allow_api_key = false

[cds]
card_key = ""
max_feedback_entries = 20

[cors]
allowed_origins = []
allow_credentials = false
max_age_secs = 600

[security]
hsts_max_age_secs = 0

[intake]
enabled = true

[rate_limit]
enabled = false
requests_per_minute = 600
burst = 60
"#;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub log: LogSettings,
    pub knowledge_base: KnowledgeBaseSettings,
    pub texts: TextSettings,
    #[serde(default)]
    pub locale: LocaleSettings,
    pub auth: AuthSettings,
    pub cors: CorsSettings,
    pub security: SecuritySettings,
    pub rate_limit: RateLimitSettings,
    pub cds_auth: CdsAuthSettings,
    pub cds: CdsSettings,
    pub intake: IntakeSettings,
    /// `APP_ENV` (`local` when unset); not read from the files.
    #[serde(skip)]
    pub environment: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Require an API key (`Authorization: Bearer <key>` or `X-API-Key`).
    pub enabled: bool,
    /// Paths served without a key (probes and metrics); from the environment as JSON.
    #[serde(deserialize_with = "list_or_json")]
    pub open_paths: Vec<String>,
    /// Clients and the SHA-256 (hex) of their key; never the key itself. From the
    /// environment, `APP__AUTH__KEYS` holds the same list as JSON.
    #[serde(deserialize_with = "list_or_json")]
    pub keys: Vec<ApiKey>,
    /// Failed authentications allowed per peer address and minute (sustained), and at once;
    /// beyond them `429 rate_limited` before any credential is checked.
    pub failures_per_minute: u32,
    pub failure_burst: u32,
    /// Peer addresses of reverse proxies whose `X-Forwarded-For` (last entry) names the client
    /// for rate limiting; from anyone else the header is ignored. From the environment as JSON.
    #[serde(deserialize_with = "list_or_json")]
    pub trusted_proxies: Vec<String>,
}

/// CDS Hooks 2.0 authentication: the EHR's signed JWT (`Authorization: Bearer`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CdsAuthSettings {
    pub enabled: bool,
    /// This service's public base URL (`https://triage.example.org`); a token's `aud` must be
    /// the called endpoint under it (`{audience}/cds-services/back-pain-triage`) or the URL itself.
    pub audience: String,
    /// Trusted EHRs; from the environment, `APP__CDS_AUTH__ISSUERS` as JSON.
    #[serde(deserialize_with = "list_or_json")]
    pub issuers: Vec<CdsIssuer>,
    /// Clock difference tolerated on `exp`, `nbf` and `iat`.
    pub max_iat_skew_secs: u64,
    /// How long a fetched JWKS is used before it is fetched again.
    pub jwks_cache_secs: u64,
    /// Also accept a valid API key in `X-API-Key` on the CDS routes (needs `auth.enabled`).
    pub allow_api_key: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CdsIssuer {
    /// The `iss` the EHR puts in its tokens (exact match).
    pub iss: String,
    /// Name for logs, metrics and the audit trail; defaults to `iss`.
    #[serde(default)]
    pub client: String,
    /// Where the EHR publishes its JWKS (https; http only on loopback).
    #[serde(default)]
    pub jwks_url: String,
    /// The JWKS itself as JSON, for offline deployments (instead of `jwks_url`).
    #[serde(default)]
    pub jwks: String,
    /// Accepted `alg` values: `RS384`, `ES384` (CDS Hooks), optionally `RS256`.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
}

fn default_algorithms() -> Vec<String> {
    vec!["RS384".to_owned(), "ES384".to_owned()]
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CdsSettings {
    /// Hex HMAC key (at least 32 bytes) that makes card uuids verifiable; every replica needs
    /// the same. Empty: a random key per process (local only; refused in production).
    pub card_key: String,
    /// Most feedback entries one request may carry.
    pub max_feedback_entries: usize,
    /// Origins (`https://host[:port]`) of FHIR servers the service may query itself when a
    /// call has no prefetch but names one of them as `fhirServer` with `fhirAuthorization`.
    /// Empty (the default): never query, answer 412.
    #[serde(default, deserialize_with = "list_or_json")]
    pub fhir_servers: Vec<String>,
    /// How long such a query may take, in milliseconds.
    #[serde(default = "default_fetch_timeout_ms")]
    pub fetch_timeout_ms: u64,
}

fn default_fetch_timeout_ms() -> u64 {
    3000
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    pub client: String,
    pub sha256: String,
}

/// A list given inline (TOML) or as a JSON string (environment variable).
fn list_or_json<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List<T> {
        List(Vec<T>),
        Json(String),
    }
    match List::<T>::deserialize(deserializer)? {
        List::List(list) => Ok(list),
        List::Json(text) if text.trim().is_empty() => Ok(Vec::new()),
        List::Json(text) => serde_json::from_str(&text).map_err(|e| {
            serde::de::Error::custom(format!("a list given as JSON does not parse: {e}"))
        }),
    }
}

/// Paths production may leave open: probes, metrics and the API description.
pub const PRODUCTION_OPEN_PATHS: [&str; 6] = [
    "/health",
    "/ready",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    /// Exact origins (`https://intake.example.org`), or `*` (never with credentials). From
    /// the environment as JSON: `APP__CORS__ALLOWED_ORIGINS='["https://intake.example.org"]'`.
    #[serde(deserialize_with = "list_or_json")]
    pub allowed_origins: Vec<String>,
    pub allow_credentials: bool,
    pub max_age_secs: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// `Strict-Transport-Security` max-age; 0 sends no header (TLS ends at the load balancer).
    pub hsts_max_age_secs: u64,
}

/// The reference intake page at `/intake/`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeSettings {
    /// Serve the page. It calls `/v1/triage` from the browser with no API key, so with keys on
    /// it works only behind a proxy that adds the key (README, "Building a browser front end").
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub enabled: bool,
    /// Sustained rate per client (API key client, or peer address without keys).
    pub requests_per_minute: u32,
    /// Requests a client may make at once above the sustained rate.
    pub burst: u32,
}

impl Settings {
    /// Settings that parse but cannot be run safely.
    pub fn check(&self) -> Result<(), String> {
        if self.auth.enabled && self.auth.keys.is_empty() {
            return Err(
                "auth.enabled is true but auth.keys is empty: no client could call the service"
                    .to_owned(),
            );
        }
        for key in &self.auth.keys {
            let ok = key.sha256.len() == 64 && key.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                return Err(format!(
                    "auth.keys: the sha256 of client `{}` is not 64 hex digits",
                    key.client
                ));
            }
        }
        if self.cors.allow_credentials && self.cors.allowed_origins.iter().any(|o| o == "*") {
            return Err(
                "cors: a wildcard origin is not allowed together with credentials".to_owned(),
            );
        }
        if self.rate_limit.enabled
            && (self.rate_limit.requests_per_minute == 0 || self.rate_limit.burst == 0)
        {
            return Err("rate_limit: requests_per_minute and burst must be at least 1".to_owned());
        }
        if self.auth.failures_per_minute == 0 || self.auth.failure_burst == 0 {
            return Err(
                "auth: failures_per_minute and failure_burst must be at least 1".to_owned(),
            );
        }
        if self.server.max_connections == 0 || self.server.backlog == 0 {
            return Err("server: max_connections and backlog must be at least 1".to_owned());
        }
        if self.cds.max_feedback_entries == 0 {
            return Err("cds.max_feedback_entries must be at least 1".to_owned());
        }
        if !self.cds.card_key.is_empty()
            && (self.cds.card_key.len() < 64 || hex::decode(&self.cds.card_key).is_err())
        {
            return Err("cds.card_key must be at least 32 bytes as hex (64 hex digits)".to_owned());
        }
        if self.cds_auth.enabled {
            let a = &self.cds_auth;
            if !(a.audience.starts_with("https://") || a.audience.starts_with("http://")) {
                return Err(
                    "cds_auth.audience must be this service's base URL (https://…)".to_owned(),
                );
            }
            if a.issuers.is_empty() {
                return Err(
                    "cds_auth.enabled is true but cds_auth.issuers is empty: no EHR could call"
                        .to_owned(),
                );
            }
            if a.allow_api_key && !self.auth.enabled {
                return Err("cds_auth.allow_api_key needs auth.enabled (and auth.keys)".to_owned());
            }
        }
        if self.environment == "production" {
            // Fail closed: production never starts with a protected route open.
            if !self.auth.enabled {
                return Err(
                    "APP_ENV=production requires auth.enabled = true (API keys on /v1, /fhir)"
                        .to_owned(),
                );
            }
            if !self.cds_auth.enabled {
                return Err("APP_ENV=production requires cds_auth.enabled = true with trusted issuers (CDS Hooks JWTs on /cds-services)".to_owned());
            }
            if let Some(p) = self
                .auth
                .open_paths
                .iter()
                .find(|p| !PRODUCTION_OPEN_PATHS.contains(&p.as_str()))
            {
                return Err(format!(
                    "APP_ENV=production: auth.open_paths may only hold probes, metrics and docs, not `{p}`"
                ));
            }
            if self.cds.card_key.is_empty() {
                return Err(
                    "APP_ENV=production requires cds.card_key (the same on every replica)"
                        .to_owned(),
                );
            }
        }
        Ok(())
    }

    /// Whether nothing asks for credentials anywhere (local development).
    pub fn open_warnings(&self) -> Vec<&'static str> {
        let mut warnings = Vec::new();
        if !self.auth.enabled {
            warnings.push("authentication is off: /v1 and /fhir answer anyone (set auth.enabled and auth.keys for any shared deployment)");
        }
        if !self.cds_auth.enabled && !self.auth.enabled {
            warnings.push("CDS Hooks authentication is off: anyone can get cards and post feedback (set cds_auth)");
        }
        warnings
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// 0 means one worker per core.
    pub workers: usize,
    pub body_limit_bytes: usize,
    pub shutdown_timeout_secs: u64,
    /// Time allowed to receive a request and produce its response.
    pub request_timeout_secs: u64,
    /// Open connections at most, split evenly across workers; beyond it new connections wait
    /// in the listen backlog. Keep it below the descriptor limit (`ulimit -n`).
    pub max_connections: usize,
    /// Listen backlog (connections the kernel queues before they are accepted).
    pub backlog: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A tracing filter directive, e.g. `info` or `spasm_triage=debug,info`.
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeBaseSettings {
    /// Directory holding the rule files; empty means the embedded knowledge base.
    pub directory: String,
    /// Refuse to start while any patient-facing text is still `draft` (for a deployment whose
    /// clinical safety officer requires signed-off wording).
    #[serde(default)]
    pub require_signed_off: bool,
}

/// What differs by country besides language.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocaleSettings {
    /// Units to ask number questions in where a code offers them (`°F`, `lb`, `st`); empty:
    /// each code's own unit (°C, kg). Answers are accepted in any offered unit either way.
    #[serde(default, deserialize_with = "list_or_json")]
    pub units: Vec<String>,
    /// Which words patient texts use for where to get care: a `[[care_settings]]` id of the
    /// knowledge base (`uk`: GP, GP practice; `us`: primary care doctor, doctor's office).
    /// Empty: the knowledge base's first set.
    #[serde(default)]
    pub care_setting: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextSettings {
    /// Fills `{emergency_number}` in patient texts.
    pub emergency_number: String,
    /// Fills `{urgent_line}` in patient texts.
    pub urgent_line: String,
}

impl KnowledgeBaseSettings {
    pub fn source(&self) -> crate::knowledge::RuleSource {
        if self.directory.trim().is_empty() {
            crate::knowledge::RuleSource::Embedded
        } else {
            crate::knowledge::RuleSource::Directory(PathBuf::from(&self.directory))
        }
    }
}

/// Read settings from `config_dir` (usually `./config`) and the environment.
pub fn get_settings(config_dir: &Path) -> Result<Settings, config::ConfigError> {
    let environment = std::env::var("APP_ENV").unwrap_or_else(|_| "local".to_owned());
    let mut settings: Settings = Config::builder()
        .add_source(File::from_str(BUILT_IN, FileFormat::Toml))
        .add_source(File::from(config_dir.join("default.toml")).required(false))
        .add_source(File::from(config_dir.join(format!("{environment}.toml"))).required(false))
        .add_source(
            Environment::with_prefix("APP")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        )
        .build()?
        .try_deserialize()?;
    settings.environment = environment;
    Ok(settings)
}

/// The defaults alone, for tests and tools.
pub fn built_in() -> Result<Settings, config::ConfigError> {
    Config::builder()
        .add_source(File::from_str(BUILT_IN, FileFormat::Toml))
        .build()?
        .try_deserialize()
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: it sets process environment variables, which tests running in
    // parallel would otherwise see.
    #[test]
    fn layers_apply_in_order_and_unknown_keys_stop_start_up() {
        let dir = tempfile::tempdir().unwrap();
        // No files at all: the built-in defaults.
        let s = get_settings(dir.path()).unwrap();
        assert_eq!((s.server.host.as_str(), s.server.port), ("127.0.0.1", 8080));
        assert_eq!(s.texts.emergency_number, "999");

        std::fs::write(dir.path().join("default.toml"), "[server]\nport = 9100\n").unwrap();
        std::fs::write(
            dir.path().join("staging.toml"),
            "[server]\nport = 9200\nhost = \"0.0.0.0\"\n",
        )
        .unwrap();
        std::env::set_var("APP_ENV", "staging");
        let s = get_settings(dir.path()).unwrap();
        assert_eq!((s.server.host.as_str(), s.server.port), ("0.0.0.0", 9200));

        std::env::set_var("APP__SERVER__PORT", "9300");
        std::env::set_var("APP__AUTH__KEYS", r#"[{"client": "a", "sha256": "00"}]"#);
        let s = get_settings(dir.path()).unwrap();
        assert_eq!(s.server.port, 9300);
        assert_eq!(s.auth.keys.len(), 1);
        assert!(s.check().unwrap_err().contains("64 hex digits"));
        std::env::remove_var("APP__SERVER__PORT");
        std::env::remove_var("APP__AUTH__KEYS");

        // Every list setting takes JSON from the environment (the Kubernetes ConfigMap does).
        std::env::set_var(
            "APP__CORS__ALLOWED_ORIGINS",
            r#"["https://intake.example.org", "https://clinic.example.org"]"#,
        );
        std::env::set_var("APP__AUTH__TRUSTED_PROXIES", r#"["10.0.0.1"]"#);
        std::env::set_var("APP__AUTH__OPEN_PATHS", r#"["/health", "/ready"]"#);
        let s = get_settings(dir.path()).unwrap();
        assert_eq!(
            s.cors.allowed_origins,
            ["https://intake.example.org", "https://clinic.example.org"]
        );
        assert_eq!(s.auth.trusted_proxies, ["10.0.0.1"]);
        assert_eq!(s.auth.open_paths, ["/health", "/ready"]);
        std::env::remove_var("APP__CORS__ALLOWED_ORIGINS");
        std::env::remove_var("APP__AUTH__TRUSTED_PROXIES");
        std::env::remove_var("APP__AUTH__OPEN_PATHS");
        std::env::remove_var("APP_ENV");

        std::fs::write(dir.path().join("default.toml"), "[server]\nprot = 9100\n").unwrap();
        let e = get_settings(dir.path()).unwrap_err().to_string();
        assert!(e.contains("prot"), "{e}");
    }
}
