//! One benchmark from start to end: build the volume, plan, sweep.
//!
//! [`BenchmarkSpec`] is everything a job asks for, already parsed; [`validate`]
//! checks it completely so that callers (the CLI, the service at submission)
//! can refuse a bad request before any work starts, and [`run`] does the work.
//! The same two functions serve `zarrbench run` and the service's workers.
//! A spec may name a file instead of a generated volume; [`input`] checks and
//! reads it.

pub mod input;

use std::time::Instant;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::{self, DEFAULT_SEED, Modality, VolumeSpec};
use crate::sweep::{self, Config, MeasureOptions, Observer, PlanRequest, StoreKind, SweepResult};
use input::{InputSpec, Root};

/// Timed repeats per configuration when a request names none.
pub const DEFAULT_REPEATS: u32 = 3;
/// The most repeats a request may ask for.
pub const MAX_REPEATS: u32 = 50;
/// The most threads a request may ask for.
pub const MAX_THREADS: usize = 256;

/// Which store configurations are written to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreChoice {
    #[default]
    Memory,
    Filesystem,
}

/// A complete, parsed benchmark request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkSpec {
    pub volume: VolumeSpec,
    pub plan: PlanRequest,
    pub repeats: u32,
    pub threads: usize,
    pub store: StoreChoice,
    /// The file benchmarked instead of a generated volume; the volume's shape
    /// and dtype are then the file's (see [`input::attach`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<InputSpec>,
}

impl BenchmarkSpec {
    /// A spec with every optional field at its default.
    pub fn new(modality: Modality, shape: Vec<u64>) -> BenchmarkSpec {
        BenchmarkSpec {
            volume: VolumeSpec {
                modality,
                shape,
                dtype: None,
                voxel_size: None,
                seed: DEFAULT_SEED,
            },
            plan: PlanRequest::default(),
            repeats: DEFAULT_REPEATS,
            threads: 1,
            store: StoreChoice::Memory,
            input: None,
        }
    }
}

/// Why a benchmark could not run.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum BenchmarkError {
    /// The request is wrong; the message names the field and what to change.
    #[error("{0}")]
    Invalid(String),
    /// The volume would exceed the configured limit.
    #[error(
        "the volume would be {bytes} bytes, over the limit of {limit} bytes; use a smaller shape or dtype"
    )]
    TooLarge { bytes: u64, limit: u64 },
    /// The named file cannot be benchmarked; `code` says why (not found,
    /// unsupported, truncated, outside the data directory, ...).
    #[error("{message}")]
    Input { code: &'static str, message: String },
    /// The sweep stopped or could not start.
    #[error(transparent)]
    Sweep(#[from] sweep::SweepError),
}

/// Checks every field and returns the plan the spec will sweep.
pub fn validate(
    spec: &BenchmarkSpec,
    max_volume_bytes: u64,
) -> Result<Vec<Config>, BenchmarkError> {
    spec.volume.validate().map_err(BenchmarkError::Invalid)?;
    let bytes = spec.volume.num_bytes();
    if bytes > max_volume_bytes {
        return Err(BenchmarkError::TooLarge {
            bytes,
            limit: max_volume_bytes,
        });
    }
    if !(1..=MAX_REPEATS).contains(&spec.repeats) {
        return Err(BenchmarkError::Invalid(format!(
            "repeats must be 1 to {MAX_REPEATS}, got {}",
            spec.repeats
        )));
    }
    if !(1..=MAX_THREADS).contains(&spec.threads) {
        return Err(BenchmarkError::Invalid(format!(
            "threads must be 1 to {MAX_THREADS}, got {}",
            spec.threads
        )));
    }
    sweep::plan::build(&spec.plan, &spec.volume.shape, spec.volume.dtype())
        .map_err(BenchmarkError::Invalid)
}

/// Where a benchmark may put files.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Root of temporary stores when `store` is `filesystem`.
    pub data_dir: std::path::PathBuf,
    pub max_volume_bytes: u64,
    /// Where `input` paths may point: the data directory for the service,
    /// anywhere for the command line.
    pub input_confined: bool,
}

impl RunContext {
    fn input_root(&self) -> Root<'_> {
        if self.input_confined {
            Root::Confined(&self.data_dir)
        } else {
            Root::Anywhere
        }
    }
}

/// A volume ready to sweep, with what the result says about it.
pub struct PreparedVolume {
    pub volume: data::Volume,
    pub dataset: sweep::DatasetInfo,
    /// Wall-clock seconds spent generating or reading it.
    pub seconds: f64,
}

/// Builds the volume a spec describes, or reads its file.
pub fn prepare(
    spec: &BenchmarkSpec,
    context: &RunContext,
) -> Result<PreparedVolume, BenchmarkError> {
    let started = Instant::now();
    let volume = match &spec.input {
        Some(file) => input::load(spec, file, context.input_root())?,
        None => data::generate(&spec.volume),
    };
    let seconds = started.elapsed().as_secs_f64();
    tracing::debug!(seconds, bytes = volume.bytes.len(), "volume ready");
    let dataset = sweep::DatasetInfo {
        modality: spec.volume.modality,
        shape: volume.shape.clone(),
        dtype: volume.dtype,
        bytes: volume.bytes.len() as u64,
        voxel_size: spec.volume.voxel_size.clone(),
        seed: spec.input.is_none().then_some(spec.volume.seed),
        source: spec
            .input
            .as_ref()
            .map_or_else(|| "synthetic".to_string(), |file| file.path.clone()),
        format: spec.input.as_ref().map(|file| file.kind),
        region: spec.input.as_ref().and_then(|file| file.region.clone()),
    };
    Ok(PreparedVolume {
        volume,
        dataset,
        seconds,
    })
}

/// Builds the volume and runs the sweep.
pub fn run(
    spec: &BenchmarkSpec,
    context: &RunContext,
    observer: &dyn Observer,
) -> Result<SweepResult, BenchmarkError> {
    let plan = validate(spec, context.max_volume_bytes)?;
    let prepared = prepare(spec, context)?;
    sweep_prepared(spec, plan, &prepared, context, observer)
}

/// Runs the sweep of `plan` (from [`validate`]) on a prepared volume.
pub fn sweep_prepared(
    spec: &BenchmarkSpec,
    plan: Vec<Config>,
    prepared: &PreparedVolume,
    context: &RunContext,
    observer: &dyn Observer,
) -> Result<SweepResult, BenchmarkError> {
    let options = sweep::SweepOptions {
        profile: spec.plan.profile.unwrap_or(sweep::plan::DEFAULT_PROFILE),
        plan,
        measure: MeasureOptions {
            repeats: spec.repeats,
            threads: spec.threads,
            store: match spec.store {
                StoreChoice::Memory => StoreKind::Memory,
                StoreChoice::Filesystem => StoreKind::Filesystem {
                    root: context.data_dir.join("stores"),
                },
            },
        },
        generation_seconds: prepared.seconds,
    };
    Ok(sweep::run(
        &prepared.volume,
        prepared.dataset.clone(),
        &options,
        observer,
    )?)
}
