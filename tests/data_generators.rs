//! Specifications of the modality generators: determinism, sizes for every
//! rank and element type, and the statistics that make each volume look like
//! its instrument.

use zarrbench::data::{DEFAULT_SEED, Dtype, Modality, Volume, VolumeSpec, generate};

fn spec(modality: Modality, shape: &[u64]) -> VolumeSpec {
    VolumeSpec {
        modality,
        shape: shape.to_vec(),
        dtype: None,
        voxel_size: None,
        seed: DEFAULT_SEED,
    }
}

/// The volume's elements as `f64`, decoded from little-endian bytes.
fn values(volume: &Volume) -> Vec<f64> {
    let size = volume.dtype.size();
    volume
        .bytes
        .chunks_exact(size)
        .map(|b| match volume.dtype {
            Dtype::Uint8 => f64::from(b[0]),
            Dtype::Int8 => f64::from(b[0] as i8),
            Dtype::Uint16 => f64::from(u16::from_le_bytes([b[0], b[1]])),
            Dtype::Int16 => f64::from(i16::from_le_bytes([b[0], b[1]])),
            Dtype::Uint32 => f64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Dtype::Int32 => f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Dtype::Float16 => f64::from(half::f16::from_le_bytes([b[0], b[1]])),
            Dtype::Float32 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Dtype::Float64 => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        })
        .collect()
}

fn mean_and_std(values: &[f64]) -> (f64, f64) {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let variance =
        values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / values.len() as f64;
    (mean, variance.sqrt())
}

fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn fraction(values: &[f64], predicate: impl Fn(f64) -> bool) -> f64 {
    values.iter().filter(|&&v| predicate(v)).count() as f64 / values.len() as f64
}

/// Pearson correlation between voxels and their neighbour one step along
/// `axis` (0 = z, 1 = y, 2 = x) of a `[nz, ny, nx]` volume.
fn neighbour_correlation(values: &[f64], [nz, ny, nx]: [usize; 3], axis: usize) -> f64 {
    let stride = [ny * nx, nx, 1][axis];
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let position = [z, y, x];
                if position[axis] + 1 < [nz, ny, nx][axis] {
                    let i = (z * ny + y) * nx + x;
                    a.push(values[i]);
                    b.push(values[i + stride]);
                }
            }
        }
    }
    let ((ma, sa), (mb, sb)) = (mean_and_std(&a), mean_and_std(&b));
    let covariance = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f64>()
        / a.len() as f64;
    covariance / (sa * sb)
}

#[test]
fn same_spec_gives_same_bytes() {
    for modality in Modality::ALL {
        let spec = spec(modality, &[2, 24, 33, 40]);
        assert_eq!(generate(&spec), generate(&spec), "{modality}");
    }
}

#[test]
fn different_seeds_give_different_bytes() {
    for modality in Modality::ALL {
        let first = spec(modality, &[24, 33, 40]);
        let second = VolumeSpec {
            seed: 7,
            ..first.clone()
        };
        assert_ne!(
            generate(&first).bytes,
            generate(&second).bytes,
            "{modality}"
        );
    }
}

#[test]
fn bytes_do_not_depend_on_the_thread_count() {
    let pool = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool")
    };
    let (one, three) = (pool(1), pool(3));
    for modality in Modality::ALL {
        let spec = spec(modality, &[2, 40, 70, 90]);
        let serial = one.install(|| generate(&spec));
        let parallel = three.install(|| generate(&spec));
        assert_eq!(serial, parallel, "{modality}");
    }
}

#[test]
fn every_modality_writes_every_dtype_at_full_length() {
    for modality in Modality::ALL {
        for dtype in Dtype::ALL {
            let spec = VolumeSpec {
                dtype: Some(dtype),
                ..spec(modality, &[5, 12, 17])
            };
            let volume = generate(&spec);
            assert_eq!(volume.dtype, dtype);
            assert_eq!(
                volume.bytes.len(),
                5 * 12 * 17 * dtype.size(),
                "{modality} {dtype}"
            );
            assert!(
                values(&volume).iter().all(|v| v.is_finite()),
                "{modality} {dtype}"
            );
        }
    }
}

#[test]
fn default_dtypes_follow_the_instrument() {
    let dtype = |modality| generate(&spec(modality, &[4, 4, 4])).dtype;
    assert_eq!(dtype(Modality::Cryoet), Dtype::Float32);
    assert_eq!(dtype(Modality::Sem), Dtype::Uint8);
    for modality in [Modality::LightSheet, Modality::Sted, Modality::PalmStorm] {
        assert_eq!(dtype(modality), Dtype::Uint16);
    }
}

