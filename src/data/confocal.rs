//! Point-scanning confocal microscopy with a photon-counting detector (a HyD,
//! or a PMT in counting mode): uint16 by default holding raw photon counts,
//! with no offset and no read noise, only Poisson noise, clipped at 4095 (a
//! 12-bit range). Values are low and sparse: 0.05 dark counts per voxel, so
//! most voxels are 0; labelled structures reach tens to a few hundred counts:
//! cytoskeletal filaments (sigma 0.9 units, 8 to 25 counts on the axis),
//! vesicle-like puncta (sigma 1 to 1.6, 20 to 250) and a dim nuclear
//! counterstain (solid ellipsoids of radius 6 to 9, 3 counts). The pinhole
//! rejects out-of-focus light, so there is no haze. Sizes are physical;
//! channels show different labels; time points drift and bleach 2% per frame.

use super::frames::{bleaching, drift, per_channel};
use super::layout::{Layout, Region};
use super::noise::{NoiseField, Sequence, key, poisson};
use super::quantize::Intensity;
use super::render::Model;
use super::structures::{Blob, BlobSet, Filaments, Profile, population};

const DARK_COUNTS: f32 = 0.05;
/// Largest count of the 12-bit detector path.
const SATURATION: f32 = 4095.0;

/// The cytoskeletal filaments.
const FILAMENTS: Filaments = Filaments {
    density: 1.0 / 40_000.0,
    length: (40.0, 120.0),
    radius: 0.9,
    peak: (8.0, 25.0),
    bend: 0.08,
};

const PUNCTUM_DENSITY: f32 = 1.0 / 4000.0;
const PUNCTUM_SIGMA: (f32, f32) = (1.0, 1.6);
const PUNCTUM_PEAK: (f32, f32) = (20.0, 250.0);

const NUCLEUS_DENSITY: f32 = 1.0 / 60_000.0;
const NUCLEUS_RADIUS: (f32, f32) = (6.0, 9.0);
const NUCLEUS_COUNTS: f32 = 3.0;

const BLEACHING: f32 = 0.02;
const DRIFT: f32 = 1.5;
/// About the brightest counts, for narrow integer types.
const PEAK: f32 = 255.0;

const SCENE_PURPOSE: u64 = 0xC0F0_0001;
const NOISE_PURPOSE: u64 = 0xC0F0_0002;

/// A confocal photon-counting model.
pub(super) struct Confocal {
    layout: Layout,
    seed: u64,
    scenes: Vec<BlobSet>,
    noise: NoiseField,
}

impl Confocal {
    pub(super) fn new(layout: &Layout, seed: u64) -> Self {
        Confocal {
            layout: layout.clone(),
            seed,
            scenes: per_channel(layout.channels, |channel| scene(layout, seed, channel)),
            noise: NoiseField::new(seed, NOISE_PURPOSE),
        }
    }
}

impl Model for Confocal {
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
                let mean = DARK_COUNTS + bleach * *value;
                *value = poisson(mean, random.at(x)).min(SATURATION);
            }
        }
    }
}

/// All labelled structures of one channel, in one set.
fn scene(layout: &Layout, seed: u64, channel: usize) -> BlobSet {
    let mut sequence = Sequence::new(key(seed, &[SCENE_PURPOSE, channel as u64]));
    let voxels = layout.frame_voxels();
    let mut blobs = Vec::new();

    let bounds = layout.bounds(3.0 * FILAMENTS.radius + DRIFT);
    FILAMENTS.scatter(&bounds, voxels, &mut sequence, &mut blobs);

    let bounds = layout.bounds(3.0 * PUNCTUM_SIGMA.1 + DRIFT);
    for _ in 0..population(&bounds, PUNCTUM_DENSITY, voxels, 1.0, &mut sequence) {
        let sigma = sequence.range(PUNCTUM_SIGMA.0, PUNCTUM_SIGMA.1);
        blobs.push(Blob {
            centre: bounds.sample(&mut sequence),
            radii: [sigma; 3],
            amplitude: sequence.range(PUNCTUM_PEAK.0, PUNCTUM_PEAK.1),
            profile: Profile::Gaussian,
        });
    }

    let bounds = layout.bounds(NUCLEUS_RADIUS.1 + DRIFT);
    for _ in 0..population(&bounds, NUCLEUS_DENSITY, voxels, 1.0, &mut sequence) {
        let radius = sequence.range(NUCLEUS_RADIUS.0, NUCLEUS_RADIUS.1);
        blobs.push(Blob {
            centre: bounds.sample(&mut sequence),
            radii: [radius; 3],
            amplitude: NUCLEUS_COUNTS,
            profile: Profile::Solid { edge: 0.3 },
        });
    }
    BlobSet::new(blobs)
}
