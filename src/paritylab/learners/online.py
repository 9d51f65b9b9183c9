"""Online (S)GD of the two-layer ReLU net on any problem: the ``sgd-online`` learner.

The setting of Barak et al. ("Hidden progress in deep learning: SGD learns parities near the
computational limit", NeurIPS 2022, https://arxiv.org/abs/2207.08799): the net g(x) =
sum_i u_i relu(<w_i, x> + b_i) (+ c) of ``paritylab.models.mlp``, all of W, b, u trained on a
*fresh* batch of B samples of the problem every step. Canonical: uniform x on {-1,+1}^50,
y = chi_A(x) with |A| = 3, B = 32, lr 0.1, hinge loss; success = 100% accuracy on 2^13
held-out samples, and the time to success t_c grows like n^O(k) while the loss plateaus and
then drops suddenly.

Any problem (``paritylab.data.Problem``: a distribution, possibly a schedule over steps, times
a target, with label noise) can be trained on: batch t is ``problem.training_sample(
fold_in(key, t), B, step=t)``, so a run's trajectory does not depend on how often it is
evaluated. Finite-sample mode (a task that provides a training set of m samples, the grokking
setting): the set is visited in epochs, reshuffled every epoch; an epoch has floor(m / B)
batches (the last partial batch dropped) or, with ``keep_last_batch``, ceil(m / B) batches, the
last one smaller (its loss is the mean over its rows).

Losses and optimizers are the shared ones (``paritylab.models.losses``,
``paritylab.learners.optimizers``, with coupled or decoupled weight decay).

The loop is compiled: each call of the jitted chunk runs ``eval_every`` steps (or epochs, with
``eval_unit = "epochs"``) with ``jax.lax.scan`` and then evaluates on the held-out set, so
Python sees the run once per evaluation. At every evaluation (and at step 0) it records test
accuracy, loss and hinge (and the test MSE for real-valued targets), the mean batch loss since
the previous evaluation (at step 0: the initial held-out loss), training accuracy in finite
mode, and whatever the task's probe measures (the hidden-progress measures, for instance).
Success: the first evaluation with test accuracy >= ``success_threshold`` (Boolean targets) or
test MSE / E[y^2] <= ``success_mse`` (real-valued targets); t_c is its step (and epoch, in
finite mode), None when the run is censored at the step cap.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from paritylab.errors import BadInput
from paritylab.learners.base import Fit, Learner, TrainingData
from paritylab.learners.optimizers import OPTIMIZERS, WEIGHT_DECAY_MODES, make_optimizer
from paritylab.models import mlp
from paritylab.models.init import INIT_FAMILIES, init_params
from paritylab.models.losses import LOSSES, loss_fn
from paritylab.options import option

EVAL_UNITS = ("steps", "epochs")
# The ``precision`` knob: its jax.default_matmul_precision name.
PRECISIONS = {"float32": "float32", "tf32": "tensorfloat32", "bf16": "bfloat16"}


def matmul_precision(learner) -> contextlib.AbstractContextManager:
    """The ``jax.default_matmul_precision`` context of a learner's ``precision`` knob: full
    float32 matmuls ("float32", jax's HIGHEST: on NVIDIA GPUs jax's own default may use TF32),
    or inputs rounded to TF32 ("tf32") or bfloat16 ("bf16"), accumulating in float32. XLA:CPU
    computes every float32 matmul in float32, so on a CPU all three give the same numbers."""
    name = PRECISIONS[getattr(learner, "precision", "float32")]
    return jax.default_matmul_precision(name) if name else contextlib.nullcontext()


class StepConfig(NamedTuple):
    """The hashable, static part of the training loop that its compilation depends on."""

    batch_size: int
    lr: float
    loss: str
    optimizer: str
    weight_decay: float
    weight_decay_mode: str
    finite: bool
    keep_last_batch: bool


def steps_per_epoch(m: int, batch_size: int, keep_last_batch: bool) -> int:
    """Batches per epoch over m samples: floor(m/B), or ceil(m/B) keeping the last batch.

    Args:
        m: training-set size.
        batch_size: B.
        keep_last_batch: keep the last, smaller batch.

    Returns:
        the number of steps per epoch.
    """
    return -(-m // batch_size) if keep_last_batch else m // batch_size


def _apply_t(p: dict, x: jax.Array) -> jax.Array:
    """``mlp.apply`` in the transposed layout {"Wt": W^T (n, q), "b", "u"(, "c")} used while
    training (measured ~25% faster steps on CPU than x @ W.T: the weight gradient x^T delta
    lands in W^T's row-major layout)."""
    out = jax.nn.relu(x @ p["Wt"] + p["b"]) @ p["u"]
    return out + p["c"] if "c" in p else out


def to_train_layout(params: dict) -> dict:
    """Copy of mlp parameters in the loop's layout {"Wt": W^T, "b", "u"(, "c")}.

    Args:
        params: mlp parameters.

    Returns:
        the same weights, W transposed, as fresh arrays.
    """
    out = {"Wt": jnp.array(params["W"].T), "b": jnp.array(params["b"]), "u": jnp.array(params["u"])}
    if "c" in params:
        out["c"] = jnp.array(params["c"])
    return out


def from_train_layout(p: dict) -> dict:
    """The inverse of ``to_train_layout``.

    Args:
        p: parameters in the loop's layout.

    Returns:
        mlp parameters.
    """
    out = {"W": p["Wt"].T, "b": p["b"], "u": p["u"]}
    if "c" in p:
        out["c"] = p["c"]
    return out


def _batch(cfg: StepConfig, problem, data: dict, t: jax.Array, perm):
    """Batch of step t: (x, y, row weights or None, permutation)."""
    if not cfg.finite:
        key = jax.random.fold_in(data["key_data"], t)
        sample = problem.training_sample(key, cfg.batch_size, step=t)
        return sample.x, sample.y, None, perm
    m = data["train_x"].shape[0]
    per_epoch = steps_per_epoch(m, cfg.batch_size, cfg.keep_last_batch)
    epoch, pos = t // per_epoch, t % per_epoch
    # Reshuffle only at an epoch start; lax.cond runs one branch on CPU.
    perm = jax.lax.cond(
        pos == 0,
        lambda: jax.random.permutation(jax.random.fold_in(data["key_shuffle"], epoch), m),
        lambda: perm,
    )
    start = pos * cfg.batch_size
    if not cfg.keep_last_batch:
        idx = jax.lax.dynamic_slice(perm, (start,), (cfg.batch_size,))
        return data["train_x"][idx], data["train_y"][idx], None, perm
    padded = jnp.concatenate([perm, perm[: cfg.batch_size]])
    idx = jax.lax.dynamic_slice(padded, (start,), (cfg.batch_size,))
    weights = ((start + jnp.arange(cfg.batch_size)) < m).astype(jnp.float32)
    return data["train_x"][idx], data["train_y"][idx], weights, perm


def _evaluate(cfg: StepConfig, p: dict, data: dict, problem, probe) -> dict:
    f = _apply_t(p, data["test_x"])
    y = data["test_y"]
    out = {
        "test_acc": jnp.mean(jnp.sign(f) == y),
        "test_loss": jnp.mean(loss_fn(cfg.loss)(f, y)),
        "test_hinge": jnp.mean(jax.nn.relu(1.0 - y * f)),
    }
    if not problem.target.boolean:
        out["test_mse"] = jnp.mean((f - y) ** 2)
        out["test_rel_mse"] = out["test_mse"] / jnp.mean(y**2)
    if probe is not None:
        out.update(probe(p["Wt"].T, data["W0t"].T, data["test_x"], f, problem.target))
    if cfg.finite:
        out["train_acc"] = jnp.mean(jnp.sign(_apply_t(p, data["train_x"])) == data["train_y"])
    return out


@functools.partial(jax.jit, static_argnames=("cfg", "probe"))
def _initial(p: dict, data: dict, problem, *, cfg: StepConfig, probe) -> dict:
    out = _evaluate(cfg, p, data, problem, probe)
    out["train_loss"] = out["test_loss"]
    return out


def chunk_body(carry, data: dict, problem, *, cfg: StepConfig, length: int, probe=None):
    """``length`` training steps under lax.scan, then one evaluation (not jitted: the
    one-run loop jits it, ``train_online_seeds`` vmaps it over seeds).

    Args:
        carry: (params in the training layout, optimizer state, step, permutation or None).
        data: the loop's arrays (``loop_data``).
        problem: the problem drawn from.
        cfg: the static step configuration.
        length: steps in this chunk.
        probe: optional in-loop measures (``TrainingData.probe``).

    Returns:
        (carry, evaluation dict with ``train_loss`` and ``finite``).
    """
    opt = make_optimizer(
        cfg.optimizer,
        cfg.lr,
        weight_decay=cfg.weight_decay,
        weight_decay_mode=cfg.weight_decay_mode,
    )
    per_example = loss_fn(cfg.loss)

    def batch_loss(params, x, y, weights):
        losses = per_example(_apply_t(params, x), y)
        if weights is None:
            return jnp.mean(losses)
        return jnp.sum(weights * losses) / jnp.sum(weights)

    def step(carry, _):
        params, opt_state, t, perm = carry
        x, y, weights, perm = _batch(cfg, problem, data, t, perm)
        loss, grads = jax.value_and_grad(batch_loss)(params, x, y, weights)
        updates, opt_state = opt.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, t + 1, perm), loss

    carry, losses = jax.lax.scan(step, carry, None, length=length)
    out = _evaluate(cfg, carry[0], data, problem, probe)
    out["train_loss"] = jnp.mean(losses)
    out["finite"] = jnp.all(jnp.isfinite(losses)) & jnp.all(
        jnp.array([jnp.all(jnp.isfinite(p)) for p in jax.tree.leaves(carry[0])])
    )
    return carry, out


