//! The codec catalogue: the names a request may use, their levels and shuffles,
//! and how each becomes a Zarr v3 codec chain in zarrs.
//!
//! Every codec here is lossless. Blosc codecs take their `typesize` from the
//! element type, so shuffling works on whole elements as numcodecs does.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use zarrs::array::codec::api::BytesToBytesCodecTraits;
use zarrs::array::codec::{
    BloscCodec, BloscCompressionLevel, BloscCompressor, BloscShuffleMode, GzipCodec, ZstdCodec,
};

use crate::data::Dtype;

/// A codec family as named in requests and results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Codec {
    BloscZstd,
    BloscLz4,
    BloscLz4hc,
    BloscZlib,
    BloscBlosclz,
    Zstd,
    Gzip,
    /// No compression: the `bytes` codec alone. The baseline of every sweep.
    None,
}

/// How a blosc codec reorders bytes before compressing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shuffle {
    Noshuffle,
    Shuffle,
    Bitshuffle,
}

impl Shuffle {
    pub const ALL: [Shuffle; 3] = [Shuffle::Noshuffle, Shuffle::Shuffle, Shuffle::Bitshuffle];

    pub fn name(self) -> &'static str {
        match self {
            Shuffle::Noshuffle => "noshuffle",
            Shuffle::Shuffle => "shuffle",
            Shuffle::Bitshuffle => "bitshuffle",
        }
    }
}

impl std::fmt::Display for Shuffle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Codec {
    /// Every codec, in the order error messages list them.
    pub const ALL: [Codec; 8] = [
        Codec::BloscZstd,
        Codec::BloscLz4,
        Codec::BloscLz4hc,
        Codec::BloscZlib,
        Codec::BloscBlosclz,
        Codec::Zstd,
        Codec::Gzip,
        Codec::None,
    ];

