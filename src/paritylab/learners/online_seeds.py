"""Many seeds of online training in one compiled program (``vmap`` over seeds).

The same chunk of steps as the ``sgd-online`` learner (``paritylab.learners.online``: fresh
batches drawn inside the compiled loop, then one evaluation), vectorised over S independent
seeds: S networks, S data streams, S held-out sets. This is the layout that wins on an
accelerator (one large batched matmul per step instead of S small ones); on a CPU, sequential
seeds in separate single-thread processes are faster, so the lab uses this only when asked.

All seeds train until every seed has succeeded or ``max_steps`` is reached (a seed that has
succeeded keeps training, which does not change its t_c). Per seed, t_c is the first evaluated
step with test accuracy >= ``success_threshold``, or None (censored).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.learners.base import TrainingData
from paritylab.learners.online import OnlineSGD, StepConfig, chunk_body, loop_data, to_train_layout
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


def train_online_seeds(learner: OnlineSGD, params_batch, problem, tests, *, keys) -> SeedsResult:
    """Train S networks on one problem with S data streams, online mode.

    Args:
        learner: the ``sgd-online`` settings (batch size, optimizer, cap, evaluation).
        params_batch: an mlp parameter pytree with a leading seed axis (S, ...).
        problem: the problem (shared by every seed).
        tests: held-out ``Sample`` with a leading seed axis (S, m, n).
        keys: S keys of the batch streams, shape (S,).

    Returns:
        a ``SeedsResult``.
    """
    cfg = StepConfig(
        learner.batch_size,
        float(learner.lr),
        learner.loss,
        learner.optimizer,
        float(learner.weight_decay),
        learner.weight_decay_mode,
        False,
        False,
    )
    p = jax.vmap(to_train_layout)(params_batch)
    data = jax.vmap(lambda pp, k, test: loop_data(pp, TrainingData(test=test), k, k))(
        p, keys, tests
    )
    opt = make_optimizer(
        learner.optimizer,
        learner.lr,
        weight_decay=learner.weight_decay,
        weight_decay_mode=learner.weight_decay_mode,
    )
    num_seeds = int(keys.shape[0])
    carry = (p, jax.vmap(opt.init)(p), jnp.zeros((num_seeds,), jnp.int32), None)
    steps, accs, t = [], [], 0
    while t < learner.max_steps:
        length = min(learner.eval_every, learner.max_steps - t)
        carry, out = _vchunk(carry, data, problem, cfg, length)
        t += length
        steps.append(t)
        accs.append(np.asarray(jax.device_get(out["test_acc"])))
        if np.all(np.max(np.stack(accs), axis=0) >= learner.success_threshold):
            break
    accs = np.stack(accs)
    hit = accs >= learner.success_threshold
    t_c = [
        int(steps[int(np.argmax(hit[:, s]))]) if hit[:, s].any() else None for s in range(num_seeds)
    ]
    return SeedsResult(hit.any(axis=0), t_c, accs[-1], np.array(steps), accs, t)


@functools.partial(jax.jit, static_argnums=(3, 4))
def _vchunk(carry, data, problem, cfg: StepConfig, length: int):
    def one(c, d):
        return chunk_body(c, d, problem, cfg=cfg, length=length)

    return jax.vmap(one, in_axes=((0, 0, 0, None), 0))(carry, data)
