//! Reading real volumes: TIFF, MRC and Zarr files made here, read back through
//! `zarrbench::input` and compared element for element with what was written.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tempfile::TempDir;
use tiff::encoder::{Compression, DeflateLevel, TiffEncoder, colortype};
use tiff::tags::Predictor;
use zarrs::array::codec::ZstdCodec;
use zarrs::array::{Array, ArrayBuilder, ArrayBytes, ArraySubset, FillValue, data_type};
use zarrs::filesystem::FilesystemStore;

use zarrbench::data::{Dtype, Volume};
use zarrbench::input::{self, InputError, InputKind, Region};

// ---------------------------------------------------------------------------
// Element patterns and reference slicing

/// `count` distinct-ish elements of `dtype` in the given byte order, with
/// negative values for signed and float types.
fn pattern(dtype: Dtype, count: usize, big_endian: bool) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(count * dtype.size());
    for i in 0..count {
        let n = i as i64 * 37 % 251 - 100;
        let mut element = match dtype {
            Dtype::Uint8 => vec![(n + 100) as u8],
            Dtype::Int8 => vec![n as i8 as u8],
            Dtype::Uint16 => ((n + 100) as u16 * 211).to_le_bytes().to_vec(),
            Dtype::Int16 => (n as i16 * 97).to_le_bytes().to_vec(),
            Dtype::Uint32 => ((n + 100) as u32 * 16_777_259).to_le_bytes().to_vec(),
            Dtype::Int32 => (n as i32 * 8_388_617).to_le_bytes().to_vec(),
            Dtype::Float16 => half::f16::from_f32(n as f32 * 0.25).to_le_bytes().to_vec(),
            Dtype::Float32 => (n as f32 * 0.125).to_le_bytes().to_vec(),
            Dtype::Float64 => (n as f64 * 1.0e-3).to_le_bytes().to_vec(),
        };
        if big_endian {
            element.reverse();
        }
        bytes.extend_from_slice(&element);
    }
    bytes
}

/// `region` of a C-ordered volume, element by element.
fn slice(volume: &Volume, region: &Region) -> Vec<u8> {
    let size = volume.dtype.size();
    let rank = volume.shape.len();
    let mut out = Vec::new();
    for flat in 0..region.num_elements() {
        let mut rest = flat;
        let mut index = vec![0u64; rank];
        for axis in (0..rank).rev() {
            index[axis] = region.start[axis] + rest % region.size[axis];
            rest /= region.size[axis];
        }
        let offset = index
            .iter()
            .zip(&volume.shape)
            .fold(0u64, |acc, (&i, &n)| acc * n + i) as usize
            * size;
        out.extend_from_slice(&volume.bytes[offset..offset + size]);
    }
    out
}

fn region(start: &[u64], size: &[u64]) -> Region {
    Region {
        start: start.to_vec(),
        size: size.to_vec(),
    }
}

fn assert_code(result: Result<impl std::fmt::Debug, InputError>, code: &str) -> String {
    match result {
        Ok(value) => panic!("expected {code}, got {value:?}"),
        Err(err) => {
            assert_eq!(err.code(), code, "{err}");
            err.to_string()
        }
    }
}

fn truncate(path: &Path, keep: u64) {
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(keep)
        .unwrap();
}

// ---------------------------------------------------------------------------
// TIFF

fn write_tiff<C>(
    path: &Path,
    width: u32,
    height: u32,
    pages: &[Vec<C::Inner>],
    compression: Compression,
) where
    C: colortype::ColorType,
    [C::Inner]: tiff::encoder::TiffValue,
{
    let mut encoder = TiffEncoder::new(File::create(path).unwrap())
        .unwrap()
        .with_compression(compression);
    for page in pages {
        encoder.write_image::<C>(width, height, page).unwrap();
    }
}

fn le_bytes<T: Copy, const N: usize>(values: &[T], to_le: fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| to_le(v)).collect()
}

macro_rules! check_tiff_type {
    ($dir:expr, $color:ty, $dtype:expr, $to_le:expr, $values:expr) => {{
        let path = $dir.join(format!("{}.tif", $dtype));
        let values = $values;
        write_tiff::<$color>(
            &path,
            5,
            4,
            std::slice::from_ref(&values),
            Compression::Uncompressed,
        );
        let volume = input::read(&path, None).unwrap();
        assert_eq!(volume.shape, [4, 5], "{}", $dtype);
        assert_eq!(volume.dtype, $dtype);
        assert_eq!(volume.bytes, le_bytes(&values, $to_le), "{}", $dtype);
    }};
}

#[test]
fn every_tiff_integer_and_float_type_reads_back_exactly() {
    let dir = TempDir::new().unwrap();
    let dir = dir.path();
    check_tiff_type!(
        dir,
        colortype::Gray8,
        Dtype::Uint8,
        u8::to_le_bytes,
        (0..20u8).map(|v| v * 13).collect::<Vec<_>>()
    );
    check_tiff_type!(
        dir,
        colortype::GrayI8,
        Dtype::Int8,
        i8::to_le_bytes,
        (-10..10i8).collect::<Vec<_>>()
    );
    check_tiff_type!(
        dir,
        colortype::Gray16,
        Dtype::Uint16,
        u16::to_le_bytes,
        (0..20u16).map(|v| v * 3001).collect::<Vec<_>>()
    );
    check_tiff_type!(
        dir,
        colortype::GrayI16,
        Dtype::Int16,
        i16::to_le_bytes,
        (-10..10i16).map(|v| v * 3001).collect::<Vec<_>>()
    );
    check_tiff_type!(
        dir,
        colortype::Gray32,
        Dtype::Uint32,
        u32::to_le_bytes,
        (0..20u32).map(|v| v * 200_000_003).collect::<Vec<_>>()
    );
    check_tiff_type!(
        dir,
        colortype::GrayI32,
        Dtype::Int32,
        i32::to_le_bytes,
        (-10..10i32).map(|v| v * 200_000_003).collect::<Vec<_>>()
    );
    check_tiff_type!(
        dir,
        colortype::Gray32Float,
        Dtype::Float32,
        f32::to_le_bytes,
        (0..20).map(|v| v as f32 * -0.37).collect::<Vec<_>>()
    );
    check_tiff_type!(
        dir,
        colortype::Gray64Float,
        Dtype::Float64,
        f64::to_le_bytes,
        (0..20).map(|v| v as f64 * 1.0e-9).collect::<Vec<_>>()
    );
}

