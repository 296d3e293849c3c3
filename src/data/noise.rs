//! Seeded randomness: counter-based hashing, normal and Poisson sampling, and
//! the camera model shared by the generators.
//!
//! Every random number is a pure function of the seed and *where* it is used
//! (a purpose tag, a frame, a plane, a row, a column), never of the order in
//! which threads reach it: [`RowRandom::at`] hashes the voxel's column into the
//! row's key with the splitmix64 finaliser. Structures are placed with a
//! [`Sequence`], a splitmix64 stream keyed the same way. Normal deviates come
//! from a table of 65 536 normal quantiles (tails to about 4.3 sigma). Poisson
//! counts for means below [`NORMAL_APPROXIMATION_MEAN`] are drawn by inversion
//! of tabulated distributions (means on a 1/32 grid, the two neighbouring
//! grid means mixed so the mean is exact), and above it as rounded normals.

use std::sync::OnceLock;

use super::fast_math;

/// The splitmix64 increment (2^64 / golden ratio).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// Poisson means at or above this are sampled as rounded normals.
pub(crate) const NORMAL_APPROXIMATION_MEAN: f32 = 16.0;

/// Grid steps per unit of mean in the Poisson tables.
const POISSON_STEPS_PER_UNIT: f32 = 32.0;
/// Counts tabulated per mean; P(count >= 63) is below 1e-18 for mean 16.
const POISSON_COUNTS: usize = 64;
/// Cumulative probabilities compared at once when searching a table.
const POISSON_WINDOW: usize = 4;
/// Stride of the tables: the counts plus a window of padding.
const POISSON_STRIDE: usize = POISSON_COUNTS + POISSON_WINDOW;
/// Entries of each table's guide (where to start the search for a uniform).
const POISSON_GUIDE: usize = 64;

/// The splitmix64 output function: a bijective 64-bit mixer.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Derives a key from a seed and a path of integers (purpose, channel, ...).
pub(crate) fn key(seed: u64, path: &[u64]) -> u64 {
    path.iter().fold(mix64(seed ^ GAMMA), |acc, &part| {
        mix64(acc ^ mix64(part.wrapping_add(GAMMA)))
    })
}

/// A sequential stream of random numbers for placing structures.
#[derive(Debug, Clone)]
pub(crate) struct Sequence {
    state: u64,
}

impl Sequence {
    pub(crate) fn new(key: u64) -> Self {
        Sequence { state: key }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix64(self.state)
    }

    /// Uniform in [0, 1).
    pub(crate) fn uniform(&mut self) -> f32 {
        unit_interval(self.next_u64())
    }

    /// Uniform in [low, high).
    pub(crate) fn range(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.uniform()
    }

    /// A standard normal deviate.
    pub(crate) fn normal(&mut self) -> f32 {
        VoxelRandom(self.next_u64()).normal()
    }

    /// Uniform integer in 0..n (n below 2^32).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// A count with the given mean: its integer part plus one with the
    /// probability of the fraction.
    pub(crate) fn count(&mut self, mean: f32) -> usize {
        let whole = mean.max(0.0).floor();
        whole as usize + usize::from(self.uniform() < mean - whole)
    }

    /// A direction uniformly distributed on the unit sphere.
    pub(crate) fn direction(&mut self) -> [f32; 3] {
        loop {
            let v = [self.normal(), self.normal(), self.normal()];
            let length = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            if length > 1e-3 {
                return v.map(|c| c / length);
            }
        }
    }
}

/// Random numbers addressed by voxel, for the noise of one purpose (e.g. the
/// shot noise of a light-sheet volume).
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoiseField {
    key: u64,
}

impl NoiseField {
    pub(crate) fn new(seed: u64, purpose: u64) -> Self {
        NoiseField {
            key: key(seed, &[purpose]),
        }
    }

    /// The random numbers of row `y` of plane `z` of frame `frame`.
    pub(crate) fn row(self, frame: usize, z: usize, y: usize) -> RowRandom {
        RowRandom {
            key: key(self.key, &[frame as u64, z as u64, y as u64]),
        }
    }
}

/// The random numbers of one row, addressed by column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowRandom {
    key: u64,
}

impl RowRandom {
    pub(crate) fn at(self, x: usize) -> VoxelRandom {
        VoxelRandom(mix64(
            self.key
                .wrapping_add((x as u64).wrapping_add(1).wrapping_mul(GAMMA)),
        ))
    }
}

/// 64 random bits for one voxel: two independent normals (bits 0..32), a
/// coarse uniform (bits 32..40) and a fine uniform (bits 40..64).
#[derive(Debug, Clone, Copy)]
pub(crate) struct VoxelRandom(u64);

