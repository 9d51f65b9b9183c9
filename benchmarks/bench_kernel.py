"""Kernel regression on one core: exact NTK ridge vs scikit-learn, and the Nystroem tier.

Data: m points uniform on {-1,+1}^50 (float32), labels the degree-3 parity chi_{3,17,41}
(float64), kernel ``TwoLayerReLUKernel()`` (two-layer ReLU NTK with bias), ridge 1.0.

* paritylab: the ``NTKKernel`` learner (``ntk-kernel``), ``NTKKernel(ridge=1.0).fit(
  TrainingData(problem, train=Sample(X, y, part)), key=...)``: builds K (gather table), solves
  by an in-place Cholesky (``fit_kernel_ridge``) and adds the learner's closed-form energy and
  parity correlation (a Krawtchouk sum over 51 terms, negligible).
* scikit-learn: ``K = kernel.kernel_matrix(X)`` (paritylab's kernel, same K) then
  ``KernelRidge(alpha=1.0, kernel="precomputed").fit(K, y)``. The sklearn time includes the
  kernel build, so both sides are end to end from (X, y) to dual coefficients; prediction is
  not timed on either side.

Time: both sides in this process, repeats interleaved, medians. Memory: each side in a fresh
subprocess (same imports, same X built first) reporting its peak RSS,
``resource.getrusage(RUSAGE_SELF).ru_maxrss``; the ratio is on the whole-process peak and the
increase over the high-water mark just before the fit is shown beside it.

Large-sample tier (a subprocess, for its peak RSS): ``fit_nystroem_ridge`` (no learner class
wraps it; it is the public function) on 10^5 samples of
the Daniely-Malach distribution D_A (n = 50, k = 5) with C centres; fit time (includes the
training predictions the model stores), peak RSS, test accuracy overall / easy / uniform part on
10^4 fresh samples. Everything runs pinned to one CPU with one BLAS thread.

    python benchmarks/bench_kernel.py [--quick] [--json OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib

CPU = benchlib.pin_one_thread()

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.kernel_ridge import KernelRidge  # noqa: E402

from paritylab.data import Problem, Sample, Uniform, parity_target  # noqa: E402
from paritylab.learners import NTKKernel, TrainingData, fit_nystroem_ridge  # noqa: E402
from paritylab.models.kernels import TwoLayerReLUKernel  # noqa: E402

N, SUPPORT, RIDGE = 50, [3, 17, 41], 1.0
KERNEL = TwoLayerReLUKernel()  # the kernel of NTKKernel's defaults (ntk, sigma_w = sigma_b = 1)
LEARNER = NTKKernel(ridge=RIDGE)
PROBLEM = Problem(Uniform(N), parity_target(SUPPORT))


def cube_data(m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.choice(np.array([-1.0, 1.0], np.float32), size=(m, N))
    return x, np.prod(x[:, SUPPORT], axis=1).astype(np.float64)


def fit_ours(x, y) -> np.ndarray:
    train = Sample(x, y, np.zeros(x.shape[0], np.int32))
    fit = LEARNER.fit(TrainingData(PROBLEM, train=train), key=jax.random.key(0))
    return fit.state["model"].coef


def fit_sklearn(x, y) -> np.ndarray:
    gram = KERNEL.kernel_matrix(x)
    return KernelRidge(alpha=RIDGE, kernel="precomputed").fit(gram, y).dual_coef_


def _maxrss_mb() -> float:
    """Peak RSS of this process in MB: VmHWM of /proc/self/status where there is one.
    (Linux keeps ``ru_maxrss`` across exec, so a child started by a big parent would report
    the parent's peak; VmHWM belongs to the new address space.)"""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(side: str, m: int, centres: int) -> dict:
    """One side in this (fresh) process: wall time and peak RSS."""
    if side == "nystroem":
        from paritylab.data import dm_sample

        support = [3, 17, 25, 41, 48]
        tr = dm_sample(jax.random.key(1), m, N, support)
        te = dm_sample(jax.random.key(2), 10_000, N, support)
        x, y = np.asarray(tr.x), np.asarray(tr.y, np.float64)
        xt, yt, part = np.asarray(te.x), np.asarray(te.y), np.asarray(te.part)
        before = _maxrss_mb()
        start = time.perf_counter()
        model = fit_nystroem_ridge(KERNEL, x, y, ridge=RIDGE, num_centres=centres, seed=0)
        wall = time.perf_counter() - start
        start = time.perf_counter()
        correct = np.sign(model.predict(xt)) == yt
        predict_s = time.perf_counter() - start
        acc = {
            "test_acc": float(correct.mean()),
            "test_acc_easy": float(correct[part == 1].mean()),
            "test_acc_uniform": float(correct[part == 0].mean()),
            "train_acc": float(np.mean(np.sign(model.train_predictions) == y)),
        }
        return {
            "wall_s": wall,
            "predict_10k_s": predict_s,
            "maxrss_before_mb": before,
            "maxrss_mb": _maxrss_mb(),
            "num_centres": centres,
            "m": m,
            **acc,
        }
    x, y = cube_data(m)
    before = _maxrss_mb()
    start = time.perf_counter()
    (fit_ours if side == "ours" else fit_sklearn)(x, y)
    wall = time.perf_counter() - start
    return {"wall_s": wall, "maxrss_before_mb": before, "maxrss_mb": _maxrss_mb()}


def in_subprocess(side: str, m: int, centres: int = 0) -> dict:
    cmd = [sys.executable, __file__, "--child", side, "--m", str(m), "--centres", str(centres)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def agreement(m: int) -> float:
    """Max relative difference of the two sides' dual coefficients (also a warm-up)."""
    x, y = cube_data(m)
    a, b = fit_ours(x, y), fit_sklearn(x, y)
    rel = float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
    assert rel < 1e-6, rel
    return rel


def kernel_build_time(m: int) -> float:
    x, _ = cube_data(m)
    return benchlib.timed(lambda: KERNEL.kernel_matrix(x))


def time_side_by_side(m: int, repeats: int) -> dict:
    x, y = cube_data(m)
    times: dict[str, list[float]] = {"ours": [], "sklearn": []}
    for r in range(repeats):
        for side in ("ours", "sklearn") if r % 2 == 0 else ("sklearn", "ours"):
            fn = fit_ours if side == "ours" else fit_sklearn
            times[side].append(benchlib.timed(lambda f=fn: f(x, y)))
        benchlib.log(
            f"[kernel] m={m} repeat {r + 1}/{repeats}: ours {times['ours'][-1]:.2f} s, "
            f"sklearn {times['sklearn'][-1]:.2f} s"
        )
    return {side: benchlib.summary(v) for side, v in times.items()}


def run(quick: bool) -> list[dict]:
    tiers = {} if quick else {5000: 3, 10_000: 3}
    centres = 500 if quick else 1000
    benchlib.log(f"[kernel] exact NTK ridge vs sklearn KernelRidge(precomputed), n={N}, CPU {CPU}")
    mem = {side: in_subprocess(side, 10_000) for side in ("ours", "sklearn")}
    for side, d in mem.items():
        benchlib.detail(
            f"  m=10000 {side} subprocess: peak RSS {d['maxrss_mb']:.0f} MB "
            f"(+{d['maxrss_mb'] - d['maxrss_before_mb']:.0f} MB over {d['maxrss_before_mb']:.0f}"
            f" MB before the fit), fit {d['wall_s']:.2f} s"
        )
    benchlib.log(f"[kernel] Nystroem, 10^5 D&M samples, {centres} centres (subprocess)")
    nys = in_subprocess("nystroem", 100_000, centres)
    benchlib.detail(
        f"  Nystroem m=100000 C={centres}: fit {nys['wall_s']:.1f} s, "
        f"peak RSS {nys['maxrss_mb']:.0f} MB (+{nys['maxrss_mb'] - nys['maxrss_before_mb']:.0f}),"
        f" test acc {nys['test_acc']:.3f} (easy {nys['test_acc_easy']:.3f}, uniform "
        f"{nys['test_acc_uniform']:.3f}), train acc {nys['train_acc']:.3f}"
    )
    rel = agreement(2000)
    times = {m: time_side_by_side(m, reps) for m, reps in tiers.items()}
    build_s = None if quick else kernel_build_time(10_000)
    if quick:  # the 10k time comes from the two memory subprocesses, one fit each
        times[10_000] = {side: benchlib.summary([mem[side]["wall_s"]]) for side in mem}
    for m, t in times.items():
        benchlib.detail(
            f"  m={m:6d}: ours {benchlib.fmt_summary(t['ours'], 2, ' s')}, sklearn "
            f"{benchlib.fmt_summary(t['sklearn'], 2, ' s')}"
        )
    if build_s is not None:
        benchlib.detail(f"  10k x 10k kernel build alone {build_s:.2f} s")
    benchlib.detail(f"  dual coefficients of the two sides agree to {rel:.0e} (relative, m=2000)")
    t10, t5 = times[10_000], times.get(5000)
    mo, ms = mem["ours"], mem["sklearn"]
    delta = {s: d["maxrss_mb"] - d["maxrss_before_mb"] for s, d in mem.items()}
    return [
        benchlib.record(
            "kernel-ridge-10k-vs-sklearn",
            t10["ours"]["median"],
            t10["sklearn"]["median"],
            "paritylab K + sklearn KernelRidge(precomputed).fit",
            "s",
            higher_is_better=False,
            ours_summary=t10["ours"],
            reference_summary=t10["sklearn"],
            at_5000=t5,
            kernel_build_10k_s=build_s,
            coef_max_rel_diff=rel,
            nystroem_100k=nys,
            note=(
                "quick: one fresh-process fit per side"
                if t5 is None
                else f"5k: {t5['ours']['median']:.2f} vs {t5['sklearn']['median']:.2f} s "
                f"({t5['sklearn']['median'] / t5['ours']['median']:.2f}x)"
            ),
        ),
        benchlib.record(
            "kernel-ridge-10k-memory-vs-sklearn",
            mo["maxrss_mb"],
            ms["maxrss_mb"],
            "same, peak RSS of a fresh subprocess",
            "MB",
            higher_is_better=False,
            ours_detail=mo,
            reference_detail=ms,
            note=f"fit adds {delta['ours']:.0f} vs {delta['sklearn']:.0f} MB",
        ),
    ]


def main() -> None:
    if "--child" in sys.argv:
        ap = argparse.ArgumentParser()
        ap.add_argument("--child", choices=("ours", "sklearn", "nystroem"))
        ap.add_argument("--m", type=int)
        ap.add_argument("--centres", type=int, default=0)
        a = ap.parse_args()
        print(json.dumps(child(a.child, a.m, a.centres)))
    else:
        benchlib.cli(run, __doc__)


if __name__ == "__main__":
    main()
