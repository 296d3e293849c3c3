//! Where jobs are kept: the [`JobStore`] interface and its SQLite backend.
//!
//! SQLite (bundled) in WAL mode with `synchronous = FULL` in the data
//! directory: a job written here survives `kill -9` and power loss. Only the
//! registry actor talks to the store, so one connection suffices. Another
//! backend (e.g. a PostgreSQL queue shared by several nodes) implements the
//! same trait.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use thiserror::Error;
use uuid::Uuid;

use super::job::{
    JobRecord, JobStatus, Progress, RequestForm, StatusCounts, format_time, parse_time,
};
use crate::benchmark::BenchmarkSpec;

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "zarrbench.sqlite3";

/// A store operation that failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database refused or failed the operation.
    #[error("job store error: {0}")]
    Database(#[from] rusqlite::Error),
    /// A stored row could not be read back.
    #[error("job store holds an unreadable row for job {id}: {reason}")]
    Corrupt { id: String, reason: String },
}

/// A page of jobs, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct JobPage {
    pub jobs: Vec<JobRecord>,
    /// Jobs matching the filter, over all pages.
    pub total: u64,
}

/// The operations the registry needs from a job store.
pub trait JobStore: Send {
    /// Adds a newly accepted job.
    fn insert(&mut self, job: &JobRecord) -> Result<(), StoreError>;
    /// Writes the job's state, timestamps, outcome, progress and attempts.
    fn update(&mut self, job: &JobRecord) -> Result<(), StoreError>;
    /// Writes progress only.
    fn update_progress(&mut self, id: Uuid, progress: Progress) -> Result<(), StoreError>;
    fn get(&self, id: Uuid) -> Result<Option<JobRecord>, StoreError>;
    /// Jobs newest first, without their results.
    fn list(
        &self,
        status: Option<JobStatus>,
        limit: u64,
        offset: u64,
    ) -> Result<JobPage, StoreError>;
    fn counts(&self) -> Result<StatusCounts, StoreError>;
    /// Pending and running jobs, oldest first.
    fn unfinished(&self) -> Result<Vec<JobRecord>, StoreError>;
    /// Deletes final jobs that completed before `cutoff` and all but the newest
    /// `keep` final jobs; returns how many were deleted.
    fn prune(&mut self, cutoff: DateTime<Utc>, keep: u64) -> Result<u64, StoreError>;
    /// The newest completed job whose stored spec is `spec_json` and whose
    /// results were measured by `version`, with its results (result cache).
    fn find_completed(
        &self,
        _spec_json: &str,
        _version: &str,
    ) -> Result<Option<(Uuid, serde_json::Value)>, StoreError> {
        Ok(None)
    }
}

/// The embedded default store.
pub struct SqliteStore {
    connection: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    form TEXT NOT NULL,
    spec TEXT NOT NULL,
    callback_url TEXT,
    submitted_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT,
    results TEXT,
    error TEXT,
    progress_done INTEGER NOT NULL DEFAULT 0,
    progress_total INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, seq);
CREATE INDEX IF NOT EXISTS jobs_by_spec ON jobs (spec, status);
";

const COLUMNS: &str = "id, status, form, spec, callback_url, submitted_at, started_at, completed_at, \
     error, progress_done, progress_total, attempts";

const FINAL: &str = "status IN ('completed', 'failed', 'cancelled')";

