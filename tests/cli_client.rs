//! The client commands (`submit`, `status`, `cancel`, `jobs`) against a real
//! service started as in the `service_*` tests.

mod service_support;

use std::process::{Command, Output};
use std::time::Duration;

use service_support::{Server, long_job, quick_job, temp_dir};

const KEY: &str = "client-key-0123456789abcdef";

/// The binary with the client's environment cleared, so the host's cannot leak in.
fn zarrbench(server: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zarrbench"));
    command
        .env_remove("BENCHMARK_API_KEY")
        .env("ZARRBENCH_SERVER", server);
    command
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const QUICK: [&str; 8] = [
    "--dataset",
    "synthetic",
    "--shape",
    "32,32,32",
    "--profile",
    "fast",
    "--repeats",
    "1",
];

#[test]
fn submit_wait_prints_the_same_table_as_run() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[("BENCHMARK_API_KEY", KEY)]);

    let output = zarrbench(&server.base)
        .args(["submit", "--wait"])
        .args(QUICK)
        .env("BENCHMARK_API_KEY", KEY)
        .output()
        .expect("run zarrbench submit");
    let table = stdout(&output);

    assert!(table.starts_with("synthetic 32x32x32 uint16"), "{table}");
    assert!(table.contains("configuration"));
    assert!(table.contains("recommendations:"));
    assert!(table.contains("  fast "), "{table}");
}

#[test]
fn submit_without_the_key_exits_non_zero_with_the_service_error() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[("BENCHMARK_API_KEY", KEY)]);

    let output = zarrbench(&server.base)
        .arg("submit")
        .args(QUICK)
        .output()
        .expect("run zarrbench submit");

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("HTTP 401"), "{stderr}");
}

#[test]
fn submit_status_jobs_and_cancel_work_together() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &["--max-jobs", "1"], &[]);
    let running = server.submit(&long_job());

    let output = zarrbench(&server.base)
        .arg("submit")
        .args(QUICK)
        .output()
        .expect("run zarrbench submit");
    let pending = stdout(&output).trim().to_string();
    assert_eq!(pending.len(), 36, "{pending}");

    let status = stdout(
        &zarrbench(&server.base)
            .args(["status", &pending])
            .output()
            .expect("status"),
    );
    assert!(
        status.starts_with(&format!("job {pending}: pending")),
        "{status}"
    );

    let listed = stdout(
        &zarrbench(&server.base)
            .args(["jobs", "--status", "pending", "--limit", "5"])
            .output()
            .expect("jobs"),
    );
    assert!(listed.contains(&pending), "{listed}");
    assert!(!listed.contains(&running), "{listed}");

    let cancelled = stdout(
        &zarrbench(&server.base)
            .args(["cancel", &pending])
            .output()
            .expect("cancel"),
    );
    assert!(cancelled.contains("cancelled"), "{cancelled}");
    let status = server.status(&pending);
    assert_eq!(status["status"], "cancelled");

    let again = zarrbench(&server.base)
        .args(["cancel", &pending])
        .output()
        .expect("cancel again");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("HTTP 409"));

    server.delete(&format!("/jobs/{running}"));
}

#[test]
fn submit_wait_on_a_cancelled_job_exits_non_zero() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &["--max-jobs", "1"], &[]);
    let running = server.submit(&long_job());

    let waiting = zarrbench(&server.base)
        .args(["submit", "--wait"])
        .args(QUICK)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn zarrbench submit");
    let pending = server.wait_for_pending_other_than(&running, Duration::from_secs(30));
    server.delete(&format!("/jobs/{pending}"));
    let output = waiting.wait_with_output().expect("wait");

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("was cancelled"), "{stderr}");
    server.delete(&format!("/jobs/{running}"));
}

