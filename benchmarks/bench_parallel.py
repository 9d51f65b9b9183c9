"""CPU parallel efficiency of the local executor: its 2-worker speed-up over what the host gave.

A 16-run ``sgd-online`` sweep (16 seeds of one small online parity, every run to the same step
cap) runs with ``--executor local`` and 1 worker, then 2 workers (the order alternates between
repeats). Around each repeat a matmul probe (``probe.py``: single-thread float32 sgemm in 1
process, then in 2 at once) measures the host's parallel capacity at that moment: the summed
GFLOP/s of two processes over one's (2.0 = two real cores; 1.0 = the two vCPUs share one core,
or another load took the second). Parallel efficiency = speed-up / capacity: 1.0 means the
executor turned all the parallelism the host gave into sweep speed. Prints each repeat and the
medians; quote the load beside them.

    python benchmarks/bench_parallel.py [--repeats 2] [--steps 100000] [--probe-seconds 1.5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paritylab.lab.config import spec_from_dict
from paritylab.lab.sweep import run_experiment
from probe import matmul_probe


def sweep(steps: int) -> dict:
    """16 sgd-online runs of (n, k) = (20, 3), width 256; each trains to the cap."""
    return {
        "experiment": "bench-parallel",
        "task": "online",
        "learners": ["sgd-online"],
        "seeds": 16,
        "config": {
            "n": 20,
            "k": 3,
            "width": 256,
            "eval_size": 2048,
            "max_steps": steps,
            "after_success": steps,
            "eval_every": 500,
        },
    }


def time_sweep(workers: int, steps: int) -> float:
    spec = spec_from_dict(sweep(steps))
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        summary = run_experiment(spec, out, executor="local", workers=workers, quiet=True)
        wall = time.perf_counter() - start
    assert summary.done == 16 and summary.failed == 0, summary
    return wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--probe-seconds", type=float, default=1.5)
    args = ap.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"16-run sgd-online sweep, {args.steps} steps a run, {args.repeats} repeat(s); "
        f"{cores} CPUs, load {load:.1f} at start"
    )
    print(
        f"{'repeat':<7} {'1 worker s':>11} {'2 workers s':>12} {'speed-up':>9} "
        f"{'capacity':>9} {'efficiency':>11}"
    )
    rows = []
    for i in range(args.repeats):
        before = matmul_probe(args.probe_seconds)["parallel_capacity"]
        walls = {}
        for workers in (1, 2) if i % 2 == 0 else (2, 1):
            walls[workers] = time_sweep(workers, args.steps)
        after = matmul_probe(args.probe_seconds)["parallel_capacity"]
        capacity = (before + after) / 2
        speedup = walls[1] / walls[2]
        rows.append((walls[1], walls[2], speedup, capacity, speedup / capacity))
        print(
            f"{i + 1:<7} {walls[1]:>11.1f} {walls[2]:>12.1f} {speedup:>8.2f}x "
            f"{capacity:>9.2f} {speedup / capacity:>11.2f}"
        )
    med = [statistics.median(col) for col in zip(*rows, strict=True)]
    print(
        f"{'median':<7} {med[0]:>11.1f} {med[1]:>12.1f} {med[2]:>8.2f}x {med[3]:>9.2f} "
        f"{med[4]:>11.2f}"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        "capacity: 2-process / 1-process matmul GFLOP/s, mean of the probes before and after "
        f"each repeat; efficiency = speed-up / capacity; load {load:.1f} at the end"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
