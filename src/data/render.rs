//! Drives a modality model over the whole volume, in parallel tiles.
//!
//! The output buffer is cut into tiles of at most [`TILE_VOXELS`] voxels that
//! never cross a frame (runs of whole rows, or pieces of one very long row).
//! Tiles depend only on the shape, and a voxel's value only on its position, so
//! the bytes are the same whatever the number of threads. Each tile is rendered
//! into a small `f32` scratch buffer and quantised straight into its slice of
//! the output, so memory stays at the output size plus one tile per thread.

use std::ops::Range;

use rayon::prelude::*;

use super::Dtype;
use super::layout::{Layout, Region};
use super::quantize::{self, Intensity, Mapping};

/// Upper bound of a tile's voxel count.
const TILE_VOXELS: usize = 1 << 16;

/// An instrument model: fills regions of the volume with its intensities.
pub(crate) trait Model: Sync {
    /// What the rendered values mean, for the mapping into the element type.
    fn intensity(&self) -> Intensity;

    /// Writes the final (noisy) values of `region` into `out`, which holds
    /// `region.voxels()` zeros, row by row.
    fn render(&self, region: &Region, out: &mut [f32]);
}

/// A run of voxels that is contiguous in the output: rows `rows` (counted
/// through the planes of `frame`, `z * ny + y`) restricted to columns `x`.
#[derive(Debug, Clone)]
struct Tile {
    frame: usize,
    rows: Range<usize>,
    x: Range<usize>,
}

impl Tile {
    fn voxels(&self) -> usize {
        self.rows.len() * self.x.len()
    }
}

/// Renders every voxel of the volume and returns its little-endian bytes.
///
/// # Panics
///
/// If the volume does not fit in memory; callers check the volume's byte size
/// against their budget first.
pub(crate) fn render(layout: &Layout, model: &dyn Model, dtype: Dtype) -> Vec<u8> {
    let mapping = Mapping::new(model.intensity(), dtype);
    let tiles = tiles(layout);
    let total: usize = tiles.iter().map(Tile::voxels).sum();
    let mut bytes = vec![0u8; total.saturating_mul(dtype.size())];

    let mut jobs = Vec::with_capacity(tiles.len());
    let mut rest = bytes.as_mut_slice();
    for tile in tiles {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(tile.voxels() * dtype.size());
        jobs.push((tile, head));
        rest = tail;
    }

    jobs.into_par_iter()
        .for_each_init(Vec::new, |values, (tile, out)| {
            values.clear();
            values.resize(tile.voxels(), 0.0);
            render_tile(layout, model, &tile, values);
            quantize::write(values, mapping, dtype, out);
        });
    bytes
}

/// Splits the tile's rows at plane boundaries and renders each part.
fn render_tile(layout: &Layout, model: &dyn Model, tile: &Tile, values: &mut [f32]) {
    let ny = layout.dims[1];
    let mut row = tile.rows.start;
    let mut filled = 0;
    while row < tile.rows.end {
        let y = row % ny;
        let rows = (ny - y).min(tile.rows.end - row);
        let region = Region {
            frame: tile.frame,
            z: row / ny,
            y: y..y + rows,
            x: tile.x.clone(),
        };
        let voxels = region.voxels();
        model.render(&region, &mut values[filled..filled + voxels]);
        filled += voxels;
        row += rows;
    }
}

/// The tiles of the volume, in output order.
fn tiles(layout: &Layout) -> Vec<Tile> {
    let [nz, ny, nx] = layout.dims;
    let rows_per_frame = nz * ny;
    let mut tiles = Vec::new();
    for frame in 0..layout.frames() {
        if nx >= TILE_VOXELS {
            for row in 0..rows_per_frame {
                for start in (0..nx).step_by(TILE_VOXELS) {
                    tiles.push(Tile {
                        frame,
                        rows: row..row + 1,
                        x: start..(start + TILE_VOXELS).min(nx),
                    });
                }
            }
        } else {
            let band = TILE_VOXELS / nx;
            for start in (0..rows_per_frame).step_by(band) {
                tiles.push(Tile {
                    frame,
                    rows: start..(start + band).min(rows_per_frame),
                    x: 0..nx,
                });
            }
        }
    }
    tiles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(times: usize, dims: [usize; 3]) -> Layout {
        Layout {
            times,
            channels: 1,
            dims,
            spacing: [1.0; 3],
        }
    }

    #[test]
    fn tiles_cover_the_volume_in_order() {
        for dims in [[7, 13, 5], [1, 1, 200_000], [300, 300, 3], [2, 1, 65_536]] {
            let layout = layout(2, dims);
            let tiles = tiles(&layout);
            let total: usize = tiles.iter().map(Tile::voxels).sum();
            assert_eq!(total, 2 * dims.iter().product::<usize>());
            assert!(
                tiles
                    .iter()
                    .all(|t| t.voxels() <= TILE_VOXELS && t.voxels() > 0)
            );
        }
    }

    /// Writes each voxel's linear index, to check regions land where they should.
    struct Ramp(Layout);

    impl Model for Ramp {
        fn intensity(&self) -> Intensity {
            Intensity::Counts { peak: 1.0e9 }
        }

        fn render(&self, region: &Region, out: &mut [f32]) {
            let [nz, ny, nx] = self.0.dims;
            let mut i = 0;
            for y in region.y.clone() {
                for x in region.x.clone() {
                    out[i] = (((region.frame * nz + region.z) * ny + y) * nx + x) as f32;
                    i += 1;
                }
            }
        }
    }

    #[test]
    fn every_voxel_receives_its_own_value() {
        let layout = layout(3, [5, 700, 41]);
        let bytes = render(&layout, &Ramp(layout.clone()), Dtype::Uint32);
        for (i, element) in bytes.chunks_exact(4).enumerate() {
            let value = u32::from_le_bytes([element[0], element[1], element[2], element[3]]);
            assert_eq!(value as usize, i);
        }
    }
}
