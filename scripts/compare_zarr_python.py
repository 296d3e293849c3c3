#!/usr/bin/env python3
"""Checks zarrbench's stored sizes against zarr-python + numcodecs.

For each generated dataset, runs `zarrbench run --keep DIR --format json`,
then with zarr-python (an independent Zarr v3 implementation):
  1. reads every array zarrbench wrote and checks it equals the source volume
     (so zarrbench's output is valid Zarr that other tools open);
  2. writes the source volume again under the same codec, level, shuffle,
     typesize and chunk (and shard) shape, and compares the stored bytes.

Then the same for files: each file case writes a volume with an independent
writer (tifffile, mrcfile, zarr-python for Zarr v2 and v3), runs
`zarrbench run --input FILE` on it (some with a region), checks that the
volume zarrbench read equals what the writer was given (cropped to the
region), and compares stored sizes as above.

Prints one line per configuration and exits non-zero if any blosc or zstd
configuration differs by more than the tolerance (0.5% by default), any
array fails to read back equal, or a file is read differently.

Usage:
  scripts/compare_zarr_python.py [--binary target/release/zarrbench]
      [--tolerance 0.005] [--case "cryoet 96,96,96 float32"] ... [--no-files]
Needs: pip install "zarr>=3" numcodecs numpy tifffile mrcfile
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import zarr
from zarr.codecs import BloscCodec, BytesCodec, GzipCodec, ZstdCodec

DEFAULT_CASES = [
    "cryoet 96,96,96 float32",
    "light_sheet 32,128,128 uint16",
    "sted 48,96,96 uint16",
    "sem 64,128,128 uint8",
    "confocal 2,24,64,64 uint16",
]
CODECS = "blosc_zstd_5,blosc_lz4_5,blosc_zlib_5,blosc_lz4hc_5,blosc_blosclz_5,zstd_3,zstd_9,gzip_6"
BLOSC_NAMES = {
    "blosc_zstd": "zstd",
    "blosc_lz4": "lz4",
    "blosc_lz4hc": "lz4hc",
    "blosc_zlib": "zlib",
    "blosc_blosclz": "blosclz",
}


def folder_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def compressors(config, dtype):
    codec = config["codec"]
    if codec in BLOSC_NAMES:
        return [
            BloscCodec(
                cname=BLOSC_NAMES[codec],
                clevel=config["level"],
                shuffle=config["shuffle"],
                typesize=np.dtype(dtype).itemsize,
                blocksize=0,
            )
        ]
    if codec == "zstd":
        return [ZstdCodec(level=config["level"], checksum=False)]
    if codec == "gzip":
        return [GzipCodec(level=config["level"])]
    return []


def write_with_zarr_python(data, config, path):
    shards = config.get("shard_shape")
    zarr.create_array(
        store=path,
        shape=data.shape,
        chunks=tuple(config["chunk_shape"]),
        shards=tuple(shards) if shards else None,
        dtype=data.dtype,
        fill_value=0,
        serializer=BytesCodec(endian="little"),
        compressors=compressors(config, data.dtype),
        overwrite=True,
    )[...] = data
    return folder_bytes(path)


LARGEST = {"blosc/zstd": 0.0}


def zarrbench_json(command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def run_case(binary, case, tolerance, work):
    dataset, shape, dtype = case.split()
    keep = os.path.join(work, dataset)
    command = [
        binary, "run", "--dataset", dataset, "--shape", shape, "--dtype", dtype,
        "--codecs", CODECS, "--repeats", "1", "--keep", keep, "--format", "json",
    ]
    result = zarrbench_json(command)
    source = zarr.open_array(os.path.join(keep, "source.zarr"), mode="r")[...]
    print(f"{dataset} {shape} {dtype}")
    return compare_configs(result, source, keep, tolerance, work)


def compare_configs(result, source, keep, tolerance, work):
    """Checks each configuration zarrbench kept under `keep` against source."""
    failures = 0
    for row in result["configs"]:
        if row.get("error"):
            print(f"  {row['config_id']:<44} zarrbench failed: {row['error']}")
            failures += 1
            continue
        theirs_read = zarr.open_array(os.path.join(keep, row["config_id"] + ".zarr"), mode="r")[...]
        readable = np.array_equal(theirs_read, source)
        ours = row["stored_bytes"]
        theirs = write_with_zarr_python(source, row, os.path.join(work, "zp", row["config_id"]))
        difference = (ours - theirs) / theirs
        checked = row["codec"].startswith("blosc") or row["codec"] == "zstd"
        if checked:
            LARGEST["blosc/zstd"] = max(LARGEST["blosc/zstd"], abs(difference))
        ok = readable and (abs(difference) <= tolerance or not checked)
        failures += 0 if ok else 1
        print(
            f"  {row['config_id']:<44} zarrbench {ours:>10} B  zarr-python {theirs:>10} B"
            f"  diff {difference * 100:+.3f}%  ratio {row['ratio']:.3f}"
            f"  {'reads back equal' if readable else 'READ MISMATCH'}"
            f"{'' if checked else '  (not held to tolerance)'}{'' if ok else '  FAIL'}"
        )
    return failures


def generated(binary, dataset, shape, dtype, work):
    """A zarrbench volume of the modality, as numpy: realistic file content."""
    keep = os.path.join(work, f"gen-{dataset}-{dtype}")
    zarrbench_json([
        binary, "run", "--dataset", dataset, "--shape", ",".join(map(str, shape)),
        "--dtype", dtype, "--codecs", "none", "--repeats", "1", "--keep", keep,
        "--format", "json",
    ])
    return zarr.open_array(os.path.join(keep, "source.zarr"), mode="r")[...]


def write_tiff(path, data, compression):
    import tifffile
    tifffile.imwrite(path, data, compression=compression)


def write_mrc(path, data, voxel):
    import mrcfile
    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(data)
        mrc.voxel_size = voxel


def write_zarr(path, data, zarr_format):
    if zarr_format == 2:
        import numcodecs
        compressors = numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.SHUFFLE)
    else:
        compressors = [ZstdCodec(level=3)]
    zarr.create_array(
        store=path, shape=data.shape, chunks=(16,) * data.ndim, dtype=data.dtype,
        zarr_format=zarr_format, compressors=compressors, overwrite=True,
    )[...] = data


def file_cases(binary, work):
    """(label, path, dataset, expected array, region or None) for each file."""
    light = generated(binary, "light_sheet", (24, 96, 96), "uint16", work)
    cryo = generated(binary, "cryoet", (32, 80, 80), "float32", work)
    sem = generated(binary, "sem", (1, 192, 160), "uint8", work)[0]
    confocal = generated(binary, "confocal", (20, 64, 72), "uint16", work)
    cases = []

    def add(label, name, dataset, data, writer, region=None):
        path = os.path.join(work, "files", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        writer(path, data)
        cases.append((label, path, dataset, data, region))

    add("tiff uint16 stack, deflate", "light.tif", "light_sheet", light,
        lambda p, d: write_tiff(p, d, "zlib"))
    add("tiff uint8 single page", "sem.tif", "sem", sem, lambda p, d: write_tiff(p, d, None))
    add("tiff float32 stack", "cryo.tif", "cryoet", cryo, lambda p, d: write_tiff(p, d, None))
    add("tiff int32 stack, region", "int32.tif", "custom", confocal.astype(np.int32) - 300,
        lambda p, d: write_tiff(p, d, None), region=((2, 10, 4), (12, 40, 50)))
    add("mrc mode 2 float32", "cryo.mrc", "cryoet", cryo, lambda p, d: write_mrc(p, d, 2.5))
    add("mrc mode 1 int16", "int16.mrc", "cryoet", (cryo * 100).astype(np.int16),
        lambda p, d: write_mrc(p, d, 2.5))
    add("mrc mode 6 uint16, region", "uint16.mrc", "light_sheet", light,
        lambda p, d: write_mrc(p, d, 1.0), region=((4, 8, 16), (16, 64, 48)))
    add("mrc mode 0 int8, one image", "int8.mrc", "sem", (sem.astype(np.int16) - 128).astype(np.int8),
        lambda p, d: write_mrc(p, d, 4.0))
    add("mrc mode 12 float16", "half.mrc", "cryoet", cryo.astype(np.float16),
        lambda p, d: write_mrc(p, d, 2.5))
    add("zarr v2 blosc", "v2.zarr", "confocal", confocal, lambda p, d: write_zarr(p, d, 2))
    add("zarr v3 zstd, region", "v3.zarr", "confocal", confocal,
        lambda p, d: write_zarr(p, d, 3), region=((0, 16, 16), (20, 32, 40)))
    return cases


def run_file_case(binary, case, tolerance, work):
    label, path, dataset, data, region = case
    keep = os.path.join(work, "kept-" + os.path.basename(path))
    command = [
        binary, "run", "--input", path, "--dataset", dataset, "--codecs", CODECS,
        "--repeats", "1", "--keep", keep, "--format", "json",
    ]
    expected = data
    if region:
        start, size = region
        command += ["--region-start", ",".join(map(str, start)),
                    "--region-size", ",".join(map(str, size))]
        expected = data[tuple(slice(a, a + n) for a, n in zip(start, size))]
    result = zarrbench_json(command)
    source = zarr.open_array(os.path.join(keep, "source.zarr"), mode="r")[...]
    read_right = source.dtype == expected.dtype and np.array_equal(source, expected)
    print(f"file: {label} ({os.path.basename(path)}, {list(expected.shape)} {expected.dtype})"
          f"  {'read as written' if read_right else 'READ DIFFERS FROM WHAT WAS WRITTEN  FAIL'}")
    failures = 0 if read_right else 1
    if result["dataset"]["source"] != path:
        print(f"  dataset.source is {result['dataset']['source']!r}, not {path!r}  FAIL")
        failures += 1
    return failures + compare_configs(result, source, keep, tolerance, work)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="target/release/zarrbench")
    parser.add_argument("--tolerance", type=float, default=0.005)
    parser.add_argument("--case", action="append", help='"<dataset> <shape> <dtype>"')
    parser.add_argument("--no-files", action="store_true", help="skip the file cases")
    args = parser.parse_args()
    print(f"zarr-python {zarr.__version__}, numpy {np.__version__}")
    failures = 0
    with tempfile.TemporaryDirectory() as work:
        for case in args.case or DEFAULT_CASES:
            failures += run_case(args.binary, case, args.tolerance, work)
        if not args.no_files:
            for case in file_cases(args.binary, work):
                failures += run_file_case(args.binary, case, args.tolerance, work)
    print(f"largest blosc/zstd difference: {LARGEST['blosc/zstd'] * 100:.3f}%")
    print("agreement: all within tolerance" if failures == 0 else f"agreement: {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
