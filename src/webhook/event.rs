//! The body of a webhook event: `{"type", "timestamp", "data"}` where `data`
//! holds the job's id, final status, timestamps, results (completed) or error
//! (failed, cancelled) and where to read its status.

use serde_json::{Value, json};

use crate::registry::job::{JobRecord, JobStatus, format_time, now};

/// The event type of a job's final state, e.g. `benchmark.completed`.
pub fn event_type(status: JobStatus) -> String {
    format!("benchmark.{}", status.name())
}

/// The event for a job in a final state. `public_url` (no trailing slash)
/// makes `status_url` absolute.
pub fn build(job: &JobRecord, public_url: Option<&str>) -> Value {
    let status_url = format!("{}/status/{}", public_url.unwrap_or_default(), job.id);
    let mut data = json!({
        "job_id": job.id,
        "status": job.status.name(),
        "submitted_at": format_time(&job.submitted_at),
        "started_at": job.started_at.as_ref().map(format_time),
        "completed_at": job.completed_at.as_ref().map(format_time),
        "status_url": status_url,
    });
    if job.status == JobStatus::Completed {
        data["results"] = job.results.clone().unwrap_or(Value::Null);
    } else {
        data["error"] = job.error.clone().map_or(Value::Null, Value::String);
    }
    json!({
        "type": event_type(job.status),
        "timestamp": format_time(&now()),
        "data": data,
    })
}
