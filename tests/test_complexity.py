"""The complexity calculator: leaps of the built-in targets against hand-computed values, the
greedy leap against every ordering, the uniform and p-biased spectra against a brute-force
Walsh transform over every input, the predictions, the CLI, and the grouped scaling fit."""

import itertools
import math

import numpy as np
import pytest

from paritylab.errors import BadInput
from paritylab.theory.complexity import (
    biased_spectrum,
    describe,
    leap,
    leap_bruteforce,
    leap_terms,
    parse_monomials,
    predictions,
    target_terms,
    walsh_spectrum,
)
from paritylab.theory.linear_bound import typical_support_bound
from paritylab.theory.scaling import fit_exponents, scaling_table
from tests.helpers import cli


def spectrum_of(name, k, **params):
    return walsh_spectrum(*target_terms(name, k, **params))


# ---------------------------------------------------------------- leaps by hand


@pytest.mark.parametrize(
    ("name", "k", "params", "expected"),
    [
        ("staircase", 1, {}, 1),
        ("staircase", 3, {}, 1),  # x0 + x0x1 + x0x1x2: one new coordinate each time
        ("staircase", 6, {}, 1),
        ("parity", 1, {}, 1),
        ("parity", 3, {}, 3),  # a lone k-parity: all k at once
        ("parity", 7, {}, 7),
        ("leap", 3, {"leap": 1}, 1),  # the staircase
        ("leap", 3, {"leap": 2}, 2),  # x0 + x0x1x2: 1, then 2 new
        ("leap", 3, {"leap": 3}, 3),  # the 3-parity
        ("leap", 3, {"leap": 9}, 3),  # L >= k: the parity
        ("leap", 6, {"leap": 3}, 3),  # x0x1x2 + x0..x5
        ("leap", 7, {"leap": 3}, 3),  # x0 + x0..x3 + x0..x6: 1, 3, 3
        ("leap", 8, {"leap": 2}, 2),
        ("majority", 5, {}, 1),  # every singleton has a non-zero coefficient
        ("majority", 4, {}, 1),  # even k, ties to +1: the singletons are still there
    ],
)
def test_leap_of_builtin_targets_equals_hand_computed(name, k, params, expected):
    assert leap(spectrum_of(name, k, **params)) == expected


def test_leap_terms_are_the_documented_prefixes():
    assert leap_terms(3, 1) == ((0,), (0, 1), (0, 1, 2))
    assert leap_terms(3, 2) == ((0,), (0, 1, 2))
    assert leap_terms(3, 3) == ((0, 1, 2),)
    assert leap_terms(6, 3) == ((0, 1, 2), (0, 1, 2, 3, 4, 5))
    with pytest.raises(BadInput):
        leap_terms(3, 0)


def test_leap_target_builds_the_same_monomials():
    import jax.numpy as jnp

    from paritylab.data import make_target

    t = make_target("leap", jnp.array([4, 1, 7, 2, 9, 0]), leap=3)
    assert t.terms == ((0, 1, 2), (0, 1, 2, 3, 4, 5))
    assert t.describe() == "x0*x1*x2 + x0*x1*x2*x3*x4*x5"
    assert not t.boolean
    assert make_target("leap", jnp.array([0, 1, 2]), leap=3).boolean  # the parity


def test_leap_conventions_first_monomial_constant_cancellation_and_squares():
    assert leap(walsh_spectrum([(0, 1)])) == 2  # the first monomial's coordinates are all new
    assert leap(walsh_spectrum([()])) == 0  # a constant adds nothing
    assert leap({}) == 0
    assert leap(walsh_spectrum([(), (0,)])) == 1
    # x0*x1 - x0*x1 cancels: what is left is the 3-parity
    assert leap(walsh_spectrum([(0, 1), (0, 1), (0, 1, 2)], [1.0, -1.0, 1.0])) == 3
    # x0*x0*x1 = x1 on the cube
    assert walsh_spectrum([(0, 0, 1)]) == {frozenset({1}): 1.0}
    # order of the given terms does not matter: x0x1x2x3 + x0 + x0x1 -> leap 2
    assert leap(walsh_spectrum([(0, 1, 2, 3), (0,), (0, 1)])) == 2