_chunk = jax.jit(chunk_body, static_argnames=("cfg", "length", "probe"), donate_argnums=(0,))


def loop_data(params_t: dict, data: TrainingData, key_batches, key_shuffle) -> dict:
    """The arrays the compiled loop reads: held-out set, initial weights, stream keys and, in
    finite mode, the training set.

    Args:
        params_t: initial parameters in the training layout.
        data: the task's ``TrainingData`` (``test`` required; ``train`` for finite mode).
        key_batches: key of the fresh batches (online mode).
        key_shuffle: key of the per-epoch shuffles (finite mode).

    Returns:
        a dict of arrays.
    """
    out = {
        "key_data": key_batches,
        "test_x": data.test.x,
        "test_y": data.test.y,
        # A copy of its own: the training carry is donated to each chunk.
        "W0t": jnp.array(params_t["Wt"], copy=True),
    }
    if data.train is not None:
        out.update(train_x=data.train.x, train_y=data.train.y, key_shuffle=key_shuffle)
    return out


class LoopPlan(NamedTuple):
    """The static plan of one run's loop (``loop_plan``)."""

    cfg: StepConfig
    cap: int
    every: int
    per_epoch: int | None
    m: int | None


def loop_plan(learner: OnlineSGD, data: TrainingData) -> LoopPlan:
    """Step configuration, step cap, evaluation interval and epoch length of a run (checked
    against the data: ``check_problem``); ``OnlineSGD.train_from`` and the vmapped group
    trainer both run this plan.

    Args:
        learner: the settings.
        data: one seed's data.

    Returns:
        the ``LoopPlan``.
    """
    finite = data.train is not None
    m = int(data.train.y.shape[0]) if finite else None
    learner.check_problem(n=data.problem.n, train_samples=m)
    per_epoch = steps_per_epoch(m, learner.batch_size, learner.keep_last_batch) if finite else None
    cap = learner.max_steps
    if learner.epochs is not None:
        cap = min(cap, learner.epochs * per_epoch)
    every = learner.eval_every * per_epoch if learner.eval_unit == "epochs" else learner.eval_every
    cfg = StepConfig(
        learner.batch_size,
        float(learner.lr),
        learner.loss,
        learner.optimizer,
        float(learner.weight_decay),
        learner.weight_decay_mode,
        finite,
        learner.keep_last_batch,
    )
    return LoopPlan(cfg, cap, every, per_epoch, m)


