//! Printing a [`SweepResult`] as a table for people, CSV for spreadsheets or
//! JSON (exactly the result object).

use std::fmt::Write as _;

use crate::sweep::SweepResult;
use crate::sweep::plan::shape_label;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Renders the result in `format`.
pub fn render(result: &SweepResult, format: Format) -> String {
    match format {
        Format::Table => table(result),
        Format::Json => serde_json::to_string_pretty(result).unwrap_or_default() + "\n",
        Format::Csv => csv(result),
    }
}

/// The column names of [`csv`], in order.
pub const CSV_COLUMNS: [&str; 20] = [
    "config_id",
    "codec",
    "level",
    "shuffle",
    "chunk_shape",
    "shard_shape",
    "stored_bytes",
    "ratio",
    "write_time",
    "read_time",
    "write_time_best",
    "read_time_best",
    "write_mbps",
    "read_mbps",
    "plane_read_time",
    "region_read_time",
    "repeats",
    "verified",
    "pareto",
    "error",
];

/// One row per configuration; shapes written `64x64x64`; empty cells where a
/// configuration failed.
pub fn csv(result: &SweepResult) -> String {
    let mut out = CSV_COLUMNS.join(",") + "\n";
    for row in &result.configs {
        let config = &row.config;
        let mut cells = vec![
            row.config_id.clone(),
            config.codec.name().to_string(),
            config.level.to_string(),
            config
                .shuffle
                .map(|s| s.name().to_string())
                .unwrap_or_default(),
            shape_label(&config.chunk_shape),
            config
                .shard_shape
                .as_deref()
                .map(shape_label)
                .unwrap_or_default(),
        ];
        match &row.measured {
            Some(m) => cells.extend([
                m.stored_bytes.to_string(),
                format!("{:.4}", m.ratio),
                format!("{:.6}", m.write_time),
                format!("{:.6}", m.read_time),
                format!("{:.6}", m.write_time_best),
                format!("{:.6}", m.read_time_best),
                format!("{:.1}", m.write_mbps),
                format!("{:.1}", m.read_mbps),
                format!("{:.6}", m.partial_reads.plane_time),
                format!("{:.6}", m.partial_reads.region_time),
                m.repeats.to_string(),
            ]),
            None => cells.extend(std::iter::repeat_n(String::new(), 11)),
        }
        cells.push(row.verified.to_string());
        cells.push(row.pareto.to_string());
        cells.push(row.error.clone().unwrap_or_default());
        out += &cells
            .iter()
            .map(|c| csv_cell(c))
            .collect::<Vec<_>>()
            .join(",");
        out.push('\n');
    }
    out
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A readable table: Pareto rows marked `*`, recommendations beneath.
pub fn table(result: &SweepResult) -> String {
    let dataset = &result.dataset;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} {} ({:.1} MB), profile {}, {} repeats, {} thread(s), {} store",
        dataset.modality,
        shape_label(&dataset.shape),
        dataset.dtype,
        dataset.bytes as f64 / 1e6,
        result.profile,
        result.repeats,
        result.environment.threads,
        result.store,
    );
    let phase = match &dataset.format {
        Some(format) => {
            let region = dataset.region.as_ref().map_or(String::new(), |region| {
                format!(
                    ", region from {} size {}",
                    shape_label(&region.start),
                    shape_label(&region.size)
                )
            });
            let _ = writeln!(out, "read from {} ({format}{region})", dataset.source);
            "reading"
        }
        None => "generation",
    };
    let _ = writeln!(
        out,
        "{phase} {:.2} s, sweep {:.2} s; memcpy {:.0} MB/s\n",
        result.timing.generation, result.timing.sweep, result.memcpy_mbps
    );

    let headers = [
        "",
        "configuration",
        "ratio",
        "write MB/s",
        "read MB/s",
        "plane ms",
        "region ms",
    ];
    let mut rows: Vec<[String; 7]> = Vec::new();
    for row in &result.configs {
        let mark = if row.pareto { "*" } else { "" }.to_string();
        match &row.measured {
            Some(m) => rows.push([
                mark,
                row.config_id.clone(),
                format!("{:.3}", m.ratio),
                format!("{:.0}", m.write_mbps),
                format!("{:.0}", m.read_mbps),
                format!("{:.2}", m.partial_reads.plane_time * 1e3),
                format!("{:.2}", m.partial_reads.region_time * 1e3),
            ]),
            None => rows.push([
                "!".to_string(),
                row.config_id.clone(),
                "failed".to_string(),
                row.error.clone().unwrap_or_default(),
                String::new(),
                String::new(),
                String::new(),
            ]),
        }
    }
    let widths: Vec<usize> = (0..headers.len())
        .map(|col| {
            rows.iter()
                .map(|r| {
                    if col == 3 && r[0] == "!" {
                        0
                    } else {
                        r[col].len()
                    }
                })
                .chain([headers[col].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let mut text = String::new();
        for (col, cell) in cells.iter().enumerate() {
            if col == 1 {
                let _ = write!(text, "{cell:<w$}  ", w = widths[col]);
            } else {
                let _ = write!(text, "{cell:>w$}  ", w = widths[col]);
            }
        }
        text.trim_end().to_string() + "\n"
    };
    out += &line(&headers.map(String::from));
    for row in &rows {
        out += &line(row);
    }
    out += "\n* on the Pareto front of ratio, write speed and read speed\n\nrecommendations:\n";
    for (profile, pick) in &result.recommendation_details {
        let _ = writeln!(
            out,
            "  {profile:<9} {:<16} {}  ({})",
            pick.codec_level, pick.config_id, pick.reason
        );
    }
    if result.recommendation_details.is_empty() {
        out += "  none: no configuration succeeded\n";
    }
    out
}
