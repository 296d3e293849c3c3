//! The scripts in `examples/` run against a real service, so they cannot drift
//! from the API they show: the Python pipeline client end to end, on an
//! invalid request and through a rate limit; the curl walk-through from
//! health check to cancellation; and the webhook receiver verifying a real
//! signed callback and refusing forged, replayed and stale deliveries.
//!
//! The scripts need python3 with `requests`, bash and curl. A missing tool
//! fails the test, saying what to install; it is never skipped.

mod service_support;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use service_support::{Server, quick_job, temp_dir};
use sha2::Sha256;

const KEY: &str = "examples-key-0123456789abcdef";
/// Longest any example may take here; each finishes in seconds.
const TIMEOUT: Duration = Duration::from_secs(120);

fn example(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Fails the test, saying what to install, unless `program args` succeeds.
fn require(program: &str, args: &[&str], install: &str) {
    let found = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        found,
        "the examples need {program} (`{program} {}` failed): {install}",
        args.join(" ")
    );
}

fn require_python_with_requests() {
    require(
        "python3",
        &["-c", "import requests"],
        "install python3 and `pip install requests` (.ci/run installs it)",
    );
}

/// One stream of a child's output, collected line by line as it comes.
type Lines = Arc<Mutex<Vec<String>>>;

/// A child process in its own process group; dropping the guard while the
/// child runs kills the whole group, so a failed assertion leaves no script,
/// and no curl the script started, behind.
struct Spawned {
    child: Child,
    stdout: Lines,
    stderr: Lines,
    readers: Vec<JoinHandle<()>>,
}

/// How a child ended and everything it printed.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn assert_success(&self) {
        assert!(
            self.status.success(),
            "exit {:?}\nstdout:\n{}\nstderr:\n{}",
            self.status.code(),
            self.stdout,
            self.stderr
        );
    }
}

impl Spawned {
    fn start(command: &mut Command) -> Spawned {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let (stdout, stdout_reader) = collect(child.stdout.take().expect("stdout"));
        let (stderr, stderr_reader) = collect(child.stderr.take().expect("stderr"));
        Spawned {
            child,
            stdout,
            stderr,
            readers: vec![stdout_reader, stderr_reader],
        }
    }

    fn stdout_lines(&self) -> Vec<String> {
        self.stdout.lock().expect("lock").clone()
    }

    fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().expect("lock").clone()
    }

    /// The first line of `lines` that `wanted` accepts, waiting for it.
    fn wait_for_line(
        &self,
        lines: &Lines,
        timeout: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> String {
        let started = Instant::now();
        loop {
            let found = lines
                .lock()
                .expect("lock")
                .iter()
                .find(|line| wanted(line))
                .cloned();
            if let Some(line) = found {
                return line;
            }
            assert!(
                started.elapsed() < timeout,
                "no expected line after {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                self.stdout_lines().join("\n"),
                self.stderr_lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the child to exit (killing it after `timeout`) and returns
    /// what it printed.
    fn finish(&mut self, timeout: Duration) -> Finished {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if started.elapsed() > timeout {
                self.kill_group();
                panic!(
                    "still running after {timeout:?}, killed\nstdout:\n{}\nstderr:\n{}",
                    self.stdout_lines().join("\n"),
                    self.stderr_lines().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        Finished {
            status,
            stdout: self.stdout_lines().join("\n"),
            stderr: self.stderr_lines().join("\n"),
        }
    }

    /// Kills the child's process group. Only while the child is unreaped:
    /// until then its id is still the group's and cannot name another one.
    fn kill_group(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill_group();
        }
    }
}

/// Reads `stream` line by line into a shared list until it closes.
fn collect(stream: impl Read + Send + 'static) -> (Lines, JoinHandle<()>) {
    let lines: Lines = Arc::default();
    let sink = lines.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            sink.lock().expect("lock").push(line);
        }
    });
    (lines, reader)
}

fn pipeline_client(server: &Server, args: &[&str]) -> Command {
    let mut command = Command::new("python3");
    command
        .arg(example("example_pipeline_client.py"))
        .args(["--server", &server.base, "--poll-interval", "0.1"])
        .args(["--timeout", "100"])
        .args(args)
        .env_remove("BENCHMARK_API_KEY");
    command
}

const SMALL_JOB: [&str; 6] = [
    "--dataset",
    "synthetic",
    "--shape",
    "32,32,32",
    "--profile",
    "fast",
];

/// The job id the client printed on stdout.
fn submitted_job_id(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("Job submitted: "))
        .unwrap_or_else(|| panic!("no 'Job submitted' line:\n{stdout}"))
        .trim()
        .to_string()
}

