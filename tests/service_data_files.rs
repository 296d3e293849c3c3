//! Jobs over files in the data directory (`data_path`): a file is read and
//! benchmarked, and every path or file that cannot be is refused at
//! submission with a 400 and a code, never left to fail the job later.

mod service_support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use service_support::{Server, assert_error, long_job, temp_dir};

/// A little-endian MRC map, mode 6 (uint16), of shape `[nz, ny, nx]`, with
/// `extended` bytes of extended header. Voxels count up from 0 (mod 4096),
/// plus a slow ramp so that codecs have something to do.
fn write_mrc(path: &Path, shape: [u32; 3], extended: u32) {
    let [nz, ny, nx] = shape;
    let mut header = vec![0u8; 1024];
    let mut put = |word: usize, value: i32| {
        header[word * 4..word * 4 + 4].copy_from_slice(&value.to_le_bytes());
    };
    put(0, nx as i32);
    put(1, ny as i32);
    put(2, nz as i32);
    put(3, 6);
    put(7, nx as i32);
    put(8, ny as i32);
    put(9, nz as i32);
    put(16, 1);
    put(17, 2);
    put(18, 3);
    put(23, extended as i32);
    header[40..44].copy_from_slice(&(nx as f32 * 2.0).to_le_bytes());
    header[44..48].copy_from_slice(&(ny as f32 * 2.0).to_le_bytes());
    header[48..52].copy_from_slice(&(nz as f32 * 4.0).to_le_bytes());
    header[208..212].copy_from_slice(b"MAP ");
    header[212..216].copy_from_slice(&[0x44, 0x44, 0, 0]);
    let mut bytes = header;
    bytes.extend(std::iter::repeat_n(0xEE, extended as usize));
    let count = (nz * ny * nx) as usize;
    for index in 0..count {
        let value = ((index % 4096) / 16 + index / 1000) as u16;
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

fn file_job(path: &str) -> Value {
    json!({
        "dataset_type": "cryoet",
        "data_path": path,
        "custom_codecs": ["blosc_zstd_5", "zstd_3"],
        "repeats": 1
    })
}

#[test]
fn a_file_in_the_data_directory_is_benchmarked_whole_or_by_region() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("maps")).unwrap();
    write_mrc(&data.join("maps/tomo.mrc"), [12, 40, 48], 96);
    let server = Server::start(&data, &[], &[]);

    let id = server.submit(&file_job("maps/tomo.mrc"));
    let done = server.wait_final(&id, Duration::from_secs(120));
    assert_eq!(done["status"], "completed", "{done}");
    let dataset = &done["results"]["dataset"];
    assert_eq!(dataset["source"], "maps/tomo.mrc");
    assert_eq!(dataset["format"], "mrc");
    assert_eq!(dataset["type"], "cryoet");
    assert_eq!(dataset["shape"], json!([12, 40, 48]));
    assert_eq!(dataset["dtype"], "uint16");
    assert_eq!(dataset["bytes"], 12 * 40 * 48 * 2);
    assert_eq!(
        dataset["voxel_size"],
        json!([4.0, 2.0, 2.0]),
        "from the header"
    );
    assert!(dataset["seed"].is_null(), "a file has no seed: {dataset}");
    let configs = done["results"]["configs"].as_array().unwrap();
    assert!(configs.iter().all(|c| c["verified"] == true), "{configs:?}");

    let mut cropped = file_job("maps/tomo.mrc");
    cropped["region"] = json!({"start": [2, 8, 16], "size": [6, 24, 32]});
    cropped["voxel_size"] = json!([1.0, 1.0, 1.0]);
    let id = server.submit(&cropped);
    let done = server.wait_final(&id, Duration::from_secs(120));
    assert_eq!(done["status"], "completed", "{done}");
    let dataset = &done["results"]["dataset"];
    assert_eq!(dataset["shape"], json!([6, 24, 32]));
    assert_eq!(dataset["region"]["start"], json!([2, 8, 16]));
    assert_eq!(
        dataset["voxel_size"],
        json!([1.0, 1.0, 1.0]),
        "the request's wins"
    );
}

