//! Two-photon laser-scanning microscopy of neurons deep in tissue (say GCaMP
//! in cortex): uint16 by default, shot-noise dominated: each detected photon
//! gives about 8 counts (PMT gain) on top of 3 counts of amplifier noise, with
//! no offset, so dark voxels sit near 0. Structures are neuronal somata (soft
//! spheres of radius 5 to 8 units, 30 to 70 photons, with a dimmer nucleus)
//! that each send out 2 to 4 wiggly dendrites (tubes of sigma 0.7 to 1.1, 30 to
//! 120 units long), over a faint neuropil texture (1 to 3 photons). Excitation
//! and emission scatter with depth, so brightness falls as exp(-z / L) with L
//! 70% of the z extent (the deepest plane gets about a quarter of the light).
//! Sizes are physical; channels show different neurons; time points drift and
//! bleach 0.5% per frame.

use super::fast_math::exp;
use super::frames::{bleaching, drift, per_channel};
use super::layout::{Layout, Region};
use super::noise::{NoiseField, Sequence, key, poisson};
use super::quantize::Intensity;
use super::render::Model;
use super::smooth_field::SmoothField;
use super::structures::{
    Blob, BlobSet, FilamentStyle, Profile, filament_blobs, population, trace_filament,
};

const SOMA_DENSITY: f32 = 1.0 / 50_000.0;
const SOMA_RADIUS: (f32, f32) = (5.0, 8.0);
const SOMA_PHOTONS: (f32, f32) = (30.0, 70.0);
/// Nucleus radius relative to the soma, and the fraction of light it lacks.
const NUCLEUS_SIZE: f32 = 0.55;
const NUCLEUS_DIMMING: f32 = 0.7;

const DENDRITES: (usize, usize) = (2, 4);
const DENDRITE_LENGTH: (f32, f32) = (30.0, 120.0);
const DENDRITE_RADIUS: (f32, f32) = (0.7, 1.1);
const DENDRITE_PHOTONS: (f32, f32) = (8.0, 20.0);
const DENDRITE_BEND: f32 = 0.25;

/// Neuropil background: mean photons, modulation and its lattice spacing.
const NEUROPIL: f32 = 2.0;
const NEUROPIL_TEXTURE: f32 = 1.0;
const NEUROPIL_CELL: f32 = 3.0;

/// Counts per detected photon and amplifier noise (counts).
const GAIN: f32 = 8.0;
const AMPLIFIER_NOISE: f32 = 3.0;
/// Attenuation length as a fraction of the z extent.
const DEPTH_ATTENUATION: f32 = 0.7;

const BLEACHING: f32 = 0.005;
const DRIFT: f32 = 2.0;
/// About the brightest counts, for narrow integer types.
const PEAK: f32 = 800.0;

const SCENE_PURPOSE: u64 = 0x2F0_0001;
const NEUROPIL_PURPOSE: u64 = 0x2F0_0002;
const NOISE_PURPOSE: u64 = 0x2F0_0003;

/// A two-photon model.
pub(super) struct TwoPhoton {
    layout: Layout,
    seed: u64,
    scenes: Vec<Scene>,
    noise: NoiseField,
    attenuation_length: f32,
}

struct Scene {
    neurons: BlobSet,
    neuropil: SmoothField,
}

impl TwoPhoton {
    pub(super) fn new(layout: &Layout, seed: u64) -> Self {
        let z_extent = (layout.dims[0] - 1) as f32 * layout.spacing[0];
        TwoPhoton {
            layout: layout.clone(),
            seed,
            scenes: per_channel(layout.channels, |channel| scene(layout, seed, channel)),
            noise: NoiseField::new(seed, NOISE_PURPOSE),
            attenuation_length: DEPTH_ATTENUATION * z_extent.max(1.0),
        }
    }
}

impl Model for TwoPhoton {
    fn intensity(&self) -> Intensity {
        Intensity::Counts { peak: PEAK }
    }

