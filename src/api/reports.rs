//! Report routes: a completed job's results as CSV (`results.csv`) and as the
//! trade-off chart (`report.svg`). Both render the stored result object; none
//! runs a sweep.

use actix_web::{HttpResponse, web};
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use crate::cli::output;
use crate::registry::job::JobStatus;
use crate::registry::messages::GetJob;
use crate::report;
use crate::sweep::SweepResult;

/// A completed job's results, one CSV row per configuration.
#[utoipa::path(get, path = "/jobs/{job_id}/results.csv", tag = "jobs",
    params(("job_id" = Uuid, Path, description = "The id returned at submission")),
    responses(
        (status = 200, description = "Header row, then one row per configuration (the result object's columns)",
            content_type = "text/csv", body = String),
        (status = 400, description = "Not a UUID", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "The job has no results (not completed)", body = ErrorBody),
        (status = 503, description = "Registry unavailable", body = ErrorBody),
    ))]
pub async fn results_csv(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let result = completed_result(&path, &state).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .body(output::csv(&result)))
}

/// A completed job's trade-off chart: ratio against write and read speed,
/// Pareto front drawn, recommendations labelled.
#[utoipa::path(get, path = "/jobs/{job_id}/report.svg", tag = "jobs",
    params(("job_id" = Uuid, Path, description = "The id returned at submission")),
    responses(
        (status = 200, description = "The chart as a self-contained SVG document",
            content_type = "image/svg+xml", body = String),
        (status = 400, description = "Not a UUID", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "The job has no results (not completed)", body = ErrorBody),
        (status = 503, description = "Registry unavailable", body = ErrorBody),
    ))]
pub async fn report_svg(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let result = completed_result(&path, &state).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .body(report::svg::render(&result)))
}

/// The result object of a completed job; 404 for an unknown job, 409 while
/// it has none.
async fn completed_result(job_id: &str, state: &AppState) -> Result<SweepResult, ApiError> {
    let id = Uuid::parse_str(job_id).map_err(|_| {
        ApiError::BadPath(format!(
            "job_id '{job_id}' is not a UUID; use the job_id returned at submission"
        ))
    })?;
    let job = state.registry.send(GetJob(id)).await??;
    let no_results = || ApiError::NoResults {
        job_id: id.to_string(),
        status: job.status.name().to_string(),
    };
    if job.status != JobStatus::Completed {
        return Err(no_results());
    }
    let results = job.results.clone().ok_or_else(no_results)?;
    serde_json::from_value(results).map_err(|error| {
        ApiError::StoreFailed(format!(
            "the stored results of job {id} are unreadable: {error}"
        ))
    })
}
