//! Where a volume's voxels sit in space and in the (t, c) frame stack.
//!
//! A shape of 1 to 5 axes is read as `[t, c, z, y, x]` with leading axes
//! dropped: the last (up to) three axes are spatial and missing spatial axes
//! have length 1; with four axes the first is time, with five the first two
//! are time and channel. Positions are physical: voxel `i` along an axis sits
//! at `i * spacing`, where the spacings come from `voxel_size` divided by its
//! finest spatial entry, so the finest axis has spacing 1 and structure sizes
//! are given in finest-voxel units whatever unit the request used.

use std::ops::Range;

use super::VolumeSpec;
use super::noise::Sequence;

/// The frame stack and spatial grid of a volume.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// Length of the time axis (1 when absent).
    pub(crate) times: usize,
    /// Length of the channel axis (1 when absent).
    pub(crate) channels: usize,
    /// Spatial lengths, `[z, y, x]`.
    pub(crate) dims: [usize; 3],
    /// Physical distance between neighbouring voxels, `[z, y, x]`.
    pub(crate) spacing: [f32; 3],
}

/// One time point and channel of the volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) time: usize,
    pub(crate) channel: usize,
}

/// A rectangle of voxels within one plane of one frame; generators fill it row
/// by row (`y` outer, `x` inner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Region {
    pub(crate) frame: usize,
    pub(crate) z: usize,
    pub(crate) y: Range<usize>,
    pub(crate) x: Range<usize>,
}

impl Region {
    pub(crate) fn voxels(&self) -> usize {
        self.y.len() * self.x.len()
    }
}

/// The physical positions of a region's voxels, possibly shifted (a drifting
/// sample is seen at `position - drift`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Patch {
    pub(crate) z: f32,
    pub(crate) y0: f32,
    pub(crate) x0: f32,
    pub(crate) dy: f32,
    pub(crate) dx: f32,
    pub(crate) rows: usize,
    pub(crate) cols: usize,
}

impl Patch {
    pub(crate) fn y(&self, row: usize) -> f32 {
        self.y0 + row as f32 * self.dy
    }

    pub(crate) fn x(&self, col: usize) -> f32 {
        self.x0 + col as f32 * self.dx
    }
}

/// An axis-aligned box in physical space.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub(crate) low: [f32; 3],
    pub(crate) high: [f32; 3],
}

impl Bounds {
    pub(crate) fn volume(&self) -> f32 {
        (0..3)
            .map(|axis| self.high[axis] - self.low[axis])
            .product()
    }

    /// A point drawn uniformly from the box.
    pub(crate) fn sample(&self, sequence: &mut Sequence) -> [f32; 3] {
        [0, 1, 2].map(|axis| sequence.range(self.low[axis], self.high[axis]))
    }
}

impl Layout {
    pub(crate) fn new(spec: &VolumeSpec) -> Self {
        let shape: Vec<usize> = spec
            .shape
            .iter()
            .map(|&n| usize::try_from(n).unwrap_or(usize::MAX))
            .collect();
        let spatial = shape.len().min(3);
        let leading = &shape[..shape.len() - spatial];

        let mut dims = [1; 3];
        dims[3 - spatial..].copy_from_slice(&shape[shape.len() - spatial..]);

        Layout {
            times: leading.first().copied().unwrap_or(1),
            channels: leading.get(1).copied().unwrap_or(1),
            dims,
            spacing: spacing(spec.voxel_size.as_deref(), shape.len(), spatial),
        }
    }

    pub(crate) fn frames(&self) -> usize {
        self.times * self.channels
    }

    pub(crate) fn frame(&self, index: usize) -> Frame {
        Frame {
            time: index / self.channels,
            channel: index % self.channels,
        }
    }

    pub(crate) fn frame_voxels(&self) -> usize {
        self.dims.iter().product()
    }

    /// The physical box covered by voxel centres, grown by `margin` on every
    /// side so that structures crossing the border are placed too.
    pub(crate) fn bounds(&self, margin: f32) -> Bounds {
        Bounds {
            low: [-margin; 3],
            high: [0, 1, 2].map(|axis| (self.dims[axis] - 1) as f32 * self.spacing[axis] + margin),
        }
    }

