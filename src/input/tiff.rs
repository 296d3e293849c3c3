//! TIFF images and multi-page stacks, decoded with the `tiff` crate.
//!
//! - **Pages**: every page of the main chain of image directories is one
//!   plane; all must share size, samples and element type. A single page is
//!   `[height, width]`, a stack `[pages, height, width]`. Sub-resolution
//!   images kept in SubIFDs (OME-TIFF pyramids) are not in that chain and are
//!   ignored; a reduced-resolution page in the chain itself has a different
//!   size and is refused with the pages that differ named.
//!   ImageJ hyperstacks (channels, slices, frames) read as one axis of pages
//!   in file order.
//! - **Samples**: pages with several samples per pixel (RGB, multi-channel)
//!   keep them as an axis where the file stores them, as tifffile presents
//!   them: interleaved samples are the last axis (`[..., height, width,
//!   samples]`), separate planes come before the rows (`[..., samples, height,
//!   width]`).
//! - **Element types**: 8, 16 and 32-bit unsigned and signed integers, 16, 32
//!   and 64-bit IEEE floats. 64-bit integers and sub-byte or 12-bit samples are
//!   refused.
//! - **Compression**: none, LZW, Deflate, PackBits and Zstandard, with or
//!   without a predictor, in strips or tiles. JPEG, fax and WebP pages are
//!   refused.
//! - **Byte order**: both; the decoded elements are turned little-endian.
//!
//! [`probe`] walks every page's directory and checks that each strip or tile
//! lies inside the file, and that the pixels a page claims could come from the
//! bytes it stores, without decoding anything. Reading a region decodes only
//! the pages in its first-axis range (for a stack), each page whole.
//!
//! ImageJ's files over 4 GiB, which record only the first page's directory and
//! the page count in a text tag, read as their first page only.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use ::tiff::decoder::{ChunkType, Decoder, DecodingSampleType, Limits};
use ::tiff::tags::Tag;
use ::tiff::{ColorType, TiffError};

use super::region::append_block;
use super::{
    InputError, InputInfo, InputKind, Region, buffer_for, native_to_little_endian, region_buffer,
    shown,
};
use crate::data::{Dtype, Volume};

/// The most a compressed page may expand: above what Deflate, LZW, PackBits and
/// Zstandard reach even on constant data, so only a damaged or hostile header
/// claiming huge pages from a few bytes trips it.
const MAX_EXPANSION: u64 = 1 << 16;

/// Whether `head` (a file's first bytes) starts with a TIFF or BigTIFF
/// signature.
pub(super) fn has_signature(head: &[u8]) -> bool {
    matches!(
        head.get(..4),
        Some(b"II*\0" | b"MM\0*" | b"II+\0" | b"MM\0+")
    )
}

/// Whether the file name ends in `.tif` or `.tiff`.
pub(super) fn has_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "tif" | "tiff"))
}

/// What one page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PageFormat {
    width: u64,
    height: u64,
    samples: u64,
    /// Samples stored as separate planes rather than interleaved.
    planar: bool,
    dtype: Dtype,
}

impl PageFormat {
    fn shape(&self) -> Vec<u64> {
        match (self.samples, self.planar) {
            (1, _) => vec![self.height, self.width],
            (samples, false) => vec![self.height, self.width, samples],
            (samples, true) => vec![samples, self.height, self.width],
        }
    }

    /// Decoded bytes of the page; fits in `u64` since each factor is at most
    /// 32 bits wide and the element size at most 8.
    fn num_bytes(&self) -> u64 {
        self.width * self.height * self.samples * self.dtype.size() as u64
    }

    fn describe(&self) -> String {
        let samples = match self.samples {
            1 => String::new(),
            n => format!(", {n} samples per pixel"),
        };
        format!("{} x {} {}{samples}", self.width, self.height, self.dtype)
    }
}

/// Every page of a file, all of one format.
struct Stack {
    format: PageFormat,
    pages: u64,
}

impl Stack {
    fn shape(&self) -> Vec<u64> {
        let mut shape = self.format.shape();
        if self.pages > 1 {
            shape.insert(0, self.pages);
        }
        shape
    }
}

/// Reads every page's directory and checks the file is complete and
/// supported, without decoding pixels.
pub(super) fn probe(path: &Path) -> Result<InputInfo, InputError> {
    let (stack, _) = scan(path)?;
    let shape = stack.shape();
    super::check_shape(path, &shape)?;
    Ok(InputInfo {
        kind: InputKind::Tiff,
        shape,
        dtype: stack.format.dtype,
        voxel_size: None,
    })
}

