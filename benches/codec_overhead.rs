//! Does the engine measure the codec, or its own overhead?
//!
//! For each codec, the same chunks of the same volume are compressed and
//! decompressed twice in one run: by calling the codec library directly on
//! pre-gathered chunk buffers, and through zarrbench's measuring path (zarrs
//! `store_chunk` / `retrieve_chunk` into the in-memory store, timed as a sweep
//! times it). The engine's figures should be within 10% of the direct ones.
//! Criterion reports both per group; compare `direct` with `zarrbench`.

use std::ffi::{c_char, c_int, c_void};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use zarrbench::data::{DEFAULT_SEED, Modality, VolumeSpec, generate};
use zarrbench::sweep::measure::{StoreKind, median, round_trip_once};
use zarrbench::sweep::region::{Block, chunk_indices, gather};
use zarrbench::sweep::{Codec, Config, Shuffle};

const SHAPE: [u64; 3] = [64, 256, 256];
const CHUNK: [u64; 3] = [64, 64, 64];

fn volume() -> zarrbench::data::Volume {
    generate(&VolumeSpec {
        modality: Modality::LightSheet,
        shape: SHAPE.to_vec(),
        dtype: None,
        voxel_size: None,
        seed: DEFAULT_SEED,
    })
}

fn chunks(volume: &zarrbench::data::Volume) -> Vec<Vec<u8>> {
    chunk_indices(&volume.shape, &CHUNK)
        .iter()
        .map(|indices| {
            let mut buffer = Vec::new();
            let block = Block::of_chunk(indices, &CHUNK);
            gather(
                &volume.bytes,
                &volume.shape,
                &block,
                volume.dtype.size(),
                &mut buffer,
            );
            buffer
        })
        .collect()
}

/// Direct calls into the codec libraries zarrs links.
enum Direct {
    Blosc {
        cname: &'static [u8],
        clevel: c_int,
        shuffle: c_int,
        typesize: usize,
    },
    Zstd(i32),
}

impl Direct {
    fn compress(&self, chunk: &[u8]) -> Vec<u8> {
        match self {
            Direct::Blosc {
                cname,
                clevel,
                shuffle,
                typesize,
            } => {
                let capacity = chunk.len() + 16; // BLOSC_MAX_OVERHEAD
                let mut out = vec![0u8; capacity];
                // SAFETY: both buffers are valid for the lengths passed and cname is
                // NUL-terminated.
                let written = unsafe {
                    blosc_src::blosc_compress_ctx(
                        *clevel,
                        *shuffle,
                        *typesize,
                        chunk.len(),
                        chunk.as_ptr().cast::<c_void>(),
                        out.as_mut_ptr().cast::<c_void>(),
                        capacity,
                        cname.as_ptr().cast::<c_char>(),
                        0,
                        1,
                    )
                };
                assert!(written > 0, "blosc compression failed");
                out.truncate(written as usize);
                out
            }
            Direct::Zstd(level) => zstd::bulk::compress(chunk, *level).expect("zstd compresses"),
        }
    }

    fn decompress(&self, encoded: &[u8], size: usize) -> Vec<u8> {
        match self {
            Direct::Blosc { .. } => {
                let mut out = vec![0u8; size];
                // SAFETY: `out` holds `size` bytes, the decompressed size.
                let read = unsafe {
                    blosc_src::blosc_decompress_ctx(
                        encoded.as_ptr().cast::<c_void>(),
                        out.as_mut_ptr().cast::<c_void>(),
                        size,
                        1,
                    )
                };
                assert_eq!(read as usize, size, "blosc decompression failed");
                out
            }
            Direct::Zstd(_) => zstd::bulk::decompress(encoded, size).expect("zstd decompresses"),
        }
    }
}

fn cases() -> Vec<(Config, Direct)> {
    let config = |codec, level, shuffle| Config {
        codec,
        level,
        shuffle,
        chunk_shape: CHUNK.to_vec(),
        shard_shape: None,
    };
    vec![
        (
            config(Codec::BloscLz4, 3, Some(Shuffle::Shuffle)),
            Direct::Blosc {
                cname: b"lz4\0",
                clevel: 3,
                shuffle: 1,
                typesize: 2,
            },
        ),
        (
            config(Codec::BloscZstd, 5, Some(Shuffle::Bitshuffle)),
            Direct::Blosc {
                cname: b"zstd\0",
                clevel: 5,
                shuffle: 2,
                typesize: 2,
            },
        ),
        (config(Codec::Zstd, 3, None), Direct::Zstd(3)),
    ]
}

