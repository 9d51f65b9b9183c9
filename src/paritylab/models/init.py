"""Initialisation families of the two-layer ReLU net of ``paritylab.models.mlp``.

All return the parameter pytree ``{"W": (q, n), "b": (q,), "u": (q,)}`` in the standard
parameterisation (float32); ``init_params`` can add a zero output bias ``"c"``. First layer W,
biases b, output weights u:

* ``gaussian``: w ~ N(0, scale^2/n I), b ~ U[-bias_range, bias_range], u ~ N(0, 1/q) (or
  +-1/q with ``output="sign"``).
* ``paired``: the symmetric initialisation of Daniely & Malach ("Learning Parities with Neural
  Networks", NeurIPS 2020): units i and i + q/2 share (w, b) and have output weights +c and
  -c, so g == 0 at init exactly; w ~ N(0, scale^2/n I) (scale 0 allowed), b ~ U[-bias_range,
  bias_range], c = ``output_abs`` (default 1/q).
* ``uniform``: PyTorch's default ``nn.Linear`` initialisation, which the sparse-parity
  experiments of Barak et al. ("Hidden progress in deep learning: SGD learns parities near the
  computational limit", NeurIPS 2022, https://arxiv.org/abs/2207.08799) inherit:
  w_ij ~ U[-scale/sqrt(n), scale/sqrt(n)], b_i ~ U[-1/sqrt(n), 1/sqrt(n)],
  u_i ~ U[-1/sqrt(q), 1/sqrt(q)].
* ``he``: He et al. ("Delving deep into rectifiers", ICCV 2015) normal initialisation for ReLU
  layers, as PyTorch's ``kaiming_normal_``: w ~ N(0, 2 scale^2/n I), u ~ N(0, 2/q),
  b ~ U[-bias_range, bias_range] (use ``zero_bias`` for the usual zero biases).
* ``sparse``: each hidden unit has exactly s = ``sparsity`` non-zero input weights, on s
  coordinates drawn without replacement, each +-scale/sqrt(s), so E||w_i||^2 = scale^2
  (Edelman, Goel, Kakade, Malach, Zhang, "Pareto frontiers in neural feature learning: data,
  compute, width, and luck", NeurIPS 2023, https://arxiv.org/abs/2309.03800, who find s = 2
  best; the value distribution of the non-zero weights is our choice).
  b ~ U[-bias_range, bias_range], u ~ N(0, 1/q).
* ``rademacher``: w_ij = +-scale/sqrt(n) with equal probability (Abbe, Cornacchia, Hazla,
  Kougang-Yombi, "Learning high-degree parities: the crucial role of the initialization",
  ICLR 2025, https://arxiv.org/abs/2412.04910). b ~ U[-bias_range, bias_range], u ~ N(0, 1/q).
  With ``noise`` = sigma > 0, the same paper's Gaussian perturbation: w_ij = scale (+-1 +
  sigma g_ij)/sqrt(n), g_ij ~ N(0, 1) (sigma = 0 draws exactly the plain Rademacher weights).

``init_params`` applies three modifiers common to every family: ``zero_bias`` (b = 0),
``output_scale`` (u multiplied by it) and ``output_bias`` (a trainable scalar c = 0 added to
the output).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from paritylab.errors import BadInput, suggest
from paritylab.models.mlp import Params, check_width

INIT_FAMILIES = ("gaussian", "uniform", "he", "sparse", "rademacher", "paired")


def _f32(params: dict) -> Params:
    return {name: value.astype(jnp.float32) for name, value in params.items()}


def gaussian_init(
    key: jax.Array,
    n: int,
    width: int,
    *,
    scale: float = 1.0,
    bias_range: float = 1.0,
    output: str = "gaussian",
) -> Params:
    """w ~ N(0, scale^2/n I), b ~ U[-bias_range, bias_range], u ~ N(0, 1/q) or +-1/q.

    Args:
        key: JAX random key.
        n: input dimension.
        width: hidden units q.
        scale: first-layer scale.
        bias_range: half-width of the bias interval.
        output: ``"gaussian"`` (u ~ N(0, 1/q)) or ``"sign"`` (u = +-1/q).

    Returns:
        the parameter pytree.
    """
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
    return _f32({"W": w, "b": b, "u": u})


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

    Args:
        key: JAX random key.
        n: input dimension.
        width: hidden units q (even).
        scale: first-layer scale (0 allowed).
        bias_range: half-width of the bias interval.
        output_abs: |u| (default 1/q, the Daniely-Malach scale).

    Returns:
        the parameter pytree.
    """
    check_width(width, even=True)
    half = width // 2
    kw, kb = jax.random.split(key)
    w = jax.random.normal(kw, (half, n)) * (scale / jnp.sqrt(n))
    b = jax.random.uniform(kb, (half,), minval=-bias_range, maxval=bias_range)
    c = 1.0 / width if output_abs is None else output_abs
    u = jnp.concatenate([jnp.full((half,), c), jnp.full((half,), -c)])
    return _f32({"W": jnp.concatenate([w, w]), "b": jnp.concatenate([b, b]), "u": u})


def _flat(draw, key: jax.Array, shape: tuple[int, int], **kw) -> jax.Array:
    # Drawn flat then reshaped: XLA CPU compiles 2-D random draws ~6x slower (measured).
    return draw(key, (shape[0] * shape[1],), **kw).reshape(shape)


def _bias_and_output(key: jax.Array, width: int, bias_range: float) -> tuple[jax.Array, ...]:
    kb, ku = jax.random.split(key)
    b = jax.random.uniform(kb, (width,), minval=-bias_range, maxval=bias_range)
    u = jax.random.normal(ku, (width,)) / jnp.sqrt(width)
    return b.astype(jnp.float32), u.astype(jnp.float32)


