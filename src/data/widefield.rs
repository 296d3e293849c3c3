//! Widefield epifluorescence recorded by an sCMOS camera: uint16 by default,
//! an offset of 100 counts, Poisson photon noise and 1.5 e- of read noise.
//! Without optical sectioning every plane also collects the blurred light of
//! everything above and below it: the haze is the structures' own light
//! deposited on a coarse lattice (8 units) and blurred over some 15 units,
//! scaled to a mean of 250 photons, brighter than much of the in-focus
//! detail. In focus are puncta (sigma 1.2 to 2 units, 100 to 400 photons) and
//! filaments (sigma 1, 80 to 200 photons), over 10 photons of
//! autofluorescence. Sizes are physical; channels show different labels; time
//! points drift and bleach 1% per frame.

use super::frames::{bleaching, drift, per_channel};
use super::layout::{Layout, Region};
use super::noise::{Camera, NoiseField, Sequence, key};
use super::quantize::Intensity;
use super::render::Model;
use super::smooth_field::SmoothField;
use super::structures::{Blob, BlobSet, Filaments, Profile, population};

const PUNCTUM_DENSITY: f32 = 1.0 / 5000.0;
const PUNCTUM_SIGMA: (f32, f32) = (1.2, 2.0);
const PUNCTUM_PHOTONS: (f32, f32) = (100.0, 400.0);

/// The filaments.
const FILAMENTS: Filaments = Filaments {
    density: 1.0 / 60_000.0,
    length: (40.0, 150.0),
    radius: 1.0,
    peak: (80.0, 200.0),
    bend: 0.1,
};

/// Lattice spacing of the haze, [1, 2, 1] blur passes per axis (z, y, x), and
/// its mean in photons.
const HAZE_CELL: f32 = 8.0;
const HAZE_BLUR: [usize; 3] = [6, 8, 8];
const HAZE: f32 = 250.0;

const AUTOFLUORESCENCE: f32 = 10.0;
const CAMERA: Camera = Camera {
    offset: 100.0,
    read_noise: 1.5,
};

const BLEACHING: f32 = 0.01;
const DRIFT: f32 = 2.0;
/// About the brightest counts, for narrow integer types.
const PEAK: f32 = 1000.0;

const SCENE_PURPOSE: u64 = 0x3DF0_0001;
const NOISE_PURPOSE: u64 = 0x3DF0_0002;

/// A widefield model.
pub(super) struct Widefield {
    layout: Layout,
    seed: u64,
    scenes: Vec<Scene>,
    noise: NoiseField,
}

struct Scene {
    in_focus: BlobSet,
    haze: SmoothField,
}

impl Widefield {
    pub(super) fn new(layout: &Layout, seed: u64) -> Self {
        Widefield {
            layout: layout.clone(),
            seed,
            scenes: per_channel(layout.channels, |channel| scene(layout, seed, channel)),
            noise: NoiseField::new(seed, NOISE_PURPOSE),
        }
    }
}

impl Model for Widefield {
    fn intensity(&self) -> Intensity {
        Intensity::Counts { peak: PEAK }
    }

    fn render(&self, region: &Region, out: &mut [f32]) {
        let frame = self.layout.frame(region.frame);
        let scene = &self.scenes[frame.channel];
        let patch = self
            .layout
            .patch(region, drift(self.seed, frame.time, DRIFT));
        scene.in_focus.add_to(&patch, out);
        scene.haze.add_to(&patch, 1.0, out);

        let bleach = bleaching(frame.time, BLEACHING);
        for (row, values) in out.chunks_exact_mut(patch.cols).enumerate() {
            let random = self.noise.row(region.frame, region.z, region.y.start + row);
            for (value, x) in values.iter_mut().zip(region.x.clone()) {
                let photons = bleach * (AUTOFLUORESCENCE + value.max(0.0));
                *value = CAMERA.record(photons, random.at(x));
            }
        }
    }
}

fn scene(layout: &Layout, seed: u64, channel: usize) -> Scene {
    let mut sequence = Sequence::new(key(seed, &[SCENE_PURPOSE, channel as u64]));
    let voxels = layout.frame_voxels();
    let mut blobs = Vec::new();

    let bounds = layout.bounds(3.0 * PUNCTUM_SIGMA.1 + DRIFT);
    for _ in 0..population(&bounds, PUNCTUM_DENSITY, voxels, 1.0, &mut sequence) {
        let sigma = sequence.range(PUNCTUM_SIGMA.0, PUNCTUM_SIGMA.1);
        blobs.push(Blob {
            centre: bounds.sample(&mut sequence),
            radii: [sigma; 3],
            amplitude: sequence.range(PUNCTUM_PHOTONS.0, PUNCTUM_PHOTONS.1),
            profile: Profile::Gaussian,
        });
    }

    let bounds = layout.bounds(3.0 * FILAMENTS.radius + DRIFT);
    FILAMENTS.scatter(&bounds, voxels, &mut sequence, &mut blobs);

    let haze = haze(layout, &blobs);
    Scene {
        in_focus: BlobSet::new(blobs),
        haze,
    }
}

/// The out-of-focus light: the blobs' light on a coarse lattice, blurred and
/// scaled to a mean of [`HAZE`] photons.
fn haze(layout: &Layout, blobs: &[Blob]) -> SmoothField {
    // The lattice covers the field of view only, so that its mean is the mean
    // haze the camera sees.
    let bounds = layout.bounds(DRIFT);
    let max_nodes = layout.frame_voxels() / 64 + 64;
    let masses = blobs.iter().map(|blob| (blob.centre, blob.mass()));
    let mut haze = SmoothField::from_masses(&bounds, [HAZE_CELL; 3], max_nodes, masses);
    haze.blur(HAZE_BLUR);
    let mean = haze.mean();
    if mean > 0.0 {
        haze.scale(HAZE / mean);
    }
    haze
}
