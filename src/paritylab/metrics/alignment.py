"""Alignment between a network at initialisation and a parity target: does the initial network
already correlate with chi_A?

Abbe, Cornacchia, Hazla, Marquis, "An initial alignment between neural network and target is
needed for gradient descent to learn", ICML 2022, https://arxiv.org/abs/2202.12846: if the
*initial alignment* (INAL) between the target and every neuron of the net at initialisation is
negligible (smaller than any inverse polynomial in n), noisy gradient descent of polynomial
length does not learn. Their INAL is the largest, over neurons v, expected squared correlation
E_{theta_0}[ E_x[f(x) sigma_v(x)]^2 ] with the expectation over the initialisation.

Here, for one drawn two-layer net g(x) = sum_i u_i relu(<w_i, x> + b_i) and the parity
chi_A(x) = prod_{j in A} x_j on uniform x in {-1,+1}^n (E chi_A^2 = 1), per unit i

    c_i = E_x[chi_A(x) rho_i(x)] / sqrt(E_x[rho_i(x)^2]),     rho_i(x) = relu(<w_i, x> + b_i)

(c_i = 0 for a unit that is never active), the cosine between the unit's output and the
target, and

    INAL = max_i c_i^2.

Normalising by E[rho_i^2] makes the number independent of the weights' scale (a deviation
from the paper's un-normalised definition, chosen so that families of different scales
compare); averaging INAL over seeds estimates the expectation over the initialisation.

A second, gradient measure: the population gradient at initialisation of the correlation
loss L(theta) = -E_x[chi_A(x) g(x)] (the hinge loss's gradient while every margin is below 1,
as at a small initialisation) with respect to W,

    G_ij = -u_i E_x[chi_A(x) 1{<w_i, x> + b_i > 0} x_j],

summarised by its root-mean-square entry on the support, on = ||G_{:,A}||_F / sqrt(q k), and
off it, off = ||G_{:,not A}||_F / sqrt(q (n - k)) (None when A = [n]).

Exact by enumeration of the 2^n inputs for n <= ``EXACT_MAX_N`` (16); otherwise a Monte Carlo
estimate over ``samples`` uniform inputs with its standard error (the delta method for the
ratio c_i; for INAL, 2 |c_i*| se(c_i*) at the maximising unit i*).
"""

from __future__ import annotations

import jax
import numpy as np

from paritylab.data import all_points

EXACT_MAX_N = 16


def cube(n: int) -> np.ndarray:
    """All 2^n points of {-1,+1}^n (``paritylab.data.all_points``; n <= ``EXACT_MAX_N`` here).

    Args:
        n: dimension.

    Returns:
        the (2^n, n) float64 array.
    """
    return all_points(n)


def _inputs(n: int, samples: int | None, key) -> tuple[np.ndarray, bool]:
    if samples is None and n <= EXACT_MAX_N:
        return cube(n), True
    m = 65536 if samples is None else int(samples)
    key = jax.random.PRNGKey(0) if key is None else key
    x = np.asarray(jax.random.rademacher(key, (m, n)), np.float64)
    return x, False


