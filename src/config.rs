//! Configuration: the commented defaults in `config/default.toml` → an optional TOML file →
//! `JUNCTION_<SECTION>__<KEY>` environment variables. Loaded and validated once at start; every
//! error names the key at fault. Unknown keys are errors, so a typo never silently does nothing.

use crate::net::Cidr;
use crate::secret::Secret;
use anyhow::{bail, Context};
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub database: DatabaseConfig,
    pub security: SecurityConfig,
    pub oauth2: OAuth2Config,
    pub outbound: OutboundConfig,
    pub webhooks: WebhooksConfig,
    pub git: GitConfig,
    pub metrics: MetricsConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub base_url: String,
    pub max_body_bytes: usize,
}

/// Limits on git over HTTP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitConfig {
    /// The largest push accepted, in megabytes (what git sends, compressed).
    pub max_push_megabytes: u64,
    /// How long one clone, fetch or push may run, in seconds.
    pub timeout_seconds: u64,
}

impl GitConfig {
    pub fn max_push_bytes(&self) -> u64 {
        self.max_push_megabytes.saturating_mul(1024 * 1024)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    /// Bare git repositories; empty means `<data_dir>/repositories`.
    #[serde(default)]
    pub repositories_dir: PathBuf,
}

impl StorageConfig {
    pub fn repositories(&self) -> PathBuf {
        if self.repositories_dir.as_os_str().is_empty() {
            self.data_dir.join("repositories")
        } else {
            self.repositories_dir.clone()
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: Secret,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    pub master_key: Secret,
    pub session_idle_hours: u32,
    pub max_failed_sign_ins: u32,
    pub max_failed_sign_ins_per_address: u32,
    pub sign_in_window_minutes: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client; empty: none.
    pub trusted_proxies: Vec<Cidr>,
    pub password_hash_threads: u32,
    pub password_hash_wait_ms: u32,
    /// `Strict-Transport-Security` max-age when the base URL is https (0: not sent).
    pub hsts_max_age_seconds: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Config {
    pub code_ttl_seconds: u32,
    pub access_token_minutes: u32,
    pub refresh_token_days: u32,
    /// PKCE `plain` (RFC 7636) is refused unless this is set; OAuth 2.1 asks for S256 only.
    pub allow_plain_pkce: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    pub allow_private: Vec<Cidr>,
    pub timeout_seconds: u32,
    pub max_response_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    pub workers: u32,
    pub per_endpoint_concurrency: u32,
    pub timeout_seconds: u32,
    pub retry_schedule_seconds: Vec<u64>,
    pub retry_jitter: f64,
    pub max_retry_after_seconds: u64,
    pub pause_after_failures: u32,
    pub max_pause_seconds: u64,
    pub disable_after_failures: u32,
    pub max_payload_bytes: usize,
    pub retention_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    pub listen: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: String,
    pub level: String,
}

impl Config {
    /// Loads defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if !path.exists() {
                bail!("configuration file {} does not exist", path.display());
            }
            fig = fig.merge(Toml::file(path));
        }
        // Only JUNCTION_SECTION__KEY variables are configuration; JUNCTION_ADMIN_PASSWORD and
        // JUNCTION_CONFIG are read elsewhere.
        fig = fig.merge(
            Env::prefixed("JUNCTION_")
                .filter(|k| k.as_str().contains("__"))
                .split("__"),
        );
        Self::from_figment(fig)
    }

