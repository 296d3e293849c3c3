//! Request bodies and their translation into a checked [`BenchmarkSpec`].
//!
//! Two forms are accepted, so clients of the guide and of the original Python
//! service both keep working:
//!
//! - [`BenchmarkRequest`], the guide's flat body for `POST /benchmark`;
//! - [`LegacyRequest`], the nested body the Python service served on
//!   `POST /webhook/benchmark` (`num_runs` becomes `repeats`).
//!
//! Everything is checked here, at submission, never later inside a worker:
//! JSON syntax and types (the error names the field path), unknown fields,
//! names of modalities, profiles, codecs, dtypes and stores, and finally
//! [`benchmark::validate`] for shapes, voxel sizes, chunk shapes and the volume
//! limit. This module knows nothing of HTTP; the API maps [`SpecError::code`]
//! to a status.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use utoipa::ToSchema;

use crate::benchmark::input::{self, Root};
use crate::benchmark::{self, BenchmarkError, BenchmarkSpec, StoreChoice};
use crate::data::{Dtype, Modality};
use crate::input::Region;
use crate::sweep::{Codec, PlanRequest, Profile};

/// Longest accepted `callback_url`.
pub const MAX_CALLBACK_URL_LEN: usize = 2048;
/// Longest accepted `data_path`.
pub const MAX_DATA_PATH_LEN: usize = 4096;

/// What checking a request needs from the service.
#[derive(Debug, Clone, Copy)]
pub struct Limits<'a> {
    pub max_volume_bytes: u64,
    /// `data_path` is resolved inside this directory; `None` refuses it.
    pub data_dir: Option<&'a std::path::Path>,
}

/// The guide's body for `POST /benchmark`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"dataset_type": "synthetic", "shape": [32, 32, 32], "compression_profile": "fast"}))]
pub struct BenchmarkRequest {
    /// Modality to imitate: cryoet, light_sheet, confocal, two_photon, widefield,
    /// sem, sted, palm_storm, synthetic, custom.
    #[schema(schema_with = names::dataset_type)]
    pub dataset_type: String,
    /// Volume shape, slowest axis first: 1 to 5 positive integers. Required
    /// unless `data_path` names a file, whose shape is then used.
    #[schema(min_items = 1, max_items = 5)]
    pub shape: Option<Vec<u64>>,
    /// Physical voxel size per axis (same rank as `shape`), positive.
    pub voxel_size: Option<Vec<f64>>,
    /// A file to benchmark instead of a generated volume, relative to the
    /// service's data directory: a TIFF image or stack, an MRC/CCP4 map, or a
    /// Zarr v2/v3 array folder. Shape and dtype come from the file.
    #[schema(max_length = 4096)]
    pub data_path: Option<String>,
    /// The part of `data_path` to benchmark: start and size per axis.
    pub region: Option<Region>,
    /// archival, balanced (default), fast, lossless or analysis.
    #[schema(schema_with = names::profile)]
    pub compression_profile: Option<String>,
    /// Codecs to sweep, optionally with a level, e.g. `blosc_zstd` or `zstd_19`.
    pub custom_codecs: Option<Vec<String>>,
    /// Chunk shapes to sweep instead of the profile's candidates.
    pub chunk_sizes: Option<Vec<Vec<u64>>>,
    /// Element type: uint8, uint16, uint32, int8, int16, int32, float16,
    /// float32, float64. With `data_path` it comes from the file.
    #[schema(schema_with = names::dtype)]
    pub dtype: Option<String>,
    /// Seed of the generated volume (default 42), at most 2^63 - 1.
    #[schema(maximum = 9_223_372_036_854_775_807_i64)]
    pub seed: Option<u64>,
    /// Timed repeats per configuration, 1 to 50 (default 3).
    #[schema(minimum = 1, maximum = 50)]
    pub repeats: Option<u32>,
    /// Threads of the sweep, 1 to 256 (default 1).
    #[schema(minimum = 1, maximum = 256)]
    pub threads: Option<usize>,
    /// `memory` (default) or `filesystem`.
    #[schema(schema_with = names::store)]
    pub store: Option<String>,
    /// http(s) URL called with a signed event when the job ends.
    pub callback_url: Option<String>,
    /// `false` forces a fresh run instead of reusing the results of a
    /// completed job with the same specification (default `true`).
    pub cache: Option<bool>,
}

