"""The problem contract (paritylab.data): distributions, targets and problems against their
exact moments, brute-force enumeration and the stated schedule.

Tolerances: a mean of m independent +-1 values has standard deviation at most 1/sqrt(m); with
m = 40,000 that is 0.005, and every check below allows 5 of them (a false alarm has
probability below 1e-6 per check)."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from paritylab.data import (
    BiasedProduct,
    DanielyMalach,
    Majority,
    Mixture,
    Problem,
    Schedule,
    SupportAligned,
    Uniform,
    majority_target,
    make_target,
    monomials_target,
    parity,
    parity_target,
    staircase_target,
)
from paritylab.errors import BadInput

M = 40_000
TOL = 5 / np.sqrt(M)
A = np.array([1, 4, 6])


def _draw(dist, step=None, key=0):
    x, part = jax.jit(lambda d, k: d.sample(k, M, step))(dist, jax.random.key(key))
    return np.asarray(x), np.asarray(part)


def test_uniform_has_independent_fair_coordinates():
    x, part = _draw(Uniform(12))
    assert set(np.unique(x)) == {-1.0, 1.0}
    assert np.abs(x.mean(axis=0)).max() < TOL
    assert abs(np.mean(x[:, 0] * x[:, 1])) < TOL
    assert not part.any()


def test_biased_product_per_coordinate():
    p = jnp.array([0.1, 0.5, 0.9, 0.01])
    x, _ = _draw(BiasedProduct(4, p))
    np.testing.assert_allclose((x == -1).mean(axis=0), np.asarray(p), atol=TOL)


def test_support_aligned_shares_one_sign_on_the_support():
    x, _ = _draw(SupportAligned(10, jnp.asarray(A)))
    assert np.all(x[:, A] == x[:, [A[0]]])
    assert abs(x[:, A[0]].mean()) < TOL
    off = np.setdiff1d(np.arange(10), A)
    assert np.abs(x[:, off].mean(axis=0)).max() < TOL


@pytest.mark.parametrize("make", ["direct", "mixture"])
def test_daniely_malach_is_the_mixture_of_uniform_and_aligned(make):
    """E[y x_j] = easy_fraction on A (odd k) and 0 off A; P(easy) = easy_fraction; both for
    the direct sampler and for the general Mixture(Uniform, SupportAligned)."""
    n, w = 10, 0.3
    support = jnp.asarray(A)
    if make == "direct":
        dist = DanielyMalach(n, support, w)
    else:
        dist = Mixture(Uniform(n), SupportAligned(n, support), w)
    x, part = _draw(dist)
    y = np.prod(x[:, A], axis=1)
    corr = (y[:, None] * x).mean(axis=0)
    np.testing.assert_allclose(corr[A], w, atol=TOL)
    assert np.abs(np.delete(corr, A)).max() < TOL
    assert abs(part.mean() - w) < TOL
    easy = part == 1
    assert np.all(x[easy][:, A] == x[easy][:, [A[0]]])


def test_schedule_switches_at_the_stated_step():
    n = 6
    all_minus = BiasedProduct(n, jnp.float32(1.0))
    sched = Schedule((Uniform(n), all_minus), (100,))
    x_before, part_before = _draw(sched, step=jnp.asarray(99))
    x_after, part_after = _draw(sched, step=jnp.asarray(100))
    assert not part_before.any() and abs(x_before.mean()) < TOL
    assert np.all(part_after == 1) and np.all(x_after == -1)


def test_targets_match_brute_force_on_the_whole_cube():
    n = 7
    cube = np.array(list(itertools.product([-1.0, 1.0], repeat=n)), np.float32)
    x = jnp.asarray(cube)
    a0, a1, a2 = A
    stair = cube[:, a0] + cube[:, a0] * cube[:, a1] + cube[:, a0] * cube[:, a1] * cube[:, a2]
    np.testing.assert_array_equal(np.asarray(staircase_target(A)(x)), stair)
    np.testing.assert_array_equal(np.asarray(parity_target(A)(x)), np.asarray(parity(x, A)))
    maj = np.sign(cube[:, A].sum(axis=1))
    np.testing.assert_array_equal(np.asarray(majority_target(A)(x)), maj)
    leap = monomials_target(A, terms=[[0], [1, 2]], coefs=[2.0, -0.5])
    np.testing.assert_allclose(
        np.asarray(leap(x)), 2.0 * cube[:, a0] - 0.5 * cube[:, a1] * cube[:, a2], rtol=1e-6
    )
    # Fourier-Walsh orthonormality: E[chi_S chi_T] = 1[S = T] on the whole cube.
    assert np.mean(stair * cube[:, a0]) == pytest.approx(1.0)
    assert np.mean(stair * cube[:, a0] * cube[:, a1]) == pytest.approx(1.0)
    assert np.mean(stair * cube[:, a1]) == pytest.approx(0.0)


def test_target_properties():
    assert parity_target(A).boolean and parity_target(A).degree == 3
    assert not staircase_target(A).boolean and staircase_target(A).degree == 3
    assert isinstance(majority_target(A), Majority) and majority_target(A).boolean
    assert staircase_target(A).describe() == "x0 + x0*x1 + x0*x1*x2"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"terms": [[0], [5]]}, "position 5"),
        ({"terms": []}, "non-empty"),
        ({"terms": [[0]], "coefs": [1.0, 2.0]}, "one each"),
        ({"terms": [[0]], "coefs": [float("nan")]}, "finite"),
    ],
)
def test_bad_monomials_are_rejected_with_one_line(kwargs, match):
    with pytest.raises(BadInput, match=match):
        monomials_target(A, **kwargs)


def test_unknown_target_lists_the_known_ones():
    with pytest.raises(BadInput, match="allowed: parity"):
        make_target("parrity", A)


def test_label_noise_flips_the_stated_fraction_and_only_training_labels():
    p = 0.2
    problem = Problem(Uniform(8), parity_target(A), p)
    train = problem.training_sample(jax.random.key(1), M)
    clean = np.asarray(parity(train.x, A))
    assert abs(np.mean(np.asarray(train.y) != clean) - p) < TOL
    test = problem.sample(jax.random.key(2), M)
    np.testing.assert_array_equal(np.asarray(test.y), np.asarray(parity(test.x, A)))


def test_a_problem_traces_inside_jit_with_the_support_as_data():
    """One compilation serves every support: the support is a traced leaf, not a constant."""
    problem_a = Problem(Uniform(8), parity_target(np.array([0, 1, 2])))
    problem_b = Problem(Uniform(8), parity_target(np.array([5, 6, 7])))
    draw = jax.jit(lambda pr, k: pr.training_sample(k, 16))
    draw(problem_a, jax.random.key(0))
    draw(problem_b, jax.random.key(0))
    assert draw._cache_size() == 1
