//! A blocking HTTP client of a running zarrbench service, for the `submit`,
//! `status`, `cancel` and `jobs` commands. It sends requests and turns the
//! service's JSON errors into one-line messages; it knows nothing of what the
//! commands print.

use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder};
use serde_json::Value;
use thiserror::Error;

/// The service URL used when neither `--server` nor `ZARRBENCH_SERVER` is set.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// Where the service is and how to authenticate, shared by every client
/// command.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Base URL of the service, e.g. http://benchmarks.example.org:8080.
    #[arg(long, env = "ZARRBENCH_SERVER", default_value = DEFAULT_SERVER)]
    pub server: String,
    /// API key sent as `Authorization: Bearer KEY` (the first one when the
    /// variable lists several).
    #[arg(long, env = "BENCHMARK_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

/// Why a request to the service did not succeed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The service could not be reached or did not answer in time.
    #[error("cannot reach the service at {server}: {reason}")]
    Unreachable { server: String, reason: String },
    /// The service answered with an error status.
    #[error("{message} (HTTP {status})")]
    Refused {
        status: u16,
        message: String,
        /// `Retry-After` in seconds, when the service gave one.
        retry_after: Option<u64>,
    },
    /// The answer was not the JSON expected.
    #[error("the service at {server} sent an answer that is not zarrbench JSON: {reason}")]
    Unexpected { server: String, reason: String },
}

/// A connection to one service.
pub struct ServiceClient {
    http: Client,
    server: String,
    api_key: Option<String>,
}

impl ServiceClient {
    /// A client for `args.server`; requests time out after 30 s.
    pub fn new(args: &ServerArgs) -> Result<ServiceClient, ClientError> {
        let http = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|error| ClientError::Unreachable {
                server: args.server.clone(),
                reason: one_line(&error.to_string()),
            })?;
        let api_key = args
            .api_key
            .as_deref()
            .and_then(|keys| keys.split(',').map(str::trim).find(|k| !k.is_empty()))
            .map(str::to_string);
        Ok(ServiceClient {
            http,
            server: args.server.trim_end_matches('/').to_string(),
            api_key,
        })
    }

    pub fn get(&self, path: &str) -> Result<Value, ClientError> {
        self.send(self.http.get(self.url(path)))
    }

    pub fn post(&self, path: &str, body: &impl serde::Serialize) -> Result<Value, ClientError> {
        self.send(self.http.post(self.url(path)).json(body))
    }

    pub fn delete(&self, path: &str) -> Result<Value, ClientError> {
        self.send(self.http.delete(self.url(path)))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }

    /// Sends the request and returns the JSON body of a 2xx answer.
    fn send(&self, request: RequestBuilder) -> Result<Value, ClientError> {
        let request = match &self.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        };
        let response = request.send().map_err(|error| ClientError::Unreachable {
            server: self.server.clone(),
            reason: one_line(&error_chain(&error)),
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse().ok());
        let text = response.text().unwrap_or_default();
        let body: Option<Value> = serde_json::from_str(&text).ok();

        if status.is_success() {
            return body.ok_or_else(|| ClientError::Unexpected {
                server: self.server.clone(),
                reason: format!("HTTP {} with a body that is not JSON", status.as_u16()),
            });
        }
        let message = body
            .as_ref()
            .and_then(|b| b["error"].as_str())
            .map(one_line)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_lowercase());
        Err(ClientError::Refused {
            status: status.as_u16(),
            message,
            retry_after,
        })
    }
}

/// The error and its causes, e.g. `error sending request: connection refused`.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
