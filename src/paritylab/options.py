"""Declaring settings: a dataclass field with its documentation and its allowed values.

Every configurable object of paritylab (a learner's settings, a task's problem config) is a
frozen dataclass whose fields are made with ``option``; the experiment loader reads the
metadata to check values and to write error messages, and the docs read the ``doc`` string.
"""

from __future__ import annotations

import dataclasses


def option(default, doc: str, **meta):
    """A dataclass field with its documentation and checks.

    Args:
        default: the default value (the only place it is written).
        doc: one line for error messages, ``--help`` and the docs.
        **meta: checks the loader applies: ``min``, ``max`` (numbers), ``min_open`` (bool:
            exclude ``min``), ``choices`` (tuple of allowed values).

    Returns:
        a ``dataclasses.field``.
    """
    return dataclasses.field(default=default, metadata={"doc": doc, **meta})
