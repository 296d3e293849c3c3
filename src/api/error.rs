//! Errors of the HTTP API: every one is JSON `{"error", "code"}` with a 4xx
//! (or, for a service that cannot take work, 503) status and a stable
//! kebab-case code clients can match on.
//!
//! Extractor errors (JSON, path, query) and the router's own 404/405 are
//! turned into the same shape by the handlers in this file; a last-resort
//! middleware ([`json_fallback`]) rewrites any other non-JSON error response.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use utoipa::ToSchema;

use crate::registry::messages::RegistryError;
use crate::spec::SpecError;

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"error": "shape[2] must be at least 1", "code": "invalid-shape"}))]
pub struct ErrorBody {
    /// What is wrong and what to change.
    pub error: String,
    /// Stable kebab-case code, e.g. `invalid-shape`, `job-not-found`, `queue-full`.
    pub code: String,
}

/// Why a request failed.
#[derive(Debug, Error)]
pub enum ApiError {
    /// The body was parsed but a field is wrong.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The body is larger than the limit.
    #[error("the body is larger than {limit} bytes; send a smaller JSON object")]
    PayloadTooLarge { limit: usize },
    /// The body could not be read.
    #[error("the body could not be read: {0}")]
    Payload(String),
    /// The body is declared as something other than JSON.
    #[error("content type '{0}' is not accepted; send the body as application/json")]
    UnsupportedMediaType(String),
    /// A path segment is malformed.
    #[error("{0}")]
    BadPath(String),
    /// A query parameter is malformed.
    #[error("{0}")]
    BadQuery(String),
    /// No route matches the path.
    #[error("no route {path}; see GET / for the endpoints")]
    RouteNotFound { path: String },
    /// The route exists but not for this method.
    #[error("method {method} is not allowed on {path}; use {allowed}")]
    MethodNotAllowed {
        method: String,
        path: String,
        allowed: String,
    },
    /// A registry refusal (not found, queue full, draining, finished).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The registry did not answer (it stopped or is overloaded).
    #[error("the job registry is unavailable ({0}); retry shortly")]
    Unavailable(String),
    /// No API key, or not one of the configured keys.
    #[error("{0}")]
    Unauthorized(String),
    /// The client is over its rate limit.
    #[error(
        "too many {kind} requests: the limit is {limit} a minute per client; retry after {retry_after_secs} s"
    )]
    RateLimited {
        kind: &'static str,
        limit: u32,
        retry_after_secs: u64,
    },
    /// The callback URL is refused by the SSRF guard.
    #[error(transparent)]
    Callback(#[from] crate::webhook::target::TargetError),
    /// The `Idempotency-Key` header is malformed.
    #[error("{0}")]
    InvalidIdempotencyKey(String),
    /// The `Idempotency-Key` was first used with another request.
    #[error(
        "this Idempotency-Key was already used with a different request body or route; use a new key for a new request"
    )]
    IdempotencyKeyReused,
    /// The first request with this `Idempotency-Key` is still being handled.
    #[error("a request with this Idempotency-Key is still being processed; retry in a moment")]
    IdempotencyKeyInUse,
    /// A store the API reads directly (idempotency keys, deliveries) failed.
    #[error("the service's store failed ({0}); retry shortly")]
    StoreFailed(String),
    /// The job has no results (yet): it is pending, running, failed or cancelled.
    #[error(
        "job {job_id} is {status} and has no results; poll /status/{job_id} until it is completed"
    )]
    NoResults { job_id: String, status: String },
}

