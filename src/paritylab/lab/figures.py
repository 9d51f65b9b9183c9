"""Figures of stored runs (matplotlib, Agg): metrics vs swept variables with 95% intervals
over seeds, training curves, and the Daniely-Malach panel (per-part accuracy against the
linear-threshold reference; measured hinge loss against the linear-method lower bounds)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from paritylab.lab.tables import group_records, mean_interval

SWEEP_METRICS = ("test_acc_uniform", "test_acc", "test_hinge", "success", "t_c")


def _label(g: dict, exclude: str) -> str:
    rest = ", ".join(f"{k}={v}" for k, v in sorted(g["point"].items()) if k != exclude)
    return g["learner"] + (f" ({rest})" if rest else "")


def sweep_figures(
    records: list[dict], out: Path, prefix: str, *, reference: dict | None = None
) -> list[Path]:
    """One figure per swept variable: each present metric vs that variable, one line per
    learner (and per value of the other swept variables), mean and 95% interval over seeds.

    Args:
        records: ok runs of one experiment.
        out: folder of the figures.
        prefix: file name prefix.
        reference: {metric: curve(axis, groups)} of reference lines a task draws on a metric's
            panel; ``curve`` returns (xs or None for a horizontal line, ys, label) or None.

    Returns:
        paths of the PNG figures written.
    """
    groups = group_records(records)
    axes = sorted({k for g in groups for k in g["point"]})
    paths = []
    for axis in axes:
        metrics = [m for m in SWEEP_METRICS if any(m in g["metrics"] for g in groups)]
        if not metrics:
            continue
        fig, axs = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6), squeeze=False)
        for ax in axs[0]:  # many learners x grid values: 20 distinct colours, then dashes
            ax.set_prop_cycle(
                plt.cycler(color=plt.cm.tab20.colors) * plt.cycler(linestyle=["-"])
                + plt.cycler(marker=["o"] * 20)
            )
        lines: dict[str, list] = {}
        for g in groups:
            if isinstance(g["point"].get(axis), int | float):
                lines.setdefault(_label(g, axis), []).append(g)
        for ax, metric in zip(axs[0], metrics, strict=True):
            for label, gs in sorted(lines.items()):
                gs = sorted(gs, key=lambda g: g["point"][axis])
                xs = [g["point"][axis] for g in gs]
                stats = [mean_interval(g["metrics"].get(metric, [])) for g in gs]
                ys = np.array([s[0] for s in stats])
                hs = np.nan_to_num(np.array([s[1] for s in stats]))
                if np.all(np.isnan(ys)):
                    continue
                ax.plot(xs, ys, label=label)
                ax.fill_between(xs, ys - hs, ys + hs, alpha=0.2)
            if reference and metric in reference:
                _reference_line(ax, reference[metric](axis, groups))
            if metric == "t_c":
                ax.set_xscale("log")
                ax.set_yscale("log")
            ax.set_xlabel(axis)
            ax.set_ylabel(metric)
            ax.grid(alpha=0.3)
        handles, labels = axs[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
        fig.suptitle(f"{prefix}: metrics vs {axis} (mean, 95% interval over seeds)")
        fig.tight_layout()
        paths.append(_save(fig, out / f"{prefix}-vs-{axis}.png"))
    return paths


def _reference_line(ax, curve) -> None:
    """Draw a task's reference (a curve, or a horizontal line when xs is None) and chance."""
    if curve is not None:
        xs, ys, label = curve
        if xs is None:
            ax.axhline(ys[0], color="k", ls="--", label=label)
        else:
            ax.plot(xs, ys, "k--", label=label)
    ax.axhline(0.5, color="grey", lw=0.8)


