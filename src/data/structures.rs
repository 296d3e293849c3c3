//! Objects in physical space and their rasterisation: blobs (puncta,
//! particles), solid ellipsoids (nuclei, somata, organelles), thin shells
//! (vesicles, membranes) and filaments (chains of small Gaussians).
//!
//! A [`BlobSet`] keeps its blobs sorted by their lowest z so that a plane finds
//! the few blobs that reach it by binary search, and each blob is drawn only
//! inside its bounding box, never by visiting every blob at every voxel.
//! Radii are physical, so on a grid that is coarser along z the same blob
//! covers fewer planes.

use std::ops::Range;

use super::fast_math::exp;
use super::layout::{Bounds, Patch};
use super::noise::Sequence;

/// sqrt(2 pi), the line integral of a unit Gaussian of sigma 1.
const SQRT_TAU: f32 = 2.506_628_3;

/// How intensity falls off with the normalised distance `r` from a blob's
/// centre (`r = 1` on the ellipsoid whose semi-axes are the blob's radii).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Profile {
    /// `exp(-r^2 / 2)`: the radii are standard deviations.
    Gaussian,
    /// 1 inside, 0 outside, with a linear edge `edge` wide (relative to r).
    Solid { edge: f32 },
    /// A wall at `r = 1`, Gaussian across with relative sigma `width`.
    Shell { width: f32 },
}

impl Profile {
    /// The normalised distance beyond which the profile is (nearly) zero.
    fn reach(self) -> f32 {
        match self {
            Profile::Gaussian => 3.0,
            Profile::Solid { edge } => 1.0 + 0.5 * edge,
            Profile::Shell { width } => 1.0 + 3.0 * width,
        }
    }
}

/// One object: an axis-aligned ellipsoidal intensity profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Blob {
    /// Physical position, `[z, y, x]`.
    pub(crate) centre: [f32; 3],
    /// Physical semi-axes (sigmas for Gaussians), `[z, y, x]`.
    pub(crate) radii: [f32; 3],
    /// Value at the centre (Gaussian, solid) or on the wall (shell).
    pub(crate) amplitude: f32,
    pub(crate) profile: Profile,
}

impl Blob {
    /// Physical half-extent along `axis`.
    fn reach(&self, axis: usize) -> f32 {
        self.radii[axis] * self.profile.reach()
    }

    /// Amplitude times volume, up to a constant: how much light (or density)
    /// the blob holds.
    pub(crate) fn mass(&self) -> f32 {
        self.amplitude * self.radii.iter().product::<f32>()
    }

    /// Adds the blob to the voxels of `patch` it reaches.
    fn add_to(&self, patch: &Patch, out: &mut [f32], across: &mut Vec<f32>) {
        let reach = self.profile.reach();
        let qz = (patch.z - self.centre[0]) / self.radii[0];
        if qz.abs() > reach {
            return;
        }
        let rows = span(
            self.centre[1],
            self.reach(1),
            patch.y0,
            patch.dy,
            patch.rows,
        );
        let cols = span(
            self.centre[2],
            self.reach(2),
            patch.x0,
            patch.dx,
            patch.cols,
        );
        if rows.is_empty() || cols.is_empty() {
            return;
        }

        // Squared normalised x distance per column, shared by all rows.
        across.clear();
        across.extend(cols.clone().map(|col| {
            let q = (patch.x(col) - self.centre[2]) / self.radii[2];
            q * q
        }));
        let rows_out = rows.clone().map(|row| {
            let qy = (patch.y(row) - self.centre[1]) / self.radii[1];
            let start = row * patch.cols;
            (qz * qz + qy * qy, start + cols.start..start + cols.end)
        });

        match self.profile {
            Profile::Gaussian => {
                across.iter_mut().for_each(|q2| *q2 = exp(-0.5 * *q2));
                for (base, range) in rows_out {
                    let weight = self.amplitude * exp(-0.5 * base);
                    for (value, g) in out[range].iter_mut().zip(across.iter()) {
                        *value += weight * g;
                    }
                }
            }
            Profile::Solid { edge } => {
                let reach2 = reach * reach;
                for (base, range) in rows_out.filter(|(base, _)| *base < reach2) {
                    for (value, &q2) in out[range].iter_mut().zip(across.iter()) {
                        let r2 = base + q2;
                        if r2 < reach2 {
                            let inside = (0.5 + (1.0 - r2.sqrt()) / edge).clamp(0.0, 1.0);
                            *value += self.amplitude * inside;
                        }
                    }
                }
            }
            Profile::Shell { width } => {
                let reach2 = reach * reach;
                let hollow = (1.0 - 3.0 * width).max(0.0);
                let hollow2 = hollow * hollow;
                for (base, range) in rows_out.filter(|(base, _)| *base < reach2) {
                    for (value, &q2) in out[range].iter_mut().zip(across.iter()) {
                        let r2 = base + q2;
                        if r2 < reach2 && r2 > hollow2 {
                            let d = (r2.sqrt() - 1.0) / width;
                            *value += self.amplitude * exp(-0.5 * d * d);
                        }
                    }
                }
            }
        }
    }
}

