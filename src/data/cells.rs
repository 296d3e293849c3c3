//! Densely packed cells: a Voronoi tessellation whose walls are cell membranes.
//!
//! One seed is jittered inside each cube of a lattice of the cell size (its
//! position and its cell's tone are hashed from the cube's index, so nothing
//! is stored for the whole volume); a voxel belongs to its nearest seed, and
//! its distance to the cell wall is the distance to the bisecting plane
//! between its nearest and second-nearest seeds. Only the 27 seeds around a
//! voxel are considered (a seed farther away wins only in rare corners). A
//! patch first hashes the seeds of the cubes it touches; then, along each row,
//! the candidates that cannot win within a cube, and again within a short run
//! of voxels, are pruned, so a voxel usually compares a handful of seeds.

use super::layout::{Bounds, Patch};
use super::noise::{Sequence, key};

/// Voxels per run of the per-voxel search.
const RUN: usize = 8;

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

/// A seed and its cell's tone.
#[derive(Debug, Clone, Copy)]
struct Seed {
    position: [f32; 3],
    tone: f32,
}

/// A candidate seed for voxels of one row.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    seed: Seed,
    /// Squared distance from the row in y and z.
    across: f32,
}

impl Candidate {
    fn x(&self) -> f32 {
        self.seed.position[2]
    }
}

/// The seeds of a box of lattice cubes, cached for one patch.
struct SeedBlock {
    first: [usize; 3],
    dims: [usize; 3],
    seeds: Vec<Seed>,
}

impl SeedBlock {
    fn get(&self, cube: [usize; 3]) -> Seed {
        let [z, y, x] = [0, 1, 2].map(|axis| cube[axis] - self.first[axis]);
        self.seeds[(z * self.dims[1] + y) * self.dims[2] + x]
    }
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

    /// For each voxel of the patch: the distance to the nearest cell wall
    /// (physical) and the tone of the cell it lies in.
    pub(crate) fn trace(&self, patch: &Patch, wall: &mut [f32], tone: &mut [f32]) {
        if patch.rows == 0 || patch.cols == 0 {
            return;
        }
        let block = self.seed_block(patch);
        let cube_z = self.cube(0, patch.z);
        let (mut around, mut in_cube, mut in_run) = (Vec::new(), Vec::new(), Vec::new());

        for row in 0..patch.rows {
            let (y, offset) = (patch.y(row), row * patch.cols);
            let cube_y = self.cube(1, y);
            let mut col = 0;
            while col < patch.cols {
                let cube_x = self.cube(2, patch.x(col));
                let end = self.cube_end(cube_x, patch, col);
                candidates(&block, [cube_z, cube_y, cube_x], [patch.z, y], &mut around);
                prune(&around, patch.x(col), patch.x(end - 1), &mut in_cube);

                for start in (col..end).step_by(RUN) {
                    let stop = (start + RUN).min(end);
                    prune(&in_cube, patch.x(start), patch.x(stop - 1), &mut in_run);
                    let columns = offset + start..offset + stop;
                    walls(
                        &in_run,
                        patch,
                        start,
                        &mut wall[columns.clone()],
                        &mut tone[columns],
                    );
                }
                col = end;
            }
        }
    }

    /// The seeds of every cube the patch's voxels can consult.
    fn seed_block(&self, patch: &Patch) -> SeedBlock {
        let reach = [
            (patch.z, patch.z),
            (patch.y(0), patch.y(patch.rows - 1)),
            (patch.x(0), patch.x(patch.cols - 1)),
        ];
        let first = [0, 1, 2].map(|axis| self.cube(axis, reach[axis].0) - 1);
        let dims = [0, 1, 2].map(|axis| self.cube(axis, reach[axis].1) + 2 - first[axis]);
        let mut seeds = Vec::with_capacity(dims.iter().product());
        for z in 0..dims[0] {
            for y in 0..dims[1] {
                for x in 0..dims[2] {
                    seeds.push(self.seed([first[0] + z, first[1] + y, first[2] + x]));
                }
            }
        }
        SeedBlock { first, dims, seeds }
    }

    /// The lattice cube containing `position` along `axis`, kept one cube
    /// away from the lattice's edge so all 27 neighbours exist.
    fn cube(&self, axis: usize, position: f32) -> usize {
        let last = (self.dims[axis] - 2) as f32;
        (((position - self.origin[axis]) / self.size).clamp(1.0, last) as usize)
            .clamp(1, self.dims[axis] - 2)
    }

    /// The column after the last one of the run starting at `col` that lies
    /// in lattice cube `cube_x` (at least `col + 1`).
    fn cube_end(&self, cube_x: usize, patch: &Patch, col: usize) -> usize {
        if cube_x + 2 >= self.dims[2] {
            return patch.cols;
        }
        let boundary = self.origin[2] + (cube_x + 1) as f32 * self.size;
        let end = ((boundary - patch.x0) / patch.dx).ceil().max(0.0);
        (end as usize).clamp(col + 1, patch.cols)
    }