/// Asserts that the client printed the service's recommendation for every
/// profile of the job, and its best configuration.
fn assert_printed_recommendations(server: &Server, stdout: &str) {
    let job_id = submitted_job_id(stdout);
    let status = get_with_key(server, &format!("/status/{job_id}"));
    assert_eq!(status["status"], "completed", "{status}");
    let recommendations = status["results"]["recommendations"]
        .as_object()
        .expect("recommendations");
    assert!(!recommendations.is_empty(), "{status}");
    for (profile, pick) in recommendations {
        let printed = stdout.lines().find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some(profile.as_str())).then(|| words.next())
        });
        assert_eq!(
            printed.flatten(),
            pick.as_str(),
            "recommendation for {profile}:\n{stdout}"
        );
    }
    let best = status["results"]["best_compression"]["config_id"]
        .as_str()
        .expect("best_compression");
    assert!(
        stdout.contains(&format!("Best compression: {best} (")),
        "{stdout}"
    );
}

/// A JSON answer from a server that may require [`KEY`].
fn get_with_key(server: &Server, path: &str) -> Value {
    let response = server
        .client()
        .get(server.url(path))
        .bearer_auth(KEY)
        .send()
        .expect("GET");
    let (status, body) = service_support::read(response);
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

#[test]
fn pipeline_client_runs_a_job_and_prints_its_recommendations() {
    require_python_with_requests();
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[("BENCHMARK_API_KEY", KEY)]);

    let finished = Spawned::start(
        pipeline_client(&server, &SMALL_JOB).env("BENCHMARK_API_KEY", format!("{KEY},other")),
    )
    .finish(TIMEOUT);

    finished.assert_success();
    assert!(finished.stdout.contains("Recommendations:"));
    assert_printed_recommendations(&server, &finished.stdout);
}

#[test]
fn pipeline_client_prints_the_error_code_and_exits_non_zero_when_refused() {
    require_python_with_requests();
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[("BENCHMARK_API_KEY", KEY)]);
    let cases: [(&[&str], &str); 2] = [
        (
            &[
                "--api-key",
                KEY,
                "--dataset",
                "hologram",
                "--shape",
                "32,32,32",
            ],
            "error: invalid-dataset-type: unknown dataset_type 'hologram'",
        ),
        (&SMALL_JOB, "error: unauthorized: "),
    ];

    for (args, expected) in cases {
        let finished = Spawned::start(&mut pipeline_client(&server, args)).finish(TIMEOUT);

        assert_eq!(
            finished.status.code(),
            Some(2),
            "{args:?}\n{}",
            finished.stderr
        );
        assert!(
            finished.stderr.contains(expected),
            "{args:?}: expected {expected:?} in\n{}",
            finished.stderr
        );
        assert!(!finished.stdout.contains("Job submitted"), "{args:?}");
    }
    let page = get_with_key(&server, "/jobs");
    assert_eq!(page["total"], 0, "no job was created: {page}");
}