/// The indices `i` in `0..len` whose position `origin + i * step` lies within
/// `reach` of `centre`.
fn span(centre: f32, reach: f32, origin: f32, step: f32, len: usize) -> Range<usize> {
    let first = ((centre - reach - origin) / step).ceil().max(0.0);
    let end = (((centre + reach - origin) / step).floor() + 1.0).min(len as f32);
    if first < end {
        first as usize..end as usize
    } else {
        0..0
    }
}

/// Blobs indexed by the plane range they reach.
#[derive(Debug, Clone, Default)]
pub(crate) struct BlobSet {
    /// Sorted by lowest z reached.
    blobs: Vec<Blob>,
    lowest_z: Vec<f32>,
    tallest: f32,
}

impl BlobSet {
    pub(crate) fn new(mut blobs: Vec<Blob>) -> Self {
        let lowest = |blob: &Blob| blob.centre[0] - blob.reach(0);
        blobs.sort_by(|a, b| lowest(a).total_cmp(&lowest(b)));
        BlobSet {
            lowest_z: blobs.iter().map(lowest).collect(),
            tallest: blobs.iter().map(|b| 2.0 * b.reach(0)).fold(0.0, f32::max),
            blobs,
        }
    }

    /// Adds every blob that reaches the patch, in a fixed order.
    pub(crate) fn add_to(&self, patch: &Patch, out: &mut [f32]) {
        let first = self
            .lowest_z
            .partition_point(|&low| low < patch.z - self.tallest);
        let end = self.lowest_z.partition_point(|&low| low <= patch.z);
        let mut across = Vec::new();
        for blob in &self.blobs[first..end.max(first)] {
            blob.add_to(patch, out, &mut across);
        }
    }
}

/// Voxels per blob at least, whatever the voxel size: a scene then holds at
/// most about half a byte per voxel (a blob is 36 bytes), even when thin
/// planes make the physical volume, and so the population, huge.
const VOXELS_PER_BLOB: usize = 64;

/// Filament blobs per unit of radius along the axis.
const STEP_PER_RADIUS: f32 = 0.7;

/// How many objects of `density` (per unit volume) fall in `bounds`, drawn so
/// the mean is exact, but no more than a frame of `voxels` may hold when each
/// object is drawn with `blobs_per_object` blobs.
pub(crate) fn population(
    bounds: &Bounds,
    density: f32,
    voxels: usize,
    blobs_per_object: f32,
    sequence: &mut Sequence,
) -> usize {
    let cap = (voxels / VOXELS_PER_BLOB) as f32 / blobs_per_object.max(1.0);
    sequence
        .count(bounds.volume() * density)
        .min(cap as usize + 1)
}

/// The look of a filament: a tube of Gaussian cross-section.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FilamentStyle {
    /// Sigma of the cross-section (physical).
    pub(crate) radius: f32,
    /// Value on the filament's axis.
    pub(crate) peak: f32,
    /// Standard deviation of the direction change per unit length; 0 draws
    /// straight lines, 0.3 wiggles like a dendrite.
    pub(crate) bend: f32,
}

/// The blobs a filament of `length` and `radius` is drawn with.
pub(crate) fn filament_blobs(length: f32, radius: f32) -> f32 {
    length / (STEP_PER_RADIUS * radius)
}

/// Appends a filament of physical `length` to `blobs`: a persistent random walk
/// from `start` along `direction`, drawn as Gaussians closer than their sigma
/// so the tube looks continuous.
pub(crate) fn trace_filament(
    start: [f32; 3],
    direction: [f32; 3],
    length: f32,
    style: FilamentStyle,
    sequence: &mut Sequence,
    blobs: &mut Vec<Blob>,
) {
    let step = STEP_PER_RADIUS * style.radius;
    let amplitude = style.peak * step / (SQRT_TAU * style.radius);
    let turn = style.bend * step.sqrt();
    let (mut position, mut heading) = (start, direction);

    for _ in 0..(length / step) as usize {
        blobs.push(Blob {
            centre: position,
            radii: [style.radius; 3],
            amplitude,
            profile: Profile::Gaussian,
        });
        let bent = [0, 1, 2].map(|axis| heading[axis] + turn * sequence.normal());
        let norm = bent.iter().map(|c| c * c).sum::<f32>().sqrt().max(1e-6);
        heading = bent.map(|c| c / norm);
        position = [0, 1, 2].map(|axis| position[axis] + step * heading[axis]);
    }
}

