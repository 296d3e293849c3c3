//! Measuring one configuration: write, read back, verify, time.
//!
//! Each configuration is written once and read back once untimed (the warm-up,
//! which also verifies the round trip), then written `repeats` times into a
//! fresh store and read `repeats` times, every read compared with the source.
//! Work happens chunk by chunk: writes through zarrs' `store_chunk`, reads by
//! taking the stored bytes from the store without a copy and decoding them
//! with the array's codec chain. That path costs nothing measurable over
//! calling the codec itself (`benches/codec_overhead.rs`), whereas zarrs'
//! `retrieve_chunk` copies every encoded chunk first. Only the codec and store
//! calls are timed, not the gathering of a chunk out of the source
//! volume nor the comparison after a read. With several threads, chunks run in
//! parallel and a pass takes as long as the busiest thread's timed work.
//!
//! Partial reads (a plane and a central block) are timed through zarrs'
//! subset reads, which decode only the chunks (or, in shards, the inner chunks)
//! that the region touches.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use zarrs::array::codec::api::{ArrayToBytesCodecTraits, CodecOptions};
use zarrs::array::{
    Array, ArrayBuilder, ArrayBytes, ArrayMetadataOptions, ArraySubset, FillValue, data_type,
};
use zarrs::filesystem::FilesystemStore;
use zarrs::storage::store::MemoryStore;
use zarrs::storage::{ListableStorageTraits, ReadableWritableListableStorageTraits, StoreKey};

use super::plan::Config;
use super::region::{Block, chunk_indices, first_mismatch, gather};
use super::result::{Measured, PartialReads};
use crate::data::{Dtype, Volume};

/// Where configurations are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// In memory: the figures are the codec and layout alone.
    Memory,
    /// Files under a temporary folder inside `root`, removed afterwards. Every
    /// chunk is fsynced, so write figures include the disk.
    Filesystem { root: PathBuf },
}

impl StoreKind {
    pub fn name(&self) -> &'static str {
        match self {
            StoreKind::Memory => "memory",
            StoreKind::Filesystem { .. } => "filesystem",
        }
    }
}

/// How a configuration is measured.
#[derive(Debug, Clone)]
pub struct MeasureOptions {
    pub repeats: u32,
    pub threads: usize,
    pub store: StoreKind,
}

type Storage = Arc<dyn ReadableWritableListableStorageTraits>;

/// A store and, for the filesystem, the folder that is removed with it.
struct OpenStore {
    storage: Storage,
    _folder: Option<tempfile::TempDir>,
}

fn open_store(kind: &StoreKind) -> Result<OpenStore, String> {
    match kind {
        StoreKind::Memory => Ok(OpenStore {
            storage: Arc::new(MemoryStore::new()),
            _folder: None,
        }),
        StoreKind::Filesystem { root } => {
            std::fs::create_dir_all(root)
                .map_err(|e| format!("cannot create {}: {e}", root.display()))?;
            let folder = tempfile::Builder::new()
                .prefix("zarrbench-")
                .tempdir_in(root)
                .map_err(|e| format!("cannot create a folder in {}: {e}", root.display()))?;
            Ok(OpenStore {
                storage: filesystem_store(folder.path())?,
                _folder: Some(folder),
            })
        }
    }
}

fn filesystem_store(path: &Path) -> Result<Storage, String> {
    let store = FilesystemStore::new(path)
        .map_err(|e| format!("cannot open a store at {}: {e}", path.display()))?;
    Ok(Arc::new(store))
}

fn zarr_data_type(dtype: Dtype) -> zarrs::array::DataType {
    match dtype {
        Dtype::Uint8 => data_type::uint8(),
        Dtype::Uint16 => data_type::uint16(),
        Dtype::Uint32 => data_type::uint32(),
        Dtype::Int8 => data_type::int8(),
        Dtype::Int16 => data_type::int16(),
        Dtype::Int32 => data_type::int32(),
        Dtype::Float16 => data_type::float16(),
        Dtype::Float32 => data_type::float32(),
        Dtype::Float64 => data_type::float64(),
    }
}

