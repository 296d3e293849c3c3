//! Reports of a finished job: `results.csv` and `report.svg`, their media
//! types, and the errors for unknown jobs and jobs without results. The
//! job's HTML page has its own file, `service_html.rs`.

mod service_support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use service_support::{Server, assert_error, long_job, quick_job, read, temp_dir};

const JOB_TIMEOUT: Duration = Duration::from_secs(90);
const REPORT_KEY: &str = "report-key-0123456789abcdef";

fn completed_job(server: &Server) -> (String, serde_json::Value) {
    let id = server.submit(&quick_job());
    let status = server.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(status["status"], "completed", "{status}");
    (id, status)
}

#[test]
fn results_csv_has_a_header_and_one_row_per_configuration() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let (id, status) = completed_job(&server);

    let response = server
        .client()
        .get(server.url(&format!("/jobs/{id}/results.csv")))
        .send()
        .expect("GET results.csv");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap_or("");
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let text = response.text().expect("body");

    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(zarrbench::cli::output::CSV_COLUMNS.join(",").as_str())
    );
    let configs = status["results"]["configs"].as_array().expect("configs");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), configs.len());
    for (row, config) in rows.iter().zip(configs) {
        let config_id = config["config_id"].as_str().expect("config_id");
        assert!(row.starts_with(&format!("{config_id},")), "{row}");
    }
}

#[test]
fn report_svg_is_an_svg_document_with_title_and_profile_labels() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let (id, status) = completed_job(&server);

    let response = server
        .client()
        .get(server.url(&format!("/jobs/{id}/report.svg")))
        .send()
        .expect("GET report.svg");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    let svg = response.text().expect("body");

    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("synthetic 32x32x32 uint16"), "{svg}");
    assert!(svg.contains("write speed (MB/s"));
    assert!(svg.contains("read speed (MB/s"));
    let recommendations = status["results"]["recommendations"]
        .as_object()
        .expect("recommendations");
    assert!(!recommendations.is_empty());
    for profile in recommendations.keys() {
        assert!(svg.contains(profile.as_str()), "no label {profile}");
    }
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
}

#[test]
fn reports_of_an_unknown_job_are_404_and_of_an_unfinished_job_409() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &["--max-jobs", "1"], &[]);
    let running = server.submit(&long_job());
    let pending = server.submit(&quick_job());

    for report in ["results.csv", "report.svg"] {
        let (status, body) = server.get(&format!(
            "/jobs/00000000-0000-4000-8000-000000000000/{report}"
        ));
        assert_error(status, &body, 404, "job-not-found");
        let (status, body) = server.get(&format!("/jobs/{pending}/{report}"));
        assert_error(status, &body, 409, "results-not-ready");
        let (status, body) = server.get(&format!("/jobs/not-a-uuid/{report}"));
        assert_error(status, &body, 400, "invalid-path");
    }
    // The page, unlike the CSV and the chart, exists in every state.
    let page = server
        .client()
        .get(server.url(&format!("/jobs/{pending}/report.html")))
        .send()
        .expect("GET report.html");
    assert_eq!(page.status(), StatusCode::OK);

    server.delete(&format!("/jobs/{pending}"));
    server.delete(&format!("/jobs/{running}"));
}

#[test]
fn reports_need_the_api_key_when_keys_are_configured() {
    let dir = temp_dir();
    let server = Server::start(
        &dir.path().join("data"),
        &[],
        &[("BENCHMARK_API_KEY", REPORT_KEY)],
    );
    let response = server
        .client()
        .get(server.url("/jobs/00000000-0000-4000-8000-000000000000/results.csv"))
        .send()
        .expect("GET");
    let (status, body) = read(response);
    assert_error(status, &body, 401, "unauthorized");

    let response = server
        .client()
        .post(server.url("/benchmark"))
        .bearer_auth(REPORT_KEY)
        .json(&json!({"dataset_type": "synthetic", "shape": [16, 16, 16], "repeats": 1}))
        .send()
        .expect("POST");
    let (status, body) = read(response);
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[test]
fn openapi_and_root_list_the_report_routes() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let (_, document) = server.get("/openapi.json");
    for path in ["/jobs/{job_id}/results.csv", "/jobs/{job_id}/report.svg"] {
        assert!(document["paths"][path]["get"].is_object(), "{path}");
        let (_, root) = server.get("/");
        let listed = root["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .any(|e| e["path"] == path);
        assert!(listed, "{path} not in GET /");
    }
}
