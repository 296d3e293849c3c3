//! The trade-off chart of a sweep as a self-contained SVG document.
//!
//! Two panels share the ratio axis (y, linear): one against write speed, one
//! against read speed (x, MB/s of uncompressed data, log scale). Every
//! configuration that round-tripped is a point coloured by codec; a filled
//! point is on the sweep's Pareto front of ratio, write speed and read speed.
//! The step line is the front of the panel's own two figures (the best ratio
//! reachable at each speed). Recommended configurations are ringed and
//! labelled with their profile names. Hand-written SVG, no fonts or scripts
//! from outside, every piece of text escaped.
//!
//! Labels of recommendations that sit close together may overlap; the
//! recommendation table of `zarrbench run` remains the exact reference.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::sweep::SweepResult;
use crate::sweep::plan::shape_label;

const WIDTH: f64 = 1100.0;
const HEIGHT: f64 = 560.0;
const PANEL_TOP: f64 = 90.0;
const PANEL_HEIGHT: f64 = 380.0;
const PANEL_WIDTH: f64 = 440.0;
const PANEL_LEFT: [f64; 2] = [80.0, 620.0];
const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
];

/// One successful configuration, as the chart needs it.
struct Point<'a> {
    config_id: &'a str,
    codec: &'a str,
    ratio: f64,
    write_mbps: f64,
    read_mbps: f64,
    pareto: bool,
}

/// Which speed a panel plots.
#[derive(Clone, Copy)]
enum Speed {
    Write,
    Read,
}

impl Speed {
    fn of(self, point: &Point) -> f64 {
        match self {
            Speed::Write => point.write_mbps,
            Speed::Read => point.read_mbps,
        }
    }

    fn axis_label(self) -> &'static str {
        match self {
            Speed::Write => "write speed (MB/s, log scale)",
            Speed::Read => "read speed (MB/s, log scale)",
        }
    }
}

/// Renders `result` as an SVG document.
pub fn render(result: &SweepResult) -> String {
    let points = points(result);
    let codecs = codec_colours(&points);
    let labels = recommendation_labels(result);
    let ratio_axis = RatioAxis::fitting(&points);

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
    );
    title(&mut svg, result);
    for (panel, speed) in [Speed::Write, Speed::Read].into_iter().enumerate() {
        let frame = Frame {
            left: PANEL_LEFT[panel],
            speed_axis: SpeedAxis::fitting(points.iter().map(|p| speed.of(p))),
            ratio_axis,
        };
        draw_panel(&mut svg, &frame, speed, &points, &codecs, &labels);
    }
    legend(&mut svg, &codecs);
    svg += "</svg>\n";
    svg
}

fn points(result: &SweepResult) -> Vec<Point<'_>> {
    result
        .configs
        .iter()
        .filter_map(|row| {
            let measured = row.measured.as_ref()?;
            let usable = |v: f64| v.is_finite() && v > 0.0;
            (usable(measured.ratio) && usable(measured.write_mbps) && usable(measured.read_mbps))
                .then_some(Point {
                    config_id: &row.config_id,
                    codec: row.config.codec.name(),
                    ratio: measured.ratio,
                    write_mbps: measured.write_mbps,
                    read_mbps: measured.read_mbps,
                    pareto: row.pareto,
                })
        })
        .collect()
}

/// Codec name to colour, in order of first appearance.
fn codec_colours<'a>(points: &[Point<'a>]) -> Vec<(&'a str, &'static str)> {
    let mut colours: Vec<(&str, &str)> = Vec::new();
    for point in points {
        if !colours.iter().any(|(codec, _)| *codec == point.codec) {
            let colour = PALETTE[colours.len() % PALETTE.len()];
            colours.push((point.codec, colour));
        }
    }
    colours
}

/// Config id to the profiles that recommend it, e.g. `fast, balanced`.
fn recommendation_labels(result: &SweepResult) -> BTreeMap<&str, String> {
    let mut labels: BTreeMap<&str, String> = BTreeMap::new();
    for (profile, pick) in &result.recommendation_details {
        let label = labels.entry(pick.config_id.as_str()).or_default();
        if !label.is_empty() {
            label.push_str(", ");
        }
        label.push_str(profile);
    }
    labels
}

