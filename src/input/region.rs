//! Crops of an input: which block to read, and copying that block out of a
//! C-ordered buffer.

use serde::{Deserialize, Serialize};

use crate::sweep::region::{Block, append_rows};

/// A crop of an input: start and size per axis, same rank as the input's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub start: Vec<u64>,
    pub size: Vec<u64>,
}

impl Region {
    /// The region covering all of `shape`.
    pub fn whole(shape: &[u64]) -> Region {
        Region {
            start: vec![0; shape.len()],
            size: shape.to_vec(),
        }
    }

    /// Checks the region against the input's shape; the error names the axis
    /// and what to change.
    pub fn validate(&self, shape: &[u64]) -> Result<(), String> {
        if self.start.len() != shape.len() || self.size.len() != shape.len() {
            return Err(format!(
                "region has {} start and {} size values but the input has {} axes \
                 (shape {shape:?}); give one start and one size per axis",
                self.start.len(),
                self.size.len(),
                shape.len()
            ));
        }
        for (axis, ((&start, &size), &len)) in
            self.start.iter().zip(&self.size).zip(shape).enumerate()
        {
            if size == 0 {
                return Err(format!("region size[{axis}] must be at least 1"));
            }
            match start.checked_add(size) {
                Some(end) if end <= len => {}
                _ => {
                    return Err(format!(
                        "region on axis {axis} covers {start}..{} but the input has {len} \
                         there (shape {shape:?}); lower start[{axis}] or size[{axis}]",
                        start.saturating_add(size)
                    ));
                }
            }
        }
        Ok(())
    }

    /// Number of elements, saturating instead of overflowing so that an absurd
    /// region is reported as too large rather than wrapping.
    pub fn num_elements(&self) -> u64 {
        self.size
            .iter()
            .try_fold(1u64, |acc, &n| acc.checked_mul(n))
            .unwrap_or(u64::MAX)
    }

    /// Whether the region covers all of `shape`.
    pub(super) fn is_whole(&self, shape: &[u64]) -> bool {
        self.start.iter().all(|&s| s == 0) && self.size == shape
    }
}

/// Appends the block `start .. start + size` of `source`, a C-ordered array of
/// `shape` with elements of `element_size` bytes, to `out`, one contiguous row
/// (the last axis) at a time.
///
/// The block must lie inside `shape` ([`Region::validate`]) and `source` must
/// hold the whole array.
pub(super) fn append_block(
    source: &[u8],
    shape: &[u64],
    start: &[u64],
    size: &[u64],
    element_size: usize,
    out: &mut Vec<u8>,
) {
    let rank = shape.len();
    debug_assert!(start.len() == rank && size.len() == rank);
    if rank == 0 {
        out.extend_from_slice(&source[..element_size]);
        return;
    }
    let block = Block {
        start: start.to_vec(),
        shape: size.to_vec(),
    };
    append_rows(source, shape, &block, element_size, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_inside_the_shape_is_valid() {
        let region = Region {
            start: vec![1, 0, 5],
            size: vec![2, 4, 5],
        };
        assert_eq!(region.validate(&[3, 4, 10]), Ok(()));
        assert!(Region::whole(&[3, 4]).is_whole(&[3, 4]));
        assert!(!region.is_whole(&[3, 4, 10]));
    }

    #[test]
    fn a_region_past_the_end_names_the_axis() {
        let region = Region {
            start: vec![0, 3],
            size: vec![2, 8],
        };
        let err = region.validate(&[2, 10]).unwrap_err();
        assert!(err.contains("axis 1") && err.contains("3..11"), "{err}");
        assert!(err.contains("lower start[1] or size[1]"), "{err}");
    }

    #[test]
    fn a_region_of_the_wrong_rank_or_empty_size_is_refused() {
        let flat = Region {
            start: vec![0],
            size: vec![1],
        };
        assert!(flat.validate(&[2, 2]).unwrap_err().contains("2 axes"));
        let empty = Region {
            start: vec![0, 0],
            size: vec![1, 0],
        };
        assert!(empty.validate(&[2, 2]).unwrap_err().contains("size[1]"));
        let overflowing = Region {
            start: vec![u64::MAX],
            size: vec![2],
        };
        assert!(overflowing.validate(&[4]).is_err());
    }

    #[test]
    fn append_block_copies_the_block_row_by_row() {
        let shape = [2u64, 3, 4];
        let source: Vec<u8> = (0..24).collect();
        let mut out = vec![99];
        append_block(&source, &shape, &[1, 1, 2], &[1, 2, 2], 1, &mut out);
        assert_eq!(out, [99, 18, 19, 22, 23]);

        let wide: Vec<u8> = (0..12).collect(); // six 2-byte elements, shape [2, 3]
        let mut out = Vec::new();
        append_block(&wide, &[2, 3], &[0, 1], &[2, 1], 2, &mut out);
        assert_eq!(out, [2, 3, 8, 9]);
    }
}