#[test]
fn every_rank_from_one_to_five_is_generated() {
    let shapes: [&[u64]; 5] = [
        &[1000],
        &[40, 50],
        &[9, 20, 30],
        &[3, 8, 20, 30],
        &[2, 2, 16, 32, 32],
    ];
    for modality in Modality::ALL {
        for shape in shapes {
            let volume = generate(&spec(modality, shape));
            let elements: u64 = shape.iter().product();
            assert_eq!(volume.shape, shape);
            assert_eq!(
                volume.bytes.len() as u64,
                elements * volume.dtype.size() as u64
            );
            let values = values(&volume);
            assert!(
                values.iter().any(|&v| v != values[0]),
                "{modality} {shape:?} is constant"
            );
        }
    }
}

#[test]
fn odd_and_unit_axes_are_generated() {
    let shapes: [&[u64]; 5] = [
        &[7, 13, 5],
        &[1, 1, 1],
        &[1, 64, 1],
        &[1],
        &[3, 1, 1, 1, 70_001],
    ];
    for modality in Modality::ALL {
        for shape in shapes {
            let volume = generate(&spec(modality, shape));
            let elements: u64 = shape.iter().product();
            assert_eq!(
                volume.bytes.len() as u64,
                elements * volume.dtype.size() as u64
            );
        }
    }
}

#[test]
fn leading_axes_hold_distinct_frames_and_channels() {
    for modality in Modality::ALL {
        let volume = generate(&spec(modality, &[2, 2, 8, 24, 24]));
        let frame = 8 * 24 * 24 * volume.dtype.size();
        let frames: Vec<&[u8]> = volume.bytes.chunks_exact(frame).collect();
        assert_eq!(frames.len(), 4);
        for i in 0..4 {
            for j in i + 1..4 {
                assert_ne!(frames[i], frames[j], "{modality}: frames {i} and {j}");
            }
        }
    }
}

#[test]
fn cryoet_is_z_scored() {
    let values = values(&generate(&spec(Modality::Cryoet, &[64, 64, 64])));
    let (mean, std) = mean_and_std(&values);
    assert!(mean.abs() < 0.1, "mean {mean}");
    assert!((0.8..1.2).contains(&std), "std {std}");
}

#[test]
fn cryoet_fills_the_full_non_cubic_shape() {
    let (nz, ny, nx) = (16, 40, 96);
    let volume = generate(&spec(Modality::Cryoet, &[nz, ny, nx]));
    let values = values(&volume);
    assert_eq!(values.len(), (nz * ny * nx) as usize);
    let far_columns: Vec<f64> = values
        .chunks_exact(nx as usize)
        .flat_map(|row| row[80..].to_vec())
        .collect();
    let (_, std) = mean_and_std(&far_columns);
    assert!((0.8..1.2).contains(&std), "std beyond x = 80: {std}");
}

#[test]
fn cryoet_structures_correlate_neighbouring_voxels() {
    let values = values(&generate(&spec(Modality::Cryoet, &[48, 48, 48])));
    let correlation = neighbour_correlation(&values, [48, 48, 48], 2);
    assert!(
        (0.02..0.5).contains(&correlation),
        "low SNR signal: {correlation}"
    );
}

#[test]
fn cryoet_in_uint8_centres_on_128() {
    let spec = VolumeSpec {
        dtype: Some(Dtype::Uint8),
        ..spec(Modality::Cryoet, &[48, 48, 48])
    };
    let (mean, std) = mean_and_std(&values(&generate(&spec)));
    assert!((mean - 128.0).abs() < 3.0, "mean {mean}");
    assert!((16.0..24.0).contains(&std), "std {std}");
}

#[test]
fn cryoet_in_signed_types_keeps_negative_values() {
    for dtype in [Dtype::Int8, Dtype::Int16, Dtype::Int32] {
        let spec = VolumeSpec {
            dtype: Some(dtype),
            ..spec(Modality::Cryoet, &[32, 32, 32])
        };
        let values = values(&generate(&spec));
        let (mean, std) = mean_and_std(&values);
        assert!(mean.abs() < 0.1 * std, "{dtype}: mean {mean} std {std}");
        assert!(fraction(&values, |v| v < 0.0) > 0.4, "{dtype}");
    }
}

#[test]
fn light_sheet_sits_on_a_camera_offset_of_100() {
    let values = values(&generate(&spec(Modality::LightSheet, &[48, 64, 64])));
    let (minimum, median) = (quantile(&values, 0.0), quantile(&values, 0.5));
    assert!((85.0..=110.0).contains(&minimum), "minimum {minimum}");
    assert!((100.0..=130.0).contains(&median), "median {median}");
    assert!(quantile(&values, 0.99) > 300.0, "nuclei are bright");
}

#[test]
fn light_sheet_dims_across_the_sheet() {
    // Four channels average over four independent sets of nuclei.
    let nx = 256;
    let values = values(&generate(&spec(
        Modality::LightSheet,
        &[1, 4, 16, 128, nx as u64],
    )));
    let band = |columns: std::ops::Range<usize>| {
        let signal: Vec<f64> = values
            .chunks_exact(nx)
            .flat_map(|row| row[columns.clone()].iter().map(|v| v - 100.0))
            .collect();
        mean_and_std(&signal).0
    };
    let (entry, exit) = (band(0..64), band(192..256));
    assert!(entry > 1.25 * exit, "entry {entry} exit {exit}");
}

