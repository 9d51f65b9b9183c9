"""Online training throughput on one core: paritylab vs PyTorch vs a stepwise JAX loop.

Setting (Barak et al. 2022): x uniform on {-1,+1}^50, y = chi_A(x) with |A| = 3, the two-layer
ReLU net of width 1000 with all of W, b, u trained by SGD (lr 0.1) on the hinge loss, a fresh
batch of 32 samples every step, drawn by the loop itself.

* paritylab: the ``OnlineSGD`` learner (``sgd-online``: whole loop compiled, data drawn inside
  it), ``fit`` on ``Problem(Uniform(50), parity_target(A))`` with a held-out set of 1,024
  points and the lab's progress probe, eval_every = max_steps so the timed call is one
  training chunk plus the initial and final evaluation (< 1% of the time). Gaussian
  initialisation from one fixed key, as the references. Compilation is excluded (one warm-up
  call).
* PyTorch: an ``nn.Module`` two-layer net, ``torch.optim.SGD``, data by ``torch.randint`` each
  step, ``zero_grad / backward / step`` in a Python loop.
* JAX stepwise: a jitted step (data drawn inside it with ``jax.random.rademacher``, optax SGD,
  params donated) called from a Python loop, no host sync until the end.

All three run in this process, pinned to one CPU (``benchlib.pin_one_thread``: thread
variables plus CPU affinity, which is what holds XLA to one core; PyTorch also
``set_num_threads(1)``), repeats interleaved (order rotated). The
achieved GFLOP/s counts 4 B n q + 6 B q flops per step (the matmuls a step needs) and is set
against the single-thread float32 matmul peak measured here: the best of numpy (OpenBLAS sgemm)
and jax.numpy (XLA) on 2048 x 2048 matrices.

    python benchmarks/bench_online.py [--quick] [--json OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib

# --unpinned-child: the library with the thread variables but no CPU affinity (how sweep
# workers ran before they were pinned)
UNPINNED = "--unpinned-child" in sys.argv
if UNPINNED:
    import os

    os.environ.update(benchlib.ONE_THREAD_ENV)
    os.sched_setaffinity(0, range(os.cpu_count()))
    CPU = None
else:
    CPU = benchlib.pin_one_thread()

import functools  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import torch  # noqa: E402

from paritylab.data import Problem, Uniform, parity_target  # noqa: E402
from paritylab.learners import OnlineSGD, TrainingData  # noqa: E402
from paritylab.metrics import progress_probe  # noqa: E402
from torch_ref import TorchNet  # noqa: E402

N, K, WIDTH, BATCH, LR = 50, 3, 1000, 32, 0.1
SUPPORT = [3, 17, 41]
FLOPS_PER_STEP = 4 * BATCH * N * WIDTH + 6 * BATCH * WIDTH


def sgemm_peak(size: int = 2048, seconds: float = 1.0) -> dict:
    """Best single-thread float32 GFLOP/s of numpy (OpenBLAS) and of jax.numpy (XLA) on
    size x size matrices, each timed for about ``seconds``."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    ja, jb = jnp.asarray(a), jnp.asarray(b)
    dot = jax.jit(jnp.matmul)
    runners = {"numpy": lambda: a @ b, "jax": lambda: dot(ja, jb).block_until_ready()}
    out = {}
    for name, fn in runners.items():
        fn()
        best, start = float("inf"), time.perf_counter()
        while time.perf_counter() - start < seconds:
            best = min(best, benchlib.timed(fn))
        out[name] = 2 * size**3 / best / 1e9
    return out


# ------------------------------------------------------------------------------ paritylab


EVAL_SIZE = 1024


@functools.partial(jax.jit, static_argnums=1)
def _held_out(problem: Problem, m: int, key: jax.Array):
    return problem.sample(key, m)


