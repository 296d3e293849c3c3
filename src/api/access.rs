//! Who may call the API and how often: a middleware that checks the bearer
//! key, then the client's rate limit, before any handler runs.
//!
//! - **Authentication**: with keys configured, every request except
//!   `GET /health` needs `Authorization: Bearer <key>`. The presented key is
//!   hashed (SHA-256) and compared with every configured key's hash in
//!   constant time (`subtle`), so neither the key nor its length leaks
//!   through timing. Several keys may be active at once, for rotation.
//! - **Rate limits** ([`RateLimiter`]): the client is the key (by a hash
//!   prefix, never the key itself) or, without keys, the peer address.
//!   Submissions (`POST /benchmark`, `POST /webhook/benchmark`) take from a
//!   tight bucket, every other request from a looser one; answers carry
//!   `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`, and a
//!   refusal is `429` with `Retry-After`. `GET /health` is never limited.
//!   Behind a reverse proxy every connection has the proxy's address: list
//!   the proxy in `trusted_proxies` so that the client is taken from
//!   `X-Forwarded-For` ([`client_ip`](super::client_ip)), or configure API
//!   keys.

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::client_ip::{Network, client_ip};
use super::error::ApiError;
use super::rate_limit::{Quota, RateLimiter};
use crate::config::AccessSettings;

/// The client a request was counted against, for scoping idempotency keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId(pub String);

/// Keys and limiters, shared by every HTTP worker.
pub struct Access {
    key_hashes: Vec<[u8; 32]>,
    trusted_proxies: Vec<Network>,
    submissions: RateLimiter,
    reads: RateLimiter,
}

impl Access {
    /// Says once in the log whether the service runs open.
    pub fn new(settings: &AccessSettings) -> Access {
        if settings.api_keys.is_empty() {
            tracing::warn!(
                "no API key configured: every endpoint is open to anyone who can reach it; set BENCHMARK_API_KEY or --api-key-file"
            );
        } else {
            tracing::info!(
                keys = settings.api_keys.len(),
                "API keys required (Authorization: Bearer)"
            );
        }
        Access {
            key_hashes: settings
                .api_keys
                .iter()
                .map(|key| Sha256::digest(key.as_bytes()).into())
                .collect(),
            trusted_proxies: settings.trusted_proxies.clone(),
            submissions: RateLimiter::new(settings.submit_per_minute),
            reads: RateLimiter::new(settings.read_per_minute),
        }
    }

    /// The client's identity if the request may proceed: `key:<hash prefix>`
    /// with keys, `None` (use the peer address) without.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
        if self.key_hashes.is_empty() {
            return Ok(None);
        }
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "this endpoint needs an API key: send Authorization: Bearer <key>".into(),
                )
            })?;

        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut matched = subtle::Choice::from(0);
        for known in &self.key_hashes {
            matched |= known.ct_eq(&digest);
        }
        if bool::from(matched) {
            let prefix: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            Ok(Some(format!("key:{prefix}")))
        } else {
            Err(ApiError::Unauthorized(
                "the API key is not valid; check Authorization: Bearer <key>".into(),
            ))
        }
    }
}

fn is_submission(request: &ServiceRequest) -> bool {
    request.method() == Method::POST
        && matches!(request.path(), "/benchmark" | "/webhook/benchmark")
}

/// The middleware (install with `middleware::from_fn`).
pub async fn guard<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(access) = request.app_data::<web::Data<Access>>().cloned() else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    if request.method() == Method::GET && request.path() == "/health" {
        return Ok(next.call(request).await?.map_into_left_body());
    }

    let client = match access.authenticate(request.headers()) {
        Ok(Some(key)) => key,
        Ok(None) => format!(
            "ip:{}",
            client_ip(
                request.peer_addr().map(|a| a.ip()),
                request.headers(),
                &access.trusted_proxies
            )
            .map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
        ),
        Err(refusal) => {
            return Ok(request
                .into_response(refusal.error_response())
                .map_into_right_body());
        }
    };

    let (limiter, kind) = if is_submission(&request) {
        (&access.submissions, "submission")
    } else {
        (&access.reads, "read")
    };
    let quota = match limiter.check(&client, Instant::now()) {
        None => None,
        Some(Ok(quota)) => Some(quota),
        Some(Err(limited)) => {
            let refusal = ApiError::RateLimited {
                kind,
                limit: limited.quota.limit,
                retry_after_secs: limited.retry_after_secs,
            };
            let mut response = refusal.error_response();
            add_quota_headers(response.headers_mut(), &limited.quota);
            return Ok(request.into_response(response).map_into_right_body());
        }
    };

    request.extensions_mut().insert(ClientId(client));
    let mut response = next.call(request).await?;
    if let Some(quota) = quota {
        add_quota_headers(response.headers_mut(), &quota);
    }
    Ok(response.map_into_left_body())
}

fn add_quota_headers(headers: &mut HeaderMap, quota: &Quota) {
    let pairs = [
        ("ratelimit-limit", quota.limit.to_string()),
        ("ratelimit-remaining", quota.remaining.to_string()),
        ("ratelimit-reset", quota.reset_secs.to_string()),
        ("ratelimit-policy", format!("{};w=60", quota.limit)),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

/// The client a request was counted against (its key hash or peer address).
pub fn client_of(request: &actix_web::HttpRequest) -> String {
    if let Some(client) = request.extensions().get::<ClientId>() {
        return client.0.clone();
    }
    format!(
        "ip:{}",
        request
            .peer_addr()
            .map_or_else(|| "unknown".to_string(), |a| a.ip().to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(keys: &[&str]) -> Access {
        Access::new(&AccessSettings {
            api_keys: keys.iter().map(|k| k.to_string()).collect(),
            submit_per_minute: 0,
            read_per_minute: 0,
            trusted_proxies: Vec::new(),
        })
    }

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    #[test]
    fn any_configured_key_is_accepted_and_others_are_not() {
        let access = access(&["old-key-0123456789", "new-key-0123456789"]);
        assert!(
            access
                .authenticate(&with_authorization("Bearer old-key-0123456789"))
                .is_ok()
        );
        assert!(
            access
                .authenticate(&with_authorization("bearer new-key-0123456789"))
                .is_ok()
        );
        assert!(
            access
                .authenticate(&with_authorization("Bearer new-key-012345678"))
                .is_err()
        );
        assert!(
            access
                .authenticate(&with_authorization("Basic new-key-0123456789"))
                .is_err()
        );
        assert!(access.authenticate(&HeaderMap::new()).is_err());
    }
}