    /// The physical positions of `region`'s voxels seen through a sample
    /// displaced by `drift`.
    pub(crate) fn patch(&self, region: &Region, drift: [f32; 3]) -> Patch {
        let [sz, sy, sx] = self.spacing;
        Patch {
            z: region.z as f32 * sz - drift[0],
            y0: region.y.start as f32 * sy - drift[1],
            x0: region.x.start as f32 * sx - drift[2],
            dy: sy,
            dx: sx,
            rows: region.y.len(),
            cols: region.x.len(),
        }
    }

    /// Up to `budget` voxels spread evenly over the whole volume, as row
    /// segments of at most 4096 voxels; used to estimate statistics cheaply.
    pub(crate) fn sample_regions(&self, budget: usize) -> Vec<Region> {
        const SEGMENT: usize = 4096;
        let [nz, ny, nx] = self.dims;
        let segment = nx.min(SEGMENT);
        let per_row = nx.div_ceil(segment);
        let total = self.frames() * nz * ny * per_row;
        let wanted = (budget / segment).max(1);

        let pick = |index: usize| {
            let row = index / per_row;
            let start = (index % per_row) * segment;
            Region {
                frame: row / (nz * ny),
                z: row / ny % nz,
                y: row % ny..row % ny + 1,
                x: start..(start + segment).min(nx),
            }
        };
        if total <= wanted {
            return (0..total).map(pick).collect();
        }
        // A Weyl sequence visits the segments evenly without locking onto the
        // period of any axis.
        let golden = 0.618_033_988_749_895_f64;
        (0..wanted)
            .map(|i| pick((((i as f64 * golden).fract()) * total as f64) as usize % total))
            .collect()
    }
}

/// Physical spacings of the spatial axes, the finest being 1.
fn spacing(voxel_size: Option<&[f64]>, rank: usize, spatial: usize) -> [f32; 3] {
    let mut spacing = [1.0f64; 3];
    if let Some(voxel_size) = voxel_size
        && voxel_size.len() == rank
    {
        spacing[3 - spatial..].copy_from_slice(&voxel_size[rank - spatial..]);
    }
    let finest = spacing[3 - spatial..]
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    if !(finest.is_finite() && finest > 0.0) {
        return [1.0; 3];
    }
    let mut normalised = spacing.map(|s| (s / finest) as f32);
    normalised[..3 - spatial].fill(1.0);
    normalised
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Modality;

    fn spec(shape: &[u64], voxel_size: Option<Vec<f64>>) -> VolumeSpec {
        VolumeSpec {
            modality: Modality::Synthetic,
            shape: shape.to_vec(),
            dtype: None,
            voxel_size,
            seed: 1,
        }
    }

    #[test]
    fn five_axes_are_time_channel_and_space() {
        let layout = Layout::new(&spec(&[2, 3, 4, 5, 6], None));
        assert_eq!((layout.times, layout.channels), (2, 3));
        assert_eq!(layout.dims, [4, 5, 6]);
        assert_eq!(
            layout.frame(4),
            Frame {
                time: 1,
                channel: 1
            }
        );
    }

    #[test]
    fn short_shapes_fill_leading_spatial_axes_with_one() {
        assert_eq!(Layout::new(&spec(&[9], None)).dims, [1, 1, 9]);
        assert_eq!(Layout::new(&spec(&[8, 9], None)).dims, [1, 8, 9]);
    }

    #[test]
    fn spacing_is_relative_to_the_finest_spatial_axis() {
        let layout = Layout::new(&spec(&[2, 8, 8, 8], Some(vec![100.0, 2.0, 0.5, 0.5])));
        assert_eq!(layout.spacing, [4.0, 1.0, 1.0]);
    }

    #[test]
    fn sample_regions_stay_inside_the_volume() {
        let layout = Layout::new(&spec(&[3, 7, 13, 10_000], None));
        let regions = layout.sample_regions(50_000);
        assert!(!regions.is_empty());
        for region in regions {
            assert!(region.frame < 3 && region.z < 7 && region.y.end <= 13);
            assert!(region.x.end <= 10_000 && !region.x.is_empty());
        }
    }
}
