"""Figures of stored runs (matplotlib, Agg): metrics vs swept variables, training curves, the
Daniely-Malach panel (per-part accuracy against the linear-threshold reference; measured hinge
loss against the linear-method lower bounds) and the time-to-success scaling.

Made to be usable in a paper: every figure is saved as PNG, PDF and SVG side by side
(``_save``); at most three panels per row (more wrap into a grid), at most 7 in wide, no font
below 7 pt; a metric that is constant across the sweep gets no panel. Summaries over seeds:

* continuous metrics: mean and 95% t-interval over the seeds that finished ok;
* success fractions: successes / runs with a Wilson 95% band (failed and diverged runs count
  as failures; ``paritylab.theory.intervals``);
* time to success: the censored median (runs that never succeed count as +inf), one panel per
  unit (SGD steps, samples, epochs), so counts of different things never share an axis;
* training curves: one thin line per seed, drawn to that run's own end, and the median over
  the runs still going at each step on top (a mean over seeds would smear each seed's sudden
  drop into a slow slope, and cutting at the shortest run would hide the slow seeds).
"""

from __future__ import annotations

import functools
import json
import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import ticker

from paritylab.lab.tables import (
    TIME_METRICS,
    group_records,
    mean_interval,
    success_interval,
    tc_unit,
    time_to_success,
)

SWEEP_METRICS = ("test_acc_uniform", "test_acc", "test_hinge", "success", "t_c")
FORMATS = (".png", ".pdf", ".svg")
DPI = 200  # PNG resolution; PDF and SVG are vector
MAX_COLS = 3
WIDTHS = {1: 3.4, 2: 5.6, 3: 7.0}  # inches: one column of a two-column paper, up to full width
PANEL_HEIGHT = 2.2
MAX_CURVE_PANELS = 9
MAX_SEPARATION_FIGURES = 6  # one per setting; a larger sweep gets its sweep figures only
STYLE = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "figure.titlesize": 8,
    "lines.markersize": 3.5,
    "lines.linewidth": 1.2,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
COLORS = plt.cm.tab10.colors + plt.cm.Dark2.colors + plt.cm.tab20b.colors


def _styled(fn):
    """Run a figure function under the house style (rc_context: nothing leaks globally)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with plt.rc_context(STYLE):
            return fn(*args, **kwargs)

    return wrapper


def _grid(n: int, *, height: float = PANEL_HEIGHT):
    """A figure of ``n`` panels, at most ``MAX_COLS`` per row, at most 7 in wide."""
    cols = min(MAX_COLS, n)
    rows = math.ceil(n / cols)
    fig, axs = plt.subplots(rows, cols, figsize=(WIDTHS[cols], height * rows + 0.4), squeeze=False)
    flat = list(axs.flat)
    for ax in flat[n:]:
        fig.delaxes(ax)
    return fig, flat[:n]


def _title(fig, text: str) -> None:
    fig.suptitle("\n".join(textwrap.wrap(text, 95)))


def _legend(fig, axes) -> None:
    """One legend under the panels for every labelled artist (deduplicated by label)."""
    handles: dict[str, object] = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, h)
    if not handles:
        return
    longest = max(len(label) for label in handles)
    ncol = max(1, min(3, len(handles), 100 // (longest + 6)))
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=ncol,
        frameon=False,
    )


def _save(fig, path: Path) -> Path:
    """Save ``fig`` as PNG, PDF and SVG beside each other; return the PNG's path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {".pdf": {"CreationDate": None}, ".svg": {"Date": None}, ".png": {}}
    for ext in FORMATS:
        fig.savefig(path.with_suffix(ext), dpi=DPI, bbox_inches="tight", metadata=meta[ext])
    plt.close(fig)
    return path.with_suffix(".png")


def _plain(v: float, _pos=None) -> str:
    return f"{v:,.0f}" if v >= 1 else f"{v:.2g}"


def _minor(mantissas):
    """A formatter labelling the minor ticks at these multiples of a power of ten only."""

    def fmt(v: float, _pos=None) -> str:
        mantissa = v / 10 ** math.floor(math.log10(v) + 1e-9)
        return _plain(v) if any(abs(mantissa - m) < 1e-6 for m in mantissas) else ""

    return ticker.FuncFormatter(fmt)


