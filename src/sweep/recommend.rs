//! Recommendations: which measured configuration suits each profile, and the
//! Pareto front they come from.
//!
//! Only successful configurations take part: those with measurements, whose
//! every read returned the bytes written (`verified`), with no error, and
//! whose figures are numbers. A failed configuration is never on the front
//! and never recommended. The `none` baseline takes part like any other
//! configuration, but `fast`, `balanced` and `analysis` pick it only when
//! nothing compresses: they answer which compression to use.
//!
//! This module only reads measured figures; it never measures, and the only
//! field it changes is `pareto`.
//!
//! # The Pareto front
//!
//! A successful configuration is on the front unless another successful
//! configuration dominates it: a ratio, write speed and read speed that are
//! all at least as high, and at least one of them strictly higher.
//!
//! # The rules
//!
//! Speeds are MB/s of uncompressed data (1 MB = 10^6 bytes) from the median
//! times; sizes are stored bytes (chunks plus metadata). When two
//! configurations still tie after a rule's tie-break, the earlier one in the
//! plan wins.
//!
//! - **fast**: the highest write speed among configurations that still
//!   compress, i.e. ratio >= 1.05; ties go to the higher read speed. When no
//!   configuration compresses that much, the highest write speed overall
//!   (usually `none`), and the reason says that nothing compresses.
//! - **archival**: the highest ratio. Configurations within 0.5% of the best
//!   ratio (ratio >= 0.995 x best) count as tied, and the fastest read among
//!   them wins.
//! - **balanced**: the least total time to write the data, move the stored
//!   bytes over a 1 Gbit/s link (125 MB/s, [`LINK_BYTES_PER_SECOND`]) and read
//!   the data back: `write_time + stored_bytes / 125e6 + read_time`, among
//!   configurations that still compress (ratio >= 1.05; all of them when none
//!   does); ties go to the higher ratio.
//! - **lossless**: every codec in the catalogue is lossless, so this profile
//!   chooses on cost instead: the smallest stored size among configurations
//!   that read at least as fast as the link (read speed >= 125 MB/s), so that
//!   decoding never takes longer than moving the uncompressed data would; ties
//!   go to the higher read speed. When no configuration reads that fast,
//!   archival's rule applies and the reason says so.
//! - **analysis**: the fastest partial reads, i.e. the least
//!   `plane_time + region_time`, among configurations that still compress
//!   (ratio >= 1.05; all of them when none does). Configurations within 5% of
//!   the fastest (time <= 1.05 x fastest) count as tied, and the highest ratio
//!   among them wins.
//!
//! `best_compression` is the highest ratio with exact ties broken by read
//! speed; unlike `archival` it has no tolerance band.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::plan::Profile;
use super::result::{BestCompression, ConfigResult, Measured, Recommendation};

/// The link `balanced` moves stored bytes over: 1 Gbit/s, in bytes per second.
/// `lossless` also uses it as the read speed a configuration must reach.
pub const LINK_BYTES_PER_SECOND: f64 = 125e6;

/// The ratio from which a configuration counts as compressing.
pub const MIN_COMPRESSING_RATIO: f64 = 1.05;

/// How far below the best ratio, in percent, `archival` still counts as tied.
pub const ARCHIVAL_RATIO_TOLERANCE_PERCENT: f64 = 0.5;

/// How far above the fastest partial reads, in percent, `analysis` still
/// counts as tied.
pub const ANALYSIS_TIME_TOLERANCE_PERCENT: f64 = 5.0;

/// The link speed in MB/s, as the reasons state it.
const LINK_MBPS: f64 = LINK_BYTES_PER_SECOND / 1e6;

/// A successful configuration with its figures at hand.
#[derive(Debug, Clone, Copy)]
struct Candidate<'a> {
    result: &'a ConfigResult,
    measured: &'a Measured,
}