def test_greedy_leap_equals_the_minimum_over_every_ordering():
    rng = np.random.default_rng(0)
    for _ in range(300):
        m = int(rng.integers(1, 6))
        sets = {
            frozenset(rng.choice(7, size=int(rng.integers(1, 5)), replace=False).tolist())
            for _ in range(m)
        }
        spec = {s: 1.0 for s in sets}
        assert leap(spec) == leap_bruteforce(spec), sets


# ---------------------------------------------------------------- spectra by brute force


def brute_force_spectrum(f, n, p):
    """hat f(T) = E_{mu_p}[f(x) phi_T(x)] summed over all 2^n inputs with their weights."""
    p = np.broadcast_to(np.asarray(p, float), (n,))
    x = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)  # every point of the cube
    weights = np.prod(np.where(x == -1, p, 1 - p), axis=1)
    m = 1 - 2 * p
    s = np.sqrt(1 - m**2)
    phi = (x - m) / s
    fx = f(x)
    out = {}
    for r in range(n + 1):
        for T in itertools.combinations(range(n), r):
            value = float(np.sum(weights * fx * np.prod(phi[:, list(T)], axis=1)))
            if abs(value) > 1e-10:
                out[frozenset(T)] = value
    return out


def evaluate(terms, coefs):
    def f(x):
        return sum(c * np.prod(x[:, list(t)], axis=1) for t, c in zip(terms, coefs, strict=True))

    return f


def assert_same(a, b):
    assert set(a) == set(b), (sorted(map(sorted, a)), sorted(map(sorted, b)))
    for key in a:
        assert a[key] == pytest.approx(b[key], abs=1e-10), key


@pytest.mark.parametrize("p", [0.5, 0.1, 0.25, 0.8])
@pytest.mark.parametrize(
    ("name", "k", "params"),
    [
        ("staircase", 4, {}),
        ("parity", 3, {}),
        ("parity", 5, {}),
        ("leap", 5, {"leap": 2}),
        ("majority", 3, {}),
    ],
)
def test_spectra_match_a_brute_force_walsh_transform(name, k, params, p):
    terms, coefs = target_terms(name, k, **params)
    spec = walsh_spectrum(terms, coefs)
    n = k + 1  # one coordinate the target does not read: its coefficients must all vanish
    assert_same(biased_spectrum(spec, p, k), brute_force_spectrum(evaluate(terms, coefs), n, p))
    if p == 0.5:
        assert_same(spec, brute_force_spectrum(evaluate(terms, coefs), n, 0.5))


def test_per_coordinate_bias_and_random_monomials_match_brute_force():
    rng = np.random.default_rng(1)
    for _ in range(5):
        n = 5
        terms = [
            tuple(rng.choice(n, size=int(rng.integers(1, 4)), replace=False)) for _ in range(4)
        ]
        coefs = rng.normal(size=4).tolist()
        p = rng.uniform(0.05, 0.95, size=n)
        spec = walsh_spectrum(terms, coefs)
        assert_same(biased_spectrum(spec, p, n), brute_force_spectrum(evaluate(terms, coefs), n, p))


def test_biased_parity_has_every_subset_and_the_documented_coefficients():
    p = 0.1
    m, s = 1 - 2 * p, 2 * math.sqrt(p * (1 - p))
    spec = biased_spectrum(spectrum_of("parity", 3), p)
    assert len(spec) == 8  # every subset of the support, the empty one included
    assert spec[frozenset()] == pytest.approx(m**3)
    assert spec[frozenset({0})] == pytest.approx(m**2 * s)
    assert spec[frozenset({0, 1, 2})] == pytest.approx(s**3)
    assert leap(spec) == 1
    with pytest.raises(BadInput):
        biased_spectrum(spec, 0.0)


# ---------------------------------------------------------------- parsing and predictions


def test_parse_monomials():
    assert parse_monomials("x0 + x0*x1 + x0*x1*x2") == (((0,), (0, 1), (0, 1, 2)), (1.0,) * 3)
    assert parse_monomials("-0.5*x2*x3 + 2") == (((2, 3), ()), (-0.5, 2.0))
    assert parse_monomials("x0 - x1") == (((0,), (1,)), (1.0, -1.0))
    for bad in ("", "x0 + ", "x0 * y", "x0 ++ x1", "xa"):
        with pytest.raises(BadInput):
            parse_monomials(bad)


