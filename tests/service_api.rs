//! The HTTP contract: the guide's walk-through, both submission forms, every
//! validation error class and the JSON error shape of every route.

mod service_support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use service_support::{Server, assert_error, quick_job, read, temp_dir};

const JOB_TIMEOUT: Duration = Duration::from_secs(60);

fn is_utc_timestamp(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|t| t.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(t).is_ok())
}

#[test]
fn guide_walkthrough_submits_polls_to_completed_and_reports_health() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);

    let response = server
        .client()
        .post(server.url("/benchmark"))
        .header("content-type", "application/json")
        .body(r#"{"dataset_type": "synthetic", "shape": [32, 32, 32], "compression_profile": "fast"}"#)
        .send()
        .expect("submit");
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap_or("").to_string());
    let (status, reply) = read(response);
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(reply["status"], "pending");
    assert_eq!(reply["message"], "Benchmark job queued successfully");
    let id = reply["job_id"].as_str().expect("job_id");
    assert_eq!(location.as_deref(), Some(format!("/status/{id}").as_str()));

    let done = server.wait_final(id, JOB_TIMEOUT);
    assert_eq!(done["status"], "completed", "{done}");
    for field in [
        "job_id",
        "status",
        "submitted_at",
        "started_at",
        "completed_at",
        "results",
        "error",
        "progress",
    ] {
        assert!(done.get(field).is_some(), "missing {field}: {done}");
    }
    for field in ["submitted_at", "started_at", "completed_at"] {
        assert!(is_utc_timestamp(&done[field]), "{field}: {}", done[field]);
    }
    assert!(done["error"].is_null());
    assert_eq!(done["progress"]["done"], done["progress"]["total"]);
    let results = &done["results"];
    assert!(results["recommendations"]["fast"].is_string(), "{results}");
    assert!(
        results["best_compression"]["ratio"].is_number(),
        "{results}"
    );
    assert!(
        results["environment"]["concurrent_jobs"].is_number(),
        "{results}"
    );

    let (status, health) = server.get("/health");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["jobs"]["completed"], 1);
    for state in ["pending", "running", "failed", "cancelled"] {
        assert_eq!(health["jobs"][state], 0, "{health}");
    }
    assert!(health["workers"]["max"].as_u64().is_some_and(|n| n >= 1));
}

#[test]
fn a_pending_status_has_null_timestamps_until_reached() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &["--max-jobs", "1"], &[]);
    let first = server.submit(&service_support::long_job());
    let second = server.submit(&quick_job());

    let pending = server.status(&second);
    assert_eq!(pending["status"], "pending", "{pending}");
    assert!(is_utc_timestamp(&pending["submitted_at"]));
    for field in ["started_at", "completed_at", "results", "error"] {
        assert!(pending[field].is_null(), "{field}: {pending}");
    }
    server.delete(&format!("/jobs/{first}"));
}

#[test]
fn legacy_webhook_body_is_accepted_with_202_and_status_url() {
    let dir = temp_dir();
    // The callback is on loopback, which the SSRF guard refuses by default.
    let allow_private = [("BENCHMARK_WEBHOOK_ALLOW_PRIVATE", "1")];
    let server = Server::start(&dir.path().join("data"), &[], &allow_private);
    let body = json!({
        "dataset": {"type": "synthetic", "shape": [16, 16, 16], "name": "tiny", "dtype": "uint16", "voxel_size": [1.0, 1.0, 1.0]},
        "benchmark": {"codecs": ["blosc_zstd", "blosc_lz4"], "chunk_sizes": [[8, 8, 8]], "compression_profile": "fast", "num_runs": 1},
        "callback_url": "http://127.0.0.1:9/hook"
    });
    let (status, reply) = server.post("/webhook/benchmark", &body);
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    assert_eq!(reply["status"], "accepted");
    assert!(reply["message"].is_string());
    let id = reply["job_id"].as_str().expect("job_id");
    let status_url = reply["status_url"].as_str().expect("status_url");
    assert_eq!(status_url, format!("/status/{id}"));

    let done = server.wait_final(id, JOB_TIMEOUT);
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["results"]["repeats"], 1);
    let (_, via_url) = server.get(status_url);
    assert_eq!(via_url["job_id"], id);
}

