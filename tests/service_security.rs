//! Authentication, rate limits, idempotent submissions and the result cache,
//! driven over HTTP against the real binary.

mod service_support;

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};
use service_support::{Server, assert_error, quick_job, read, temp_dir};

const KEY_OLD: &str = "old-key-0123456789abcdef";
const KEY_NEW: &str = "new-key-0123456789abcdef";
const JOB_TIMEOUT: Duration = Duration::from_secs(120);
const SOME_ID: &str = "00000000-0000-4000-8000-000000000000";

fn bearer(request: RequestBuilder, key: &str) -> RequestBuilder {
    request.header("authorization", format!("Bearer {key}"))
}

/// Every route, as (method, path).
fn routes() -> Vec<(&'static str, String)> {
    vec![
        ("GET", "/".into()),
        ("GET", "/openapi.json".into()),
        ("GET", "/metrics".into()),
        ("POST", "/benchmark".into()),
        ("POST", "/webhook/benchmark".into()),
        ("GET", format!("/status/{SOME_ID}")),
        ("GET", "/jobs".into()),
        ("DELETE", format!("/jobs/{SOME_ID}")),
        ("GET", format!("/jobs/{SOME_ID}/deliveries")),
        ("GET", "/no-such-route".into()),
    ]
}

fn request(server: &Server, method: &str, path: &str) -> RequestBuilder {
    let url = server.url(path);
    match method {
        "POST" => server.client().post(url).json(&quick_job()),
        "DELETE" => server.client().delete(url),
        _ => server.client().get(url),
    }
}

#[test]
fn every_route_but_health_requires_a_configured_api_key() {
    let dir = temp_dir();
    let keys = format!("{KEY_OLD},{KEY_NEW}");
    let server = Server::start(
        &dir.path().join("data"),
        &[],
        &[("BENCHMARK_API_KEY", &keys)],
    );

    for (method, path) in routes() {
        for key in [None, Some("wrong-key-0123456789abcdef")] {
            let mut builder = request(&server, method, &path);
            if let Some(key) = key {
                builder = bearer(builder, key);
            }
            let response = builder.send().expect("request");
            let challenge = response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap_or_default().to_string());
            let (status, body) = read(response);
            assert_error(status, &body, 401, "unauthorized");
            assert!(
                challenge
                    .as_deref()
                    .is_some_and(|c| c.starts_with("Bearer")),
                "{method} {path}: {challenge:?}"
            );
        }
    }

    let (status, _) = server.get("/health");
    assert_eq!(status, StatusCode::OK, "health needs no key");
    for key in [KEY_OLD, KEY_NEW] {
        let response = bearer(server.client().get(server.url("/jobs")), key)
            .send()
            .expect("GET");
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "both keys work during rotation"
        );
    }
    let response = bearer(server.client().post(server.url("/benchmark")), KEY_NEW)
        .json(&quick_job())
        .send()
        .expect("POST");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(
        !server.log_text().contains(KEY_OLD),
        "keys never reach the log"
    );
}

#[test]
fn api_keys_are_read_from_a_key_file() {
    let dir = temp_dir();
    let file = dir.path().join("keys");
    std::fs::write(
        &file,
        format!("# rotated monthly\n{KEY_OLD}\n\n{KEY_NEW}\n"),
    )
    .expect("write");
    let flags = ["--api-key-file", file.to_str().expect("utf-8")];
    let server = Server::start(&dir.path().join("data"), &flags, &[]);

    let (status, body) = server.get("/jobs");
    assert_error(status, &body, 401, "unauthorized");
    let response = bearer(server.client().get(server.url("/jobs")), KEY_NEW)
        .send()
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
}

