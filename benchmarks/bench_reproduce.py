"""End to end: ``paritylab reproduce --out TMP --quiet`` wall time and peak memory.

The command runs as a subprocess with the environment of the caller (no thread pinning: this is
what a user gets, default executor and workers). Reported per run:

* wall seconds from start to exit (the target is under 60 s);
* the largest peak RSS of any single process in the tree:
  ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` after the wait (covers grandchildren that
  were waited for, e.g. pool workers);
* the peak of the summed RSS of the whole process tree, sampled every 0.25 s from /proc
  (counts shared pages once per process, so it over-states what the tree really holds).

    python benchmarks/bench_reproduce.py [--quick] [--json OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import os
import resource
import subprocess
import tempfile
import threading
import time

import benchlib

TARGET_S = 60.0
PAGE = os.sysconf("SC_PAGE_SIZE")


def paritylab_command() -> list[str]:
    script = Path(sys.executable).parent / "paritylab"
    return [str(script)] if script.exists() else [sys.executable, "-m", "paritylab.cli"]


def _tree_rss_bytes(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = int(statm.split()[1]) * PAGE
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_once(out_dir: str) -> dict:
    cmd = [*paritylab_command(), "reproduce", "--out", out_dir, "--quiet"]
    peak = [0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.25):
            peak[0] = max(peak[0], _tree_rss_bytes(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{output[-2000:]}")
    assert (Path(out_dir) / "results.sqlite").exists()
    return {"wall_s": wall, "tree_rss_peak_mb": peak[0] / 2**20}


def run(quick: bool) -> list[dict]:
    repeats = 1 if quick else 2
    runs = []
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(run_once(str(Path(tmp) / "out")))
        benchlib.log(
            f"[reproduce] run {r + 1}/{repeats}: {runs[-1]['wall_s']:.1f} s, "
            f"tree RSS peak (sampled sum) {runs[-1]['tree_rss_peak_mb']:.0f} MB"
        )
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    wall = benchlib.summary([d["wall_s"] for d in runs])
    tree = max(d["tree_rss_peak_mb"] for d in runs)
    benchlib.detail(
        f"  paritylab reproduce: {benchlib.fmt_summary(wall, 1, ' s')}, largest process "
        f"{maxrss:.0f} MB (ru_maxrss), whole tree {tree:.0f} MB (sampled sum of RSS)"
    )
    return [
        benchlib.record(
            "reproduce-wall-s",
            wall["median"],
            TARGET_S,
            "wall-time target (60 s)",
            "s",
            higher_is_better=False,
            ours_summary=wall,
            max_process_rss_mb=maxrss,
            tree_rss_peak_mb=tree,
            runs=runs,
            note=f"peak RSS {maxrss:.0f} MB largest process, {tree:.0f} MB tree sum",
        )
    ]


if __name__ == "__main__":
    benchlib.cli(run, __doc__)
