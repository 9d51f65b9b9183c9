"""The five models of the digit-parity experiment (Daniely & Malach 2020, Sec. 5; science.md 1.4).

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

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from paritylab.data.digits import DigitSet, draw_tuples, gather_tuples, tuple_indices
from paritylab.errors import BadInput

MODELS = ("relu-net", "relu-features", "linear-features", "gaussian-features", "galu-ntk")
NUM_CLASSES = 2


class DigitNetFit(NamedTuple):
    """A trained model and its per-epoch trace.

    ``trainable``/``frozen``: parameter dicts (``W`` (q, D), ``b`` (q,), ``V`` (2, q), ``c`` (2,),
    and for galu-ntk the gates ``G`` (q, D), ``e`` (q,)); ``traces``: numpy arrays over
    ``epoch`` = 1..E of ``train_loss``/``train_acc`` (mean over the epoch's batches, each
    measured before its update), ``test_loss``, ``test_acc``, ``test_hinge``;
    ``steps_per_epoch``: optimiser steps per epoch; ``test_label_mean``: fraction of odd-sum
    test tuples (chance accuracy is max(p, 1 - p))."""

    trainable: dict
    frozen: dict
    traces: dict
    steps_per_epoch: int
    test_label_mean: float


def init_model(model: str, key: jax.Array, in_dim: int, width: int) -> tuple[dict, dict]:
    """Initial (trainable, frozen) parameter dicts of ``model`` (module docstring)."""
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
    """Logits z = V h(x) + c, shape (m, 2), with h as in the module docstring."""
    p = {**frozen, **trainable}
    pre = x @ p["W"].T + p["b"]
    if model == "linear-features":
        h = pre
    elif model == "galu-ntk":
        h = jnp.where(x @ p["G"].T + p["e"] > 0, pre, 0.0)
    else:
        h = jax.nn.relu(pre)
    return h @ p["V"].T + p["c"]


def check_model(model: str) -> None:
    """Raise BadInput unless ``model`` is one of MODELS."""
    if model not in MODELS:
        raise BadInput(f"learner={model!r} is not known: allowed {', '.join(MODELS)}")


def _stats(model, trainable, frozen, x, y):
    """(mean cross-entropy, (accuracy, mean hinge of the margin z_1 - z_0))."""
    z = apply_model(model, trainable, frozen, x)
    ce = optax.softmax_cross_entropy_with_integer_labels(z, y).mean()
    acc = jnp.mean(jnp.argmax(z, axis=-1) == y)
    hinge = jnp.mean(jax.nn.relu(1.0 - (2.0 * y - 1.0) * (z[:, 1] - z[:, 0])))
    return ce, (acc, hinge)


def _optimizer(lr, rho: float, eps: float) -> optax.GradientTransformation:
    return optax.adadelta(learning_rate=lr, rho=rho, eps=eps)


@partial(jax.jit, static_argnames=("model", "k", "batch_size", "steps", "rho", "eps"))
def _train_epoch(
    trainable, opt_state, frozen, x, y, key, lr, *, model, k, batch_size, steps, rho, eps
):
    """One epoch: ``steps`` fresh batches of k-tuples, scanned in one compiled loop."""
    opt = _optimizer(lr, rho, eps)
    idx = tuple_indices(key, y.shape[0], k=k, count=steps * batch_size)
    grad_fn = jax.value_and_grad(partial(_stats, model), has_aux=True)

    def step(carry, idx_b):
        params, state = carry
        xb, yb = gather_tuples(x, y, idx_b)
        (loss, (acc, _)), grads = grad_fn(params, frozen, xb, yb)
        updates, state = opt.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), (loss, acc)

    carry, (losses, accs) = jax.lax.scan(
        step, (trainable, opt_state), idx.reshape(steps, batch_size, k)
    )
    return *carry, jnp.mean(losses), jnp.mean(accs)


_evaluate = jax.jit(_stats, static_argnames=("model",))


def fit_digit_net(
    model: str,
    data: DigitSet,
    *,
    k: int,
    width: int = 512,
    epochs: int = 20,
    batch_size: int = 128,
    tuples_per_epoch: int = 60_000,
    test_tuples: int = 10_000,
    lr: float = 1.0,
    rho: float = 0.9,
    eps: float = 1e-6,
    key: jax.Array,
) -> DigitNetFit:
    """Train ``model`` on k-digit parity tuples of ``data``; evaluate after every epoch.

    ``key`` splits into (init, test set, training stream); the training tuples of epoch t use
    ``fold_in(stream, t)``. The split does not depend on ``model``, so for one key all five
    models see the same test tuples and the same training tuples (and share initial layers,
    except gaussian-features' first layer)."""
    check_model(model)
    for name, value, lo in (
        ("k", k, 1),
        ("width", width, 1),
        ("epochs", epochs, 1),
        ("batch_size", batch_size, 1),
        ("test_tuples", test_tuples, 1),
    ):
        if value < lo:
            raise BadInput(f"{name}={value!r} is out of range: allowed >= {lo}")
    if tuples_per_epoch < batch_size:
        raise BadInput(
            f"tuples_per_epoch={tuples_per_epoch} is out of range: allowed >= batch_size "
            f"({batch_size})"
        )
    k_init, k_test, k_stream = jax.random.split(key, 3)
    x_tr, y_tr = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    x_te, y_te, _ = draw_tuples(k_test, data.x_test, data.y_test, k=k, count=test_tuples)
    trainable, frozen = init_model(model, k_init, k * data.dim, width)
    opt_state = _optimizer(lr, rho, eps).init(trainable)
    steps = tuples_per_epoch // batch_size
    names = ("train_loss", "train_acc", "test_loss", "test_acc", "test_hinge")
    rows = []
    for epoch in range(1, epochs + 1):
        trainable, opt_state, tr_loss, tr_acc = _train_epoch(
            trainable,
            opt_state,
            frozen,
            x_tr,
            y_tr,
            jax.random.fold_in(k_stream, epoch),
            jnp.float32(lr),
            model=model,
            k=k,
            batch_size=batch_size,
            steps=steps,
            rho=rho,
            eps=eps,
        )
        te_loss, (te_acc, te_hinge) = _evaluate(model, trainable, frozen, x_te, y_te)
        rows.append([float(v) for v in (tr_loss, tr_acc, te_loss, te_acc, te_hinge)])
    table = np.asarray(rows, np.float64)
    traces = {"epoch": np.arange(1, epochs + 1)}
    traces.update({name: table[:, i] for i, name in enumerate(names)})
    return DigitNetFit(trainable, frozen, traces, steps, float(jnp.mean(y_te)))
