//! A job's page for people: `GET /jobs/{job_id}/report.html` and
//! `GET /jobs/{job_id}` with a browser's Accept header. Checked over HTTP
//! (headers, negotiation, states, escaping, errors) and in a real headless
//! browser, Debian's `chromium`, which must be installed (`.ci/run` installs
//! it); the browser tests fail without it.

mod service_support;

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::Response;
use serde_json::{Value, json};
use service_support::{Server, assert_error, long_job, quick_job, read, temp_dir};

const JOB_TIMEOUT: Duration = Duration::from_secs(90);
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const UNKNOWN_JOB: &str = "00000000-0000-4000-8000-000000000000";
const PAGE_KEY: &str = "page-key-0123456789abcdef";

fn completed_job(server: &Server) -> (String, Value) {
    let id = server.submit(&quick_job());
    let status = server.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(status["status"], "completed", "{status}");
    (id, status)
}

fn get_with_accept(server: &Server, path: &str, accept: Option<&str>) -> Response {
    let mut request = server.client().get(server.url(path));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    request.send().expect("GET")
}

/// The body of an HTML answer, after checking its status and headers.
fn html_page(response: Response) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["content-security-policy"], CSP);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    response.text().expect("body")
}

fn page(server: &Server, id: &str) -> String {
    html_page(get_with_accept(
        server,
        &format!("/jobs/{id}/report.html"),
        None,
    ))
}

/// Fails when the page can load anything: no script, no style sheet or
/// font by link, no `src`/`href` to another host, no CSS `url()` or import.
fn assert_self_contained(page: &str) {
    let lower = page.to_ascii_lowercase();
    for forbidden in [
        "<script", "<link", "<iframe", "<object", "<embed", "url(", "@import",
    ] {
        assert!(!lower.contains(forbidden), "the page contains {forbidden}");
    }
    for attribute in ["src=", "href="] {
        for (at, _) in lower.match_indices(attribute) {
            let value = lower[at + attribute.len()..].trim_start_matches(['"', '\'']);
            assert!(
                !value.starts_with("http:")
                    && !value.starts_with("https:")
                    && !value.starts_with("//"),
                "external reference: {}",
                &page[at..(at + 80).min(page.len())]
            );
        }
    }
}

/// The rows of the table in the `<section class="{class}">` of a page
/// (header row excluded).
fn table_rows(page: &str, class: &str) -> Vec<String> {
    let start = page
        .find(&format!("<section class=\"{class}\">"))
        .unwrap_or_else(|| panic!("no {class} section"));
    let section = &page[start..];
    let section = &section[..section.find("</section>").expect("section end")];
    let body = &section[section.find("<tbody>").expect("tbody")..];
    body.split("<tr")
        .skip(1)
        .map(|row| row.split("</tr>").next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_completed_jobs_page_is_self_contained_with_every_configuration_and_recommendation() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let (id, status) = completed_job(&server);
    let page = page(&server, &id);

    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("<title>synthetic 32x32x32 uint16 (completed)"));
    assert!(!page.contains("http-equiv=\"refresh\""));
    assert!(page.contains("<svg"), "no inline chart");
    assert_self_contained(&page);

    let configs = status["results"]["configs"].as_array().expect("configs");
    let rows = table_rows(&page, "configurations");
    assert_eq!(rows.len(), configs.len());
    for (row, config) in rows.iter().zip(configs) {
        let config_id = config["config_id"].as_str().expect("config_id");
        assert!(row.contains(&format!("<code>{config_id}</code>")), "{row}");
        let marked = row.contains("<td>*</td>");
        assert_eq!(marked, config["pareto"] == true, "{row}");
    }
    let recommendations = status["results"]["recommendation_details"]
        .as_object()
        .expect("recommendation_details");
    let rows = table_rows(&page, "recommendations");
    assert_eq!(rows.len(), recommendations.len());
    for (profile, pick) in recommendations {
        let config_id = pick["config_id"].as_str().expect("config_id");
        let expected = format!("<td>{profile}</td><td><code>{config_id}</code></td>");
        assert!(rows.iter().any(|row| row.contains(&expected)), "{expected}");
    }
    let environment = &status["results"]["environment"];
    for field in ["zarrs_version", "cpu_model"] {
        let value = environment[field].as_str().expect(field);
        assert!(page.contains(value), "environment {field} missing");
    }
}

