"""The ``vmap`` executor: runs that differ only in their seed train as one compiled program.

``--executor vmap`` groups the runs of a sweep that share everything but the seed (the same
experiment, task, problem config, learner name, version and settings, and plugins) and trains
each group with ``paritylab.learners.online_seeds.train_group``: S seeds as one vmapped
program, one large batched matmul per step instead of S small ones, which is what keeps an
accelerator busy. Each run still yields its own ``(run, outcome)`` with the run id, metrics,
traces and info that ``paritylab.lab.worker.execute`` gives it alone (to float32 rounding;
``info["fit_s"]`` and ``wall_s`` are the group's times divided by its size). A group's runs are
stored when the group finishes; a group that is interrupted is trained again, as a group, when
the sweep resumes (the stored runs are skipped, as with every executor).

Grouped: runs of a learner that trains in groups (``paritylab.learners.base.trains_in_groups``:
its class overrides ``fit_group``): ``sgd-online`` (online or finite-sample, any optimizer,
label noise, curricula, the task's in-loop probe) and ``joint-sgd``; a task with its own
fitting protocol (``fit_learner``) groups only where it says so (``groups_runs``: the dm task
without ``tune``). Everything else (other learners, a tuned run, a group of one, a group whose
training fails, e.g. out of device memory) runs one at a time in this process, exactly as
``--executor inline``.

Group size: ``cap_for`` caps a group by the learner's memory estimate per seed
(``Learner.seed_bytes``) against the device's free memory when JAX reports it
(``device.memory_stats()``, GPUs and TPUs), else at ``DEFAULT_MAX_GROUP`` seeds; a larger
group is split into near-equal parts.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator

DEFAULT_MAX_GROUP = 64  # seeds per group when the device does not report its memory
SAFETY = 3.0  # XLA's temporaries, fusion buffers and fragmentation beyond the estimate
MEMORY_FRACTION = 0.8  # of the device's free memory a group may plan to use
MAX_GROUP = 4096


def cap_for(per_seed: int | None, memory: int | None) -> int:
    """Seeds per group: ``MEMORY_FRACTION`` of ``memory`` (the device's free bytes) over
    ``SAFETY`` x ``per_seed``, between 1 and ``MAX_GROUP``; ``DEFAULT_MAX_GROUP`` when either is
    unknown (None: a CPU, where JAX reports no memory, or a learner without an estimate).

    Args:
        per_seed: one seed's estimated bytes (``Learner.seed_bytes``), or None.
        memory: free device memory in bytes, or None.

    Returns:
        the largest group size.
    """
    if memory is None or per_seed is None:
        return DEFAULT_MAX_GROUP
    return int(max(1, min(MAX_GROUP, MEMORY_FRACTION * memory // (SAFETY * per_seed))))


def device_memory() -> int | None:
    """Free bytes of JAX's first device (``bytes_limit - bytes_in_use`` of
    ``memory_stats()``), or None where it reports none (CPUs)."""
    import jax

    try:
        stats = jax.devices()[0].memory_stats()
    except Exception:  # not implemented on some backends
        return None
    if not stats or "bytes_limit" not in stats:
        return None
    return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))


def accelerator() -> str | None:
    """The JAX backend's name when it is not the CPU ("gpu", "tpu"), else None."""
    import jax

    backend = jax.default_backend()
    return None if backend == "cpu" else backend


def groupable(run) -> bool:
    """Whether the run can train in a vmapped group: its learner trains in groups
    (``paritylab.learners.base.trains_in_groups``: ``sgd-online``, ``joint-sgd``), and its task
    fits it with the learner's own ``fit`` (no ``fit_learner`` protocol, or one the task says
    is off for this config through ``groups_runs``, e.g. ``dm`` without ``tune``)."""
    from paritylab.lab.config import import_plugins
    from paritylab.lab.tasks import get_task
    from paritylab.learners.base import trains_in_groups

    if not trains_in_groups(type(run.settings)):
        return False
    try:
        import_plugins(run.plugins)
        task = get_task(run.task)
    except Exception:
        return False
    if getattr(task, "fit_learner", None) is None:
        return True
    return bool(getattr(task, "groups_runs", lambda config: False)(run.problem))


