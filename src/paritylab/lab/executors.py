"""Executors: where runs execute. All yield ``(run, outcome)`` as runs finish, in any order;
the coordinator stores each outcome the moment it arrives.

* ``inline``: in this process, one after another (debugging, notebooks).
* ``local``: a pool of ``workers`` spawned processes, each with one BLAS/XLA thread.
* ``ray``: tasks on an existing Ray cluster (``address=HOST:PORT``), one CPU each, with the
  same single-thread environment. Needs the ``paritylab[ray]`` extra.
* ``vmap``: in this process; runs that differ only in their seed train as one vmapped,
  compiled program (``paritylab.lab.vmap_executor``), the rest one at a time as ``inline``.
  The default when JAX sees an accelerator.

A run's numbers depend only on its config and seed, so every executor gives identical
metrics.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection as mp_connection
import os
import pickle
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator

from paritylab.errors import BadInput
from paritylab.lab.store import versions
from paritylab.lab.threads import pin_process, single_thread_env
from paritylab.lab.worker import execute

EXECUTORS = ("local", "inline", "ray", "vmap")
DEFAULT_RETRIES = 2  # a run whose worker is lost runs at most 1 + this many times
MAX_RETRIES = 10
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_WATCH_S = 1.0
POLL_S = 0.2  # how often a waiting pool looks for a stop request


def default_workers() -> int:
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


def run_inline(runs) -> Iterator[tuple[object, dict]]:
    for run in runs:
        yield run, execute(run)


class LocalPool:
    """``workers`` spawned processes, each fed one run at a time over its own pipe.

    Owning each worker's pipe means a lost worker costs exactly the run it held: the
    coordinator sees which run that was, starts a fresh worker in its place, and runs it again
    up to ``retries`` times before storing it as ``failed`` with the cause ("worker killed by
    signal 9 (SIGKILL), possibly out of memory"); every other run goes on. Workers die with
    their coordinator (``PR_SET_PDEATHSIG`` on Linux, and a thread that watches the parent
    process everywhere), so killing the coordinator, even with SIGKILL, leaves no process.
    """

    def __init__(self, workers: int, *, retries: int = DEFAULT_RETRIES, notify=None):
        self.ctx = multiprocessing.get_context("spawn")
        self.retries = retries
        self.notify = notify or (lambda message: None)
        self.env = single_thread_env()
        self.workers: list[_Worker] = []
        try:
            for index in range(workers):
                self.workers.append(self._start(index))
        except BaseException:
            self.shutdown(cancel=True)
            raise

    def _start(self, index: int) -> _Worker:
        ours, theirs = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(
            target=_worker_main,
            args=(theirs, index, self.env, os.getpid()),
            name=f"paritylab-worker-{index}",
            daemon=True,
        )
        proc.start()
        theirs.close()
        return _Worker(index, proc, ours)

    def map_unordered(self, runs, check=None) -> Iterator[tuple[object, dict]]:
        """Yield ``(run, outcome)`` as runs finish; ``check()`` (e.g. ``StopGuard.check``) is
        called at least every ``POLL_S`` seconds while waiting and may raise to stop."""
        queue = deque(runs)
        tries: dict[str, int] = {}
        busy: dict[_Worker, object] = {}
        idle = list(self.workers)
        while queue or busy:
            lost = []  # (worker, run): the worker died holding the run, or being handed it
            while queue and idle:
                worker, run = idle.pop(), queue.popleft()
                try:
                    worker.conn.send((tuple(run.plugins), pickle.dumps(run)))
                except OSError:
                    lost.append((worker, run))
                    continue
                busy[worker] = run
            ready = set()
            if busy:
                waiting = [w.conn for w in busy] + [w.proc.sentinel for w in busy]
                ready = set(mp_connection.wait(waiting, timeout=POLL_S if check else None))
            if check is not None:
                check()
            for worker in [w for w in busy if w.conn in ready or w.proc.sentinel in ready]:
                run = busy.pop(worker)
                outcome = _receive(worker)
                if outcome is None:
                    lost.append((worker, run))
                    continue
                idle.append(worker)
                yield run, outcome
            for worker, run in lost:  # a lost worker costs its run one try
                cause = _death_cause(worker.proc)
                idle.append(self._replace(worker))
                tries[run.run_id] = n = tries.get(run.run_id, 0) + 1
                what = f"{run.learner} seed {run.seed} (run {run.run_id})"
                if n <= self.retries:
                    self.notify(
                        f"note: {cause} while running {what}; running it again "
                        f"({n} of {self.retries} retries)"
                    )
                    queue.appendleft(run)
                else:
                    self.notify(f"note: {cause} while running {what}; stored as failed")
                    yield run, lost_outcome(cause, f"tried {n} time{'s' if n > 1 else ''}")

    def _replace(self, worker: _Worker) -> _Worker:
        _stop(worker, kill=True)
        fresh = self._start(worker.index)
        self.workers[self.workers.index(worker)] = fresh
        return fresh

    def shutdown(self, cancel: bool = False) -> None:
        """Stop every worker: at once (SIGKILL) with ``cancel``, else after its current run."""
        for worker in self.workers:
            if not cancel:
                try:
                    worker.conn.send(None)
                except OSError:
                    pass
        for worker in self.workers:
            _stop(worker, kill=cancel)
        self.workers = []


class _Worker:
    """One worker process, its pipe and its CPU index (hashable by identity)."""

    def __init__(self, index: int, proc, conn):
        self.index, self.proc, self.conn = index, proc, conn


def _receive(worker: _Worker) -> dict | None:
    """The outcome a worker sent, or None when it died before sending one."""
    try:
        if worker.conn.poll():
            return worker.conn.recv()
    except (EOFError, OSError):
        pass
    return None


def _stop(worker: _Worker, *, kill: bool, timeout: float = 10.0) -> None:
    if kill and worker.proc.is_alive():
        worker.proc.kill()
    worker.proc.join(timeout)
    if worker.proc.is_alive():
        worker.proc.kill()
        worker.proc.join(timeout)
    worker.conn.close()


def _death_cause(proc) -> str:
    """Why a worker process ended, in words ("worker killed by signal 9 (SIGKILL), possibly
    out of memory")."""
    proc.join(5)
    code = proc.exitcode
    if code is None:
        return "worker stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown signal"
        oom = ", possibly out of memory" if -code == getattr(signal, "SIGKILL", 9) else ""
        return f"worker killed by signal {-code} ({name}){oom}"
    return f"worker exited with code {code}"


def lost_outcome(cause: str, tries: str) -> dict:
    """The record of a run whose worker was lost (``tries`` says how often it ran): status
    ``failed``."""
    return {
        "status": "failed",
        "error": f"{cause} ({tries}; rerun with --retry-failed to run it again)",
        "metrics": {},
        "wall_s": 0.0,
        "versions": versions(),
    }


def _worker_main(conn, index: int, env: dict[str, str], parent: int) -> None:
    """A pool worker: run what the coordinator sends until it sends None or goes away.

    Ctrl-C is left to the coordinator (which stops the workers and keeps every finished run),
    and the worker is pinned to a CPU of its own. The pinning is what makes it single-threaded:
    jax 0.10's XLA:CPU sizes its thread pool from the schedulable CPUs and ignores the thread
    flags (measured by benchmarks/bench_online.py: 1.6 cores used unpinned; a 16-run sweep went
    from ~1.0x to 1.37x with 2 workers)."""
    os.environ.update(env)  # before anything imports jax in this process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)
    pin_process(index)
    from paritylab.lab.config import import_plugins

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        plugins, blob = message
        try:
            import_plugins(plugins)  # before unpickling: the run may name a plugin's class
            outcome = execute(pickle.loads(blob))
        except Exception as err:  # execute itself never raises; unpickling can
            outcome = {"status": "failed", "error": f"{type(err).__name__}: {err}"}
        try:
            conn.send(outcome)
        except (OSError, ValueError):
            return


def _die_with_parent(parent: int) -> None:
    """End this process when the coordinator ends, however it ends (SIGKILL included):
    ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` on Linux, and everywhere a daemon thread that polls
    the parent's pid (a reparented process sees another parent)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(_WATCH_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="paritylab-parent-watch", daemon=True).start()


def _ray_execute(plugins: tuple[str, ...], blob: bytes) -> dict:
    """A Ray task: pin this worker process to one CPU *before* the run (and so jax) is
    unpickled, as the local pool does, so XLA sizes its pool alike and the numbers match; import
    the run's plugins before unpickling it (it may name a plugin's class)."""
    if "jax" not in sys.modules:
        pin_process(os.getpid())
    from paritylab.lab.config import import_plugins

    import_plugins(plugins)
    return execute(pickle.loads(blob))


class RayPool:
    """Runs on an existing Ray cluster; ``address`` is ``HOST:PORT`` of its head node.

    A task whose worker process crashes or whose node dies is retried by Ray itself
    (``max_retries=retries``); when Ray gives up (``WorkerCrashedError``, ``NodeDiedError``,
    any other ``RayError``), the run is stored as ``failed`` with the cause and the sweep goes
    on.
    """

    def __init__(self, address: str | None, *, retries: int = DEFAULT_RETRIES, notify=None):
        self.retries = retries
        self.notify = notify or (lambda message: None)
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
        self.remote = ray.remote(num_cpus=1, max_retries=retries)(_ray_execute)

    def map_unordered(self, runs, check=None) -> Iterator[tuple[object, dict]]:
        """As ``LocalPool.map_unordered``."""
        from ray.exceptions import RayError

        pending = {self.remote.remote(tuple(run.plugins), pickle.dumps(run)): run for run in runs}
        while pending:
            done, _ = self.ray.wait(list(pending), num_returns=1, timeout=POLL_S if check else None)
            if check is not None:
                check()
            for ref in done:
                run = pending.pop(ref)
                try:
                    outcome = self.ray.get(ref)
                except RayError as err:  # Ray gave up on it: record it, go on with the rest
                    text = str(err).strip()
                    first = text.splitlines()[0][:300] if text else ""
                    cause = f"ray {type(err).__name__}" + (f": {first}" if first else "")
                    self.notify(
                        f"note: {cause} while running {run.learner} seed {run.seed} "
                        f"(run {run.run_id}); stored as failed"
                    )
                    outcome = lost_outcome(cause, f"Ray retries a lost task {self.retries} times")
                yield run, outcome

    def shutdown(self, cancel: bool = False) -> None:
        self.ray.shutdown()  # a driver's unfinished tasks end with it


def check_executor(
    executor: str, *, workers: int | None, address: str | None, retries: int | None = None
) -> None:
    """Raise BadInput for an unknown executor, a bad worker count or an unreachable Ray
    address, before a sweep opens (or creates) its results directory."""
    if executor not in EXECUTORS:
        raise BadInput(f"--executor {executor!r} is not known: allowed {', '.join(EXECUTORS)}")
    if executor == "local" and workers is not None and workers < 1:
        raise BadInput(f"--workers {workers} is out of range: allowed >= 1")
    if retries is not None and not 0 <= retries <= MAX_RETRIES:
        raise BadInput(f"--retries {retries} is out of range: allowed 0 to {MAX_RETRIES}")
    if executor == "ray":
        if not address:
            raise BadInput("--executor ray needs --address HOST:PORT of a running Ray cluster")
        _check_reachable(address)


def make_pool(
    executor: str,
    *,
    workers: int | None = None,
    address: str | None = None,
    retries: int = DEFAULT_RETRIES,
    notify=None,
):
    """An object with ``map_unordered(runs)`` and ``shutdown(cancel)``, or None for inline.

    Args:
        executor: ``local``, ``inline``, ``ray`` or ``vmap``.
        workers: local worker processes (default: the cores).
        address: the Ray cluster's ``HOST:PORT``.
        retries: times a run whose worker (or Ray node) is lost runs again before it is
            stored as failed.
        notify: called with one line when a worker is lost.
    """
    check_executor(executor, workers=workers, address=address, retries=retries)
    if executor == "local":
        return LocalPool(workers or default_workers(), retries=retries, notify=notify)
    if executor == "ray":
        return RayPool(address, retries=retries, notify=notify)
    if executor == "vmap":
        from paritylab.lab.vmap_executor import VmapPool

        return VmapPool(notify=notify)
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
