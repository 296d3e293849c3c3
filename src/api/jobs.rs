//! Job routes: submit (both forms), status, list and cancel. Each handler
//! parses, sends one message to the registry and shapes the reply; none runs
//! a sweep or touches the store.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::AppState;
use super::access;
use super::body::read_body;
use super::error::{ApiError, ErrorBody};
use super::idempotency::{Answer, Claim};
use crate::registry::job::{JobRecord, JobStatus, Progress, RequestForm, format_time};
use crate::registry::messages::{CancelJob, Cancelled, GetJob, ListJobs, Submit};
use crate::spec::{self, BenchmarkRequest, CheckedRequest, LegacyRequest};
use crate::webhook::target;

/// Answer to `POST /benchmark`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SubmitResponse {
    pub job_id: Uuid,
    /// `pending`, or `completed` when the result cache answered.
    pub status: String,
    pub message: String,
}

/// Answer to `POST /webhook/benchmark`, as the original service gave it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AcceptedResponse {
    pub job_id: Uuid,
    /// Always `accepted`.
    pub status: String,
    pub message: String,
    /// Where to poll, e.g. `/status/{job_id}`.
    pub status_url: String,
}

/// A job's state, timestamps and outcome. Timestamps are UTC ISO-8601 with `Z`
/// and null until reached.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobStatusResponse {
    pub job_id: Uuid,
    pub status: JobStatus,
    #[schema(format = DateTime)]
    pub submitted_at: String,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub completed_at: Option<String>,
    /// The engine's result object once completed: configurations, ratios,
    /// speeds, `best_compression`, `recommendations`, environment, timing.
    #[schema(value_type = Option<Object>)]
    pub results: Option<serde_json::Value>,
    /// Why the job failed.
    pub error: Option<String>,
    pub progress: Progress,
}

/// A job in a listing (no results).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobSummary {
    pub job_id: Uuid,
    pub status: JobStatus,
    pub dataset_type: String,
    pub shape: Vec<u64>,
    pub compression_profile: Option<String>,
    #[schema(format = DateTime)]
    pub submitted_at: String,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub completed_at: Option<String>,
    pub error: Option<String>,
    pub progress: Progress,
    pub attempts: u32,
}

/// A page of jobs, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobSummary>,
    /// Jobs matching the filter over all pages.
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
}

/// Answer to `DELETE /jobs/{job_id}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CancelResponse {
    pub job_id: Uuid,
    /// `cancelled`, or `running` while the cancellation takes effect.
    pub status: JobStatus,
    pub message: String,
}

/// Query of `GET /jobs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only jobs in this state.
    pub status: Option<JobStatus>,
    /// Jobs per page, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// Jobs to skip (default 0).
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub offset: Option<u64>,
}

/// Submit a benchmark job (the guide's body).
#[utoipa::path(post, path = "/benchmark", tag = "jobs", request_body = BenchmarkRequest,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Makes a retried submission safe: the same key with the same body returns the first answer (24 h)")),
    responses(
        (status = 201, description = "Job queued (or, from the result cache, already completed)", body = SubmitResponse,
            headers(("Location" = String, description = "/status/{job_id}"))),
        (status = 400, description = "Invalid body or callback_url refused; `code` names the problem", body = ErrorBody),
        (status = 401, description = "Missing or wrong API key", body = ErrorBody),
        (status = 409, description = "The first request with this Idempotency-Key is still running", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Body not JSON", body = ErrorBody),
        (status = 422, description = "Idempotency-Key reused with another body", body = ErrorBody),
        (status = 429, description = "Queue full or rate limit reached; see Retry-After", body = ErrorBody),
        (status = 503, description = "Shutting down", body = ErrorBody),
    ))]
