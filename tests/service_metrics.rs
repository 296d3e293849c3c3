//! `/metrics` and the request id, against the real server: the Prometheus
//! series an operator's dashboard and alerts rely on, and `x-request-id`.

mod service_support;

use std::time::Duration;

use service_support::{Server, quick_job, temp_dir};

/// Series that exist once one job has run (histograms as `_bucket`, so they
/// are real histograms and not summaries).
const SERIES_AFTER_ONE_JOB: [&str; 12] = [
    "zarrbench_build_info{version=\"",
    "zarrbench_jobs_submitted_total{dataset_type=\"synthetic\",profile=\"fast\"}",
    "zarrbench_jobs_finished_total{outcome=\"completed\"}",
    "zarrbench_job_run_seconds_bucket{outcome=\"completed\",le=\"",
    "zarrbench_job_queue_wait_seconds_bucket{le=\"",
    "zarrbench_jobs{state=\"completed\"} 1",
    "zarrbench_workers 1",
    "zarrbench_workers_busy 0",
    "zarrbench_configurations_measured_total{codec=\"",
    "zarrbench_benchmarked_bytes_total ",
    "zarrbench_http_requests_total{method=\"POST\",route=\"/benchmark\",status=\"201\"}",
    "zarrbench_http_request_duration_seconds_bucket{method=\"GET\",route=\"/status/{job_id}\",le=\"",
];

#[test]
fn metrics_expose_job_worker_and_http_series_with_help_text() {
    let dir = temp_dir();
    let server = Server::start(dir.path(), &["--max-jobs", "1"], &[]);
    let id = server.submit(&quick_job());
    let status = server.wait_final(&id, Duration::from_secs(60));
    assert_eq!(status["status"], "completed", "{status}");

    let response = server
        .client()
        .get(server.url("/metrics"))
        .send()
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap_or("");
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().expect("body");

    for series in SERIES_AFTER_ONE_JOB {
        assert!(text.contains(series), "missing {series} in\n{text}");
    }
    for line in text.lines().filter(|l| l.starts_with("# TYPE zarrbench_")) {
        let name = line.split_whitespace().nth(2).unwrap_or_default();
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "{name} has no help text"
        );
    }
    assert!(!text.contains(&id), "a job id leaked into a metric label");
}

#[test]
fn every_response_carries_a_request_id_and_a_plain_incoming_one_is_kept() {
    let dir = temp_dir();
    let server = Server::start(dir.path(), &[], &[]);

    for path in ["/health", "/no-such-route", "/metrics"] {
        let response = server.client().get(server.url(path)).send().expect("GET");
        let id = response.headers().get("x-request-id");
        assert!(
            id.is_some_and(|id| !id.is_empty()),
            "{path}: no x-request-id"
        );
    }

    let response = server
        .client()
        .get(server.url("/health"))
        .header("x-request-id", "nginx-0123abcd")
        .send()
        .expect("GET");
    assert_eq!(response.headers()["x-request-id"], "nginx-0123abcd");
}

#[test]
fn healthcheck_exits_zero_for_a_healthy_service_and_one_otherwise() {
    let dir = temp_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let healthcheck = |url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_zarrbench"))
            .args(["healthcheck", "--timeout", "2", "--url", url])
            .env_remove("ZARRBENCH_HEALTHCHECK_URL")
            .output()
            .expect("run healthcheck")
            .status
            .code()
    };
    assert_eq!(healthcheck(&server.url("/health")), Some(0));
    assert_eq!(healthcheck(&server.url("/no-such-route")), Some(1));
    assert_eq!(healthcheck("http://127.0.0.1:9/health"), Some(1));
}