/// Creates the Zarr v3 array of `config` at the root of `storage` and writes
/// its metadata.
pub fn create_array(
    storage: Storage,
    shape: &[u64],
    dtype: Dtype,
    config: &Config,
) -> Result<Array<dyn ReadableWritableListableStorageTraits>, String> {
    let stored_shape = config.shard_shape.as_ref().unwrap_or(&config.chunk_shape);
    let mut builder = ArrayBuilder::new(
        shape.to_vec(),
        stored_shape.clone(),
        zarr_data_type(dtype),
        FillValue::new(vec![0; dtype.size()]),
    );
    builder.bytes_to_bytes_codecs(config.codec.bytes_to_bytes(
        config.level,
        config.shuffle,
        dtype,
    )?);
    if config.shard_shape.is_some() {
        builder.subchunk_shape(config.chunk_shape.clone());
    }
    let array = builder
        .build(storage.clone(), "/")
        .map_err(|e| format!("cannot create the array: {e}"))?;
    // Without zarrs' own attribution block the metadata document is the size
    // other Zarr writers produce, so stored sizes compare across tools.
    let metadata_options = ArrayMetadataOptions::default().with_include_zarrs_metadata(false);
    array
        .store_metadata_opt(&metadata_options)
        .map_err(|e| format!("cannot store the array metadata: {e}"))?;
    spell_out_empty_members(&storage)?;
    Ok(array)
}

/// zarr-python, the most common Zarr writer, always writes the optional
/// `attributes` and `storage_transformers` members, empty or not; zarrs leaves
/// them out when empty. Writing them too makes the metadata document the same
/// size, which matters on small arrays where it is a sizable part of the
/// stored bytes. Both forms are valid Zarr v3.
fn spell_out_empty_members(storage: &Storage) -> Result<(), String> {
    let key = StoreKey::new("zarr.json").map_err(|e| e.to_string())?;
    let cannot = |e: &dyn std::fmt::Display| format!("cannot rewrite the array metadata: {e}");
    let Some(bytes) = storage.get(&key).map_err(|e| cannot(&e))? else {
        return Err(cannot(&"zarr.json was not stored"));
    };
    let mut document: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|e| cannot(&e))?;
    document
        .entry("attributes")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    document
        .entry("storage_transformers")
        .or_insert_with(|| serde_json::Value::Array(Vec::new()));
    let rewritten = serde_json::to_vec_pretty(&document).map_err(|e| cannot(&e))?;
    storage.set(&key, rewritten.into()).map_err(|e| cannot(&e))
}

/// The unit zarrs stores as one object: the shard, or the chunk.
fn stored_shape(config: &Config) -> &[u64] {
    config.shard_shape.as_deref().unwrap_or(&config.chunk_shape)
}

/// Measures one configuration. Must run inside a rayon pool of
/// `options.threads` threads. The error says what failed, and for a lossless
/// codec that did not round-trip, where.
pub fn measure(
    volume: &Volume,
    config: &Config,
    options: &MeasureOptions,
    stop: &Stop<'_>,
) -> Result<Measured, NotMeasured> {
    // A cancelled or overdue job stops between passes, not only between
    // configurations: one configuration of a large volume can take minutes.
    let check = || stop().map_or(Ok(()), |reason| Err(NotMeasured::Stopped(reason)));
    let chunks = chunk_indices(&volume.shape, stored_shape(config));
    let codec_options = codec_options(options.threads, chunks.len());
    let pass = Pass {
        volume,
        config,
        chunks: &chunks,
        codec_options: &codec_options,
        threads: options.threads,
    };

    // Warm-up: fills caches and allocator pools, and verifies once.
    let mut store = open_store(&options.store)?;
    let mut array = create_array(store.storage.clone(), &volume.shape, volume.dtype, config)?;
    pass.write(&array)?;
    check()?;
    pass.read(&array)?;

    let mut write_times = Vec::new();
    for _ in 0..options.repeats {
        check()?;
        drop(array);
        drop(store);
        store = open_store(&options.store)?;
        array = create_array(store.storage.clone(), &volume.shape, volume.dtype, config)?;
        write_times.push(pass.write(&array)?);
    }
    let stored_bytes = store
        .storage
        .size()
        .map_err(|e| format!("cannot size the store: {e}"))?;

    let mut read_times = Vec::new();
    for _ in 0..options.repeats {
        check()?;
        read_times.push(pass.read(&array)?);
    }
    check()?;
    let partial_reads = partial_reads(volume, &array, options)?;

    let raw_bytes = volume.bytes.len() as f64;
    let write_time = median(&write_times);
    let read_time = median(&read_times);
    Ok(Measured {
        stored_bytes,
        ratio: raw_bytes / stored_bytes as f64,
        write_time,
        read_time,
        write_time_best: best(&write_times),
        read_time_best: best(&read_times),
        write_mbps: mbps(raw_bytes, write_time),
        read_mbps: mbps(raw_bytes, read_time),
        repeats: options.repeats,
        partial_reads,
    })
}

/// Asked between timed passes; `Some(reason)` stops the measurement.
pub type Stop<'a> = dyn Fn() -> Option<String> + Sync + 'a;