fn stack_pages(pages: usize, width: u32, height: u32) -> Vec<Vec<u16>> {
    (0..pages)
        .map(|p| {
            (0..width * height)
                .map(|i| (p as u32 * 1000 + i * 7) as u16)
                .collect()
        })
        .collect()
}

#[test]
fn a_multi_page_stack_is_pages_by_height_by_width() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("stack.tif");
    let pages = stack_pages(3, 6, 4);
    write_tiff::<colortype::Gray16>(&path, 6, 4, &pages, Compression::Uncompressed);

    let info = input::probe(&path).unwrap();
    assert_eq!(info.kind, InputKind::Tiff);
    assert_eq!(info.shape, [3, 4, 6]);
    assert_eq!(info.dtype, Dtype::Uint16);
    assert_eq!(info.voxel_size, None);

    let volume = input::read(&path, None).unwrap();
    assert_eq!(volume.shape, info.shape);
    assert_eq!(volume.bytes, le_bytes(&pages.concat(), u16::to_le_bytes));
}

#[test]
fn compressed_tiffs_read_the_same_as_uncompressed() {
    let dir = TempDir::new().unwrap();
    let pages = stack_pages(2, 33, 17);
    let expected = le_bytes(&pages.concat(), u16::to_le_bytes);
    let compressions = [
        ("lzw", Compression::Lzw, Predictor::None),
        ("lzw_predictor", Compression::Lzw, Predictor::Horizontal),
        (
            "deflate",
            Compression::Deflate(DeflateLevel::Balanced),
            Predictor::None,
        ),
        ("packbits", Compression::Packbits, Predictor::None),
    ];
    for (name, compression, predictor) in compressions {
        let path = dir.path().join(format!("{name}.tif"));
        let mut encoder = TiffEncoder::new(File::create(&path).unwrap())
            .unwrap()
            .with_compression(compression)
            .with_predictor(predictor);
        for page in &pages {
            encoder
                .write_image::<colortype::Gray16>(33, 17, page)
                .unwrap();
        }
        drop(encoder);
        let volume = input::read(&path, None).unwrap();
        assert_eq!(volume.shape, [2, 17, 33], "{name}");
        assert_eq!(volume.bytes, expected, "{name}");
    }
}

#[test]
fn a_tiff_region_equals_the_slice_of_the_full_read() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("stack.tif");
    write_tiff::<colortype::Gray16>(&path, 9, 7, &stack_pages(5, 9, 7), Compression::Lzw);
    let full = input::read(&path, None).unwrap();

    for crop in [
        region(&[1, 2, 3], &[3, 4, 5]),
        region(&[4, 0, 0], &[1, 7, 9]),
        region(&[0, 6, 8], &[5, 1, 1]),
    ] {
        let part = input::read(&path, Some(&crop)).unwrap();
        assert_eq!(part.shape, crop.size);
        assert_eq!(part.bytes, slice(&full, &crop), "{crop:?}");
    }

    let single = dir.path().join("single.tif");
    write_tiff::<colortype::Gray16>(
        &single,
        9,
        7,
        &stack_pages(1, 9, 7),
        Compression::Uncompressed,
    );
    let full = input::read(&single, None).unwrap();
    let crop = region(&[2, 1], &[3, 6]);
    assert_eq!(
        input::read(&single, Some(&crop)).unwrap().bytes,
        slice(&full, &crop)
    );
}

#[test]
fn rgb_pages_keep_their_samples_as_the_last_axis() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("rgb.tif");
    let pixels: Vec<u8> = (0..3 * 2 * 3).map(|v| v * 11).collect();
    write_tiff::<colortype::RGB8>(
        &path,
        3,
        2,
        std::slice::from_ref(&pixels),
        Compression::Uncompressed,
    );
    let volume = input::read(&path, None).unwrap();
    assert_eq!(volume.shape, [2, 3, 3]);
    assert_eq!(volume.bytes, pixels);
}

#[test]
fn planar_samples_come_before_the_rows() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("planar.tif");
    let tiff = HandTiff {
        planes: 3,
        ..plain_tiff(true, 16, 1, 4, 2)
    };
    std::fs::write(&path, tiff.bytes(&pattern(Dtype::Uint16, 24, true), None)).unwrap();
    let volume = input::read(&path, None).unwrap();
    assert_eq!(volume.shape, [3, 2, 4]);
    assert_eq!(volume.bytes, pattern(Dtype::Uint16, 24, false));

    let crop = region(&[1, 1, 1], &[2, 1, 2]);
    assert_eq!(
        input::read(&path, Some(&crop)).unwrap().bytes,
        slice(&volume, &crop)
    );
}

#[test]
fn pages_of_different_sizes_are_refused_naming_the_page() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("mixed.tif");
    let mut encoder = TiffEncoder::new(File::create(&path).unwrap()).unwrap();
    encoder
        .write_image::<colortype::Gray16>(4, 4, &[1; 16])
        .unwrap();
    encoder
        .write_image::<colortype::Gray16>(8, 8, &[1; 64])
        .unwrap();
    drop(encoder);
    let message = assert_code(input::probe(&path), "input-unsupported");
    assert!(message.contains("page 1 is 8 x 8 uint16"), "{message}");
    assert!(message.contains("mixed.tif"), "{message}");
}

