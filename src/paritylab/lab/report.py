"""``paritylab report DIR``: report.md plus PNG figures for every experiment stored in DIR."""

from __future__ import annotations

import json
from pathlib import Path

from paritylab.lab import figures
from paritylab.lab.store import Store
from paritylab.lab.tables import markdown_table
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
        ok = [r for r in recs if r["status"] == "ok"]
        if ok:
            lines += [markdown_table(ok), ""]
            task_lines, paths = get_task(ok[0]["task"]).report(ok, directory, name)
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


def scaling_section(records: list[dict], directory: Path, name: str):
    """For runs that report a time to success over several n: median t_c per (n, k) with
    success fractions (censored runs kept), the fitted exponents t_c ~ n^beta with bootstrap
    intervals, and the log-log figure (``paritylab.theory.scaling``).

    Args:
        records: ok runs of one experiment.
        directory: where the figure goes.
        name: the experiment name.

    Returns:
        (markdown lines, figure paths); both empty with fewer than two (n, k) cells.
    """
    from paritylab.theory.scaling import fit_exponents, scaling_table

    rows = [
        {
            "n": r["config"]["n"],
            "k": r["config"]["k"],
            "seed": r["seed"],
            "t_c": r["metrics"].get("t_c"),
            "cap": r["info"].get("step_cap", r["config"].get("max_steps")),
        }
        for r in records
        if "t_c" in r["metrics"] and "step_cap" in r["info"]
    ]
    if len({(r["n"], r["k"]) for r in rows}) < 2:
        return [], []
    table, fits = scaling_table(rows), fit_exponents(rows)
    lines = [
        "### Time to success (steps)",
        "",
        "| n | k | seeds | success | median t_c | q25-q75 |",
        "|---|---|---|---|---|---|",
    ]
    for r in table:
        med = (
            f">= {r['median_lower_bound']:,.0f} (censored)"
            if r["censored"]
            else f"{r['median_t_c']:,.0f}"
        )
        quart = "-" if r["t_c_q25"] is None else f"{r['t_c_q25']:,.0f}-{r['t_c_q75'] or 0:,.0f}"
        lines.append(
            f"| {r['n']} | {r['k']} | {r['seeds']} | {r['success_frac']:.2f} | {med} | {quart} |"
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
    return lines, [figures.scaling_figure(table, fits, directory, name)]
