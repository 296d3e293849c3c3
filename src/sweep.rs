//! The benchmark engine: plan a sweep, measure every configuration, mark the
//! Pareto front and recommend one configuration per profile.
//!
//! The engine takes a volume already in memory and knows nothing of HTTP,
//! actors or the job store; the CLI and the service's workers call the same
//! [`run`]. Callers watch and steer a sweep through an [`Observer`]: it hears of
//! each measured configuration and may stop the sweep between timed passes
//! (a cancel or a deadline).

pub mod codec;
pub mod environment;
pub mod measure;
pub mod plan;
pub mod recommend;
pub mod region;
pub mod result;

use std::time::Instant;

use thiserror::Error;

pub use codec::{Codec, Shuffle};
pub use measure::{MeasureOptions, StoreKind};
pub use plan::{Config, PlanRequest, Profile};
pub use result::{ConfigResult, DatasetInfo, SweepResult};

use crate::data::Volume;

/// Why a sweep ended without a result.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SweepError {
    /// The observer asked to stop, e.g. the job was cancelled.
    #[error("stopped: {0}")]
    Stopped(String),
    /// The thread pool could not be built.
    #[error("cannot start {threads} threads: {reason}")]
    Threads { threads: usize, reason: String },
}

/// Hears about a sweep's progress and may stop it between timed passes.
pub trait Observer: Sync {
    /// Called once the plan is known.
    fn planned(&self, _total: usize) {}
    /// Called after each configuration, successful or not.
    fn measured(&self, _done: usize, _total: usize, _result: &ConfigResult) {}
    /// Checked before each configuration and between the timed passes of
    /// one; `Some(reason)` stops the sweep.
    fn should_stop(&self) -> Option<String> {
        None
    }
}

/// An observer that watches nothing.
pub struct Unobserved;

impl Observer for Unobserved {}

/// The inputs of a sweep besides the volume.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub profile: Profile,
    pub plan: Vec<Config>,
    pub measure: MeasureOptions,
    /// Seconds spent building the volume, reported with the result.
    pub generation_seconds: f64,
}

/// Measures every configuration of the plan on `volume`.
///
/// Configurations that fail carry their error in the result; the sweep goes
/// on. It stops early only when the observer asks.
pub fn run(
    volume: &Volume,
    dataset: DatasetInfo,
    options: &SweepOptions,
    observer: &dyn Observer,
) -> Result<SweepResult, SweepError> {
    let started = Instant::now();
    let threads = options.measure.threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("zarrbench-sweep-{i}"))
        .build()
        .map_err(|e| SweepError::Threads {
            threads,
            reason: e.to_string(),
        })?;

    let total = options.plan.len();
    observer.planned(total);
    let memcpy_mbps = pool.install(|| memcpy_mbps(volume, options.measure.repeats));

    let mut configs = Vec::with_capacity(total);
    for (done, config) in options.plan.iter().enumerate() {
        if let Some(reason) = observer.should_stop() {
            return Err(SweepError::Stopped(reason));
        }
        let stop = || observer.should_stop();
        let outcome = match pool
            .install(|| measure::measure(volume, config, &options.measure, &stop))
        {
            Ok(measured) => Ok(measured),
            Err(measure::NotMeasured::Failed(reason)) => Err(reason),
            Err(measure::NotMeasured::Stopped(reason)) => return Err(SweepError::Stopped(reason)),
        };
        let result = config_result(config, outcome);
        tracing::debug!(
            config_id = %result.config_id,
            ratio = result.measured.as_ref().map(|m| m.ratio),
            error = result.error.as_deref(),
            "configuration measured"
        );
        observer.measured(done + 1, total, &result);
        configs.push(result);
    }

    recommend::mark_pareto(&mut configs);
    let recommendations = recommend::recommend(&configs);
    let sweep_seconds = started.elapsed().as_secs_f64();
    Ok(SweepResult {
        dataset,
        profile: options.profile,
        repeats: options.measure.repeats,
        store: options.measure.store.name().to_string(),
        best_compression: recommend::best_compression(&configs),
        recommendations: recommendations
            .iter()
            .map(|(profile, pick)| (profile.name().to_string(), pick.codec_level.clone()))
            .collect(),
        recommendation_details: recommendations
            .into_iter()
            .map(|(profile, pick)| (profile.name().to_string(), pick))
            .collect(),
        configs,
        memcpy_mbps,
        environment: environment::Environment::current(threads),
        timing: result::PhaseTiming {
            generation: options.generation_seconds,
            sweep: sweep_seconds,
            total: options.generation_seconds + sweep_seconds,
        },
    })
}

fn config_result(config: &Config, outcome: Result<result::Measured, String>) -> ConfigResult {
    let (measured, error) = match outcome {
        Ok(measured) => (Some(measured), None),
        Err(error) => (None, Some(error)),
    };
    ConfigResult {
        config_id: config.id(),
        config: config.clone(),
        verified: measured.is_some(),
        measured,
        pareto: false,
        error,
    }
}

/// Copy speed of the whole volume in memory: the ceiling of every figure.
fn memcpy_mbps(volume: &Volume, repeats: u32) -> f64 {
    let mut copy = vec![0u8; volume.bytes.len()];
    let times: Vec<f64> = (0..repeats.max(1))
        .map(|_| {
            let started = Instant::now();
            copy.copy_from_slice(&volume.bytes);
            std::hint::black_box(&copy);
            started.elapsed().as_secs_f64()
        })
        .collect();
    measure::mbps(volume.bytes.len() as f64, measure::median(&times))
}
