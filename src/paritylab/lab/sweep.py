"""Running an experiment: expand the grid, skip finished runs, execute, store as they finish.

Resumable by construction: the store holds one row per finished ``run_id`` (a hash of the
problem config, the learner's settings and version, and the seed), so rerunning the same
command runs only what is missing.

Safe to stop and to lose pieces of:

* SIGINT, SIGTERM and SIGHUP stop the sweep the same way: the workers are killed, every run
  already stored is kept, and the summary says which signal (the command line then exits with
  128 + its number: 130, 143, 129). A run that finishes while its record is being written is
  written first.
* A lost worker costs the run it held, which runs again up to ``retries`` times and is then
  stored as ``failed`` with the cause (``executors``).
* Before anything runs, the results directory must be writable with room for the sweep
  (``BadInput``); a store write that fails mid-sweep (disk full, directory gone) stops the
  sweep at once with a ``StoreError`` that says how many runs are stored.
* Sizes are checked against this machine first (``limits``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from paritylab.errors import BadInput, StoreError
from paritylab.lab.config import ExperimentSpec
from paritylab.lab.executors import DEFAULT_RETRIES, check_executor, make_pool, run_inline
from paritylab.lab.limits import check_runs, forced, human_bytes, plan_workers
from paritylab.lab.store import DB_NAME, Store

MIN_FREE_BYTES = 16 << 20  # the store, its journal, report.md and the figures
BYTES_PER_RUN = 64 << 10  # a generous record (config, metrics, traces) with its index share
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Interrupted(KeyboardInterrupt):
    """A stop signal (SIGINT, SIGTERM or SIGHUP) during a sweep; ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@dataclass
