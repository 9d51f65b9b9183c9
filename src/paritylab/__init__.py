"""paritylab: learning parities with neural networks, runnable and measurable.

The public surface, re-exported here (imported lazily, so ``import paritylab`` is cheap and
the command line can set thread counts before JAX starts):

data        dm_sample, uniform_parity_sample, draw_support, parity, Sample
models      mlp, gaussian_init, paired_init, RandomReLUFeatures, LinearisedFeatures,
            RawFeatures, TwoLayerReLUKernel
learners    train_two_phase, train_joint, train_linear, fit_kernel_ridge,
            fit_nystroem_ridge, train_online, train_online_seeds, OnlineSpec, recover_parity
metrics     classification_metrics
theory      linear_threshold_reference, certificate_bound, typical_support_bound,
            estimate_correlation, fit_exponents
lab         load_spec, spec_from_dict, run_experiment, load_results, write_report
errors      BadInput
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "dm_sample": "paritylab.data",
    "uniform_parity_sample": "paritylab.data",
    "draw_support": "paritylab.data",
    "parity": "paritylab.data",
    "Sample": "paritylab.data",
    "mlp": "paritylab.models",
    "gaussian_init": "paritylab.models",
    "paired_init": "paritylab.models",
    "RandomReLUFeatures": "paritylab.models",
    "LinearisedFeatures": "paritylab.models",
    "RawFeatures": "paritylab.models",
    "TwoLayerReLUKernel": "paritylab.models.kernels",
    "train_two_phase": "paritylab.learners.two_phase",
    "train_joint": "paritylab.learners.joint",
    "train_linear": "paritylab.learners.fixed_features",
    "fit_kernel_ridge": "paritylab.learners.kernel_ridge",
    "fit_nystroem_ridge": "paritylab.learners.kernel_ridge",
    "train_online": "paritylab.learners.online",
    "train_online_seeds": "paritylab.learners.online_seeds",
    "OnlineSpec": "paritylab.learners.online",
    "recover_parity": "paritylab.learners.gf2",
    "classification_metrics": "paritylab.metrics",
    "linear_threshold_reference": "paritylab.theory",
    "certificate_bound": "paritylab.theory",
    "typical_support_bound": "paritylab.theory",
    "estimate_correlation": "paritylab.theory",
    "fit_exponents": "paritylab.theory.scaling",
    "load_spec": "paritylab.lab.config",
    "spec_from_dict": "paritylab.lab.config",
    "run_experiment": "paritylab.lab.sweep",
    "load_results": "paritylab.lab.store",
    "write_report": "paritylab.lab.report",
    "BadInput": "paritylab.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'paritylab' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