def training_curves(records: list[dict], out: Path, prefix: str) -> Path | None:
    """Mean training traces over seeds, one panel per trace, one line per (point, learner)."""
    curves: dict[str, dict[str, list]] = {}
    xname = None
    for r in records:
        tr = r.get("traces") or {}
        x = "step" if "step" in tr else "epoch" if "epoch" in tr else None
        if r["status"] != "ok" or x is None:
            continue
        xname = xname or x
        label = r["learner"] + "".join(f" {k}={v}" for k, v in sorted(r["point"].items()))
        for name, ys in tr.items():
            if name in ("step", "epoch") or len(ys) != len(tr[x]):
                continue
            curves.setdefault(name, {}).setdefault(label, []).append((tr[x], ys))
    if not curves:
        return None
    names = sorted(curves)[:6]
    fig, axs = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axs[0], names, strict=True):
        for label, runs in sorted(curves[name].items()):
            n = min(len(ys) for _, ys in runs)
            ys = np.array([np.asarray(ys[:n], dtype=float) for _, ys in runs])
            ax.plot(runs[0][0][:n], np.nanmean(ys, axis=0), label=label, lw=1.2)
        ax.set_xlabel(xname)
        ax.set_ylabel(name)
        if name.endswith("loss") and all(
            v > 0 for runs in curves[name].values() for _, ys in runs for v in ys if v is not None
        ):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axs[0][0].legend(fontsize=6)
    fig.suptitle(f"{prefix}: training curves (mean over seeds)")
    fig.tight_layout()
    return _save(fig, out / f"{prefix}-curves.png")


def dm_panel(records: list[dict], out: Path, prefix: str, *, reference=None) -> list[Path]:
    """Per grid point of a two-part experiment: accuracy per part with a reference, and measured
    hinge loss beside the certificate and typical-support lower bounds of linear methods.

    Args:
        records: ok runs of one experiment.
        out: folder of the figures.
        prefix: file name prefix.
        reference: ``curve(axis, groups)`` of the accuracy reference (as in ``sweep_figures``).

    Returns:
        paths of the PNG figures written.
    """
    groups = [g for g in group_records(records) if "test_acc_uniform" in g["metrics"]]
    by_point: dict[str, list] = {}
    for g in groups:
        by_point.setdefault(json.dumps(g["point"], sort_keys=True), []).append(g)
    paths = []
    for i, (point, gs) in enumerate(sorted(by_point.items())):
        gs = sorted(gs, key=lambda g: g["learner"])
        names = [g["learner"] for g in gs]
        x = np.arange(len(gs))
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
        for j, (metric, lab) in enumerate(
            (("test_acc_easy", "easy"), ("test_acc_uniform", "uniform"), ("test_acc", "overall"))
        ):
            stats = [mean_interval(g["metrics"].get(metric, [])) for g in gs]
            a1.bar(
                x + (j - 1) * 0.27,
                [s[0] for s in stats],
                0.27,
                label=lab,
                yerr=np.nan_to_num([s[1] for s in stats]),
            )
        _reference_line(a1, reference("", gs) if reference else None)
        a1.set_ylabel("test accuracy")
        a1.set_ylim(0, 1.05)
        a1.legend(fontsize=7, loc="lower left")
        for metric, marker, lab in (
            ("test_hinge", "o", "measured hinge"),
            ("bound_certificate", "v", "certificate bound"),
            ("bound_typical", "^", "typical-support bound"),
        ):
            ys = [mean_interval(g["metrics"].get(metric, []))[0] for g in gs]
            a2.scatter(x, ys, marker=marker, s=60, label=lab)
        a2.axhline(0.5, color="grey", lw=0.8)
        a2.set_ylabel("hinge loss on D_A")
        a2.legend(fontsize=7)
        for ax in (a1, a2):
            ax.set_xticks(x, names, rotation=25, ha="right", fontsize=8)
        title = ", ".join(f"{k}={v}" for k, v in json.loads(point).items()) or _setting(gs[0])
        fig.suptitle(f"{prefix}: {title}")
        fig.tight_layout()
        paths.append(
            _save(fig, out / f"{prefix}-separation{'' if len(by_point) == 1 else f'-{i}'}.png")
        )
    return paths