/// The original Python service's body for `POST /webhook/benchmark`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"dataset": {"type": "synthetic", "shape": [32, 32, 32]}, "benchmark": {"compression_profile": "fast", "num_runs": 1}}))]
pub struct LegacyRequest {
    pub dataset: LegacyDataset,
    pub benchmark: Option<LegacyBenchmark>,
    /// http(s) URL called with a signed event when the job ends.
    pub callback_url: Option<String>,
    /// `false` forces a fresh run instead of reusing cached results.
    pub cache: Option<bool>,
}

/// `dataset` of a [`LegacyRequest`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegacyDataset {
    /// Modality, as `dataset_type` in the flat body.
    #[serde(rename = "type")]
    #[schema(schema_with = names::dataset_type)]
    pub dataset_type: String,
    /// Volume shape: 1 to 5 positive integers.
    #[schema(min_items = 1, max_items = 5)]
    pub shape: Vec<u64>,
    /// A label kept with the job.
    pub name: Option<String>,
    #[schema(schema_with = names::dtype)]
    pub dtype: Option<String>,
    pub voxel_size: Option<Vec<f64>>,
}

/// `benchmark` of a [`LegacyRequest`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegacyBenchmark {
    pub codecs: Option<Vec<String>>,
    pub chunk_sizes: Option<Vec<Vec<u64>>>,
    #[schema(schema_with = names::profile)]
    pub compression_profile: Option<String>,
    /// Timed repeats per configuration, 1 to 50.
    #[schema(minimum = 1, maximum = 50)]
    pub num_runs: Option<u32>,
}

/// OpenAPI schemas of the name fields, built from the engine's own name lists
/// so that they cannot drift from what [`BenchmarkRequest::check`] accepts.
mod names {
    use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

    use crate::data::{Dtype, Modality};
    use crate::sweep::Profile;

    fn one_of(names: &[&str], optional: bool, description: &str) -> Object {
        let mut values: Vec<serde_json::Value> = names.iter().map(|n| (*n).into()).collect();
        let builder = if optional {
            values.push(serde_json::Value::Null);
            ObjectBuilder::new().schema_type(
                [Type::String, Type::Null]
                    .into_iter()
                    .collect::<utoipa::openapi::schema::SchemaType>(),
            )
        } else {
            ObjectBuilder::new().schema_type(Type::String)
        };
        builder
            .enum_values(Some(values))
            .description(Some(description))
            .build()
    }

    pub fn dataset_type() -> Object {
        one_of(
            &Modality::ALL.map(Modality::name),
            false,
            "The modality the generated volume imitates",
        )
    }

    pub fn profile() -> Object {
        one_of(
            &Profile::ALL.map(Profile::name),
            true,
            "The profile whose plan is swept (default balanced)",
        )
    }

    pub fn dtype() -> Object {
        one_of(
            &Dtype::ALL.map(Dtype::name),
            true,
            "Element type (default: the modality's usual one)",
        )
    }

    pub fn store() -> Object {
        one_of(
            &["memory", "filesystem"],
            true,
            "Where configurations are written (default memory)",
        )
    }
}

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedRequest {
    pub spec: BenchmarkSpec,
    pub callback_url: Option<String>,
    /// Configurations the sweep will measure.
    pub planned: usize,
    /// Whether the result cache may answer this request.
    pub use_cache: bool,
}

/// Why a request body was refused; each variant has a stable code.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SpecError {
    /// Not JSON at all, or cut short.
    #[error("the body is not valid JSON ({0}); send one JSON object")]
    Syntax(String),
    /// A field the form does not have.
    #[error(
        "unknown field '{field}'{location}; remove it or check its spelling (accepted: {expected})"
    )]
    UnknownField {
        field: String,
        location: String,
        expected: String,
    },
    /// A required field is absent.
    #[error("missing field '{0}'; it is required")]
    MissingField(String),
    /// A value of the wrong JSON type or out of its type's range.
    #[error("{path}: {message}")]
    WrongType { path: String, message: String },
    /// A value of the right type that is not allowed; `code` says which field.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// The volume would be larger than the service accepts.
    #[error(transparent)]
    TooLarge(BenchmarkError),
}

impl SpecError {
    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            SpecError::Syntax(_) => "invalid-json",
            SpecError::UnknownField { .. } => "unknown-field",
            SpecError::MissingField(_) => "missing-field",
            SpecError::WrongType { .. } => "invalid-type",
            SpecError::Invalid { code, .. } => code,
            SpecError::TooLarge(_) => "volume-too-large",
        }
    }

    fn invalid(code: &'static str, message: impl Into<String>) -> SpecError {
        SpecError::Invalid {
            code,
            message: message.into(),
        }
    }
}