impl ApiError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Spec(error) => error.code(),
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::Payload(_) => "invalid-body",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::BadPath(_) => "invalid-path",
            ApiError::BadQuery(_) => "invalid-query",
            ApiError::RouteNotFound { .. } => "route-not-found",
            ApiError::MethodNotAllowed { .. } => "method-not-allowed",
            ApiError::Registry(error) => match error {
                RegistryError::NotFound(_) => "job-not-found",
                RegistryError::QueueFull { .. } => "queue-full",
                RegistryError::Draining => "shutting-down",
                RegistryError::AlreadyFinished { .. } => "job-already-finished",
                RegistryError::Store(_) => "store-unavailable",
            },
            ApiError::Unavailable(_) => "registry-unavailable",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::RateLimited { .. } => "rate-limited",
            ApiError::Callback(error) => error.code(),
            ApiError::InvalidIdempotencyKey(_) => "invalid-idempotency-key",
            ApiError::IdempotencyKeyReused => "idempotency-key-reused",
            ApiError::IdempotencyKeyInUse => "idempotency-key-in-use",
            ApiError::StoreFailed(_) => "store-unavailable",
            ApiError::NoResults { .. } => "results-not-ready",
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Registry(RegistryError::QueueFull {
                retry_after_secs, ..
            }) => Some(*retry_after_secs),
            ApiError::Registry(RegistryError::Draining | RegistryError::Store(_))
            | ApiError::Unavailable(_)
            | ApiError::StoreFailed(_) => Some(30),
            ApiError::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            ApiError::IdempotencyKeyInUse => Some(1),
            _ => None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Spec(_)
            | ApiError::Payload(_)
            | ApiError::BadPath(_)
            | ApiError::BadQuery(_)
            | ApiError::Callback(_)
            | ApiError::InvalidIdempotencyKey(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::IdempotencyKeyInUse | ApiError::NoResults { .. } => StatusCode::CONFLICT,
            ApiError::StoreFailed(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RouteNotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Registry(error) => match error {
                RegistryError::NotFound(_) => StatusCode::NOT_FOUND,
                RegistryError::QueueFull { .. } => StatusCode::TOO_MANY_REQUESTS,
                RegistryError::AlreadyFinished { .. } => StatusCode::CONFLICT,
                RegistryError::Draining | RegistryError::Store(_) => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            },
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Some(seconds) = self.retry_after() {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if let ApiError::MethodNotAllowed { allowed, .. } = self {
            response.insert_header((header::ALLOW, allowed.clone()));
        }
        if let ApiError::Unauthorized(_) = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"zarrbench\""));
        }
        if matches!(self.code(), "store-unavailable" | "registry-unavailable") {
            tracing::warn!(code = self.code(), error = %self, "request refused");
        }
        response.json(ErrorBody {
            error: self.to_string(),
            code: self.code().to_string(),
        })
    }
}

impl From<actix::MailboxError> for ApiError {
    fn from(error: actix::MailboxError) -> ApiError {
        ApiError::Unavailable(error.to_string())
    }
}

/// `JsonConfig` error handler (for any route that takes `web::Json`).
pub fn json_config_error(
    error: actix_web::error::JsonPayloadError,
    _: &HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match error {
        E::OverflowKnownLength { limit, .. } | E::Overflow { limit } => {
            ApiError::PayloadTooLarge { limit }
        }
        E::ContentType => ApiError::UnsupportedMediaType("not application/json".into()),
        E::Deserialize(e) => ApiError::Spec(SpecError::Syntax(e.to_string())),
        other => ApiError::Payload(other.to_string()),
    };
    api.into()
}

/// `PathConfig` error handler.
pub fn path_config_error(error: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::BadPath(format!("a path segment is malformed: {error}")).into()
}

/// `QueryConfig` error handler.
pub fn query_config_error(
    error: actix_web::error::QueryPayloadError,
    _: &HttpRequest,
) -> actix_web::Error {
    let message = match &error {
        actix_web::error::QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    ApiError::BadQuery(format!(
        "the query string is invalid: {message}; see GET /openapi.json"
    ))
    .into()
}

/// Rewrites any error response that is not JSON yet into an [`ErrorBody`].
pub fn json_fallback<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }

    let status = response.status();
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    let body = ErrorBody {
        error: format!("{reason}; see GET / for the endpoints"),
        code: reason.replace(' ', "-"),
    };
    let json = serde_json::to_string(&body).unwrap_or_default();
    let (request, mut old) = response.into_parts();
    old.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let replaced = old.set_body(json).map_into_boxed_body();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, replaced).map_into_right_body(),
    ))
}
