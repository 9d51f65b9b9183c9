"""Closed-form kernels (paritylab.models.kernels) and kernel ridge (paritylab.learners)."""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics.pairwise import polynomial_kernel

from paritylab.errors import BadInput
from paritylab.learners.kernel_ridge import fit_kernel_ridge, fit_nystroem_ridge
from paritylab.models.kernels import (
    ArcCosineKernel,
    PolynomialKernel,
    TwoLayerReLUKernel,
    energy,
    parity_correlation_sq_norm,
)


def _cube(rng, m, n):
    return rng.choice([-1.0, 1.0], size=(m, n))


def _direct_ntk(X1, X2, sw, sb, kind="ntk"):
    """Textbook formula written out independently: sqrt(S S')/(2 pi) (sin t + (pi - t) cos t)."""
    n = X1.shape[1]
    sig = sw**2 * (X1 @ X2.T) / n + sb**2
    s1 = sw**2 * np.sum(X1**2, 1)[:, None] / n + sb**2
    s2 = sw**2 * np.sum(X2**2, 1)[None, :] / n + sb**2
    t = np.arccos(np.clip(sig / np.sqrt(s1 * s2), -1, 1))
    k1 = np.sqrt(s1 * s2) / (2 * np.pi) * (np.sin(t) + (np.pi - t) * np.cos(t))
    return k1 + sig * (np.pi - t) / (2 * np.pi) if kind == "ntk" else k1


def _unit_terms(W, b, u, X, sw, sb):
    """Per-hidden-unit contributions g_i(x, x') whose mean over i is the empirical NTK / NNGP
    of f = q^-1/2 sum_i u_i relu(sw <w_i,x>/sqrt(n) + sb b_i). Shapes (q, P, P)."""
    n = X.shape[1]
    a = sw * (W @ X.T) / math.sqrt(n) + sb * b[:, None]  # (q, P)
    h, d = np.maximum(a, 0.0), (a > 0).astype(np.float64)
    sig = sw**2 * (X @ X.T) / n + sb**2
    nngp = h[:, :, None] * h[:, None, :]
    return nngp, nngp + (u**2)[:, None, None] * d[:, :, None] * d[:, None, :] * sig


@pytest.mark.parametrize(("sw", "sb"), [(1.0, 1.0), (1.5, 0.5)])
def test_ntk_and_nngp_match_wide_network(sw, sb):
    n, q = 10, 40_000
    rng = np.random.default_rng(0)
    X = _cube(rng, 5, n)
    X = np.vstack([X, -X[:1], X[:1]])  # antipodal and identical pairs: t = pi and t = 0
    kw, kb, ku = jax.random.split(jax.random.key(1), 3)
    params = {
        "W": jax.random.normal(kw, (q, n)),
        "b": jax.random.normal(kb, (q,)),
        "u": jax.random.normal(ku, (q,)),
    }

    def f(p, x):
        pre = sw * (p["W"] @ x) / jnp.sqrt(n) + sb * p["b"]
        return jnp.dot(p["u"], jax.nn.relu(pre)) / jnp.sqrt(q)

    jac = jax.vmap(jax.grad(f), in_axes=(None, 0))(params, jnp.asarray(X, jnp.float32))
    flat = np.concatenate([np.asarray(v, np.float64).reshape(len(X), -1) for v in jac.values()], 1)
    emp_ntk = flat @ flat.T

    W, b, u = (np.asarray(params[k], np.float64) for k in ("W", "b", "u"))
    nngp_terms, ntk_terms = _unit_terms(W, b, u, X, sw, sb)
    # autodiff Jacobian == explicit per-unit formula (float32 Jacobian: relative 1e-4)
    np.testing.assert_allclose(emp_ntk, ntk_terms.mean(0), rtol=1e-4, atol=1e-5)

    for kind, terms in (("ntk", ntk_terms), ("nngp", nngp_terms)):
        exact = TwoLayerReLUKernel(kind, sigma_w=sw, sigma_b=sb).kernel_matrix(X)
        # Monte-Carlo over q iid units: the standard error is std(g_i)/sqrt(q) per entry
        # (about 1% of the value at q = 4e4); 5 standard errors over 49 entries almost never
        # fails for a correct formula, while a wrong term (e.g. a missing Sigma K0) is off by
        # tens of standard errors.
        se = terms.std(0) / math.sqrt(q)
        assert np.all(np.abs(terms.mean(0) - exact) <= 5 * se + 1e-12), kind


