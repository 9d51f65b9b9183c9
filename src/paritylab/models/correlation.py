"""How a fixed embedding correlates with a target under uniform inputs.

For a fixed feature map Psi and a target f (the parity chi_A in the Daniely-Malach bound), the
correlation vector is c = E_U[f(x) Psi(x)], x uniform on the cube. Its norm enters the
certificate lower bound of every linear method on Psi (``paritylab.theory``), and the feature
energy E_U ||Psi(x)||^2 enters the typical-support form. Both are estimated here by Monte Carlo
on fresh uniform samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.data.cube import uniform_cube


@dataclass(frozen=True)
class CorrelationEstimate:
    """An estimate of ||c||^2 with its standard error and a one-sided upper confidence value.

    Attributes:
        sq_norm: the estimate of ||c||^2 (unbiased; can be negative by chance).
        sq_norm_se: its standard error from independent batches (0 for exact values).
        num_samples: fresh uniform samples used (0 for exact values).
        num_batches: independent batches (0 for exact values).
        level: one-sided confidence level of ``norm_upper``.
    """

    sq_norm: float
    sq_norm_se: float
    num_samples: int
    num_batches: int = 0
    level: float = 0.975

    @property
    def norm(self) -> float:
        """sqrt(max(0, estimate))."""
        return math.sqrt(max(0.0, self.sq_norm))

    @property
    def norm_upper(self) -> float:
        """sqrt(max(0, est) + t_{level, batches-1} se): the ||c|| the certificate uses.

        The estimate is clipped at 0 *before* the margin is added (||c||^2 >= 0), so the upper
        value never rests on a negative estimate; exact values (se = 0) are returned as is."""
        if self.sq_norm_se == 0 or self.num_batches < 2:
            return self.norm
        from scipy import stats

        margin = stats.t.ppf(self.level, self.num_batches - 1) * self.sq_norm_se
        return math.sqrt(max(0.0, self.sq_norm) + margin)


def estimate_correlation(
    feature_map,
    target,
    *,
    key: jax.Array,
    num_samples: int = 131072,
    num_batches: int = 32,
    level: float = 0.975,
) -> CorrelationEstimate:
    """Estimate ||c||^2 = ||E_U[f(x) Psi(x)]||^2 with centred features and batch errors.

    Features are centred with a mean mu_hat estimated on an independent uniform sample of
    ``num_samples // 2`` points. For a target with E_U[f] = 0 (every parity, staircase or sum of
    non-constant monomials, and majority of an odd number of bits) and mu_hat independent of
    the batch, E[f (Psi - mu_hat)] = c exactly, while the large mean of ReLU features (which
    carries no correlation with f) no longer inflates the noise. Per batch of M points the
    U-statistic

        (||sum_m f_m (Psi_m - mu_hat)||^2 - sum_m f_m^2 ||Psi_m - mu_hat||^2) / (M (M - 1))

    is unbiased for ||c||^2. The estimate is this statistic over all ``num_samples`` points
    (computed from per-batch sums: averaging per-batch statistics instead would inflate its
    standard error by sqrt(num_batches)); its standard error is the delete-one-batch jackknife
    over ``num_batches`` batches, and ``CorrelationEstimate.norm_upper`` is a one-sided t upper
    value with num_batches - 1 degrees of freedom. sum_m f_m Psi_m is grad_v of
    sum_m f_m <v, Psi(x_m)>, so no feature map is materialised.

    Args:
        feature_map: a fixed embedding (``paritylab.models.features``).
        target: the target f (e.g. the parity chi_A), a callable on inputs with E_U[f] = 0.
        key: JAX random key.
        num_samples: fresh uniform samples in the batches (the mean uses half as many more).
        num_batches: independent batches (at least 2; 32 by default for a t-quantile).
        level: one-sided confidence level of the upper value.

    Returns:
        a ``CorrelationEstimate``.
    """
    if num_batches < 2:
        raise ValueError("num_batches must be at least 2 for a standard error")
    per_batch = max(2, num_samples // num_batches)
    n = int(_input_dim(feature_map))
    k_mean, k_batches = jax.random.split(key)
    mu = _feature_mean(feature_map, k_mean, max(2, num_samples // 2), n)

    sums, diags = [], []
    for k in jax.random.split(k_batches, num_batches):
        s, diag = _centred_sums(feature_map, target, mu, k, per_batch, n)
        sums.append(np.concatenate([np.asarray(a, np.float64).ravel() for a in jax.tree.leaves(s)]))
        diags.append(float(diag))
    sums, diags = np.stack(sums), np.asarray(diags)
    total, diag = sums.sum(axis=0), diags.sum()
    m = per_batch * num_batches

    def u_stat(sq_sum, diag_sum, size):
        return (sq_sum - diag_sum) / (size * (size - 1))

    sq_total = float(total @ total)
    estimate = u_stat(sq_total, diag, m)
    # ||total - s_b||^2 = ||total||^2 - 2 <total, s_b> + ||s_b||^2, for every b at once.
    sq_rest = sq_total - 2.0 * (sums @ total) + np.einsum("bi,bi->b", sums, sums)
    leave_one_out = u_stat(sq_rest, diag - diags, m - per_batch)
    se = math.sqrt(
        (num_batches - 1) / num_batches * np.sum((leave_one_out - leave_one_out.mean()) ** 2)
    )
    return CorrelationEstimate(float(estimate), se, m, num_batches, level)


@partial(jax.jit, static_argnums=(2, 3))
def _feature_mean(feature_map, key, m: int, n: int):
    """(1/m) sum_m Psi(x_m) as a weight pytree (grad_v of the mean linear form)."""
    t = feature_map.transform(uniform_cube(key, m, n))
    return jax.grad(lambda v: jnp.mean(feature_map.predict(v, t)))(feature_map.zeros())


@partial(jax.jit, static_argnums=(4, 5))
def _centred_sums(feature_map, target, mu, key, m: int, n: int):
    """sum_m f_m (Psi_m - mu) and sum_m f_m^2 ||Psi_m - mu||^2 on m fresh uniform points."""
    x = uniform_cube(key, m, n)
    f = target(x)
    t = feature_map.transform(x)
    s = jax.grad(lambda v: jnp.sum(f * feature_map.predict(v, t)))(feature_map.zeros())
    s = jax.tree.map(lambda a, b: a - b * jnp.sum(f), s, mu)
    mu_sq = sum(jnp.sum(a**2) for a in jax.tree.leaves(mu))
    sq = feature_map.sq_norm(x) - 2.0 * feature_map.predict(mu, t) + mu_sq
    return s, jnp.sum(f**2 * sq)


def estimate_energy(feature_map, *, key: jax.Array, num_samples: int = 16384) -> float:
    """Monte-Carlo E_U ||Psi(x)||^2 on fresh uniform samples."""
    x = uniform_cube(key, num_samples, int(_input_dim(feature_map)))
    return float(jnp.mean(feature_map.sq_norm(x)))


def _input_dim(feature_map) -> int:
    if hasattr(feature_map, "n"):
        return feature_map.n
    if hasattr(feature_map, "W"):
        return feature_map.W.shape[1]
    return feature_map.params0["W"].shape[1]