fn title(svg: &mut String, result: &SweepResult) {
    let dataset = &result.dataset;
    let heading = format!(
        "{} {} {}: compression ratio against speed",
        dataset.modality,
        shape_label(&dataset.shape),
        dataset.dtype
    );
    let origin = match dataset.format {
        Some(_) => {
            // A long path keeps its end, which names the file.
            let chars: Vec<char> = dataset.source.chars().collect();
            let tail: String = chars[chars.len().saturating_sub(60)..].iter().collect();
            let ellipsis = if chars.len() > 60 { "…" } else { "" };
            format!("from {ellipsis}{tail}, ")
        }
        None => String::new(),
    };
    let details = format!(
        "{origin}{}, profile {}, {} repeat(s), {} thread(s), {} store, {} build; memcpy {:.0} MB/s",
        size_label(dataset.bytes),
        result.profile,
        result.repeats,
        result.environment.threads,
        result.store,
        result.environment.build_profile,
        result.memcpy_mbps
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="32" text-anchor="middle" font-size="18" font-weight="bold">{}</text>"#,
        WIDTH / 2.0,
        escape(&heading)
    );
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="54" text-anchor="middle" fill="#444">{}</text>"##,
        WIDTH / 2.0,
        escape(&details)
    );
}

/// A panel's position and scales.
struct Frame {
    left: f64,
    speed_axis: SpeedAxis,
    ratio_axis: RatioAxis,
}

impl Frame {
    fn x(&self, speed: f64) -> f64 {
        self.left + self.speed_axis.fraction(speed) * PANEL_WIDTH
    }

    fn y(&self, ratio: f64) -> f64 {
        PANEL_TOP + (1.0 - self.ratio_axis.fraction(ratio)) * PANEL_HEIGHT
    }
}

fn draw_panel(
    svg: &mut String,
    frame: &Frame,
    speed: Speed,
    points: &[Point],
    codecs: &[(&str, &str)],
    labels: &BTreeMap<&str, String>,
) {
    axes(svg, frame, speed);
    if points.is_empty() {
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#444">no configuration succeeded</text>"##,
            frame.left + PANEL_WIDTH / 2.0,
            PANEL_TOP + PANEL_HEIGHT / 2.0
        );
        return;
    }
    front_line(svg, frame, speed, points);
    for point in points {
        let colour = codecs
            .iter()
            .find(|(codec, _)| *codec == point.codec)
            .map_or("#000", |(_, colour)| colour);
        let fill = if point.pareto { colour } else { "white" };
        let _ = writeln!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{fill}" stroke="{colour}" stroke-width="1.5"><title>{}: ratio {:.3}, {:.0} MB/s</title></circle>"#,
            frame.x(speed.of(point)),
            frame.y(point.ratio),
            escape(point.config_id),
            point.ratio,
            speed.of(point)
        );
    }
    let mut placed: Vec<Box> = Vec::new();
    for point in points {
        if let Some(label) = labels.get(point.config_id) {
            let (x, y) = (frame.x(speed.of(point)), frame.y(point.ratio));
            let _ = writeln!(
                svg,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="8" fill="none" stroke="#000" stroke-width="1"/>"##
            );
            let spot = label_spot(frame, x, y, label, &placed);
            let _ = writeln!(
                svg,
                r##"<line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{:.1}" stroke="#888" stroke-width="0.75"/><text x="{:.1}" y="{:.1}" text-anchor="{}" font-weight="bold" stroke="white" stroke-width="3" paint-order="stroke">{}</text>"##,
                spot.anchor_x,
                spot.y - 4.0,
                spot.anchor_x,
                spot.y,
                spot.anchor,
                escape(label)
            );
            placed.push(spot.area);
        }
    }
}

/// A rectangle a label covers: left, top, right, bottom.
type Box = [f64; 4];

