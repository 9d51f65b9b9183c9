"""``paritylab report DIR``: report.md plus figures (PNG, with PDF and SVG beside each) for
every experiment stored in DIR."""

from __future__ import annotations

import json
import re
from pathlib import Path

from paritylab.lab import figures
from paritylab.lab.store import Store
from paritylab.lab.tables import count_text, markdown_table, table_notes, tc_cap, tc_unit
from paritylab.lab.tasks import get_task


def write_report(directory: str | Path) -> Path:
    """Write ``report.md`` and figures into ``directory`` (which holds a results store)."""
    directory = Path(directory)
    with Store(directory, create=False) as store:
        specs = store.experiments()
        records = store.records()
    names = sorted({r["experiment"] for r in records} | set(specs))
    lines = [f"# paritylab report: {directory.name}", ""]
    for name in names:
        recs = [r for r in records if r["experiment"] == name]
        spec = specs.get(name, {})
        statuses = {s: sum(r["status"] == s for r in recs) for s in ("ok", "failed", "diverged")}
        lines += [
            f"## {name}",
            "",
            spec.get("description", ""),
            "",
            f"Runs: {len(recs)} ({', '.join(f'{v} {k}' for k, v in statuses.items())}); "
            f"total compute {sum(r['wall_s'] for r in recs):.1f} s.",
            "",
        ]
        if spec.get("sweep"):
            lines += ["Swept: " + "; ".join(f"`{k}` in {v}" for k, v in spec["sweep"].items()), ""]
        if recs:  # every run: failed and diverged ones count as failures in the table
            lines += [markdown_table(recs), ""]
            for note in table_notes(recs):
                lines += [note, ""]
        if any(r["status"] == "ok" for r in recs):
            task_lines, paths = get_task(recs[0]["task"]).report(recs, directory, name)
            lines += task_lines
            lines += [f"![{p.stem}]({p.name})" for p in paths] + [""]
        bad = [r for r in recs if r["status"] != "ok"]
        for r in bad[:20]:
            first = (r["error"] or "").splitlines()[0] if r["error"] else ""
            lines.append(f"- {r['status']}: {r['learner']} seed {r['seed']} {r['point']}: {first}")
        if spec:
            lines += [
                "",
                "<details><summary>experiment spec</summary>",
                "",
                "```json",
                json.dumps(spec, indent=1),
                "```",
                "</details>",
                "",
            ]
    path = directory / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


UNIT_NOTES = {
    "steps": "t_c counts SGD steps (one minibatch each).",
    "samples": "t_c counts samples drawn (not SGD steps); it is fitted on its own, never "
    "with a step-based learner.",
}


def scaling_section(records: list[dict], directory: Path, name: str):
    """Time to success over several n, one section per learner (and per setting of it), its
    unit stated (SGD steps for ``sgd-online``, samples for ``gf2-oracle``), so counts of
    different things are never pooled in one table, fit or figure. Each section: median t_c per
    (n, k) with success fractions (Wilson 95%; censored, failed and diverged runs count as
    failures and are never dropped), the fitted exponents t_c ~ n^beta with bootstrap
    intervals, and the log-log figure (``paritylab.theory.scaling``).

    Args:
        records: runs of one experiment (any status).
        directory: where the figures go.
        name: the experiment name.

    Returns:
        (markdown lines, figure paths); empty for learners with fewer than two (n, k) cells.
    """
    from paritylab.theory.scaling import fit_exponents, scaling_table

    runs = [r for r in records if "n" in r["config"] and "k" in r["config"]]
    learners = {r["learner"] for r in runs if r["status"] == "ok" and "t_c" in r["metrics"]}
    sections = []
    for learner in learners:
        mine = [r for r in runs if r["learner"] == learner]
        units = {tc_unit(r) for r in mine if r["status"] == "ok" and "t_c" in r["metrics"]}
        differing = _within_cell_keys(mine)
        by_rest: dict[str, list] = {}
        for r in mine:  # one section per setting at fixed (n, k): never pool settings
            rest = {k: r["config"].get(k) for k in differing}
            by_rest.setdefault(json.dumps(rest, sort_keys=True), []).append(r)
        for unit in sorted(units):
            for rest, rs in sorted(by_rest.items()):
                label = ", ".join(f"{k}={v}" for k, v in json.loads(rest).items())
                sections.append((unit != "steps", learner, unit, label, rs))
    lines, paths = [], []
    for _, learner, unit, label, rs in sorted(sections, key=lambda s: s[:4]):
        rows = [
            {
                "n": r["config"]["n"],
                "k": r["config"]["k"],
                "seed": r["seed"],
                "t_c": r["metrics"].get("t_c") if r["status"] == "ok" else None,
                "cap": tc_cap(r) if r["status"] == "ok" else None,
                "status": r["status"],
            }
            for r in rs
        ]
        if len({(r["n"], r["k"]) for r in rows}) < 2:
            continue
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{learner}-{label}".replace("=", "")).strip("-")
        more_lines, fig = _scaling_block(
            rows,
            fit_exponents(rows),
            scaling_table(rows),
            directory,
            name,
            learner,
            unit,
            label,
            f"{name}-tc-vs-n-{slug}.png",
        )
        lines += more_lines
        paths.append(fig)
    return lines, paths