impl Candidate<'_> {
    /// Seconds to read a plane and then a central block.
    fn partial_read_time(&self) -> f64 {
        let partial = &self.measured.partial_reads;
        partial.plane_time + partial.region_time
    }

    /// Seconds to move the stored bytes over the link.
    fn transfer_time(&self) -> f64 {
        self.measured.stored_bytes as f64 / LINK_BYTES_PER_SECOND
    }

    /// Seconds to write, move over the link and read back.
    fn round_trip_time(&self) -> f64 {
        self.measured.write_time + self.transfer_time() + self.measured.read_time
    }
}

/// What a rule chose, and why, in words and figures.
#[derive(Debug)]
struct Pick<'a> {
    candidate: Candidate<'a>,
    reason: String,
}

/// Sets `pareto` on every configuration: true for each successful one that no
/// other successful configuration dominates in ratio, write and read speed;
/// false for the rest, failed ones included.
pub fn mark_pareto(configs: &mut [ConfigResult]) {
    let on_front: Vec<bool> = {
        let candidates = candidates(configs);
        configs
            .iter()
            .map(|result| {
                candidate(result).is_some_and(|this| {
                    !candidates
                        .iter()
                        .any(|other| dominates(other.measured, this.measured))
                })
            })
            .collect()
    };

    for (result, on_front) in configs.iter_mut().zip(on_front) {
        result.pareto = on_front;
    }
}

/// The successful configuration with the highest ratio; exact ties go to the
/// faster read. `None` when nothing succeeded.
pub fn best_compression(configs: &[ConfigResult]) -> Option<BestCompression> {
    let best = best_by(&candidates(configs), |a, b| {
        higher(a.measured.ratio, b.measured.ratio)
            .then(higher(a.measured.read_mbps, b.measured.read_mbps))
    })?;

    let config = &best.result.config;
    Some(BestCompression {
        config_id: best.result.config_id.clone(),
        codec: config.codec,
        level: config.level,
        shuffle: config.shuffle,
        chunk_shape: config.chunk_shape.clone(),
        shard_shape: config.shard_shape.clone(),
        ratio: best.measured.ratio,
        write_time: best.measured.write_time,
        read_time: best.measured.read_time,
    })
}

/// One recommendation per profile, by the rules in the module docs; all five
/// when at least one configuration succeeded, none otherwise.
pub fn recommend(configs: &[ConfigResult]) -> BTreeMap<Profile, Recommendation> {
    let candidates = candidates(configs);
    Profile::ALL
        .into_iter()
        .filter_map(|profile| {
            let pick = pick_for(profile, &candidates)?;
            Some((profile, recommendation(pick)))
        })
        .collect()
}

fn pick_for<'a>(profile: Profile, candidates: &[Candidate<'a>]) -> Option<Pick<'a>> {
    match profile {
        Profile::Fast => fast(candidates),
        Profile::Archival => archival(candidates),
        Profile::Balanced => balanced(candidates),
        Profile::Lossless => lossless(candidates),
        Profile::Analysis => analysis(candidates),
    }
}

fn recommendation(pick: Pick<'_>) -> Recommendation {
    let Pick { candidate, reason } = pick;
    Recommendation {
        config_id: candidate.result.config_id.clone(),
        codec_level: candidate.result.codec_level(),
        config: candidate.result.config.clone(),
        ratio: candidate.measured.ratio,
        write_mbps: candidate.measured.write_mbps,
        read_mbps: candidate.measured.read_mbps,
        reason,
    }
}