fn codec_overhead(c: &mut Criterion) {
    let volume = volume();
    let chunks = chunks(&volume);
    for (config, direct) in cases() {
        let mut group = c.benchmark_group(format!("write/{}", config.codec_level()));
        group.sample_size(20);
        group.throughput(Throughput::Bytes(volume.bytes.len() as u64));
        group.bench_function(BenchmarkId::from_parameter("direct"), |b| {
            b.iter(|| {
                chunks
                    .iter()
                    .map(|chunk| direct.compress(chunk).len())
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::from_parameter("zarrbench"), |b| {
            b.iter_custom(|iterations| engine_time(&volume, &config, iterations, |(w, _)| w))
        });
        group.finish();

        let encoded: Vec<Vec<u8>> = chunks.iter().map(|chunk| direct.compress(chunk)).collect();
        let size = chunks[0].len();
        let mut group = c.benchmark_group(format!("read/{}", config.codec_level()));
        group.sample_size(20);
        group.throughput(Throughput::Bytes(volume.bytes.len() as u64));
        group.bench_function(BenchmarkId::from_parameter("direct"), |b| {
            b.iter(|| {
                encoded
                    .iter()
                    .map(|e| direct.decompress(e, size).len())
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::from_parameter("zarrbench"), |b| {
            b.iter_custom(|iterations| engine_time(&volume, &config, iterations, |(_, r)| r))
        });
        group.finish();
    }
}

/// The engine's own timing of `iterations` write or read passes.
fn engine_time(
    volume: &zarrbench::data::Volume,
    config: &Config,
    iterations: u64,
    pick: impl Fn((f64, f64)) -> f64,
) -> Duration {
    let started = Instant::now();
    let mut total = 0.0;
    for _ in 0..iterations {
        let times = round_trip_once(volume, config, &StoreKind::Memory, 1).expect("round trip");
        total += pick(times);
    }
    // Guard against a pass that timed nothing at all.
    assert!(total > 0.0 || started.elapsed().is_zero());
    Duration::from_secs_f64(total)
}

/// Rounds of the interleaved comparison.
const ROUNDS: usize = 31;

/// The same comparison, interleaved: each round times a direct write, a
/// zarrbench write and read, and a direct read back to back, so that both sides
/// see the same machine load. Prints the median of each side and the speed
/// ratio zarrbench / direct (1.0 = no overhead, above 1.0 = faster).
fn interleaved(_: &mut Criterion) {
    let volume = volume();
    let chunks = chunks(&volume);
    let size = chunks[0].len();
    println!(
        "\ninterleaved, {ROUNDS} rounds, median seconds per pass over {} MB:",
        volume.bytes.len() / 1_000_000
    );
    println!(
        "{:<24} {:>12} {:>12} {:>7} {:>12} {:>12} {:>7}",
        "codec", "direct write", "zb write", "ratio", "direct read", "zb read", "ratio"
    );
    for (config, direct) in cases() {
        let mut times = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let encoded: Vec<Vec<u8>> = chunks.iter().map(|chunk| direct.compress(chunk)).collect();
            times[0].push(started.elapsed().as_secs_f64());

            let (write, read) =
                round_trip_once(&volume, &config, &StoreKind::Memory, 1).expect("round trip");
            times[1].push(write);
            times[3].push(read);

            let started = Instant::now();
            let total: usize = encoded
                .iter()
                .map(|e| direct.decompress(e, size).len())
                .sum();
            times[2].push(started.elapsed().as_secs_f64());
            assert_eq!(total, volume.bytes.len());
        }
        let [direct_write, engine_write, direct_read, engine_read] = times.map(|t| median(&t));
        println!(
            "{:<24} {:>10.2}ms {:>10.2}ms {:>6.2}x {:>10.2}ms {:>10.2}ms {:>6.2}x",
            config.codec_level(),
            direct_write * 1e3,
            engine_write * 1e3,
            direct_write / engine_write,
            direct_read * 1e3,
            engine_read * 1e3,
            direct_read / engine_read,
        );
    }
}

criterion_group!(benches, codec_overhead, interleaved);
criterion_main!(benches);