#[test]
fn jobs_pages_with_offset_and_names_the_next_page() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let submitted: Vec<String> = (0..3).map(|_| server.submit(&quick_job())).collect();

    let first = stdout(
        &zarrbench(&server.base)
            .args(["jobs", "--limit", "2"])
            .output()
            .expect("jobs"),
    );
    let second = stdout(
        &zarrbench(&server.base)
            .args(["jobs", "--limit", "2", "--offset", "2"])
            .output()
            .expect("jobs --offset"),
    );

    let listed = |page: &str| -> Vec<String> {
        submitted
            .iter()
            .filter(|id| page.contains(id.as_str()))
            .cloned()
            .collect()
    };
    assert_eq!(listed(&first).len(), 2, "{first}");
    assert_eq!(listed(&second).len(), 1, "{second}");
    assert!(
        !listed(&first).contains(&listed(&second)[0]),
        "the pages overlap:\n{first}\n{second}"
    );
    assert!(first.contains("jobs 1 to 2 of 3"), "{first}");
    assert!(
        first.contains("next page: zarrbench jobs --offset 2 --limit 2"),
        "{first}"
    );
    assert!(second.contains("jobs 3 to 3 of 3"), "{second}");
    assert!(!second.contains("next page"), "{second}");

    let beyond = stdout(
        &zarrbench(&server.base)
            .args(["jobs", "--offset", "3"])
            .output()
            .expect("jobs --offset past the end"),
    );
    assert_eq!(beyond.trim(), "no jobs at offset 3; there are 3");
}

#[test]
fn an_unreachable_server_is_one_line_and_a_non_zero_exit() {
    let output = zarrbench("http://127.0.0.1:1")
        .args(["status", "00000000-0000-4000-8000-000000000000"])
        .output()
        .expect("run zarrbench status");

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot reach the service"), "{stderr}");
}

trait PendingJob {
    fn wait_for_pending_other_than(&self, running: &str, timeout: Duration) -> String;
}

impl PendingJob for Server {
    /// The id of the first pending job that is not `running`.
    fn wait_for_pending_other_than(&self, running: &str, timeout: Duration) -> String {
        let started = std::time::Instant::now();
        loop {
            let (_, page) = self.get("/jobs?status=pending");
            let found = page["jobs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|job| job["job_id"].as_str())
                .find(|id| *id != running);
            if let Some(id) = found {
                return id.to_string();
            }
            assert!(started.elapsed() < timeout, "no pending job appeared");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn submit_input_benchmarks_a_file_in_the_services_data_directory() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    // A Zarr array inside the data directory, written by `zarrbench run --keep`.
    let kept = data.join("arrays");
    let status = Command::new(env!("CARGO_BIN_EXE_zarrbench"))
        .args(["run", "--dataset", "sem", "--shape", "8,32,32"])
        .args(["--codecs", "none", "--repeats", "1", "--format", "json"])
        .arg("--keep")
        .arg(&kept)
        .output()
        .expect("run zarrbench run");
    stdout(&status);
    let server = Server::start(&data, &[], &[]);

    let output = zarrbench(&server.base)
        .args(["submit", "--wait", "--format", "json"])
        .args(["--input", "arrays/source.zarr", "--dataset", "sem"])
        .args(["--region-start", "0,8,8", "--region-size", "4,16,16"])
        .args(["--codecs", "zstd_3", "--repeats", "1"])
        .output()
        .expect("run zarrbench submit");
    let result: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(result["dataset"]["source"], "arrays/source.zarr");
    assert_eq!(result["dataset"]["format"], "zarr");
    assert_eq!(result["dataset"]["shape"], serde_json::json!([4, 16, 16]));
    assert_eq!(result["dataset"]["dtype"], "uint8");

    // The path is the service's, not the client's: one outside is refused.
    let output = zarrbench(&server.base)
        .args([
            "submit",
            "--input",
            "../arrays/source.zarr",
            "--codecs",
            "zstd_3",
        ])
        .output()
        .expect("run zarrbench submit");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(".."), "{stderr}");
}