#[test]
fn a_tiff_cut_short_is_truncated() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("cut.tif");
    write_tiff::<colortype::Gray16>(
        &path,
        64,
        64,
        &stack_pages(4, 64, 64),
        Compression::Uncompressed,
    );
    let len = std::fs::metadata(&path).unwrap().len();
    truncate(&path, len * 3 / 5);
    let message = assert_code(input::probe(&path), "input-truncated");
    assert!(
        message.contains("cut.tif") && message.contains("copy it again"),
        "{message}"
    );
    assert_code(input::read(&path, None), "input-truncated");
}

/// Builds a one-page TIFF by hand: header, directory, then pixel data in strips
/// or square tiles, in either byte order.
struct HandTiff {
    big_endian: bool,
    width: u32,
    height: u32,
    bits: u16,
    sample_format: u16,
    compression: u16,
    tile: Option<u32>,
    /// Samples per pixel, each stored as its own plane of strips.
    planes: u32,
}

impl HandTiff {
    /// `pixels` are row-major elements already in the file's byte order;
    /// `stored` overrides the byte count of the data (for damaged headers).
    fn bytes(&self, pixels: &[u8], stored: Option<u32>) -> Vec<u8> {
        let element = u32::from(self.bits / 8);
        let chunks: Vec<Vec<u8>> = match self.tile {
            None => pixels
                .chunks(pixels.len() / self.planes as usize)
                .map(<[u8]>::to_vec)
                .collect(),
            Some(tile) => {
                let mut chunks = Vec::new();
                for ty in 0..self.height / tile {
                    for tx in 0..self.width / tile {
                        let mut chunk = Vec::new();
                        for row in ty * tile..(ty + 1) * tile {
                            let from = ((row * self.width + tx * tile) * element) as usize;
                            chunk
                                .extend_from_slice(&pixels[from..from + (tile * element) as usize]);
                        }
                        chunks.push(chunk);
                    }
                }
                chunks
            }
        };

        let (offsets_tag, counts_tag) = if self.tile.is_some() {
            (324, 325)
        } else {
            (273, 279)
        };
        let mut entries: Vec<(u16, u16, Vec<u32>)> = vec![
            (256, 4, vec![self.width]),
            (257, 4, vec![self.height]),
            (258, 3, vec![u32::from(self.bits)]),
            (259, 3, vec![u32::from(self.compression)]),
            (262, 3, vec![1]),
            (277, 3, vec![self.planes]),
            (339, 3, vec![u32::from(self.sample_format)]),
        ];
        if self.planes > 1 {
            entries.push((284, 3, vec![2]));
        }
        match self.tile {
            None => entries.push((278, 4, vec![self.height])),
            Some(tile) => {
                entries.push((322, 4, vec![tile]));
                entries.push((323, 4, vec![tile]));
            }
        }
        let directory_len = 2 + 12 * (entries.len() as u32 + 2) + 4;
        let arrays_at = 8 + directory_len;
        let arrays_len = if chunks.len() > 1 {
            8 * chunks.len() as u32
        } else {
            0
        };
        let mut data_at = arrays_at + arrays_len;
        let mut offsets = Vec::new();
        for chunk in &chunks {
            offsets.push(data_at);
            data_at += chunk.len() as u32;
        }
        let counts: Vec<u32> = chunks
            .iter()
            .map(|c| stored.unwrap_or(c.len() as u32))
            .collect();
        entries.push((offsets_tag, 4, offsets.clone()));
        entries.push((counts_tag, 4, counts.clone()));
        entries.sort_by_key(|e| e.0);

        let u16b = |v: u16| {
            if self.big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let u32b = |v: u32| {
            if self.big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut file = Vec::new();
        file.extend_from_slice(if self.big_endian { b"MM\0*" } else { b"II*\0" });
        file.extend_from_slice(&u32b(8));
        file.extend_from_slice(&u16b(entries.len() as u16));
        let mut array_cursor = arrays_at;
        let mut arrays = Vec::new();
        for (tag, kind, values) in &entries {
            file.extend_from_slice(&u16b(*tag));
            file.extend_from_slice(&u16b(*kind));
            file.extend_from_slice(&u32b(values.len() as u32));
            if values.len() == 1 {
                if *kind == 3 {
                    file.extend_from_slice(&u16b(values[0] as u16));
                    file.extend_from_slice(&[0, 0]);
                } else {
                    file.extend_from_slice(&u32b(values[0]));
                }
            } else {
                file.extend_from_slice(&u32b(array_cursor));
                array_cursor += 4 * values.len() as u32;
                for value in values {
                    arrays.extend_from_slice(&u32b(*value));
                }
            }
        }
        file.extend_from_slice(&u32b(0));
        assert_eq!(file.len() as u32, arrays_at);
        file.extend_from_slice(&arrays);
        file.resize(
            data_at as usize - chunks.iter().map(Vec::len).sum::<usize>(),
            0,
        );
        for chunk in &chunks {
            file.extend_from_slice(chunk);
        }
        file
    }
}

fn plain_tiff(
    big_endian: bool,
    bits: u16,
    sample_format: u16,
    width: u32,
    height: u32,
) -> HandTiff {
    HandTiff {
        big_endian,
        width,
        height,
        bits,
        sample_format,
        compression: 1,
        tile: None,
        planes: 1,
    }
}

#[test]
fn big_endian_and_float16_tiffs_are_returned_little_endian() {
    let dir = TempDir::new().unwrap();
    for (dtype, bits, sample_format) in [
        (Dtype::Uint16, 16, 1),
        (Dtype::Int32, 32, 2),
        (Dtype::Float16, 16, 3),
        (Dtype::Float32, 32, 3),
    ] {
        for big_endian in [false, true] {
            let path = dir.path().join(format!("{dtype}-{big_endian}.tif"));
            let file = plain_tiff(big_endian, bits, sample_format, 6, 5)
                .bytes(&pattern(dtype, 30, big_endian), None);
            std::fs::write(&path, file).unwrap();
            let volume = input::read(&path, None).unwrap();
            assert_eq!((volume.dtype, volume.shape.clone()), (dtype, vec![5, 6]));
            assert_eq!(
                volume.bytes,
                pattern(dtype, 30, false),
                "{dtype} big {big_endian}"
            );
        }
    }
}

#[test]
fn tiled_tiffs_are_assembled_in_place() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("tiled.tif");
    let tiff = HandTiff {
        tile: Some(16),
        ..plain_tiff(true, 16, 1, 32, 48)
    };
    std::fs::write(
        &path,
        tiff.bytes(&pattern(Dtype::Uint16, 32 * 48, true), None),
    )
    .unwrap();
    let volume = input::read(&path, None).unwrap();
    assert_eq!(volume.shape, [48, 32]);
    assert_eq!(volume.bytes, pattern(Dtype::Uint16, 32 * 48, false));

    // The last tile cut off: its end lies past the end of the file.
    let len = std::fs::metadata(&path).unwrap().len();
    truncate(&path, len - 100);
    let message = assert_code(input::probe(&path), "input-truncated");
    assert!(
        message.contains(&format!(
            "ends at byte {len} but the file has {}",
            len - 100
        )),
        "{message}"
    );
}

#[test]
fn a_tiff_header_claiming_huge_pages_is_refused_without_allocating() {
    let dir = TempDir::new().unwrap();
    let pixels = vec![0u8; 64];

    // 4 G x 4 G uncompressed pixels said to be stored in 64 bytes.
    let path = dir.path().join("huge.tif");
    let file = plain_tiff(false, 16, 1, u32::MAX, u32::MAX).bytes(&pixels, None);
    std::fs::write(&path, file).unwrap();
    let message = assert_code(input::probe(&path), "input-invalid");
    assert!(
        message.contains("4294967295 x 4294967295 pixels"),
        "{message}"
    );
    assert_code(input::read(&path, None), "input-invalid");

    // The same behind LZW, which cannot expand 64 bytes that far.
    let path = dir.path().join("bomb.tif");
    let bomb = HandTiff {
        compression: 5,
        ..plain_tiff(false, 16, 1, 1 << 20, 1 << 20)
    };
    std::fs::write(&path, bomb.bytes(&pixels, None)).unwrap();
    let message = assert_code(input::probe(&path), "input-invalid");
    assert!(
        message.contains("more than any supported compression expands"),
        "{message}"
    );

    // A strip whose byte count runs past 2^32 and the end of the file.
    let path = dir.path().join("long_strip.tif");
    let file = plain_tiff(false, 16, 1, 4, 8).bytes(&pixels, Some(u32::MAX));
    std::fs::write(&path, file).unwrap();
    assert_code(input::probe(&path), "input-truncated");
}

#[test]
fn twelve_bit_and_uint64_tiffs_are_unsupported_naming_the_type() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("u64.tif");
    std::fs::write(&path, plain_tiff(false, 64, 1, 2, 2).bytes(&[0; 32], None)).unwrap();
    let message = assert_code(input::probe(&path), "input-unsupported");
    assert!(message.contains("uint64"), "{message}");

