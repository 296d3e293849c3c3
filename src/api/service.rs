//! Service routes: `GET /` (what this is), `GET /health` (counts and
//! capacity, answered from the registry's memory) and `GET /openapi.json`.

use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::AppState;
use super::error::ApiError;
use super::openapi::ApiDoc;
use crate::registry::job::StatusCounts;
use crate::registry::messages::GetHealth;

/// The crate version, reported by `/` and `/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Answer to `GET /health`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// `healthy`, or `draining` while shutting down (then with status 503).
    pub status: String,
    pub version: String,
    pub jobs: StatusCounts,
    pub workers: WorkerFigures,
    pub queue: QueueFigures,
}

/// The worker pool.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkerFigures {
    /// Sweeps that may run at once (`max_jobs`).
    pub max: usize,
    /// Worker threads busy with a sweep.
    pub busy: usize,
}

/// The queue of pending jobs.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QueueFigures {
    /// Pending jobs waiting for a worker.
    pub pending: usize,
    /// Pending jobs accepted before submissions get 429.
    pub max: usize,
}

/// Answer to `GET /`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceInfo {
    pub service: String,
    pub version: String,
    pub description: String,
    pub endpoints: Vec<Endpoint>,
}

/// One route of the API.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Endpoint {
    pub method: String,
    pub path: String,
    pub description: String,
}

const ENDPOINTS: [(&str, &str, &str); 13] = [
    ("GET", "/", "this description"),
    (
        "POST",
        "/benchmark",
        "submit a job (guide body); 201 with Location",
    ),
    (
        "POST",
        "/webhook/benchmark",
        "submit a job (original service body); 202",
    ),
    (
        "GET",
        "/status/{job_id}",
        "a job's status, progress and results",
    ),
    ("GET", "/jobs", "jobs newest first; ?status=&limit=&offset="),
    (
        "GET",
        "/jobs/{job_id}",
        "a job's status (JSON), or its report page when Accept prefers text/html",
    ),
    (
        "GET",
        "/jobs/{job_id}/report.html",
        "a job's report page: progress, chart, recommendations, every configuration",
    ),
    (
        "DELETE",
        "/jobs/{job_id}",
        "cancel a pending or running job",
    ),
    (
        "GET",
        "/jobs/{job_id}/results.csv",
        "a completed job's results as CSV, one row per configuration",
    ),
    (
        "GET",
        "/jobs/{job_id}/report.svg",
        "a completed job's chart: ratio against write and read speed",
    ),
    ("GET", "/health", "job counts, workers and queue"),
    (
        "GET",
        "/openapi.json",
        "OpenAPI 3 description of every route",
    ),
    (
        "GET",
        "/metrics",
        "Prometheus metrics (text exposition format)",
    ),
];

/// The service, its version and its endpoints.
#[utoipa::path(get, path = "/", tag = "service",
    responses((status = 200, description = "Service description", body = ServiceInfo)))]
pub async fn root() -> HttpResponse {
    HttpResponse::Ok().json(ServiceInfo {
        service: "zarrbench".to_string(),
        version: VERSION.to_string(),
        description: env!("CARGO_PKG_DESCRIPTION").to_string(),
        endpoints: ENDPOINTS
            .iter()
            .map(|(method, path, description)| Endpoint {
                method: method.to_string(),
                path: path.to_string(),
                description: description.to_string(),
            })
            .collect(),
    })
}

/// Job counts by state, worker and queue figures.
#[utoipa::path(get, path = "/health", tag = "service",
    responses(
        (status = 200, description = "Healthy", body = HealthResponse),
        (status = 503, description = "Draining (shutting down)", body = HealthResponse),
    ))]
pub async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let report = state.registry.send(GetHealth).await?;
    let (status, code) = if report.draining {
        ("draining", StatusCode::SERVICE_UNAVAILABLE)
    } else {
        ("healthy", StatusCode::OK)
    };
    Ok(HttpResponse::build(code).json(HealthResponse {
        status: status.to_string(),
        version: VERSION.to_string(),
        jobs: report.jobs,
        workers: WorkerFigures {
            max: report.max_jobs,
            busy: report.busy_workers,
        },
        queue: QueueFigures {
            pending: report.queued,
            max: report.max_queued,
        },
    }))
}

/// This API's OpenAPI 3 description.
#[utoipa::path(get, path = "/openapi.json", tag = "service",
    responses((status = 200, description = "OpenAPI document", content_type = "application/json", body = Object)))]
pub async fn openapi() -> HttpResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let document = DOCUMENT.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .unwrap_or_else(|_| "{}".to_string())
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.as_str())
}
