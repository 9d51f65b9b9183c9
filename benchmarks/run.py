"""Run every paritylab benchmark and print one table.

    python benchmarks/run.py [--quick] [--json OUT] [--only NAME ...]

Each benchmark module (bench_online, bench_fullbatch, bench_kernel, bench_reproduce,
bench_sweep) runs in its own subprocess, so thread settings, imports and memory of one cannot
leak into another; the per-core ones pin one thread for XLA / OpenBLAS / PyTorch themselves.
Progress streams to stdout; the table comes at the end. ``--json`` writes a list with one
object per comparison: name, ours, reference, reference_name, ratio (> 1 = paritylab wins:
ours / reference for throughput, reference / ours for time and memory), units, plus details.
``--quick`` shrinks repeats and sizes (about 2.5 minutes instead of about 8 on a quiet host).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib

MODULES = ("bench_online", "bench_fullbatch", "bench_kernel", "bench_reproduce", "bench_sweep")
ORDER = (
    "train-online-vs-pytorch",
    "train-online-vs-jax-stepwise",
    "train-online-peak-fraction",
    "train-fullbatch-vs-pytorch",
    "kernel-ridge-10k-vs-sklearn",
    "kernel-ridge-10k-memory-vs-sklearn",
    "reproduce-wall-s",
    "sweep-2-vs-1-workers",
)


def run_module(module: str, quick: bool) -> tuple[list[dict], float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "records.json"
        cmd = [sys.executable, str(benchlib.HERE / f"{module}.py"), "--json", str(out)]
        if quick:
            cmd.append("--quick")
        start = time.perf_counter()
        proc = subprocess.run(cmd, check=False)
        wall = time.perf_counter() - start
        if proc.returncode != 0 or not out.exists():
            print(f"!! {module} failed (exit {proc.returncode})", flush=True)
            return [], wall
        return json.loads(out.read_text()), wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats / smaller sizes")
    ap.add_argument("--json", help="write the list of comparison records here")
    ap.add_argument("--only", nargs="+", choices=MODULES, help="run only these modules")
    args = ap.parse_args()
    start = time.perf_counter()
    records, walls = [], {}
    for module in args.only or MODULES:
        print(f"=== {module}", flush=True)
        recs, walls[module] = run_module(module, args.quick)
        records.extend(recs)
    records.sort(key=lambda r: ORDER.index(r["name"]) if r["name"] in ORDER else len(ORDER))
    total = time.perf_counter() - start
    print()
    print(
        f"paritylab benchmarks ({'quick' if args.quick else 'full'}), "
        f"{platform.machine()} {os.cpu_count()} vCPUs, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{total:.0f} s in all ("
        + ", ".join(f"{m.removeprefix('bench_')} {w:.0f} s" for m, w in walls.items())
        + ")"
    )
    print(benchlib.format_table(records))
    details = [line for r in records for line in r.get("details", [])]
    if details:
        print("\ndetails (medians [min-max]):")
        print("\n".join(f"  {line}" for line in details))
    missing = [name for name in ORDER if name not in {r["name"] for r in records}]
    if missing and not args.only:
        print(f"!! missing: {', '.join(missing)}")
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=1))
    if missing and not args.only:
        sys.exit(1)


if __name__ == "__main__":
    main()