/// Parses a JSON body into `T`; errors name the path of the bad field.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, SpecError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(json_error)?;
    deserializer
        .end()
        .map_err(|e| SpecError::Syntax(strip_position(&e.to_string())))?;
    Ok(value)
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> SpecError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    let message = strip_position(&inner.to_string());
    if !inner.is_data() {
        return SpecError::Syntax(message);
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let expected = expected.trim_start_matches(", expected ").replace('`', "");
        let parent = path.rsplit_once('.').map(|(parent, _)| parent.to_string());
        return SpecError::UnknownField {
            field: field.to_string(),
            location: parent.map(|p| format!(" in '{p}'")).unwrap_or_default(),
            expected,
        };
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        let full = if path == "." || path.is_empty() {
            field.to_string()
        } else {
            format!("{path}.{field}")
        };
        return SpecError::MissingField(full);
    }
    let path = if path == "." || path.is_empty() {
        "body".to_string()
    } else {
        path
    };
    SpecError::WrongType { path, message }
}

/// serde_json appends ` at line 1 column 7`; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

impl BenchmarkRequest {
    /// Checks every field and builds the spec. With `data_path` this reads
    /// the file's headers, so a missing or broken file is refused here.
    pub fn check(&self, limits: Limits<'_>) -> Result<CheckedRequest, SpecError> {
        let modality = parse_modality(&self.dataset_type)?;
        let shape = match (&self.shape, &self.data_path) {
            (Some(shape), _) => shape.clone(),
            (None, Some(_)) => Vec::new(),
            (None, None) => {
                return Err(SpecError::invalid(
                    "missing-field",
                    "missing field 'shape'; it is required unless data_path names a file",
                ));
            }
        };
        if self.region.is_some() && self.data_path.is_none() {
            return Err(SpecError::invalid(
                "invalid-region",
                "region crops a file; give data_path too, or leave region out",
            ));
        }
        let mut spec = BenchmarkSpec::new(modality, shape);
        spec.volume.voxel_size = self.voxel_size.clone();
        spec.volume.dtype = parse_dtype(self.dtype.as_deref())?;
        if let Some(given) = &self.data_path {
            attach_file(&mut spec, given, self.region.clone(), limits)?;
        }
        if let Some(seed) = self.seed {
            if i64::try_from(seed).is_err() {
                return Err(SpecError::invalid(
                    "invalid-seed",
                    format!("seed must be at most {}, got {seed}", i64::MAX),
                ));
            }
            spec.volume.seed = seed;
        }
        spec.plan = plan_request(
            self.compression_profile.as_deref(),
            self.custom_codecs.as_ref(),
            "custom_codecs",
            self.chunk_sizes.as_ref(),
        )?;
        if let Some(repeats) = self.repeats {
            spec.repeats = repeats;
        }
        if let Some(threads) = self.threads {
            spec.threads = threads;
        }
        spec.store = parse_store(self.store.as_deref())?;
        let mut checked = finish(spec, self.callback_url.as_deref(), limits.max_volume_bytes)?;
        checked.use_cache = self.cache.unwrap_or(true);
        Ok(checked)
    }
}

/// Resolves and probes `data_path` inside the data directory.
fn attach_file(
    spec: &mut BenchmarkSpec,
    given: &str,
    region: Option<Region>,
    limits: Limits<'_>,
) -> Result<(), SpecError> {
    if given.len() > MAX_DATA_PATH_LEN {
        return Err(SpecError::invalid(
            "invalid-data-path",
            format!("data_path is longer than {MAX_DATA_PATH_LEN} characters"),
        ));
    }
    let Some(dir) = limits.data_dir else {
        return Err(SpecError::invalid(
            "invalid-data-path",
            "this service does not read files; leave data_path out",
        ));
    };
    input::attach(spec, given, region, Root::Confined(dir)).map_err(|error| match error {
        BenchmarkError::Input { code, message } => SpecError::invalid(code, message),
        BenchmarkError::Invalid(message) => SpecError::invalid(engine_code(&message), message),
        other => SpecError::invalid("invalid-request", other.to_string()),
    })
}

