"""Lower-bound ingredients against brute force on small cubes."""

import itertools
import math

import jax
import numpy as np
import pytest

from paritylab.data import parity_target
from paritylab.models import LinearisedFeatures, RandomReLUFeatures, RawFeatures, mlp
from paritylab.models import init as inits
from paritylab.theory import (
    certificate_bound,
    estimate_correlation,
    estimate_energy,
    linear_threshold_reference,
    majority_top_coefficient,
    typical_support_bound,
)


def _cube(n):
    return np.array(list(itertools.product([-1.0, 1.0], repeat=n)), np.float32)


@pytest.mark.parametrize(("k", "expected"), [(3, 0.75), (5, 0.6875), (7, 0.65625), (9, 0.63671875)])
def test_reference_matches_known_values_and_brute_force(k, expected):
    assert linear_threshold_reference(k)["uniform"] == pytest.approx(expected)
    x = _cube(k)
    w = np.array([1.0] * ((k + 1) // 2) + [-1.0] * ((k - 1) // 2))
    agree = np.mean(np.sign(x @ w) == np.prod(x, axis=1))
    assert agree == pytest.approx(expected)
    assert majority_top_coefficient(k) == pytest.approx(2 * expected - 1)


def test_bounds_formulas():
    assert certificate_bound(2.0, 0.1) == pytest.approx(0.4)
    assert certificate_bound(100.0, 0.1) == 0.0
    assert typical_support_bound(1.0, 30.0, 30, 5) == pytest.approx(
        0.5 * (1 - math.sqrt(30 / math.comb(30, 5)))
    )


def _exact_corr_sq(fm, support, n):
    x = _cube(n)
    chi = np.prod(x[:, support], axis=1)
    g = jax.grad(lambda v: (chi * fm.predict(v, fm.transform(x))).sum())(fm.zeros())
    return sum(float(np.sum((np.asarray(a, np.float64) / len(x)) ** 2)) for a in jax.tree.leaves(g))


@pytest.mark.parametrize("kind", ["random", "linearised"])
def test_correlation_estimate_is_unbiased_against_exact(kind):
    n, support = 10, np.array([1, 4, 7])
    p = inits.paired_init(jax.random.key(1), n, 64, scale=1.0, output_abs=64**-0.5)
    fm = RandomReLUFeatures(p["W"], p["b"]) if kind == "random" else LinearisedFeatures(p)
    exact = _exact_corr_sq(fm, support, n)
    est = estimate_correlation(fm, parity_target(support), key=jax.random.key(2), num_samples=2**16)
    # the batch standard error is an honest scale: 5 of them, plus float32 round-off
    assert abs(est.sq_norm - exact) < 5 * est.sq_norm_se + 1e-4 * exact + 1e-7
    assert est.norm_upper >= est.norm


def test_energy_matches_exact_and_raw_correlation_is_zero():
    n = 10
    p = inits.gaussian_init(jax.random.key(0), n, 32)
    fm = RandomReLUFeatures(p["W"], p["b"])
    exact = float(np.mean(np.asarray(fm.sq_norm(_cube(n)))))
    # E||Psi||^2 over 2^14 samples: relative std of a mean of a bounded positive variable
    assert estimate_energy(fm, key=jax.random.key(1), num_samples=2**14) == pytest.approx(
        exact, rel=0.03
    )
    assert _exact_corr_sq(RawFeatures(n), np.array([0, 1, 2]), n) == pytest.approx(0.0, abs=1e-12)


def test_linearised_sq_norm_is_jacobian_norm():
    n = 6
    p = inits.paired_init(jax.random.key(0), n, 8, scale=1.0, output_abs=0.3)
    fm = LinearisedFeatures(p)
    x = _cube(n)[:5]
    for row in x:
        g = jax.grad(lambda q, r=row: mlp.apply(q, r[None])[0])(p)
        direct = sum(float(np.sum(np.asarray(a) ** 2)) for a in jax.tree.leaves(g))
        assert float(fm.sq_norm(row[None])[0]) == pytest.approx(direct, rel=1e-5)
