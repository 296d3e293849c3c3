//! `GET /metrics`: every series in the Prometheus text format, on the main
//! port. The registry's gauges (jobs by state, workers, queue limit) are set
//! from its figures first, so they are exact at each scrape.

use actix_web::{HttpResponse, web};

use super::AppState;
use super::error::ApiError;
use crate::registry::messages::GetHealth;
use crate::telemetry::metrics;

/// The content type of the Prometheus text exposition format.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Prometheus metrics of the service.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text exposition format (version 0.0.4)",
        content_type = "text/plain", body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let report = state.registry.send(GetHealth).await?;
    metrics::set_registry_figures(
        &report.jobs,
        report.busy_workers,
        report.max_jobs,
        report.max_queued,
    );
    // Without an installed recorder (a library user's own server) the page is
    // empty rather than an error: there is nothing to export.
    let text = metrics::render().unwrap_or_default();
    Ok(HttpResponse::Ok().content_type(PROMETHEUS_TEXT).body(text))
}
