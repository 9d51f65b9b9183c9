"""The Daniely-Malach problem: D_A labelled by the parity chi_A.

Daniely and Malach ("Learning Parities with Neural Networks", NeurIPS 2020,
https://arxiv.org/abs/2002.07400) mix the uniform distribution with an easy part on which every
coordinate of A carries one shared sign s. On the easy part y = s^k, so for odd k every
coordinate of A correlates with the label (E[y x_j] = 1/2 for j in A, 0 outside); for even k
the easy part always has y = +1 and that signal vanishes, so odd k is required unless
``allow_even_k=True``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from paritylab.data.distributions import DanielyMalach
from paritylab.data.problem import Problem, Sample
from paritylab.data.targets import check_support, parity_target
from paritylab.errors import BadInput


def check_dm_k(n: int, k: int, *, allow_even_k: bool = False) -> None:
    """Raise BadInput unless 1 <= k <= n and k is odd (or ``allow_even_k``).

    Args:
        n: input dimension.
        k: parity degree.
        allow_even_k: accept even k (to see the failure it causes).
    """
    check_support(n, k)
    if k % 2 == 0 and not allow_even_k:
        raise BadInput(
            f"k={k} is even: the Daniely-Malach distribution needs odd k "
            "(allowed: odd 1 <= k <= n; set allow_even_k=true to see the failure)"
        )


def dm_problem(n: int, support, *, easy_fraction: float = 0.5) -> Problem:
    """The problem (D_A, chi_A).

    Args:
        n: input dimension.
        support: the parity's support A.
        easy_fraction: mixture weight of the easy part.

    Returns:
        the ``Problem``.
    """
    support = jnp.asarray(support, jnp.int32)
    return Problem(DanielyMalach(n, support, easy_fraction), parity_target(support))


def dm_sample(
    key: jax.Array,
    m: int,
    n: int,
    support,
    *,
    easy_fraction: float = 0.5,
    allow_even_k: bool = False,
) -> Sample:
    """m i.i.d. draws from D_A with labels chi_A and the part of each row.

    Args:
        key: JAX random key.
        m: sample size.
        n: input dimension.
        support: the parity's support A (odd size unless ``allow_even_k``).
        easy_fraction: mixture weight of the easy part (1/2 in the paper).
        allow_even_k: accept an even |A|.

    Returns:
        a ``Sample`` whose ``part`` is 0 (uniform part) or 1 (easy part).
    """
    check_dm_k(n, len(support), allow_even_k=allow_even_k)
    return dm_problem(n, support, easy_fraction=easy_fraction).sample(key, m)
