"""Report section of the experiments that compare targets or input distributions (``leaps``,
``curriculum``, ``mean-shift``): time to success vs n per arm, on one figure, with the fitted
exponents and the calculator's predicted slope drawn beside each arm.

An *arm* is one setting of the problem apart from n (and of the learner, apart from the knobs
that only cut or resolve a run: ``max_steps``, ``eval_every``, ``eval_size``,
``after_success``). Per arm and n: the success fraction with its Wilson 95% interval, the
censored median of t_c (runs that never succeed count as +inf; ``paritylab.theory.scaling``),
and t_c of every seed. Per arm: the exponent beta of t_c ~ n^beta with a bootstrap interval,
and the predicted exponent where one is stated (``predicted_exponent``):

* uniform inputs, no curriculum: max(Leap - 1, 1), the conjecture of Abbe, Boix-Adsera and
  Misiakiewicz (COLT 2023, https://arxiv.org/abs/2302.11055);
* a mean shift, or a biased first stage (``biased-first``, ``anneal``) before uniform or mixed
  inputs: max(Leap_p - 1, 1) with Leap_p the leap of the target's spectrum in the orthonormal
  basis of the shifted or first-stage biased distribution; a heuristic (the conjecture is for
  uniform inputs, and a fixed-length first stage is not scaled with n), labelled as such;
* anything else (mixtures, the dimension curriculum, label noise, targets that are not sums
  of monomials): no line.

The dashed line has the predicted slope and passes through the arm's first fitted median.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

TARGET_KEYS = ("target", "leap", "terms", "coefs", "k")
DIST_KEYS = (
    "distribution",
    "bias",
    "mixture_weight",
    "shift",
    "curriculum",
    "curriculum_steps",
    "curriculum_n",
)
# Problem fields whose variation makes an experiment a comparison of targets or distributions.
COMPARED = TARGET_KEYS[:-1] + DIST_KEYS
NOT_ARM = ("n", "max_steps", "eval_every", "eval_size", "after_success", "epochs")


def _key(config: dict) -> str:
    return json.dumps({k: v for k, v in config.items() if k not in NOT_ARM}, sort_keys=True)


def _runs(records: list[dict]) -> list[dict]:
    """Runs of ``sgd-online`` (the learner whose t_c counts steps)."""
    return [r for r in records if r["learner"] == "sgd-online" and "n" in r["config"]]


def applies(records: list[dict]) -> bool:
    """True when the ``sgd-online`` runs vary a target or distribution field (``COMPARED``)."""
    runs = _runs(records)
    if not any(r["status"] == "ok" for r in runs):
        return False
    return any(len({json.dumps(r["config"].get(k)) for r in runs}) > 1 for k in COMPARED)


def target_formula(config: dict) -> str | None:
    """The target written as monomials (``x0 + x0*x1``), None for a target that is not a sum of
    monomials here (majority, a registered plugin target)."""
    from paritylab.theory.complexity import format_monomial, target_terms, walsh_spectrum

    try:
        terms, coefs = _terms(config, target_terms)
    except Exception:
        return None
    if config.get("target") == "majority":
        return f"maj(x0..x{config['k'] - 1})"
    spec = walsh_spectrum(terms, coefs)
    parts = []
    for s, c in sorted(spec.items(), key=lambda kv: (len(kv[0]), sorted(kv[0]))):
        mono = format_monomial(s)
        parts.append(mono if c == 1.0 else f"{c:g}*{mono}")
    return " + ".join(parts).replace("+ -", "- ")


def _terms(config: dict, target_terms):
    name, k = config.get("target", "parity"), int(config["k"])
    params = {}
    if name == "leap":
        params = {"leap": config.get("leap", 1)}
    elif name == "monomials":
        params = {"terms": config.get("terms") or (), "coefs": config.get("coefs") or ()}
    return target_terms(name, k, **params)


def distribution_label(config: dict) -> str:
    """A short name of an arm's input distribution and curriculum."""
    dist = config.get("distribution", "uniform")
    p, rho = config.get("bias", 0.5), config.get("mixture_weight", 0.0)
    cur, steps = config.get("curriculum", "none"), config.get("curriculum_steps", 0)
    base = {
        "uniform": "uniform",
        "biased": f"mu_p (p={p:g})",
        "sparse-mixture": f"mixture (rho={rho:g}, p={p:g})",
        "mean-shift": f"mean shift {config.get('shift', 0.0):g}",
    }.get(dist, dist)
    if cur == "none":
        return "direct, " + base if dist == "uniform" else base
    first = {
        "biased-first": f"mu_p (p={p:g}) first",
        "anneal": f"p annealed {p:g} -> 0.5",
        "dimension": f"n0={config.get('curriculum_n')} first",
    }.get(cur, cur)
    return f"{first} for {steps:,} steps, then {base}"


