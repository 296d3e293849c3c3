//! Real volumes read from files: TIFF stacks, MRC / CCP4 maps and Zarr arrays.
//!
//! [`probe`] reads only headers and says what a path holds ([`InputInfo`]),
//! checking on the way that the file is complete and of a kind, element type
//! and compression this module reads, so a bad file is refused when a job is
//! submitted rather than when it runs. [`read`] returns the volume, or a
//! [`Region`] of it, as a [`Volume`]: little-endian elements in C order, the
//! buffer every codec is measured on.
//!
//! The kind is recognised by content: a TIFF by its signature (`II*\0`,
//! `MM\0*`, or BigTIFF's `II+\0` / `MM\0+`), an MRC file by the `MAP ` stamp at
//! byte 208 or by its extension (`.mrc .mrcs .map .ccp4 .rec .st .ali`), a Zarr
//! array by a directory holding `zarr.json` (v3) or `.zarray` (v2).
//!
//! Shapes are listed slowest axis first, as numpy, tifffile and mrcfile present
//! them: a TIFF stack is `[pages, height, width]`, an MRC volume
//! `[sections, rows, columns]`. Each format's module says how it maps axes and
//! element types.
//!
//! Every size in a header is checked with overflow-checked arithmetic before
//! anything is allocated or read, and buffers are reserved fallibly, so a
//! damaged or hostile header gives an [`InputError`] rather than a panic or an
//! allocation the machine cannot make (the tests feed the readers thousands of
//! randomly damaged files).
//!
//! This module knows nothing of codecs, benchmarks or HTTP.

mod mrc;
mod region;
mod tiff;
mod zarr;

pub use region::Region;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tracing::debug;

use crate::data::{Dtype, Volume};

/// The formats an input can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    Tiff,
    Mrc,
    Zarr,
}

impl InputKind {
    /// Every kind, in the order error messages list them.
    pub const ALL: [InputKind; 3] = [InputKind::Tiff, InputKind::Mrc, InputKind::Zarr];

    /// The name used in results and messages, e.g. `tiff`.
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Tiff => "tiff",
            InputKind::Mrc => "mrc",
            InputKind::Zarr => "zarr",
        }
    }
}

impl std::fmt::Display for InputKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a file holds, from its headers only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputInfo {
    pub kind: InputKind,
    /// Slowest axis first (e.g. z, y, x), as numpy, tifffile and mrcfile
    /// present the data.
    pub shape: Vec<u64>,
    pub dtype: Dtype,
    /// Physical size of a voxel per axis (same order as `shape`) where the
    /// format records one (the MRC cell and grid), else `None`.
    pub voxel_size: Option<Vec<f64>>,
}

impl InputInfo {
    /// Size of the whole volume in memory, saturating instead of overflowing so
    /// that an absurd header is reported as too large rather than wrapping.
    pub fn num_bytes(&self) -> u64 {
        byte_len(&self.shape, self.dtype).unwrap_or(u64::MAX)
    }
}

/// Why an input cannot be probed or read. Messages name the path as given and
/// say what to change.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Nothing exists at the path.
    #[error("`{path}` does not exist; check the path and that this process can see it")]
    NotFound { path: String },
    /// A kind, element type, compression or layout this module does not read.
    #[error("{0}")]
    Unsupported(String),
    /// The file ends before the data its headers describe.
    #[error("{0}")]
    Truncated(String),
    /// A header that makes no sense, or a region that does not fit the input.
    #[error("{0}")]
    Invalid(String),
    /// The operating system failed a read.
    #[error("reading `{path}` failed: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl InputError {
    /// A stable, machine-readable code for the variant.
    pub fn code(&self) -> &'static str {
        match self {
            InputError::NotFound { .. } => "input-not-found",
            InputError::Unsupported(_) => "input-unsupported",
            InputError::Truncated(_) => "input-truncated",
            InputError::Invalid(_) => "input-invalid",
            InputError::Io { .. } => "input-io",
        }
    }

    /// Maps an I/O error on `path`: a missing file is [`InputError::NotFound`].
    fn io(path: &Path, source: std::io::Error) -> InputError {
        if source.kind() == std::io::ErrorKind::NotFound {
            InputError::NotFound { path: shown(path) }
        } else {
            InputError::Io {
                path: shown(path),
                source,
            }
        }
    }
}

