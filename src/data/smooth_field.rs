//! Slowly varying fields: values on a coarse lattice, trilinearly interpolated.
//!
//! Used for what varies over many voxels: uneven background, tissue texture,
//! light-sheet shadow stripes, and out-of-focus haze (light deposited from the
//! structures onto the lattice, then blurred). Random fields hash their lattice
//! values on demand and store nothing; deposited fields store their lattice,
//! whose size is capped relative to the volume. Interpolation collapses the
//! lattice to the region's plane and row once, so each voxel costs one lerp.

use super::layout::{Bounds, Patch};
use super::noise::{key, mix64};

/// A smooth scalar field over physical space.
#[derive(Debug, Clone)]
pub(crate) struct SmoothField {
    origin: [f32; 3],
    /// Physical distance between lattice nodes, `[z, y, x]`.
    cell: [f32; 3],
    /// Node counts, each at least 2.
    dims: [usize; 3],
    nodes: Nodes,
}

#[derive(Debug, Clone)]
enum Nodes {
    /// Uniform values in [-1, 1] hashed from this key and the node index.
    Hashed(u64),
    /// Values in z, y, x order.
    Stored(Vec<f32>),
}

impl SmoothField {
    /// Value noise: independent uniform values in [-1, 1] at the nodes of a
    /// lattice of `cell` spacing covering `bounds`.
    pub(crate) fn random(bounds: &Bounds, cell: [f32; 3], key: u64) -> Self {
        SmoothField {
            origin: bounds.low,
            cell,
            dims: lattice_dims(bounds, cell),
            nodes: Nodes::Hashed(key),
        }
    }

    /// The density of `masses` (position, amount) accumulated on a lattice of
    /// about `cell` spacing, coarsened until it has at most `max_nodes` nodes;
    /// masses outside `bounds` are left out.
    pub(crate) fn from_masses(
        bounds: &Bounds,
        cell: [f32; 3],
        max_nodes: usize,
        masses: impl Iterator<Item = ([f32; 3], f32)>,
    ) -> Self {
        let mut cell = cell;
        let mut dims = lattice_dims(bounds, cell);
        while dims.iter().product::<usize>() > max_nodes.max(8) {
            cell = cell.map(|c| c * 1.25);
            dims = lattice_dims(bounds, cell);
        }
        let mut field = SmoothField {
            origin: bounds.low,
            cell,
            dims,
            nodes: Nodes::Stored(vec![0.0; dims.iter().product()]),
        };
        let node_volume: f32 = cell.iter().product();
        let inside = |p: [f32; 3]| (0..3).all(|a| p[a] >= bounds.low[a] && p[a] <= bounds.high[a]);
        for (position, mass) in masses.filter(|(position, _)| inside(*position)) {
            let index = field.nearest_node(position);
            if let Nodes::Stored(values) = &mut field.nodes {
                values[index] += mass / node_volume;
            }
        }
        field
    }

    /// Smooths a stored field with `passes` rounds of the [1, 2, 1] / 4 kernel
    /// along each axis (edges repeat); hashed fields are left as they are.
    pub(crate) fn blur(&mut self, passes: [usize; 3]) {
        let dims = self.dims;
        let Nodes::Stored(values) = &mut self.nodes else {
            return;
        };
        let strides = [dims[1] * dims[2], dims[2], 1];
        let mut line = Vec::new();
        for axis in 0..3 {
            for _ in 0..passes[axis] {
                for start in line_starts(dims, axis) {
                    blur_line(values, start, strides[axis], dims[axis], &mut line);
                }
            }
        }
    }

    /// Mean over the nodes (0 for hashed fields, whose expectation is 0).
    pub(crate) fn mean(&self) -> f32 {
        match &self.nodes {
            Nodes::Hashed(_) => 0.0,
            Nodes::Stored(values) => {
                values.iter().map(|&v| f64::from(v)).sum::<f64>() as f32 / values.len() as f32
            }
        }
    }

    /// Multiplies a stored field by `factor`.
    pub(crate) fn scale(&mut self, factor: f32) {
        if let Nodes::Stored(values) = &mut self.nodes {
            values.iter_mut().for_each(|v| *v *= factor);
        }
    }

    /// The field at one physical position.
    pub(crate) fn at(&self, position: [f32; 3]) -> f32 {
        let [(kz, tz), (ky, ty), (kx, tx)] =
            [0, 1, 2].map(|axis| self.coordinate(axis, position[axis]));
        let mut value = 0.0;
        for (dz, wz) in [(0, 1.0 - tz), (1, tz)] {
            for (dy, wy) in [(0, 1.0 - ty), (1, ty)] {
                for (dx, wx) in [(0, 1.0 - tx), (1, tx)] {
                    value += wz * wy * wx * self.node(kz + dz, ky + dy, kx + dx);
                }
            }
        }
        value
    }

