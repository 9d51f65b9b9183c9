"""Task ``digits``: parities of k handwritten digits side by side.

Daniely & Malach ("Learning Parities with Neural Networks", NeurIPS 2020, Sec. 5,
https://arxiv.org/abs/2002.07400) put k MNIST images side by side and label the tuple with the
parity of the sum of its digits: a trained two-layer ReLU network learns it for k = 3 while
fixed-feature models (random ReLU / Gaussian / linear features) and the "NTK regime" stay near
chance. Data: ``paritylab.data.digits`` (bundled 8x8 digits by default, full MNIST from a local
path); learners: ``paritylab.learners.digit_nets``.

Shared by the five learners of a seed: the fixed test tuples, the stream of training tuples and
the initial layers (keys ``"init"`` and ``"batches"``), all from ``jax.random.key(seed)``, so
the models differ only in what trains. Same config + seed gives identical numbers.

Scores: ``test_acc`` and ``test_hinge`` after the last epoch are the held-out results. The
record also keeps ``max_test_acc_over_epochs``, the maximum over epochs of the test accuracy:
it is selected on the test set itself, so it is an optimistic diagnostic, not a held-out score,
and no table or figure presents it as one.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np

from paritylab.data.digits import SOURCES, DigitParity, load_source
from paritylab.data.problem import Sample
from paritylab.errors import BadInput
from paritylab.learners.base import Fit, TrainingData
from paritylab.options import option

READS = "digits"
LEARNERS = ("relu-net", "relu-features", "linear-features", "gaussian-features", "galu-ntk")


def preflight(config) -> None:
    """Checked once per distinct config before any run starts: the data files load (a
    missing or malformed MNIST file is a BadInput, exit 2, not 45 failed runs).

    Args:
        config: the problem config.
    """
    load_source(config.source, config.mnist_path)


@dataclass(frozen=True)
class DigitParityConfig:
    """The digit-parity problem: the image source, k and the test set."""

    k: int = option(1, "digits per tuple; label = parity of their sum", min=1, max=5)
    source: str = option(
        "digits",
        "digits: sklearn's bundled 8x8 set (1,200 train / 597 test images); "
        "mnist: full MNIST read from mnist_path",
        choices=SOURCES,
    )
    mnist_path: str = option(
        "",
        "folder with the four MNIST IDX files (plain or .gz) or a mnist.npz "
        "(x_train, y_train, x_test, y_test); only with source = mnist",
    )
    test_tuples: int = option(10_000, "size of the fixed test set of tuples of test images", min=1)

    def check(self) -> None:
        """mnist needs a path; digits takes none."""
        if self.source == "mnist" and not self.mnist_path:
            raise BadInput(
                "mnist_path is empty: source='mnist' needs a folder with the MNIST IDX files "
                "or a mnist.npz (nothing is downloaded)"
            )
        if self.source == "digits" and self.mnist_path:
            raise BadInput(
                f"mnist_path={self.mnist_path!r} is set but source='digits': "
                "set source='mnist' or leave mnist_path empty"
            )


CONFIG = DigitParityConfig


def make_data(config: DigitParityConfig, seed: int) -> TrainingData:
    """The image source, the seed's test tuples and the shared init / stream keys.

    Args:
        config: the problem config.
        seed: the run's seed.

    Returns:
        ``TrainingData`` with a ``DigitParity`` problem and 0/1 test labels.
    """
    images = load_source(config.source, config.mnist_path)
    problem = DigitParity(images, config.k)
    k_init, k_test, k_stream = jax.random.split(jax.random.key(seed), 3)
    test = Sample(*problem.sample(k_test, config.test_tuples))
    return TrainingData(problem, None, test, {"init": k_init, "batches": k_stream})


def evaluate(config: DigitParityConfig, data: TrainingData, fit: Fit) -> dict:
    """The last epoch's metrics (the learner's), a diagnostic and the data used.

    ``max_test_acc_over_epochs`` is the maximum over epochs of the *test* accuracy: it is
    selected on the test set, so it is an optimistic diagnostic, not a held-out score (it is in
    no table column).

    Args:
        config: the problem config.
        data: the seed's data.
        fit: the fitted learner.

    Returns:
        ``{"metrics", "info"}``.
    """
    images = data.problem.images
    metrics = {"max_test_acc_over_epochs": float(np.max(fit.traces["test_acc"]))}
    info = {
        "source": images.name,
        "n_train_images": len(images.y_train),
        "n_test_images": len(images.y_test),
        "image_shape": list(images.image_shape),
        "input_dim": config.k * images.dim,
        "pixel_mean": images.mean,
        "pixel_std": images.std,
    }
    return {"metrics": metrics, "info": info}


TABLE_COLUMNS = (("test_acc", "acc"), ("test_hinge", "hinge"))


def reference_row(config: dict):
    """No reference row for this task."""
    return None


def report(records: list[dict], directory, name: str):
    """Test accuracy per epoch (each seed, and the median), one panel per grid point, and the
    sweep figures.

    Args:
        records: runs of one experiment (any status; failed runs count in the tables).
        directory: where figures go.
        name: the experiment name (figure file prefix).

    Returns:
        (markdown lines, figure paths).
    """
    from paritylab.lab import figures

    paths = figures.sweep_figures(records, directory, name)
    panels = figures.faceted_curves(records, directory, name)
    return [], paths + ([panels] if panels else [])
