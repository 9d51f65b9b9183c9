"""The Daniely-Malach separation task: every learner on the same samples of D_A.

One run = (config, learner, seed). The seed alone fixes the support A, the training and test
samples, and every initialisation, so all learners of one seed see identical data. Metrics:
test hinge / accuracy overall and per part (easy, uniform), the linear-threshold reference,
and for every linear method its feature count N, output-weight norm B, feature energy
E_U ||Psi||^2, the estimated ||c_A|| and both lower bounds of science.md 1.3.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import partial

import jax
import numpy as np

from paritylab.data import check_dm_k, dm_sample, draw_support
from paritylab.errors import BadInput
from paritylab.lab.tasks import option
from paritylab.learners.fixed_features import train_linear, weight_norm
from paritylab.learners.joint import INITS, train_joint
from paritylab.learners.losses import LOSSES
from paritylab.learners.optimizers import OPTIMIZERS
from paritylab.learners.two_phase import support_weight_stats, train_two_phase
from paritylab.metrics import classification_metrics
from paritylab.models import mlp
from paritylab.models.features import LinearisedFeatures, RandomReLUFeatures, RawFeatures
from paritylab.theory import (
    certificate_bound,
    estimate_correlation,
    estimate_energy,
    linear_threshold_reference,
    typical_support_bound,
)

LEARNERS = (
    "two-phase",
    "joint-sgd",
    "random-features",
    "ntk-linearised",
    "linear-raw",
    "ntk-kernel",
)
LINEAR_LEARNERS = ("random-features", "ntk-linearised", "linear-raw", "ntk-kernel")
# Relative cost at the default setting, measured on one core: the executors start the
# longest runs first so that the last worker to finish is not left with a long run.
COST = {
    "ntk-kernel": 4.0,
    "joint-sgd": 3.0,
    "two-phase": 2.5,
    "ntk-linearised": 2.0,
    "random-features": 1.0,
    "linear-raw": 0.5,
}
ITERATES = ("final", "average")
TRAIN_ACC_SAMPLES = 2000  # train_acc is measured on the first 2,000 training samples


@dataclass(frozen=True)
class TwoPhaseConfig:
    """Knobs of the layer-wise algorithm (``paritylab.learners.two_phase``)."""

    init_scale: float = option(
        1.0,
        "std of W at init is init_scale/sqrt(n) (0 allowed; 1 spreads the phase-1 step sizes)",
        min=0,
    )
    bias_range: float = option(1.0, "biases b ~ U[-bias_range, bias_range]", min=0, min_open=True)
    eta: float | None = option(None, "phase-1 step size; 'auto' = 4 q / k", min=0, min_open=True)
    weight_decay: float | None = option(None, "phase-1 L2 lambda; 'auto' = 1/(2 eta)", min=0)
    phase1_batch: int | None = option(None, "phase-1 batch; 'auto' = all samples", min=1)
    optimizer: str = option("adam", "phase-2 optimizer of u", choices=OPTIMIZERS)
    steps: int = option(2000, "phase-2 steps", min=1)
    lr: float = option(0.01, "phase-2 learning rate", min=0, min_open=True)
    batch_size: int = option(1024, "phase-2 minibatch size", min=1)
    l2: float = option(0.0, "phase-2 L2 penalty (l2/2)||u||^2", min=0)
    iterate: str = option("final", "which phase-2 iterate is scored", choices=ITERATES)


@dataclass(frozen=True)
class JointConfig:
    """Knobs of plain joint training (``paritylab.learners.joint``)."""

    init: str = option("gaussian", "initialisation family", choices=INITS)
    init_scale: float = option(1.0, "std of W at init is init_scale/sqrt(n)", min=0)
    bias_range: float = option(1.0, "biases b ~ U[-bias_range, bias_range]", min=0)
    optimizer: str = option("sgd", "optimizer", choices=OPTIMIZERS)
    lr: float = option(0.5, "learning rate", min=0, min_open=True)
    weight_decay: float = option(0.0, "weight decay", min=0)
    loss: str = option("hinge", "training loss", choices=LOSSES)
    steps: int = option(10000, "training steps", min=1)
    batch_size: int = option(64, "minibatch size", min=1)


@dataclass(frozen=True)
class LinearConfig:
    """How the output weights of every fixed embedding are trained (hinge loss)."""

    optimizer: str = option("adam", "optimizer", choices=OPTIMIZERS)
    steps: int = option(1000, "steps", min=1)
    lr: float = option(0.01, "learning rate", min=0, min_open=True)
    batch_size: int = option(1024, "minibatch size", min=1)
    l2: float = option(1e-3, "L2 penalty (l2/2)||v||^2 (regularised = the fairer baseline)", min=0)
    iterate: str = option("final", "which iterate is scored", choices=ITERATES)


@dataclass(frozen=True)
class KernelConfig:
    """Exact kernel ridge regression with the closed-form two-layer ReLU NTK."""

    sigma_w: float = option(1.0, "first-layer weight std (NTK parameterisation)", min=0)
    sigma_b: float = option(
        1.0, "bias std; 0 makes odd parities of degree >= 3 unrepresentable", min=0
    )
    ridge: float = option(1.0, "ridge lambda in (K + lambda I) alpha = y", min=0, min_open=True)
    max_samples: int = option(
        20000, "use at most this many training samples (exact Cholesky)", min=1
    )


@dataclass(frozen=True)
class DMConfig:
    """The Daniely-Malach separation experiment."""

    n: int = option(50, "input dimension", min=1)
    k: int = option(5, "parity degree (odd)", min=1)
    width: int = option(512, "hidden units q of every network / feature map", min=1)
    n_train: int = option(10000, "training samples shared by all learners", min=2)
    n_test: int = option(10000, "test samples", min=1)
    easy_fraction: float = option(0.5, "mixture weight of the easy part", min=0, max=1)
    allow_even_k: bool = option(False, "allow even k (the easy-part signal vanishes)")
    cert_samples: int = option(131072, "fresh uniform samples to estimate ||c_A||", min=16)
    two_phase: TwoPhaseConfig = field(default_factory=TwoPhaseConfig)
    joint_sgd: JointConfig = field(default_factory=JointConfig)
    linear: LinearConfig = field(default_factory=LinearConfig)
    kernel: KernelConfig = field(default_factory=KernelConfig)

    def check(self) -> None:
        check_dm_k(self.n, self.k, allow_even_k=self.allow_even_k)
        if self.width % 2:
            raise BadInput(f"width={self.width} must be even (paired initialisation)")


CONFIG = DMConfig


@dataclass(frozen=True)
class _Data:
    support: np.ndarray
    train: object
    test: object


def make_data(config: DMConfig, seed: int) -> _Data:
    """Support, train and test samples of one seed (shared by every learner)."""
    k_a, k_train, k_test = jax.random.split(jax.random.fold_in(jax.random.key(seed), 0), 3)
    support = draw_support(k_a, config.n, config.k)
    frac = config.easy_fraction
    train = dm_sample(k_train, config.n_train, config.n, support, easy_fraction=frac)
    test = dm_sample(k_test, config.n_test, config.n, support, easy_fraction=frac)
    return _Data(support, train, test)


def run(config: DMConfig, *, learner: str, seed: int) -> dict:
    """Train ``learner`` on the seed's sample of D_A and score it on the seed's test sample."""
    if learner not in LEARNERS:
        raise BadInput(f"learner={learner!r} is not known for task dm: allowed {LEARNERS}")
    config.check()
    data = make_data(config, seed)
    key = jax.random.fold_in(jax.random.key(seed), 1 + LEARNERS.index(learner))
    start = time.perf_counter()
    predict, extra, traces = _LEARNER_FNS[learner](config, data, key)
    fit_s = time.perf_counter() - start
    test = data.test
    metrics = classification_metrics(np.asarray(predict(test.x)), test.y, test.part)
    sub = slice(0, min(TRAIN_ACC_SAMPLES, config.n_train))  # a diagnostic: keep it cheap
    train_f = np.asarray(predict(data.train.x[sub]))
    metrics["train_acc"] = classification_metrics(train_f, data.train.y[sub])["test_acc"]
    ref = linear_threshold_reference(config.k, easy_fraction=config.easy_fraction)
    metrics["reference_acc_uniform"] = ref["uniform"]
    metrics["reference_acc"] = ref["overall"]
    metrics.update(extra)
    info = {"support": [int(i) for i in data.support], "fit_s": fit_s}
    return {"metrics": metrics, "traces": traces, "info": info}


def _two_phase(config: DMConfig, data: _Data, key):
    c = config.two_phase
    res = train_two_phase(
        data.train.x,
        data.train.y,
        key=key,
        width=config.width,
        k=config.k,
        init_scale=c.init_scale,
        bias_range=c.bias_range,
        eta=c.eta,
        weight_decay=c.weight_decay,
        phase1_batch=c.phase1_batch,
        phase2_optimizer=c.optimizer,
        phase2_steps=c.steps,
        phase2_lr=c.lr,
        phase2_batch=c.batch_size,
        phase2_l2=c.l2,
    )
    params = res.params if c.iterate == "final" else res.params_avg
    extra = support_weight_stats(res.params_phase1, data.support)
    traces = {"step": res.fit.trace_step.tolist(), "train_loss": res.fit.trace_loss.tolist()}
    return partial(_apply_net, params), extra, traces


def _joint(config: DMConfig, data: _Data, key):
    c = config.joint_sgd
    res = train_joint(
        data.train.x,
        data.train.y,
        key=key,
        width=config.width,
        init=c.init,
        init_scale=c.init_scale,
        bias_range=c.bias_range,
        optimizer=c.optimizer,
        lr=c.lr,
        weight_decay=c.weight_decay,
        loss=c.loss,
        steps=c.steps,
        batch_size=c.batch_size,
    )
    extra = support_weight_stats(res.params, data.support)
    traces = {"step": res.trace_step.tolist(), "train_loss": res.trace_loss.tolist()}
    return partial(_apply_net, res.params), extra, traces


# Module-level jitted predictors (parameters passed as arguments, not baked in as
# constants), so the seeds of a sweep reuse one compilation per worker.
_apply_net = jax.jit(mlp.apply)


@jax.jit
def _apply_linear(feature_map, v, x):
    return feature_map.predict(v, feature_map.transform(x))


def _feature_map(config: DMConfig, learner: str, key):
    if learner == "random-features":
        p = mlp.gaussian_init(key, config.n, config.width, scale=1.0)
        return RandomReLUFeatures(p["W"], p["b"])
    if learner == "ntk-linearised":
        p = mlp.paired_init(key, config.n, config.width, scale=1.0, output_abs=config.width**-0.5)
        return LinearisedFeatures(p)
    return RawFeatures(config.n)


def _linear(learner: str):
    def fit(config: DMConfig, data: _Data, key):
        k_map, k_fit, k_cert, k_energy = jax.random.split(key, 4)
        fm = _feature_map(config, learner, k_map)
        c = config.linear
        res = train_linear(
            fm,
            data.train.x,
            data.train.y,
            key=k_fit,
            steps=c.steps,
            lr=c.lr,
            batch_size=c.batch_size,
            l2=c.l2,
            optimizer=c.optimizer,
        )
        v = res.v if c.iterate == "final" else res.v_avg
        if isinstance(fm, RawFeatures):
            energy, corr = float(config.n), _exact_raw_correlation(config.k)
        else:
            energy = estimate_energy(fm, key=k_energy)
            corr = estimate_correlation(
                fm, data.support, key=k_cert, num_samples=config.cert_samples
            )
        extra = _bound_metrics(config, fm.num_features, weight_norm(v), energy, corr)
        traces = {"step": res.trace_step.tolist(), "train_loss": res.trace_loss.tolist()}
        return partial(_apply_linear, fm, v), extra, traces

    return fit


def _exact_raw_correlation(k: int):
    """E_U[x_j chi_A(x)] is 1 if A = {j} and 0 otherwise, so ||c_A|| = 1[k = 1] exactly."""
    from paritylab.theory import CorrelationEstimate

    return CorrelationEstimate(1.0 if k == 1 else 0.0, 0.0, 0)


def _bound_metrics(config: DMConfig, num_features: int, norm: float, energy: float, corr) -> dict:
    w = 1.0 - config.easy_fraction  # the bound lives on the uniform part
    return {
        "num_features": int(num_features),
        "weight_norm": norm,
        "feature_energy": energy,
        "corr_norm": corr.norm,
        "corr_norm_upper": corr.norm_upper,
        "bound_certificate": certificate_bound(norm, corr.norm_upper, uniform_weight=w),
        "bound_typical": typical_support_bound(norm, energy, config.n, config.k, uniform_weight=w),
        "log10_binom_nk": math.log10(math.comb(config.n, config.k)),
    }


def _kernel(config: DMConfig, data: _Data, key):
    """Exact NTK ridge on the first ``kernel.max_samples`` training points. The RKHS norm is
    the B of the bound, E_U k(x, x) = kappa(n) the energy, and ||c_A||^2 =
    E_z[chi_A(z) kappa(sum z)] is exact (Krawtchouk sum), so the certificate has no error."""
    from paritylab.learners.kernel_ridge import fit_kernel_ridge
    from paritylab.models.kernels import TwoLayerReLUKernel, energy, parity_correlation_sq_norm
    from paritylab.theory import CorrelationEstimate

    c = config.kernel
    kernel = TwoLayerReLUKernel(kind="ntk", sigma_w=c.sigma_w, sigma_b=c.sigma_b)
    m = min(c.max_samples, config.n_train)
    x = np.asarray(data.train.x[:m])
    model = fit_kernel_ridge(kernel, x, np.asarray(data.train.y[:m], np.float64), ridge=c.ridge)
    corr_sq = parity_correlation_sq_norm(kernel, config.n, config.k)
    corr = CorrelationEstimate(corr_sq, 0.0, 0)
    extra = _bound_metrics(config, m, model.rkhs_norm, energy(kernel, config.n), corr)
    extra["kernel_samples"] = m
    return (lambda xs: model.predict(np.asarray(xs))), extra, {}


_LEARNER_FNS = {
    "two-phase": _two_phase,
    "joint-sgd": _joint,
    "random-features": _linear("random-features"),
    "ntk-linearised": _linear("ntk-linearised"),
    "linear-raw": _linear("linear-raw"),
    "ntk-kernel": _kernel,
}
