//! MRC / CCP4 maps, as written by cryo-EM and tomography software (MRC2014,
//! IMOD, CCP4).
//!
//! The file is a 1024-byte header, an extended header of `NSYMBT` bytes (FEI,
//! SerialEM or CCP4 symmetry records; skipped), then the voxels: `NX` columns
//! per row, `NY` rows per section, `NZ` sections, columns fastest.
//!
//! - **Byte order** comes from the machine stamp at byte 212 (`0x44` little-,
//!   `0x11` big-endian). Files with no valid stamp are read in whichever order
//!   gives a known mode and positive sizes, little-endian first.
//! - **Axes** are presented in file order, `[NZ, NY, NX]` (`[NY, NX]` when
//!   `NZ` is 1), as mrcfile does. `MAPC`/`MAPR`/`MAPS` do not reorder the data;
//!   they only decide which cell length belongs to which axis of `voxel_size`.
//! - **Voxel size** is the cell length over the grid size (`X / MX` and so on),
//!   in the header's unit (Å), in the same axis order as the shape; `None` when
//!   the header leaves the cell or grid at zero.
//! - **Modes**: 0 is `int8` as MRC2014 defines it, except that a file carrying
//!   IMOD's stamp (`1146047817` at byte 152) without IMOD's "signed bytes" flag
//!   (bit 1 of the word at byte 156) holds unsigned bytes, as IMOD wrote them
//!   before version 4.2.23, and is read as `uint8`; 1 is `int16`, 2 `float32`,
//!   6 `uint16`, 12 `float16`. Complex modes (3, 4), RGB (16) and packed 4-bit
//!   data (101) are refused.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::region::append_block;
use super::{
    InputError, InputInfo, InputKind, Region, buffer_for, region_buffer, shown, swap_bytes,
};
use crate::data::{Dtype, Volume};

/// Bytes of the main header.
const HEADER_LEN: u64 = 1024;

/// IMOD's stamp at byte 152, "IMOD" read as a 32-bit integer.
const IMOD_STAMP: i32 = 1_146_047_817;

/// Bit of IMOD's flags (byte 156) saying mode-0 bytes are signed.
const IMOD_SIGNED_BYTES: i32 = 1;

/// File name extensions MRC and CCP4 files go by.
const EXTENSIONS: [&str; 7] = ["mrc", "mrcs", "map", "ccp4", "rec", "st", "ali"];

/// Whether `head` (a file's first bytes) carries the `MAP ` stamp at byte 208.
pub(super) fn has_stamp(head: &[u8]) -> bool {
    head.get(208..212) == Some(b"MAP ")
}

/// Whether the file name has one of the extensions MRC files go by.
pub(super) fn has_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// What the header says about the data block.
#[derive(Debug, Clone, PartialEq)]
struct Header {
    /// Columns, rows, sections.
    nx: u64,
    ny: u64,
    nz: u64,
    dtype: Dtype,
    big_endian: bool,
    /// Where the voxels start: after the header and the extended header.
    data_offset: u64,
    /// Per data axis, slowest first, three values.
    voxel_size: Option<[f64; 3]>,
}

impl Header {
    /// `[NZ, NY, NX]`, or `[NY, NX]` for a single section.
    fn shape(&self) -> Vec<u64> {
        if self.nz == 1 {
            vec![self.ny, self.nx]
        } else {
            vec![self.nz, self.ny, self.nx]
        }
    }

    fn info(&self) -> InputInfo {
        let voxel_size = self.voxel_size.map(|size| {
            let rank = self.shape().len();
            size[3 - rank..].to_vec()
        });
        InputInfo {
            kind: InputKind::Mrc,
            shape: self.shape(),
            dtype: self.dtype,
            voxel_size,
        }
    }
}

/// Reads and checks the header, including that the data block lies within
/// the file.
pub(super) fn probe(path: &Path) -> Result<InputInfo, InputError> {
    let (_, header) = open(path)?;
    Ok(header.info())
}