    pub fn from_figment(fig: Figment) -> anyhow::Result<Self> {
        let cfg: Config = fig.extract().map_err(|e| {
            let msgs: Vec<String> = e.into_iter().map(describe_figment_error).collect();
            anyhow::anyhow!("invalid configuration: {}", msgs.join("; "))
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Defaults only, with the data directory moved: what tests and the benchmark start from.
    pub fn for_data_dir(dir: &Path) -> Self {
        let mut cfg = Self::from_figment(Figment::from(Toml::string(DEFAULT_TOML)))
            .expect("embedded defaults are valid");
        cfg.storage.data_dir = dir.to_path_buf();
        cfg
    }

    fn validate(&self) -> anyhow::Result<()> {
        let base = &self.server.base_url;
        if !base.is_empty() {
            let url = url::Url::parse(base).with_context(|| {
                format!("invalid configuration: server.base_url: {base:?} is not a URL")
            })?;
            if !matches!(url.scheme(), "http" | "https") {
                bail!(
                    "invalid configuration: server.base_url: must start with http:// or https://"
                );
            }
        }
        if self.server.max_body_bytes < 1024 {
            bail!("invalid configuration: server.max_body_bytes: must be at least 1024");
        }
        let db = self.database.url.expose();
        let known = ["sqlite:", "postgres://", "postgresql://"];
        if !db.is_empty() && !known.iter().any(|k| db.starts_with(k)) {
            bail!("invalid configuration: database.url: must start with sqlite:, postgres:// or postgresql://");
        }
        if self.git.max_push_megabytes == 0 || self.git.timeout_seconds == 0 {
            bail!("invalid configuration: git.max_push_megabytes and git.timeout_seconds must be at least 1");
        }
        if self.database.max_connections == 0 {
            bail!("invalid configuration: database.max_connections: must be at least 1");
        }
        if self.security.session_idle_hours == 0 {
            bail!("invalid configuration: security.session_idle_hours: must be at least 1");
        }
        let s = &self.security;
        if s.max_failed_sign_ins == 0
            || s.max_failed_sign_ins_per_address == 0
            || s.sign_in_window_minutes == 0
        {
            bail!("invalid configuration: security.max_failed_sign_ins, security.max_failed_sign_ins_per_address and security.sign_in_window_minutes must be at least 1");
        }
        if s.password_hash_threads > 256 || !(1..=60_000).contains(&s.password_hash_wait_ms) {
            bail!("invalid configuration: security.password_hash_threads must be 0 (one per core) to 256, and security.password_hash_wait_ms 1 to 60000");
        }
        let o = &self.oauth2;
        if !(1..=600).contains(&o.code_ttl_seconds) {
            bail!("invalid configuration: oauth2.code_ttl_seconds: must be between 1 and 600");
        }
        if o.access_token_minutes == 0 || o.refresh_token_days == 0 {
            bail!("invalid configuration: oauth2.access_token_minutes and oauth2.refresh_token_days must be at least 1");
        }
        if !(1..=300).contains(&self.outbound.timeout_seconds) {
            bail!("invalid configuration: outbound.timeout_seconds: must be between 1 and 300");
        }
        if self.outbound.max_response_bytes < 1024 {
            bail!("invalid configuration: outbound.max_response_bytes: must be at least 1024");
        }
        self.webhooks.validate()?;
        if !self.metrics.listen.is_empty() && self.metrics.listen.parse::<SocketAddr>().is_err() {
            bail!(
                "invalid configuration: metrics.listen: {:?} is not an address like 127.0.0.1:9090",
                self.metrics.listen
            );
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            bail!("invalid configuration: log.format: must be \"text\" or \"json\"");
        }
        Ok(())
    }

    /// The database URL in effect: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        let url = self.database.url.expose();
        if url.is_empty() {
            format!(
                "sqlite://{}",
                self.storage.data_dir.join("junction.db").display()
            )
        } else {
            url.to_string()
        }
    }

    /// The public base URL, without a trailing slash.
    pub fn base_url(&self, bound: SocketAddr) -> String {
        if self.server.base_url.is_empty() {
            format!("http://{bound}")
        } else {
            self.server.base_url.trim_end_matches('/').to_string()
        }
    }
}

impl WebhooksConfig {
    fn validate(&self) -> anyhow::Result<()> {
        let w = self;
        if w.workers == 0 || w.per_endpoint_concurrency == 0 {
            bail!("invalid configuration: webhooks.workers and webhooks.per_endpoint_concurrency must be at least 1");
        }
        if !(1..=300).contains(&w.timeout_seconds) {
            bail!("invalid configuration: webhooks.timeout_seconds: must be between 1 and 300");
        }
        if !(0.0..=1.0).contains(&w.retry_jitter) {
            bail!("invalid configuration: webhooks.retry_jitter: must be between 0 and 1");
        }
        if w.retry_schedule_seconds
            .iter()
            .any(|s| *s == 0 || *s > 7 * 86_400)
        {
            bail!("invalid configuration: webhooks.retry_schedule_seconds: each wait must be between 1 second and 7 days");
        }
        if w.pause_after_failures == 0 || w.disable_after_failures < w.pause_after_failures {
            bail!("invalid configuration: webhooks.pause_after_failures must be at least 1 and at most webhooks.disable_after_failures");
        }
        if w.max_pause_seconds < 60 {
            bail!("invalid configuration: webhooks.max_pause_seconds: must be at least 60");
        }
        if !(1024..=10 * 1024 * 1024).contains(&w.max_payload_bytes) {
            bail!("invalid configuration: webhooks.max_payload_bytes: must be between 1024 and 10485760");
        }
        if w.retention_days == 0 {
            bail!("invalid configuration: webhooks.retention_days: must be at least 1");
        }
        Ok(())
    }
}

fn describe_figment_error(e: figment::Error) -> String {
    let key = e.path.join(".");
    let key = if key.is_empty() {
        "(top level)".to_string()
    } else {
        key
    };
    format!("{key}: {}", e.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str) -> anyhow::Result<Config> {
        Config::from_figment(Figment::from(Toml::string(DEFAULT_TOML)).merge(Toml::string(toml)))
    }

    #[test]
    fn defaults_are_valid() {
        let c = load("").unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:7990");
        assert!(c.database_url().starts_with("sqlite://"));
    }

    #[test]
    fn unknown_key_is_named() {
        let err = load("[server]\nlisten_port = 1\n").unwrap_err().to_string();
        assert!(
            err.contains("server") && err.contains("listen_port"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_is_named() {
        let err = load("[server]\nmax_body_bytes = \"big\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.max_body_bytes"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let err = load("[database]\nurl = \"mysql://x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("database.url"), "{err}");
        let err = load("[log]\nformat = \"xml\"\n").unwrap_err().to_string();
        assert!(err.contains("log.format"), "{err}");
        let err = load("[server]\nbase_url = \"ftp://x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.base_url"), "{err}");
    }
}