#[test]
fn get_job_answers_the_page_to_browsers_and_the_status_object_otherwise() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let (id, _) = completed_job(&server);
    let path = format!("/jobs/{id}");

    for accept in [
        BROWSER_ACCEPT,
        "text/html",
        "application/json;q=0.5, text/html",
    ] {
        let response = get_with_accept(&server, &path, Some(accept));
        assert_eq!(response.headers()["vary"], "accept");
        let page = html_page(response);
        assert!(page.contains(&format!("<code>{id}</code>")), "{accept}");
    }

    let (_, expected) = server.get(&format!("/status/{id}"));
    for accept in [
        None,
        Some("application/json"),
        Some("*/*"),
        Some("text/html;q=0.4, application/json"),
    ] {
        let response = get_with_accept(&server, &path, accept);
        assert_eq!(response.headers()["vary"], "accept");
        let content_type = response.headers()["content-type"].to_str().unwrap_or("");
        assert!(
            content_type.starts_with("application/json"),
            "{accept:?}: {content_type}"
        );
        let (status, body) = read(response);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, expected, "{accept:?}");
    }
}

#[test]
fn pending_and_running_pages_reload_and_show_progress() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &["--max-jobs", "1"], &[]);
    let running = server.submit(&long_job());
    let pending = server.submit(&quick_job());
    let status = server.wait_for(&running, JOB_TIMEOUT, |s| s["status"] == "running");

    let page_of_running = page(&server, &running);
    let refresh = "<meta http-equiv=\"refresh\" content=\"5\">";
    assert!(page_of_running.contains(refresh));
    assert!(page_of_running.contains("<span class=\"badge running\">running</span>"));
    assert!(page_of_running.contains("<title>synthetic 128x128x128 uint16 (running)"));
    let total = status["progress"]["total"].as_u64().expect("total");
    assert!(
        page_of_running.contains(&format!(" / {total}</span> configurations")),
        "no progress figure"
    );
    assert!(page_of_running.contains("<progress max="));
    assert_self_contained(&page_of_running);

    let page_of_pending = page(&server, &pending);
    let planned = server.status(&pending)["progress"]["total"].clone();
    assert!(page_of_pending.contains(refresh));
    assert!(page_of_pending.contains(&format!("0 / {planned}</span>")));
    assert!(page_of_pending.contains("queued: waiting for a free worker"));

    server.delete(&format!("/jobs/{pending}"));
    server.delete(&format!("/jobs/{running}"));
    let cancelled = server.wait_final(&pending, JOB_TIMEOUT);
    assert_eq!(cancelled["status"], "cancelled");
    let page_of_cancelled = page(&server, &pending);
    assert!(!page_of_cancelled.contains("http-equiv"));
    assert!(page_of_cancelled.contains("<span class=\"badge cancelled\">cancelled</span>"));
}

#[test]
fn a_failed_jobs_page_shows_the_error_and_does_not_reload() {
    let dir = temp_dir();
    let env = [("ZARRBENCH_TEST_PANIC_DATASET", "custom")];
    let server = Server::start(&dir.path().join("data"), &[], &env);
    let id = server.submit(&json!({"dataset_type": "custom", "shape": [16, 16], "repeats": 1}));
    let status = server.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(status["status"], "failed", "{status}");

    let page = page(&server, &id);
    assert!(!page.contains("http-equiv"));
    assert!(page.contains("<span class=\"badge failed\">failed</span>"));
    assert!(
        page.contains("<p class=\"error\">the sweep crashed"),
        "{page}"
    );
    assert!(!page.contains("<section class=\"configurations\">"));
}

