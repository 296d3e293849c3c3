//! `GET /jobs/{job_id}/deliveries`: the webhook deliveries of a job and
//! every attempt (time, status code, error), read from the delivery store.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use crate::registry::job::format_time;
use crate::registry::messages::GetJob;
use crate::webhook::store::{Attempt, DeliveryState};

/// Answer to `GET /jobs/{job_id}/deliveries`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryList {
    pub job_id: Uuid,
    /// The job's callback URL, null when it has none.
    pub callback_url: Option<String>,
    /// One per event, oldest first (a job sends one event when it ends).
    pub deliveries: Vec<DeliveryView>,
}

/// One webhook event and its attempts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryView {
    /// The `webhook-id` header, the same on every attempt.
    pub webhook_id: String,
    /// e.g. `benchmark.completed`.
    pub event_type: String,
    pub state: DeliveryState,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When the next attempt is due (pending deliveries only).
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
    pub attempts: Vec<Attempt>,
}

/// A job's webhook deliveries and their attempts.
#[utoipa::path(get, path = "/jobs/{job_id}/deliveries", tag = "jobs",
    params(("job_id" = Uuid, Path, description = "The id returned at submission")),
    responses(
        (status = 200, description = "The job's deliveries", body = DeliveryList),
        (status = 400, description = "Not a UUID", body = ErrorBody),
        (status = 401, description = "Missing or wrong API key", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 429, description = "Rate limit reached; see Retry-After", body = ErrorBody),
        (status = 503, description = "Store unavailable", body = ErrorBody),
    ))]
pub async fn deliveries(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&path).map_err(|_| {
        ApiError::BadPath(format!(
            "job_id '{}' is not a UUID; use the job_id returned at submission",
            path.as_str()
        ))
    })?;
    let job = state.registry.send(GetJob(id)).await??;
    let webhooks = state.webhooks.clone();
    let listed = web::block(move || webhooks.deliveries(id))
        .await
        .map_err(|e| ApiError::StoreFailed(e.to_string()))?
        .map_err(|e| ApiError::StoreFailed(e.to_string()))?;
    let deliveries = listed
        .into_iter()
        .map(|(delivery, attempts)| DeliveryView {
            webhook_id: delivery.id,
            event_type: delivery.event_type,
            state: delivery.state,
            created_at: format_time(&delivery.created_at),
            next_attempt_at: delivery.next_attempt_at.as_ref().map(format_time),
            attempts,
        })
        .collect();
    Ok(HttpResponse::Ok().json(DeliveryList {
        job_id: id,
        callback_url: job.callback_url,
        deliveries,
    }))
}
