//! Service settings: command-line flags win over environment variables, which
//! win over the defaults below.
//!
//! | flag | environment | default |
//! |---|---|---|
//! | `--host` | `BENCHMARK_HOST` | `0.0.0.0` |
//! | `--port` | `BENCHMARK_SERVER_PORT` | `8080` (`0` picks a free port) |
//! | `--data-dir` | `BENCHMARK_DATA_DIR` | `./zarrbench-data` |
//! | `--max-jobs` | `BENCHMARK_MAX_JOBS` | 4, at most the number of logical CPUs |
//! | `--max-queued` | `BENCHMARK_MAX_QUEUED` | 100 pending jobs |
//! | `--job-timeout` | `BENCHMARK_JOB_TIMEOUT` | 3600 seconds |
//! | `--max-volume-bytes` | `BENCHMARK_MAX_VOLUME_BYTES` | 1 GiB |
//! | `--drain-timeout` | `BENCHMARK_DRAIN_TIMEOUT` | 30 seconds |
//! | `--retention-days` | `BENCHMARK_RETENTION_DAYS` | 30 days |
//! | `--retention-jobs` | `BENCHMARK_RETENTION_JOBS` | 10,000 finished jobs |
//! | `--log-format` | `BENCHMARK_LOG_FORMAT` | `human` (or `json`) |
//! | `--log-file` | `BENCHMARK_LOG_FILE` | none (stderr only) |
//! | `--log-level` | `BENCHMARK_LOG_LEVEL`, then `RUST_LOG` | `info` |
//! | (environment only) | `BENCHMARK_API_KEY` | none: the service runs open |
//! | `--api-key-file` | `BENCHMARK_API_KEY_FILE` | none |
//! | `--submit-rate-limit` | `BENCHMARK_SUBMIT_RATE_LIMIT` | 10 submissions a minute per client |
//! | `--read-rate-limit` | `BENCHMARK_READ_RATE_LIMIT` | 600 reads a minute per client |
//! | (environment only) | `BENCHMARK_WEBHOOK_SECRET` | generated into the data directory |
//! | `--webhook-retry-schedule` | `BENCHMARK_WEBHOOK_RETRY_SCHEDULE` | `0,5,300,1800,7200` seconds |
//! | `--webhook-timeout` | `BENCHMARK_WEBHOOK_TIMEOUT` | 10 seconds per attempt |
//! | `--webhook-allow-private` | `BENCHMARK_WEBHOOK_ALLOW_PRIVATE` | off |
//! | `--public-url` | `BENCHMARK_PUBLIC_URL` | none: `status_url` is a path |
//! | `--result-cache` | `BENCHMARK_RESULT_CACHE` | on |
//!
//! This module only reads and checks settings; it starts nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

use crate::telemetry::logging::{LogFormat, LogOptions};

/// The most jobs the guide runs at once; the default is also bounded by CPUs.
pub const GUIDE_MAX_JOBS: usize = 4;

