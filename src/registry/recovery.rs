//! Restart recovery: what happens to jobs the previous process left unfinished.
//!
//! - `pending` jobs are queued again in submission order;
//! - a `running` job was interrupted (crash, `kill -9`, power loss). Its start
//!   counted as an attempt; it is re-queued if it has had fewer than
//!   [`MAX_ATTEMPTS`], otherwise it fails with an error saying it was
//!   interrupted. Nothing is silently dropped.
//! - a job whose stored spec cannot be read (written by an incompatible
//!   version) fails with an error saying so.

use super::job::{JobRecord, JobStatus, Progress};
use super::store::{JobStore, StoreError};

/// Starts a job may have; a job interrupted on its last one fails.
pub const MAX_ATTEMPTS: u32 = 2;

/// Fixes up unfinished jobs in the store and returns those to queue, oldest
/// first.
pub fn recover(store: &mut dyn JobStore) -> Result<Vec<JobRecord>, StoreError> {
    let mut queue = Vec::new();
    for mut job in store.unfinished()? {
        match job.status {
            JobStatus::Running if job.attempts >= MAX_ATTEMPTS => {
                let error = format!(
                    "interrupted: the service stopped while this job was running, on attempt {} of {MAX_ATTEMPTS}; it is not retried again, submit it again",
                    job.attempts
                );
                tracing::warn!(job_id = %job.id, attempts = job.attempts, "interrupted job failed");
                job.finish(JobStatus::Failed, Some(error));
                store.update(&job)?;
            }
            JobStatus::Running => {
                tracing::warn!(job_id = %job.id, attempts = job.attempts, "interrupted job queued again");
                job.status = JobStatus::Pending;
                job.started_at = None;
                job.progress = Progress {
                    done: 0,
                    total: job.progress.total,
                };
                store.update(&job)?;
                queue.push(job);
            }
            _ => queue.push(job),
        }
    }
    if !queue.is_empty() {
        tracing::info!(jobs = queue.len(), "unfinished jobs queued again");
    }
    Ok(queue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::BenchmarkSpec;
    use crate::data::Modality;
    use crate::registry::job::RequestForm;
    use crate::registry::store::SqliteStore;

    fn stored(store: &mut SqliteStore, status: JobStatus, attempts: u32) -> JobRecord {
        let mut job = JobRecord::new(
            BenchmarkSpec::new(Modality::Synthetic, vec![8]),
            RequestForm::Guide,
            None,
            2,
        );
        store.insert(&job).expect("insert");
        job.status = status;
        job.attempts = attempts;
        store.update(&job).expect("update");
        job
    }

    #[test]
    fn a_running_job_is_requeued_once_then_failed_as_interrupted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = SqliteStore::open(dir.path()).expect("open");
        let pending = stored(&mut store, JobStatus::Pending, 0);
        let first = stored(&mut store, JobStatus::Running, 1);
        let second = stored(&mut store, JobStatus::Running, 2);

        let queue = recover(&mut store).expect("recover");

        let ids: Vec<_> = queue.iter().map(|job| job.id).collect();
        assert_eq!(ids, vec![pending.id, first.id]);
        let failed = store.get(second.id).expect("get").expect("present");
        assert_eq!(failed.status, JobStatus::Failed);
        assert!(
            failed
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("interrupted"))
        );
    }
}