#[test]
fn every_invalid_body_is_refused_at_submission_with_its_code() {
    let dir = temp_dir();
    let server = Server::start(
        &dir.path().join("data"),
        &["--max-volume-bytes", "1000000"],
        &[],
    );
    let cases = [
        (
            json!({"dataset_type": "xray", "shape": [8]}),
            "invalid-dataset-type",
        ),
        (json!({"shape": [8]}), "missing-field"),
        (json!({"dataset_type": "sem"}), "missing-field"),
        (json!({"dataset_type": "sem", "shape": []}), "invalid-shape"),
        (
            json!({"dataset_type": "sem", "shape": [1, 1, 1, 1, 1, 1]}),
            "invalid-shape",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8, 0]}),
            "invalid-shape",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8, -1]}),
            "invalid-type",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8, 2.5]}),
            "invalid-type",
        ),
        (
            json!({"dataset_type": "sem", "shape": "8x8"}),
            "invalid-type",
        ),
        (json!({"dataset_type": 3, "shape": [8]}), "invalid-type"),
        (
            json!({"dataset_type": "sem", "shape": [8, 8], "voxel_size": [1.0]}),
            "invalid-voxel-size",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8, 8], "voxel_size": [1.0, 0.0]}),
            "invalid-voxel-size",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8, 8], "chunk_sizes": [[4]]}),
            "invalid-chunk-sizes",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8, 8], "chunk_sizes": [[4, 0]]}),
            "invalid-chunk-sizes",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8], "custom_codecs": ["lzma"]}),
            "invalid-codec",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8], "custom_codecs": ["zstd_99"]}),
            "invalid-codec",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8], "compression_profile": "tiny"}),
            "invalid-profile",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8], "dtype": "complex64"}),
            "invalid-dtype",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8], "store": "s3"}),
            "invalid-store",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8], "repeats": 0}),
            "invalid-repeats",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8], "threads": 0}),
            "invalid-threads",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8], "callback_url": "not a url"}),
            "invalid-callback-url",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8], "extra": true}),
            "unknown-field",
        ),
        (
            json!({"dataset_type": "sem", "shape": [2000, 2000]}),
            "volume-too-large",
        ),
        (json!([1, 2]), "invalid-type"),
    ];
    for (body, code) in cases {
        let (status, reply) = server.post("/benchmark", &body);
        assert_error(status, &reply, 400, code);
    }

    let (status, reply) = server.post(
        "/benchmark",
        &json!({"dataset_type": "sem", "shape": [8], "colour": 1}),
    );
    assert_error(status, &reply, 400, "unknown-field");
    assert!(
        reply["error"]
            .as_str()
            .is_some_and(|e| e.contains("colour")),
        "{reply}"
    );

    let (status, reply) = server.post(
        "/benchmark",
        &json!({"dataset_type": "sem", "shape": [2000, 2000]}),
    );
    assert_error(status, &reply, 400, "volume-too-large");
    assert!(
        reply["error"]
            .as_str()
            .is_some_and(|e| e.contains("4000000 bytes")),
        "{reply}"
    );

    let (_, health) = server.get("/health");
    assert_eq!(
        health["jobs"]["pending"].as_u64().unwrap_or(99)
            + health["jobs"]["completed"].as_u64().unwrap_or(99),
        0
    );
}

#[test]
fn legacy_bodies_are_validated_like_guide_bodies() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let cases = [
        (
            json!({"dataset": {"type": "nope", "shape": [8]}}),
            "invalid-dataset-type",
        ),
        (json!({"dataset": {"type": "sem"}}), "missing-field"),
        (
            json!({"dataset": {"type": "sem", "shape": [8]}, "benchmark": {"codecs": ["snappy"]}}),
            "invalid-codec",
        ),
        (
            json!({"dataset": {"type": "sem", "shape": [8]}, "benchmark": {"num_runs": 0}}),
            "invalid-repeats",
        ),
        (
            json!({"dataset": {"type": "sem", "shape": [8], "size": 3}}),
            "unknown-field",
        ),
        (
            json!({"dataset_type": "sem", "shape": [8]}),
            "unknown-field",
        ),
    ];
    for (body, code) in cases {
        let (status, reply) = server.post("/webhook/benchmark", &body);
        assert_error(status, &reply, 400, code);
    }
}

