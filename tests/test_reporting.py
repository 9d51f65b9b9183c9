"""Tables, figures and report.md of stored runs, built from hand-made records."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from types import SimpleNamespace

import matplotlib.text
import numpy as np
import pytest

from paritylab.lab import figures, tables
from paritylab.lab.report import scaling_section, write_report
from paritylab.lab.store import Store
from paritylab.lab.tables import results_table, table_rows
from paritylab.lab.tasks import digits, dm, online
from paritylab.theory import linear_threshold_reference


def rec(
    learner="sgd-online",
    seed=0,
    *,
    point=None,
    config=None,
    metrics=None,
    status="ok",
    info=None,
    traces=None,
    task="online",
    experiment="exp",
):
    point = point or {}
    config = {**(config or {}), **point}
    return {
        "run_id": f"{experiment}/{learner}/{seed}/{json.dumps(config, sort_keys=True)}",
        "experiment": experiment,
        "task": task,
        "learner": learner,
        "seed": seed,
        "status": status,
        "point": point,
        "config": config,
        "metrics": metrics if metrics is not None else {},
        "info": info or {},
        "traces": traces or {},
        "error": None if status == "ok" else f"{status} here",
        "wall_s": 1.0,
        "versions": {},
    }


def sgd(seed, t_c, *, cap=5000, status="ok", point=None, config=None, traces=None, **metrics):
    m = {"success": t_c is not None, "t_c": t_c, "steps": t_c or cap, "test_acc": 1.0}
    config = {"n": 50, "k": 3, "max_steps": cap, **(config or {})}
    return rec(
        seed=seed,
        point=point,
        config=config,
        metrics={**m, **metrics},
        info={"step_cap": cap},
        status=status,
        traces=traces,
    )


def five_runs(point=None):
    """2 successes, 1 censored at the cap, 1 diverged, 1 failed."""
    return [
        sgd(0, 1000, point=point),
        sgd(1, 2000, point=point),
        sgd(2, None, point=point),
        sgd(3, None, status="diverged", point=point, test_acc=None),
        rec(seed=4, point=point, config={"n": 50, "k": 3, "max_steps": 5000}, status="failed"),
    ]


def cell(headers, row, name):
    return row[headers.index(name)]


@pytest.fixture
def captured(monkeypatch):
    """Every figure the report code saves, by PNG file name (still inspectable after close)."""
    figs = {}
    save = figures._save

    def spy(fig, path):
        figs[Path(path).name] = fig
        return save(fig, path)

    monkeypatch.setattr(figures, "_save", spy)
    return figs


def axes_by_ylabel(fig, start):
    return [ax for ax in fig.axes if ax.get_ylabel().startswith(start)]


# 1 and 8: time to success is a censored median; every run counts in the success fraction


def test_tc_cell_is_a_censored_median_and_failures_never_drop_out():
    headers, rows, _ = table_rows(five_runs())
    (row,) = rows
    assert cell(headers, row, "success") == "2/5 [0.12, 0.77]"
    assert cell(headers, row, "t_c (steps)") == ">= 5,000"  # 3 of 5 never succeeded
    seeds = cell(headers, row, "seeds")
    assert seeds.startswith("5") and "1 diverged" in seeds and "1 failed" in seeds
    assert "1,500" not in " ".join(row)  # the old mean over the two successes

    runs = [sgd(0, 1000), sgd(1, 2000), sgd(2, 3000), sgd(3, None), five_runs()[3]]
    headers, (row,), _ = table_rows(runs)
    assert cell(headers, row, "t_c (steps)") == "3,000"  # median with None as +inf
    assert cell(headers, row, "success") == "3/5 [0.23, 0.88]"


def _store(directory: Path, records: list[dict]) -> None:
    with Store(directory) as store:
        for r in records:
            run = SimpleNamespace(
                run_id=r["run_id"],
                experiment=r["experiment"],
                task=r["task"],
                learner=r["learner"],
                seed=r["seed"],
                point=r["point"],
                config_dict=r["config"],
            )
            store.write(run, r)


def test_report_table_counts_failed_and_diverged_runs(tmp_path):
    _store(tmp_path, five_runs())
    text = write_report(tmp_path).read_text()
    assert "2/5 [0.12, 0.77]" in text and ">= 5,000" in text
    assert "Runs: 5 (3 ok, 1 failed, 1 diverged)" in text
    for png in (line.split("](")[1].rstrip(")") for line in text.splitlines() if "![" in line):
        assert png.endswith(".png") and (tmp_path / png).exists()


# 2: Wilson intervals for success fractions


@pytest.mark.parametrize("k,n", [(0, 5), (2, 5), (5, 5), (1, 1), (7, 20), (50, 100), (0, 1)])
@pytest.mark.parametrize("level", [0.95, 0.9])
def test_wilson_interval_matches_scipy(k, n, level):
    from scipy.stats import binomtest

    from paritylab.theory.intervals import wilson_interval

    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    assert wilson_interval(k, n, level) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_success_band_in_sweep_figure_is_wilson_inside_unit_interval(tmp_path, captured):
    from paritylab.theory.intervals import wilson_interval

    records = [
        sgd(s, 100 if ok else None, point={"n": n})
        for n, outcomes in ((10, (1, 0, 0)), (20, (1, 1, 0)))
        for s, ok in enumerate(outcomes)
    ]
    figures.sweep_figures(records, tmp_path, "x")
    (fig,) = captured.values()
    (ax,) = axes_by_ylabel(fig, "success")
    (band,) = ax.collections[:1]
    ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
    assert ys.min() >= 0 and ys.max() <= 1
    lo, hi = zip(wilson_interval(1, 3), wilson_interval(2, 3), strict=True)
    assert ys.min() == pytest.approx(min(lo)) and ys.max() == pytest.approx(max(hi))


# 3: SGD steps and GF(2) samples are never on one axis, nor in one fit


def _scaling_records():
    out = []
    for n in (10, 20, 40):
        for s in range(3):
            out.append(sgd(s, n * n * (1 + 0.01 * s), point={"n": n, "k": 2}, cap=10**6))
            out.append(
                rec(
                    "gf2-oracle",
                    s,
                    point={"n": n, "k": 2},
                    config={"trials": 1000},
                    metrics={"success": True, "t_c": 3 * n, "samples": 3 * n, "test_acc": 1.0},
                )
            )
    return out


def test_scaling_has_one_section_per_learner_with_its_unit(tmp_path):
    lines, paths = scaling_section(_scaling_records(), tmp_path, "ps")
    text = "\n".join(lines)
    heads = [line for line in lines if line.startswith("###")]
    assert len(heads) == 2 and len(paths) == 2 and len(set(paths)) == 2
    sgd_part, gf2_part = (text.split(h)[1].split("###")[0] for h in heads)
    assert "sgd-online" in heads[0] and "steps" in heads[0]
    assert "gf2-oracle" in heads[1] and "samples" in heads[1]
    assert "| 2 | 2.00 |" in sgd_part  # t_c = n^2 for SGD
    assert "| 2 | 1.00 |" in gf2_part  # t_c = 3n for GF(2)


def test_scaling_splits_settings_at_fixed_n_but_follows_a_cap_grown_with_n(tmp_path):
    records = [
        sgd(s, n**e, point={"n": n, "k": 2, "width": w}, cap=100 * n**3)
        for w, e in ((100, 2), (1000, 1))
        for n in (10, 20, 40)
        for s in range(3)
    ]
    lines, paths = scaling_section(records, tmp_path, "ps")
    heads = [line for line in lines if line.startswith("###")]
    assert heads == [
        "### Time to success: sgd-online (steps), width=100",
        "### Time to success: sgd-online (steps), width=1000",
    ]
    assert len(set(paths)) == 2
    text = "\n".join(lines)
    assert "| 2 | 2.00 |" in text.split(heads[1])[0] and "| 2 | 1.00 |" in text.split(heads[1])[1]


def test_sweep_tc_panels_never_mix_steps_and_samples(tmp_path, captured):
    online.report(_scaling_records(), tmp_path, "ps")
    sweeps = [f for name, f in captured.items() if "-vs-" in name and "tc-vs-n" not in name]
    tc_axes = [ax for f in sweeps for ax in axes_by_ylabel(f, "t_c")]
    assert len(tc_axes) == 2
    for ax in tc_axes:
        learners = {
            name
            for line in ax.get_lines()
            for name in ("sgd-online", "gf2-oracle")
            if name in line.get_label()
        }
        assert len(learners) == 1, learners
        unit = "steps" if learners == {"sgd-online"} else "samples"
        assert unit in ax.get_ylabel()


# 4: one reference line per k, or none


def _dm_records():
    out = []
    for k in (3, 5):
        for m in (100, 200, 400):
            for s in range(2):
                out.append(
                    rec(
                        "two-phase",
                        s,
                        point={"k": k, "n_train": m},
                        config={"n": 20, "easy_fraction": 0.5},
                        task="dm",
                        metrics={
                            "test_acc_uniform": 0.5 + m / 1000 + s / 100,
                            "test_acc": 0.8 + m / 2000,
                        },
                    )
                )
    return out


def test_multi_k_sweep_draws_one_reference_per_k(tmp_path, captured):
    records = _dm_records()
    figures.sweep_figures(
        records, tmp_path, "dm", reference={"test_acc_uniform": dm.reference_curve}
    )
    vs_m = captured["dm-vs-n_train.png"]
    (ax,) = axes_by_ylabel(vs_m, "test_acc_uniform")
    refs = [line for line in ax.get_lines() if line.get_label().startswith("reference")]
    assert len(refs) == 2
    data = {line.get_label(): line for line in ax.get_lines() if "two-phase" in line.get_label()}
    for k in (3, 5):
        (ref,) = [line for line in refs if f"k={k}" in line.get_label()]
        assert set(ref.get_ydata()) == {linear_threshold_reference(k)["uniform"]}
        (line,) = [line for label, line in data.items() if f"k={k}" in label]
        assert ref.get_color() == line.get_color()
    (ax,) = axes_by_ylabel(captured["dm-vs-k.png"], "test_acc_uniform")
    (ref,) = [line for line in ax.get_lines() if line.get_label().startswith("reference")]
    assert list(ref.get_xdata()) == [3, 5]


def test_single_k_sweep_draws_one_reference(tmp_path, captured):
    records = [r for r in _dm_records() if r["point"]["k"] == 3]
    for r in records:
        r["point"].pop("k")
    figures.sweep_figures(
        records, tmp_path, "dm", reference={"test_acc_uniform": dm.reference_curve}
    )
    (ax,) = axes_by_ylabel(captured["dm-vs-n_train.png"], "test_acc_uniform")
    refs = [line for line in ax.get_lines() if line.get_label().startswith("reference")]
    assert len(refs) == 1 and set(refs[0].get_ydata()) == {linear_threshold_reference(3)["uniform"]}


# 5: training curves show every seed to its own end


def _traced(seed, last, width=100):
    steps = list(range(0, last + 1, 100))
    drop = last - 200  # each run drops suddenly 200 steps before its end
    loss = [1.0 if s < drop else 1e-3 for s in steps]
    return sgd(
        seed,
        last,
        point={"width": width},
        traces={"step": steps, "test_loss": loss, "test_acc": [0.5] * len(steps)},
    )


def test_median_over_alive_runs():
    xs, med, alive = figures.median_alive([([0, 1, 2], [1, 2, 3]), ([0, 1], [3, 4]), ([0], [5])])
    assert list(xs) == [0, 1, 2] and list(alive) == [3, 2, 1]
    assert list(med) == [3.0, 3.0, 3.0]


def test_training_curves_reach_the_longest_run(tmp_path, captured):
    records = [_traced(0, 500), _traced(1, 1000), _traced(2, 3000)]
    figures.training_curves(records, tmp_path, "hp")
    (fig,) = captured.values()
    (ax,) = axes_by_ylabel(fig, "test_loss")
    assert max(max(line.get_xdata()) for line in ax.get_lines()) == 3000
    (median,) = [line for line in ax.get_lines() if "median" in line.get_label()]
    assert median.get_xdata()[-1] == 3000 and median.get_ydata()[-1] == 1e-3
    assert "3" in median.get_label() and "1" in median.get_label()  # alive 3 -> 1
    thin = [line for line in ax.get_lines() if line is not median and line.get_xdata().size > 1]
    assert sorted(line.get_xdata()[-1] for line in thin) == [500, 1000, 3000]


# 6: the test-set maximum over epochs is not a score


def test_digits_max_over_epochs_is_not_a_table_score():
    names = [name for name, _ in digits.TABLE_COLUMNS] + [lab for _, lab in digits.TABLE_COLUMNS]
    assert not any("best" in n or "max" in n for n in names)
    images = SimpleNamespace(
        name="d", y_train=[0], y_test=[0], image_shape=(8, 8), dim=64, mean=0.0, std=1.0
    )
    data = SimpleNamespace(problem=SimpleNamespace(images=images))
    fit = SimpleNamespace(traces={"test_acc": [0.5, 0.9, 0.8]})
    metrics = digits.evaluate(SimpleNamespace(k=1), data, fit)["metrics"]
    assert metrics == {"max_test_acc_over_epochs": 0.9}
    assert "max_test_acc_over_epochs" in digits.__doc__ and "test set" in digits.__doc__


# 7: figures a paper can use


def test_figures_are_one_column_wide_wrapped_and_saved_as_pdf_svg(tmp_path, captured):
    records = []
    for width, base in ((100, 3000), (1000, 2000)):
        for s in range(3):
            r = _traced(s, base + 100 * s, width)
            names = ("fourier_coef", "support_mass", "test_hinge", "train_loss", "w_change_inf")
            for i, name in enumerate(names):
                r["traces"][name] = [float(i + j) for j in range(len(r["traces"]["step"]))]
            r["metrics"]["test_hinge"] = 0.01 * s + width / 1e5
            records.append(r)
    _, paths = online.report(records, tmp_path, "hp")
    assert paths and len(captured) == len(paths)
    for png in paths:
        for ext in (".pdf", ".svg"):
            assert png.with_suffix(ext).exists()
        width_px = struct.unpack(">II", png.read_bytes()[16:24])[0]
        fig = captured[png.name]
        assert fig.get_size_inches()[0] <= 7.0 + 1e-9 and width_px <= 7.2 * figures.DPI
        for ax in fig.axes:
            assert ax.get_subplotspec().get_geometry()[1] <= 3
        for text in fig.findobj(matplotlib.text.Text):
            if text.get_visible() and text.get_text():
                assert text.get_fontsize() >= 7, (png.name, text.get_text())
    sweep = captured["hp-vs-width.png"]
    labels = [ax.get_ylabel() for ax in sweep.axes]
    assert "test_acc" not in labels and not any(la.startswith("success") for la in labels)
    assert any(la.startswith("test_hinge") for la in labels)
    curves = captured["hp-curves.png"]
    names = [ax.get_ylabel() for ax in curves.axes]
    assert len(names) == 6 and "w_change_inf" in names  # the 7th trace, dropped before
    assert "test_acc" not in names  # constant trace: no panel
    assert {ax.get_subplotspec().get_geometry()[:2] for ax in curves.axes} == {(2, 3)}


# 9: different settings never pool into one row


def test_table_groups_by_full_config():
    records = [sgd(s, 100 * (s + 1), config={"n": n}) for n in (20, 30) for s in range(2)]
    headers, rows, _ = table_rows(records)
    assert len(rows) == 2 and "n" in headers
    assert sorted(cell(headers, r, "n") for r in rows) == ["20", "30"]
    assert [cell(headers, r, "seeds") for r in rows] == ["2", "2"]


# joint-sgd said plainly under the D&M table


def _joint(seed, train_acc, unif):
    config = {
        "n": 20,
        "k": 3,
        "easy_fraction": 0.5,
        "optimizer": "sgd",
        "lr": 0.5,
        "steps": 10000,
        "batch_size": 64,
        "width": 512,
        "init": "gaussian",
    }
    return rec(
        "joint-sgd",
        seed,
        config=config,
        task="dm",
        metrics={"train_acc": train_acc, "test_acc_uniform": unif, "test_acc": 0.8},
    )


def test_dm_table_notes_state_joint_sgd_settings_and_what_records_show(tmp_path):
    two_phase = rec(
        "two-phase",
        0,
        config={"n": 20, "k": 3, "easy_fraction": 0.5},
        task="dm",
        metrics={"test_acc_uniform": 1.0, "test_acc": 1.0},
    )
    records = [_joint(0, 1.0, 0.62), _joint(1, 0.99, 0.58), two_phase]
    notes = tables.table_notes(records)
    text = " ".join(notes)
    assert "optimizer=sgd" in text and "lr=0.5" in text and "steps=10000" in text
    assert "batch_size=64" in text and "width=512" in text and "init=gaussian" in text
    assert (
        "joint-sgd (both layers trained by minibatch SGD on the same sample) partly learns the "
        "uniform part and fits the training set: compare its train_acc (0.995) with "
        "test_acc_uniform (0.600)." in text
    )
    assert results_table(records).caption and "train_acc (0.995)" in str(
        results_table(records).caption
    )
    assert tables.table_notes([two_phase]) == []
    chance = " ".join(tables.table_notes([_joint(0, 0.7, 0.5), _joint(1, 0.72, 0.51)]))
    assert "partly learns" not in chance and "fits the training set" not in chance
    assert "train_acc (0.710)" in chance and "test_acc_uniform (0.505)" in chance

    _store(tmp_path, records)
    report = write_report(tmp_path).read_text()
    table_end = report.index("| two-phase")
    assert "train_acc (0.995)" in report[table_end:]