def _within_cell_keys(records: list[dict]) -> list[str]:
    """Config keys with more than one value at some (n, k): settings that must not pool. A key
    that only changes with (n, k) (e.g. a step cap grown with n) is part of the scaling path."""
    cells: dict[tuple, list[dict]] = {}
    for r in records:
        cells.setdefault((r["config"]["n"], r["config"]["k"]), []).append(r["config"])
    keys = {k for r in records for k in r["config"]} - {"n", "k"}
    return sorted(
        key
        for key in keys
        if any(
            len({json.dumps(c.get(key, "?absent"), sort_keys=True) for c in cs}) > 1
            for cs in cells.values()
        )
    )


def _scaling_block(rows, fits, table, directory, name, learner, unit, label, filename):
    from paritylab.theory.intervals import wilson_interval

    bad = {}
    for r in rows:
        if r["status"] != "ok":
            cell = bad.setdefault((r["n"], r["k"]), {})
            cell[r["status"]] = cell.get(r["status"], 0) + 1
    head = f"### Time to success: {learner} ({unit})" + (f", {label}" if label else "")
    lines = [
        head,
        "",
        UNIT_NOTES.get(unit, f"t_c counts {unit}.") + " Runs that never succeed (censored at "
        "the cap, failed or diverged) count as failures and as t_c = +inf in the median; a "
        "cell where half or more never succeed reads >= cap.",
        "",
        f"| n | k | runs | success [Wilson 95%] | median t_c ({unit}) | q25-q75 |",
        "|---|---|---|---|---|---|",
    ]
    for r in table:
        med = (
            f">= {r['median_lower_bound']:,.0f} (censored)"
            if r["censored"] and r["median_lower_bound"] is not None
            else "not reached"
            if r["censored"]
            else count_text(r["median_t_c"])
        )
        quart = "-" if r["t_c_q25"] is None else f"{r['t_c_q25']:,.0f}-"
        if r["t_c_q25"] is not None:
            quart += "inf" if r["t_c_q75"] is None else f"{r['t_c_q75']:,.0f}"
        lo, hi = wilson_interval(r["successes"], r["seeds"])
        extra = bad.get((r["n"], r["k"]), {})
        runs = str(r["seeds"]) + (
            f" ({', '.join(f'{v} {s}' for s, v in sorted(extra.items()))})" if extra else ""
        )
        lines.append(
            f"| {r['n']} | {r['k']} | {runs} | {r['successes']}/{r['seeds']} "
            f"[{lo:.2f}, {hi:.2f}] | {med} | {quart} |"
        )
    lines += [
        "",
        "| k | exponent beta (t_c ~ n^beta) | 95% interval | alpha = beta/k | n fitted |"
        " n censored |",
        "|---|---|---|---|---|---|",
    ]
    for f in fits:
        if f["exponent"] is None:
            lines.append(f"| {f['k']} | - | - | - | {f['n_fitted']} | {f['n_censored']} |")
            continue
        ci = f"[{f['ci_low']:.2f}, {f['ci_high']:.2f}]" if f["ci_low"] is not None else "-"
        lines.append(
            f"| {f['k']} | {f['exponent']:.2f} | {ci} | {f['alpha']:.2f} | "
            f"{f['n_fitted']} | {f['n_censored']} |"
        )
    lines.append("")
    fig = figures.scaling_figure(
        table, fits, directory, name, unit=unit, learner=learner, filename=filename
    )
    return lines, fig
