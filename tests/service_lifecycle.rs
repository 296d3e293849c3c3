//! Start-up, persistence and shutdown: bad data directories, restart after
//! `kill -9`, drain on SIGTERM.

mod service_support;

use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use service_support::{Server, assert_error, long_job, quick_job, temp_dir};

const JOB_TIMEOUT: Duration = Duration::from_secs(90);

#[test]
fn an_unusable_data_dir_stops_start_up_with_one_line() {
    let dir = temp_dir();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_zarrbench"))
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not a directory"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn environment_settings_apply_and_flags_win_over_them() {
    let dir = temp_dir();
    let env = [("BENCHMARK_MAX_JOBS", "1"), ("BENCHMARK_MAX_QUEUED", "7")];
    let server = Server::start(&dir.path().join("data"), &["--max-queued", "3"], &env);
    let (_, health) = server.get("/health");
    assert_eq!(health["workers"]["max"], 1, "{health}");
    assert_eq!(health["queue"]["max"], 3, "{health}");
}

#[test]
fn an_acknowledged_job_survives_kill_9_and_runs_after_restart() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    let mut server = Server::start(&data, &["--max-jobs", "1"], &[]);
    let running = server.submit(&long_job());
    let pending = server.submit(&quick_job());
    server.wait_for(&running, JOB_TIMEOUT, |s| s["status"] == "running");
    server.kill9();

    let server = Server::start(&data, &["--max-jobs", "1"], &[]);
    let (status, _) = server.get(&format!("/status/{running}"));
    assert_eq!(status, StatusCode::OK);
    let requeued = server.wait_final(&running, JOB_TIMEOUT);
    assert_eq!(requeued["status"], "completed", "{requeued}");
    assert_eq!(
        server.wait_final(&pending, JOB_TIMEOUT)["status"],
        "completed"
    );

    let (_, page) = server.get("/jobs?status=completed");
    let attempts = page["jobs"]
        .as_array()
        .and_then(|jobs| jobs.iter().find(|j| j["job_id"] == running.as_str()))
        .map(|j| j["attempts"].clone());
    assert_eq!(attempts, Some(json!(2)), "{page}");
}

#[test]
fn a_job_interrupted_twice_is_failed_as_interrupted() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    let mut server = Server::start(&data, &[], &[]);
    let id = server.submit(&long_job());
    for _ in 0..2 {
        server.wait_for(&id, JOB_TIMEOUT, |s| s["status"] == "running");
        server.kill9();
        server = Server::start(&data, &[], &[]);
    }
    let done = server.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(done["status"], "failed", "{done}");
    assert!(
        done["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("interrupted")),
        "{done}"
    );
}

#[test]
fn sigterm_drains_running_jobs_refuses_new_ones_and_exits_0() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    let mut server = Server::start(&data, &["--max-jobs", "1"], &[]);
    let running = server.submit(&long_job());
    let pending = server.submit(&quick_job());
    server.wait_for(&running, JOB_TIMEOUT, |s| s["status"] == "running");

    let pid = server.pid().to_string();
    let signal = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(signal.success());
    std::thread::sleep(Duration::from_millis(300));
    let (status, health) = server.get("/health");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
    assert_eq!(health["status"], "draining");
    let (status, reply) = server.post("/benchmark", &quick_job());
    assert_error(status, &reply, 503, "shutting-down");

    let exit = server.wait_exit(JOB_TIMEOUT);
    assert!(exit.success(), "exit status {exit:?}");

    let server = Server::start(&data, &["--max-jobs", "1"], &[]);
    assert_eq!(server.status(&running)["status"], "completed");
    assert_eq!(
        server.wait_final(&pending, JOB_TIMEOUT)["status"],
        "completed"
    );
}

#[test]
fn jobs_still_running_at_the_drain_timeout_are_recorded_as_interrupted() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    let mut server = Server::start(&data, &["--drain-timeout", "1"], &[]);
    let id = server.submit(&long_job());
    server.wait_for(&id, JOB_TIMEOUT, |s| s["status"] == "running");

    let exit = server.terminate(Duration::from_secs(30));
    assert!(exit.success(), "exit status {exit:?}");

    let server = Server::start(&data, &[], &[]);
    let done = server.status(&id);
    assert_eq!(done["status"], "failed", "{done}");
    assert!(
        done["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("interrupted")),
        "{done}"
    );
}
