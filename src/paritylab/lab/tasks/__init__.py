"""Task families: each module defines a config dataclass, its learners and a run function.

Contract of a task module (see ``dm.py``):
  * ``CONFIG``: a frozen dataclass type. Fields are int / float / bool / str / tuple[...] /
    ``X | None`` / nested frozen dataclasses (TOML sub-tables, dotted ``--set a.b=v`` keys).
    Field metadata: ``doc`` (str), ``min``, ``max``, ``min_open`` (bool), ``choices`` (tuple).
    An optional method ``check(self) -> None`` raises ``paritylab.errors.BadInput`` for
    cross-field constraints (e.g. k <= n).
  * ``LEARNERS``: tuple of learner names this task runs.
  * ``run(config, *, learner: str, seed: int) -> dict`` returning
    ``{"metrics": {name: float | int | bool | None}, "traces": {name: list}, "info": {...}}``;
    traces share an x axis under the key ``"step"`` or ``"epoch"``.
  * optional ``preflight(config)``: raises BadInput before anything runs (e.g. a data file
    is missing); optional ``COST``: {learner: relative cost}, longest runs start first.
"""

from __future__ import annotations

import dataclasses
import importlib

from paritylab.errors import BadInput, suggest

TASK_MODULES = {
    "dm": "paritylab.lab.tasks.dm",
    "digits": "paritylab.lab.tasks.digits",
    "online": "paritylab.lab.tasks.online",
}


def option(default, doc: str, **meta):
    """A config field with its documentation and checks (``min``, ``max``, ``min_open``,
    ``choices``) in its metadata, as the loader reads them."""
    return dataclasses.field(default=default, metadata={"doc": doc, **meta})


def get_task(name: str):
    """The task module called ``name`` (imported on first use)."""
    if name not in TASK_MODULES:
        allowed = ", ".join(TASK_MODULES)
        raise BadInput(f"unknown task {name!r}{suggest(name, TASK_MODULES)}; allowed: {allowed}")
    return importlib.import_module(TASK_MODULES[name])
