"""Training losses on margins y f (labels in {-1, +1}).

* hinge:    max(0, 1 - y f)
* square:   (1 - y f)^2 = (y - f)^2 for y in {-1, +1}
* logistic: log(1 + exp(-y f))
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from paritylab.errors import BadInput

LOSSES = ("hinge", "square", "logistic")


def loss_fn(name: str):
    """The per-example loss l(f, y) called ``name`` (one of ``LOSSES``)."""
    if name == "hinge":
        return lambda f, y: jax.nn.relu(1.0 - y * f)
    if name == "square":
        return lambda f, y: (1.0 - y * f) ** 2
    if name == "logistic":
        return lambda f, y: jnp.logaddexp(0.0, -y * f)
    raise BadInput(f"loss={name!r} is not known: allowed {', '.join(LOSSES)}")