/// Flags of `zarrbench serve` (also accepted by `zarrbench` alone).
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BENCHMARK_HOST", default_value = "0.0.0.0")]
    pub host: String,
    /// Port to listen on; 0 picks a free one (printed at start-up).
    #[arg(long, env = "BENCHMARK_SERVER_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Directory of the job database and filesystem stores; created if missing.
    #[arg(long, env = "BENCHMARK_DATA_DIR", default_value = "./zarrbench-data")]
    pub data_dir: PathBuf,
    /// Jobs running at once [default: 4, at most the number of logical CPUs].
    #[arg(long, env = "BENCHMARK_MAX_JOBS")]
    pub max_jobs: Option<usize>,
    /// Pending jobs kept waiting before submissions get 429.
    #[arg(long, env = "BENCHMARK_MAX_QUEUED", default_value_t = 100)]
    pub max_queued: usize,
    /// Seconds a job may run before it fails as timed out.
    #[arg(long, env = "BENCHMARK_JOB_TIMEOUT", default_value_t = 3600)]
    pub job_timeout: u64,
    /// Largest volume a job may ask for, in bytes.
    #[arg(long, env = "BENCHMARK_MAX_VOLUME_BYTES", default_value_t = 1 << 30)]
    pub max_volume_bytes: u64,
    /// Seconds running jobs may take to finish after SIGTERM or SIGINT.
    #[arg(long, env = "BENCHMARK_DRAIN_TIMEOUT", default_value_t = 30)]
    pub drain_timeout: u64,
    /// Finished jobs older than this many days are deleted.
    #[arg(long, env = "BENCHMARK_RETENTION_DAYS", default_value_t = 30)]
    pub retention_days: u32,
    /// At most this many finished jobs are kept (the newest).
    #[arg(long, env = "BENCHMARK_RETENTION_JOBS", default_value_t = 10_000)]
    pub retention_jobs: u64,
    /// File of API keys, one per line (e.g. a systemd credential); adds to
    /// the comma-separated keys of BENCHMARK_API_KEY.
    #[arg(long, env = "BENCHMARK_API_KEY_FILE")]
    pub api_key_file: Option<PathBuf>,
    /// Submissions a client may make per minute (token bucket); 0 disables.
    #[arg(long, env = "BENCHMARK_SUBMIT_RATE_LIMIT", default_value_t = 10)]
    pub submit_rate_limit: u32,
    /// Other requests a client may make per minute (token bucket); 0 disables.
    #[arg(long, env = "BENCHMARK_READ_RATE_LIMIT", default_value_t = 600)]
    pub read_rate_limit: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed, comma-separated
    /// addresses or networks (e.g. `127.0.0.1,::1` for nginx on this host);
    /// requests from them are rate-limited by the client address the header
    /// gives. Empty: every peer is the client.
    #[arg(long, env = "BENCHMARK_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Seconds before each webhook attempt, comma-separated: the first is the
    /// delay before the first attempt, each next one the wait after a failure.
    #[arg(
        long,
        env = "BENCHMARK_WEBHOOK_RETRY_SCHEDULE",
        default_value = "0,5,300,1800,7200"
    )]
    pub webhook_retry_schedule: String,
    /// Seconds a webhook attempt may take.
    #[arg(long, env = "BENCHMARK_WEBHOOK_TIMEOUT", default_value_t = 10)]
    pub webhook_timeout: u64,
    /// Allow callback URLs on loopback, private and link-local addresses.
    #[arg(long, env = "BENCHMARK_WEBHOOK_ALLOW_PRIVATE", value_parser = clap::builder::FalseyValueParser::new())]
    pub webhook_allow_private: bool,
    /// The service's public base URL (e.g. `https://bench.example.org`), used
    /// to make `status_url` in webhook events absolute.
    #[arg(long, env = "BENCHMARK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Answer a submission from a completed job with the same specification
    /// on this build; `BENCHMARK_RESULT_CACHE=0` turns it off.
    #[arg(long, env = "BENCHMARK_RESULT_CACHE", default_value = "true", value_parser = clap::builder::FalseyValueParser::new())]
    pub result_cache: bool,
    /// Log format: readable lines, or one JSON object per line for log shippers.
    #[arg(long, env = "BENCHMARK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// Also append every log event to this file (stderr keeps its copy).
    #[arg(long, env = "BENCHMARK_LOG_FILE")]
    pub log_file: Option<PathBuf>,
    /// Log filter such as `info` or `info,zarrbench=debug`; unset: RUST_LOG, else info.
    #[arg(long, env = "BENCHMARK_LOG_LEVEL")]
    pub log_level: Option<String>,
}

/// Checked settings the service runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    /// Exists and is writable.
    pub data_dir: PathBuf,
    pub max_jobs: usize,
    pub max_queued: usize,
    pub job_timeout: Duration,
    pub max_volume_bytes: u64,
    pub drain_timeout: Duration,
    pub retention: Retention,
    pub access: AccessSettings,
    pub webhook: WebhookSettings,
    /// Whether submissions may be answered from the result cache.
    pub result_cache: bool,
}

/// Who may call the service and how often.
#[derive(Clone, Default)]
pub struct AccessSettings {
    /// Accepted bearer keys; empty means the service runs open.
    pub api_keys: Vec<String>,
    /// Submissions per minute per client; 0 disables the limit.
    pub submit_per_minute: u32,
    /// Other requests per minute per client; 0 disables the limit.
    pub read_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<crate::api::client_ip::Network>,
}

