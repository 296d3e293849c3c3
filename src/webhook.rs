//! Webhook callbacks: when a job with a `callback_url` ends (completed,
//! failed or cancelled), the service POSTs an event to it, signed per the
//! Standard Webhooks specification.
//!
//! - [`event`] builds the body; [`secret`] holds the signing key and signs;
//!   [`target`] is the SSRF guard; [`store`] persists deliveries and
//!   attempts in SQLite; [`delivery`] runs the attempts and retries.
//! - The registry calls [`Webhooks::enqueue`] after the job's final state is
//!   stored: the delivery is written to the store first, then handed to the
//!   delivery thread, so a restart never loses one that is due.
//! - Nothing here runs on a worker thread or on the registry's: attempts run
//!   on the delivery thread's own runtime.

pub mod delivery;
pub mod event;
pub mod secret;
pub mod store;
pub mod target;

use std::path::Path;
use std::sync::{Arc, Mutex};

use thiserror::Error;
use tokio::sync::mpsc::{self, UnboundedSender};
use uuid::Uuid;

use crate::config::WebhookSettings;
use crate::registry::job::{JobRecord, now};
use delivery::Deliverer;
use secret::{Secret, SecretError};
use store::{Attempt, Delivery, DeliveryState, DeliveryStore};

/// Finished deliveries older than this many days are deleted at start.
const DELIVERY_RETENTION_DAYS: i64 = 30;

/// Why webhook delivery could not start.
#[derive(Debug, Error)]
pub enum WebhookError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The deliveries table could not be opened.
    #[error("cannot open the webhook delivery store: {0}")]
    Store(#[from] rusqlite::Error),
    /// The HTTP client or the delivery thread could not start.
    #[error("cannot start webhook delivery: {0}")]
    Start(String),
}

/// The handle the registry and the API use; cheap to clone.
#[derive(Clone)]
pub struct Webhooks {
    store: Arc<Mutex<DeliveryStore>>,
    sender: UnboundedSender<Delivery>,
    settings: Arc<WebhookSettings>,
}

impl Webhooks {
    /// Loads (or creates) the secret, opens the deliveries table, and starts
    /// the delivery thread, which resumes every pending delivery.
    pub fn start(data_dir: &Path, settings: &WebhookSettings) -> Result<Webhooks, WebhookError> {
        let secret = Secret::load_or_create(data_dir, settings.secret.as_deref())?;
        let mut store = DeliveryStore::open(data_dir)?;
        let cutoff = now() - chrono::Duration::days(DELIVERY_RETENTION_DAYS);
        store.prune(cutoff)?;
        let store = Arc::new(Mutex::new(store));
        let client = Deliverer::client(settings).map_err(|e| WebhookError::Start(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| WebhookError::Start(e.to_string()))?;

        let (sender, receiver) = mpsc::unbounded_channel();
        let deliverer = Arc::new(Deliverer {
            store: store.clone(),
            secret,
            settings: settings.clone(),
            client,
        });
        std::thread::Builder::new()
            .name("webhook-delivery".into())
            .spawn(move || runtime.block_on(deliverer.run(receiver)))
            .map_err(|e| WebhookError::Start(e.to_string()))?;
        if settings.allow_private {
            tracing::warn!(
                "BENCHMARK_WEBHOOK_ALLOW_PRIVATE is set: callbacks may reach loopback and private addresses"
            );
        }
        Ok(Webhooks {
            store,
            sender,
            settings: Arc::new(settings.clone()),
        })
    }

    /// Whether callback URLs may point at private addresses.
    pub fn allow_private(&self) -> bool {
        self.settings.allow_private
    }

    /// Stores and schedules the event of a job that reached a final state;
    /// does nothing for a job without `callback_url`.
    pub fn enqueue(&self, job: &JobRecord) {
        let Some(url) = job.callback_url.clone() else {
            return;
        };
        let event = event::build(job, self.settings.public_url.as_deref());
        let first_delay = self
            .settings
            .retry_schedule
            .first()
            .copied()
            .unwrap_or_default();
        let delivery = Delivery {
            id: format!("msg_{}", Uuid::new_v4().simple()),
            job_id: job.id,
            url,
            event_type: event::event_type(job.status),
            payload: event.to_string(),
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: Some(
                now() + chrono::Duration::from_std(first_delay).unwrap_or_default(),
            ),
            created_at: now(),
        };

        let stored = self
            .store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(&delivery);
        if let Err(error) = stored {
            tracing::error!(job_id = %job.id, %error, "cannot store webhook delivery; it is attempted but not persisted");
        }
        tracing::info!(job_id = %job.id, webhook_id = %delivery.id, event_type = %delivery.event_type, "webhook queued");
        if self.sender.send(delivery).is_err() {
            tracing::error!(job_id = %job.id, "webhook delivery thread stopped; the delivery runs after a restart");
        }
    }

    /// A job's deliveries and their attempts.
    pub fn deliveries(
        &self,
        job_id: Uuid,
    ) -> Result<Vec<(Delivery, Vec<Attempt>)>, rusqlite::Error> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .for_job(job_id)
    }
}

/// Describes the webhook metrics (call after the recorder is installed).
pub fn describe_metrics() {
    metrics::describe_counter!(
        "zarrbench_webhook_deliveries_total",
        "Webhook deliveries by outcome: delivered, gone (410), exhausted (retries used up), refused (SSRF guard), retry (an attempt failed and another is scheduled)"
    );
}
