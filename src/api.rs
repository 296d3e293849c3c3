//! The HTTP API (actix-web): routes, JSON errors, OpenAPI and the server's
//! start and shutdown ([`server`]).
//!
//! Handlers parse the request, send one message to the `JobRegistry` and
//! shape its reply; they never run a sweep or hold a job. So `/health` and
//! `/status` answer in milliseconds while every worker is busy.
//!
//! Every response to a bad request is JSON `{"error", "code"}` (see
//! [`error`]): payload, path and query errors through the extractor configs,
//! unknown paths (404) through the default service, wrong methods (405)
//! through each resource's default, and anything else through a last-resort
//! middleware.

pub mod access;
pub mod body;
pub mod client_ip;
pub mod deliveries;
pub mod error;
pub mod idempotency;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod rate_limit;
pub mod reports;
pub mod server;
pub mod service;

use actix::Addr;
use actix_web::middleware::ErrorHandlers;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::registry::JobRegistry;
use crate::webhook::Webhooks;
use error::ApiError;

/// What every handler needs.
#[derive(Clone)]
pub struct AppState {
    pub registry: Addr<JobRegistry>,
    pub max_volume_bytes: u64,
    /// The data directory; `data_path` in requests is relative to it.
    pub data_dir: std::path::PathBuf,
    /// API keys and rate limits (read by the [`access::guard`] middleware).
    pub access: web::Data<access::Access>,
    pub idempotency: std::sync::Arc<idempotency::IdempotencyStore>,
    pub webhooks: Webhooks,
    /// Whether the result cache may answer submissions (operator setting).
    pub result_cache: bool,
}

/// Registers every route, the extractor error handlers and the 404/405
/// handlers on an app.
pub fn configure(config: &mut web::ServiceConfig, state: web::Data<AppState>) {
    config
        .app_data(state.access.clone())
        .app_data(state)
        .app_data(
            web::JsonConfig::default()
                .limit(body::MAX_BODY_BYTES)
                .error_handler(error::json_config_error),
        )
        .app_data(web::PathConfig::default().error_handler(error::path_config_error))
        .app_data(web::QueryConfig::default().error_handler(error::query_config_error))
        .service(resource("/", &["GET"]).route(web::get().to(service::root)))
        .service(resource("/health", &["GET"]).route(web::get().to(service::health)))
        .service(resource("/openapi.json", &["GET"]).route(web::get().to(service::openapi)))
        .service(resource("/metrics", &["GET"]).route(web::get().to(metrics::metrics)))
        .service(resource("/benchmark", &["POST"]).route(web::post().to(jobs::submit)))
        .service(
            resource("/webhook/benchmark", &["POST"]).route(web::post().to(jobs::submit_legacy)),
        )
        .service(resource("/status/{job_id}", &["GET"]).route(web::get().to(jobs::status)))
        .service(resource("/jobs", &["GET"]).route(web::get().to(jobs::list)))
        .service(
            resource("/jobs/{job_id}", &["GET", "DELETE"])
                .route(web::get().to(reports::job))
                .route(web::delete().to(jobs::cancel)),
        )
        .service(
            resource("/jobs/{job_id}/report.html", &["GET"])
                .route(web::get().to(reports::report_html)),
        )
        .service(
            resource("/jobs/{job_id}/results.csv", &["GET"])
                .route(web::get().to(reports::results_csv)),
        )
        .service(
            resource("/jobs/{job_id}/report.svg", &["GET"])
                .route(web::get().to(reports::report_svg)),
        )
        .service(
            resource("/jobs/{job_id}/deliveries", &["GET"])
                .route(web::get().to(deliveries::deliveries)),
        )
        .default_service(web::to(route_not_found));
}

/// The last-resort middleware that makes any error response JSON.
pub fn json_errors<B: actix_web::body::MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(error::json_fallback)
}

/// A resource whose other methods answer 405 with the allowed ones.
fn resource(path: &str, allowed: &'static [&'static str]) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move |request: HttpRequest| async move {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed {
            method: request.method().to_string(),
            path: request.path().to_string(),
            allowed: allowed.join(", "),
        })
    }))
}

async fn route_not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound {
        path: request.path().to_string(),
    })
}
