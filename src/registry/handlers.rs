//! How the registry answers each message. State changes are stored before the
//! reply that acknowledges them.

use std::sync::atomic::Ordering;
use std::time::Instant;

use actix::prelude::*;

use super::job::{JobRecord, JobStatus};
use super::messages::*;
use super::store::JobPage;
use super::{ActiveJob, JobRegistry, PROGRESS_SAVE_INTERVAL, timeout_error};
use crate::telemetry;

impl Handler<Submit> for JobRegistry {
    type Result = Result<JobRecord, RegistryError>;

    fn handle(&mut self, message: Submit, _: &mut Self::Context) -> Self::Result {
        if self.draining {
            return Err(RegistryError::Draining);
        }
        if self.queue.len() >= self.limits.max_queued + self.free_workers() {
            return Err(RegistryError::QueueFull {
                queued: self.queue.len(),
                retry_after_secs: self.retry_after_secs(),
            });
        }

        let request = message.request;
        let cached = if request.use_cache {
            super::cache::lookup(self.store.as_ref(), &request.spec)
        } else {
            None
        };
        let record = JobRecord::new(
            request.spec,
            message.form,
            request.callback_url,
            request.planned,
        );
        self.store.insert(&record)?;
        self.counts.moved(None, JobStatus::Pending);
        let profile = record
            .spec
            .plan
            .profile
            .unwrap_or(crate::sweep::plan::DEFAULT_PROFILE);
        telemetry::metrics::job_submitted(record.spec.volume.modality.name(), profile.name());
        tracing::info!(
            job_id = %record.id,
            dataset = %record.spec.volume.modality,
            shape = ?record.spec.volume.shape,
            configurations = request.planned,
            form = record.form.name(),
            "job accepted"
        );

        if let Some(cached) = cached {
            return Ok(self.complete_from_cache(record, cached));
        }
        self.queue.push_back(record.id);
        self.active
            .insert(record.id, ActiveJob::new(record.clone()));
        self.dispatch();
        Ok(record)
    }
}

impl Handler<GetJob> for JobRegistry {
    type Result = Result<JobRecord, RegistryError>;

    fn handle(&mut self, GetJob(id): GetJob, _: &mut Self::Context) -> Self::Result {
        if let Some(job) = self.active.get(&id) {
            return Ok(job.record.clone());
        }
        self.store.get(id)?.ok_or(RegistryError::NotFound(id))
    }
}

impl Handler<ListJobs> for JobRegistry {
    type Result = Result<JobPage, RegistryError>;

    fn handle(&mut self, message: ListJobs, _: &mut Self::Context) -> Self::Result {
        let mut page = self
            .store
            .list(message.status, message.limit, message.offset)?;
        for job in &mut page.jobs {
            if let Some(active) = self.active.get(&job.id) {
                job.progress = active.record.progress;
            }
        }
        Ok(page)
    }
}

impl Handler<CancelJob> for JobRegistry {
    type Result = Result<Cancelled, RegistryError>;

    fn handle(&mut self, CancelJob(id): CancelJob, _: &mut Self::Context) -> Self::Result {
        let Some(job) = self.active.get(&id) else {
            let stored = self.store.get(id)?.ok_or(RegistryError::NotFound(id))?;
            return Err(RegistryError::AlreadyFinished {
                id,
                status: stored.status,
            });
        };

        if job.record.status == JobStatus::Running {
            job.cancel.store(true, Ordering::Relaxed);
            tracing::info!(job_id = %id, "cancellation requested");
            return Ok(Cancelled::Requested(job.record.clone()));
        }

        self.queue.retain(|queued| *queued != id);
        let record = self
            .finalize(id, JobStatus::Cancelled, None, None)
            .ok_or(RegistryError::NotFound(id))?;
        Ok(Cancelled::Now(record))
    }
}

impl Handler<GetHealth> for JobRegistry {
    type Result = MessageResult<GetHealth>;

    fn handle(&mut self, _: GetHealth, _: &mut Self::Context) -> Self::Result {
        MessageResult(HealthReport {
            jobs: self.counts,
            max_jobs: self.limits.max_jobs,
            busy_workers: self.occupied.len(),
            queued: self.queue.len(),
            max_queued: self.limits.max_queued,
            draining: self.draining,
        })
    }
}