    let path = dir.path().join("jpeg.tif");
    let jpeg = HandTiff {
        compression: 7,
        ..plain_tiff(false, 8, 1, 2, 2)
    };
    std::fs::write(&path, jpeg.bytes(&[0; 4], None)).unwrap();
    let message = assert_code(input::probe(&path), "input-unsupported");
    assert!(message.contains("JPEG"), "{message}");
}

// ---------------------------------------------------------------------------
// MRC

/// An MRC file made by hand.
struct HandMrc {
    /// Columns, rows, sections.
    size: [i32; 3],
    mode: i32,
    big_endian: bool,
    extended: Vec<u8>,
    cell: [f32; 3],
    imod_unsigned: bool,
}

impl HandMrc {
    fn new(size: [i32; 3], mode: i32, big_endian: bool) -> HandMrc {
        HandMrc {
            size,
            mode,
            big_endian,
            extended: Vec::new(),
            cell: [0.0; 3],
            imod_unsigned: false,
        }
    }

    /// `data` is already in the file's byte order.
    fn bytes(&self, data: &[u8]) -> Vec<u8> {
        let mut header = vec![0u8; 1024];
        let big = self.big_endian;
        let mut put =
            |offset: usize, word: [u8; 4]| header[offset..offset + 4].copy_from_slice(&word);
        let int = |v: i32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let float = |v: f32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        for axis in 0..3 {
            put(4 * axis, int(self.size[axis]));
            put(28 + 4 * axis, int(self.size[axis]));
            put(40 + 4 * axis, float(self.cell[axis]));
            put(52 + 4 * axis, float(90.0));
            put(64 + 4 * axis, int(axis as i32 + 1));
        }
        put(12, int(self.mode));
        put(92, int(self.extended.len() as i32));
        if self.imod_unsigned {
            put(152, int(1_146_047_817));
        }
        put(208, *b"MAP ");
        put(
            212,
            if big {
                [0x11, 0x11, 0, 0]
            } else {
                [0x44, 0x44, 0, 0]
            },
        );
        let mut file = header;
        file.extend_from_slice(&self.extended);
        file.extend_from_slice(data);
        file
    }
}

fn mrc_volume(dir: &Path, name: &str, mrc: &HandMrc, dtype: Dtype) -> (PathBuf, Vec<u8>) {
    let count = mrc.size.iter().product::<i32>() as usize;
    let path = dir.join(name);
    std::fs::write(&path, mrc.bytes(&pattern(dtype, count, mrc.big_endian))).unwrap();
    (path, pattern(dtype, count, false))
}

#[test]
fn every_mrc_mode_reads_back_in_both_byte_orders() {
    let dir = TempDir::new().unwrap();
    let modes = [
        (0, Dtype::Int8),
        (1, Dtype::Int16),
        (2, Dtype::Float32),
        (6, Dtype::Uint16),
        (12, Dtype::Float16),
    ];
    for (mode, dtype) in modes {
        for big_endian in [false, true] {
            let mrc = HandMrc::new([5, 4, 3], mode, big_endian);
            let name = format!("mode{mode}-{big_endian}.mrc");
            let (path, expected) = mrc_volume(dir.path(), &name, &mrc, dtype);
            let info = input::probe(&path).unwrap();
            assert_eq!((info.kind, info.dtype), (InputKind::Mrc, dtype), "{name}");
            assert_eq!(info.shape, [3, 4, 5]);
            let volume = input::read(&path, None).unwrap();
            assert_eq!(volume.bytes, expected, "{name}");
        }
    }
}