pub async fn submit(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&request, payload).await?;
    idempotent(&request, &state, "/benchmark", &body, async {
        let parsed: BenchmarkRequest = spec::decode(&body)?;
        // A data_path is probed on disk: off the async threads.
        let (max_volume_bytes, data_dir) = (state.max_volume_bytes, state.data_dir.clone());
        let mut checked = web::block(move || {
            parsed.check(spec::Limits {
                max_volume_bytes,
                data_dir: Some(&data_dir),
            })
        })
        .await
        .map_err(|e| ApiError::Unavailable(format!("the request check did not finish: {e}")))??;
        checked.use_cache &= state.result_cache;
        let job = enqueue(&state, checked, RequestForm::Guide).await?;
        let (status, message) = submitted(&job);
        Ok(Answer {
            status: StatusCode::CREATED,
            location: format!("/status/{}", job.id),
            body: json_value(&SubmitResponse {
                job_id: job.id,
                status,
                message,
            }),
        })
    })
    .await
}

/// Submit a benchmark job (the original service's nested body).
#[utoipa::path(post, path = "/webhook/benchmark", tag = "jobs", request_body = LegacyRequest,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Makes a retried submission safe: the same key with the same body returns the first answer (24 h)")),
    responses(
        (status = 202, description = "Job accepted", body = AcceptedResponse,
            headers(("Location" = String, description = "/status/{job_id}"))),
        (status = 400, description = "Invalid body or callback_url refused; `code` names the problem", body = ErrorBody),
        (status = 401, description = "Missing or wrong API key", body = ErrorBody),
        (status = 409, description = "The first request with this Idempotency-Key is still running", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Body not JSON", body = ErrorBody),
        (status = 422, description = "Idempotency-Key reused with another body", body = ErrorBody),
        (status = 429, description = "Queue full or rate limit reached; see Retry-After", body = ErrorBody),
        (status = 503, description = "Shutting down", body = ErrorBody),
    ))]
pub async fn submit_legacy(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&request, payload).await?;
    idempotent(&request, &state, "/webhook/benchmark", &body, async {
        let parsed: LegacyRequest = spec::decode(&body)?;
        let mut checked = parsed.check(spec::Limits {
            max_volume_bytes: state.max_volume_bytes,
            data_dir: None,
        })?;
        checked.use_cache &= state.result_cache;
        let job = enqueue(&state, checked, RequestForm::Legacy).await?;
        let status_url = format!("/status/{}", job.id);
        Ok(Answer {
            status: StatusCode::ACCEPTED,
            location: status_url.clone(),
            body: json_value(&AcceptedResponse {
                job_id: job.id,
                status: "accepted".to_string(),
                message: "Benchmark job accepted".to_string(),
                status_url,
            }),
        })
    })
    .await
}

/// Runs a submission under its `Idempotency-Key`, if the request has one.
async fn idempotent(
    request: &HttpRequest,
    state: &AppState,
    route: &str,
    body: &[u8],
    submission: impl Future<Output = Result<Answer, ApiError>>,
) -> Result<HttpResponse, ApiError> {
    let client = access::client_of(request);
    let claim = state.idempotency.claim(request, &client, route, body)?;
    if let Claim::Replay(answer) = &claim {
        return Ok(answer.response(true));
    }
    match submission.await {
        Ok(answer) => {
            state.idempotency.complete(&claim, &answer);
            Ok(answer.response(false))
        }
        Err(error) => {
            state.idempotency.release(&claim);
            Err(error)
        }
    }
}

/// The status and message a submission reports: `pending`, or `completed`
/// when the result cache answered it.
fn submitted(job: &JobRecord) -> (String, String) {
    if job.status == JobStatus::Completed {
        (
            job.status.name().to_string(),
            "Benchmark job answered from the result cache".to_string(),
        )
    } else {
        (
            JobStatus::Pending.name().to_string(),
            "Benchmark job queued successfully".to_string(),
        )
    }
}

fn json_value<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

async fn enqueue(
    state: &AppState,
    request: CheckedRequest,
    form: RequestForm,
) -> Result<JobRecord, ApiError> {
    if let Some(url) = &request.callback_url {
        target::check(url, state.webhooks.allow_private()).await?;
    }
    Ok(state.registry.send(Submit { request, form }).await??)
}

