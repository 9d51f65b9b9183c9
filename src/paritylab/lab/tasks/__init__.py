"""Tasks: a problem family, the data every learner of a seed shares, and how runs are scored.

Contract of a task module (see ``dm.py``):

* ``CONFIG``: a frozen dataclass of the *problem's* settings (fields made with
  ``paritylab.options.option``; an optional ``check()`` raises ``BadInput`` for cross-field
  constraints). Learner settings are not here: they live in each learner's own dataclass.
* ``READS``: the kind of learner the task serves (``"sample"``, ``"stream"`` or ``"digits"``;
  ``paritylab.learners.Learner.reads``); ``LEARNERS``: the default learner names.
* ``make_data(config, seed) -> TrainingData``: the problem and the samples and keys shared by
  every learner of one seed.
* ``evaluate(config, data, fit) -> {"metrics": {...}, "info": {...}}``: the task's scores of a
  fitted learner (the learner's own metrics are merged in by the runner).
* reporting hooks, so generic tables and reports never branch on a task's name:
  ``TABLE_COLUMNS`` ((metric, column label), ...); ``reference_row(config)`` -> {metric: value}
  or None, a reference line printed under each grid point; ``report(records, directory, name)``
  -> (markdown lines, figure paths), given every run of the experiment, whatever its status
  (failed and diverged runs count as failures).
* optional ``table_notes(records)`` -> lines printed under the results table (markdown and
  terminal), e.g. a learner's settings and what its runs show
  (``paritylab.lab.tables.table_notes``).
* optional ``preflight(config)``: raises BadInput before anything runs (e.g. a data file is
  missing).
* optional ``check_run(config, learner)``: raises BadInput for a learner whose settings cannot
  work on the problem (e.g. epochs without a finite training set); run for every run of a spec
  before anything starts.
"""

from __future__ import annotations

import importlib

from paritylab.errors import BadInput, suggest

TASK_MODULES = {
    "dm": "paritylab.lab.tasks.dm",
    "digits": "paritylab.lab.tasks.digits",
    "online": "paritylab.lab.tasks.online",
}


def get_task(name: str):
    """The task module called ``name`` (imported on first use).

    Args:
        name: one of ``TASK_MODULES``.

    Returns:
        the module.
    """
    if name not in TASK_MODULES:
        allowed = ", ".join(TASK_MODULES)
        raise BadInput(f"unknown task {name!r}{suggest(name, TASK_MODULES)}; allowed: {allowed}")
    return importlib.import_module(TASK_MODULES[name])


def task_learners(task) -> tuple[str, ...]:
    """Every registered learner that can run on ``task`` (those that read what it provides).

    Args:
        task: a task module.

    Returns:
        learner names.
    """
    from paritylab.learners import learner_names

    return learner_names(task.READS)
