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
    /// sem, sted, palm_storm, synthetic, custom.
    #[arg(long, value_parser = Modality::parse)]
    pub dataset: Modality,
    /// Volume shape, slowest axis first, e.g. 256,256,256 (1 to 5 axes).
    #[arg(long, value_parser = parse_list::<u64>)]
    pub shape: ::std::vec::Vec<u64>,
    /// Element type; defaults to the modality's usual type.
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
    /// The requested chunk shapes, or `None` for the profile's candidates.
    pub fn chunk_shapes(&self) -> Option<Vec<Vec<u64>>> {
        (!self.chunks.is_empty()).then(|| self.chunks.clone())
    }
}
