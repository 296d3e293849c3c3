//! `Idempotency-Key` for the submission routes (IETF draft
//! "The Idempotency-Key HTTP Header Field").
//!
//! A key is scoped to its client (API key, else peer address) and kept for
//! [`KEY_LIFETIME`] (24 hours) in SQLite, beside the jobs, so it survives a
//! restart. The request is fingerprinted as SHA-256 over the route and the
//! body's canonical JSON (key order and whitespace do not matter):
//!
//! - first use: the key is claimed, the request runs, and a success answer
//!   (status, body, `Location`) is stored; a refused request releases the key
//!   so the client can fix it and retry with the same key;
//! - same key, same fingerprint: the stored answer again, with
//!   `Idempotent-Replayed: true`, and no new job;
//! - same key, another fingerprint: `422 idempotency-key-reused`;
//! - same key while the first request is still running: `409
//!   idempotency-key-in-use` (a claim older than a minute is taken over).

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::registry::job::{format_time, now};
use crate::registry::store::DATABASE_FILE;

/// How long a key is remembered.
pub const KEY_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// The header.
pub const HEADER: &str = "idempotency-key";
/// Longest accepted key.
const MAX_KEY_LEN: usize = 255;
/// A claim without an answer older than this is considered abandoned.
const STALE_CLAIM: Duration = Duration::from_secs(60);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS idempotency_keys (
    client TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    location TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (client, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_by_age ON idempotency_keys (created_at);
";

/// A submission's answer, kept to be replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: StatusCode,
    pub location: String,
    pub body: serde_json::Value,
}

impl Answer {
    pub fn response(&self, replayed: bool) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::LOCATION, self.location.clone()));
        if replayed {
            response.insert_header(("idempotent-replayed", "true"));
        }
        response.json(&self.body)
    }
}

/// A stored key: fingerprint, answer status, body and location (null while
/// the first request runs), and when it was claimed.
type StoredKey = (String, Option<u16>, Option<String>, Option<String>, String);

/// What to do with a request carrying a key.
#[derive(Debug)]
pub enum Claim {
    /// No key sent: just run it.
    None,
    /// The key is now ours: run, then [`IdempotencyStore::complete`] or
    /// [`IdempotencyStore::release`].
    New { client: String, key: String },
    /// Answered before: send this again.
    Replay(Answer),
}

/// The keys table, on its own connection.
pub struct IdempotencyStore {
    connection: Mutex<Connection>,
}

impl IdempotencyStore {
    pub fn open(data_dir: &Path) -> Result<IdempotencyStore, rusqlite::Error> {
        let connection = Connection::open(data_dir.join(DATABASE_FILE))?;
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.execute_batch(SCHEMA)?;
        Ok(IdempotencyStore {
            connection: Mutex::new(connection),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads the request's key (if any) and claims it or finds its answer.
    pub fn claim(
        &self,
        request: &HttpRequest,
        client: &str,
        route: &str,
        body: &[u8],
    ) -> Result<Claim, ApiError> {
        let Some(key) = key_of(request)? else {
            return Ok(Claim::None);
        };
        let fingerprint = fingerprint(route, body);
        let store_failed = |e: rusqlite::Error| ApiError::StoreFailed(e.to_string());

        let mut connection = self.lock();
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(store_failed)?;
        let expired = now() - chrono::Duration::from_std(KEY_LIFETIME).unwrap_or_default();
        transaction
            .execute(
                "DELETE FROM idempotency_keys WHERE created_at < ?1",
                [format_time(&expired)],
            )
            .map_err(store_failed)?;
        let found: Option<StoredKey> = transaction
            .query_row(
                "SELECT fingerprint, status, body, location, created_at FROM idempotency_keys
                     WHERE client = ?1 AND key = ?2",
                params![client, key],
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                },
            )
            .optional()
            .map_err(store_failed)?;

        let claim = match found {
            Some((stored, _, _, _, _)) if stored != fingerprint => {
                return Err(ApiError::IdempotencyKeyReused);
            }
            Some((_, Some(status), Some(body), location, _)) => Claim::Replay(Answer {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                location: location.unwrap_or_default(),
                body: serde_json::from_str(&body).unwrap_or_default(),
            }),
            Some((_, _, _, _, created)) if !is_stale(&created) => {
                return Err(ApiError::IdempotencyKeyInUse);
            }
            _ => {
                transaction
                    .execute(
                        "INSERT OR REPLACE INTO idempotency_keys (client, key, fingerprint, created_at)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![client, key, fingerprint, format_time(&now())],
                    )
                    .map_err(store_failed)?;
                Claim::New {
                    client: client.to_string(),
                    key,
                }
            }
        };
        transaction.commit().map_err(store_failed)?;
        Ok(claim)
    }

    /// Stores the answer of a claimed key.
    pub fn complete(&self, claim: &Claim, answer: &Answer) {
        let Claim::New { client, key } = claim else {
            return;
        };
        let stored = self.lock().execute(
            "UPDATE idempotency_keys SET status = ?3, body = ?4, location = ?5 WHERE client = ?1 AND key = ?2",
            params![
                client,
                key,
                answer.status.as_u16(),
                answer.body.to_string(),
                answer.location
            ],
        );
        if let Err(error) = stored {
            tracing::error!(%error, "cannot store the answer of an idempotent request");
        }
    }

    /// Frees a claimed key after a refused request.
    pub fn release(&self, claim: &Claim) {
        let Claim::New { client, key } = claim else {
            return;
        };
        let deleted = self.lock().execute(
            "DELETE FROM idempotency_keys WHERE client = ?1 AND key = ?2 AND status IS NULL",
            params![client, key],
        );
        if let Err(error) = deleted {
            tracing::error!(%error, "cannot release an idempotency key");
        }
    }
}

fn key_of(request: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = request.headers().get(HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(|k| k.trim().trim_matches('"'))
        .filter(|k| {
            !k.is_empty() && k.len() <= MAX_KEY_LEN && k.chars().all(|c| c.is_ascii_graphic())
        })
        .ok_or_else(|| {
            ApiError::InvalidIdempotencyKey(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters, e.g. a UUID"
            ))
        })?;
    Ok(Some(key.to_string()))
}

/// SHA-256 of the route and the body's canonical JSON (the raw bytes when
/// the body is not JSON).
fn fingerprint(route: &str, body: &[u8]) -> String {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .map(|value| sorted(value).to_string().into_bytes())
        .unwrap_or_else(|_| body.to_vec());
    let mut hasher = Sha256::new();
    hasher.update(route.as_bytes());
    hasher.update([0]);
    hasher.update(&canonical);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The value with every object's keys in sorted order (serde_json may keep
/// insertion order when a dependency enables `preserve_order`).
fn sorted(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

fn is_stale(created: &str) -> bool {
    crate::registry::job::parse_time(created)
        .is_none_or(|at| (now() - at).to_std().unwrap_or_default() > STALE_CLAIM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_and_whitespace_do_not_change_the_fingerprint() {
        let a = fingerprint("/benchmark", br#"{"shape":[8],"dataset_type":"sem"}"#);
        let b = fingerprint(
            "/benchmark",
            b"{ \"dataset_type\": \"sem\", \"shape\": [8] }",
        );
        assert_eq!(a, b);
        assert_ne!(
            a,
            fingerprint(
                "/webhook/benchmark",
                br#"{"shape":[8],"dataset_type":"sem"}"#
            )
        );
    }
}
