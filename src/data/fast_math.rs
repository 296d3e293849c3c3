//! Portable elementary functions for the generators.
//!
//! Volumes must be byte-identical on every machine, but `f32::exp` and friends
//! call the platform's libm, whose last bits differ between glibc, musl and macOS.
//! The functions here use only additions, multiplications, divisions and bit
//! operations, which IEEE-754 rounds the same way everywhere (Rust never fuses
//! them into FMAs), and they are cheap enough to call once per voxel.

/// Adding then subtracting 1.5 * 2^23 rounds an `f32` below 2^22 in magnitude
/// to the nearest integer (ties to even) without a libm call.
const ROUND_F32: f32 = 12_582_912.0;

/// The same trick for `f64` values below 2^51 in magnitude.
const ROUND_F64: f64 = 6_755_399_441_055_744.0;

/// Rounds to the nearest integer, ties to even; exact for |x| < 2^22, and
/// values beyond that are returned as they are (they have no fraction left that
/// matters for generated intensities).
pub(crate) fn round(x: f32) -> f32 {
    if x.abs() < 4_194_304.0 {
        (x + ROUND_F32) - ROUND_F32
    } else {
        x
    }
}

/// e^x with a relative error below 3e-7, for any `x` (results saturate at the
/// ends of the `f32` range instead of overflowing).
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that `k * LN2_HIGH` is exact for every |k| <= 127.
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;

    let x = x.clamp(-87.0, 88.0);
    let k = (x * LOG2_E + ROUND_F32) - ROUND_F32;
    let r = (x - k * LN2_HIGH) - k * LN2_LOW;

    let taylor = 1.0
        + r * (1.0
            + r * (1.0 / 2.0
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let two_to_k = f32::from_bits(((k as i32 + 127) as u32) << 23);
    taylor * two_to_k
}

/// e^x in double precision (relative error near 1e-15), used where tables are
/// built once, such as the normal quantiles.
pub(crate) fn exp_f64(x: f64) -> f64 {
    const LOG2_E: f64 = std::f64::consts::LOG2_E;
    const LN2_HIGH: f64 = 0.693_147_180_369_123_8;
    const LN2_LOW: f64 = 1.908_214_929_270_587_7e-10;

    let x = x.clamp(-708.0, 709.0);
    let k = (x * LOG2_E + ROUND_F64) - ROUND_F64;
    let r = (x - k * LN2_HIGH) - k * LN2_LOW;

    let mut taylor = 1.0;
    for n in (1..=13).rev() {
        taylor = 1.0 + taylor * r / f64::from(n);
    }
    let two_to_k = f64::from_bits(((k as i64 + 1023) as u64) << 52);
    taylor * two_to_k
}

/// A smooth periodic wave of period 1 between -1 and 1, shaped like a cosine
/// (-1 at whole numbers, 1 half-way) but made of a cubic instead of `cos`.
pub(crate) fn wave(phase: f32) -> f32 {
    let fraction = phase - phase.floor();
    let triangle = 1.0 - 4.0 * (fraction - 0.5).abs();
    triangle * (1.5 - 0.5 * triangle * triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_the_standard_library_closely() {
        for i in -800..=800 {
            let x = i as f32 * 0.1;
            let relative = (exp(x) as f64 - (x as f64).exp()).abs() / (x as f64).exp();
            assert!(relative < 3e-7, "exp({x}) off by {relative}");
        }
    }

    #[test]
    fn exp_f64_matches_the_standard_library_closely() {
        for i in -700..=700 {
            let x = i as f64 * 0.37;
            let relative = (exp_f64(x) - x.exp()).abs() / x.exp();
            assert!(relative < 1e-14, "exp_f64({x}) off by {relative}");
        }
    }

    #[test]
    fn round_goes_to_the_nearest_integer() {
        assert_eq!(round(2.4), 2.0);
        assert_eq!(round(2.6), 3.0);
        assert_eq!(round(-2.6), -3.0);
        assert_eq!(round(1.0e7 + 0.5), 1.0e7 + 0.5);
    }

    #[test]
    fn wave_spans_minus_one_to_one() {
        assert_eq!(wave(0.0), -1.0);
        assert_eq!(wave(0.5), 1.0);
        assert!((wave(0.25)).abs() < 1e-6);
        assert_eq!(wave(3.5), 1.0);
    }
}
