"""The D&M sampler against its exact moments."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from paritylab.data import EASY, UNIFORM, check_dm_k, dm_sample, draw_support, parity
from paritylab.errors import BadInput

M = 200_000
# Each moment is a mean of M terms bounded by 1: std <= 1/sqrt(M) = 0.0022; allow 5 sigma.
TOL = 5 / np.sqrt(M)


@pytest.fixture(scope="module")
def sample():
    support = np.array([2, 5, 11, 17, 23])
    return support, dm_sample(jax.random.key(0), M, 30, support)


def test_easy_fraction_is_half(sample):
    _, s = sample
    assert abs(float(jnp.mean(s.part == EASY)) - 0.5) < TOL


def test_label_is_parity_and_mean_zero(sample):
    support, s = sample
    np.testing.assert_array_equal(np.asarray(s.y), np.asarray(parity(s.x, support)))
    assert abs(float(jnp.mean(s.y))) < TOL


def test_label_correlates_with_support_only(sample):
    support, s = sample
    corr = np.asarray(jnp.mean(s.y[:, None] * s.x, axis=0))
    in_a = np.zeros(30, bool)
    in_a[support] = True
    assert np.all(np.abs(corr[in_a] - 0.5) < TOL)
    assert np.all(np.abs(corr[~in_a]) < TOL)


def test_easy_rows_are_constant_on_support(sample):
    support, s = sample
    x = np.asarray(s.x)
    easy = np.asarray(s.part) == EASY
    xa = x[easy][:, support]
    assert np.all(xa == xa[:, :1])
    # the uniform part has every pattern on A: its coordinates are fair coins
    assert abs(float(x[np.asarray(s.part) == UNIFORM][:, support].mean())) < 2 * TOL


def test_even_k_and_k_above_n_are_rejected():
    with pytest.raises(BadInput, match="odd"):
        check_dm_k(10, 4)
    check_dm_k(10, 4, allow_even_k=True)
    with pytest.raises(BadInput, match="1 <= k <= n"):
        check_dm_k(5, 7)


def test_draw_support_is_deterministic_and_distinct():
    a = draw_support(jax.random.key(3), 20, 5)
    b = draw_support(jax.random.key(3), 20, 5)
    np.testing.assert_array_equal(a, b)
    assert len(set(a.tolist())) == 5 and a.min() >= 0 and a.max() < 20