def group_key(run) -> str:
    """What a group shares: everything that determines the run but its seed."""
    return json.dumps(
        {
            "experiment": run.experiment,
            "task": run.task,
            "problem": dataclasses.asdict(run.problem),
            "learner": run.learner,
            "version": type(run.settings).version,
            "settings": dataclasses.asdict(run.settings),
            "plugins": list(run.plugins),
        },
        sort_keys=True,
        default=str,
    )


def _cap(run, memory: int | None) -> int:
    return cap_for(run.settings.seed_bytes(run.problem), memory)


def plan_groups(runs, *, memory: int | None = None, cap: int | None = None) -> list[list]:
    """Split runs into groups to train together, in the order they come: runs with the same
    ``group_key`` that are ``groupable``, split into near-equal parts of at most the size cap
    (``cap``, else ``cap_for`` the learner's ``seed_bytes`` and ``memory``); every other run alone.

    Args:
        runs: ``RunSpec`` objects.
        memory: free device memory in bytes (None: unknown).
        cap: a fixed size cap instead of the memory estimate.

    Returns:
        a list of groups (lists of runs); a group of one runs on its own.
    """
    groups: dict[str, list] = {}
    order: list = []
    for run in runs:
        if groupable(run):
            key = group_key(run)
            if key not in groups:
                groups[key] = []
                order.append(groups[key])
            groups[key].append(run)
        else:
            order.append([run])
    out = []
    for group in order:
        size = cap if cap is not None else _cap(group[0], memory)
        parts = -(-len(group) // max(1, size))
        base, extra = divmod(len(group), parts)
        start = 0
        for i in range(parts):
            end = start + base + (i < extra)
            out.append(group[start:end])
            start = end
    return out


def run_group(runs) -> list[tuple[object, dict]]:
    """Train a group of runs that differ only in their seed as one vmapped program and score
    each as ``worker.execute`` does.

    Args:
        runs: the group (``groupable`` runs with one ``group_key``).

    Returns:
        ``[(run, outcome), ...]`` in the group's order.
    """
    from paritylab.lab.config import import_plugins
    from paritylab.lab.tasks import get_task
    from paritylab.lab.worker import execute
    from paritylab.learners import learner_key

    start = time.perf_counter()
    import_plugins(runs[0].plugins)
    task = get_task(runs[0].task)
    datas = [task.make_data(r.problem, r.seed) for r in runs]
    keys = [learner_key(r.seed, r.learner) for r in runs]
    fit_start = time.perf_counter()
    fits = runs[0].settings.fit_group(datas, keys)
    share = (time.perf_counter() - fit_start) / len(runs)
    out = []
    for run, data, fit in zip(runs, datas, fits, strict=True):
        out.append((run, execute(run, fitted=(data, fit, share))))
    wall = (time.perf_counter() - start) / len(runs)
    for _, outcome in out:
        outcome["wall_s"] = wall
    return out


class VmapPool:
    """Runs in this process: groups of seeds as vmapped programs (``run_group``), everything
    else one at a time (``worker.execute``). ``in_process``: a stop signal interrupts it
    directly, as with the inline executor (a group cut short is trained again on resume).

    Args:
        notify: called with one line (a group that fell back to one run at a time).
        cap: a fixed group-size cap (default: ``cap_for`` the device's memory).
    """

    in_process = True

    def __init__(self, *, notify=None, cap: int | None = None):
        self.notify = notify or (lambda message: None)
        self.cap = cap

    def map_unordered(self, runs, check=None) -> Iterator[tuple[object, dict]]:
        """Yield ``(run, outcome)``: a group's runs together when the group finishes."""
        from paritylab.lab.worker import execute

        groups = plan_groups(runs, memory=device_memory(), cap=self.cap)
        for group in groups:
            if check is not None:
                check()
            if len(group) == 1:
                yield group[0], execute(group[0])
                continue
            try:
                results = run_group(group)
            except Exception as err:  # e.g. out of device memory: one run at a time instead
                first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
                self.notify(
                    f"note: a vmapped group of {len(group)} {group[0].learner} runs failed "
                    f"({type(err).__name__}: {first}); running them one at a time"
                )
                results = ((run, execute(run)) for run in group)
            yield from results

    def shutdown(self, cancel: bool = False) -> None:
        """Nothing to stop: everything ran in this process."""
