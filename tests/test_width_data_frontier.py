"""The width x data frontier: the SQ lower bound of Edelman et al. against hand-computed
values, the per-cell table (censoring, Wilson intervals), the report section, and success
growing with width at a fixed number of samples in a small real sweep."""

import math

import pytest

from paritylab.errors import BadInput
from paritylab.lab.pareto import applies, cell_table, section
from paritylab.theory.frontier import guarantees_failure, min_steps, network_parameters
from paritylab.theory.intervals import wilson_interval
from tests.helpers import cli, sets


def test_min_steps_is_the_proposition_solved_for_t():
    r = network_parameters(50, 10)
    assert r == 10 * 52 and network_parameters(50, 10, output_bias=True) == 521
    tau = 1 / math.sqrt(32)
    t_min = min_steps(50, 3, r, tau=tau, delta=0.5)
    assert t_min == pytest.approx(tau**2 * 0.5 * 19600 / (2 * 520), rel=1e-12)  # 0.2945
    # r T / (tau^2 delta) <= C(n, k)/2 holds exactly up to T_min, not beyond.
    big = min_steps(300, 4, 1, tau=1.0, delta=1.0)
    assert big == math.comb(300, 4) / 2
    assert guarantees_failure(300, 4, 1, int(big), tau=1.0, delta=1.0)
    assert not guarantees_failure(300, 4, 1, int(big) + 1, tau=1.0, delta=1.0)
    with pytest.raises(BadInput):
        min_steps(3, 4, 10, tau=0.1)
    with pytest.raises(BadInput):
        min_steps(10, 2, 10, tau=0.0)


def _record(width, m, seed, t_c, status="ok", init="sparse"):
    return {
        "learner": "sgd-online",
        "seed": seed,
        "status": status,
        "config": {
            "n": 20,
            "k": 3,
            "batch_size": 32,
            "width": width,
            "train_samples": m,
            "init": init,
            "max_steps": 1000,
        },
        "metrics": {"t_c": t_c, "success": t_c is not None},
    }


def test_cell_table_counts_censored_failed_and_diverged_runs_as_failures():
    records = [
        _record(10, 100, 0, 200),
        _record(10, 100, 1, None),
        _record(10, 100, 2, 300, status="failed"),
        _record(10, 100, 3, 400, status="diverged"),
        _record(30, 100, 0, 100),
        _record(30, 100, 1, 300),
        _record(30, 100, 2, 500),
    ]
    rows = cell_table(records)
    assert [(r["width"], r["successes"], r["seeds"]) for r in rows] == [(10, 1, 4), (30, 3, 3)]
    assert (rows[0]["low"], rows[0]["high"]) == wilson_interval(1, 4)
    assert rows[0]["median_t_c"] is None  # 3 of 4 never succeed: censored
    assert rows[1]["median_t_c"] == 300.0
    assert rows[0]["t_c"] == [200, None, None, None]


def test_section_tables_one_panel_per_init(tmp_path):
    records = [
        _record(q, m, s, 100 * q if m > 100 else None, init=init)
        for init in ("sparse", "uniform")
        for q in (10, 30)
        for m in (100, 300)
        for s in range(2)
    ]
    assert applies(records)
    assert not applies([r for r in records if r["config"]["width"] == 10])
    lines, paths = section(records, tmp_path, "f")
    text = "\n".join(lines)
    assert "**init=sparse**: success" in text and "**init=uniform**: success" in text
    assert "| 10 | 0/2 [0.00, 0.66] | 2/2 [0.34, 1.00] |" in text
    assert "| 30 | >= 1,000 | 3,000 |" in text
    assert all(p.exists() and p.with_suffix(".pdf").exists() for p in paths) and len(paths) == 2


def test_success_grows_with_width_at_fixed_samples(tmp_path):
    """n = 20, k = 3, m = 400 samples, T = 4,000 steps, sparse init, seeds 0-7: measured
    2/8 successes at width 4 (Wilson 95% [0.07, 0.59]) and 8/8 at width 256 ([0.68, 1.00]; t_c
    800-3,000). The runs are deterministic; the assertion is the interval statement: the wide
    cell's interval lies above the narrow one's."""
    out = tmp_path / "out"
    res = cli(
        "reproduce",
        "frontier",
        "--out",
        str(out),
        "--seeds",
        "8",
        "--quiet",
        *sets(
            [
                "n=20",
                "max_steps=4000",
                "eval_every=100",
                "eval_size=1024",
                "init=sparse",
                "sweep.width=[4, 256]",
                "sweep.train_samples=[400]",
            ]
        ),
    )
    assert res.returncode == 0, res.stderr
    from paritylab.lab.store import Store

    with Store(out, create=False) as store:
        rows = {r["width"]: r for r in cell_table(store.records())}
    narrow, wide = rows[4], rows[256]
    assert wide["high"] >= wide["low"] > narrow["high"], (narrow, wide)
