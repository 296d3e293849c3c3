//! The Prometheus recorder and every series the service exports.
//!
//! All names start with `zarrbench_`, use base units (seconds, bytes) and
//! carry only bounded labels: dataset type, profile, codec, outcome, state,
//! HTTP method, route pattern and status. Never a job id, a path with an id
//! in it, or anything else a client controls freely.
//!
//! | series | type | labels |
//! |---|---|---|
//! | `zarrbench_build_info` | gauge (1) | `version` |
//! | `zarrbench_jobs_submitted_total` | counter | `dataset_type`, `profile` |
//! | `zarrbench_jobs_finished_total` | counter | `outcome` (`completed`, `failed`, `cancelled`) |
//! | `zarrbench_job_run_seconds` | histogram | `outcome` |
//! | `zarrbench_job_queue_wait_seconds` | histogram | |
//! | `zarrbench_jobs` | gauge | `state` (`pending`, `running`, `completed`, `failed`, `cancelled`) |
//! | `zarrbench_queue_limit` | gauge | |
//! | `zarrbench_workers` / `zarrbench_workers_busy` | gauge | |
//! | `zarrbench_configurations_measured_total` | counter | `codec` |
//! | `zarrbench_benchmarked_bytes_total` | counter | |
//! | `zarrbench_http_requests_total` | counter | `method`, `route`, `status` |
//! | `zarrbench_http_request_duration_seconds` | histogram | `method`, `route` |
//! | `zarrbench_webhook_deliveries_total` | counter | `outcome` (the delivery's state after an attempt; recorded by `webhook::delivery`) |
//!
//! Gauges of job states, workers and the queue are set from the registry's
//! figures when `/metrics` is scraped, so they are exact at every scrape.
//!
//! Histograms use explicit buckets (so they render as Prometheus histograms,
//! not summaries): job run time and queue wait from 0.1 s up to the job
//! timeout, request latency from 0.5 ms to 10 s. A background thread runs the
//! recorder's upkeep every [`UPKEEP_INTERVAL`] so histogram memory stays flat.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

use crate::registry::job::{JobStatus, StatusCounts};

pub const BUILD_INFO: &str = "zarrbench_build_info";
pub const JOBS_SUBMITTED: &str = "zarrbench_jobs_submitted_total";
pub const JOBS_FINISHED: &str = "zarrbench_jobs_finished_total";
pub const JOB_RUN_SECONDS: &str = "zarrbench_job_run_seconds";
pub const JOB_QUEUE_WAIT_SECONDS: &str = "zarrbench_job_queue_wait_seconds";
pub const JOBS: &str = "zarrbench_jobs";
pub const QUEUE_LIMIT: &str = "zarrbench_queue_limit";
pub const WORKERS: &str = "zarrbench_workers";
pub const WORKERS_BUSY: &str = "zarrbench_workers_busy";
pub const CONFIGURATIONS_MEASURED: &str = "zarrbench_configurations_measured_total";
pub const BENCHMARKED_BYTES: &str = "zarrbench_benchmarked_bytes_total";
pub const HTTP_REQUESTS: &str = "zarrbench_http_requests_total";
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "zarrbench_http_request_duration_seconds";
pub const WEBHOOK_DELIVERIES: &str = "zarrbench_webhook_deliveries_total";

/// How often histogram samples are drained into their buckets.
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Bucket bounds for job run time and queue wait, cut at the job timeout.
const JOB_BUCKETS: [f64; 16] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0,
    7200.0,
];
/// Bucket bounds for HTTP request latency.
const HTTP_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the global recorder, describes every series, sets
/// `zarrbench_build_info` and starts upkeep. Later calls return the first
/// handle.
pub fn install(job_timeout: Duration) -> Result<&'static PrometheusHandle, BuildError> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle);
    }
    let job_buckets = job_buckets(job_timeout);
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(JOB_RUN_SECONDS.into()), &job_buckets)?
        .set_buckets_for_metric(Matcher::Full(JOB_QUEUE_WAIT_SECONDS.into()), &job_buckets)?
        .set_buckets_for_metric(
            Matcher::Full(HTTP_REQUEST_DURATION_SECONDS.into()),
            &HTTP_BUCKETS,
        )?
        .install_recorder()?;
    let handle = HANDLE.get_or_init(|| handle);

    describe_all();
    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    start_upkeep(handle);
    Ok(handle)
}

/// The Prometheus text of every series, or `None` before [`install`].
pub fn render() -> Option<String> {
    HANDLE.get().map(PrometheusHandle::render)
}

/// Bounds up to and including the job timeout; nothing is slower than it.
fn job_buckets(job_timeout: Duration) -> Vec<f64> {
    let timeout = job_timeout.as_secs_f64();
    let mut buckets: Vec<f64> = JOB_BUCKETS.into_iter().filter(|b| *b < timeout).collect();
    buckets.push(timeout);
    buckets
}

