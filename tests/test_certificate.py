"""The certificate's ||c|| upper value covers the truth, and is informative.

A feature map whose correlation with the target is known exactly: for f(x) = x_0 on
{-1,+1}^20, relu features relu(<w, x> + b) with
  * one unit w = eps e_0, b = 1: the feature 1 + eps x_0, correlation eps with f;
  * 19 units w = e_j, b = 1 (j >= 1): features 1 + x_j, uncorrelated with f;
  * 80 units w = 0, b = 3: the constant 3, uncorrelated with f but a large mean, the regime
    where an uncentred estimate is dominated by noise.
So ||c|| = eps exactly."""

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.data import monomials_target
from paritylab.models import RandomReLUFeatures
from paritylab.models.correlation import estimate_correlation

N, EPS = 20, 0.2


def _features():
    w = jnp.zeros((100, N)).at[0, 0].set(EPS)
    w = w.at[jnp.arange(1, N), jnp.arange(1, N)].set(1.0)
    b = jnp.concatenate([jnp.ones(N), 3.0 * jnp.ones(100 - N)])
    return RandomReLUFeatures(w, b)


def test_upper_value_covers_the_exact_norm_and_is_informative():
    """300 independent estimates at the nominal one-sided level 0.975: coverage below 0.95
    would be 3.3 binomial s.e. (sqrt(0.975 * 0.025 / 300) = 0.009) under the nominal level,
    probability below 1e-3. Informative: the median upper value is within 1.5 eps."""
    fm, target = _features(), monomials_target(jnp.array([0]), terms=[[0]])
    keys = jax.random.split(jax.random.key(0), 300)
    uppers, ests = [], []
    for k in keys:
        est = estimate_correlation(fm, target, key=k, num_samples=8192, num_batches=32)
        uppers.append(est.norm_upper)
        ests.append(est.sq_norm)
    uppers = np.array(uppers)
    assert np.mean(uppers >= EPS) >= 0.95
    assert np.median(uppers) <= 1.5 * EPS
    # Unbiased: the mean of the estimates is within 4 standard errors of eps^2.
    ests = np.array(ests)
    assert abs(ests.mean() - EPS**2) < 4 * ests.std(ddof=1) / np.sqrt(len(ests))


def test_upper_value_never_rests_on_a_negative_estimate():
    """With no correlation at all (a target off every feature), estimates straddle 0, but the
    upper value stays at least the t margin: never the 0 that would make the certificate 1/2."""
    fm = _features()
    target = monomials_target(jnp.array([1, 2]), terms=[[0, 1]])  # x_1 x_2: ||c|| = 0 here
    values = [
        estimate_correlation(fm, target, key=k, num_samples=4096, num_batches=32)
        for k in jax.random.split(jax.random.key(1), 20)
    ]
    assert any(v.sq_norm < 0 for v in values)
    assert all(v.norm_upper > 0 for v in values)
