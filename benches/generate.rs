//! How long volume generation takes: 256^3 voxels for the modalities whose
//! generators do the most per voxel (z-scored cryo-ET, camera light-sheet,
//! sparse STED), so the generator never dominates a benchmark job.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use zarrbench::data::{DEFAULT_SEED, Dtype, Modality, VolumeSpec, generate};

const SIDE: u64 = 256;

fn cube(modality: Modality, dtype: Dtype) -> VolumeSpec {
    VolumeSpec {
        modality,
        shape: vec![SIDE; 3],
        dtype: Some(dtype),
        voxel_size: None,
        seed: DEFAULT_SEED,
    }
}

fn generate_256_cubed(c: &mut Criterion) {
    let cases = [
        ("cryoet_float32", cube(Modality::Cryoet, Dtype::Float32)),
        (
            "light_sheet_uint16",
            cube(Modality::LightSheet, Dtype::Uint16),
        ),
        ("sted_uint16", cube(Modality::Sted, Dtype::Uint16)),
    ];
    let mut group = c.benchmark_group("generate_256_cubed");
    group.sample_size(10);
    for (name, spec) in cases {
        group.bench_function(name, |b| b.iter(|| generate(black_box(&spec))));
    }
    group.finish();
}

criterion_group!(benches, generate_256_cubed);
criterion_main!(benches);
