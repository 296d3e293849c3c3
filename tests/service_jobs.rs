//! Job lifecycle in a running service: cancel, queue limit, timeout, panics,
//! concurrency accounting and responsiveness while workers are busy.

mod service_support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use service_support::{Server, assert_error, long_job, quick_job, temp_dir};

const JOB_TIMEOUT: Duration = Duration::from_secs(90);

#[test]
fn cancelling_a_pending_job_cancels_it_at_once_and_a_second_cancel_is_409() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &["--max-jobs", "1"], &[]);
    let running = server.submit(&long_job());
    let pending = server.submit(&quick_job());

    let (status, reply) = server.delete(&format!("/jobs/{pending}"));
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["status"], "cancelled");
    let cancelled = server.status(&pending);
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["started_at"].is_null());
    assert!(cancelled["completed_at"].is_string());

    let (status, reply) = server.delete(&format!("/jobs/{pending}"));
    assert_error(status, &reply, 409, "job-already-finished");
    server.delete(&format!("/jobs/{running}"));
}

#[test]
fn cancelling_a_running_job_stops_it_at_a_configuration_boundary() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let id = server.submit(&long_job());
    server.wait_for(&id, JOB_TIMEOUT, |s| {
        s["status"] == "running" && s["progress"]["done"].as_u64() >= Some(1)
    });

    let (status, reply) = server.delete(&format!("/jobs/{id}"));
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    assert_eq!(reply["status"], "running");

    let done = server.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(done["status"], "cancelled", "{done}");
    assert!(done["results"].is_null());
    let total = done["progress"]["total"].as_u64().unwrap_or(0);
    assert!(
        done["progress"]["done"].as_u64().unwrap_or(total) < total,
        "{done}"
    );

    let next = server.submit(&quick_job());
    assert_eq!(server.wait_final(&next, JOB_TIMEOUT)["status"], "completed");
}

#[test]
fn a_full_queue_answers_429_with_retry_after() {
    let dir = temp_dir();
    let server = Server::start(
        &dir.path().join("data"),
        &["--max-jobs", "1", "--max-queued", "1"],
        &[],
    );
    let running = server.submit(&long_job());
    let queued = server.submit(&quick_job());

    let response = server
        .client()
        .post(server.url("/benchmark"))
        .json(&quick_job())
        .send()
        .expect("submit");
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let (status, reply) = service_support::read(response);
    assert_error(status, &reply, 429, "queue-full");
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "Retry-After: {retry_after:?}"
    );

    server.delete(&format!("/jobs/{queued}"));
    server.delete(&format!("/jobs/{running}"));
}

#[test]
fn a_job_over_the_timeout_fails_saying_so() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &["--job-timeout", "1"], &[]);
    let id = server.submit(&long_job());
    let done = server.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(done["status"], "failed", "{done}");
    assert!(
        done["error"]
            .as_str()
            .is_some_and(|e| e.contains("timed out")),
        "{done}"
    );

    let next = server.submit(&json!({"dataset_type": "synthetic", "shape": [8, 8], "repeats": 1}));
    assert_eq!(server.wait_final(&next, JOB_TIMEOUT)["status"], "completed");
}

#[test]
fn a_panic_in_a_sweep_fails_that_job_and_the_pool_stays_whole() {
    let dir = temp_dir();
    let env = [("ZARRBENCH_TEST_PANIC_DATASET", "custom")];
    let server = Server::start(&dir.path().join("data"), &["--max-jobs", "1"], &env);

    for _ in 0..2 {
        let id = server.submit(&json!({"dataset_type": "custom", "shape": [16, 16], "repeats": 1}));
        let done = server.wait_final(&id, JOB_TIMEOUT);
        assert_eq!(done["status"], "failed", "{done}");
        assert!(
            done["error"]
                .as_str()
                .is_some_and(|e| e.contains("crashed")),
            "{done}"
        );
    }
    let id = server.submit(&quick_job());
    assert_eq!(server.wait_final(&id, JOB_TIMEOUT)["status"], "completed");
    let (_, health) = server.get("/health");
    assert_eq!(health["jobs"]["failed"], 2);
    assert_eq!(health["workers"]["busy"], 0);
}

#[test]
fn results_say_how_many_jobs_ran_beside_this_one() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &["--max-jobs", "2"], &[]);
    let first = server.submit(&long_job());
    let second = server.submit(&quick_job());
    let done = server.wait_final(&second, JOB_TIMEOUT);
    assert_eq!(
        done["results"]["environment"]["concurrent_jobs"], 1,
        "{}",
        done["results"]["environment"]
    );
    server.delete(&format!("/jobs/{first}"));
}

#[test]
fn health_and_status_answer_quickly_while_every_worker_is_busy() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &["--max-jobs", "2"], &[]);
    let ids: Vec<String> = (0..2).map(|_| server.submit(&long_job())).collect();
    server.wait_for(&ids[1], JOB_TIMEOUT, |s| s["status"] == "running");

    let mut slowest = Duration::ZERO;
    for _ in 0..50 {
        let started = Instant::now();
        let (status, _) = server.get("/health");
        assert_eq!(status, StatusCode::OK);
        server.status(&ids[0]);
        slowest = slowest.max(started.elapsed());
    }
    assert!(
        slowest < Duration::from_millis(500),
        "slowest health+status pair took {slowest:?}"
    );
    for id in &ids {
        server.delete(&format!("/jobs/{id}"));
    }
}
