//! A synthetic test pattern: three smooth waves (periods 48, 40 and 32 units
//! along z, y and x, phases changing with every frame) summed around 1000
//! counts with an amplitude of up to 600, plus Gaussian noise of 20 counts;
//! uint16 by default, no offset, no Poisson term, no sparsity. Every voxel is
//! easy to predict, so it suits tests: smooth, dense and compressible, yet
//! never constant. Periods are physical, so a coarse z voxel size shortens the
//! wave along z in voxels.

use super::fast_math::wave;
use super::layout::{Layout, Region};
use super::noise::{NoiseField, Sequence, key};
use super::quantize::Intensity;
use super::render::Model;

const LEVEL: f32 = 1000.0;
/// Amplitude of each of the three waves.
const AMPLITUDE: f32 = 200.0;
const PERIODS: [f32; 3] = [48.0, 40.0, 32.0];
const NOISE: f32 = 20.0;
/// About the brightest counts, for narrow integer types.
const PEAK: f32 = 1700.0;

const PHASE_PURPOSE: u64 = 0x5147_0001;
const NOISE_PURPOSE: u64 = 0x5147_0002;

/// The synthetic pattern.
pub(super) struct Synthetic {
    layout: Layout,
    seed: u64,
    noise: NoiseField,
}

impl Synthetic {
    pub(super) fn new(layout: &Layout, seed: u64) -> Self {
        Synthetic {
            layout: layout.clone(),
            seed,
            noise: NoiseField::new(seed, NOISE_PURPOSE),
        }
    }

    /// The three waves' phases in frame `frame`.
    fn phases(&self, frame: usize) -> [f32; 3] {
        let mut sequence = Sequence::new(key(self.seed, &[PHASE_PURPOSE, frame as u64]));
        [(); 3].map(|()| sequence.uniform())
    }
}

impl Model for Synthetic {
    fn intensity(&self) -> Intensity {
        Intensity::Counts { peak: PEAK }
    }

    fn render(&self, region: &Region, out: &mut [f32]) {
        let phases = self.phases(region.frame);
        let patch = self.layout.patch(region, [0.0; 3]);
        let along =
            |axis: usize, position: f32| AMPLITUDE * wave(position / PERIODS[axis] + phases[axis]);
        let columns: Vec<f32> = (0..patch.cols).map(|col| along(2, patch.x(col))).collect();
        let plane = LEVEL + along(0, patch.z);

        for (row, values) in out.chunks_exact_mut(patch.cols).enumerate() {
            let level = plane + along(1, patch.y(row));
            let random = self.noise.row(region.frame, region.z, region.y.start + row);
            let voxels = values.iter_mut().zip(&columns).zip(region.x.clone());
            for ((value, &column), x) in voxels {
                *value = level + column + NOISE * random.at(x).normal();
            }
        }
    }
}
