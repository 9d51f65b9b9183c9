"""The five learners of the digit-parity experiment (Daniely & Malach, "Learning Parities with
Neural Networks", NeurIPS 2020, Sec. 5, https://arxiv.org/abs/2002.07400).

The models are those of ``paritylab.models.digit_nets`` (two-layer networks with two output
logits, trained with softmax cross-entropy): ``relu-net`` trains both layers;
``relu-features``, ``linear-features`` and ``gaussian-features`` train only the output layer on a
frozen first layer; ``galu-ntk`` trains a gated linear network whose gates are a frozen copy of
the initial first layer (the paper's "NTK regime").

Training: optax AdaDelta (rho = 0.9, eps = 1e-6, lr = 1.0: the PyTorch defaults the reference
runs used), batch 128. Each epoch draws ``steps = tuples_per_epoch // batch_size`` fresh batches
of training tuples (the remainder is dropped) and runs them in ONE compiled program; test
cross-entropy, accuracy and the hinge loss of the margin f = z_1 - z_0 (with y in {-1, +1}) are
recorded after every epoch on the task's fixed test tuples.

Shared randomness (``TrainingData.keys``): ``"init"`` gives relu-net, relu-features,
linear-features and galu-ntk the SAME first and output layers for one seed (the models differ
only in what trains); ``"batches"`` gives every model the same training tuples (epoch t uses
``fold_in(key, t)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from paritylab.data.digits import gather_tuples, tuple_indices
from paritylab.errors import BadInput
from paritylab.learners.base import Fit, Learner, TrainingData
from paritylab.learners.loop import descend
from paritylab.models.digit_nets import apply_model, init_model
from paritylab.options import option

TRACE_NAMES = ("train_loss", "train_acc", "test_loss", "test_acc", "test_hinge")


def _stats(model, trainable, frozen, x, y):
    """(mean cross-entropy, (accuracy, mean hinge of the margin z_1 - z_0))."""
    z = apply_model(model, trainable, frozen, x)
    ce = optax.softmax_cross_entropy_with_integer_labels(z, y).mean()
    acc = jnp.mean(jnp.argmax(z, axis=-1) == y)
    hinge = jnp.mean(jax.nn.relu(1.0 - (2.0 * y - 1.0) * (z[:, 1] - z[:, 0])))
    return ce, (acc, hinge)


def _optimizer(lr, rho: float, eps: float) -> optax.GradientTransformation:
    return optax.adadelta(learning_rate=lr, rho=rho, eps=eps)


@partial(jax.jit, static_argnames=("model", "k", "batch_size", "steps", "rho", "eps"))
def _train_epoch(
    trainable, opt_state, frozen, x, y, key, lr, *, model, k, batch_size, steps, rho, eps
):
    """One epoch: ``steps`` fresh batches of k-tuples, scanned in one compiled loop."""
    idx = tuple_indices(key, y.shape[0], k=k, count=steps * batch_size)

    def objective(params, idx_b):
        xb, yb = gather_tuples(x, y, idx_b)
        return _stats(model, params, frozen, xb, yb)

    trainable, opt_state, _, (losses, (accs, _)) = descend(
        objective,
        _optimizer(lr, rho, eps),
        trainable,
        opt_state,
        idx.reshape(steps, batch_size, k),
        has_aux=True,
    )
    return trainable, opt_state, jnp.mean(losses), jnp.mean(accs)


_evaluate = jax.jit(_stats, static_argnames=("model",))


@partial(jax.jit, static_argnames=("model",))
def _margin(trainable, frozen, x, *, model):
    z = apply_model(model, trainable, frozen, x)
    return z[:, 1] - z[:, 0]


@dataclass(frozen=True)
class DigitNet(Learner):
    """Settings shared by the five digit-parity models; ``model`` names the architecture."""

    reads = "digits"
    model = ""
    width: int = option(512, "hidden units q", min=1)
    epochs: int = option(20, "training epochs", min=1)
    batch_size: int = option(128, "tuples per AdaDelta step", min=1)
    tuples_per_epoch: int = option(
        60_000,
        "fresh training tuples drawn per epoch (steps = tuples_per_epoch // batch_size, "
        "remainder dropped)",
        min=1,
    )
    lr: float = option(
        1.0, "AdaDelta learning rate (1.0 = PyTorch default)", min=0.0, min_open=True
    )
    rho: float = option(
        0.9, "AdaDelta decay rate of the squared-gradient averages", min=0.0, max=1.0, min_open=True
    )
    eps: float = option(1e-6, "AdaDelta epsilon", min=0.0, min_open=True)

    def check(self) -> None:
        """One full batch per epoch at least."""
        if self.tuples_per_epoch < self.batch_size:
            raise BadInput(
                f"tuples_per_epoch={self.tuples_per_epoch} is out of range: allowed >= "
                f"batch_size ({self.batch_size})"
            )

    def fit(self, data: TrainingData, *, key: jax.Array) -> Fit:
        """Train on fresh k-tuples of ``data.problem`` each epoch; evaluate on ``data.test``.

        ``data.test`` holds test tuples with 0/1 labels (``y``); metrics are the last epoch's,
        traces are over ``epoch`` = 1..epochs."""
        problem = data.problem
        k_init, k_stream = jax.random.split(key)
        x_tr, y_tr = jnp.asarray(problem.images.x_train), jnp.asarray(problem.images.y_train)
        x_te, y_te = data.test.x, data.test.y
        trainable, frozen = init_model(
            self.model, data.key("init", k_init), problem.k * problem.images.dim, self.width
        )
        opt_state = _optimizer(self.lr, self.rho, self.eps).init(trainable)
        steps = self.tuples_per_epoch // self.batch_size
        stream = data.key("batches", k_stream)
        rows = []
        for epoch in range(1, self.epochs + 1):
            trainable, opt_state, tr_loss, tr_acc = _train_epoch(
                trainable,
                opt_state,
                frozen,
                x_tr,
                y_tr,
                jax.random.fold_in(stream, epoch),
                jnp.float32(self.lr),
                model=self.model,
                k=problem.k,
                batch_size=self.batch_size,
                steps=steps,
                rho=self.rho,
                eps=self.eps,
            )
            te_loss, (te_acc, te_hinge) = _evaluate(self.model, trainable, frozen, x_te, y_te)
            rows.append([float(v) for v in (tr_loss, tr_acc, te_loss, te_acc, te_hinge)])
        table = np.asarray(rows, np.float64)
        traces = {"epoch": list(range(1, self.epochs + 1))}
        traces.update({name: table[:, i].tolist() for i, name in enumerate(TRACE_NAMES)})
        metrics = {name: float(table[-1, i]) for i, name in enumerate(TRACE_NAMES)}
        info = {
            "steps_per_epoch": steps,
            "tuples_per_epoch_used": steps * self.batch_size,
            "test_label_mean": float(jnp.mean(y_te)),
        }
        predict = partial(_margin, trainable, frozen, model=self.model)
        return Fit(predict, metrics, traces, info, state={"trainable": trainable, "frozen": frozen})


@dataclass(frozen=True)
class ReluNet(DigitNet):
    """Both layers of a ReLU network trained."""

    name = model = "relu-net"


@dataclass(frozen=True)
class ReluFeatures(DigitNet):
    """Output layer trained on frozen random ReLU features."""

    name = model = "relu-features"


@dataclass(frozen=True)
class LinearFeatures(DigitNet):
    """Output layer trained on frozen random linear features (a linear model in x)."""

    name = model = "linear-features"


@dataclass(frozen=True)
class GaussianFeatures(DigitNet):
    """Output layer trained on frozen ReLU features with a Gaussian first layer."""

    name = model = "gaussian-features"


@dataclass(frozen=True)
class GaluNTK(DigitNet):
    """Gated linear network, gates frozen at the initial first layer (the "NTK regime")."""

    name = model = "galu-ntk"
