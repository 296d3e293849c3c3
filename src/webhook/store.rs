//! Webhook deliveries in SQLite, beside the jobs (same database file, its own
//! connection): one row per event in `webhook_deliveries`, one per attempt in
//! `webhook_attempts`. A delivery that is still `pending` when the process
//! stops is picked up again at the next start.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, params};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::registry::job::{format_time, parse_time};
use crate::registry::store::DATABASE_FILE;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    url TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_job ON webhook_deliveries (job_id);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_state ON webhook_deliveries (state);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    delivery_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    attempted_at TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
";

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Another attempt is due at `next_attempt_at`.
    Pending,
    /// A 2xx answer was received.
    Delivered,
    /// The receiver answered 410 Gone: no more attempts.
    Gone,
    /// Every attempt of the retry schedule failed.
    Exhausted,
    /// The URL now resolves to a forbidden address (SSRF guard).
    Refused,
}

impl DeliveryState {
    pub fn name(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Gone => "gone",
            DeliveryState::Exhausted => "exhausted",
            DeliveryState::Refused => "refused",
        }
    }

    fn parse(name: &str) -> DeliveryState {
        match name {
            "delivered" => DeliveryState::Delivered,
            "gone" => DeliveryState::Gone,
            "exhausted" => DeliveryState::Exhausted,
            "refused" => DeliveryState::Refused,
            _ => DeliveryState::Pending,
        }
    }
}

/// One event to deliver to one URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The `webhook-id`, the same on every attempt.
    pub id: String,
    pub job_id: Uuid,
    pub url: String,
    pub event_type: String,
    /// The exact body sent (and signed).
    pub payload: String,
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// One attempt as `GET /jobs/{job_id}/deliveries` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    #[schema(format = DateTime)]
    pub attempted_at: String,
    /// The receiver's HTTP status, null when no answer came.
    pub status_code: Option<u16>,
    /// What went wrong, null on success.
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// The deliveries table.
pub struct DeliveryStore {
    connection: Connection,
}

impl DeliveryStore {
    /// Opens the job database in `data_dir` and creates the tables.
    pub fn open(data_dir: &Path) -> Result<DeliveryStore, rusqlite::Error> {
        let connection = Connection::open(data_dir.join(DATABASE_FILE))?;
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.execute_batch(SCHEMA)?;
        Ok(DeliveryStore { connection })
    }

    pub fn insert(&self, delivery: &Delivery) -> Result<(), rusqlite::Error> {
        self.connection.execute(
            "INSERT INTO webhook_deliveries (id, job_id, url, event_type, payload, state, attempts, next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                delivery.id,
                delivery.job_id.to_string(),
                delivery.url,
                delivery.event_type,
                delivery.payload,
                delivery.state.name(),
                delivery.attempts,
                delivery.next_attempt_at.as_ref().map(format_time),
                format_time(&delivery.created_at),
            ],
        )?;
        Ok(())
    }

    /// Records an attempt and the delivery's new state in one transaction.
    pub fn record_attempt(
        &mut self,
        delivery: &Delivery,
        attempt: &Attempt,
    ) -> Result<(), rusqlite::Error> {
        let transaction = self.connection.transaction()?;
        transaction.execute(
            "INSERT OR REPLACE INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, error, duration_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                delivery.id,
                attempt.attempt,
                attempt.attempted_at,
                attempt.status_code,
                attempt.error,
                attempt.duration_ms,
            ],
        )?;
        transaction.execute(
            "UPDATE webhook_deliveries SET state = ?2, attempts = ?3, next_attempt_at = ?4 WHERE id = ?1",
            params![
                delivery.id,
                delivery.state.name(),
                delivery.attempts,
                delivery.next_attempt_at.as_ref().map(format_time),
            ],
        )?;
        transaction.commit()
    }

    /// Deliveries still to attempt, oldest first.
    pub fn pending(&self) -> Result<Vec<Delivery>, rusqlite::Error> {
        self.select("WHERE state = 'pending' ORDER BY created_at ASC", params![])
    }

    /// A job's deliveries with their attempts, oldest first.
    pub fn for_job(&self, job_id: Uuid) -> Result<Vec<(Delivery, Vec<Attempt>)>, rusqlite::Error> {
        let deliveries = self.select(
            "WHERE job_id = ?1 ORDER BY created_at ASC",
            params![job_id.to_string()],
        )?;
        let mut statement = self.connection.prepare_cached(
            "SELECT attempt, attempted_at, status_code, error, duration_ms FROM webhook_attempts
             WHERE delivery_id = ?1 ORDER BY attempt ASC",
        )?;
        let mut listed = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            let attempts = statement
                .query_map([&delivery.id], |row| {
                    Ok(Attempt {
                        attempt: row.get(0)?,
                        attempted_at: row.get(1)?,
                        status_code: row.get(2)?,
                        error: row.get(3)?,
                        duration_ms: row.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            listed.push((delivery, attempts));
        }
        Ok(listed)
    }

    /// Deletes finished deliveries created before `cutoff`; returns how many.
    pub fn prune(&mut self, cutoff: DateTime<Utc>) -> Result<usize, rusqlite::Error> {
        let transaction = self.connection.transaction()?;
        transaction.execute(
            "DELETE FROM webhook_attempts WHERE delivery_id IN
             (SELECT id FROM webhook_deliveries WHERE state != 'pending' AND created_at < ?1)",
            [format_time(&cutoff)],
        )?;
        let deleted = transaction.execute(
            "DELETE FROM webhook_deliveries WHERE state != 'pending' AND created_at < ?1",
            [format_time(&cutoff)],
        )?;
        transaction.commit()?;
        Ok(deleted)
    }

    fn select(
        &self,
        filter: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Delivery>, rusqlite::Error> {
        let sql = format!(
            "SELECT id, job_id, url, event_type, payload, state, attempts, next_attempt_at, created_at
             FROM webhook_deliveries {filter}"
        );
        let mut statement = self.connection.prepare_cached(&sql)?;
        let rows = statement.query_map(params, read_row)?;
        rows.collect()
    }
}

fn read_row(row: &Row<'_>) -> Result<Delivery, rusqlite::Error> {
    let job_id: String = row.get(1)?;
    let state: String = row.get(5)?;
    let next: Option<String> = row.get(7)?;
    let created: String = row.get(8)?;
    Ok(Delivery {
        id: row.get(0)?,
        job_id: Uuid::parse_str(&job_id).unwrap_or_default(),
        url: row.get(2)?,
        event_type: row.get(3)?,
        payload: row.get(4)?,
        state: DeliveryState::parse(&state),
        attempts: row.get(6)?,
        next_attempt_at: next.as_deref().and_then(parse_time),
        created_at: parse_time(&created).unwrap_or_else(crate::registry::job::now),
    })
}