def test_kernels_match_monte_carlo_off_the_cube():
    """Generic (non-cube) path against the per-unit Monte Carlo with Gaussian inputs."""
    rng = np.random.default_rng(2)
    n, q = 7, 200_000
    X = rng.normal(size=(4, n)) * np.array([[0.5], [1.0], [2.0], [1.3]])
    W, b, u = rng.normal(size=(q, n)), rng.normal(size=q), rng.normal(size=q)
    nngp_terms, ntk_terms = _unit_terms(W, b, u, X, 1.2, 0.7)
    for kind, terms in (("ntk", ntk_terms), ("nngp", nngp_terms)):
        exact = TwoLayerReLUKernel(kind, sigma_w=1.2, sigma_b=0.7).kernel_matrix(X)
        se = terms.std(0) / math.sqrt(q)  # ~0.3% relative at q = 2e5; 5 SE as above
        assert np.all(np.abs(terms.mean(0) - exact) <= 5 * se), kind

    # Cho & Saul: k_p(x, y) = 2 E_w[H(w.x) H(w.y) (w.x)^p (w.y)^p] on the augmented input
    Xa = np.hstack([X, np.full((len(X), 1), 0.8)])
    proj = rng.normal(size=(q, n + 1)) @ Xa.T
    for order in (0, 1):
        g = np.where(proj > 0, proj**order, 0.0)
        terms = 2 * g[:, :, None] * g[:, None, :]
        exact = ArcCosineKernel(order, bias=0.8).kernel_matrix(X)
        se = terms.std(0) / math.sqrt(q)
        assert np.all(np.abs(terms.mean(0) - exact) <= 5 * se + 1e-12), order


@pytest.mark.parametrize(
    "kernel",
    [
        TwoLayerReLUKernel(),
        TwoLayerReLUKernel("nngp", sigma_w=2.0, sigma_b=0.0),
        ArcCosineKernel(0),
        ArcCosineKernel(1, bias=0.0),
        PolynomialKernel(4, coef0=0.5),
    ],
    ids=lambda k: k.name,
)
def test_gather_table_equals_generic_path(kernel):
    rng = np.random.default_rng(3)
    n = 13
    X1, X2 = _cube(rng, 40, n), _cube(rng, 30, n)
    fast = kernel.kernel_matrix(X1.astype(np.float32), X2)
    s = X1 @ X2.T
    nrm = np.full((1, 1), float(n))
    generic = kernel._evaluate(s, nrm, nrm, n)
    np.testing.assert_allclose(fast, generic, rtol=1e-13, atol=1e-13)  # same float64 formula
    np.testing.assert_allclose(kernel.kernel_matrix(X1, X1 + 0.0), kernel.kernel_matrix(X1))
    np.testing.assert_allclose(np.diag(kernel.kernel_matrix(X1)), kernel.diag(X1), rtol=1e-13)


def test_closed_forms_equal_textbook_formulas():
    rng = np.random.default_rng(4)
    X1, X2 = _cube(rng, 20, 9), rng.normal(size=(15, 9))
    for X in (X1, X2):
        for kind in ("ntk", "nngp"):
            ours = TwoLayerReLUKernel(kind, sigma_w=1.3, sigma_b=0.6).kernel_matrix(X1, X)
            np.testing.assert_allclose(ours, _direct_ntk(X1, X, 1.3, 0.6, kind), rtol=1e-12)
    np.testing.assert_allclose(
        PolynomialKernel(3).kernel_matrix(X1, X2), polynomial_kernel(X1, X2, degree=3), rtol=1e-12
    )


