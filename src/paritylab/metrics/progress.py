"""Hidden-progress measures of a two-layer net learning a sparse parity chi_A.

Barak et al. (2022, "Hidden progress in deep learning: SGD learns parities near the
computational limit") show that while the loss sits on a plateau, progress measures that look
at the weights and at the Fourier spectrum of the network grow steadily. With first-layer
weights W (q x n, row i = unit i), initial weights W_0 and network output g:

* weight change     ||W_t - W_0||_inf = max_{i,j} |W_t[i, j] - W_0[i, j]|
  (the entry-wise max norm of the first layer only; b and u are not included);
* support mass      M_A(W) = sum_i sum_{j in A} |W_ij| / sum_i sum_j |W_ij|
  (the fraction of first-layer weight mass on the support columns; k/n in expectation at any
  initialisation that treats coordinates exchangeably, 1 when only A is used);
* Fourier coefficient  g_hat(A) = E_x[g(x) chi_A(x)], x uniform, estimated by the sample mean
  over the given points (standard error sd(g chi_A)/sqrt(m)).

All are pure ``jax.numpy`` functions, usable inside jitted training loops and on numpy input.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from paritylab.data.targets import parity


def weight_change_inf(w: jax.Array, w0: jax.Array) -> jax.Array:
    """max_{ij} |w_ij - w0_ij| (entry-wise infinity norm of the change)."""
    return jnp.max(jnp.abs(jnp.asarray(w) - jnp.asarray(w0)))


def support_mass(w: jax.Array, support) -> jax.Array:
    """sum_{i, j in A} |W_ij| / sum_{ij} |W_ij| for first-layer weights W of shape (q, n).

    Returns 0/0 = nan for an all-zero W (no mass to apportion)."""
    a = jnp.abs(jnp.asarray(w))
    return jnp.sum(a[:, jnp.asarray(support)]) / jnp.sum(a)


def support_mass_chance(n: int, k: int) -> float:
    """k/n: the expected support mass when no coordinate is preferred."""
    return k / n


def fourier_coefficient(f: jax.Array, x: jax.Array, support) -> jax.Array:
    """Sample estimate of g_hat(A) = E[g(x) chi_A(x)] from outputs f = g(x) on points x."""
    return jnp.mean(jnp.asarray(f) * parity(jnp.asarray(x), support))


def progress_probe(w, w0, x, f, target) -> dict:
    """The three measures above for a training loop's probe (``TrainingData.probe``).

    Args:
        w: first-layer weights now, (q, n).
        w0: first-layer weights at init, (q, n).
        x: held-out inputs (m, n).
        f: network outputs on x, (m,).
        target: the target; its ``support`` is the A of the measures.

    Returns:
        ``{"w_change_inf", "support_mass", "fourier_coef"}`` as JAX scalars.
    """
    return {
        "w_change_inf": weight_change_inf(w, w0),
        "support_mass": support_mass(w, target.support),
        "fourier_coef": fourier_coefficient(f, x, target.support),
    }