/// `fast`: the fastest writer that still compresses, else the fastest writer.
fn fast<'a>(candidates: &[Candidate<'a>]) -> Option<Pick<'a>> {
    let compressing = keep(candidates, |c| c.measured.ratio >= MIN_COMPRESSING_RATIO);
    if let Some(best) = fastest_writer(&compressing) {
        let reason = format!(
            "highest write speed ({:.0} MB/s) among configurations that compress at least \
             {MIN_COMPRESSING_RATIO}x",
            best.measured.write_mbps
        );
        return Some(Pick {
            candidate: best,
            reason,
        });
    }

    let best = fastest_writer(candidates)?;
    let reason = format!(
        "no configuration compresses at least {MIN_COMPRESSING_RATIO}x; highest write speed \
         overall ({:.0} MB/s)",
        best.measured.write_mbps
    );
    Some(Pick {
        candidate: best,
        reason,
    })
}

fn fastest_writer<'a>(candidates: &[Candidate<'a>]) -> Option<Candidate<'a>> {
    best_by(candidates, |a, b| {
        higher(a.measured.write_mbps, b.measured.write_mbps)
            .then(higher(a.measured.read_mbps, b.measured.read_mbps))
    })
}

/// `archival`: the highest ratio, near ties going to the faster read.
fn archival<'a>(candidates: &[Candidate<'a>]) -> Option<Pick<'a>> {
    let best_ratio = best_by(candidates, |a, b| {
        higher(a.measured.ratio, b.measured.ratio)
    })?
    .measured
    .ratio;
    let ratio_floor = best_ratio * (1.0 - ARCHIVAL_RATIO_TOLERANCE_PERCENT / 100.0);
    let near_best = keep(candidates, |c| c.measured.ratio >= ratio_floor);
    let best = best_by(&near_best, |a, b| {
        higher(a.measured.read_mbps, b.measured.read_mbps)
            .then(higher(a.measured.ratio, b.measured.ratio))
    })?;

    let reason = if near_best.len() == 1 {
        format!("highest ratio ({:.2}x)", best.measured.ratio)
    } else {
        format!(
            "ratio {:.2}x is within {ARCHIVAL_RATIO_TOLERANCE_PERCENT}% of the highest \
             ({best_ratio:.2}x) and reads fastest ({:.0} MB/s) among the {} configurations \
             that close",
            best.measured.ratio,
            best.measured.read_mbps,
            near_best.len()
        )
    };
    Some(Pick {
        candidate: best,
        reason,
    })
}

/// `balanced`: the least time to write, move over the link and read.
fn balanced<'a>(all: &[Candidate<'a>]) -> Option<Pick<'a>> {
    let compressing = keep(all, |c| c.measured.ratio >= MIN_COMPRESSING_RATIO);
    let candidates = if compressing.is_empty() {
        all
    } else {
        &compressing
    };
    let best = best_by(candidates, |a, b| {
        lower(a.round_trip_time(), b.round_trip_time())
            .then(higher(a.measured.ratio, b.measured.ratio))
    })?;

    let reason = format!(
        "least time to write, move over a 1 Gbit/s link ({LINK_MBPS:.0} MB/s) and read: {} \
         (write {} + transfer {} + read {}, ratio {:.2}x)",
        seconds(best.round_trip_time()),
        seconds(best.measured.write_time),
        seconds(best.transfer_time()),
        seconds(best.measured.read_time),
        best.measured.ratio
    );
    Some(Pick {
        candidate: best,
        reason,
    })
}

/// `lossless`: the smallest store that reads at least as fast as the link.
fn lossless<'a>(candidates: &[Candidate<'a>]) -> Option<Pick<'a>> {
    let fast_readers = keep(candidates, |c| c.measured.read_mbps >= LINK_MBPS);
    let smallest = best_by(&fast_readers, |a, b| {
        lower(
            a.measured.stored_bytes as f64,
            b.measured.stored_bytes as f64,
        )
        .then(higher(a.measured.read_mbps, b.measured.read_mbps))
    });

    match smallest {
        Some(best) => {
            let reason = format!(
                "smallest stored size ({:.1} MB, ratio {:.2}x) among configurations that read at \
                 least as fast as a 1 Gbit/s link ({LINK_MBPS:.0} MB/s); every codec is lossless",
                best.measured.stored_bytes as f64 / 1e6,
                best.measured.ratio
            );
            Some(Pick {
                candidate: best,
                reason,
            })
        }
        None => {
            let fallback = archival(candidates)?;
            let reason = format!(
                "no configuration reads at least as fast as a 1 Gbit/s link ({LINK_MBPS:.0} \
                 MB/s), so archival's rule applies: {}",
                fallback.reason
            );
            Some(Pick { reason, ..fallback })
        }
    }
}

