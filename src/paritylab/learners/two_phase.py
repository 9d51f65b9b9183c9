"""The layer-wise algorithm for learning parities with a depth-two ReLU network.

Daniely & Malach ("Learning Parities with Neural Networks", NeurIPS 2020,
https://arxiv.org/abs/2002.07400). The paper's exact constants were not available to us, so
every item below is a named setting with a documented default.

Network g(x) = sum_i u_i relu(<w_i, x> + b_i), hinge loss l = max(0, 1 - y g(x)).

1. Paired initialisation: g == 0 at init; w ~ N(0, init_scale^2 / n I) (0 allowed),
   b ~ U[-bias_range, bias_range], u = +-1/q.
2. Phase 1: one gradient step on W with step eta and L2 regulariser lambda ||W||^2:
       W_1 = W_0 - eta (grad_W L(W_0) + 2 lambda W_0),
   on a batch of ``phase1_batch`` samples (all of them by default). With the default
   lambda = 1/(2 eta) the initial W is erased: W_1 = -eta grad_W L. Since g = 0 every hinge is
   active, grad_W L = -E[y u_i 1[<w_i,x> + b_i > 0] x], and only coordinates of A correlate
   with y, so every unit moves toward a multiple of the indicator of A. Default
   eta = 4 q / k: it gives mean |w_A| about 1/k without using A (k, the parity's degree, is
   the only thing about the target the algorithm reads).
   Why init_scale = 1 by default: with W_0 = 0 a unit's phase-1 gradient is gated only by
   1[b_i > 0], so every live unit gets the same |c_i| = 2/k and its kink -b_i/c_i lies in
   |s_A| < k/2; for k = 7 the points s_A = +-5, +-7 then cannot be separated (measured:
   uniform-part accuracy 0.88-0.90 at n = 30..50, near 1 - P(|s_A| >= 5) = 0.875). A random W_0
   gates each unit by 1[<w_i, x> + b_i > 0], which spreads |c_i| and the kinks over the whole
   range of s_A (measured: 100% on both parts for k = 3, 5, 7).
3. Phase 2: W and b frozen; the output layer u is trained on hinge loss (+ l2) by a chosen
   optax optimizer for ``steps`` steps (a convex problem); the final or the averaged iterate
   is scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.errors import BadInput
from paritylab.learners.base import Fit, Learner, TrainingData
from paritylab.learners.fixed_features import ITERATES, train_linear
from paritylab.learners.optimizers import OPTIMIZERS
from paritylab.models import init as inits
from paritylab.models import mlp
from paritylab.models.features import RandomReLUFeatures
from paritylab.models.losses import loss_fn
from paritylab.options import option


def default_eta(width: int, k: int) -> float:
    """The default phase-1 step, eta = 4 q / k.

    Args:
        width: hidden units q.
        k: the parity's degree.

    Returns:
        eta.
    """
    return 4.0 * width / k


def phase1_step(params: dict, x: jax.Array, y: jax.Array, *, eta, weight_decay) -> dict:
    """One gradient step on W of the hinge loss + weight_decay ||W||^2; b and u unchanged.

    Args:
        params: network parameters at init.
        x: inputs (m, n).
        y: labels (m,).
        eta: step size.
        weight_decay: lambda of the L2 term.

    Returns:
        the parameters after the step.
    """
    hinge = loss_fn("hinge")
    grad_w = jax.grad(lambda w: jnp.mean(hinge(mlp.apply({**params, "W": w}, x), y)))(params["W"])
    w1 = params["W"] - eta * (grad_w + 2.0 * weight_decay * params["W"])
    return {**params, "W": w1}


_phase1_step = jax.jit(phase1_step)  # eta and weight_decay are traced: one compile per shape
_apply_net = jax.jit(mlp.apply)  # parameters as arguments: one compile per shape


def support_weight_stats(params: dict, support) -> dict[str, float]:
    """Mean |W_ij| over columns j in A and over columns outside A.

    Args:
        params: network parameters.
        support: the coordinates A.

    Returns:
        ``{"mean_abs_w_on_A", "mean_abs_w_off_A"}``.
    """
    w = np.abs(np.asarray(params["W"]))
    in_a = np.zeros(w.shape[1], bool)
    in_a[np.asarray(support)] = True
    off = float(w[:, ~in_a].mean()) if (~in_a).any() else 0.0
    return {"mean_abs_w_on_A": float(w[:, in_a].mean()), "mean_abs_w_off_A": off}


@dataclass(frozen=True)
class TwoPhase(Learner):
    """The layer-wise algorithm (module docstring): one large step on W, then train u."""

    name = "two-phase"
    cost = 2.5
    TUNING_GRID: ClassVar[dict] = {
        "lr": (0.003, 0.01, 0.03),
        "l2": (0.0, 1e-3),
        "steps": (1000, 2000),
    }
    width: int = option(512, "hidden units q (even: paired initialisation)", min=1)
    init_scale: float = option(
        1.0,
        "std of W at init is init_scale/sqrt(n) (0 allowed; 1 spreads the phase-1 step sizes)",
        min=0,
    )
    bias_range: float = option(1.0, "biases b ~ U[-bias_range, bias_range]", min=0, min_open=True)
    eta: float | None = option(None, "phase-1 step size; 'auto' = 4 q / k", min=0, min_open=True)
    weight_decay: float | None = option(None, "phase-1 L2 lambda; 'auto' = 1/(2 eta)", min=0)
    phase1_batch: int | None = option(None, "phase-1 batch; 'auto' = all samples", min=1)
    optimizer: str = option("adam", "phase-2 optimizer of u", choices=OPTIMIZERS)
    steps: int = option(2000, "phase-2 steps", min=1)
    lr: float = option(0.01, "phase-2 learning rate", min=0, min_open=True)
    batch_size: int = option(1024, "phase-2 minibatch size", min=1)
    l2: float = option(0.0, "phase-2 L2 penalty (l2/2)||u||^2", min=0)
    iterate: str = option("final", "which phase-2 iterate is scored", choices=ITERATES)

    def check(self) -> None:
        """Paired initialisation needs an even width."""
        if self.width % 2:
            raise BadInput(f"width={self.width} must be even (paired initialisation)")

    def fit(self, data: TrainingData, *, key: jax.Array) -> Fit:
        """Both phases on ``data.train``; k for the default eta is the target's degree."""
        x, y = data.train.x, data.train.y
        k_init, k_batch, k_fit = jax.random.split(key, 3)
        n = int(x.shape[1])
        k = int(data.problem.target.degree)
        eta = default_eta(self.width, k) if self.eta is None else float(self.eta)
        weight_decay = 1.0 / (2.0 * eta) if self.weight_decay is None else self.weight_decay
        params0 = inits.paired_init(
            k_init, n, self.width, scale=self.init_scale, bias_range=self.bias_range
        )
        if self.phase1_batch is not None and self.phase1_batch < x.shape[0]:
            idx = jax.random.choice(k_batch, x.shape[0], (self.phase1_batch,), replace=False)
            x1, y1 = x[idx], y[idx]
        else:
            x1, y1 = x, y
        params1 = _phase1_step(params0, x1, y1, eta=eta, weight_decay=float(weight_decay))
        res = train_linear(
            RandomReLUFeatures(params1["W"], params1["b"]),
            x,
            y,
            key=k_fit,
            steps=self.steps,
            lr=self.lr,
            batch_size=self.batch_size,
            l2=self.l2,
            optimizer=self.optimizer,
            average=self.iterate == "average",
            v0=params1["u"],
        )
        params = {**params1, "u": res.v if self.iterate == "final" else res.v_avg}
        support = getattr(data.problem.target, "support", None)
        metrics = {} if support is None else support_weight_stats(params1, support)
        traces = {"step": res.trace_step.tolist(), "train_loss": res.trace_loss.tolist()}
        state = {"params": params, "params_phase1": params1, "eta": eta}
        return Fit(partial(_apply_net, params), metrics, traces, state=state)
