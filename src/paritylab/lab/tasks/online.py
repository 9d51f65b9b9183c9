"""Task "online": uniform-input k-sparse parity learnt by online SGD (Barak et al. 2022).

x uniform on {-1,+1}^n, y = chi_A(x) for a support A of size k drawn from the seed. Learners:

* ``sgd-online``: the two-layer ReLU net trained on a fresh batch every step (or on a fixed
  training set, ``train_samples``) by ``paritylab.learners.online.train_online``. Metrics:
  ``success``, ``t_c`` (first evaluated step with test accuracy >= threshold; None when
  censored at the cap), final held-out ``test_acc`` / ``test_hinge`` / ``test_loss`` and the
  hidden-progress measures; traces of all of them against ``step``.
* ``gf2-oracle``: Gaussian elimination over GF(2) (``paritylab.learners.gf2``), the exact
  non-gradient reference. Clean labels: draws samples one at a time from n on until the
  system has a unique solution; ``t_c`` = samples used. Noisy labels: up to ``oracle_trials``
  eliminations on fresh blocks of n + 4 samples, verified on a hold-out sized from the known
  noise rate p, h = ceil(2 log(trials/0.01) / (1/2 - p)^2), so that the true parity passes
  the acceptance bar with probability >= 1 - 0.01/trials; t_c = samples used (hold-out plus
  blocks consumed), None when no trial passes.
  A learner with no hypothesis predicts f = 0, which counts as an error (test_acc 0, hinge 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import numpy as np

from paritylab.data.boolean import check_support, draw_support, parity
from paritylab.errors import BadInput, suggest
from paritylab.lab.tasks import option
from paritylab.learners.gf2 import recover_parity, recover_parity_noisy
from paritylab.learners.losses import LOSSES
from paritylab.learners.online import OnlineSpec, train_online, uniform_signs
from paritylab.learners.optimizers import OPTIMIZERS
from paritylab.metrics.classification import correct, hinge
from paritylab.metrics.progress import support_mass_chance
from paritylab.models.init_families import INIT_FAMILIES, init_params

LEARNERS = ("sgd-online", "gf2-oracle")
_EXTRA = 4  # rows beyond n per noisy-oracle trial


@dataclass(frozen=True)
class OnlineParityConfig:
    """Uniform-input sparse parity trained online (defaults: Barak et al. 2022, (50, 3))."""

    n: int = option(50, "input dimension", min=1)
    k: int = option(3, "parity degree |A|", min=1)
    width: int = option(1000, "hidden units q", min=1)
    batch_size: int = option(32, "samples per SGD step", min=1)
    lr: float = option(0.1, "learning rate eta", min=0.0, min_open=True)
    loss: str = option("hinge", "training loss", choices=LOSSES)
    optimizer: str = option(
        "sgd",
        "sgd | adam (decoupled decay) | sign-sgd (Kou et al. 2024) | adadelta",
        choices=OPTIMIZERS,
    )
    weight_decay: float = option(0.0, "shrinkage lr * wd * theta per step", min=0.0)
    label_noise: float = option(0.0, "training-label flip probability p (< 0.5)", min=0.0, max=0.5)
    init: str = option(
        "uniform", "initialisation family (uniform = PyTorch default)", choices=INIT_FAMILIES
    )
    init_scale: float = option(1.0, "first-layer scale (w ~ scale/sqrt(n))", min=0.0)
    init_bias_range: float = option(1.0, "b ~ U[-r, r] (gaussian/sparse/rademacher)", min=0.0)
    init_sparsity: int = option(2, "non-zeros per unit for init=sparse", min=1)
    max_steps: int = option(100_000, "hard step cap; runs not done by then are censored", min=1)
    eval_every: int = option(250, "steps between evaluations (t_c resolution)", min=1)
    eval_size: int = option(8192, "held-out uniform samples for test metrics", min=1)
    success_threshold: float = option(1.0, "test accuracy that counts as success", min=0.0, max=1.0)
    after_success: int = option(0, "steps to keep training after success", min=0)
    train_samples: int | None = option(None, "None = online; m = fixed training set", min=1)
    epochs: int | None = option(None, "finite mode: cap at epochs * floor(m/B) steps", min=1)
    oracle_trials: int = option(1000, "gf2-oracle trials under label noise", min=1)

    def check(self) -> None:
        """Cross-field constraints."""
        check_support(self.n, self.k)
        if not self.label_noise < 0.5:
            raise BadInput(
                f"label_noise={self.label_noise!r} is out of range: allowed 0 <= p < 0.5"
            )
        if self.train_samples is not None and self.train_samples < self.batch_size:
            raise BadInput(
                f"train_samples={self.train_samples} is out of range: allowed >= batch_size"
                f" ({self.batch_size})"
            )
        if self.epochs is not None and self.train_samples is None:
            raise BadInput("epochs is set but train_samples is not: epochs needs a finite set")
        if self.init == "sparse" and self.init_sparsity > self.n:
            raise BadInput(
                f"init_sparsity={self.init_sparsity} is out of range: allowed <= n ({self.n})"
            )

    def spec(self) -> OnlineSpec:
        """The training-loop spec, with the cap lowered to ``epochs`` passes when set."""
        cap = self.max_steps
        if self.epochs is not None:
            cap = min(cap, self.epochs * (self.train_samples // self.batch_size))
        return OnlineSpec(
            batch_size=self.batch_size,
            lr=self.lr,
            loss=self.loss,
            optimizer=self.optimizer,
            weight_decay=self.weight_decay,
            label_noise=self.label_noise,
            max_steps=cap,
            eval_every=self.eval_every,
            eval_size=self.eval_size,
            success_threshold=self.success_threshold,
            after_success=self.after_success,
            train_samples=self.train_samples,
        )


CONFIG = OnlineParityConfig


def run(config: OnlineParityConfig, *, learner: str, seed: int) -> dict:
    """One run of ``learner`` on the parity drawn from ``seed``; same inputs, same numbers."""
    if learner not in LEARNERS:
        raise BadInput(
            f"learner={learner!r} is not known: allowed {LEARNERS}" + suggest(learner, LEARNERS)
        )
    config.check()
    k_support, k_init, k_train, k_oracle = jax.random.split(jax.random.PRNGKey(seed), 4)
    support = draw_support(k_support, config.n, config.k)
    if learner == "sgd-online":
        return _run_sgd(config, support, k_init, k_train)
    return _run_oracle(config, support, k_oracle)


def _run_sgd(config: OnlineParityConfig, support, k_init, k_train) -> dict:
    spec = config.spec()
    params = init_params(
        config.init,
        key=k_init,
        n=config.n,
        width=config.width,
        scale=config.init_scale,
        bias_range=config.init_bias_range,
        sparsity=config.init_sparsity,
    )
    result = train_online(params, support, spec, key=k_train)
    metrics = {
        "success": result.success,
        "t_c": result.t_c,
        "steps": result.steps,
        "diverged": result.diverged,
        **result.final,
    }
    finite = config.train_samples is not None
    info = {
        "support": [int(i) for i in support],
        "support_mass_chance": support_mass_chance(config.n, config.k),
        "mode": "finite" if finite else "online",
        "step_cap": spec.max_steps,
        "steps_per_epoch": config.train_samples // config.batch_size if finite else None,
        "samples_seen": config.train_samples if finite else result.steps * config.batch_size,
    }
    return {"metrics": metrics, "traces": result.traces, "info": info}


def _run_oracle(config: OnlineParityConfig, support, key) -> dict:
    k_data, k_test = jax.random.split(key)
    n, p = config.n, config.label_noise
    if p == 0:
        limit = 4 * n + 64  # P(rank < n) after n + j uniform samples is < 2^-j
        x, y = _draw(k_data, limit, support, p, n)
        found, used = None, n - 1
        while found is None and used < limit:
            used += 1
            found = recover_parity(x[:used], y[:used])
    else:
        trials = config.oracle_trials
        holdout = math.ceil(2 * math.log(trials / 0.01) / (0.5 - p) ** 2)
        x, y = _draw(k_data, holdout + trials * (n + _EXTRA), support, p, n)
        found, used = recover_parity_noisy(x, y, holdout=holdout, extra=_EXTRA)
    x_test = np.asarray(uniform_signs(k_test, config.eval_size, n))
    y_test = np.prod(x_test[:, support], axis=1)
    f = np.zeros(len(x_test)) if found is None else np.prod(x_test[:, found], axis=1)
    test_acc = float(correct(f, y_test).mean())
    success = found is not None and test_acc >= config.success_threshold
    metrics = {
        "success": success,
        "t_c": used if success else None,
        "test_acc": test_acc,
        "test_hinge": float(hinge(f, y_test).mean()),
        "samples": used,
    }
    info = {
        "support": [int(i) for i in support],
        "recovered": None if found is None else [int(i) for i in found],
        "exact": found is not None and np.array_equal(found, support),
    }
    return {"metrics": metrics, "traces": {}, "info": info}


def _draw(key, m: int, support, p: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    kx, kf = jax.random.split(key)
    x = uniform_signs(kx, m, n)
    y = parity(x, support)
    if p > 0:
        y = np.where(np.asarray(jax.random.bernoulli(kf, p, (m,))), -y, y)
    return np.asarray(x), np.asarray(y)
