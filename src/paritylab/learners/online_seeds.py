"""Many seeds of online parity training in one compiled program (``vmap`` over seeds).

The same chunk of ``eval_every`` steps as ``paritylab.learners.online`` (fresh batches drawn
inside the compiled loop, then one evaluation), vectorised over S independent seeds: S
networks, S data streams, S held-out sets. This is the layout that wins on an accelerator
(one large batched matmul per step instead of S small ones); on a CPU, sequential seeds in
separate single-thread processes are faster (design.md), so the lab uses this only when asked.

All seeds train until every seed has succeeded or ``max_steps`` is reached (a seed that has
succeeded keeps training, which does not change its t_c). Per seed, t_c is the first
evaluated step with test accuracy >= ``success_threshold``, or None (censored).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.learners.online import OnlineSpec, _chunk, _data, _StepCfg, _to_train
from paritylab.learners.optimizers import make_optimizer


class SeedsResult(NamedTuple):
    """Per seed: success, t_c (None = censored), final test accuracy; the evaluated steps and
    the (evaluations x seeds) test-accuracy trace; total steps run."""

    success: np.ndarray
    t_c: list
    final_test_acc: np.ndarray
    steps: np.ndarray
    test_acc: np.ndarray
    total_steps: int


def train_online_seeds(params_batch, support, spec: OnlineSpec, *, keys) -> SeedsResult:
    """Train S networks (``params_batch``: an mlp params pytree with a leading seed axis) on
    the parity chi_A with S data keys (``keys``, shape (S,)). Online mode only."""
    spec.validate()
    if spec.train_samples is not None:
        raise ValueError("train_online_seeds runs the online mode only (train_samples=None)")
    cfg = spec.step_cfg()
    p = jax.vmap(_to_train)(params_batch)
    data = jax.vmap(lambda pp, k: _data(spec, pp, support, k))(p, keys)
    opt = make_optimizer(spec.optimizer, spec.lr, weight_decay=spec.weight_decay)
    num_seeds = int(keys.shape[0])
    carry = (p, jax.vmap(opt.init)(p), jnp.zeros((num_seeds,), jnp.int32), None)
    steps, accs, t = [], [], 0
    while t < spec.max_steps:
        length = min(spec.eval_every, spec.max_steps - t)
        carry, out = _vchunk(carry, data, cfg, length)
        t += length
        acc = np.asarray(jax.device_get(out["test_acc"]))
        steps.append(t)
        accs.append(acc)
        if np.all(np.max(np.stack(accs), axis=0) >= spec.success_threshold):
            break
    accs = np.stack(accs)
    hit = accs >= spec.success_threshold
    t_c = [
        int(steps[int(np.argmax(hit[:, s]))]) if hit[:, s].any() else None for s in range(num_seeds)
    ]
    return SeedsResult(hit.any(axis=0), t_c, accs[-1], np.array(steps), accs, t)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _vchunk(carry, data, cfg: _StepCfg, length: int):
    def one(c, d):
        return _chunk.__wrapped__(c, d, cfg=cfg, length=length)

    return jax.vmap(one, in_axes=((0, 0, 0, None), 0))(carry, data)