fn start_upkeep(handle: &'static PrometheusHandle) {
    let started = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                handle.run_upkeep();
            }
        });
    if let Err(error) = started {
        tracing::warn!(%error, "cannot start metrics upkeep; histograms are drained only at scrapes");
    }
}

fn describe_all() {
    describe_gauge!(
        BUILD_INFO,
        "Always 1; the version label names the running build"
    );
    describe_counter!(
        JOBS_SUBMITTED,
        Unit::Count,
        "Jobs accepted, by dataset type and compression profile"
    );
    describe_counter!(
        JOBS_FINISHED,
        Unit::Count,
        "Jobs that reached a final state, by outcome (completed, failed, cancelled)"
    );
    describe_histogram!(
        JOB_RUN_SECONDS,
        Unit::Seconds,
        "Seconds from a job's start on a worker to its final state, by outcome"
    );
    describe_histogram!(
        JOB_QUEUE_WAIT_SECONDS,
        Unit::Seconds,
        "Seconds a job waited between submission and its start on a worker"
    );
    describe_gauge!(JOBS, Unit::Count, "Jobs known to the service, by state");
    describe_gauge!(
        QUEUE_LIMIT,
        Unit::Count,
        "Pending jobs accepted before submissions are refused with 429"
    );
    describe_gauge!(
        WORKERS,
        Unit::Count,
        "Worker threads: sweeps that may run at once"
    );
    describe_gauge!(
        WORKERS_BUSY,
        Unit::Count,
        "Worker threads busy with a sweep"
    );
    describe_counter!(
        CONFIGURATIONS_MEASURED,
        Unit::Count,
        "Codec and chunk configurations measured by workers, by codec"
    );
    describe_counter!(
        BENCHMARKED_BYTES,
        Unit::Bytes,
        "Uncompressed bytes written and read back in timed round trips (volume size times repeats, per configuration)"
    );
    describe_counter!(
        HTTP_REQUESTS,
        Unit::Count,
        "HTTP requests answered, by method, route pattern and status"
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        Unit::Seconds,
        "Seconds from receiving an HTTP request to its response, by method and route pattern"
    );
    describe_counter!(
        WEBHOOK_DELIVERIES,
        Unit::Count,
        "Webhook delivery attempts, by the delivery's state afterwards (delivered, pending for a retry, gone, exhausted, refused)"
    );
}

/// A job was accepted.
pub fn job_submitted(dataset_type: &str, profile: &str) {
    counter!(
        JOBS_SUBMITTED,
        "dataset_type" => dataset_type.to_owned(),
        "profile" => profile.to_owned()
    )
    .increment(1);
}

/// A job left the queue for a worker after waiting `queue_wait`.
pub fn job_started(queue_wait: Duration) {
    histogram!(JOB_QUEUE_WAIT_SECONDS).record(queue_wait.as_secs_f64());
}

/// A job reached a final state; `run_time` is set when it had started.
pub fn job_finished(outcome: JobStatus, run_time: Option<Duration>) {
    counter!(JOBS_FINISHED, "outcome" => outcome.name()).increment(1);
    if let Some(run_time) = run_time {
        histogram!(JOB_RUN_SECONDS, "outcome" => outcome.name()).record(run_time.as_secs_f64());
    }
}

/// A worker measured one configuration of `codec` over `bytes` uncompressed
/// bytes (volume size times timed round trips).
pub fn configuration_measured(codec: &'static str, bytes: u64) {
    counter!(CONFIGURATIONS_MEASURED, "codec" => codec).increment(1);
    counter!(BENCHMARKED_BYTES).increment(bytes);
}

/// The registry's figures at a scrape.
pub fn set_registry_figures(
    counts: &StatusCounts,
    busy: usize,
    workers: usize,
    queue_limit: usize,
) {
    let mut counts = *counts;
    for state in JobStatus::ALL {
        gauge!(JOBS, "state" => state.name()).set(*counts.get_mut(state) as f64);
    }
    gauge!(WORKERS_BUSY).set(busy as f64);
    gauge!(WORKERS).set(workers as f64);
    gauge!(QUEUE_LIMIT).set(queue_limit as f64);
}

/// One HTTP request answered; `route` is the matched pattern, never the path.
pub fn http_request(method: &'static str, route: String, status: u16, seconds: f64) {
    counter!(
        HTTP_REQUESTS,
        "method" => method,
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    histogram!(HTTP_REQUEST_DURATION_SECONDS, "method" => method, "route" => route).record(seconds);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_buckets_end_at_the_job_timeout() {
        assert_eq!(
            job_buckets(Duration::from_secs(60)),
            [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]
        );
        assert_eq!(job_buckets(Duration::from_secs(3600)).last(), Some(&3600.0));
        assert_eq!(job_buckets(Duration::from_secs(1)).last(), Some(&1.0));
    }
}
