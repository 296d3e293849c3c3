//! Single-molecule localisation microscopy raw data (PALM / STORM): uint16 by
//! default, sCMOS camera frames with an offset of 100 counts everywhere, 10
//! photons of background per pixel with Poisson noise and 1.6 e- of read
//! noise. Every plane of the volume is one camera exposure: z (and the t, c
//! frames before it) is acquisition order, not depth, so the z voxel size is
//! ignored and y, x sizes are taken relative to the finer of the two.
//! Fluorophores label filaments (2-D random walks, one fluorophore every 0.5
//! units) and a few tight clusters; in each exposure about one fluorophore per
//! 2500 pixels blinks on, drawn as a 2-D Gaussian PSF (sigma 1.3 units) with
//! 300 to 3000 photons, so the frames are sparse spots on noise. Channels label
//! different structures.

use super::layout::{Layout, Patch, Region};
use super::noise::{Camera, NoiseField, Sequence, key};
use super::quantize::Intensity;
use super::render::Model;
use super::structures::{Blob, BlobSet, Profile};

const BACKGROUND: f32 = 10.0;
const CAMERA: Camera = Camera {
    offset: 100.0,
    read_noise: 1.6,
};

const PSF_SIGMA: f32 = 1.3;
const PHOTONS: (f32, f32) = (300.0, 3000.0);
/// Pixels per fluorophore that is on in an exposure.
const PIXELS_PER_BLINK: f32 = 2500.0;

/// Filaments per unit area, their length, labelling step and wiggle.
const FILAMENT_DENSITY: f32 = 1.0 / 4000.0;
const FILAMENT_LENGTH: (f32, f32) = (40.0, 160.0);
const LABEL_STEP: f32 = 0.5;
const LABEL_JITTER: f32 = 0.3;
const FILAMENT_BEND: f32 = 0.05;

/// Clusters per unit area, fluorophores per cluster and cluster radius.
const CLUSTER_DENSITY: f32 = 1.0 / 20_000.0;
const CLUSTER_SIZE: usize = 30;
const CLUSTER_RADIUS: f32 = 2.0;

/// About the brightest counts, for narrow integer types.
const PEAK: f32 = 1000.0;

const SCENE_PURPOSE: u64 = 0x9A10_0001;
const BLINK_PURPOSE: u64 = 0x9A10_0002;
const NOISE_PURPOSE: u64 = 0x9A10_0003;

/// A PALM / STORM acquisition model.
pub(super) struct PalmStorm {
    layout: Layout,
    seed: u64,
    /// In-plane pixel spacing (y, x), the finer being 1.
    spacing: [f32; 2],
    /// Fluorophore positions (y, x) per channel.
    fluorophores: Vec<Vec<[f32; 2]>>,
    blinks_per_exposure: f32,
    noise: NoiseField,
}

impl PalmStorm {
    pub(super) fn new(layout: &Layout, seed: u64) -> Self {
        let [_, sy, sx] = layout.spacing;
        let spacing = [sy / sy.min(sx), sx / sy.min(sx)];
        let [_, ny, nx] = layout.dims;
        let extent = [(ny - 1) as f32 * spacing[0], (nx - 1) as f32 * spacing[1]];
        let fluorophores = (0..layout.channels)
            .map(|channel| fluorophores(extent, seed, channel))
            .collect();
        PalmStorm {
            layout: layout.clone(),
            seed,
            spacing,
            fluorophores,
            blinks_per_exposure: (ny * nx) as f32 / PIXELS_PER_BLINK,
            noise: NoiseField::new(seed, NOISE_PURPOSE),
        }
    }