    fn render(&self, region: &Region, out: &mut [f32]) {
        let frame = self.layout.frame(region.frame);
        let scene = &self.scenes[frame.channel];
        let patch = self
            .layout
            .patch(region, drift(self.seed, frame.time, DRIFT));
        scene.neurons.add_to(&patch, out);
        scene.neuropil.add_to(&patch, NEUROPIL_TEXTURE, out);

        // Depth is measured in the instrument, from the top plane.
        let depth = region.z as f32 * self.layout.spacing[0];
        let light = bleaching(frame.time, BLEACHING) * exp(-depth / self.attenuation_length);
        for (row, values) in out.chunks_exact_mut(patch.cols).enumerate() {
            let random = self.noise.row(region.frame, region.z, region.y.start + row);
            for (value, x) in values.iter_mut().zip(region.x.clone()) {
                let photons = light * (NEUROPIL + *value).max(0.0);
                let voxel = random.at(x);
                *value = GAIN * poisson(photons, voxel) + AMPLIFIER_NOISE * voxel.second_normal();
            }
        }
    }
}

fn scene(layout: &Layout, seed: u64, channel: usize) -> Scene {
    let mut sequence = Sequence::new(key(seed, &[SCENE_PURPOSE, channel as u64]));
    // Somata up to half a dendrite outside the volume still reach into it.
    let bounds = layout.bounds(0.5 * (DENDRITE_LENGTH.0 + DENDRITE_LENGTH.1) / 2.0 + DRIFT);
    let voxels = layout.frame_voxels();
    let mut blobs = Vec::new();
    for _ in 0..population(&bounds, SOMA_DENSITY, voxels, neuron_blobs(), &mut sequence) {
        add_neuron(bounds.sample(&mut sequence), &mut sequence, &mut blobs);
    }
    Scene {
        neurons: BlobSet::new(blobs),
        neuropil: SmoothField::random(
            &layout.bounds(DRIFT),
            [NEUROPIL_CELL; 3],
            key(seed, &[NEUROPIL_PURPOSE, channel as u64]),
        ),
    }
}

/// Blobs of an average neuron: soma, nucleus and dendrites.
fn neuron_blobs() -> f32 {
    let dendrites = 0.5 * (DENDRITES.0 + DENDRITES.1) as f32;
    let length = 0.5 * (DENDRITE_LENGTH.0 + DENDRITE_LENGTH.1);
    let radius = 0.5 * (DENDRITE_RADIUS.0 + DENDRITE_RADIUS.1);
    2.0 + dendrites * filament_blobs(length, radius)
}

/// A soma with its nucleus and dendrites leaving from its surface.
fn add_neuron(centre: [f32; 3], sequence: &mut Sequence, blobs: &mut Vec<Blob>) {
    let radius = sequence.range(SOMA_RADIUS.0, SOMA_RADIUS.1);
    let photons = sequence.range(SOMA_PHOTONS.0, SOMA_PHOTONS.1);
    let soma = Blob {
        centre,
        radii: [radius; 3],
        amplitude: photons,
        profile: Profile::Solid { edge: 0.25 },
    };
    let nucleus = Blob {
        radii: [radius * NUCLEUS_SIZE; 3],
        amplitude: -NUCLEUS_DIMMING * photons,
        ..soma
    };
    blobs.extend([soma, nucleus]);

    let dendrites = DENDRITES.0 + sequence.below(DENDRITES.1 - DENDRITES.0 + 1);
    for _ in 0..dendrites {
        let direction = sequence.direction();
        let start = [0, 1, 2].map(|axis| centre[axis] + radius * direction[axis]);
        let style = FilamentStyle {
            radius: sequence.range(DENDRITE_RADIUS.0, DENDRITE_RADIUS.1),
            peak: sequence.range(DENDRITE_PHOTONS.0, DENDRITE_PHOTONS.1),
            bend: DENDRITE_BEND,
        };
        let length = sequence.range(DENDRITE_LENGTH.0, DENDRITE_LENGTH.1);
        trace_filament(start, direction, length, style, sequence, blobs);
    }
}
