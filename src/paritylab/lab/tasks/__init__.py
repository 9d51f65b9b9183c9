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
"""
