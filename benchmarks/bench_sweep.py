"""Sweep scaling: the 16-run sweep of ``sweep_scaling.py`` with 1 vs 2 local workers.

Calls ``sweep_scaling.measure()`` (repeats alternate the order 1, 2 / 2, 1; medians) and
reports the speed-up of 2 workers over 1 beside the matmul probe's parallel capacity (the
summed GFLOP/s of two concurrent single-thread processes over one: 1.0 = the two vCPUs share
one physical core, 2.0 = two real cores), taken before and after. The target is
>= 0.95 (2 workers never slower than 1); 2.0 is only possible when the probe says ~2.

``--quick``: one repeat of a lighter sweep (same 16 runs, width 256, 3,000 samples, 300
steps), mostly start-up and compilation, so it is not comparable with the full number; the
probes are 0.5 s instead of 1.5 s.

    python benchmarks/bench_sweep.py [--quick] [--json OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
import sweep_scaling

WALL_KEYS = ("1_worker", "2_workers")
QUICK_CONFIG = {
    "width": 256,
    "n_train": 3000,
    "n_test": 3000,
    "cert_samples": 8192,
    "two_phase": {"steps": 300},
    "random_features": {"steps": 300},
}


def run(quick: bool) -> list[dict]:
    repeats = 1 if quick else 2
    benchlib.log(f"[sweep] 16 runs, 1 vs 2 workers, {repeats} repeat(s){' (light)' * quick}")
    res = sweep_scaling.measure(
        repeats, config=QUICK_CONFIG if quick else None, probe_seconds=0.5 if quick else 1.5
    )
    cap = [res["probe_before"]["parallel_capacity"], res["probe_after"]["parallel_capacity"]]
    walls = {w: ", ".join(f"{x:.1f}" for x in res[f"wall_s_{w}"]) for w in WALL_KEYS}
    one_proc = [res[k]["gflops_1proc"] for k in ("probe_before", "probe_after")]
    benchlib.detail(
        f"  1 worker {walls['1_worker']} s, 2 workers {walls['2_workers']} s; speed-up "
        f"{res['speedup_2_vs_1']:.2f}x; probe parallel capacity {cap[0]:.2f} before, "
        f"{cap[1]:.2f} after (one process {one_proc[0]:.0f} / {one_proc[1]:.0f} GFLOP/s)"
    )
    return [
        benchlib.record(
            "sweep-2-vs-1-workers",
            res["median_2"],
            res["median_1"],
            "same sweep, 1 worker",
            "s",
            higher_is_better=False,
            parallel_capacity=cap,
            sweep=res,
            quick_config=QUICK_CONFIG if quick else None,
            note=f"probe parallel capacity {cap[0]:.2f} / {cap[1]:.2f} (before / after)",
        )
    ]


if __name__ == "__main__":
    benchlib.cli(run, __doc__)