#[test]
fn clients_over_their_rate_limit_get_429_with_retry_after() {
    let dir = temp_dir();
    let env = [
        ("BENCHMARK_SUBMIT_RATE_LIMIT", "2"),
        ("BENCHMARK_READ_RATE_LIMIT", "3"),
    ];
    let server = Server::start(&dir.path().join("data"), &[], &env);

    for left in ["1", "0"] {
        let response = server
            .client()
            .post(server.url("/benchmark"))
            .json(&quick_job())
            .send()
            .expect("POST");
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()["ratelimit-limit"], "2");
        assert_eq!(response.headers()["ratelimit-remaining"], left);
    }
    let response = server
        .client()
        .post(server.url("/benchmark"))
        .json(&quick_job())
        .send()
        .expect("POST");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let (status, body) = read(response);
    assert_error(status, &body, 429, "rate-limited");

    for _ in 0..3 {
        assert_eq!(server.get("/jobs").0, StatusCode::OK);
    }
    let (status, body) = server.get("/jobs");
    assert_error(status, &body, 429, "rate-limited");
    for _ in 0..5 {
        assert_eq!(
            server.get("/health").0,
            StatusCode::OK,
            "health is not limited"
        );
    }
}

/// GET /jobs with an `X-Forwarded-For` header; the status code.
fn read_as(server: &Server, forwarded_for: &str) -> StatusCode {
    server
        .client()
        .get(server.url("/jobs"))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .expect("GET")
        .status()
}

#[test]
fn behind_a_trusted_proxy_clients_are_limited_by_their_forwarded_address() {
    let dir = temp_dir();
    let limit = [("BENCHMARK_READ_RATE_LIMIT", "2")];

    // The test's requests come from 127.0.0.1, here a trusted proxy.
    let trusting = Server::start(
        &dir.path().join("trusting"),
        &["--trusted-proxies", "127.0.0.1,::1"],
        &limit,
    );
    for _ in 0..2 {
        assert_eq!(read_as(&trusting, "203.0.113.1"), StatusCode::OK);
    }
    assert_eq!(
        read_as(&trusting, "203.0.113.1"),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        read_as(&trusting, "203.0.113.2"),
        StatusCode::OK,
        "another client behind the same proxy has its own bucket"
    );
    assert_eq!(
        read_as(&trusting, "203.0.113.2, 203.0.113.1"),
        StatusCode::TOO_MANY_REQUESTS,
        "a forged entry left of the proxy's does not change the client"
    );

    // Without trust, the header is ignored: every request is the peer's.
    let plain = Server::start(&dir.path().join("plain"), &[], &limit);
    assert_eq!(read_as(&plain, "203.0.113.1"), StatusCode::OK);
    assert_eq!(read_as(&plain, "203.0.113.2"), StatusCode::OK);
    assert_eq!(
        read_as(&plain, "203.0.113.3"),
        StatusCode::TOO_MANY_REQUESTS,
        "X-Forwarded-For from an untrusted peer cannot buy a fresh bucket"
    );
}

fn post_with_key(server: &Server, path: &str, key: &str, body: &str) -> (StatusCode, Value, bool) {
    let response = server
        .client()
        .post(server.url(path))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(body.to_string())
        .send()
        .expect("POST");
    let replayed = response.headers().contains_key("idempotent-replayed");
    let (status, value) = read(response);
    (status, value, replayed)
}

