"""Executing one run, in whatever process an executor chose.

``execute`` never raises for a failing run: an exception becomes status ``failed`` with its
message, and a non-finite final metric becomes status ``diverged``.
"""

from __future__ import annotations

import math
import time
import traceback


def execute(run, fitted=None) -> dict:
    """Run one ``RunSpec``: the task's shared data, the learner's fit, the task's scores.

    ``fitted``: ``(data, fit, fit_s)`` of a run already trained elsewhere (the vmap
    executor's group), which is then only scored.

    Returns:
        ``{"status", "metrics", "traces", "info", "error", "wall_s", "versions"}``; a failing
        run becomes status ``failed`` with its message, a non-finite metric ``diverged``.
    """
    from paritylab.errors import BadInput
    from paritylab.lab.config import import_plugins
    from paritylab.lab.store import versions
    from paritylab.lab.tasks import get_task
    from paritylab.learners import learner_key

    start = time.perf_counter()
    try:
        import_plugins(run.plugins)
        task = get_task(run.task)
        if fitted is not None:
            data, fit, fit_s = fitted
        else:
            data = task.make_data(run.problem, run.seed)
            fit_start = time.perf_counter()
            key = learner_key(run.seed, run.learner)
            fit_learner = getattr(task, "fit_learner", None)  # a task's protocol, e.g. tuning
            fit = (
                fit_learner(run.problem, run.settings, data, key)
                if fit_learner
                else run.settings.fit(data, key=key)
            )
            fit_s = time.perf_counter() - fit_start
        scored = task.evaluate(run.problem, data, fit)
        metrics = {**scored["metrics"], **fit.metrics}
        info = {**scored.get("info", {}), **fit.info, "fit_s": fit_s}
        bad = [k for k, v in metrics.items() if isinstance(v, float) and not math.isfinite(v)]
        status, error = (
            ("diverged", f"non-finite metrics: {', '.join(bad)}") if bad else ("ok", None)
        )
        outcome = {
            "status": status,
            "error": error,
            "metrics": metrics,
            "traces": fit.traces,
            "info": info,
        }
    except BadInput as err:
        outcome = {"status": "failed", "error": f"bad input: {err}"}
    except Exception as err:  # a failing run is recorded, and the sweep goes on
        tb = traceback.format_exc(limit=-3)
        outcome = {"status": "failed", "error": f"{type(err).__name__}: {err}\n{tb}"}
    outcome["wall_s"] = time.perf_counter() - start
    outcome["versions"] = versions()
    return outcome
