"""The feature-count frontier of linear methods on D_A: uniform-part scores against N / C(n, k).

The lower bound of Daniely & Malach ("Learning Parities with Neural Networks", NeurIPS 2020,
https://arxiv.org/abs/2002.07400) says that a linear method with N bounded features and
output weights of norm B has uniform-part hinge loss at least 1 - B sqrt(E / C(n, k)) for a
typical support A (E = E_U ||Psi||^2 <= N for features in [-1, 1]): it can only fit the
parity once N B^2 reaches the scale of C(n, k). This module draws the runs of every linear
learner (those that report N, B and the energy) over several (n, k) on one axis x = N / C(n, k),
with the layer-wise network (and any other learner that reports no N) as a flat reference per
(n, k), the linear-threshold reference, and per run the hinge the bound implies.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from paritylab.theory import linear_threshold_reference

LINEAR_KEYS = ("num_features", "weight_norm", "feature_energy")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))
CAPTION = (
    "Left, middle: mean over seeds (lines, filled markers; small dots: single seeds). Hollow "
    "markers (middle): the typical-support lower bound's implied minimum uniform-part hinge "
    "max(0, 1 - B sqrt(E / C(n, k))) of each run, from the weight norm B and feature energy E "
    "that run reports; it bounds the hinge for a typical support A, not necessarily this run's. "
    "Horizontal lines: learners without a fixed embedding (e.g. two-phase) per (n, k), and the "
    "linear-threshold reference (1 + |c_k|)/2 per k. Right: every linear run's uniform-part "
    "hinge against B sqrt(E / C(n, k)), with the bound max(0, 1 - x) as the black line."
)


def _is_linear(r: dict) -> bool:
    return all(isinstance(r["metrics"].get(k), int | float) for k in LINEAR_KEYS)


def _nk(r: dict) -> tuple[int, int]:
    return int(r["config"]["n"]), int(r["config"]["k"])


def _ratio(r: dict) -> float:
    n, k = _nk(r)
    return float(r["metrics"]["num_features"]) / math.comb(n, k)


def bound_hinge(r: dict) -> float:
    """The typical-support bound's minimum uniform-part hinge, max(0, 1 - B sqrt(E/C(n, k))),
    from the B and the energy the run reports."""
    n, k = _nk(r)
    m = r["metrics"]
    return max(0.0, 1.0 - m["weight_norm"] * math.sqrt(m["feature_energy"] / math.comb(n, k)))


def spans_several_ratios(records: list[dict]) -> bool:
    """True when some linear learner has runs at two or more N / C(n, k) values."""
    seen: dict[str, set] = {}
    for r in records:
        if r.get("status", "ok") == "ok" and _is_linear(r) and "test_acc_uniform" in r["metrics"]:
            seen.setdefault(r["learner"], set()).add(round(_ratio(r), 12))
    return any(len(v) >= 2 for v in seen.values())


def frontier_rows(records: list[dict]) -> list[dict]:
    """One row per (n, k, learner, N), means over seeds, sorted by C(n, k), learner and N.

    Args:
        records: ok runs of a D_A experiment.

    Returns:
        dicts with n, k, binom, learner, N (None for learners without an embedding), ratio
        (N / C(n, k)), seeds, acc_uniform, hinge_uniform, B, energy and bound_hinge (the mean
        of ``bound_hinge`` over seeds; None without an embedding).
    """
    cells: dict[tuple, list[dict]] = {}
    for r in records:
        if r.get("status", "ok") != "ok" or "test_acc_uniform" not in r["metrics"]:
            continue
        n_feat = int(r["metrics"]["num_features"]) if _is_linear(r) else None
        cells.setdefault((*_nk(r), r["learner"], n_feat), []).append(r)
    rows = []
    for (n, k, learner, n_feat), runs in cells.items():

        def mean(values):
            v = [float(x) for x in values if x is not None]
            return float(np.mean(v)) if v else None

        linear = n_feat is not None
        rows.append(
            {
                "n": n,
                "k": k,
                "binom": math.comb(n, k),
                "learner": learner,
                "N": n_feat,
                "ratio": n_feat / math.comb(n, k) if linear else None,
                "seeds": len(runs),
                "acc_uniform": mean(r["metrics"]["test_acc_uniform"] for r in runs),
                "hinge_uniform": mean(r["metrics"].get("test_hinge_uniform") for r in runs),
                "B": mean(r["metrics"]["weight_norm"] for r in runs) if linear else None,
                "energy": mean(r["metrics"]["feature_energy"] for r in runs) if linear else None,
                "bound_hinge": mean(bound_hinge(r) for r in runs) if linear else None,
            }
        )
    rows.sort(key=lambda w: (w["binom"], w["n"], w["learner"], w["N"] or 0))
    return rows


def _fmt(v, spec: str) -> str:
    return "" if v is None else format(v, spec)


def frontier_markdown(rows: list[dict]) -> list[str]:
    """The rows of ``frontier_rows`` as a markdown table."""
    lines = [
        "| n | k | C(n,k) | learner | N | N / C | seeds | acc unif | hinge unif | B | "
        "bound: min hinge unif |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for w in rows:
        lines.append(
            f"| {w['n']} | {w['k']} | {w['binom']:,} | {w['learner']} | {_fmt(w['N'], ',')} | "
            f"{_fmt(w['ratio'], '.3g')} | {w['seeds']} | {_fmt(w['acc_uniform'], '.3f')} | "
            f"{_fmt(w['hinge_uniform'], '.3f')} | {_fmt(w['B'], '.3g')} | "
            f"{_fmt(w['bound_hinge'], '.3f')} |"
        )
    return lines


def frontier_figure(records: list[dict], directory, name: str) -> list[Path]:
    """Uniform-part accuracy (left) and hinge (right) against N / C(n, k) on a log axis.

    One colour and marker per linear learner, one line style per (n, k); learners without an
    embedding drawn flat per (n, k); the linear-threshold reference per k; in the hinge panel
    the typical-support bound's minimum hinge of every run (hollow markers). Written as PNG and
    PDF.

    Args:
        records: ok runs of a D_A experiment.
        directory: where the figure goes.
        name: file name prefix.

    Returns:
        [the PNG path] (the PDF lies beside it), or [] when ``spans_several_ratios`` is false.
    """
    records = [r for r in records if r.get("status", "ok") == "ok"]
    if not spans_several_ratios(records):
        return []
    rows = frontier_rows(records)
    linear_runs = [r for r in records if _is_linear(r) and "test_acc_uniform" in r["metrics"]]
    learners = sorted({r["learner"] for r in linear_runs})
    colour = {name: plt.cm.tab10.colors[i % 10] for i, name in enumerate(learners)}
    marker = {name: MARKERS[i % len(MARKERS)] for i, name in enumerate(learners)}
    cells = sorted({(w["binom"], w["n"], w["k"]) for w in rows})
    style = {(n, k): LINESTYLES[i % len(LINESTYLES)] for i, (_, n, k) in enumerate(cells)}

    fig, (ax_acc, ax_hinge, ax_bound) = plt.subplots(
        1, 3, figsize=(17, 5), gridspec_kw={"width_ratios": [1, 1, 0.8]}
    )
    for metric, ax in (("acc_uniform", ax_acc), ("hinge_uniform", ax_hinge)):
        key = "test_acc_uniform" if metric == "acc_uniform" else "test_hinge_uniform"
        for learner in learners:
            for _, n, k in cells:
                line = [w for w in rows if (w["learner"], w["n"], w["k"]) == (learner, n, k)]
                line = [w for w in line if w[metric] is not None]
                if not line:
                    continue
                ax.plot(
                    [w["ratio"] for w in line],
                    [w[metric] for w in line],
                    color=colour[learner],
                    marker=marker[learner],
                    ls=style[(n, k)],
                    lw=1.4,
                    ms=6,
                )
                runs = [r for r in linear_runs if (r["learner"], *_nk(r)) == (learner, n, k)]
                ax.plot(
                    [_ratio(r) for r in runs],
                    [r["metrics"].get(key, np.nan) for r in runs],
                    ls="none",
                    marker=".",
                    ms=3,
                    color=colour[learner],
                    alpha=0.5,
                )
                if metric == "hinge_uniform":
                    ax.plot(
                        [_ratio(r) for r in runs],
                        [bound_hinge(r) for r in runs],
                        ls="none",
                        marker=marker[learner],
                        mfc="none",
                        mec=colour[learner],
                        ms=7,
                        alpha=0.8,
                    )
        flat = [w for w in rows if w["N"] is None and w[metric] is not None]
        for w in flat:  # e.g. two-phase: one value per (n, k), no feature count
            ax.axhline(w[metric], color="k", lw=1.0, ls=style[(w["n"], w["k"])], alpha=0.7)
        if metric == "acc_uniform":
            for k in sorted({k for _, _, k in cells}):
                ref = linear_threshold_reference(k)["uniform"]
                ax.axhline(ref, color="tab:gray", lw=2.5, alpha=0.35)
                ax.annotate(
                    f"linear threshold, k={k}",
                    (0.01, ref),
                    xycoords=("axes fraction", "data"),
                    fontsize=7,
                    color="dimgray",
                    va="bottom",
                )
            ax.axhline(0.5, color="grey", lw=0.8)
            ax.set_ylabel("test accuracy on the uniform part")
        else:
            ax.set_ylabel("test hinge loss on the uniform part")
        ax.axvline(1.0, color="grey", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("N / C(n, k)   (N: features; training samples for a kernel)")
        ax.grid(alpha=0.3, which="both")

    xs = np.array([r["metrics"]["weight_norm"] for r in linear_runs]) * np.sqrt(
        [r["metrics"]["feature_energy"] / math.comb(*_nk(r)) for r in linear_runs]
    )
    for learner in learners:
        pick = [i for i, r in enumerate(linear_runs) if r["learner"] == learner]
        ax_bound.plot(
            xs[pick],
            [linear_runs[i]["metrics"].get("test_hinge_uniform", np.nan) for i in pick],
            ls="none",
            marker=marker[learner],
            color=colour[learner],
            alpha=0.7,
        )
    if len(xs) and np.all(xs > 0):
        grid = np.geomspace(xs.min() / 1.5, xs.max() * 1.5, 200)
        ax_bound.plot(grid, np.maximum(0.0, 1.0 - grid), "k-", lw=1.5)
        ax_bound.set_xscale("log")
    ax_bound.set_xlabel("B sqrt(E / C(n, k))")
    ax_bound.set_ylabel("test hinge loss on the uniform part")
    ax_bound.grid(alpha=0.3, which="both")

    handles = [
        Line2D([], [], color=colour[lr], marker=marker[lr], ls="-", label=lr) for lr in learners
    ]
    handles += [
        Line2D([], [], color="k", ls=style[(n, k)], label=f"(n, k) = ({n}, {k}), C = {c:,}")
        for c, n, k in cells
    ]
    flat_learners = sorted({w["learner"] for w in rows if w["N"] is None})
    if flat_learners:
        handles.append(
            Line2D([], [], color="k", lw=1.0, label=", ".join(flat_learners) + " (flat)")
        )
    handles.append(
        Line2D([], [], color="k", marker="o", mfc="none", ls="none", label="bound (per run)")
    )
    fig.legend(handles=handles, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.55))
    fig.suptitle(f"{name}: linear methods on the uniform part against N / C(n, k)")
    fig.text(0.01, -0.02, CAPTION, wrap=True, fontsize=8, va="top", ha="left")
    fig.tight_layout()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    png = directory / f"{name}-frontier.png"
    fig.savefig(png, dpi=130, bbox_inches="tight")
    fig.savefig(png.with_suffix(".pdf"), bbox_inches="tight")
    plt.close(fig)
    return [png]


def frontier_section(records: list[dict], directory, name: str) -> tuple[list[str], list[Path]]:
    """The frontier table and figure for a report, or nothing when the runs of no linear
    learner span several N / C(n, k) values.

    Args:
        records: ok runs of a D_A experiment.
        directory: where the figure goes.
        name: the experiment name.

    Returns:
        (markdown lines, figure paths).
    """
    paths = frontier_figure(records, directory, name)
    if not paths:
        return [], []
    lines = [
        "### Linear methods against N / C(n, k)",
        "",
        *frontier_markdown(frontier_rows(records)),
    ]
    return [*lines, "", CAPTION, ""], paths
