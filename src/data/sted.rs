//! Stimulated-emission-depletion (STED) nanoscopy: uint16 by default holding
//! raw counts of a photon-counting detector, with no offset and no read noise,
//! only Poisson noise. The depletion beam shrinks the effective spot, so the
//! data are very sparse: 0.02 dark counts per voxel leave well over 70% (about
//! 95%) of the voxels at 0, and a few bright, small structures stand out:
//! nanoscale puncta (sigma 0.6 to 1.1 units, 10 to 60 counts at the centre,
//! about one per 3000 cubic units) and occasional thin filaments (sigma 0.6,
//! 5 to 15 counts). Sizes are physical; channels show different labels; time
//! points drift and bleach fast (3% per frame), as STED does.

use super::frames::{bleaching, drift, per_channel};
use super::layout::{Layout, Region};
use super::noise::{NoiseField, Sequence, key, poisson};
use super::quantize::Intensity;
use super::render::Model;
use super::structures::{Blob, BlobSet, Filaments, Profile, population};

const DARK_COUNTS: f32 = 0.02;

const PUNCTUM_DENSITY: f32 = 1.0 / 3000.0;
const PUNCTUM_SIGMA: (f32, f32) = (0.6, 1.1);
const PUNCTUM_COUNTS: (f32, f32) = (10.0, 60.0);

/// The occasional thin filaments.
const FILAMENTS: Filaments = Filaments {
    density: 1.0 / 200_000.0,
    length: (20.0, 60.0),
    radius: 0.6,
    peak: (5.0, 15.0),
    bend: 0.1,
};

const BLEACHING: f32 = 0.03;
const DRIFT: f32 = 1.0;
/// About the brightest counts, for narrow integer types.
const PEAK: f32 = 100.0;

const SCENE_PURPOSE: u64 = 0x57ED_0001;
const NOISE_PURPOSE: u64 = 0x57ED_0002;

/// A STED model.
pub(super) struct Sted {
    layout: Layout,
    seed: u64,
    scenes: Vec<BlobSet>,
    noise: NoiseField,
}

impl Sted {
    pub(super) fn new(layout: &Layout, seed: u64) -> Self {
        Sted {
            layout: layout.clone(),
            seed,
            scenes: per_channel(layout.channels, |channel| scene(layout, seed, channel)),
            noise: NoiseField::new(seed, NOISE_PURPOSE),
        }
    }
}

impl Model for Sted {
    fn intensity(&self) -> Intensity {
        Intensity::Counts { peak: PEAK }
    }

    fn render(&self, region: &Region, out: &mut [f32]) {
        let frame = self.layout.frame(region.frame);
        let patch = self
            .layout
            .patch(region, drift(self.seed, frame.time, DRIFT));
        self.scenes[frame.channel].add_to(&patch, out);

        let bleach = bleaching(frame.time, BLEACHING);
        for (row, values) in out.chunks_exact_mut(patch.cols).enumerate() {
            let random = self.noise.row(region.frame, region.z, region.y.start + row);
            for (value, x) in values.iter_mut().zip(region.x.clone()) {
                *value = poisson(DARK_COUNTS + bleach * *value, random.at(x));
            }
        }
    }
}

fn scene(layout: &Layout, seed: u64, channel: usize) -> BlobSet {
    let mut sequence = Sequence::new(key(seed, &[SCENE_PURPOSE, channel as u64]));
    let voxels = layout.frame_voxels();
    let mut blobs = Vec::new();

    let bounds = layout.bounds(3.0 * PUNCTUM_SIGMA.1 + DRIFT);
    for _ in 0..population(&bounds, PUNCTUM_DENSITY, voxels, 1.0, &mut sequence) {
        let sigma = sequence.range(PUNCTUM_SIGMA.0, PUNCTUM_SIGMA.1);
        blobs.push(Blob {
            centre: bounds.sample(&mut sequence),
            radii: [sigma; 3],
            amplitude: sequence.range(PUNCTUM_COUNTS.0, PUNCTUM_COUNTS.1),
            profile: Profile::Gaussian,
        });
    }

    let bounds = layout.bounds(3.0 * FILAMENTS.radius + DRIFT);
    FILAMENTS.scatter(&bounds, voxels, &mut sequence, &mut blobs);
    BlobSet::new(blobs)
}
