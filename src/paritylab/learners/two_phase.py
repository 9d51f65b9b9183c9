"""The layer-wise algorithm for learning parities with a depth-two ReLU network
(Daniely & Malach, NeurIPS 2020, "Learning Parities with Neural Networks"; the recipe of
science.md 1.2, since the paper's exact constants were not available).

Network g(x) = sum_i u_i relu(<w_i, x> + b_i), hinge loss l = max(0, 1 - y g(x)).

1. Paired initialisation: g == 0 at init; w ~ N(0, init_scale^2 / n I) (0 allowed),
   b ~ U[-bias_range, bias_range], u = +-1/q.
2. Phase 1: one gradient step on W with step eta and L2 regulariser lambda ||W||^2:
       W_1 = W_0 - eta (grad_W L(W_0) + 2 lambda W_0),
   on a batch of ``phase1_batch`` samples (all of them by default). With the default
   lambda = 1/(2 eta) the initial W is erased: W_1 = -eta grad_W L. Since g = 0 every hinge is
   active, grad_W L = -E[y u_i 1[<w_i,x> + b_i > 0] x], and only coordinates of A correlate
   with y, so every unit moves toward a multiple of the indicator of A. Default
   eta = 4 q / k (science.md 1.2: gives mean |w_A| about 1/k without using A).
   Why init_scale = 1 by default: with W_0 = 0 a unit's phase-1 gradient is gated only by
   1[b_i > 0], so every live unit gets the same |c_i| = 2/k and its kink -b_i/c_i lies in
   |s_A| < k/2; for k = 7 the points s_A = +-5, +-7 then cannot be separated (measured:
   uniform-part accuracy 0.88-0.90 at n = 30..50, near 1 - P(|s_A| >= 5) = 0.875). A random W_0
   gates each unit by 1[<w_i, x> + b_i > 0], which spreads |c_i| and the kinks over the whole
   range of s_A (measured: 100% on both parts for k = 3, 5, 7).
3. Phase 2: W and b frozen; the output layer u is trained on hinge loss (+ l2) by a chosen
   optax optimizer for ``phase2_steps`` steps (a convex problem); the final or the averaged
   iterate is returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.learners.fixed_features import LinearFit, train_linear
from paritylab.learners.losses import loss_fn
from paritylab.models import mlp
from paritylab.models.features import RandomReLUFeatures


@dataclass(frozen=True)
class TwoPhaseResult:
    """Parameters after both phases (``params``: final iterate of u; ``params_avg``: averaged
    iterate), the parameters after phase 1, and the phase-2 fit."""

    params: dict
    params_avg: dict
    params_phase1: dict
    fit: LinearFit


def default_eta(width: int, k: int) -> float:
    """eta = 4 q / k (science.md 1.2)."""
    return 4.0 * width / k


def phase1_step(params: dict, x: jax.Array, y: jax.Array, *, eta: float, weight_decay: float):
    """One gradient step on W of the hinge loss + weight_decay ||W||^2; b and u unchanged."""
    hinge = loss_fn("hinge")
    grad_w = jax.grad(lambda w: jnp.mean(hinge(mlp.apply({**params, "W": w}, x), y)))(params["W"])
    w1 = params["W"] - eta * (grad_w + 2.0 * weight_decay * params["W"])
    return {**params, "W": w1}


_phase1_step = jax.jit(phase1_step)  # eta and weight_decay are traced: one compile per shape


def train_two_phase(
    x: jax.Array,
    y: jax.Array,
    *,
    key: jax.Array,
    width: int,
    k: int,
    init_scale: float = 1.0,
    bias_range: float = 1.0,
    eta: float | None = None,
    weight_decay: float | None = None,
    phase1_batch: int | None = None,
    phase2_optimizer: str = "adam",
    phase2_steps: int = 2000,
    phase2_lr: float = 0.01,
    phase2_batch: int | None = 1024,
    phase2_l2: float = 0.0,
) -> TwoPhaseResult:
    """Run both phases on the sample (x, y); see the module docstring for the maths.

    ``eta=None`` means ``default_eta(width, k)``; ``weight_decay=None`` means 1/(2 eta);
    ``phase1_batch=None`` uses every sample for the phase-1 gradient.
    """
    k_init, k_batch, k_fit = jax.random.split(key, 3)
    n = int(x.shape[1])
    eta = default_eta(width, k) if eta is None else float(eta)
    weight_decay = 1.0 / (2.0 * eta) if weight_decay is None else float(weight_decay)
    params0 = mlp.paired_init(k_init, n, width, scale=init_scale, bias_range=bias_range)
    if phase1_batch is not None and phase1_batch < x.shape[0]:
        idx = jax.random.choice(k_batch, x.shape[0], (phase1_batch,), replace=False)
        x1, y1 = x[idx], y[idx]
    else:
        x1, y1 = x, y
    params1 = _phase1_step(params0, x1, y1, eta=eta, weight_decay=weight_decay)
    features = RandomReLUFeatures(params1["W"], params1["b"])
    fit = train_linear(
        features,
        x,
        y,
        key=k_fit,
        steps=phase2_steps,
        lr=phase2_lr,
        batch_size=phase2_batch,
        l2=phase2_l2,
        optimizer=phase2_optimizer,
        v0=params1["u"],
    )
    return TwoPhaseResult({**params1, "u": fit.v}, {**params1, "u": fit.v_avg}, params1, fit)


def support_weight_stats(params: dict, support) -> dict[str, float]:
    """Mean |W_ij| over columns j in A and over columns outside A."""
    w = np.abs(np.asarray(params["W"]))
    in_a = np.zeros(w.shape[1], bool)
    in_a[np.asarray(support)] = True
    off = float(w[:, ~in_a].mean()) if (~in_a).any() else 0.0
    return {"mean_abs_w_on_A": float(w[:, in_a].mean()), "mean_abs_w_off_A": off}
