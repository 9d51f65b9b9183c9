"""The Daniely-Malach separation task: every learner on the same samples of D_A.

One run = (problem config, learner settings, seed). The seed alone fixes the support A and the
training and test samples, so all learners of one seed see identical data; each learner's own
randomness comes from its name and the seed. Scores: test hinge / accuracy overall and per part
(easy, uniform), the linear-threshold reference, and for every linear method both lower bounds
of ``paritylab.theory`` computed from the N, B, energy and ||c_A|| it reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import numpy as np

from paritylab.data import check_dm_k, dm_problem, draw_support
from paritylab.learners.base import Fit, TrainingData
from paritylab.metrics import classification_metrics
from paritylab.options import option
from paritylab.theory import certificate_bound, linear_threshold_reference, typical_support_bound

READS = "sample"
LEARNERS = (
    "two-phase",
    "joint-sgd",
    "random-features",
    "ntk-linearised",
    "linear-raw",
    "ntk-kernel",
)
BOUND_INPUTS = {"weight_norm", "feature_energy", "corr_norm_upper"}
TRAIN_ACC_SAMPLES = 2000  # train_acc is measured on the first 2,000 training samples


@dataclass(frozen=True)
class DMConfig:
    """The Daniely-Malach problem: D_A on {-1,+1}^n labelled by a k-sparse parity."""

    n: int = option(50, "input dimension", min=1)
    k: int = option(5, "parity degree (odd)", min=1)
    n_train: int = option(10000, "training samples shared by all learners", min=2)
    n_test: int = option(10000, "test samples", min=1)
    easy_fraction: float = option(0.5, "mixture weight of the easy part", min=0, max=1)
    allow_even_k: bool = option(False, "allow even k (the easy-part signal vanishes)")

    def check(self) -> None:
        """1 <= k <= n, and k odd unless ``allow_even_k``."""
        check_dm_k(self.n, self.k, allow_even_k=self.allow_even_k)


CONFIG = DMConfig


def make_data(config: DMConfig, seed: int) -> TrainingData:
    """Support, problem, train and test samples of one seed (shared by every learner).

    Args:
        config: the problem config.
        seed: the run's seed.

    Returns:
        ``TrainingData`` with ``problem``, ``train`` and ``test``.
    """
    k_a, k_train, k_test = jax.random.split(jax.random.fold_in(jax.random.key(seed), 0), 3)
    support = draw_support(k_a, config.n, config.k)
    problem = dm_problem(config.n, support, easy_fraction=config.easy_fraction)
    train = problem.sample(k_train, config.n_train)
    test = problem.sample(k_test, config.n_test)
    return TrainingData(problem=problem, train=train, test=test)


def evaluate(config: DMConfig, data: TrainingData, fit: Fit) -> dict:
    """Test metrics per part, train accuracy, the reference and, for linear methods, bounds.

    Args:
        config: the problem config.
        data: the seed's data.
        fit: the fitted learner.

    Returns:
        ``{"metrics", "info"}``.
    """
    test = data.test
    metrics = classification_metrics(np.asarray(fit.predict(test.x)), test.y, test.part)
    sub = slice(0, min(TRAIN_ACC_SAMPLES, config.n_train))  # a diagnostic: keep it cheap
    train_f = np.asarray(fit.predict(data.train.x[sub]))
    metrics["train_acc"] = classification_metrics(train_f, data.train.y[sub])["test_acc"]
    ref = linear_threshold_reference(config.k, easy_fraction=config.easy_fraction)
    metrics["reference_acc_uniform"] = ref["uniform"]
    metrics["reference_acc"] = ref["overall"]
    if BOUND_INPUTS <= fit.metrics.keys():  # a linear method that reports N, B, energy, ||c||
        metrics.update(bound_metrics(config, fit.metrics))
    support = np.asarray(data.problem.target.support)
    return {"metrics": metrics, "info": {"support": [int(i) for i in support]}}


def bound_metrics(config: DMConfig, m: dict) -> dict:
    """Both lower bounds on the D_A hinge loss from a linear method's N, B, energy, ||c_A||.

    Args:
        config: the problem config (n, k and the mixture weight).
        m: the learner's metrics (``weight_norm``, ``feature_energy``, ``corr_norm_upper``).

    Returns:
        ``bound_certificate``, ``bound_typical`` and ``log10_binom_nk``.
    """
    w = 1.0 - config.easy_fraction  # the bound lives on the uniform part
    norm = m["weight_norm"]
    return {
        "bound_certificate": certificate_bound(norm, m["corr_norm_upper"], uniform_weight=w),
        "bound_typical": typical_support_bound(
            norm, m["feature_energy"], config.n, config.k, uniform_weight=w
        ),
        "log10_binom_nk": math.log10(math.comb(config.n, config.k)),
    }


TABLE_COLUMNS = (
    ("test_acc", "acc"),
    ("test_acc_easy", "acc easy"),
    ("test_acc_uniform", "acc unif"),
    ("test_hinge", "hinge"),
    ("test_hinge_easy", "hinge easy"),
    ("test_hinge_uniform", "hinge unif"),
    ("num_features", "N"),
    ("weight_norm", "B"),
    ("bound_certificate", "bound cert"),
    ("bound_typical", "bound typ"),
)


def reference_row(config: dict) -> dict:
    """The linear-threshold reference of a grid point, as table cells.

    Args:
        config: a stored run's config (``k``, ``easy_fraction``).

    Returns:
        {metric: value}.
    """
    ref = linear_threshold_reference(int(config["k"]), easy_fraction=config["easy_fraction"])
    return {"test_acc": ref["overall"], "test_acc_easy": 1.0, "test_acc_uniform": ref["uniform"]}


def reference_curve(axis: str, groups: list[dict]):
    """The uniform-part reference to draw on a figure of a metric against ``axis``.

    Args:
        axis: the swept variable.
        groups: grouped records (``paritylab.lab.tables.group_records``).

    Returns:
        (xs or None for a horizontal line, ys, label) or None.
    """
    if axis == "k":
        ks = sorted({g["point"]["k"] for g in groups})
        return ks, [linear_threshold_reference(int(k))["uniform"] for k in ks], "reference"
    ks = {int(g["config"]["k"]) for g in groups}
    if len(ks) != 1:  # one line per k would be needed; draw none rather than a wrong one
        return None
    return None, [linear_threshold_reference(ks.pop())["uniform"]], "reference"


def report(records: list[dict], directory, name: str):
    """The D&M panel (per-part accuracy with the reference; hinge beside both bounds), the
    sweep figures with the reference line and the training curves.

    Args:
        records: ok runs of one experiment.
        directory: where figures go.
        name: the experiment name (figure file prefix).

    Returns:
        (markdown lines, figure paths).
    """
    from paritylab.lab import figures

    paths = figures.dm_panel(records, directory, name, reference=reference_curve)
    paths += figures.sweep_figures(
        records, directory, name, reference={"test_acc_uniform": reference_curve}
    )
    curves = figures.training_curves(records, directory, name)
    return [], paths + ([curves] if curves else [])