#[test]
fn text_from_the_request_reaches_the_page_escaped() {
    let dir = temp_dir();
    let env = [
        ("BENCHMARK_WEBHOOK_ALLOW_PRIVATE", "1"),
        ("BENCHMARK_WEBHOOK_RETRY_SCHEDULE", "0"),
    ];
    let server = Server::start(&dir.path().join("data"), &[], &env);
    let callback =
        "http://127.0.0.1:9/hook?q=<script>alert(1)</script>&x='\"><svg/onload=alert(2)>";
    let mut body = quick_job();
    body["callback_url"] = json!(callback);
    let id = server.submit(&body);
    server.wait_final(&id, JOB_TIMEOUT);

    let page = page(&server, &id);
    let escaped = "http://127.0.0.1:9/hook?q=&lt;script&gt;alert(1)&lt;/script&gt;&amp;x=&#39;&quot;&gt;&lt;svg/onload=alert(2)&gt;";
    assert!(
        page.contains(escaped),
        "the callback URL is not shown escaped"
    );
    assert!(!page.contains("<script"));
    assert!(!page.contains("<svg/onload"));
    assert_self_contained(&page);
}

#[test]
fn unknown_and_malformed_job_ids_answer_json_errors() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    for accept in [Some(BROWSER_ACCEPT), None] {
        for path in [
            format!("/jobs/{UNKNOWN_JOB}"),
            format!("/jobs/{UNKNOWN_JOB}/report.html"),
        ] {
            let (status, body) = read(get_with_accept(&server, &path, accept));
            assert_error(status, &body, 404, "job-not-found");
        }
        for path in ["/jobs/not-a-uuid", "/jobs/not-a-uuid/report.html"] {
            let (status, body) = read(get_with_accept(&server, path, accept));
            assert_error(status, &body, 400, "invalid-path");
        }
    }
    let response = server
        .client()
        .post(server.url(&format!("/jobs/{UNKNOWN_JOB}/report.html")))
        .send()
        .expect("POST");
    let (status, body) = read(response);
    assert_error(status, &body, 405, "method-not-allowed");
}

#[test]
fn pages_need_the_api_key_when_keys_are_configured() {
    let dir = temp_dir();
    let server = Server::start(
        &dir.path().join("data"),
        &[],
        &[("BENCHMARK_API_KEY", PAGE_KEY)],
    );
    for path in [
        format!("/jobs/{UNKNOWN_JOB}"),
        format!("/jobs/{UNKNOWN_JOB}/report.html"),
    ] {
        let (status, body) = read(get_with_accept(&server, &path, Some(BROWSER_ACCEPT)));
        assert_error(status, &body, 401, "unauthorized");
    }

    let response = server
        .client()
        .post(server.url("/benchmark"))
        .bearer_auth(PAGE_KEY)
        .json(&quick_job())
        .send()
        .expect("POST");
    let (status, reply) = read(response);
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let id = reply["job_id"].as_str().expect("job_id");
    let response = server
        .client()
        .get(server.url(&format!("/jobs/{id}/report.html")))
        .bearer_auth(PAGE_KEY)
        .send()
        .expect("GET");
    html_page(response);
}

#[test]
fn openapi_documents_both_page_routes_with_their_media_types() {
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let (_, document) = server.get("/openapi.json");
    let job = &document["paths"]["/jobs/{job_id}"]["get"]["responses"]["200"]["content"];
    assert!(job["application/json"].is_object(), "{job}");
    assert!(job["text/html"].is_object(), "{job}");
    let page = &document["paths"]["/jobs/{job_id}/report.html"]["get"]["responses"];
    assert!(page["200"]["content"]["text/html"].is_object(), "{page}");
    assert!(
        page["200"]["headers"]["Content-Security-Policy"].is_object(),
        "{page}"
    );
    assert!(
        page["404"]["content"]["application/json"].is_object(),
        "{page}"
    );
    assert!(document["paths"]["/jobs/{job_id}"]["delete"].is_object());
}

