"""The Daniely-Malach distribution D_A (Daniely & Malach, NeurIPS 2020, "Learning Parities
with Neural Networks").

D_A is an equal mixture of two parts, labelled by chi_A(x) = prod_{i in A} x_i on both:
  * uniform part (weight 1/2): x uniform on {-1,+1}^n;
  * easy part (weight 1/2): one sign s uniform, x_i = s for every i in A, others uniform.
On the easy part y = s^k, so for odd k every coordinate of A correlates with the label:
E[y x_j] = 1/2 for j in A and 0 outside A. For even k the easy part has y = +1 always and
that correlation vanishes, so odd k is required unless ``allow_even_k=True``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from paritylab.data.boolean import EASY, UNIFORM, Sample, check_support, parity
from paritylab.errors import BadInput


def check_dm_k(n: int, k: int, *, allow_even_k: bool = False) -> None:
    """Raise BadInput unless 1 <= k <= n and k is odd (or ``allow_even_k``)."""
    check_support(n, k)
    if k % 2 == 0 and not allow_even_k:
        raise BadInput(
            f"k={k} is even: the Daniely-Malach distribution needs odd k "
            "(allowed: odd 1 <= k <= n; set allow_even_k=true to see the failure)"
        )


def dm_sample(key: jax.Array, m: int, n: int, support, *, easy_fraction: float = 0.5) -> Sample:
    """m i.i.d. draws from D_A with labels chi_A and the part of each row.

    ``easy_fraction`` is the mixture weight of the easy part (1/2 in the paper).
    """
    k_part, k_x, k_sign = jax.random.split(key, 3)
    part = jax.random.bernoulli(k_part, easy_fraction, (m,)).astype(jnp.int32)
    x = jax.random.rademacher(k_x, (m, n), dtype=jnp.float32)
    sign = jax.random.rademacher(k_sign, (m, 1), dtype=jnp.float32)
    in_a = jnp.zeros((n,), bool).at[jnp.asarray(support)].set(True)
    x = jnp.where((part[:, None] == EASY) & in_a[None, :], sign, x)
    return Sample(x, parity(x, support), part)


__all__ = ["EASY", "UNIFORM", "check_dm_k", "dm_sample"]