    /// The seed of a lattice cube and its cell's tone.
    fn seed(&self, cube: [usize; 3]) -> Seed {
        let index = (cube[0] * self.dims[1] + cube[1]) * self.dims[2] + cube[2];
        let bits = key(self.key, &[index as u64]);
        let unit = |shift: u32| ((bits >> shift) & 0xFFFF) as f32 / 65_536.0;
        Seed {
            position: [0, 1, 2].map(|axis| {
                self.origin[axis] + (cube[axis] as f32 + unit(16 * axis as u32)) * self.size
            }),
            tone: self.tones.0 + (self.tones.1 - self.tones.0) * unit(48),
        }
    }
}

/// The 27 seeds around `cube`, seen from the row at `zy`.
fn candidates(block: &SeedBlock, cube: [usize; 3], zy: [f32; 2], out: &mut Vec<Candidate>) {
    out.clear();
    for z in cube[0] - 1..=cube[0] + 1 {
        for y in cube[1] - 1..=cube[1] + 1 {
            for x in cube[2] - 1..=cube[2] + 1 {
                let seed = block.get([z, y, x]);
                let (dz, dy) = (seed.position[0] - zy[0], seed.position[1] - zy[1]);
                out.push(Candidate {
                    seed,
                    across: dz * dz + dy * dy,
                });
            }
        }
    }
}

/// Keeps in `out` the candidates that can be nearest or second nearest
/// somewhere in `[low, high]`: those whose closest approach is within the
/// second smallest farthest distance.
fn prune(candidates: &[Candidate], low: f32, high: f32, out: &mut Vec<Candidate>) {
    let (mut best, mut bound) = (f32::INFINITY, f32::INFINITY);
    for c in candidates {
        let far = (c.x() - low).abs().max((c.x() - high).abs());
        let farthest = c.across + far * far;
        if farthest < best {
            bound = best;
            best = farthest;
        } else if farthest < bound {
            bound = farthest;
        }
    }
    out.clear();
    out.extend(candidates.iter().filter(|c| {
        let gap = (low - c.x()).max(c.x() - high).max(0.0);
        c.across + gap * gap <= bound
    }));
}

/// Wall distances and tones for the voxels of a run starting at column
/// `start` of the patch.
fn walls(
    candidates: &[Candidate],
    patch: &Patch,
    start: usize,
    wall: &mut [f32],
    tone: &mut [f32],
) {
    let mut pair = (usize::MAX, usize::MAX, 0.0);
    for (i, (wall, tone)) in wall.iter_mut().zip(tone.iter_mut()).enumerate() {
        let (first, second) = nearest_two(candidates, patch.x(start + i));
        if (first.1, second.1) != (pair.0, pair.1) {
            let gap = half_inverse_separation(&candidates[first.1], &candidates[second.1]);
            pair = (first.1, second.1, gap);
        }
        *wall = (second.0 - first.0) * pair.2;
        *tone = candidates[first.1].seed.tone;
    }
}

/// Squared distance and index of the nearest and second-nearest candidates.
fn nearest_two(candidates: &[Candidate], x: f32) -> ((f32, usize), (f32, usize)) {
    let (mut first, mut second) = ((f32::INFINITY, 0), (f32::INFINITY, 0));
    for (i, candidate) in candidates.iter().enumerate() {
        let dx = candidate.x() - x;
        let d2 = candidate.across + dx * dx;
        if d2 < first.0 {
            second = first;
            first = (d2, i);
        } else if d2 < second.0 {
            second = (d2, i);
        }
    }
    (first, second)
}

/// 1 / (2 |a - b|): turns the difference of squared distances to two seeds
/// into the distance to the plane between them.
fn half_inverse_separation(a: &Candidate, b: &Candidate) -> f32 {
    let (p, q) = (a.seed.position, b.seed.position);
    let separation = (0..3)
        .map(|i| (p[i] - q[i]) * (p[i] - q[i]))
        .sum::<f32>()
        .sqrt();
    1.0 / (2.0 * separation.max(1e-6))
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
        let distance2 = |s: &Seed| (0..3).map(|a| (s.position[a] - p[a]).powi(2)).sum::<f32>();
        seeds.sort_by(|a, b| distance2(a).total_cmp(&distance2(b)));
        let (a, b) = (seeds[0].position, seeds[1].position);
        let separation = (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f32>().sqrt();
        let wall = (distance2(&seeds[1]) - distance2(&seeds[0])) / (2.0 * separation);
        (wall, seeds[0].tone)
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
        let (mut wall, mut tone) = (vec![0.0; 40 * 80], vec![0.0; 40 * 80]);
        packing.trace(&patch, &mut wall, &mut tone);
        for row in 0..40 {
            for col in 0..80 {
                let expected = brute_force(&packing, [patch.z, patch.y(row), patch.x(col)]);
                let i = row * 80 + col;
                assert!((wall[i] - expected.0).abs() < 1e-3, "{row} {col}");
                assert_eq!(tone[i], expected.1);
            }
        }
    }
}
