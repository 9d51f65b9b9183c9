"""Kernel ridge regression in float64: exact (Cholesky) and Nystroem.

Exact: alpha = (K + ridge I)^-1 y, the minimiser of ||y - K a||^2 + ridge a^T K a, i.e. the
same convention as scikit-learn's ``KernelRidge(alpha=ridge)`` (ridge is NOT scaled by the
number of samples). The predictor is h(x) = sum_i alpha_i k(x_i, x) with RKHS norm
B = sqrt(alpha^T K alpha) = sqrt(alpha^T (y - ridge alpha)) (because K alpha = y - ridge alpha),
the B of the linear-method lower bound. The Gram matrix is factorised in place (one
m x m float64 array, never a copy) and discarded; training predictions are y - ridge alpha.

Nystroem (Williams & Seeger 2001; the subset-of-regressors estimator): m centres C drawn
uniformly without replacement from the training rows (``seed``), h(x) = k_C(x)^T beta with

    beta = argmin ||y - K_nC beta||^2 + ridge beta^T K_CC beta,

solved stably in the feature space Phi = K_nC V_r E_r^{-1/2} (K_CC = V E V^T, eigenvalues below
``rcond`` * max dropped, as scikit-learn's ``Nystroem``): (Phi^T Phi + ridge I) w = Phi^T y,
beta = V_r E_r^{-1/2} w, RKHS norm ||w||. With all training points as centres it is the exact
estimator. The approximation changes the answer: report num_centres.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.linalg

from paritylab.errors import BadInput, check_range
from paritylab.learners.base import Fit, Learner, TrainingData
from paritylab.models.correlation import CorrelationEstimate
from paritylab.models.kernels import (
    ExpectedNetworkNTK,
    TwoLayerReLUKernel,
    energy,
    parity_correlation_sq_norm,
)
from paritylab.options import option

_CHUNK_ENTRIES = 1 << 22  # kernel entries per block at prediction / Nystroem accumulation


@dataclass(frozen=True)
class KernelRidgeModel:
    """A fitted kernel predictor h(x) = sum_j coef_j k(centres_j, x).

    ``rkhs_norm`` is ||h||_H; ``train_predictions`` are h on the training inputs;
    ``num_train`` the number of training samples; ``num_centres`` the expansion size
    (= num_train for the exact solver)."""

    kernel: object
    centres: np.ndarray
    coef: np.ndarray
    ridge: float
    rkhs_norm: float
    num_train: int
    train_predictions: np.ndarray
    method: str = "exact"

    @property
    def num_centres(self) -> int:
        return int(self.centres.shape[0])

    def predict(self, X, *, chunk_rows: int | None = None) -> np.ndarray:
        """h(X) in float64, computed in row blocks of at most ``chunk_rows`` rows (default:
        about 4M kernel entries per block), so memory stays O(chunk_rows * num_centres)."""
        X = np.asarray(X)
        rows = chunk_rows or max(1, _CHUNK_ENTRIES // max(self.num_centres, 1))
        out = np.empty(X.shape[0], np.float64)
        for i in range(0, X.shape[0], rows):
            out[i : i + rows] = self.kernel.kernel_matrix(X[i : i + rows], self.centres) @ self.coef
        return out


def _check_xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    y = np.asarray(y, np.float64)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0] or X.shape[0] < 1:
        raise BadInput(f"need X (m, n) and y (m,) with m >= 1, got X {X.shape} and y {y.shape}")
    return X, y


def fit_kernel_ridge(kernel, X, y, *, ridge: float) -> KernelRidgeModel:
    """Exact kernel ridge regression alpha = (K + ridge I)^-1 y by an in-place Cholesky.

    ``kernel`` is any object with ``kernel_matrix(X1, X2=None, *, out=None)`` (e.g.
    ``paritylab.models.kernels.TwoLayerReLUKernel()``). Peak memory is one m x m float64
    matrix plus O(m). ridge = 0 works only when K is positive definite.
    """
    X, y = _check_xy(X, y)
    check_range("ridge", ridge, lo=0.0)
    m = X.shape[0]
    gram = kernel.kernel_matrix(X)
    gram.flat[:: m + 1] += ridge
    try:  # gram.T is the same symmetric matrix in Fortran order, so LAPACK works in place
        factor = scipy.linalg.cho_factor(gram.T, lower=True, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError as err:
        raise BadInput(
            f"K + ridge I is not positive definite at ridge={ridge!r}: use ridge > 0"
        ) from err
    alpha = scipy.linalg.cho_solve(factor, y, check_finite=False)
    del factor, gram
    train_pred = y - ridge * alpha
    norm = math.sqrt(max(0.0, float(alpha @ train_pred)))
    return KernelRidgeModel(kernel, X, alpha, float(ridge), norm, m, train_pred)


def fit_nystroem_ridge(
    kernel, X, y, *, ridge: float, num_centres: int, seed: int, rcond: float = 1e-12
) -> KernelRidgeModel:
    """Nystroem kernel ridge regression with ``num_centres`` centres drawn from the training
    rows by ``np.random.default_rng(seed)`` (module docstring). Memory is O(num_centres^2 +
    block * num_centres): K_nC is never held whole."""
    X, y = _check_xy(X, y)
    check_range("ridge", ridge, lo=0.0)
    m = X.shape[0]
    if not isinstance(num_centres, int) or not 1 <= num_centres <= m:
        raise BadInput(f"num_centres={num_centres!r} is out of range: allowed 1 <= c <= m={m}")
    rng = np.random.default_rng(seed)
    centres = X[np.sort(rng.choice(m, num_centres, replace=False))]
    evals, evecs = scipy.linalg.eigh(kernel.kernel_matrix(centres), check_finite=False)
    keep = evals > rcond * max(float(evals[-1]), 0.0)
    if not np.any(keep):
        raise BadInput("the kernel matrix of the centres is zero: no Nystroem features")
    proj = evecs[:, keep] / np.sqrt(evals[keep])  # K_CC^{-1/2} on its range, (c, r)
    r = proj.shape[1]
    gram = np.zeros((r, r))
    rhs = np.zeros(r)
    rows = max(1, _CHUNK_ENTRIES // num_centres)
    for i in range(0, m, rows):
        phi = kernel.kernel_matrix(X[i : i + rows], centres) @ proj
        gram += phi.T @ phi
        rhs += phi.T @ y[i : i + rows]
    gram.flat[:: r + 1] += ridge
    try:
        w = scipy.linalg.solve(gram, rhs, assume_a="pos", check_finite=False)
    except np.linalg.LinAlgError as err:
        raise BadInput(f"Nystroem system is singular at ridge={ridge!r}: use ridge > 0") from err
    coef = proj @ w
    model = KernelRidgeModel(
        kernel, centres, coef, float(ridge), float(np.linalg.norm(w)), m, np.empty(0), "nystroem"
    )
    return dataclasses.replace(model, train_predictions=model.predict(X))


def fit_kernel_ridge_path(kernel, X, y, *, ridges) -> list[KernelRidgeModel]:
    """Exact kernel ridge regression for several ridges, building the Gram matrix once.

    Each ridge gets its own Cholesky factorisation of a copy of K + ridge I: for the handful of
    ridges of a tuning grid this costs less than one symmetric eigendecomposition (about 9 m^3
    against m^3 / 3 flops per factorisation).

    Args:
        kernel: a kernel with ``kernel_matrix``.
        X: training inputs (m, n).
        y: labels (m,).
        ridges: the ridge values.

    Returns:
        one ``KernelRidgeModel`` per ridge, as ``fit_kernel_ridge`` would give.
    """
    X, y = _check_xy(X, y)
    m = X.shape[0]
    gram = kernel.kernel_matrix(X)
    models = []
    for ridge in ridges:
        check_range("ridge", ridge, lo=0.0)
        shifted = gram.copy()
        shifted.flat[:: m + 1] += ridge
        try:
            factor = scipy.linalg.cho_factor(shifted.T, lower=True, overwrite_a=True)
        except np.linalg.LinAlgError as err:
            raise BadInput(f"K + ridge I is not positive definite at ridge={ridge!r}") from err
        alpha = scipy.linalg.cho_solve(factor, y, check_finite=False)
        del factor, shifted
        train_pred = y - ridge * alpha
        norm = math.sqrt(max(0.0, float(alpha @ train_pred)))
        models.append(KernelRidgeModel(kernel, X, alpha, float(ridge), norm, m, train_pred))
    return models


@dataclass(frozen=True)
class KernelRidgeLearner(Learner):
    """Exact kernel ridge on the first ``max_samples`` training rows of a parity problem.

    A subclass names its kernel (``kernel()``). Reports: N = the training samples used, B = the
    RKHS norm of the predictor, the energy E_U k(x, x) = kappa(n) and, for a parity target,
    the exact ||c||^2 = E_z[chi_A(z) kappa(sum z)] (a Krawtchouk sum), so the certificate has no
    estimation error.
    """

    ridge: float = option(1.0, "ridge lambda in (K + lambda I) alpha = y", min=0, min_open=True)
    max_samples: int = option(
        20000, "use at most this many training samples (exact Cholesky)", min=1
    )

    def kernel(self):
        """The kernel of these settings."""
        raise NotImplementedError

    def fit(self, data: TrainingData, *, key) -> Fit:
        """Solve on the first ``max_samples`` training rows; report N, B, energy, ||c||."""
        return self.fit_grid(data, key=key, points=[{}])[0]

    def fit_grid(self, data: TrainingData, *, key, points: list[dict]) -> list[Fit]:
        """One fit per point; points that change only the ridge share one Gram matrix.

        Args:
            data: training data.
            key: unused (kernel ridge is deterministic).
            points: settings to replace, one dict per fit.

        Returns:
            one ``Fit`` per point.
        """
        target = data.problem.target
        if not getattr(target, "boolean", False) or len(getattr(target, "terms", ())) != 1:
            raise BadInput(f"{self.name} computes its exact correlation for parity targets only")
        if any(set(p) - {"ridge"} for p in points):
            return [dataclasses.replace(self, **p).fit(data, key=key) for p in points]
        kernel = self.kernel()
        m = min(self.max_samples, int(data.train.y.shape[0]))
        x = np.asarray(data.train.x[:m])
        y = np.asarray(data.train.y[:m], np.float64)
        ridges = [p.get("ridge", self.ridge) for p in points]
        n = int(x.shape[1])
        corr = CorrelationEstimate(parity_correlation_sq_norm(kernel, n, target.degree), 0.0, 0)
        common = {
            "num_features": m,
            "feature_energy": energy(kernel, n),
            "corr_sq_norm": corr.sq_norm,
            "corr_sq_norm_se": corr.sq_norm_se,
            "corr_norm": corr.norm,
            "corr_norm_upper": corr.norm_upper,
            "kernel_samples": m,
        }
        fits = []
        for model in fit_kernel_ridge_path(kernel, x, y, ridges=ridges):
            metrics = {**common, "weight_norm": model.rkhs_norm}
            predict = _KernelPredictor(model)
            fits.append(Fit(predict, metrics, {}, state={"model": model}))
        return fits


class _KernelPredictor:
    """h(x) of a fitted kernel model, on any array-like input."""

    def __init__(self, model: KernelRidgeModel):
        self.model = model

    def __call__(self, xs) -> np.ndarray:
        return self.model.predict(np.asarray(xs))


@dataclass(frozen=True)
class NTKKernel(KernelRidgeLearner):
    """Exact kernel ridge regression with the closed-form NTK of an NTK-parameterised two-layer
    ReLU net with Gaussian biases.

    The kernel (``paritylab.models.kernels.TwoLayerReLUKernel``) is the infinite-width NTK of
    f(x) = q^-1/2 sum_i u_i relu(sigma_w <w_i, x>/sqrt(n) + sigma_b b_i) with all parameters
    N(0, 1). It is a valid kernel baseline, but NOT the kernel of the network in the table (the
    standard-parameterised net with uniform biases that ``random-features`` and
    ``ntk-linearised`` use): that network's own expected NTK is the learner
    ``network-kernel``. The RKHS norm of the predictor is the B of the lower bound,
    E_U k(x, x) = kappa(n) the energy, and for a parity target ||c||^2 =
    E_z[chi_A(z) kappa(sum z)] is exact (a Krawtchouk sum), so its certificate has no error.
    """

    name = "ntk-kernel"
    cost = 4.0
    sigma_w: float = option(
        1.0, "first-layer weight std of the NTK-parameterised net (w ~ N(0, sigma_w^2 / n))", min=0
    )
    sigma_b: float = option(
        1.0,
        "Gaussian bias std of the NTK-parameterised net; 0 makes odd parities of degree >= 3 "
        "unrepresentable",
        min=0,
    )

    # Down to 1e-4: at (50, 5) with 10,000 samples the smallest of 0.01 .. 100 won every time.
    TUNING_GRID: ClassVar[dict] = {"ridge": (1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0, 100.0)}

    def kernel(self) -> TwoLayerReLUKernel:
        """The closed-form NTK of these settings."""
        return TwoLayerReLUKernel(kind="ntk", sigma_w=self.sigma_w, sigma_b=self.sigma_b)


@dataclass(frozen=True)
class NetworkKernel(KernelRidgeLearner):
    """Exact kernel ridge regression with the expected NTK of the network in the table.

    The network is the one ``ntk-linearised`` linearises: g(x) = sum_i u_i relu(<w_i, x> + b_i)
    with w ~ N(0, I/n), b ~ U[-r, r] and u_i^2 = 1/q, and the kernel is its expected empirical
    NTK E Theta_q(x, x') = q E[relu(z) relu(z')] + (<x, x'> + 1) E[1[z > 0] 1[z' > 0]]
    (``paritylab.models.kernels.ExpectedNetworkNTK``, which derives it): ``ntk-linearised`` at
    width q draws one Theta_q, this learner uses its mean. Reports as ``ntk-kernel``: N = the
    training samples used, B = the RKHS norm of the predictor, energy E_U k(x, x) and the exact
    ||c_A|| of a parity target (a Krawtchouk sum).
    """

    name = "network-kernel"
    cost = 4.0
    width: int = option(512, "hidden units q of the network (weighs the output-layer term)", min=1)
    bias_range: float = option(1.0, "first-layer biases b ~ U[-r, r] of the network", min=0)
    # Its diagonal is about q E[relu(z)^2] (~370 at q = 512, r = 1): ridges in those units.
    TUNING_GRID: ClassVar[dict] = {"ridge": (1.0, 10.0, 100.0, 1000.0, 10000.0)}

    def kernel(self) -> ExpectedNetworkNTK:
        """The kernel of these settings."""
        return ExpectedNetworkNTK(width=self.width, bias_range=self.bias_range)
