"""Report section of width x data sweeps (the ``frontier`` experiments): per cell (width q,
training samples m) the success probability with its Wilson 95% interval and the censored
median time to success, as heatmaps and as slices, one panel per setting of everything else
(e.g. sparse vs dense initialisation), with the statistical-query lower bound of Edelman et al.
(``paritylab.theory.frontier``) on the time axis.

A run that fails, diverges or is censored at the step cap counts as a failure (never dropped);
the median time to success reads runs that never succeed as +inf, so a cell where half or
more of the seeds fail shows ">= cap" (censored).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

AXES = ("width", "train_samples")
NOT_PANEL = (*AXES, "max_steps", "eval_every", "eval_size", "after_success", "epochs")


def _runs(records: list[dict]) -> list[dict]:
    return [
        r
        for r in records
        if r["learner"] == "sgd-online" and r["config"].get("train_samples") is not None
    ]


def applies(records: list[dict]) -> bool:
    """True when the ``sgd-online`` runs of finite training sets vary both the width and the
    number of training samples."""
    runs = _runs(records)
    if not any(r["status"] == "ok" for r in runs):
        return False
    return all(len({r["config"][a] for r in runs}) > 1 for a in AXES)


def _panel_key(config: dict) -> str:
    return json.dumps({k: v for k, v in config.items() if k not in NOT_PANEL}, sort_keys=True)


def _panel_labels(configs: list[dict]) -> list[str]:
    """Each panel named by the settings that differ between panels (``init=sparse``)."""
    keys = sorted(
        {
            k
            for k in configs[0]
            if k not in NOT_PANEL and len({json.dumps(c.get(k)) for c in configs}) > 1
        }
    )
    if not keys:
        return ["all runs"] * len(configs)
    return [", ".join(f"{k}={c.get(k)}" for k in keys) for c in configs]


def cell_table(runs: list[dict]) -> list[dict]:
    """One row per (width, train_samples): successes, seeds, Wilson interval, censored median
    t_c (None when censored), the step cap and t_c per seed.

    Args:
        runs: ``sgd-online`` records of one panel (any status).

    Returns:
        rows sorted by width, then m.
    """
    from paritylab.lab.tables import success_interval, time_to_success

    cells: dict[tuple, list[dict]] = {}
    for r in runs:
        cells.setdefault((r["config"]["width"], r["config"]["train_samples"]), []).append(r)
    rows = []
    for (q, m), rs in sorted(cells.items()):
        rs = sorted(rs, key=lambda r: r["seed"])
        wins, _, lo, hi = success_interval(rs)
        rows.append(
            {
                "width": q,
                "train_samples": m,
                "successes": wins,
                "seeds": len(rs),
                "rate": wins / len(rs),
                "low": lo,
                "high": hi,
                "median_t_c": time_to_success(rs)[0],
                "cap": max(r["config"]["max_steps"] for r in rs),
                "t_c": [r["metrics"].get("t_c") if r["status"] == "ok" else None for r in rs],
            }
        )
    return rows


def section(records: list[dict], directory: Path, name: str):
    """Markdown tables (success and median t_c per cell, per panel) and two figures (heatmaps;
    slices with the SQ bound).

    Args:
        records: runs of one experiment (any status).
        directory: where figures go.
        name: the experiment name (figure file prefix).

    Returns:
        (markdown lines, figure paths).
    """
    from paritylab.theory.frontier import min_steps, network_parameters

    runs = _runs(records)
    panels: dict[str, list[dict]] = {}
    for r in runs:
        panels.setdefault(_panel_key(r["config"]), []).append(r)
    keys = sorted(panels)
    labels = _panel_labels([panels[k][0]["config"] for k in keys])
    tables = {label: cell_table(panels[k]) for k, label in zip(keys, labels, strict=True)}
    # The SQ bound of each panel, from its own (n, k, B): T_min per width.
    bounds = {}
    for key, label in zip(keys, labels, strict=True):
        c = panels[key][0]["config"]
        tau = 1.0 / math.sqrt(c["batch_size"])
        bounds[label] = {
            q: min_steps(c["n"], c["k"], network_parameters(c["n"], q), tau=tau, delta=0.5)
            for q in sorted({r["width"] for r in tables[label]})
        }
    sizes = sorted({(r["config"]["n"], r["config"]["k"]) for r in runs})
    lines = [
        "### Width x data frontier: sgd-online",
        "",
        f"(n, k) = {', '.join(map(str, sizes))}; each cell: successes / seeds [Wilson 95%] and "
        "the censored "
        "median steps to 100% held-out accuracy (runs that never succeed count as +inf; "
        "'>= cap' where half or more never succeed). Failed, diverged and censored runs are "
        "failures.",
        "",
    ]
    for label, rows in tables.items():
        widths = sorted({r["width"] for r in rows})
        ms = sorted({r["train_samples"] for r in rows})
        at = {(r["width"], r["train_samples"]): r for r in rows}
        head = "| width \\ m | " + " | ".join(f"{m:,}" for m in ms) + " |"
        rule = "|---|" + "---|" * len(ms)
        lines += [f"**{label}**: success", "", head, rule]
        for q in widths:
            cells = []
            for m in ms:
                r = at.get((q, m))
                cells.append(
                    "-"
                    if r is None
                    else f"{r['successes']}/{r['seeds']} [{r['low']:.2f}, {r['high']:.2f}]"
                )
            lines.append(f"| {q:,} | " + " | ".join(cells) + " |")
        lines += ["", f"**{label}**: median steps to success", "", head, rule]
        for q in widths:
            cells = []
            for m in ms:
                r = at.get((q, m))
                if r is None:
                    cells.append("-")
                elif r["median_t_c"] is None:
                    cells.append(f">= {r['cap']:,}")
                else:
                    cells.append(f"{r['median_t_c']:,.0f}")
            lines.append(f"| {q:,} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "Statistical-query lower bound (Edelman et al. 2023, Proposition 3; "
        "`paritylab.theory.frontier`): with r = q (n + 2) parameters, gradient noise "
        "tau = 1/sqrt(B) and delta = 1/2, a run fails for some support whenever "
        "T <= tau^2 delta C(n, k) / (2 r) (the dotted line on the slices' time panel):",
        "",
    ]
    for label, bound in bounds.items():
        lines.append(
            f"- {label}: " + ", ".join(f"q = {q:,}: T <= {t:.3g}" for q, t in bound.items())
        )
    lines += [
        "",
        "Where these lie far below the measured times the bound is not what limits the runs: it "
        "scales like C(n, k) and binds at larger (n, k).",
        "",
    ]
    figs = [
        heatmap_figure(tables, directory / f"{name}_frontier_heatmap"),
        slices_figure(tables, bounds, directory / f"{name}_frontier_slices"),
    ]
    return lines, figs


def _grid_values(rows: list[dict], value) -> tuple[list, list, np.ndarray]:
    widths = sorted({r["width"] for r in rows})
    ms = sorted({r["train_samples"] for r in rows})
    grid = np.full((len(widths), len(ms)), np.nan)
    for r in rows:
        grid[widths.index(r["width"]), ms.index(r["train_samples"])] = value(r)
    return widths, ms, grid


def heatmap_figure(tables: dict[str, list[dict]], path: Path) -> Path:
    """Per panel: success probability and log10 median t_c (hatched: censored) over (m, q).

    Args:
        tables: panel label -> ``cell_table`` rows.
        path: output path without suffix.

    Returns:
        the PNG's path (PDF and SVG beside it).
    """
    import matplotlib.pyplot as plt

    from paritylab.lab import figures

    with plt.rc_context(figures.STYLE):
        cols = len(tables)
        fig, axs = plt.subplots(2, cols, figsize=(min(7.0, 3.0 * cols + 0.6), 5.0), squeeze=False)
        for j, (label, rows) in enumerate(tables.items()):
            widths, ms, rate = _grid_values(rows, lambda r: r["rate"])
            _, _, tc = _grid_values(
                rows, lambda r: np.nan if r["median_t_c"] is None else r["median_t_c"]
            )
            ax = axs[0, j]
            im = ax.imshow(rate, origin="lower", vmin=0, vmax=1, cmap="viridis", aspect="auto")
            for (a, b), v in np.ndenumerate(rate):
                if not np.isnan(v):
                    ax.text(
                        b,
                        a,
                        f"{v:.1f}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if v < 0.6 else "black",
                    )
            ax.set_title(f"{label}: success")
            fig.colorbar(im, ax=ax, fraction=0.046)
            ax = axs[1, j]
            caps = [r["cap"] for r in rows]
            finite = [r["median_t_c"] for r in rows if r["median_t_c"]]
            top = math.log10(max(caps))
            low = min(math.log10(min(finite)), top - 1.0) if finite else top - 1.0
            im = ax.imshow(
                np.log10(tc), origin="lower", cmap="YlGnBu", aspect="auto", vmin=low, vmax=top
            )
            for r in rows:
                a, b = widths.index(r["width"]), ms.index(r["train_samples"])
                if r["median_t_c"] is None:
                    ax.add_patch(
                        plt.Rectangle(
                            (b - 0.5, a - 0.5), 1, 1, fill=False, hatch="///", edgecolor="0.6", lw=0
                        )
                    )
                    ax.text(b, a, "cens.", ha="center", va="center", fontsize=5, color="0.3")
                else:
                    dark = (math.log10(r["median_t_c"]) - low) / max(top - low, 1e-9) > 0.6
                    ax.text(
                        b,
                        a,
                        f"{r['median_t_c']:,.0f}",
                        ha="center",
                        va="center",
                        fontsize=5,
                        color="white" if dark else "black",
                    )
            ax.set_title(f"{label}: median t_c (log10 steps)")
            fig.colorbar(im, ax=ax, fraction=0.046)
            for ax in axs[:, j]:
                ax.set_xticks(range(len(ms)), [f"{m:,}" for m in ms], rotation=45)
                ax.set_yticks(range(len(widths)), [f"{q:,}" for q in widths])
                ax.set_xlabel("training samples m")
                ax.set_ylabel("width q")
                ax.grid(False)
        fig.tight_layout()
        return figures._save(fig, path)


def slices_figure(
    tables: dict[str, list[dict]], bounds: dict[str, dict[int, float]], path: Path
) -> Path:
    """Per panel (columns): success vs width per m, success vs m per width (Wilson 95%
    bars), and median t_c vs width per m with the SQ bound (dotted) and censored cells as open
    triangles at the cap.

    Args:
        tables: panel label -> ``cell_table`` rows.
        bounds: panel label -> (width -> the SQ bound's T_min).
        path: output path without suffix.

    Returns:
        the PNG's path.
    """
    import matplotlib.pyplot as plt

    from paritylab.lab import figures

    with plt.rc_context(figures.STYLE):
        cols = len(tables)
        fig, axs = plt.subplots(
            3, cols, figsize=(min(7.0, 3.0 * cols + 0.6), 6.6), squeeze=False, sharey="row"
        )
        for j, (label, rows) in enumerate(tables.items()):
            widths = sorted({r["width"] for r in rows})
            ms = sorted({r["train_samples"] for r in rows})
            for i, m in enumerate(ms):
                rs = sorted((r for r in rows if r["train_samples"] == m), key=lambda r: r["width"])
                _rate_line(axs[0, j], rs, "width", figures.COLORS[i % 10], f"m = {m:,}")
                fin = [r for r in rs if r["median_t_c"] is not None]
                color = figures.COLORS[i % 10]
                axs[2, j].plot(
                    [r["width"] for r in fin],
                    [r["median_t_c"] for r in fin],
                    "o-",
                    color=color,
                    label=f"m = {m:,}",
                )
                cens = [r for r in rs if r["median_t_c"] is None]
                axs[2, j].scatter(
                    [r["width"] for r in cens],
                    [r["cap"] for r in cens],
                    marker="^",
                    facecolors="none",
                    edgecolors=color,
                )
            for i, q in enumerate(widths):
                rs = sorted((r for r in rows if r["width"] == q), key=lambda r: r["train_samples"])
                _rate_line(
                    axs[1, j],
                    rs,
                    "train_samples",
                    plt.cm.viridis(i / max(1, len(widths) - 1)),
                    f"q = {q:,}",
                )
            axs[2, j].plot(
                widths,
                [bounds[label][q] for q in widths],
                ":",
                color="black",
                label="SQ bound: T_min (Prop. 3)",
            )
            axs[0, j].set_title(label)
            axs[0, j].set_xlabel("width q")
            axs[1, j].set_xlabel("training samples m")
            axs[2, j].set_xlabel("width q")
            for ax in axs[:, j]:
                ax.set_xscale("log")
            axs[2, j].set_yscale("log")
        axs[0, 0].set_ylabel("success")
        axs[1, 0].set_ylabel("success")
        axs[2, 0].set_ylabel("median t_c (steps)")
        for i in range(3):
            axs[i, -1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
        fig.text(
            0.01,
            -0.01,
            "Open triangles: median censored at the step cap (half or more seeds never succeed).",
            fontsize=7,
        )
        fig.tight_layout()
        return figures._save(fig, path)


def _rate_line(ax, rows: list[dict], axis: str, color, label: str) -> None:
    x = [r[axis] for r in rows]
    y = np.array([r["rate"] for r in rows])
    err = np.array([[r["rate"] - r["low"] for r in rows], [r["high"] - r["rate"] for r in rows]])
    err = np.clip(err, 0.0, None)  # the Wilson ends equal the rate at 0/N and N/N up to rounding
    ax.errorbar(x, y, yerr=err, fmt="o-", color=color, label=label, capsize=2)
    ax.set_ylim(-0.05, 1.05)
