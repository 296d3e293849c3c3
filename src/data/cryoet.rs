//! Cryo-electron tomography: a reconstructed tomogram of a cell's interior,
//! float32 by default and z-scored (mean 0, standard deviation 1 over the
//! volume). Protein and lipid are denser than vitreous ice and appear dark:
//! crowded macromolecules (Gaussian blobs, sigma 1.6 to 2.6 units, about one
//! per 1200 cubic units) and vesicles (lipid shells of radius 10 to 28 with a
//! wall about 1.3 units thick) on a slowly varying ice background, all under
//! strong Gaussian noise (per-voxel SNR about 0.1; there is no Poisson term
//! because reconstruction sums many projections). The missing wedge is
//! imitated by stretching particles 1.4 times along z. Sizes are physical, so a
//! coarse z voxel size gives fewer planes per particle. The z-score uses the
//! known noise variance and the noise-free signal's moments estimated on about
//! 2^18 voxels spread over the volume. Integer element types receive the
//! z-scores scaled into their range (uint8: 128 +- 20).

use rayon::prelude::*;

use super::frames::{drift, per_channel};
use super::layout::{Layout, Region};
use super::noise::{NoiseField, Sequence, key};
use super::quantize::Intensity;
use super::render::Model;
use super::smooth_field::SmoothField;
use super::structures::{Blob, BlobSet, Profile, population};

const PARTICLE_SIGMA: (f32, f32) = (1.6, 2.6);
const PARTICLE_DENSITY: f32 = 1.0 / 1200.0;
const PARTICLE_CONTRAST: (f32, f32) = (-1.0, -0.5);
const MISSING_WEDGE_STRETCH: f32 = 1.4;

const VESICLE_RADIUS: (f32, f32) = (10.0, 28.0);
const VESICLE_WALL: f32 = 1.3;
const VESICLE_DENSITY: f32 = 1.0 / 300_000.0;
const VESICLE_CONTRAST: f32 = -1.2;

/// Lattice spacing and amplitude of the ice thickness variation.
const ICE_CELL: f32 = 48.0;
const ICE_AMPLITUDE: f32 = 0.3;

/// Standard deviation of the reconstruction noise, in signal units.
const NOISE_SIGMA: f32 = 1.0;
/// Largest stage drift between time points, in physical units.
const DRIFT: f32 = 2.0;
/// Voxels sampled to estimate the signal's mean and variance.
const STATISTICS_BUDGET: usize = 1 << 18;

const SCENE_PURPOSE: u64 = 0xC7E0_0001;
const ICE_PURPOSE: u64 = 0xC7E0_0002;
const NOISE_PURPOSE: u64 = 0xC7E0_0003;

/// A cryo-ET tomogram model.
pub(super) struct Tomogram {
    layout: Layout,
    seed: u64,
    scenes: Vec<Scene>,
    noise: NoiseField,
    /// Mean of the noise-free signal.
    centre: f32,
    /// 1 / standard deviation of signal plus noise.
    scale: f32,
}

/// What one channel images.
struct Scene {
    particles: BlobSet,
    vesicles: BlobSet,
    ice: SmoothField,
}

impl Tomogram {
    pub(super) fn new(layout: &Layout, seed: u64) -> Self {
        let scenes = per_channel(layout.channels, |channel| scene(layout, seed, channel));
        let mut tomogram = Tomogram {
            layout: layout.clone(),
            seed,
            scenes,
            noise: NoiseField::new(seed, NOISE_PURPOSE),
            centre: 0.0,
            scale: 1.0,
        };
        let (mean, variance) = tomogram.signal_moments();
        tomogram.centre = mean;
        tomogram.scale = 1.0 / (variance + NOISE_SIGMA * NOISE_SIGMA).sqrt();
        tomogram
    }

    /// The noise-free density of a region.
    fn signal(&self, region: &Region, out: &mut [f32]) {
        let frame = self.layout.frame(region.frame);
        let scene = &self.scenes[frame.channel];
        let patch = self
            .layout
            .patch(region, drift(self.seed, frame.time, DRIFT));
        scene.ice.add_to(&patch, ICE_AMPLITUDE, out);
        scene.particles.add_to(&patch, out);
        scene.vesicles.add_to(&patch, out);
    }

    /// Mean and variance of the noise-free signal over sampled rows.
    fn signal_moments(&self) -> (f32, f32) {
        let sums: Vec<(f64, f64, usize)> = self
            .layout
            .sample_regions(STATISTICS_BUDGET)
            .par_iter()
            .map(|region| {
                let mut values = vec![0.0; region.voxels()];
                self.signal(region, &mut values);
                let sum = values.iter().map(|&v| f64::from(v)).sum();
                let squares = values.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
                (sum, squares, values.len())
            })
            .collect();
        let (sum, squares, count) = sums
            .into_iter()
            .fold((0.0, 0.0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
        let mean = sum / count.max(1) as f64;
        let variance = (squares / count.max(1) as f64 - mean * mean).max(0.0);
        (mean as f32, variance as f32)
    }
}

impl Model for Tomogram {
    fn intensity(&self) -> Intensity {
        Intensity::ZScored
    }

    fn render(&self, region: &Region, out: &mut [f32]) {
        self.signal(region, out);
        for (row, values) in out.chunks_exact_mut(region.x.len()).enumerate() {
            let random = self.noise.row(region.frame, region.z, region.y.start + row);
            for (value, x) in values.iter_mut().zip(region.x.clone()) {
                let noisy = *value - self.centre + NOISE_SIGMA * random.at(x).normal();
                *value = noisy * self.scale;
            }
        }
    }
}

fn scene(layout: &Layout, seed: u64, channel: usize) -> Scene {
    let mut sequence = Sequence::new(key(seed, &[SCENE_PURPOSE, channel as u64]));
    let voxels = layout.frame_voxels();

    let bounds = layout.bounds(3.0 * PARTICLE_SIGMA.1 * MISSING_WEDGE_STRETCH + DRIFT);
    let particles = (0..population(&bounds, PARTICLE_DENSITY, voxels, 1.0, &mut sequence))
        .map(|_| {
            let sigma = sequence.range(PARTICLE_SIGMA.0, PARTICLE_SIGMA.1);
            Blob {
                centre: bounds.sample(&mut sequence),
                radii: [sigma * MISSING_WEDGE_STRETCH, sigma, sigma],
                amplitude: sequence.range(PARTICLE_CONTRAST.0, PARTICLE_CONTRAST.1),
                profile: Profile::Gaussian,
            }
        })
        .collect();

    let bounds = layout.bounds(VESICLE_RADIUS.1 + 4.0 * VESICLE_WALL + DRIFT);
    let vesicles = (0..population(&bounds, VESICLE_DENSITY, voxels, 1.0, &mut sequence))
        .map(|_| {
            let radius = sequence.range(VESICLE_RADIUS.0, VESICLE_RADIUS.1);
            Blob {
                centre: bounds.sample(&mut sequence),
                radii: [radius; 3],
                amplitude: VESICLE_CONTRAST,
                profile: Profile::Shell {
                    width: VESICLE_WALL / radius,
                },
            }
        })
        .collect();

    Scene {
        particles: BlobSet::new(particles),
        vesicles: BlobSet::new(vesicles),
        ice: SmoothField::random(
            &layout.bounds(DRIFT),
            [ICE_CELL; 3],
            key(seed, &[ICE_PURPOSE, channel as u64]),
        ),
    }
}
