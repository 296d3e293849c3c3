//! Volume scanning electron microscopy of heavy-metal-stained tissue (FIB-SEM
//! or serial block-face, backscattered electrons shown with membranes dark):
//! uint8 by default, using most of the 8-bit range. Cells pack the volume
//! (a Voronoi tessellation, cells about 28 units across); their membranes are
//! dark lines (grey 25, about 1 unit wide); each cell's cytoplasm has its own
//! grey level (110 to 200) and a fine granular texture (+-15 over 3 units);
//! mitochondria are darker elongated solids and small vesicles dark rings.
//! The detector adds Gaussian noise (sigma 10 grey levels); there is no offset
//! and no separate Poisson term (at these doses the beam's shot noise is
//! Gaussian). Sizes are physical, so anisotropic voxels (thick FIB or
//! block-face sections) stretch nothing but sample z more coarsely. Channels
//! show different tissue; time points drift.

use super::cells::CellPacking;
use super::fast_math::exp;
use super::frames::{drift, per_channel};
use super::layout::{Layout, Region};
use super::noise::{NoiseField, Sequence, key};
use super::quantize::Intensity;
use super::render::Model;
use super::smooth_field::SmoothField;
use super::structures::{Blob, BlobSet, Profile, population};

const CELL_SIZE: f32 = 28.0;
const CYTOPLASM: (f32, f32) = (110.0, 200.0);
const MEMBRANE: f32 = 25.0;
/// Sigma of the membrane's dark line across the wall (physical).
const MEMBRANE_WIDTH: f32 = 0.8;

const TEXTURE: f32 = 15.0;
const TEXTURE_CELL: f32 = 3.0;

const MITOCHONDRION_DENSITY: f32 = 1.0 / 20_000.0;
const MITOCHONDRION_RADIUS: (f32, f32) = (1.5, 3.0);
const MITOCHONDRION_ELONGATION: (f32, f32) = (2.0, 4.0);
const MITOCHONDRION_CONTRAST: f32 = -70.0;

const VESICLE_DENSITY: f32 = 1.0 / 3000.0;
const VESICLE_RADIUS: (f32, f32) = (1.5, 3.0);
const VESICLE_WALL: f32 = 0.3;
const VESICLE_CONTRAST: f32 = -60.0;

const DETECTOR_NOISE: f32 = 10.0;
const DRIFT: f32 = 2.0;
const PEAK: f32 = 255.0;

const SCENE_PURPOSE: u64 = 0x5E30_0001;
const TEXTURE_PURPOSE: u64 = 0x5E30_0002;
const NOISE_PURPOSE: u64 = 0x5E30_0003;

/// A volume-SEM model.
pub(super) struct Sem {
    layout: Layout,
    seed: u64,
    scenes: Vec<Scene>,
    noise: NoiseField,
}

struct Scene {
    cells: CellPacking,
    organelles: BlobSet,
    texture: SmoothField,
}

impl Sem {
    pub(super) fn new(layout: &Layout, seed: u64) -> Self {
        Sem {
            layout: layout.clone(),
            seed,
            scenes: per_channel(layout.channels, |channel| scene(layout, seed, channel)),
            noise: NoiseField::new(seed, NOISE_PURPOSE),
        }
    }
}

impl Model for Sem {
    fn intensity(&self) -> Intensity {
        Intensity::Counts { peak: PEAK }
    }

    fn render(&self, region: &Region, out: &mut [f32]) {
        let frame = self.layout.frame(region.frame);
        let scene = &self.scenes[frame.channel];
        let patch = self
            .layout
            .patch(region, drift(self.seed, frame.time, DRIFT));
        scene.organelles.add_to(&patch, out);
        scene.texture.add_to(&patch, TEXTURE, out);

        let (mut wall, mut tone) = (vec![0.0; out.len()], vec![0.0; out.len()]);
        scene.cells.trace(&patch, &mut wall, &mut tone);
        let rows = out.chunks_exact_mut(patch.cols).zip(
            wall.chunks_exact(patch.cols)
                .zip(tone.chunks_exact(patch.cols)),
        );
        for (row, (values, (wall, tone))) in rows.enumerate() {
            let random = self.noise.row(region.frame, region.z, region.y.start + row);
            let voxels = values.iter_mut().zip(wall).zip(tone).zip(region.x.clone());
            for (((value, &wall), &tone), x) in voxels {
                let across = wall / MEMBRANE_WIDTH;
                let membrane = exp(-0.5 * across * across);
                let stained = tone + *value;
                let grey = stained + membrane * (MEMBRANE - stained);
                *value = grey + DETECTOR_NOISE * random.at(x).normal();
            }
        }
    }
}

fn scene(layout: &Layout, seed: u64, channel: usize) -> Scene {
    let mut sequence = Sequence::new(key(seed, &[SCENE_PURPOSE, channel as u64]));
    let voxels = layout.frame_voxels();
    let cells = CellPacking::new(&layout.bounds(DRIFT), CELL_SIZE, CYTOPLASM, &mut sequence);

    let mut organelles = Vec::new();
    let reach = MITOCHONDRION_RADIUS.1 * MITOCHONDRION_ELONGATION.1 * 1.2;
    let bounds = layout.bounds(reach + DRIFT);
    for _ in 0..population(&bounds, MITOCHONDRION_DENSITY, voxels, 1.0, &mut sequence) {
        let radius = sequence.range(MITOCHONDRION_RADIUS.0, MITOCHONDRION_RADIUS.1);
        let mut radii = [radius; 3];
        radii[sequence.below(3)] *=
            sequence.range(MITOCHONDRION_ELONGATION.0, MITOCHONDRION_ELONGATION.1);
        organelles.push(Blob {
            centre: bounds.sample(&mut sequence),
            radii,
            amplitude: MITOCHONDRION_CONTRAST,
            profile: Profile::Solid { edge: 0.3 },
        });
    }

    let bounds = layout.bounds(VESICLE_RADIUS.1 * 2.0 + DRIFT);
    for _ in 0..population(&bounds, VESICLE_DENSITY, voxels, 1.0, &mut sequence) {
        organelles.push(Blob {
            centre: bounds.sample(&mut sequence),
            radii: [sequence.range(VESICLE_RADIUS.0, VESICLE_RADIUS.1); 3],
            amplitude: VESICLE_CONTRAST,
            profile: Profile::Shell {
                width: VESICLE_WALL,
            },
        });
    }

    Scene {
        cells,
        organelles: BlobSet::new(organelles),
        texture: SmoothField::random(
            &layout.bounds(DRIFT),
            [TEXTURE_CELL; 3],
            key(seed, &[TEXTURE_PURPOSE, channel as u64]),
        ),
    }
}
