"""The Daniely-Malach separation task: every learner on the same samples of D_A.

One run = (problem config, learner settings, seed). The seed alone fixes the support A and the
training and test samples, so all learners of one seed see identical data; each learner's own
randomness comes from its name and the seed. Scores: test hinge / accuracy overall and per part
(easy, uniform), the linear-threshold reference, and for every linear method both lower bounds
of ``paritylab.theory`` computed from the N, B, energy and ||c_A|| it reports.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import jax
import numpy as np

from paritylab.data import check_dm_k, dm_problem, draw_support
from paritylab.errors import BadInput
from paritylab.learners.base import Fit, TrainingData
from paritylab.learners.tuning import tune
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
    n_val: int = option(0, "validation samples (drawn apart from train and test)", min=0)
    tune: bool = option(
        False, "select each learner's settings from its grid by validation hinge (n_val > 0)"
    )

    def check(self) -> None:
        """1 <= k <= n, and k odd unless ``allow_even_k``."""
        check_dm_k(self.n, self.k, allow_even_k=self.allow_even_k)
        if self.tune and self.n_val < 1:
            raise BadInput("tune=true needs a validation split: set n_val >= 1 (e.g. 2000)")


CONFIG = DMConfig


def make_data(config: DMConfig, seed: int) -> TrainingData:
    """Support, problem, train and test samples of one seed (shared by every learner).

    Args:
        config: the problem config.
        seed: the run's seed.

    Returns:
        ``TrainingData`` with ``problem``, ``train`` and ``test``.
    """
    data_key = jax.random.fold_in(jax.random.key(seed), 0)
    k_a, k_train, k_test = jax.random.split(data_key, 3)
    support = draw_support(k_a, config.n, config.k)
    problem = dm_problem(config.n, support, easy_fraction=config.easy_fraction)
    train = problem.sample(k_train, config.n_train)
    test = problem.sample(k_test, config.n_test)
    validation = None
    if config.n_val:
        # Its own key, a sibling of data_key: the train and test streams do not depend on n_val.
        # Never fold_in(data_key, i): with JAX's partitionable threefry, split(data_key, 3)[i]
        # is fold_in(data_key, i), so i = 1 would replay the training sample.
        val_key = jax.random.fold_in(jax.random.key(seed), 1)
        validation = problem.sample(val_key, config.n_val)
    return TrainingData(problem=problem, train=train, test=test, validation=validation)


def fit_learner(config: DMConfig, learner, data: TrainingData, key) -> Fit:
    """The learner's fit, or with ``tune`` the protocol of ``paritylab.learners.tuning``.

    Args:
        config: the problem config.
        learner: the learner's settings.
        data: the seed's data (with a validation sample when ``n_val > 0``).
        key: the run's key.

    Returns:
        the ``Fit`` that is scored.
    """
    if config.tune:
        return tune(learner, data, key=key)
    return learner.fit(data, key=key)


def groups_runs(config: DMConfig) -> bool:
    """Whether runs of this config may train in vectorised groups (the ``vmap`` executor):
    yes unless ``tune`` (then ``fit_learner`` runs the tuning protocol instead of ``fit``).

    Args:
        config: the problem config.

    Returns:
        True or False.
    """
    return not config.tune


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


JOINT_SETTINGS = ("optimizer", "lr", "steps", "batch_size", "width", "init")
OPTIMIZER_NAMES = {"sgd": "SGD", "sign-sgd": "sign-SGD", "adam": "Adam", "adadelta": "AdaDelta"}


def table_notes(records: list[dict]) -> list[str]:
    """Lines under the results table: joint-sgd's settings, read from the records' configs,
    and what its runs show, from their mean train_acc and test_acc_uniform (ok runs): it
    "learns" the uniform part at a mean >= 0.99, "partly learns" it at >= 0.55, else "stays
    near chance" there; it "fits the training set" at a mean train_acc >= 0.99.

    Args:
        records: runs of the dm task (any status).

    Returns:
        the lines (none without joint-sgd runs).
    """
    from paritylab.lab.tables import ok_mean, settings_text

    joint = [r for r in records if r["learner"] == "joint-sgd"]
    if not joint:
        return []
    ok = [r for r in joint if r["status"] == "ok"]
    lines = [
        f"joint-sgd settings: {settings_text(joint, JOINT_SETTINGS)} "
        f"({len(ok)} of {len(joint)} runs ok; train_acc is measured on at most the first "
        f"{TRAIN_ACC_SAMPLES:,} training samples)."
    ]
    train, unif = ok_mean(joint, "train_acc"), ok_mean(joint, "test_acc_uniform")
    if math.isnan(train) or math.isnan(unif):
        return lines
    opts = dict.fromkeys(str(r["config"].get("optimizer", "sgd")) for r in joint)
    how = "/".join(OPTIMIZER_NAMES.get(o, o) for o in opts)
    part = (
        "learns the uniform part"
        if unif >= 0.99
        else "partly learns the uniform part"
        if unif >= 0.55
        else "stays near chance on the uniform part"
    )
    fits = "fits the training set" if train >= 0.99 else "does not fit the training set"
    lines.append(
        f"joint-sgd (both layers trained by minibatch {how} on the same sample) {part} and "
        f"{fits}: compare its train_acc ({train:.3f}) with test_acc_uniform ({unif:.3f})."
    )
    if len({json.dumps(r["config"], sort_keys=True) for r in ok}) > 1:
        lines[-1] += f" (Means over its {len(ok)} ok runs at every setting; the table has each.)"
    return lines


def report(records: list[dict], directory, name: str):
    """The D&M panel (per-part accuracy with the reference; hinge beside both bounds), the
    sweep figures with the reference line and the training curves; when a linear learner ran at
    several N / C(n, k), the frontier table and figure (``paritylab.lab.frontier``).

    Args:
        records: runs of one experiment (any status; the figures use the ok ones).
        directory: where figures go.
        name: the experiment name (figure file prefix).

    Returns:
        (markdown lines, figure paths).
    """
    from paritylab.lab import figures, frontier

    paths = figures.dm_panel(records, directory, name, reference=reference_curve)
    paths += figures.sweep_figures(
        records, directory, name, reference={"test_acc_uniform": reference_curve}
    )
    lines, frontier_paths = frontier.frontier_section(records, directory, name)
    curves = figures.training_curves(records, directory, name)
    return lines, paths + frontier_paths + ([curves] if curves else [])