def censored_markers(ax, cells: list[dict], color, label: str | None = None) -> None:
    """Open triangles at the lower bound of every censored cell (median >= cap).

    Args:
        ax: the axes.
        cells: scaling-table rows (``censored``, ``median_lower_bound``, ``n``).
        color: marker edge colour.
        label: legend label, or None.
    """
    cens = [r for r in cells if r["censored"] and r["median_lower_bound"]]
    if cens:
        ax.scatter(
            [r["n"] for r in cens],
            [r["median_lower_bound"] for r in cens],
            marker="^",
            facecolors="none",
            edgecolors=color,
            label=label,
        )


def _log_axes(ax, *which: str) -> None:
    """Log scale on the named axes ("x", "y") with plain tick labels (100, 2,000); minor
    ticks all labelled on an axis spanning one decade, at 2 and 5 on one spanning three."""
    for name in which:
        getattr(ax, f"set_{name}scale")("log")
        axis = getattr(ax, f"{name}axis")
        lo, hi = getattr(ax, f"get_{name}lim")()
        axis.set_major_formatter(ticker.FuncFormatter(_plain))
        ratio = hi / lo if lo > 0 else math.inf
        if ratio <= 10:
            axis.set_minor_formatter(ticker.FuncFormatter(_plain))
        else:
            axis.set_minor_formatter(_minor((2, 5) if ratio < 1000 else ()))


def _label(g: dict, exclude: str | None = None) -> str:
    rest = ", ".join(f"{k}={v}" for k, v in sorted(g["setting"].items()) if k != exclude)
    return g["learner"] + (f" ({rest})" if rest else "")


def _unit(g: dict, metric: str) -> str | None:
    """What a time metric of a group counts (steps, samples, epochs); None otherwise."""
    if metric not in TIME_METRICS:
        return None
    units = {
        tc_unit(r, metric) for r in g["runs"] if r["status"] == "ok" and metric in r["metrics"]
    }
    return units.pop() if len(units) == 1 else None


def _reports(g: dict, metric: str) -> bool:
    return any(r["status"] == "ok" and metric in r["metrics"] for r in g["runs"])


def _summary(g: dict, metric: str) -> tuple[float, float, float, bool]:
    """(y, low, high, censored) of one group on a panel: success fraction with its Wilson
    interval, censored median t_c (y = cap and censored = True when undefined), or the mean
    and 95% t-interval of a continuous metric."""
    if metric == "success":
        k, m, lo, hi = success_interval(g["runs"], metric)
        return k / m, lo, hi, False
    if metric in TIME_METRICS:
        median, cap = time_to_success(g["runs"], metric)
        if median is not None:
            return median, median, median, False
        return (math.nan if cap is None else cap), math.nan, math.nan, True
    mean, half, _ = mean_interval(g["metrics"].get(metric, []))
    half = 0.0 if math.isnan(half) else half
    lo, hi = mean - half, mean + half
    if "acc" in metric:  # a t-interval of few seeds can leave the range of the metric
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    elif "hinge" in metric or "loss" in metric:
        lo = max(lo, 0.0)
    return mean, lo, hi, False


def _panels(groups: list[dict]) -> list[tuple[str, str | None]]:
    """(metric, unit) of each panel: one t_c panel per unit, never steps beside samples."""
    panels = []
    for metric in SWEEP_METRICS:
        users = [g for g in groups if _reports(g, metric)]
        if metric in TIME_METRICS:
            panels += [(metric, u) for u in sorted({_unit(g, metric) for g in users} - {None})]
        elif users:
            panels.append((metric, None))
    return panels


def _ylabel(metric: str, unit: str | None) -> str:
    if metric == "success":
        return "success (fraction, Wilson 95%)"
    if metric in TIME_METRICS:
        return f"t_c ({unit}, median)"
    return metric