/// Reads headers and checks, without reading the pixels, that the input is
/// complete and supported.
pub fn probe(path: &Path) -> Result<InputInfo, InputError> {
    match detect(path)? {
        InputKind::Tiff => tiff::probe(path),
        InputKind::Mrc => mrc::probe(path),
        InputKind::Zarr => zarr::probe(&zarr::array_dir(path)),
    }
}

/// Reads the volume, or only `region` of it (reading as little as the format
/// allows), as little-endian C-order bytes.
///
/// The whole result is held in memory: check [`InputInfo::num_bytes`] (or the
/// region's size) against a budget first. An allocation the machine cannot
/// make is reported as [`InputError::Invalid`] rather than aborting.
pub fn read(path: &Path, region: Option<&Region>) -> Result<Volume, InputError> {
    let kind = detect(path)?;
    let volume = match kind {
        InputKind::Tiff => tiff::read(path, region)?,
        InputKind::Mrc => mrc::read(path, region)?,
        InputKind::Zarr => zarr::read(&zarr::array_dir(path), region)?,
    };
    debug!(
        path = %path.display(),
        kind = kind.name(),
        shape = ?volume.shape,
        dtype = %volume.dtype,
        "input read"
    );
    Ok(volume)
}

/// Recognises the kind of input at `path` by its content.
fn detect(path: &Path) -> Result<InputKind, InputError> {
    let metadata = std::fs::metadata(path).map_err(|e| InputError::io(path, e))?;
    if metadata.is_dir() || zarr::is_metadata_file(path) {
        return zarr::recognise(path).map(|()| InputKind::Zarr);
    }

    let head = read_head(path)?;
    if tiff::has_signature(&head) {
        return Ok(InputKind::Tiff);
    }
    if mrc::has_stamp(&head) || mrc::has_extension(path) {
        return Ok(InputKind::Mrc);
    }
    if tiff::has_extension(path) {
        return Err(if head.len() < 8 {
            InputError::Truncated(format!(
                "`{}` has only {} bytes, too few for a TIFF header: the file is truncated; \
                 copy it again",
                shown(path),
                head.len()
            ))
        } else {
            InputError::Invalid(format!(
                "`{}` is named like a TIFF but does not start with a TIFF signature \
                 (II*\\0 or MM\\0*); check that it is the file you meant",
                shown(path)
            ))
        });
    }
    Err(InputError::Unsupported(format!(
        "`{}` is not an input this service reads; supported kinds: {}",
        shown(path),
        SUPPORTED_KINDS
    )))
}

/// The supported kinds, as error messages list them.
const SUPPORTED_KINDS: &str = "TIFF (single images and multi-page stacks), \
     MRC / CCP4 (.mrc .mrcs .map .ccp4 .rec .st .ali), \
     Zarr v2 or v3 arrays (a directory holding .zarray or zarr.json)";

/// The first 1024 bytes of a file (fewer if the file is shorter).
fn read_head(path: &Path) -> Result<Vec<u8>, InputError> {
    let file = File::open(path).map_err(|e| InputError::io(path, e))?;
    let mut head = Vec::with_capacity(1024);
    file.take(1024)
        .read_to_end(&mut head)
        .map_err(|e| InputError::io(path, e))?;
    Ok(head)
}

/// A path as the caller gave it, for messages.
fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// Bytes of an array of `shape` and `dtype`, or `None` if that overflows.
fn byte_len(shape: &[u64], dtype: Dtype) -> Option<u64> {
    shape
        .iter()
        .try_fold(dtype.size() as u64, |acc, &n| acc.checked_mul(n))
}