impl LegacyRequest {
    /// Checks every field and builds the spec.
    pub fn check(&self, limits: Limits<'_>) -> Result<CheckedRequest, SpecError> {
        let max_volume_bytes = limits.max_volume_bytes;
        let dataset = &self.dataset;
        let mut spec = BenchmarkSpec::new(
            parse_modality(&dataset.dataset_type)?,
            dataset.shape.clone(),
        );
        spec.volume.voxel_size = dataset.voxel_size.clone();
        spec.volume.dtype = parse_dtype(dataset.dtype.as_deref())?;
        let bench = self.benchmark.clone().unwrap_or_default();
        spec.plan = plan_request(
            bench.compression_profile.as_deref(),
            bench.codecs.as_ref(),
            "benchmark.codecs",
            bench.chunk_sizes.as_ref(),
        )?;
        if let Some(num_runs) = bench.num_runs {
            spec.repeats = num_runs;
        }
        let mut checked = finish(spec, self.callback_url.as_deref(), max_volume_bytes)?;
        checked.use_cache = self.cache.unwrap_or(true);
        Ok(checked)
    }
}

fn parse_modality(name: &str) -> Result<Modality, SpecError> {
    Modality::parse(name).map_err(|m| SpecError::invalid("invalid-dataset-type", m))
}

fn parse_dtype(name: Option<&str>) -> Result<Option<Dtype>, SpecError> {
    name.map(Dtype::parse)
        .transpose()
        .map_err(|m| SpecError::invalid("invalid-dtype", m))
}

fn parse_store(name: Option<&str>) -> Result<StoreChoice, SpecError> {
    match name {
        None | Some("memory") => Ok(StoreChoice::Memory),
        Some("filesystem") => Ok(StoreChoice::Filesystem),
        Some(other) => Err(SpecError::invalid(
            "invalid-store",
            format!("unknown store '{other}'; use memory or filesystem"),
        )),
    }
}

fn plan_request(
    profile: Option<&str>,
    codecs: Option<&Vec<String>>,
    codecs_field: &str,
    chunk_sizes: Option<&Vec<Vec<u64>>>,
) -> Result<PlanRequest, SpecError> {
    let profile = profile
        .map(Profile::parse)
        .transpose()
        .map_err(|m| SpecError::invalid("invalid-profile", m))?;
    for (index, chunk) in chunk_sizes.into_iter().flatten().enumerate() {
        if chunk.iter().any(|&n| i64::try_from(n).is_err()) {
            return Err(SpecError::invalid(
                "invalid-chunk-sizes",
                format!(
                    "chunk_sizes[{index}] has an axis over {}; use the array's shape at most",
                    i64::MAX
                ),
            ));
        }
    }
    for (index, codec) in codecs.into_iter().flatten().enumerate() {
        Codec::parse_with_level(codec).map_err(|m| {
            SpecError::invalid("invalid-codec", format!("{codecs_field}[{index}]: {m}"))
        })?;
    }
    Ok(PlanRequest {
        profile,
        codecs: codecs.cloned(),
        chunk_shapes: chunk_sizes.cloned(),
    })
}

fn check_callback_url(url: Option<&str>) -> Result<Option<String>, SpecError> {
    let Some(url) = url else { return Ok(None) };
    let has_scheme = url.starts_with("http://") || url.starts_with("https://");
    let has_host = url
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty());
    if !has_scheme
        || !has_host
        || url.len() > MAX_CALLBACK_URL_LEN
        || url.contains(char::is_whitespace)
    {
        return Err(SpecError::invalid(
            "invalid-callback-url",
            format!(
                "callback_url must be an http:// or https:// URL of at most {MAX_CALLBACK_URL_LEN} characters without spaces"
            ),
        ));
    }
    Ok(Some(url.to_string()))
}

/// Runs the engine's own checks and classifies its message by field.
fn finish(
    spec: BenchmarkSpec,
    callback_url: Option<&str>,
    max_volume_bytes: u64,
) -> Result<CheckedRequest, SpecError> {
    let callback_url = check_callback_url(callback_url)?;
    let plan = benchmark::validate(&spec, max_volume_bytes).map_err(|error| match error {
        BenchmarkError::Invalid(message) => SpecError::invalid(engine_code(&message), message),
        too_large @ BenchmarkError::TooLarge { .. } => SpecError::TooLarge(too_large),
        other => SpecError::invalid("invalid-request", other.to_string()),
    })?;
    Ok(CheckedRequest {
        spec,
        callback_url,
        planned: plan.len(),
        use_cache: true,
    })
}