/// Where a label goes: its anchor point, text anchor and the area it covers.
struct LabelSpot {
    anchor_x: f64,
    y: f64,
    anchor: &'static str,
    area: Box,
}

/// The first spot beside (x, y), moving further up or down, whose label does
/// not cover one already placed.
fn label_spot(frame: &Frame, x: f64, y: f64, label: &str, placed: &[Box]) -> LabelSpot {
    let width = 7.5 * label.chars().count() as f64;
    // Labels of points near the right edge go to their left.
    let (anchor_x, anchor, left) = if x > frame.left + PANEL_WIDTH * 0.6 {
        (x - 10.0, "end", x - 10.0 - width)
    } else {
        (x + 10.0, "start", x + 10.0)
    };
    let overlaps = |a: &Box, b: &Box| a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
    let spot_at = |baseline: f64| LabelSpot {
        anchor_x,
        y: baseline,
        anchor,
        area: [left, baseline - 12.0, left + width, baseline + 3.0],
    };
    let offsets = [-10.0, 20.0, -26.0, 36.0, -42.0, 52.0, -58.0, 68.0];
    offsets
        .iter()
        .map(|offset| spot_at(y + offset))
        .find(|spot| {
            spot.area[1] > PANEL_TOP
                && spot.area[3] < PANEL_TOP + PANEL_HEIGHT
                && !placed.iter().any(|other| overlaps(&spot.area, other))
        })
        .unwrap_or_else(|| spot_at(y - 10.0))
}

/// The frame, ticks, grid and axis labels of a panel.
fn axes(svg: &mut String, frame: &Frame, speed: Speed) {
    let (left, right) = (frame.left, frame.left + PANEL_WIDTH);
    let (top, bottom) = (PANEL_TOP, PANEL_TOP + PANEL_HEIGHT);
    for tick in frame.speed_axis.ticks() {
        let x = frame.x(tick);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{bottom}" stroke="#e5e5e5"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
            bottom + 16.0,
            number(tick)
        );
    }
    for tick in frame.ratio_axis.ticks() {
        let y = frame.y(tick);
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" y1="{y:.1}" x2="{right}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            left - 6.0,
            y + 4.0,
            number(tick)
        );
    }
    let _ = writeln!(
        svg,
        r##"<rect x="{left}" y="{top}" width="{PANEL_WIDTH}" height="{PANEL_HEIGHT}" fill="none" stroke="#333"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
        left + PANEL_WIDTH / 2.0,
        bottom + 36.0,
        speed.axis_label()
    );
    let (x, y) = (left - 48.0, top + PANEL_HEIGHT / 2.0);
    let _ = writeln!(
        svg,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" transform="rotate(-90 {x:.1} {y:.1})">compression ratio (uncompressed / stored)</text>"#
    );
}

/// The best ratio reachable at each speed or faster, as a step line.
fn front_line(svg: &mut String, frame: &Frame, speed: Speed, points: &[Point]) {
    let mut by_speed: Vec<(f64, f64)> = points.iter().map(|p| (speed.of(p), p.ratio)).collect();
    by_speed.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)));
    let mut front: Vec<(f64, f64)> = Vec::new();
    for (x, ratio) in by_speed {
        if front.last().is_none_or(|&(_, best)| ratio > best) {
            front.push((x, ratio));
        }
    }
    front.reverse();

    let mut path = String::new();
    for (index, &(x, ratio)) in front.iter().enumerate() {
        if index == 0 {
            let _ = write!(path, "M{:.1},{:.1}", frame.x(x), frame.y(ratio));
        } else {
            let _ = write!(path, " V{:.1} H{:.1}", frame.y(ratio), frame.x(x));
        }
    }
    let _ = writeln!(
        svg,
        r##"<path d="{path}" fill="none" stroke="#555" stroke-width="1.5" stroke-dasharray="5,3"/>"##
    );
}

