"""Task "online": a sparse target on {-1,+1}^n learnt from fresh samples (Barak et al. 2022).

The problem: inputs from a distribution (uniform by default, or a biased product mu_p, or a
mixture of mu_p and the uniform distribution), labels from a target on a support A of size k
drawn from the seed (the k-sparse parity by default; also staircase, majority, or any sum of
monomials), training labels flipped with probability ``label_noise``. Defaults: Barak et al.,
"Hidden progress in deep learning: SGD learns parities near the computational limit", NeurIPS
2022, https://arxiv.org/abs/2207.08799: (n, k) = (50, 3), uniform inputs, parity.

Shared by every learner of a seed: the support, the held-out set of ``eval_size`` clean
samples, the training set (``train_samples`` = m; none: online) and the keys ``"init"`` (the
network's initialisation), ``"batches"`` (the stream of fresh batches) and ``"shuffle"`` (the
epochs' shuffles). Learners: ``sgd-online`` (time to success, hidden-progress measures) and
``gf2-oracle`` (Gaussian elimination, the non-gradient reference).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.data import (
    BiasedProduct,
    Mixture,
    Problem,
    Uniform,
    check_label_noise,
    check_support,
    draw_support,
    make_target,
    target_names,
)
from paritylab.errors import BadInput
from paritylab.learners.base import Fit, TrainingData
from paritylab.metrics import classification_metrics, progress_probe, support_mass_chance
from paritylab.options import option

READS = "stream"
LEARNERS = ("sgd-online", "gf2-oracle")
DISTRIBUTIONS = ("uniform", "biased", "sparse-mixture")


@dataclass(frozen=True)
class OnlineProblemConfig:
    """A sparse target on the cube (defaults: Barak et al. 2022, the (50, 3) parity)."""

    n: int = option(50, "input dimension", min=1)
    k: int = option(3, "support size |A| (the parity's degree)", min=1)
    target: str = option(
        "parity",
        "parity | staircase | majority | monomials (terms below) | a registered target",
    )
    terms: tuple[tuple[int, ...], ...] = option(
        (), "monomials target: positions 0..k-1 in the support, e.g. [[0], [0, 1]]"
    )
    coefs: tuple[float, ...] = option((), "monomials target: one coefficient per term (default 1)")
    distribution: str = option(
        "uniform",
        "uniform | biased (mu_p: P(x_i = -1) = bias) | sparse-mixture (mu_p with weight "
        "mixture_weight, else uniform)",
        choices=DISTRIBUTIONS,
    )
    bias: float = option(0.5, "P(x_i = -1) of the biased product mu_p", min=0.0, max=1.0)
    mixture_weight: float = option(
        0.0, "sparse-mixture: probability of a mu_p input", min=0.0, max=1.0
    )
    label_noise: float = option(0.0, "training-label flip probability p (< 0.5)", min=0.0, max=0.5)
    train_samples: int | None = option(None, "None = online; m = one fixed training set", min=1)
    eval_size: int = option(8192, "held-out samples for test metrics", min=1)

    def check(self) -> None:
        """Support size within n, label noise below 1/2, a known target with valid terms."""
        check_support(self.n, self.k)
        check_label_noise(self.label_noise)
        if self.target not in target_names():
            make_target(self.target, jnp.arange(self.k))  # raises with the allowed names
        if self.target == "monomials":
            make_target("monomials", jnp.arange(self.k), terms=self.terms, coefs=self.coefs)
        elif self.terms or self.coefs:
            raise BadInput(
                f"terms/coefs are set but target={self.target!r}: use target='monomials'"
            )


CONFIG = OnlineProblemConfig


def check_run(config: OnlineProblemConfig, learner) -> None:
    """Raise BadInput before anything runs when a learner's settings cannot work on this
    problem (e.g. ``epochs`` without a finite training set, a batch larger than it).

    Args:
        config: the problem config.
        learner: the learner's settings.
    """
    check = getattr(learner, "check_problem", None)
    if check is not None:
        check(n=config.n, train_samples=config.train_samples)


def make_problem(config: OnlineProblemConfig, support) -> Problem:
    """The problem of a config on a given support.

    Args:
        config: the problem config.
        support: the k coordinates the target reads.

    Returns:
        the ``Problem``.
    """
    params = {"terms": config.terms, "coefs": config.coefs} if config.target == "monomials" else {}
    target = make_target(config.target, support, **params)
    dist = Uniform(config.n)
    if config.distribution != "uniform":
        biased = BiasedProduct(config.n, jnp.float32(config.bias))
        dist = (
            biased
            if config.distribution == "biased"
            else Mixture(dist, biased, config.mixture_weight)
        )
    return Problem(dist, target, config.label_noise)


def make_data(config: OnlineProblemConfig, seed: int) -> TrainingData:
    """The support, problem, held-out set, training set (finite mode) and shared keys.

    Args:
        config: the problem config.
        seed: the run's seed.

    Returns:
        the seed's ``TrainingData``.
    """
    k_support, k_init, k_learn, _ = jax.random.split(jax.random.PRNGKey(seed), 4)
    support = draw_support(k_support, config.n, config.k)
    problem = make_problem(config, support)
    k_batches, k_test, k_train, k_shuffle = jax.random.split(k_learn, 4)
    test = problem.sample(k_test, config.eval_size)
    train = None
    if config.train_samples is not None:
        train = problem.training_sample(k_train, config.train_samples)
    keys = {"init": k_init, "batches": k_batches, "shuffle": k_shuffle}
    return TrainingData(problem, train, test, keys, progress_probe)


def evaluate(config: OnlineProblemConfig, data: TrainingData, fit: Fit) -> dict:
    """Held-out accuracy and hinge (for Boolean targets) and facts about the run.

    The learner's own final metrics (e.g. the training loop's last evaluation) take precedence
    over these when the runner merges them.

    Args:
        config: the problem config.
        data: the seed's data.
        fit: the fitted learner.

    Returns:
        ``{"metrics", "info"}``.
    """
    metrics = {}
    if data.problem.target.boolean:
        metrics = classification_metrics(np.asarray(fit.predict(data.test.x)), data.test.y)
    support = np.asarray(data.problem.target.support)
    info = {
        "support": [int(i) for i in support],
        "support_mass_chance": support_mass_chance(config.n, config.k),
        "mode": "online" if config.train_samples is None else "finite",
    }
    return {"metrics": metrics, "info": info}


TABLE_COLUMNS = (
    ("test_acc", "acc"),
    ("test_hinge", "hinge"),
    ("test_rel_mse", "rel. mse"),
    ("success", "success"),
    ("t_c", "t_c"),
    ("t_c_epochs", "t_c (epochs)"),
)


def reference_row(config: dict):
    """No reference row for this task."""
    return None


def report(records: list[dict], directory, name: str):
    """Sweep figures, training curves and, over several n, the time-to-success scaling.

    Args:
        records: ok runs of one experiment.
        directory: where figures go.
        name: the experiment name (figure file prefix).

    Returns:
        (markdown lines, figure paths).
    """
    from paritylab.lab import figures
    from paritylab.lab.report import scaling_section

    paths = figures.sweep_figures(records, directory, name)
    curves = figures.training_curves(records, directory, name)
    lines, scaling_paths = scaling_section(records, directory, name)
    return lines, paths + ([curves] if curves else []) + scaling_paths
