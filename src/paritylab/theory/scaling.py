"""Scaling of the time to success t_c with the input dimension n, censored runs included.

Barak et al. (2022, "Hidden progress in deep learning") find that online SGD on a k-sparse
parity succeeds after t_c ~ n^(alpha k) steps. We estimate the exponent beta = alpha k per k by
ordinary least squares of log t_c on log n, over the per-(n, k) medians across seeds:

    log median_t_c(n, k) = beta_k log n + c_k.

Censoring. A run that hits the step cap has t_c = None: we only know t_c > cap. Dropping such
runs would bias the median down exactly where learning is slowest. Treating a censored run as
t_c = +inf is exact for the median as long as more than half of the seeds succeeded (the median
is then an order statistic below every censored value). So:

* the median of a cell is *defined* iff successes > seeds / 2 (np.median with +inf for the
  censored runs, both middle values finite for an even count);
* otherwise the cell is reported as censored, with the lower bound median >= cap (the smallest
  cap among its censored runs), and left out of the fit; the table says so.

Interval. A nonparametric bootstrap over seeds: resample each cell's runs with replacement,
recompute the censored medians of the cells in the fit, refit; the (1 - level)/2 and
(1 + level)/2 percentiles of the refitted slopes give the interval. A replicate in which a fitted
cell's median becomes undefined is discarded and counted: ``boot_valid_frac`` < 1 means the
interval understates the upper end.

Input records are plain dicts {"n", "k", "seed", "t_c"} (t_c None when censored) with an
optional "cap" (the run's step cap), as stored by the lab; everything here is pure numpy.

Groups. Cells and fits are keyed by k by default; ``by="target"`` (any key the records carry,
e.g. a target's label when several targets of the same k are compared) fits one exponent per
value of that key instead.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from paritylab.errors import BadInput


def censored_median(t_c) -> float | None:
    """Median of the times with None read as +inf; None unless more than half are finite."""
    t = np.array([np.inf if v is None else float(v) for v in t_c], dtype=np.float64)
    if t.size == 0 or np.count_nonzero(np.isfinite(t)) * 2 <= t.size:
        return None
    return float(np.median(t))


def fit_loglog(n, t) -> tuple[float, float]:
    """OLS fit of log t = slope log n + intercept; returns (slope, intercept)."""
    x, y = np.log(np.asarray(n, np.float64)), np.log(np.asarray(t, np.float64))
    if x.size < 2 or np.ptp(x) == 0:
        raise BadInput("a log-log fit needs at least two distinct n values")
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


def _cells(records, by: str = "k") -> dict[tuple, list[dict]]:
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for rec in records:
        for key in ("n", by, "t_c"):
            if key not in rec:
                raise BadInput(f"scaling record {rec!r} lacks the key {key!r}")
        group = int(rec[by]) if by == "k" else rec[by]
        cells[(int(rec["n"]), group)].append(rec)
    return dict(sorted(cells.items(), key=lambda item: (item[0][0], *_order(item[0][1]))))


def _order(group) -> tuple:
    """Sort key of a group value: numbers numerically, anything else as text after them."""
    return (0, group, "") if isinstance(group, int | float) else (1, 0, str(group))


def scaling_table(records, *, by: str = "k") -> list[dict]:
    """One row per (n, k) (or (n, value of ``by``)): seeds, successes, success_frac,
    median_t_c (None when censored), censored (bool), median_lower_bound (cap, for censored
    cells where caps are known) and the quartiles q25/q75 of t_c where defined the same way
    (None otherwise)."""
    rows = []
    for (n, k), runs in _cells(records, by).items():
        t_c = [r["t_c"] for r in runs]
        t = np.array([np.inf if v is None else float(v) for v in t_c])
        successes = int(np.count_nonzero(np.isfinite(t)))
        median = censored_median(t_c)
        caps = [r["cap"] for r in runs if r["t_c"] is None and r.get("cap") is not None]
        quart = {}
        for name, q in (("t_c_q25", 25), ("t_c_q75", 75)):
            v = float(np.percentile(t, q, method="inverted_cdf"))
            quart[name] = v if np.isfinite(v) else None
        rows.append(
            {
                "n": n,
                by: k,
                "seeds": len(runs),
                "successes": successes,
                "success_frac": successes / len(runs),
                "median_t_c": median,
                "censored": median is None,
                "median_lower_bound": (float(min(caps)) if caps else None)
                if median is None
                else None,
                **quart,
            }
        )
    return rows


def fit_exponents(
    records, *, n_boot: int = 2000, level: float = 0.95, seed: int = 0, by: str = "k"
) -> list[dict]:
    """Per k (or per value of ``by``): exponent beta (slope of log median t_c on log n),
    alpha = beta / k (None unless grouped by k), intercept, a bootstrap ``level`` interval
    (ci_low, ci_high), the n values fitted and those left out as censored. beta is None when
    fewer than two n have a defined median."""
    if not 0 < level < 1:
        raise BadInput(f"level={level!r} is out of range: allowed 0 < level < 1")
    rng = np.random.default_rng(seed)
    groups: dict[object, list[tuple[int, list]]] = defaultdict(list)
    for (n, k), runs in _cells(records, by).items():
        groups[k].append((n, [r["t_c"] for r in runs]))
    out = []
    for k, cells in sorted(groups.items(), key=lambda item: _order(item[0])):
        medians = [(n, censored_median(t)) for n, t in cells]
        fitted = [(n, m) for n, m in medians if m is not None]
        row = {
            by: k,
            "n_fitted": [n for n, _ in fitted],
            "n_censored": [n for n, m in medians if m is None],
            "exponent": None,
            "alpha": None,
            "intercept": None,
            "ci_low": None,
            "ci_high": None,
            "boot_valid_frac": None,
        }
        if len({n for n, _ in fitted}) >= 2:
            slope, intercept = fit_loglog(*zip(*fitted, strict=True))
            row.update(exponent=slope, alpha=slope / k if by == "k" else None, intercept=intercept)
            fit_cells = [(n, t) for n, t in cells if n in set(row["n_fitted"])]
            slopes = _bootstrap(fit_cells, n_boot, rng)
            row["boot_valid_frac"] = slopes.size / n_boot if n_boot else None
            if slopes.size:
                lo, hi = np.percentile(slopes, [50 * (1 - level), 50 * (1 + level)])
                row.update(ci_low=float(lo), ci_high=float(hi))
        out.append(row)
    return out


def _bootstrap(cells, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    slopes = []
    for _ in range(n_boot):
        pts = []
        for n, t_c in cells:
            sample = [t_c[i] for i in rng.integers(0, len(t_c), len(t_c))]
            median = censored_median(sample)
            if median is None:
                break
            pts.append((n, median))
        else:
            slopes.append(fit_loglog(*zip(*pts, strict=True))[0])
    return np.asarray(slopes, np.float64)
