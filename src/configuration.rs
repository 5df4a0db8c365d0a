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

[cors]
allowed_origins = []
allow_credentials = false
max_age_secs = 600

[security]
hsts_max_age_secs = 0

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
    pub auth: AuthSettings,
    pub cors: CorsSettings,
    pub security: SecuritySettings,
    pub rate_limit: RateLimitSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Require an API key (`Authorization: Bearer <key>` or `X-API-Key`).
    pub enabled: bool,
    /// Paths served without a key (probes and metrics).
    pub open_paths: Vec<String>,
    /// Clients and the SHA-256 (hex) of their key; never the key itself. From the
    /// environment, `APP__AUTH__KEYS` holds the same list as JSON.
    #[serde(deserialize_with = "list_or_json")]
    pub keys: Vec<ApiKey>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    pub client: String,
    pub sha256: String,
}

/// A list given inline (TOML) or as a JSON string (environment variable).
fn list_or_json<'de, D>(deserializer: D) -> Result<Vec<ApiKey>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Keys {
        List(Vec<ApiKey>),
        Json(String),
    }
    match Keys::deserialize(deserializer)? {
        Keys::List(list) => Ok(list),
        Keys::Json(text) if text.trim().is_empty() => Ok(Vec::new()),
        Keys::Json(text) => serde_json::from_str(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "auth.keys must be a list of {{client, sha256}}: {e}"
            ))
        }),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    /// Exact origins (`https://intake.example.org`), or `*` (never with credentials).
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
        Ok(())
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
    Config::builder()
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
        .try_deserialize()
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
        std::env::remove_var("APP_ENV");

        std::fs::write(dir.path().join("default.toml"), "[server]\nprot = 9100\n").unwrap();
        let e = get_settings(dir.path()).unwrap_err().to_string();
        assert!(e.contains("prot"), "{e}");
    }
}
