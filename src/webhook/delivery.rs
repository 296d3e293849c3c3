//! The delivery loop: a thread of its own with a small tokio runtime, one
//! task per delivery, so a slow or dead receiver delays nothing but its own
//! events, and never a worker or the registry.
//!
//! Each attempt re-checks the URL (SSRF guard), signs the body with a fresh
//! `webhook-timestamp` and the delivery's fixed `webhook-id`, and POSTs it
//! without following redirects. A 2xx answer ends the delivery; `410 Gone`
//! ends it for good; anything else (timeouts, connection errors, other
//! statuses, redirects) waits the next delay of the retry schedule, plus up
//! to 10% jitter, or the receiver's `Retry-After` when that is longer (at
//! most a day), until the schedule is used up.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER, USER_AGENT};
use tokio::sync::mpsc::UnboundedReceiver;

use super::secret::{Secret, random_bytes};
use super::store::{Attempt, Delivery, DeliveryState, DeliveryStore};
use super::target::{self, GuardedResolver, TargetError};
use crate::config::WebhookSettings;
use crate::registry::job::{format_time, now};

/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// What the delivery tasks share.
pub(super) struct Deliverer {
    pub store: Arc<Mutex<DeliveryStore>>,
    pub secret: Secret,
    pub settings: WebhookSettings,
    pub client: reqwest::Client,
}

/// How one attempt ended.
enum Outcome {
    Delivered(StatusCode),
    Gone,
    Refused(TargetError),
    Failed {
        status: Option<StatusCode>,
        error: String,
        retry_after: Option<Duration>,
    },
}

