"""Input distributions on the cube {-1,+1}^n.

A distribution is a frozen dataclass registered as a JAX pytree with

* ``n``: the dimension;
* ``sample(key, m, step=None) -> (x, part)``: m inputs, float32 (m, n) in {-1, +1}, and an
  int32 (m,) array saying which mixture part each row came from (0 for distributions without
  parts). ``step`` is the training step; only schedules read it. Every ``sample`` is a pure JAX
  function, so it runs inside a compiled training loop.

Special cases are defined through the general ones: the Daniely-Malach distribution is a
mixture of the uniform distribution and the "support-aligned" easy distribution, and a
curriculum is a ``Schedule`` of distributions.

* ``Uniform(n)``: x uniform on the cube (the fast bit-unpacking stream ``uniform_signs``).
* ``BiasedProduct(n, p)``: mu_p, P(x_i = -1) = p_i independently (p a scalar or per
  coordinate).
* ``SupportAligned(n, support)``: one sign s uniform, x_i = s on the support, the rest uniform.
* ``Mixture(first, second, weight)``: the second with probability ``weight``, else the first;
  part = 0 or 1.
* ``DanielyMalach(n, support, easy_fraction)``: D_A of Daniely and Malach ("Learning Parities
  with Neural Networks", NeurIPS 2020, https://arxiv.org/abs/2002.07400), the mixture of the
  uniform part (part 0) and the support-aligned easy part (part 1) with weight
  ``easy_fraction`` (1/2 in the paper). Implemented directly (one draw of the part, of x and of
  s per row) so that its stream matches the stored results; ``Mixture(Uniform,
  SupportAligned)`` is the same distribution.
* ``Schedule(stages, boundaries)``: stage j is used for steps in [boundaries[j-1],
  boundaries[j]); a curriculum.
* ``BiasRamp(n, p_start, p_end, steps)``: mu_{p(t)} with p(t) moving linearly from
  ``p_start`` at step 0 to ``p_end`` at step ``steps`` and staying there: a continuous
  curriculum (e.g. p annealed to 1/2, the uniform distribution).
* ``Subcube(base, free)``: ``base`` with every coordinate outside the boolean mask ``free``
  fixed to +1, i.e. ``base`` restricted to a subcube of dimension |free|: the first stage of a
  dimension curriculum (a network reading it sees |free| varying inputs; the fixed ones only
  add a constant to each unit's pre-activation).

``final_distribution(d)`` is the distribution a run ends on (the last stage of a schedule, p_end
of a ramp): the distribution a curriculum's held-out set is drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.data.cube import biased_cube, uniform_cube, uniform_signs
from paritylab.errors import BadInput

UNIFORM, EASY = 0, 1
PART_NAMES = {UNIFORM: "uniform", EASY: "easy"}


def _pytree(data: tuple[str, ...], meta: tuple[str, ...]):
    def wrap(cls):
        return jax.tree_util.register_dataclass(cls, data_fields=list(data), meta_fields=list(meta))

    return wrap


def _no_parts(m: int) -> jax.Array:
    return jnp.zeros((m,), jnp.int32)


@_pytree((), ("n",))
@dataclass(frozen=True)
class Uniform:
    """x uniform on {-1,+1}^n.

    Attributes:
        n: dimension.
    """

    n: int

    def sample(self, key, m: int, step=None):
        """m uniform inputs and all-zero parts."""
        return uniform_signs(key, m, self.n), _no_parts(m)


@_pytree(("p",), ("n",))
@dataclass(frozen=True)
class BiasedProduct:
    """The product distribution mu_p: P(x_i = -1) = p_i independently.

    Attributes:
        n: dimension.
        p: probability of -1, a scalar or an array of n values.
    """

    n: int
    p: jax.Array

    def sample(self, key, m: int, step=None):
        """m inputs from mu_p and all-zero parts."""
        return biased_cube(key, m, self.n, self.p), _no_parts(m)


@_pytree(("support",), ("n",))
@dataclass(frozen=True)
class SupportAligned:
    """One sign s uniform, x_i = s for i in the support, the other coordinates uniform.

    Attributes:
        n: dimension.
        support: int array (k,) of coordinates that share the sign.
    """

    n: int
    support: jax.Array

    def sample(self, key, m: int, step=None):
        """m inputs and all-zero parts."""
        k_x, k_sign = jax.random.split(key)
        x = uniform_cube(k_x, m, self.n)
        sign = jax.random.rademacher(k_sign, (m, 1), dtype=jnp.float32)
        return jnp.where(_indicator(self.n, self.support)[None, :], sign, x), _no_parts(m)


@_pytree(("first", "second", "weight"), ())
@dataclass(frozen=True)
class Mixture:
    """``second`` with probability ``weight``, otherwise ``first``.

    Attributes:
        first: distribution of part 0.
        second: distribution of part 1.
        weight: probability of part 1.
    """

    first: object
    second: object
    weight: float

    @property
    def n(self) -> int:
        """Dimension (that of both components)."""
        return self.first.n

    def sample(self, key, m: int, step=None):
        """m inputs, each from its component; part = 0 (first) or 1 (second)."""
        k_part, k_a, k_b = jax.random.split(key, 3)
        part = jax.random.bernoulli(k_part, self.weight, (m,)).astype(jnp.int32)
        xa, _ = self.first.sample(k_a, m, step)
        xb, _ = self.second.sample(k_b, m, step)
        return jnp.where(part[:, None] == 1, xb, xa), part


@_pytree(("support", "easy_fraction"), ("n",))
@dataclass(frozen=True)
class DanielyMalach:
    """D_A: the uniform part (part 0) mixed with the support-aligned easy part (part 1).

    Attributes:
        n: dimension.
        support: int array (k,): the parity's support A.
        easy_fraction: mixture weight of the easy part (1/2 in the paper).
    """

    n: int
    support: jax.Array
    easy_fraction: float = 0.5

    def sample(self, key, m: int, step=None):
        """m inputs of D_A and the part of each row (``UNIFORM`` = 0, ``EASY`` = 1)."""
        k_part, k_x, k_sign = jax.random.split(key, 3)
        part = jax.random.bernoulli(k_part, self.easy_fraction, (m,)).astype(jnp.int32)
        x = uniform_cube(k_x, m, self.n)
        sign = jax.random.rademacher(k_sign, (m, 1), dtype=jnp.float32)
        easy = (part[:, None] == EASY) & _indicator(self.n, self.support)[None, :]
        return jnp.where(easy, sign, x), part


@_pytree(("stages",), ("boundaries",))
@dataclass(frozen=True)
class Schedule:
    """A curriculum: stage j for steps in [boundaries[j-1], boundaries[j]).

    Attributes:
        stages: tuple of distributions of one dimension, len(boundaries) + 1 of them.
        boundaries: increasing steps at which the next stage starts (static).
    """

    stages: tuple
    boundaries: tuple[int, ...]

    @property
    def n(self) -> int:
        """Dimension (that of every stage)."""
        return self.stages[0].n

    def stage_index(self, step) -> jax.Array:
        """Index of the stage in use at ``step`` (0 when ``step`` is None)."""
        if step is None:
            return jnp.asarray(0, jnp.int32)
        bounds = jnp.asarray(self.boundaries, jnp.int32)
        return jnp.sum(jnp.asarray(step) >= bounds).astype(jnp.int32)

    def sample(self, key, m: int, step=None):
        """m inputs of the stage in use at ``step``; part = the stage index."""
        index = self.stage_index(step)
        branches = [lambda k, s=s: s.sample(k, m, step)[0] for s in self.stages]
        x = jax.lax.switch(index, branches, key)
        return x, jnp.full((m,), index, jnp.int32)


@_pytree(("p_start", "p_end"), ("n", "steps"))
@dataclass(frozen=True)
class BiasRamp:
    """mu_{p(t)}: P(x_i = -1) = p(t) = p_start + (p_end - p_start) min(t / steps, 1).

    ``step=None`` (a held-out set drawn outside training) reads as step 0.

    Attributes:
        n: dimension.
        p_start: P(x_i = -1) at step 0 (a scalar or n values).
        p_end: P(x_i = -1) from step ``steps`` on.
        steps: length of the ramp (static; 0 means p_end from the start).
    """

    n: int
    p_start: jax.Array
    p_end: jax.Array
    steps: int

    def p_at(self, step) -> jax.Array:
        """p(step) (p_start when ``step`` is None)."""
        if self.steps <= 0:
            return jnp.asarray(self.p_end, jnp.float32)
        if step is None:
            return jnp.asarray(self.p_start, jnp.float32)
        frac = jnp.clip(jnp.asarray(step, jnp.float32) / self.steps, 0.0, 1.0)
        return self.p_start + (self.p_end - self.p_start) * frac

    def sample(self, key, m: int, step=None):
        """m inputs of mu_{p(step)} and all-zero parts."""
        return biased_cube(key, m, self.n, self.p_at(step)), _no_parts(m)


@_pytree(("base", "free"), ())
@dataclass(frozen=True)
class Subcube:
    """``base`` with the coordinates outside ``free`` fixed to +1.

    Attributes:
        base: the distribution drawn from.
        free: bool array (n,): the coordinates left as drawn.
    """

    base: object
    free: jax.Array

    @property
    def n(self) -> int:
        """Dimension (that of ``base``)."""
        return self.base.n

    def sample(self, key, m: int, step=None):
        """m inputs of ``base`` with the fixed coordinates set to +1; ``base``'s parts."""
        x, part = self.base.sample(key, m, step)
        return jnp.where(self.free[None, :], x, 1.0), part


