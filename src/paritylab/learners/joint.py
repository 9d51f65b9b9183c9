"""Ordinary training of both layers of the two-layer ReLU network.

g(x) = sum_i u_i relu(<w_i, x> + b_i); all of (W, b, u) are trained on the empirical risk
(1/m) sum_j loss(g(x_j), y_j) by an optax optimizer (sgd / sign-sgd / adam / adadelta, with
coupled or decoupled weight decay) on minibatches drawn with replacement from the training
sample, for ``steps`` steps compiled as one program. This is the baseline a user would try
first: does plain training find the parity that the layer-wise algorithm of Daniely & Malach
(2020) provably finds?
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import jax
import jax.numpy as jnp

from paritylab.errors import BadInput
from paritylab.learners.base import Fit, Learner, TrainingData
from paritylab.learners.loop import chunked_descent
from paritylab.learners.optimizers import (
    OPTIMIZERS,
    STATE_COPIES,
    WEIGHT_DECAY_MODES,
    make_optimizer,
)
from paritylab.learners.two_phase import _apply_net, support_weight_stats
from paritylab.models import init as inits
from paritylab.models import mlp
from paritylab.models.losses import LOSSES, loss_fn
from paritylab.options import option

INITS = ("gaussian", "paired", "uniform", "he", "sparse", "rademacher")
TRACE_EVERY = 100


@dataclass(frozen=True)
class JointSGD(Learner):
    """Both layers trained jointly by minibatch (S)GD or another optax optimizer."""

    name = "joint-sgd"
    cost = 3.0
    TUNING_GRID: ClassVar[dict] = {"lr": (0.1, 0.5, 1.0)}
    width: int = option(512, "hidden units q", min=1)
    init: str = option(
        "gaussian",
        "gaussian: w ~ N(0, scale^2/n), u ~ N(0, 1/q); paired: symmetric (g = 0), "
        "|u| = 1/sqrt(q); uniform, he, sparse (init_sparsity non-zeros per unit), rademacher: "
        "the families of paritylab.models.init",
        choices=INITS,
    )
    init_sparsity: int = option(2, "non-zeros per unit for init=sparse (1..n)", min=1)
    init_scale: float = option(1.0, "std of W at init is init_scale/sqrt(n)", min=0)
    bias_range: float = option(1.0, "biases b ~ U[-bias_range, bias_range]", min=0)
    optimizer: str = option("sgd", "optimizer", choices=OPTIMIZERS)
    lr: float = option(0.5, "learning rate", min=0, min_open=True)
    weight_decay: float = option(0.0, "weight decay lambda", min=0)
    weight_decay_mode: str = option(
        "auto", "coupled | decoupled | auto (decoupled for adam only)", choices=WEIGHT_DECAY_MODES
    )
    loss: str = option("hinge", "training loss", choices=LOSSES)
    steps: int = option(10000, "training steps", min=1)
    batch_size: int = option(64, "minibatch size", min=1)

    def check(self) -> None:
        """Paired initialisation needs an even width."""
        if self.init == "paired" and self.width % 2:
            raise BadInput(f"width={self.width} must be even for init='paired'")

    def init_params(self, key: jax.Array, n: int) -> dict:
        """Initial parameters for inputs of dimension n."""
        if self.init not in ("gaussian", "paired"):
            return inits.init_params(
                self.init,
                key=key,
                n=n,
                width=self.width,
                scale=self.init_scale,
                bias_range=self.bias_range,
                sparsity=self.init_sparsity,
            )
        if self.init == "gaussian":
            return inits.gaussian_init(
                key, n, self.width, scale=self.init_scale, bias_range=self.bias_range
            )
        return inits.paired_init(
            key,
            n,
            self.width,
            scale=self.init_scale,
            bias_range=self.bias_range,
            output_abs=self.width**-0.5,
        )

    def fit(self, data: TrainingData, *, key: jax.Array) -> Fit:
        """Train (W, b, u) on ``data.train``."""
        return self.fit_group([data], [key])[0]

    def fit_group(self, datas: list[TrainingData], keys: list) -> list[Fit]:
        """``fit`` for every seed; several seeds train as one vmapped program (the same steps,
        batches and numbers as one at a time, to float32 rounding).

        Args:
            datas: per seed, the task's data (training sets of one shape).
            keys: per seed, the run's key.

        Returns:
            one ``Fit`` per seed.
        """
        x = jnp.stack([d.train.x for d in datas])
        y = jnp.stack([d.train.y for d in datas])
        k_init, k_train = zip(*(jax.random.split(k) for k in keys), strict=True)
        n, m = int(x.shape[2]), int(y.shape[1])
        params0 = [self.init_params(k, n) for k in k_init]
        params0 = jax.tree.map(lambda *a: jnp.stack(a), *params0)
        chunk_len = max(1, min(TRACE_EVERY, self.steps))
        chunks = max(1, self.steps // chunk_len)
        statics = (
            self.optimizer,
            self.loss,
            float(self.weight_decay),
            self.weight_decay_mode,
            min(int(self.batch_size), m),
            chunks,
            chunk_len,
        )
        if len(datas) == 1:  # the one-run program (no vmap axis)
            one = jax.tree.map(lambda a: a[0], params0)
            p, losses = _train(*statics[:2], x[0], y[0], one, k_train[0], self.lr, *statics[2:])
            params, losses = jax.tree.map(lambda a: a[None], p), losses[None]
        else:
            params, losses = _train_group(
                *statics[:2], x, y, params0, jnp.stack(k_train), self.lr, *statics[2:]
            )
        steps = [int(s) for s in range(chunk_len, (chunks + 1) * chunk_len, chunk_len)]
        fits = []
        for s, data in enumerate(datas):
            p = jax.tree.map(lambda a, s=s: a[s], params)
            support = getattr(data.problem.target, "support", None)
            metrics = {} if support is None else support_weight_stats(p, support)
            traces = {"step": steps, "train_loss": [float(v) for v in losses[s]]}
            fits.append(Fit(partial(_apply_net, p), metrics, traces, state={"params": p}))
        return fits

    def seed_bytes(self, problem) -> int:
        """One seed's memory in a vmapped group: its training set, the parameters with their
        gradients and optimizer state, and a batch's activations (float32).

        Args:
            problem: the dm task's problem config (``n``, ``n_train``).

        Returns:
            bytes.
        """
        n, m, q = problem.n, getattr(problem, "n_train", 0), self.width
        params = q * (n + 2)
        opt_copies = STATE_COPIES[self.optimizer]
        return 4 * (m * (n + 1) + params * (2 + opt_copies) + self.batch_size * (n + 3 * q))


# Keyed on names, shapes and weight decay (lr is traced): the seeds of a sweep share one
# compilation per worker.
@partial(jax.jit, static_argnums=(0, 1, 7, 8, 9, 10, 11))
def _train(optimizer, loss, x, y, params0, key, lr, weight_decay, mode, batch, chunks, chunk_len):
    per_example = loss_fn(loss)
    opt = make_optimizer(optimizer, lr, weight_decay=weight_decay, weight_decay_mode=mode)

    def objective(params, idx):
        return jnp.mean(per_example(mlp.apply(params, x[idx]), y[idx]))

    params, _, losses = chunked_descent(
        objective, opt, params0, key, m=y.shape[0], batch=batch, chunks=chunks, chunk_len=chunk_len
    )
    return params, losses


@partial(jax.jit, static_argnums=(0, 1, 7, 8, 9, 10, 11))
def _train_group(
    optimizer, loss, xs, ys, params0s, keys, lr, weight_decay, mode, batch, chunks, chunk_len
):
    """``_train`` vmapped over a leading seed axis of (x, y, params0, key)."""

    def one(x, y, params0, key):
        return _train(
            optimizer, loss, x, y, params0, key, lr, weight_decay, mode, batch, chunks, chunk_len
        )

    return jax.vmap(one)(xs, ys, params0s, keys)