@_styled
def sweep_figure(records: list[dict], axis: str, title: str, *, reference: dict | None = None):
    """The figure of every non-constant metric vs the swept variable ``axis``, one line per
    setting (learner and the other swept values); None when no panel is left.

    Args:
        records: runs of one experiment (any status).
        axis: the swept variable on the x axis.
        title: the figure's title prefix.
        reference: {metric: curve(axis, groups)} of reference lines a task draws on a metric's
            panel; ``curve`` returns (xs or None for a horizontal line, ys, label) or None. It
            is called with each line's groups, so a line at k = 3 gets the k = 3 reference;
            one curve shared by every line is drawn once, in black.

    Returns:
        the matplotlib figure, or None.
    """
    groups = [g for g in group_records(records) if isinstance(g["point"].get(axis), int | float)]
    lines: dict[str, list] = {}
    for g in groups:
        lines.setdefault(_label(g, axis), []).append(g)
    colors = {label: COLORS[i % len(COLORS)] for i, label in enumerate(sorted(lines))}
    drawn = []
    for metric, unit in _panels(groups):
        series = {}
        for label, gs in sorted(lines.items()):
            gs = sorted(
                (g for g in gs if _reports(g, metric) and _unit(g, metric) == unit),
                key=lambda g: g["point"][axis],
            )
            if gs:
                stats = np.array([_summary(g, metric) for g in gs], dtype=float)
                series[label] = (gs, [g["point"][axis] for g in gs], stats)
        ys = np.concatenate([s[2][:, 0] for s in series.values()]) if series else np.array([])
        ys = ys[np.isfinite(ys)]
        if ys.size == 0 or np.ptp(ys) <= 1e-12 * max(1.0, np.abs(ys).max()):
            continue  # constant across the sweep (e.g. every run at accuracy 1): no panel
        drawn.append((metric, unit, series))
    if not drawn:
        return None
    fig, axs = _grid(len(drawn))
    for ax, (metric, unit, series) in zip(axs, drawn, strict=True):
        for label, (_gs, xs, stats) in series.items():
            y, lo, hi, cens = stats.T
            cens = cens.astype(bool)
            color = colors[label]
            ok = ~cens
            ax.plot(np.asarray(xs)[ok], y[ok], marker="o", color=color, label=label)
            if metric not in TIME_METRICS:
                ax.fill_between(xs, lo, hi, alpha=0.2, color=color, lw=0)
            if cens.any():
                ax.scatter(
                    np.asarray(xs)[cens],
                    y[cens],
                    marker="^",
                    facecolors="none",
                    edgecolors=color,
                    label="median >= cap (censored)",
                )
        if reference and metric in reference:
            _references(ax, reference[metric], axis, {lb: s[0] for lb, s in series.items()}, colors)
        if metric in TIME_METRICS:
            _log_axes(ax, "x", "y")
        if metric == "success":
            ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel(axis)
        ax.set_ylabel(_ylabel(metric, unit))
    _legend(fig, axs)
    _title(
        fig,
        f"{title}: metrics vs {axis} (mean and 95% t-interval over seeds; success: Wilson 95%; "
        "t_c: median, runs that never succeed as +inf)",
    )
    fig.tight_layout()
    return fig


def sweep_figures(
    records: list[dict], out: Path, prefix: str, *, reference: dict | None = None
) -> list[Path]:
    """``sweep_figure`` for every swept variable, saved as ``{prefix}-vs-{axis}``.

    Args:
        records: runs of one experiment (any status: failures count in success fractions).
        out: folder of the figures.
        prefix: file name prefix.
        reference: as in ``sweep_figure``.

    Returns:
        paths of the PNG figures written (a PDF and an SVG lie beside each).
    """
    values: dict[str, set] = {}
    for r in records:
        for k, v in r["point"].items():
            values.setdefault(k, set()).add(json.dumps(v))
    paths = []
    for axis in sorted(k for k, vs in values.items() if len(vs) > 1):  # a swept variable
        fig = sweep_figure(records, axis, prefix, reference=reference)
        if fig is not None:
            paths.append(_save(fig, Path(out) / f"{prefix}-vs-{axis}.png"))
    return paths