def arm_labels(configs: list[dict]) -> list[str]:
    """One label per arm config, naming only what differs between the arms."""

    def varies(keys):
        return any(len({json.dumps(c.get(k)) for c in configs}) > 1 for k in keys)

    target_varies = varies(TARGET_KEYS[:-1])
    k_varies = varies(("k",))
    dist_varies = varies(DIST_KEYS)
    other = [
        k
        for k in sorted({k for c in configs for k in c})
        if k not in TARGET_KEYS + DIST_KEYS + NOT_ARM
        and len({json.dumps(c.get(k)) for c in configs}) > 1
    ]
    labels = []
    for c in configs:
        parts = []
        if target_varies:
            formula = target_formula(c)
            parts.append(f"{formula} (k={c['k']})" if formula else f"{c['target']} (k={c['k']})")
        elif k_varies:
            parts.append(f"k={c['k']}")
        if dist_varies:
            parts.append(distribution_label(c))
        parts += [f"{k}={c.get(k)}" for k in other]
        labels.append("; ".join(parts) or "all runs")
    return labels


def predicted_exponent(config: dict) -> tuple[float | None, str]:
    """(the predicted exponent of t_c in n, its basis), or (None, why not).

    Args:
        config: a run's config (problem fields and learner settings).

    Returns:
        (exponent or None, a short text).
    """
    from paritylab.theory.complexity import (
        biased_spectrum,
        leap,
        sgd_sample_exponent,
        target_terms,
        walsh_spectrum,
    )

    try:
        terms, coefs = _terms(config, target_terms)
    except Exception:
        return None, "target not a sum of monomials here"
    if config.get("label_noise", 0.0):
        return None, "not stated with label noise"
    spec = walsh_spectrum(terms, coefs)
    k = int(config["k"])
    dist, cur = config.get("distribution", "uniform"), config.get("curriculum", "none")
    shift = config.get("shift", 0.0) if dist == "mean-shift" else 0.0
    if cur == "none" and (dist == "uniform" or (dist == "mean-shift" and shift == 0)):
        L = leap(spec)
        return sgd_sample_exponent(L), f"conjecture max(Leap-1, 1), Leap = {L}"
    p = None
    if cur == "none" and dist == "mean-shift":
        p = (1.0 - shift) / 2.0
    elif cur in ("biased-first", "anneal") and dist in ("uniform", "sparse-mixture"):
        p = config.get("bias", 0.5)
    if p is None or not 0 < p < 1:
        return None, "none stated"
    L = leap(biased_spectrum(spec, p, k))
    return sgd_sample_exponent(L), f"heuristic max(Leap_p-1, 1), Leap_p = {L} under p={p:g}"


