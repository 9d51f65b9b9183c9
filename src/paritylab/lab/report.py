"""``paritylab report DIR``: report.md plus PNG figures for every experiment stored in DIR."""

from __future__ import annotations

from pathlib import Path

from paritylab.lab import figures
from paritylab.lab.store import Store
from paritylab.lab.tables import markdown_table


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
            paths = figures.dm_panel(ok, directory, name)
            paths += figures.sweep_figures(ok, directory, name)
            curve = figures.training_curves(ok, directory, name)
            paths += [curve] if curve else []
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
                __import__("json").dumps(spec, indent=1),
                "```",
                "</details>",
                "",
            ]
    path = directory / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