def uniform_init(key: jax.Array, n: int, width: int, *, scale: float = 1.0) -> Params:
    """PyTorch ``nn.Linear`` default: w ~ U[+-scale/sqrt(n)], b ~ U[+-1/sqrt(n)],
    u ~ U[+-1/sqrt(q)].

    Args:
        key: JAX random key.
        n: input dimension.
        width: hidden units q.
        scale: first-layer scale.

    Returns:
        the parameter pytree.
    """
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


def he_init(
    key: jax.Array, n: int, width: int, *, scale: float = 1.0, bias_range: float = 1.0
) -> Params:
    """He (Kaiming) normal: w ~ N(0, 2 scale^2/n I), u ~ N(0, 2/q), b ~ U[+-bias_range].

    Args:
        key: JAX random key.
        n: input dimension.
        width: hidden units q.
        scale: first-layer scale.
        bias_range: half-width of the bias interval.

    Returns:
        the parameter pytree.
    """
    check_width(width)
    kw, kr = jax.random.split(key)
    w = _flat(jax.random.normal, kw, (width, n)) * (scale * jnp.sqrt(2.0 / n))
    b, u = _bias_and_output(kr, width, bias_range)
    return {"W": w.astype(jnp.float32), "b": b, "u": u * jnp.sqrt(2.0)}


def sparse_init(
    key: jax.Array,
    n: int,
    width: int,
    *,
    sparsity: int = 2,
    scale: float = 1.0,
    bias_range: float = 1.0,
) -> Params:
    """Each row of W has ``sparsity`` = s non-zeros +-scale/sqrt(s) on random coordinates.

    Args:
        key: JAX random key.
        n: input dimension.
        width: hidden units q.
        sparsity: non-zeros per unit, 1 <= s <= n.
        scale: first-layer scale.
        bias_range: half-width of the bias interval.

    Returns:
        the parameter pytree.
    """
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
    key: jax.Array,
    n: int,
    width: int,
    *,
    scale: float = 1.0,
    bias_range: float = 1.0,
    noise: float = 0.0,
) -> Params:
    """w_ij = scale (+-1 + noise g_ij)/sqrt(n), g_ij ~ N(0, 1), signs uniform;
    b ~ U[+-bias_range], u ~ N(0, 1/q).

    Args:
        key: JAX random key.
        n: input dimension.
        width: hidden units q.
        scale: first-layer scale.
        bias_range: half-width of the bias interval.
        noise: sigma of the Gaussian perturbation of the signs (0: plain Rademacher).

    Returns:
        the parameter pytree.
    """
    check_width(width)
    # A third key of its own for the perturbation (the signs do not depend on sigma; with
    # JAX's partitionable threefry the first two keys are those of split(key, 2)).
    kw, kr, kn = jax.random.split(key, 3)
    signs = _flat(jax.random.rademacher, kw, (width, n), dtype=jnp.float32)
    g = _flat(jax.random.normal, kn, (width, n))
    w = (signs + noise * g) * (scale / jnp.sqrt(n))
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
    zero_bias: bool = False,
    output_scale: float = 1.0,
    output_bias: bool = False,
    noise: float = 0.0,
) -> Params:
    """Initialise by family name, as one compiled call per family and shape.

    Args:
        name: one of ``INIT_FAMILIES``.
        key: JAX random key.
        n: input dimension.
        width: hidden units q.
        scale: first-layer scale (the families' ``scale``).
        bias_range: half-width of the bias interval (ignored by ``uniform``, which uses
            PyTorch's 1/sqrt(n)).
        sparsity: non-zeros per unit (``sparse`` only).
        zero_bias: set every first-layer bias b_i to 0.
        output_scale: multiply the initial output weights u by this factor.
        output_bias: add a trainable output bias c, initialised to 0.
        noise: ``rademacher`` only: sigma of the Gaussian perturbation of the signs.

    Returns:
        the parameter pytree (with ``"c"`` when ``output_bias``).
    """
    if name not in INIT_FAMILIES:
        raise BadInput(
            f"init={name!r} is not known: allowed {INIT_FAMILIES}" + suggest(name, INIT_FAMILIES)
        )
    check_width(width, even=name == "paired")
    if name == "sparse" and not 1 <= sparsity <= n:
        raise BadInput(f"init_sparsity={sparsity} is out of range: allowed 1 <= s <= n (n={n})")
    if noise and name != "rademacher":
        raise BadInput(f"init_noise={noise} is set but init={name!r}: use init='rademacher'")
    params = _init_jit(
        key, scale, bias_range, noise, name=name, n=n, width=width, sparsity=sparsity
    )
    if zero_bias:
        params["b"] = jnp.zeros_like(params["b"])
    if output_scale != 1.0:
        params["u"] = params["u"] * jnp.float32(output_scale)
    if output_bias:
        params["c"] = jnp.zeros((), jnp.float32)
    return params


@functools.partial(jax.jit, static_argnames=("name", "n", "width", "sparsity"))
def _init_jit(key, scale, bias_range, noise, *, name, n, width, sparsity):
    # One compilation per family and shape instead of one per eager random op.
    if name == "gaussian":
        return gaussian_init(key, n, width, scale=scale, bias_range=bias_range)
    if name == "uniform":
        return uniform_init(key, n, width, scale=scale)
    if name == "he":
        return he_init(key, n, width, scale=scale, bias_range=bias_range)
    if name == "sparse":
        return sparse_init(key, n, width, sparsity=sparsity, scale=scale, bias_range=bias_range)
    if name == "paired":
        return paired_init(key, n, width, scale=scale, bias_range=bias_range)
    return rademacher_init(key, n, width, scale=scale, bias_range=bias_range, noise=noise)
