//! Element types a volume can be generated in or read as.
//!
//! Names follow numpy and Zarr v3 (`uint16`, `float32`, ...). Volumes are held as
//! little-endian bytes in C order, which is also the byte order the Zarr `bytes`
//! codec writes, so a volume's buffer is exactly what every codec sees.

use serde::{Deserialize, Serialize};

/// The element type of a volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    Uint8,
    Uint16,
    Uint32,
    Int8,
    Int16,
    Int32,
    /// IEEE 754 half precision (binary16), as MRC mode 12 and some detectors
    /// record.
    Float16,
    Float32,
    Float64,
}

impl Dtype {
    /// Every supported element type, in the order error messages list them.
    pub const ALL: [Dtype; 9] = [
        Dtype::Uint8,
        Dtype::Uint16,
        Dtype::Uint32,
        Dtype::Int8,
        Dtype::Int16,
        Dtype::Int32,
        Dtype::Float16,
        Dtype::Float32,
        Dtype::Float64,
    ];

    /// The numpy / Zarr v3 name, e.g. `uint16`.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Uint8 => "uint8",
            Dtype::Uint16 => "uint16",
            Dtype::Uint32 => "uint32",
            Dtype::Int8 => "int8",
            Dtype::Int16 => "int16",
            Dtype::Int32 => "int32",
            Dtype::Float16 => "float16",
            Dtype::Float32 => "float32",
            Dtype::Float64 => "float64",
        }
    }

    /// Bytes per element; also the blosc `typesize`.
    pub fn size(self) -> usize {
        match self {
            Dtype::Uint8 | Dtype::Int8 => 1,
            Dtype::Uint16 | Dtype::Int16 | Dtype::Float16 => 2,
            Dtype::Uint32 | Dtype::Int32 | Dtype::Float32 => 4,
            Dtype::Float64 => 8,
        }
    }

    /// True for `float16`, `float32` and `float64`.
    pub fn is_float(self) -> bool {
        matches!(self, Dtype::Float16 | Dtype::Float32 | Dtype::Float64)
    }

    /// The smallest and largest value the type holds, as `f64`.
    ///
    /// Floats report the range of integers they represent exactly enough for
    /// quantisation purposes; callers that clamp floats should not clamp at all.
    pub fn range(self) -> (f64, f64) {
        match self {
            Dtype::Uint8 => (0.0, u8::MAX as f64),
            Dtype::Uint16 => (0.0, u16::MAX as f64),
            Dtype::Uint32 => (0.0, u32::MAX as f64),
            Dtype::Int8 => (i8::MIN as f64, i8::MAX as f64),
            Dtype::Int16 => (i16::MIN as f64, i16::MAX as f64),
            Dtype::Int32 => (i32::MIN as f64, i32::MAX as f64),
            Dtype::Float16 => (f64::from(half::f16::MIN), f64::from(half::f16::MAX)),
            Dtype::Float32 => (f32::MIN as f64, f32::MAX as f64),
            Dtype::Float64 => (f64::MIN, f64::MAX),
        }
    }

    /// Parses a numpy-style name; the error lists the accepted names.
    pub fn parse(name: &str) -> Result<Dtype, String> {
        Dtype::ALL
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| {
                format!(
                    "unknown dtype '{name}'; use one of {}",
                    Dtype::ALL.map(Dtype::name).join(", ")
                )
            })
    }
}

impl std::fmt::Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Dtype {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dtype::parse(s)
    }
}