impl VoxelRandom {
    /// Uniform in [0, 1) with 24 bits of resolution.
    pub(crate) fn uniform(self) -> f32 {
        unit_interval(self.0)
    }

    /// A standard normal deviate.
    pub(crate) fn normal(self) -> f32 {
        normal_quantiles()[(self.0 & 0xFFFF) as usize]
    }

    /// A second standard normal, independent of [`VoxelRandom::normal`].
    pub(crate) fn second_normal(self) -> f32 {
        normal_quantiles()[((self.0 >> 16) & 0xFFFF) as usize]
    }

    /// Uniform in [0, 1) with 8 bits of resolution, independent of the others.
    fn coarse_uniform(self) -> f32 {
        ((self.0 >> 32) & 0xFF) as f32 * (1.0 / 256.0)
    }
}

fn unit_interval(bits: u64) -> f32 {
    (bits >> 40) as f32 * (1.0 / 16_777_216.0)
}

/// A Poisson count (as `f32`) with the given mean.
pub(crate) fn poisson(mean: f32, random: VoxelRandom) -> f32 {
    if mean.is_nan() || mean <= 0.0 {
        return 0.0;
    }
    if mean >= NORMAL_APPROXIMATION_MEAN {
        let mean = mean.min(1.0e6);
        return fast_math::round(mean + mean.sqrt() * random.normal()).max(0.0);
    }

    // Mix the tables of the grid means on either side of `mean`.
    let position = mean * POISSON_STEPS_PER_UNIT;
    let below = position as usize;
    let table = below + usize::from(random.coarse_uniform() < position - below as f32);
    poisson_tables().sample(table, random.uniform())
}

/// Cumulative Poisson distributions for means on a grid, with guide tables.
struct PoissonTables {
    /// `POISSON_STRIDE` cumulative probabilities per grid mean, padded with 1.
    cumulative: Vec<f32>,
    /// `POISSON_GUIDE` starting counts per grid mean: the first count whose
    /// cumulative probability exceeds `j / POISSON_GUIDE`.
    guide: Vec<u8>,
}

impl PoissonTables {
    fn build() -> Self {
        let tables = (NORMAL_APPROXIMATION_MEAN * POISSON_STEPS_PER_UNIT) as usize + 1;
        let mut cumulative = Vec::with_capacity(tables * POISSON_STRIDE);
        let mut guide = Vec::with_capacity(tables * POISSON_GUIDE);
        for table in 0..tables {
            let mean = table as f64 / f64::from(POISSON_STEPS_PER_UNIT);
            let mut probability = fast_math::exp_f64(-mean);
            let mut total = 0.0;
            let start = cumulative.len();
            for count in 0..POISSON_STRIDE {
                total += probability;
                cumulative.push(if count + 1 >= POISSON_COUNTS {
                    1.0
                } else {
                    total as f32
                });
                probability *= mean / (count + 1) as f64;
            }
            let row = &cumulative[start..start + POISSON_COUNTS];
            guide.extend((0..POISSON_GUIDE).map(|j| {
                let level = j as f32 / POISSON_GUIDE as f32;
                row.iter()
                    .position(|&c| c > level)
                    .unwrap_or(POISSON_COUNTS - 1) as u8
            }));
        }
        PoissonTables { cumulative, guide }
    }

    /// The number of cumulative probabilities at or below `u`, which is the
    /// count drawn. The guide starts the search near the answer and windows
    /// of independent comparisons finish it, since a branch on each count
    /// would be as unpredictable as the noise.
    fn sample(&self, table: usize, u: f32) -> f32 {
        let row = &self.cumulative[table * POISSON_STRIDE..][..POISSON_STRIDE];
        let slot = ((u * POISSON_GUIDE as f32) as usize).min(POISSON_GUIDE - 1);
        let mut count = usize::from(self.guide[table * POISSON_GUIDE + slot]);
        loop {
            let window = &row[count..count + POISSON_WINDOW];
            let below = window.iter().map(|&c| usize::from(c <= u)).sum::<usize>();
            count += below;
            if below < POISSON_WINDOW {
                return count as f32;
            }
        }
    }
}

fn poisson_tables() -> &'static PoissonTables {
    static TABLES: OnceLock<PoissonTables> = OnceLock::new();
    TABLES.get_or_init(PoissonTables::build)
}

