"""The one place that makes a process single-threaded: its environment and its CPU pinning.

Every executor (the inline command line, the local pool's workers, Ray workers) goes through
here, so a run's numbers do not depend on where it ran: jax 0.10's XLA:CPU sizes its thread
pool from the CPUs the process may run on and ignores the thread flags, and the thread count
changes the order of float reductions (measured: the ntk-linearised metrics differed in the
4th digit between an unpinned and a pinned process).
"""

from __future__ import annotations

import os

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


def pin_process(index: int | None = None) -> None:
    """Pin this process to one CPU of those it may use, before jax is imported.

    Args:
        index: which of the allowed CPUs (modulo their number); None takes the lowest.
    """
    if not hasattr(os, "sched_setaffinity"):
        return
    cpus = sorted(os.sched_getaffinity(0))
    cpu = cpus[0] if index is None else cpus[index % len(cpus)]
    os.sched_setaffinity(0, {cpu})
