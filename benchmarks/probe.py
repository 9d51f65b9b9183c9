"""A short single-thread float32 matmul probe, run in 1 and in 2 concurrent processes.

The two vCPUs of these machines often share one physical core, so any parallel-speed number
must be read against what the host gave at that moment: ``parallel_capacity`` is the summed
GFLOP/s of two concurrent single-thread processes over that of one (2.0 = two real cores,
1.0 = one core shared)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

_CHILD = r"""
import os, time, json
import numpy as np
a = np.random.default_rng(0).standard_normal((1024, 1024), dtype=np.float32)
b = a.copy()
a @ b
t0 = time.perf_counter(); reps = 0
while time.perf_counter() - t0 < float(os.environ["PROBE_SECONDS"]):
    a @ b; reps += 1
dt = time.perf_counter() - t0
print(json.dumps(2 * 1024**3 * reps / dt / 1e9))
"""


def _env(seconds: float) -> dict:
    return {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PROBE_SECONDS": str(seconds),
    }


def matmul_probe(seconds: float = 1.5) -> dict:
    """GFLOP/s of one single-thread process, the sum of two concurrent ones, and their ratio."""
    one = float(
        subprocess.run(
            [sys.executable, "-c", _CHILD],
            env=_env(seconds),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD], env=_env(seconds), stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    two = sum(float(p.communicate()[0]) for p in procs)
    return {
        "gflops_1proc": one,
        "gflops_2proc_sum": two,
        "parallel_capacity": two / one,
        "time": time.strftime("%H:%M:%S"),
    }


if __name__ == "__main__":
    print(json.dumps(matmul_probe(), indent=1))