    /// Adds `gain` times the field to every voxel of the patch.
    pub(crate) fn add_to(&self, patch: &Patch, gain: f32, out: &mut [f32]) {
        if patch.rows == 0 || patch.cols == 0 {
            return;
        }
        let (kz, tz) = self.coordinate(0, patch.z);
        let first_y = self.coordinate(1, patch.y(0)).0;
        let last_y = self.coordinate(1, patch.y(patch.rows - 1)).0 + 1;
        let first_x = self.coordinate(2, patch.x(0)).0;
        let last_x = self.coordinate(2, patch.x(patch.cols - 1)).0 + 1;
        let width = last_x - first_x + 1;

        // The lattice interpolated to the patch's plane, over the nodes it uses.
        let mut plane = Vec::with_capacity((last_y - first_y + 1) * width);
        for ky in first_y..=last_y {
            plane.extend((first_x..=last_x).map(|kx| {
                let below = self.node(kz, ky, kx);
                below + tz * (self.node(kz + 1, ky, kx) - below)
            }));
        }
        let columns: Vec<(usize, f32)> = (0..patch.cols)
            .map(|col| {
                let (kx, tx) = self.coordinate(2, patch.x(col));
                (kx - first_x, tx)
            })
            .collect();

        let mut line = vec![0.0; width];
        for (row, values) in out.chunks_exact_mut(patch.cols).enumerate() {
            let (ky, ty) = self.coordinate(1, patch.y(row));
            let near = &plane[(ky - first_y) * width..][..width];
            let far = &plane[(ky + 1 - first_y) * width..][..width];
            for ((l, &a), &b) in line.iter_mut().zip(near).zip(far) {
                *l = a + ty * (b - a);
            }
            for (value, &(k, t)) in values.iter_mut().zip(&columns) {
                *value += gain * (line[k] + t * (line[k + 1] - line[k]));
            }
        }
    }

    /// Lower node index and fraction towards the next node of a position
    /// (clamped to the lattice).
    fn coordinate(&self, axis: usize, position: f32) -> (usize, f32) {
        let last = (self.dims[axis] - 1) as f32;
        let f = ((position - self.origin[axis]) / self.cell[axis]).clamp(0.0, last);
        let k = (f as usize).min(self.dims[axis] - 2);
        (k, f - k as f32)
    }

    fn nearest_node(&self, position: [f32; 3]) -> usize {
        let [z, y, x] = [0, 1, 2].map(|axis| {
            let (k, t) = self.coordinate(axis, position[axis]);
            k + usize::from(t >= 0.5)
        });
        (z * self.dims[1] + y) * self.dims[2] + x
    }

    fn node(&self, z: usize, y: usize, x: usize) -> f32 {
        let index = (z * self.dims[1] + y) * self.dims[2] + x;
        match &self.nodes {
            Nodes::Hashed(seed) => {
                let bits = mix64(key(*seed, &[index as u64]));
                (bits >> 40) as f32 * (2.0 / 16_777_216.0) - 1.0
            }
            Nodes::Stored(values) => values[index],
        }
    }
}

/// Node counts of a lattice covering `bounds`, at least 2 per axis.
fn lattice_dims(bounds: &Bounds, cell: [f32; 3]) -> [usize; 3] {
    [0, 1, 2].map(|axis| {
        let span = (bounds.high[axis] - bounds.low[axis]).max(0.0);
        ((span / cell[axis]).ceil() as usize + 1).max(2)
    })
}

/// Index of the first node of every lattice line along `axis`.
fn line_starts(dims: [usize; 3], axis: usize) -> Vec<usize> {
    let strides = [dims[1] * dims[2], dims[2], 1];
    let others: Vec<usize> = (0..3).filter(|&a| a != axis).collect();
    let mut starts = Vec::with_capacity(dims[others[0]] * dims[others[1]]);
    for i in 0..dims[others[0]] {
        for j in 0..dims[others[1]] {
            starts.push(i * strides[others[0]] + j * strides[others[1]]);
        }
    }
    starts
}

fn blur_line(values: &mut [f32], start: usize, stride: usize, len: usize, line: &mut Vec<f32>) {
    line.clear();
    line.extend((0..len).map(|i| values[start + i * stride]));
    for i in 0..len {
        let before = line[i.saturating_sub(1)];
        let after = line[(i + 1).min(len - 1)];
        values[start + i * stride] = 0.25 * before + 0.5 * line[i] + 0.25 * after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> Bounds {
        Bounds {
            low: [0.0; 3],
            high: [20.0, 30.0, 40.0],
        }
    }

    #[test]
    fn random_field_stays_within_unit_range_and_varies() {
        let field = SmoothField::random(&bounds(), [5.0; 3], 3);
        let values: Vec<f32> = (0..40).map(|x| field.at([3.0, 7.0, x as f32])).collect();
        assert!(values.iter().all(|v| v.abs() <= 1.0));
        assert!(values.iter().any(|&v| (v - values[0]).abs() > 0.05));
    }

    #[test]
    fn patch_sampling_matches_point_sampling() {
        let field = SmoothField::random(&bounds(), [4.0, 3.0, 5.0], 11);
        let patch = Patch {
            z: 7.3,
            y0: 2.0,
            x0: 1.5,
            dy: 1.5,
            dx: 0.75,
            rows: 9,
            cols: 17,
        };
        let mut out = vec![0.0; 9 * 17];
        field.add_to(&patch, 2.0, &mut out);
        for row in 0..9 {
            for col in 0..17 {
                let expected = 2.0 * field.at([patch.z, patch.y(row), patch.x(col)]);
                assert!((out[row * 17 + col] - expected).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn deposited_mass_survives_blurring() {
        let masses = [([10.0, 15.0, 20.0], 1000.0)].into_iter();
        let mut field = SmoothField::from_masses(&bounds(), [2.0; 3], 1 << 20, masses);
        let before = field.mean();
        field.blur([2, 2, 2]);
        assert!((field.mean() - before).abs() < 1e-3 * before);
        assert!(field.at([10.0, 15.0, 20.0]) > field.at([10.0, 15.0, 38.0]));
    }

    #[test]
    fn deposited_lattice_is_coarsened_to_its_cap() {
        let field = SmoothField::from_masses(&bounds(), [0.1; 3], 1000, std::iter::empty());
        assert!(field.dims.iter().product::<usize>() <= 1000);
    }
}