fn legend(svg: &mut String, codecs: &[(&str, &str)]) {
    let y = HEIGHT - 36.0;
    let mut x = PANEL_LEFT[0];
    for (codec, colour) in codecs {
        let _ = writeln!(
            svg,
            r#"<circle cx="{x}" cy="{}" r="4" fill="{colour}"/><text x="{}" y="{y}">{}</text>"#,
            y - 4.0,
            x + 8.0,
            escape(codec)
        );
        x += 24.0 + 7.0 * codec.len() as f64;
    }
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="{}" fill="#444">filled: on the Pareto front of ratio, write and read speed; dashed: best ratio at each speed; ringed and labelled: recommended for the named profiles</text>"##,
        PANEL_LEFT[0],
        y + 18.0
    );
}

/// A log scale over whole decades of MB/s.
struct SpeedAxis {
    low_decade: i32,
    high_decade: i32,
}

impl SpeedAxis {
    fn fitting(speeds: impl Iterator<Item = f64>) -> SpeedAxis {
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        for speed in speeds {
            low = low.min(speed);
            high = high.max(speed);
        }
        if !low.is_finite() {
            (low, high) = (1.0, 1000.0);
        }
        let low_decade = low.log10().floor() as i32;
        let high_decade = (high.log10().ceil() as i32).max(low_decade + 1);
        SpeedAxis {
            low_decade,
            high_decade,
        }
    }

    fn fraction(&self, speed: f64) -> f64 {
        let span = f64::from(self.high_decade - self.low_decade);
        (speed.log10() - f64::from(self.low_decade)) / span
    }

    /// Every decade, plus 2 and 5 times it when the axis spans few decades.
    fn ticks(&self) -> Vec<f64> {
        let multiples: &[f64] = if self.high_decade - self.low_decade <= 2 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0]
        };
        let mut ticks = Vec::new();
        for decade in self.low_decade..=self.high_decade {
            for multiple in multiples {
                let tick = multiple * 10f64.powi(decade);
                if self.fraction(tick) <= 1.0 + 1e-9 {
                    ticks.push(tick);
                }
            }
        }
        ticks
    }
}

/// A linear ratio scale from a round number below the lowest ratio (at most
/// 1) to a round number above the highest.
#[derive(Clone, Copy)]
struct RatioAxis {
    low: f64,
    high: f64,
    step: f64,
}

impl RatioAxis {
    fn fitting(points: &[Point]) -> RatioAxis {
        let low = points.iter().map(|p| p.ratio).fold(1.0, f64::min);
        let high = points.iter().map(|p| p.ratio).fold(low, f64::max);
        let span = (high - low).max(0.1);
        let step = nice_step(span / 5.0);
        RatioAxis {
            low: ((low - 0.05 * span) / step).floor() * step,
            high: ((high + 0.08 * span) / step).ceil() * step,
            step,
        }
    }

    fn fraction(&self, ratio: f64) -> f64 {
        (ratio - self.low) / (self.high - self.low)
    }

    fn ticks(&self) -> Vec<f64> {
        let count = ((self.high - self.low) / self.step).round() as usize;
        (0..=count)
            .map(|i| self.low + i as f64 * self.step)
            .collect()
    }
}

/// 1, 2 or 5 times a power of ten, at least `rough`.
fn nice_step(rough: f64) -> f64 {
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * power)
}

/// `512.0 kB`, `16.8 MB`, `2.1 GB` (powers of 1000, as the speeds).
fn size_label(bytes: u64) -> String {
    let bytes = bytes as f64;
    match bytes {
        b if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        b => format!("{:.1} kB", b / 1e3),
    }
}

/// A tick label without trailing zeros: `0.5`, `2`, `1000`.
fn number(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Escapes text for SVG element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(character),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_markup_characters() {
        assert_eq!(escape(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&#39;");
    }

    #[test]
    fn nice_step_rounds_up_to_one_two_or_five() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(1.2), 2.0);
        assert_eq!(nice_step(7.0), 10.0);
    }

    #[test]
    fn speed_axis_covers_whole_decades() {
        let axis = SpeedAxis::fitting([35.0, 2400.0].into_iter());
        assert_eq!((axis.low_decade, axis.high_decade), (1, 4));
        assert_eq!(axis.ticks(), vec![10.0, 100.0, 1000.0, 10000.0]);
    }
}