@dataclass(frozen=True)
class OnlineSGD(Learner):
    """The two-layer ReLU net trained online (fresh batches) or in epochs over a fixed set."""

    name = "sgd-online"
    reads = "stream"
    width: int = option(1000, "hidden units q", min=1)
    init: str = option(
        "uniform", "initialisation family (uniform = PyTorch default)", choices=INIT_FAMILIES
    )
    init_scale: float = option(1.0, "first-layer scale (w ~ scale/sqrt(n))", min=0.0)
    init_bias_range: float = option(1.0, "b ~ U[-r, r] (gaussian/he/sparse/rademacher)", min=0.0)
    init_sparsity: int = option(2, "non-zeros per unit for init=sparse", min=1)
    init_noise: float = option(
        0.0, "init=rademacher: w = (+-1 + sigma g)/sqrt(n), g ~ N(0, 1); this is sigma", min=0.0
    )
    zero_bias: bool = option(False, "start every first-layer bias at 0")
    output_scale: float = option(1.0, "multiply the initial output weights by this", min=0.0)
    output_bias: bool = option(False, "add a trainable output bias c (starts at 0)")
    batch_size: int = option(32, "samples per SGD step", min=1)
    lr: float = option(0.1, "learning rate eta", min=0.0, min_open=True)
    loss: str = option("hinge", "training loss", choices=LOSSES)
    optimizer: str = option(
        "sgd", "sgd | adam | sign-sgd (Kou et al. 2024) | adadelta", choices=OPTIMIZERS
    )
    weight_decay: float = option(0.0, "weight decay lambda", min=0.0)
    weight_decay_mode: str = option(
        "auto",
        "coupled (inside the update rule) | decoupled (beside it) | auto (decoupled for adam only)",
        choices=WEIGHT_DECAY_MODES,
    )
    keep_last_batch: bool = option(False, "finite mode: keep the last, smaller batch of an epoch")
    max_steps: int = option(100_000, "hard step cap; runs not done by then are censored", min=1)
    epochs: int | None = option(None, "finite mode: cap at this many epochs", min=1)
    eval_every: int = option(250, "evaluations every this many steps (or epochs)", min=1)
    eval_unit: str = option("steps", "unit of eval_every (epochs: finite mode)", choices=EVAL_UNITS)
    success_threshold: float = option(
        1.0, "test accuracy that counts as success (Boolean targets)", min=0.0, max=1.0
    )
    success_mse: float = option(
        0.01, "test MSE / E[y^2] that counts as success (real-valued targets)", min=0.0
    )
    after_success: int = option(0, "steps to keep training after success", min=0)
    precision: str = option(
        "float32",
        "matmul precision: float32 | tf32 | bf16 (inputs rounded to TF32 or bfloat16 on "
        "GPUs/TPUs; a CPU computes all three in float32)",
        choices=tuple(PRECISIONS),
    )

    def check(self) -> None:
        """Paired init needs an even width; the rest is checked against the data
        (``check_problem``)."""
        if self.init == "paired" and self.width % 2:
            raise BadInput(f"width={self.width} must be even for init='paired'")

    def check_problem(self, *, n: int, train_samples: int | None) -> None:
        """Raise BadInput for settings that cannot work with inputs of dimension ``n`` and a
        training set of ``train_samples`` (None: online). ``fit`` runs it on its data; a task
        runs it before anything starts (``check_run``).

        Args:
            n: input dimension.
            train_samples: size of the fixed training set, or None for fresh batches.
        """
        if self.init == "sparse" and self.init_sparsity > n:
            raise BadInput(
                f"init_sparsity={self.init_sparsity} is out of range: allowed <= n ({n})"
            )
        if train_samples is not None and train_samples < self.batch_size:
            raise BadInput(
                f"train_samples={train_samples} is out of range: allowed >= batch_size "
                f"({self.batch_size})"
            )
        if train_samples is None and (self.epochs is not None or self.eval_unit == "epochs"):
            raise BadInput(
                "epochs and eval_unit='epochs' need a finite training set (train_samples)"
            )

    def initial_params(self, data: TrainingData, *, key: jax.Array) -> dict:
        """The network ``fit`` starts from: the ``init`` family drawn from the task's shared
        ``"init"`` key (or the init part of the learner's key).

        Args:
            data: the task's data (its ``problem.n`` and shared keys).
            key: the learner's key (as passed to ``fit``).

        Returns:
            mlp parameters {"W", "b", "u"(, "c")}.
        """
        k_init = jax.random.split(key, 3)[0]
        return self.draw_params(data.key("init", k_init), data.problem.n)

    def draw_params(self, key: jax.Array, n: int, *, width: int | None = None) -> dict:
        """The ``init`` family with these settings, drawn from ``key``.

        Args:
            key: JAX random key.
            n: input dimension.
            width: hidden units (default: ``width``).

        Returns:
            mlp parameters {"W", "b", "u"(, "c")}.
        """
        return init_params(
            self.init,
            key=key,
            n=n,
            width=self.width if width is None else width,
            scale=self.init_scale,
            bias_range=self.init_bias_range,
            sparsity=self.init_sparsity,
            zero_bias=self.zero_bias,
            output_scale=self.output_scale,
            output_bias=self.output_bias,
            noise=self.init_noise,
        )

    def fit(self, data: TrainingData, *, key: jax.Array) -> Fit:
        """Train on ``data.problem`` (online) or ``data.train`` (finite); evaluate on
        ``data.test``; stop at success + ``after_success``, at the cap, or on divergence."""
        return self.train_from(self.initial_params(data, key=key), data, key=key)

    def fit_group(self, datas: list[TrainingData], keys: list) -> list[Fit]:
        """``fit`` for every seed as one vmapped program
        (``paritylab.learners.online_seeds.fit_group``).

        Args:
            datas: per seed, the task's data.
            keys: per seed, the run's key.

        Returns:
            one ``Fit`` per seed, equal to ``fit``'s to float32 rounding.
        """
        from paritylab.learners.online_seeds import fit_group

        return fit_group(self, datas, keys)

    def seed_bytes(self, problem) -> int:
        """One seed's device memory in a vmapped group (``online_seed_bytes``; a cube
        training set counts 2^n inputs to train on and to score).

        Args:
            problem: the online task's problem config.

        Returns:
            bytes.
        """
        from paritylab.learners.online_seeds import online_seed_bytes

        n, m = problem.n, getattr(problem, "train_samples", None)
        held_out = getattr(problem, "eval_size", 0) or 0
        if getattr(problem, "train_set", None) == "cube":
            m = held_out = 2**n
        return online_seed_bytes(self, n=n, eval_size=held_out, train_samples=m)

    def train_from(self, params: dict, data: TrainingData, *, key: jax.Array) -> Fit:
        """``fit`` from given initial parameters (any width; ``width`` and the init fields
        are not read): the loop, stopping rule, metrics and traces of ``fit``.

        Args:
            params: mlp parameters to start from (not modified).
            data: the task's data.
            key: the learner's key (its batch and shuffle parts are used unless the task
                shares them).

        Returns:
            the ``Fit`` (``state["params"]``: the trained parameters).
        """
        problem = data.problem
        _, k_batches, k_shuffle = jax.random.split(key, 3)
        plan = loop_plan(self, data)
        cfg, cap, every = plan.cfg, plan.cap, plan.every
        finite = cfg.finite
        p = to_train_layout(params)  # fresh arrays: donating the carry never touches the caller's
        arrays = loop_data(p, data, data.key("batches", k_batches), data.key("shuffle", k_shuffle))
        opt = make_optimizer(
            self.optimizer,
            self.lr,
            weight_decay=self.weight_decay,
            weight_decay_mode=self.weight_decay_mode,
        )
        perm = jnp.arange(data.train.y.shape[0], dtype=jnp.int32) if finite else None
        carry = (p, opt.init(p), jnp.asarray(0, jnp.int32), perm)
        boolean = problem.target.boolean
        probe = data.probe

        def succeeded(out) -> bool:
            if boolean:
                return out["test_acc"] >= self.success_threshold
            return out["test_rel_mse"] <= self.success_mse

        with matmul_precision(self):
            first = jax.device_get(_initial(carry[0], arrays, problem, cfg=cfg, probe=probe))
        traces: dict[str, list] = {"step": [0], **{k: [float(v)] for k, v in first.items()}}
        t, stop, t_c, diverged = 0, cap, None, False
        if succeeded(first):
            t_c, stop = 0, min(cap, self.after_success)
        while t < stop:
            length = min(every, stop - t)
            with matmul_precision(self):
                carry, out = _chunk(carry, arrays, problem, cfg=cfg, length=length, probe=probe)
            out = jax.device_get(out)
            t += length
            traces["step"].append(t)
            for name in traces:
                if name != "step":
                    traces[name].append(float(out[name]))
            if not bool(out["finite"]):
                diverged = True
                break
            if t_c is None and succeeded(out):
                t_c, stop = t, min(cap, t + self.after_success)
        return loop_fit(self, traces, t_c, t, diverged, carry[0], plan, data)


