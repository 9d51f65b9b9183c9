"""Executors: where runs execute. All yield ``(run, outcome)`` as runs finish, in any order;
the coordinator stores each outcome the moment it arrives.

* ``inline``: in this process, one after another (debugging, notebooks).
* ``local``: a pool of ``workers`` spawned processes, each with one BLAS/XLA thread.
* ``ray``: tasks on an existing Ray cluster (``address=HOST:PORT``), one CPU each, with the
  same single-thread environment. Needs the ``paritylab[ray]`` extra.

A run's numbers depend only on its config and seed, so every executor gives identical
metrics.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Iterator

from paritylab.errors import BadInput
from paritylab.lab.threads import pin_process, single_thread_env
from paritylab.lab.worker import execute

EXECUTORS = ("local", "inline", "ray")


def default_workers() -> int:
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


def run_inline(runs) -> Iterator[tuple[object, dict]]:
    for run in runs:
        yield run, execute(run)


class LocalPool:
    """A spawned process pool; ``shutdown`` cancels what has not started."""

    def __init__(self, workers: int):
        ctx = multiprocessing.get_context("spawn")
        self.pool = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(ctx.Value("i", 0), single_thread_env()),
        )

    def map_unordered(self, runs) -> Iterator[tuple[object, dict]]:
        futures = {self.pool.submit(execute, run): run for run in runs}
        for fut in cf.as_completed(futures):
            yield futures[fut], fut.result()

    def shutdown(self, cancel: bool = False) -> None:
        if cancel:  # Ctrl-C: stop the runs in flight now rather than wait for them
            for proc in list(getattr(self.pool, "_processes", {}).values()):
                proc.terminate()
        self.pool.shutdown(wait=not cancel, cancel_futures=cancel)


def _ray_execute(blob: bytes) -> dict:
    """A Ray task: pin this worker process to one CPU *before* the run (and so jax) is
    unpickled, as the local pool does, so XLA sizes its pool alike and the numbers match."""
    import pickle
    import sys

    if "jax" not in sys.modules:
        pin_process(os.getpid())
    return execute(pickle.loads(blob))


def _init_worker(counter, env: dict[str, str]) -> None:
    """Start-up of a pool worker: Ctrl-C is left to the coordinator (which stops the workers
    and keeps every finished run), and the worker is pinned to a CPU of its own. The pinning
    is what makes it single-threaded: jax 0.10's XLA:CPU sizes its thread pool from the
    schedulable CPUs and ignores the thread flags (measured by benchmarks/bench_online.py:
    1.6 cores used unpinned; a 16-run sweep went from ~1.0x to 1.37x with 2 workers)."""
    import signal

    os.environ.update(env)  # before anything imports jax in this process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    pin_process(index)


class RayPool:
    """Runs on an existing Ray cluster; ``address`` is ``HOST:PORT`` of its head node."""

    def __init__(self, address: str | None):
        try:
            import ray
        except ImportError:
            raise BadInput(
                "--executor ray needs the ray extra: pip install 'paritylab[ray]'"
            ) from None
        self.ray = ray
        try:
            ray.init(
                address=address,
                log_to_driver=False,
                include_dashboard=False,
                runtime_env={"env_vars": single_thread_env()},
            )
        except Exception as err:  # ray raises ConnectionError and others, with long messages
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise BadInput(f"cannot reach a Ray cluster at {address!r}: {first[:200]}") from None
        self.remote = ray.remote(num_cpus=1, max_retries=0)(_ray_execute)

    def map_unordered(self, runs) -> Iterator[tuple[object, dict]]:
        import pickle

        pending = {self.remote.remote(pickle.dumps(run)): run for run in runs}
        while pending:
            done, _ = self.ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield pending.pop(ref), self.ray.get(ref)

    def shutdown(self, cancel: bool = False) -> None:
        self.ray.shutdown()


def check_executor(executor: str, *, workers: int | None, address: str | None) -> None:
    """Raise BadInput for an unknown executor, a bad worker count or an unreachable Ray
    address, before a sweep opens (or creates) its results directory."""
    if executor not in EXECUTORS:
        raise BadInput(f"--executor {executor!r} is not known: allowed {', '.join(EXECUTORS)}")
    if executor == "local" and workers is not None and workers < 1:
        raise BadInput(f"--workers {workers} is out of range: allowed >= 1")
    if executor == "ray":
        if not address:
            raise BadInput("--executor ray needs --address HOST:PORT of a running Ray cluster")
        _check_reachable(address)


def make_pool(executor: str, *, workers: int | None = None, address: str | None = None):
    """An object with ``map_unordered(runs)`` and ``shutdown(cancel)``, or None for inline."""
    check_executor(executor, workers=workers, address=address)
    if executor == "local":
        return LocalPool(workers or default_workers())
    if executor == "ray":
        return RayPool(address)
    return None


def _check_reachable(address: str, timeout: float = 3.0) -> None:
    """Fail fast with one line when nothing listens at HOST:PORT (ray.init would retry)."""
    import socket

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise BadInput(f"--address {address!r} must look like HOST:PORT (e.g. 127.0.0.1:6379)")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as err:
        raise BadInput(f"cannot reach a Ray cluster at {address!r}: {err}") from None
