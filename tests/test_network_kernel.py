"""The expected NTK of the network in the table (ExpectedNetworkNTK) and its learner."""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.stats

from paritylab.data import dm_problem
from paritylab.errors import BadInput
from paritylab.learners import NetworkKernel, NTKLinearised, TrainingData, learner_key
from paritylab.models import init as inits
from paritylab.models import mlp
from paritylab.models.kernels import ExpectedNetworkNTK, energy, parity_correlation_sq_norm

N = 10
FLIPS = (0, 1, 3, 5, 7, 10)  # <x0, x_j> = n - 2 flips: 10, 8, 4, 0, -4, -10 (both +-n)


def _flipped(n: int) -> np.ndarray:
    x0 = np.where(np.random.default_rng(0).random(n) < 0.5, -1.0, 1.0)
    rows = []
    for j in FLIPS:
        x = x0.copy()
        x[:j] *= -1
        rows.append(x)
    return np.array(rows)


@pytest.mark.parametrize("bias_range", [1.0, 0.5])
def test_expected_ntk_matches_monte_carlo_over_units_of_a_wide_net(bias_range):
    """The empirical NTK of one wide network of the ``ntk-linearised`` initialisation (paired,
    w ~ N(0, I/n), b ~ U[-r, r], |u| = q^-1/2), from autodiff gradients, against the kernel.

    Theta_q is a sum over q units; the paired units are identical, so it is a sum of q/2 iid
    pair terms d_j and its Monte-Carlo standard error is sqrt(q/2) std(d_j). Each layer's part
    is checked on its own (the output layer dominates the sum at this width)."""
    q = 200_000
    X = _flipped(N)
    params = inits.paired_init(
        jax.random.key(3), N, q, scale=1.0, bias_range=bias_range, output_abs=q**-0.5
    )
    grads = jax.vmap(jax.grad(lambda p, x: mlp.apply(p, x[None])[0]), in_axes=(None, 0))(
        params, jnp.asarray(X, jnp.float32)
    )
    g = {k: np.asarray(v, np.float64) for k, v in grads.items()}
    # per-unit contributions <grad_i(x0), grad_i(x_j)> of each layer, shape (points, q)
    output = g["u"][:1] * g["u"]
    first = np.einsum("qn,pqn->pq", g["W"][0], g["W"]) + g["b"][:1] * g["b"]
    s = X @ X[0]
    kernel = ExpectedNetworkNTK(width=q, bias_range=bias_range)
    k1, k0 = kernel.moments(s / N)
    half = q // 2
    for terms, expected, part in ((output, q * k1, "u"), (first, (s + 1) * k0, "W, b")):
        pairs = terms[:, :half] + terms[:, half:]
        # the two units of a pair have equal gradients (up to float32 rounding of the matmul)
        np.testing.assert_allclose(terms[:, :half], terms[:, half:], rtol=1e-3, atol=1e-6)
        theta = pairs.sum(1)
        se = math.sqrt(half) * pairs.std(1, ddof=1)
        z = (theta - expected) / se
        # 4 s.e. per entry (12 entries): a correct formula fails with probability < 1e-3, a
        # wrong term is off by many s.e. (the s.e. is ~0.3% of the value here)
        assert np.all(np.abs(z) < 4), (part, s, theta, expected, z)
    full = kernel.kappa(s, N)
    np.testing.assert_allclose(full, q * k1 + (s + 1) * k0, rtol=1e-14)
    # the whole empirical NTK, as autodiff sums it, against the kernel (output part dominates)
    pairs = (output + first)[:, :half] + (output + first)[:, half:]
    se = math.sqrt(half) * pairs.std(1, ddof=1)
    assert np.all(np.abs(pairs.sum(1) - full) < 4 * se)


def _brute_moments(rho: float, r: float) -> tuple[float, float]:
    """(K1, K0) by a 2-D adaptive quadrature over (b, g): given g, z' = <w, x'> + b is normal
    with mean rho g + b and variance 1 - rho^2, E[relu(z') | g] = m Phi(m/s) + s phi(m/s)."""
    s = math.sqrt(1 - rho * rho)
    phi, cdf = scipy.stats.norm.pdf, scipy.stats.norm.cdf

    def relu_mean(m):
        return m * cdf(m / s) + s * phi(m / s)

    opts = {"epsabs": 1e-13, "epsrel": 1e-12}
    k1 = scipy.integrate.dblquad(
        lambda g, b: (g + b) * relu_mean(rho * g + b) * phi(g) / (2 * r),
        -r,
        r,
        lambda b: -b,
        lambda b: 12.0,
        **opts,
    )[0]
    k0 = scipy.integrate.dblquad(
        lambda g, b: cdf((rho * g + b) / s) * phi(g) / (2 * r), -r, r, lambda b: -b, 12.0, **opts
    )[0]
    return k1, k0


