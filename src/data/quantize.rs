//! Writes a model's `f32` intensities into any [`Dtype`] as little-endian bytes.
//!
//! A model states what its numbers mean ([`Intensity`]); [`Mapping`] turns that
//! into a linear map for the requested type:
//!
//! - float types receive the model's values unchanged;
//! - counts go into integer types as they are, unless the type's largest value
//!   is below the model's nominal peak, in which case they are scaled down so
//!   the peak lands on that largest value (like an 8-bit export of camera data);
//! - z-scored values go into integer types around the middle of the type's
//!   range (0 for signed types) with a standard deviation of 1/12.8 of the
//!   range (uint8: 128 +- 20), so about six standard deviations fit each way.
//!
//! Integer targets are then clamped to the type's range and rounded half up.
//! `float16` targets are rounded to the nearest representable value (ties to
//! even) and clamped to its finite range (+-65504), so a bright outlier becomes
//! the largest half-precision value rather than infinity.

use half::f16;

use super::Dtype;

/// What a model's values mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Intensity {
    /// Non-negative detector counts whose brightest structures reach about
    /// `peak`.
    Counts { peak: f32 },
    /// Values normalised to mean 0 and standard deviation 1.
    ZScored,
}

/// The linear map `value * scale + offset` applied before clamping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Mapping {
    scale: f32,
    offset: f32,
}

impl Mapping {
    pub(crate) fn new(intensity: Intensity, dtype: Dtype) -> Self {
        if dtype.is_float() {
            return Mapping {
                scale: 1.0,
                offset: 0.0,
            };
        }
        let (low, high) = dtype.range();
        match intensity {
            Intensity::Counts { peak } => Mapping {
                scale: if (high as f32) < peak {
                    high as f32 / peak
                } else {
                    1.0
                },
                offset: 0.0,
            },
            Intensity::ZScored => {
                let span = high - low + 1.0;
                Mapping {
                    scale: (span / 12.8) as f32,
                    offset: if low < 0.0 { 0.0 } else { (span / 2.0) as f32 },
                }
            }
        }
    }

    fn apply(self, value: f32) -> f32 {
        value * self.scale + self.offset
    }
}

/// Encodes `values` into `out`, which holds exactly `values.len()` elements of
/// `dtype`.
pub(crate) fn write(values: &[f32], mapping: Mapping, dtype: Dtype, out: &mut [u8]) {
    debug_assert_eq!(values.len() * dtype.size(), out.len());
    let m = mapping;
    match dtype {
        Dtype::Uint8 => encode(
            values,
            out,
            |v| [(m.apply(v).clamp(0.0, 255.0) + 0.5) as u8],
        ),
        Dtype::Uint16 => encode(values, out, |v| {
            ((m.apply(v).clamp(0.0, 65_535.0) + 0.5) as u16).to_le_bytes()
        }),
        Dtype::Uint32 => encode(values, out, |v| {
            let wide = f64::from(v) * f64::from(m.scale) + f64::from(m.offset);
            ((wide.clamp(0.0, u32::MAX as f64) + 0.5) as u32).to_le_bytes()
        }),
        Dtype::Int8 => encode(values, out, |v| {
            let shifted = m.apply(v).clamp(-128.0, 127.0) + 128.5;
            ((shifted as u16 as i16 - 128) as i8).to_le_bytes()
        }),
        Dtype::Int16 => encode(values, out, |v| {
            let shifted = m.apply(v).clamp(-32_768.0, 32_767.0) + 32_768.5;
            ((shifted as u32 as i32 - 32_768) as i16).to_le_bytes()
        }),
        Dtype::Int32 => encode(values, out, |v| {
            let wide = f64::from(v) * f64::from(m.scale) + f64::from(m.offset);
            let shifted = wide.clamp(i32::MIN as f64, i32::MAX as f64) + 2_147_483_648.5;
            ((shifted as u64 as i64 - 2_147_483_648) as i32).to_le_bytes()
        }),
        Dtype::Float16 => encode(values, out, |v| {
            let finite = m.apply(v).clamp(f32::from(f16::MIN), f32::from(f16::MAX));
            f16::from_f32(finite).to_le_bytes()
        }),
        Dtype::Float32 => encode(values, out, |v| m.apply(v).to_le_bytes()),
        Dtype::Float64 => encode(values, out, |v| f64::from(m.apply(v)).to_le_bytes()),
    }
}

