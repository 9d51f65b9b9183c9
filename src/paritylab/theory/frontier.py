"""The statistical-query frontier of gradient training on sparse parities.

Edelman, Goel, Kakade, Malach and Zhang, "Pareto frontiers in neural feature learning: data,
compute, width, and luck" (NeurIPS 2023, https://arxiv.org/abs/2309.03800), Proposition 3:
consider any gradient method on a model with r parameters whose per-example gradient has
coordinates in [-1, 1], run for T steps, where each step sees the population gradient up to an
adversarial perturbation in [-tau, tau]^r. If

    r T / (tau^2 delta) <= C(n, k) / 2,

then for some k-sparse parity the first T iterates are independent of the target with
probability at least 1 - delta: the run cannot do better than chance, whatever its width,
data or luck, until the product r T (parameters times steps) reaches tau^2 delta C(n, k) / 2.

Why (the statistical-query argument behind it): a gradient coordinate is one query
E[l'(y, f(x)) d_theta f(x)] of a function bounded by 1, and the parities chi_A are
orthonormal, so by Bessel's inequality one query has correlation above tau with at most
1 / tau^2 of them. T steps make r T queries; if r T / tau^2 is well below the C(n, k)
candidate supports, an adversary can answer every query as if the label were pure noise for
most supports, and the iterates carry no information about A.

How it is read here (``min_steps``): at width q the two-layer net has r = q (n + 2) parameters
(W, b, u; one more with an output bias), and the bound says that with probability >= 1 - delta
a run fails for some support whenever T <= tau^2 delta C(n, k) / (2 r). Two caveats, both
named parameters and not part of the theorem: SGD's gradient noise is the minibatch's
sampling noise, not an adversary's, and we use tau = 1/sqrt(B) (the standard deviation of a
bounded query's minibatch estimate) as its order of magnitude; and the network's gradient
coordinates are not literally bounded by 1. The bound is a worst case over supports and
scales like C(n, k) ~ n^k / k!, so at small (n, k) it is far below measured times (at
(50, 3) it guarantees failure only for T below one step): it describes how the frontier must
move with n and k, not where a given run succeeds.
"""

from __future__ import annotations

import math

from paritylab.errors import BadInput


def network_parameters(n: int, width: int, *, output_bias: bool = False) -> int:
    """Trainable parameters r of the two-layer net: W (q x n), b (q), u (q), and c.

    Args:
        n: input dimension.
        width: hidden units q.
        output_bias: whether the net has a trainable output bias.

    Returns:
        r = q (n + 2) (+ 1).
    """
    return width * (n + 2) + int(output_bias)


def min_steps(n: int, k: int, params: int, *, tau: float, delta: float = 0.5) -> float:
    """The step count T below which Proposition 3 guarantees failure for some support:
    T_min = tau^2 delta C(n, k) / (2 r).

    Args:
        n: input dimension.
        k: parity degree (1 <= k <= n).
        params: trainable parameters r.
        tau: gradient noise level (e.g. 1/sqrt(B) for minibatch SGD; module docstring).
        delta: the probability of success allowed (failure with probability >= 1 - delta).

    Returns:
        T_min (a real number; a run with T <= T_min fails for some parity).
    """
    if not 1 <= k <= n:
        raise BadInput(f"k={k} is out of range: allowed 1 <= k <= n (n={n})")
    if params < 1 or tau <= 0 or not 0 < delta <= 1:
        raise BadInput(
            f"params={params}, tau={tau}, delta={delta}: allowed params >= 1, tau > 0, "
            "0 < delta <= 1"
        )
    return tau**2 * delta * math.comb(n, k) / (2.0 * params)


def guarantees_failure(
    n: int, k: int, params: int, steps: int, *, tau: float, delta: float = 0.5
) -> bool:
    """Whether r T / (tau^2 delta) <= C(n, k) / 2 (Proposition 3's condition).

    Args:
        n: input dimension.
        k: parity degree.
        params: trainable parameters r.
        steps: T.
        tau: gradient noise level.
        delta: allowed success probability.

    Returns:
        True when the condition holds.
    """
    return steps <= min_steps(n, k, params, tau=tau, delta=delta)


__all__ = ["guarantees_failure", "min_steps", "network_parameters"]