@pytest.mark.parametrize(("rho", "r"), [(0.3, 1.0), (-0.8, 0.7)])
def test_moments_match_brute_force_quadrature(rho, r):
    k1, k0 = ExpectedNetworkNTK(bias_range=r).moments(np.array([rho]))
    b1, b0 = _brute_moments(rho, r)
    assert float(k1[0]) == pytest.approx(b1, rel=1e-11)
    assert float(k0[0]) == pytest.approx(b0, rel=1e-11)


def test_moments_at_the_ends_and_without_bias():
    kernel = ExpectedNetworkNTK(bias_range=1.0)
    k1, k0 = kernel.moments(np.array([1.0, -1.0]))
    # rho = 1: E[relu(g + b)^2] = E_b[(1 + b^2) Phi(b) + b phi(b)] = (1 + 1/3) / 2; P = 1/2
    assert k1[0] == pytest.approx(2 / 3, rel=1e-14) and k0[0] == pytest.approx(0.5, rel=1e-14)
    # rho = -1: g' = -g, both positive iff |g| < b; continuity from inside
    near1, near0 = kernel.moments(np.array([-1 + 1e-10]))
    assert k1[1] == pytest.approx(near1[0], abs=1e-4) and k0[1] == pytest.approx(near0[0], abs=1e-4)
    brute = scipy.integrate.quad(
        lambda b: (
            ((b * b - 1) * (2 * scipy.stats.norm.cdf(b) - 1) + 2 * b * scipy.stats.norm.pdf(b)) / 2
        ),
        0,
        1,
    )[0]
    assert k1[1] == pytest.approx(brute, rel=1e-12)
    free = ExpectedNetworkNTK(width=4, bias_range=0.0)  # b = 0: arc-cosine moments
    t = np.arccos(0.3)
    f1, f0 = free.moments(np.array([0.3]))
    assert f1[0] == pytest.approx((math.sin(t) + (math.pi - t) * 0.3) / (2 * math.pi), rel=1e-13)
    assert f0[0] == pytest.approx((math.pi - t) / (2 * math.pi), rel=1e-13)


def test_table_path_parity_correlation_and_energy():
    n, k = 8, 3
    kernel = ExpectedNetworkNTK(width=16, bias_range=0.8)
    Z = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    K = kernel.kernel_matrix(Z)
    s = Z @ Z.T
    np.testing.assert_allclose(K, kernel._evaluate(s, n, n, n), rtol=1e-13)
    chi = np.prod(Z[:, [1, 4, 6]], 1)
    exact = parity_correlation_sq_norm(kernel, n, k)
    assert exact == pytest.approx(chi @ K @ chi / 4**n, rel=1e-10)
    assert exact > 0
    # kappa(n) = q E_b[(1 + b^2) Phi(b) + b phi(b)] + (n + 1) / 2 = q (1 + r^2/3) / 2 + (n + 1) / 2
    assert energy(kernel, n) == pytest.approx(16 * (1 + 0.64 / 3) / 2 + (n + 1) / 2, rel=1e-13)
    total = sum(math.comb(n, j) * parity_correlation_sq_norm(kernel, n, j) for j in range(n + 1))
    assert total == pytest.approx(energy(kernel, n), rel=1e-12)
    with pytest.raises(BadInput, match="only"):
        kernel.kernel_matrix(Z * 0.5)


def test_energy_is_the_mean_feature_energy_of_ntk_linearised():
    """E_U k(x, x) is what ``ntk-linearised`` reports as E_U ||Psi||^2, averaged over inits."""
    n, q = 12, 64
    learner = NTKLinearised(width=q)
    x = jnp.asarray(np.where(np.random.default_rng(1).random((256, n)) < 0.5, -1.0, 1.0))
    draws = [
        float(jnp.mean(learner.feature_map(n, jax.random.key(i)).sq_norm(x))) for i in range(400)
    ]
    kernel = ExpectedNetworkNTK(width=q)
    # ||Psi(x)||^2 is the same for every x of the cube in law, so the mean over 400 inits has
    # s.e. std / sqrt(400)
    se = np.std(draws, ddof=1) / math.sqrt(len(draws))
    assert abs(np.mean(draws) - energy(kernel, n)) < 4 * se


def test_network_kernel_learner_reports_its_bound_inputs():
    n = 12
    problem = dm_problem(n, np.array([2, 5, 9]))
    k1, k2 = jax.random.split(jax.random.key(0))
    data = TrainingData(problem, problem.sample(k1, 300), problem.sample(k2, 200))
    learner = NetworkKernel(width=32, max_samples=250)
    fit = learner.fit(data, key=learner_key(0, learner.name))
    m = fit.metrics
    kernel = learner.kernel()
    assert m["num_features"] == 250 and m["kernel_samples"] == 250
    assert m["feature_energy"] == pytest.approx(energy(kernel, n))
    assert m["corr_sq_norm"] == pytest.approx(parity_correlation_sq_norm(kernel, n, 3))
    assert m["corr_sq_norm_se"] == 0.0
    model = fit.state["model"]
    K = kernel.kernel_matrix(np.asarray(data.train.x[:250]))
    assert m["weight_norm"] == pytest.approx(math.sqrt(model.coef @ K @ model.coef), rel=1e-8)