def _references(ax, curve, axis: str, lines: dict[str, list], colors: dict) -> None:
    """A task's reference on a panel, one per distinct curve of the lines' groups (e.g. one
    per k when k is swept but is not the x axis), labelled by the settings its lines share
    (``reference (k=3)``): a curve shared by every line is drawn once in black; one that
    belongs to a single line takes that line's colour; one shared by several lines is black
    with its own dash pattern."""
    found: dict[str, tuple] = {}
    for label, gs in lines.items():
        c = curve(axis, gs)
        if c is None:
            continue
        xs, ys, name = c
        key = json.dumps([None if xs is None else list(map(float, xs)), list(map(float, ys))])
        found.setdefault(key, (c, []))[1].append((label, gs))
    ax.axhline(0.5, color="grey", lw=0.8)
    dashes = iter(["--", ":", "-.", (0, (5, 1, 1, 1, 1, 1))] * len(found))
    for (xs, ys, name), users in found.values():
        color, style, text = "k", "--", name
        if len(found) > 1:
            shared = set.intersection(
                *(
                    {(k, json.dumps(v)) for k, v in g["setting"].items() if k != axis}
                    for _, gs in users
                    for g in gs
                )
            )
            text = f"{name} ({', '.join(f'{k}={json.loads(v)}' for k, v in sorted(shared))})"
            if len(users) == 1:
                color = colors[users[0][0]]
            else:
                style = next(dashes)
        if xs is None:
            ax.axhline(ys[0], color=color, ls=style, lw=1.0, label=text)
        else:
            ax.plot(xs, ys, color=color, ls=style, lw=1.0, label=text)