class SweepSummary:
    """What one invocation did: counts, and whether (and by which signal) it was interrupted."""

    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    interrupted: bool = False
    signal: int | None = None
    wall_s: float = 0.0
    run_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def run_experiment(
    spec: ExperimentSpec,
    out,
    *,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    quiet: bool = False,
    console: Console | None = None,
    retries: int = DEFAULT_RETRIES,
    retry_failed: bool = False,
    force: bool | None = None,
    guard: StopGuard | None = None,
) -> SweepSummary:
    """Run every missing run of ``spec`` and store each outcome in ``out`` as it finishes.

    Args:
        spec: the experiment.
        out: the results directory.
        executor: ``local``, ``inline``, ``ray`` or ``vmap``.
        workers: local worker processes (default and cap: min(runs, cores); see ``limits``).
        address: the Ray cluster's ``HOST:PORT``.
        quiet: no progress bar.
        console: where progress and notes go (default: stderr).
        retries: times a run whose worker is lost runs again before it is stored as failed.
        retry_failed: run again the runs stored as ``failed`` (by default a rerun skips every
            stored run).
        force: skip the memory, time, disk-room and cores limits (default: ``PARITYLAB_FORCE``).
        guard: an installed ``StopGuard`` (the command line installs one for the whole
            command); by default the sweep installs its own while its runs execute.

    Returns:
        the ``SweepSummary``. SIGINT, SIGTERM or SIGHUP cancel what has not finished, keep every
        stored run and return with ``interrupted=True`` and ``signal`` set.

    Raises:
        BadInput: bad settings, sizes beyond this machine, an unwritable or full directory.
        StoreError: the store could not be written mid-sweep (the sweep stopped at once).
    """
    out = _check_out(out)
    check_executor(executor, workers=workers, address=address, retries=retries)
    runs = spec.runs()
    largest = check_runs(runs, executor=executor, force=force)  # sizes against this machine
    _preflight(out, len(runs), force=forced(force))  # before anything is written
    start = time.perf_counter()
    console = console or Console(stderr=True, quiet=quiet)

    def note(message: str) -> None:  # notes print even with --quiet: they change what runs
        if console.quiet:
            print(message, file=sys.stderr)
        else:
            console.print(message, markup=False, highlight=False)

    with Store(out) as store:
        summary = SweepSummary(total=len(runs), skipped=0)
        changed = store.spec_changes(spec.to_dict())
        if changed:
            summary.notes.append(
                f"warning: {out} already holds runs of {spec.name!r} with other settings "
                f"(differing: {', '.join(changed[:8])}{', ...' if len(changed) > 8 else ''}); "
                "both are kept, each under its own run ids and spec version"
            )
        try:
            store.save_experiment(spec.to_dict())
        except (sqlite3.Error, OSError) as err:
            raise StoreError(
                f"cannot write to the results store {Path(out) / DB_NAME}: {err}; nothing ran"
            ) from None
        finished = store.finished_ids(include_failed=not retry_failed)
        todo = [r for r in runs if r.run_id not in finished]
        todo.sort(key=lambda r: -type(r.settings).cost)  # longest first (stable)
        summary.skipped = len(runs) - len(todo)
        summary.run_ids = [r.run_id for r in runs]
        if todo and executor == "local":
            workers, notes = plan_workers(workers, len(todo), largest, force=force)
            summary.notes += notes
        for message in summary.notes:
            note(message)
        if not todo:
            console.print(f"[bold]{spec.name}[/]: all {len(runs)} runs already stored in {out}")
            return summary
        with contextlib.ExitStack() as stack:
            if guard is None:  # a library call: catch the stop signals for this sweep only
                guard = stack.enter_context(StopGuard())
            pool = None
            try:
                guard.check()
                pool = make_pool(
                    executor, workers=workers, address=address, retries=retries, notify=note
                )
                console.print(
                    f"[bold]{spec.name}[/]: {len(runs)} runs, {summary.skipped} already stored, "
                    f"{len(todo)} to run ({executor}"
                    + (f", {workers} workers" if executor == "local" else "")
                    + f") -> {out}"
                )
                _execute(spec, todo, pool, store, summary, console, quiet, guard)
            except Interrupted as stop:
                summary.interrupted, summary.signal = True, stop.signum
            except KeyboardInterrupt:
                summary.interrupted, summary.signal = True, int(signal.SIGINT)
            except _WriteFailed as failed:
                guard.raising = False  # stopping already: later signals only wait
                if pool is not None:
                    pool.shutdown(cancel=True)
                    pool = None
                left = len(todo) - summary.done
                raise StoreError(
                    f"cannot write to the results store {Path(out) / DB_NAME}: {failed.err}; "
                    f"the sweep stopped: {summary.skipped + summary.done} runs are stored, "
                    f"{left} not run: free space (or fix the directory) and rerun the same "
                    "command to resume"
                ) from None
            finally:
                guard.raising = False  # from here on a signal is only recorded
                if pool is not None:
                    pool.shutdown(cancel=summary.interrupted or guard.signum is not None)
            if guard.signum is not None:  # it came as the last run finished, or during shutdown
                summary.interrupted, summary.signal = True, guard.signum
                guard.stopped = True
    summary.wall_s = time.perf_counter() - start
    return summary


def _execute(spec, todo, pool, store, summary, console, quiet, guard) -> None:
    if pool is None or getattr(pool, "in_process", False):
        # Runs in this process (inline, vmap): only an exception can stop one midway.
        guard.raising = True
        stream = run_inline(todo) if pool is None else pool.map_unordered(todo)
    else:  # the pool polls the guard while it waits: no exception from a signal handler
        guard.raising = False
        stream = pool.map_unordered(todo, check=guard.check)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn(
            "{task.completed}/{task.total} done, {task.fields[failed]} failed, "
            "{task.fields[remaining]} left"
        ),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
    )
    with progress:
        bar = progress.add_task(spec.name, total=len(todo), failed=0, remaining=len(todo))
        for run, outcome in stream:
            with guard.deferred():  # a signal waits until this record is written
                try:
                    store.write(run, outcome)
                except (sqlite3.Error, OSError) as err:
                    raise _WriteFailed(err) from None
                summary.done += 1
                summary.failed += outcome["status"] != "ok"
            progress.update(
                bar, advance=1, failed=summary.failed, remaining=len(todo) - summary.done
            )
            guard.check()