/// A scientific camera (sCMOS-like, one count per photo-electron): a fixed
/// offset, Poisson photon noise and Gaussian read noise.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Camera {
    /// Counts added to every pixel so that read noise never clips at zero.
    pub(crate) offset: f32,
    /// Standard deviation of the read noise, in counts.
    pub(crate) read_noise: f32,
}

impl Camera {
    /// The counts recorded for a pixel that received `photons` on average.
    pub(crate) fn record(self, photons: f32, random: VoxelRandom) -> f32 {
        self.offset + poisson(photons, random) + self.read_noise * random.second_normal()
    }
}

/// Quantiles of the standard normal at (i + 0.5) / 65536, rescaled to unit
/// variance; built once by integrating the density.
fn normal_quantiles() -> &'static [f32] {
    static TABLE: OnceLock<Vec<f32>> = OnceLock::new();
    TABLE.get_or_init(build_normal_quantiles)
}

fn build_normal_quantiles() -> Vec<f32> {
    const SIZE: usize = 1 << 16;
    const STEP: f64 = 1.0 / 4096.0;
    const START: f64 = -9.0;
    let density = |x: f64| fast_math::exp_f64(-0.5 * x * x) / (2.0 * std::f64::consts::PI).sqrt();

    // Walk the cumulative distribution (trapezoid rule) and read off the lower
    // half of the quantiles; the upper half mirrors them.
    let mut lower = Vec::with_capacity(SIZE / 2);
    let (mut x, mut cumulative, mut previous_density) = (START, 0.0, density(START));
    for i in 0..SIZE / 2 {
        let target = (i as f64 + 0.5) / SIZE as f64;
        loop {
            let next_density = density(x + STEP);
            let next_cumulative = cumulative + 0.5 * STEP * (previous_density + next_density);
            if next_cumulative >= target {
                let fraction = (target - cumulative) / (next_cumulative - cumulative);
                lower.push(x + fraction * STEP);
                break;
            }
            (x, cumulative, previous_density) = (x + STEP, next_cumulative, next_density);
        }
    }

    let variance = 2.0 * lower.iter().map(|q| q * q).sum::<f64>() / SIZE as f64;
    let scale = 1.0 / variance.sqrt();
    let mut table: Vec<f32> = lower.iter().map(|q| (q * scale) as f32).collect();
    table.extend(lower.iter().rev().map(|q| (-q * scale) as f32));
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(values: impl Iterator<Item = f32>) -> (f64, f64) {
        let (mut n, mut sum, mut squares) = (0.0, 0.0, 0.0);
        for v in values {
            n += 1.0;
            sum += v as f64;
            squares += (v as f64) * (v as f64);
        }
        let mean = sum / n;
        (mean, squares / n - mean * mean)
    }

    #[test]
    fn normal_table_has_unit_variance_and_zero_mean() {
        let (mean, variance) = moments(normal_quantiles().iter().copied());
        assert!(mean.abs() < 1e-6);
        assert!((variance - 1.0).abs() < 1e-4);
        assert!(normal_quantiles()[0] < -4.0);
    }

    #[test]
    fn poisson_has_matching_mean_and_variance() {
        for mean in [0.02f32, 0.05, 0.7, 3.0, 11.0, 15.99, 16.0, 40.0, 500.0] {
            let row = NoiseField::new(7, 1).row(0, 0, 0);
            let (m, v) = moments((0..200_000).map(|x| poisson(mean, row.at(x))));
            assert!(
                (m - mean as f64).abs() < 0.02 * mean as f64 + 0.01,
                "{mean}: {m}"
            );
            assert!(
                (v - mean as f64).abs() < 0.05 * mean as f64 + 0.1,
                "{mean}: {v}"
            );
        }
    }

    #[test]
    fn poisson_zeros_match_the_distribution() {
        for mean in [0.02f32, 1.0, 3.0, 9.5] {
            let row = NoiseField::new(11, 2).row(0, 0, 0);
            let zeros = (0..200_000)
                .filter(|&x| poisson(mean, row.at(x)) == 0.0)
                .count() as f64
                / 200_000.0;
            let expected = (-f64::from(mean)).exp();
            assert!(
                (zeros - expected).abs() < 0.005,
                "{mean}: {zeros} vs {expected}"
            );
        }
    }

    #[test]
    fn voxel_random_is_addressed_not_sequential() {
        let field = NoiseField::new(3, 9);
        assert_eq!(field.row(1, 2, 3).at(4).0, field.row(1, 2, 3).at(4).0);
        assert_ne!(field.row(1, 2, 3).at(4).0, field.row(1, 2, 4).at(4).0);
        assert_ne!(field.row(1, 2, 3).at(4).0, field.row(0, 2, 3).at(4).0);
    }
}
