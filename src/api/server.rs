//! Starting and stopping the service: open the store, start the registry and
//! worker pool, bind, serve, and drain on SIGTERM or SIGINT.
//!
//! Shutdown: on the first signal the registry stops accepting (submissions
//! and `/health` answer 503) and starts no new jobs; running jobs get up to the
//! drain timeout to finish; those still running then are recorded as failed
//! (interrupted). Pending jobs stay pending in the store and run after the next
//! start. The process then exits 0.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Addr;
use actix_web::{App, HttpServer, web};
use thiserror::Error;

use super::AppState;
use super::access::Access;
use super::idempotency::IdempotencyStore;
use crate::benchmark::RunContext;
use crate::config::Settings;
use crate::registry::messages::{BeginDrain, InterruptRunning, RunningCount};
use crate::registry::store::{SqliteStore, StoreError};
use crate::registry::{JobRegistry, Limits, cache};
use crate::telemetry;
use crate::webhook::{self, Webhooks};

/// Why the service could not start.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The job database could not be opened.
    #[error("cannot open the job store in {dir}: {source}")]
    Store { dir: String, source: StoreError },
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}; choose another --port or --host")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    /// The webhook secret, delivery store or idempotency store is unusable.
    #[error("{0}")]
    Security(String),
    /// The server stopped with an I/O error.
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the service until SIGTERM or SIGINT, then drains. Must run inside an
/// actix `System` (see `actix_rt::System::new().block_on`).
pub async fn serve(settings: Settings) -> Result<(), ServeError> {
    let store_error = |source| ServeError::Store {
        dir: settings.data_dir.display().to_string(),
        source,
    };
    let store = SqliteStore::open(&settings.data_dir).map_err(store_error)?;
    let context = RunContext {
        data_dir: settings.data_dir.clone(),
        max_volume_bytes: settings.max_volume_bytes,
        input_confined: true,
    };
    let webhooks = Webhooks::start(&settings.data_dir, &settings.webhook)
        .map_err(|e| ServeError::Security(e.to_string()))?;
    let idempotency = IdempotencyStore::open(&settings.data_dir)
        .map_err(|e| ServeError::Security(format!("cannot open the idempotency key store: {e}")))?;
    webhook::describe_metrics();
    cache::describe_metrics();
    let registry = JobRegistry::start(
        Box::new(store),
        Limits::from_settings(&settings),
        context,
        Some(webhooks.clone()),
    )
    .map_err(store_error)?;

    let state = web::Data::new(AppState {
        registry: registry.clone(),
        max_volume_bytes: settings.max_volume_bytes,
        data_dir: settings.data_dir.clone(),
        access: web::Data::new(Access::new(&settings.access)),
        idempotency: Arc::new(idempotency),
        webhooks,
        result_cache: settings.result_cache,
    });
    let address = format!("{}:{}", settings.host, settings.port);
    let http_workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(super::json_errors())
            .wrap(actix_web::middleware::from_fn(super::access::guard))
            .wrap(actix_web::middleware::from_fn(telemetry::request::observe))
            .configure(|config| super::configure(config, state.clone()))
    })
    .workers(http_workers)
    .disable_signals()
    .bind(&address)
    .map_err(|source| ServeError::Bind {
        address: address.clone(),
        source,
    })?;

    for bound in server.addrs() {
        tracing::info!(address = %bound, max_jobs = settings.max_jobs, data_dir = %settings.data_dir.display(), "listening");
        println!("zarrbench listening on http://{bound}");
    }
    let _ = std::io::stdout().flush();

    let server = server.run();
    let handle = server.handle();
    let running = actix_rt::spawn(server);

    wait_for_signal().await;
    drain(&registry, settings.drain_timeout).await;
    handle.stop(true).await;
    let _ = running.await;
    tracing::info!("stopped");
    Ok(())
}

/// Waits for SIGTERM or SIGINT.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => tracing::info!(signal = "SIGTERM", "shutting down"),
                    _ = tokio::signal::ctrl_c() => tracing::info!(signal = "SIGINT", "shutting down"),
                }
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot watch SIGTERM; only SIGINT stops the service")
            }
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!(signal = "SIGINT", "shutting down");
}

/// Lets running jobs finish within `timeout`, then records the rest as
/// interrupted.
async fn drain(registry: &Addr<JobRegistry>, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let mut running = registry.send(BeginDrain).await.unwrap_or(0);
    while running > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        running = registry.send(RunningCount).await.unwrap_or(0);
    }
    if running > 0 {
        let interrupted = registry.send(InterruptRunning).await.unwrap_or(0);
        tracing::warn!(
            interrupted,
            drain_timeout_secs = timeout.as_secs(),
            "jobs still running at the drain timeout were recorded as interrupted"
        );
    } else {
        tracing::info!("no job running; drained");
    }
}
