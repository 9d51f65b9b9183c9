"""Layer 1, data: Boolean inputs, targets and problems, each a pure function of a random key.

A problem is an input distribution times a target (plus label noise); the digit-parity images
live in ``paritylab.data.digits``.
"""

from paritylab.data.cube import all_points, biased_cube, uniform_cube, uniform_signs
from paritylab.data.distributions import (
    EASY,
    PART_NAMES,
    UNIFORM,
    BiasedProduct,
    BiasRamp,
    DanielyMalach,
    Mixture,
    Schedule,
    Subcube,
    SupportAligned,
    Uniform,
    final_distribution,
    subcube_mask,
)
from paritylab.data.dm import check_dm_k, dm_problem, dm_sample
from paritylab.data.problem import Problem, Sample, check_label_noise, flip_labels
from paritylab.data.targets import (
    Majority,
    Monomials,
    check_support,
    draw_support,
    leap_target,
    majority_target,
    make_target,
    monomials_target,
    parity,
    parity_target,
    register_target,
    staircase_target,
    target_names,
)

__all__ = [
    "EASY",
    "PART_NAMES",
    "UNIFORM",
    "BiasRamp",
    "BiasedProduct",
    "DanielyMalach",
    "Majority",
    "Mixture",
    "Monomials",
    "Problem",
    "Sample",
    "Schedule",
    "Subcube",
    "SupportAligned",
    "Uniform",
    "all_points",
    "biased_cube",
    "check_dm_k",
    "check_label_noise",
    "check_support",
    "dm_problem",
    "dm_sample",
    "draw_support",
    "final_distribution",
    "flip_labels",
    "leap_target",
    "majority_target",
    "make_target",
    "monomials_target",
    "parity",
    "parity_target",
    "register_target",
    "staircase_target",
    "subcube_mask",
    "target_names",
    "uniform_cube",
    "uniform_signs",
]
