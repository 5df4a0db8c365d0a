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

[log]
format = "pretty"
level = "info"

[knowledge_base]
directory = ""

[texts]
emergency_number = "999"
urgent_line = "NHS 111"
"#;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub log: LogSettings,
    pub knowledge_base: KnowledgeBaseSettings,
    pub texts: TextSettings,
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
