//! `zarrbench run`: one sweep on this machine, printed as a table, JSON or CSV.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};

use super::SweepArgs;
use super::output::{self, Format};
use crate::benchmark::{self, BenchmarkSpec, RunContext, StoreChoice, input};
use crate::data::DEFAULT_SEED;
use crate::sweep::plan::{Config, PlanRequest};
use crate::sweep::{self, ConfigResult, Observer};

/// Arguments of `zarrbench run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub sweep: SweepArgs,
    /// Timed repeats per configuration.
    #[arg(long, default_value_t = benchmark::DEFAULT_REPEATS)]
    pub repeats: u32,
    /// Threads for the sweep (chunks in parallel).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Seed of the generated volume.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Where configurations are written while measured.
    #[arg(long, value_enum, default_value = "memory")]
    pub store: StoreArg,
    /// Folder for temporary filesystem stores.
    #[arg(long, default_value = ".")]
    pub data_dir: PathBuf,
    /// Keep what was measured as Zarr v3 arrays in DIR: source.zarr and
    /// <config_id>.zarr for each configuration.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Also write the trade-off chart (ratio against write and read speed) as
    /// an SVG document to FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreArg {
    Memory,
    Filesystem,
}

impl RunArgs {
    /// The benchmark these arguments describe; with --input this reads the
    /// file's headers.
    pub fn spec(&self) -> Result<BenchmarkSpec, String> {
        let sweep = &self.sweep;
        let mut spec = BenchmarkSpec::new(sweep.modality()?, sweep.shape()?);
        spec.volume.dtype = sweep.dtype;
        spec.volume.voxel_size = sweep.voxel_size.clone();
        spec.volume.seed = self.seed;
        spec.plan = PlanRequest {
            profile: sweep.profile,
            codecs: sweep.codecs.clone(),
            chunk_shapes: sweep.chunk_shapes(),
        };
        spec.repeats = self.repeats;
        spec.threads = self.threads;
        spec.store = match self.store {
            StoreArg::Memory => StoreChoice::Memory,
            StoreArg::Filesystem => StoreChoice::Filesystem,
        };
        let region = sweep.region()?;
        if let Some(path) = &sweep.input {
            input::attach(&mut spec, path, region, input::Root::Anywhere)
                .map_err(|e| e.to_string())?;
        }
        Ok(spec)
    }
}

/// Runs the sweep and prints it; the error is one line for the user.
pub fn execute(args: &RunArgs) -> Result<(), String> {
    let spec = args.spec()?;
    let plan = benchmark::validate(&spec, u64::MAX).map_err(|e| e.to_string())?;
    let context = RunContext {
        data_dir: args.data_dir.clone(),
        max_volume_bytes: u64::MAX,
        input_confined: false,
    };

    let progress = ProgressObserver::new(plan.len());
    let prepared = benchmark::prepare(&spec, &context).map_err(|e| e.to_string())?;
    let result = benchmark::sweep_prepared(&spec, plan, &prepared, &context, &progress)
        .map_err(|e| e.to_string())?;
    progress.bar.finish_and_clear();

    if let Some(dir) = &args.keep {
        keep(dir, &prepared.volume, &result.configs)?;
    }
    if let Some(file) = &args.svg {
        std::fs::write(file, crate::report::svg::render(&result))
            .map_err(|e| format!("cannot write the chart to {}: {e}", file.display()))?;
    }
    print!("{}", output::render(&result, args.format));
    Ok(())
}

/// Writes the source volume and every successful configuration under `dir`.
fn keep(
    dir: &std::path::Path,
    volume: &crate::data::Volume,
    configs: &[ConfigResult],
) -> Result<(), String> {
    let first = configs.first().map(|c| c.config.chunk_shape.clone());
    let source = Config {
        codec: sweep::Codec::None,
        level: 0,
        shuffle: None,
        chunk_shape: first.unwrap_or_else(|| volume.shape.clone()),
        shard_shape: None,
    };
    sweep::measure::keep_copy(volume, &source, &dir.join("source.zarr"))?;
    for row in configs.iter().filter(|row| row.measured.is_some()) {
        sweep::measure::keep_copy(
            volume,
            &row.config,
            &dir.join(format!("{}.zarr", row.config_id)),
        )?;
    }
    Ok(())
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
pub struct ProgressObserver {
    pub bar: ProgressBar,
}

impl ProgressObserver {
    pub fn new(total: usize) -> ProgressObserver {
        let bar = ProgressBar::new(total as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30} {pos}/{len} configurations  {msg}")
        {
            bar.set_style(style);
        }
        ProgressObserver { bar }
    }
}

impl Observer for ProgressObserver {
    fn measured(&self, done: usize, _total: usize, result: &ConfigResult) {
        self.bar.set_position(done as u64);
        self.bar.set_message(result.config_id.clone());
    }
}
