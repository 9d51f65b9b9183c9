"""Hinge loss and 0-1 accuracy, overall and per mixture part.

hinge(f, y) = max(0, 1 - y f); accuracy counts sign(f) == y, so f = 0 counts as an error. Both
are always reported together: accuracy alone flatters a linear method on the Daniely-Malach
distribution, whose uniform part a linear threshold gets partly right without learning the
parity, while its hinge loss stays near 1.
"""

from __future__ import annotations

import numpy as np

from paritylab.data.distributions import PART_NAMES
from paritylab.models.losses import correct_np, hinge_np


def classification_metrics(f, y, part=None, *, prefix: str = "test") -> dict[str, float]:
    """Accuracy and hinge loss, overall and per mixture part.

    Args:
        f: real-valued scores (m,).
        y: labels in {-1, +1} (m,).
        part: optional mixture part of each row (``paritylab.data.PART_NAMES``).
        prefix: name prefix of the metrics.

    Returns:
        ``{prefix}_acc``, ``{prefix}_hinge`` and, when ``part`` is given, the same per part
        present (``{prefix}_acc_easy``, ``{prefix}_hinge_uniform``, ...).
    """
    h, c = hinge_np(f, y), correct_np(f, y)
    out = {f"{prefix}_acc": float(c.mean()), f"{prefix}_hinge": float(h.mean())}
    if part is not None:
        part = np.asarray(part)
        for code, name in PART_NAMES.items():
            mask = part == code
            if mask.any():
                out[f"{prefix}_acc_{name}"] = float(c[mask].mean())
                out[f"{prefix}_hinge_{name}"] = float(h[mask].mean())
    return out