#[test]
fn paths_and_files_that_cannot_be_benchmarked_are_refused_at_submission() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    write_mrc(&outside.join("private.mrc"), [4, 8, 8], 0);
    write_mrc(&data.join("ok.mrc"), [4, 8, 8], 0);
    write_mrc(&data.join("big.mrc"), [64, 64, 64], 0);
    write_mrc(&data.join("cut.mrc"), [8, 16, 16], 0);
    let full = std::fs::read(data.join("cut.mrc")).unwrap();
    std::fs::write(data.join("cut.mrc"), &full[..full.len() - 100]).unwrap();
    std::fs::write(data.join("notes.txt"), "not an image\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(outside.join("private.mrc"), data.join("escape.mrc")).unwrap();
    let server = Server::start(&data, &["--max-volume-bytes", "100000"], &[]);

    let outside_path = outside.join("private.mrc").display().to_string();
    let mut refused: Vec<(Value, &str)> = vec![
        (file_job(&outside_path), "invalid-data-path"),
        (file_job("../outside/private.mrc"), "invalid-data-path"),
        (file_job("missing.mrc"), "input-not-found"),
        (file_job("cut.mrc"), "input-truncated"),
        (file_job("notes.txt"), "input-unsupported"),
        (file_job("zarrbench.sqlite3"), "invalid-data-path"),
        (file_job("webhook-secret"), "invalid-data-path"),
        (file_job(""), "invalid-data-path"),
    ];
    #[cfg(unix)]
    refused.push((file_job("escape.mrc"), "invalid-data-path"));
    let mut wrong_shape = file_job("ok.mrc");
    wrong_shape["shape"] = json!([4, 8, 9]);
    refused.push((wrong_shape, "invalid-shape"));
    let mut wrong_dtype = file_job("ok.mrc");
    wrong_dtype["dtype"] = "float32".into();
    refused.push((wrong_dtype, "invalid-dtype"));
    let mut bad_region = file_job("ok.mrc");
    bad_region["region"] = json!({"start": [0, 0, 4], "size": [4, 8, 8]});
    refused.push((bad_region, "invalid-region"));
    refused.push((
        json!({"dataset_type": "sem", "shape": [8, 8], "region": {"start": [0, 0], "size": [4, 4]}}),
        "invalid-region",
    ));
    refused.push((json!({"dataset_type": "sem"}), "missing-field"));

    for (body, code) in &refused {
        let (status, answer) = server.post("/benchmark", body);
        assert_error(status, &answer, 400, code);
        let message = answer["error"].as_str().unwrap();
        assert!(
            !message.contains(&data.display().to_string()),
            "a refusal names the path as given, not where the data directory is: {message}"
        );
    }

    let (status, answer) = server.post("/benchmark", &file_job("big.mrc"));
    assert_error(status, &answer, 400, "volume-too-large");

    let (status, list) = server.get("/jobs");
    assert_eq!(status.as_u16(), 200);
    assert_eq!(list["total"], 0, "no refused request became a job: {list}");
}

#[test]
fn a_file_replaced_after_submission_fails_its_job_with_the_reason() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_mrc(&data.join("later.mrc"), [8, 16, 16], 0);
    let server = Server::start(&data, &["--max-jobs", "1"], &[]);

    // The only worker is busy, so the file job waits in the queue while the
    // file is replaced by one of another shape.
    let blocker = server.submit(&long_job());
    let id = server.submit(&file_job("later.mrc"));
    write_mrc(&data.join("later.mrc"), [8, 16, 20], 0);
    let (status, _) = server.delete(&format!("/jobs/{blocker}"));
    assert!(status.is_success(), "{status}");

    let done = server.wait_final(&id, Duration::from_secs(120));
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("changed since the job was submitted"),
        "{done}"
    );
}

#[test]
fn cached_results_are_not_reused_for_a_file_that_changed() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_mrc(&data.join("c.mrc"), [8, 16, 16], 0);
    let server = Server::start(&data, &[], &[("BENCHMARK_RESULT_CACHE", "1")]);

    let first = server.submit(&file_job("c.mrc"));
    assert_eq!(
        server.wait_final(&first, Duration::from_secs(120))["status"],
        "completed"
    );
    let again = server.submit(&file_job("c.mrc"));
    let again = server.wait_final(&again, Duration::from_secs(120));
    assert_eq!(
        again["results"]["cached_from"],
        first.as_str(),
        "same file, same request: {again}"
    );

    // Same shape and size, other content and modification time.
    std::thread::sleep(Duration::from_millis(20));
    let mut changed = std::fs::read(data.join("c.mrc")).unwrap();
    let last = changed.len() - 1;
    changed[last] ^= 0xFF;
    std::fs::write(data.join("c.mrc"), changed).unwrap();
    let fresh = server.submit(&file_job("c.mrc"));
    let fresh = server.wait_final(&fresh, Duration::from_secs(120));
    assert_eq!(fresh["status"], "completed");
    assert!(
        fresh["results"].get("cached_from").is_none(),
        "the file changed: {fresh}"
    );
}