#[test]
fn an_idempotency_key_replays_the_first_answer_even_after_a_restart() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    let mut server = Server::start(&data, &[], &[]);
    let body = r#"{"dataset_type": "synthetic", "shape": [16, 16], "repeats": 1}"#;
    let same_body_reordered = r#"{ "repeats": 1, "shape": [16,16], "dataset_type": "synthetic" }"#;

    let (status, first, replayed) = post_with_key(&server, "/benchmark", "key-1", body);
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert!(!replayed);
    let (status, again, replayed) =
        post_with_key(&server, "/benchmark", "key-1", same_body_reordered);
    assert_eq!(status, StatusCode::CREATED);
    assert!(replayed);
    assert_eq!(again["job_id"], first["job_id"]);

    let other = r#"{"dataset_type": "synthetic", "shape": [16, 17]}"#;
    let (status, reply, _) = post_with_key(&server, "/benchmark", "key-1", other);
    assert_error(status, &reply, 422, "idempotency-key-reused");
    let (status, reply, _) = post_with_key(&server, "/webhook/benchmark", "key-1", body);
    assert_error(status, &reply, 422, "idempotency-key-reused");

    let (status, fresh, _) = post_with_key(&server, "/benchmark", "key-2", body);
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(fresh["job_id"], first["job_id"]);

    let legacy = r#"{"dataset": {"type": "synthetic", "shape": [16, 16]}}"#;
    let (status, accepted, _) = post_with_key(&server, "/webhook/benchmark", "key-3", legacy);
    assert_eq!(status, StatusCode::ACCEPTED);

    // A refused request does not use up its key.
    let bad = r#"{"dataset_type": "nope", "shape": [16]}"#;
    let (status, _, _) = post_with_key(&server, "/benchmark", "key-4", bad);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = post_with_key(&server, "/benchmark", "key-4", body);
    assert_eq!(status, StatusCode::CREATED);

    server.terminate(Duration::from_secs(30));
    let server = Server::start(&data, &[], &[]);
    let (status, replay, replayed) = post_with_key(&server, "/benchmark", "key-1", body);
    assert_eq!(status, StatusCode::CREATED);
    assert!(replayed);
    assert_eq!(replay["job_id"], first["job_id"]);
    let (status, replay, _) = post_with_key(&server, "/webhook/benchmark", "key-3", legacy);
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(replay["job_id"], accepted["job_id"]);

    let (status, reply, _) = post_with_key(&server, "/benchmark", "", body);
    assert_error(status, &reply, 400, "invalid-idempotency-key");
}

#[test]
fn a_repeated_specification_is_answered_from_the_cache_unless_refused() {
    let dir = temp_dir();
    let server = Server::start(
        &dir.path().join("data"),
        &[],
        &[("BENCHMARK_RESULT_CACHE", "1")],
    );

    let first = server.submit(&quick_job());
    let measured = server.wait_final(&first, JOB_TIMEOUT);
    assert_eq!(measured["status"], "completed", "{measured}");
    assert!(measured["results"].get("cached_from").is_none());

    let (status, reply) = server.post("/benchmark", &quick_job());
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let second = reply["job_id"].as_str().expect("job_id").to_string();
    assert_ne!(second, first, "a cache hit still creates a job");
    let cached = server.wait_final(&second, JOB_TIMEOUT);
    assert_eq!(cached["status"], "completed", "{cached}");
    assert_eq!(cached["results"]["cached_from"], first.as_str());
    assert!(cached["completed_at"].as_str().is_some());

    let mut fresh_body = quick_job();
    fresh_body["cache"] = json!(false);
    let third = server.submit(&fresh_body);
    let fresh = server.wait_final(&third, JOB_TIMEOUT);
    assert_eq!(fresh["status"], "completed", "{fresh}");
    assert!(
        fresh["results"].get("cached_from").is_none(),
        "cache: false runs afresh"
    );

    let mut other_seed = quick_job();
    other_seed["seed"] = json!(7);
    let fourth = server.submit(&other_seed);
    let other = server.wait_final(&fourth, JOB_TIMEOUT);
    assert!(
        other["results"].get("cached_from").is_none(),
        "another seed is another spec"
    );

    let metrics = server
        .client()
        .get(server.url("/metrics"))
        .send()
        .expect("metrics")
        .text()
        .expect("text");
    let counted = |outcome: &str| {
        metrics.lines().any(|line| {
            line.starts_with("zarrbench_cache_requests_total")
                && line.contains(&format!("outcome=\"{outcome}\""))
        })
    };
    assert!(counted("hit") && counted("miss"), "{metrics}");
}
