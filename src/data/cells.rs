//! Densely packed cells: a Voronoi tessellation whose walls are cell membranes.
//!
//! One seed is jittered inside each cube of a lattice of the cell size (its
//! position and its cell's tone are hashed from the cube's index, so nothing
//! is stored); a voxel belongs to its nearest seed, and its distance to the
//! cell wall is the distance to the bisecting plane between its nearest and
//! second-nearest seeds. Only the 27 seeds around a voxel are considered (a
//! seed farther away wins only in rare corners); for each run of voxels within
//! one lattice cube the candidates that cannot win are pruned before the
//! per-voxel loop, so a voxel usually compares a handful of seeds.

use super::layout::{Bounds, Patch};
use super::noise::{Sequence, key};

/// A tessellation of space into cells of about the same size.
#[derive(Debug, Clone)]
pub(crate) struct CellPacking {
    origin: [f32; 3],
    /// Physical edge of the lattice cubes (about a cell's diameter).
    size: f32,
    dims: [usize; 3],
    /// Hash key of the seeds' jitter and tones.
    key: u64,
    /// Range of the per-cell value (e.g. cytoplasm brightness).
    tones: (f32, f32),
}

/// A candidate seed for a run of voxels in one row.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    seed: [f32; 3],
    /// Squared distance from the row in y and z.
    across: f32,
    tone: f32,
}

impl CellPacking {
    /// Cells of about `size` filling `bounds` (plus one lattice cube all
    /// round), each with a tone drawn uniformly from `tones`.
    pub(crate) fn new(
        bounds: &Bounds,
        size: f32,
        tones: (f32, f32),
        sequence: &mut Sequence,
    ) -> Self {
        let origin = bounds.low.map(|low| low - size);
        let dims = [0, 1, 2].map(|axis| {
            let span = (bounds.high[axis] - bounds.low[axis]).max(0.0);
            (span / size).ceil() as usize + 3
        });
        CellPacking {
            origin,
            size,
            dims,
            key: sequence.next_u64(),
            tones,
        }
    }

    /// For each voxel of `row` of the patch: the distance to the nearest cell
    /// wall (physical) and the tone of the cell it lies in.
    pub(crate) fn trace_row(&self, patch: &Patch, row: usize, wall: &mut [f32], tone: &mut [f32]) {
        let (z, y) = (patch.z, patch.y(row));
        let (cube_z, cube_y) = (self.cube(0, z), self.cube(1, y));
        let mut candidates = Vec::with_capacity(27);
        let mut col = 0;
        while col < patch.cols {
            let cube_x = self.cube(2, patch.x(col));
            let mut end = col + 1;
            while end < patch.cols && self.cube(2, patch.x(end)) == cube_x {
                end += 1;
            }

            self.candidates([cube_z, cube_y, cube_x], [z, y], &mut candidates);
            prune(&mut candidates, patch.x(col), patch.x(end - 1));
            for c in col..end {
                (wall[c], tone[c]) = self.nearest_wall(&candidates, patch.x(c));
            }
            col = end;
        }
    }

    /// The lattice cube containing `position` along `axis`, kept one cube
    /// away from the lattice's edge so all 27 neighbours exist.
    fn cube(&self, axis: usize, position: f32) -> usize {
        let last = (self.dims[axis] - 2) as f32;
        (((position - self.origin[axis]) / self.size).clamp(1.0, last) as usize)
            .clamp(1, self.dims[axis] - 2)
    }

    fn candidates(&self, cube: [usize; 3], zy: [f32; 2], out: &mut Vec<Candidate>) {
        out.clear();
        for z in cube[0] - 1..=cube[0] + 1 {
            for y in cube[1] - 1..=cube[1] + 1 {
                for x in cube[2] - 1..=cube[2] + 1 {
                    let (seed, tone) = self.seed([z, y, x]);
                    let (dz, dy) = (seed[0] - zy[0], seed[1] - zy[1]);
                    out.push(Candidate {
                        seed,
                        across: dz * dz + dy * dy,
                        tone,
                    });
                }
            }
        }
    }

