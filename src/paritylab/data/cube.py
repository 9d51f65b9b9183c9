"""Samplers of the Boolean cube {-1,+1}^n, each a pure function of an explicit JAX key.

Inputs are float32 arrays of +-1, the dtype the networks consume. Two streams of the uniform
distribution exist on purpose:

* ``uniform_cube`` draws one Rademacher variable per coordinate (``jax.random.rademacher``);
  the Daniely-Malach sampler and the certificate estimates use it.
* ``uniform_signs`` unpacks 32 coordinates from each random 32-bit word: the same
  distribution, a different stream, and about 30% faster training steps in the compiled
  online loop, which draws a fresh batch every step.

They are kept apart because merging them would change every stored number of the runs that
use the other one.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def uniform_cube(key: jax.Array, m: int, n: int) -> jax.Array:
    """m points drawn uniformly from {-1,+1}^n, one Rademacher draw per coordinate.

    Args:
        key: JAX random key.
        m: number of points.
        n: dimension.

    Returns:
        float32 array of shape (m, n) with entries in {-1, +1}.
    """
    return jax.random.rademacher(key, (m, n), dtype=jnp.float32)


def uniform_signs(key: jax.Array, m: int, n: int) -> jax.Array:
    """m uniform points of {-1,+1}^n from 32 random bits per uint32 word.

    The bits are drawn as a flat vector: XLA on CPU compiles 2-D random draws with more than a
    few columns about 6x slower (measured 1.5 s against 0.25 s).

    Args:
        key: JAX random key.
        m: number of points.
        n: dimension.

    Returns:
        float32 array of shape (m, n) with entries in {-1, +1}.
    """
    words = -(-n // 32)
    raw = jax.random.bits(key, (m * words,), jnp.uint32).reshape(m, words)
    bits = (raw[:, :, None] >> jnp.arange(32, dtype=jnp.uint32)) & 1
    return 1.0 - 2.0 * bits.reshape(m, 32 * words)[:, :n].astype(jnp.float32)


def biased_cube(key: jax.Array, m: int, n: int, p_minus) -> jax.Array:
    """m points of the product distribution mu_p with P(x_i = -1) = p_i independently.

    Args:
        key: JAX random key.
        m: number of points.
        n: dimension.
        p_minus: probability of -1, a scalar or one value per coordinate (shape (n,)).

    Returns:
        float32 array of shape (m, n) with entries in {-1, +1}.
    """
    p = jnp.broadcast_to(jnp.asarray(p_minus, jnp.float32), (n,))
    minus = jax.random.uniform(key, (m, n)) < p
    return jnp.where(minus, -1.0, 1.0).astype(jnp.float32)


def all_points(n: int) -> np.ndarray:
    """Every point of {-1,+1}^n once, as a float64 (2^n, n) array; row r has x_j = -1 exactly
    when bit j of r is set.

    Args:
        n: dimension (2^n rows: keep n small).

    Returns:
        the points.
    """
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    return 1.0 - 2.0 * bits
