//! The engine end to end on small generated volumes: every configuration of a
//! plan is measured, verified and reported with consistent figures.

use zarrbench::benchmark::{self, BenchmarkSpec, RunContext, StoreChoice};
use zarrbench::data::{Dtype, Modality};
use zarrbench::sweep::{Codec, PlanRequest, Profile, SweepResult, Unobserved};

fn context(dir: &std::path::Path) -> RunContext {
    RunContext {
        data_dir: dir.to_path_buf(),
        max_volume_bytes: 1 << 30,
        input_confined: false,
    }
}

fn small_spec(modality: Modality, profile: Profile) -> BenchmarkSpec {
    let mut spec = BenchmarkSpec::new(modality, vec![24, 40, 40]);
    spec.plan = PlanRequest {
        profile: Some(profile),
        ..PlanRequest::default()
    };
    spec.repeats = 1;
    spec
}

fn run(spec: &BenchmarkSpec) -> SweepResult {
    let dir = tempfile::tempdir().unwrap();
    benchmark::run(spec, &context(dir.path()), &Unobserved).unwrap()
}

#[test]
fn every_configuration_round_trips_and_reports_consistent_figures() {
    let result = run(&small_spec(Modality::LightSheet, Profile::Balanced));
    let raw = result.dataset.bytes as f64;
    assert_eq!(raw, 24.0 * 40.0 * 40.0 * 2.0);
    assert!(!result.configs.is_empty());
    for row in &result.configs {
        assert!(row.error.is_none(), "{}: {:?}", row.config_id, row.error);
        assert!(row.verified, "{}", row.config_id);
        let m = row.measured.as_ref().unwrap();
        assert!((m.ratio - raw / m.stored_bytes as f64).abs() < 1e-9);
        assert!(m.write_time > 0.0 && m.read_time > 0.0, "{}", row.config_id);
        assert!(m.write_time_best <= m.write_time && m.read_time_best <= m.read_time);
        assert!((m.write_mbps - raw / m.write_time / 1e6).abs() < 1e-6);
        assert_eq!(m.repeats, 1);
        assert_eq!(row.config_id, row.config.id());
    }
}

#[test]
fn a_none_baseline_is_always_measured_and_stores_about_the_raw_size() {
    let result = run(&small_spec(Modality::Cryoet, Profile::Fast));
    let baseline = result
        .configs
        .iter()
        .find(|row| row.config.codec == Codec::None)
        .expect("a none row");
    let ratio = baseline.measured.as_ref().unwrap().ratio;
    // Chunks plus a zarr.json of a few hundred bytes; no padding for these chunks.
    assert!(ratio > 0.98 && ratio <= 1.0, "{ratio}");
}

#[test]
fn sparse_data_compresses_far_better_than_cryo_et() {
    let sted = run(&small_spec(Modality::Sted, Profile::Fast));
    let cryoet = run(&small_spec(Modality::Cryoet, Profile::Fast));
    let best = |r: &SweepResult| r.best_compression.as_ref().unwrap().ratio;
    assert!(
        best(&sted) > 3.0 * best(&cryoet),
        "{} vs {}",
        best(&sted),
        best(&cryoet)
    );
    assert!(
        best(&cryoet) < 1.6,
        "z-scored float noise barely compresses"
    );
}

#[test]
fn every_profile_gets_a_recommendation_with_its_layout() {
    let result = run(&small_spec(Modality::Confocal, Profile::Analysis));
    for profile in ["archival", "balanced", "fast", "lossless", "analysis"] {
        let label = &result.recommendations[profile];
        let detail = &result.recommendation_details[profile];
        assert_eq!(label, &detail.codec_level);
        assert!(!detail.config.chunk_shape.is_empty());
        assert!(!detail.reason.is_empty());
    }
    assert!(result.configs.iter().any(|row| row.pareto));
    let best = result.best_compression.as_ref().unwrap();
    assert!(
        result
            .configs
            .iter()
            .filter_map(|row| row.measured.as_ref())
            .all(|m| m.ratio <= best.ratio)
    );
}

#[test]
fn analysis_measures_sharded_layouts_and_partial_reads() {
    let mut spec = small_spec(Modality::Sem, Profile::Analysis);
    spec.volume.shape = vec![64, 64, 64];
    let result = run(&spec);
    let sharded: Vec<_> = result
        .configs
        .iter()
        .filter(|row| row.config.shard_shape.is_some())
        .collect();
    assert!(!sharded.is_empty());
    for row in sharded {
        let m = row
            .measured
            .as_ref()
            .expect("sharded configurations succeed");
        assert_eq!(m.partial_reads.plane_shape, vec![1, 64, 64]);
        assert!(m.partial_reads.plane_time > 0.0 && m.partial_reads.region_time > 0.0);
    }
}

#[test]
fn threads_are_recorded_and_figures_still_verify() {
    let mut spec = small_spec(Modality::Widefield, Profile::Fast);
    spec.threads = 2;
    let result = run(&spec);
    assert_eq!(result.environment.threads, 2);
    assert!(result.configs.iter().all(|row| row.verified));
}

