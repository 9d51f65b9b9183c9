"""Task ``digits``: parities of k handwritten digits side by side (science.md 1.4).

Daniely & Malach (2020, "Learning Parities with Neural Networks", Sec. 5) put k MNIST images
side by side and label the tuple with the parity of the sum of its digits: a trained two-layer
ReLU network learns it for k = 3 while fixed-feature models (random ReLU / Gaussian / linear
features) and the "NTK regime" stay near chance. Data: ``paritylab.data.digits`` (bundled 8x8
digits by default, full MNIST from a local path); models: ``paritylab.learners.digit_nets``.

Seeds: ``run(config, learner=L, seed=s)`` derives every random choice from ``jax.random.key(s)``
(init, the fixed test tuples, each epoch's fresh training tuples), independently of L, so the
five learners of one seed see the same test set and training stream. Same config + seed gives
identical numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import numpy as np

from paritylab.data.digits import SOURCES, load_source
from paritylab.errors import BadInput
from paritylab.learners.digit_nets import MODELS, fit_digit_net

LEARNERS = MODELS


def preflight(config) -> None:
    """Checked once per distinct config before any run starts: the data files load (a
    missing or malformed MNIST file is a BadInput, exit 2, not 45 failed runs)."""
    load_source(config.source, config.mnist_path)


@dataclass(frozen=True)
class DigitParityConfig:
    """One digit-parity run: data, network size and AdaDelta training schedule."""

    k: int = field(
        default=1,
        metadata={"doc": "digits per tuple; label = parity of their sum", "min": 1, "max": 5},
    )
    source: str = field(
        default="digits",
        metadata={
            "doc": "digits: sklearn's bundled 8x8 set (1,200 train / 597 test images); "
            "mnist: full MNIST read from mnist_path",
            "choices": SOURCES,
        },
    )
    mnist_path: str = field(
        default="",
        metadata={
            "doc": "folder with the four MNIST IDX files (plain or .gz) or a mnist.npz "
            "(x_train, y_train, x_test, y_test); only with source = mnist"
        },
    )
    width: int = field(default=512, metadata={"doc": "hidden units q", "min": 1})
    epochs: int = field(default=20, metadata={"doc": "training epochs", "min": 1})
    batch_size: int = field(default=128, metadata={"doc": "tuples per AdaDelta step", "min": 1})
    tuples_per_epoch: int = field(
        default=60_000,
        metadata={
            "doc": "fresh training tuples drawn per epoch (steps = tuples_per_epoch // "
            "batch_size, remainder dropped)",
            "min": 1,
        },
    )
    test_tuples: int = field(
        default=10_000,
        metadata={"doc": "size of the fixed test set of tuples of test images", "min": 1},
    )
    lr: float = field(
        default=1.0,
        metadata={
            "doc": "AdaDelta learning rate (1.0 = PyTorch default)",
            "min": 0.0,
            "min_open": True,
        },
    )
    rho: float = field(
        default=0.9,
        metadata={
            "doc": "AdaDelta decay rate of the squared-gradient averages",
            "min": 0.0,
            "max": 1.0,
            "min_open": True,
        },
    )
    eps: float = field(
        default=1e-6,
        metadata={"doc": "AdaDelta epsilon", "min": 0.0, "min_open": True},
    )

    def check(self) -> None:
        """Cross-field constraints: mnist needs a path, digits takes none; one full batch."""
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
        if self.tuples_per_epoch < self.batch_size:
            raise BadInput(
                f"tuples_per_epoch={self.tuples_per_epoch} is out of range: allowed >= "
                f"batch_size ({self.batch_size})"
            )


CONFIG = DigitParityConfig


def run(config: DigitParityConfig, *, learner: str, seed: int) -> dict:
    """Train ``learner`` on k-digit parities; final metrics, per-epoch traces and data info.

    metrics: ``test_acc``, ``test_loss`` (cross-entropy), ``test_hinge`` (of the margin
    z_1 - z_0), ``train_acc``/``train_loss`` (last epoch, batch mean before each update),
    ``best_test_acc``; traces over ``epoch`` = 1..epochs of the same; info: the data set and
    schedule actually used (``test_label_mean`` is the fraction of odd test tuples: chance is
    max(p, 1 - p))."""
    config.check()
    data = load_source(config.source, config.mnist_path)
    fit = fit_digit_net(
        learner,
        data,
        k=config.k,
        width=config.width,
        epochs=config.epochs,
        batch_size=config.batch_size,
        tuples_per_epoch=config.tuples_per_epoch,
        test_tuples=config.test_tuples,
        lr=config.lr,
        rho=config.rho,
        eps=config.eps,
        key=jax.random.key(seed),
    )
    tr = fit.traces
    metrics = {name: float(tr[name][-1]) for name in tr if name != "epoch"}
    metrics["best_test_acc"] = float(np.max(tr["test_acc"]))
    info = {
        "source": data.name,
        "n_train_images": len(data.y_train),
        "n_test_images": len(data.y_test),
        "image_shape": list(data.image_shape),
        "input_dim": config.k * data.dim,
        "pixel_mean": data.mean,
        "pixel_std": data.std,
        "steps_per_epoch": fit.steps_per_epoch,
        "tuples_per_epoch_used": fit.steps_per_epoch * config.batch_size,
        "test_label_mean": fit.test_label_mean,
    }
    traces = {name: [float(v) for v in values] for name, values in tr.items()}
    traces["epoch"] = [int(e) for e in tr["epoch"]]
    return {"metrics": metrics, "traces": traces, "info": info}
