"""Many seeds of ``sgd-online`` in one compiled program (``vmap`` over seeds).

``train_group`` trains S runs of one ``OnlineSGD`` setting, each with its own data (the task's
``TrainingData`` of its seed: its own support, held-out set, training set and keys), as one
vmapped program: the chunk of the one-run loop (``paritylab.learners.online.chunk_body``:
``eval_every`` steps under ``lax.scan``, then one evaluation) vectorised over seeds. The
``Problem`` is a JAX pytree whose support (and any per-seed array, e.g. the mean-shift signs)
is a traced leaf, so the seeds' problems are stacked and vmapped too; schedules (curricula),
label noise, the optimizers and the task's in-loop probe work as in the one-run loop. Online
and finite-sample (epochs) modes are both supported.

Each seed gets exactly what ``OnlineSGD.fit`` records for it alone: the same evaluation steps,
traces, t_c, stop point (success + ``after_success``, the cap, or divergence), metrics and
final parameters (a snapshot taken when it stops; the group trains on while other seeds have
not stopped, and what a stopped seed does next is discarded). Numbers agree with the one-run
loop to float32 rounding (a batched matmul may sum in another order); t_c, measured at
evaluation steps, agrees exactly in the tests. When no more than a quarter of a group's rows
still run (groups of 8 or more), the group is compacted to the running seeds (one
recompilation), so a long tail does not pay for finished seeds.

This is the layout that keeps an accelerator busy (one large batched matmul per step instead of
S small ones); ``benchmarks/bench_vmap.py`` compares it with seeds one after another. The lab
uses it through ``--executor vmap`` (``paritylab.lab.vmap_executor``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.errors import BadInput
from paritylab.learners.base import Fit, TrainingData
from paritylab.learners.online import (
    OnlineSGD,
    StepConfig,
    _initial,
    chunk_body,
    loop_data,
    loop_fit,
    loop_plan,
    matmul_precision,
    to_train_layout,
)
from paritylab.learners.optimizers import STATE_COPIES, make_optimizer

# A group of at least COMPACT_MIN rows is cut down to its running seeds (one recompilation)
# once no more than this fraction of its rows still run.
COMPACT_MIN = 8
COMPACT_FRACTION = 0.25


def _stack(trees):
    return jax.tree.map(lambda *a: jnp.stack(a), *trees)


@functools.partial(jax.jit, static_argnames=("cfg", "probe"))
def _vinitial(p, data, problem, *, cfg: StepConfig, probe):
    def one(p1, d1, pr1):
        return _initial(p1, d1, pr1, cfg=cfg, probe=probe)

    return jax.vmap(one)(p, data, problem)


@functools.partial(
    jax.jit, static_argnames=("cfg", "length", "probe", "finite"), donate_argnums=(0,)
)
def _vchunk(carry, data, problem, *, cfg: StepConfig, length: int, probe, finite: bool):
    def one(c, d1, pr1):
        return chunk_body(c, d1, pr1, cfg=cfg, length=length, probe=probe)

    # The step counter is shared by every seed (unbatched), so the epoch-start reshuffle
    # stays a real lax.cond under vmap.
    axes = (0, 0, None, 0 if finite else None)
    return jax.vmap(one, in_axes=(axes, 0, 0), out_axes=(axes, 0))(carry, data, problem)


def train_group(
    learner: OnlineSGD,
    params: Sequence[dict],
    datas: Sequence[TrainingData],
    keys: Sequence[jax.Array],
) -> list[Fit]:
    """``learner.train_from(params[s], datas[s], key=keys[s])`` for every s, as one program.

    Args:
        learner: the ``sgd-online`` settings shared by the group.
        params: per seed, mlp parameters to start from (same shapes).
        datas: per seed, the task's data (same shapes: n, held-out and training-set sizes).
        keys: per seed, the learner's key.

    Returns:
        one ``Fit`` per seed, with the metrics, traces, info and final parameters that
        ``train_from`` gives it alone.
    """
    num = len(datas)
    if not num or len(params) != num or len(keys) != num:
        raise BadInput("train_group needs as many params and keys as data, at least one")
    plans = [loop_plan(learner, d) for d in datas]
    plan = plans[0]
    if any(p != plan for p in plans[1:]):
        raise BadInput("train_group: every seed must have the same training-set size")
    cfg, cap, every, _, m = plan
    finite = cfg.finite
    probe = datas[0].probe
    boolean = datas[0].problem.target.boolean
    p_list = [to_train_layout(p) for p in params]
    arrays = []
    for p, d, key in zip(p_list, datas, keys, strict=True):
        _, k_batches, k_shuffle = jax.random.split(key, 3)
        arrays.append(loop_data(p, d, d.key("batches", k_batches), d.key("shuffle", k_shuffle)))
    arrays = _stack(arrays)
    problem = _stack([d.problem for d in datas])
    stacked = _stack(p_list)
    opt = make_optimizer(
        learner.optimizer,
        learner.lr,
        weight_decay=learner.weight_decay,
        weight_decay_mode=learner.weight_decay_mode,
    )
    perm = jnp.tile(jnp.arange(m, dtype=jnp.int32), (num, 1)) if finite else None
    carry = (stacked, jax.vmap(opt.init)(stacked), jnp.asarray(0, jnp.int32), perm)

    def succeeded(values: dict) -> np.ndarray:
        if boolean:
            return np.asarray(values["test_acc"]) >= learner.success_threshold
        return np.asarray(values["test_rel_mse"]) <= learner.success_mse

    with matmul_precision(learner):
        first = jax.device_get(_vinitial(carry[0], arrays, problem, cfg=cfg, probe=probe))
    names = list(first)
    # Bookkeeping is vectorised over seeds (numpy), so a group of hundreds of seeds costs a few
    # array operations per evaluation; each evaluation is kept as (step, which seeds recorded
    # it, their values) and the per-seed traces are cut out at the end.
    history = [(0, np.ones(num, bool), {k: np.asarray(v) for k, v in first.items()})]
    stop = np.full(num, cap, np.int64)
    t_c = np.full(num, -1, np.int64)
    diverged = np.zeros(num, bool)
    steps = np.zeros(num, np.int64)
    hit = succeeded(first)
    t_c[hit] = 0
    stop[hit] = min(cap, learner.after_success)
    final: list = [None] * num
    row_of = np.arange(num)  # seed -> its row in the (possibly compacted) group
    loss_sum = np.zeros(num)  # the mean train loss over a seed's evaluation interval
    loss_steps = np.zeros(num, np.int64)  # when the group split it into pieces
    all_finite = np.ones(num, bool)

    def snapshot(seeds) -> None:
        for s in seeds:
            final[s] = jax.tree.map(lambda a, r=int(row_of[s]): np.asarray(a[r]), carry[0])

    t = 0
    snapshot(np.flatnonzero(stop <= 0))
    running = np.flatnonzero(stop > 0)
    while running.size:
        rows_now = len(jax.tree.leaves(carry[0])[0])
        if rows_now >= COMPACT_MIN and running.size <= rows_now * COMPACT_FRACTION:
            take = functools.partial(jnp.take, indices=jnp.asarray(row_of[running]), axis=0)
            carry = (
                jax.tree.map(take, carry[0]),
                jax.tree.map(take, carry[1]),
                carry[2],
                None if carry[3] is None else take(carry[3]),
            )
            arrays = jax.tree.map(take, arrays)
            problem = jax.tree.map(take, problem)
            row_of[running] = np.arange(running.size)
        nxt = int(min(stop[running].min(), (t // every + 1) * every))
        length = nxt - t
        with matmul_precision(learner):
            carry, out = _vchunk(
                carry, arrays, problem, cfg=cfg, length=length, probe=probe, finite=finite
            )
        out = jax.device_get(out)
        t = nxt
        rows = row_of[running]
        mean = np.asarray(out["train_loss"])[rows]
        loss_sum[running] += mean.astype(np.float64) * length
        loss_steps[running] += length
        all_finite[running] &= np.asarray(out["finite"])[rows]
        evaluated = (t % every == 0) | (stop[running] == t)
        seeds = running[evaluated]  # the seeds whose evaluation this is
        if seeds.size:
            rows = row_of[seeds]
            values = {k: np.asarray(out[k])[rows] for k in names}
            # One piece: the chunk's own mean, as the one-run loop; else the pieces' mean.
            pieces = loss_steps[seeds] != length
            values["train_loss"] = np.where(
                pieces, (loss_sum[seeds] / loss_steps[seeds]).astype(np.float32), mean[evaluated]
            )
            mask = np.zeros(num, bool)
            mask[seeds] = True
            full = {k: np.zeros(num, v.dtype) for k, v in values.items()}
            for k, v in values.items():
                full[k][seeds] = v
            history.append((t, mask, full))
            steps[seeds] = t
            bad = ~all_finite[seeds]
            diverged[seeds[bad]] = True
            stop[seeds[bad]] = t
            new = ~bad & (t_c[seeds] < 0) & succeeded(values)
            t_c[seeds[new]] = t
            stop[seeds[new]] = min(cap, t + learner.after_success)
            loss_sum[seeds], loss_steps[seeds], all_finite[seeds] = 0.0, 0, True
            done = seeds[stop[seeds] <= t]
            snapshot(done)
            running = running[~np.isin(running, done)]
    when = np.array([h[0] for h in history])
    masks = np.stack([h[1] for h in history])  # (evaluations, seeds)
    columns = {k: np.stack([h[2][k] for h in history]) for k in names}
    fits = []
    for s in range(num):
        at = masks[:, s]
        traces = {"step": [int(x) for x in when[at]]}
        traces.update({k: columns[k][at, s].tolist() for k in names})
        tc = None if t_c[s] < 0 else int(t_c[s])
        stopped = int(steps[s])
        fits.append(
            loop_fit(learner, traces, tc, stopped, bool(diverged[s]), final[s], plan, datas[s])
        )
    return fits


def online_seed_bytes(
    learner: OnlineSGD, *, n: int, eval_size: int, train_samples: int | None = None
) -> int:
    """Estimated device memory (bytes, float32) of one seed of a vmapped ``sgd-online`` group:
    parameters and their gradients, the initial weights, the optimizer state, the held-out set
    and its hidden activations at evaluation, the training set (finite mode) and its
    activations (training accuracy), and a batch's activations; without a safety factor.

    Args:
        learner: the ``sgd-online`` settings (width, batch size, optimizer).
        n: input dimension.
        eval_size: held-out samples.
        train_samples: training-set size (None: online).

    Returns:
        bytes.
    """
    q = learner.width
    params = n * q + 2 * q + 1
    opt_copies = STATE_COPIES[learner.optimizer]
    floats = params * (3 + opt_copies)  # params, gradients, W0 (+ optimizer moments)
    floats += eval_size * (n + q + 1)  # held-out inputs, hidden layer, outputs
    floats += learner.batch_size * (n + 3 * q)  # a batch, its activations and their gradient
    if train_samples:
        floats += train_samples * (n + q + 2)
    return 4 * floats


def fit_group(learner: OnlineSGD, datas: Sequence[TrainingData], keys) -> list[Fit]:
    """``learner.fit(datas[s], key=keys[s])`` for every s, as one program (``train_group``
    from each seed's ``initial_params``).

    Args:
        learner: the settings.
        datas: per seed, the task's data.
        keys: per seed, the learner's key.

    Returns:
        one ``Fit`` per seed.
    """
    params = [learner.initial_params(d, key=k) for d, k in zip(datas, keys, strict=True)]
    return train_group(learner, params, datas, keys)


class SeedsResult(NamedTuple):
    """Per seed: success, t_c (None = censored), final test accuracy, the step each seed
    stopped at; the evaluated steps of the longest seed and the (evaluations x seeds)
    test-accuracy trace (a seed's last value repeated after it stopped); total steps run."""

    success: np.ndarray
    t_c: list
    final_test_acc: np.ndarray
    steps: np.ndarray
    test_acc: np.ndarray
    total_steps: int


def train_online_seeds(learner: OnlineSGD, params_batch, problem, tests, *, keys) -> SeedsResult:
    """Train S networks on one problem with S data streams, online mode (``train_group``
    with a shared problem; each seed stops as ``fit`` would stop it).

    Args:
        learner: the ``sgd-online`` settings (batch size, optimizer, cap, evaluation).
        params_batch: an mlp parameter pytree with a leading seed axis (S, ...).
        problem: the problem (shared by every seed).
        tests: held-out ``Sample`` with a leading seed axis (S, m, n).
        keys: S keys of the batch streams, shape (S,).

    Returns:
        a ``SeedsResult``.
    """
    num = int(keys.shape[0])
    params = [jax.tree.map(lambda a, s=s: a[s], params_batch) for s in range(num)]
    datas = [
        TrainingData(
            problem,
            None,
            jax.tree.map(lambda a, s=s: a[s], tests),
            {"batches": keys[s], "shuffle": keys[s]},
        )
        for s in range(num)
    ]
    fits = train_group(learner, params, datas, [keys[s] for s in range(num)])
    longest = max(fits, key=lambda f: len(f.traces["step"]))
    evals = len(longest.traces["step"])
    accs = np.array(
        [
            f.traces["test_acc"] + [f.traces["test_acc"][-1]] * (evals - len(f.traces["step"]))
            for f in fits
        ]
    ).T
    return SeedsResult(
        np.array([f.metrics["success"] for f in fits]),
        [f.metrics["t_c"] for f in fits],
        np.array([f.metrics["test_acc"] for f in fits]),
        np.array(longest.traces["step"]),
        accs,
        int(max(f.metrics["steps"] for f in fits)),
    )


__all__ = [
    "SeedsResult",
    "fit_group",
    "online_seed_bytes",
    "train_group",
    "train_online_seeds",
]