fn encode<const N: usize>(values: &[f32], out: &mut [u8], element: impl Fn(f32) -> [u8; N]) {
    for (bytes, &value) in out.chunks_exact_mut(N).zip(values) {
        bytes.copy_from_slice(&element(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: f32, intensity: Intensity, dtype: Dtype) -> Vec<u8> {
        let mut out = vec![0; dtype.size()];
        write(&[value], Mapping::new(intensity, dtype), dtype, &mut out);
        out
    }

    const COUNTS: Intensity = Intensity::Counts { peak: 1000.0 };

    #[test]
    fn integers_round_and_clamp() {
        assert_eq!(one(99.6, COUNTS, Dtype::Uint16), 100u16.to_le_bytes());
        assert_eq!(one(-3.0, COUNTS, Dtype::Uint16), 0u16.to_le_bytes());
        assert_eq!(one(1.0e9, COUNTS, Dtype::Uint16), u16::MAX.to_le_bytes());
        assert_eq!(one(-1.0e12, COUNTS, Dtype::Int32), i32::MIN.to_le_bytes());
        assert_eq!(one(1.0e12, COUNTS, Dtype::Int32), i32::MAX.to_le_bytes());
        assert_eq!(one(1.0e12, COUNTS, Dtype::Uint32), u32::MAX.to_le_bytes());
        assert_eq!(one(-2.6, COUNTS, Dtype::Int16), (-3i16).to_le_bytes());
    }

    #[test]
    fn counts_above_a_small_type_are_scaled_to_fit() {
        assert_eq!(one(1000.0, COUNTS, Dtype::Uint8), [255]);
        assert_eq!(one(100.0, COUNTS, Dtype::Int8), 13i8.to_le_bytes());
        assert_eq!(one(100.0, COUNTS, Dtype::Int16), 100i16.to_le_bytes());
    }

    #[test]
    fn z_scores_centre_in_the_type() {
        assert_eq!(one(0.0, Intensity::ZScored, Dtype::Uint8), [128]);
        assert_eq!(one(1.0, Intensity::ZScored, Dtype::Uint8), [148]);
        assert_eq!(
            one(-1.0, Intensity::ZScored, Dtype::Int8),
            (-20i8).to_le_bytes()
        );
        assert_eq!(
            one(-1.5, Intensity::ZScored, Dtype::Float32),
            (-1.5f32).to_le_bytes()
        );
        assert_eq!(
            one(2.0, Intensity::ZScored, Dtype::Float64),
            2.0f64.to_le_bytes()
        );
    }

    #[test]
    fn float16_keeps_values_and_rounds_to_nearest_even() {
        assert_eq!(one(-1.5, Intensity::ZScored, Dtype::Float16), [0x00, 0xbe]);
        assert_eq!(one(1000.0, COUNTS, Dtype::Float16), [0xd0, 0x63]);
        // 2049 lies halfway between 2048 and 2050; the even mantissa wins.
        assert_eq!(one(2049.0, COUNTS, Dtype::Float16), [0x00, 0x68]);
        assert_eq!(one(2051.0, COUNTS, Dtype::Float16), [0x02, 0x68]);
    }

    #[test]
    fn float16_saturates_instead_of_overflowing_to_infinity() {
        assert_eq!(one(1.0e6, COUNTS, Dtype::Float16), [0xff, 0x7b]);
        assert_eq!(one(-1.0e6, COUNTS, Dtype::Float16), [0xff, 0xfb]);
    }
}
