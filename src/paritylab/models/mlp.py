"""The depth-two ReLU network g(x) = sum_{i=1..q} u_i relu(<w_i, x> + b_i).

Parameters are a plain dict pytree ``{"W": (q, n), "b": (q,), "u": (q,)}`` in the *standard*
parameterisation (no 1/sqrt(q) in the forward pass; scales live in the initialisation), as in
Daniely & Malach (2020). Initialisation families:

* ``gaussian_init``: w_i ~ N(0, scale^2/n I), b_i ~ U[-bias_range, bias_range],
  u_i ~ N(0, 1/q) (or +-1/q with ``output="sign"``).
* ``paired_init``: units come in pairs (w, b, +u) and (w, b, -u), so g == 0 at init exactly;
  this is the symmetric initialisation of Daniely & Malach. w ~ N(0, scale^2/n I) (scale 0
  allowed), b ~ U[-bias_range, bias_range], |u_i| = 1/q.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from paritylab.errors import BadInput

Params = dict


def check_width(width: int, *, even: bool = False) -> None:
    """Raise BadInput unless width >= 1 (and even, for paired initialisation)."""
    if not isinstance(width, int) or width < 1:
        raise BadInput(f"width={width!r} is out of range: allowed integer width >= 1")
    if even and width % 2:
        raise BadInput(f"width={width} must be even for the paired (symmetric) initialisation")


def gaussian_init(
    key: jax.Array,
    n: int,
    width: int,
    *,
    scale: float = 1.0,
    bias_range: float = 1.0,
    output: str = "gaussian",
) -> Params:
    """w ~ N(0, scale^2/n I), b ~ U[-bias_range, bias_range], u ~ N(0, 1/q) or +-1/q."""
    check_width(width)
    kw, kb, ku = jax.random.split(key, 3)
    w = jax.random.normal(kw, (width, n)) * (scale / jnp.sqrt(n))
    b = jax.random.uniform(kb, (width,), minval=-bias_range, maxval=bias_range)
    if output == "gaussian":
        u = jax.random.normal(ku, (width,)) / jnp.sqrt(width)
    elif output == "sign":
        u = jax.random.rademacher(ku, (width,), dtype=jnp.float32) / width
    else:
        raise BadInput(f"output={output!r} is not known: allowed 'gaussian' or 'sign'")
    return {"W": w.astype(jnp.float32), "b": b.astype(jnp.float32), "u": u.astype(jnp.float32)}


def paired_init(
    key: jax.Array,
    n: int,
    width: int,
    *,
    scale: float = 0.0,
    bias_range: float = 1.0,
    output_abs: float | None = None,
) -> Params:
    """Symmetric init: units i and i + q/2 share (w, b) and have u = +c and -c, so g == 0.

    c = ``output_abs`` (default 1/q, the Daniely-Malach scale).
    """
    check_width(width, even=True)
    half = width // 2
    kw, kb = jax.random.split(key)
    w = jax.random.normal(kw, (half, n)) * (scale / jnp.sqrt(n))
    b = jax.random.uniform(kb, (half,), minval=-bias_range, maxval=bias_range)
    c = 1.0 / width if output_abs is None else output_abs
    u = jnp.concatenate([jnp.full((half,), c), jnp.full((half,), -c)])
    return {
        "W": jnp.concatenate([w, w]).astype(jnp.float32),
        "b": jnp.concatenate([b, b]).astype(jnp.float32),
        "u": u.astype(jnp.float32),
    }


def hidden(params: Params, x: jax.Array) -> jax.Array:
    """Hidden activations relu(x W^T + b), shape (m, q)."""
    return jax.nn.relu(x @ params["W"].T + params["b"])


def apply(params: Params, x: jax.Array) -> jax.Array:
    """g(x) = relu(x W^T + b) u, shape (m,)."""
    return hidden(params, x) @ params["u"]
