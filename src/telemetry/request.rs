//! The outermost HTTP middleware: gives every request an id, runs it inside
//! one `request` span, returns the id in `x-request-id`, and counts the
//! request and its latency by method, route pattern and status.
//!
//! An incoming `x-request-id` (for example nginx's `$request_id`) is kept when
//! it is 1 to 64 characters of letters, digits, `-`, `_` or `.`; otherwise a
//! new UUID is used. Only the route pattern (`/status/{job_id}`) is logged and
//! counted, never the path, query, headers or body.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;
use uuid::Uuid;

use super::metrics;

/// The header carrying the request id, both ways.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// The longest incoming request id that is kept.
const MAX_REQUEST_ID_LEN: usize = 64;
/// The route label of requests that matched no route.
const UNMATCHED_ROUTE: &str = "unmatched";

/// The middleware; register it with `actix_web::middleware::from_fn(observe)`
/// as the last `wrap` so that it sees the final status of every response.
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = incoming_request_id(&request).unwrap_or_else(|| Uuid::new_v4().to_string());
    let method = method_label(request.method());
    let route = request
        .match_pattern()
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method,
        route = %route,
        status = tracing::field::Empty,
    );

    // The request must not be cloned before routing (actix panics), so an
    // error that escapes every inner layer is counted but carries no header.
    let outcome = next.call(request).instrument(span.clone()).await;
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    }
    .as_u16();
    let seconds = started.elapsed().as_secs_f64();
    span.record("status", status);
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, latency_seconds = seconds, "request failed");
        } else {
            tracing::debug!(status, latency_seconds = seconds, "request answered");
        }
    });
    metrics::http_request(method, route, status, seconds);

    let mut response = outcome?.map_into_boxed_body();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(response)
}

/// The caller's request id when it is short and plain enough to log.
fn incoming_request_id(request: &ServiceRequest) -> Option<String> {
    let value = request.headers().get(&REQUEST_ID_HEADER)?.to_str().ok()?;
    let plain = !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    plain.then(|| value.to_string())
}

/// Standard methods by name; anything else is `other`, so clients cannot
/// create label values.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn with_id(id: &str) -> ServiceRequest {
        TestRequest::default()
            .insert_header((REQUEST_ID_HEADER, id))
            .to_srv_request()
    }

    #[test]
    fn a_plain_incoming_request_id_is_kept() {
        let id = "0f3c2a9e8b7d4c1a9e8b7d4c1a0f3c2a";
        assert_eq!(incoming_request_id(&with_id(id)).as_deref(), Some(id));
    }

    #[test]
    fn odd_or_long_request_ids_are_replaced() {
        assert_eq!(incoming_request_id(&with_id("a b")), None);
        assert_eq!(incoming_request_id(&with_id(&"x".repeat(65))), None);
    }

    #[test]
    fn unknown_methods_share_one_label() {
        let method = Method::from_bytes(b"BREW").expect("method");
        assert_eq!(method_label(&method), "other");
    }
}
