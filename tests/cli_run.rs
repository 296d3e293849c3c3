//! `zarrbench run` as a user calls it.

use std::process::Command;

fn zarrbench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_zarrbench"))
}

#[test]
fn json_output_is_exactly_the_result_object() {
    let output = zarrbench()
        .args([
            "run",
            "--dataset",
            "sem",
            "--shape",
            "16,32,32",
            "--profile",
            "fast",
        ])
        .args(["--repeats", "1", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["dataset"]["type"], "sem");
    assert_eq!(result["dataset"]["dtype"], "uint8");
    assert_eq!(result["dataset"]["shape"], serde_json::json!([16, 32, 32]));
    assert_eq!(result["dataset"]["seed"], 42);
    assert!(result["recommendations"]["fast"].is_string());
    let first = &result["configs"][0];
    for field in [
        "config_id",
        "codec",
        "level",
        "chunk_shape",
        "stored_bytes",
        "ratio",
        "write_time",
        "read_time",
        "write_mbps",
        "read_mbps",
        "verified",
        "pareto",
    ] {
        assert!(!first[field].is_null(), "missing {field}");
    }
}

#[test]
fn the_table_marks_the_pareto_front_and_lists_recommendations() {
    let output = zarrbench()
        .args([
            "run",
            "--dataset",
            "confocal",
            "--shape",
            "16,32,32",
            "--repeats",
            "1",
        ])
        .args(["--codecs", "blosc_lz4,zstd_3", "--chunks", "16,16,16"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.contains("blosc_lz4_5_shuffle_16x16x16"), "{table}");
    assert!(table.contains("zstd_3_16x16x16"), "{table}");
    assert!(table.lines().any(|line| line.starts_with('*')), "{table}");
    assert!(
        table.contains("recommendations:") && table.contains("archival"),
        "{table}"
    );
}

#[test]
fn csv_has_a_header_and_one_row_per_configuration() {
    let output = zarrbench()
        .args([
            "run",
            "--dataset",
            "sted",
            "--shape",
            "8,32,32",
            "--repeats",
            "1",
        ])
        .args([
            "--codecs", "zstd", "--chunks", "8,16,16", "--chunks", "8,32,32", "--format", "csv",
        ])
        .output()
        .unwrap();
    let csv = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<_> = csv.lines().collect();
    assert!(lines[0].starts_with("config_id,codec,level,shuffle,chunk_shape"));
    // zstd and the none baseline, for each of two chunk shapes.
    assert_eq!(lines.len(), 1 + 4, "{csv}");
}

#[test]
fn keep_leaves_zarr_arrays_other_tools_can_open() {
    let dir = tempfile::tempdir().unwrap();
    let output = zarrbench()
        .args([
            "run",
            "--dataset",
            "widefield",
            "--shape",
            "8,24,24",
            "--repeats",
            "1",
        ])
        .args([
            "--codecs",
            "blosc_zstd_5",
            "--chunks",
            "8,12,12",
            "--format",
            "csv",
        ])
        .arg("--keep")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let source: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("source.zarr/zarr.json")).unwrap())
            .unwrap();
    assert_eq!(source["shape"], serde_json::json!([8, 24, 24]));
    assert_eq!(source["data_type"], "uint16");
    let kept = dir
        .path()
        .join("blosc_zstd_5_shuffle_8x12x12.zarr/zarr.json");
    let metadata = std::fs::read_to_string(kept).unwrap();
    assert!(
        metadata.contains("\"blosc\"") && metadata.contains("\"zstd\""),
        "{metadata}"
    );
}

#[test]
fn bad_arguments_exit_non_zero_with_one_line() {
    for args in [
        vec!["run", "--dataset", "xray", "--shape", "8,8"],
        vec!["run", "--dataset", "sem", "--shape", "8,x"],
        vec![
            "run",
            "--dataset",
            "sem",
            "--shape",
            "8,8",
            "--codecs",
            "lzma",
        ],
        vec![
            "run",
            "--dataset",
            "sem",
            "--shape",
            "8,8",
            "--chunks",
            "4,4,4",
        ],
        vec!["run", "--dataset", "sem"],
    ] {
        let output = zarrbench().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn svg_flag_writes_the_trade_off_chart() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart.svg");
    let output = zarrbench()
        .args(["run", "--dataset", "sem", "--shape", "16,32,32"])
        .args(["--profile", "fast", "--repeats", "1", "--svg"])
        .arg(&chart)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains("sem 16x32x32 uint8"));
    let labels: Vec<&str> = svg
        .split(r#"paint-order="stroke">"#)
        .skip(1)
        .filter_map(|rest| rest.split('<').next())
        .collect();
    assert!(
        labels.iter().any(|label| label.contains("fast")),
        "{labels:?}"
    );
}

fn run_json(args: &[&str]) -> serde_json::Value {
    let output = zarrbench().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn input_benchmarks_a_zarr_array_like_the_volume_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("kept");
    let keep_arg = keep.to_str().unwrap();
    let common = ["--codecs", "blosc_zstd_5,zstd_3", "--chunks", "8,16,16"];
    let generated = run_json(
        &[
            &["run", "--dataset", "light_sheet", "--shape", "16,32,32"][..],
            &common,
            &["--repeats", "1", "--format", "json", "--keep", keep_arg],
        ]
        .concat(),
    );
    let source = keep.join("source.zarr");
    let source_arg = source.to_str().unwrap();
    let from_file = run_json(
        &[
            &["run", "--input", source_arg][..],
            &common,
            &["--repeats", "1", "--format", "json"],
        ]
        .concat(),
    );
    let dataset = &from_file["dataset"];
    assert_eq!(dataset["type"], "custom", "the default tag of a file");
    assert_eq!(dataset["format"], "zarr");
    assert_eq!(dataset["source"], source_arg);
    assert_eq!(dataset["shape"], serde_json::json!([16, 32, 32]));
    assert_eq!(dataset["dtype"], "uint16");
    assert!(dataset["seed"].is_null());
    // Same bytes, same codecs and chunks: the same stored sizes.
    for (ours, theirs) in from_file["configs"]
        .as_array()
        .unwrap()
        .iter()
        .zip(generated["configs"].as_array().unwrap())
    {
        assert_eq!(ours["config_id"], theirs["config_id"]);
        assert_eq!(
            ours["stored_bytes"], theirs["stored_bytes"],
            "{}",
            ours["config_id"]
        );
    }

    let cropped = run_json(
        &[
            &["run", "--input", source_arg, "--dataset", "light_sheet"][..],
            &["--region-start", "4,0,8", "--region-size", "8,32,16"],
            &["--codecs", "zstd_3", "--repeats", "1", "--format", "json"],
        ]
        .concat(),
    );
    assert_eq!(cropped["dataset"]["type"], "light_sheet");
    assert_eq!(cropped["dataset"]["shape"], serde_json::json!([8, 32, 16]));
    assert_eq!(
        cropped["dataset"]["region"],
        serde_json::json!({"start": [4, 0, 8], "size": [8, 32, 16]})
    );
}

#[test]
fn input_that_cannot_be_read_exits_non_zero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not an image").unwrap();
    let missing = dir.path().join("missing.tif");
    let cases: [(&[&str], &str); 4] = [
        (&["--input", missing.to_str().unwrap()], "does not exist"),
        (&["--input", text.to_str().unwrap()], "notes.txt"),
        (&["--region-size", "4,4"], "--input"),
        (&["--dataset", "sem"], "--shape"),
    ];
    for (args, expected) in cases {
        let output = zarrbench().arg("run").args(args).output().unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
