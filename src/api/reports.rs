//! Report routes: a completed job's results as CSV (`results.csv`) and as the
//! trade-off chart (`report.svg`), and any job's page for a browser
//! (`report.html`, and `GET /jobs/{job_id}` when the client prefers HTML).
//! Each renders the stored job; none runs a sweep.

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::jobs::{self, JobStatusResponse};
use crate::cli::output;
use crate::registry::job::{JobRecord, JobStatus};
use crate::registry::messages::GetJob;
use crate::report;
use crate::report::html::{JobView, RequestSummary};
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

/// A job as JSON (the status object) or, for a client that prefers HTML
/// such as a browser, as its page.
#[utoipa::path(get, path = "/jobs/{job_id}", tag = "jobs",
    params(("job_id" = Uuid, Path, description = "The id returned at submission")),
    responses(
        (status = 200, description = "The job: the status object of `GET /status/{job_id}`, or the page of \
            `GET /jobs/{job_id}/report.html` when the Accept header ranks text/html above application/json \
            (by q-value, then by how specifically each is named)",
            content(
                (JobStatusResponse = "application/json"),
                (String = "text/html"),
            ),
            headers(("Vary" = String, description = "Accept"))),
        (status = 400, description = "Not a UUID", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 503, description = "Registry unavailable", body = ErrorBody),
    ))]
pub async fn job(
    request: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut response = if prefers_html(request.headers()) {
        page(&path, &state).await?
    } else {
        jobs::status(path, state).await?
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(response)
}

/// A job's page: status, phase and progress while it runs (reloading itself
/// every few seconds), its chart and tables once completed, its error once
/// failed or cancelled. A self-contained document that loads nothing.
#[utoipa::path(get, path = "/jobs/{job_id}/report.html", tag = "jobs",
    params(("job_id" = Uuid, Path, description = "The id returned at submission")),
    responses(
        (status = 200, description = "The page, for a job in any state", content_type = "text/html",
            body = String,
            headers(
                ("Content-Security-Policy" = String, description = "Nothing may load; inline styles only"),
                ("X-Content-Type-Options" = String, description = "nosniff"),
            )),
        (status = 400, description = "Not a UUID", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 503, description = "Registry unavailable", body = ErrorBody),
    ))]
pub async fn report_html(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    page(&path, &state).await
}

/// The page of the job `job_id` with its security headers.
async fn page(job_id: &str, state: &AppState) -> Result<HttpResponse, ApiError> {
    let id = parse_job_id(job_id)?;
    let job = state.registry.send(GetJob(id)).await??;
    let result = if job.status == JobStatus::Completed {
        stored_result(&job)?
    } else {
        None
    };
    let request = RequestSummary::of(&job.spec, job.callback_url.clone());
    let view = job_view(jobs::status_response(job), request, result);
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            report::html::CONTENT_SECURITY_POLICY,
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(report::html::render(&view)))
}

/// The page's view of a job: the status object's fields, what was asked and
/// the parsed result object.
fn job_view(
    status: JobStatusResponse,
    request: RequestSummary,
    result: Option<SweepResult>,
) -> JobView {
    JobView {
        job_id: status.job_id.to_string(),
        status: status.status,
        progress: status.progress,
        submitted_at: status.submitted_at,
        started_at: status.started_at,
        completed_at: status.completed_at,
        error: status.error,
        request,
        result,
    }
}

/// True when the `Accept` header ranks `text/html` above `application/json`:
/// by q-value first, then by how specifically each is named (`text/html`
/// over `text/*` over `*/*`). A tie, a missing header and `*/*` alone mean
/// JSON, so API clients keep the status object.
fn prefers_html(headers: &HeaderMap) -> bool {
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .collect();
    if accept.is_empty() {
        return false;
    }
    let accept = accept.join(",");
    let html = preference(&accept, "text", "html");
    let json = preference(&accept, "application", "json");
    html.0 > 0.0 && html > json
}

/// The q-value the most specific range of `accept` that matches
/// `kind/subtype` gives it, and that range's specificity (2 exact, 1
/// `kind/*`, 0 `*/*`); `(0, 0)` when no range matches.
fn preference(accept: &str, kind: &str, subtype: &str) -> (f32, u8) {
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim();
        let Some((range_kind, range_subtype)) = media.split_once('/') else {
            continue;
        };
        let specificity = match (range_kind.trim(), range_subtype.trim()) {
            ("*", "*") => 0,
            (k, "*") if k.eq_ignore_ascii_case(kind) => 1,
            (k, s) if k.eq_ignore_ascii_case(kind) && s.eq_ignore_ascii_case(subtype) => 2,
            _ => continue,
        };
        let quality = parts
            .filter_map(|parameter| {
                let (name, value) = parameter.split_once('=')?;
                name.trim().eq_ignore_ascii_case("q").then(|| value.trim())
            })
            .next()
            .map_or(1.0, |value| value.parse::<f32>().unwrap_or(0.0));
        let quality = if quality.is_finite() {
            quality.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if best.is_none_or(|(known, _)| specificity > known) {
            best = Some((specificity, quality));
        }
    }
    best.map_or((0.0, 0), |(specificity, quality)| (quality, specificity))
}

/// The result object of a completed job; 404 for an unknown job, 409 while
/// it has none.
async fn completed_result(job_id: &str, state: &AppState) -> Result<SweepResult, ApiError> {
    let id = parse_job_id(job_id)?;
    let job = state.registry.send(GetJob(id)).await??;
    let no_results = || ApiError::NoResults {
        job_id: id.to_string(),
        status: job.status.name().to_string(),
    };
    if job.status != JobStatus::Completed {
        return Err(no_results());
    }
    stored_result(&job)?.ok_or_else(no_results)
}

/// The job's stored result object, parsed; `None` when it has none.
fn stored_result(job: &JobRecord) -> Result<Option<SweepResult>, ApiError> {
    let Some(results) = job.results.clone() else {
        return Ok(None);
    };
    serde_json::from_value(results).map(Some).map_err(|error| {
        ApiError::StoreFailed(format!(
            "the stored results of job {} are unreadable: {error}",
            job.id
        ))
    })
}

fn parse_job_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| {
        ApiError::BadPath(format!(
            "job_id '{text}' is not a UUID; use the job_id returned at submission"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                header::ACCEPT,
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        headers
    }

    #[test]
    fn browsers_get_html() {
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
            image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        assert!(prefers_html(&accepting(&[firefox])));
        assert!(prefers_html(&accepting(&[chromium])));
        assert!(prefers_html(&accepting(&["text/*"])));
        assert!(prefers_html(&accepting(&["text/html, */*"])));
        assert!(prefers_html(&accepting(&[
            "application/json;q=0.5",
            "TEXT/HTML"
        ])));
    }

    #[test]
    fn api_clients_get_json() {
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(!prefers_html(&accepting(&["*/*"])));
        assert!(!prefers_html(&accepting(&["application/json"])));
        assert!(!prefers_html(&accepting(&["text/html, application/json"])));
        assert!(!prefers_html(&accepting(&[
            "text/html;q=0.5, application/json"
        ])));
        assert!(!prefers_html(&accepting(&["text/html;q=0, */*"])));
        assert!(!prefers_html(&accepting(&["text/html;q=abc"])));
        assert!(!prefers_html(&accepting(&["image/png"])));
        assert!(!prefers_html(&accepting(&["garbage, ;;, /"])));
    }
}
