"""The tuning protocol: every learner's grid, selection by validation hinge, never the test
set; the kernel ridge path equals one fit per ridge."""

import dataclasses

import jax
import numpy as np
import pytest

from paritylab.data import dm_problem
from paritylab.lab.config import spec_from_dict
from paritylab.learners import LinearRaw, NTKKernel, TrainingData
from paritylab.learners.tuning import grid_points, tune, validation_scores


@pytest.fixture(scope="module")
def data():
    problem = dm_problem(11, np.array([1, 4, 7]))
    k = jax.random.split(jax.random.key(0), 3)
    return TrainingData(
        problem,
        problem.sample(k[0], 600),
        problem.sample(k[1], 600),
        validation=problem.sample(k[2], 400),
    )


def test_selection_is_the_smallest_validation_hinge(data, monkeypatch):
    monkeypatch.setattr(LinearRaw, "TUNING_GRID", {"lr": (0.001, 0.03), "l2": (0.0, 0.1)})
    fit = tune(LinearRaw(steps=100), data, key=jax.random.key(1))
    table = fit.info["tuning"]
    assert len(table) == 4 and [set(r) >= {"lr", "l2", "val_hinge"} for r in table]
    best = min(table, key=lambda r: r["val_hinge"])
    assert fit.info["selected"] == {"l2": best["l2"], "lr": best["lr"]}
    assert fit.metrics["val_hinge"] == best["val_hinge"]
    # The selected fit is the one refitted with the selected settings (same key).
    again = dataclasses.replace(LinearRaw(steps=100), **fit.info["selected"]).fit(
        data, key=jax.random.key(1)
    )
    assert validation_scores(again, data)["val_hinge"] == pytest.approx(best["val_hinge"])


def test_the_test_set_plays_no_part(data):
    """Replacing the test sample changes nothing that tuning selects."""
    other = dataclasses.replace(data, test=data.validation)
    a = tune(LinearRaw(steps=100), data, key=jax.random.key(2))
    b = tune(LinearRaw(steps=100), other, key=jax.random.key(2))
    assert a.info["selected"] == b.info["selected"]
    assert a.info["tuning"] == b.info["tuning"]


def test_kernel_ridge_path_equals_one_fit_per_ridge(data):
    learner = NTKKernel()
    points = [{"ridge": r} for r in (0.1, 1.0, 10.0)]
    path = learner.fit_grid(data, key=None, points=points)
    for p, fit in zip(points, path, strict=True):
        single = dataclasses.replace(learner, **p).fit(data, key=None)
        np.testing.assert_allclose(fit.predict(data.test.x), single.predict(data.test.x))
        assert fit.metrics["weight_norm"] == pytest.approx(single.metrics["weight_norm"])


def test_every_tunable_learner_declares_a_grid():
    from paritylab.learners import BUILTIN_LEARNERS

    for cls in BUILTIN_LEARNERS:
        if cls.reads == "sample":
            assert grid_points(cls.TUNING_GRID), cls.name
            fields = {f.name for f in dataclasses.fields(cls)}
            assert set(cls.TUNING_GRID) <= fields, cls.name


def test_tuned_runs_store_the_selection_and_a_grid_change_changes_their_ids(monkeypatch):
    from paritylab.lab.worker import execute

    config = {"n": 11, "k": 3, "n_train": 600, "n_test": 600, "n_val": 300, "tune": True}
    spec = spec_from_dict({"task": "dm", "learners": ["linear-raw"], "config": config})
    run = spec.runs()[0]
    tuned_id = run.run_id
    out = execute(run)
    assert out["status"] == "ok", out["error"]
    assert set(out["info"]["selected"]) == set(LinearRaw.TUNING_GRID)
    assert "val_hinge" in out["metrics"]
    monkeypatch.setattr(LinearRaw, "TUNING_GRID", {"lr": (0.01,)})
    assert spec.runs()[0].run_id != tuned_id
    untuned = spec_from_dict({"task": "dm", "learners": ["linear-raw"], "config": {"n": 11}})
    before = untuned.runs()[0].run_id
    monkeypatch.setattr(LinearRaw, "TUNING_GRID", {"lr": (0.02,)})
    assert untuned.runs()[0].run_id == before  # untuned runs do not depend on the grid


def test_tune_needs_a_validation_split():
    from paritylab.errors import BadInput

    with pytest.raises(BadInput, match="n_val"):
        spec_from_dict({"task": "dm", "config": {"tune": True}})


def test_the_dm_task_draws_validation_apart_from_train_and_test():
    """The validation sample of the dm task shares no stream with the training or test sample
    (an earlier key derivation replayed the first training rows as validation). At n = 30 with
    the easy part's 5 bits fixed, two independent rows coincide with probability <= 2^-25, so
    any shared row among these 600 x 2,000 pairs points at a shared stream."""
    from paritylab.lab.tasks import dm

    config = dm.CONFIG(n=30, k=5, n_train=2000, n_test=2000, n_val=600)
    data = dm.make_data(config, 0)
    val = {tuple(r) for r in np.asarray(data.validation.x).tolist()}
    for other in (data.train, data.test):
        rows = {tuple(r) for r in np.asarray(other.x).tolist()}
        assert len(val & rows) == 0
    # Train and test do not depend on n_val (stored runs keep their samples).
    plain = dm.make_data(dm.CONFIG(n=30, k=5, n_train=2000, n_test=2000), 0)
    np.testing.assert_array_equal(np.asarray(plain.train.x), np.asarray(data.train.x))
    np.testing.assert_array_equal(np.asarray(plain.test.x), np.asarray(data.test.x))
