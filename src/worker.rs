//! `BenchmarkWorker`: a sync actor that runs one sweep at a time on its own
//! thread, in a `SyncArbiter` pool sized to `max_jobs`.
//!
//! The worker reports progress to the registry after each configuration,
//! stops between timed passes when the job is cancelled or past its
//! deadline, and always ends with one `JobFinished` message. A panic inside a
//! sweep is caught (`catch_unwind`) and fails that job only: a sync actor that
//! panicked would die and shrink the pool for good.
//!
//! Test hook: in debug builds only (`cfg!(debug_assertions)`), when the
//! environment variable `ZARRBENCH_TEST_PANIC_DATASET` names a dataset type
//! (e.g. `custom`), jobs of that type panic inside the sweep. Release builds
//! ignore the variable.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use actix::prelude::*;
use uuid::Uuid;

use crate::benchmark::{self, BenchmarkError, BenchmarkSpec, RunContext};
use crate::registry::JobRegistry;
use crate::registry::job::Progress;
use crate::registry::messages::{JobFinished, JobProgress, WorkerOutcome};
use crate::sweep::{ConfigResult, Observer, SweepError, plan};
use crate::telemetry;

/// The environment variable of the debug-only panic hook.
pub const TEST_PANIC_ENV: &str = "ZARRBENCH_TEST_PANIC_DATASET";

/// Runs sweeps handed over by the registry.
pub struct BenchmarkWorker {
    registry: Addr<JobRegistry>,
    context: RunContext,
}

impl BenchmarkWorker {
    pub fn new(registry: Addr<JobRegistry>, context: RunContext) -> BenchmarkWorker {
        BenchmarkWorker { registry, context }
    }
}

impl Actor for BenchmarkWorker {
    type Context = SyncContext<Self>;
}

/// Run this job's sweep.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct RunJob {
    pub id: Uuid,
    pub spec: BenchmarkSpec,
    /// Set by the registry to stop the sweep at the next boundary.
    pub cancel: Arc<AtomicBool>,
    pub deadline: Instant,
}

impl Handler<RunJob> for BenchmarkWorker {
    type Result = ();

    fn handle(&mut self, job: RunJob, _: &mut Self::Context) {
        let profile = job.spec.plan.profile.unwrap_or(plan::DEFAULT_PROFILE);
        let span = tracing::info_span!(
            "job",
            job_id = %job.id,
            dataset_type = job.spec.volume.modality.name(),
            profile = profile.name(),
        );
        let _entered = span.enter();
        let observer = JobObserver {
            id: job.id,
            registry: self.registry.clone(),
            cancel: job.cancel.clone(),
            deadline: job.deadline,
            volume_bytes: job.spec.volume.num_bytes(),
        };

        let outcome = catch_unwind(AssertUnwindSafe(|| {
            panic_if_requested(&job.spec);
            benchmark::run(&job.spec, &self.context, &observer)
        }));

        let outcome = match outcome {
            Ok(Ok(result)) => WorkerOutcome::Completed(Box::new(result)),
            Ok(Err(BenchmarkError::Sweep(SweepError::Stopped(_))))
                if job.cancel.load(Ordering::Relaxed) =>
            {
                WorkerOutcome::Cancelled
            }
            Ok(Err(BenchmarkError::Sweep(SweepError::Stopped(_)))) => WorkerOutcome::TimedOut,
            Ok(Err(error)) => WorkerOutcome::Failed(error.to_string()),
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                tracing::error!(panic = %message, "sweep panicked; the job fails, the worker stays");
                WorkerOutcome::Panicked(message)
            }
        };
        self.registry.do_send(JobFinished {
            id: job.id,
            outcome,
        });
    }
}

/// Reports progress and stops the sweep on cancel or deadline.
struct JobObserver {
    id: Uuid,
    registry: Addr<JobRegistry>,
    cancel: Arc<AtomicBool>,
    deadline: Instant,
    /// Uncompressed size of the volume, for the bytes-benchmarked counter.
    volume_bytes: u64,
}

impl Observer for JobObserver {
    fn planned(&self, total: usize) {
        self.send_progress(0, total);
    }

    fn measured(&self, done: usize, total: usize, result: &ConfigResult) {
        let round_trips = result.measured.as_ref().map_or(0, |m| u64::from(m.repeats));
        telemetry::metrics::configuration_measured(
            result.config.codec.name(),
            self.volume_bytes.saturating_mul(round_trips),
        );
        self.send_progress(done, total);
    }

    fn should_stop(&self) -> Option<String> {
        if self.cancel.load(Ordering::Relaxed) {
            return Some("cancelled".to_string());
        }
        (Instant::now() >= self.deadline).then(|| "timed out".to_string())
    }
}

impl JobObserver {
    fn send_progress(&self, done: usize, total: usize) {
        self.registry.do_send(JobProgress {
            id: self.id,
            progress: Progress {
                done: done as u64,
                total: total as u64,
            },
        });
    }
}

/// The debug-only panic hook described in the module docs.
fn panic_if_requested(spec: &BenchmarkSpec) {
    if !cfg!(debug_assertions) {
        return;
    }
    if std::env::var(TEST_PANIC_ENV).is_ok_and(|name| name == spec.volume.modality.name()) {
        panic!(
            "{TEST_PANIC_ENV} asked jobs of type {} to panic",
            spec.volume.modality
        );
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}
