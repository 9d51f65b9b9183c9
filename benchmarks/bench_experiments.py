"""Wall time of built-in experiments at their default (reduced) sizes, end to end.

Runs ``paritylab reproduce NAME`` in a fresh results folder for each name, with the default
executor, and prints the wall seconds and peak RSS of each: the numbers behind "runs in
minutes on this machine". Timings drift on shared machines: quote the load beside them.

    python benchmarks/bench_experiments.py [NAME ...] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

DEFAULT = (
    "dm-separation",
    "leaps",
    "curriculum",
    "mean-shift",
    "dm-frontier",
    "frontier",
    "lottery",
    "init-families",
)


def time_experiment(name: str, workers: int | None) -> tuple[float, int]:
    """(wall seconds, return code) of one ``paritylab reproduce NAME`` in a fresh folder."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "paritylab.cli", "reproduce", name, "--out", out, "--quiet"]
        if workers:
            cmd += ["--workers", str(workers)]
        start = time.perf_counter()
        rc = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode
        return time.perf_counter() - start, rc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(DEFAULT))
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"{'experiment':<16} {'wall s':>8}  rc   (load {load:.1f}, {os.cpu_count()} CPUs)")
    for name in args.names:
        wall, rc = time_experiment(name, args.workers)
        print(f"{name:<16} {wall:8.1f}  {rc}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"largest child peak RSS {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
