//! Webhook callbacks end to end: a real receiver on loopback, signatures
//! checked independently of the service's signing code, retries with the
//! same id, `410` stopping them, delivery after a restart, and the SSRF
//! guard refusing private targets at submission.

mod service_support;
mod webhook_receiver;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use service_support::{Server, assert_error, long_job, quick_job, temp_dir};
use webhook_receiver::{Receiver, verify};

/// 32 known bytes, so the test can verify signatures without the service.
const SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const TIMEOUT: Duration = Duration::from_secs(60);

fn webhook_env(schedule: &str) -> Vec<(&str, &str)> {
    vec![
        ("BENCHMARK_WEBHOOK_ALLOW_PRIVATE", "1"),
        ("BENCHMARK_WEBHOOK_SECRET", SECRET),
        ("BENCHMARK_WEBHOOK_RETRY_SCHEDULE", schedule),
        ("BENCHMARK_WEBHOOK_TIMEOUT", "5"),
    ]
}

fn with_callback(mut body: Value, url: &str) -> Value {
    body["callback_url"] = json!(url);
    body
}

/// Polls `GET /jobs/{id}/deliveries` until the first delivery is final.
fn final_delivery(server: &Server, id: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let (status, reply) = server.get(&format!("/jobs/{id}/deliveries"));
        assert_eq!(status, StatusCode::OK, "{reply}");
        let delivery = &reply["deliveries"][0];
        if delivery["state"].as_str().is_some_and(|s| s != "pending") {
            return delivery.clone();
        }
        assert!(
            started.elapsed() < TIMEOUT,
            "delivery still pending: {reply}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn completed_job_event_is_signed_per_standard_webhooks() {
    let receiver = Receiver::start(vec![]);
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &webhook_env("0"));

    let id = server.submit(&with_callback(quick_job(), &receiver.url));
    let request = receiver.wait_for(1, TIMEOUT).remove(0);

    assert!(
        verify(SECRET, &request),
        "signature does not verify: {request:?}"
    );
    assert!(request.header("webhook-id").starts_with("msg_"));
    let timestamp: i64 = request
        .header("webhook-timestamp")
        .parse()
        .expect("timestamp");
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 60);
    assert_eq!(request.header("content-type"), "application/json");
    let event = request.json();
    assert_eq!(event["type"], "benchmark.completed", "{event}");
    assert!(
        event["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let data = &event["data"];
    assert_eq!(data["job_id"], id.as_str());
    assert_eq!(data["status"], "completed");
    assert!(data["completed_at"].as_str().is_some(), "{data}");
    assert!(data["started_at"].as_str().is_some(), "{data}");
    assert!(data["results"].is_object(), "{data}");
    assert_eq!(data["status_url"], format!("/status/{id}"));

    let delivery = final_delivery(&server, &id);
    assert_eq!(delivery["state"], "delivered", "{delivery}");
    assert_eq!(delivery["webhook_id"], request.header("webhook-id"));
    assert_eq!(delivery["attempts"][0]["status_code"], 200);
    let tampered = webhook_receiver::Received {
        body: request.body.replace("completed", "failed"),
        ..request
    };
    assert!(!verify(SECRET, &tampered), "a changed body must not verify");
}

#[test]
fn failed_attempts_are_retried_with_the_same_webhook_id() {
    let receiver = Receiver::start(vec![
        (500, vec![]),
        (302, vec![("Location", "http://example.org/")]),
        (503, vec![("Retry-After", "1")]),
    ]);
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &webhook_env("0,0.1,0.1,0.1"));

    let id = server.submit(&with_callback(quick_job(), &receiver.url));
    let requests = receiver.wait_for(4, TIMEOUT);

    let ids: Vec<&str> = requests.iter().map(|r| r.header("webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "ids differ: {ids:?}");
    assert!(requests.iter().all(|r| verify(SECRET, r)));
    assert_eq!(
        requests[0].body, requests[3].body,
        "the event is the same on every attempt"
    );
    let delivery = final_delivery(&server, &id);
    assert_eq!(delivery["state"], "delivered", "{delivery}");
    let codes: Vec<&Value> = (0..4)
        .map(|i| &delivery["attempts"][i]["status_code"])
        .collect();
    assert_eq!(
        codes,
        [&json!(500), &json!(302), &json!(503), &json!(200)],
        "{delivery}"
    );
    assert!(
        delivery["attempts"][1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("redirect")),
        "{delivery}"
    );
}

#[test]
fn gone_stops_retries_and_cancelled_jobs_send_their_event() {
    let receiver = Receiver::start(vec![(410, vec![])]);
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &webhook_env("0,0.1,0.1"));

    let id = server.submit(&with_callback(long_job(), &receiver.url));
    let (status, _) = server.delete(&format!("/jobs/{id}"));
    assert!(status.is_success());
    let request = receiver.wait_for(1, TIMEOUT).remove(0);
    assert_eq!(request.json()["type"], "benchmark.cancelled");

    let delivery = final_delivery(&server, &id);
    assert_eq!(delivery["state"], "gone", "{delivery}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(receiver.received().len(), 1, "no attempt after 410");
}

#[test]
fn a_due_delivery_survives_a_restart() {
    let receiver = Receiver::start(vec![(500, vec![])]);
    let dir = temp_dir();
    let data = dir.path().join("data");
    // No secret in the environment: the generated one in the data directory
    // must be reused after the restart.
    let env = [
        ("BENCHMARK_WEBHOOK_ALLOW_PRIVATE", "1"),
        ("BENCHMARK_WEBHOOK_RETRY_SCHEDULE", "0,3"),
    ];
    let mut server = Server::start(&data, &[], &env);
    let id = server.submit(&with_callback(quick_job(), &receiver.url));
    receiver.wait_for(1, TIMEOUT);
    // Let the failed attempt be recorded, then crash before the retry.
    std::thread::sleep(Duration::from_millis(300));
    server.kill9();

    let server = Server::start(&data, &[], &env);
    let requests = receiver.wait_for(2, TIMEOUT);
    assert_eq!(
        requests[0].header("webhook-id"),
        requests[1].header("webhook-id")
    );
    let secret = std::fs::read_to_string(data.join("webhook-secret")).expect("secret file");
    assert!(requests.iter().all(|r| verify(&secret, r)));
    let delivery = final_delivery(&server, &id);
    assert_eq!(delivery["state"], "delivered", "{delivery}");
    assert_eq!(delivery["attempts"].as_array().map(Vec::len), Some(2));
}

#[test]
fn private_and_loopback_callbacks_are_refused_at_submission() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://10.0.0.8/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
        "http://2130706433/hook",
        "http://localhost:8080/hook",
    ] {
        let (status, reply) = server.post("/benchmark", &with_callback(quick_job(), url));
        assert_error(status, &reply, 400, "callback-url-forbidden");
        let legacy =
            json!({"dataset": {"type": "synthetic", "shape": [8, 8]}, "callback_url": url});
        let (status, reply) = server.post("/webhook/benchmark", &legacy);
        assert_error(status, &reply, 400, "callback-url-forbidden");
    }
    let (status, reply) = server.post(
        "/benchmark",
        &with_callback(quick_job(), "file:///etc/passwd"),
    );
    assert_error(status, &reply, 400, "invalid-callback-url");
}