    /// The seed of a lattice cube and its cell's tone.
    fn seed(&self, cube: [usize; 3]) -> ([f32; 3], f32) {
        let index = (cube[0] * self.dims[1] + cube[1]) * self.dims[2] + cube[2];
        let bits = key(self.key, &[index as u64]);
        let unit = |shift: u32| ((bits >> shift) & 0xFFFF) as f32 / 65_536.0;
        let seed = [0, 1, 2].map(|axis| {
            self.origin[axis] + (cube[axis] as f32 + unit(16 * axis as u32)) * self.size
        });
        (seed, self.tones.0 + (self.tones.1 - self.tones.0) * unit(48))
    }

    /// Distance to the wall between the two nearest seeds, and the tone of the
    /// nearest one.
    fn nearest_wall(&self, candidates: &[Candidate], x: f32) -> (f32, f32) {
        let (mut first, mut second) = ((f32::INFINITY, 0), (f32::INFINITY, 0));
        for (i, candidate) in candidates.iter().enumerate() {
            let dx = candidate.seed[2] - x;
            let d2 = candidate.across + dx * dx;
            if d2 < first.0 {
                second = first;
                first = (d2, i);
            } else if d2 < second.0 {
                second = (d2, i);
            }
        }
        let (a, b) = (&candidates[first.1], &candidates[second.1]);
        let separation = (0..3)
            .map(|i| (a.seed[i] - b.seed[i]) * (a.seed[i] - b.seed[i]))
            .sum::<f32>()
            .sqrt();
        let wall = (second.0 - first.0) / (2.0 * separation.max(1e-6));
        (wall, a.tone)
    }
}

/// Drops the candidates that cannot be nearest or second nearest anywhere in
/// `[low, high]`: those whose closest approach is farther than the second
/// smallest farthest distance.
fn prune(candidates: &mut Vec<Candidate>, low: f32, high: f32) {
    let gap = |x: f32| {
        if x < low {
            low - x
        } else if x > high {
            x - high
        } else {
            0.0
        }
    };
    let (mut best, mut bound) = (f32::INFINITY, f32::INFINITY);
    for c in candidates.iter() {
        let far = (c.seed[2] - low).abs().max((c.seed[2] - high).abs());
        let farthest = c.across + far * far;
        if farthest < best {
            bound = best;
            best = farthest;
        } else if farthest < bound {
            bound = farthest;
        }
    }
    candidates.retain(|c| c.across + gap(c.seed[2]) * gap(c.seed[2]) <= bound);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packing() -> CellPacking {
        let bounds = Bounds {
            low: [0.0; 3],
            high: [40.0; 3],
        };
        CellPacking::new(&bounds, 10.0, (100.0, 200.0), &mut Sequence::new(4))
    }

    fn brute_force(packing: &CellPacking, p: [f32; 3]) -> (f32, f32) {
        let mut seeds = Vec::new();
        for z in 0..packing.dims[0] {
            for y in 0..packing.dims[1] {
                for x in 0..packing.dims[2] {
                    seeds.push(packing.seed([z, y, x]));
                }
            }
        }
        let distance2 = |s: &[f32; 3]| (0..3).map(|a| (s[a] - p[a]).powi(2)).sum::<f32>();
        seeds.sort_by(|a, b| distance2(&a.0).total_cmp(&distance2(&b.0)));
        let (a, b) = (seeds[0].0, seeds[1].0);
        let separation = (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f32>().sqrt();
        ((distance2(&b) - distance2(&a)) / (2.0 * separation), seeds[0].1)
    }

    #[test]
    fn walls_match_a_brute_force_search() {
        let packing = packing();
        let patch = Patch {
            z: 17.0,
            y0: 0.0,
            x0: 0.0,
            dy: 1.0,
            dx: 0.5,
            rows: 40,
            cols: 80,
        };
        let (mut wall, mut tone) = (vec![0.0; 80], vec![0.0; 80]);
        for row in 0..40 {
            packing.trace_row(&patch, row, &mut wall, &mut tone);
            for col in 0..80 {
                let expected = brute_force(&packing, [patch.z, patch.y(row), patch.x(col)]);
                assert!((wall[col] - expected.0).abs() < 1e-3, "{row} {col}");
                assert_eq!(tone[col], expected.1);
            }
        }
    }
}