/// `analysis`: the fastest partial reads, near ties going to the higher ratio.
fn analysis<'a>(all: &[Candidate<'a>]) -> Option<Pick<'a>> {
    // Uncompressed data reads fastest of all but is no answer to "how should I
    // compress"; it is only picked when nothing compresses.
    let compressing = keep(all, |c| c.measured.ratio >= MIN_COMPRESSING_RATIO);
    let candidates = if compressing.is_empty() {
        all
    } else {
        &compressing
    };
    let fastest_time = best_by(candidates, |a, b| {
        lower(a.partial_read_time(), b.partial_read_time())
    })?
    .partial_read_time();
    let time_ceiling = fastest_time * (1.0 + ANALYSIS_TIME_TOLERANCE_PERCENT / 100.0);
    let near_fastest = keep(candidates, |c| c.partial_read_time() <= time_ceiling);
    let best = best_by(&near_fastest, |a, b| {
        higher(a.measured.ratio, b.measured.ratio)
            .then(lower(a.partial_read_time(), b.partial_read_time()))
    })?;

    let reason = if near_fastest.len() == 1 {
        format!(
            "fastest partial reads: a plane and a central block in {}",
            seconds(best.partial_read_time())
        )
    } else {
        format!(
            "partial reads (a plane and a central block) in {}, within \
             {ANALYSIS_TIME_TOLERANCE_PERCENT}% of the fastest ({}), with the highest ratio \
             ({:.2}x) among the {} configurations that close",
            seconds(best.partial_read_time()),
            seconds(fastest_time),
            best.measured.ratio,
            near_fastest.len()
        )
    };
    Some(Pick {
        candidate: best,
        reason,
    })
}

/// The configurations that may be on the front or recommended, in plan order.
fn candidates(configs: &[ConfigResult]) -> Vec<Candidate<'_>> {
    configs.iter().filter_map(candidate).collect()
}

fn candidate(result: &ConfigResult) -> Option<Candidate<'_>> {
    let measured = result.measured.as_ref()?;
    let succeeded = result.verified && result.error.is_none() && figures_are_numbers(measured);
    succeeded.then_some(Candidate { result, measured })
}

fn figures_are_numbers(measured: &Measured) -> bool {
    let partial = &measured.partial_reads;
    [
        measured.ratio,
        measured.write_time,
        measured.read_time,
        measured.write_mbps,
        measured.read_mbps,
        partial.plane_time,
        partial.region_time,
    ]
    .iter()
    .all(|figure| !figure.is_nan())
}

/// True when `a` is at least as good as `b` in ratio, write and read speed and
/// better in one of them.
fn dominates(a: &Measured, b: &Measured) -> bool {
    let pairs = [
        (a.ratio, b.ratio),
        (a.write_mbps, b.write_mbps),
        (a.read_mbps, b.read_mbps),
    ];
    pairs.iter().all(|(x, y)| x >= y) && pairs.iter().any(|(x, y)| x > y)
}

fn keep<'a>(
    candidates: &[Candidate<'a>],
    condition: impl Fn(&Candidate<'a>) -> bool,
) -> Vec<Candidate<'a>> {
    candidates
        .iter()
        .copied()
        .filter(|c| condition(c))
        .collect()
}

/// The candidate that `rank` orders highest; the earliest one on a tie.
fn best_by<'a>(
    candidates: &[Candidate<'a>],
    rank: impl Fn(&Candidate<'a>, &Candidate<'a>) -> Ordering,
) -> Option<Candidate<'a>> {
    candidates.iter().copied().reduce(|best, next| {
        if rank(&next, &best) == Ordering::Greater {
            next
        } else {
            best
        }
    })
}

