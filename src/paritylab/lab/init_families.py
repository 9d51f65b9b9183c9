"""Report section of the experiments that compare initialisation families on high-degree and
full parities (``init-families``): success and time to success per family, perturbation scale
sigma and degree k, beside the initial alignment of each run's network with the target; and
the full N-bit parity trained on the whole cube.

* Abbe, Cornacchia, Hazla, Kougang-Yombi, "Learning high-degree parities: the crucial role of
  the initialization", ICLR 2025, https://arxiv.org/abs/2412.04910: with Rademacher weights
  w_ij = +-1/sqrt(n), gradient descent on a two-layer net learns almost-full parities
  (k = n - O(1)); a Gaussian perturbation of the weights with a large enough constant sigma
  prevents it; the positive result holds up to sigma = O(1/n).
* Abbe, Cornacchia, Hazla, Marquis, "An initial alignment between neural network and target is
  needed for gradient descent to learn", ICML 2022, https://arxiv.org/abs/2202.12846: the
  initial alignment INAL (``paritylab.metrics.alignment``), recomputed here for every run by
  rebuilding the seed's data (the task's ``make_data``) and the learner's initial network
  (``OnlineSGD.initial_params``), exactly for n <= 16.
* Rumelhart, Hinton, Williams, "Learning representations by back-propagating errors", Nature
  1986 (and "Learning internal representations by error propagation", PDP vol. 1): the N-bit
  parity learnt by a net of N hidden units trained on all 2^N inputs (``train_set = "cube"``).

An *arm* is the initialisation (``init``, ``init_noise``, ``init_scale``) and every other
setting apart from the seed and the knobs that only cut or resolve a run. Per arm: success
fraction with its Wilson 95% interval, censored median t_c (None read as +inf), the mean INAL
over seeds with its standard error, and the gradient measure's on/off-support ratio where A is
not every coordinate. The figure: success fraction against mean INAL (log x), one point per
arm, Wilson bars; and success against sigma per degree k. The cube runs get their own table and
figure: success fraction and median t_c against N, one line per width.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

LEARNER = "sgd-online"
INIT_KEYS = ("init", "init_noise", "init_scale")
NOT_ARM = ("seed", "max_steps", "eval_every", "eval_size", "after_success")


def _runs(records: list[dict]) -> list[dict]:
    return [r for r in records if r["learner"] == LEARNER and "n" in r["config"]]


def applies(records: list[dict]) -> bool:
    """True when ``sgd-online`` runs compare the Rademacher family with others or with its
    perturbations (``init`` or ``init_noise`` varies and some run has ``init =
    "rademacher"``), or train on the whole cube (``train_set = "cube"``)."""
    runs = _runs(records)
    if not any(r["status"] == "ok" for r in runs):
        return False
    varies = any(
        len({json.dumps(r["config"].get(k)) for r in runs}) > 1 for k in ("init", "init_noise")
    )
    rademacher = any(r["config"].get("init") == "rademacher" for r in runs)
    return (varies and rademacher) or any(r["config"].get("train_set") == "cube" for r in runs)


def family_label(config: dict) -> str:
    """A short name of a run's initialisation: ``rademacher``, ``rademacher + 0.5 N(0,1)``,
    ``gaussian``, with the scale when it is not 1."""
    init = config.get("init", "uniform")
    label = init
    sigma = float(config.get("init_noise", 0.0) or 0.0)
    if init == "rademacher" and sigma:
        label = f"rademacher + {sigma:g} N(0,1)"
    scale = float(config.get("init_scale", 1.0))
    if scale != 1.0:
        label += f", scale {scale:g}"
    return label


def run_alignment(record: dict) -> dict | None:
    """INAL and the gradient measure of a run's initial network, exact over the cube (None for
    n > 16, or when the network cannot be rebuilt, e.g. a learner setting no longer known).

    Args:
        record: an ``sgd-online`` run of the online task.

    Returns:
        {"inal", "inal_se", "mean_c2", "grad_ratio"} or None.
    """
    from paritylab.lab.tasks import online as task
    from paritylab.learners import OnlineSGD, learner_key
    from paritylab.metrics.alignment import EXACT_MAX_N, gradient_alignment, initial_alignment

    config = record["config"]
    if int(config.get("n", 0)) > EXACT_MAX_N:  # exact measures only: a report stays cheap
        return None
    problem_fields = {f.name for f in dataclasses.fields(task.CONFIG)}
    learner_fields = {f.name for f in dataclasses.fields(OnlineSGD)}
    try:
        problem = task.CONFIG(**{k: _tuple(v) for k, v in config.items() if k in problem_fields})
        learner = OnlineSGD(**{k: v for k, v in config.items() if k in learner_fields})
        data = task.make_data(problem, int(record["seed"]))
        params = learner.initial_params(data, key=learner_key(int(record["seed"]), LEARNER))
    except Exception:
        return None
    support = np.asarray(data.problem.target.support, int)
    inal = initial_alignment(params, support)
    grad = gradient_alignment(params, support)
    return {
        "inal": inal["inal"],
        "inal_se": inal["se"],
        "mean_c2": inal["mean_c2"],
        "grad_ratio": grad["ratio"],
    }


def _tuple(value):
    if isinstance(value, list):
        return tuple(_tuple(v) for v in value)
    return value


def _arm(config: dict) -> str:
    return json.dumps({k: v for k, v in config.items() if k not in NOT_ARM}, sort_keys=True)


def section(records: list[dict], directory: Path, name: str):
    """Markdown lines and figures (module docstring).

    Args:
        records: runs of one experiment (any status).
        directory: where figures go.
        name: the experiment name.

    Returns:
        (lines, figure paths).
    """
    runs = _runs(records)
    cube = [r for r in runs if r["config"].get("train_set") == "cube"]
    sampled = [r for r in runs if r["config"].get("train_set", "sample") != "cube"]
    lines, paths = [], []
    if sampled and len({family_label(r["config"]) for r in sampled}) > 1:
        more_lines, more_paths = _families(sampled, directory, name)
        lines += more_lines
        paths += more_paths
    if cube:
        more_lines, more_paths = _cube(cube, directory, name)
        lines += more_lines
        paths += more_paths
    return lines, paths


def _summaries(runs: list[dict], with_alignment: bool) -> list[dict]:
    from paritylab.lab.tables import tc_cap
    from paritylab.theory.intervals import wilson_interval
    from paritylab.theory.scaling import censored_median

    arms: dict[str, list[dict]] = {}
    for r in runs:
        arms.setdefault(_arm(r["config"]), []).append(r)
    rows = []
    for rs in arms.values():
        rs = sorted(rs, key=lambda r: r["seed"])
        c = rs[0]["config"]
        t_c = [r["metrics"].get("t_c") if r["status"] == "ok" else None for r in rs]
        wins = sum(t is not None for t in t_c)
        lo, hi = wilson_interval(wins, len(rs))
        caps = [tc_cap(r) for r in rs if r["status"] == "ok"]
        row = {
            "family": family_label(c),
            "init": c.get("init"),
            "sigma": float(c.get("init_noise", 0.0) or 0.0),
            "n": int(c["n"]),
            "k": int(c["k"]),
            "width": c.get("width"),
            "successes": wins,
            "seeds": len(rs),
            "lo": lo,
            "hi": hi,
            "median": censored_median(t_c),
            "cap": min(caps) if caps else None,
            "t_c": t_c,
        }
        if with_alignment:
            al = [run_alignment(r) for r in rs]
            inal = np.array([a["inal"] for a in al if a is not None], float)
            ratios = [a["grad_ratio"] for a in al if a is not None and a["grad_ratio"]]
            row["inal"] = float(inal.mean()) if inal.size else None
            row["inal_se"] = float(inal.std(ddof=1) / np.sqrt(inal.size)) if inal.size > 1 else 0.0
            row["grad_ratio"] = float(np.mean(ratios)) if ratios else None
            mean_c2 = [a["mean_c2"] for a in al if a is not None]
            row["mean_c2"] = float(np.mean(mean_c2)) if mean_c2 else None
        rows.append(row)
    return sorted(rows, key=lambda r: (r["n"], r["k"], r["width"] or 0, r["init"], r["sigma"]))


def _median_text(row: dict) -> str:
    if row["median"] is not None:
        return f"{row['median']:,.0f}"
    return f">= {row['cap']:,.0f}" if row["cap"] is not None else "never"


def _families(runs: list[dict], directory: Path, name: str):
    rows = _summaries(runs, with_alignment=True)
    lines = [
        "### Initialisation families on high-degree parities",
        "",
        "Rademacher weights w_ij = +-1/sqrt(n), the same plus a Gaussian perturbation sigma "
        "N(0,1)/sqrt(n), and Gaussian weights (Abbe, Cornacchia, Hazla, Kougang-Yombi 2025). "
        "INAL = max_i c_i^2, c_i the correlation of unit i's output with chi_A at "
        "initialisation (exact over the cube), mean over seeds +- s.e.; mean c^2: c_i^2 "
        "averaged over units and seeds; grad on/off: RMS "
        "population gradient of the first layer on A over off A at initialisation (none when "
        "A = [n]). Censored, failed and diverged runs count as failures.",
        "",
        "| n | k | width | init | success [Wilson 95%] | median t_c | INAL (mean +- s.e.) |"
        " mean c^2 | grad on/off | t_c per seed (- never) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        inal = "-" if r["inal"] is None else f"{r['inal']:.2e} +- {r['inal_se']:.1e}"
        ratio = "-" if r["grad_ratio"] is None else f"{r['grad_ratio']:.2f}"
        mean_c2 = "-" if r["mean_c2"] is None else f"{r['mean_c2']:.2e}"
        each = ", ".join("-" if t is None else f"{t:,.0f}" for t in r["t_c"])
        lines.append(
            f"| {r['n']} | {r['k']} | {r['width']} | {r['family']} | {r['successes']}/"
            f"{r['seeds']} [{r['lo']:.2f}, {r['hi']:.2f}] | {_median_text(r)} | {inal} | "
            f"{mean_c2} | {ratio} | {each} |"
        )
    lines.append("")
    return lines, [families_figure(rows, directory, name)]


def _cube(runs: list[dict], directory: Path, name: str):
    rows = _summaries(runs, with_alignment=False)
    lines = [
        "### The full N-bit parity on the whole cube",
        "",
        "Trained and scored on all 2^N inputs (Rumelhart, Hinton, Williams 1986: N hidden "
        "units). Success: 100% of the 2^N inputs right within the step cap.",
        "",
        "| N | width | init | success [Wilson 95%] | median t_c | t_c per seed (- never) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        each = ", ".join("-" if t is None else f"{t:,.0f}" for t in r["t_c"])
        lines.append(
            f"| {r['n']} | {r['width']} | {r['family']} | {r['successes']}/{r['seeds']} "
            f"[{r['lo']:.2f}, {r['hi']:.2f}] | {_median_text(r)} | {each} |"
        )
    lines.append("")
    return lines, [cube_figure(rows, directory, name)]


def families_figure(rows: list[dict], out: Path, prefix: str) -> Path:
    """Success fraction (Wilson bars) against the mean INAL over seeds (left) and against the
    mean of c_i^2 over units and seeds (middle), one point per arm (colour: family and sigma,
    marker: (n, k)); right: success fraction against sigma per (n, k), the Gaussian family
    drawn at the right edge.

    Args:
        rows: ``_summaries`` rows with ``inal`` and ``mean_c2``.
        out: folder of the figure.
        prefix: the experiment name.

    Returns:
        the PNG path.
    """
    from paritylab.lab import figures

    @figures._styled
    def draw():
        fig, (ax, ax1, ax2) = figures._grid(3, height=2.8)
        families = sorted({r["family"] for r in rows})
        ks = sorted({(r["n"], r["k"]) for r in rows})
        markers = "osD^vP*X"
        for axis, field, xlabel in (
            (ax, "inal", "INAL = max_i c_i^2"),
            (ax1, "mean_c2", "mean of c_i^2 over units"),
        ):
            for r in rows:
                if r[field] is None or r[field] <= 0:
                    continue
                color = figures.COLORS[families.index(r["family"]) % len(figures.COLORS)]
                frac = r["successes"] / r["seeds"]
                marker = markers[ks.index((r["n"], r["k"])) % len(markers)]
                xerr = None
                if field == "inal":
                    xerr = [[min(r["inal_se"], 0.99 * r["inal"])], [r["inal_se"]]]
                axis.errorbar(
                    [r[field]],
                    [frac],
                    yerr=[[max(frac - r["lo"], 0.0)], [max(r["hi"] - frac, 0.0)]],
                    xerr=xerr,
                    marker=marker,
                    color=color,
                    ls="none",
                    capsize=2,
                    label=r["family"],
                )
            axis.set_xscale("log")  # decades only: values span several
            axis.set_xlabel(xlabel)
            axis.set_ylabel("success fraction")
            axis.set_ylim(-0.05, 1.05)
        for j, (n, k) in enumerate(ks):
            ax.scatter([], [], marker=markers[j % len(markers)], color="0.4", label=f"n={n}, k={k}")
        rad = [r for r in rows if r["init"] == "rademacher"]
        sigmas = sorted({r["sigma"] for r in rad})
        pos = {s: i for i, s in enumerate(sigmas)}
        gauss_x = len(sigmas)
        for j, (n, k) in enumerate(ks):
            color = figures.COLORS[j % len(figures.COLORS)]
            pts = sorted(
                ((pos[r["sigma"]], r) for r in rad if (r["n"], r["k"]) == (n, k)),
                key=lambda t: t[0],
            )
            pts += [
                (gauss_x, r) for r in rows if r["init"] == "gaussian" and (r["n"], r["k"]) == (n, k)
            ]
            if not pts:
                continue
            xs = [x for x, _ in pts]
            fr = [r["successes"] / r["seeds"] for _, r in pts]
            err = [
                [max(f - r["lo"], 0.0) for f, (_, r) in zip(fr, pts, strict=True)],
                [max(r["hi"] - f, 0.0) for f, (_, r) in zip(fr, pts, strict=True)],
            ]
            ax2.errorbar(
                xs,
                fr,
                yerr=err,
                marker=markers[j % len(markers)],
                color=color,
                capsize=2,
                label=f"right: n={n}, k={k}",
            )
        ax2.set_xticks([*range(len(sigmas)), gauss_x])
        ax2.set_xticklabels([*(f"{s:g}" for s in sigmas), "gauss."])
        ax2.set_xlabel("sigma (rademacher + noise)")
        ax2.set_ylabel("success fraction")
        ax2.set_ylim(-0.05, 1.05)
        figures._legend(fig, [ax, ax1, ax2])
        figures._title(fig, f"{prefix}: success vs initial alignment and perturbation")
        fig.tight_layout()
        return figures._save(fig, Path(out) / f"{prefix}-init-families.png")

    return draw()


def cube_figure(rows: list[dict], out: Path, prefix: str) -> Path:
    """Success fraction (Wilson bars) and median t_c against N, one line per width rule.

    Args:
        rows: ``_summaries`` rows of the cube runs.
        out: folder of the figure.
        prefix: the experiment name.

    Returns:
        the PNG path.
    """
    from paritylab.lab import figures

    @figures._styled
    def draw():
        fig, (ax, ax2) = figures._grid(2, height=2.6)
        groups: dict[str, list[dict]] = {}
        for r in rows:
            ratio = r["width"] / r["n"] if r["width"] else None
            key = f"width = {ratio:g} N, {r['family']}" if ratio else r["family"]
            groups.setdefault(key, []).append(r)
        for i, (label, rs) in enumerate(sorted(groups.items())):
            rs = sorted(rs, key=lambda r: r["n"])
            color = figures.COLORS[i % len(figures.COLORS)]
            xs = [r["n"] for r in rs]
            fr = [r["successes"] / r["seeds"] for r in rs]
            err = [
                [max(f - r["lo"], 0.0) for f, r in zip(fr, rs, strict=True)],
                [max(r["hi"] - f, 0.0) for f, r in zip(fr, rs, strict=True)],
            ]
            ax.errorbar(xs, fr, yerr=err, marker="o", color=color, capsize=2, label=label)
            med = [(r["n"], r["median"]) for r in rs if r["median"] is not None]
            if med:
                ax2.plot(*zip(*med, strict=True), marker="o", color=color)
            cens = [(r["n"], r["cap"]) for r in rs if r["median"] is None and r["cap"]]
            if cens:
                ax2.scatter(
                    *zip(*cens, strict=True),
                    marker="^",
                    facecolors="none",
                    edgecolors=color,
                    label="median >= cap",
                )
        ax.set_xlabel("N (bits; the target is their parity)")
        ax.set_ylabel("success fraction")
        ax.set_ylim(-0.05, 1.05)
        ax2.set_xlabel("N")
        ax2.set_ylabel("t_c (steps, median)")
        figures._log_axes(ax2, "y")
        figures._legend(fig, [ax, ax2])
        figures._title(fig, f"{prefix}: the full N-bit parity on all 2^N inputs")
        fig.tight_layout()
        return figures._save(fig, Path(out) / f"{prefix}-full-parity.png")

    return draw()


__all__ = ["applies", "cube_figure", "families_figure", "family_label", "run_alignment", "section"]