/// A job's status, with results once completed.
#[utoipa::path(get, path = "/status/{job_id}", tag = "jobs",
    params(("job_id" = Uuid, Path, description = "The id returned at submission")),
    responses(
        (status = 200, description = "The job", body = JobStatusResponse),
        (status = 400, description = "Not a UUID", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 503, description = "Registry unavailable", body = ErrorBody),
    ))]
pub async fn status(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_job_id(&path)?;
    let job = state.registry.send(GetJob(id)).await??;
    Ok(HttpResponse::Ok().json(status_response(job)))
}

/// Jobs newest first, without results.
#[utoipa::path(get, path = "/jobs", tag = "jobs", params(ListQuery),
    responses(
        (status = 200, description = "A page of jobs", body = JobList),
        (status = 400, description = "Invalid query", body = ErrorBody),
        (status = 503, description = "Registry unavailable", body = ErrorBody),
    ))]
pub async fn list(
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadQuery(format!(
            "limit must be 1 to 1000, got {limit}"
        )));
    }
    let offset = query.offset.unwrap_or(0);
    if i64::try_from(offset).is_err() {
        return Err(ApiError::BadQuery(format!(
            "offset must be at most {}, got {offset}",
            i64::MAX
        )));
    }
    let message = ListJobs {
        status: query.status,
        limit,
        offset,
    };
    let page = state.registry.send(message).await??;
    Ok(HttpResponse::Ok().json(JobList {
        jobs: page.jobs.into_iter().map(summary).collect(),
        total: page.total,
        limit,
        offset,
    }))
}

/// Cancel a job: a pending one at once, a running one at its next
/// timed pass.
#[utoipa::path(delete, path = "/jobs/{job_id}", tag = "jobs",
    params(("job_id" = Uuid, Path, description = "The id returned at submission")),
    responses(
        (status = 200, description = "The pending job is cancelled", body = CancelResponse),
        (status = 202, description = "The running job stops at its next timed pass", body = CancelResponse),
        (status = 400, description = "Not a UUID", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "The job already finished", body = ErrorBody),
        (status = 503, description = "Registry unavailable", body = ErrorBody),
    ))]
pub async fn cancel(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_job_id(&path)?;
    let response = match state.registry.send(CancelJob(id)).await?? {
        Cancelled::Now(job) => HttpResponse::Ok().json(CancelResponse {
            job_id: job.id,
            status: job.status,
            message: "The job was pending and is cancelled".to_string(),
        }),
        Cancelled::Requested(job) => HttpResponse::Accepted().json(CancelResponse {
            job_id: job.id,
            status: job.status,
            message: "The job is running; it stops at its next timed pass and becomes cancelled"
                .to_string(),
        }),
    };
    Ok(response)
}

fn parse_job_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| {
        ApiError::BadPath(format!(
            "job_id '{text}' is not a UUID; use the job_id returned at submission"
        ))
    })
}

/// The guide's status object for a job.
pub fn status_response(job: JobRecord) -> JobStatusResponse {
    JobStatusResponse {
        job_id: job.id,
        status: job.status,
        submitted_at: format_time(&job.submitted_at),
        started_at: job.started_at.as_ref().map(format_time),
        completed_at: job.completed_at.as_ref().map(format_time),
        results: job.results,
        error: job.error,
        progress: job.progress,
    }
}

fn summary(job: JobRecord) -> JobSummary {
    JobSummary {
        job_id: job.id,
        status: job.status,
        dataset_type: job.spec.volume.modality.name().to_string(),
        shape: job.spec.volume.shape.clone(),
        compression_profile: job.spec.plan.profile.map(|p| p.name().to_string()),
        submitted_at: format_time(&job.submitted_at),
        started_at: job.started_at.as_ref().map(format_time),
        completed_at: job.completed_at.as_ref().map(format_time),
        error: job.error,
        progress: job.progress,
        attempts: job.attempts,
    }
}
