"""Optimizers by name, built with optax.

* ``sgd``: theta <- theta - lr (grad + weight_decay theta)
* ``sign-sgd``: theta <- theta - lr sign(grad + weight_decay theta) (Bernstein et al. 2018;
  studied for parities by Kou et al. 2024)
* ``adam``: Kingma & Ba 2015, with decoupled weight decay when weight_decay > 0 (AdamW)
* ``adadelta``: Zeiler 2012 (the optimizer of the paper's MNIST experiment), lr scales the
  update (1.0 = the original method).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from paritylab.errors import BadInput

OPTIMIZERS = ("sgd", "sign-sgd", "adam", "adadelta")


def make_optimizer(name: str, lr: float, *, weight_decay: float = 0.0):
    """An optax GradientTransformation for optimizer ``name`` (one of ``OPTIMIZERS``)."""
    decay = [optax.add_decayed_weights(weight_decay)] if weight_decay > 0 else []
    if name == "sgd":
        return optax.chain(*decay, optax.sgd(lr))
    if name == "sign-sgd":
        return optax.chain(*decay, _sign(), optax.scale(-lr))
    if name == "adam":
        return optax.adamw(lr, weight_decay=weight_decay) if weight_decay > 0 else optax.adam(lr)
    if name == "adadelta":
        return optax.chain(*decay, optax.adadelta(lr))
    raise BadInput(f"optimizer={name!r} is not known: allowed {', '.join(OPTIMIZERS)}")


def _sign() -> optax.GradientTransformation:
    """Replace every update by its elementwise sign."""

    def update(updates, state, params=None):
        del params
        return jax.tree.map(jnp.sign, updates), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)
