"""Training the output weights of a fixed embedding (a linear method).

Given a fixed feature map Psi (``paritylab.models.features``), fit h(x) = <v, Psi(x)> by
minimising the empirical risk

    (1/m) sum_j loss(h(x_j), y_j) + (l2 / 2) ||v||^2

with an optax optimizer over ``steps`` minibatch steps, compiled as one ``lax.scan``. The
problem is convex in v, so this is the "linear method" of Daniely & Malach (2020) trained on
the same samples as the network. Returns the final and the uniformly averaged iterate.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.learners.losses import loss_fn
from paritylab.learners.optimizers import make_optimizer
from paritylab.models.features import tree_sq_norm


@dataclass(frozen=True)
class LinearFit:
    """Output weights of a linear method: ``v`` (final iterate), ``v_avg`` (average of all
    iterates), and the minibatch loss trace sampled every ``trace_every`` steps."""

    v: object
    v_avg: object
    trace_step: np.ndarray
    trace_loss: np.ndarray


def weight_norm(v) -> float:
    """||v||_2 over all leaves of a weight pytree (the B of the lower bound)."""
    return float(np.sqrt(tree_sq_norm(v)))


def train_linear(
    feature_map,
    x: jax.Array,
    y: jax.Array,
    *,
    key: jax.Array,
    steps: int = 2000,
    lr: float = 0.01,
    batch_size: int | None = 1024,
    l2: float = 0.0,
    optimizer: str = "adam",
    loss: str = "hinge",
    trace_every: int = 50,
    v0=None,
) -> LinearFit:
    """Fit v for h(x) = <v, Psi(x)> on (x, y) (see module docstring).

    ``batch_size=None`` uses the full sample every step (gradient descent).
    """
    t = feature_map.transform(x)
    v0 = feature_map.zeros() if v0 is None else v0
    make_optimizer(optimizer, lr)  # validates the name before tracing
    m = int(y.shape[0])
    batch = m if batch_size is None or batch_size >= m else int(batch_size)
    chunks = max(1, steps // trace_every)
    v, v_sum, losses = _train(
        feature_map, optimizer, loss, t, y, v0, key, lr, l2, batch, chunks, min(trace_every, steps)
    )
    total = chunks * min(trace_every, steps)
    v_avg = jax.tree.map(lambda s: s / total, v_sum)
    trace_step = np.arange(1, chunks + 1) * min(trace_every, steps)
    return LinearFit(v, v_avg, trace_step, np.asarray(losses))


# Module-level and keyed on names and shapes only, so every seed of a sweep reuses one
# compilation per worker (lr and l2 are traced).
@partial(jax.jit, static_argnums=(1, 2, 9, 10, 11))
def _train(feature_map, optimizer, loss, t, y, v0, key, lr, l2, batch, chunks, chunk_len):
    per_example = loss_fn(loss)
    opt = make_optimizer(optimizer, lr)
    m = y.shape[0]

    def objective(v, idx):
        tb = jax.tree.map(lambda a: a[idx], t)
        f = feature_map.predict(v, tb)
        reg = 0.5 * l2 * sum(jnp.sum(a**2) for a in jax.tree.leaves(v))
        return jnp.mean(per_example(f, y[idx])) + reg

    def step(carry, k):
        v, state, v_sum = carry
        idx = jnp.arange(m) if batch == m else jax.random.randint(k, (batch,), 0, m)
        value, grad = jax.value_and_grad(objective)(v, idx)
        updates, state = opt.update(grad, state, v)
        v = jax.tree.map(jnp.add, v, updates)
        return (v, state, jax.tree.map(jnp.add, v_sum, v)), value

    def chunk(carry, keys):
        carry, values = jax.lax.scan(step, carry, keys)
        return carry, jnp.mean(values)

    keys = jax.random.split(key, chunks * chunk_len).reshape(chunks, chunk_len)
    init = (v0, opt.init(v0), jax.tree.map(jnp.zeros_like, v0))
    (v, _, v_sum), losses = jax.lax.scan(chunk, init, keys)
    return v, v_sum, losses
