//! Starts the real `zarrbench serve` binary on a free port with a temporary
//! data directory and talks to it over HTTP, for the `service_*` tests.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

/// A short job: 32^3 synthetic, fast profile, one repeat.
pub fn quick_job() -> Value {
    json!({"dataset_type": "synthetic", "shape": [32, 32, 32], "compression_profile": "fast", "repeats": 1})
}

/// A job of several seconds with many configuration boundaries.
pub fn long_job() -> Value {
    json!({"dataset_type": "synthetic", "shape": [128, 128, 128], "compression_profile": "balanced", "repeats": 2})
}

/// Environment variables of the service, cleared so the host's cannot leak in.
const SERVICE_ENV: [&str; 25] = [
    "BENCHMARK_HOST",
    "BENCHMARK_SERVER_PORT",
    "BENCHMARK_DATA_DIR",
    "BENCHMARK_MAX_JOBS",
    "BENCHMARK_MAX_QUEUED",
    "BENCHMARK_JOB_TIMEOUT",
    "BENCHMARK_MAX_VOLUME_BYTES",
    "BENCHMARK_DRAIN_TIMEOUT",
    "BENCHMARK_RETENTION_DAYS",
    "BENCHMARK_RETENTION_JOBS",
    "ZARRBENCH_TEST_PANIC_DATASET",
    "BENCHMARK_API_KEY",
    "BENCHMARK_API_KEY_FILE",
    "BENCHMARK_SUBMIT_RATE_LIMIT",
    "BENCHMARK_READ_RATE_LIMIT",
    "BENCHMARK_TRUSTED_PROXIES",
    "BENCHMARK_WEBHOOK_SECRET",
    "BENCHMARK_WEBHOOK_RETRY_SCHEDULE",
    "BENCHMARK_WEBHOOK_TIMEOUT",
    "BENCHMARK_WEBHOOK_ALLOW_PRIVATE",
    "BENCHMARK_PUBLIC_URL",
    "BENCHMARK_RESULT_CACHE",
    "BENCHMARK_LOG_FORMAT",
    "BENCHMARK_LOG_FILE",
    "BENCHMARK_LOG_LEVEL",
];

/// Settings every test server starts with unless the test sets them: no rate
/// limits (tests poll fast) and no result cache (tests expect real runs).
const TEST_DEFAULTS: [(&str, &str); 3] = [
    ("BENCHMARK_SUBMIT_RATE_LIMIT", "0"),
    ("BENCHMARK_READ_RATE_LIMIT", "0"),
    ("BENCHMARK_RESULT_CACHE", "0"),
];

/// A running server process.
pub struct Server {
    child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    client: Client,
}

impl Server {
    /// Starts a server on `data_dir` with extra flags and environment.
    pub fn start(data_dir: &Path, flags: &[&str], env: &[(&str, &str)]) -> Server {
        let log = data_dir.with_extension("log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_zarrbench"));
        command
            .args(["serve", "--host", "127.0.0.1", "--port", "0", "--data-dir"])
            .arg(data_dir)
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(log_file)
            .stdin(Stdio::null());
        for name in SERVICE_ENV {
            command.env_remove(name);
        }
        command.envs(TEST_DEFAULTS);
        command.envs(env.iter().copied());
        let mut child = command.spawn().expect("spawn zarrbench");

        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("zarrbench listening on ") {
                    let _ = sender.send(address.to_string());
                }
            }
        });
        let base = receiver
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "server did not start; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        Server {
            child,
            base,
            data_dir: data_dir.to_path_buf(),
            log,
            client: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn get(&self, path: &str) -> (StatusCode, Value) {
        read(self.client.get(self.url(path)).send().expect("GET"))
    }

    pub fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        read(
            self.client
                .post(self.url(path))
                .json(body)
                .send()
                .expect("POST"),
        )
    }

    pub fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::blocking::Body>,
    ) -> Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .expect("POST")
    }

    pub fn delete(&self, path: &str) -> (StatusCode, Value) {
        read(self.client.delete(self.url(path)).send().expect("DELETE"))
    }

    /// Submits a guide body and returns the job id.
    pub fn submit(&self, body: &Value) -> String {
        let (status, reply) = self.post("/benchmark", body);
        assert_eq!(status, StatusCode::CREATED, "{reply}");
        reply["job_id"].as_str().expect("job_id").to_string()
    }

    pub fn status(&self, id: &str) -> Value {
        let (status, reply) = self.get(&format!("/status/{id}"));
        assert_eq!(status, StatusCode::OK, "{reply}");
        reply
    }

    /// Polls a job until `done` holds for its status object.
    pub fn wait_for(&self, id: &str, timeout: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let status = self.status(id);
            if done(&status) {
                return status;
            }
            assert!(
                started.elapsed() < timeout,
                "job {id} still {status} after {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls a job until it reaches a final state.
    pub fn wait_final(&self, id: &str, timeout: Duration) -> Value {
        self.wait_for(id, timeout, |s| {
            matches!(
                s["status"].as_str(),
                Some("completed" | "failed" | "cancelled")
            )
        })
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        self.wait_exit(timeout)
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                started.elapsed() < timeout,
                "server did not exit within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no chance to write anything more.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Status and JSON body of a response; a body that is not JSON fails the test.
pub fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().expect("body");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{status}: body is not JSON: {text:?}"));
    (status, value)
}

/// Asserts the service's error shape and code.
pub fn assert_error(status: StatusCode, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status.as_u16(), expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
}

/// A fresh temporary directory kept for the test's life.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}
