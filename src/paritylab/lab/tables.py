"""Tables of stored runs: grouped means with 95% intervals, rich tables, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
from rich.table import Table

from paritylab.lab.tasks import get_task

GENERIC_COLUMNS = (("test_acc", "acc"), ("test_hinge", "hinge"))


def mean_interval(values) -> tuple[float, float, int]:
    """Mean and the half-width of a 95% t-interval over seeds (nan for one seed)."""
    v = np.asarray([x for x in values if x is not None], np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan, 0
    if v.size == 1:
        return float(v[0]), math.nan, 1
    from scipy import stats

    half = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
    return float(v.mean()), float(half), int(v.size)


def group_records(records: list[dict]) -> list[dict]:
    """Group ok runs by (experiment, grid point, learner); each group lists its metric values."""
    groups: dict[tuple, dict] = {}
    for r in records:
        if r["status"] != "ok":
            continue
        key = (r["experiment"], json.dumps(r["point"], sort_keys=True), r["learner"])
        g = groups.setdefault(
            key,
            {
                "experiment": r["experiment"],
                "point": r["point"],
                "learner": r["learner"],
                "task": r["task"],
                "config": r["config"],
                "metrics": {},
                "seeds": [],
            },
        )
        g["seeds"].append(r["seed"])
        for name, value in r["metrics"].items():
            if isinstance(value, bool):
                value = float(value)
            if isinstance(value, int | float) or value is None:
                g["metrics"].setdefault(name, []).append(value)
    return list(groups.values())


def _fmt(mean: float, half: float, name: str) -> str:
    if math.isnan(mean):
        return "-"
    if name in ("num_features", "t_c", "t_c_epochs"):
        text = f"{mean:,.0f}"
    elif name == "weight_norm":
        text = f"{mean:.3g}"
    else:
        text = f"{mean:.3f}"
    return text if math.isnan(half) else f"{text}±{half:.2g}"


def table_rows(records: list[dict]) -> tuple[list[str], list[list[str]], set[int]]:
    """Headers and rows: one row per (grid point, learner), mean±95% interval over seeds.

    The columns are those each task present declares (``TABLE_COLUMNS``); a task with a
    reference (``reference_row``) adds a reference row under each grid point, whose index is
    in the returned set."""
    groups = group_records(records)
    columns: list = []
    for name in dict.fromkeys(g["task"] for g in groups):
        for col in getattr(get_task(name), "TABLE_COLUMNS", GENERIC_COLUMNS):
            if col not in columns:
                columns.append(col)
    present = [c for c in columns if any(c[0] in g["metrics"] for g in groups)]
    axes = sorted({k for g in groups for k in g["point"]})
    headers = [*axes, "learner", "seeds", *(label for _, label in present)]
    rows, reference_rows = [], set()
    ordered = sorted(groups, key=lambda g: (json.dumps(g["point"], sort_keys=True), g["learner"]))
    for i, g in enumerate(ordered):
        cells = [str(g["point"].get(a, "")) for a in axes]
        row = [*cells, g["learner"], str(len(g["seeds"]))]
        row += [_fmt(*mean_interval(g["metrics"].get(name, []))[:2], name) for name, _ in present]
        rows.append(row)
        last_of_point = i + 1 == len(ordered) or ordered[i + 1]["point"] != g["point"]
        ref_cells = get_task(g["task"]).reference_row(g["config"]) if last_of_point else None
        if ref_cells:
            reference_rows.add(len(rows))
            rows.append(
                [
                    *cells,
                    "linear-threshold reference",
                    "",
                    *[f"{ref_cells[n]:.3f}" if n in ref_cells else "" for n, _ in present],
                ]
            )
    return headers, rows, reference_rows


def results_table(records: list[dict], *, title: str = "results") -> Table:
    """The rows of ``table_rows`` as a rich table (reference rows dimmed)."""
    headers, rows, refs = table_rows(records)
    table = Table(title=title)
    for h in headers:
        table.add_column(h, justify="left" if h == "learner" else "right")
    for i, row in enumerate(rows):
        table.add_row(*row, style="dim italic" if i in refs else None)
    return table


def markdown_table(records: list[dict]) -> str:
    """The rows of ``table_rows`` as a GitHub-flavoured markdown table."""
    headers, rows, _ = table_rows(records)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def records_json(records: list[dict], *, traces: bool = False) -> str:
    """The JSON list of run records: run_id, experiment, learner, seed, status,
    config, metrics, wall_s, plus task, point, error, info (and traces when asked)."""
    keep = (
        "run_id",
        "experiment",
        "task",
        "learner",
        "seed",
        "status",
        "point",
        "config",
        "metrics",
        "wall_s",
        "error",
        "info",
        "versions",
    )
    out = [{k: r[k] for k in keep} | ({"traces": r["traces"]} if traces else {}) for r in records]
    return json.dumps(out, indent=1)


def records_csv(records: list[dict]) -> str:
    """One CSV row per run: identity columns, swept values, then every metric."""
    axes = sorted({k for r in records for k in r["point"]})
    metrics = sorted({k for r in records for k in r["metrics"]})
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["run_id", "experiment", "learner", "seed", "status", "wall_s", *axes, *metrics])
    for r in records:
        w.writerow(
            [
                r["run_id"],
                r["experiment"],
                r["learner"],
                r["seed"],
                r["status"],
                f"{r['wall_s']:.3f}",
                *[r["point"].get(a, "") for a in axes],
                *[r["metrics"].get(m, "") for m in metrics],
            ]
        )
    return buf.getvalue()