/// A population of similar filaments (cytoskeleton, axons).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filaments {
    /// Filaments per unit volume.
    pub(crate) density: f32,
    /// Range of their length (physical).
    pub(crate) length: (f32, f32),
    /// Sigma of their cross-section (physical).
    pub(crate) radius: f32,
    /// Range of the value on their axis.
    pub(crate) peak: (f32, f32),
    /// See [`FilamentStyle::bend`].
    pub(crate) bend: f32,
}

impl Filaments {
    /// Appends filaments whose midpoints fall in `bounds`, each traced both
    /// ways from its midpoint in a random direction.
    pub(crate) fn scatter(
        &self,
        bounds: &Bounds,
        voxels: usize,
        sequence: &mut Sequence,
        blobs: &mut Vec<Blob>,
    ) {
        let mean_length = 0.5 * (self.length.0 + self.length.1);
        let per_filament = filament_blobs(mean_length, self.radius);
        for _ in 0..population(bounds, self.density, voxels, per_filament, sequence) {
            let style = FilamentStyle {
                radius: self.radius,
                peak: sequence.range(self.peak.0, self.peak.1),
                bend: self.bend,
            };
            let (middle, direction) = (bounds.sample(sequence), sequence.direction());
            let half = 0.5 * sequence.range(self.length.0, self.length.1);
            trace_filament(middle, direction, half, style, sequence, blobs);
            let backwards = direction.map(|c| -c);
            trace_filament(middle, backwards, half, style, sequence, blobs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(z: f32, rows: usize, cols: usize) -> Patch {
        Patch {
            z,
            y0: 0.0,
            x0: 0.0,
            dy: 1.0,
            dx: 1.0,
            rows,
            cols,
        }
    }

    fn blob(profile: Profile) -> Blob {
        Blob {
            centre: [0.0, 10.0, 10.0],
            radii: [4.0; 3],
            amplitude: 2.0,
            profile,
        }
    }

    #[test]
    fn gaussian_peaks_at_its_amplitude_and_fades() {
        let set = BlobSet::new(vec![blob(Profile::Gaussian)]);
        let mut out = vec![0.0; 21 * 21];
        set.add_to(&patch(0.0, 21, 21), &mut out);
        assert!((out[10 * 21 + 10] - 2.0).abs() < 1e-5);
        assert!(out[10 * 21 + 14] < 2.0 * 0.61 && out[10 * 21 + 14] > 2.0 * 0.6);
        assert!(out[0] < 0.005);
    }

    #[test]
    fn solid_is_flat_inside_and_shell_is_hollow() {
        let set = BlobSet::new(vec![blob(Profile::Solid { edge: 0.2 })]);
        let mut solid = vec![0.0; 21 * 21];
        set.add_to(&patch(0.0, 21, 21), &mut solid);
        assert_eq!(solid[10 * 21 + 10], 2.0);
        assert_eq!(solid[10 * 21 + 11], 2.0);
        assert_eq!(solid[10 * 21 + 16], 0.0);

        let set = BlobSet::new(vec![blob(Profile::Shell { width: 0.1 })]);
        let mut shell = vec![0.0; 21 * 21];
        set.add_to(&patch(0.0, 21, 21), &mut shell);
        assert_eq!(shell[10 * 21 + 10], 0.0);
        assert!((shell[10 * 21 + 14] - 2.0).abs() < 1e-5);
    }

    #[test]
    fn planes_beyond_reach_are_untouched() {
        let set = BlobSet::new(vec![blob(Profile::Gaussian)]);
        let mut out = vec![0.0; 21 * 21];
        set.add_to(&patch(12.5, 21, 21), &mut out);
        assert!(out.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn filament_is_about_as_bright_as_its_peak() {
        let mut blobs = Vec::new();
        let style = FilamentStyle {
            radius: 1.0,
            peak: 10.0,
            bend: 0.0,
        };
        let mut sequence = Sequence::new(1);
        trace_filament(
            [0.0, 10.0, 0.0],
            [0.0, 0.0, 1.0],
            30.0,
            style,
            &mut sequence,
            &mut blobs,
        );
        let mut out = vec![0.0; 21 * 30];
        BlobSet::new(blobs).add_to(&patch(0.0, 21, 30), &mut out);
        let middle = out[10 * 30 + 15];
        assert!((middle - 10.0).abs() < 0.5, "{middle}");
    }
}