/// The engine names the field first in every message; the code follows it.
fn engine_code(message: &str) -> &'static str {
    const PREFIXES: [(&str, &str); 7] = [
        ("shape", "invalid-shape"),
        ("voxel_size", "invalid-voxel-size"),
        ("chunk_sizes", "invalid-chunk-sizes"),
        ("custom_codecs", "invalid-codec"),
        ("repeats", "invalid-repeats"),
        ("threads", "invalid-threads"),
        ("level", "invalid-codec"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| message.starts_with(prefix))
        .map_or("invalid-request", |(_, code)| code)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    const LIMITS: Limits<'static> = Limits {
        max_volume_bytes: GIB,
        data_dir: None,
    };

    fn flat(json: &str) -> Result<CheckedRequest, SpecError> {
        decode::<BenchmarkRequest>(json.as_bytes())?.check(LIMITS)
    }

    #[test]
    fn the_guides_body_is_accepted() {
        let checked = flat(r#"{"dataset_type":"cryoet","shape":[64,64,64],"voxel_size":[2.5,2.5,2.5],"compression_profile":"balanced"}"#)
            .expect("valid");
        assert_eq!(checked.spec.volume.modality, Modality::Cryoet);
        assert!(checked.planned > 0);
    }

    #[test]
    fn an_unknown_field_is_named() {
        let error =
            flat(r#"{"dataset_type":"cryoet","shape":[8],"colour":1}"#).expect_err("unknown");
        assert_eq!(error.code(), "unknown-field");
        assert!(error.to_string().contains("'colour'"), "{error}");
    }

    #[test]
    fn a_wrong_type_names_its_path() {
        let error = flat(r#"{"dataset_type":"cryoet","shape":[8,"x"]}"#).expect_err("type");
        assert_eq!(error.code(), "invalid-type");
        assert!(error.to_string().starts_with("shape[1]"), "{error}");
    }

    #[test]
    fn each_bad_value_has_its_own_code() {
        let cases = [
            (
                r#"{"dataset_type":"xray","shape":[8]}"#,
                "invalid-dataset-type",
            ),
            (r#"{"dataset_type":"sem","shape":[]}"#, "invalid-shape"),
            (r#"{"dataset_type":"sem","shape":[8,0]}"#, "invalid-shape"),
            (
                r#"{"dataset_type":"sem","shape":[8,8],"voxel_size":[1]}"#,
                "invalid-voxel-size",
            ),
            (
                r#"{"dataset_type":"sem","shape":[8,8],"voxel_size":[1,-1]}"#,
                "invalid-voxel-size",
            ),
            (
                r#"{"dataset_type":"sem","shape":[8,8],"chunk_sizes":[[4]]}"#,
                "invalid-chunk-sizes",
            ),
            (
                r#"{"dataset_type":"sem","shape":[8],"custom_codecs":["lzma"]}"#,
                "invalid-codec",
            ),
            (
                r#"{"dataset_type":"sem","shape":[8],"compression_profile":"tiny"}"#,
                "invalid-profile",
            ),
            (
                r#"{"dataset_type":"sem","shape":[8],"dtype":"bool"}"#,
                "invalid-dtype",
            ),
            (
                r#"{"dataset_type":"sem","shape":[8],"store":"s3"}"#,
                "invalid-store",
            ),
            (
                r#"{"dataset_type":"sem","shape":[8],"repeats":0}"#,
                "invalid-repeats",
            ),
            (
                r#"{"dataset_type":"sem","shape":[8],"callback_url":"ftp://x"}"#,
                "invalid-callback-url",
            ),
            (
                r#"{"dataset_type":"sem","shape":[65536,65536,65536]}"#,
                "volume-too-large",
            ),
            (r#"{"shape":[8]}"#, "missing-field"),
            (r#"{"dataset_type":"sem","#, "invalid-json"),
            (r#"[1]"#, "invalid-type"),
        ];
        for (body, code) in cases {
            let error = flat(body).expect_err(body);
            assert_eq!(error.code(), code, "{body}: {error}");
        }
    }

    #[test]
    fn the_legacy_body_maps_num_runs_to_repeats() {
        let body = r#"{"dataset":{"type":"synthetic","shape":[16,16,16],"name":"t"},"benchmark":{"codecs":["blosc_zstd"],"num_runs":2}}"#;
        let checked = decode::<LegacyRequest>(body.as_bytes())
            .expect("json")
            .check(LIMITS)
            .expect("valid");
        assert_eq!(checked.spec.repeats, 2);
    }

    #[test]
    fn an_unknown_legacy_field_names_where_it_is() {
        let body = r#"{"dataset":{"type":"synthetic","shape":[16],"colour":1}}"#;
        let error = decode::<LegacyRequest>(body.as_bytes()).expect_err("unknown");
        assert!(error.to_string().contains("in 'dataset'"), "{error}");
    }
}