/// Debian's `chromium`, headless, with a fresh profile directory per run, no
/// name resolution beyond 127.0.0.1 (so nothing can leave the machine), a
/// network log, and a deadline after which its process group is killed.
struct Chromium {
    scratch: tempfile::TempDir,
}

/// A browser started on a page.
struct Launch {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    net_log: PathBuf,
}

/// What a finished browser run left behind.
struct BrowserRun {
    stdout: String,
    net_log: PathBuf,
}

impl Chromium {
    const DEADLINE: Duration = Duration::from_secs(120);

    /// Fails the test, saying how to install it, when `chromium` is missing.
    fn installed() -> Chromium {
        let found = Command::new("chromium")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        assert!(
            found,
            "this test drives a headless browser and needs Debian's chromium on the PATH \
             (apt-get install chromium; .ci/run installs it)"
        );
        Chromium {
            scratch: temp_dir(),
        }
    }

    /// Starts chromium on `url` with extra `flags`; `name` keeps the files of
    /// this run apart from others.
    fn spawn(&self, name: &str, url: &str, flags: &[&str]) -> Launch {
        let root = self.scratch.path();
        let file = |suffix: &str| root.join(format!("{name}.{suffix}"));
        let (stdout, stderr, net_log) = (file("stdout"), file("stderr"), file("netlog.json"));
        let mut command = Command::new("chromium");
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-proxy-server",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            ])
            .arg(format!("--user-data-dir={}", root.join(name).display()))
            .arg(format!("--log-net-log={}", net_log.display()))
            .args(flags)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"));
        // Its own process group, so that a kill reaches the renderers too.
        command.process_group(0);
        Launch {
            child: command.spawn().expect("spawn chromium"),
            stdout,
            stderr,
            net_log,
        }
    }

    /// Runs chromium on `url` to the end.
    fn run(&self, name: &str, url: &str, flags: &[&str]) -> BrowserRun {
        self.spawn(name, url, flags).finish()
    }
}

impl Launch {
    fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Kills the browser and its renderers (its whole process group).
    fn kill(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }

