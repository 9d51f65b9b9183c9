"""Report section of the ``lottery-ticket`` runs (``paritylab.learners.lottery``): steps to
success of the four arms (wide net, rewound ticket, rewound random units, fresh small net) per
seed, and a figure of them.

Edelman, Goel, Kakade, Malach, Zhang, "Pareto frontiers in neural feature learning: data,
compute, width, and luck", NeurIPS 2023, https://arxiv.org/abs/2309.03800.

One table and one figure panel per setting (every config field apart from the seed): per seed
t_c of each arm, a censored run shown as ">cap"; per arm the success fraction with its Wilson
95% interval and the censored median (None read as +inf; ``paritylab.theory.scaling``); and in
how many seeds the ticket beat the random units (a censored run counts as slower than any run
that succeeded; two censored runs tie). The figure draws every seed's t_c per arm (censored
runs as open triangles at the cap, a lower bound) on a log axis, with each arm's censored
median as a bar.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from paritylab.learners.lottery import ARMS

LEARNER = "lottery-ticket"
ARM_NAMES = {
    "wide": "wide net",
    "ticket": "ticket (top units, rewound)",
    "random": "random units, rewound",
    "fresh": "fresh small net",
}
NOT_SETTING = ("seed",)


def _runs(records: list[dict]) -> list[dict]:
    return [r for r in records if r["learner"] == LEARNER and r["status"] == "ok"]


def applies(records: list[dict]) -> bool:
    """True when some ``lottery-ticket`` run finished."""
    return bool(_runs(records))


def _setting(config: dict) -> str:
    return json.dumps({k: v for k, v in config.items() if k not in NOT_SETTING}, sort_keys=True)


def _label(config: dict, varying: list[str]) -> str:
    base = (
        f"(n, k) = ({config.get('n')}, {config.get('k')}), width {config.get('width')}, "
        f"ticket {config.get('ticket_size') or config.get('k')}"
    )
    extra = [f"{k}={config.get(k)}" for k in varying if k not in ("n", "k", "width", "ticket_size")]
    return "; ".join([base, *extra])


def _order(config: dict, key: str) -> tuple:
    """Settings by n, k, width and ticket size (numerically), then the rest."""
    size = config.get("ticket_size") or config.get("k", 0)
    return (config.get("n", 0), config.get("k", 0), config.get("width", 0), size, key)


def _cell(t, cap) -> str:
    if t is not None:
        return f"{t:,.0f}"
    return f">{cap:,.0f}" if cap is not None else "never"


def faster(a, b) -> bool:
    """Whether time a beats time b (None = censored: slower than any finite time)."""
    if a is None:
        return False
    return b is None or a < b


def section(records: list[dict], directory: Path, name: str):
    """Markdown lines and the figure (module docstring).

    Args:
        records: runs of one experiment (any learner, any status).
        directory: where the figure goes.
        name: the experiment name.

    Returns:
        (lines, figure paths).
    """
    from paritylab.lab.tables import tc_cap
    from paritylab.theory.intervals import wilson_interval
    from paritylab.theory.scaling import censored_median

    runs = _runs(records)
    groups: dict[str, list[dict]] = {}
    for r in runs:
        groups.setdefault(_setting(r["config"]), []).append(r)
    keys = sorted(groups, key=lambda k: _order(groups[k][0]["config"], k))
    configs = [groups[k][0]["config"] for k in keys]
    varying = sorted(
        {f for c in configs for f in c if len({json.dumps(x.get(f)) for x in configs}) > 1}
    )
    lines = [
        "### Lottery tickets: steps to success per arm",
        "",
        "Arms (Edelman et al. 2023): the wide net; its top units by trained first-layer weights "
        "(`rank_by`), rewound to their initial values and trained alone (the ticket); as many "
        "units of the same initial net chosen at random, rewound and trained alone; a fresh "
        "net of the ticket's width from an independent key. Every arm sees the same batch "
        "stream. `>cap`: censored at the step cap (never reached 100% held-out accuracy). "
        "`on A`: how many of each ticket unit's initial non-zero weights lie on the support.",
        "",
    ]
    panels = []
    for key in keys:
        rs = sorted(groups[key], key=lambda r: r["seed"])
        label = _label(rs[0]["config"], varying)
        caps = [tc_cap(r) for r in rs]
        times = {arm: [r["metrics"].get(f"t_c_{arm}") for r in rs] for arm in ARMS}
        lines += [
            f"#### {label}",
            "",
            "| seed | " + " | ".join(ARM_NAMES[a] for a in ARMS) + " | ticket units on A |",
            "|---|" + "---|" * len(ARMS) + "---|",
        ]
        for i, r in enumerate(rs):
            on_a = r.get("info", {}).get("ticket_support_nonzeros")
            cells = " | ".join(_cell(times[a][i], caps[i]) for a in ARMS)
            lines.append(f"| {r['seed']} | {cells} | {on_a if on_a is not None else '-'} |")
        summary = []
        for arm in ARMS:
            wins = sum(t is not None for t in times[arm])
            lo, hi = wilson_interval(wins, len(rs))
            med = censored_median(times[arm])
            med_text = f"{med:,.0f}" if med is not None else f">= {min(caps):,.0f}"
            summary.append(f"{wins}/{len(rs)} [{lo:.2f}, {hi:.2f}], median {med_text}")
        lines.append("| success [Wilson 95%], median | " + " | ".join(summary) + " | |")
        beats = sum(faster(a, b) for a, b in zip(times["ticket"], times["random"], strict=True))
        lo, hi = wilson_interval(beats, len(rs))
        lines += [
            "",
            f"Ticket faster than the random units in {beats}/{len(rs)} seeds "
            f"[Wilson 95%: {lo:.2f}, {hi:.2f}].",
            "",
        ]
        panels.append((label, times, caps))
    return lines, [lottery_figure(panels, directory, name)]


def lottery_figure(panels, out: Path, prefix: str) -> Path:
    """Per panel (setting): t_c of every seed per arm on a log axis, censored runs as open
    triangles at the cap, each arm's censored median as a horizontal bar.

    Args:
        panels: [(label, {arm: [t_c per seed]}, [cap per seed])].
        out: folder of the figure.
        prefix: the experiment name.

    Returns:
        the PNG path (PDF and SVG beside it).
    """
    from paritylab.lab import figures
    from paritylab.theory.scaling import censored_median

    @figures._styled
    def draw():
        fig, axes = figures._grid(len(panels), height=2.8)
        rng = np.random.default_rng(0)  # jitter only
        for ax, (label, times, caps) in zip(axes, panels, strict=True):
            for j, arm in enumerate(ARMS):
                color = figures.COLORS[j]
                ts = times[arm]
                x = j + rng.uniform(-0.15, 0.15, len(ts))
                done = [(xi, t) for xi, t in zip(x, ts, strict=True) if t is not None]
                cens = [
                    (xi, c)
                    for xi, t, c in zip(x, ts, caps, strict=True)
                    if t is None and c is not None
                ]
                if done:
                    ax.scatter(*zip(*done, strict=True), color=color, s=14, label="t_c of a seed")
                if cens:
                    ax.scatter(
                        *zip(*cens, strict=True),
                        marker="^",
                        facecolors="none",
                        edgecolors=color,
                        s=22,
                        label="censored (>= cap)",
                    )
                med = censored_median(ts)
                if med is not None:
                    ax.hlines(med, j - 0.3, j + 0.3, color="k", lw=1.5, label="median")
            ax.set_xticks(range(len(ARMS)))
            ax.set_xticklabels([a for a in ARMS])
            figures._log_axes(ax, "y")
            ax.set_ylabel("steps to 100% accuracy")
            ax.set_title(label, fontsize="small")
        figures._legend(fig, axes)
        figures._title(fig, f"{prefix}: lottery tickets, steps to success per arm")
        fig.tight_layout()
        return figures._save(fig, Path(out) / f"{prefix}-lottery.png")

    return draw()


__all__ = ["applies", "faster", "lottery_figure", "section"]
