"""Digit-parity data, the MNIST reader, the five models and the ``digits`` task."""

from __future__ import annotations

import gzip
import tomllib
from pathlib import Path

import jax
import numpy as np
import pytest
from sklearn.datasets import load_digits

from paritylab.data import digits as dg
from paritylab.errors import BadInput
from paritylab.lab.config import spec_from_dict
from paritylab.lab.tasks import digits as task
from paritylab.lab.worker import execute
from paritylab.learners import get_learner, learner_key
from paritylab.models import digit_nets as dn

EXPERIMENT = Path(task.__file__).parents[1] / "experiments" / "digit-parity.toml"
TINY = dict(k=2, width=16, epochs=2, batch_size=64, tuples_per_epoch=256, test_tuples=200)
TINY_PROBLEM = {"k", "test_tuples"}


@pytest.fixture(scope="module")
def bundled():
    return dg.load_sklearn_digits()


def test_bundled_split_is_disjoint_stratified_and_scaled(bundled):
    raw = load_digits()
    assert bundled.x_train.shape == (1200, 64) and bundled.x_test.shape == (597, 64)
    assert np.intersect1d(bundled.train_ids, bundled.test_ids).size == 0
    assert np.array_equal(np.union1d(bundled.train_ids, bundled.test_ids), np.arange(1797))
    assert np.array_equal(bundled.y_train, raw.target[bundled.train_ids])
    counts = np.bincount(bundled.y_test, minlength=10) / np.bincount(raw.target, minlength=10)
    assert np.all(np.abs(counts - 597 / 1797) < 0.01)
    expect = (raw.data[bundled.test_ids] / 16.0 - bundled.mean) / bundled.std
    np.testing.assert_allclose(bundled.x_test, expect, rtol=1e-6, atol=1e-6)
    assert abs(bundled.x_train.mean()) < 1e-5 and abs(bundled.x_train.std() - 1.0) < 1e-5
    assert np.array_equal(dg.load_source("digits").x_train, bundled.x_train)  # fixed rule


@pytest.mark.parametrize("k", [1, 3])
def test_tuples_are_images_side_by_side_with_parity_label(bundled, k):
    x, y, idx = dg.draw_tuples(jax.random.key(7), bundled.x_test, bundled.y_test, k=k, count=500)
    x, y, idx = np.asarray(x), np.asarray(y), np.asarray(idx)
    assert x.shape == (500, 64 * k) and y.shape == (500,) and idx.shape == (500, k)
    assert idx.min() >= 0 and idx.max() < 597
    for j in range(k):
        assert np.array_equal(x[:, 64 * j : 64 * (j + 1)], bundled.x_test[idx[:, j]])
    digit_sum = sum(int(d) for d in bundled.y_test[idx[0]])
    assert y[0] == digit_sum % 2
    assert np.array_equal(y, bundled.y_test[idx].sum(axis=1) % 2)
    again = dg.draw_tuples(jax.random.key(7), bundled.x_test, bundled.y_test, k=k, count=500)
    assert np.array_equal(np.asarray(again[2]), idx)


def _idx_bytes(arr: np.ndarray) -> bytes:
    head = bytes((0, 0, 8, arr.ndim)) + np.asarray(arr.shape, ">i4").tobytes()
    return head + arr.astype(np.uint8).tobytes()


def _fake_mnist(rng):
    return (
        rng.integers(0, 256, (12, 5, 5)),
        rng.integers(0, 10, 12),
        rng.integers(0, 256, (6, 5, 5)),
        rng.integers(0, 10, 6),
    )


def _write_idx(folder: Path, arrays, *, gz: bool, sep: str = "-") -> None:
    stems = ("train-images", "train-labels", "t10k-images", "t10k-labels")
    kinds = ("idx3-ubyte", "idx1-ubyte", "idx3-ubyte", "idx1-ubyte")
    for stem, kind, arr in zip(stems, kinds, arrays, strict=True):
        path = folder / f"{stem}{sep}{kind}{'.gz' if gz else ''}"
        data = _idx_bytes(arr)
        path.write_bytes(gzip.compress(data) if gz else data)


def _check_loaded(ds, arrays):
    x_tr, y_tr, x_te, y_te = arrays
    assert ds.name == "mnist" and ds.image_shape == (5, 5) and ds.dim == 25
    assert np.array_equal(ds.y_train, y_tr) and np.array_equal(ds.y_test, y_te)
    np.testing.assert_allclose(ds.x_test * ds.std + ds.mean, x_te.reshape(6, 25) / 255, atol=1e-5)
    assert abs(ds.mean - x_tr.mean() / 255) < 1e-9 and abs(ds.std - x_tr.std() / 255) < 1e-9
    assert np.intersect1d(ds.train_ids, ds.test_ids).size == 0


@pytest.mark.parametrize(("gz", "sep"), [(False, "-"), (True, "-"), (True, ".")])
def test_mnist_reader_idx(tmp_path, gz, sep):
    arrays = _fake_mnist(np.random.default_rng(0))
    _write_idx(tmp_path, arrays, gz=gz, sep=sep)
    _check_loaded(dg.load_source("mnist", tmp_path), arrays)


def test_mnist_reader_npz(tmp_path):
    arrays = _fake_mnist(np.random.default_rng(1))
    arrays = tuple(a.astype(np.uint8) for a in arrays)
    np.savez(tmp_path / "mnist.npz", **dict(zip(dg._NPZ_KEYS, arrays, strict=True)))
    _check_loaded(dg.load_mnist(tmp_path / "mnist.npz"), arrays)
    _check_loaded(dg.load_mnist(tmp_path), arrays)