def median_alive(runs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The median over the runs still going at each x.

    Args:
        runs: [(xs, ys), ...], one trace per seed, of any lengths (None values are missing).

    Returns:
        (xs, median, alive): the union of the runs' x values, the median of the values of
        the runs that have one there, and how many runs are alive (their last x >= x).
    """
    xs = np.unique(np.concatenate([np.asarray(x, np.float64) for x, _ in runs]))
    table = np.full((len(runs), xs.size), np.nan)
    alive = np.zeros(xs.size, dtype=int)
    for i, (x, y) in enumerate(runs):
        x = np.asarray(x, np.float64)
        table[i, np.searchsorted(xs, x)] = [np.nan if v is None else float(v) for v in y]
        alive += xs <= x.max()
    have = np.isfinite(table).any(axis=0)
    median = np.full(xs.size, np.nan)
    median[have] = np.nanmedian(table[:, have], axis=0)
    return xs, median, alive


def _seed_lines(ax, runs, color, label: str) -> None:
    """Thin per-seed lines to each run's end; the median over the runs alive on top."""
    for xs, ys in runs:
        ax.plot(xs, [np.nan if v is None else v for v in ys], color=color, lw=0.5, alpha=0.4)
    xs, med, alive = median_alive(runs)
    counts = f"{alive[0]}" if alive[0] == alive[-1] else f"{alive[0]} -> {alive[-1]}"
    ax.plot(xs, med, color=color, lw=1.5, label=f"{label}: median of runs alive ({counts})")


@_styled
def training_curves(records: list[dict], out: Path, prefix: str) -> Path | None:
    """Training traces, one panel per trace (up to 9, three per row), one colour per setting:
    each seed's trace to its own end and the median over the seeds still running.

    Args:
        records: runs of one experiment (only ok runs have traces drawn).
        out: folder of the figure.
        prefix: file name prefix.

    Returns:
        the PNG path, or None without traces.
    """
    labels = {r["run_id"]: _label(g) for g in group_records(records) for r in g["runs"]}
    curves: dict[str, dict[str, list]] = {}
    xname = None
    for r in records:
        tr = r.get("traces") or {}
        x = "step" if "step" in tr else "epoch" if "epoch" in tr else None
        if r["status"] != "ok" or x is None:
            continue
        xname = xname or x
        for name, ys in tr.items():
            if name in ("step", "epoch") or len(ys) != len(tr[x]) or len(ys) < 2:
                continue
            curves.setdefault(name, {}).setdefault(labels[r["run_id"]], []).append((tr[x], ys))
    names = [
        n
        for n in sorted(curves)
        if len({v for runs in curves[n].values() for _, ys in runs for v in ys}) > 1
    ][:MAX_CURVE_PANELS]
    if not names:
        return None
    colors = {lb: COLORS[i % len(COLORS)] for i, lb in enumerate(sorted(set(labels.values())))}
    fig, axs = _grid(len(names))
    for ax, name in zip(axs, names, strict=True):
        for label, runs in sorted(curves[name].items()):
            _seed_lines(ax, runs, colors[label], label)
        ax.set_xlabel(xname)
        ax.set_ylabel(name)
        values = [v for runs in curves[name].values() for _, ys in runs for v in ys]
        if name.endswith("loss") and all(v is not None and v > 0 for v in values):
            ax.set_yscale("log")  # losses span decades: the default log labels (10^-3)
    _legend(fig, axs)
    _title(
        fig,
        f"{prefix}: training curves (thin: each seed to its own end; thick: median over the "
        "seeds still running, their count in the legend)",
    )
    fig.tight_layout()
    return _save(fig, Path(out) / f"{prefix}-curves.png")


@_styled
def dm_panel(records: list[dict], out: Path, prefix: str, *, reference=None) -> list[Path]:
    """Per setting of a two-part experiment: accuracy per part with a reference, and measured
    hinge loss beside the certificate and typical-support lower bounds of linear methods.

    Args:
        records: runs of one experiment.
        out: folder of the figures.
        prefix: file name prefix.
        reference: ``curve(axis, groups)`` of the accuracy reference (as in ``sweep_figure``).

    Returns:
        paths of the PNG figures written (none for a sweep of more than
        ``MAX_SEPARATION_FIGURES`` settings: its sweep figures show every setting at once).
    """
    groups = [g for g in group_records(records) if "test_acc_uniform" in g["metrics"]]
    by_setting: dict[str, list] = {}
    for g in groups:
        by_setting.setdefault(json.dumps(g["setting"], sort_keys=True), []).append(g)
    if len(by_setting) > MAX_SEPARATION_FIGURES:
        return []
    paths = []
    for i, (setting, gs) in enumerate(sorted(by_setting.items())):
        gs = sorted(gs, key=lambda g: g["learner"])
        names = [g["learner"] for g in gs]
        x = np.arange(len(gs))
        fig, (a1, a2) = _grid(2, height=2.6)
        for j, (metric, lab) in enumerate(
            (("test_acc_easy", "easy"), ("test_acc_uniform", "uniform"), ("test_acc", "overall"))
        ):
            stats = [mean_interval(g["metrics"].get(metric, [])) for g in gs]
            means = np.array([s[0] for s in stats])
            half = np.nan_to_num([s[1] for s in stats])
            inside = np.nan_to_num([np.minimum(half, means), np.minimum(half, 1 - means)])
            a1.bar(x + (j - 1) * 0.27, means, 0.27, label=lab, yerr=inside)  # within [0, 1]
        _reference_line(a1, reference("", gs) if reference else None)
        a1.set_ylabel("test accuracy")
        a1.set_ylim(0, 1.05)
        for metric, marker, lab in (
            ("test_hinge", "o", "measured hinge"),
            ("bound_certificate", "v", "certificate bound"),
            ("bound_typical", "^", "typical-support bound"),
        ):
            ys = [mean_interval(g["metrics"].get(metric, []))[0] for g in gs]
            a2.scatter(x, ys, marker=marker, s=25, label=lab)
        a2.axhline(0.5, color="grey", lw=0.8)
        a2.set_ylabel("hinge loss on D_A")
        for ax in (a1, a2):
            ax.set_xticks(x, names, rotation=30, ha="right")
        _legend(fig, (a1, a2))
        title = ", ".join(f"{k}={v}" for k, v in json.loads(setting).items()) or _setting(gs[0])
        _title(fig, f"{prefix}: {title} (mean and 95% t-interval over seeds)")
        fig.tight_layout()
        suffix = "" if len(by_setting) == 1 else f"-{i}"
        paths.append(_save(fig, Path(out) / f"{prefix}-separation{suffix}.png"))
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


def _setting(g: dict) -> str:
    c = g["config"]
    width = f", width={c['width']}" if "width" in c else ""
    return f"n={c['n']}, k={c['k']}{width}, C(n,k)={math.comb(c['n'], c['k']):,}"


@_styled
def scaling_figure(
    rows: list[dict],
    fits: list[dict],
    out: Path,
    prefix: str,
    *,
    unit: str = "steps",
    learner: str = "",
    filename: str | None = None,
) -> Path:
    """Median t_c vs n on log-log axes per k for one learner and one unit (bars: quartiles;
    open markers: censored cells at their lower bound), with the fitted power laws
    t_c ~ n^beta.

    Args:
        rows: ``paritylab.theory.scaling.scaling_table`` rows of one learner.
        fits: its ``fit_exponents``.
        out: folder of the figure.
        prefix: file name prefix.
        unit: what t_c counts (steps, samples).
        learner: the learner's name, for the title.
        filename: the PNG's name (default ``{prefix}-tc-vs-n.png``).

    Returns:
        the PNG path.
    """
    fig, (ax,) = _grid(1, height=2.6)
    for i, k in enumerate(sorted({r["k"] for r in rows})):
        color = COLORS[i % len(COLORS)]
        cells = [r for r in rows if r["k"] == k and not r["censored"]]
        if cells:
            xs = np.array([r["n"] for r in cells], float)
            ys = np.array([r["median_t_c"] for r in cells], float)
            lo = ys - np.array([r["t_c_q25"] or y for r, y in zip(cells, ys, strict=True)])
            hi = np.array([r["t_c_q75"] or y for r, y in zip(cells, ys, strict=True)]) - ys
            ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", ls="none", capsize=2, color=color)
            fit = next((f for f in fits if f["k"] == k and f["exponent"] is not None), None)
            if fit:
                grid = np.linspace(xs.min(), xs.max(), 50)
                ci = (
                    f" [{fit['ci_low']:.2f}, {fit['ci_high']:.2f}]"
                    if fit["ci_low"] is not None
                    else ""
                )
                ax.plot(
                    grid,
                    np.exp(fit["intercept"]) * grid ** fit["exponent"],
                    color=color,
                    label=f"k={k}: beta={fit['exponent']:.2f}{ci}",
                )
            else:
                ax.plot([], [], color=color, label=f"k={k}")
        censored_markers(
            ax, [r for r in rows if r["k"] == k], color, f"k={k}: median >= cap (censored)"
        )
    _log_axes(ax, "x", "y")
    ax.set_xlabel("n")
    ax.set_ylabel(f"t_c ({unit}, median)")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    _title(fig, f"{prefix}: {learner + ' ' if learner else ''}time to success vs n")
    fig.tight_layout()
    return _save(fig, Path(out) / (filename or f"{prefix}-tc-vs-n.png"))


@_styled
def faceted_curves(records: list[dict], out: Path, prefix: str, metric: str = "test_acc"):
    """One panel per setting (three per row), one colour per learner: each seed's ``metric``
    trace to its own end and the median over the seeds still running (e.g. digit-parity: test
    accuracy per epoch, one panel per k).

    Args:
        records: runs of one experiment.
        out: folder of the figure.
        prefix: file name prefix.
        metric: the trace to draw.

    Returns:
        the PNG path, or None without such traces.
    """
    groups = [
        g
        for g in group_records(records)
        if any(r["status"] == "ok" and metric in (r.get("traces") or {}) for r in g["runs"])
    ]
    if not groups:
        return None
    by_setting: dict[str, list] = {}
    for g in groups:
        by_setting.setdefault(json.dumps(g["setting"], sort_keys=True), []).append(g)
    learners = sorted({g["learner"] for g in groups})
    colors = {lb: COLORS[i % len(COLORS)] for i, lb in enumerate(learners)}
    fig, axs = _grid(len(by_setting))
    xkey = "step"
    for ax, (setting, gs) in zip(axs, sorted(by_setting.items()), strict=True):
        for g in sorted(gs, key=lambda g: g["learner"]):
            traces = [
                r["traces"]
                for r in g["runs"]
                if r["status"] == "ok" and metric in (r.get("traces") or {})
            ]
            xkey = "epoch" if "epoch" in traces[0] else "step"
            runs = [(t[xkey], t[metric]) for t in traces]
            _seed_lines(ax, runs, colors[g["learner"]], g["learner"])
        ax.set_title(", ".join(f"{k}={v}" for k, v in json.loads(setting).items()) or prefix)
        ax.set_xlabel(xkey)
        ax.set_ylabel(metric)
    _legend(fig, axs)
    _title(
        fig,
        f"{prefix}: {metric} during training (thin: each seed; thick: median over the seeds "
        "still running)",
    )
    fig.tight_layout()
    return _save(fig, Path(out) / f"{prefix}-{metric}-panels.png")
