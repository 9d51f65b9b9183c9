"""paritylab: learning parities with neural networks, runnable and measurable.

The public surface, re-exported here (imported lazily, so ``import paritylab`` is cheap and
the command line can set thread counts before JAX starts):

data        Problem, Sample, Uniform, BiasedProduct, DanielyMalach, Mixture, Schedule,
            SupportAligned, Monomials, Majority, dm_problem, dm_sample, draw_support, parity,
            parity_target, staircase_target, monomials_target, majority_target, make_target,
            register_target
models      mlp, init_params, RandomReLUFeatures, LinearisedFeatures, RawFeatures,
            TwoLayerReLUKernel, ExpectedNetworkNTK, estimate_correlation
learners    Learner, Fit, TrainingData, TwoPhase, JointSGD, RandomFeatures, NTKLinearised,
            LinearRaw, NTKKernel, NetworkKernel, OnlineSGD, GF2Oracle, get_learner, learner_key,
            register_learner, train_online_seeds, recover_parity, fit_kernel_ridge,
            fit_nystroem_ridge
metrics     classification_metrics
theory      linear_threshold_reference, certificate_bound, typical_support_bound
theory      fit_exponents
lab         load_spec, spec_from_dict
lab         run_experiment
lab         load_results
lab         write_report
errors      BadInput
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "Problem": "paritylab.data",
    "Sample": "paritylab.data",
    "Uniform": "paritylab.data",
    "BiasedProduct": "paritylab.data",
    "DanielyMalach": "paritylab.data",
    "Mixture": "paritylab.data",
    "Schedule": "paritylab.data",
    "SupportAligned": "paritylab.data",
    "Monomials": "paritylab.data",
    "Majority": "paritylab.data",
    "dm_problem": "paritylab.data",
    "dm_sample": "paritylab.data",
    "draw_support": "paritylab.data",
    "parity": "paritylab.data",
    "parity_target": "paritylab.data",
    "staircase_target": "paritylab.data",
    "monomials_target": "paritylab.data",
    "majority_target": "paritylab.data",
    "make_target": "paritylab.data",
    "register_target": "paritylab.data",
    "mlp": "paritylab.models",
    "init_params": "paritylab.models",
    "RandomReLUFeatures": "paritylab.models",
    "LinearisedFeatures": "paritylab.models",
    "RawFeatures": "paritylab.models",
    "TwoLayerReLUKernel": "paritylab.models",
    "ExpectedNetworkNTK": "paritylab.models",
    "estimate_correlation": "paritylab.models",
    "Learner": "paritylab.learners",
    "Fit": "paritylab.learners",
    "TrainingData": "paritylab.learners",
    "TwoPhase": "paritylab.learners",
    "JointSGD": "paritylab.learners",
    "RandomFeatures": "paritylab.learners",
    "NTKLinearised": "paritylab.learners",
    "LinearRaw": "paritylab.learners",
    "NTKKernel": "paritylab.learners",
    "NetworkKernel": "paritylab.learners",
    "OnlineSGD": "paritylab.learners",
    "GF2Oracle": "paritylab.learners",
    "get_learner": "paritylab.learners",
    "learner_key": "paritylab.learners",
    "register_learner": "paritylab.learners",
    "train_online_seeds": "paritylab.learners",
    "recover_parity": "paritylab.learners",
    "fit_kernel_ridge": "paritylab.learners",
    "fit_nystroem_ridge": "paritylab.learners",
    "classification_metrics": "paritylab.metrics",
    "linear_threshold_reference": "paritylab.theory",
    "certificate_bound": "paritylab.theory",
    "typical_support_bound": "paritylab.theory",
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