impl std::fmt::Debug for AccessSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessSettings")
            .field("api_keys", &format_args!("{} key(s)", self.api_keys.len()))
            .field("submit_per_minute", &self.submit_per_minute)
            .field("read_per_minute", &self.read_per_minute)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

/// How webhook events are signed and delivered.
#[derive(Clone, Default)]
pub struct WebhookSettings {
    /// `whsec_<base64>` from BENCHMARK_WEBHOOK_SECRET; `None` means the one
    /// stored in the data directory (generated on first start).
    pub secret: Option<String>,
    /// Delay before the first attempt, then the wait after each failure.
    pub retry_schedule: Vec<Duration>,
    pub timeout: Duration,
    pub allow_private: bool,
    pub public_url: Option<String>,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field("retry_schedule", &self.retry_schedule)
            .field("timeout", &self.timeout)
            .field("allow_private", &self.allow_private)
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// Which finished jobs are kept; applied at start-up and every hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Finished jobs that completed longer ago are deleted.
    pub max_age_days: u32,
    /// Beyond this many finished jobs, the oldest are deleted.
    pub max_jobs: u64,
}

/// Why the service cannot start with these settings.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The data directory could not be created.
    #[error(
        "cannot create data directory {path}: {reason}; set --data-dir or BENCHMARK_DATA_DIR to a writable directory"
    )]
    CreateDataDir { path: PathBuf, reason: String },
    /// The data directory exists but is not a directory.
    #[error(
        "data directory {path} is not a directory; set --data-dir or BENCHMARK_DATA_DIR to a directory"
    )]
    NotADirectory { path: PathBuf },
    /// The data directory cannot be written.
    #[error(
        "data directory {path} is not writable: {reason}; set --data-dir or BENCHMARK_DATA_DIR to a writable directory"
    )]
    NotWritable { path: PathBuf, reason: String },
    /// A numeric setting is out of range.
    #[error("{0}")]
    OutOfRange(String),
    /// The API key file could not be read or is empty.
    #[error("cannot read API keys from {path}: {reason}; put one key per line")]
    ApiKeyFile { path: PathBuf, reason: String },
}

impl ServeArgs {
    /// How the service logs; checked when logging starts.
    pub fn log_options(&self) -> LogOptions {
        LogOptions {
            format: self.log_format,
            file: self.log_file.clone(),
            level: self.log_level.clone(),
        }
    }

    /// Checks the values and prepares the data directory.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let max_jobs = self.max_jobs.unwrap_or_else(default_max_jobs);
        if max_jobs == 0 {
            return Err(ConfigError::OutOfRange(
                "max-jobs must be at least 1; set --max-jobs or BENCHMARK_MAX_JOBS".into(),
            ));
        }
        if self.job_timeout == 0 {
            return Err(ConfigError::OutOfRange(
                "job-timeout must be at least 1 second; set --job-timeout or BENCHMARK_JOB_TIMEOUT"
                    .into(),
            ));
        }
        let data_dir = prepare_data_dir(&self.data_dir)?;
        let access = AccessSettings {
            api_keys: api_keys(
                std::env::var("BENCHMARK_API_KEY").ok().as_deref(),
                self.api_key_file.as_deref(),
            )?,
            submit_per_minute: self.submit_rate_limit,
            read_per_minute: self.read_rate_limit,
            trusted_proxies: crate::api::client_ip::parse_networks(&self.trusted_proxies).map_err(
                |message| {
                    ConfigError::OutOfRange(format!(
                        "trusted-proxies: {message}; set --trusted-proxies or BENCHMARK_TRUSTED_PROXIES"
                    ))
                },
            )?,
        };
        let webhook = WebhookSettings {
            secret: std::env::var("BENCHMARK_WEBHOOK_SECRET")
                .ok()
                .filter(|secret| !secret.trim().is_empty()),
            retry_schedule: retry_schedule(&self.webhook_retry_schedule)?,
            timeout: Duration::from_secs(self.webhook_timeout.max(1)),
            allow_private: self.webhook_allow_private,
            public_url: self
                .public_url
                .as_ref()
                .map(|url| url.trim_end_matches('/').to_string()),
        };
        Ok(Settings {
            host: self.host.clone(),
            port: self.port,
            data_dir,
            max_jobs,
            max_queued: self.max_queued,
            job_timeout: Duration::from_secs(self.job_timeout),
            max_volume_bytes: self.max_volume_bytes,
            drain_timeout: Duration::from_secs(self.drain_timeout),
            retention: Retention {
                max_age_days: self.retention_days,
                max_jobs: self.retention_jobs,
            },
            access,
            webhook,
            result_cache: self.result_cache,
        })
    }
}

