#!/usr/bin/env python3
"""Checks zarrbench's stored sizes against zarr-python + numcodecs.

For each dataset given, runs `zarrbench run --keep DIR --format json`, then
with zarr-python (an independent Zarr v3 implementation):
  1. reads every array zarrbench wrote and checks it equals the source volume
     (so zarrbench's output is valid Zarr that other tools open);
  2. writes the source volume again under the same codec, level, shuffle,
     typesize and chunk (and shard) shape, and compares the stored bytes.

Prints one line per configuration and exits non-zero if any blosc or zstd
configuration differs by more than the tolerance (0.5% by default), or any
array fails to read back equal.

Usage:
  scripts/compare_zarr_python.py [--binary target/release/zarrbench]
      [--tolerance 0.005] [--case "cryoet 96,96,96 float32"] ...
Needs: pip install "zarr>=3" numcodecs numpy
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


def run_case(binary, case, tolerance, work):
    dataset, shape, dtype = case.split()
    keep = os.path.join(work, dataset)
    command = [
        binary, "run", "--dataset", dataset, "--shape", shape, "--dtype", dtype,
        "--codecs", CODECS, "--repeats", "1", "--keep", keep, "--format", "json",
    ]
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    source = zarr.open_array(os.path.join(keep, "source.zarr"), mode="r")[...]
    failures = 0
    print(f"{dataset} {shape} {dtype}")
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="target/release/zarrbench")
    parser.add_argument("--tolerance", type=float, default=0.005)
    parser.add_argument("--case", action="append", help='"<dataset> <shape> <dtype>"')
    args = parser.parse_args()
    print(f"zarr-python {zarr.__version__}, numpy {np.__version__}")
    failures = 0
    with tempfile.TemporaryDirectory() as work:
        for case in args.case or DEFAULT_CASES:
            failures += run_case(args.binary, case, args.tolerance, work)
    print(f"largest blosc/zstd difference: {LARGEST['blosc/zstd'] * 100:.3f}%")
    print("agreement: all within tolerance" if failures == 0 else f"agreement: {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