/// Reads the volume or `region` of it, one section's needed rows at a time.
pub(super) fn read(path: &Path, region: Option<&Region>) -> Result<Volume, InputError> {
    let (mut file, header) = open(path)?;
    let shape = header.shape();
    let region = super::region_or_whole(path, &shape, region)?;

    // Work in three axes; a single section is one with NZ = 1.
    let (start, size) = if shape.len() == 2 {
        (
            [0, region.start[0], region.start[1]],
            [1, region.size[0], region.size[1]],
        )
    } else {
        (
            [region.start[0], region.start[1], region.start[2]],
            [region.size[0], region.size[1], region.size[2]],
        )
    };
    let element_size = header.dtype.size();
    let row_bytes = header.nx * element_size as u64;
    let mut bytes = region_buffer(path, &region, header.dtype)?;

    let mut rows = buffer_for(path, size[1] * row_bytes)?;
    rows.resize((size[1] * row_bytes) as usize, 0);
    for z in start[0]..start[0] + size[0] {
        let offset = header.data_offset + (z * header.ny + start[1]) * row_bytes;
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(&mut rows))
            .map_err(|e| read_error(path, e))?;
        append_block(
            &rows,
            &[size[1], header.nx],
            &[0, start[2]],
            &[size[1], size[2]],
            element_size,
            &mut bytes,
        );
    }

    if header.big_endian {
        swap_bytes(&mut bytes, element_size);
    }
    Ok(Volume {
        shape: region.size,
        dtype: header.dtype,
        bytes,
    })
}

/// Opens the file and reads and checks its header.
fn open(path: &Path) -> Result<(File, Header), InputError> {
    let mut file = File::open(path).map_err(|e| InputError::io(path, e))?;
    let file_len = file.metadata().map_err(|e| InputError::io(path, e))?.len();
    if file_len < HEADER_LEN {
        return Err(InputError::Truncated(format!(
            "`{}` has {file_len} bytes, fewer than the 1024-byte MRC header: the file is \
             truncated; copy it again",
            shown(path)
        )));
    }
    let mut raw = [0u8; HEADER_LEN as usize];
    file.read_exact(&mut raw).map_err(|e| read_error(path, e))?;
    let header = parse(path, &raw)?;
    check_data_fits(path, &header, file_len)?;
    Ok((file, header))
}

/// A read that failed; running out of file means it shrank since it was checked.
fn read_error(path: &Path, source: std::io::Error) -> InputError {
    if source.kind() == std::io::ErrorKind::UnexpectedEof {
        InputError::Truncated(format!(
            "`{}` ended before its data block did: the file is truncated (or was cut while \
             being read); copy it again",
            shown(path)
        ))
    } else {
        InputError::io(path, source)
    }
}

/// Reads header words in the file's byte order.
struct Words<'a> {
    raw: &'a [u8; HEADER_LEN as usize],
    big_endian: bool,
}

impl Words<'_> {
    fn bytes(&self, offset: usize) -> [u8; 4] {
        let mut word = [0u8; 4];
        word.copy_from_slice(&self.raw[offset..offset + 4]);
        word
    }

    fn int(&self, offset: usize) -> i32 {
        if self.big_endian {
            i32::from_be_bytes(self.bytes(offset))
        } else {
            i32::from_le_bytes(self.bytes(offset))
        }
    }

    fn float(&self, offset: usize) -> f32 {
        if self.big_endian {
            f32::from_be_bytes(self.bytes(offset))
        } else {
            f32::from_le_bytes(self.bytes(offset))
        }
    }

    /// Whether this byte order gives a header that makes sense.
    fn plausible(&self) -> bool {
        let sizes_positive = (0..3).all(|i| self.int(4 * i) > 0);
        sizes_positive && matches!(self.int(12), 0 | 1 | 2 | 3 | 4 | 6 | 12 | 16 | 101)
    }
}

/// The byte order the machine stamp (byte 212) gives, or the one in which the
/// header makes sense.
fn big_endian(raw: &[u8; HEADER_LEN as usize]) -> bool {
    match raw[212] {
        0x44 | 0x41 => false,
        0x11 => true,
        _ => {
            let little = Words {
                raw,
                big_endian: false,
            };
            let big = Words {
                raw,
                big_endian: true,
            };
            !little.plausible() && big.plausible()
        }
    }
}

