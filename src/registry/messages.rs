//! Messages the registry answers: from HTTP handlers (submit, get, list,
//! cancel, health), from the shutdown sequence (drain) and from workers
//! (progress, finished).

use actix::Message;
use thiserror::Error;
use uuid::Uuid;

use super::job::{JobRecord, JobStatus, Progress, RequestForm, StatusCounts};
use super::store::{JobPage, StoreError};
use crate::spec::CheckedRequest;
use crate::sweep::SweepResult;

/// Why the registry refused a request.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// No job has this id (or it was removed by the retention policy).
    #[error("no job with id {0}; it never existed or was removed by the retention policy")]
    NotFound(Uuid),
    /// The queue of pending jobs is full.
    #[error("the queue is full ({queued} jobs pending); retry after {retry_after_secs} s")]
    QueueFull {
        queued: usize,
        retry_after_secs: u64,
    },
    /// The service is shutting down.
    #[error(
        "the service is shutting down and accepts no new jobs; retry on another instance or after restart"
    )]
    Draining,
    /// The job already reached a final state.
    #[error("job {id} is already {status}; only pending or running jobs can be cancelled", status = status.name())]
    AlreadyFinished { id: Uuid, status: JobStatus },
    /// The job store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Accept a checked request as a new pending job.
#[derive(Debug, Message)]
#[rtype(result = "Result<JobRecord, RegistryError>")]
pub struct Submit {
    pub request: CheckedRequest,
    pub form: RequestForm,
}

/// One job with its results.
#[derive(Debug, Message)]
#[rtype(result = "Result<JobRecord, RegistryError>")]
pub struct GetJob(pub Uuid);

/// A page of jobs, newest first, without results.
#[derive(Debug, Message)]
#[rtype(result = "Result<JobPage, RegistryError>")]
pub struct ListJobs {
    pub status: Option<JobStatus>,
    pub limit: u64,
    pub offset: u64,
}

/// Cancel a pending or running job.
#[derive(Debug, Message)]
#[rtype(result = "Result<Cancelled, RegistryError>")]
pub struct CancelJob(pub Uuid);

/// What a cancel did.
#[derive(Debug)]
pub enum Cancelled {
    /// The job was pending and is now `cancelled`.
    Now(JobRecord),
    /// The job is running; it stops at its next timed pass.
    Requested(JobRecord),
}

/// Counts and capacity for `/health`.
#[derive(Debug, Message)]
#[rtype(result = "HealthReport")]
pub struct GetHealth;

/// The registry's figures at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthReport {
    pub jobs: StatusCounts,
    pub max_jobs: usize,
    /// Worker threads busy with a sweep (a timed-out sweep keeps its thread
    /// until it reaches its next timed pass).
    pub busy_workers: usize,
    pub queued: usize,
    pub max_queued: usize,
    pub draining: bool,
}

/// Stop accepting and starting jobs; replies with the number still running.
#[derive(Debug, Message)]
#[rtype(result = "usize")]
pub struct BeginDrain;

/// How many jobs are still running.
#[derive(Debug, Message)]
#[rtype(result = "usize")]
pub struct RunningCount;

/// Records every running job as failed (interrupted by shutdown); replies with
/// how many were.
#[derive(Debug, Message)]
#[rtype(result = "usize")]
pub struct InterruptRunning;

/// A worker measured another configuration.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct JobProgress {
    pub id: Uuid,
    pub progress: Progress,
}

/// A worker is done with a job, whatever the outcome; its thread is free.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct JobFinished {
    pub id: Uuid,
    pub outcome: WorkerOutcome,
}

/// How a sweep ended on the worker.
#[derive(Debug)]
pub enum WorkerOutcome {
    Completed(Box<SweepResult>),
    /// Stopped at a timed pass because the job was cancelled.
    Cancelled,
    /// Stopped at a timed pass because the deadline passed.
    TimedOut,
    /// The engine returned an error.
    Failed(String),
    /// The sweep panicked; the message is the panic payload.
    Panicked(String),
}
