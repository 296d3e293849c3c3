//! The `JobRegistry` actor: the one owner of job state.
//!
//! HTTP handlers send it messages ([`messages`]) and await replies; they never
//! touch jobs themselves. The registry writes every state change to the
//! [`store::JobStore`] before it acknowledges it, decides when a job starts
//! (admission), and hands jobs to the `BenchmarkWorker` pool with `do_send`.
//!
//! - **Admission**: at most `max_jobs` sweeps run at once; further jobs wait in
//!   a FIFO queue of at most `max_queued`, past which submissions are refused
//!   with a retry hint. A worker thread counts as busy until its worker
//!   reports, even when the registry already gave up on the job (timeout,
//!   shutdown), so the pool is never oversubscribed.
//! - **Timeout**: a job running longer than `job_timeout` fails with an error
//!   saying so; the worker stops at its next timed pass.
//! - **Recovery** ([`recovery`]): on start, pending jobs are queued again; a job
//!   that was running is re-queued once (its start counted as an attempt) and
//!   failed as interrupted the second time.
//! - **Retention**: final jobs that completed more than `retention_days` ago,
//!   and all but the newest `retention_jobs` final jobs, are deleted at start
//!   and every hour. Pending and running jobs are never deleted.

pub mod cache;
pub mod handlers;
pub mod job;
pub mod messages;
pub mod recovery;
pub mod store;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix::prelude::*;
use uuid::Uuid;

use crate::benchmark::RunContext;
use crate::config::{Retention, Settings};
use crate::telemetry;
use crate::webhook::Webhooks;
use crate::worker::{BenchmarkWorker, RunJob};
use job::{JobRecord, JobStatus, StatusCounts};
use store::{JobStore, StoreError};

/// How often running jobs are checked against their deadline.
const DEADLINE_CHECK: Duration = Duration::from_secs(1);
/// Messages queued for the registry before senders wait (workers' `do_send`
/// is not bounded by it).
const MAILBOX_CAPACITY: usize = 1024;
/// Progress is kept in memory at once but written to the store at most this
/// often per job, so fast sweeps do not cost an fsync per configuration.
const PROGRESS_SAVE_INTERVAL: Duration = Duration::from_secs(1);
/// How often the retention policy is applied.
const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

/// The limits the registry enforces.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_jobs: usize,
    pub max_queued: usize,
    pub job_timeout: Duration,
    pub retention: Retention,
}

impl Limits {
    pub fn from_settings(settings: &Settings) -> Limits {
        Limits {
            max_jobs: settings.max_jobs,
            max_queued: settings.max_queued,
            job_timeout: settings.job_timeout,
            retention: settings.retention,
        }
    }
}

/// A pending or running job and what the registry tracks while it is active.
struct ActiveJob {
    record: JobRecord,
    cancel: Arc<AtomicBool>,
    deadline: Option<Instant>,
    /// The most other sweeps seen running beside this one.
    peak_concurrent: usize,
    /// When progress was last written to the store.
    progress_saved: Option<Instant>,
}

/// The actor owning every job.
pub struct JobRegistry {
    store: Box<dyn JobStore>,
    limits: Limits,
    workers: Addr<BenchmarkWorker>,
    /// Pending jobs in submission order.
    queue: VecDeque<Uuid>,
    /// Pending and running jobs.
    active: HashMap<Uuid, ActiveJob>,
    /// Jobs whose worker has not reported back: one busy thread each.
    occupied: HashSet<Uuid>,
    counts: StatusCounts,
    draining: bool,
    /// Running mean of sweep durations, for `Retry-After`.
    mean_job_seconds: f64,
    /// Callback delivery for jobs that reach a final state.
    webhooks: Option<Webhooks>,
}

impl Actor for JobRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
        self.apply_retention();
        ctx.run_interval(DEADLINE_CHECK, |registry, _| registry.enforce_deadlines());
        ctx.run_interval(RETENTION_INTERVAL, |registry, _| registry.apply_retention());
        self.dispatch();
    }
}

impl JobRegistry {
    /// Recovers the store's unfinished jobs, starts the worker pool and the
    /// registry. Must be called inside a running actix `System`.
    pub fn start(
        mut store: Box<dyn JobStore>,
        limits: Limits,
        context: RunContext,
        webhooks: Option<Webhooks>,
    ) -> Result<Addr<JobRegistry>, StoreError> {
        let recovered = recovery::recover(store.as_mut())?;
        let counts = store.counts()?;
        let threads = limits.max_jobs;
        Ok(JobRegistry::create(move |ctx| {
            let registry = ctx.address();
            let workers = SyncArbiter::start(threads, move || {
                BenchmarkWorker::new(registry.clone(), context.clone())
            });
            let mut active = HashMap::new();
            let mut queue = VecDeque::new();
            for record in recovered {
                queue.push_back(record.id);
                active.insert(record.id, ActiveJob::new(record));
            }
            JobRegistry {
                store,
                limits,
                workers,
                queue,
                active,
                occupied: HashSet::new(),
                counts,
                draining: false,
                mean_job_seconds: 10.0,
                webhooks,
            }
        }))
    }