#[test]
fn imod_unsigned_bytes_read_as_uint8() {
    let dir = TempDir::new().unwrap();
    let mrc = HandMrc {
        imod_unsigned: true,
        ..HandMrc::new([4, 4, 2], 0, false)
    };
    let (path, expected) = mrc_volume(dir.path(), "imod.rec", &mrc, Dtype::Uint8);
    let volume = input::read(&path, None).unwrap();
    assert_eq!(volume.dtype, Dtype::Uint8);
    assert_eq!(volume.bytes, expected);
}

#[test]
fn the_extended_header_is_skipped_exactly() {
    let dir = TempDir::new().unwrap();
    let mrc = HandMrc {
        extended: vec![0xab; 131],
        ..HandMrc::new([6, 5, 4], 1, true)
    };
    let (path, expected) = mrc_volume(dir.path(), "fei.mrc", &mrc, Dtype::Int16);
    let volume = input::read(&path, None).unwrap();
    assert_eq!(volume.bytes, expected);
    assert!(!volume.bytes.windows(2).any(|w| w == [0xab, 0xab]));
}

#[test]
fn mrc_voxel_size_comes_from_cell_over_grid_slowest_axis_first() {
    let dir = TempDir::new().unwrap();
    let mrc = HandMrc {
        cell: [10.0, 8.0, 12.0],
        ..HandMrc::new([5, 4, 3], 2, false)
    };
    let (path, _) = mrc_volume(dir.path(), "cell.mrc", &mrc, Dtype::Float32);
    let info = input::probe(&path).unwrap();
    assert_eq!(info.voxel_size, Some(vec![4.0, 2.0, 2.0]));
}

#[test]
fn a_single_section_mrc_is_two_dimensional() {
    let dir = TempDir::new().unwrap();
    let mrc = HandMrc::new([7, 3, 1], 6, false);
    let (path, expected) = mrc_volume(dir.path(), "image.mrc", &mrc, Dtype::Uint16);
    let volume = input::read(&path, None).unwrap();
    assert_eq!(volume.shape, [3, 7]);
    assert_eq!(volume.bytes, expected);
}

#[test]
fn an_mrc_region_equals_the_slice_of_the_full_read() {
    let dir = TempDir::new().unwrap();
    for big_endian in [false, true] {
        let mrc = HandMrc {
            extended: vec![1; 64],
            ..HandMrc::new([11, 9, 6], 2, big_endian)
        };
        let (path, _) = mrc_volume(
            dir.path(),
            &format!("crop-{big_endian}.mrc"),
            &mrc,
            Dtype::Float32,
        );
        let full = input::read(&path, None).unwrap();
        for crop in [
            region(&[1, 2, 3], &[4, 5, 6]),
            region(&[5, 8, 10], &[1, 1, 1]),
            region(&[0, 0, 0], &[6, 9, 11]),
            region(&[2, 0, 0], &[2, 9, 11]),
        ] {
            let part = input::read(&path, Some(&crop)).unwrap();
            assert_eq!(part.shape, crop.size);
            assert_eq!(part.bytes, slice(&full, &crop), "{crop:?} big {big_endian}");
        }
    }
}

#[test]
fn an_mrc_cut_short_is_truncated() {
    let dir = TempDir::new().unwrap();
    let (path, _) = mrc_volume(
        dir.path(),
        "cut.mrc",
        &HandMrc::new([8, 8, 8], 2, false),
        Dtype::Float32,
    );
    truncate(&path, 1024 + 2000);
    let message = assert_code(input::probe(&path), "input-truncated");
    assert!(
        message.contains("`") && message.contains("cut.mrc"),
        "{message}"
    );
    assert!(
        message.contains("ends at byte 3072 ") && message.contains("3024 bytes"),
        "{message}"
    );
    assert_code(input::read(&path, None), "input-truncated");

    truncate(&path, 500);
    assert_code(input::probe(&path), "input-truncated");
}

#[test]
fn a_hostile_mrc_header_gives_an_error_not_a_panic() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("hostile.mrc");

    std::fs::write(&path, HandMrc::new([i32::MAX; 3], 2, false).bytes(&[])).unwrap();
    assert_code(input::probe(&path), "input-invalid");
    assert_code(input::read(&path, None), "input-invalid");

    std::fs::write(
        &path,
        HandMrc::new([1 << 20, 1 << 20, 1 << 10], 2, false).bytes(&[]),
    )
    .unwrap();
    assert_code(input::read(&path, None), "input-truncated");

    std::fs::write(&path, HandMrc::new([-4, 4, 4], 2, false).bytes(&[0; 64])).unwrap();
    assert_code(input::probe(&path), "input-invalid");
}

#[test]
fn complex_mrc_modes_are_unsupported_naming_the_mode() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("complex.mrc");
    std::fs::write(&path, HandMrc::new([2, 2, 2], 4, false).bytes(&[0; 64])).unwrap();
    let message = assert_code(input::probe(&path), "input-unsupported");
    assert!(
        message.contains("mode 4") && message.contains("12 (float16)"),
        "{message}"
    );
}

#[test]
fn mrc_is_recognised_by_stamp_or_by_extension() {
    let dir = TempDir::new().unwrap();
    let mrc = HandMrc::new([3, 3, 3], 1, false);
    let (stamped, _) = mrc_volume(dir.path(), "volume.bin", &mrc, Dtype::Int16);
    assert_eq!(input::probe(&stamped).unwrap().kind, InputKind::Mrc);

    let mut unstamped = mrc.bytes(&pattern(Dtype::Int16, 27, false));
    unstamped[208..216].fill(0);
    let path = dir.path().join("old.ccp4");
    std::fs::write(&path, &unstamped).unwrap();
    assert_eq!(input::probe(&path).unwrap().shape, [3, 3, 3]);

    let path = dir.path().join("old.bin");
    std::fs::write(&path, &unstamped).unwrap();
    assert_code(input::probe(&path), "input-unsupported");
}