    /// The request and result name, e.g. `blosc_zstd`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::BloscZstd => "blosc_zstd",
            Codec::BloscLz4 => "blosc_lz4",
            Codec::BloscLz4hc => "blosc_lz4hc",
            Codec::BloscZlib => "blosc_zlib",
            Codec::BloscBlosclz => "blosc_blosclz",
            Codec::Zstd => "zstd",
            Codec::Gzip => "gzip",
            Codec::None => "none",
        }
    }

    /// True for the five blosc compressors, which take a shuffle.
    pub fn is_blosc(self) -> bool {
        self.blosc_compressor().is_some()
    }

    fn blosc_compressor(self) -> Option<BloscCompressor> {
        match self {
            Codec::BloscZstd => Some(BloscCompressor::Zstd),
            Codec::BloscLz4 => Some(BloscCompressor::LZ4),
            Codec::BloscLz4hc => Some(BloscCompressor::LZ4HC),
            Codec::BloscZlib => Some(BloscCompressor::Zlib),
            Codec::BloscBlosclz => Some(BloscCompressor::BloscLZ),
            _ => None,
        }
    }

    /// The levels the codec accepts, inclusive. `none` has only level 0.
    pub fn level_range(self) -> (i32, i32) {
        match self {
            Codec::Zstd => (1, 22),
            Codec::Gzip => (0, 9),
            Codec::None => (0, 0),
            _ => (0, 9),
        }
    }

    /// The level used when a plan names the codec without one.
    pub fn default_level(self) -> i32 {
        match self {
            Codec::Zstd => 3,
            Codec::Gzip => 6,
            Codec::None => 0,
            _ => 5,
        }
    }

    /// Parses a codec name, or a name with a level suffix such as `zstd_19`.
    ///
    /// The error names the bad value and lists the accepted ones.
    pub fn parse_with_level(text: &str) -> Result<(Codec, Option<i32>), String> {
        if let Some(codec) = Codec::ALL.into_iter().find(|c| c.name() == text) {
            return Ok((codec, None));
        }
        let parsed = text.rsplit_once('_').and_then(|(name, level)| {
            let codec = Codec::ALL.into_iter().find(|c| c.name() == name)?;
            Some((codec, level.parse::<i32>().ok()?))
        });
        match parsed {
            Some((codec, level)) => {
                codec.check_level(level)?;
                Ok((codec, Some(level)))
            }
            None => Err(format!(
                "unknown codec '{text}'; use one of {} (optionally with a level, e.g. blosc_zstd_5)",
                Codec::ALL.map(Codec::name).join(", ")
            )),
        }
    }

    /// Checks that `level` is one the codec accepts.
    pub fn check_level(self, level: i32) -> Result<(), String> {
        let (low, high) = self.level_range();
        if (low..=high).contains(&level) {
            Ok(())
        } else {
            Err(format!(
                "level {level} is out of range for {}; use {low} to {high}",
                self.name()
            ))
        }
    }

    /// The bytes-to-bytes codecs that follow the `bytes` codec for this setting.
    ///
    /// zstd is built without a content checksum, as numcodecs and zarr-python
    /// write it by default, so stored sizes agree with theirs.
    pub fn bytes_to_bytes(
        self,
        level: i32,
        shuffle: Option<Shuffle>,
        dtype: Dtype,
    ) -> Result<Vec<Arc<dyn BytesToBytesCodecTraits>>, String> {
        self.check_level(level)?;
        if let Some(compressor) = self.blosc_compressor() {
            let clevel = BloscCompressionLevel::try_from(level as u8)
                .map_err(|_| format!("level {level} is out of range for {}", self.name()))?;
            let shuffle_mode = match shuffle.unwrap_or(Shuffle::Noshuffle) {
                Shuffle::Noshuffle => BloscShuffleMode::NoShuffle,
                Shuffle::Shuffle => BloscShuffleMode::Shuffle,
                Shuffle::Bitshuffle => BloscShuffleMode::BitShuffle,
            };
            let codec = BloscCodec::new(compressor, clevel, None, shuffle_mode, Some(dtype.size()))
                .map_err(|e| format!("{} is unavailable in this build: {e}", self.name()))?;
            return Ok(vec![Arc::new(codec)]);
        }
        match self {
            Codec::Zstd => Ok(vec![Arc::new(ZstdCodec::new(level, false))]),
            Codec::Gzip => {
                let codec = GzipCodec::new(level as u32).map_err(|e| e.to_string())?;
                Ok(vec![Arc::new(codec)])
            }
            _ => Ok(Vec::new()),
        }
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_name_parses_back_to_its_codec() {
        for codec in Codec::ALL {
            assert_eq!(Codec::parse_with_level(codec.name()), Ok((codec, None)));
        }
    }

    #[test]
    fn a_level_suffix_is_parsed_and_checked() {
        assert_eq!(
            Codec::parse_with_level("blosc_zstd_7"),
            Ok((Codec::BloscZstd, Some(7)))
        );
        assert_eq!(
            Codec::parse_with_level("zstd_19"),
            Ok((Codec::Zstd, Some(19)))
        );
        let err = Codec::parse_with_level("gzip_12").unwrap_err();
        assert!(err.contains("0 to 9"), "{err}");
    }

    #[test]
    fn an_unknown_codec_is_named_with_the_allowed_ones() {
        let err = Codec::parse_with_level("lzma").unwrap_err();
        assert!(err.contains("'lzma'"), "{err}");
        assert!(err.contains("blosc_zstd") && err.contains("none"), "{err}");
    }

    #[test]
    fn every_codec_builds_for_every_dtype() {
        for codec in Codec::ALL {
            for dtype in Dtype::ALL {
                let shuffle = codec.is_blosc().then_some(Shuffle::Bitshuffle);
                let chain = codec.bytes_to_bytes(codec.default_level(), shuffle, dtype);
                assert!(
                    chain.is_ok(),
                    "{codec} {dtype}: {chain:?}",
                    chain = chain.err()
                );
            }
        }
    }
}
