//! Moving n-dimensional blocks between a C-ordered volume and a chunk buffer.
//!
//! Chunks at the array's far edges are stored at full chunk shape, padded with
//! the fill value (zero), as Zarr requires; these helpers copy or compare only
//! the part of a block that lies inside the array, one contiguous row (the
//! last axis) at a time.

/// A block of an array: where it starts and how large it is, per axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub start: Vec<u64>,
    pub shape: Vec<u64>,
}

impl Block {
    /// The block of chunk `indices` in a grid of `chunk_shape`.
    pub fn of_chunk(indices: &[u64], chunk_shape: &[u64]) -> Block {
        Block {
            start: indices
                .iter()
                .zip(chunk_shape)
                .map(|(i, c)| i * c)
                .collect(),
            shape: chunk_shape.to_vec(),
        }
    }

    /// The part of the block that lies inside an array of `array_shape`.
    pub fn clipped_to(&self, array_shape: &[u64]) -> Block {
        let shape = self
            .start
            .iter()
            .zip(&self.shape)
            .zip(array_shape)
            .map(|((start, len), array_len)| (*len).min(array_len.saturating_sub(*start)))
            .collect();
        Block {
            start: self.start.clone(),
            shape,
        }
    }

    pub fn num_elements(&self) -> u64 {
        self.shape.iter().product()
    }
}

/// Calls `row(volume_offset, block_offset, row_len)` (in bytes) for every row of
/// `block` clipped to the array: `volume_offset` into the C-ordered volume of
/// `array_shape`, `block_offset` into a buffer of the block's full shape.
fn for_each_row(
    array_shape: &[u64],
    block: &Block,
    element_size: usize,
    mut row: impl FnMut(usize, usize, usize),
) {
    let inside = block.clipped_to(array_shape);
    if inside.num_elements() == 0 {
        return;
    }
    let rank = array_shape.len();
    let row_len = inside.shape[rank - 1] as usize * element_size;

    let volume_strides = strides(array_shape);
    let block_strides = strides(&block.shape);
    let mut position = vec![0u64; rank]; // within `inside`, last axis stays 0
    loop {
        let volume_offset: u64 = (0..rank)
            .map(|axis| (inside.start[axis] + position[axis]) * volume_strides[axis])
            .sum();
        let block_offset: u64 = (0..rank)
            .map(|axis| position[axis] * block_strides[axis])
            .sum();
        row(
            volume_offset as usize * element_size,
            block_offset as usize * element_size,
            row_len,
        );

        // Odometer over every axis but the last.
        let mut axis = rank - 1;
        loop {
            if axis == 0 {
                return;
            }
            axis -= 1;
            position[axis] += 1;
            if position[axis] < inside.shape[axis] {
                break;
            }
            position[axis] = 0;
        }
    }
}

fn strides(shape: &[u64]) -> Vec<u64> {
    let mut strides = vec![1u64; shape.len()];
    for axis in (0..shape.len().saturating_sub(1)).rev() {
        strides[axis] = strides[axis + 1] * shape[axis + 1];
    }
    strides
}

/// Fills `buffer` with `block` of the volume, zero-padded beyond the array.
pub fn gather(
    volume: &[u8],
    array_shape: &[u64],
    block: &Block,
    element_size: usize,
    buffer: &mut Vec<u8>,
) {
    let len = block.num_elements() as usize * element_size;
    buffer.clear();
    buffer.resize(len, 0);
    for_each_row(array_shape, block, element_size, |from, to, n| {
        buffer[to..to + n].copy_from_slice(&volume[from..from + n]);
    });
}

/// Appends `block` of the volume to `out`, row by row in C order; the part of
/// the block outside the array is left out, not padded.
pub fn append_rows(
    volume: &[u8],
    array_shape: &[u64],
    block: &Block,
    element_size: usize,
    out: &mut Vec<u8>,
) {
    for_each_row(array_shape, block, element_size, |from, _, n| {
        out.extend_from_slice(&volume[from..from + n]);
    });
}