def make_ours(steps: int):
    """``run(seed, steps)``; compiled for one chunk length, so ``steps`` must not change."""
    learner = OnlineSGD(
        width=WIDTH,
        init="gaussian",
        batch_size=BATCH,
        lr=LR,
        loss="hinge",
        optimizer="sgd",
        max_steps=steps,
        eval_every=steps,
    )
    problem = Problem(Uniform(N), parity_target(SUPPORT))
    k_init = jax.random.key(0)

    def run(seed: int, n_steps: int) -> None:
        assert n_steps == steps
        k_test, k_batches, k_fit = jax.random.split(jax.random.key(seed), 3)
        data = TrainingData(
            problem,
            test=_held_out(problem, EVAL_SIZE, k_test),
            keys={"init": k_init, "batches": k_batches},
            probe=progress_probe,
        )
        fit = learner.fit(data, key=k_fit)
        assert fit.metrics["steps"] == steps and not fit.metrics["diverged"]

    return run


# ------------------------------------------------------------------------------ PyTorch


def make_torch():
    torch.set_num_threads(1)
    support = torch.tensor(SUPPORT)

    def run(seed: int, steps: int) -> None:
        torch.manual_seed(seed)
        model = TorchNet(N, WIDTH)
        opt = torch.optim.SGD(model.parameters(), lr=LR)
        for _ in range(steps):
            x = torch.randint(0, 2, (BATCH, N)).float() * 2 - 1
            y = x[:, support].prod(dim=1)
            loss = torch.clamp(1 - y * model(x), min=0).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert torch.isfinite(loss)

    return run


# ------------------------------------------------------------------------------ JAX stepwise


def make_jax_stepwise():
    opt = optax.sgd(LR)
    support = jnp.asarray(SUPPORT)

    def loss_fn(p, x, y):
        f = jax.nn.relu(x @ p["W"].T + p["b"]) @ p["u"]
        return jnp.mean(jnp.maximum(0.0, 1.0 - y * f))

    @jax.jit
    def init(key):
        kw, kb, ku = jax.random.split(key, 3)
        p = {
            "W": jax.random.normal(kw, (WIDTH, N)) / jnp.sqrt(N),
            "b": jax.random.uniform(kb, (WIDTH,), minval=-1.0, maxval=1.0),
            "u": jax.random.normal(ku, (WIDTH,)) / jnp.sqrt(WIDTH),
        }
        return p, opt.init(p)

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def step(p, state, key):
        key, sub = jax.random.split(key)
        x = jax.random.rademacher(sub, (BATCH, N), dtype=jnp.float32)
        y = jnp.prod(x[:, support], axis=1)
        loss, grads = jax.value_and_grad(loss_fn)(p, x, y)
        updates, state = opt.update(grads, state, p)
        return optax.apply_updates(p, updates), state, key, loss

    def run(seed: int, steps: int) -> None:
        key = jax.random.key(seed)
        p, state = init(key)
        for _ in range(steps):
            p, state, key, loss = step(p, state, key)
        assert bool(jnp.isfinite(loss))

    return run


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def unpinned_child(steps: int = 20_000, repeats: int = 3) -> dict:
    """paritylab's steps/s and CPU-seconds per wall-second with the thread variables set but
    no CPU affinity (how sweep workers ran before ``paritylab.lab.threads.pin_process``
    pinned each to a CPU)."""
    fn = make_ours(steps)
    fn(0, steps)
    rates, cores = [], []
    for r in range(repeats):
        c0, t0 = _cpu_s(), time.perf_counter()
        fn(r + 1, steps)
        wall = time.perf_counter() - t0
        rates.append(steps / wall)
        cores.append((_cpu_s() - c0) / wall)
    return {"steps_per_s": benchlib.summary(rates), "cores_busy": benchlib.summary(cores)}


