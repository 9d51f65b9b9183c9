"""Layer 2, models: networks as parameter pytrees, their initialisations, losses, fixed feature
maps, closed-form kernels and how fixed features correlate with a target."""

from paritylab.models import digit_nets, mlp
from paritylab.models.correlation import CorrelationEstimate, estimate_correlation, estimate_energy
from paritylab.models.features import (
    LinearisedFeatures,
    RandomReLUFeatures,
    RawFeatures,
    tree_sq_norm,
)
from paritylab.models.init import (
    INIT_FAMILIES,
    gaussian_init,
    he_init,
    init_params,
    paired_init,
    rademacher_init,
    sparse_init,
    uniform_init,
)
from paritylab.models.kernels import (
    ArcCosineKernel,
    ExpectedNetworkNTK,
    PolynomialKernel,
    TwoLayerReLUKernel,
)
from paritylab.models.losses import LOSSES, correct_np, hinge_np, loss_fn
from paritylab.models.mlp import apply, hidden

__all__ = [
    "INIT_FAMILIES",
    "LOSSES",
    "ArcCosineKernel",
    "CorrelationEstimate",
    "ExpectedNetworkNTK",
    "LinearisedFeatures",
    "PolynomialKernel",
    "RandomReLUFeatures",
    "RawFeatures",
    "TwoLayerReLUKernel",
    "apply",
    "correct_np",
    "digit_nets",
    "estimate_correlation",
    "estimate_energy",
    "gaussian_init",
    "he_init",
    "hidden",
    "hinge_np",
    "init_params",
    "loss_fn",
    "mlp",
    "paired_init",
    "rademacher_init",
    "sparse_init",
    "tree_sq_norm",
    "uniform_init",
]