// ---------------------------------------------------------------------------
// Zarr

fn v3_array(
    dir: &Path,
    shape: &[u64],
    chunks: &[u64],
    dtype: Dtype,
    fill: Vec<u8>,
) -> Array<FilesystemStore> {
    let store = Arc::new(FilesystemStore::new(dir).unwrap());
    let data_type = match dtype {
        Dtype::Uint16 => data_type::uint16(),
        Dtype::Float16 => data_type::float16(),
        Dtype::Float32 => data_type::float32(),
        Dtype::Int8 => data_type::int8(),
        other => panic!("no test array for {other}"),
    };
    let mut builder = ArrayBuilder::new(
        shape.to_vec(),
        chunks.to_vec(),
        data_type,
        FillValue::new(fill),
    );
    builder.bytes_to_bytes_codecs(vec![Arc::new(ZstdCodec::new(3, false))]);
    let array = builder.build(store, "/").unwrap();
    array.store_metadata().unwrap();
    array
}

#[test]
fn zarr_v3_arrays_read_back_as_written() {
    let dir = TempDir::new().unwrap();
    for dtype in [Dtype::Uint16, Dtype::Float16, Dtype::Float32, Dtype::Int8] {
        let path = dir.path().join(format!("{dtype}.zarr"));
        let shape = [5u64, 6, 7];
        let array = v3_array(&path, &shape, &[2, 4, 7], dtype, vec![0; dtype.size()]);
        let bytes = pattern(dtype, 5 * 6 * 7, false);
        let whole = ArraySubset::new_with_shape(shape.to_vec());
        array
            .store_array_subset(&whole, ArrayBytes::from(bytes.as_slice()))
            .unwrap();

        let info = input::probe(&path).unwrap();
        assert_eq!(
            (info.kind, info.dtype, info.shape.clone()),
            (InputKind::Zarr, dtype, shape.to_vec())
        );
        let volume = input::read(&path, None).unwrap();
        assert_eq!(volume.bytes, bytes, "{dtype}");
        let crop = region(&[1, 2, 3], &[4, 3, 2]);
        assert_eq!(
            input::read(&path, Some(&crop)).unwrap().bytes,
            slice(&volume, &crop),
            "{dtype}"
        );
    }
}

#[test]
fn missing_zarr_chunks_read_as_the_fill_value() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("sparse.zarr");
    let array = v3_array(
        &path,
        &[4, 4],
        &[2, 4],
        Dtype::Uint16,
        7u16.to_le_bytes().to_vec(),
    );
    let written = pattern(Dtype::Uint16, 8, false);
    let first_rows = ArraySubset::new_with_start_shape(vec![0, 0], vec![2, 4]).unwrap();
    array
        .store_array_subset(&first_rows, ArrayBytes::from(written.as_slice()))
        .unwrap();

    let volume = input::read(&path, None).unwrap();
    assert_eq!(&volume.bytes[..16], written.as_slice());
    assert_eq!(&volume.bytes[16..], [7, 0].repeat(8).as_slice());
}

fn write_zarray(
    dir: &Path,
    shape: &[u64],
    chunks: &[u64],
    dtype: &str,
    compressor: &str,
    order: &str,
) {
    std::fs::create_dir_all(dir).unwrap();
    let fill = if dtype == "|b1" { "false" } else { "0" };
    let zarray = format!(
        r#"{{"zarr_format": 2, "shape": {shape:?}, "chunks": {chunks:?}, "dtype": "{dtype}",
            "compressor": {compressor}, "fill_value": {fill}, "order": "{order}",
            "filters": null}}"#
    );
    std::fs::write(dir.join(".zarray"), zarray).unwrap();
}

#[test]
fn zarr_v2_raw_chunks_read_back_in_either_byte_order() {
    let dir = TempDir::new().unwrap();
    for (name, dtype_name, big_endian) in [("le", "<u2", false), ("be", ">u2", true)] {
        let path = dir.path().join(format!("{name}.zarr"));
        write_zarray(&path, &[4, 3], &[2, 3], dtype_name, "null", "C");
        let file_order = pattern(Dtype::Uint16, 12, big_endian);
        std::fs::write(path.join("0.0"), &file_order[..12]).unwrap();
        std::fs::write(path.join("1.0"), &file_order[12..]).unwrap();

        let volume = input::read(&path, None).unwrap();
        assert_eq!(
            (volume.dtype, volume.shape.clone()),
            (Dtype::Uint16, vec![4, 3])
        );
        assert_eq!(volume.bytes, pattern(Dtype::Uint16, 12, false), "{name}");
    }
}

#[test]
fn zarr_v2_fortran_order_is_returned_in_c_order() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("fortran.zarr");
    write_zarray(&path, &[2, 3], &[2, 3], "|u1", "null", "F");
    // Column-major: (0,0) (1,0) (0,1) (1,1) (0,2) (1,2).
    std::fs::write(path.join("0.0"), [0u8, 10, 1, 11, 2, 12]).unwrap();
    let volume = input::read(&path, None).unwrap();
    assert_eq!(volume.bytes, [0, 1, 2, 10, 11, 12]);
}

