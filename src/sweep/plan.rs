//! Plans: which configurations a sweep measures.
//!
//! A profile picks codecs, levels, shuffles and chunk sizes suited to its
//! objective; `custom_codecs` and `chunk_sizes` narrow that choice. Chunk
//! candidates are derived from the array's shape and element size, clamped to
//! the array and de-duplicated, so no configuration is measured twice and no
//! chunk is larger than the array. Every plan ends with the `none` baseline.
//!
//! Planning validates; it never measures.

use serde::{Deserialize, Serialize};

use super::codec::{Codec, Shuffle};
use crate::data::Dtype;

/// What a job optimises for; also chooses the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Fast,
    Balanced,
    Archival,
    Lossless,
    Analysis,
}

impl Profile {
    pub const ALL: [Profile; 5] = [
        Profile::Archival,
        Profile::Balanced,
        Profile::Fast,
        Profile::Lossless,
        Profile::Analysis,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Fast => "fast",
            Profile::Balanced => "balanced",
            Profile::Archival => "archival",
            Profile::Lossless => "lossless",
            Profile::Analysis => "analysis",
        }
    }

    /// Parses a profile name; the error lists the accepted names.
    pub fn parse(name: &str) -> Result<Profile, String> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                format!(
                    "unknown compression_profile '{name}'; use one of {}",
                    Profile::ALL.map(Profile::name).join(", ")
                )
            })
    }

    /// Codec settings swept by this profile: (codec, levels, shuffles).
    fn codec_settings(self) -> Vec<(Codec, Vec<i32>, Vec<Shuffle>)> {
        use Codec::*;
        use Shuffle::{Bitshuffle, Noshuffle, Shuffle as ByteShuffle};
        match self {
            Profile::Fast => vec![
                (BloscLz4, vec![1, 5], vec![ByteShuffle, Bitshuffle]),
                (BloscBlosclz, vec![5], vec![ByteShuffle]),
                (BloscZstd, vec![1], vec![Bitshuffle]),
                (Zstd, vec![1], vec![]),
            ],
            Profile::Balanced => vec![
                (BloscZstd, vec![3, 5], vec![ByteShuffle, Bitshuffle]),
                (BloscLz4, vec![5], vec![ByteShuffle, Bitshuffle]),
                (Zstd, vec![3], vec![]),
                (Gzip, vec![5], vec![]),
            ],
            Profile::Archival => vec![
                (BloscZstd, vec![5, 9], vec![ByteShuffle, Bitshuffle]),
                (BloscLz4hc, vec![9], vec![Bitshuffle]),
                (BloscZlib, vec![9], vec![Bitshuffle]),
                (Zstd, vec![9, 19], vec![]),
                (Gzip, vec![9], vec![]),
            ],
            Profile::Lossless => vec![
                (BloscZstd, vec![5], vec![Noshuffle, ByteShuffle, Bitshuffle]),
                (BloscLz4, vec![5], vec![Noshuffle, ByteShuffle, Bitshuffle]),
                (BloscLz4hc, vec![5], vec![ByteShuffle, Bitshuffle]),
                (BloscZlib, vec![5], vec![ByteShuffle, Bitshuffle]),
                (BloscBlosclz, vec![5], vec![ByteShuffle, Bitshuffle]),
                (Zstd, vec![3], vec![]),
                (Gzip, vec![6], vec![]),
            ],
            Profile::Analysis => vec![
                (BloscZstd, vec![3], vec![Bitshuffle]),
                (BloscLz4, vec![5], vec![ByteShuffle]),
                (Zstd, vec![3], vec![]),
            ],
        }
    }

    /// Target uncompressed chunk sizes in bytes.
    fn chunk_targets(self) -> &'static [u64] {
        match self {
            Profile::Fast => &[1 << 20, 4 << 20],
            Profile::Balanced => &[256 << 10, 1 << 20, 4 << 20],
            Profile::Archival => &[1 << 20, 8 << 20],
            Profile::Lossless => &[1 << 20],
            Profile::Analysis => &[64 << 10, 512 << 10],
        }
    }

    /// Analysis also sweeps small chunks packed into shards of this size.
    fn shard_target(self) -> Option<u64> {
        (self == Profile::Analysis).then_some(16 << 20)
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One configuration to measure.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Config {
    pub codec: Codec,
    pub level: i32,
    /// Set for blosc codecs only.
    pub shuffle: Option<Shuffle>,
    /// The unit a reader decodes: the chunk, or the inner chunk of a shard.
    pub chunk_shape: Vec<u64>,
    /// The unit stored as one object when sharding; `None` without sharding.
    pub shard_shape: Option<Vec<u64>>,
}

impl Config {
    /// A stable readable identifier: `blosc_zstd_5_shuffle_64x64x64`, with
    /// `_shard256x256x256` appended when sharded; `none_64x64x64` for the baseline.
    pub fn id(&self) -> String {
        let mut id = self.codec_level();
        if let Some(shuffle) = self.shuffle {
            id.push('_');
            id.push_str(shuffle.name());
        }
        id.push('_');
        id.push_str(&shape_label(&self.chunk_shape));
        if let Some(shard) = &self.shard_shape {
            id.push_str("_shard");
            id.push_str(&shape_label(shard));
        }
        id
    }

    /// `<codec>_<level>`, or `none` for the baseline.
    pub fn codec_level(&self) -> String {
        match self.codec {
            Codec::None => "none".to_string(),
            codec => format!("{}_{}", codec.name(), self.level),
        }
    }
}

/// `64x64x64`.
pub fn shape_label(shape: &[u64]) -> String {
    shape
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

/// What a request asks of the plan. Validated by [`build`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub profile: Option<Profile>,
    /// Codec names, optionally with a level (`zstd_19`); narrows the profile.
    pub codecs: Option<Vec<String>>,
    /// Chunk shapes to use instead of the derived candidates.
    pub chunk_shapes: Option<Vec<Vec<u64>>>,
}

/// The profile used when a request names none.
pub const DEFAULT_PROFILE: Profile = Profile::Balanced;

/// Builds the list of configurations for an array, or says which value of the
/// request is wrong and what is allowed.
pub fn build(request: &PlanRequest, shape: &[u64], dtype: Dtype) -> Result<Vec<Config>, String> {
    let profile = request.profile.unwrap_or(DEFAULT_PROFILE);
    let settings = codec_settings(profile, request.codecs.as_deref())?;
    let layouts = layouts(profile, request.chunk_shapes.as_deref(), shape, dtype)?;

    let mut plan = Vec::new();
    for (codec, levels, shuffles) in &settings {
        for &level in levels {
            let shuffles: Vec<Option<Shuffle>> = if codec.is_blosc() {
                shuffles.iter().copied().map(Some).collect()
            } else {
                vec![None]
            };
            for shuffle in shuffles {
                for (chunk_shape, shard_shape) in &layouts {
                    plan.push(Config {
                        codec: *codec,
                        level,
                        shuffle,
                        chunk_shape: chunk_shape.clone(),
                        shard_shape: shard_shape.clone(),
                    });
                }
            }
        }
    }
    push_baseline(&mut plan, &layouts);
    dedup_in_order(&mut plan);
    Ok(plan)
}

/// The `none` row for every unsharded layout (one at least), so each chunk
/// shape has its uncompressed reference.
fn push_baseline(plan: &mut Vec<Config>, layouts: &[(Vec<u64>, Option<Vec<u64>>)]) {
    let unsharded = layouts.iter().filter(|(_, shard)| shard.is_none());
    for (chunk_shape, _) in unsharded {
        plan.push(Config {
            codec: Codec::None,
            level: 0,
            shuffle: None,
            chunk_shape: chunk_shape.clone(),
            shard_shape: None,
        });
    }
}

fn dedup_in_order(plan: &mut Vec<Config>) {
    let mut seen = std::collections::HashSet::new();
    plan.retain(|config| seen.insert(config.clone()));
}

type CodecSetting = (Codec, Vec<i32>, Vec<Shuffle>);

/// The profile's codec settings, narrowed to the requested codecs. A requested
/// codec the profile does not sweep is measured at its default level (or the
/// level given with it) and, for blosc, with shuffle and bitshuffle.
fn codec_settings(
    profile: Profile,
    requested: Option<&[String]>,
) -> Result<Vec<CodecSetting>, String> {
    let profile_settings = profile.codec_settings();
    let Some(requested) = requested else {
        return Ok(profile_settings);
    };
    if requested.is_empty() {
        return Err("custom_codecs is empty; name at least one codec or leave it out".into());
    }

    let mut settings: Vec<CodecSetting> = Vec::new();
    for text in requested {
        let (codec, level) = Codec::parse_with_level(text)?;
        if codec == Codec::None {
            continue; // the baseline is always measured
        }
        let from_profile = profile_settings.iter().find(|(c, _, _)| *c == codec);
        let levels = match (level, from_profile) {
            (Some(level), _) => vec![level],
            (None, Some((_, levels, _))) => levels.clone(),
            (None, None) => vec![codec.default_level()],
        };
        let shuffles = match from_profile {
            Some((_, _, shuffles)) if !shuffles.is_empty() => shuffles.clone(),
            _ => vec![Shuffle::Shuffle, Shuffle::Bitshuffle],
        };
        settings.push((codec, levels, shuffles));
    }
    Ok(settings)
}

type Layout = (Vec<u64>, Option<Vec<u64>>);

/// Chunk (and shard) layouts: the requested chunk shapes, checked, or the
/// profile's derived candidates.
fn layouts(
    profile: Profile,
    requested: Option<&[Vec<u64>]>,
    shape: &[u64],
    dtype: Dtype,
) -> Result<Vec<Layout>, String> {
    let chunk_shapes = match requested {
        Some(requested) => checked_chunk_shapes(requested, shape)?,
        None => profile
            .chunk_targets()
            .iter()
            .map(|&target| chunk_candidate(shape, dtype.size() as u64, target))
            .collect(),
    };
    let mut layouts: Vec<Layout> = Vec::new();
    for chunk_shape in dedup_shapes(chunk_shapes) {
        layouts.push((chunk_shape.clone(), None));
        if let Some(shard_target) = profile.shard_target() {
            let shard = shard_candidate(shape, &chunk_shape, dtype.size() as u64, shard_target);
            if shard != chunk_shape {
                layouts.push((chunk_shape, Some(shard)));
            }
        }
    }
    Ok(layouts)
}

fn dedup_shapes(shapes: Vec<Vec<u64>>) -> Vec<Vec<u64>> {
    let mut seen = std::collections::HashSet::new();
    shapes
        .into_iter()
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

/// Checks rank and positivity of requested chunk shapes and clamps each axis
/// to the array, so a chunk never exceeds the array.
fn checked_chunk_shapes(requested: &[Vec<u64>], shape: &[u64]) -> Result<Vec<Vec<u64>>, String> {
    if requested.is_empty() {
        return Err("chunk_sizes is empty; give at least one chunk shape or leave it out".into());
    }
    requested
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            if chunk.len() != shape.len() {
                return Err(format!(
                    "chunk_sizes[{i}] {chunk:?} has {} axes but shape {shape:?} has {}; give one length per axis",
                    chunk.len(),
                    shape.len()
                ));
            }
            if let Some(axis) = chunk.iter().position(|&n| n == 0) {
                return Err(format!("chunk_sizes[{i}][{axis}] must be at least 1"));
            }
            Ok(chunk.iter().zip(shape).map(|(&c, &s)| c.min(s)).collect())
        })
        .collect()
}

