"""More initialisation families for the two-layer ReLU net of ``paritylab.models.mlp``.

Same parameter pytree ``{"W": (q, n), "b": (q,), "u": (q,)}``, standard parameterisation.
Only the first layer differs between the families below; b and u are drawn as noted.

* ``uniform_init``: PyTorch's default ``nn.Linear`` initialisation, which the sparse-parity
  experiments of Barak et al. (2022, "Hidden progress in deep learning: SGD learns parities
  near the computational limit") inherit: w_ij, b_i ~ U[-scale/sqrt(n), scale/sqrt(n)] (b with
  scale 1), u_i ~ U[-1/sqrt(q), 1/sqrt(q)].
* ``sparse_init``: each hidden unit has exactly s non-zero input weights, on s coordinates
  drawn without replacement, each +-scale/sqrt(s) (Edelman et al. 2023, "Pareto frontiers in
  neural feature learning: data, compute, width, and luck", who find s = 2 best; the value
  distribution of the non-zero weights is our choice). b ~ U[-bias_range, bias_range],
  u ~ N(0, 1/q).
* ``rademacher_init``: w_ij = +-scale/sqrt(n) with equal probability (Abbe et al. 2024 on
  high-degree parities, where Rademacher initialisation learns the full parity and a Gaussian
  one of large sigma does not). b ~ U[-bias_range, bias_range], u ~ N(0, 1/q).

``init_params(name, key=..., ...)`` dispatches over these and ``mlp.gaussian_init``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from paritylab.errors import BadInput, suggest
from paritylab.models.mlp import Params, check_width, gaussian_init

INIT_FAMILIES = ("gaussian", "uniform", "sparse", "rademacher")


def _flat(draw, key: jax.Array, shape: tuple[int, int], **kw) -> jax.Array:
    # Drawn flat then reshaped: XLA CPU compiles 2-D random draws ~6x slower (measured).
    return draw(key, (shape[0] * shape[1],), **kw).reshape(shape)


def _bias_and_output(key: jax.Array, width: int, bias_range: float) -> tuple[jax.Array, ...]:
    kb, ku = jax.random.split(key)
    b = jax.random.uniform(kb, (width,), minval=-bias_range, maxval=bias_range)
    u = jax.random.normal(ku, (width,)) / jnp.sqrt(width)
    return b.astype(jnp.float32), u.astype(jnp.float32)


def uniform_init(key: jax.Array, n: int, width: int, *, scale: float = 1.0) -> Params:
    """PyTorch ``nn.Linear`` default: w, b ~ U[-+scale/sqrt(n)] (b: scale 1), u ~ U[-+1/sqrt(q)]."""
    check_width(width)
    kw, kb, ku = jax.random.split(key, 3)
    lim_w = scale / jnp.sqrt(n)
    lim_b = 1.0 / jnp.sqrt(n)
    lim_u = 1.0 / jnp.sqrt(width)
    return {
        "W": _flat(jax.random.uniform, kw, (width, n), minval=-lim_w, maxval=lim_w),
        "b": jax.random.uniform(kb, (width,), minval=-lim_b, maxval=lim_b),
        "u": jax.random.uniform(ku, (width,), minval=-lim_u, maxval=lim_u),
    }


def sparse_init(
    key: jax.Array,
    n: int,
    width: int,
    *,
    sparsity: int = 2,
    scale: float = 1.0,
    bias_range: float = 1.0,
) -> Params:
    """Each row of W has ``sparsity`` = s non-zeros +-scale/sqrt(s) on random coordinates."""
    check_width(width)
    if not 1 <= sparsity <= n:
        raise BadInput(f"init_sparsity={sparsity} is out of range: allowed 1 <= s <= n (n={n})")
    kc, ks, kr = jax.random.split(key, 3)
    # Ranks of i.i.d. uniforms give a uniformly random s-subset per row without a Python loop.
    ranks = jnp.argsort(jnp.argsort(_flat(jax.random.uniform, kc, (width, n)), axis=1), axis=1)
    mask = ranks < sparsity
    signs = _flat(jax.random.rademacher, ks, (width, n), dtype=jnp.float32)
    w = jnp.where(mask, signs * (scale / jnp.sqrt(sparsity)), 0.0)
    b, u = _bias_and_output(kr, width, bias_range)
    return {"W": w.astype(jnp.float32), "b": b, "u": u}


def rademacher_init(
    key: jax.Array, n: int, width: int, *, scale: float = 1.0, bias_range: float = 1.0
) -> Params:
    """w_ij = +-scale/sqrt(n) uniformly at random."""
    check_width(width)
    kw, kr = jax.random.split(key)
    w = _flat(jax.random.rademacher, kw, (width, n), dtype=jnp.float32) * (scale / jnp.sqrt(n))
    b, u = _bias_and_output(kr, width, bias_range)
    return {"W": w.astype(jnp.float32), "b": b, "u": u}


def init_params(
    name: str,
    *,
    key: jax.Array,
    n: int,
    width: int,
    scale: float = 1.0,
    bias_range: float = 1.0,
    sparsity: int = 2,
) -> Params:
    """Initialise by family name (one of ``INIT_FAMILIES``), as one compiled call.

    ``bias_range`` is ignored by ``uniform`` (PyTorch's bias scale) and ``sparsity`` by all
    but ``sparse``.
    """
    if name not in INIT_FAMILIES:
        raise BadInput(
            f"init={name!r} is not known: allowed {INIT_FAMILIES}" + suggest(name, INIT_FAMILIES)
        )
    check_width(width)
    if name == "sparse" and not 1 <= sparsity <= n:
        raise BadInput(f"init_sparsity={sparsity} is out of range: allowed 1 <= s <= n (n={n})")
    return _init_jit(key, scale, bias_range, name=name, n=n, width=width, sparsity=sparsity)


@functools.partial(jax.jit, static_argnames=("name", "n", "width", "sparsity"))
def _init_jit(key, scale, bias_range, *, name, n, width, sparsity):
    # One compilation per family and shape instead of one per eager random op.
    if name == "gaussian":
        return gaussian_init(key, n, width, scale=scale, bias_range=bias_range)
    if name == "uniform":
        return uniform_init(key, n, width, scale=scale)
    if name == "sparse":
        return sparse_init(key, n, width, sparsity=sparsity, scale=scale, bias_range=bias_range)
    return rademacher_init(key, n, width, scale=scale, bias_range=bias_range)