/// Why a configuration has no figures.
#[derive(Debug, Clone, PartialEq)]
pub enum NotMeasured {
    /// It failed (could not be written, read or verified); the reason says
    /// how, and the sweep goes on with the next configuration.
    Failed(String),
    /// The job was cancelled or ran out of time; the sweep stops.
    Stopped(String),
}

impl From<String> for NotMeasured {
    fn from(reason: String) -> NotMeasured {
        NotMeasured::Failed(reason)
    }
}

/// Chunks run one per thread; a codec gets several threads only when there are
/// fewer stored chunks than threads (one large shard, say).
fn codec_options(threads: usize, chunk_count: usize) -> CodecOptions {
    let per_chunk = (threads / chunk_count.max(1)).max(1);
    CodecOptions::default()
        .with_concurrent_target(per_chunk)
        .with_chunk_concurrent_minimum(1)
}

/// Writing or reading every stored chunk of one configuration.
struct Pass<'a> {
    volume: &'a Volume,
    config: &'a Config,
    chunks: &'a [Vec<u64>],
    codec_options: &'a CodecOptions,
    threads: usize,
}

impl Pass<'_> {
    fn write(
        &self,
        array: &Array<dyn ReadableWritableListableStorageTraits>,
    ) -> Result<f64, String> {
        let element_size = self.volume.dtype.size();
        self.timed(|indices, buffer| {
            let block = Block::of_chunk(indices, stored_shape(self.config));
            gather(
                &self.volume.bytes,
                &self.volume.shape,
                &block,
                element_size,
                buffer,
            );

            let started = Instant::now();
            array
                .store_chunk_opt(
                    indices,
                    ArrayBytes::from(buffer.as_slice()),
                    self.codec_options,
                )
                .map_err(|e| format!("writing chunk {indices:?} failed: {e}"))?;
            Ok(started.elapsed())
        })
    }

    /// Reads every chunk back: the stored bytes are taken from the store
    /// without a copy and decoded by the array's codec chain, which is the work
    /// any Zarr reader does; the check against the source is not timed.
    fn read(
        &self,
        array: &Array<dyn ReadableWritableListableStorageTraits>,
    ) -> Result<f64, String> {
        let element_size = self.volume.dtype.size();
        let storage = array.storage();
        let codecs = array.codecs();
        self.timed(|indices, _| {
            let shape = array
                .chunk_shape(indices)
                .map_err(|e| format!("chunk {indices:?} is outside the array: {e}"))?;
            let key = array.chunk_key(indices);

            let started = Instant::now();
            let encoded = storage
                .get(&key)
                .map_err(|e| format!("reading chunk {indices:?} failed: {e}"))?
                .ok_or_else(|| format!("chunk {indices:?} was not stored"))?;
            let decoded = codecs
                .decode(
                    Cow::Borrowed(&encoded[..]),
                    &shape,
                    array.data_type(),
                    array.fill_value(),
                    self.codec_options,
                )
                .map_err(|e| format!("decoding chunk {indices:?} failed: {e}"))?;
            let elapsed = started.elapsed();

            let decoded = decoded
                .into_fixed()
                .map_err(|e| format!("chunk {indices:?} decoded to variable-length data: {e}"))?;
            let block = Block::of_chunk(indices, stored_shape(self.config));
            if let Some(at) =
                first_mismatch(&self.volume.bytes, &self.volume.shape, &block, element_size, &decoded)
            {
                return Err(format!(
                    "round trip is not lossless: chunk {indices:?} differs from the source at element {at:?}"
                ));
            }
            Ok(elapsed)
        })
    }

    /// Runs `work` on every chunk and returns the pass's time in seconds: the
    /// timed work of the busiest thread.
    fn timed<F>(&self, work: F) -> Result<f64, String>
    where
        F: Fn(&[u64], &mut Vec<u8>) -> Result<Duration, String> + Sync,
    {
        if self.threads <= 1 {
            let mut buffer = Vec::new();
            let mut total = Duration::ZERO;
            for indices in self.chunks {
                total += work(indices, &mut buffer)?;
            }
            return Ok(total.as_secs_f64());
        }

        let per_chunk: Vec<(usize, Duration)> = self
            .chunks
            .par_iter()
            .map_init(Vec::new, |buffer, indices| {
                let thread = rayon::current_thread_index().unwrap_or(0);
                work(indices, buffer).map(|elapsed| (thread, elapsed))
            })
            .collect::<Result<_, _>>()?;
        let thread_count = self.threads.max(1);
        let mut per_thread = vec![Duration::ZERO; thread_count];
        for (thread, elapsed) in per_chunk {
            per_thread[thread % thread_count] += elapsed;
        }
        Ok(per_thread
            .into_iter()
            .max()
            .unwrap_or_default()
            .as_secs_f64())
    }
}

