//! Reading a JSON request body: content type, size limit, then
//! [`spec::decode`](crate::spec::decode) for errors that name the field.

use actix_web::{HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::spec;

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Reads and parses a JSON body of at most [`MAX_BODY_BYTES`].
///
/// A missing content type is read as JSON (some clients omit it); any other
/// type than `application/json` or `application/*+json` is refused.
pub async fn read_json<T: DeserializeOwned>(
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<T, ApiError> {
    let body = read_body(request, payload).await?;
    Ok(spec::decode(&body)?)
}

/// Reads a body declared as JSON, of at most [`MAX_BODY_BYTES`], without
/// parsing it.
pub async fn read_body(
    request: &HttpRequest,
    mut payload: web::Payload,
) -> Result<web::Bytes, ApiError> {
    check_content_type(request)?;
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }

    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::Payload(e.to_string()))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn check_content_type(request: &HttpRequest) -> Result<(), ApiError> {
    let content_type = request.content_type().trim().to_ascii_lowercase();
    let is_json = content_type.is_empty()
        || content_type == "application/json"
        || (content_type.starts_with("application/") && content_type.ends_with("+json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(content_type))
    }
}
