"""Optimizers by name, built with optax, with coupled or decoupled weight decay.

One step with gradient G, learning rate eta and weight decay lambda:

=========  ======================================  ==========================================
name       coupled (decay inside the update rule)  decoupled (decay beside it)
=========  ======================================  ==========================================
sgd        theta - eta (G + lambda theta)          theta - eta G - eta lambda theta
sign-sgd   theta - eta sign(G + lambda theta)      theta - eta (sign(G) + lambda theta)
adam       theta - eta adam(G + lambda theta)      theta - eta (adam(G) + lambda theta)
adadelta   theta - eta adadelta(G + lambda theta)  theta - eta adadelta(G) - eta lambda theta
=========  ======================================  ==========================================

For plain SGD the two agree (up to rounding); for sign-SGD they are different algorithms (the
coupled form puts the decay inside the sign). ``weight_decay_mode="auto"`` keeps each method's
customary form: decoupled for adam (AdamW, Loshchilov & Hutter 2019), coupled for the others
(PyTorch's ``SGD(weight_decay=...)`` and ``Adadelta``). Sign-SGD: Bernstein et al. 2018, studied
for parities by Kou et al. 2024; AdaDelta: Zeiler 2012, ``lr`` scales its update (1.0 = the
original method).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from paritylab.errors import BadInput

OPTIMIZERS = ("sgd", "sign-sgd", "adam", "adadelta")
# Parameter-sized arrays each optimizer keeps in its state (Adam: two moments; AdaDelta: two
# running averages; SGD and sign-SGD: none), for memory estimates.
STATE_COPIES = {"sgd": 0, "sign-sgd": 0, "adam": 2, "adadelta": 2}
WEIGHT_DECAY_MODES = ("auto", "coupled", "decoupled")


def make_optimizer(
    name: str, lr, *, weight_decay: float = 0.0, weight_decay_mode: str = "auto"
) -> optax.GradientTransformation:
    """An optax GradientTransformation for optimizer ``name``.

    Args:
        name: one of ``OPTIMIZERS``.
        lr: learning rate (a float or a traced scalar).
        weight_decay: lambda >= 0.
        weight_decay_mode: ``auto``, ``coupled`` or ``decoupled`` (table above).

    Returns:
        the transformation; its updates are added to the parameters.
    """
    if name not in OPTIMIZERS:
        raise BadInput(f"optimizer={name!r} is not known: allowed {', '.join(OPTIMIZERS)}")
    if weight_decay_mode not in WEIGHT_DECAY_MODES:
        raise BadInput(
            f"weight_decay_mode={weight_decay_mode!r} is not known: "
            f"allowed {', '.join(WEIGHT_DECAY_MODES)}"
        )
    mode = weight_decay_mode
    if mode == "auto":
        mode = "decoupled" if name == "adam" else "coupled"
    base = {
        "sgd": lambda: optax.sgd(lr),
        "sign-sgd": lambda: optax.chain(_sign(), optax.scale(-lr)),
        "adam": lambda: optax.adam(lr),
        "adadelta": lambda: optax.adadelta(lr),
    }[name]
    if weight_decay <= 0:
        return base()
    if mode == "coupled":
        return optax.chain(optax.add_decayed_weights(weight_decay), base())
    if name == "adam":
        return optax.adamw(lr, weight_decay=weight_decay)
    return optax.chain(base(), optax.add_decayed_weights(-lr * weight_decay))


def _sign() -> optax.GradientTransformation:
    """Replace every update by its elementwise sign."""

    def update(updates, state, params=None):
        del params
        return jax.tree.map(jnp.sign, updates), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)