/// Checks that `decoded` (a buffer of the block's full shape) equals the volume
/// inside the array; returns the first differing element's array index.
pub fn first_mismatch(
    volume: &[u8],
    array_shape: &[u64],
    block: &Block,
    element_size: usize,
    decoded: &[u8],
) -> Option<Vec<u64>> {
    let expected_len = block.num_elements() as usize * element_size;
    if decoded.len() != expected_len {
        return Some(block.start.clone());
    }
    let mut mismatch = None;
    for_each_row(array_shape, block, element_size, |from, to, n| {
        if mismatch.is_none() && volume[from..from + n] != decoded[to..to + n] {
            let offset = (0..n)
                .find(|&i| volume[from + i] != decoded[to + i])
                .unwrap_or(0);
            mismatch = Some((from + offset) / element_size);
        }
    });
    mismatch.map(|flat| unravel(flat as u64, array_shape))
}

fn unravel(mut flat: u64, shape: &[u64]) -> Vec<u64> {
    let mut index = vec![0; shape.len()];
    for axis in (0..shape.len()).rev() {
        index[axis] = flat % shape[axis];
        flat /= shape[axis];
    }
    index
}

/// Every chunk index of a regular grid over the array, in C order.
pub fn chunk_indices(array_shape: &[u64], chunk_shape: &[u64]) -> Vec<Vec<u64>> {
    let grid: Vec<u64> = array_shape
        .iter()
        .zip(chunk_shape)
        .map(|(a, c)| a.div_ceil(*c))
        .collect();
    let count: u64 = grid.iter().product();
    (0..count).map(|flat| unravel(flat, &grid)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(shape: &[u64]) -> Vec<u8> {
        (0..shape.iter().product::<u64>())
            .map(|i| (i % 251) as u8)
            .collect()
    }

    #[test]
    fn gathered_chunks_tile_the_volume_exactly() {
        let shape = [5u64, 7, 3];
        let chunk = [2u64, 3, 2];
        let source = volume(&shape);
        let mut rebuilt = vec![0u8; source.len()];
        let mut buffer = Vec::new();
        for indices in chunk_indices(&shape, &chunk) {
            let block = Block::of_chunk(&indices, &chunk);
            gather(&source, &shape, &block, 1, &mut buffer);
            assert_eq!(buffer.len(), 12);
            assert_eq!(first_mismatch(&source, &shape, &block, 1, &buffer), None);
            for_each_row(&shape, &block, 1, |from, to, n| {
                rebuilt[from..from + n].copy_from_slice(&buffer[to..to + n]);
            });
        }
        assert_eq!(rebuilt, source);
    }

    #[test]
    fn edge_chunks_are_zero_padded() {
        let shape = [3u64, 3];
        let source = vec![9u8; 9];
        let mut buffer = Vec::new();
        gather(
            &source,
            &shape,
            &Block::of_chunk(&[1, 1], &[2, 2]),
            1,
            &mut buffer,
        );
        assert_eq!(buffer, vec![9, 0, 0, 0]);
    }

    #[test]
    fn a_changed_element_is_located() {
        let shape = [4u64, 4];
        let source = volume(&shape);
        let block = Block::of_chunk(&[1, 0], &[2, 4]);
        let mut buffer = Vec::new();
        gather(&source, &shape, &block, 1, &mut buffer);
        buffer[5] ^= 1;
        assert_eq!(
            first_mismatch(&source, &shape, &block, 1, &buffer),
            Some(vec![3, 1])
        );
    }

    #[test]
    fn one_dimensional_arrays_work() {
        let shape = [10u64];
        let source = volume(&shape);
        let mut buffer = Vec::new();
        gather(
            &source,
            &shape,
            &Block::of_chunk(&[2], &[4]),
            1,
            &mut buffer,
        );
        assert_eq!(buffer, vec![8, 9, 0, 0]);
        assert_eq!(chunk_indices(&shape, &[4]).len(), 3);
    }
}
