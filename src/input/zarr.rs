//! Zarr v2 and v3 arrays on the filesystem, read with zarrs.
//!
//! The path names the array's directory (the one holding `zarr.json` or
//! `.zarray`; naming the metadata file itself works too). A group's path is
//! refused with the paths of arrays found inside it. The array's axes and
//! element type are presented as stored; chunks that are missing read as the
//! fill value, as Zarr defines. Arrays in Fortran order (v2 `"order": "F"`)
//! and big-endian elements are returned in C order, little-endian.
//!
//! Compressors read: blosc (every inner codec), zstd, gzip, zlib, crc32c, and
//! sharding; element types: those of [`Dtype`]. `uint64`, `int64`, `bool`,
//! complex, string and nullable arrays are refused.
//!
//! [`probe`] parses the metadata only; a chunk that is damaged or cut short is
//! found when [`read`] decodes it. Chunks (or shards) that decode to more than
//! 16 GiB are refused, since each is decoded whole; only the first chunk of an
//! irregular (rectilinear) grid is checked.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use zarrs::array::data_type::{
    Float16DataType, Float32DataType, Float64DataType, Int8DataType, Int16DataType, Int32DataType,
    UInt8DataType, UInt16DataType, UInt32DataType,
};
use zarrs::array::{Array, ArrayBytes, ArrayCreateError, ArrayError, ArraySubset, DataType};
use zarrs::filesystem::FilesystemStore;

use super::{
    InputError, InputInfo, InputKind, Region, SUPPORTED_KINDS, native_to_little_endian,
    region_buffer, shown,
};
use crate::data::{Dtype, Volume};

/// Metadata files that mark a Zarr node.
const V3_METADATA: &str = "zarr.json";
const V2_ARRAY: &str = ".zarray";
const V2_GROUP: &str = ".zgroup";

/// The most bytes one chunk (or shard) may decode to. Chunks are decoded whole,
/// so this bounds what a damaged or hostile chunk shape can make zarrs
/// allocate.
const MAX_CHUNK_BYTES: u64 = 16 << 30;

/// How deep below a group arrays are looked for to suggest one.
const SUGGEST_DEPTH: usize = 3;
/// How many arrays a group error suggests.
const SUGGEST_COUNT: usize = 5;

/// Whether `path` names a Zarr metadata file rather than a directory.
pub(super) fn is_metadata_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| matches!(n, V3_METADATA | V2_ARRAY | V2_GROUP))
}

/// The array's directory: `path`, or its parent when `path` is a metadata file.
pub(super) fn array_dir(path: &Path) -> PathBuf {
    if is_metadata_file(path) {
        match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }
    } else {
        path.to_path_buf()
    }
}

/// What a directory's metadata says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Array,
    Group,
}

/// Checks that `path` is a Zarr array, with a message for groups and for
/// directories that are not Zarr at all.
pub(super) fn recognise(path: &Path) -> Result<(), InputError> {
    let dir = array_dir(path);
    match node(&dir)? {
        Some(Node::Array) => Ok(()),
        Some(Node::Group) => Err(group_error(path, &dir)),
        None => Err(InputError::Unsupported(format!(
            "`{}` is a directory without zarr.json or .zarray, so not a Zarr array; supported \
             kinds: {SUPPORTED_KINDS}",
            shown(path)
        ))),
    }
}

/// Reads the node's metadata document; `None` if the directory holds none.
fn node(dir: &Path) -> Result<Option<Node>, InputError> {
    let v3 = dir.join(V3_METADATA);
    if v3.is_file() {
        let document = metadata_document(&v3)?;
        return match document.get("node_type").and_then(|t| t.as_str()) {
            Some("array") => Ok(Some(Node::Array)),
            Some("group") => Ok(Some(Node::Group)),
            other => Err(InputError::Invalid(format!(
                "`{}` has node_type {} where \"array\" or \"group\" belongs: the metadata is \
                 damaged",
                shown(&v3),
                other.map_or_else(|| "missing".to_string(), |t| format!("{t:?}"))
            ))),
        };
    }
    let v2 = dir.join(V2_ARRAY);
    if v2.is_file() {
        metadata_document(&v2)?;
        return Ok(Some(Node::Array));
    }
    if dir.join(V2_GROUP).is_file() {
        return Ok(Some(Node::Group));
    }
    Ok(None)
}

/// Parses a metadata file as JSON; a document that stops early is truncated.
fn metadata_document(path: &Path) -> Result<serde_json::Value, InputError> {
    let text = std::fs::read(path).map_err(|e| InputError::io(path, e))?;
    serde_json::from_slice(&text).map_err(|e| {
        if e.is_eof() {
            InputError::Truncated(format!(
                "`{}` ends in the middle of its JSON ({e}): the metadata file is truncated; \
                 copy the array again",
                shown(path)
            ))
        } else {
            InputError::Invalid(format!(
                "`{}` is not valid JSON ({e}): the metadata is damaged",
                shown(path)
            ))
        }
    })
}

