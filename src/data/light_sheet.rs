//! Light-sheet fluorescence microscopy of a nuclear-labelled specimen (an
//! embryo or organoid), recorded by an sCMOS camera: uint16 by default, an
//! offset of 100 counts, Poisson photon noise and 2 e- of Gaussian read noise
//! (one count per photo-electron), data in the low thousands of a 16-bit
//! range. Structures are densely packed nuclei (soft-edged ellipsoids of
//! radius 4 to 7 units filling about a quarter of the volume, 150 to 600
//! photons) on 6 photons of autofluorescence. The sheet enters at x = 0 and is
//! scattered on its way, falling to about 55% at the far side, and absorbing
//! objects cast shadow stripes along x (a smooth modulation over z and y, up to
//! 25%). Sizes are physical: with a z voxel size 4 times coarser, a nucleus
//! spans 4 times fewer planes. Channels show different nuclei; time points
//! drift by up to 2 units and bleach 1% per frame.

use super::fast_math::exp;
use super::frames::{bleaching, drift, per_channel};
use super::layout::{Layout, Region};
use super::noise::{Camera, NoiseField, Sequence, key};
use super::quantize::Intensity;
use super::render::Model;
use super::smooth_field::SmoothField;
use super::structures::{Blob, BlobSet, Profile, population};

const NUCLEUS_RADIUS: (f32, f32) = (4.0, 7.0);
/// Per-axis factor on a nucleus's radius, so nuclei are not perfect spheres.
const NUCLEUS_ELONGATION: (f32, f32) = (0.8, 1.2);
const NUCLEUS_EDGE: f32 = 0.35;
/// Fraction of the volume inside nuclei (before overlaps).
const NUCLEUS_FILL: f32 = 0.25;
const NUCLEUS_PHOTONS: (f32, f32) = (150.0, 600.0);

const AUTOFLUORESCENCE: f32 = 6.0;
const CAMERA: Camera = Camera {
    offset: 100.0,
    read_noise: 2.0,
};

/// Attenuation length of the sheet as a multiple of the x extent.
const ATTENUATION: f32 = 1.7;
/// Lattice spacing (z, y) of the shadow stripes and their depth.
const STRIPE_CELL: [f32; 2] = [24.0, 3.0];
const STRIPE_DEPTH: f32 = 0.25;

const BLEACHING: f32 = 0.01;
const DRIFT: f32 = 2.0;
/// About the brightest recorded counts, for narrow integer types.
const PEAK: f32 = 1000.0;

const SCENE_PURPOSE: u64 = 0x15E0_0001;
const STRIPE_PURPOSE: u64 = 0x15E0_0002;
const NOISE_PURPOSE: u64 = 0x15E0_0003;

/// A light-sheet model.
pub(super) struct LightSheet {
    layout: Layout,
    seed: u64,
    scenes: Vec<Scene>,
    noise: NoiseField,
    attenuation_length: f32,
}

struct Scene {
    nuclei: BlobSet,
    stripes: SmoothField,
}

impl LightSheet {
    pub(super) fn new(layout: &Layout, seed: u64) -> Self {
        let x_extent = (layout.dims[2] - 1) as f32 * layout.spacing[2];
        LightSheet {
            layout: layout.clone(),
            seed,
            scenes: per_channel(layout.channels, |channel| scene(layout, seed, channel)),
            noise: NoiseField::new(seed, NOISE_PURPOSE),
            attenuation_length: ATTENUATION * x_extent.max(1.0),
        }
    }
}

impl Model for LightSheet {
    fn intensity(&self) -> Intensity {
        Intensity::Counts { peak: PEAK }
    }

    fn render(&self, region: &Region, out: &mut [f32]) {
        let frame = self.layout.frame(region.frame);
        let scene = &self.scenes[frame.channel];
        let patch = self
            .layout
            .patch(region, drift(self.seed, frame.time, DRIFT));
        scene.nuclei.add_to(&patch, out);

        let bleach = bleaching(frame.time, BLEACHING);
        let spacing_x = self.layout.spacing[2];
        let sheet: Vec<f32> = region
            .x
            .clone()
            .map(|x| exp(-(x as f32 * spacing_x) / self.attenuation_length))
            .collect();
        for (row, values) in out.chunks_exact_mut(patch.cols).enumerate() {
            let stripe = scene.stripes.at([patch.z, patch.y(row), 0.0]);
            let shadow = 1.0 - STRIPE_DEPTH * (0.5 + 0.5 * stripe);
            let random = self.noise.row(region.frame, region.z, region.y.start + row);
            for ((value, &light), x) in values.iter_mut().zip(&sheet).zip(region.x.clone()) {
                let photons = bleach * (AUTOFLUORESCENCE + *value * light * shadow);
                *value = CAMERA.record(photons, random.at(x));
            }
        }
    }
}

fn scene(layout: &Layout, seed: u64, channel: usize) -> Scene {
    let mut sequence = Sequence::new(key(seed, &[SCENE_PURPOSE, channel as u64]));
    let reach = NUCLEUS_RADIUS.1 * NUCLEUS_ELONGATION.1 * (1.0 + NUCLEUS_EDGE);
    let bounds = layout.bounds(reach + DRIFT);
    let mean_radius = 0.5 * (NUCLEUS_RADIUS.0 + NUCLEUS_RADIUS.1);
    let density = NUCLEUS_FILL
        / (4.0 / 3.0 * std::f32::consts::PI * (mean_radius * mean_radius * mean_radius));

    let nuclei = (0..population(&bounds, density, layout.frame_voxels(), 1.0, &mut sequence))
        .map(|_| {
            let radius = sequence.range(NUCLEUS_RADIUS.0, NUCLEUS_RADIUS.1);
            Blob {
                centre: bounds.sample(&mut sequence),
                radii: [(); 3]
                    .map(|()| radius * sequence.range(NUCLEUS_ELONGATION.0, NUCLEUS_ELONGATION.1)),
                amplitude: sequence.range(NUCLEUS_PHOTONS.0, NUCLEUS_PHOTONS.1),
                profile: Profile::Solid { edge: NUCLEUS_EDGE },
            }
        })
        .collect();

    let stripes = SmoothField::random(
        &bounds,
        [STRIPE_CELL[0], STRIPE_CELL[1], f32::MAX],
        key(seed, &[STRIPE_PURPOSE, channel as u64]),
    );
    Scene {
        nuclei: BlobSet::new(nuclei),
        stripes,
    }
}
