"""Layer 3, learners: every learner is a frozen settings dataclass with ``fit(data, key=...)``.

The registry below is the list of built-in learners; adding one is one new module plus one
line here (or ``@register_learner`` in a plugin file named by an experiment).
"""

from paritylab.learners.base import (
    Fit,
    Learner,
    TrainingData,
    get_learner,
    learner_key,
    learner_names,
    register_learner,
)
from paritylab.learners.digit_nets import (
    GaluNTK,
    GaussianFeatures,
    LinearFeatures,
    ReluFeatures,
    ReluNet,
)
from paritylab.learners.fixed_features import LinearRaw, NTKLinearised, RandomFeatures, train_linear
from paritylab.learners.gf2 import GF2Oracle, recover_parity, recover_parity_noisy
from paritylab.learners.joint import JointSGD
from paritylab.learners.kernel_ridge import (
    NetworkKernel,
    NTKKernel,
    fit_kernel_ridge,
    fit_nystroem_ridge,
)
from paritylab.learners.lottery import LotteryTicket
from paritylab.learners.online import OnlineSGD
from paritylab.learners.online_seeds import train_online_seeds
from paritylab.learners.optimizers import OPTIMIZERS, make_optimizer
from paritylab.learners.two_phase import TwoPhase

# The registry of built-in learners: adding one is its module plus one line here.
BUILTIN_LEARNERS = (
    TwoPhase,
    JointSGD,
    RandomFeatures,
    NTKLinearised,
    LinearRaw,
    NTKKernel,
    NetworkKernel,
    OnlineSGD,
    GF2Oracle,
    LotteryTicket,
    ReluNet,
    ReluFeatures,
    LinearFeatures,
    GaussianFeatures,
    GaluNTK,
)
for _cls in BUILTIN_LEARNERS:
    register_learner(_cls)

__all__ = [
    "BUILTIN_LEARNERS",
    "OPTIMIZERS",
    "Fit",
    "GF2Oracle",
    "GaluNTK",
    "GaussianFeatures",
    "JointSGD",
    "Learner",
    "LinearFeatures",
    "LinearRaw",
    "LotteryTicket",
    "NTKKernel",
    "NTKLinearised",
    "NetworkKernel",
    "OnlineSGD",
    "RandomFeatures",
    "ReluFeatures",
    "ReluNet",
    "TrainingData",
    "TwoPhase",
    "fit_kernel_ridge",
    "fit_nystroem_ridge",
    "get_learner",
    "learner_key",
    "learner_names",
    "make_optimizer",
    "recover_parity",
    "recover_parity_noisy",
    "register_learner",
    "train_linear",
    "train_online_seeds",
]
