//! The result cache: a new job whose normalised specification (dataset,
//! shape, dtype, voxel size, seed, plan, repeats, threads, store, as the
//! checked [`BenchmarkSpec`](crate::benchmark::BenchmarkSpec) serialises
//! them) equals a completed job's, measured by the same zarrbench version,
//! is answered with that job's results instead of a new sweep.
//!
//! The new job is created, stored and reported like any other; it completes
//! at once and its results carry `cached_from` (the id of the job that
//! measured them). `"cache": false` in the request skips the lookup. Hits and
//! misses are counted in `zarrbench_cache_requests_total{outcome}`.

use serde_json::Value;
use uuid::Uuid;

use super::store::JobStore;
use crate::benchmark::BenchmarkSpec;

/// The version whose results may be reused: this build's.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Results reused from an earlier job.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedResult {
    /// The job that measured them.
    pub source: Uuid,
    /// Its results with `cached_from` added.
    pub results: Value,
}

/// Looks up a completed job with the same specification on this build.
/// A store error counts as a miss: the job then simply runs.
pub fn lookup(store: &dyn JobStore, spec: &BenchmarkSpec) -> Option<CachedResult> {
    let spec_json = serde_json::to_string(spec).ok()?;
    let found = match store.find_completed(&spec_json, VERSION) {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(%error, "result cache lookup failed; running the job");
            None
        }
    };
    let outcome = if found.is_some() { "hit" } else { "miss" };
    metrics::counter!("zarrbench_cache_requests_total", "outcome" => outcome).increment(1);

    let (id, mut results) = found?;
    // A result that was itself reused names the job that measured it.
    let source = results
        .get("cached_from")
        .and_then(Value::as_str)
        .and_then(|text| Uuid::parse_str(text).ok())
        .unwrap_or(id);
    let object = results.as_object_mut()?;
    object.insert("cached_from".into(), Value::String(source.to_string()));
    Some(CachedResult { source, results })
}

/// Describes the cache metric (call after the recorder is installed).
pub fn describe_metrics() {
    metrics::describe_counter!(
        "zarrbench_cache_requests_total",
        "Submissions looked up in the result cache, by outcome (hit or miss); requests with \"cache\": false are not counted"
    );
}
