"""Run identity and store layouts: ids hash exactly what determines a run; stores written by
the previous layout (schema 1) still load, and running into one is refused plainly."""

import dataclasses
import json
import sqlite3

from paritylab.lab.config import spec_from_dict
from paritylab.lab.store import Store, versions
from tests.helpers import TINY_DM, cli, sets

V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE experiments (name TEXT PRIMARY KEY, spec TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, experiment TEXT NOT NULL, task TEXT NOT NULL,
    learner TEXT NOT NULL, seed INTEGER NOT NULL, point TEXT NOT NULL, config TEXT NOT NULL,
    status TEXT NOT NULL, metrics TEXT NOT NULL, traces TEXT NOT NULL, info TEXT NOT NULL,
    error TEXT, wall_s REAL NOT NULL, finished REAL NOT NULL, versions TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
"""


def _v1_store(path):
    path.mkdir()
    db = sqlite3.connect(path / "results.sqlite")
    db.executescript(V1_SCHEMA)
    config = {"n": 50, "k": 5, "width": 512, "easy_fraction": 0.5, "linear": {"steps": 1000}}
    metrics = {"test_acc": 0.76, "test_acc_uniform": 0.53, "test_hinge": 0.55}
    row = (
        "a" * 16,
        "dm-separation",
        "dm",
        "random-features",
        0,
        "{}",
        json.dumps(config),
        "ok",
        json.dumps(metrics),
        json.dumps({"step": [1], "train_loss": [0.5]}),
        "{}",
        None,
        1.0,
        0.0,
        json.dumps({"paritylab": "0.1.0"}),
    )
    db.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row)
    db.commit()
    db.close()


def _count(path) -> int:
    db = sqlite3.connect(path / "results.sqlite")
    (n,) = db.execute("SELECT COUNT(*) FROM runs").fetchone()
    db.close()
    return n


def test_a_schema_1_store_loads_and_refuses_new_runs(tmp_path):
    old = tmp_path / "old"
    _v1_store(old)
    res = cli("results", str(old), "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)[0]["metrics"]["test_acc_uniform"] == 0.53
    assert cli("results", str(old)).returncode == 0
    rep = cli("report", str(old))
    assert rep.returncode == 0, rep.stderr
    run = cli("reproduce", "--out", str(old), *sets(TINY_DM), "--quiet")
    assert run.returncode == 2
    assert "older paritylab layout" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert _count(old) == 1  # nothing stored is lost or added


def _runs(config, learners=("two-phase", "joint-sgd")):
    spec = spec_from_dict({"task": "dm", "learners": list(learners), "config": config})
    return {r.learner: r.run_id for r in spec.runs()}


def test_a_knob_of_one_learner_changes_only_that_learners_ids():
    base = {"n": 11, "k": 3, "width": 16}
    ids = _runs(base)
    changed = _runs({**base, "two_phase": {"steps": 7}})
    assert changed["two-phase"] != ids["two-phase"]
    assert changed["joint-sgd"] == ids["joint-sgd"]
    # A problem field changes every learner's id; a shared learner field only those having it.
    assert all(a != b for a, b in zip(_runs({**base, "n": 13}).values(), ids.values(), strict=True))
    raw = _runs({"n": 11, "k": 3}, learners=("linear-raw", "random-features"))
    wider = _runs({"n": 11, "k": 3, "width": 64}, learners=("linear-raw", "random-features"))
    assert raw["linear-raw"] == wider["linear-raw"]
    assert raw["random-features"] != wider["random-features"]


def test_a_learners_version_is_part_of_its_id(monkeypatch):
    from paritylab.learners import TwoPhase

    before = _runs({"n": 11, "k": 3})
    monkeypatch.setattr(TwoPhase, "version", TwoPhase.version + 1)
    after = _runs({"n": 11, "k": 3})
    assert before["two-phase"] != after["two-phase"]
    assert before["joint-sgd"] == after["joint-sgd"]


def test_records_carry_the_package_version_and_commit(tmp_path):
    v = versions()
    assert v["paritylab"] and v["commit"]
    assert v["commit"] == "unknown" or len(v["commit"].split("+")[0]) == 40
    spec = spec_from_dict({"task": "dm", "learners": ["linear-raw"], "config": {"n": 5, "k": 1}})
    run = spec.runs()[0]
    with Store(tmp_path / "s") as store:
        store.write(run, {"status": "ok", "metrics": {}, "versions": v})
        record = store.records()[0]
    assert record["versions"]["commit"] == v["commit"]
    assert record["config"] == {**dataclasses.asdict(run.problem), **run.settings.settings()}
