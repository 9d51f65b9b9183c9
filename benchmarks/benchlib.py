"""Shared helpers of the benchmark scripts: one-thread environment, timing summaries, records,
the printed table and the command line every ``bench_*.py`` module shares.

Import this module before numpy / jax / torch and call ``pin_one_thread()`` first thing in a
per-core benchmark: XLA and OpenBLAS read their thread settings at import time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent

ONE_THREAD_ENV = {
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def pin_one_thread() -> int | None:
    """One core for this process and its children: the thread variables above for XLA,
    OpenBLAS, OpenMP and MKL, JAX on the CPU unless the caller chose a platform, and the CPU
    affinity set to a single CPU (``PARITYLAB_BENCH_CPU``, default the highest allowed one).

    The affinity is what really holds JAX to one core: jax 0.10's XLA:CPU sizes its intra-op
    thread pool from the schedulable CPUs and ignores the XLA_FLAGS above (measured here: a
    2048 sgemm in jax ran on 1.96 cores with the flags set, on 1.00 with the affinity).
    Must run before numpy / jax / torch are imported. Returns the CPU, or None where the
    platform has no affinity call."""
    if "numpy" in sys.modules or "jax" in sys.modules:
        raise RuntimeError("pin_one_thread() must run before numpy / jax are imported")
    os.environ.update(ONE_THREAD_ENV)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = int(os.environ.get("PARITYLAB_BENCH_CPU", max(os.sched_getaffinity(0))))
    os.sched_setaffinity(0, {cpu})
    return cpu


def summary(values: list[float]) -> dict:
    """Median, min, max and the relative spread (max - min) / median of repeated measures."""
    med = statistics.median(values)
    lo, hi = min(values), max(values)
    return {
        "median": med,
        "min": lo,
        "max": hi,
        "spread": (hi - lo) / med if med else 0.0,
        "n": len(values),
        "values": list(values),
    }


def fmt_summary(s: dict, digits: int = 0, unit: str = "") -> str:
    """'1,234 [1,200-1,300] unit' (median [min-max])."""
    f = f"{{:,.{digits}f}}"
    return f"{f.format(s['median'])} [{f.format(s['min'])}-{f.format(s['max'])}]{unit}"


def timed(fn: Callable[[], object]) -> float:
    """Wall seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def record(
    name: str,
    ours: float,
    reference: float,
    reference_name: str,
    units: str,
    *,
    higher_is_better: bool,
    **extra,
) -> dict:
    """One comparison. ``ratio`` > 1 means paritylab wins: ours / reference for throughput
    (higher is better), reference / ours for time or memory (lower is better)."""
    ratio = ours / reference if higher_is_better else reference / ours
    return {
        "name": name,
        "ours": ours,
        "reference": reference,
        "reference_name": reference_name,
        "ratio": ratio,
        "units": units,
        **extra,
    }


def _num(x: float) -> str:
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def format_table(records: list[dict]) -> str:
    """A plain-text table: name, ours, reference (name), ratio, units, spread / note."""
    header = ("benchmark", "paritylab", "reference", "ratio", "units", "reference is / notes")
    rows = []
    for r in records:
        note = r["reference_name"]
        if r.get("note"):
            note += f"; {r['note']}"
        rows.append(
            (
                r["name"],
                _num(r["ours"]),
                _num(r["reference"]),
                f"{r['ratio']:.2f}x",
                r["units"],
                note,
            )
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header[:-1])]
    lines = []
    for row in (header, *rows):
        cells = [
            c.ljust(w) if i in (0, 4) else c.rjust(w)
            for i, (c, w) in enumerate(zip(row[:-1], widths, strict=True))
        ]
        lines.append("  ".join([*cells, row[-1]]))
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def cli(run: Callable[[bool], list[dict]], doc: str) -> None:
    """``python bench_x.py [--quick] [--json OUT]``: run, print the table, write the JSON."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats / smaller sizes")
    ap.add_argument("--json", help="write the list of comparison records here")
    args = ap.parse_args()
    records = run(args.quick)
    if records:
        tag = Path(sys.argv[0]).stem.removeprefix("bench_")
        records[0]["details"] = [f"[{tag}] {line}" for line in DETAILS]
    print()
    print(format_table(records))
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=1))


def log(msg: str) -> None:
    """Progress line on stdout, flushed (the runner streams it)."""
    print(msg, flush=True)


DETAILS: list[str] = []


def detail(msg: str) -> None:
    """A summary line: printed now, and kept for the runner's "details" under the table (the
    first record of the module carries them as ``details``)."""
    log(msg)
    DETAILS.append(msg.strip())