/// The regions analysis tools read: a plane of the last two axes at the
/// middle of the others, and a central block of up to 64 per axis.
pub fn partial_regions(shape: &[u64]) -> (Block, Block) {
    let rank = shape.len();
    let plane_axes = rank.saturating_sub(1).clamp(1, 2);
    let plane = Block {
        start: shape
            .iter()
            .enumerate()
            .map(|(axis, &n)| if axis + plane_axes >= rank { 0 } else { n / 2 })
            .collect(),
        shape: shape
            .iter()
            .enumerate()
            .map(|(axis, &n)| if axis + plane_axes >= rank { n } else { 1 })
            .collect(),
    };
    let region_shape: Vec<u64> = shape.iter().map(|&n| n.min(64)).collect();
    let region = Block {
        start: shape
            .iter()
            .zip(&region_shape)
            .map(|(&n, &r)| (n - r) / 2)
            .collect(),
        shape: region_shape,
    };
    (plane, region)
}

fn partial_reads(
    volume: &Volume,
    array: &Array<dyn ReadableWritableListableStorageTraits>,
    options: &MeasureOptions,
) -> Result<PartialReads, String> {
    let (plane, region) = partial_regions(&volume.shape);
    let codec_options = CodecOptions::default()
        .with_concurrent_target(options.threads.max(1))
        .with_chunk_concurrent_minimum(1);
    let time = |block: &Block| -> Result<f64, String> {
        let subset = ArraySubset::new_with_start_shape(block.start.clone(), block.shape.clone())
            .map_err(|e| e.to_string())?;
        let mut times = Vec::new();
        for repeat in 0..options.repeats.max(1) {
            let started = Instant::now();
            let decoded: ArrayBytes<'static> = array
                .retrieve_array_subset_opt(&subset, &codec_options)
                .map_err(|e| format!("reading region {block:?} failed: {e}"))?;
            times.push(started.elapsed().as_secs_f64());
            if repeat == 0 {
                let decoded = decoded.into_fixed().map_err(|e| e.to_string())?;
                if let Some(at) = first_mismatch(
                    &volume.bytes,
                    &volume.shape,
                    block,
                    volume.dtype.size(),
                    &decoded,
                ) {
                    return Err(format!(
                        "partial read is not lossless: differs from the source at element {at:?}"
                    ));
                }
            }
        }
        Ok(median(&times))
    };
    Ok(PartialReads {
        plane_time: time(&plane)?,
        plane_shape: plane.shape.clone(),
        region_time: time(&region)?,
        region_shape: region.shape.clone(),
    })
}

/// The middle value (mean of the two middle values for an even count).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

fn best(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

/// MB/s (10^6 bytes per second); infinite times are reported as 0.
pub fn mbps(bytes: f64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        bytes / seconds / 1e6
    } else {
        0.0
    }
}

/// One timed write pass and one timed, verified read pass of `config` into a
/// fresh store, without warm-up: the building block benchmarks compare with
/// calling a codec directly. Returns (write seconds, read seconds).
pub fn round_trip_once(
    volume: &Volume,
    config: &Config,
    store: &StoreKind,
    threads: usize,
) -> Result<(f64, f64), String> {
    let chunks = chunk_indices(&volume.shape, stored_shape(config));
    let codec_options = codec_options(threads, chunks.len());
    let pass = Pass {
        volume,
        config,
        chunks: &chunks,
        codec_options: &codec_options,
        threads,
    };
    let store = open_store(store)?;
    let array = create_array(store.storage.clone(), &volume.shape, volume.dtype, config)?;
    Ok((pass.write(&array)?, pass.read(&array)?))
}

/// Writes `config` of the volume into a Zarr array at `path` (untimed), so that
/// other Zarr tools can open what was measured.
pub fn keep_copy(volume: &Volume, config: &Config, path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let array = create_array(filesystem_store(path)?, &volume.shape, volume.dtype, config)?;
    let chunks = chunk_indices(&volume.shape, stored_shape(config));
    let pass = Pass {
        volume,
        config,
        chunks: &chunks,
        codec_options: &CodecOptions::default(),
        threads: 1,
    };
    pass.write(&array).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn partial_regions_fit_inside_the_array() {
        let (plane, region) = partial_regions(&[10, 300, 400]);
        assert_eq!(plane.start, vec![5, 0, 0]);
        assert_eq!(plane.shape, vec![1, 300, 400]);
        assert_eq!(region.shape, vec![10, 64, 64]);
        assert_eq!(region.start, vec![0, 118, 168]);

        let (plane, _) = partial_regions(&[100]);
        assert_eq!(plane.shape, vec![100]);
        let (plane, _) = partial_regions(&[50, 60]);
        assert_eq!(plane.shape, vec![1, 60]);
    }
}