/// Decodes the pages `region` touches (all by default) and keeps the region.
pub(super) fn read(path: &Path, region: Option<&Region>) -> Result<Volume, InputError> {
    let (stack, mut decoder) = scan(path)?;
    let shape = stack.shape();
    super::check_shape(path, &shape)?;
    let region = super::region_or_whole(path, &shape, region)?;
    let format = stack.format;
    let element_size = format.dtype.size();

    // A stack's first axis picks pages; the rest is a crop of each page.
    let (pages, page_start, page_size) = if stack.pages > 1 {
        (
            region.start[0]..region.start[0] + region.size[0],
            &region.start[1..],
            &region.size[1..],
        )
    } else {
        (0..1, &region.start[..], &region.size[..])
    };
    let page_shape = format.shape();
    let whole_page = Region {
        start: page_start.to_vec(),
        size: page_size.to_vec(),
    }
    .is_whole(&page_shape);
    let page_len = format.num_bytes() as usize;

    let mut bytes = region_buffer(path, &region, format.dtype)?;
    let mut page = Vec::new();
    if !whole_page {
        page = buffer_for(path, format.num_bytes())?;
        page.resize(page_len, 0);
    }
    for index in pages {
        decoder
            .seek_to_image(index as usize)
            .map_err(|e| tiff_error(path, index, e))?;
        if whole_page {
            let filled = bytes.len();
            bytes.resize(filled + page_len, 0);
            decoder
                .read_image_bytes(&mut bytes[filled..])
                .map_err(|e| decode_error(path, index, e))?;
        } else {
            decoder
                .read_image_bytes(&mut page)
                .map_err(|e| decode_error(path, index, e))?;
            append_block(
                &page,
                &page_shape,
                page_start,
                page_size,
                element_size,
                &mut bytes,
            );
        }
    }

    native_to_little_endian(&mut bytes, element_size);
    Ok(Volume {
        shape: region.size,
        dtype: format.dtype,
        bytes,
    })
}

/// Walks every page, checking each is supported, like the first, and stored
/// inside the file; returns the stack and the decoder, ready to seek to a page.
fn scan(path: &Path) -> Result<(Stack, Decoder<BufReader<File>>), InputError> {
    let file = File::open(path).map_err(|e| InputError::io(path, e))?;
    let file_len = file.metadata().map_err(|e| InputError::io(path, e))?.len();
    let mut limits = Limits::default();
    // Strip tables of tall pages written a row per strip exceed the default.
    limits.ifd_value_size = 64 << 20;
    // Each strip or tile is checked to lie inside the file before any is read,
    // so reading one whole is bounded by the file's size.
    limits.intermediate_buffer_size = usize::MAX;
    let mut decoder = Decoder::new(BufReader::new(file))
        .map_err(|e| tiff_error(path, 0, e))?
        .with_limits(limits);

    let format = check_page(path, 0, &mut decoder, file_len)?;
    let mut pages = 1u64;
    while decoder.more_images() {
        decoder
            .next_image()
            .map_err(|e| tiff_error(path, pages, e))?;
        let other = check_page(path, pages, &mut decoder, file_len)?;
        if other != format {
            return Err(InputError::Unsupported(format!(
                "`{}` page {pages} is {} but page 0 is {}: pages of different sizes or types \
                 do not form one volume; save the pages you want as a stack of one size and type",
                shown(path),
                other.describe(),
                format.describe()
            )));
        }
        pages += 1;
    }
    format.num_bytes().checked_mul(pages).ok_or_else(|| {
        InputError::Invalid(format!(
            "`{}` has {pages} pages of {}, more than any file can hold: the file is damaged",
            shown(path),
            format.describe()
        ))
    })?;
    Ok((Stack { format, pages }, decoder))
}

/// Checks the current page is supported and stored inside the file, and
/// returns its format.
fn check_page(
    path: &Path,
    page: u64,
    decoder: &mut Decoder<BufReader<File>>,
    file_len: u64,
) -> Result<PageFormat, InputError> {
    let compression = decoder
        .find_tag_unsigned::<u16>(Tag::Compression)
        .map_err(|e| tiff_error(path, page, e))?
        .unwrap_or(1);
    if !matches!(compression, 1 | 5 | 8 | 32946 | 32773 | 50000) {
        return Err(unsupported(
            path,
            page,
            &format!("is compressed with {}", compression_name(compression)),
        ));
    }
    let format = page_format(path, page, decoder)?;
    check_chunks(path, page, decoder, &format, compression != 1, file_len)?;
    Ok(format)
}

