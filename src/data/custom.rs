//! A generic mixture for requests that want "blobs plus noise" with knobs a
//! reader can check: Gaussian blobs of random size and brightness on a flat
//! background, recorded by a camera with an offset, Poisson photon noise and
//! Gaussian read noise; uint16 by default. Every number is a field of
//! [`MIXTURE`], documented there. Sizes are physical; channels draw different
//! blobs; time points drift and bleach.

use super::frames::{bleaching, drift, per_channel};
use super::layout::{Layout, Region};
use super::noise::{Camera, NoiseField, Sequence, key};
use super::quantize::Intensity;
use super::render::Model;
use super::structures::{Blob, BlobSet, Profile, population};

/// The parameters of the custom mixture.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mixture {
    /// Blobs per cubic unit (units: the finest voxel size).
    pub(crate) blob_density: f32,
    /// Range of the blobs' Gaussian sigma, in units.
    pub(crate) blob_sigma: (f32, f32),
    /// Range of the blobs' peak brightness, in photons.
    pub(crate) blob_photons: (f32, f32),
    /// Photons per voxel everywhere.
    pub(crate) background: f32,
    /// The camera's offset and read noise, in counts.
    pub(crate) camera: Camera,
    /// Fraction of the light lost per time point.
    pub(crate) bleaching: f32,
    /// Largest drift between time points, in units.
    pub(crate) drift: f32,
    /// About the brightest recorded counts, for narrow integer types.
    pub(crate) peak: f32,
}

/// The mixture every `custom` volume uses.
pub(crate) const MIXTURE: Mixture = Mixture {
    blob_density: 1.0 / 4000.0,
    blob_sigma: (1.5, 4.0),
    blob_photons: (50.0, 500.0),
    background: 20.0,
    camera: Camera {
        offset: 0.0,
        read_noise: 3.0,
    },
    bleaching: 0.01,
    drift: 2.0,
    peak: 600.0,
};

const SCENE_PURPOSE: u64 = 0xC057_0001;
const NOISE_PURPOSE: u64 = 0xC057_0002;

/// The custom mixture model.
pub(super) struct Custom {
    layout: Layout,
    seed: u64,
    mixture: Mixture,
    scenes: Vec<BlobSet>,
    noise: NoiseField,
}

impl Custom {
    pub(super) fn new(layout: &Layout, seed: u64, mixture: Mixture) -> Self {
        Custom {
            layout: layout.clone(),
            seed,
            mixture,
            scenes: per_channel(layout.channels, |channel| {
                scene(layout, seed, channel, &mixture)
            }),
            noise: NoiseField::new(seed, NOISE_PURPOSE),
        }
    }
}

impl Model for Custom {
    fn intensity(&self) -> Intensity {
        Intensity::Counts {
            peak: self.mixture.peak,
        }
    }

    fn render(&self, region: &Region, out: &mut [f32]) {
        let frame = self.layout.frame(region.frame);
        let shift = drift(self.seed, frame.time, self.mixture.drift);
        let patch = self.layout.patch(region, shift);
        self.scenes[frame.channel].add_to(&patch, out);

        let bleach = bleaching(frame.time, self.mixture.bleaching);
        for (row, values) in out.chunks_exact_mut(patch.cols).enumerate() {
            let random = self.noise.row(region.frame, region.z, region.y.start + row);
            for (value, x) in values.iter_mut().zip(region.x.clone()) {
                let photons = bleach * (self.mixture.background + *value);
                *value = self.mixture.camera.record(photons, random.at(x));
            }
        }
    }
}

fn scene(layout: &Layout, seed: u64, channel: usize, mixture: &Mixture) -> BlobSet {
    let mut sequence = Sequence::new(key(seed, &[SCENE_PURPOSE, channel as u64]));
    let bounds = layout.bounds(3.0 * mixture.blob_sigma.1 + mixture.drift);
    let count = population(
        &bounds,
        mixture.blob_density,
        layout.frame_voxels(),
        1.0,
        &mut sequence,
    );
    BlobSet::new(
        (0..count)
            .map(|_| {
                let sigma = sequence.range(mixture.blob_sigma.0, mixture.blob_sigma.1);
                Blob {
                    centre: bounds.sample(&mut sequence),
                    radii: [sigma; 3],
                    amplitude: sequence.range(mixture.blob_photons.0, mixture.blob_photons.1),
                    profile: Profile::Gaussian,
                }
            })
            .collect(),
    )
}
