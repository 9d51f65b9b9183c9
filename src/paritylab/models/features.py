"""Fixed (data-independent) embeddings Psi: {-1,1}^n -> R^N for linear methods.

A linear method predicts h(x) = <v, Psi(x)>; the embedding is fixed before any data is seen.
Each map exposes
  * ``transform(x)``: what ``predict`` consumes (the materialised features when cheap);
  * ``predict(v, t)``: <v, Psi(x)> for a weight pytree v;
  * ``zeros()``: a zero weight pytree; ``num_features``: N;
  * ``sq_norm(x)``: ||Psi(x)||^2 per row (its mean under U is the feature energy of the
    lower bound of ``paritylab.theory``).
Because ``predict`` is linear in v, grad_v of mean(chi * predict) is the correlation vector
c_A = E[chi_A(x) Psi(x)], which ``paritylab.theory`` uses for the certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.models import mlp


def tree_sq_norm(tree) -> float:
    """sum of squares of every leaf of a weight pytree, accumulated in float64."""
    return sum(float(np.sum(np.asarray(a, np.float64) ** 2)) for a in jax.tree.leaves(tree))


def _pytree(data: tuple[str, ...], meta: tuple[str, ...]):
    """Register a frozen dataclass as a pytree so it can be passed to jitted functions."""

    def wrap(cls):
        return jax.tree_util.register_dataclass(cls, data_fields=list(data), meta_fields=list(meta))

    return wrap


@_pytree(("W", "b"), ("name",))
@dataclass(frozen=True)
class RandomReLUFeatures:
    """Psi(x) = relu(W x + b): the hidden layer of a two-layer ReLU net frozen at init
    (random features, Rahimi & Recht 2008; the "random features" baseline of Daniely & Malach).
    N = q."""

    W: jax.Array
    b: jax.Array
    name: str = "random-relu"

    @property
    def num_features(self) -> int:
        return int(self.W.shape[0])

    def transform(self, x):
        return jax.nn.relu(x @ self.W.T + self.b)

    def predict(self, v, t):
        return t @ v

    def zeros(self):
        return jnp.zeros((self.num_features,), jnp.float32)

    def sq_norm(self, x):
        return jnp.sum(self.transform(x) ** 2, axis=-1)


@_pytree((), ("n", "name"))
@dataclass(frozen=True)
class RawFeatures:
    """Psi(x) = x (a linear predictor on the raw input). N = n. For k >= 2 every correlation
    E_U[x_j chi_A(x)] is exactly 0."""

    n: int
    name: str = "raw"

    @property
    def num_features(self) -> int:
        return self.n

    def transform(self, x):
        return x

    def predict(self, v, t):
        return t @ v

    def zeros(self):
        return jnp.zeros((self.n,), jnp.float32)

    def sq_norm(self, x):
        return jnp.sum(x**2, axis=-1)


@_pytree(("params0",), ("name",))
@dataclass(frozen=True)
class LinearisedFeatures:
    """Psi(x) = grad_theta g(theta_0; x): the first-order linearisation (empirical NTK
    features) of the two-layer network at its initialisation theta_0 = (W, b, u).

    h(x) = <v, Psi(x)> = sum_i v_u,i relu(z_i) + sum_i u_i 1[z_i > 0] (<v_W,i, x> + v_b,i),
    z = W x + b, computed as a Jacobian-vector product without materialising the
    N = q (n + 2) features. With a paired init g(theta_0; .) == 0, so h is the whole
    linearised model (Jacot et al. 2018; Chizat et al. 2019 "lazy training").
    ||Psi(x)||^2 = ||relu(z)||^2 + sum_i u_i^2 1[z_i > 0] (||x||^2 + 1).
    """

    params0: dict
    name: str = "ntk-linearised"

    @property
    def num_features(self) -> int:
        q, n = self.params0["W"].shape
        return int(q * (n + 2))

    def transform(self, x):
        return x

    def predict(self, v, t):
        _, tangent = jax.jvp(lambda p: mlp.apply(p, t), (self.params0,), (v,))
        return tangent

    def zeros(self):
        return jax.tree.map(jnp.zeros_like, self.params0)

    def sq_norm(self, x):
        z = x @ self.params0["W"].T + self.params0["b"]
        active = (z > 0).astype(x.dtype)
        x_sq = jnp.sum(x**2, axis=-1, keepdims=True)
        return jnp.sum(jax.nn.relu(z) ** 2 + self.params0["u"] ** 2 * active * (x_sq + 1), -1)
