"""Running an experiment: expand the grid, skip finished runs, execute, store as they finish.

Resumable by construction: the store holds one row per finished ``run_id`` (a hash of the
problem config, the learner's settings and version, and the seed), so rerunning the same
command runs only what is missing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from paritylab.lab.config import ExperimentSpec
from paritylab.lab.executors import check_executor, make_pool, run_inline
from paritylab.lab.store import Store


@dataclass
class SweepSummary:
    """What one invocation did: counts, and whether it was interrupted."""

    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    interrupted: bool = False
    wall_s: float = 0.0
    run_ids: list[str] = field(default_factory=list)


def run_experiment(
    spec: ExperimentSpec,
    out,
    *,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    quiet: bool = False,
    console: Console | None = None,
) -> SweepSummary:
    """Run every missing run of ``spec`` and store each outcome in ``out`` as it finishes.

    Ctrl-C (KeyboardInterrupt) cancels what has not started, keeps every stored run and
    returns with ``interrupted=True``.
    """
    runs = spec.runs()
    check_executor(executor, workers=workers, address=address)  # before anything is written
    start = time.perf_counter()
    console = console or Console(stderr=True, quiet=quiet)
    with Store(out) as store:
        store.save_experiment(spec.to_dict())
        finished = store.finished_ids()
        todo = [r for r in runs if r.run_id not in finished]
        todo.sort(key=lambda r: -type(r.settings).cost)  # longest first (stable)
        summary = SweepSummary(total=len(runs), skipped=len(runs) - len(todo))
        summary.run_ids = [r.run_id for r in runs]
        if not todo:
            console.print(f"[bold]{spec.name}[/]: all {len(runs)} runs already stored in {out}")
            return summary
        pool = make_pool(executor, workers=workers, address=address)
        console.print(
            f"[bold]{spec.name}[/]: {len(runs)} runs, {summary.skipped} already stored, "
            f"{len(todo)} to run ({executor}) -> {out}"
        )
        stream = run_inline(todo) if pool is None else pool.map_unordered(todo)
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
        try:
            with progress:
                bar = progress.add_task(spec.name, total=len(todo), failed=0, remaining=len(todo))
                for run, outcome in stream:
                    store.write(run, outcome)
                    summary.done += 1
                    summary.failed += outcome["status"] != "ok"
                    progress.update(
                        bar, advance=1, failed=summary.failed, remaining=len(todo) - summary.done
                    )
        except KeyboardInterrupt:
            summary.interrupted = True
            if pool is not None:
                pool.shutdown(cancel=True)
                pool = None
        finally:
            if pool is not None:
                pool.shutdown()
    summary.wall_s = time.perf_counter() - start
    return summary
