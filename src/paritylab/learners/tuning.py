"""One tuning protocol for every learner: a small grid, selection on a validation split.

A referee's first question about a separation is whether the baselines were tuned as hard as
the network. The protocol here is the same for every learner: each learner class declares a
small grid of its own settings (``TUNING_GRID``, e.g. learning rate, L2 penalty, steps; the
ridge for kernel ridge), every combination is fitted on the training sample, and the one with
the smallest hinge loss on a *validation* sample drawn from the same distribution (never the
test sample) is kept. A learner may define ``fit_grid(data, key=..., points=...)`` to
share work across the grid: the fixed-feature learners estimate their embedding's correlation
once, kernel ridge builds its Gram matrix once for every ridge.

Changing a learner's grid changes what its tuned runs compute: the grid is part of the run id
of tuned runs.
"""

from __future__ import annotations

import dataclasses
import itertools

import jax
import numpy as np

from paritylab.learners.base import Fit, Learner, TrainingData
from paritylab.models.losses import correct_np, hinge_np


def grid_points(grid: dict) -> list[dict]:
    """Every combination of a grid {setting: values}, in a fixed order.

    Args:
        grid: candidate values per setting.

    Returns:
        list of {setting: value} dicts (one empty dict for an empty grid).
    """
    names = sorted(grid)
    return [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(grid[n] for n in names))
    ]


def validation_scores(fit: Fit, data: TrainingData) -> dict[str, float]:
    """Hinge loss and accuracy of a fit on ``data.validation``.

    Args:
        fit: a fitted learner.
        data: training data with a ``validation`` sample.

    Returns:
        ``{"val_hinge", "val_acc"}``.
    """
    f = np.asarray(fit.predict(data.validation.x))
    y = np.asarray(data.validation.y)
    return {"val_hinge": float(hinge_np(f, y).mean()), "val_acc": float(correct_np(f, y).mean())}


def tune(learner: Learner, data: TrainingData, *, key: jax.Array) -> Fit:
    """Fit every point of ``type(learner).TUNING_GRID``; keep the best on validation hinge.

    Every candidate is fitted with the same key (so they differ only in the tuned settings).
    The returned fit's metrics gain ``val_hinge`` and ``val_acc`` of the selection, and its info
    ``selected`` (the chosen values) and ``tuning`` (every candidate's validation scores).

    Args:
        learner: the learner; settings outside the grid stay as given.
        data: training data with ``train`` and ``validation``.
        key: the run's key.

    Returns:
        the selected ``Fit``.
    """
    if data.validation is None:
        raise ValueError("tuning needs a validation sample (TrainingData.validation)")
    grid = getattr(type(learner), "TUNING_GRID", {})
    points = grid_points(grid)
    if hasattr(learner, "fit_grid"):  # a learner that shares work across the grid
        fits = learner.fit_grid(data, key=key, points=points)
    else:
        fits = [dataclasses.replace(learner, **p).fit(data, key=key) for p in points]
    table = [{**p, **validation_scores(f, data)} for p, f in zip(points, fits, strict=True)]
    best = min(range(len(points)), key=lambda i: table[i]["val_hinge"])
    chosen = fits[best]
    metrics = {**chosen.metrics, "val_hinge": table[best]["val_hinge"]}
    metrics["val_acc"] = table[best]["val_acc"]
    info = {**chosen.info, "selected": points[best], "tuning": table}
    return dataclasses.replace(chosen, metrics=metrics, info=info)
