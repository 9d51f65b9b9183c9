"""Layer 2: networks as parameter pytrees, fixed feature maps, closed-form kernels."""

from paritylab.models import mlp
from paritylab.models.features import LinearisedFeatures, RandomReLUFeatures, RawFeatures
from paritylab.models.mlp import apply, gaussian_init, hidden, paired_init

__all__ = [
    "LinearisedFeatures",
    "RandomReLUFeatures",
    "RawFeatures",
    "apply",
    "gaussian_init",
    "hidden",
    "mlp",
    "paired_init",
]