fn parse(path: &Path, raw: &[u8; HEADER_LEN as usize]) -> Result<Header, InputError> {
    let words = Words {
        raw,
        big_endian: big_endian(raw),
    };
    let (nx, ny, nz) = (words.int(0), words.int(4), words.int(8));
    if nx < 1 || ny < 1 || nz < 1 {
        return Err(InputError::Invalid(format!(
            "`{}` has NX={nx}, NY={ny}, NZ={nz} in its MRC header; each must be at least 1: \
             the header is damaged or this is not an MRC file",
            shown(path)
        )));
    }
    let dtype = dtype(path, &words)?;
    let extended = words.int(92);
    if extended < 0 {
        return Err(InputError::Invalid(format!(
            "`{}` gives a negative extended header length (NSYMBT={extended}): the header is \
             damaged",
            shown(path)
        )));
    }
    Ok(Header {
        nx: nx as u64,
        ny: ny as u64,
        nz: nz as u64,
        dtype,
        big_endian: words.big_endian,
        data_offset: HEADER_LEN + extended as u64,
        voxel_size: voxel_size(&words),
    })
}

/// The element type of the header's MODE.
fn dtype(path: &Path, words: &Words) -> Result<Dtype, InputError> {
    let unsupported = |what: &str| {
        InputError::Unsupported(format!(
            "`{}` holds {what}, which cannot be benchmarked as a volume; supported MRC modes: \
             0 (int8, or uint8 from IMOD), 1 (int16), 2 (float32), 6 (uint16), 12 (float16)",
            shown(path)
        ))
    };
    match words.int(12) {
        0 => {
            let imod_unsigned =
                words.int(152) == IMOD_STAMP && words.int(156) & IMOD_SIGNED_BYTES == 0;
            Ok(if imod_unsigned {
                Dtype::Uint8
            } else {
                Dtype::Int8
            })
        }
        1 => Ok(Dtype::Int16),
        2 => Ok(Dtype::Float32),
        6 => Ok(Dtype::Uint16),
        12 => Ok(Dtype::Float16),
        3 => Err(unsupported("complex 16-bit integers (mode 3)")),
        4 => Err(unsupported("complex 32-bit floats (mode 4)")),
        16 => Err(unsupported("RGB bytes (mode 16)")),
        101 => Err(unsupported("packed 4-bit values (mode 101)")),
        mode => Err(unsupported(&format!("an unknown mode {mode}"))),
    }
}

/// Cell length over grid size per data axis (sections, rows, columns), when
/// the header records both.
fn voxel_size(words: &Words) -> Option<[f64; 3]> {
    // Physical X, Y, Z.
    let physical: Vec<f64> = (0..3)
        .map(|i| f64::from(words.float(40 + 4 * i)) / f64::from(words.int(28 + 4 * i)))
        .collect();
    if !physical.iter().all(|v| v.is_finite() && *v > 0.0) {
        return None;
    }

    // Which physical axis (1 = X, 2 = Y, 3 = Z) runs along columns, rows and
    // sections; files that leave these unset are taken as 1, 2, 3.
    let (columns, rows, sections) = (words.int(64), words.int(68), words.int(72));
    let mut axes = [sections, rows, columns];
    let mut sorted = axes;
    sorted.sort_unstable();
    if sorted != [1, 2, 3] {
        axes = [3, 2, 1];
    }
    Some(axes.map(|axis| physical[axis as usize - 1]))
}

