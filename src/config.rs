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
//!
//! This module only reads and checks settings; it starts nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

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
}

impl ServeArgs {
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
        })
    }
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