/// A chunk of about `target_bytes`: the last up to three (spatial) axes share
/// the budget as evenly as the array allows, leading axes (time, channel) get 1.
pub fn chunk_candidate(shape: &[u64], element_size: u64, target_bytes: u64) -> Vec<u64> {
    let target_elements = (target_bytes / element_size).max(1);
    let spatial = shape.len().min(3);
    let first_spatial = shape.len() - spatial;
    let mut chunk: Vec<u64> = shape
        .iter()
        .enumerate()
        .map(|(axis, _)| if axis < first_spatial { 1 } else { 0 })
        .collect();

    // Fill the smallest axes first so that a short axis (e.g. 20 z planes)
    // is taken whole and leaves more of the budget to the others.
    let mut axes: Vec<usize> = (first_spatial..shape.len()).collect();
    axes.sort_by_key(|&axis| shape[axis]);
    let mut remaining = target_elements;
    for (position, &axis) in axes.iter().enumerate() {
        let axes_left = (axes.len() - position) as f64;
        let even_share = (remaining as f64).powf(1.0 / axes_left);
        // Round down on all but the last axis so any surplus lands on the
        // fastest-varying one, where it keeps reads contiguous.
        let is_last = position + 1 == axes.len();
        let length = even_split(shape[axis], power_of_two(even_share, is_last));
        chunk[axis] = length;
        remaining = (remaining / length).max(1);
    }
    chunk
}