def test_kernel_ridge_matches_sklearn_and_nystroem_limit():
    rng = np.random.default_rng(5)
    n = 12
    X, Xt = _cube(rng, 300, n), _cube(rng, 80, n)
    y = np.prod(X[:, :3], 1) + 0.1 * rng.normal(size=300)
    kernel, ridge = TwoLayerReLUKernel(), 1e-2
    model = fit_kernel_ridge(kernel, X, y, ridge=ridge)
    K = kernel.kernel_matrix(X)
    ref = KernelRidge(alpha=ridge, kernel="precomputed").fit(K, y)
    pred = model.predict(Xt, chunk_rows=7)  # odd chunking exercises the block loop
    ref_pred = ref.predict(kernel.kernel_matrix(Xt, X))
    # both are Cholesky solves of the same float64 system (cond ~ 1e4): agreement ~1e-12
    np.testing.assert_allclose(pred, ref_pred, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.coef, ref.dual_coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.train_predictions, K @ model.coef, rtol=1e-8, atol=1e-10)
    assert model.rkhs_norm == pytest.approx(math.sqrt(model.coef @ K @ model.coef), rel=1e-8)
    assert model.num_train == 300

    full = fit_nystroem_ridge(kernel, X, y, ridge=ridge, num_centres=300, seed=0)
    np.testing.assert_allclose(full.predict(Xt), pred, rtol=1e-6, atol=1e-7)  # exact limit
    assert full.rkhs_norm == pytest.approx(model.rkhs_norm, rel=1e-6)
    small = fit_nystroem_ridge(kernel, X, y, ridge=ridge, num_centres=50, seed=1)
    assert small.num_centres == 50 and small.method == "nystroem"
    assert 0 < small.rkhs_norm < model.rkhs_norm  # restricted span: smaller norm, worse fit
    assert np.mean((small.train_predictions - y) ** 2) > np.mean((model.train_predictions - y) ** 2)
    with pytest.raises(BadInput):
        fit_kernel_ridge(kernel, X, y[:-1], ridge=ridge)


def test_parity_correlation_equals_brute_force():
    n, k = 8, 3
    kernel = TwoLayerReLUKernel(sigma_w=1.1, sigma_b=0.9)
    Z = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    exact = parity_correlation_sq_norm(kernel, n, k)
    for A in ([0, 1, 2], [1, 4, 7]):
        chi = np.prod(Z[:, A], 1)
        brute = np.mean(chi * kernel.kappa(Z.sum(1), n))
        # E_{x,x'} chi(x) chi(x') k(x,x') over all 2^n x 2^n pairs (the RKHS norm of c_A)
        pairs = chi @ kernel.kernel_matrix(Z) @ chi / 4**n
        assert exact == pytest.approx(brute, rel=1e-10)
        assert exact == pytest.approx(pairs, rel=1e-10)
    assert exact > 0
    assert energy(kernel, n) == pytest.approx(float(kernel.kappa(n, n)), rel=1e-15)
    assert energy(kernel.profile(n), n) == pytest.approx(np.mean(kernel.diag(Z)), rel=1e-12)
    # Parseval: the C(n,k) parities of every degree exhaust the energy
    total = sum(math.comb(n, j) * parity_correlation_sq_norm(kernel, n, j) for j in range(n + 1))
    assert total == pytest.approx(energy(kernel, n), rel=1e-12)


def test_bias_free_kernels_cannot_see_odd_parities():
    n = 20
    free, with_bias = TwoLayerReLUKernel(sigma_b=0.0), TwoLayerReLUKernel()
    scale = energy(free, n)
    for k in (3, 5, 7):
        # exact zero up to rounding of kappa (a few ulps of the energy)
        assert abs(parity_correlation_sq_norm(free, n, k)) < 1e-13 * scale
        assert parity_correlation_sq_norm(with_bias, n, k) > 1e-9 * energy(with_bias, n)
    for k in (1, 2, 4):
        assert parity_correlation_sq_norm(free, n, k) > 1e-9 * scale
    arc0 = ArcCosineKernel(0, bias=0.0)
    assert abs(parity_correlation_sq_norm(arc0, n, 4)) < 1e-13
    assert parity_correlation_sq_norm(ArcCosineKernel(0), n, 4) > 1e-9
    poly = PolynomialKernel(3)
    assert abs(parity_correlation_sq_norm(poly, n, 5)) < 1e-13 * energy(poly, n)


def test_bad_arguments():
    with pytest.raises(BadInput, match="did you mean"):
        TwoLayerReLUKernel("ntkk")
    with pytest.raises(BadInput):
        TwoLayerReLUKernel(sigma_b=-1.0)
    with pytest.raises(BadInput):
        ArcCosineKernel(2)
    with pytest.raises(BadInput):
        parity_correlation_sq_norm(TwoLayerReLUKernel(), 5, 6)
