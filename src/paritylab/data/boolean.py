"""Samplers of Boolean inputs on the cube {-1,+1}^n and parity targets.

Every sampler is a pure function of an explicit JAX random key and returns plain arrays.
Inputs are float32 arrays of +-1 (the dtype the networks consume); labels are +-1 float32.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.errors import BadInput

UNIFORM, EASY = 0, 1
PART_NAMES = {UNIFORM: "uniform", EASY: "easy"}


class Sample(NamedTuple):
    """A labelled sample. ``part[i]`` says which mixture part row i came from
    (``UNIFORM`` = 0 or ``EASY`` = 1); samplers without parts mark every row ``UNIFORM``."""

    x: jax.Array  # (m, n) float32 in {-1, +1}
    y: jax.Array  # (m,) float32 in {-1, +1}
    part: jax.Array  # (m,) int32


def parity(x: jax.Array, support) -> jax.Array:
    """chi_A(x) = prod_{i in A} x_i for x in {-1,+1}^n (A = ``support``, 0-based indices)."""
    return jnp.prod(x[..., jnp.asarray(support)], axis=-1)


def check_support(n: int, k: int) -> None:
    """Raise BadInput unless 1 <= k <= n."""
    if n < 1:
        raise BadInput(f"n={n} is out of range: allowed n >= 1")
    if not 1 <= k <= n:
        raise BadInput(f"k={k} is out of range: allowed 1 <= k <= n (n={n})")


def draw_support(key: jax.Array, n: int, k: int) -> np.ndarray:
    """A uniformly random support A of size k in {0..n-1}, sorted, as a numpy int array."""
    check_support(n, k)
    return np.sort(np.asarray(jax.random.choice(key, n, (k,), replace=False)))


def uniform_cube(key: jax.Array, m: int, n: int) -> jax.Array:
    """m points drawn uniformly from {-1,+1}^n, shape (m, n), float32."""
    return jax.random.rademacher(key, (m, n), dtype=jnp.float32)


def biased_cube(key: jax.Array, m: int, n: int, p_minus: float) -> jax.Array:
    """m points of a product distribution with P(x_i = -1) = p_minus independently."""
    minus = jax.random.bernoulli(key, p_minus, (m, n))
    return jnp.where(minus, -1.0, 1.0).astype(jnp.float32)


def uniform_parity_sample(key: jax.Array, m: int, n: int, support) -> Sample:
    """m uniform points of {-1,+1}^n labelled by chi_A (all rows part UNIFORM)."""
    x = uniform_cube(key, m, n)
    return Sample(x, parity(x, support), jnp.zeros((m,), jnp.int32))


def flip_labels(key: jax.Array, sample: Sample, flip_prob: float) -> Sample:
    """Flip each label independently with probability ``flip_prob`` (label noise)."""
    flip = jax.random.bernoulli(key, flip_prob, sample.y.shape)
    return sample._replace(y=jnp.where(flip, -sample.y, sample.y))