impl Handler<BeginDrain> for JobRegistry {
    type Result = usize;

    fn handle(&mut self, _: BeginDrain, _: &mut Self::Context) -> usize {
        self.draining = true;
        let running = self.running();
        tracing::info!(
            running,
            pending = self.queue.len(),
            "draining: no new jobs are accepted or started"
        );
        running
    }
}

impl Handler<RunningCount> for JobRegistry {
    type Result = usize;

    fn handle(&mut self, _: RunningCount, _: &mut Self::Context) -> usize {
        self.running()
    }
}

impl Handler<InterruptRunning> for JobRegistry {
    type Result = usize;

    fn handle(&mut self, _: InterruptRunning, _: &mut Self::Context) -> usize {
        let running: Vec<_> = self
            .active
            .iter()
            .filter(|(_, job)| job.record.status == JobStatus::Running)
            .map(|(id, _)| *id)
            .collect();
        for id in &running {
            let error = "interrupted: the service shut down before the job finished (drain timeout passed); submit it again";
            self.finalize(*id, JobStatus::Failed, Some(error.to_string()), None);
        }
        running.len()
    }
}

impl Handler<JobProgress> for JobRegistry {
    type Result = ();

    fn handle(&mut self, message: JobProgress, _: &mut Self::Context) {
        let Some(job) = self.active.get_mut(&message.id) else {
            return;
        };
        job.record.progress = message.progress;
        if job
            .progress_saved
            .is_some_and(|saved| saved.elapsed() < PROGRESS_SAVE_INTERVAL)
        {
            return;
        }
        job.progress_saved = Some(Instant::now());
        if let Err(error) = self.store.update_progress(message.id, message.progress) {
            tracing::warn!(job_id = %message.id, %error, "could not record progress");
        }
    }
}

impl Handler<JobFinished> for JobRegistry {
    type Result = ();

    fn handle(&mut self, message: JobFinished, _: &mut Self::Context) {
        let id = message.id;
        self.occupied.remove(&id);
        let Some(job) = self.active.get(&id) else {
            // Already failed by the registry (timeout, shutdown): the thread is free again.
            self.dispatch();
            return;
        };

        if let Some(started) = job.record.started_at {
            let seconds = (super::job::now() - started).num_milliseconds() as f64 / 1000.0;
            self.mean_job_seconds = 0.8 * self.mean_job_seconds + 0.2 * seconds.max(0.0);
        }
        match message.outcome {
            WorkerOutcome::Completed(mut result) => {
                result.environment.concurrent_jobs = Some(job.peak_concurrent);
                let value = serde_json::to_value(&*result).ok();
                self.finalize(id, JobStatus::Completed, None, value);
            }
            WorkerOutcome::Cancelled => {
                self.finalize(id, JobStatus::Cancelled, None, None);
            }
            WorkerOutcome::TimedOut => {
                let error = timeout_error(self.limits.job_timeout);
                self.finalize(id, JobStatus::Failed, Some(error), None);
            }
            WorkerOutcome::Failed(error) => {
                self.finalize(id, JobStatus::Failed, Some(error), None);
            }
            WorkerOutcome::Panicked(panic) => {
                let error = format!(
                    "the sweep crashed: {panic}; this is a bug in zarrbench, please report it"
                );
                self.finalize(id, JobStatus::Failed, Some(error), None);
            }
        }
        self.dispatch();
    }
}

impl JobRegistry {
    /// Completes a just-accepted job with cached results, through the same
    /// final-state path (store, counts, webhook) as a measured one.
    fn complete_from_cache(
        &mut self,
        mut record: JobRecord,
        cached: super::cache::CachedResult,
    ) -> JobRecord {
        let id = record.id;
        record.started_at = Some(record.submitted_at);
        record.progress.done = record.progress.total;
        self.active.insert(id, ActiveJob::new(record.clone()));
        tracing::info!(job_id = %id, cached_from = %cached.source, "job answered from the result cache");
        self.finalize(id, JobStatus::Completed, None, Some(cached.results))
            .unwrap_or(record)
    }

    fn running(&self) -> usize {
        self.active
            .values()
            .filter(|job| job.record.status == JobStatus::Running)
            .count()
    }
}