/// Checks that the data block the header describes lies within the file.
fn check_data_fits(path: &Path, header: &Header, file_len: u64) -> Result<(), InputError> {
    let data_len = [header.nx, header.ny, header.nz]
        .iter()
        .try_fold(header.dtype.size() as u64, |acc, &n| acc.checked_mul(n));
    let end = data_len.and_then(|len| len.checked_add(header.data_offset));
    let describe = || {
        format!(
            "{} x {} x {} {} voxels after {} header bytes",
            header.nz, header.ny, header.nx, header.dtype, header.data_offset
        )
    };
    match end {
        Some(end) if end <= file_len => Ok(()),
        Some(end) => Err(InputError::Truncated(format!(
            "`{}` data block ends at byte {end} ({}) but the file has {file_len} bytes: the \
             file is truncated; copy it again",
            shown(path),
            describe()
        ))),
        None => Err(InputError::Invalid(format!(
            "`{}` header describes {}, more than any file can hold: the header is damaged",
            shown(path),
            describe()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(mode: i32, big_endian: bool) -> [u8; 1024] {
        let mut raw = [0u8; 1024];
        let mut put = |offset: usize, value: [u8; 4]| {
            raw[offset..offset + 4].copy_from_slice(&value);
        };
        let int = |v: i32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let float = |v: f32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        put(0, int(4));
        put(4, int(3));
        put(8, int(2));
        put(12, int(mode));
        for (i, grid) in [4, 3, 2].into_iter().enumerate() {
            put(28 + 4 * i, int(grid));
        }
        for (i, cell) in [8.0, 9.0, 20.0].into_iter().enumerate() {
            put(40 + 4 * i, float(cell));
        }
        for (i, axis) in [1, 2, 3].into_iter().enumerate() {
            put(64 + 4 * i, int(axis));
        }
        put(208, *b"MAP ");
        put(
            212,
            if big_endian {
                [0x11, 0x11, 0, 0]
            } else {
                [0x44, 0x44, 0, 0]
            },
        );
        raw
    }

    #[test]
    fn both_byte_orders_give_the_same_header() {
        let path = Path::new("t.mrc");
        let little = parse(path, &header(2, false)).unwrap();
        let big = parse(path, &header(2, true)).unwrap();
        assert!(!little.big_endian && big.big_endian);
        assert_eq!((big.nx, big.ny, big.nz), (4, 3, 2));
        assert_eq!(big.dtype, Dtype::Float32);
        assert_eq!(little.voxel_size, Some([10.0, 3.0, 2.0]));
        assert_eq!(big.voxel_size, little.voxel_size);
    }

    #[test]
    fn a_missing_machine_stamp_is_guessed_from_the_header() {
        let mut raw = header(1, true);
        raw[212..216].fill(0);
        let parsed = parse(Path::new("old.map"), &raw).unwrap();
        assert!(parsed.big_endian);
        assert_eq!(parsed.dtype, Dtype::Int16);
    }

    #[test]
    fn imod_unsigned_bytes_are_uint8_and_plain_mode_0_is_int8() {
        let path = Path::new("t.mrc");
        let mut raw = header(0, false);
        assert_eq!(parse(path, &raw).unwrap().dtype, Dtype::Int8);
        raw[152..156].copy_from_slice(&IMOD_STAMP.to_le_bytes());
        assert_eq!(parse(path, &raw).unwrap().dtype, Dtype::Uint8);
        raw[156..160].copy_from_slice(&1i32.to_le_bytes());
        assert_eq!(parse(path, &raw).unwrap().dtype, Dtype::Int8);
    }

    #[test]
    fn swapped_axes_move_the_cell_lengths_with_them() {
        let mut raw = header(2, false);
        // Columns along Z, rows along Y, sections along X.
        raw[64..68].copy_from_slice(&3i32.to_le_bytes());
        raw[72..76].copy_from_slice(&1i32.to_le_bytes());
        let parsed = parse(Path::new("t.mrc"), &raw).unwrap();
        assert_eq!(parsed.voxel_size, Some([2.0, 3.0, 10.0]));
    }

    #[test]
    fn a_zero_cell_gives_no_voxel_size() {
        let mut raw = header(2, false);
        raw[40..52].fill(0);
        assert_eq!(parse(Path::new("t.mrc"), &raw).unwrap().voxel_size, None);
    }

    #[test]
    fn complex_and_packed_modes_are_named_when_refused() {
        for (mode, words) in [
            (3, "mode 3"),
            (4, "mode 4"),
            (101, "mode 101"),
            (7, "mode 7"),
        ] {
            let err = parse(Path::new("t.mrc"), &header(mode, false)).unwrap_err();
            assert_eq!(err.code(), "input-unsupported");
            assert!(err.to_string().contains(words), "{err}");
        }
    }

    #[test]
    fn sizes_overflowing_u64_are_invalid_not_a_panic() {
        let mut raw = header(2, false);
        for offset in [0, 4, 8] {
            raw[offset..offset + 4].copy_from_slice(&i32::MAX.to_le_bytes());
        }
        raw[92..96].copy_from_slice(&i32::MAX.to_le_bytes());
        let parsed = parse(Path::new("t.mrc"), &raw).unwrap();
        let err = check_data_fits(Path::new("t.mrc"), &parsed, 1 << 20).unwrap_err();
        assert_eq!(err.code(), "input-invalid", "{err}");
        assert!(
            err.to_string().contains("more than any file can hold"),
            "{err}"
        );
    }
}
