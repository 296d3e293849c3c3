//! The `tracing` subscriber: human-readable lines on stderr by default, one
//! JSON object per event with `--log-format json` (for log shippers), and
//! optionally the same events appended to a file (`--log-file`).
//!
//! Levels: `--log-level` (or `BENCHMARK_LOG_LEVEL`) wins, then `RUST_LOG`,
//! then `info`. Both accept `tracing` directives such as
//! `info,zarrbench=debug,actix_server=warn`.
//!
//! Callers log events with fields (`job_id`, `dataset_type`, `codec`, ...);
//! request bodies, headers and secrets are never logged by this crate.

use std::fs::{File, OpenOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use thiserror::Error;
use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// The level used when neither `--log-level` nor `RUST_LOG` is set.
pub const DEFAULT_LEVEL: &str = "info";

/// How log events are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Human,
    /// One JSON object per line, event fields at the top level.
    Json,
}

/// Where and how to log.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub format: LogFormat,
    /// Also append every event to this file.
    pub file: Option<PathBuf>,
    /// A `tracing` filter directive; `None` falls back to `RUST_LOG`.
    pub level: Option<String>,
}

/// Why logging could not be set up.
#[derive(Debug, Error)]
pub enum LoggingError {
    /// The level directive does not parse.
    #[error(
        "invalid log level '{level}': {reason}; use e.g. info, debug or info,zarrbench=debug (--log-level or BENCHMARK_LOG_LEVEL)"
    )]
    Level { level: String, reason: String },
    /// The log file cannot be opened for appending.
    #[error(
        "cannot open log file {path}: {reason}; set --log-file or BENCHMARK_LOG_FILE to a writable path"
    )]
    File { path: PathBuf, reason: String },
}

/// Installs the global subscriber. A second call keeps the first subscriber.
pub fn init(options: &LogOptions) -> Result<(), LoggingError> {
    let filter = filter(options.level.as_deref())?;
    let file = options.file.as_deref().map(open_log_file).transpose()?;

    let stream = layer(
        options.format,
        std::io::stderr,
        std::io::stderr().is_terminal(),
    );
    let file = file.map(|file| layer(options.format, Mutex::new(file), false));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stream)
        .with(file)
        .try_init();
    Ok(())
}

/// `--log-level` if given, else `RUST_LOG` if it parses, else [`DEFAULT_LEVEL`].
fn filter(level: Option<&str>) -> Result<EnvFilter, LoggingError> {
    match level {
        Some(level) => EnvFilter::try_new(level).map_err(|e| LoggingError::Level {
            level: level.to_string(),
            reason: e.to_string(),
        }),
        None => {
            Ok(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LEVEL)))
        }
    }
}

fn open_log_file(path: &Path) -> Result<File, LoggingError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| LoggingError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

/// One output in the chosen format.
fn layer<S, W>(format: LogFormat, writer: W, ansi: bool) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    match format {
        LogFormat::Human => fmt::layer().with_writer(writer).with_ansi(ansi).boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .with_writer(writer)
            .boxed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_level_is_refused_with_one_line() {
        let error = filter(Some("info,zarrbench=loud")).expect_err("not a level");
        assert!(matches!(error, LoggingError::Level { .. }));
        assert!(!error.to_string().contains('\n'));
    }

    #[test]
    fn a_log_file_in_a_missing_directory_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = open_log_file(&dir.path().join("missing/zarrbench.log")).expect_err("missing");
        assert!(matches!(error, LoggingError::File { .. }));
    }
}
