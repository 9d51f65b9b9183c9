"""Hinge loss and 0-1 accuracy, overall and per mixture part.

hinge(f, y) = max(0, 1 - y f); accuracy counts sign(f) == y, so f = 0 counts as an error.
Both are always reported together (science.md 1.1: accuracy alone flatters linear methods).
"""

from __future__ import annotations

import numpy as np

from paritylab.data.boolean import PART_NAMES


def hinge(f, y) -> np.ndarray:
    """Per-example hinge loss max(0, 1 - y f)."""
    return np.maximum(0.0, 1.0 - np.asarray(y, np.float64) * np.asarray(f, np.float64))


def correct(f, y) -> np.ndarray:
    """Per-example 0-1 correctness sign(f) == y (f = 0 is an error)."""
    return np.sign(np.asarray(f, np.float64)) == np.asarray(y, np.float64)


def classification_metrics(f, y, part=None, *, prefix: str = "test") -> dict[str, float]:
    """``{prefix}_acc``, ``{prefix}_hinge`` and, when ``part`` is given, the same per part
    (``{prefix}_acc_easy``, ``{prefix}_hinge_uniform``, ...) for the parts present."""
    h, c = hinge(f, y), correct(f, y)
    out = {f"{prefix}_acc": float(c.mean()), f"{prefix}_hinge": float(h.mean())}
    if part is not None:
        part = np.asarray(part)
        for code, name in PART_NAMES.items():
            mask = part == code
            if mask.any():
                out[f"{prefix}_acc_{name}"] = float(c[mask].mean())
                out[f"{prefix}_hinge_{name}"] = float(h[mask].mean())
    return out
