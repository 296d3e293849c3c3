//! The command line: `zarrbench run` (one local sweep), `zarrbench
//! healthcheck` (is a running service healthy?), the client commands
//! (`submit`, `status`, `cancel`, `jobs`) and the output formats shared by
//! every command that prints results.

pub mod client;
pub mod healthcheck;
pub mod output;
pub mod remote;
pub mod run;

use crate::data::{Dtype, Modality};
use crate::input::Region;
use crate::sweep::plan::Profile;

/// Splits `64,64,64` into numbers; the error names the bad part.
pub fn parse_list<T: std::str::FromStr>(text: &str) -> Result<Vec<T>, String> {
    text.split(',')
        .map(|part| {
            let part = part.trim();
            part.parse::<T>()
                .map_err(|_| format!("'{part}' in '{text}' is not a valid number"))
        })
        .collect()
}

/// What to benchmark: the volume and the plan. Shared by `run` (on this
/// machine) and `submit` (on a server), so both take the same flags.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Modality to imitate: cryoet, light_sheet, confocal, two_photon, widefield,
    /// sem, sted, palm_storm, synthetic, custom. Required for a generated
    /// volume; with --input it tags the file (default custom).
    #[arg(long, value_parser = Modality::parse)]
    pub dataset: Option<Modality>,
    /// Volume shape, slowest axis first, e.g. 256,256,256 (1 to 5 axes).
    /// Required for a generated volume; with --input it comes from the file.
    #[arg(long, value_parser = parse_list::<u64>)]
    pub shape: Option<::std::vec::Vec<u64>>,
    /// Benchmark this file instead of a generated volume: a TIFF image or
    /// stack, an MRC/CCP4 map or a Zarr v2/v3 array folder. For `run` a local
    /// path; for `submit` a path inside the service's data directory.
    #[arg(long, value_name = "PATH")]
    pub input: Option<String>,
    /// With --input: first voxel of the region benchmarked, per axis, e.g. 0,256,256.
    #[arg(long, value_parser = parse_list::<u64>, requires = "region_size")]
    pub region_start: Option<::std::vec::Vec<u64>>,
    /// With --input: size of the region benchmarked, per axis, e.g. 64,512,512.
    #[arg(long, value_parser = parse_list::<u64>)]
    pub region_size: Option<::std::vec::Vec<u64>>,
    /// Element type; defaults to the modality's usual type (with --input, the file's).
    #[arg(long, value_parser = Dtype::parse)]
    pub dtype: Option<Dtype>,
    /// Physical voxel size per axis, e.g. 2.5,2.5,2.5.
    #[arg(long, value_parser = parse_list::<f64>)]
    pub voxel_size: Option<::std::vec::Vec<f64>>,
    /// Profile whose plan is swept: fast, balanced, archival, lossless, analysis.
    #[arg(long, value_parser = Profile::parse)]
    pub profile: Option<Profile>,
    /// Codecs to sweep, comma separated, optionally with a level (zstd_19).
    #[arg(long, value_delimiter = ',')]
    pub codecs: Option<Vec<String>>,
    /// A chunk shape to sweep, e.g. 64,64,64; repeat the flag for several.
    #[arg(long = "chunks", value_parser = parse_list::<u64>)]
    pub chunks: Vec<::std::vec::Vec<u64>>,
}

impl SweepArgs {
    /// The modality: as given, or `custom` for a file; an error for a
    /// generated volume without one.
    pub fn modality(&self) -> Result<Modality, String> {
        match (self.dataset, &self.input) {
            (Some(dataset), _) => Ok(dataset),
            (None, Some(_)) => Ok(Modality::Custom),
            (None, None) => {
                Err("--dataset is required (or --input FILE to benchmark a file)".to_string())
            }
        }
    }

    /// The shape: as given; empty with --input (the file's); an error for a
    /// generated volume without one.
    pub fn shape(&self) -> Result<Vec<u64>, String> {
        match (&self.shape, &self.input) {
            (Some(shape), _) => Ok(shape.clone()),
            (None, Some(_)) => Ok(Vec::new()),
            (None, None) => {
                Err("--shape is required (or --input FILE to benchmark a file)".to_string())
            }
        }
    }

    /// The region of --input, if one was given (clap already refuses
    /// --region-start without --region-size).
    pub fn region(&self) -> Result<Option<Region>, String> {
        let Some(size) = &self.region_size else {
            return Ok(None);
        };
        if self.input.is_none() {
            return Err(
                "--region-start and --region-size crop a file; give --input too".to_string(),
            );
        }
        Ok(Some(Region {
            start: self
                .region_start
                .clone()
                .unwrap_or_else(|| vec![0; size.len()]),
            size: size.clone(),
        }))
    }

    /// The requested chunk shapes, or `None` for the profile's candidates.
    pub fn chunk_shapes(&self) -> Option<Vec<Vec<u64>>> {
        (!self.chunks.is_empty()).then(|| self.chunks.clone())
    }
}