#[test]
fn widefield_sits_on_a_camera_offset_with_haze_above_it() {
    let values = values(&generate(&spec(Modality::Widefield, &[32, 64, 64])));
    let minimum = quantile(&values, 0.0);
    assert!((85.0..=250.0).contains(&minimum), "minimum {minimum}");
    assert!(
        quantile(&values, 0.1) > 100.0 + 50.0,
        "haze lifts nearly every pixel"
    );
}

#[test]
fn palm_storm_frames_are_offset_noise_with_sparse_bright_spots() {
    let values = values(&generate(&spec(Modality::PalmStorm, &[20, 128, 128])));
    let (minimum, median) = (quantile(&values, 0.0), quantile(&values, 0.5));
    assert!((85.0..=110.0).contains(&minimum), "minimum {minimum}");
    assert!((100.0..=120.0).contains(&median), "median {median}");
    assert!(
        fraction(&values, |v| v > median + 50.0) < 0.03,
        "spots are sparse"
    );
    assert!(quantile(&values, 1.0) > median + 100.0, "spots are bright");
}

#[test]
fn sted_volume_is_mostly_zeros() {
    let values = values(&generate(&spec(Modality::Sted, &[32, 64, 64])));
    assert!(fraction(&values, |v| v == 0.0) > 0.8);
    assert!(quantile(&values, 1.0) >= 10.0, "bright structures exist");
}

#[test]
fn confocal_counts_are_sparse_and_low() {
    let values = values(&generate(&spec(Modality::Confocal, &[32, 64, 64])));
    assert!(fraction(&values, |v| v == 0.0) > 0.5);
    assert!(quantile(&values, 0.5) <= 1.0);
    assert!(quantile(&values, 1.0) > 20.0 && quantile(&values, 1.0) <= 4095.0);
}

#[test]
fn sem_uses_a_broad_8_bit_histogram() {
    let volume = generate(&spec(Modality::Sem, &[32, 96, 96]));
    assert_eq!(volume.dtype, Dtype::Uint8);
    let values = values(&volume);
    let mut seen = [false; 256];
    values.iter().for_each(|&v| seen[v as usize] = true);
    assert!(
        seen.iter().filter(|&&s| s).count() > 200,
        "distinct grey levels"
    );
    assert!(quantile(&values, 0.02) < 80.0, "dark membranes");
    assert!(quantile(&values, 0.98) > 190.0, "bright cytoplasm");
}

#[test]
fn two_photon_dims_with_depth() {
    let values = values(&generate(&spec(Modality::TwoPhoton, &[40, 64, 64])));
    let plane = 64 * 64;
    let mean_of = |planes: std::ops::Range<usize>| {
        mean_and_std(&values[planes.start * plane..planes.end * plane]).0
    };
    assert!(mean_of(0..10) > 1.5 * mean_of(30..40));
}

#[test]
fn coarse_z_voxels_decorrelate_neighbouring_planes() {
    let shape = [40, 64, 64];
    let coarse = VolumeSpec {
        voxel_size: Some(vec![4.0, 1.0, 1.0]),
        ..spec(Modality::LightSheet, &shape.map(|n| n as u64))
    };
    let values = values(&generate(&coarse));
    let along_z = neighbour_correlation(&values, shape, 0);
    let along_x = neighbour_correlation(&values, shape, 2);
    assert!(along_z < along_x - 0.15, "z {along_z} x {along_x}");
}

#[test]
fn isotropic_voxels_correlate_alike_along_z_and_x() {
    let shape = [40, 64, 64];
    let values = values(&generate(&spec(
        Modality::LightSheet,
        &shape.map(|n| n as u64),
    )));
    let along_z = neighbour_correlation(&values, shape, 0);
    let along_x = neighbour_correlation(&values, shape, 2);
    assert!((along_z - along_x).abs() < 0.1, "z {along_z} x {along_x}");
}

#[test]
fn synthetic_pattern_is_smooth_and_noisy() {
    let shape = [16, 48, 48];
    let values = values(&generate(&spec(
        Modality::Synthetic,
        &shape.map(|n| n as u64),
    )));
    assert!(neighbour_correlation(&values, shape, 2) > 0.5);
    assert!(values.windows(2).any(|w| w[0] != w[1]));
}

#[test]
fn custom_mixture_shows_blobs_over_its_background() {
    let values = values(&generate(&spec(Modality::Custom, &[32, 64, 64])));
    let median = quantile(&values, 0.5);
    assert!((10.0..40.0).contains(&median), "background {median}");
    assert!(quantile(&values, 0.999) > median + 100.0, "blobs");
}
