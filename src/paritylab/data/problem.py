"""A learning problem: an input distribution, a target and optional label noise.

``Problem(distribution, target, label_noise)`` is a JAX pytree, so a compiled training loop
takes it as an argument and draws its own batches. Two ways to draw a labelled sample:

* ``sample(key, m)``: the key drives the inputs directly and labels are clean; used for test
  sets and for fixed training sets of tasks without label noise;
* ``training_sample(key, m, step=None)``: the key is split into one key for the inputs and
  one for the label flips (each label flipped independently with probability
  ``label_noise``); used for fresh training batches and noisy training sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from paritylab.errors import BadInput


class Sample(NamedTuple):
    """A labelled sample.

    Attributes:
        x: float32 (m, n) inputs in {-1, +1}.
        y: float32 (m,) labels (in {-1, +1} for Boolean targets).
        part: int32 (m,) mixture part of each row (0 for distributions without parts).
    """

    x: jax.Array
    y: jax.Array
    part: jax.Array


def flip_labels(key: jax.Array, y: jax.Array, flip_prob) -> jax.Array:
    """Flip each label independently with probability ``flip_prob`` (label noise).

    Args:
        key: JAX random key.
        y: labels in {-1, +1}.
        flip_prob: flip probability p in [0, 1/2).

    Returns:
        labels of the same shape with about a fraction p negated.
    """
    return jnp.where(jax.random.bernoulli(key, flip_prob, y.shape), -y, y)


def check_label_noise(p: float) -> None:
    """Raise BadInput unless 0 <= p < 1/2.

    Args:
        p: label flip probability.
    """
    if not 0.0 <= p < 0.5:
        raise BadInput(f"label_noise={p!r} is out of range: allowed 0 <= p < 0.5")


def _pytree(cls):
    return jax.tree_util.register_dataclass(
        cls, data_fields=["distribution", "target"], meta_fields=["label_noise"]
    )


@_pytree
@dataclass(frozen=True)
class Problem:
    """Inputs from ``distribution``, labels ``target(x)``, training labels flipped with
    probability ``label_noise``.

    Attributes:
        distribution: an input distribution (``paritylab.data.distributions``).
        target: a target (``paritylab.data.targets``).
        label_noise: flip probability of training labels (static).
    """

    distribution: object
    target: object
    label_noise: float = 0.0

    @property
    def n(self) -> int:
        """Input dimension."""
        return self.distribution.n

    def sample(self, key: jax.Array, m: int, *, step=None) -> Sample:
        """m inputs drawn with ``key`` and their clean labels.

        Args:
            key: JAX random key.
            m: sample size.
            step: training step (only schedules read it).

        Returns:
            a ``Sample``.
        """
        x, part = self.distribution.sample(key, m, step)
        return Sample(x, self.target(x), part)

    def training_sample(self, key: jax.Array, m: int, *, step=None) -> Sample:
        """m inputs and labels with label noise (the key is split into inputs and flips).

        Args:
            key: JAX random key.
            m: sample size.
            step: training step (only schedules read it).

        Returns:
            a ``Sample`` whose labels are flipped with probability ``label_noise``.
        """
        kx, kf = jax.random.split(key)
        x, part = self.distribution.sample(kx, m, step)
        y = self.target(x)
        if self.label_noise > 0:
            y = flip_labels(kf, y, self.label_noise)
        return Sample(x, y, part)
