"""Targets: functions f: {-1,+1}^n -> R that label the inputs.

Every target here is multilinear in x or a threshold of a multilinear form, defined relative to
a *support* A = (a_0, ..., a_{k-1}) of k coordinates that is usually drawn at random per seed.
Targets are frozen dataclasses registered as JAX pytrees: the support is a traced leaf (so one
compiled training loop serves every seed, whatever its support), while the shape of the target
(its monomials, its coefficients) is static.

* ``Monomials``: f(x) = sum_j c_j prod_{i in S_j} x_{a_i}, each S_j a tuple of positions into
  the support. This one class covers
  - the k-sparse parity chi_A(x) = prod_{i in A} x_i (one monomial, S = (0, ..., k-1));
  - the full parity (A = [n]);
  - the staircase x_{a_0} + x_{a_0} x_{a_1} + ... + x_{a_0} ... x_{a_{k-1}};
  - leap functions such as x_{a_0} x_{a_1} x_{a_2} + x_{a_0} ... x_{a_5} (Abbe,
    Boix-Adsera, Misiakiewicz, "SGD learning on neural networks: leap complexity and
    saddle-to-saddle dynamics", COLT 2023, https://arxiv.org/abs/2302.11055); the family
    ``leap`` with parameter L builds the prefixes x_{a_0} ... x_{a_{j-1}} for j = k, k - L,
    k - 2L, ... >= 1, whose leap is min(L, k) (L = 1: the staircase; L >= k: the parity).
    ``paritylab.theory.complexity`` computes the leap and the spectra of any of them.
* ``Majority``: f(x) = sign(sum_{i in A} x_i), ties (even k) broken towards +1.

``make_target(name, support, **params)`` builds a registered target family by name;
``register_target`` adds a family (see the "add a target" guide).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.errors import BadInput, suggest


def parity(x: jax.Array, support) -> jax.Array:
    """chi_A(x) = prod_{i in A} x_i for x in {-1,+1}^n.

    Args:
        x: inputs of shape (..., n) with entries in {-1, +1}.
        support: the 0-based coordinates A (a sequence or an integer array).

    Returns:
        array of shape (...,) with entries in {-1, +1}.
    """
    return jnp.prod(x[..., jnp.asarray(support)], axis=-1)


def check_support(n: int, k: int) -> None:
    """Raise BadInput unless 1 <= k <= n.

    Args:
        n: input dimension.
        k: support size.
    """
    if n < 1:
        raise BadInput(f"n={n} is out of range: allowed n >= 1")
    if not 1 <= k <= n:
        raise BadInput(f"k={k} is out of range: allowed 1 <= k <= n (n={n})")


def draw_support(key: jax.Array, n: int, k: int) -> np.ndarray:
    """A uniformly random support A of size k in {0, ..., n-1}.

    Args:
        key: JAX random key.
        n: input dimension.
        k: support size, 1 <= k <= n.

    Returns:
        sorted numpy int array of shape (k,).
    """
    check_support(n, k)
    return np.sort(np.asarray(jax.random.choice(key, n, (k,), replace=False)))


def _pytree(data: tuple[str, ...], meta: tuple[str, ...]):
    def wrap(cls):
        return jax.tree_util.register_dataclass(cls, data_fields=list(data), meta_fields=list(meta))

    return wrap


@_pytree(("support",), ("terms", "coefs"))
@dataclass(frozen=True)
class Monomials:
    """f(x) = sum_j coefs[j] prod_{i in terms[j]} x[support[i]].

    Attributes:
        support: int array (k,): the coordinates a_0..a_{k-1} the monomials refer to.
        terms: tuple of tuples of positions into ``support`` (static).
        coefs: one float coefficient per term (static).
    """

    support: jax.Array
    terms: tuple[tuple[int, ...], ...]
    coefs: tuple[float, ...]

    def __call__(self, x: jax.Array) -> jax.Array:
        """f(x) for inputs of shape (..., n); float32 of shape (...,)."""
        total = None
        for term, c in zip(self.terms, self.coefs, strict=True):
            value = jnp.prod(x[..., self.support[jnp.asarray(term, jnp.int32)]], axis=-1)
            value = value if c == 1.0 else c * value
            total = value if total is None else total + value
        return total

    @property
    def degree(self) -> int:
        """The largest monomial degree."""
        return max(len(t) for t in self.terms)

    @property
    def boolean(self) -> bool:
        """True when f takes values in {-1, +1} (a single monomial with coefficient +-1)."""
        return len(self.terms) == 1 and abs(self.coefs[0]) == 1.0

    def describe(self) -> str:
        """The target written out in terms of x_{a_i}, e.g. ``x0 + x0*x1``."""
        parts = []
        for term, c in zip(self.terms, self.coefs, strict=True):
            mono = "*".join(f"x{i}" for i in term)
            parts.append(mono if c == 1.0 else f"{c:g}*{mono}")
        return " + ".join(parts)


@_pytree(("support",), ())
@dataclass(frozen=True)
class Majority:
    """f(x) = sign(sum_{i in A} x_i), with sign(0) = +1 (only for even k).

    Attributes:
        support: int array (k,) of coordinates.
    """

    support: jax.Array

    def __call__(self, x: jax.Array) -> jax.Array:
        """f(x) for inputs of shape (..., n); values in {-1, +1}."""
        s = jnp.sum(x[..., self.support], axis=-1)
        return jnp.where(s >= 0, 1.0, -1.0).astype(jnp.float32)

    @property
    def degree(self) -> int:
        """k, the number of coordinates majority reads (its Fourier degree for odd k)."""
        return int(self.support.shape[0])

    boolean = True

    def describe(self) -> str:
        """``maj(x0..x{k-1})``."""
        return f"maj(x0..x{self.degree - 1})"


def parity_target(support) -> Monomials:
    """The k-sparse parity chi_A as a one-monomial target.

    Args:
        support: the k coordinates A.

    Returns:
        ``Monomials`` with the single term (0, ..., k-1) and coefficient 1.
    """
    support = jnp.asarray(support, jnp.int32)
    return Monomials(support, (tuple(range(int(support.shape[0]))),), (1.0,))


def staircase_target(support) -> Monomials:
    """The staircase x_{a_0} + x_{a_0} x_{a_1} + ... + x_{a_0} ... x_{a_{k-1}}.

    Args:
        support: the k coordinates, in staircase order.

    Returns:
        ``Monomials`` with k terms, each coefficient 1.
    """
    support = jnp.asarray(support, jnp.int32)
    k = int(support.shape[0])
    return Monomials(support, tuple(tuple(range(j + 1)) for j in range(k)), (1.0,) * k)


def monomials_target(support, *, terms, coefs=None) -> Monomials:
    """Any sum of monomials over positions of the support.

    Args:
        support: the k coordinates.
        terms: sequence of sequences of positions 0..k-1.
        coefs: one coefficient per term (default all 1).

    Returns:
        the ``Monomials`` target.
    """
    support = jnp.asarray(support, jnp.int32)
    k = int(support.shape[0])
    terms = tuple(tuple(int(i) for i in t) for t in terms)
    if not terms or any(not t for t in terms):
        raise BadInput(f"terms={terms!r}: allowed a non-empty list of non-empty monomials")
    bad = [i for t in terms for i in t if not 0 <= i < k]
    if bad:
        raise BadInput(f"terms refer to position {bad[0]}: allowed positions 0..{k - 1} (k={k})")
    coefs = (1.0,) * len(terms) if coefs is None or len(coefs) == 0 else tuple(map(float, coefs))
    if len(coefs) != len(terms):
        raise BadInput(f"coefs has {len(coefs)} values for {len(terms)} terms: allowed one each")
    if not all(math.isfinite(c) for c in coefs):
        raise BadInput(f"coefs={coefs!r}: allowed finite numbers")
    return Monomials(support, terms, coefs)


def leap_target(support, *, leap: int = 1) -> Monomials:
    """The leap-L staircase: prefixes x_{a_0} ... x_{a_{j-1}} for j = k, k - L, k - 2L, ... >= 1.

    Each prefix after the shortest adds L new coordinates and the shortest has between 1 and
    L, so the leap (``paritylab.theory.complexity.leap``) is min(L, k): k = 3 gives
    x0 + x0 x1 + x0 x1 x2 (L = 1), x0 + x0 x1 x2 (L = 2) and x0 x1 x2 (L >= 3); k = 6, L = 3
    gives x0 x1 x2 + x0 ... x5.

    Args:
        support: the k coordinates, in staircase order.
        leap: L >= 1.

    Returns:
        ``Monomials`` with coefficients 1.
    """
    from paritylab.theory.complexity import leap_terms

    support = jnp.asarray(support, jnp.int32)
    terms = leap_terms(int(support.shape[0]), int(leap))
    return Monomials(support, terms, (1.0,) * len(terms))


def majority_target(support) -> Majority:
    """Majority of the support's coordinates.

    Args:
        support: the k coordinates.

    Returns:
        the ``Majority`` target.
    """
    return Majority(jnp.asarray(support, jnp.int32))


_TARGETS: dict[str, Callable] = {
    "parity": parity_target,
    "staircase": staircase_target,
    "monomials": monomials_target,
    "leap": leap_target,
    "majority": majority_target,
}


def register_target(name: str):
    """Class or function decorator that adds a target family under ``name``.

    The decorated callable takes the support (an int array) and keyword parameters and returns
    a target (a callable pytree with ``degree``, ``boolean`` and ``describe()``).

    Args:
        name: the family's name, as written in experiment files (``target = "NAME"``).

    Returns:
        the decorator.
    """

    def wrap(factory):
        _TARGETS[name] = factory
        return factory

    return wrap


def target_names() -> tuple[str, ...]:
    """Names of the registered target families."""
    return tuple(_TARGETS)


def make_target(name: str, support, **params):
    """Build the target family ``name`` on ``support``.

    Args:
        name: a registered family (``target_names()``).
        support: the k coordinates it reads.
        **params: the family's own parameters (e.g. ``terms`` for ``monomials``).

    Returns:
        the target.
    """
    if name not in _TARGETS:
        raise BadInput(
            f"target={name!r} is not known{suggest(name, _TARGETS)}; allowed: {', '.join(_TARGETS)}"
        )
    return _TARGETS[name](support, **params)