#[test]
fn pipeline_client_waits_out_a_rate_limit_and_then_submits() {
    require_python_with_requests();
    let dir = temp_dir();
    // 20 submissions a minute: one token every 3 s once the bucket is empty.
    let server = Server::start(
        &dir.path().join("data"),
        &[],
        &[("BENCHMARK_SUBMIT_RATE_LIMIT", "20")],
    );
    drain_submission_bucket(&server);

    let finished = Spawned::start(&mut pipeline_client(&server, &SMALL_JOB)).finish(TIMEOUT);

    finished.assert_success();
    assert!(
        finished
            .stderr
            .contains("service busy (rate-limited); retrying in"),
        "{}",
        finished.stderr
    );
    assert_printed_recommendations(&server, &finished.stdout);
}

/// Sends empty submissions (refused as invalid, but counted) until the
/// service answers 429.
fn drain_submission_bucket(server: &Server) {
    for _ in 0..100 {
        let (status, _) = server.post("/benchmark", &json!({}));
        if status == StatusCode::TOO_MANY_REQUESTS {
            return;
        }
    }
    panic!("100 submissions did not reach the rate limit");
}

#[test]
fn curl_walkthrough_runs_from_health_check_to_cancellation() {
    require("bash", &["--version"], "install bash");
    require("curl", &["--version"], "install curl");
    require("python3", &["--version"], "install python3");
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[("BENCHMARK_API_KEY", KEY)]);
    let files = dir.path().join("walkthrough");

    let finished = Spawned::start(
        Command::new("bash")
            .arg(example("curl_walkthrough.sh"))
            .env("ZARRBENCH_URL", &server.base)
            .env("BENCHMARK_API_KEY", KEY)
            .env("WALKTHROUGH_DIR", &files)
            .env("WALKTHROUGH_SHAPE", "32, 32, 32")
            .env("WALKTHROUGH_PROFILE", "fast")
            .env("WALKTHROUGH_LONG_SHAPE", "64, 64, 64")
            .env("WALKTHROUGH_TIMEOUT", "100"),
    )
    .finish(TIMEOUT);

    finished.assert_success();
    let out = &finished.stdout;
    for expected in [
        "GET /health -> HTTP 200",
        "POST /benchmark -> HTTP 201",
        "status: completed",
        "recommendations: {",
        "code: invalid-dataset-type",
        "walk-through finished",
    ] {
        assert!(out.contains(expected), "expected {expected:?} in\n{out}");
    }
    assert!(
        out.lines().any(|l| l.starts_with("DELETE /jobs/")
            && (l.ends_with("HTTP 200") || l.ends_with("HTTP 202"))),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("job ") && l.ends_with(" cancelled")),
        "{out}"
    );
    assert_walkthrough_files(&files);
}