def section(records: list[dict], directory: Path, name: str):
    """Markdown lines and the figure of the comparison (module docstring).

    Args:
        records: runs of one experiment (any status).
        directory: where the figure goes.
        name: the experiment name.

    Returns:
        (lines, figure paths).
    """
    from paritylab.lab.tables import tc_cap
    from paritylab.theory.intervals import wilson_interval
    from paritylab.theory.scaling import fit_exponents, scaling_table

    runs = _runs(records)
    by_arm: dict[str, list[dict]] = {}
    for r in runs:
        by_arm.setdefault(_key(r["config"]), []).append(r)
    keys = sorted(by_arm, key=lambda k: _arm_order(by_arm[k][0]["config"]))
    configs = [by_arm[k][0]["config"] for k in keys]
    labels = dict(zip(keys, arm_labels(configs), strict=True))
    rows = [
        {
            "n": r["config"]["n"],
            "arm": labels[k],
            "seed": r["seed"],
            "t_c": r["metrics"].get("t_c") if r["status"] == "ok" else None,
            "cap": tc_cap(r) if r["status"] == "ok" else None,
            "shift": r["config"].get("shift", 0.0),
        }
        for k in keys
        for r in sorted(by_arm[k], key=lambda r: (r["config"]["n"], r["seed"]))
    ]  # in seed order: the bootstrap resamples by position, whatever order the store keeps
    table = scaling_table(rows, by="arm")
    fits = {f["arm"]: f for f in fit_exponents(rows, by="arm")}
    predictions = {labels[k]: predicted_exponent(c) for k, c in zip(keys, configs, strict=True)}
    lines = [
        "### Time to success by arm: sgd-online (steps)",
        "",
        "t_c counts SGD steps (a curriculum's first stage included). Runs that never succeed "
        "(censored at the cap, failed or diverged) count as t_c = +inf in the median; a cell "
        "where half or more never succeed reads >= cap. Predicted exponents: "
        "`paritylab.theory.complexity` (a conjecture for uniform inputs, a heuristic under a "
        "bias; see the docs page on leaps and curricula).",
        "",
        "| arm | predicted exponent | fitted beta (t_c ~ n^beta) | 95% interval | n fitted |"
        " n censored |",
        "|---|---|---|---|---|---|",
    ]
    for k in keys:
        label = labels[k]
        exp, basis = predictions[label]
        f = fits.get(label)
        pred = f"{exp} ({basis})" if exp is not None else f"- ({basis})"
        if f is None or f["exponent"] is None:
            n_fit = f["n_fitted"] if f else []
            n_cens = f["n_censored"] if f else []
            lines.append(f"| {label} | {pred} | - | - | {n_fit} | {n_cens} |")
            continue
        ci = f"[{f['ci_low']:.2f}, {f['ci_high']:.2f}]" if f["ci_low"] is not None else "-"
        lines.append(
            f"| {label} | {pred} | {f['exponent']:.2f} | {ci} | {f['n_fitted']} | "
            f"{f['n_censored']} |"
        )
    lines += [
        "",
        "| arm | n | success [Wilson 95%] | median t_c | t_c per seed (steps; - never) |",
        "|---|---|---|---|---|",
    ]
    per_seed: dict[tuple, list] = {}
    for r in rows:
        per_seed.setdefault((r["arm"], r["n"]), []).append((r["seed"], r["t_c"]))
    order = {labels[k]: i for i, k in enumerate(keys)}
    for row in sorted(table, key=lambda r: (order[r["arm"]], r["n"])):
        lo, hi = wilson_interval(row["successes"], row["seeds"])
        if row["censored"]:
            bound = row["median_lower_bound"]
            med = f">= {bound:,.0f} (censored)" if bound is not None else "not reached"
        else:
            med = f"{row['median_t_c']:,.0f}"
        seeds = sorted(per_seed[(row["arm"], row["n"])], key=lambda s: s[0])
        each = ", ".join("-" if t is None else f"{t:,.0f}" for _, t in seeds)
        lines.append(
            f"| {row['arm']} | {row['n']} | {row['successes']}/{row['seeds']} "
            f"[{lo:.2f}, {hi:.2f}] | {med} | {each} |"
        )
    lines.append("")
    only_shift = all(
        len({json.dumps(c.get(key)) for c in configs}) == 1
        for key in TARGET_KEYS + DIST_KEYS
        if key != "shift"
    )
    arms = [labels[k] for k in keys]
    fig = comparison_figure(
        table, fits, predictions, rows, arms, directory, name, shift_panel=only_shift
    )
    return lines, [fig]


def _arm_order(config: dict) -> tuple:
    """Targets by family, k and leap; then direct before curricula, uniform before the rest."""
    from paritylab.lab.tasks.online import CURRICULA, DISTRIBUTIONS

    def index(options, value):
        return options.index(value) if value in options else len(options)

    return (
        str(config.get("target")),
        int(config.get("k", 0)),
        int(config.get("leap", 1)),
        index(CURRICULA, config.get("curriculum", "none")),
        index(DISTRIBUTIONS, config.get("distribution", "uniform")),
        float(config.get("shift", 0.0)),
        json.dumps(config, sort_keys=True),
    )