impl SqliteStore {
    /// Opens (or creates) the database in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        let connection = Connection::open(data_dir.join(DATABASE_FILE))?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.execute_batch(SCHEMA)?;
        Ok(SqliteStore { connection })
    }

    fn read_row(row: &Row<'_>, with_results: bool) -> Result<JobRecord, StoreError> {
        let id: String = row.get(0)?;
        let corrupt = |reason: String| StoreError::Corrupt {
            id: id.clone(),
            reason,
        };
        let status: String = row.get(1)?;
        let form: String = row.get(2)?;
        let spec: String = row.get(3)?;
        let time = |index: usize| -> Result<Option<DateTime<Utc>>, StoreError> {
            let text: Option<String> = row.get(index)?;
            Ok(text.as_deref().and_then(parse_time))
        };
        let results = if with_results {
            let text: Option<String> = row.get(12)?;
            text.map(|t| serde_json::from_str(&t))
                .transpose()
                .map_err(|e| corrupt(e.to_string()))?
        } else {
            None
        };
        Ok(JobRecord {
            id: Uuid::parse_str(&id).map_err(|e| corrupt(e.to_string()))?,
            status: JobStatus::parse(&status).map_err(corrupt)?,
            form: if form == RequestForm::Legacy.name() {
                RequestForm::Legacy
            } else {
                RequestForm::Guide
            },
            spec: serde_json::from_str::<BenchmarkSpec>(&spec)
                .map_err(|e| corrupt(e.to_string()))?,
            callback_url: row.get(4)?,
            submitted_at: time(5)?.ok_or_else(|| corrupt("no submitted_at".into()))?,
            started_at: time(6)?,
            completed_at: time(7)?,
            results,
            error: row.get(8)?,
            progress: Progress {
                done: row.get(9)?,
                total: row.get(10)?,
            },
            attempts: row.get(11)?,
        })
    }

    fn query(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        with_results: bool,
    ) -> Result<Vec<JobRecord>, StoreError> {
        let mut statement = self.connection.prepare_cached(sql)?;
        let mut rows = statement.query(params)?;
        let mut jobs = Vec::new();
        while let Some(row) = rows.next()? {
            jobs.push(Self::read_row(row, with_results)?);
        }
        Ok(jobs)
    }
}

fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

