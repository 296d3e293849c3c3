//! How the frames of a time series and the channels of a stack differ.
//!
//! Each channel images its own label, so generators build one scene per
//! channel (with [`per_channel`]). Time points show the same scene, slowly
//! displaced by a bounded stage drift ([`drift`]) and dimmed by photobleaching
//! ([`bleaching`]); their noise is drawn afresh. Everything depends only on the
//! seed and the frame's indices.

use rayon::prelude::*;

use super::fast_math;
use super::noise::{Sequence, key};

/// Frames for the drift to sweep back and forth once.
const DRIFT_PERIOD: f32 = 64.0;

/// Purpose tag of the drift's random phases.
const DRIFT_PURPOSE: u64 = 0xD81F;

/// The sample's displacement at `time`, at most `amplitude` along each axis
/// (physical units), zero at time 0 and smooth from frame to frame.
pub(crate) fn drift(seed: u64, time: usize, amplitude: f32) -> [f32; 3] {
    if time == 0 {
        return [0.0; 3];
    }
    let mut sequence = Sequence::new(key(seed, &[DRIFT_PURPOSE]));
    let phases = [(); 3].map(|()| sequence.uniform());
    let sweep = time as f32 / DRIFT_PERIOD;
    phases.map(|phase| amplitude * 0.5 * (fast_math::wave(phase + sweep) - fast_math::wave(phase)))
}

/// The fraction of fluorescence left at `time` when each frame bleaches
/// `rate_per_frame` of it.
pub(crate) fn bleaching(time: usize, rate_per_frame: f32) -> f32 {
    fast_math::exp(-rate_per_frame * time as f32)
}

/// Builds one scene per channel, in parallel; each scene must derive its
/// randomness from its channel index only.
pub(crate) fn per_channel<Scene: Send>(
    channels: usize,
    build: impl Fn(usize) -> Scene + Sync + Send,
) -> Vec<Scene> {
    (0..channels).into_par_iter().map(build).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_is_bounded_and_starts_at_rest() {
        assert_eq!(drift(5, 0, 3.0), [0.0; 3]);
        for time in 0..500 {
            assert!(drift(5, time, 3.0).iter().all(|d| d.abs() <= 3.0));
        }
        assert_ne!(drift(5, 10, 3.0), [0.0; 3]);
    }

    #[test]
    fn bleaching_decays_from_one() {
        assert_eq!(bleaching(0, 0.01), 1.0);
        assert!(bleaching(100, 0.01) < 0.37);
    }
}