def final_distribution(dist):
    """The distribution ``dist`` draws from at the end of training: the last stage of a
    ``Schedule`` (recursively), mu_{p_end} for a ``BiasRamp``, ``dist`` itself otherwise.

    Args:
        dist: a distribution.

    Returns:
        a distribution whose ``sample`` does not depend on the step.
    """
    if isinstance(dist, Schedule):
        return final_distribution(dist.stages[-1])
    if isinstance(dist, BiasRamp):
        return BiasedProduct(dist.n, dist.p_end)
    return dist


def subcube_mask(n: int, support, size: int):
    """The free coordinates of a dimension curriculum: the support and the first
    ``size - len(support)`` other coordinates (by index), as a bool array (n,).

    Args:
        n: dimension.
        support: the target's coordinates (always free).
        size: number of free coordinates, len(support) <= size <= n.

    Returns:
        bool array of shape (n,) with ``size`` True entries.
    """
    support = np.asarray(support).astype(int)
    if not len(support) <= size <= n:
        raise BadInput(
            f"size={size} is out of range: allowed |support| = {len(support)} <= size <= n = {n}"
        )
    free = np.zeros(n, bool)
    free[support] = True
    others = np.flatnonzero(~free)[: size - len(support)]
    free[others] = True
    return jnp.asarray(free)


def _indicator(n: int, support) -> jax.Array:
    return jnp.zeros((n,), bool).at[jnp.asarray(support)].set(True)