#[test]
fn the_environment_names_what_moves_the_figures() {
    let env = run(&small_spec(Modality::Synthetic, Profile::Fast)).environment;
    assert_eq!(env.threads, 1);
    assert!(
        env.zarrs_version.starts_with("0.23."),
        "{}",
        env.zarrs_version
    );
    assert!(
        env.codec_libraries.contains("c-blosc 1.21"),
        "{}",
        env.codec_libraries
    );
    assert!(
        env.codec_libraries.contains("zstd 1.5.6"),
        "{}",
        env.codec_libraries
    );
    assert!(env.gzip_backend.contains("zlib-rs"));
    assert!(!env.cpu_model.is_empty() && !env.simd_target.is_empty());
}

#[test]
fn filesystem_stores_are_removed_after_the_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = small_spec(Modality::Sted, Profile::Fast);
    spec.store = StoreChoice::Filesystem;
    spec.plan.codecs = Some(vec!["zstd".into()]);
    let result = benchmark::run(&spec, &context(dir.path()), &Unobserved).unwrap();
    assert_eq!(result.store, "filesystem");
    assert!(result.configs.iter().all(|row| row.verified));
    let stores = dir.path().join("stores");
    let leftovers = std::fs::read_dir(&stores).map(|d| d.count()).unwrap_or(0);
    assert_eq!(
        leftovers,
        0,
        "temporary stores left in {}",
        stores.display()
    );
}

#[test]
fn every_dtype_and_rank_round_trips() {
    for (shape, dtype) in [
        (vec![500], Dtype::Float64),
        (vec![30, 50], Dtype::Int8),
        (vec![2, 3, 8, 16, 16], Dtype::Uint32),
        (vec![7, 13, 5], Dtype::Int16),
    ] {
        let mut spec = small_spec(Modality::Custom, Profile::Fast);
        spec.volume.shape = shape.clone();
        spec.volume.dtype = Some(dtype);
        spec.plan.codecs = Some(vec!["blosc_lz4".into(), "gzip".into()]);
        let result = run(&spec);
        assert_eq!(result.dataset.shape, shape);
        assert_eq!(result.dataset.dtype, dtype);
        for row in &result.configs {
            assert!(
                row.verified,
                "{shape:?} {dtype}: {} {:?}",
                row.config_id, row.error
            );
        }
    }
}

#[test]
fn invalid_requests_are_refused_before_any_work() {
    let mut spec = small_spec(Modality::Cryoet, Profile::Fast);
    spec.plan.codecs = Some(vec!["lzma".into()]);
    let err = benchmark::validate(&spec, 1 << 30).unwrap_err().to_string();
    assert!(err.contains("'lzma'"), "{err}");

    let mut spec = small_spec(Modality::Cryoet, Profile::Fast);
    spec.volume.shape = vec![1024, 1024, 1024];
    let err = benchmark::validate(&spec, 1 << 30).unwrap_err().to_string();
    assert!(err.contains("4294967296 bytes"), "{err}");

    let mut spec = small_spec(Modality::Cryoet, Profile::Fast);
    spec.repeats = 0;
    assert!(benchmark::validate(&spec, 1 << 30).is_err());
}

#[test]
fn the_same_request_measures_the_same_bytes() {
    let spec = small_spec(Modality::PalmStorm, Profile::Fast);
    let first = run(&spec);
    let second = run(&spec);
    let sizes = |r: &SweepResult| {
        r.configs
            .iter()
            .map(|row| row.measured.as_ref().unwrap().stored_bytes)
            .collect::<Vec<_>>()
    };
    assert_eq!(sizes(&first), sizes(&second));
}

/// Stops on its `stop_at`-th question and counts configurations reported.
struct StopAfter {
    asked: std::sync::atomic::AtomicUsize,
    stop_at: usize,
    measured: std::sync::atomic::AtomicUsize,
}

impl zarrbench::sweep::Observer for StopAfter {
    fn measured(&self, _: usize, _: usize, _: &zarrbench::sweep::ConfigResult) {
        self.measured
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn should_stop(&self) -> Option<String> {
        let asked = self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        (asked >= self.stop_at).then(|| "cancelled".to_string())
    }
}

#[test]
fn a_stop_takes_effect_inside_a_configuration_not_only_between_them() {
    let mut spec = small_spec(Modality::Synthetic, Profile::Fast);
    spec.plan.codecs = Some(vec!["zstd_3".to_string()]);
    spec.plan.chunk_shapes = Some(vec![vec![8, 8, 8]]);
    spec.repeats = 5;
    let dir = tempfile::tempdir().unwrap();
    let observer = StopAfter {
        asked: Default::default(),
        // The first question comes before the configuration starts; the
        // third falls between its timed passes.
        stop_at: 3,
        measured: Default::default(),
    };
    let outcome = benchmark::run(&spec, &context(dir.path()), &observer);
    assert!(
        matches!(
            outcome,
            Err(benchmark::BenchmarkError::Sweep(zarrbench::sweep::SweepError::Stopped(ref reason))) if reason == "cancelled"
        ),
        "{outcome:?}"
    );
    assert_eq!(
        observer.measured.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the configuration was abandoned, not reported"
    );
    assert_eq!(observer.asked.load(std::sync::atomic::Ordering::SeqCst), 3);
}