impl JobStore for SqliteStore {
    fn insert(&mut self, job: &JobRecord) -> Result<(), StoreError> {
        self.connection.execute(
            "INSERT INTO jobs (id, status, form, spec, callback_url, submitted_at, progress_done, progress_total, attempts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                job.id.to_string(),
                job.status.name(),
                job.form.name(),
                json_text(&job.spec),
                job.callback_url,
                format_time(&job.submitted_at),
                job.progress.done,
                job.progress.total,
                job.attempts,
            ],
        )?;
        Ok(())
    }

    fn update(&mut self, job: &JobRecord) -> Result<(), StoreError> {
        self.connection.execute(
            "UPDATE jobs SET status = ?2, started_at = ?3, completed_at = ?4, results = ?5, error = ?6,
             progress_done = ?7, progress_total = ?8, attempts = ?9 WHERE id = ?1",
            params![
                job.id.to_string(),
                job.status.name(),
                job.started_at.as_ref().map(format_time),
                job.completed_at.as_ref().map(format_time),
                job.results.as_ref().map(json_text),
                job.error,
                job.progress.done,
                job.progress.total,
                job.attempts,
            ],
        )?;
        Ok(())
    }

    fn update_progress(&mut self, id: Uuid, progress: Progress) -> Result<(), StoreError> {
        self.connection.execute(
            "UPDATE jobs SET progress_done = ?2, progress_total = ?3 WHERE id = ?1",
            params![id.to_string(), progress.done, progress.total],
        )?;
        Ok(())
    }

    fn get(&self, id: Uuid) -> Result<Option<JobRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS}, results FROM jobs WHERE id = ?1");
        let mut statement = self.connection.prepare_cached(&sql)?;
        let row = statement
            .query_row([id.to_string()], |row| Ok(Self::read_row(row, true)))
            .optional()?;
        row.transpose()
    }

    fn list(
        &self,
        status: Option<JobStatus>,
        limit: u64,
        offset: u64,
    ) -> Result<JobPage, StoreError> {
        let filter = status.map_or("1 = 1", |_| "status = ?3");
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE {filter} ORDER BY seq DESC LIMIT ?1 OFFSET ?2"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let (jobs, total) = match status {
            Some(status) => (
                self.query(&sql, params![limit, offset, status.name()], false)?,
                self.connection.query_row(
                    "SELECT count(*) FROM jobs WHERE status = ?1",
                    [status.name()],
                    |r| r.get(0),
                )?,
            ),
            None => (
                self.query(&sql, params![limit, offset], false)?,
                self.connection
                    .query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))?,
            ),
        };
        Ok(JobPage { jobs, total })
    }

    fn counts(&self) -> Result<StatusCounts, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT status, count(*) FROM jobs GROUP BY status")?;
        let mut rows = statement.query([])?;
        let mut counts = StatusCounts::default();
        while let Some(row) = rows.next()? {
            let status: String = row.get(0)?;
            if let Ok(status) = JobStatus::parse(&status) {
                *counts.get_mut(status) = row.get(1)?;
            }
        }
        Ok(counts)
    }

    /// A row that cannot be read back (e.g. written by an incompatible
    /// version) is failed here with an error saying so, not returned.
    fn unfinished(&self) -> Result<Vec<JobRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE NOT {FINAL} ORDER BY seq ASC");
        let mut statement = self.connection.prepare_cached(&sql)?;
        let mut rows = statement.query([])?;
        let mut jobs = Vec::new();
        let mut unreadable = Vec::new();
        while let Some(row) = rows.next()? {
            match Self::read_row(row, false) {
                Ok(job) => jobs.push(job),
                Err(StoreError::Corrupt { id, reason }) => unreadable.push((id, reason)),
                Err(other) => return Err(other),
            }
        }
        for (id, reason) in unreadable {
            tracing::warn!(job_id = %id, %reason, "unreadable job failed");
            self.connection.execute(
                "UPDATE jobs SET status = 'failed', completed_at = ?2, error = ?3 WHERE id = ?1",
                params![
                    id,
                    format_time(&super::job::now()),
                    format!("the stored job could not be read after a restart ({reason}); submit it again"),
                ],
            )?;
        }
        Ok(jobs)
    }

    fn prune(&mut self, cutoff: DateTime<Utc>, keep: u64) -> Result<u64, StoreError> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let transaction = self.connection.transaction()?;
        let by_age = transaction.execute(
            &format!("DELETE FROM jobs WHERE {FINAL} AND completed_at < ?1"),
            [format_time(&cutoff)],
        )?;
        let by_count = transaction.execute(
            &format!(
                "DELETE FROM jobs WHERE {FINAL} AND seq NOT IN
                 (SELECT seq FROM jobs WHERE {FINAL} ORDER BY seq DESC LIMIT ?1)"
            ),
            [keep],
        )?;
        transaction.commit()?;
        Ok((by_age + by_count) as u64)
    }

    fn find_completed(
        &self,
        spec_json: &str,
        version: &str,
    ) -> Result<Option<(Uuid, serde_json::Value)>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, results FROM jobs WHERE spec = ?1 AND status = 'completed'
             AND results IS NOT NULL AND json_valid(results)
             AND json_extract(results, '$.environment.zarrbench_version') = ?2
             ORDER BY seq DESC LIMIT 1",
        )?;
        let row: Option<(String, String)> = statement
            .query_row(params![spec_json, version], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        let Some((id, results)) = row else {
            return Ok(None);
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            id: id.clone(),
            reason,
        };
        let uuid = Uuid::parse_str(&id).map_err(|e| corrupt(e.to_string()))?;
        let results = serde_json::from_str(&results).map_err(|e| corrupt(e.to_string()))?;
        Ok(Some((uuid, results)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Modality;
    use crate::registry::job::now;

    fn job() -> JobRecord {
        JobRecord::new(
            BenchmarkSpec::new(Modality::Synthetic, vec![8, 8]),
            RequestForm::Guide,
            None,
            3,
        )
    }

    #[test]
    fn a_job_reads_back_as_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = SqliteStore::open(dir.path()).expect("open");
        let mut record = job();
        store.insert(&record).expect("insert");
        record.status = JobStatus::Completed;
        record.started_at = Some(now());
        record.completed_at = Some(now());
        record.results = Some(serde_json::json!({"ratio": 1.5}));
        record.attempts = 1;
        store.update(&record).expect("update");
        assert_eq!(store.get(record.id).expect("get"), Some(record.clone()));
        assert_eq!(store.counts().expect("counts").completed, 1);
        let page = store.list(Some(JobStatus::Completed), 10, 0).expect("list");
        assert_eq!(page.total, 1);
        assert_eq!(page.jobs[0].results, None);
    }

    #[test]
    fn prune_keeps_the_newest_final_jobs_and_every_active_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = SqliteStore::open(dir.path()).expect("open");
        let pending = job();
        store.insert(&pending).expect("insert");
        for _ in 0..3 {
            let mut done = job();
            store.insert(&done).expect("insert");
            done.finish(JobStatus::Completed, None);
            store.update(&done).expect("update");
        }
        let cutoff = now() - chrono::Duration::days(30);
        assert_eq!(store.prune(cutoff, 1).expect("prune"), 2);
        let counts = store.counts().expect("counts");
        assert_eq!((counts.pending, counts.completed), (1, 1));
    }
}