/// The error for a group's path, suggesting arrays found inside it.
fn group_error(path: &Path, dir: &Path) -> InputError {
    let mut arrays = Vec::new();
    find_arrays(dir, SUGGEST_DEPTH, &mut arrays);
    let suggestion = if arrays.is_empty() {
        format!("no array was found within {SUGGEST_DEPTH} levels of it")
    } else {
        let listed: Vec<String> = arrays.iter().map(|a| format!("`{}`", shown(a))).collect();
        format!("arrays inside it include {}", listed.join(", "))
    };
    InputError::Invalid(format!(
        "`{}` is a Zarr group, not an array; give the path of an array inside it \
         ({suggestion})",
        shown(path)
    ))
}

/// Collects up to [`SUGGEST_COUNT`] array directories below `dir`, breadth
/// first, in name order.
fn find_arrays(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let mut level = vec![dir.to_path_buf()];
    for _ in 0..depth {
        let mut next = Vec::new();
        for parent in &level {
            let Ok(entries) = std::fs::read_dir(parent) else {
                continue;
            };
            let mut children: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            children.sort();
            for child in children {
                if found.len() == SUGGEST_COUNT {
                    return;
                }
                match node(&child) {
                    Ok(Some(Node::Array)) => found.push(child),
                    _ => next.push(child),
                }
            }
        }
        level = next;
    }
}

type Reader = Array<FilesystemStore>;

/// Opens the array and maps its element type.
fn open(dir: &Path) -> Result<(Reader, Dtype), InputError> {
    let store = FilesystemStore::new(dir).map_err(|e| {
        InputError::Invalid(format!(
            "`{}` cannot be opened as a Zarr store: {e}",
            shown(dir)
        ))
    })?;
    let array = Array::open(Arc::new(store), "/").map_err(|e| open_error(dir, e))?;
    let dtype = dtype(array.data_type()).ok_or_else(|| {
        InputError::Unsupported(format!(
            "`{}` holds {} elements; supported element types: {}",
            shown(dir),
            array.data_type(),
            Dtype::ALL.map(Dtype::name).join(", ")
        ))
    })?;
    super::check_shape(dir, array.shape())?;
    check_chunk_size(dir, &array, dtype)?;
    Ok((array, dtype))
}

/// Refuses chunks (or shards) too large to decode, before zarrs sizes any
/// buffer for them.
fn check_chunk_size(dir: &Path, array: &Reader, dtype: Dtype) -> Result<(), InputError> {
    let origin = vec![0; array.shape().len()];
    let chunk: Vec<u64> = array
        .chunk_shape(&origin)
        .map(|shape| shape.iter().map(|n| n.get()).collect())
        .map_err(|e| {
            InputError::Invalid(format!(
                "`{}` has no usable first chunk ({e}): the metadata is damaged",
                shown(dir)
            ))
        })?;
    match super::byte_len(&chunk, dtype) {
        Some(bytes) if bytes <= MAX_CHUNK_BYTES => Ok(()),
        bytes => Err(InputError::Unsupported(format!(
            "`{}` has chunks of {chunk:?} {dtype} elements ({}), more than the {} GiB a chunk \
             may decode to; rechunk the array",
            shown(dir),
            bytes.map_or_else(|| "beyond 2^64 bytes".to_string(), |b| format!("{b} bytes")),
            MAX_CHUNK_BYTES >> 30
        ))),
    }
}

/// Our element type for a Zarr data type, if it is one we benchmark.
fn dtype(data_type: &DataType) -> Option<Dtype> {
    let known = [
        (data_type.is::<UInt8DataType>(), Dtype::Uint8),
        (data_type.is::<UInt16DataType>(), Dtype::Uint16),
        (data_type.is::<UInt32DataType>(), Dtype::Uint32),
        (data_type.is::<Int8DataType>(), Dtype::Int8),
        (data_type.is::<Int16DataType>(), Dtype::Int16),
        (data_type.is::<Int32DataType>(), Dtype::Int32),
        (data_type.is::<Float16DataType>(), Dtype::Float16),
        (data_type.is::<Float32DataType>(), Dtype::Float32),
        (data_type.is::<Float64DataType>(), Dtype::Float64),
    ];
    known
        .into_iter()
        .find(|(is, _)| *is)
        .map(|(_, dtype)| dtype)
}

