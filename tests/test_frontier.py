"""The frontier figure and table of linear methods against N / C(n, k) (paritylab.lab.frontier)."""

import math

import pytest

from paritylab.lab import frontier


def _record(learner, n, k, seed, n_feat=None, acc=0.5, hinge=1.0, norm=2.0, energy=100.0):
    metrics = {"test_acc_uniform": acc, "test_hinge_uniform": hinge}
    if n_feat is not None:
        metrics |= {"num_features": n_feat, "weight_norm": norm, "feature_energy": energy}
    return {
        "learner": learner,
        "status": "ok",
        "seed": seed,
        "config": {"n": n, "k": k},
        "point": {},
        "metrics": metrics,
    }


def test_rows_bound_and_figure(tmp_path):
    records = [
        _record("random-features", 20, 3, s, n_feat=q, acc=0.5 + q / 1e4, norm=1.0 + s)
        for q in (64, 1024)
        for s in (0, 1)
    ]
    records += [_record("two-phase", 20, 3, s, acc=1.0, hinge=0.0) for s in (0, 1)]
    rows = frontier.frontier_rows(records)
    rf = [w for w in rows if w["learner"] == "random-features"]
    assert [w["N"] for w in rf] == [64, 1024]
    assert rf[0]["ratio"] == pytest.approx(64 / 1140)
    assert rf[0]["B"] == pytest.approx(1.5) and rf[0]["seeds"] == 2
    # the mean over seeds of max(0, 1 - B sqrt(E / C)) with B = 1 and 2
    expected = sum(max(0.0, 1 - b * math.sqrt(100 / 1140)) for b in (1.0, 2.0)) / 2
    assert rf[0]["bound_hinge"] == pytest.approx(expected)
    flat = [w for w in rows if w["learner"] == "two-phase"]
    assert flat[0]["N"] is None and flat[0]["acc_uniform"] == 1.0
    lines, paths = frontier.frontier_section(records, tmp_path, "x")
    assert paths == [tmp_path / "x-frontier.png"]
    assert paths[0].is_file() and (tmp_path / "x-frontier.pdf").is_file()
    assert any("random-features" in line for line in lines)


def test_no_figure_when_each_learner_has_one_feature_count(tmp_path):
    records = [
        _record("random-features", 50, 5, 0, n_feat=512),
        _record("ntk-linearised", 50, 5, 0, n_feat=512 * 52),
        _record("two-phase", 50, 5, 0),
    ]
    assert not frontier.spans_several_ratios(records)
    assert frontier.frontier_section(records, tmp_path, "x") == ([], [])
    assert not list(tmp_path.iterdir())
    records.append(_record("random-features", 50, 5, 0, n_feat=4096))
    lines, paths = frontier.frontier_section(records, tmp_path, "x")
    assert paths and lines