def run(quick: bool) -> list[dict]:
    repeats = 3 if quick else 5
    scale = 0.3 if quick else 1.0
    steps = {
        "paritylab": int(20_000 * scale),
        "pytorch": int(4_000 * scale),
        "jax-stepwise": int(10_000 * scale),
    }
    runners = {
        "paritylab": make_ours(steps["paritylab"]),
        "pytorch": make_torch(),
        "jax-stepwise": make_jax_stepwise(),
    }
    warm = {"paritylab": steps["paritylab"], "pytorch": 100, "jax-stepwise": 100}
    benchlib.log(f"[online] n={N} k={K} width={WIDTH} batch={BATCH}, CPU {CPU}; warm-up")
    compile_s = {
        name: benchlib.timed(lambda f=fn, w=warm[name]: f(0, w)) for name, fn in runners.items()
    }
    peak_before = sgemm_peak(seconds=0.6 if quick else 1.5)
    rates: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    for r in range(repeats):
        for name in names[r % 3 :] + names[: r % 3]:
            fn, m = runners[name], steps[name]
            rates[name].append(m / benchlib.timed(lambda f=fn, m=m, seed=r + 1: f(seed, m)))
        benchlib.log(
            f"[online] repeat {r + 1}/{repeats}: "
            + ", ".join(f"{n} {v[-1]:,.0f}" for n, v in rates.items())
            + " steps/s"
        )
    peak_after = sgemm_peak(seconds=0.6 if quick else 1.5)
    unpinned = None
    if not quick:
        cmd = [sys.executable, __file__, "--unpinned-child"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        unpinned = json.loads(out.strip().splitlines()[-1])
        benchlib.detail(
            "  paritylab with XLA_FLAGS but no affinity (subprocess): "
            + benchlib.fmt_summary(unpinned["steps_per_s"], 0, " steps/s")
            + f" on {unpinned['cores_busy']['median']:.2f} cores"
        )
    s = {name: benchlib.summary(v) for name, v in rates.items()}
    peaks = {
        f"{lib}_{when}": v
        for when, d in (("before", peak_before), ("after", peak_after))
        for lib, v in d.items()
    }
    peak_name = max(peaks, key=peaks.get)
    peak = peaks[peak_name]
    gflops = s["paritylab"]["median"] * FLOPS_PER_STEP / 1e9
    for name, v in s.items():
        benchlib.detail(
            f"  {name:13s} {benchlib.fmt_summary(v, 0, ' steps/s')}  "
            f"(warm-up call {compile_s[name]:.1f} s)"
        )
    benchlib.detail(
        "  sgemm 2048 one thread, GFLOP/s: " + ", ".join(f"{k} {v:.1f}" for k, v in peaks.items())
    )
    common = {"compile_s": compile_s, "steps_per_repeat": steps, "unpinned": unpinned}
    return [
        benchlib.record(
            "train-online-vs-pytorch",
            s["paritylab"]["median"],
            s["pytorch"]["median"],
            "PyTorch nn.Module + optim.SGD loop",
            "steps/s",
            higher_is_better=True,
            ours_summary=s["paritylab"],
            reference_summary=s["pytorch"],
            note=f"spread {s['paritylab']['spread']:.0%} / {s['pytorch']['spread']:.0%}",
            **common,
        ),
        benchlib.record(
            "train-online-vs-jax-stepwise",
            s["paritylab"]["median"],
            s["jax-stepwise"]["median"],
            "jitted JAX step called from Python",
            "steps/s",
            higher_is_better=True,
            ours_summary=s["paritylab"],
            reference_summary=s["jax-stepwise"],
            note=f"spread {s['paritylab']['spread']:.0%} / {s['jax-stepwise']['spread']:.0%}",
            **common,
        ),
        benchlib.record(
            "train-online-peak-fraction",
            gflops,
            peak,
            f"sgemm 2048 one-thread peak ({peak_name.replace('_', ', ')})",
            "GFLOP/s",
            higher_is_better=True,
            flops_per_step=FLOPS_PER_STEP,
            sgemm_gflops=peaks,
            note=f"{FLOPS_PER_STEP / 1e6:.2f} MFLOP/step",
        ),
    ]


if __name__ == "__main__":
    if UNPINNED:
        print(json.dumps(unpinned_child()))
    else:
        benchlib.cli(run, __doc__)
