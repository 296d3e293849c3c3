//! Volumes to benchmark: one generator per imaging modality.
//!
//! A [`VolumeSpec`] names a modality, a shape of 1 to 5 axes, an optional element
//! type and voxel size, and a seed; [`generate`] turns it into a [`Volume`], a
//! C-ordered little-endian buffer that is byte-for-byte the same for the same
//! spec on every machine and thread count. Each modality lives in its own file
//! whose module docs describe the instrument model it follows.
//!
//! This module knows nothing of codecs, Zarr or HTTP.

mod cells;
mod confocal;
mod cryoet;
mod custom;
mod dtype;
mod fast_math;
mod frames;
mod layout;
mod light_sheet;
mod noise;
mod palm_storm;
mod quantize;
mod render;
mod sem;
mod smooth_field;
mod sted;
mod structures;
mod synthetic;
mod two_photon;
mod widefield;

pub use dtype::Dtype;

use serde::{Deserialize, Serialize};

use layout::Layout;
use render::Model;

/// The seed used when a request gives none, so two runs of the same request
/// measure the same bytes.
pub const DEFAULT_SEED: u64 = 42;

/// The most axes a volume may have (t, c, z, y, x).
pub const MAX_RANK: usize = 5;

/// An imaging modality: which instrument a generated volume imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    Cryoet,
    LightSheet,
    Confocal,
    TwoPhoton,
    Widefield,
    Sem,
    Sted,
    PalmStorm,
    Synthetic,
    Custom,
}

impl Modality {
    /// Every modality, in the order error messages list them.
    pub const ALL: [Modality; 10] = [
        Modality::Cryoet,
        Modality::LightSheet,
        Modality::Confocal,
        Modality::TwoPhoton,
        Modality::Widefield,
        Modality::Sem,
        Modality::Sted,
        Modality::PalmStorm,
        Modality::Synthetic,
        Modality::Custom,
    ];

    /// The name used in requests and results, e.g. `light_sheet`.
    pub fn name(self) -> &'static str {
        match self {
            Modality::Cryoet => "cryoet",
            Modality::LightSheet => "light_sheet",
            Modality::Confocal => "confocal",
            Modality::TwoPhoton => "two_photon",
            Modality::Widefield => "widefield",
            Modality::Sem => "sem",
            Modality::Sted => "sted",
            Modality::PalmStorm => "palm_storm",
            Modality::Synthetic => "synthetic",
            Modality::Custom => "custom",
        }
    }

    /// The element type the instrument usually records.
    pub fn default_dtype(self) -> Dtype {
        match self {
            Modality::Cryoet => Dtype::Float32,
            Modality::Sem => Dtype::Uint8,
            _ => Dtype::Uint16,
        }
    }

    /// Parses a request name; the error lists the accepted names.
    pub fn parse(name: &str) -> Result<Modality, String> {
        Modality::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                format!(
                    "unknown dataset_type '{name}'; use one of {}",
                    Modality::ALL.map(Modality::name).join(", ")
                )
            })
    }
}

impl std::fmt::Display for Modality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Modality {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Modality::parse(s)
    }
}

/// What to generate. Validation of shape and voxel size happens before a spec is
/// built (see [`VolumeSpec::validate`]); generators may assume a valid spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeSpec {
    pub modality: Modality,
    /// 1 to [`MAX_RANK`] axes, each at least 1, slowest first (t, c, z, y, x).
    pub shape: Vec<u64>,
    /// The element type; `None` means the modality's default.
    pub dtype: Option<Dtype>,
    /// Physical size of a voxel per axis (same rank as `shape`), in any unit;
    /// only the ratios matter (they stretch structures along coarse axes).
    pub voxel_size: Option<Vec<f64>>,
    pub seed: u64,
}

impl VolumeSpec {
    /// The element type that will be generated.
    pub fn dtype(&self) -> Dtype {
        self.dtype.unwrap_or_else(|| self.modality.default_dtype())
    }

    /// Number of elements.
    pub fn num_elements(&self) -> u64 {
        self.shape.iter().product()
    }

    /// Size of the generated buffer in bytes, saturating instead of overflowing
    /// so that an absurd shape is reported as too large rather than wrapping.
    pub fn num_bytes(&self) -> u64 {
        self.shape
            .iter()
            .try_fold(self.dtype().size() as u64, |acc, &n| acc.checked_mul(n))
            .unwrap_or(u64::MAX)
    }

    /// Checks rank, axis lengths and voxel size, with a message naming the bad
    /// value and what to change.
    pub fn validate(&self) -> Result<(), String> {
        if self.shape.is_empty() || self.shape.len() > MAX_RANK {
            return Err(format!(
                "shape must have 1 to {MAX_RANK} axes, got {}",
                self.shape.len()
            ));
        }
        if let Some(axis) = self.shape.iter().position(|&n| n == 0) {
            return Err(format!("shape[{axis}] must be at least 1"));
        }
        if let Some(voxel_size) = &self.voxel_size {
            if voxel_size.len() != self.shape.len() {
                return Err(format!(
                    "voxel_size has {} values but shape has {} axes; give one per axis",
                    voxel_size.len(),
                    self.shape.len()
                ));
            }
            if let Some(axis) = voxel_size.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
                return Err(format!(
                    "voxel_size[{axis}] must be a positive finite number, got {}",
                    voxel_size[axis]
                ));
            }
        }
        Ok(())
    }
}

/// A volume in memory: C-ordered little-endian elements of `dtype`.
#[derive(Clone, PartialEq)]
pub struct Volume {
    pub shape: Vec<u64>,
    pub dtype: Dtype,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Volume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Volume")
            .field("shape", &self.shape)
            .field("dtype", &self.dtype)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl Volume {
    /// Number of elements.
    pub fn num_elements(&self) -> u64 {
        self.shape.iter().product()
    }
}

/// Generates the volume `spec` describes, in parallel on the current rayon
/// pool; the bytes depend only on the spec.
///
/// The spec must be valid ([`VolumeSpec::validate`]). Memory use is the
/// volume's size plus a small scratch buffer per thread and the scene (a few
/// percent of the volume at most).
///
/// # Panics
///
/// If the volume does not fit in memory; check [`VolumeSpec::num_bytes`]
/// against a budget first.
pub fn generate(spec: &VolumeSpec) -> Volume {
    let layout = Layout::new(spec);
    let model = model(spec.modality, &layout, spec.seed);
    let dtype = spec.dtype();
    Volume {
        shape: spec.shape.clone(),
        dtype,
        bytes: render::render(&layout, model.as_ref(), dtype),
    }
}

/// The instrument model of a modality.
fn model(modality: Modality, layout: &Layout, seed: u64) -> Box<dyn Model> {
    match modality {
        Modality::Cryoet => Box::new(cryoet::Tomogram::new(layout, seed)),
        Modality::LightSheet => Box::new(light_sheet::LightSheet::new(layout, seed)),
        Modality::Confocal => Box::new(confocal::Confocal::new(layout, seed)),
        Modality::TwoPhoton => Box::new(two_photon::TwoPhoton::new(layout, seed)),
        Modality::Widefield => Box::new(widefield::Widefield::new(layout, seed)),
        Modality::Sem => Box::new(sem::Sem::new(layout, seed)),
        Modality::Sted => Box::new(sted::Sted::new(layout, seed)),
        Modality::PalmStorm => Box::new(palm_storm::PalmStorm::new(layout, seed)),
        Modality::Synthetic => Box::new(synthetic::Synthetic::new(layout, seed)),
        Modality::Custom => Box::new(custom::Custom::new(layout, seed, custom::MIXTURE)),
    }
}