fn open_error(dir: &Path, error: ArrayCreateError) -> InputError {
    match error {
        ArrayCreateError::DataTypeCreateError(e) => InputError::Unsupported(format!(
            "`{}` has an element type that cannot be read ({e}); supported element types: {}",
            shown(dir),
            Dtype::ALL.map(Dtype::name).join(", ")
        )),
        ArrayCreateError::CodecsCreateError(e)
        | ArrayCreateError::StorageTransformersCreateError(e)
        | ArrayCreateError::ChunkGridCreateError(e)
        | ArrayCreateError::ChunkKeyEncodingCreateError(e) => InputError::Unsupported(format!(
            "`{}` uses a codec or layout that cannot be read ({e}); supported compressors: \
             blosc, zstd, gzip, zlib, with or without sharding",
            shown(dir)
        )),
        other => InputError::Invalid(format!(
            "`{}` has Zarr metadata that cannot be used ({other}): the metadata is damaged",
            shown(dir)
        )),
    }
}

/// Parses the array's metadata and checks its element type and shape.
pub(super) fn probe(dir: &Path) -> Result<InputInfo, InputError> {
    let (array, dtype) = open(dir)?;
    Ok(InputInfo {
        kind: InputKind::Zarr,
        shape: array.shape().to_vec(),
        dtype,
        voxel_size: None,
    })
}

/// Reads the array or `region` of it, one slab of chunks along the first axis
/// at a time, into a buffer reserved up front.
pub(super) fn read(dir: &Path, region: Option<&Region>) -> Result<Volume, InputError> {
    let (array, dtype) = open(dir)?;
    let shape = array.shape().to_vec();
    let region = super::region_or_whole(dir, &shape, region)?;
    let mut bytes = region_buffer(dir, &region, dtype)?;

    // Slabs follow the first chunk's extent so no chunk is decoded twice on a
    // regular grid.
    let step = array
        .chunk_shape(&vec![0; shape.len()])
        .ok()
        .and_then(|chunk| chunk.first().map(|n| n.get()))
        .unwrap_or(1);
    let end = region.start[0] + region.size[0];
    let mut first = region.start[0];
    while first < end {
        let next = end.min((first / step).saturating_add(1).saturating_mul(step));
        let mut start = region.start.clone();
        let mut size = region.size.clone();
        start[0] = first;
        size[0] = next - first;
        read_slab(dir, &array, start, size, &mut bytes)?;
        first = next;
    }

    native_to_little_endian(&mut bytes, dtype.size());
    Ok(Volume {
        shape: region.size,
        dtype,
        bytes,
    })
}

fn read_slab(
    dir: &Path,
    array: &Reader,
    start: Vec<u64>,
    size: Vec<u64>,
    out: &mut Vec<u8>,
) -> Result<(), InputError> {
    let subset = ArraySubset::new_with_start_shape(start, size).map_err(|e| {
        InputError::Invalid(format!("`{}`: the region is not usable: {e}", shown(dir)))
    })?;
    let decoded: ArrayBytes<'static> = array
        .retrieve_array_subset(&subset)
        .map_err(|e| read_error(dir, &subset, e))?;
    let decoded = decoded.into_fixed().map_err(|e| {
        InputError::Unsupported(format!(
            "`{}` holds variable-length elements ({e}); supported element types: {}",
            shown(dir),
            Dtype::ALL.map(Dtype::name).join(", ")
        ))
    })?;
    out.extend_from_slice(&decoded);
    Ok(())
}

fn read_error(dir: &Path, subset: &ArraySubset, error: ArrayError) -> InputError {
    match error {
        ArrayError::StorageError(e) => InputError::Invalid(format!(
            "`{}`: a chunk of {subset} cannot be read from the store ({e}); check the \
             array's files and their permissions",
            shown(dir)
        )),
        other => InputError::Invalid(format!(
            "`{}`: a chunk of {subset} cannot be decoded ({other}): the chunk is damaged or \
             truncated; copy the array again",
            shown(dir)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metadata_file_path_names_its_directory() {
        assert_eq!(
            array_dir(Path::new("a/b.zarr/zarr.json")),
            Path::new("a/b.zarr")
        );
        assert_eq!(array_dir(Path::new(".zarray")), Path::new("."));
        assert_eq!(array_dir(Path::new("a/b.zarr")), Path::new("a/b.zarr"));
    }

    #[test]
    fn only_the_benchmarked_element_types_map() {
        use zarrs::array::data_type;
        assert_eq!(dtype(&data_type::float16()), Some(Dtype::Float16));
        assert_eq!(dtype(&data_type::uint16()), Some(Dtype::Uint16));
        assert_eq!(dtype(&data_type::int64()), None);
        assert_eq!(dtype(&data_type::bool()), None);
        assert_eq!(dtype(&data_type::uint64()), None);
    }
}
