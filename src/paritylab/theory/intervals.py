"""Confidence intervals for success fractions over seeds.

A success fraction over a handful of seeds is a binomial proportion: a t-interval on the 0/1
outcomes (mean +- t s / sqrt(m)) is wrong for it, and leaves [0, 1] (e.g. 1 success in 3 seeds
gives 0.33 +- 1.43) or collapses to a point (3 of 3 gives 1 +- 0). The Wilson score interval
stays inside [0, 1] and has close to nominal coverage even for small m.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from paritylab.errors import BadInput


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion.

    With p = successes / trials, m = trials and z the (1 + level) / 2 quantile of the standard
    normal (1.96 for level 0.95):

        centre = (p + z^2 / (2m)) / (1 + z^2 / m)
        half   = z / (1 + z^2 / m) * sqrt(p (1 - p) / m + z^2 / (4 m^2))
        interval = [centre - half, centre + half]

    It is the set of proportions q whose score test |p - q| / sqrt(q (1 - q) / m) <= z accepts
    (Wilson 1927); scipy's ``binomtest(k, m).proportion_ci(method="wilson")`` gives the same.

    Args:
        successes: number of successes k, 0 <= k <= trials.
        trials: number of trials m (seeds); with m = 0 nothing is known and the interval is
            [0, 1].
        level: confidence level, 0 < level < 1.

    Returns:
        (low, high), inside [0, 1].
    """
    if not 0 < level < 1:
        raise BadInput(f"level={level!r} is out of range: allowed 0 < level < 1")
    if trials < 0 or not 0 <= successes <= trials:
        raise BadInput(f"need 0 <= successes <= trials, got {successes} of {trials}")
    if trials == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf((1 + level) / 2)
    p, m = successes / trials, trials
    denom = 1 + z * z / m
    centre = (p + z * z / (2 * m)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m))
    return max(0.0, centre - half), min(1.0, centre + half)