def loop_fit(learner, traces, t_c, t, diverged, params_t, plan: LoopPlan, data) -> Fit:
    """The ``Fit`` of one run of the loop: final metrics (the last evaluation's, success, t_c,
    steps, divergence; epochs in finite mode), traces and info, the trained network.

    Args:
        learner: the settings.
        traces: the evaluations' traces (``step`` and one list per measure).
        t_c: step of success, or None.
        t: steps run.
        diverged: whether the run stopped on a non-finite value.
        params_t: trained parameters in the loop's layout.
        plan: the run's ``LoopPlan``.
        data: the run's data.

    Returns:
        the ``Fit``.
    """
    final = {name: values[-1] for name, values in traces.items() if name != "step"}
    metrics = {"success": t_c is not None, "t_c": t_c, "steps": t, "diverged": diverged}
    metrics.update(final)
    info = {"step_cap": plan.cap, "steps_per_epoch": plan.per_epoch}
    if plan.cfg.finite:
        per_epoch = plan.per_epoch
        traces["epoch"] = [s / per_epoch for s in traces["step"]]
        metrics["t_c_epochs"] = None if t_c is None else t_c / per_epoch
        metrics["epochs"] = t / per_epoch
        info["samples_seen"] = int(data.train.y.shape[0])
    else:
        info["samples_seen"] = t * learner.batch_size
    trained = from_train_layout(jax.tree.map(jnp.asarray, params_t))
    return Fit(
        functools.partial(_apply_net, trained), metrics, traces, info, state={"params": trained}
    )


_apply_net = jax.jit(mlp.apply)


def epochs_to_steps(epochs: int, m: int, batch_size: int, keep_last_batch: bool = False) -> int:
    """Number of steps in ``epochs`` full passes over m samples.

    Args:
        epochs: number of passes.
        m: training-set size.
        batch_size: B.
        keep_last_batch: whether the last, smaller batch is kept.

    Returns:
        epochs * steps_per_epoch.
    """
    return epochs * steps_per_epoch(m, batch_size, keep_last_batch)


__all__ = [
    "LoopPlan",
    "OnlineSGD",
    "StepConfig",
    "chunk_body",
    "epochs_to_steps",
    "loop_data",
    "loop_fit",
    "loop_plan",
]
