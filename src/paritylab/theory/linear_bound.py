"""The lower bound for linear methods on D_A (after Daniely & Malach, "Learning Parities with
Neural Networks", NeurIPS 2020, https://arxiv.org/abs/2002.07400).

A linear method is a fixed embedding Psi and h(x) = <v, Psi(x)> with ||v||_2 <= B. With
c_A = E_U[Psi(x) chi_A(x)], Cauchy-Schwarz gives E_U[chi_A h] <= B ||c_A||; since
hinge >= 1 - y h, the uniform-part hinge loss is >= 1 - B ||c_A|| and, the easy part fit
perfectly at best,

    certificate:  hinge on D_A >= 1/2 (1 - B ||c_A||)                         (this A)
    typical A:    hinge on D_A >= 1/2 (1 - B sqrt(E_U ||Psi||^2 / C(n, k)))

the second because the C(n, k) parities are orthonormal under U, so sum_A ||c_A||^2 <=
E_U ||Psi||^2 (Bessel's inequality). Both are clipped at 0. The linear-threshold reference
(1 + |c_k|)/2 is the uniform-part accuracy of the best weighted majority of x_A, with c_k the
top Fourier coefficient of majority on k bits.
"""

from __future__ import annotations

import math

import numpy as np

from paritylab.models.correlation import (  # noqa: F401  (re-exported)
    CorrelationEstimate,
    estimate_correlation,
    estimate_energy,
)


def majority_top_coefficient(k: int) -> float:
    """|c_k| = |E_U[maj_k(x) chi_S(x)]| with S = {1..k}, for odd k, exactly:
    c_k = sum_j C(k, j) (-1)^j sign(k - 2j) / 2^k, j = number of -1 coordinates."""
    total = sum(math.comb(k, j) * (-1) ** j * int(np.sign(k - 2 * j)) for j in range(k + 1))
    return abs(total) / 2**k


def linear_threshold_reference(k: int, *, easy_fraction: float = 0.5) -> dict[str, float]:
    """Accuracy of the weighted majority sign(sum_{(k+1)/2 of A} x_j - sum_{others} x_j):
    right on the whole easy part, (1 + |c_k|)/2 on the uniform part (odd k)."""
    uniform = (1.0 + majority_top_coefficient(k)) / 2.0
    overall = easy_fraction + (1.0 - easy_fraction) * uniform
    return {"uniform": uniform, "easy": 1.0, "overall": overall}


def log_binom(n: int, k: int) -> float:
    """log C(n, k) through lgamma: finite for any n, where C(n, k) itself may not fit a float
    (C(3000, 1500) has 902 digits)."""
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def typical_support_bound(
    norm: float, energy: float, n: int, k: int, *, uniform_weight: float = 0.5
) -> float:
    """uniform_weight (1 - B sqrt(energy / C(n, k))), clipped at 0 (uniform_weight = 1/2
    on D_A: the mixture weight of the uniform part). Exact C(n, k) while it fits a float,
    log space (``log_binom``) beyond, so no size overflows."""
    log_c = log_binom(n, k)
    if log_c < 600:  # C(n, k) < 1e260: the exact integer converts to a float
        return max(0.0, uniform_weight * (1.0 - norm * math.sqrt(energy / math.comb(n, k))))
    if norm <= 0 or energy <= 0:
        return max(0.0, uniform_weight)
    term = math.exp(math.log(norm) + 0.5 * (math.log(energy) - log_c))
    return max(0.0, uniform_weight * (1.0 - term))


def certificate_bound(norm: float, corr_norm: float, *, uniform_weight: float = 0.5) -> float:
    """uniform_weight (1 - B ||c_A||), clipped at 0."""
    return max(0.0, uniform_weight * (1.0 - norm * corr_norm))