/// Ranks the higher figure first.
fn higher(a: f64, b: f64) -> Ordering {
    a.total_cmp(&b)
}

/// Ranks the lower figure first.
fn lower(a: f64, b: f64) -> Ordering {
    b.total_cmp(&a)
}

/// A duration in the unit that keeps it readable: `1.25 s`, `3.40 ms`, `85.0 µs`.
fn seconds(time: f64) -> String {
    if time >= 1.0 {
        format!("{time:.2} s")
    } else if time >= 1e-3 {
        format!("{:.2} ms", time * 1e3)
    } else {
        format!("{:.1} µs", time * 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::codec::{Codec, Shuffle};
    use crate::sweep::plan::Config;
    use crate::sweep::result::PartialReads;

    const RAW_BYTES: f64 = 64e6;

    fn config(codec: Codec, level: i32) -> Config {
        Config {
            codec,
            level,
            shuffle: codec.is_blosc().then_some(Shuffle::Shuffle),
            chunk_shape: vec![64, 64, 64],
            shard_shape: None,
        }
    }

    /// A configuration that round-tripped 64 MB with these figures; the partial
    /// read time is split evenly between the plane and the block.
    fn measured(
        codec: Codec,
        level: i32,
        ratio: f64,
        write_mbps: f64,
        read_mbps: f64,
        partial_read_time: f64,
    ) -> ConfigResult {
        let config = config(codec, level);
        ConfigResult {
            config_id: config.id(),
            config,
            measured: Some(Measured {
                stored_bytes: (RAW_BYTES / ratio).round() as u64,
                ratio,
                write_time: RAW_BYTES / (write_mbps * 1e6),
                read_time: RAW_BYTES / (read_mbps * 1e6),
                write_time_best: RAW_BYTES / (write_mbps * 1e6),
                read_time_best: RAW_BYTES / (read_mbps * 1e6),
                write_mbps,
                read_mbps,
                repeats: 3,
                partial_reads: PartialReads {
                    plane_shape: vec![1, 256, 256],
                    plane_time: partial_read_time / 2.0,
                    region_shape: vec![64, 64, 64],
                    region_time: partial_read_time / 2.0,
                },
            }),
            verified: true,
            pareto: false,
            error: None,
        }
    }

    fn failed(codec: Codec, level: i32) -> ConfigResult {
        let config = config(codec, level);
        ConfigResult {
            config_id: config.id(),
            config,
            measured: None,
            verified: false,
            pareto: false,
            error: Some("read back 12 bytes that differ from those written".into()),
        }
    }

    fn pick(configs: &[ConfigResult], profile: Profile) -> Recommendation {
        recommend(configs)
            .remove(&profile)
            .unwrap_or_else(|| panic!("no recommendation for {profile}"))
    }

    fn on_front(configs: &[ConfigResult]) -> Vec<String> {
        configs
            .iter()
            .filter(|c| c.pareto)
            .map(ConfigResult::codec_level)
            .collect()
    }

    #[test]
    fn fast_prefers_fastest_writer_that_still_compresses() {
        let configs = [
            measured(Codec::None, 0, 1.0, 5000.0, 6000.0, 0.001),
            measured(Codec::BloscLz4, 1, 1.04, 3000.0, 4000.0, 0.001),
            measured(Codec::BloscLz4, 5, 1.8, 2142.0, 3000.0, 0.001),
            measured(Codec::Zstd, 1, 2.5, 600.0, 1500.0, 0.001),
        ];

        let fast = pick(&configs, Profile::Fast);

        assert_eq!(fast.codec_level, "blosc_lz4_5");
        assert_eq!(
            fast.reason,
            "highest write speed (2142 MB/s) among configurations that compress at least 1.05x"
        );
    }

    #[test]
    fn fast_breaks_write_ties_by_read_speed() {
        let configs = [
            measured(Codec::BloscLz4, 1, 1.5, 2000.0, 3000.0, 0.001),
            measured(Codec::BloscBlosclz, 5, 1.5, 2000.0, 3500.0, 0.001),
        ];

        assert_eq!(pick(&configs, Profile::Fast).codec_level, "blosc_blosclz_5");
    }

    #[test]
    fn fast_falls_back_when_nothing_compresses() {
        let configs = [
            measured(Codec::BloscLz4, 1, 1.01, 3000.0, 4000.0, 0.001),
            measured(Codec::None, 0, 1.0, 5000.0, 6000.0, 0.001),
            measured(Codec::Zstd, 1, 1.03, 500.0, 1500.0, 0.001),
        ];

        let fast = pick(&configs, Profile::Fast);

        assert_eq!(fast.codec_level, "none");
        assert!(
            fast.reason
                .starts_with("no configuration compresses at least 1.05x")
        );
        assert!(fast.reason.contains("5000 MB/s"), "{}", fast.reason);
    }

    #[test]
    fn archival_picks_the_highest_ratio() {
        let configs = [
            measured(Codec::BloscZstd, 9, 3.0, 300.0, 2000.0, 0.001),
            measured(Codec::Zstd, 19, 3.4, 20.0, 900.0, 0.001),
        ];

        let archival = pick(&configs, Profile::Archival);

        assert_eq!(archival.codec_level, "zstd_19");
        assert_eq!(archival.reason, "highest ratio (3.40x)");
    }

    #[test]
    fn archival_breaks_near_ties_by_read_speed() {
        let configs = [
            measured(Codec::Zstd, 19, 3.400, 20.0, 900.0, 0.001),
            // 0.3% below the best ratio: tied, and it reads faster.
            measured(Codec::BloscZstd, 9, 3.390, 150.0, 2500.0, 0.001),
            // 1% below: not tied, however fast it reads.
            measured(Codec::BloscLz4hc, 9, 3.366, 100.0, 4000.0, 0.001),
        ];

        let archival = pick(&configs, Profile::Archival);

        assert_eq!(archival.codec_level, "blosc_zstd_9");
        assert!(
            archival.reason.contains("within 0.5%"),
            "{}",
            archival.reason
        );
        assert!(archival.reason.contains("2500 MB/s"), "{}", archival.reason);
    }

    #[test]
    fn balanced_trades_ratio_against_link_time() {
        // 64 MB at 1.2x is 53 MB, 0.43 s on the link; at 4x it is 0.13 s,
        // which more than pays for the slower codec.
        let better_ratio_wins = [
            measured(Codec::BloscLz4, 5, 1.2, 2000.0, 3000.0, 0.001),
            measured(Codec::BloscZstd, 5, 4.0, 400.0, 800.0, 0.001),
        ];
        let balanced = pick(&better_ratio_wins, Profile::Balanced);
        assert_eq!(balanced.codec_level, "blosc_zstd_5");
        assert!(
            balanced.reason.contains("1 Gbit/s link (125 MB/s)"),
            "{}",
            balanced.reason
        );
        assert!(balanced.reason.contains("368.00 ms"), "{}", balanced.reason);

        // A 10% better ratio saves 0.03 s on the link but costs 0.6 s to write.
        let faster_codec_wins = [
            measured(Codec::BloscLz4, 5, 2.0, 2000.0, 3000.0, 0.001),
            measured(Codec::Zstd, 19, 2.2, 100.0, 200.0, 0.001),
        ];
        assert_eq!(
            pick(&faster_codec_wins, Profile::Balanced).codec_level,
            "blosc_lz4_5"
        );
    }

    #[test]
    fn lossless_skips_configurations_that_read_slower_than_the_link() {
        let configs = [
            measured(Codec::None, 0, 1.0, 5000.0, 6000.0, 0.001),
            measured(Codec::Gzip, 9, 3.5, 30.0, 110.0, 0.001),
            measured(Codec::BloscZstd, 5, 3.0, 400.0, 900.0, 0.001),
            measured(Codec::BloscLz4, 5, 2.0, 2000.0, 3000.0, 0.001),
        ];

        let lossless = pick(&configs, Profile::Lossless);

        assert_eq!(lossless.codec_level, "blosc_zstd_5");
        assert!(
            lossless.reason.contains("(125 MB/s)"),
            "{}",
            lossless.reason
        );
    }

    #[test]
    fn lossless_falls_back_to_archival_when_nothing_reads_as_fast_as_the_link() {
        let configs = [
            measured(Codec::Gzip, 9, 3.5, 30.0, 110.0, 0.001),
            measured(Codec::Zstd, 19, 3.6, 10.0, 100.0, 0.001),
        ];

        let lossless = pick(&configs, Profile::Lossless);

        assert_eq!(
            lossless.codec_level,
            pick(&configs, Profile::Archival).codec_level
        );
        assert!(
            lossless.reason.starts_with("no configuration reads"),
            "{}",
            lossless.reason
        );
        assert!(
            lossless.reason.contains("highest ratio (3.60x)"),
            "{}",
            lossless.reason
        );
    }

    #[test]
    fn analysis_picks_fastest_partial_reads() {
        let configs = [
            measured(Codec::Zstd, 3, 3.0, 300.0, 900.0, 0.010),
            measured(Codec::BloscLz4, 5, 2.0, 2000.0, 3000.0, 0.002),
            measured(Codec::None, 0, 1.0, 5000.0, 6000.0, 0.004),
        ];

        let analysis = pick(&configs, Profile::Analysis);

        assert_eq!(analysis.codec_level, "blosc_lz4_5");
        assert_eq!(
            analysis.reason,
            "fastest partial reads: a plane and a central block in 2.00 ms"
        );
    }

    #[test]
    fn analysis_breaks_near_ties_by_ratio() {
        let configs = [
            measured(Codec::BloscLz4, 1, 1.8, 5000.0, 6000.0, 0.00200),
            // 4% slower: tied, and it compresses better.
            measured(Codec::BloscLz4, 5, 2.0, 2000.0, 3000.0, 0.00208),
            // 10% slower: not tied, whatever its ratio.
            measured(Codec::Zstd, 3, 3.0, 300.0, 900.0, 0.00220),
        ];

        let analysis = pick(&configs, Profile::Analysis);

        assert_eq!(analysis.codec_level, "blosc_lz4_5");
        assert!(analysis.reason.contains("within 5%"), "{}", analysis.reason);
    }

    #[test]
    fn analysis_prefers_compressed_layouts_over_the_uncompressed_baseline() {
        let configs = [
            measured(Codec::None, 0, 1.0, 5000.0, 6000.0, 0.001),
            measured(Codec::BloscLz4, 5, 2.0, 2000.0, 3000.0, 0.003),
        ];

        assert_eq!(pick(&configs, Profile::Analysis).codec_level, "blosc_lz4_5");
    }

    #[test]
    fn analysis_falls_back_to_the_baseline_when_nothing_compresses() {
        let configs = [
            measured(Codec::None, 0, 1.0, 5000.0, 6000.0, 0.001),
            measured(Codec::Zstd, 3, 1.01, 200.0, 800.0, 0.003),
        ];

        assert_eq!(pick(&configs, Profile::Analysis).codec_level, "none");
    }

    #[test]
    fn balanced_recommends_compression_when_anything_compresses() {
        // Barely compressible data: writing it raw is quickest over the link,
        // but the profile answers which compression to use.
        let configs = [
            measured(Codec::None, 0, 1.0, 8000.0, 9000.0, 0.001),
            measured(Codec::BloscLz4, 5, 1.1, 1000.0, 1500.0, 0.001),
            measured(Codec::BloscZstd, 5, 1.15, 80.0, 1000.0, 0.001),
        ];

        assert_eq!(pick(&configs, Profile::Balanced).codec_level, "blosc_lz4_5");
    }

    #[test]
    fn failed_configurations_are_never_recommended_or_on_the_front() {
        let mut unverified = measured(Codec::Zstd, 19, 9.0, 9000.0, 9000.0, 0.0001);
        unverified.verified = false;
        let mut configs = [
            failed(Codec::BloscZstd, 9),
            unverified,
            measured(Codec::BloscLz4, 5, 2.0, 2000.0, 3000.0, 0.002),
            measured(Codec::None, 0, 1.0, 5000.0, 6000.0, 0.001),
        ];

        mark_pareto(&mut configs);
        let recommendations = recommend(&configs);

        assert_eq!(on_front(&configs), ["blosc_lz4_5", "none"]);
        assert_eq!(recommendations.len(), Profile::ALL.len());
        for (profile, recommendation) in &recommendations {
            assert!(
                ["blosc_lz4_5", "none"].contains(&recommendation.codec_level.as_str()),
                "{profile}: {}",
                recommendation.codec_level
            );
        }
        let best = best_compression(&configs).map(|b| b.config_id);
        assert_eq!(best.as_deref(), Some("blosc_lz4_5_shuffle_64x64x64"));
    }

    #[test]
    fn pareto_front_excludes_dominated_configurations() {
        let mut configs = [
            measured(Codec::BloscLz4, 5, 2.0, 2000.0, 3000.0, 0.002),
            // Worse than blosc_lz4_5 in all three.
            measured(Codec::BloscBlosclz, 5, 1.9, 1800.0, 2500.0, 0.002),
            // Equal in ratio and write speed, slower to read.
            measured(Codec::BloscLz4, 1, 2.0, 2000.0, 2900.0, 0.002),
            measured(Codec::Zstd, 19, 3.5, 20.0, 800.0, 0.002),
            measured(Codec::None, 0, 1.0, 5000.0, 6000.0, 0.002),
        ];
        configs[1].pareto = true;

        mark_pareto(&mut configs);

        assert_eq!(on_front(&configs), ["blosc_lz4_5", "zstd_19", "none"]);
    }

    #[test]
    fn every_profile_is_recommended_when_one_configuration_succeeded() {
        let configs = [
            failed(Codec::BloscZstd, 5),
            measured(Codec::None, 0, 1.0, 5000.0, 6000.0, 0.001),
        ];

        let recommendations = recommend(&configs);

        assert_eq!(
            recommendations.keys().copied().collect::<Vec<_>>(),
            [
                Profile::Fast,
                Profile::Balanced,
                Profile::Archival,
                Profile::Lossless,
                Profile::Analysis
            ]
        );
        assert!(recommendations.values().all(|r| r.codec_level == "none"));
    }

    #[test]
    fn recommendations_carry_the_configuration_and_its_figures() {
        let configs = [measured(Codec::BloscZstd, 5, 3.0, 400.0, 900.0, 0.001)];

        let archival = pick(&configs, Profile::Archival);

        assert_eq!(archival.config_id, "blosc_zstd_5_shuffle_64x64x64");
        assert_eq!(archival.config, configs[0].config);
        assert_eq!(
            (archival.ratio, archival.write_mbps, archival.read_mbps),
            (3.0, 400.0, 900.0)
        );
    }

    #[test]
    fn no_successful_configuration_means_no_recommendations() {
        let mut configs = [failed(Codec::BloscZstd, 5), failed(Codec::None, 0)];

        mark_pareto(&mut configs);

        assert!(recommend(&configs).is_empty());
        assert!(best_compression(&configs).is_none());
        assert!(on_front(&configs).is_empty());
    }
}
