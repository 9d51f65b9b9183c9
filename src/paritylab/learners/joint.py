"""Ordinary training of both layers of the two-layer ReLU network.

g(x) = sum_i u_i relu(<w_i, x> + b_i); all of (W, b, u) are trained on the empirical risk
(1/m) sum_j loss(g(x_j), y_j) by an optax optimizer (sgd / sign-sgd / adam / adadelta, with
weight decay) on minibatches drawn with replacement from the training sample, for ``steps``
steps compiled as one ``lax.scan`` per trace chunk. This is the baseline a user would try
first: does plain training find the parity that the layer-wise algorithm of Daniely & Malach
(2020) provably finds?
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.errors import BadInput
from paritylab.learners.losses import loss_fn
from paritylab.learners.optimizers import make_optimizer
from paritylab.models import mlp

INITS = ("gaussian", "paired")


@dataclass(frozen=True)
class JointResult:
    """Trained parameters, the initial parameters, and the minibatch-loss trace."""

    params: dict
    params0: dict
    trace_step: np.ndarray
    trace_loss: np.ndarray


def init_params(
    key: jax.Array, n: int, width: int, *, init: str, init_scale: float, bias_range: float
) -> dict:
    """``gaussian``: w ~ N(0, scale^2/n), u ~ N(0, 1/q); ``paired``: symmetric (g = 0) with
    |u| = 1/sqrt(q) so both layers start on the same footing."""
    if init == "gaussian":
        return mlp.gaussian_init(key, n, width, scale=init_scale, bias_range=bias_range)
    if init == "paired":
        return mlp.paired_init(
            key, n, width, scale=init_scale, bias_range=bias_range, output_abs=width**-0.5
        )
    raise BadInput(f"init={init!r} is not known: allowed {', '.join(INITS)}")


def train_joint(
    x: jax.Array,
    y: jax.Array,
    *,
    key: jax.Array,
    width: int,
    init: str = "gaussian",
    init_scale: float = 1.0,
    bias_range: float = 1.0,
    optimizer: str = "sgd",
    lr: float = 0.1,
    weight_decay: float = 0.0,
    loss: str = "hinge",
    steps: int = 5000,
    batch_size: int = 64,
    trace_every: int = 100,
) -> JointResult:
    """Train (W, b, u) jointly; see the module docstring."""
    k_init, k_train = jax.random.split(key)
    params0 = init_params(
        k_init, int(x.shape[1]), width, init=init, init_scale=init_scale, bias_range=bias_range
    )
    make_optimizer(optimizer, lr, weight_decay=weight_decay)  # validates before tracing
    chunk_len = max(1, min(trace_every, steps))
    chunks = max(1, steps // chunk_len)
    batch = min(int(batch_size), int(y.shape[0]))
    params, losses = _train(
        optimizer, loss, x, y, params0, k_train, lr, weight_decay, batch, chunks, chunk_len
    )
    return JointResult(params, params0, np.arange(1, chunks + 1) * chunk_len, np.asarray(losses))


# Keyed on names, shapes and weight decay (lr is traced): the seeds of a sweep share one
# compilation per worker.
@partial(jax.jit, static_argnums=(0, 1, 7, 8, 9, 10))
def _train(optimizer, loss, x, y, params0, key, lr, weight_decay, batch, chunks, chunk_len):
    per_example = loss_fn(loss)
    opt = make_optimizer(optimizer, lr, weight_decay=weight_decay)
    m = y.shape[0]

    def objective(params, idx):
        return jnp.mean(per_example(mlp.apply(params, x[idx]), y[idx]))

    def step(carry, k):
        params, state = carry
        idx = jax.random.randint(k, (batch,), 0, m)
        value, grad = jax.value_and_grad(objective)(params, idx)
        updates, state = opt.update(grad, state, params)
        return (jax.tree.map(jnp.add, params, updates), state), value

    def chunk(carry, keys):
        carry, values = jax.lax.scan(step, carry, keys)
        return carry, jnp.mean(values)

    keys = jax.random.split(key, chunks * chunk_len).reshape(chunks, chunk_len)
    (params, _), losses = jax.lax.scan(chunk, (params0, opt.init(params0)), keys)
    return params, losses