#[test]
fn zarr_v2_zstd_zlib_and_blosc_chunks_decode() {
    let dir = TempDir::new().unwrap();
    let bytes = pattern(Dtype::Float32, 6 * 5, false);

    let path = dir.path().join("zstd.zarr");
    write_zarray(
        &path,
        &[6, 5],
        &[6, 5],
        "<f4",
        r#"{"id": "zstd", "level": 3}"#,
        "C",
    );
    std::fs::write(
        path.join("0.0"),
        zstd::encode_all(bytes.as_slice(), 3).unwrap(),
    )
    .unwrap();
    assert_eq!(input::read(&path, None).unwrap().bytes, bytes, "zstd");

    let path = dir.path().join("zlib.zarr");
    write_zarray(
        &path,
        &[6, 5],
        &[6, 5],
        "<f4",
        r#"{"id": "zlib", "level": 5}"#,
        "C",
    );
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&bytes).unwrap();
    std::fs::write(path.join("0.0"), encoder.finish().unwrap()).unwrap();
    assert_eq!(input::read(&path, None).unwrap().bytes, bytes, "zlib");

    // Blosc chunks are written by zarrs through the hand-written v2 metadata.
    let path = dir.path().join("blosc.zarr");
    let blosc = r#"{"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}"#;
    write_zarray(&path, &[6, 5], &[3, 5], "<f4", blosc, "C");
    let array = Array::open(Arc::new(FilesystemStore::new(&path).unwrap()), "/").unwrap();
    let whole = ArraySubset::new_with_shape(vec![6, 5]);
    array
        .store_array_subset(&whole, ArrayBytes::from(bytes.as_slice()))
        .unwrap();
    let chunk = std::fs::read(path.join("1.0")).unwrap();
    assert_ne!(chunk.as_slice(), &bytes[60..], "the chunk is blosc-framed");
    let volume = input::read(&path, None).unwrap();
    assert_eq!(volume.bytes, bytes, "blosc");
    let crop = region(&[2, 1], &[3, 2]);
    assert_eq!(
        input::read(&path, Some(&crop)).unwrap().bytes,
        slice(&volume, &crop)
    );
}

#[test]
fn a_zarr_group_asks_for_an_array_inside_it() {
    let dir = TempDir::new().unwrap();
    let group = dir.path().join("plate.zarr");
    std::fs::create_dir_all(&group).unwrap();
    std::fs::write(
        group.join("zarr.json"),
        r#"{"zarr_format": 3, "node_type": "group", "attributes": {}}"#,
    )
    .unwrap();
    v3_array(
        &group.join("A").join("0"),
        &[2, 2],
        &[2, 2],
        Dtype::Uint16,
        vec![0, 0],
    );
    let message = assert_code(input::probe(&group), "input-invalid");
    assert!(
        message.contains("is a Zarr group, not an array"),
        "{message}"
    );
    assert!(
        message.contains(&format!("{}", group.join("A").join("0").display())),
        "{message}"
    );

    let v2_group = dir.path().join("old.zarr");
    std::fs::create_dir_all(&v2_group).unwrap();
    std::fs::write(v2_group.join(".zgroup"), r#"{"zarr_format": 2}"#).unwrap();
    let message = assert_code(input::read(&v2_group, None), "input-invalid");
    assert!(message.contains("no array was found"), "{message}");
}

#[test]
fn zarr_element_types_outside_the_benchmark_are_unsupported() {
    let dir = TempDir::new().unwrap();
    for (dtype_name, shown) in [("<u8", "uint64"), ("<i8", "int64"), ("|b1", "bool")] {
        let path = dir.path().join(format!("{shown}.zarr"));
        write_zarray(&path, &[2], &[2], dtype_name, "null", "C");
        let message = assert_code(input::probe(&path), "input-unsupported");
        assert!(message.contains(shown), "{message}");
        assert!(message.contains("uint8, uint16"), "{message}");
    }
}

#[test]
fn a_truncated_zarr_metadata_file_is_truncated() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("cut.zarr");
    v3_array(&path, &[4, 4], &[2, 2], Dtype::Uint16, vec![0, 0]);
    let metadata = path.join("zarr.json");
    let len = std::fs::metadata(&metadata).unwrap().len();
    truncate(&metadata, len / 2);
    let message = assert_code(input::probe(&path), "input-truncated");
    assert!(message.contains("zarr.json"), "{message}");
}

#[test]
fn a_truncated_zarr_chunk_fails_the_read() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("chunk.zarr");
    write_zarray(&path, &[4, 4], &[4, 4], "<u2", "null", "C");
    std::fs::write(path.join("0.0"), [0u8; 20]).unwrap();
    assert!(input::probe(&path).is_ok());
    let message = assert_code(input::read(&path, None), "input-invalid");
    assert!(message.contains("damaged or truncated"), "{message}");
}

#[test]
fn a_zarr_shape_larger_than_memory_is_refused_without_panicking() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("vast.zarr");
    let side = 1u64 << 40;
    write_zarray(&path, &[side; 3], &[1 << 10; 3], "<u2", "null", "C");
    let info = input::probe(&path).unwrap();
    assert_eq!(info.num_bytes(), u64::MAX);
    let message = assert_code(input::read(&path, None), "input-invalid");
    assert!(message.contains("read a smaller region"), "{message}");

    let crop = region(&[side - 2, 0, 5], &[2, 1, 3]);
    let volume = input::read(&path, Some(&crop)).unwrap();
    assert_eq!(volume.bytes, vec![0; 12]);
}

#[test]
fn zarr_chunks_too_large_to_decode_are_refused_without_panicking() {
    let dir = TempDir::new().unwrap();
    for (name, chunks) in [
        ("overflowing", [1u64 << 40, 1 << 40]),
        ("terabyte", [1 << 20, 1 << 20]),
    ] {
        let path = dir.path().join(format!("{name}.zarr"));
        write_zarray(&path, &[4, 4], &chunks, "<u2", "null", "C");
        std::fs::write(path.join("0.0"), [0u8; 32]).unwrap();
        let message = assert_code(input::probe(&path), "input-unsupported");
        assert!(message.contains("rechunk the array"), "{message}");
        assert_code(input::read(&path, None), "input-unsupported");
    }
}