def _setting(g: dict) -> str:
    c = g["config"]
    width = f", width={c['width']}" if "width" in c else ""
    return f"n={c['n']}, k={c['k']}{width}, C(n,k)={math.comb(c['n'], c['k']):,}"


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def scaling_figure(rows: list[dict], fits: list[dict], out: Path, prefix: str) -> Path:
    """Median t_c vs n on log-log axes per k (bars: quartiles; open markers: censored cells
    at their lower bound), with the fitted power laws t_c ~ n^beta."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for k in sorted({r["k"] for r in rows}):
        cells = [r for r in rows if r["k"] == k and not r["censored"]]
        if cells:
            xs = np.array([r["n"] for r in cells], float)
            ys = np.array([r["median_t_c"] for r in cells], float)
            lo = ys - np.array([r["t_c_q25"] or y for r, y in zip(cells, ys, strict=True)])
            hi = np.array([r["t_c_q75"] or y for r, y in zip(cells, ys, strict=True)]) - ys
            line = ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", ls="none", capsize=3)
            fit = next((f for f in fits if f["k"] == k and f["exponent"] is not None), None)
            if fit:
                grid = np.linspace(xs.min(), xs.max(), 50)
                ax.plot(
                    grid,
                    np.exp(fit["intercept"]) * grid ** fit["exponent"],
                    color=line[0].get_color(),
                    label=f"k={k}: beta={fit['exponent']:.2f} "
                    f"[{fit['ci_low'] or math.nan:.2f}, {fit['ci_high'] or math.nan:.2f}]",
                )
            else:
                ax.plot([], [], color=line[0].get_color(), label=f"k={k}")
        cens = [r for r in rows if r["k"] == k and r["censored"] and r["median_lower_bound"]]
        if cens:
            ax.scatter(
                [r["n"] for r in cens],
                [r["median_lower_bound"] for r in cens],
                marker="^",
                facecolors="none",
                edgecolors="k",
                label=f"k={k} censored",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n")
    ax.set_ylabel("median t_c (steps)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    fig.suptitle(f"{prefix}: time to success vs n")
    fig.tight_layout()
    return _save(fig, out / f"{prefix}-tc-vs-n.png")


def faceted_curves(records: list[dict], out: Path, prefix: str, metric: str = "test_acc"):
    """One panel per grid point, one line per learner: the mean ``metric`` trace over seeds
    with a 95% t-band (e.g. digit-parity: test accuracy per epoch, one panel per k)."""
    from scipy import stats

    runs = [r for r in records if r["status"] == "ok" and metric in (r.get("traces") or {})]
    if not runs:
        return None
    points = sorted({json.dumps(r["point"], sort_keys=True) for r in runs})
    fig, axs = plt.subplots(1, len(points), figsize=(4.2 * len(points), 3.6), squeeze=False)
    for ax, point in zip(axs[0], points, strict=True):
        mine = [r for r in runs if json.dumps(r["point"], sort_keys=True) == point]
        for learner in sorted({r["learner"] for r in mine}):
            traces = [r["traces"] for r in mine if r["learner"] == learner]
            xkey = "epoch" if "epoch" in traces[0] else "step"
            n = min(len(t[metric]) for t in traces)
            ys = np.array([np.asarray(t[metric][:n], dtype=float) for t in traces])
            xs = np.asarray(traces[0][xkey][:n])
            mean = ys.mean(axis=0)
            line = ax.plot(xs, mean, label=learner)[0]
            if len(ys) > 1:
                half = stats.t.ppf(0.975, len(ys) - 1) * ys.std(axis=0, ddof=1) / np.sqrt(len(ys))
                ax.fill_between(xs, mean - half, mean + half, alpha=0.2, color=line.get_color())
        if "acc" in metric:  # t-bands of few seeds can leave [0, 1]
            lo, hi = ax.get_ylim()
            ax.set_ylim(max(0.0, lo), min(1.02, hi))
        ax.set_title(", ".join(f"{k}={v}" for k, v in json.loads(point).items()) or prefix)
        ax.set_xlabel(xkey)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    axs[0][0].legend(fontsize=7)
    fig.suptitle(f"{prefix}: {metric} during training (mean, 95% band over seeds)")
    fig.tight_layout()
    return _save(fig, out / f"{prefix}-{metric}-panels.png")
