"""The depth-two ReLU network g(x) = sum_{i=1..q} u_i relu(<w_i, x> + b_i) (+ c).

Parameters are a plain dict pytree ``{"W": (q, n), "b": (q,), "u": (q,)}``, plus a scalar
output bias ``"c"`` when the network has one, in the *standard* parameterisation: no 1/sqrt(q)
in the forward pass, the scales live in the initialisation (``paritylab.models.init``), as in
Daniely & Malach (2020).
"""

from __future__ import annotations

import jax

from paritylab.errors import BadInput

Params = dict


def check_width(width: int, *, even: bool = False) -> None:
    """Raise BadInput unless width >= 1 (and even, for paired initialisation).

    Args:
        width: number of hidden units q.
        even: require an even width.
    """
    if not isinstance(width, int) or width < 1:
        raise BadInput(f"width={width!r} is out of range: allowed integer width >= 1")
    if even and width % 2:
        raise BadInput(f"width={width} must be even for the paired (symmetric) initialisation")


def hidden(params: Params, x: jax.Array) -> jax.Array:
    """Hidden activations relu(x W^T + b).

    Args:
        params: network parameters.
        x: inputs (m, n).

    Returns:
        array (m, q).
    """
    return jax.nn.relu(x @ params["W"].T + params["b"])


def apply(params: Params, x: jax.Array) -> jax.Array:
    """g(x) = relu(x W^T + b) u (+ c).

    Args:
        params: network parameters.
        x: inputs (m, n).

    Returns:
        array (m,) of real-valued outputs.
    """
    out = hidden(params, x) @ params["u"]
    return out + params["c"] if "c" in params else out
