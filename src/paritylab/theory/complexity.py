"""Complexity of a target given as monomials: its Walsh spectrum (uniform and p-biased), its
leap, and the predictions stated for it in the literature. Exact and pure numpy.

Targets are sums of monomials over positions 0..k-1 of a support (``Monomials.terms`` and
``Monomials.coefs``); the support itself does not matter for anything computed here.

Walsh spectrum under the uniform distribution. On {-1,+1}^k, x_i^2 = 1, so a monomial that
repeats a position is the monomial of the positions that occur an odd number of times. The
spectrum is the sum of the coefficients of equal monomials, zeros dropped: the coefficients
hat f(S) = E_U[f(x) chi_S(x)] of the orthonormal basis chi_S(x) = prod_{i in S} x_i.

Spectrum under mu_p (P(x_i = -1) = p_i independently, 0 < p_i < 1). The orthonormal basis of
L^2(mu_p) is phi_S(x) = prod_{i in S} (x_i - m_i) / s_i with m_i = E x_i = 1 - 2 p_i and
s_i = sqrt(1 - m_i^2) = 2 sqrt(p_i (1 - p_i)). Writing x_i = m_i + s_i phi_i,

    prod_{i in S} x_i = sum_{T subset S} (prod_{i in S \\ T} m_i) (prod_{i in T} s_i) phi_T,

so hat f_p(T) = sum_{S superset T} hat f(S) prod_{i in S \\ T} m_i prod_{i in T} s_i, exactly
(2^|S| terms per monomial: fine for the degrees of these targets).

Leap (Abbe, Boix-Adsera, Misiakiewicz, "SGD learning on neural networks: leap complexity and
saddle-to-saddle dynamics", COLT 2023, https://arxiv.org/abs/2302.11055, their definition for
the Boolean cube). With S_1, ..., S_m the sets of the non-zero Walsh coefficients,

    Leap(f) = min over orderings pi of max_i | S_pi(i) \\ (S_pi(1) u ... u S_pi(i-1)) |,

the union before the first set being empty: the first monomial's coordinates all count as new.
The constant monomial adds no coordinate; the leap of a constant is 0. Examples: the staircase
x0 + x0 x1 + x0 x1 x2 has leap 1, a lone k-parity leap k, x0 x1 x2 + x0 ... x5 leap 3.

Computing it: for a threshold L, adding a set to the union never makes another set harder to
add, so "some ordering keeps every step <= L" holds iff the greedy procedure "repeatedly add
any set with <= L new coordinates" adds them all. The leap is the smallest L for which it does
(L = 0, 1, ..., the degree), so the minimum over all m! orderings is found exactly in
O(degree m^2) set operations; ``leap_bruteforce`` checks it against the orderings themselves.

Predictions (``predictions``), each stated only where it is precise, with its source:

* ``sgd_sample_exponent`` = max(Leap - 1, 1): the conjecture of Abbe et al. (2023) that online
  SGD on uniform inputs needs about d^max(Leap-1, 1) samples (their total time d^max(Leap, 2)
  counts d operations per sample). A conjecture, proved there for a class of targets on
  Gaussian data; here it is the slope drawn next to the measured t_c.
* ``csq_exponent`` = k for a single k-parity on uniform inputs: the C(n, k) k-parities are
  orthonormal, so a correlational query h with E h^2 <= 1 has correlation > tau with at most
  1/tau^2 of them (Bessel's inequality); an adversary answering 0 rules out at most q/tau^2
  parities with q queries, so identifying the support needs q / tau^2 >= C(n, k) - 1 ~ n^k / k!.
  (The statistical-query dimension of k-parities is C(n, k): Blum, Furst, Jackson, Kearns,
  Mansour, Rudich, STOC 1994.) Not stated for other targets or other distributions.
* ``linear_bound``: the typical-support bound for linear methods (Daniely and Malach,
  NeurIPS 2020, https://arxiv.org/abs/2002.07400; ``theory.typical_support_bound``) for a single
  k-parity on uniform inputs: features Psi: {-1,+1}^n -> [-1, 1]^N and output weights of norm
  <= B have, averaged over the C(n, k) supports, hinge loss >= 1 - B sqrt(N / C(n, k)) on
  uniform inputs (half of that on D_A, whose other half is the easy part).
* No step-count upper bound for a parity (Barak et al. 2022 prove one only for a particular
  sign-activation architecture and batch size) is stated: the measured t_c is compared with
  the exponents above.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence

import numpy as np

from paritylab.errors import BadInput

Spectrum = dict[frozenset, float]

# Coefficients whose magnitude is below this (relative to the largest) count as zero: exact
# cancellations in floating point leave ~1e-16.
_TOL = 1e-12


def walsh_spectrum(
    terms: Iterable[Sequence[int]], coefs: Sequence[float] | None = None
) -> Spectrum:
    """The uniform Walsh spectrum of sum_j coefs[j] prod_{i in terms[j]} x_i.

    Args:
        terms: monomials as sequences of positions (a position may repeat: x_i^2 = 1).
        coefs: one coefficient per term (default all 1).

    Returns:
        {frozenset of positions: coefficient}, only non-zero coefficients.
    """
    terms = [tuple(int(i) for i in t) for t in terms]
    coefs = [1.0] * len(terms) if coefs is None or len(coefs) == 0 else [float(c) for c in coefs]
    if len(coefs) != len(terms):
        raise BadInput(f"{len(coefs)} coefficients for {len(terms)} terms: allowed one each")
    if any(i < 0 for t in terms for i in t):
        raise BadInput(f"terms={terms!r}: positions must be >= 0")
    out: Spectrum = {}
    for term, c in zip(terms, coefs, strict=True):
        odd = frozenset(i for i in set(term) if term.count(i) % 2 == 1)
        out[odd] = out.get(odd, 0.0) + c
    return _drop_zeros(out)


def _drop_zeros(spec: Spectrum) -> Spectrum:
    scale = max((abs(v) for v in spec.values()), default=0.0)
    return {s: v for s, v in spec.items() if abs(v) > _TOL * max(scale, 1.0)}


def biased_spectrum(spectrum: Spectrum, p, k: int | None = None) -> Spectrum:
    """The spectrum in the orthonormal basis of mu_p (module docstring), exactly.

    Args:
        spectrum: a uniform Walsh spectrum (``walsh_spectrum``).
        p: P(x_i = -1): a scalar, or one value per position 0..k-1; each in (0, 1).
        k: number of positions (needed for per-position p; default: 1 + the largest position).

    Returns:
        {frozenset T: hat f_p(T)}, only non-zero coefficients.
    """
    positions = sorted({i for s in spectrum for i in s})
    k = (positions[-1] + 1 if positions else 0) if k is None else k
    p = np.broadcast_to(np.asarray(p, np.float64), (max(k, 1),))
    if p.size and not np.all((p > 0) & (p < 1)):
        raise BadInput(f"p={p.tolist()!r}: allowed 0 < p < 1 (mu_p is a point mass at 0 or 1)")
    m = 1.0 - 2.0 * p
    s = np.sqrt(1.0 - m**2)
    out: Spectrum = {}
    for S, c in spectrum.items():
        members = sorted(S)
        for r in range(len(members) + 1):
            for T in itertools.combinations(members, r):
                rest = [i for i in members if i not in T]
                value = c * float(np.prod(m[rest])) * float(np.prod(s[list(T)]))
                key = frozenset(T)
                out[key] = out.get(key, 0.0) + value
    return _drop_zeros(out)


def leap(spectrum: Spectrum) -> int:
    """Leap(f): the smallest L such that some ordering of the spectrum's sets adds at most L new
    coordinates at every step (the first set's coordinates all new); 0 for a constant.

    Exact: greedy feasibility per L (module docstring).

    Args:
        spectrum: {frozenset: coefficient} (the keys are what counts).

    Returns:
        the leap.
    """
    sets = [frozenset(s) for s in spectrum if s]
    for L in range(max((len(s) for s in sets), default=0) + 1):
        if _feasible(sets, L):
            return L
    raise AssertionError("unreachable: L = the degree is always feasible")


def _feasible(sets: list[frozenset], L: int) -> bool:
    covered: set = set()
    left = list(sets)
    while left:
        nxt = next((s for s in left if len(s - covered) <= L), None)
        if nxt is None:
            return False
        covered |= nxt
        left.remove(nxt)
    return True


def leap_bruteforce(spectrum: Spectrum) -> int:
    """The leap by enumerating every ordering (m! of them: a check for small m)."""
    sets = [frozenset(s) for s in spectrum if s]
    best = None
    for order in itertools.permutations(sets):
        covered: set = set()
        worst = 0
        for s in order:
            worst = max(worst, len(s - covered))
            covered |= s
        best = worst if best is None else min(best, worst)
    return best or 0


def leap_terms(k: int, L: int) -> tuple[tuple[int, ...], ...]:
    """Monomials of the leap-L family on k positions: the prefixes x_0 ... x_{j-1} for
    j = k, k - L, k - 2L, ... >= 1, shortest first. Leap = min(L, k): the first prefix has
    between 1 and L positions, each later one adds L. L = 1 is the staircase, L >= k the parity.

    Args:
        k: support size.
        L: the leap, >= 1.

    Returns:
        the terms.
    """
    if k < 1 or L < 1:
        raise BadInput(f"k={k}, leap={L}: allowed k >= 1 and leap >= 1")
    return tuple(tuple(range(j)) for j in sorted(range(k, 0, -L)))


def target_terms(name: str, k: int, **params) -> tuple[tuple, tuple]:
    """(terms, coefs) of a named target family on k positions.

    Args:
        name: parity | staircase | leap (with ``leap``) | monomials (with ``terms``, ``coefs``)
            | majority (odd or even k; expanded exactly by enumerating its 2^k inputs).
        k: support size.
        **params: the family's parameters.

    Returns:
        (terms, coefs).
    """
    if name == "parity":
        return (tuple(range(k)),), (1.0,)
    if name == "staircase":
        return tuple(tuple(range(j + 1)) for j in range(k)), (1.0,) * k
    if name == "leap":
        terms = leap_terms(k, int(params.get("leap", 1)))
        return terms, (1.0,) * len(terms)
    if name == "monomials":
        terms = tuple(tuple(t) for t in params["terms"])
        return terms, tuple(params.get("coefs") or (1.0,) * len(terms))
    if name == "majority":
        if k > 20:
            raise BadInput(f"k={k}: majority is expanded over its 2^k inputs; allowed k <= 20")
        spec = _majority_spectrum(k)
        return tuple(tuple(sorted(s)) for s in spec), tuple(spec.values())
    raise BadInput(
        f"target={name!r} has no monomial expansion here; allowed: parity, staircase, leap, "
        "monomials, majority"
    )


def _majority_spectrum(k: int) -> Spectrum:
    x = 1 - 2 * ((np.arange(2**k)[:, None] >> np.arange(k)) & 1)
    f = np.where(x.sum(axis=1) >= 0, 1.0, -1.0)
    out: Spectrum = {}
    for r in range(k + 1):
        for S in itertools.combinations(range(k), r):
            out[frozenset(S)] = float(np.mean(f * np.prod(x[:, list(S)], axis=1)))
    return _drop_zeros(out)


_VAR = re.compile(r"^x(\d+)$")


def parse_monomials(text: str) -> tuple[tuple, tuple]:
    """Parse ``"x0 + x0*x1 - 0.5*x0*x1*x2"`` into (terms, coefs).

    Grammar: terms joined by ``+`` or ``-``; a term is an optional number followed by
    variables ``x<position>``, all joined by ``*``. A bare number is a constant term.

    Args:
        text: the target.

    Returns:
        (terms, coefs), positions as written.
    """
    source = text
    text = text.replace(" ", "")
    if not text:
        raise BadInput("the target is empty: write it like 'x0 + x0*x1 + x0*x1*x2'")
    if text[0] not in "+-":
        text = "+" + text
    pieces = re.findall(r"([+-])([^+-]*)", text)
    if "".join(sign + body for sign, body in pieces) != text:
        raise BadInput(f"cannot read the target {source!r}: write it like 'x0 + 0.5*x0*x1'")
    terms, coefs = [], []
    for sign, body in pieces:
        if not body:
            raise BadInput(f"cannot read the target {source!r}: an empty term near {sign!r}")
        coef, positions = 1.0 if sign == "+" else -1.0, []
        for factor in body.split("*"):
            var = _VAR.match(factor)
            if var:
                positions.append(int(var.group(1)))
                continue
            try:
                coef *= float(factor)
            except ValueError:
                raise BadInput(
                    f"cannot read {factor!r} in the target {source!r}: a factor is a number or "
                    "x<position> such as x0, x12"
                ) from None
            if not math.isfinite(coef):
                raise BadInput(f"the coefficient {factor!r} in {source!r} is not finite")
        terms.append(tuple(positions))
        coefs.append(coef)
    return tuple(terms), tuple(coefs)


def format_monomial(S) -> str:
    """``x0*x2`` for {0, 2}; ``1`` for the empty set."""
    return "*".join(f"x{i}" for i in sorted(S)) or "1"


def format_phi(S) -> str:
    """``phi0*phi2`` for {0, 2}; ``1`` for the empty set."""
    return "*".join(f"phi{i}" for i in sorted(S)) or "1"


def sgd_sample_exponent(leap_value: int) -> int | None:
    """max(Leap - 1, 1): the exponent of d in the samples online SGD needs on uniform inputs
    (conjecture of Abbe et al. 2023); None for a constant (leap 0)."""
    return None if leap_value < 1 else max(leap_value - 1, 1)


def predictions(
    spectrum: Spectrum,
    *,
    n: int | None = None,
    features: float | None = None,
    norm: float | None = None,
) -> dict:
    """The stated predictions for a target on uniform inputs (module docstring).

    Args:
        spectrum: its uniform Walsh spectrum.
        n: the input dimension (for the CSQ count and the linear bound).
        features: N, the number of features in [-1, 1] of a linear method (its energy
            E||Psi||^2 <= N).
        norm: B, the bound on the linear method's output-weight norm.

    Returns:
        dict with ``leap``, ``degree``, ``parity`` (the degree when f is a single monomial, else
        None), ``sgd_sample_exponent``, ``csq_exponent`` and, when n is given for a parity,
        ``csq_queries_over_tau2`` (C(n, k) - 1) and, with ``features`` and ``norm``,
        ``linear_bound_uniform`` and ``linear_bound_dm``.
    """
    from paritylab.theory.linear_bound import typical_support_bound

    L = leap(spectrum)
    nonconst = [s for s in spectrum if s]
    degree = max((len(s) for s in nonconst), default=0)
    parity = degree if len(spectrum) == 1 and len(nonconst) == 1 else None
    out = {
        "leap": L,
        "degree": degree,
        "parity": parity,
        "sgd_sample_exponent": sgd_sample_exponent(L),
        "csq_exponent": parity,
        "csq_queries_over_tau2": None,
        "linear_bound_uniform": None,
        "linear_bound_dm": None,
    }
    if parity is not None and n is not None:
        if parity > n:
            raise BadInput(f"n={n} is smaller than the parity's degree {parity}")
        out["csq_queries_over_tau2"] = math.comb(n, parity) - 1
        if features is not None and norm is not None:
            out["linear_bound_uniform"] = typical_support_bound(
                norm, features, n, parity, uniform_weight=1.0
            )
            out["linear_bound_dm"] = typical_support_bound(norm, features, n, parity)
    return out


def resolve_target(target: str, *, k: int | None = None, leap_param: int | None = None):
    """(terms, coefs, label) of a target given by name (with k) or written as monomials.

    Args:
        target: parity | staircase | leap | majority (these need ``k``), or a sum of monomials
            such as ``"x0 + x0*x1 + x0*x1*x2"``.
        k: support size of a named family.
        leap_param: L of the leap family.

    Returns:
        (terms, coefs, a one-line label).
    """
    names = ("parity", "staircase", "leap", "majority")
    if target.strip() in names:
        name = target.strip()
        if k is None or k < 1:
            raise BadInput(f"target {name!r} needs --k (its support size, >= 1)")
        if leap_param is not None and name != "leap":
            raise BadInput(f"--leap belongs to the named target 'leap', not {name!r}")
        params = {"leap": leap_param or 1} if name == "leap" else {}
        terms, coefs = target_terms(name, k, **params)
        label = f"{name} (k={k}" + (f", leap={leap_param or 1})" if name == "leap" else ")")
        return terms, coefs, label
    if leap_param is not None or k is not None:
        raise BadInput(
            "--k and --leap belong to a named target (parity, staircase, leap, majority); a "
            "target written as monomials names its positions itself"
        )
    terms, coefs = parse_monomials(target)
    return terms, coefs, target.strip()


def _count(m: int) -> str:
    return f"{m} non-zero coefficient" + ("" if m == 1 else "s")


def _coef(v: float) -> str:
    return f"{v:+.6g}"


def describe(
    target: str,
    *,
    k: int | None = None,
    leap_param: int | None = None,
    p: float | None = None,
    n: int | None = None,
    features: float | None = None,
    norm: float | None = None,
    max_rows: int = 64,
) -> list[str]:
    """The lines ``paritylab theory`` prints: spectra, leap and the stated predictions.

    Args:
        target: a named family (with ``k``) or monomials (``resolve_target``).
        k: support size of a named family.
        leap_param: L of the leap family.
        p: P(x_i = -1) of mu_p for the biased spectrum (None: uniform only).
        n: input dimension (CSQ count and linear bound of a parity).
        features: N of the linear bound.
        norm: B of the linear bound.
        max_rows: spectrum rows printed before eliding the smallest.

    Returns:
        lines of text.
    """
    terms, coefs, label = resolve_target(target, k=k, leap_param=leap_param)
    spec = walsh_spectrum(terms, coefs)
    pred = predictions(spec, n=n, features=features, norm=norm)
    lines = [f"target: {label}"]
    lines += [
        f"Walsh spectrum under the uniform distribution ({_count(len(spec))}, basis chi_S = "
        "prod_{i in S} x_i):"
    ]
    lines += _rows(spec, format_monomial, max_rows)
    lines.append(
        f"leap: {pred['leap']} (Abbe, Boix-Adsera, Misiakiewicz 2023: the min over orderings of "
        "the monomials of the max number of new coordinates, the first monomial's all new)"
    )
    if pred["sgd_sample_exponent"] is not None:
        lines.append(
            f"online SGD, uniform inputs: about n^{pred['sgd_sample_exponent']} samples "
            "(conjecture of Abbe et al. 2023: n^max(Leap-1, 1), up to log factors; "
            "https://arxiv.org/abs/2302.11055)"
        )
    if pred["csq_exponent"] is not None:
        text = f"CSQ lower bound (single {pred['csq_exponent']}-parity): q / tau^2 >= C(n, k) - 1"
        if pred["csq_queries_over_tau2"] is not None:
            text += f" = {pred['csq_queries_over_tau2']:,}"
        lines.append(
            text + f", exponent {pred['csq_exponent']} in n (Bessel's inequality over "
            "the C(n, k) orthonormal parities)"
        )
        if pred["linear_bound_uniform"] is not None:
            lines.append(
                f"linear methods, N={features:g} features in [-1, 1], ||v|| <= B={norm:g}: "
                f"typical-support hinge loss >= {pred['linear_bound_uniform']:.6f} on uniform "
                f"inputs, >= {pred['linear_bound_dm']:.6f} on D_A (Daniely and Malach 2020)"
            )
        elif n is not None:
            lines.append("linear-method bound: give --features N and --norm B")
    else:
        lines.append(
            "CSQ lower bound and linear-method bound: stated here for a single parity only"
        )
    if pred["parity"] is not None:
        k_ = pred["parity"]
        lines.append(
            f"sign SGD, uniform inputs (Kou et al. 2024, https://arxiv.org/abs/2404.12376): "
            f"O~(n^{max(k_ - 1, 1)}) samples with 2^Theta(k) neurons, i.e. O~(n^{k_}) scalar "
            "gradient queries, the CSQ exponent (up to log factors and constants they do not fix)"
        )
        lines.append(
            "SGD, uniform inputs (Barak et al. 2022, https://arxiv.org/abs/2207.08799): "
            "n^O(k) iterations, proved for large-batch SGD on a 2^Theta(k)-wide net and "
            "measured as t_c ~ n^(alpha k) with a fitted alpha (the constant is not fixed)"
        )
        if n is not None:
            lines.append(
                "SQ frontier (Edelman et al. 2023, Prop. 3, https://arxiv.org/abs/2309.03800): "
                "a method with r gradient coordinates of noise tau fails for some support while "
                f"r T <= tau^2 delta C(n, k) / 2 = tau^2 delta x {math.comb(n, k_) / 2:,.0f}"
            )
    lines.append(
        "not stated: step-count upper bounds for the network and loop of this package (the "
        "bounds above are for their papers' algorithms)"
    )
    if p is not None:
        m = 1.0 - 2.0 * p
        biased = biased_spectrum(spec, p, max((i for t in spec for i in t), default=-1) + 1)
        lines.append(
            f"spectrum under mu_p, P(x_i = -1) = {p:g} ({_count(len(biased))}, "
            f"basis phi_i = (x_i - m) / s with m = {m:.6g}, s = {math.sqrt(1 - m * m):.6g}):"
        )
        lines += _rows(biased, format_phi, max_rows)
        lines.append(
            f"leap of the mu_p spectrum: {leap(biased)} (a property of the expansion; the "
            "conjecture above is stated for uniform inputs only)"
        )
    return lines


def _rows(spec: Spectrum, fmt, max_rows: int) -> list[str]:
    items = sorted(spec.items(), key=lambda kv: (len(kv[0]), sorted(kv[0])))
    if len(items) > max_rows:
        keep = sorted(items, key=lambda kv: -abs(kv[1]))[:max_rows]
        keep_set = {s for s, _ in keep}
        rest = len(items) - max_rows
        items = [kv for kv in items if kv[0] in keep_set]
    else:
        rest = 0
    width = max((len(fmt(s)) for s, _ in items), default=1)
    out = [f"  {fmt(s):<{width}}  {_coef(v)}" for s, v in items]
    if rest:
        out.append(f"  ... {rest} smaller coefficients not shown")
    return out


__all__ = [
    "biased_spectrum",
    "describe",
    "format_monomial",
    "format_phi",
    "leap",
    "leap_bruteforce",
    "leap_terms",
    "parse_monomials",
    "predictions",
    "resolve_target",
    "sgd_sample_exponent",
    "target_terms",
    "walsh_spectrum",
]