def unit_correlations(
    params: dict, support, *, samples: int | None = None, key=None, chunk: int = 8192
) -> dict:
    """c_i = E[chi_A rho_i] / sqrt(E[rho_i^2]) for every unit, with standard errors.

    Args:
        params: mlp parameters {"W" (q, n), "b" (q,), ...}.
        support: the coordinates of A.
        samples: None = exact for n <= 16 (else 65,536 samples); an integer forces Monte Carlo
            with that many uniform inputs.
        key: key of the Monte Carlo inputs (default PRNGKey(0)).
        chunk: inputs per block (memory).

    Returns:
        {"c": (q,) correlations, "se": (q,) standard errors (0 when exact), "exact": bool,
        "samples": inputs used}.
    """
    w = np.asarray(params["W"], np.float64)
    b = np.asarray(params["b"], np.float64)
    n = w.shape[1]
    support = np.asarray(support, int)
    x, exact = _inputs(n, samples, key)
    m = x.shape[0]
    s1 = np.zeros(w.shape[0])  # sum chi * rho
    s2 = np.zeros(w.shape[0])  # sum rho^2
    s12 = np.zeros(w.shape[0])  # sum chi rho * rho^2
    s22 = np.zeros(w.shape[0])  # sum rho^4
    for start in range(0, m, chunk):
        xs = x[start : start + chunk]
        rho = np.maximum(xs @ w.T + b, 0.0)
        chi = np.prod(xs[:, support], axis=1)[:, None]
        a, r2 = chi * rho, rho**2
        s1 += a.sum(0)
        s2 += r2.sum(0)
        s12 += (a * r2).sum(0)
        s22 += (r2**2).sum(0)
    mu1, mu2 = s1 / m, s2 / m
    active = mu2 > 0
    safe = np.where(active, mu2, 1.0)
    c = np.where(active, mu1 / np.sqrt(safe), 0.0)
    se = np.zeros_like(c)
    if not exact:
        # Delta method for c = mu1 / sqrt(mu2): gradient (1/sqrt(mu2), -mu1 / (2 mu2^1.5)).
        v11 = mu2 - mu1**2  # (chi rho)^2 = rho^2
        v12 = s12 / m - mu1 * mu2
        v22 = s22 / m - mu2**2
        g1, g2 = 1.0 / np.sqrt(safe), -mu1 / (2.0 * safe**1.5)
        var = (g1**2 * v11 + 2 * g1 * g2 * v12 + g2**2 * v22) / m
        se = np.where(active, np.sqrt(np.maximum(var, 0.0)), 0.0)
    return {"c": c, "se": se, "exact": exact, "samples": m}


def initial_alignment(params: dict, support, *, samples: int | None = None, key=None) -> dict:
    """INAL = max_i c_i^2 (module docstring) with its standard error.

    Args:
        params: mlp parameters.
        support: the coordinates of A.
        samples: None = exact for n <= 16; an integer forces Monte Carlo.
        key: key of the Monte Carlo inputs.

    Returns:
        {"inal", "se" (0 when exact), "unit" (the maximising unit), "mean_c2" (mean of c_i^2
        over units), "exact", "samples"}.
    """
    out = unit_correlations(params, support, samples=samples, key=key)
    c, se = out["c"], out["se"]
    i = int(np.argmax(c**2))
    return {
        "inal": float(c[i] ** 2),
        "se": float(2.0 * abs(c[i]) * se[i]),
        "unit": i,
        "mean_c2": float(np.mean(c**2)),
        "exact": out["exact"],
        "samples": out["samples"],
    }


def gradient_alignment(
    params: dict, support, *, samples: int | None = None, key=None, chunk: int = 8192
) -> dict:
    """RMS entry of the population gradient G (module docstring) on and off the support.

    Args:
        params: mlp parameters {"W", "b", "u"}.
        support: the coordinates of A.
        samples: None = exact for n <= 16; an integer forces Monte Carlo.
        key: key of the Monte Carlo inputs.
        chunk: inputs per block.

    Returns:
        {"on": RMS on A, "off": RMS off A (None when A is every coordinate), "ratio": on/off
        (None when off is None or 0), "exact", "samples"}.
    """
    w = np.asarray(params["W"], np.float64)
    b = np.asarray(params["b"], np.float64)
    u = np.asarray(params["u"], np.float64)
    q, n = w.shape
    support = np.asarray(support, int)
    x, exact = _inputs(n, samples, key)
    m = x.shape[0]
    acc = np.zeros((q, n))
    for start in range(0, m, chunk):
        xs = x[start : start + chunk]
        on = (xs @ w.T + b > 0).astype(np.float64)
        chi = np.prod(xs[:, support], axis=1)
        acc += (on * chi[:, None]).T @ xs
    g = -u[:, None] * acc / m
    mask = np.zeros(n, bool)
    mask[support] = True
    on_rms = float(np.sqrt(np.mean(g[:, mask] ** 2)))
    off_rms = float(np.sqrt(np.mean(g[:, ~mask] ** 2))) if (~mask).any() else None
    ratio = on_rms / off_rms if off_rms else None
    return {"on": on_rms, "off": off_rms, "ratio": ratio, "exact": exact, "samples": m}


__all__ = [
    "EXACT_MAX_N",
    "cube",
    "gradient_alignment",
    "initial_alignment",
    "unit_correlations",
]