def test_predictions_of_a_parity_and_a_staircase():
    pred = predictions(spectrum_of("parity", 3), n=50, features=1000.0, norm=0.5)
    assert pred["leap"] == 3 and pred["sgd_sample_exponent"] == 2 and pred["csq_exponent"] == 3
    assert pred["csq_queries_over_tau2"] == math.comb(50, 3) - 1
    assert pred["linear_bound_uniform"] == typical_support_bound(
        0.5, 1000.0, 50, 3, uniform_weight=1
    )
    assert pred["linear_bound_dm"] == typical_support_bound(0.5, 1000.0, 50, 3)
    assert pred["linear_bound_uniform"] == pytest.approx(1 - 0.5 * math.sqrt(1000 / 19600))
    stair = predictions(spectrum_of("staircase", 4), n=50, features=1000.0, norm=0.5)
    assert stair["leap"] == 1 and stair["sgd_sample_exponent"] == 1
    assert stair["csq_exponent"] is None and stair["linear_bound_uniform"] is None
    assert predictions(spectrum_of("leap", 3, leap=2))["sgd_sample_exponent"] == 1


def test_describe_prints_both_spectra_and_the_leap():
    text = "\n".join(describe("x0 + x0*x1 + x0*x1*x2", p=0.1))
    assert "leap: 1" in text and "x0*x1*x2  +1" in text
    assert "phi0*phi1*phi2  +0.216" in text  # s^3 = 0.6^3
    assert "leap of the mu_p spectrum: 1" in text
    with pytest.raises(BadInput):
        describe("parity")  # a named target needs k
    with pytest.raises(BadInput):
        describe("parity", k=3, leap_param=2)  # --leap belongs to the leap family
    with pytest.raises(BadInput):
        describe("x0 + x1", k=2)  # monomials name their own positions


def test_describe_states_the_sign_sgd_and_sq_frontier_bounds_of_a_parity():
    text = "\n".join(describe("parity", k=4, n=20))
    assert "O~(n^3) samples" in text and "O~(n^4) scalar" in text  # Kou et al.: n^(k-1)
    assert "n^O(k) iterations" in text  # Barak et al.
    assert f"C(n, k) / 2 = tau^2 delta x {math.comb(20, 4) / 2:,.0f}" in text
    staircase = "\n".join(describe("staircase", k=3, n=20))
    assert "Kou" not in staircase and "Prop. 3" not in staircase  # stated for parities only


def test_cli_theory():
    res = cli("theory", "parity", "--k", "3", "--n", "20", "--dist", "biased", "--p", "0.25")
    assert res.returncode == 0, res.stderr
    assert "leap: 3" in res.stdout and f"= {math.comb(20, 3) - 1:,}" in res.stdout
    assert "about n^2 samples" in res.stdout and "phi0*phi1*phi2" in res.stdout
    res = cli("theory", "x0 + x0*x1*x2")
    assert res.returncode == 0 and "leap: 2" in res.stdout
    res = cli("theory", "x0 + y1")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    res = cli("theory", "parity", "--k", "3", "--dist", "biased")
    assert res.returncode == 2 and "--p" in res.stderr


# ---------------------------------------------------------------- grouped scaling fit


def test_fit_exponents_groups_by_any_key():
    rows = []
    for target, slope in (("staircase", 1.0), ("parity", 2.0)):
        for n in (10, 20, 40):
            for seed in range(3):
                rows.append({"n": n, "target": target, "seed": seed, "t_c": 5.0 * n**slope})
    fits = {f["target"]: f for f in fit_exponents(rows, by="target", n_boot=50)}
    assert fits["staircase"]["exponent"] == pytest.approx(1.0)
    assert fits["parity"]["exponent"] == pytest.approx(2.0)
    assert fits["parity"]["alpha"] is None
    table = scaling_table(rows, by="target")
    assert {r["target"] for r in table} == {"staircase", "parity"} and len(table) == 6
    # the default still groups by k, alpha = beta / k
    by_k = fit_exponents([dict(r, k=3) for r in rows if r["target"] == "parity"], n_boot=10)
    assert by_k[0]["k"] == 3 and by_k[0]["alpha"] == pytest.approx(2 / 3)
