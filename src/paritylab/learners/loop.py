"""The minibatch descent loop shared by every learner that trains on a finite sample.

One step: evaluate the objective and its gradient on a batch, turn the gradient into an update
with an optax transformation, add the update to the parameters. ``descend`` runs such steps
under ``jax.lax.scan`` over a leading axis of per-step inputs (random keys, or pre-drawn batch
indices); ``chunked_descent`` runs ``chunks`` x ``chunk_len`` steps whose batches are drawn
with replacement inside the loop and records the mean objective of each chunk, the trace that
learners report. Both are meant to be called inside a jitted function, so a whole training run
is one compiled program (no Python per step).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp


def descend(
    objective: Callable,
    opt,
    params,
    opt_state,
    xs,
    *,
    total=None,
    has_aux: bool = False,
):
    """Scan descent steps over the leading axis of ``xs``.

    Args:
        objective: ``objective(params, x_t)`` returning the batch loss, or ``(loss, aux)``
            when ``has_aux``.
        opt: optax GradientTransformation.
        params: initial parameter pytree.
        opt_state: initial optimizer state (``opt.init(params)``).
        xs: per-step inputs (pytree with a leading step axis).
        total: a running sum of iterates to add every new iterate to (for the averaged
            iterate), or None.
        has_aux: the objective returns ``(loss, aux)``.

    Returns:
        ``(params, opt_state, total, per_step)`` with ``total`` the updated running sum (None
        when not given) and ``per_step`` the stacked losses (or ``(loss, aux)`` pairs).
    """
    grad_fn = jax.value_and_grad(objective, has_aux=has_aux)

    def step(carry, x_t):
        params, state, total = carry
        value, grad = grad_fn(params, x_t)
        updates, state = opt.update(grad, state, params)
        params = jax.tree.map(jnp.add, params, updates)
        if total is not None:
            total = jax.tree.map(jnp.add, total, params)
        return (params, state, total), value

    (params, opt_state, total), values = jax.lax.scan(step, (params, opt_state, total), xs)
    return params, opt_state, total, values


def chunked_descent(
    batch_objective: Callable,
    opt,
    params,
    key: jax.Array,
    *,
    m: int,
    batch: int,
    chunks: int,
    chunk_len: int,
    full_batch: bool = False,
    average: bool = False,
):
    """``chunks * chunk_len`` steps on minibatches of ``batch`` rows drawn with replacement
    from ``m`` rows (or on all rows, in order, every step when ``full_batch``).

    Args:
        batch_objective: ``batch_objective(params, idx)``, the loss on rows ``idx``.
        opt: optax GradientTransformation.
        params: initial parameters.
        key: JAX random key; step t of chunk c draws its rows from key number c * chunk_len + t
            of ``jax.random.split(key, chunks * chunk_len)``.
        m: number of training rows.
        batch: rows per step.
        chunks: number of chunks (trace points).
        chunk_len: steps per chunk.
        full_batch: use all m rows every step (gradient descent).
        average: also return the sum of all iterates.

    Returns:
        ``(params, iterate_sum, chunk_losses)``: final parameters, sum of iterates (None unless
        ``average``) and the mean loss of each chunk, shape (chunks,).
    """

    def objective(params, k):
        idx = jnp.arange(m) if full_batch else jax.random.randint(k, (batch,), 0, m)
        return batch_objective(params, idx)

    def chunk(carry, keys):
        params, state, total = carry
        params, state, total, values = descend(objective, opt, params, state, keys, total=total)
        return (params, state, total), jnp.mean(values)

    keys = jax.random.split(key, chunks * chunk_len).reshape(chunks, chunk_len)
    total = jax.tree.map(jnp.zeros_like, params) if average else None
    (params, _, total), losses = jax.lax.scan(chunk, (params, opt.init(params), total), keys)
    return params, total, losses