/// An unsupported page, with what is supported.
fn unsupported(path: &Path, page: u64, what: &str) -> InputError {
    InputError::Unsupported(format!(
        "`{}` page {page} {what}; supported TIFF pages hold 8, 16 or 32-bit integers or 16, 32 \
         or 64-bit floats, compressed with none, LZW, Deflate, PackBits or Zstandard",
        shown(path)
    ))
}

/// The current page's size, samples and element type, refusing what cannot be
/// read.
fn page_format(
    path: &Path,
    page: u64,
    decoder: &mut Decoder<BufReader<File>>,
) -> Result<PageFormat, InputError> {
    let fail = |e| tiff_error(path, page, e);
    let unsupported = |what: String| unsupported(path, page, &what);

    let (width, height) = decoder.dimensions().map_err(fail)?;
    let color = decoder.colortype().map_err(fail)?;
    let samples = decoder
        .find_tag_unsigned::<u16>(Tag::SamplesPerPixel)
        .map_err(fail)?
        .unwrap_or(1);
    if color.num_samples() != samples {
        return Err(unsupported(format!(
            "has {samples} samples per pixel of which the decoder interprets {}",
            color.num_samples()
        )));
    }
    if let ColorType::Palette(_) = color {
        return Err(unsupported("holds palette indices".to_string()));
    }
    let bits = color.bit_depth();
    if !matches!(bits, 8 | 16 | 32 | 64) {
        return Err(unsupported(format!("holds {bits}-bit samples")));
    }

    let layout = decoder.image_buffer_layout().map_err(|e| match e {
        TiffError::LimitsExceeded | TiffError::IntSizeError => InputError::Invalid(format!(
            "`{}` page {page} claims {width} x {height} pixels of {samples} {bits}-bit \
             samples, more than any file can hold: the header is damaged",
            shown(path)
        )),
        other => tiff_error(path, page, other),
    })?;
    let dtype = match layout.sample_type {
        Some(DecodingSampleType::U8) => Dtype::Uint8,
        Some(DecodingSampleType::U16) => Dtype::Uint16,
        Some(DecodingSampleType::U32) => Dtype::Uint32,
        Some(DecodingSampleType::I8) => Dtype::Int8,
        Some(DecodingSampleType::I16) => Dtype::Int16,
        Some(DecodingSampleType::I32) => Dtype::Int32,
        Some(DecodingSampleType::F16) => Dtype::Float16,
        Some(DecodingSampleType::F32) => Dtype::Float32,
        Some(DecodingSampleType::F64) => Dtype::Float64,
        Some(DecodingSampleType::U64) => return Err(unsupported("holds uint64".to_string())),
        Some(DecodingSampleType::I64) => return Err(unsupported("holds int64".to_string())),
        None => {
            return Err(unsupported(format!(
                "holds {bits}-bit samples of format {:?}",
                layout.sample_format
            )));
        }
    };

    let format = PageFormat {
        width: u64::from(width),
        height: u64::from(height),
        samples: u64::from(samples),
        planar: layout.planes > 1,
        dtype,
    };
    if layout.complete_len as u64 != format.num_bytes() {
        return Err(InputError::Invalid(format!(
            "`{}` page {page} ({}) decodes to {} bytes instead of {}: the page's layout tags \
             disagree; the file is damaged",
            shown(path),
            format.describe(),
            layout.complete_len,
            format.num_bytes()
        )));
    }
    Ok(format)
}

