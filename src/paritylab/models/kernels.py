"""Closed-form kernels on {-1,+1}^n (float64 numpy), and their exact parity correlations.

All kernels here are dot-product kernels: k(x, x') depends on <x, x'>, ||x||^2, ||x'||^2 only.
On the cube ||x||^2 = n, so k(x, x') = kappa(<x, x'>) with s = <x, x'> an integer in [-n, n]
(of the parity of n): ``kernel_matrix`` computes the inner products with one (float32, exact)
matmul and gathers from a table of the 2n + 1 values of kappa (measured: 2 s instead of 25 s
for a 20k x 20k NTK). Inputs off the cube take the generic, elementwise path.

Two-layer ReLU network with bias, NTK parameterisation (Jacot et al. 2018; Lee et al. 2019;
the ``stax.Dense(W_std, b_std, parameterization="ntk")`` + ``stax.Relu`` of neural-tangents):

    f(x) = (1/sqrt(q)) sum_i u_i relu(sigma_w <w_i, x>/sqrt(n) + sigma_b b_i),  all params N(0,1)
    Sigma(x, x') = sigma_w^2 <x, x'>/n + sigma_b^2        (so Sigma(x, x) = sigma_w^2 + sigma_b^2)
    rho = Sigma(x, x') / sqrt(Sigma(x, x) Sigma(x', x')),  t = arccos(rho)
    NNGP   K1 = E[relu(z) relu(z')] = sqrt(S S') / (2 pi) (sin t + (pi - t) cos t)
    deriv. K0 = E[relu'(z) relu'(z')] = (pi - t) / (2 pi)
    NTK    Theta = K1 + Sigma K0        (u, w and b all trained; q -> infinity)

This closed form is a valid kernel baseline, but it is not the kernel of the network that the
fixed-feature learners use (standard parameterisation, uniform biases, u_i^2 = 1/q).
``ExpectedNetworkNTK`` is that network's own expected NTK,

    E Theta_q(x, x') = q E[relu(z) relu(z')] + (<x, x'> + 1) E[1[z > 0] 1[z' > 0]],
    z = <w, x> + b,  w ~ N(0, I/n),  b ~ U[-r, r],

computed in closed form given b and by Gauss-Legendre quadrature over b (its docstring).

Bias trap: with sigma_b = 0, rho = s/n and, as power series in rho, K0 is
1/4 + odd powers and K1 is rho/4 + even powers, so Theta = rho-linear term + even powers. On the
cube the degree-k Fourier eigenvalue of kappa(<x,x'>) only receives powers rho^j with j >= k of
the parity of k, hence every odd parity of degree k >= 3 has ||c_A|| = 0 exactly: the bias-free
NTK/NNGP cannot represent it at all. The bias is therefore ON by default (sigma_b = 1); the same
holds for the arc-cosine kernels (order 1 misses odd k >= 3, order 0 misses even k >= 2 when
bias = 0).

Exact parity correlation (for the certificate of a kernel method): with c_A = E_U[chi_A(x) k(x, .)],
||c_A||^2_H = E_{x,x'}[chi_A(x) chi_A(x') kappa(<x,x'>)] = E_z[chi_A(z) kappa(sum z)]
= 2^-n sum_d K_k(d) kappa(n - 2d), K_k(d) = sum_j (-1)^j C(k, j) C(n-k, d-j) the Krawtchouk
polynomial; it equals the Mercer eigenvalue of degree k and does not depend on which A.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.special

from paritylab.errors import BadInput, check_range, suggest

_CHUNK_ENTRIES = 1 << 22  # entries of the kernel matrix computed per block (bounds temporaries)


class _DotProductKernel:
    """Shared machinery: a subclass defines ``_evaluate(s, sq1, sq2, dim)`` (vectorised)."""

    def _evaluate(self, s, sq1, sq2, dim: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def kappa(self, s, n: int) -> np.ndarray:
        """kappa(s) = k(x, x') on {-1,+1}^n as a function of s = <x, x'> (vectorised)."""
        s = np.asarray(s, np.float64)
        return self._evaluate(s, float(n), float(n), int(n))

    def profile(self, n: int) -> Callable[[np.ndarray], np.ndarray]:
        """The one-argument function s -> kappa(s) on {-1,+1}^n."""
        return lambda s: self.kappa(s, n)

    def kernel_matrix(self, X1, X2=None, *, out: np.ndarray | None = None) -> np.ndarray:
        """K[i, j] = k(X1[i], X2[j]) in float64, shape (m1, m2); X2 defaults to X1.

        Cube inputs (all entries +-1) use the gather table; other inputs the generic path.
        ``out`` (float64, shape (m1, m2)) is filled in place to avoid a second allocation.
        Work is done in row blocks, so temporaries stay at a few tens of MB.
        """
        X1 = _as_2d(X1, "X1")
        X2 = X1 if X2 is None else _as_2d(X2, "X2")
        if X1.shape[1] != X2.shape[1]:
            raise BadInput(f"X1 has {X1.shape[1]} columns but X2 has {X2.shape[1]}")
        m1, m2, dim = X1.shape[0], X2.shape[0], X1.shape[1]
        if out is None:
            out = np.empty((m1, m2), np.float64)
        elif out.shape != (m1, m2) or out.dtype != np.float64:
            raise BadInput(f"out must be float64 of shape {(m1, m2)}, got {out.dtype} {out.shape}")
        rows = max(1, _CHUNK_ENTRIES // max(m2, 1))
        if _on_cube(X1) and (X2 is X1 or _on_cube(X2)) and dim < 1 << 24:
            table = self.kappa(np.arange(-dim, dim + 1), dim)
            # sums of +-1 are integers below 2^24, exact in float32 whatever the BLAS order
            a, b = X1.astype(np.float32), X2.astype(np.float32).T
            for i in range(0, m1, rows):
                s = a[i : i + rows] @ b
                s += dim  # now in [0, 2 dim], exact, so the cast below is exact
                np.take(table, s.astype(np.intp), out=out[i : i + rows])
        else:
            a, b = X1.astype(np.float64), X2.astype(np.float64)
            sq1, sq2 = np.einsum("ij,ij->i", a, a), np.einsum("ij,ij->i", b, b)
            for i in range(0, m1, rows):
                s = a[i : i + rows] @ b.T
                out[i : i + rows] = self._evaluate(s, sq1[i : i + rows, None], sq2[None, :], dim)
        return out

    def diag(self, X) -> np.ndarray:
        """k(x, x) for each row of X."""
        X = _as_2d(X, "X").astype(np.float64)
        sq = np.einsum("ij,ij->i", X, X)
        return self._evaluate(sq, sq, sq, X.shape[1])


def _relu_moments(sig, sq1, sq2) -> tuple[np.ndarray, np.ndarray]:
    """(K1, K0) for a centred Gaussian pair with variances sq1, sq2 and covariance sig:
    K1 = (sqrt(S S' - Sigma^2) + (pi - t) Sigma) / (2 pi), K0 = (pi - t) / (2 pi)."""
    prod = np.asarray(sq1 * sq2, np.float64)
    safe = np.where(prod > 0, prod, 1.0)
    rho = np.clip(np.where(prod > 0, sig / np.sqrt(safe), 0.0), -1.0, 1.0)
    angle = np.pi - np.arccos(rho)
    k1 = (np.sqrt(np.maximum(prod - sig * sig, 0.0)) + angle * sig) / (2.0 * np.pi)
    return k1, angle / (2.0 * np.pi)


@dataclass(frozen=True)
class TwoLayerReLUKernel(_DotProductKernel):
    """Infinite-width kernel of the two-layer ReLU net with bias (module docstring).

    kind="ntk": Theta = K1 + Sigma K0 (Jacot et al. 2018; Lee et al. 2019);
    kind="nngp": K1 = E[relu(z) relu(z')] (the GP of the output at init).
    Off the cube, Sigma(x, x') = sigma_w^2 <x, x'>/dim + sigma_b^2 with the actual norms.
    sigma_b = 0 is allowed but cannot represent odd parities of degree >= 3 (module docstring).
    """

    kind: str = "ntk"
    sigma_w: float = 1.0
    sigma_b: float = 1.0

    def __post_init__(self):
        if self.kind not in ("ntk", "nngp"):
            raise BadInput(
                f"kind={self.kind!r} is not known: allowed 'ntk' or 'nngp'"
                + suggest(self.kind, ("ntk", "nngp"))
            )
        check_range("sigma_w", self.sigma_w, lo=0.0)
        check_range("sigma_b", self.sigma_b, lo=0.0)

    @property
    def name(self) -> str:
        return f"relu-{self.kind}"

    def _evaluate(self, s, sq1, sq2, dim):
        w2, b2 = self.sigma_w**2, self.sigma_b**2
        sig = w2 * s / dim + b2
        k1, k0 = _relu_moments(sig, w2 * sq1 / dim + b2, w2 * sq2 / dim + b2)
        return k1 + sig * k0 if self.kind == "ntk" else k1


# Gauss-Legendre nodes per half of the bias interval [-r, 0] and [0, r]: the integrand is
# analytic in b on each half (measured: 48 nodes reach 1e-15 at |rho| <= 0.999).
_BIAS_NODES = 64


def _relu_moments_given_bias(rho, beta) -> tuple[np.ndarray, np.ndarray]:
    """(E[relu(g + beta) relu(g' + beta)], P(g + beta > 0, g' + beta > 0)) for a standard
    Gaussian pair (g, g') of correlation rho, in closed form; broadcasts rho against beta.

    With s = sqrt(1 - rho^2), gamma = sqrt((1 - rho) / (1 + rho)) and Owen's T function,
    L = P(both > 0) = Phi(beta) - 2 T(beta, gamma) (Owen, "Tables for computing bivariate
    normal probabilities", 1956, https://doi.org/10.1214/aoms/1177728074), and by Gaussian
    integration by parts (Stein's identity E[g h(g, g')] = E[d_g h] + rho E[d_g' h])
        E[relu relu] = (rho + beta^2) L + 2 beta phi(beta) Phi(beta gamma)
                       + s exp(-beta^2 / (1 + rho)) / (2 pi).
    rho = 1 reduces to (1 + beta^2) Phi(beta) + beta phi(beta) and Phi(beta); rho = -1 (g' = -g)
    is taken separately: L = max(2 Phi(beta) - 1, 0), E = (beta^2 - 1) L + 2 beta phi(beta)
    for beta > 0, else 0.
    """
    rho = np.clip(np.asarray(rho, np.float64), -1.0, 1.0)
    beta = np.asarray(beta, np.float64)
    anti = rho <= -1.0
    r = np.where(anti, 0.0, rho)  # placeholder where rho = -1 (replaced below)
    s = np.sqrt(np.maximum(1.0 - r * r, 0.0))
    gamma = np.sqrt((1.0 - r) / (1.0 + r))
    pdf = np.exp(-0.5 * beta * beta) / math.sqrt(2.0 * math.pi)
    both = scipy.special.ndtr(beta) - 2.0 * scipy.special.owens_t(beta, gamma)
    prod = (
        (r + beta * beta) * both
        + 2.0 * beta * pdf * scipy.special.ndtr(beta * gamma)
        + s * np.exp(-beta * beta / (1.0 + r)) / (2.0 * math.pi)
    )
    both_anti = np.maximum(2.0 * scipy.special.ndtr(beta) - 1.0, 0.0)
    prod_anti = np.where(beta > 0, (beta * beta - 1.0) * both_anti + 2.0 * beta * pdf, 0.0)
    return np.where(anti, prod_anti, prod), np.where(anti, both_anti, both)


@dataclass(frozen=True)
class ExpectedNetworkNTK(_DotProductKernel):
    """The expected empirical NTK of the network that ``ntk-linearised`` linearises.

    The network is g(x) = sum_{i=1..q} u_i relu(<w_i, x> + b_i) in the standard
    parameterisation with w_i ~ N(0, I/n), b_i ~ U[-r, r] (r = ``bias_range``) and u_i^2 = 1/q
    (``paritylab.models.init.paired_init`` with ``output_abs = q^-1/2``). Its gradients are
    d/du_i = relu(z_i), d/dw_i = u_i 1[z_i > 0] x and d/db_i = u_i 1[z_i > 0] with
    z_i = <w_i, x> + b_i, so its empirical NTK is

        Theta_q(x, x') = sum_i relu(z_i) relu(z_i') + u_i^2 1[z_i > 0] 1[z_i' > 0] (<x, x'> + 1)

    and, the units being identically distributed (the pairs of the paired initialisation
    included), its expectation over the initialisation is

        E Theta_q(x, x') = q K1(rho) + (<x, x'> + 1) K0(rho),
        K1 = E[relu(z) relu(z')],  K0 = E[1[z > 0] 1[z' > 0]],  z = <w, x> + b, z' = <w, x'> + b.

    On the cube <w, x> and <w, x'> are standard normals with correlation rho = <x, x'> / n, so
    given b both moments have a closed form (``_relu_moments_given_bias``: Owen's T function
    for the orthant probability, Stein's identity for the product); the average over
    b ~ U[-r, r] is a Gauss-Legendre quadrature on [-r, 0] and [0, r] (64 nodes each; exact to
    rounding). ``width`` is q: it weighs the output-layer term against the first-layer term,
    exactly as in the finite network. Unlike ``TwoLayerReLUKernel`` (NTK parameterisation,
    Gaussian biases) this kernel is defined on {-1, +1}^n only.
    """

    width: int = 512
    bias_range: float = 1.0

    def __post_init__(self):
        if not isinstance(self.width, int) or self.width < 1:
            raise BadInput(f"width={self.width!r} is out of range: allowed integer width >= 1")
        check_range("bias_range", self.bias_range, lo=0.0)

    @property
    def name(self) -> str:
        return "network-ntk"

    def moments(self, rho) -> tuple[np.ndarray, np.ndarray]:
        """(K1, K0) of the module docstring at correlations ``rho`` (vectorised), averaged over
        b ~ U[-r, r]."""
        rho = np.asarray(rho, np.float64)
        if self.bias_range == 0:
            nodes, weights = np.zeros(1), np.ones(1)
        else:
            x, w = np.polynomial.legendre.leggauss(_BIAS_NODES)
            half = 0.5 * self.bias_range
            nodes = np.concatenate([half * (x - 1.0), half * (x + 1.0)])
            weights = np.concatenate([w, w]) / 4.0  # (r / 2) w on each half, divided by 2r
        k1, k0 = _relu_moments_given_bias(rho.reshape(-1, 1), nodes)
        return (k1 @ weights).reshape(rho.shape), (k0 @ weights).reshape(rho.shape)

    def _evaluate(self, s, sq1, sq2, dim):
        if not (np.all(np.asarray(sq1) == dim) and np.all(np.asarray(sq2) == dim)):
            raise BadInput(
                "ExpectedNetworkNTK is defined on {-1,+1}^n only (inputs with ||x||^2 = n)"
            )
        values, inverse = np.unique(np.asarray(s, np.float64), return_inverse=True)
        k1, k0 = self.moments(values / dim)
        return (self.width * k1 + (values + 1.0) * k0)[inverse].reshape(np.shape(s))


@dataclass(frozen=True)
class ArcCosineKernel(_DotProductKernel):
    """Arc-cosine kernel of Cho & Saul (2009) on the augmented input (x, bias):

        k_0(x, y) = 1 - t/pi,   k_1(x, y) = (1/pi) ||x|| ||y|| (sin t + (pi - t) cos t),
        cos t = <x, y> / (||x|| ||y||),
    with <x, y> -> <x, y> + bias^2 and ||x||^2 -> ||x||^2 + bias^2.

    bias = 0 is exactly Cho & Saul's kernel; it misses odd (order 1) or even (order 0) parities
    of degree >= 2 on the cube, so the default adds bias = 1.
    """

    order: int = 1
    bias: float = 1.0

    def __post_init__(self):
        if self.order not in (0, 1):
            raise BadInput(f"order={self.order!r} is not supported: allowed 0 or 1")
        check_range("bias", self.bias, lo=0.0)

    @property
    def name(self) -> str:
        return f"arccos{self.order}"

    def _evaluate(self, s, sq1, sq2, dim):
        c2 = self.bias**2
        k1, k0 = _relu_moments(s + c2, sq1 + c2, sq2 + c2)
        return 2.0 * (k1 if self.order == 1 else k0)


@dataclass(frozen=True)
class PolynomialKernel(_DotProductKernel):
    """k(x, y) = (gamma <x, y> + coef0)^degree, gamma = 1/dim when None (as scikit-learn).
    On the cube it represents a parity of degree k only if degree >= k (and coef0 > 0 when
    degree > k)."""

    degree: int = 3
    gamma: float | None = None
    coef0: float = 1.0

    def __post_init__(self):
        if not isinstance(self.degree, int) or self.degree < 0:
            raise BadInput(f"degree={self.degree!r} is out of range: allowed integer >= 0")

    @property
    def name(self) -> str:
        return f"poly{self.degree}"

    def _evaluate(self, s, sq1, sq2, dim):
        gamma = 1.0 / dim if self.gamma is None else self.gamma
        return (gamma * np.asarray(s, np.float64) + self.coef0) ** self.degree


Kernel = TwoLayerReLUKernel | ExpectedNetworkNTK | ArcCosineKernel | PolynomialKernel


def _profile(kappa, n: int) -> Callable[[np.ndarray], np.ndarray]:
    """A kernel object becomes its cube profile s -> kappa(s); a callable is used as is."""
    return kappa.profile(n) if isinstance(kappa, _DotProductKernel) else kappa


def krawtchouk(n: int, k: int) -> list[int]:
    """Exact integer K_k(d) = sum_j (-1)^j C(k, j) C(n-k, d-j) for d = 0..n
    (= sum of chi_A(z) over the z with d coordinates equal to -1, for |A| = k)."""
    return [
        sum(
            (-1) ** j * math.comb(k, j) * math.comb(n - k, d - j)
            for j in range(max(0, d - n + k), min(k, d) + 1)
        )
        for d in range(n + 1)
    ]


def parity_correlation_sq_norm(kappa, n: int, k: int) -> float:
    """||c_A||^2_H = E_{z ~ U}[chi_A(z) kappa(sum z)] for any support |A| = k, exactly:

        sum_{j=0..k} sum_{l=0..n-k} C(k,j) C(n-k,l) (-1)^j kappa(n - 2j - 2l) / 2^n.

    ``kappa`` is a vectorised function of s = <x, x'> or a kernel object of this module.
    Summed as 2^-n sum_d K_k(d) kappa(n - 2d) with exact integer Krawtchouk weights and
    ``math.fsum``; the only rounding left is that of kappa itself (absolute error a few ulps of
    energy), so values below ~1e-15 * energy are zero to working precision.
    """
    if n < 1 or not 0 <= k <= n:
        raise BadInput(f"(n, k)=({n}, {k}) is out of range: allowed n >= 1 and 0 <= k <= n")
    values = np.asarray(_profile(kappa, n)(np.arange(n, -n - 1, -2)), np.float64)
    weights = [kd / 2**n for kd in krawtchouk(n, k)]  # int / int: correctly rounded
    return math.fsum(w * float(v) for w, v in zip(weights, values, strict=True))


def energy(kappa, n: int) -> float:
    """E_U k(x, x) = kappa(n) (the feature energy of the linear-method bound, for a kernel)."""
    return float(np.asarray(_profile(kappa, n)(np.asarray([float(n)]))).reshape(-1)[0])


def _as_2d(X, name: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2:
        raise BadInput(f"{name} must be a 2-d array (samples, features), got shape {X.shape}")
    return X


def _on_cube(X: np.ndarray) -> bool:
    return bool(np.all(np.abs(X) == 1))