impl Deliverer {
    pub fn client(settings: &WebhookSettings) -> Result<reqwest::Client, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .pool_max_idle_per_host(2);
        if !settings.allow_private {
            builder = builder.dns_resolver(Arc::new(GuardedResolver));
        }
        builder.build()
    }

    /// Resumes stored pending deliveries, then takes new ones as they come.
    pub async fn run(self: Arc<Self>, mut incoming: UnboundedReceiver<Delivery>) {
        let resumed = self.lock_store().pending().unwrap_or_else(|error| {
            tracing::error!(%error, "cannot read pending webhook deliveries");
            Vec::new()
        });
        if !resumed.is_empty() {
            tracing::info!(
                deliveries = resumed.len(),
                "pending webhook deliveries resumed"
            );
        }
        for delivery in resumed {
            tokio::spawn(self.clone().deliver(delivery));
        }
        while let Some(delivery) = incoming.recv().await {
            tokio::spawn(self.clone().deliver(delivery));
        }
    }

    fn lock_store(&self) -> std::sync::MutexGuard<'_, DeliveryStore> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Attempts one delivery until it succeeds, is refused or runs out of
    /// attempts.
    async fn deliver(self: Arc<Self>, mut delivery: Delivery) {
        while delivery.state == DeliveryState::Pending {
            if let Some(due) = delivery.next_attempt_at {
                let wait = (due - Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
            }

            let started = Instant::now();
            let attempted_at = format_time(&now());
            let outcome = self.attempt(&delivery).await;
            delivery.attempts += 1;
            let (status_code, error) = self.next_state(&mut delivery, &outcome);
            let attempt = Attempt {
                attempt: delivery.attempts,
                attempted_at,
                status_code,
                error,
                duration_ms: started.elapsed().as_millis() as u64,
            };
            tracing::info!(
                webhook_id = %delivery.id,
                job_id = %delivery.job_id,
                attempt = attempt.attempt,
                status_code = attempt.status_code,
                error = attempt.error.as_deref(),
                state = delivery.state.name(),
                "webhook attempt"
            );
            if let Err(error) = self.lock_store().record_attempt(&delivery, &attempt) {
                tracing::error!(webhook_id = %delivery.id, %error, "cannot record webhook attempt");
            }
        }
        let outcome = delivery.state.name();
        metrics::counter!("zarrbench_webhook_deliveries_total", "outcome" => outcome).increment(1);
    }

    /// Moves the delivery on after an attempt; returns the status and error
    /// to record.
    fn next_state(
        &self,
        delivery: &mut Delivery,
        outcome: &Outcome,
    ) -> (Option<u16>, Option<String>) {
        delivery.next_attempt_at = None;
        match outcome {
            Outcome::Delivered(status) => {
                delivery.state = DeliveryState::Delivered;
                (Some(status.as_u16()), None)
            }
            Outcome::Gone => {
                delivery.state = DeliveryState::Gone;
                (
                    Some(410),
                    Some("410 Gone: the receiver asked for no more deliveries".into()),
                )
            }
            Outcome::Refused(refusal) => {
                delivery.state = DeliveryState::Refused;
                (None, Some(refusal.to_string()))
            }
            Outcome::Failed {
                status,
                error,
                retry_after,
            } => {
                let schedule = &self.settings.retry_schedule;
                match schedule.get(delivery.attempts as usize) {
                    Some(delay) => {
                        let wait = with_jitter(*delay).max(retry_after.unwrap_or_default());
                        let wait = chrono::Duration::from_std(wait).unwrap_or_default();
                        delivery.next_attempt_at = Some(now() + wait);
                        metrics::counter!("zarrbench_webhook_deliveries_total", "outcome" => "retry")
                            .increment(1);
                    }
                    None => delivery.state = DeliveryState::Exhausted,
                }
                (status.map(|s| s.as_u16()), Some(error.clone()))
            }
        }
    }

    async fn attempt(&self, delivery: &Delivery) -> Outcome {
        let url = match target::check(&delivery.url, self.settings.allow_private).await {
            Ok(url) => url,
            Err(refusal @ (TargetError::Forbidden { .. } | TargetError::Invalid(_))) => {
                return Outcome::Refused(refusal);
            }
            Err(unresolvable) => {
                return Outcome::Failed {
                    status: None,
                    error: unresolvable.to_string(),
                    retry_after: None,
                };
            }
        };

        let timestamp = Utc::now().timestamp();
        let signature = self.secret.sign(&delivery.id, timestamp, &delivery.payload);
        let sent = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("zarrbench/", env!("CARGO_PKG_VERSION")))
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.payload.clone())
            .send()
            .await;

        match sent {
            Ok(response) if response.status().is_success() => Outcome::Delivered(response.status()),
            Ok(response) if response.status() == StatusCode::GONE => Outcome::Gone,
            Ok(response) => {
                let status = response.status();
                let error = if status.is_redirection() {
                    format!(
                        "{status}: redirects are not followed; point callback_url at the final URL"
                    )
                } else {
                    format!("the receiver answered {status}")
                };
                Outcome::Failed {
                    status: Some(status),
                    error,
                    retry_after: retry_after(response.headers()),
                }
            }
            Err(error) => Outcome::Failed {
                status: None,
                error: describe(&error, self.settings.timeout),
                retry_after: None,
            },
        }
    }
}

/// `Retry-After` in seconds or as an HTTP date, at most a day.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let date = chrono::DateTime::parse_from_rfc2822(text).ok()?;
            (date.with_timezone(&Utc) - Utc::now()).to_std().ok()?
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The delay plus up to 10% random jitter, so retries from many jobs spread.
fn with_jitter(delay: Duration) -> Duration {
    let bytes = random_bytes(4);
    let fraction = f64::from(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        / f64::from(u32::MAX);
    delay.mul_f64(1.0 + 0.1 * fraction)
}

/// A short, operator-readable cause of a transport error.
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("timed out after {} s", timeout.as_secs());
    }
    let mut text = if error.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_caps_at_a_day() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(RETRY_AFTER, "999999999".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn jitter_adds_at_most_ten_percent() {
        for _ in 0..100 {
            let waited = with_jitter(Duration::from_secs(100));
            assert!(waited >= Duration::from_secs(100) && waited <= Duration::from_secs(110));
        }
    }
}
