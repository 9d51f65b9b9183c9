"""Tables of stored runs: one row per setting, CSV and JSON.

A row groups the runs of one learner whose full configs are equal (so two settings never pool,
even when they share a grid point); config keys that differ between such rows become columns.
Every run counts: failed and diverged runs are shown in the ``seeds`` cell and count as failures
in success fractions and times to success. Cells:

* a continuous metric (accuracy, hinge, ...): mean +- the half-width of a 95% t-interval over
  the seeds that finished ``ok``;
* ``success``: successes / runs with the Wilson 95% interval (``paritylab.theory.intervals``),
  e.g. ``2/5 [0.12, 0.77]``; never a t-interval on 0/1 outcomes;
* ``t_c`` / ``t_c_epochs``: the censored median (``paritylab.theory.scaling.censored_median``:
  a run without a time to success, whatever its status, counts as +inf); a row where half or
  more of the runs never succeeded reads ``>= cap`` (the smallest budget a censored run used).
  Its unit (SGD steps, or samples for learners that count samples) is in the header, or in
  each cell when a table mixes units.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter

import numpy as np
from rich.table import Table

from paritylab.lab.tasks import get_task

GENERIC_COLUMNS = (("test_acc", "acc"), ("test_hinge", "hinge"))
SUCCESS_METRICS = ("success",)
TIME_METRICS = ("t_c", "t_c_epochs")
NOT_OK = ("failed", "diverged")


def mean_interval(values) -> tuple[float, float, int]:
    """Mean and the half-width of a 95% t-interval over seeds (nan for one seed).

    For continuous metrics only: success fractions use ``success_interval``."""
    v = np.asarray([x for x in values if x is not None], np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan, 0
    if v.size == 1:
        return float(v[0]), math.nan, 1
    from scipy import stats

    half = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
    return float(v.mean()), float(half), int(v.size)


def tc_unit(record: dict, name: str = "t_c") -> str:
    """What a run's time to success counts: ``epochs`` for ``t_c_epochs``; ``samples`` for a
    learner that reports the samples it drew and no steps (``gf2-oracle``); else ``steps``."""
    if name == "t_c_epochs":
        return "epochs"
    metrics = record["metrics"]
    return "samples" if "samples" in metrics and "steps" not in metrics else "steps"


def tc_cap(record: dict, name: str = "t_c") -> float | None:
    """The budget at which a run without a time to success stopped (None when unknown): the
    step cap, the epochs run, or the samples drawn."""
    m, info, config = record["metrics"], record.get("info") or {}, record["config"]
    if name == "t_c_epochs":
        cap = m.get("epochs", config.get("epochs"))
    elif tc_unit(record, name) == "samples":
        cap = m.get("samples")
    else:
        cap = info.get("step_cap", config.get("max_steps"))
    return None if cap is None else float(cap)


def success_interval(runs: list[dict], name: str = "success") -> tuple[int, int, float, float]:
    """Successes among every run (failed, diverged and unsuccessful runs count as failures),
    the number of runs and the Wilson 95% interval of the fraction."""
    from paritylab.theory.intervals import wilson_interval

    k = sum(bool(r["status"] == "ok" and r["metrics"].get(name)) for r in runs)
    return (k, len(runs), *wilson_interval(k, len(runs)))


def time_to_success(runs: list[dict], name: str = "t_c") -> tuple[float | None, float | None]:
    """The censored median time over every run (None = never succeeded = +inf; failed and
    diverged runs included) and, when it is undefined, the smallest cap of a censored run."""
    from paritylab.theory.scaling import censored_median

    values = [r["metrics"].get(name) if r["status"] == "ok" else None for r in runs]
    median = censored_median(values)
    if median is not None:
        return median, None
    caps = [tc_cap(r, name) for r in runs if r["status"] == "ok" and r["metrics"].get(name) is None]
    caps = [c for c in caps if c is not None]
    return None, (min(caps) if caps else None)


def _setting_keys(groups: list[dict]) -> list[str]:
    """Config keys (outside the grid point) whose values differ between groups of the same
    experiment, learner and grid point."""
    buckets: dict[tuple, list[dict]] = {}
    for g in groups:
        key = (g["experiment"], g["learner"], json.dumps(g["point"], sort_keys=True))
        buckets.setdefault(key, []).append(g)
    keys: set[str] = set()
    for gs in buckets.values():
        for name in {k for g in gs for k in g["config"]} - set(gs[0]["point"]):
            if len({json.dumps(g["config"].get(name), sort_keys=True) for g in gs}) > 1:
                keys.add(name)
    return sorted(keys)


def group_records(records: list[dict]) -> list[dict]:
    """Group runs by (experiment, learner, full config): one group per setting, its seeds.

    Each group has ``experiment``, ``point``, ``learner``, ``task``, ``config``, ``runs``
    (every record, any status), ``seeds``, ``statuses`` (a Counter), ``metrics`` ({name:
    values over the ok runs}) and ``setting``: the grid point plus the config keys that tell
    apart groups of the same learner at the same point (``_setting_keys``)."""
    groups: dict[tuple, dict] = {}
    for r in records:
        key = (r["experiment"], r["learner"], json.dumps(r["config"], sort_keys=True))
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
                "runs": [],
                "statuses": Counter(),
            },
        )
        g["seeds"].append(r["seed"])
        g["runs"].append(r)
        g["statuses"][r["status"]] += 1
        if r["status"] != "ok":
            continue
        for name, value in r["metrics"].items():
            if isinstance(value, bool):
                value = float(value)
            if isinstance(value, int | float) or value is None:
                g["metrics"].setdefault(name, []).append(value)
    out = list(groups.values())
    extra = _setting_keys(out)
    for g in out:
        g["setting"] = {**g["point"], **{k: g["config"].get(k) for k in extra}}
    return out


def _order(setting: dict) -> tuple:
    """Sort key of a setting: numbers by value, anything else by its text."""
    return tuple(
        (k, (0, v, "") if isinstance(v, int | float) else (1, 0, str(v)))
        for k, v in sorted(setting.items())
    )


def _fmt(mean: float, half: float, name: str) -> str:
    if math.isnan(mean):
        return "-"
    if name == "num_features":
        text = f"{mean:,.0f}"
    elif name == "weight_norm":
        text = f"{mean:.3g}"
    else:
        text = f"{mean:.3f}"
    return text if math.isnan(half) else f"{text}±{half:.2g}"


def count_text(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.3g}"


def seeds_cell(g: dict) -> str:
    """Number of runs, and how many failed or diverged: ``5 (1 failed, 1 diverged)``."""
    bad = [f"{g['statuses'][s]} {s}" for s in NOT_OK if g["statuses"][s]]
    return str(len(g["runs"])) + (f" ({', '.join(bad)})" if bad else "")


def _group_unit(g: dict, name: str) -> str | None:
    units = {tc_unit(r, name) for r in g["runs"] if r["status"] == "ok" and name in r["metrics"]}
    return units.pop() if len(units) == 1 else None


def _cell(g: dict, name: str, reports: set[str], unit_in_cell: bool) -> str:
    if name in SUCCESS_METRICS:
        if name not in reports:
            return "-"
        k, m, lo, hi = success_interval(g["runs"], name)
        return f"{k}/{m} [{lo:.2f}, {hi:.2f}]"
    if name in TIME_METRICS:
        if name not in reports:
            return "-"
        median, cap = time_to_success(g["runs"], name)
        if median is not None:
            text = count_text(median)
        elif cap is not None:
            text = f">= {count_text(cap)}"
        else:
            text = "not reached"
        unit = _group_unit(g, name)
        return f"{text} {unit}" if unit_in_cell and unit else text
    return _fmt(*mean_interval(g["metrics"].get(name, []))[:2], name)


def table_rows(records: list[dict]) -> tuple[list[str], list[list[str]], set[int]]:
    """Headers and rows: one row per setting (``group_records``), every run counted.

    The columns are those each task present declares (``TABLE_COLUMNS``), after the swept
    variables and any config keys that tell settings apart; a task with a reference
    (``reference_row``) adds a reference row under each setting, whose index is in the
    returned set."""
    groups = group_records(records)
    reports: dict[str, set[str]] = {}  # metrics each learner reports in some ok run
    for r in records:
        if r["status"] == "ok":
            reports.setdefault(r["learner"], set()).update(r["metrics"])
    columns: list = []
    for name in dict.fromkeys(g["task"] for g in groups):
        for col in getattr(get_task(name), "TABLE_COLUMNS", GENERIC_COLUMNS):
            if col not in columns:
                columns.append(col)
    present = [c for c in columns if any(c[0] in s for s in reports.values())]
    axes = sorted({k for g in groups for k in g["point"]})
    extra = sorted({k for g in groups for k in g["setting"]} - set(axes))
    several = len({g["experiment"] for g in groups}) > 1
    units = {
        name: {_group_unit(g, name) for g in groups if name in reports.get(g["learner"], ())}
        - {None}
        for name in TIME_METRICS
    }
    labels = []
    for name, label in present:
        unit = units.get(name, set())
        if len(unit) == 1 and f"({next(iter(unit))})" not in label:
            label = f"{label} ({next(iter(unit))})"
        labels.append(label)
    headers = [*(["experiment"] if several else []), *axes, *extra, "learner", "seeds", *labels]
    rows, reference_rows = [], set()
    ordered = sorted(groups, key=lambda g: (g["experiment"], _order(g["setting"]), g["learner"]))
    for i, g in enumerate(ordered):
        cells = [*([g["experiment"]] if several else [])]
        cells += [str(g["setting"].get(a, "")) for a in (*axes, *extra)]
        row = [*cells, g["learner"], seeds_cell(g)]
        mine = reports.get(g["learner"], set())
        row += [_cell(g, name, mine, len(units.get(name, ())) > 1) for name, _ in present]
        rows.append(row)
        nxt = ordered[i + 1] if i + 1 < len(ordered) else None
        last = nxt is None or (nxt["experiment"], nxt["setting"]) != (g["experiment"], g["setting"])
        ref_cells = get_task(g["task"]).reference_row(g["config"]) if last else None
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


def table_notes(records: list[dict]) -> list[str]:
    """Lines to print under a results table: each task's optional ``table_notes(records)``
    hook on its own runs (e.g. the D&M task states joint-sgd's settings and what its train
    and test accuracies show)."""
    notes: list[str] = []
    for name in dict.fromkeys(r["task"] for r in records):
        hook = getattr(get_task(name), "table_notes", None)
        if hook is not None:
            notes += hook([r for r in records if r["task"] == name])
    return notes


def settings_text(records: list[dict], keys) -> str:
    """``key=value, ...`` of the configs of ``records`` (values that vary joined by ``/``)."""
    parts = []
    for key in keys:
        values = list(dict.fromkeys(str(r["config"][key]) for r in records if key in r["config"]))
        if values:
            parts.append(f"{key}={'/'.join(values)}")
    return ", ".join(parts)


def ok_mean(records: list[dict], name: str) -> float:
    """Mean of a metric over the ok runs that report it (nan when none)."""
    return mean_interval(r["metrics"].get(name) for r in records if r["status"] == "ok")[0]


def results_table(records: list[dict], *, title: str = "results") -> Table:
    """The rows of ``table_rows`` as a rich table (reference rows dimmed), with the lines of
    ``table_notes`` as its caption (printed under it)."""
    headers, rows, refs = table_rows(records)
    notes = table_notes(records)
    table = Table(title=title, caption="\n".join(notes) or None, caption_justify="left")
    for h in headers:
        table.add_column(h, justify="left" if h in ("learner", "experiment") else "right")
    for i, row in enumerate(rows):
        table.add_row(*row, style="dim italic" if i in refs else None)
    return table


def markdown_table(records: list[dict]) -> str:
    """The rows of ``table_rows`` as a GitHub-flavoured markdown table (``table_notes`` go
    under it, in the report)."""
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