/// An empty buffer able to hold `region` of `dtype` elements.
fn region_buffer(path: &Path, region: &Region, dtype: Dtype) -> Result<Vec<u8>, InputError> {
    buffer_for(path, byte_len(&region.size, dtype).unwrap_or(u64::MAX))
}

/// An empty buffer able to hold `len` bytes without reallocating; an
/// allocation the machine cannot make is an error, not an abort.
fn buffer_for(path: &Path, len: u64) -> Result<Vec<u8>, InputError> {
    let too_large = || {
        InputError::Invalid(format!(
            "`{}`: the requested data is {len} bytes, more than this machine can hold in \
             memory; read a smaller region",
            shown(path)
        ))
    };
    let len = usize::try_from(len).map_err(|_| too_large())?;
    let mut buffer = Vec::new();
    buffer.try_reserve_exact(len).map_err(|_| too_large())?;
    Ok(buffer)
}

/// Turns elements of `element_size` bytes decoded in this machine's byte order
/// into little-endian order (nothing to do on little-endian machines).
fn native_to_little_endian(bytes: &mut [u8], element_size: usize) {
    if cfg!(target_endian = "big") {
        swap_bytes(bytes, element_size);
    }
}

/// Reverses the bytes of every element of `element_size` bytes.
fn swap_bytes(bytes: &mut [u8], element_size: usize) {
    if element_size > 1 {
        for element in bytes.chunks_exact_mut(element_size) {
            element.reverse();
        }
    }
}

/// Checks the rank and axis lengths every reader shares.
fn check_shape(path: &Path, shape: &[u64]) -> Result<(), InputError> {
    if shape.is_empty() || shape.len() > crate::data::MAX_RANK {
        return Err(InputError::Unsupported(format!(
            "`{}` has {} axes; volumes must have 1 to {} axes",
            shown(path),
            shape.len(),
            crate::data::MAX_RANK
        )));
    }
    if let Some(axis) = shape.iter().position(|&n| n == 0) {
        return Err(InputError::Invalid(format!(
            "`{}` has shape {shape:?}: axis {axis} is empty, so there is nothing to read",
            shown(path)
        )));
    }
    Ok(())
}

/// The region to read: the one given, checked against `shape`, or the whole.
fn region_or_whole(
    path: &Path,
    shape: &[u64],
    region: Option<&Region>,
) -> Result<Region, InputError> {
    match region {
        Some(region) => {
            region
                .validate(shape)
                .map_err(|message| InputError::Invalid(format!("`{}`: {message}", shown(path))))?;
            Ok(region.clone())
        }
        None => Ok(Region::whole(shape)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_distinct() {
        let errors = [
            InputError::NotFound { path: "a".into() },
            InputError::Unsupported(String::new()),
            InputError::Truncated(String::new()),
            InputError::Invalid(String::new()),
            InputError::Io {
                path: "a".into(),
                source: std::io::Error::other("x"),
            },
        ];
        let codes: Vec<&str> = errors.iter().map(InputError::code).collect();
        assert_eq!(
            codes,
            [
                "input-not-found",
                "input-unsupported",
                "input-truncated",
                "input-invalid",
                "input-io"
            ]
        );
    }

    #[test]
    fn an_absurd_shape_reports_saturated_bytes() {
        let info = InputInfo {
            kind: InputKind::Mrc,
            shape: vec![1 << 40, 1 << 40],
            dtype: Dtype::Uint16,
            voxel_size: None,
        };
        assert_eq!(info.num_bytes(), u64::MAX);
    }

    #[test]
    fn buffers_larger_than_memory_are_refused() {
        let err = buffer_for(Path::new("big.mrc"), u64::MAX).unwrap_err();
        assert_eq!(err.code(), "input-invalid", "{err}");
        assert!(err.to_string().contains("smaller region"), "{err}");
    }

    #[test]
    fn kind_names_round_trip_through_serde() {
        for kind in InputKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
            assert_eq!(serde_json::from_str::<InputKind>(&json).unwrap(), kind);
        }
    }
}