/// API keys from the comma-separated environment value and the key file (one
/// per line, `#` comments and blank lines ignored).
fn api_keys(from_env: Option<&str>, file: Option<&Path>) -> Result<Vec<String>, ConfigError> {
    let mut keys: Vec<String> = from_env
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::ApiKeyFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let from_file: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(str::to_string)
            .collect();
        if from_file.is_empty() {
            return Err(ConfigError::ApiKeyFile {
                path: path.to_path_buf(),
                reason: "it holds no key".to_string(),
            });
        }
        keys.extend(from_file);
    }
    if keys.iter().any(|key| key.len() < 16) {
        return Err(ConfigError::OutOfRange(
            "every API key must be at least 16 characters; generate one with `openssl rand -hex 32`"
                .into(),
        ));
    }
    Ok(keys)
}

/// Parses `0,5,300` (seconds) into the webhook retry schedule.
fn retry_schedule(text: &str) -> Result<Vec<Duration>, ConfigError> {
    let seconds: Vec<f64> = crate::cli::parse_list(text).map_err(|message| {
        ConfigError::OutOfRange(format!(
            "webhook retry schedule: {message}; set BENCHMARK_WEBHOOK_RETRY_SCHEDULE to seconds like 0,5,300"
        ))
    })?;
    if seconds.is_empty() || seconds.len() > 20 {
        return Err(ConfigError::OutOfRange(
            "webhook retry schedule must list 1 to 20 delays".into(),
        ));
    }
    if seconds
        .iter()
        .any(|s| !s.is_finite() || *s < 0.0 || *s > 7.0 * 86400.0)
    {
        return Err(ConfigError::OutOfRange(
            "webhook retry delays must be 0 to 604800 seconds".into(),
        ));
    }
    Ok(seconds.into_iter().map(Duration::from_secs_f64).collect())
}

/// The guide's 4 jobs, but never more than the machine has logical CPUs, so
/// that concurrent jobs do not steal each other's cores.
pub fn default_max_jobs() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    GUIDE_MAX_JOBS.min(cpus).max(1)
}

/// Creates the directory if missing and proves it writable with a probe file.
fn prepare_data_dir(path: &Path) -> Result<PathBuf, ConfigError> {
    if path.exists() && !path.is_dir() {
        return Err(ConfigError::NotADirectory {
            path: path.to_path_buf(),
        });
    }
    std::fs::create_dir_all(path).map_err(|e| ConfigError::CreateDataDir {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;

    let probe = path.join(".zarrbench-write-probe");
    std::fs::write(&probe, b"probe").map_err(|e| ConfigError::NotWritable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: ServeArgs,
    }

    #[test]
    fn default_max_jobs_is_at_most_the_guides_four() {
        let jobs = default_max_jobs();
        assert!((1..=GUIDE_MAX_JOBS).contains(&jobs));
    }

    #[test]
    fn a_file_as_data_dir_is_refused_with_one_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").expect("write");
        let args = Wrapper::parse_from(["x", "--data-dir", file.to_str().expect("utf-8")]).args;
        let error = args.settings().expect_err("a file is not a directory");
        assert!(matches!(error, ConfigError::NotADirectory { .. }));
        assert!(!error.to_string().contains('\n'));
    }

    #[test]
    fn a_missing_data_dir_is_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let nested = dir.path().join("a/b");
        let args = Wrapper::parse_from(["x", "--data-dir", nested.to_str().expect("utf-8")]).args;
        let settings = args.settings().expect("settings");
        assert!(settings.data_dir.is_dir());
    }
}
