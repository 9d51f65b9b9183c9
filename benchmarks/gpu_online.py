"""Online parity training on an accelerator: S seeds vmapped in one program vs one seed.

(n, k) = (50, 3), width 1000, batch 32, SGD lr 0.1, hinge (Barak et al. 2022's setting).
Times a fixed number of steps (compile excluded: a warm-up call first) for (a) one seed with
the ``OnlineSGD`` learner (``fit``) and (b) S seeds with ``train_online_seeds`` (the same
learner's settings, S initialisations, held-out sets and batch streams vmapped in one
program); then runs the S seeds to success and reports the median t_c. Works on any JAX
backend; prints which device it used.

    python benchmarks/gpu_online.py [--seeds 64] [--steps 2000] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.data import Problem, Uniform, parity_target
from paritylab.learners import OnlineSGD, TrainingData, train_online_seeds
from paritylab.models.init import init_params

N, K, WIDTH, BATCH = 50, 3, 1000, 32


def _params(keys):
    """The S initial networks, stacked on a leading seed axis: the ``uniform`` family (PyTorch's
    default, ``OnlineSGD``'s default init) from one key each."""
    ps = [
        init_params("uniform", key=k, n=N, width=WIDTH, scale=1.0, bias_range=1.0, sparsity=2)
        for k in keys
    ]
    return jax.tree.map(lambda *a: jnp.stack(a), *ps)


def _tests(problem, keys, m: int):
    """One held-out set of m points per seed, stacked: a ``Sample`` with a leading seed axis."""
    return jax.jit(jax.vmap(lambda k: problem.sample(k, m)))(keys)


def flops_per_step(batch: int) -> float:
    return 4 * batch * N * WIDTH + 6 * batch * WIDTH


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=64)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--json")
    args = ap.parse_args()
    device = jax.devices()[0]
    problem = Problem(Uniform(N), parity_target(np.array([3, 17, 41])))
    keys = jax.random.split(jax.random.key(0), args.seeds)
    init_keys = jax.random.split(jax.random.key(1), args.seeds)
    test_keys = jax.random.split(jax.random.key(2), args.seeds)
    batch = _params(init_keys)
    # success_threshold above any accuracy is not allowed, so time a window that ends before
    # the first success (t_c ~ 2,000 at this setting needs steps <= ~1,500 to be safe).
    timed = OnlineSGD(
        width=WIDTH, batch_size=BATCH, lr=0.1, max_steps=args.steps, eval_every=args.steps
    )
    tests = _tests(problem, test_keys, 1024)
    one_seed = TrainingData(
        problem,
        test=jax.tree.map(lambda a: a[0], tests),
        keys={"init": init_keys[0], "batches": keys[0]},
    )
    timed.fit(one_seed, key=keys[0])  # compile
    t0 = time.perf_counter()
    timed.fit(one_seed, key=keys[0])
    one = time.perf_counter() - t0
    train_online_seeds(timed, batch, problem, tests, keys=keys)  # compile
    t0 = time.perf_counter()
    train_online_seeds(timed, batch, problem, tests, keys=keys)
    many = time.perf_counter() - t0
    full = OnlineSGD(width=WIDTH, batch_size=BATCH, lr=0.1, max_steps=20_000, eval_every=100)
    tests_full = _tests(problem, test_keys, 8192)
    t0 = time.perf_counter()
    res = train_online_seeds(full, batch, problem, tests_full, keys=keys)
    to_success = time.perf_counter() - t0
    t_c = [t for t in res.t_c if t is not None]
    out = {
        "device": f"{device.platform}: {getattr(device, 'device_kind', device)}",
        "seeds": args.seeds,
        "steps_timed": args.steps,
        "one_seed_steps_per_s": args.steps / one,
        "vmapped_seed_steps_per_s": args.seeds * args.steps / many,
        "vmapped_gflops": args.seeds * args.steps * flops_per_step(BATCH) / many / 1e9,
        "speedup_per_seed_vs_one": (args.seeds * args.steps / many) / (args.steps / one),
        "to_success_wall_s": to_success,
        "success_fraction": float(np.mean(res.success)),
        "median_t_c": float(np.median(t_c)) if t_c else None,
    }
    for key, value in out.items():
        print(f"{key:28s} {value:,.4g}" if isinstance(value, float) else f"{key:28s} {value}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
