"""Full-batch training on one core: paritylab ``JointSGD`` vs a PyTorch full-batch loop.

Data: 20,000 samples of the Daniely-Malach distribution D_A with n = 128, k = 5 (the data do
not change the cost). Net: two-layer ReLU, width 512, all of W, b, u trained by gradient
descent (SGD lr 0.1, no momentum) on the mean hinge loss of all 20,000 samples every step.

* paritylab: the ``JointSGD`` learner (``joint-sgd``), ``JointSGD(width=512, lr=0.1,
  batch_size=20000, steps=S).fit(TrainingData(problem, train=sample), key=...)`` with S <= 100,
  so the S steps are one trace chunk; timed per call after one warm-up call with the same
  arguments (compilation excluded; the timed call includes the initialisation). NB:
  ``JointSGD`` draws each batch *with replacement* (``randint`` indices + gather), so
  batch_size = m is a bootstrap resample of the data, not the exact full gradient; the cost is
  the same matmuls plus one 20,000 x 128 gather a step.
* PyTorch: ``nn.Module`` + ``torch.optim.SGD`` on the whole tensor every step (exact full
  batch), ``torch.set_num_threads(1)``.
* Also shown (not a ratio): a plain JAX ``lax.scan`` of exact full-batch steps, to separate
  the cost of the resampling from the rest.

Steps/s, medians of interleaved repeats in one process pinned to one CPU (``benchlib.
pin_one_thread``: thread variables plus CPU affinity; PyTorch also ``set_num_threads(1)``).

    python benchmarks/bench_fullbatch.py [--quick] [--json OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib

CPU = benchlib.pin_one_thread()

import functools  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import torch  # noqa: E402

from paritylab.data import dm_problem  # noqa: E402
from paritylab.learners import JointSGD, TrainingData  # noqa: E402
from torch_ref import TorchNet  # noqa: E402

N, K, WIDTH, M, LR = 128, 5, 512, 20_000, 0.1
SUPPORT = [5, 30, 64, 90, 120]


PROBLEM = dm_problem(N, SUPPORT)


def data():
    return jax.block_until_ready(PROBLEM.sample(jax.random.key(0), M))


def make_ours(sample, steps: int):
    learner = JointSGD(width=WIDTH, optimizer="sgd", lr=LR, loss="hinge", steps=steps, batch_size=M)
    data = TrainingData(PROBLEM, train=sample)

    def run(seed: int) -> None:
        fit = learner.fit(data, key=jax.random.key(seed))
        jax.block_until_ready(fit.state["params"])
        assert len(fit.traces["step"]) == 1 and fit.traces["step"][0] == steps
        assert np.all(np.isfinite(fit.traces["train_loss"]))

    return run


def make_torch(x, y, steps: int):
    torch.set_num_threads(1)
    tx, ty = torch.from_numpy(np.array(x)), torch.from_numpy(np.array(y))

    def run(seed: int, n_steps: int = steps) -> None:
        torch.manual_seed(seed)
        model = TorchNet(N, WIDTH)
        opt = torch.optim.SGD(model.parameters(), lr=LR)
        for _ in range(n_steps):
            loss = torch.clamp(1 - ty * model(tx), min=0).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert torch.isfinite(loss)

    return run


def make_jax_scan(x, y, steps: int):
    opt = optax.sgd(LR)

    def loss_fn(p):
        f = jax.nn.relu(x @ p["W"].T + p["b"]) @ p["u"]
        return jnp.mean(jnp.maximum(0.0, 1.0 - y * f))

    @functools.partial(jax.jit, static_argnums=1)
    def train(key, steps):
        kw, kb, ku = jax.random.split(key, 3)
        p = {
            "W": jax.random.normal(kw, (WIDTH, N)) / jnp.sqrt(N),
            "b": jax.random.uniform(kb, (WIDTH,), minval=-1.0, maxval=1.0),
            "u": jax.random.normal(ku, (WIDTH,)) / jnp.sqrt(WIDTH),
        }

        def step(carry, _):
            p, state = carry
            loss, g = jax.value_and_grad(loss_fn)(p)
            updates, state = opt.update(g, state, p)
            return (optax.apply_updates(p, updates), state), loss

        (p, _), losses = jax.lax.scan(step, (p, opt.init(p)), None, length=steps)
        return p, losses

    def run(seed: int) -> None:
        _, losses = jax.block_until_ready(train(jax.random.key(seed), steps))
        assert bool(jnp.all(jnp.isfinite(losses)))

    return run


def run(quick: bool) -> list[dict]:
    repeats, steps = (3, 4) if quick else (5, 20)
    sample = data()
    x, y = sample.x, sample.y
    runners = {
        "paritylab": make_ours(sample, steps),
        "pytorch": make_torch(x, y, steps),
        "jax-scan-exact": make_jax_scan(x, y, steps),
    }
    benchlib.log(f"[fullbatch] m={M} n={N} width={WIDTH}, {steps} steps/call, CPU {CPU}; warm-up")
    warm_s = {
        "paritylab": benchlib.timed(lambda: runners["paritylab"](0)),
        "pytorch": benchlib.timed(lambda: runners["pytorch"](0, 2)),
        "jax-scan-exact": benchlib.timed(lambda: runners["jax-scan-exact"](0)),
    }
    rates: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    for r in range(repeats):
        for name in names[r % 3 :] + names[: r % 3]:
            fn = runners[name]
            rates[name].append(steps / benchlib.timed(lambda f=fn, seed=r + 1: f(seed)))
        benchlib.log(
            f"[fullbatch] repeat {r + 1}/{repeats}: "
            + ", ".join(f"{n} {v[-1]:.2f}" for n, v in rates.items())
            + " steps/s"
        )
    s = {name: benchlib.summary(v) for name, v in rates.items()}
    flops = 4 * M * N * WIDTH + 6 * M * WIDTH
    for name, v in s.items():
        benchlib.detail(
            f"  {name:15s} {benchlib.fmt_summary(v, 2, ' steps/s')}  "
            f"= {v['median'] * flops / 1e9:.1f} GFLOP/s  (warm-up call {warm_s[name]:.1f} s)"
        )
    return [
        benchlib.record(
            "train-fullbatch-vs-pytorch",
            s["paritylab"]["median"],
            s["pytorch"]["median"],
            "PyTorch full-batch nn.Module + optim.SGD loop",
            "steps/s",
            higher_is_better=True,
            ours_summary=s["paritylab"],
            reference_summary=s["pytorch"],
            jax_scan_exact_summary=s["jax-scan-exact"],
            warmup_s=warm_s,
            steps_per_call=steps,
            note=(
                f"spread {s['paritylab']['spread']:.0%} / {s['pytorch']['spread']:.0%}; "
                f"plain JAX scan {s['jax-scan-exact']['median']:.2f}"
            ),
        )
    ]


if __name__ == "__main__":
    benchlib.cli(run, __doc__)
