//! The result object of a sweep: what `zarrbench run --format json` prints and
//! what the service returns under `results`.
//!
//! Times are seconds, speeds are MB/s of uncompressed data (1 MB = 10^6 bytes),
//! sizes are bytes. A figure appears only if it was measured: a configuration
//! that failed carries its `error` and no measurements.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::codec::{Codec, Shuffle};
use super::plan::{Config, Profile};
use crate::data::{Dtype, Modality};
use crate::input::{InputKind, Region};

/// Everything a sweep measured and concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    pub dataset: DatasetInfo,
    /// The profile whose plan was swept.
    pub profile: Profile,
    /// Timed repeats per configuration (after one untimed warm-up).
    pub repeats: u32,
    /// `memory` or `filesystem`.
    pub store: String,
    /// One entry per configuration, in plan order.
    pub configs: Vec<ConfigResult>,
    /// Copying the whole volume in memory once: the ceiling no codec can pass.
    pub memcpy_mbps: f64,
    /// The configuration with the highest ratio.
    pub best_compression: Option<BestCompression>,
    /// One `<codec>_<level>` per profile, e.g. `"archival": "blosc_zstd_9"`.
    pub recommendations: BTreeMap<String, String>,
    /// The full configuration behind each recommendation, and why.
    pub recommendation_details: BTreeMap<String, Recommendation>,
    pub environment: Environment,
    pub timing: PhaseTiming,
}

/// The volume that was benchmarked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    #[serde(rename = "type")]
    pub modality: Modality,
    pub shape: Vec<u64>,
    pub dtype: Dtype,
    /// Uncompressed size in bytes.
    pub bytes: u64,
    pub voxel_size: Option<Vec<f64>>,
    /// The generator's seed; `None` for a volume read from a file.
    pub seed: Option<u64>,
    /// `synthetic` for a generated volume, otherwise the file it was read from.
    pub source: String,
    /// The file's format (`tiff`, `mrc`, `zarr`) when read from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<InputKind>,
    /// The part of the file benchmarked, when a region was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

/// One configuration's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigResult {
    /// Stable and readable, e.g. `blosc_zstd_5_shuffle_64x64x64`.
    pub config_id: String,
    #[serde(flatten)]
    pub config: Config,
    /// Present when every timed round trip succeeded and verified.
    #[serde(flatten)]
    pub measured: Option<Measured>,
    /// True when every read returned exactly the bytes written.
    pub verified: bool,
    /// True when no other configuration is at least as good in ratio, write
    /// speed and read speed and better in one of them.
    pub pareto: bool,
    /// Why the configuration failed; absent when it succeeded.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

/// The figures of a configuration that round-tripped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// Encoded chunks plus the array metadata document.
    pub stored_bytes: u64,
    /// Uncompressed bytes / stored bytes.
    pub ratio: f64,
    /// Median over the timed repeats.
    pub write_time: f64,
    pub read_time: f64,
    pub write_time_best: f64,
    pub read_time_best: f64,
    /// From the median times.
    pub write_mbps: f64,
    pub read_mbps: f64,
    pub repeats: u32,
    /// Reads of part of the array, as analysis tools do them.
    pub partial_reads: PartialReads,
}

/// Median times of reads that touch part of the array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialReads {
    /// The region read: the full extent of the last two axes at the middle
    /// index of every other axis (a plane of a stack).
    pub plane_shape: Vec<u64>,
    pub plane_time: f64,
    /// A block of up to 64 elements per axis at the centre of the array.
    pub region_shape: Vec<u64>,
    pub region_time: f64,
}

impl ConfigResult {
    /// The label a recommendation uses: `<codec>_<level>`, or `none`.
    pub fn codec_level(&self) -> String {
        self.config.codec_level()
    }
}

/// The highest-ratio configuration, in the guide's shape plus its layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestCompression {
    pub config_id: String,
    pub codec: Codec,
    pub level: i32,
    pub shuffle: Option<Shuffle>,
    pub chunk_shape: Vec<u64>,
    pub shard_shape: Option<Vec<u64>>,
    pub ratio: f64,
    pub write_time: f64,
    pub read_time: f64,
}

/// A profile's pick and the reason for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub config_id: String,
    /// `<codec>_<level>`, as in `recommendations`.
    pub codec_level: String,
    #[serde(flatten)]
    pub config: Config,
    pub ratio: f64,
    pub write_mbps: f64,
    pub read_mbps: f64,
    /// The rule applied and the figures that decided it.
    pub reason: String,
}

/// The facts about the machine and build that move the figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub zarrbench_version: String,
    pub cpu_model: String,
    pub logical_cpus: usize,
    /// Threads the sweep ran on (rayon pool size and codec concurrency).
    pub threads: usize,
    pub zarrs_version: String,
    /// The C libraries behind the blosc and zstd codecs, as they report
    /// themselves at run time, e.g. `c-blosc 1.21.6, zstd 1.5.6`.
    pub codec_libraries: String,
    pub gzip_backend: String,
    /// Target features the binary was compiled for, e.g. `x86_64 sse2 avx2`.
    pub simd_target: String,
    /// `release` or `debug`; debug figures are not comparable.
    pub build_profile: String,
    pub os: String,
    /// Other jobs running on the same machine while this one ran, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub concurrent_jobs: Option<usize>,
}

/// Wall-clock seconds of the job's phases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseTiming {
    /// Building or reading the volume.
    pub generation: f64,
    /// Measuring every configuration.
    pub sweep: f64,
    pub total: f64,
}