def comparison_figure(
    table, fits, predictions, rows, arms, out: Path, prefix: str, *, shift_panel: bool = False
) -> Path:
    """t_c vs n (log-log) for every arm: medians with quartile bars, censored cells as open
    triangles at their lower bound, the fitted power law (solid) and the predicted slope
    (dashed, through the first fitted median); with a second panel of t_c vs the shift when
    the arms differ by a mean shift.

    Args:
        table: ``scaling_table(rows, by="arm")``.
        fits: {arm: ``fit_exponents`` row}.
        predictions: {arm: (exponent or None, basis)}.
        rows: the per-run rows (n, arm, seed, t_c, cap, shift).
        arms: the arms in legend order.
        out: folder of the figure.
        prefix: the experiment name.
        shift_panel: add the t_c vs shift panel (the arms differ by the shift alone).

    Returns:
        the PNG path.
    """
    from paritylab.lab import figures

    @figures._styled
    def draw():
        shifts = sorted({r["shift"] for r in rows})
        panels = 2 if shift_panel and len(shifts) > 1 else 1
        fig, axes = figures._grid(panels, height=3.0)
        ax = axes[0]
        for i, arm in enumerate(arms):
            color = figures.COLORS[i % len(figures.COLORS)]
            cells = sorted((r for r in table if r["arm"] == arm), key=lambda r: r["n"])
            ok = [r for r in cells if not r["censored"]]
            if ok:
                xs = np.array([r["n"] for r in ok], float)
                ys = np.array([r["median_t_c"] for r in ok], float)
                lo = ys - np.array([r["t_c_q25"] or y for r, y in zip(ok, ys, strict=True)])
                hi = np.array([r["t_c_q75"] or y for r, y in zip(ok, ys, strict=True)]) - ys
                ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", ls="none", capsize=2, color=color)
            fit = fits.get(arm)
            text = arm
            if fit and fit["exponent"] is not None:
                grid = np.geomspace(min(fit["n_fitted"]), max(fit["n_fitted"]), 50)
                ax.plot(grid, np.exp(fit["intercept"]) * grid ** fit["exponent"], color=color)
                text += f": beta={fit['exponent']:.2f}"
                if fit["ci_low"] is not None:
                    text += f" [{fit['ci_low']:.2f}, {fit['ci_high']:.2f}]"
            exp, basis = predictions.get(arm, (None, ""))
            if exp is not None and ok and len(cells) > 1:
                n0, t0 = ok[0]["n"], ok[0]["median_t_c"]
                grid = np.geomspace(n0, max(r["n"] for r in cells), 50)
                ax.plot(grid, t0 * (grid / n0) ** exp, color=color, ls="--", lw=0.9)
                text += f"; predicted {exp}" + (" (heuristic)" if "heuristic" in basis else "")
            ax.plot([], [], color=color, marker="o", label=text)
            figures.censored_markers(ax, cells, color)
        ax.plot([], [], color="0.4", ls="--", lw=0.9, label="predicted slope (dashed)")
        ax.scatter([], [], marker="^", facecolors="none", edgecolors="0.4", label="median >= cap")
        figures._log_axes(ax, "x", "y")
        ax.set_xlabel("n")
        ax.set_ylabel("t_c (steps, median over seeds)")
        ax.grid(alpha=0.3, which="both")
        if panels == 2:
            _shift_panel(axes[1], rows, figures)
        figures._legend(fig, axes)
        figures._title(fig, f"{prefix}: time to success vs n by arm")
        fig.tight_layout()
        return figures._save(fig, Path(out) / f"{prefix}-tc-by-arm.png")

    return draw()


def _shift_panel(ax, rows, figures) -> None:
    """Median t_c vs the mean shift, one line per n (censored cells at the cap, open)."""
    import matplotlib.pyplot as plt

    from paritylab.theory.scaling import censored_median

    ns = sorted({r["n"] for r in rows})
    for i, n in enumerate(ns):
        color = plt.cm.viridis(0.85 * i / max(len(ns) - 1, 1))
        xs, ys, cx, cy = [], [], [], []
        for shift in sorted({r["shift"] for r in rows if r["n"] == n}):
            cell = [r for r in rows if r["n"] == n and r["shift"] == shift]
            med = censored_median([r["t_c"] for r in cell])
            if med is None:
                caps = [r["cap"] for r in cell if r["cap"] is not None]
                if caps:
                    cx.append(shift)
                    cy.append(min(caps))
            else:
                xs.append(shift)
                ys.append(med)
        ax.plot(xs, ys, marker="s", ls=":", color=color, label=f"right: n={n}")
        if cx:
            ax.scatter(cx, cy, marker="^", facecolors="none", edgecolors=color)
    figures._log_axes(ax, "y")
    ax.set_xlabel("mean shift mu (|E x_i|)")
    ax.set_ylabel("t_c (steps, median over seeds)")
    ax.grid(alpha=0.3, which="both")