    /// The fluorophores that are on during one exposure, as PSFs.
    fn spots(&self, fluorophores: &[[f32; 2]], exposure: usize) -> BlobSet {
        if fluorophores.is_empty() {
            return BlobSet::default();
        }
        let mut sequence = Sequence::new(key(self.seed, &[BLINK_PURPOSE, exposure as u64]));
        let pixel_area = self.spacing[0] * self.spacing[1];
        let psf_area = 2.0 * std::f32::consts::PI * PSF_SIGMA * PSF_SIGMA;
        let blinks = sequence.count(self.blinks_per_exposure);
        BlobSet::new(
            (0..blinks)
                .map(|_| {
                    let [y, x] = fluorophores[sequence.below(fluorophores.len())];
                    let brightness = sequence.uniform();
                    let photons = PHOTONS.0 + (PHOTONS.1 - PHOTONS.0) * brightness * brightness;
                    Blob {
                        centre: [0.0, y, x],
                        radii: [1.0, PSF_SIGMA, PSF_SIGMA],
                        amplitude: photons * pixel_area / psf_area,
                        profile: Profile::Gaussian,
                    }
                })
                .collect(),
        )
    }
}

impl Model for PalmStorm {
    fn intensity(&self) -> Intensity {
        Intensity::Counts { peak: PEAK }
    }

    fn render(&self, region: &Region, out: &mut [f32]) {
        let frame = self.layout.frame(region.frame);
        let exposure = region.frame * self.layout.dims[0] + region.z;
        let patch = Patch {
            z: 0.0,
            y0: region.y.start as f32 * self.spacing[0],
            x0: region.x.start as f32 * self.spacing[1],
            dy: self.spacing[0],
            dx: self.spacing[1],
            rows: region.y.len(),
            cols: region.x.len(),
        };
        self.spots(&self.fluorophores[frame.channel], exposure)
            .add_to(&patch, out);

        for (row, values) in out.chunks_exact_mut(patch.cols).enumerate() {
            let random = self.noise.row(region.frame, region.z, region.y.start + row);
            for (value, x) in values.iter_mut().zip(region.x.clone()) {
                *value = CAMERA.record(BACKGROUND + *value, random.at(x));
            }
        }
    }
}

/// Fluorophore positions over a frame of physical `extent` (y, x).
fn fluorophores(extent: [f32; 2], seed: u64, channel: usize) -> Vec<[f32; 2]> {
    let mut sequence = Sequence::new(key(seed, &[SCENE_PURPOSE, channel as u64]));
    let margin = 3.0 * PSF_SIGMA;
    let low = [-margin; 2];
    let high = extent.map(|e| e + margin);
    // Counted over the frame itself, so that the margins of a thin frame do
    // not multiply the structures.
    let area = (extent[0] + 1.0) * (extent[1] + 1.0);
    let mut positions = Vec::new();

    for _ in 0..sequence.count(area * FILAMENT_DENSITY) {
        let start = [0, 1].map(|a| sequence.range(low[a] - 50.0, high[a] + 50.0));
        let length = sequence.range(FILAMENT_LENGTH.0, FILAMENT_LENGTH.1);
        label_filament(start, length, &mut sequence, &mut positions);
    }
    for _ in 0..sequence.count(area * CLUSTER_DENSITY) {
        let centre = [0, 1].map(|a| sequence.range(low[a], high[a]));
        for _ in 0..CLUSTER_SIZE {
            positions.push([0, 1].map(|a| centre[a] + CLUSTER_RADIUS * sequence.normal()));
        }
    }

    positions.retain(|p| (0..2).all(|a| p[a] >= low[a] && p[a] <= high[a]));
    positions
}

/// Appends the fluorophores along a 2-D persistent random walk.
fn label_filament(start: [f32; 2], length: f32, sequence: &mut Sequence, out: &mut Vec<[f32; 2]>) {
    let [_, dy, dx] = sequence.direction();
    let norm = (dy * dy + dx * dx).sqrt().max(1e-3);
    let mut heading = [dy / norm, dx / norm];
    let mut position = start;
    let turn = FILAMENT_BEND * LABEL_STEP.sqrt();
    for _ in 0..(length / LABEL_STEP) as usize {
        out.push([0, 1].map(|a| position[a] + LABEL_JITTER * sequence.normal()));
        let bent = [0, 1].map(|a| heading[a] + turn * sequence.normal());
        let norm = (bent[0] * bent[0] + bent[1] * bent[1]).sqrt().max(1e-6);
        heading = bent.map(|c| c / norm);
        position = [0, 1].map(|a| position[a] + LABEL_STEP * heading[a]);
    }
}