#[test]
fn payload_errors_are_json_with_the_right_status() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);

    let (status, reply) = read(server.post_raw("/benchmark", "application/json", "{not json"));
    assert_error(status, &reply, 400, "invalid-json");
    let (status, reply) = read(server.post_raw("/benchmark", "application/json", ""));
    assert_error(status, &reply, 400, "invalid-json");
    let (status, reply) = read(server.post_raw(
        "/benchmark",
        "text/plain",
        r#"{"dataset_type":"sem","shape":[8]}"#,
    ));
    assert_error(status, &reply, 415, "unsupported-media-type");
    let big = format!(
        r#"{{"dataset_type":"sem","shape":[8],"callback_url":"http://x/{}"}}"#,
        "a".repeat(70_000)
    );
    let (status, reply) = read(server.post_raw("/benchmark", "application/json", big));
    assert_error(status, &reply, 413, "payload-too-large");
}

#[test]
fn routes_paths_methods_and_queries_answer_json_errors() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);

    let (status, reply) = server.get("/no/such/route");
    assert_error(status, &reply, 404, "route-not-found");
    let (status, reply) = server.get("/status/not-a-uuid");
    assert_error(status, &reply, 400, "invalid-path");
    let (status, reply) = server.get("/status/00000000-0000-4000-8000-000000000000");
    assert_error(status, &reply, 404, "job-not-found");
    let (status, reply) = server.delete("/jobs/00000000-0000-4000-8000-000000000000");
    assert_error(status, &reply, 404, "job-not-found");
    let (status, reply) = server.delete("/health");
    assert_error(status, &reply, 405, "method-not-allowed");
    let (status, reply) = read(
        server
            .client()
            .get(server.url("/benchmark"))
            .send()
            .expect("GET"),
    );
    assert_error(status, &reply, 405, "method-not-allowed");
    for query in ["?limit=0", "?limit=abc", "?status=done", "?offset=-1"] {
        let (status, reply) = server.get(&format!("/jobs{query}"));
        assert_error(status, &reply, 400, "invalid-query");
    }
}

#[test]
fn jobs_are_listed_newest_first_filtered_and_paged_without_results() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let ids: Vec<String> = (0..3).map(|_| server.submit(&quick_job())).collect();
    for id in &ids {
        server.wait_final(id, JOB_TIMEOUT);
    }

    let (status, page) = server.get("/jobs?limit=2&offset=0");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 3);
    let listed: Vec<&str> = page["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["job_id"].as_str())
        .collect();
    assert_eq!(listed, vec![ids[2].as_str(), ids[1].as_str()]);
    assert!(page["jobs"][0].get("results").is_none());

    let (_, rest) = server.get("/jobs?limit=2&offset=2");
    assert_eq!(rest["jobs"][0]["job_id"], ids[0].as_str());
    let (_, completed) = server.get("/jobs?status=completed");
    assert_eq!(completed["total"], 3);
    let (_, failed) = server.get("/jobs?status=failed");
    assert_eq!(failed["total"], 0);
}

#[test]
fn root_and_openapi_describe_every_route() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let (status, root) = server.get("/");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(root["service"], "zarrbench");
    assert!(root["endpoints"].as_array().is_some_and(|e| e.len() >= 8));

    let (status, document) = server.get("/openapi.json");
    assert_eq!(status, StatusCode::OK);
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with('3'))
    );
    for path in [
        "/",
        "/health",
        "/benchmark",
        "/webhook/benchmark",
        "/status/{job_id}",
        "/jobs",
        "/jobs/{job_id}",
        "/openapi.json",
    ] {
        assert!(
            document["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    assert!(document["components"]["schemas"].get("ErrorBody").is_some());
}

#[test]
fn the_guides_python_client_works_unchanged() {
    let python_has_requests = std::process::Command::new("python3")
        .args(["-c", "import requests"])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        python_has_requests,
        "this test runs the guide's client, which needs python3 with requests \
         (pip install requests; .ci/run installs it)"
    );
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/service_support/guide_client.py"
    );
    let output = std::process::Command::new("python3")
        .args([script, &server.base])
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let recommendations: Value = serde_json::from_str(&stdout).expect("recommendations JSON");
    assert!(recommendations["fast"].is_string(), "{recommendations}");
}