def test_mnist_missing_or_malformed_files_are_bad_input(tmp_path):
    arrays = _fake_mnist(np.random.default_rng(2))
    with pytest.raises(BadInput, match="does not exist"):
        dg.load_mnist(tmp_path / "nowhere")
    with pytest.raises(BadInput, match="mnist_path is empty"):
        dg.load_source("mnist", "")
    _write_idx(tmp_path, arrays, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(BadInput, match="missing t10k-labels-idx1-ubyte"):
        dg.load_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x03" + bytes(20))
    with pytest.raises(BadInput, match="expected IDX magic 00000801"):
        dg.load_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(arrays[3])[:-2])
    with pytest.raises(BadInput, match="header says shape"):
        dg.load_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(BadInput, match="cannot be read as gzip"):
        dg.load_mnist(tmp_path)
    np.savez(tmp_path / "partial.npz", x_train=arrays[0], y_train=arrays[1])
    with pytest.raises(BadInput, match="missing x_test, y_test"):
        dg.load_mnist(tmp_path / "partial.npz")
    (tmp_path / "mnist.npz").write_bytes(b"garbage")
    with pytest.raises(BadInput, match=r"not a readable \.npz"):
        dg.load_mnist(tmp_path)
    with pytest.raises(BadInput, match="source='mnist' needs"):
        task.DigitParityConfig(source="mnist").check()
    with pytest.raises(BadInput, match="is set but source='digits'"):
        task.DigitParityConfig(mnist_path=str(tmp_path)).check()


def test_model_formulas_and_shared_init():
    key, x = jax.random.key(3), np.random.default_rng(3).normal(size=(7, 10)).astype(np.float32)
    tr, fr = dn.init_model("galu-ntk", key, 10, 6)
    np.testing.assert_array_equal(tr["W"], fr["G"])
    relu_tr, relu_fr = dn.init_model("relu-net", key, 10, 6)
    assert relu_fr == {} and np.array_equal(relu_tr["W"], tr["W"])
    w, b, v, c = (np.asarray(tr[n], np.float64) for n in ("W", "b", "V", "c"))
    rng = np.random.default_rng(4)
    w2 = w + rng.normal(size=w.shape)  # move the linear part away from the gates
    pre, gate = x @ w2.T + b, x @ w.T + b > 0
    expect = (pre * gate) @ v.T + c
    got = dn.apply_model("galu-ntk", {**tr, "W": w2.astype(np.float32)}, fr, x)
    np.testing.assert_allclose(got, expect, rtol=1e-4, atol=1e-4)
    lin_tr, lin_fr = dn.init_model("linear-features", key, 10, 6)
    expect_lin = (x @ np.asarray(lin_fr["W"]).T + lin_fr["b"]) @ np.asarray(lin_tr["V"]).T
    np.testing.assert_allclose(
        dn.apply_model("linear-features", lin_tr, lin_fr, x), expect_lin + lin_tr["c"], atol=1e-5
    )
    gauss_fr = dn.init_model("gaussian-features", key, 10, 6)[1]
    assert np.abs(np.asarray(gauss_fr["W"])).max() > 1 / np.sqrt(10)  # not the uniform init


def test_experiment_file_matches_task():
    spec = tomllib.loads(EXPERIMENT.read_text())
    assert spec["task"] == "digits" and tuple(spec["learners"]) == task.LEARNERS
    for k in spec["sweep"]["k"]:
        task.DigitParityConfig(**{**spec["config"], "k": k}).check()


def _run(config: dict, learner: str, seed: int) -> dict:
    """Metrics, traces and info of one run of ``learner`` on the digits task (the fit time,
    the only entry that varies between identical runs, left out)."""
    spec = spec_from_dict({"task": "digits", "learners": [learner], "seed": seed, "config": config})
    (run,) = spec.runs()
    out = execute(run)
    assert out["status"] == "ok", out["error"]
    out["info"].pop("fit_s")
    return {key: out[key] for key in ("metrics", "traces", "info")}


@pytest.mark.parametrize("learner", task.LEARNERS)
def test_every_model_runs_tiny_and_is_deterministic(learner):
    out = _run(TINY, learner, seed=5)
    assert out["traces"]["epoch"] == [1, 2] and len(out["traces"]["test_acc"]) == 2
    assert all(np.isfinite(v) for v in out["metrics"].values())
    assert 0.0 <= out["metrics"]["test_acc"] <= 1.0
    assert out["info"]["steps_per_epoch"] == 4 and out["info"]["input_dim"] == 128
    assert _run(TINY, learner, seed=5) == out
    other = _run({**TINY, "epochs": 1}, learner, seed=6)
    assert other["traces"]["test_loss"][0] != out["traces"]["test_loss"][0]


@pytest.mark.parametrize("model", ["galu-ntk", "relu-features"])
def test_frozen_layers_stay_at_init(model):
    problem = {k: v for k, v in TINY.items() if k in TINY_PROBLEM}
    data = task.make_data(task.DigitParityConfig(**problem), 8)
    learner = get_learner(model)(**{k: v for k, v in TINY.items() if k not in TINY_PROBLEM})
    fit = learner.fit(data, key=learner_key(8, model))  # TINY shapes: compiled once
    init_tr, init_fr = dn.init_model(model, data.keys["init"], 128, 16)
    for name, value in init_fr.items():
        np.testing.assert_array_equal(fit.state["frozen"][name], value)
    for name, value in init_tr.items():
        assert not np.array_equal(fit.state["trainable"][name], value), name
