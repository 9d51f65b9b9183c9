"""Does a sweep scale with local workers? A 16-run sweep with --workers 1 vs --workers 2.

Each worker is a spawned process with one BLAS/XLA thread. Repeats alternate the order
(1, 2, 2, 1, ...) and report medians; a matmul probe is taken before and after, because these
machines' two vCPUs often share one physical core, so a ratio of 2 is only possible when the
host gives both.

    python benchmarks/sweep_scaling.py [--repeats 2] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paritylab.lab.config import spec_from_dict
from paritylab.lab.sweep import run_experiment
from probe import matmul_probe

SWEEP = {
    "experiment": "bench-16",
    "task": "dm",
    "learners": ["random-features", "two-phase"],
    "seeds": 8,
    "config": {
        "n": 30,
        "k": 5,
        "width": 512,
        "n_train": 8000,
        "n_test": 8000,
        "cert_samples": 32768,
        "two_phase": {"steps": 2000},
        "random_features": {"steps": 2000},
    },
}


def time_sweep(workers: int, sweep: dict = SWEEP) -> float:
    spec = spec_from_dict(sweep)
    assert len(spec.runs()) == 16
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        summary = run_experiment(spec, out, executor="local", workers=workers, quiet=True)
        wall = time.perf_counter() - start
    assert summary.done == 16 and summary.failed == 0
    return wall


def measure(repeats: int = 2, *, config: dict | None = None, probe_seconds: float = 1.5) -> dict:
    """Median walls of the 16-run sweep with 1 and 2 workers; ``config`` overrides fields of
    the sweep's config (a lighter sweep for --quick)."""
    sweep = {**SWEEP, "config": {**SWEEP["config"], **(config or {})}}
    probe_before = matmul_probe(probe_seconds)
    walls: dict[int, list[float]] = {1: [], 2: []}
    for i in range(repeats):
        for w in (1, 2) if i % 2 == 0 else (2, 1):
            walls[w].append(time_sweep(w, sweep))
    probe_after = matmul_probe(probe_seconds)
    one, two = statistics.median(walls[1]), statistics.median(walls[2])
    return {
        "wall_s_1_worker": walls[1],
        "wall_s_2_workers": walls[2],
        "median_1": one,
        "median_2": two,
        "speedup_2_vs_1": one / two,
        "probe_before": probe_before,
        "probe_after": probe_after,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json")
    args = ap.parse_args()
    res = measure(args.repeats)
    cap = [res["probe_before"]["parallel_capacity"], res["probe_after"]["parallel_capacity"]]
    print(
        f"16-run sweep: 1 worker {res['median_1']:.1f} s, 2 workers {res['median_2']:.1f} s "
        f"(medians of {args.repeats}); speed-up 2 vs 1 = {res['speedup_2_vs_1']:.2f}x"
    )
    print(
        f"matmul probe parallel capacity (2 procs / 1 proc): before {cap[0]:.2f}, "
        f"after {cap[1]:.2f}  (1.0 = one shared core, 2.0 = two cores)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