/// Checks that every strip or tile of the current page lies inside the file
/// and that their bytes could hold the page's pixels.
fn check_chunks(
    path: &Path,
    page: u64,
    decoder: &mut Decoder<BufReader<File>>,
    format: &PageFormat,
    compressed: bool,
    file_len: u64,
) -> Result<(), InputError> {
    let (offsets_tag, counts_tag) = match decoder.get_chunk_type() {
        ChunkType::Strip => (Tag::StripOffsets, Tag::StripByteCounts),
        ChunkType::Tile => (Tag::TileOffsets, Tag::TileByteCounts),
    };
    let offsets = decoder
        .get_tag_u64_vec(offsets_tag)
        .map_err(|e| tiff_error(path, page, e))?;
    let counts = decoder
        .get_tag_u64_vec(counts_tag)
        .map_err(|e| tiff_error(path, page, e))?;

    let mut stored = 0u64;
    for (&offset, &count) in offsets.iter().zip(&counts) {
        match offset.checked_add(count) {
            Some(end) if end <= file_len => stored = stored.saturating_add(count),
            end => {
                return Err(InputError::Truncated(format!(
                    "`{}` page {page} ends at byte {} but the file has {file_len} bytes: the \
                     file is truncated; copy it again",
                    shown(path),
                    end.map_or_else(|| "past 2^64".to_string(), |end| end.to_string())
                )));
            }
        }
    }

    let needed = format.num_bytes();
    if !compressed && stored < needed {
        return Err(InputError::Invalid(format!(
            "`{}` page {page} stores {stored} bytes of uncompressed pixels but its {} pixels \
             need {needed}: the file is damaged",
            shown(path),
            format.describe()
        )));
    }
    if compressed && stored.saturating_mul(MAX_EXPANSION) < needed {
        return Err(InputError::Invalid(format!(
            "`{}` page {page} claims {} pixels ({needed} bytes) from {stored} stored bytes, \
             more than any supported compression expands: the header is damaged",
            shown(path),
            format.describe()
        )));
    }
    Ok(())
}

/// A readable name for a TIFF compression code.
fn compression_name(code: u16) -> String {
    let name = match code {
        2 => "CCITT RLE",
        3 => "CCITT fax 3",
        4 => "CCITT fax 4",
        6 | 7 => "JPEG",
        34712 => "JPEG 2000",
        34887 => "LERC",
        34925 => "LZMA",
        50001 => "WebP",
        50002 => "JPEG XL",
        _ => return format!("compression code {code}"),
    };
    format!("{name} (code {code})")
}

/// Maps an error while decoding `page`'s pixels, after [`scan`] found every
/// strip and tile inside the file: running out of data or undecodable data
/// means a damaged strip or tile.
fn decode_error(path: &Path, page: u64, error: TiffError) -> InputError {
    match error {
        TiffError::IoError(e) if e.raw_os_error().is_none() => InputError::Invalid(format!(
            "`{}` page {page} has pixel data that cannot be decoded ({e}): a strip or tile is \
             damaged; copy the file again",
            shown(path)
        )),
        other => tiff_error(path, page, other),
    }
}

/// Maps a decoder error on `page` to what the caller must do about it; errors
/// that come from the decoder rather than the operating system mean a damaged
/// file.
fn tiff_error(path: &Path, page: u64, error: TiffError) -> InputError {
    match error {
        TiffError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            InputError::Truncated(format!(
                "`{}` ends inside page {page}'s directory or data: the file is truncated; copy \
                 it again",
                shown(path)
            ))
        }
        TiffError::IoError(e) if e.raw_os_error().is_some() => InputError::io(path, e),
        TiffError::UnsupportedError(e) => InputError::Unsupported(format!(
            "`{}` page {page} uses a TIFF feature this reader does not handle ({e}); save it \
             as uncompressed or LZW / Deflate grayscale",
            shown(path)
        )),
        other => InputError::Invalid(format!(
            "`{}` page {page} cannot be read as TIFF ({other}): the file is damaged or not a TIFF",
            shown(path)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_of_both_byte_orders_and_bigtiff_are_recognised() {
        for head in [&b"II*\0...."[..], b"MM\0*....", b"II+\0....", b"MM\0+...."] {
            assert!(has_signature(head));
        }
        assert!(!has_signature(b"II*"));
        assert!(!has_signature(b"\x89PNG"));
    }

    #[test]
    fn samples_become_an_axis_where_the_file_stores_them() {
        let format = PageFormat {
            width: 5,
            height: 4,
            samples: 3,
            planar: false,
            dtype: Dtype::Uint8,
        };
        assert_eq!(format.shape(), [4, 5, 3]);
        let planar = PageFormat {
            planar: true,
            ..format
        };
        assert_eq!(planar.shape(), [3, 4, 5]);
        let stack = Stack {
            format: PageFormat {
                samples: 1,
                ..format
            },
            pages: 7,
        };
        assert_eq!(stack.shape(), [7, 4, 5]);
    }

    #[test]
    fn unsupported_compressions_are_named() {
        assert_eq!(compression_name(7), "JPEG (code 7)");
        assert_eq!(compression_name(9999), "compression code 9999");
    }
}