#[test]
fn a_zarr_metadata_file_path_opens_its_array() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("named.zarr");
    let array = v3_array(&path, &[3], &[3], Dtype::Int8, vec![0]);
    array
        .store_array_subset(
            &ArraySubset::new_with_shape(vec![3]),
            ArrayBytes::from(&[1u8, 2, 3][..]),
        )
        .unwrap();
    let volume = input::read(&path.join("zarr.json"), None).unwrap();
    assert_eq!(volume.bytes, [1, 2, 3]);
}

// ---------------------------------------------------------------------------
// Any kind

#[test]
fn a_missing_path_is_not_found_and_named() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("nowhere.tif");
    let message = assert_code(input::probe(&path), "input-not-found");
    assert!(message.contains("nowhere.tif"), "{message}");
    assert_code(input::read(&path, None), "input-not-found");
}

#[test]
fn an_unknown_file_is_unsupported_listing_the_supported_kinds() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("picture.png");
    std::fs::write(&path, b"\x89PNG\r\n\x1a\n0000000000000000").unwrap();
    let message = assert_code(input::probe(&path), "input-unsupported");
    assert!(
        message.contains("TIFF") && message.contains("MRC") && message.contains("Zarr"),
        "{message}"
    );

    let empty_dir = dir.path().join("folder");
    std::fs::create_dir(&empty_dir).unwrap();
    let message = assert_code(input::probe(&empty_dir), "input-unsupported");
    assert!(
        message.contains("without zarr.json or .zarray"),
        "{message}"
    );
}

#[test]
fn a_region_that_does_not_fit_is_invalid_for_every_kind() {
    let dir = TempDir::new().unwrap();
    let tif = dir.path().join("small.tif");
    write_tiff::<colortype::Gray8>(&tif, 4, 4, &[vec![0; 16]], Compression::Uncompressed);
    let (mrc, _) = mrc_volume(
        dir.path(),
        "small.mrc",
        &HandMrc::new([4, 4, 2], 0, false),
        Dtype::Int8,
    );
    let zarr = dir.path().join("small.zarr");
    v3_array(&zarr, &[4, 4], &[4, 4], Dtype::Uint16, vec![0, 0]);

    let message = assert_code(
        input::read(&tif, Some(&region(&[0, 2], &[4, 3]))),
        "input-invalid",
    );
    assert!(
        message.contains("small.tif") && message.contains("axis 1"),
        "{message}"
    );
    assert_code(
        input::read(&mrc, Some(&region(&[0, 0], &[1, 1]))),
        "input-invalid",
    );
    assert_code(
        input::read(&zarr, Some(&region(&[4, 0], &[1, 1]))),
        "input-invalid",
    );
}

#[test]
fn a_truncated_tiff_named_like_one_without_a_signature_is_truncated() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("stub.tif");
    std::fs::write(&path, b"II").unwrap();
    assert_code(input::probe(&path), "input-truncated");
}

/// A small deterministic xorshift generator for damaging files.
struct Damage(u64);

impl Damage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Overwrites one to four bytes among the first `limit` with `alphabet`'s.
    fn apply(&mut self, bytes: &mut [u8], limit: usize, alphabet: &[u8]) {
        for _ in 0..1 + self.next() % 4 {
            let at = self.next() as usize % limit.min(bytes.len());
            bytes[at] = alphabet[self.next() as usize % alphabet.len()];
        }
    }
}

/// Probes and reads `path`; any error must be one about the file, never a
/// failure of the machine, and nothing may panic.
fn outcome(path: &Path) -> String {
    let codes = [input::probe(path).err(), input::read(path, None).err()]
        .map(|e| e.map_or("ok", |e| e.code()));
    assert!(
        !codes.contains(&"input-io"),
        "{}: {codes:?}",
        path.display()
    );
    codes.join(" ")
}

#[test]
fn randomly_damaged_files_give_errors_never_panics() {
    let dir = TempDir::new().unwrap();
    let stack = dir.path().join("stack.tif");
    write_tiff::<colortype::Gray16>(&stack, 9, 7, &stack_pages(3, 9, 7), Compression::Lzw);
    let tiled = HandTiff {
        tile: Some(16),
        ..plain_tiff(true, 16, 1, 32, 32)
    };
    let mrc = HandMrc {
        extended: vec![1; 16],
        ..HandMrc::new([5, 4, 3], 2, true)
    };
    let seeds = [
        ("stack.tif", std::fs::read(&stack).unwrap(), usize::MAX),
        (
            "tiled.tif",
            tiled.bytes(&pattern(Dtype::Uint16, 1024, true), None),
            512,
        ),
        (
            "damaged.mrc",
            mrc.bytes(&pattern(Dtype::Float32, 60, true)),
            1024,
        ),
    ];
    let every_byte: Vec<u8> = (0..=255).collect();
    let mut damage = Damage(0x9e37_79b9_7f4a_7c15);
    let mut outcomes = std::collections::BTreeSet::new();
    for round in 0..3000 {
        let (name, seed, limit) = &seeds[round % seeds.len()];
        let mut bytes = seed.clone();
        damage.apply(&mut bytes, *limit, &every_byte);
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        outcomes.insert(outcome(&path));
    }

    let zarr = dir.path().join("damaged.zarr");
    let chunk = zstd::encode_all(pattern(Dtype::Float32, 15, false).as_slice(), 3).unwrap();
    for _ in 0..300 {
        write_zarray(
            &zarr,
            &[6, 5],
            &[3, 5],
            "<f4",
            r#"{"id": "zstd", "level": 3}"#,
            "C",
        );
        std::fs::write(zarr.join("0.0"), &chunk).unwrap();
        let mut metadata = std::fs::read(zarr.join(".zarray")).unwrap();
        damage.apply(&mut metadata, usize::MAX, b"0123456789-,[]{}\" :e.x");
        std::fs::write(zarr.join(".zarray"), &metadata).unwrap();
        outcomes.insert(outcome(&zarr));
    }

    // The damage reached every kind of refusal, not only one.
    for code in ["input-invalid", "input-truncated", "input-unsupported"] {
        assert!(outcomes.iter().any(|o| o.contains(code)), "{outcomes:?}");
    }
}
