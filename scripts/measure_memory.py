#!/usr/bin/env python3
"""Peak memory of `zarrbench run` against the budget of 2.5 x volume + 64 MB.

Runs each case as a child process and reads its peak resident set size from
the kernel (wait4's rusage of that child), so nothing inside zarrbench is trusted.

Usage: scripts/measure_memory.py [--binary target/release/zarrbench] [--profile balanced]
"""

import argparse
import os
import subprocess
import sys

DTYPE_SIZES = {"uint8": 1, "int8": 1, "uint16": 2, "int16": 2, "uint32": 4, "int32": 4,
               "float32": 4, "float64": 8}
CASES = [
    ("cryoet", "256,256,256", "float32"),
    ("light_sheet", "128,512,512", "uint16"),
    ("sted", "64,512,512", "uint16"),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default="target/release/zarrbench")
    parser.add_argument("--profile", default="balanced")
    parser.add_argument("--store", default="memory")
    args = parser.parse_args()
    failures = 0
    for dataset, shape, dtype in CASES:
        volume = DTYPE_SIZES[dtype]
        for n in shape.split(","):
            volume *= int(n)
        child = subprocess.Popen(
            [args.binary, "run", "--dataset", dataset, "--shape", shape, "--dtype", dtype,
             "--profile", args.profile, "--repeats", "1", "--store", args.store,
             "--format", "csv"],
            stdout=subprocess.DEVNULL)
        # wait4 reports this child's own peak, in KiB on Linux.
        _, status, usage = os.wait4(child.pid, 0)
        if status != 0:
            sys.exit(f"{dataset}: zarrbench exited with status {status}")
        peak = usage.ru_maxrss * 1024
        budget = 2.5 * volume + 64e6
        ok = peak <= budget
        failures += 0 if ok else 1
        print(f"{dataset:<12} {shape:<14} {dtype:<8} volume {volume / 1e6:7.1f} MB  "
              f"peak RSS {peak / 1e6:7.1f} MB = {peak / volume:4.2f} x volume  "
              f"budget {budget / 1e6:7.1f} MB  {'ok' if ok else 'OVER'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