    /// Waits for chromium to exit; past [`Chromium::DEADLINE`] kills it and
    /// fails the test.
    fn finish(mut self) -> BrowserRun {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if started.elapsed() > Chromium::DEADLINE {
                self.kill();
                panic!(
                    "chromium did not finish within {:?} and was killed:\n{}",
                    Chromium::DEADLINE,
                    std::fs::read_to_string(&self.stderr).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(
            status.success(),
            "chromium failed ({status}):\n{}",
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        );
        BrowserRun {
            stdout: std::fs::read_to_string(&self.stdout).expect("chromium stdout"),
            net_log: self.net_log.clone(),
        }
    }
}

impl Drop for Launch {
    /// A test that fails while the browser runs does not leave it behind.
    fn drop(&mut self) {
        if !self.has_exited() {
            self.kill();
        }
    }
}

/// Every URL chromium requested on behalf of pages from 127.0.0.1 (their
/// network isolation key names that site), read from its network log.
/// Chromium's own background requests carry another key and are left out.
fn page_requests(net_log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(net_log).expect("network log");
    let log: Value = serde_json::from_str(&text).expect("network log is JSON");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("URL_REQUEST_START_JOB in the log's constants");
    log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["type"].as_u64() == Some(start_job))
        .filter(|event| {
            event["params"]["network_isolation_key"]
                .as_str()
                .is_some_and(|key| key.contains("http://127.0.0.1"))
        })
        .filter_map(|event| event["params"]["url"].as_str().map(str::to_string))
        .collect()
}

/// Requests of `GET /jobs/{job_id}/report.html` the server has answered.
fn page_loads(server: &Server) -> u64 {
    let text = server
        .client()
        .get(server.url("/metrics"))
        .send()
        .expect("GET /metrics")
        .text()
        .expect("metrics");
    text.lines()
        .filter(|line| {
            line.starts_with("zarrbench_http_requests_total{")
                && line.contains("method=\"GET\"")
                && line.contains("route=\"/jobs/{job_id}/report.html\"")
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[test]
fn chromium_shows_every_configuration_loads_nothing_else_and_draws_a_screenshot() {
    let browser = Chromium::installed();
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let (id, status) = completed_job(&server);
    let url = server.url(&format!("/jobs/{id}/report.html"));

    let loaded = browser.run("dom", &url, &["--virtual-time-budget=2000", "--dump-dom"]);
    let dom = &loaded.stdout;
    assert!(
        dom.contains("<title>synthetic 32x32x32 uint16 (completed)"),
        "{dom}"
    );
    let configs = status["results"]["configs"].as_array().expect("configs");
    let rows = table_rows(dom, "configurations");
    assert_eq!(rows.len(), configs.len(), "{dom}");
    for config in configs {
        let config_id = config["config_id"].as_str().expect("config_id");
        assert!(
            dom.contains(&format!("<code>{config_id}</code>")),
            "{config_id}"
        );
    }
    assert!(!table_rows(dom, "recommendations").is_empty());
    assert!(dom.contains("<svg"));
    assert_eq!(page_requests(&loaded.net_log), vec![url.clone()]);

    let shot = browser.scratch.path().join("page.png");
    let screenshot_flag = format!("--screenshot={}", shot.display());
    browser.run(
        "screenshot",
        &url,
        &[&screenshot_flag, "--window-size=1280,2000"],
    );
    let png = std::fs::read(&shot).expect("screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().expect("IHDR width"));
    assert_eq!(width, 1280);
    assert!(
        png.len() > 20_000,
        "a {} byte screenshot is blank",
        png.len()
    );
}

#[test]
fn chromium_reloads_a_queued_jobs_page_until_the_job_has_completed() {
    let browser = Chromium::installed();
    let dir = temp_dir();
    let server = Server::start(&dir.path().join("data"), &["--max-jobs", "1"], &[]);
    let blocker = server.submit(&long_job());
    let queued = server.submit(&quick_job());
    server.wait_for(&blocker, JOB_TIMEOUT, |s| s["status"] == "running");
    let url = server.url(&format!("/jobs/{queued}/report.html"));

    // Under virtual time chromium follows each refresh at once (the budget,
    // longer than the refresh interval, starts again with every load). Once
    // it has reloaded, the blocker is cancelled so that the queued job runs.
    // On a busy machine chromium now and then stalls on its first load and
    // never reaches the refresh; such a launch is killed and tried again, up
    // to three times. A page that does not refresh fails all three.
    const ATTEMPTS: usize = 3;
    let mut attempt = 0;
    let launch = loop {
        attempt += 1;
        let loads_before = page_loads(&server);
        let mut launch = browser.spawn(
            &format!("reload-{attempt}"),
            &url,
            &["--virtual-time-budget=8000", "--dump-dom"],
        );
        let started = Instant::now();
        let reloaded = loop {
            if page_loads(&server) >= loads_before + 2 {
                break true;
            }
            if launch.has_exited() || started.elapsed() > Duration::from_secs(40) {
                break false;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if reloaded {
            break launch;
        }
        launch.kill();
        assert!(
            attempt < ATTEMPTS,
            "chromium did not reload the page of a queued job in {ATTEMPTS} launches"
        );
    };
    server.delete(&format!("/jobs/{blocker}"));
    let loaded = launch.finish();
    let dom = &loaded.stdout;

    let done = server.status(&queued);
    assert_eq!(done["status"], "completed", "{done}");
    assert!(
        dom.contains("<span class=\"badge completed\">completed</span>"),
        "{dom}"
    );
    assert!(!dom.contains("http-equiv=\"refresh\""));
    let configs = done["results"]["configs"].as_array().expect("configs");
    assert_eq!(table_rows(dom, "configurations").len(), configs.len());
    assert!(
        page_requests(&loaded.net_log)
            .iter()
            .all(|requested| *requested == url)
    );
}