    fn free_workers(&self) -> usize {
        self.limits.max_jobs.saturating_sub(self.occupied.len())
    }

    /// Seconds until a slot is likely free, from the mean sweep duration.
    fn retry_after_secs(&self) -> u64 {
        let waves = (self.queue.len() / self.limits.max_jobs.max(1)) as f64 + 1.0;
        (self.mean_job_seconds * waves).ceil().clamp(1.0, 3600.0) as u64
    }

    /// Starts queued jobs while worker threads are free.
    fn dispatch(&mut self) {
        while !self.draining && self.free_workers() > 0 {
            let Some(id) = self.queue.pop_front() else {
                return;
            };
            let Some(job) = self.active.get_mut(&id) else {
                continue;
            };
            if job.record.status != JobStatus::Pending {
                continue;
            }

            job.record.status = JobStatus::Running;
            job.record.started_at = Some(job::now());
            job.record.attempts += 1;
            telemetry::metrics::job_started(elapsed_since(job.record.submitted_at));
            let deadline = Instant::now() + self.limits.job_timeout;
            job.deadline = Some(deadline);
            if let Err(error) = self.store.update(&job.record) {
                tracing::error!(job_id = %id, %error, "could not record job start; running it anyway");
            }
            self.counts
                .moved(Some(JobStatus::Pending), JobStatus::Running);
            self.occupied.insert(id);
            tracing::info!(
                job_id = %id,
                dataset = %job.record.spec.volume.modality,
                attempt = job.record.attempts,
                "job started"
            );

            let message = RunJob {
                id,
                spec: job.record.spec.clone(),
                cancel: job.cancel.clone(),
                deadline,
            };
            self.workers.do_send(message);
            self.note_concurrency();
        }
    }

    /// Every running job remembers the most sweeps that ran beside it.
    fn note_concurrency(&mut self) {
        let others = self.occupied.len().saturating_sub(1);
        for job in self.active.values_mut() {
            if job.record.status == JobStatus::Running {
                job.peak_concurrent = job.peak_concurrent.max(others);
            }
        }
    }

    /// Moves an active job to a final state, stores it and forgets it.
    fn finalize(
        &mut self,
        id: Uuid,
        status: JobStatus,
        error: Option<String>,
        results: Option<serde_json::Value>,
    ) -> Option<JobRecord> {
        let mut job = self.active.remove(&id)?;
        let previous = job.record.status;
        job.record.results = results;
        job.record.finish(status, error);
        job.cancel.store(true, Ordering::Relaxed);
        if let Err(error) = self.store.update(&job.record) {
            tracing::error!(job_id = %id, %error, "could not record job end");
        }
        self.counts.moved(Some(previous), status);
        let run_time = job
            .record
            .started_at
            .filter(|_| previous == JobStatus::Running);
        telemetry::metrics::job_finished(status, run_time.map(elapsed_since));
        tracing::info!(
            job_id = %id,
            status = status.name(),
            error = job.record.error.as_deref(),
            "job finished"
        );
        if let Some(webhooks) = &self.webhooks {
            webhooks.enqueue(&job.record);
        }
        Some(job.record)
    }

    /// Fails running jobs past their deadline; their workers stop at the next
    /// timed pass.
    fn enforce_deadlines(&mut self) {
        let now = Instant::now();
        let overdue: Vec<Uuid> = self
            .active
            .iter()
            .filter(|(_, job)| {
                job.record.status == JobStatus::Running && job.deadline.is_some_and(|d| d <= now)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in overdue {
            let error = timeout_error(self.limits.job_timeout);
            self.finalize(id, JobStatus::Failed, Some(error), None);
        }
    }

    fn apply_retention(&mut self) {
        let retention = self.limits.retention;
        let cutoff = job::now() - chrono::Duration::days(i64::from(retention.max_age_days));
        match self.store.prune(cutoff, retention.max_jobs) {
            Ok(0) => {}
            Ok(deleted) => {
                tracing::info!(
                    deleted,
                    max_age_days = retention.max_age_days,
                    max_jobs = retention.max_jobs,
                    "retention applied"
                );
                match self.store.counts() {
                    Ok(counts) => self.counts = counts,
                    Err(error) => tracing::error!(%error, "could not recount jobs"),
                }
            }
            Err(error) => tracing::error!(%error, "could not apply retention"),
        }
    }
}

impl ActiveJob {
    fn new(record: JobRecord) -> ActiveJob {
        ActiveJob {
            record,
            cancel: Arc::new(AtomicBool::new(false)),
            deadline: None,
            peak_concurrent: 0,
            progress_saved: None,
        }
    }
}

/// Wall-clock time from `since` to now; zero if the clock went backwards.
fn elapsed_since(since: chrono::DateTime<chrono::Utc>) -> Duration {
    (job::now() - since).to_std().unwrap_or_default()
}

/// The error of a job that ran past the timeout.
pub fn timeout_error(timeout: Duration) -> String {
    format!(
        "timed out: the job ran longer than the job timeout of {} s (BENCHMARK_JOB_TIMEOUT); use a smaller shape or fewer configurations",
        timeout.as_secs()
    )
}