class _WriteFailed(Exception):
    def __init__(self, err):
        super().__init__(str(err))
        self.err = err


class StopGuard:
    """SIGINT, SIGTERM and SIGHUP as a stop request, while installed (a context manager; on
    the main thread only, elsewhere it records nothing).

    A handler only records the first signal; ``check()`` raises ``Interrupted`` once one was
    recorded, from ordinary code (the pools call it while they wait). With ``raising`` set (a
    run executing in this process, which nothing else can stop midway) the handler raises it
    itself, except inside ``deferred()`` (a record being written: it raises when the block
    ends) and during a garbage collection, where Python would swallow the exception with an
    "Exception ignored" traceback (``check()`` raises it after the run instead).
    """

    def __init__(self):
        self.signum: int | None = None
        self.stopped = False
        self.raising = False
        self.depth = 0
        self.gc_busy = False
        self._previous: dict = {}
        self._callbacks = ()

    def handler(self, signum, frame) -> None:
        if self.signum is None:
            self.signum = signum
        if self.raising and self.depth == 0 and not self.gc_busy and not self.stopped:
            self.stopped = True
            raise Interrupted(self.signum)

    def check(self) -> None:
        """Raise ``Interrupted`` if a stop signal came and has not been raised yet."""
        if self.signum is not None and not self.stopped:
            self.stopped = True
            raise Interrupted(self.signum)

    @contextlib.contextmanager
    def deferred(self):
        """A block that a signal does not interrupt (it is raised when the block ends)."""
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if self.depth == 0 and self.raising:
            self.check()

    def _gc_start(self, phase, info) -> None:
        if phase == "start":
            self.gc_busy = True

    def _gc_stop(self, phase, info) -> None:
        if phase == "stop":
            self.gc_busy = False

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self.handler)
            gc.callbacks.insert(0, self._gc_start)  # first in, last out around a collection
            gc.callbacks.append(self._gc_stop)
            self._callbacks = (self._gc_start, self._gc_stop)
        return self

    def __exit__(self, *exc) -> None:
        for sig, old in self._previous.items():
            signal.signal(sig, old)
        self._previous = {}
        for callback in self._callbacks:
            with contextlib.suppress(ValueError):
                gc.callbacks.remove(callback)
        self._callbacks = ()


def _check_out(out) -> Path:
    """The results directory as a Path; an empty name is refused (it would mean the current
    directory)."""
    if out is None or not str(out).strip():
        raise BadInput(f"--out {str(out)!r} is empty: give a results directory")
    return Path(out)


def _preflight(out: Path, runs: int, *, force: bool = False) -> None:
    """Raise BadInput unless ``out`` (or, when it does not exist yet, the nearest existing
    folder above it) is a writable directory with room for the store: at least
    ``MIN_FREE_BYTES`` plus ``BYTES_PER_RUN`` per run free (``force`` skips the room check).
    Creates nothing."""
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {str(out)!r} exists and is not a directory")
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise BadInput(f"--out {str(out)!r} is inside {str(probe)!r}, which is not a directory")
    db = out / DB_NAME
    writable = os.access(probe, os.W_OK | os.X_OK) and (not db.exists() or os.access(db, os.W_OK))
    if not writable:
        where = "" if probe == out else f" ({str(probe)!r}, where it would be created)"
        raise BadInput(
            f"the results directory {str(out)!r} is not writable{where}: choose another --out "
            "(results and report still read a read-only directory)"
        )
    if force:
        return
    try:
        st = os.statvfs(probe)
    except (OSError, AttributeError):
        return
    free = st.f_bavail * st.f_frsize
    need = MIN_FREE_BYTES + runs * BYTES_PER_RUN
    if free < need:
        raise BadInput(
            f"the results directory {str(out)!r} has {human_bytes(free)} free and this sweep "
            f"needs about {human_bytes(need)} ({human_bytes(MIN_FREE_BYTES)} + "
            f"{human_bytes(BYTES_PER_RUN)} per run for {runs} runs): free space or choose "
            "another --out (--force skips this check)"
        )
