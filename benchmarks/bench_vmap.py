"""Seeds one after another vs one vmapped group: seed-steps per second, side by side.

On any machine: S seeds of ``sgd-online`` (``after_success`` = the step cap, so every seed
runs to the cap and both ways do the same S x steps seed-steps) trained (a) one after another
through the one-run loop (``OnlineSGD.fit``) and (b) as one vmapped group
(``paritylab.learners.online_seeds.fit_group``, what ``--executor vmap`` runs); compilation
excluded (a warm-up of one chunk each first). Prints seed-steps/s of both and their ratio.

When JAX sees an accelerator, also:

* the float32 and TF32 matmul peaks (a timed 8192 x 8192 matmul at each precision);
* the vmap group at width 1000, 512 seeds, (n, k) = (100, 4), batch 32: seed-steps/s and
  achieved TFLOP/s, counting 6 B n q + 6 B q flops per seed-step (forward and backward of
  both layers), and its fraction of the peak of the precision it ran at (float32 and tf32);
* the wall time of ``paritylab reproduce parity-scaling --executor vmap`` end to end
  (``--no-reproduce`` skips it).

    python benchmarks/bench_vmap.py [--seeds 8] [--width 128] [--steps 10000] [--no-reproduce]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import jax
import jax.numpy as jnp

from paritylab.lab.tasks import online as online_task
from paritylab.learners import OnlineSGD, learner_key
from paritylab.learners.online_seeds import fit_group


def flops_per_seed_step(batch: int, n: int, width: int) -> float:
    """Forward + backward of the first layer (6 B n q) and of the second (6 B q)."""
    return 6 * batch * n * width + 6 * batch * width


def _datas(n: int, k: int, eval_size: int, seeds: int):
    cfg = online_task.OnlineProblemConfig(n=n, k=k, eval_size=eval_size)
    return [online_task.make_data(cfg, s) for s in range(seeds)]


def _learner(width: int, steps: int, every: int, precision: str = "float32") -> OnlineSGD:
    """Every seed trains to the cap (``after_success`` = the cap): equal work both ways."""
    return OnlineSGD(
        width=width, max_steps=steps, eval_every=every, after_success=steps, precision=precision
    )


def sequential_vs_group(
    *, n: int, k: int, width: int, seeds: int, steps: int, every: int, eval_size: int
) -> dict:
    """Seed-steps/s of S seeds one after another and of the same S seeds as one group."""
    datas = _datas(n, k, eval_size, seeds)
    keys = [learner_key(s, "sgd-online") for s in range(seeds)]
    warm, timed = _learner(width, every, every), _learner(width, steps, every)
    warm.fit(datas[0], key=keys[0])  # compile the one-run chunk
    start = time.perf_counter()
    fits = [timed.fit(d, key=key) for d, key in zip(datas, keys, strict=True)]
    seq_s = time.perf_counter() - start
    seq_steps = sum(f.metrics["steps"] for f in fits)
    fit_group(warm, datas, keys)  # compile the group's chunk
    start = time.perf_counter()
    group = fit_group(timed, datas, keys)
    group_s = time.perf_counter() - start
    group_steps = sum(f.metrics["steps"] for f in group)
    return {
        "sequential": seq_steps / seq_s,
        "group": group_steps / group_s,
        "sequential_s": seq_s,
        "group_s": group_s,
        "succeeded": sum(f.metrics["success"] for f in group),
    }


def matmul_peak(precision: str, size: int = 8192, repeats: int = 20) -> float:
    """TFLOP/s of a size x size float32 matmul at ``precision`` (median of 3 timings)."""
    a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (size, size), jnp.float32)
    with jax.default_matmul_precision(precision):
        dot = jax.jit(jnp.matmul)
        dot(a, b).block_until_ready()
        rates = []
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(repeats):
                out = dot(a, b)
            out.block_until_ready()
            rates.append(2 * size**3 * repeats / (time.perf_counter() - start) / 1e12)
    return statistics.median(rates)


def group_tflops(
    *, precision: str, n: int = 100, k: int = 4, width: int = 1000, seeds: int = 512,
    steps: int = 2000, every: int = 500, eval_size: int = 1024,
) -> dict:  # fmt: skip
    """Achieved seed-steps/s and TFLOP/s of one vmapped group at ``precision``."""
    datas = _datas(n, k, eval_size, seeds)
    keys = [learner_key(s, "sgd-online") for s in range(seeds)]
    fit_group(_learner(width, every, every, precision), datas, keys)  # compile
    start = time.perf_counter()
    fits = fit_group(_learner(width, steps, every, precision), datas, keys)
    wall = time.perf_counter() - start
    seed_steps = sum(f.metrics["steps"] for f in fits)
    return {
        "seed_steps_per_s": seed_steps / wall,
        "tflops": seed_steps * flops_per_seed_step(32, n, width) / wall / 1e12,
        "wall_s": wall,
    }


def reproduce_wall(name: str = "parity-scaling") -> tuple[float, int]:
    """(wall seconds, return code) of ``paritylab reproduce NAME --executor vmap``."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "paritylab.cli", "reproduce", name, "--out", out]
        start = time.perf_counter()
        rc = subprocess.run(
            [*cmd, "--executor", "vmap", "--quiet"], stdout=subprocess.DEVNULL
        ).returncode
        return time.perf_counter() - start, rc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--eval-size", type=int, default=1024)
    ap.add_argument("--no-reproduce", action="store_true")
    args = ap.parse_args()
    device = jax.devices()[0]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"device: {device.device_kind} ({jax.default_backend()}), load {load:.1f}")
    res = sequential_vs_group(
        n=args.n,
        k=args.k,
        width=args.width,
        seeds=args.seeds,
        steps=args.steps,
        every=args.every,
        eval_size=args.eval_size,
    )
    print(
        f"S = {args.seeds} seeds, (n, k) = ({args.n}, {args.k}), width {args.width}, batch 32, "
        f"{args.steps} steps each, eval every {args.every} ({res['succeeded']} of {args.seeds} "
        "succeeded on the way)"
    )
    print(f"{'path':<28} {'seed-steps/s':>14} {'wall s':>8}")
    print(f"{'(a) one after another':<28} {res['sequential']:>14,.0f} {res['sequential_s']:>8.2f}")
    print(f"{'(b) one vmapped group':<28} {res['group']:>14,.0f} {res['group_s']:>8.2f}")
    print(f"ratio (b) / (a): {res['group'] / res['sequential']:.2f}x")
    if jax.default_backend() == "cpu":
        print("no accelerator: peak, TFLOP/s and the reproduce wall time are skipped")
        return 0
    peaks = {"float32": matmul_peak("float32"), "tf32": matmul_peak("tensorfloat32")}
    print(f"matmul peak (8192^2): float32 {peaks['float32']:.1f} TFLOP/s, TF32 "
          f"{peaks['tf32']:.1f} TFLOP/s")  # fmt: skip
    print(f"{'vmap group (q=1000, S=512)':<28} {'seed-steps/s':>14} {'TFLOP/s':>8} {'of peak':>8}")
    for precision in ("float32", "tf32"):
        g = group_tflops(precision=precision)
        print(
            f"{'  precision ' + precision:<28} {g['seed_steps_per_s']:>14,.0f} "
            f"{g['tflops']:>8.2f} {g['tflops'] / peaks[precision]:>8.1%}"
        )
    if not args.no_reproduce:
        wall, rc = reproduce_wall()
        print(f"paritylab reproduce parity-scaling --executor vmap: {wall:.1f} s (rc {rc})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
