//! A job as the registry and the store see it: its state, timestamps, spec,
//! progress and outcome.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::benchmark::BenchmarkSpec;

/// The states of a job. `pending` and `running` are active; the rest are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Pending,
        JobStatus::Running,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a status name; the error lists the accepted names.
    pub fn parse(name: &str) -> Result<JobStatus, String> {
        JobStatus::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                format!(
                    "unknown status '{name}'; use one of {}",
                    JobStatus::ALL.map(JobStatus::name).join(", ")
                )
            })
    }

    /// True for `completed`, `failed` and `cancelled`.
    pub fn is_final(self) -> bool {
        !matches!(self, JobStatus::Pending | JobStatus::Running)
    }
}

/// Which route a job came in through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestForm {
    /// `POST /benchmark`, the guide's flat body.
    Guide,
    /// `POST /webhook/benchmark`, the original service's nested body.
    Legacy,
}

impl RequestForm {
    pub fn name(self) -> &'static str {
        match self {
            RequestForm::Guide => "guide",
            RequestForm::Legacy => "legacy",
        }
    }
}

/// Configurations measured so far, out of those planned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

/// Everything stored about one job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: Uuid,
    pub status: JobStatus,
    pub form: RequestForm,
    pub spec: BenchmarkSpec,
    /// Stored for result delivery.
    pub callback_url: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The engine's result object once completed.
    pub results: Option<serde_json::Value>,
    pub error: Option<String>,
    pub progress: Progress,
    /// How many times a worker started this job.
    pub attempts: u32,
}

impl JobRecord {
    /// A newly accepted job.
    pub fn new(
        spec: BenchmarkSpec,
        form: RequestForm,
        callback_url: Option<String>,
        planned: usize,
    ) -> JobRecord {
        JobRecord {
            id: Uuid::new_v4(),
            status: JobStatus::Pending,
            form,
            spec,
            callback_url,
            submitted_at: now(),
            started_at: None,
            completed_at: None,
            results: None,
            error: None,
            progress: Progress {
                done: 0,
                total: planned as u64,
            },
            attempts: 0,
        }
    }

    /// Moves the job to a final state.
    pub fn finish(&mut self, status: JobStatus, error: Option<String>) {
        self.status = status;
        self.error = error;
        self.completed_at = Some(now());
    }
}

/// The current time, truncated to milliseconds so that a stored and reloaded
/// timestamp compares equal.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

/// `2025-11-18T21:30:00.123Z`.
pub fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses what [`format_time`] wrote.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Jobs per state, as `/health` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusCounts {
    pub pending: u64,
    pub running: u64,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
}

impl StatusCounts {
    pub fn get_mut(&mut self, status: JobStatus) -> &mut u64 {
        match status {
            JobStatus::Pending => &mut self.pending,
            JobStatus::Running => &mut self.running,
            JobStatus::Completed => &mut self.completed,
            JobStatus::Failed => &mut self.failed,
            JobStatus::Cancelled => &mut self.cancelled,
        }
    }

    /// Records a job moving from one state to another.
    pub fn moved(&mut self, from: Option<JobStatus>, to: JobStatus) {
        if let Some(from) = from {
            let count = self.get_mut(from);
            *count = count.saturating_sub(1);
        }
        *self.get_mut(to) += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_with_z() {
        let text = format_time(&now());
        assert!(text.ends_with('Z'), "{text}");
        assert_eq!(parse_time(&text).map(|t| format_time(&t)), Some(text));
    }

    #[test]
    fn status_names_round_trip() {
        for status in JobStatus::ALL {
            assert_eq!(JobStatus::parse(status.name()), Ok(status));
        }
        assert!(JobStatus::parse("done").is_err());
    }
}
