"""The five models of the digit-parity experiment (Daniely & Malach, "Learning Parities with Neural
Networks", NeurIPS 2020, Sec. 5, https://arxiv.org/abs/2002.07400).

All are two-layer networks on x in R^D (D = k d, k images side by side) with q hidden units and
two output logits z = V h(x) + c in R^2, trained with softmax cross-entropy on the parity class
y in {0, 1}, optax AdaDelta (rho = 0.9, eps = 1e-6, lr = 1.0: the PyTorch defaults the reference
runs used), batch 128. Hidden layer h(x), with pre-activation a(x) = W x + b:

* ``relu-net``:          h = relu(a(x)); (W, b, V, c) all trained.
* ``relu-features``:     h = relu(a(x)); (W, b) frozen at init (random features), (V, c) trained.
* ``linear-features``:   h = a(x) (identity); (W, b) frozen, (V, c) trained: a linear model in x.
* ``gaussian-features``: h = relu(a(x)) with Gaussian (W, b); frozen, (V, c) trained.
* ``galu-ntk``:          h_i = 1[<g_i, x> + e_i > 0] * (<w_i, x> + b_i), a gated linear unit
  network (Fiat, Malach & Shalev-Shwartz 2019) whose gates (g, e) are a frozen copy of the
  initial first layer; (W, b, V, c) trained with W = G, b = e at init, so it equals the ReLU net
  at init and its hidden units keep the ReLU net's initial activation pattern: the paper's
  "NTK regime" stand-in.

Initialisation (a key split gives relu-net, relu-features, linear-features and galu-ntk the
SAME first and output layers for one seed, so the models differ only in what trains):
* the default uniform init of a standard dense layer (PyTorch ``nn.Linear``):
  W_ij, b_i ~ U[-1/sqrt(D), 1/sqrt(D)] and V_ji, c_j ~ U[-1/sqrt(q), 1/sqrt(q)];
* ``gaussian-features`` instead draws W_ij, b_i ~ N(0, 1/D) (variance 3x the uniform init's
  1/(3D)); its output layer is the uniform one.

Training: each epoch draws ``steps = tuples_per_epoch // batch_size`` fresh batches of training
tuples (the remainder is dropped) and runs them in ONE compiled program (``jax.jit`` of a
``lax.scan`` over the batches); test cross-entropy, accuracy and the hinge loss of the margin
f = z_1 - z_0 (with y in {-1, +1}) are recorded after every epoch on a fixed set of test tuples.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.errors import BadInput

MODELS = ("relu-net", "relu-features", "linear-features", "gaussian-features", "galu-ntk")
NUM_CLASSES = 2


def check_model(model: str) -> None:
    """Raise BadInput unless ``model`` is one of MODELS.

    Args:
        model: a model name.
    """
    if model not in MODELS:
        raise BadInput(f"learner={model!r} is not known: allowed {', '.join(MODELS)}")


def init_model(model: str, key: jax.Array, in_dim: int, width: int) -> tuple[dict, dict]:
    """Initial (trainable, frozen) parameter dicts of ``model`` (module docstring).

    Args:
        model: one of ``MODELS``.
        key: JAX random key.
        in_dim: input dimension D = k d.
        width: hidden units q.

    Returns:
        (trainable, frozen) parameter dicts.
    """
    check_model(model)
    kw, kb, kv, kc = jax.random.split(key, 4)
    r_in, r_out = 1.0 / np.sqrt(in_dim), 1.0 / np.sqrt(width)
    if model == "gaussian-features":
        w = jax.random.normal(kw, (width, in_dim)) * r_in
        b = jax.random.normal(kb, (width,)) * r_in
    else:
        w = jax.random.uniform(kw, (width, in_dim), minval=-r_in, maxval=r_in)
        b = jax.random.uniform(kb, (width,), minval=-r_in, maxval=r_in)
    out = {
        "V": jax.random.uniform(kv, (NUM_CLASSES, width), minval=-r_out, maxval=r_out),
        "c": jax.random.uniform(kc, (NUM_CLASSES,), minval=-r_out, maxval=r_out),
    }
    first = {"W": w, "b": b}
    if model == "relu-net":
        return {**first, **out}, {}
    if model == "galu-ntk":
        return {**first, **out}, {"G": w, "e": b}
    return out, first


def apply_model(model: str, trainable: dict, frozen: dict, x: jax.Array) -> jax.Array:
    """Logits z = V h(x) + c, shape (m, 2), with h as in the module docstring.

    Args:
        model: one of ``MODELS``.
        trainable: trained parameters.
        frozen: frozen parameters.
        x: inputs (m, D).

    Returns:
        logits (m, 2).
    """
    p = {**frozen, **trainable}
    pre = x @ p["W"].T + p["b"]
    if model == "linear-features":
        h = pre
    elif model == "galu-ntk":
        h = jnp.where(x @ p["G"].T + p["e"] > 0, pre, 0.0)
    else:
        h = jax.nn.relu(pre)
    return h @ p["V"].T + p["c"]
