"""Layer 1: samplers of Boolean inputs and targets, each a pure function of a random key."""

from paritylab.data.boolean import (
    EASY,
    PART_NAMES,
    UNIFORM,
    Sample,
    biased_cube,
    check_support,
    draw_support,
    flip_labels,
    parity,
    uniform_cube,
    uniform_parity_sample,
)
from paritylab.data.dm_mixture import check_dm_k, dm_sample

__all__ = [
    "EASY",
    "PART_NAMES",
    "UNIFORM",
    "Sample",
    "biased_cube",
    "check_dm_k",
    "check_support",
    "dm_sample",
    "draw_support",
    "flip_labels",
    "parity",
    "uniform_cube",
    "uniform_parity_sample",
]
