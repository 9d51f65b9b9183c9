"""Executing one run, in whatever process an executor chose.

``execute`` never raises for a failing run: an exception becomes status ``failed`` with its
message, and a non-finite final metric becomes status ``diverged``.
"""

from __future__ import annotations

import math
import os
import time
import traceback

# One BLAS / XLA thread per worker so that parallel workers do not fight over cores.
SINGLE_THREAD_ENV = {
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def single_thread_env() -> dict[str, str]:
    """The environment a worker process should start with: one BLAS/XLA thread (the
    executors also pin each worker to one CPU, which is what jax 0.10 honours), and JAX's
    on-disk compilation cache shared by all workers, so a sweep compiles each program once
    (measured: first run of a learner 7-8 s cold, 2.3 s warm). ``PARITYLAB_COMPILE_CACHE``
    chooses its folder (default ~/.cache/paritylab/jax); set it to "off" to disable."""
    env = dict(SINGLE_THREAD_ENV)
    flags = os.environ.get("XLA_FLAGS", "")
    if flags:
        env["XLA_FLAGS"] = flags + " " + env["XLA_FLAGS"]
    cache = os.environ.get("PARITYLAB_COMPILE_CACHE", "")
    if cache.lower() != "off" and "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        default = os.path.join(os.path.expanduser("~"), ".cache", "paritylab", "jax")
        env["JAX_COMPILATION_CACHE_DIR"] = cache or default
        env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0.5"
    return env


def execute(run) -> dict:
    """Run one ``RunSpec``; return ``{"status", "metrics", "traces", "info", "error", "wall_s",
    "versions"}``."""
    from paritylab.errors import BadInput
    from paritylab.lab.store import versions
    from paritylab.lab.tasks import get_task

    start = time.perf_counter()
    try:
        out = get_task(run.task).run(run.config, learner=run.learner, seed=run.seed)
        metrics = out.get("metrics", {})
        bad = [k for k, v in metrics.items() if isinstance(v, float) and not math.isfinite(v)]
        status, error = (
            ("diverged", f"non-finite metrics: {', '.join(bad)}") if bad else ("ok", None)
        )
        outcome = {"status": status, "error": error, **out}
    except BadInput as err:
        outcome = {"status": "failed", "error": f"bad input: {err}"}
    except Exception as err:  # a failing run is recorded, and the sweep goes on
        tb = traceback.format_exc(limit=-3)
        outcome = {"status": "failed", "error": f"{type(err).__name__}: {err}\n{tb}"}
    outcome["wall_s"] = time.perf_counter() - start
    outcome["versions"] = versions()
    return outcome
