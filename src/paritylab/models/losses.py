"""Per-example losses of a score f against a label y.

* hinge:    max(0, 1 - y f)          (labels y in {-1, +1})
* square:   (y - f)^2                (= (1 - y f)^2 for y in {-1, +1}; also the regression
                                      loss of real-valued targets such as staircases)
* logistic: log(1 + exp(-y f))       (labels y in {-1, +1})

``loss_fn(name)`` gives the JAX version (used inside compiled training loops; its hinge uses
``jax.nn.relu``, whose derivative at the kink is 0); ``hinge_np`` and ``correct_np`` are the
float64 numpy versions the metrics use on final predictions.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.errors import BadInput

LOSSES = ("hinge", "square", "logistic")


def loss_fn(name: str):
    """The per-example loss l(f, y) called ``name``.

    Args:
        name: one of ``LOSSES``.

    Returns:
        a function (f, y) -> per-example loss, elementwise, in JAX.
    """
    if name == "hinge":
        return lambda f, y: jax.nn.relu(1.0 - y * f)
    if name == "square":
        return lambda f, y: (y - f) ** 2
    if name == "logistic":
        return lambda f, y: jnp.logaddexp(0.0, -y * f)
    raise BadInput(f"loss={name!r} is not known: allowed {', '.join(LOSSES)}")


def hinge_np(f, y) -> np.ndarray:
    """Per-example hinge loss max(0, 1 - y f) in float64.

    Args:
        f: scores.
        y: labels in {-1, +1}.

    Returns:
        float64 array.
    """
    return np.maximum(0.0, 1.0 - np.asarray(y, np.float64) * np.asarray(f, np.float64))


def correct_np(f, y) -> np.ndarray:
    """Per-example 0-1 correctness sign(f) == y (f = 0 counts as an error).

    Args:
        f: scores.
        y: labels in {-1, +1}.

    Returns:
        boolean array.
    """
    return np.sign(np.asarray(f, np.float64)) == np.asarray(y, np.float64)
