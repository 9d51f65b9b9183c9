"""Linear methods: output weights trained on a fixed, data-independent embedding.

Given a feature map Psi (``paritylab.models.features``), fit h(x) = <v, Psi(x)> by minimising

    (1/m) sum_j loss(h(x_j), y_j) + (l2 / 2) ||v||^2

with an optax optimizer over ``steps`` minibatch steps (one compiled program). The problem is
convex in v: this is the "linear method" of Daniely & Malach ("Learning Parities with Neural
Networks", NeurIPS 2020, https://arxiv.org/abs/2002.07400), trained on the same samples as the
network. Three embeddings are registered as learners:

* ``random-features``: Psi(x) = relu(W x + b) with W, b of a width-q Gaussian-initialised net
  (w ~ N(0, I/n), b ~ U[-1, 1]); N = q;
* ``ntk-linearised``: Psi(x) = grad_theta g(theta_0; x), the linearisation of a width-q net at a
  paired initialisation (|u| = 1/sqrt(q), w ~ N(0, I/n)); N = q (n + 2);
* ``linear-raw``: Psi(x) = x; N = n.

Each fit reports what the lower bound needs: N (``num_features``), B = ||v|| (``weight_norm``),
the feature energy E_U ||Psi||^2 and ||c|| = ||E_U[f Psi]|| for the problem's target f (with the
upper value used by the certificate).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.learners.base import Fit, Learner, TrainingData
from paritylab.learners.loop import chunked_descent
from paritylab.learners.optimizers import OPTIMIZERS, make_optimizer
from paritylab.models import init as inits
from paritylab.models.correlation import CorrelationEstimate, estimate_correlation, estimate_energy
from paritylab.models.features import (
    LinearisedFeatures,
    RandomReLUFeatures,
    RawFeatures,
    tree_sq_norm,
)
from paritylab.models.losses import LOSSES, loss_fn
from paritylab.models.mlp import check_width
from paritylab.options import option

ITERATES = ("final", "average")
CERT_SAMPLES = 131072
CERT_DOC = "fresh uniform samples to estimate the target correlation ||c|| (32 batches)"


@dataclass(frozen=True)
class LinearFit:
    """Output weights of a linear method.

    Attributes:
        v: final iterate.
        v_avg: average of all iterates (None unless asked for).
        trace_step: steps at which the trace was taken.
        trace_loss: mean minibatch objective over each trace interval.
    """

    v: object
    v_avg: object
    trace_step: np.ndarray
    trace_loss: np.ndarray


def weight_norm(v) -> float:
    """||v||_2 over all leaves of a weight pytree (the B of the lower bound).

    Args:
        v: weight pytree.

    Returns:
        the norm, accumulated in float64.
    """
    return float(np.sqrt(tree_sq_norm(v)))


def train_linear(
    feature_map,
    x: jax.Array,
    y: jax.Array,
    *,
    key: jax.Array,
    steps: int,
    lr: float,
    batch_size: int | None,
    l2: float,
    optimizer: str,
    loss: str = "hinge",
    trace_every: int = 50,
    average: bool = False,
    v0=None,
) -> LinearFit:
    """Fit v for h(x) = <v, Psi(x)> on (x, y) (see the module docstring).

    Args:
        feature_map: the fixed embedding.
        x: training inputs (m, n).
        y: training labels (m,).
        key: JAX random key for the minibatches.
        steps: optimizer steps (rounded down to a multiple of ``trace_every``).
        lr: learning rate.
        batch_size: rows per step; None or >= m uses every row (gradient descent).
        l2: L2 penalty (l2/2)||v||^2.
        optimizer: one of ``OPTIMIZERS``.
        loss: one of ``LOSSES``.
        trace_every: steps per trace point.
        average: also compute the averaged iterate.
        v0: initial weights (default zero).

    Returns:
        a ``LinearFit``.
    """
    t = feature_map.transform(x)
    v0 = feature_map.zeros() if v0 is None else v0
    make_optimizer(optimizer, lr)  # validates the name before tracing
    m = int(y.shape[0])
    batch = m if batch_size is None or batch_size >= m else int(batch_size)
    chunk_len = min(trace_every, steps)
    chunks = max(1, steps // trace_every)
    v, v_sum, losses = _train(
        feature_map, optimizer, loss, t, y, v0, key, lr, l2, batch, chunks, chunk_len, average
    )
    v_avg = jax.tree.map(lambda s: s / (chunks * chunk_len), v_sum) if average else None
    trace_step = np.arange(1, chunks + 1) * chunk_len
    return LinearFit(v, v_avg, trace_step, np.asarray(losses))


# Module-level and keyed on names and shapes only, so every seed of a sweep reuses one
# compilation per worker (lr and l2 are traced).
@partial(jax.jit, static_argnums=(1, 2, 9, 10, 11, 12))
def _train(feature_map, optimizer, loss, t, y, v0, key, lr, l2, batch, chunks, chunk_len, avg):
    per_example = loss_fn(loss)

    def objective(v, idx):
        tb = jax.tree.map(lambda a: a[idx], t)
        f = feature_map.predict(v, tb)
        reg = 0.5 * l2 * sum(jnp.sum(a**2) for a in jax.tree.leaves(v))
        return jnp.mean(per_example(f, y[idx])) + reg

    opt = make_optimizer(optimizer, lr)
    m = y.shape[0]
    return chunked_descent(
        objective,
        opt,
        v0,
        key,
        m=m,
        batch=batch,
        chunks=chunks,
        chunk_len=chunk_len,
        full_batch=batch == m,
        average=avg,
    )


@jax.jit
def _apply_linear(feature_map, v, x):
    return feature_map.predict(v, feature_map.transform(x))


@dataclass(frozen=True)
class LinearHead(Learner):
    """Settings shared by the fixed-feature learners: how the output weights are trained."""

    TUNING_GRID: ClassVar[dict] = {
        "lr": (0.003, 0.01, 0.03),
        "l2": (1e-4, 1e-3, 1e-2),
        "steps": (1000, 3000),
    }

    optimizer: str = option("adam", "optimizer of the output weights", choices=OPTIMIZERS)
    steps: int = option(1000, "optimizer steps", min=1)
    lr: float = option(0.01, "learning rate", min=0, min_open=True)
    batch_size: int = option(1024, "minibatch size", min=1)
    l2: float = option(1e-3, "L2 penalty (l2/2)||v||^2 (regularised = the fairer baseline)", min=0)
    loss: str = option("hinge", "training loss", choices=LOSSES)
    iterate: str = option("final", "which iterate is scored", choices=ITERATES)

    def feature_map(self, n: int, key: jax.Array):
        """The fixed embedding for inputs of dimension n (drawn with ``key``)."""
        raise NotImplementedError

    def fit(self, data: TrainingData, *, key: jax.Array) -> Fit:
        """Train the output weights on ``data.train``; report N, B, energy and ||c||."""
        return self.fit_grid(data, key=key, points=[{}])[0]

    def fit_grid(self, data: TrainingData, *, key: jax.Array, points: list[dict]) -> list[Fit]:
        """One fit per point of a settings grid, all on the same embedding; the embedding's
        energy and correlation (which no trained setting changes) are estimated once.

        Args:
            data: training data.
            key: the run's key (every point uses it the same way).
            points: settings to replace, one dict per fit.

        Returns:
            one ``Fit`` per point.
        """
        k_map, k_fit, k_cert, k_energy = jax.random.split(key, 4)
        x, y = data.train.x, data.train.y
        fm = self.feature_map(int(x.shape[1]), k_map)
        energy, corr = self.energy_and_correlation(fm, data.problem.target, k_cert, k_energy)
        fits = []
        for point in points:
            s = dataclasses.replace(self, **point)
            res = train_linear(
                fm,
                x,
                y,
                key=k_fit,
                steps=s.steps,
                lr=s.lr,
                batch_size=s.batch_size,
                l2=s.l2,
                optimizer=s.optimizer,
                loss=s.loss,
                average=s.iterate == "average",
            )
            v = res.v if s.iterate == "final" else res.v_avg
            metrics = {
                "num_features": int(fm.num_features),
                "weight_norm": weight_norm(v),
                "feature_energy": energy,
                "corr_sq_norm": corr.sq_norm,
                "corr_sq_norm_se": corr.sq_norm_se,
                "corr_norm": corr.norm,
                "corr_norm_upper": corr.norm_upper,
            }
            traces = {"step": res.trace_step.tolist(), "train_loss": res.trace_loss.tolist()}
            state = {"features": fm, "v": v}
            fits.append(Fit(partial(_apply_linear, fm, v), metrics, traces, state=state))
        return fits

    def energy_and_correlation(self, fm, target, k_cert, k_energy):
        """E_U ||Psi||^2 and the estimate of ||E_U[f Psi]|| (Monte Carlo)."""
        energy = estimate_energy(fm, key=k_energy)
        corr = estimate_correlation(fm, target, key=k_cert, num_samples=self.cert_samples)
        return energy, corr


@dataclass(frozen=True)
class RandomFeatures(LinearHead):
    """Random ReLU features relu(W x + b) of a Gaussian-initialised width-q net (N = q)."""

    name = "random-features"
    cost = 1.0
    width: int = option(512, "number of random features q", min=1)
    cert_samples: int = option(CERT_SAMPLES, CERT_DOC, min=64)

    def feature_map(self, n: int, key: jax.Array):
        """relu(W x + b) with w ~ N(0, I/n), b ~ U[-1, 1]."""
        p = inits.gaussian_init(key, n, self.width, scale=1.0)
        return RandomReLUFeatures(p["W"], p["b"])


@dataclass(frozen=True)
class NTKLinearised(LinearHead):
    """The linearisation of a width-q net at a paired initialisation (N = q (n + 2))."""

    name = "ntk-linearised"
    cost = 2.0
    width: int = option(512, "hidden units q of the linearised net (even)", min=1)
    cert_samples: int = option(CERT_SAMPLES, CERT_DOC, min=64)

    def check(self) -> None:
        """The paired initialisation needs an even width."""
        check_width(self.width, even=True)

    def feature_map(self, n: int, key: jax.Array):
        """grad_theta g(theta_0; x) at a paired init with |u| = 1/sqrt(q), w ~ N(0, I/n)."""
        p = inits.paired_init(key, n, self.width, scale=1.0, output_abs=self.width**-0.5)
        return LinearisedFeatures(p)


@dataclass(frozen=True)
class LinearRaw(LinearHead):
    """A linear predictor on the raw input, Psi(x) = x (N = n)."""

    name = "linear-raw"
    cost = 0.5

    def feature_map(self, n: int, key: jax.Array):
        """The identity map."""
        return RawFeatures(n)

    def energy_and_correlation(self, fm, target, k_cert, k_energy):
        """Exact: E_U ||x||^2 = n and E_U[x_j f(x)] is f's degree-1 Fourier coefficient."""
        return float(fm.n), CorrelationEstimate(_degree_one_sq_norm(target), 0.0, 0)


def _degree_one_sq_norm(target) -> float:
    """sum_j (E_U[x_j f(x)])^2 for a sum of monomials: the squared degree-1 coefficients."""
    if not hasattr(target, "terms"):
        raise NotImplementedError("linear-raw needs a target given by monomials")
    coef: dict[int, float] = {}
    support = np.asarray(target.support)
    for term, c in zip(target.terms, target.coefs, strict=True):
        if len(term) == 1:
            j = int(support[term[0]])
            coef[j] = coef.get(j, 0.0) + c
    return float(sum(c * c for c in coef.values()))