fn assert_walkthrough_files(files: &Path) {
    let read = |name: &str| {
        std::fs::read_to_string(files.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let results: Value = serde_json::from_str(&read("results.json")).expect("results.json");
    assert!(results["recommendations"]["fast"].is_string(), "{results}");
    assert!(read("results.csv").starts_with("config_id,"));
    assert!(read("report.svg").contains("<svg"));
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the
/// decoded secret: the signature a receiver must accept.
fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key = STANDARD
        .decode(secret.trim().trim_start_matches("whsec_"))
        .expect("secret is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Posts a delivery to the receiver and returns its status code.
fn deliver(url: &str, id: &str, timestamp: i64, signature: &str, body: &str) -> u16 {
    reqwest::blocking::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_string())
        .send()
        .expect("POST to the receiver")
        .status()
        .as_u16()
}

fn event_for(job_id: &str) -> String {
    json!({
        "type": "benchmark.failed",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "data": {"job_id": job_id, "status": "failed", "error": "made up by the test"},
    })
    .to_string()
}

#[test]
fn webhook_receiver_prints_verified_deliveries_and_refuses_forged_replayed_and_stale_ones() {
    require("python3", &["--version"], "install python3");
    let dir = temp_dir();
    let data = dir.path().join("data");
    let server = Server::start(&data, &[], &[("BENCHMARK_WEBHOOK_ALLOW_PRIVATE", "1")]);
    let secret_file = data.join("webhook-secret");
    let receiver = Spawned::start(
        Command::new("python3")
            .arg(example("webhook_receiver.py"))
            .arg("--secret-file")
            .arg(&secret_file)
            .args(["--port", "0"])
            .env_remove("BENCHMARK_WEBHOOK_SECRET"),
    );
    let listening = receiver.wait_for_line(&receiver.stderr, TIMEOUT, |line| {
        line.starts_with("listening on ")
    });
    let url = listening.trim_start_matches("listening on ").to_string();

    // A real job's signed callback is printed and acknowledged.
    let mut job = quick_job();
    job["callback_url"] = json!(format!("{url}hook"));
    let job_id = server.submit(&job);
    let line = receiver.wait_for_line(&receiver.stdout, TIMEOUT, |l| l.contains(&job_id));
    let printed: Value = serde_json::from_str(&line).expect("one JSON line per delivery");
    let status = server.status(&job_id);
    assert_eq!(printed["type"], "benchmark.completed", "{printed}");
    assert_eq!(printed["status"], "completed", "{printed}");
    assert_eq!(
        printed["recommendations"], status["results"]["recommendations"],
        "{printed}"
    );
    assert_eq!(delivered_status_code(&server, &job_id), json!(204));

    let secret = std::fs::read_to_string(&secret_file).expect("the service's secret");
    let now = chrono::Utc::now().timestamp();
    let body = event_for("test-job");
    let signature = sign(&secret, "msg_test", now, &body);
    let wrong_key = "whsec_ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

    // Forged, then genuine, then replayed, stale and retried deliveries.
    let forged = sign(wrong_key, "msg_test", now, &body);
    assert_eq!(deliver(&url, "msg_test", now, &forged, &body), 401);
    let tampered = body.replace("failed", "completed");
    assert_eq!(deliver(&url, "msg_test", now, &signature, &tampered), 401);
    assert_eq!(deliver(&url, "msg_test", now, &signature, &body), 204);
    assert_eq!(deliver(&url, "msg_test", now, &signature, &body), 401);
    let stale = now - 600;
    let stale_signature = sign(&secret, "msg_stale", stale, &body);
    assert_eq!(
        deliver(&url, "msg_stale", stale, &stale_signature, &body),
        401
    );
    let retry_signature = sign(&secret, "msg_test", now + 1, &body);
    assert_eq!(
        deliver(&url, "msg_test", now + 1, &retry_signature, &body),
        204,
        "a later attempt of an accepted delivery is acknowledged"
    );

    // Output is in order: once this last delivery is printed, every line
    // before it is there too.
    let marker = event_for("marker-job");
    let marker_signature = sign(&secret, "msg_marker", now, &marker);
    assert_eq!(
        deliver(&url, "msg_marker", now, &marker_signature, &marker),
        204
    );
    receiver.wait_for_line(&receiver.stdout, TIMEOUT, |l| l.contains("marker-job"));
    let printed_test_job = receiver
        .stdout_lines()
        .iter()
        .filter(|l| l.contains("test-job"))
        .count();
    assert_eq!(
        printed_test_job,
        1,
        "only the first verified delivery is printed:\n{}",
        receiver.stdout_lines().join("\n")
    );
    let refusals = receiver
        .stderr_lines()
        .iter()
        .filter(|l| l.starts_with("refused: "))
        .count();
    assert_eq!(refusals, 4, "{}", receiver.stderr_lines().join("\n"));
}

/// The status code the receiver answered the service's delivery with.
fn delivered_status_code(server: &Server, job_id: &str) -> Value {
    let started = Instant::now();
    loop {
        let (status, reply) = server.get(&format!("/jobs/{job_id}/deliveries"));
        assert_eq!(status, StatusCode::OK, "{reply}");
        let delivery = &reply["deliveries"][0];
        if delivery["state"] == "delivered" {
            return delivery["attempts"][0]["status_code"].clone();
        }
        assert!(started.elapsed() < TIMEOUT, "not delivered: {reply}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