/// A shard that holds whole chunks, about `target_bytes`, never beyond the
/// array (rounded up to whole chunks, as Zarr requires shards to be).
fn shard_candidate(shape: &[u64], chunk: &[u64], element_size: u64, target_bytes: u64) -> Vec<u64> {
    let chunk_bytes = chunk.iter().product::<u64>() * element_size;
    let mut shard = chunk.to_vec();
    let mut bytes = chunk_bytes;
    // Double the axes in turn, fastest-varying last, until the target is met or
    // every axis already covers the array.
    loop {
        let mut grown = false;
        for axis in (0..shard.len()).rev() {
            if bytes * 2 > target_bytes {
                return shard;
            }
            if shard[axis] < shape[axis] {
                shard[axis] *= 2;
                bytes *= 2;
                grown = true;
            }
        }
        if !grown {
            return shard;
        }
    }
}

/// The chunk length that covers `axis_length` with as many chunks as `length`
/// would need, split evenly: 48 with 32 gives 24 (two chunks, no padding)
/// rather than 32 (two chunks, a quarter of the second one padding).
fn even_split(axis_length: u64, length: u64) -> u64 {
    let length = length.clamp(1, axis_length);
    let count = axis_length.div_ceil(length);
    axis_length.div_ceil(count)
}

/// The power of two nearest to `value` (`round`), or the largest not above it.
fn power_of_two(value: f64, round: bool) -> u64 {
    if value <= 1.0 {
        return 1;
    }
    let exponent = if round {
        value.log2().round()
    } else {
        value.log2().floor()
    };
    2f64.powf(exponent) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(profile: Profile) -> PlanRequest {
        PlanRequest {
            profile: Some(profile),
            ..PlanRequest::default()
        }
    }

    #[test]
    fn a_cube_gets_cubic_power_of_two_chunks() {
        assert_eq!(
            chunk_candidate(&[256, 256, 256], 2, 1 << 20),
            vec![64, 64, 128]
        );
        assert_eq!(
            chunk_candidate(&[256, 256, 256], 4, 1 << 20),
            vec![64, 64, 64]
        );
    }

    #[test]
    fn derived_chunks_split_short_axes_evenly_instead_of_padding() {
        assert_eq!(
            chunk_candidate(&[48, 96, 96], 2, 512 << 10),
            vec![48, 48, 96]
        );
        assert_eq!(
            chunk_candidate(&[48, 100, 100], 2, 64 << 10),
            vec![24, 25, 50]
        );
        assert_eq!(even_split(100, 64), 50);
        assert_eq!(even_split(256, 64), 64);
        assert_eq!(even_split(7, 64), 7);
    }

    #[test]
    fn chunks_never_exceed_the_array() {
        for profile in Profile::ALL {
            for shape in [
                vec![7u64, 13, 5],
                vec![3, 1000],
                vec![10],
                vec![2, 3, 4, 5, 6],
            ] {
                let plan = build(&request(profile), &shape, Dtype::Uint16).unwrap();
                for config in &plan {
                    for (axis, &length) in config.chunk_shape.iter().enumerate() {
                        assert!(length >= 1 && length <= shape[axis], "{config:?} {shape:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn plans_hold_no_duplicate_configurations() {
        // A tiny array collapses every chunk target to the same shape.
        for profile in Profile::ALL {
            let plan = build(&request(profile), &[8, 8, 8], Dtype::Float32).unwrap();
            let ids: std::collections::HashSet<_> = plan.iter().map(Config::id).collect();
            assert_eq!(ids.len(), plan.len(), "{profile}");
        }
    }

    #[test]
    fn every_plan_ends_with_a_none_baseline() {
        for profile in Profile::ALL {
            let plan = build(&request(profile), &[128, 128, 128], Dtype::Uint16).unwrap();
            assert!(plan.iter().any(|c| c.codec == Codec::None), "{profile}");
        }
    }

    #[test]
    fn profiles_sweep_different_codecs() {
        let codecs = |profile| {
            let plan = build(&request(profile), &[128, 128, 128], Dtype::Uint16).unwrap();
            plan.iter()
                .map(|c| (c.codec, c.level))
                .collect::<std::collections::BTreeSet<_>>()
        };
        assert_ne!(codecs(Profile::Fast), codecs(Profile::Archival));
        assert!(codecs(Profile::Archival).contains(&(Codec::Zstd, 19)));
        assert!(codecs(Profile::Fast).contains(&(Codec::BloscLz4, 1)));
    }

    #[test]
    fn analysis_sweeps_sharded_layouts() {
        let plan = build(&request(Profile::Analysis), &[256, 256, 256], Dtype::Uint16).unwrap();
        let sharded: Vec<_> = plan.iter().filter(|c| c.shard_shape.is_some()).collect();
        assert!(!sharded.is_empty());
        for config in sharded {
            let shard = config.shard_shape.as_ref().unwrap();
            for (s, c) in shard.iter().zip(&config.chunk_shape) {
                assert_eq!(
                    s % c,
                    0,
                    "shard {shard:?} must hold whole chunks {:?}",
                    config.chunk_shape
                );
            }
        }
    }

    #[test]
    fn custom_codecs_narrow_the_plan() {
        let request = PlanRequest {
            profile: Some(Profile::Balanced),
            codecs: Some(vec!["zstd".into(), "blosc_lz4_9".into()]),
            chunk_shapes: Some(vec![vec![32, 32, 32]]),
        };
        let plan = build(&request, &[64, 64, 64], Dtype::Uint16).unwrap();
        let ids: Vec<_> = plan.iter().map(Config::id).collect();
        assert_eq!(
            ids,
            vec![
                "zstd_3_32x32x32",
                "blosc_lz4_9_shuffle_32x32x32",
                "blosc_lz4_9_bitshuffle_32x32x32",
                "none_32x32x32",
            ]
        );
    }

    #[test]
    fn an_unknown_codec_is_an_error_naming_it() {
        let request = PlanRequest {
            codecs: Some(vec!["zstd".into(), "brotli".into()]),
            ..PlanRequest::default()
        };
        let err = build(&request, &[64, 64], Dtype::Uint8).unwrap_err();
        assert!(
            err.contains("'brotli'") && err.contains("blosc_lz4"),
            "{err}"
        );
    }

    #[test]
    fn a_chunk_shape_of_the_wrong_rank_is_an_error() {
        let request = PlanRequest {
            chunk_shapes: Some(vec![vec![64, 64]]),
            ..PlanRequest::default()
        };
        let err = build(&request, &[64, 64, 64], Dtype::Uint8).unwrap_err();
        assert!(err.contains("chunk_sizes[0]") && err.contains("3"), "{err}");
    }

    #[test]
    fn requested_chunks_larger_than_the_array_are_clamped() {
        let request = PlanRequest {
            chunk_shapes: Some(vec![vec![128, 128, 128]]),
            codecs: Some(vec!["zstd".into()]),
            ..PlanRequest::default()
        };
        let plan = build(&request, &[64, 32, 16], Dtype::Uint8).unwrap();
        assert!(plan.iter().all(|c| c.chunk_shape == vec![64, 32, 16]));
    }

    #[test]
    fn config_ids_are_readable() {
        let config = Config {
            codec: Codec::BloscZstd,
            level: 5,
            shuffle: Some(Shuffle::Shuffle),
            chunk_shape: vec![64, 64, 64],
            shard_shape: Some(vec![256, 256, 256]),
        };
        assert_eq!(
            config.id(),
            "blosc_zstd_5_shuffle_64x64x64_shard256x256x256"
        );
    }
}
