"""The lower bound for linear methods on D_A (science.md 1.3, after Daniely & Malach 2020).

A linear method is a fixed embedding Psi and h(x) = <v, Psi(x)> with ||v||_2 <= B. With
c_A = E_U[Psi(x) chi_A(x)], Cauchy-Schwarz gives E_U[chi_A h] <= B ||c_A||; since
hinge >= 1 - y h, the uniform-part hinge loss is >= 1 - B ||c_A|| and, the easy part fit
perfectly at best,

    certificate:  hinge on D_A >= 1/2 (1 - B ||c_A||)                         (this A)
    typical A:    hinge on D_A >= 1/2 (1 - B sqrt(E_U ||Psi||^2 / C(n, k)))

the second because the C(n, k) parities are orthonormal under U, so sum_A ||c_A||^2 <=
E_U ||Psi||^2 (Parseval). Both are clipped at 0. The linear-threshold reference
(1 + |c_k|)/2 is the uniform-part accuracy of the best weighted majority of x_A, with c_k the
top Fourier coefficient of majority on k bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.data.boolean import parity, uniform_cube
from paritylab.models.features import tree_sq_norm


def majority_top_coefficient(k: int) -> float:
    """|c_k| = |E_U[maj_k(x) chi_[k](x)]| for odd k, exactly:
    c_k = sum_j C(k, j) (-1)^j sign(k - 2j) / 2^k, j = number of -1 coordinates."""
    total = sum(math.comb(k, j) * (-1) ** j * int(np.sign(k - 2 * j)) for j in range(k + 1))
    return abs(total) / 2**k


def linear_threshold_reference(k: int, *, easy_fraction: float = 0.5) -> dict[str, float]:
    """Accuracy of the weighted majority sign(sum_{(k+1)/2 of A} x_j - sum_{others} x_j):
    right on the whole easy part, (1 + |c_k|)/2 on the uniform part (odd k)."""
    uniform = (1.0 + majority_top_coefficient(k)) / 2.0
    overall = easy_fraction + (1.0 - easy_fraction) * uniform
    return {"uniform": uniform, "easy": 1.0, "overall": overall}


def typical_support_bound(
    norm: float, energy: float, n: int, k: int, *, uniform_weight: float = 0.5
) -> float:
    """uniform_weight (1 - B sqrt(energy / C(n, k))), clipped at 0 (uniform_weight = 1/2
    on D_A: the mixture weight of the uniform part)."""
    return max(0.0, uniform_weight * (1.0 - norm * math.sqrt(energy / math.comb(n, k))))


def certificate_bound(norm: float, corr_norm: float, *, uniform_weight: float = 0.5) -> float:
    """uniform_weight (1 - B ||c_A||), clipped at 0."""
    return max(0.0, uniform_weight * (1.0 - norm * corr_norm))


@dataclass(frozen=True)
class CorrelationEstimate:
    """Unbiased estimate of ||c_A||^2 from M fresh uniform samples, with its standard error
    (from independent batches) and the upper value sqrt(max(0, est + 2 se)) used in the
    certificate, so that the certificate errs on the safe (lower) side."""

    sq_norm: float
    sq_norm_se: float
    num_samples: int

    @property
    def norm(self) -> float:
        return math.sqrt(max(0.0, self.sq_norm))

    @property
    def norm_upper(self) -> float:
        return math.sqrt(max(0.0, self.sq_norm + 2.0 * self.sq_norm_se))


def estimate_correlation(
    feature_map, support, *, key: jax.Array, num_samples: int = 65536, num_batches: int = 8
) -> CorrelationEstimate:
    """Estimate ||c_A||^2 = ||E_U[chi_A(x) Psi(x)]||^2 without the 1/M noise floor.

    Per batch of M points the U-statistic (||sum_m chi_m Psi_m||^2 - sum_m ||Psi_m||^2)
    / (M (M - 1)) is unbiased; the batches give the mean and its standard error.
    sum_m chi_m Psi_m is grad_v of sum_m chi_m <v, Psi(x_m)>, so no map is materialised.
    """
    per_batch = max(2, num_samples // num_batches)
    n = int(_input_dim(feature_map))
    keys = jax.random.split(key, num_batches)
    support = jnp.asarray(support)

    def batch_estimate(k):
        s, diag = _correlation_sums(feature_map, support, k, per_batch, n)
        return (tree_sq_norm(s) - float(diag)) / (per_batch * (per_batch - 1))

    ests = np.array([batch_estimate(k) for k in keys])
    se = float(ests.std(ddof=1) / math.sqrt(num_batches)) if num_batches > 1 else float("nan")
    return CorrelationEstimate(float(ests.mean()), se, per_batch * num_batches)


@partial(jax.jit, static_argnums=(3, 4))
def _correlation_sums(feature_map, support, key, m: int, n: int):
    """sum_m chi_A(x_m) Psi(x_m) (as grad_v of a linear form) and sum_m ||Psi(x_m)||^2."""
    x = uniform_cube(key, m, n)
    chi = parity(x, support)
    t = feature_map.transform(x)
    s = jax.grad(lambda v: jnp.sum(chi * feature_map.predict(v, t)))(feature_map.zeros())
    return s, jnp.sum(feature_map.sq_norm(x))


def estimate_energy(feature_map, *, key: jax.Array, num_samples: int = 16384) -> float:
    """Monte-Carlo E_U ||Psi(x)||^2 on fresh uniform samples."""
    x = uniform_cube(key, num_samples, int(_input_dim(feature_map)))
    return float(jnp.mean(feature_map.sq_norm(x)))


def _input_dim(feature_map) -> int:
    if hasattr(feature_map, "n"):
        return feature_map.n
    if hasattr(feature_map, "W"):
        return feature_map.W.shape[1]
    return feature_map.params0["W"].shape[1]
