"""Sweeps: grid expansion, run ids, resume after SIGKILL, Ctrl-C, executor determinism."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from paritylab.lab.config import spec_from_dict
from paritylab.lab.store import Store, load_results
from paritylab.lab.sweep import run_experiment
from tests.helpers import TINY_DM, cli, sets

TINY_CONFIG = {k: v for k, v in (item.split("=") for item in TINY_DM) if "." not in k}


def tiny_spec(**extra):
    config = {k: int(v) for k, v in TINY_CONFIG.items()}
    data = {
        "experiment": "t",
        "task": "dm",
        "learners": ["linear-raw"],
        "seeds": 2,
        "config": config,
        **extra,
    }
    return spec_from_dict(data)


def test_grid_expansion_and_run_ids():
    spec = tiny_spec(sweep={"k": [3, 5], "linear_raw": {"lr": [0.01, 0.1]}})
    runs = spec.runs()
    assert len(runs) == 2 * 2 * 2
    assert len({r.run_id for r in runs}) == len(runs)
    again = tiny_spec(sweep={"k": [3, 5], "linear_raw": {"lr": [0.01, 0.1]}}).runs()
    assert [r.run_id for r in runs] == [r.run_id for r in again]
    assert {dict(r.point)["k"] for r in runs} == {3, 5}
    assert {r.settings.lr for r in runs} == {0.01, 0.1}


def test_same_config_and_seed_give_same_numbers_inline_and_local(tmp_path):
    spec = tiny_spec(learners=["two-phase", "linear-raw"])
    run_experiment(spec, tmp_path / "a", executor="inline", quiet=True)
    run_experiment(spec, tmp_path / "b", executor="local", workers=2, quiet=True)
    a = {r["run_id"]: r["metrics"] for r in _records(tmp_path / "a")}
    b = {r["run_id"]: r["metrics"] for r in _records(tmp_path / "b")}
    assert a == b and len(a) == 4


def test_failed_run_is_recorded_and_sweep_goes_on(tmp_path, monkeypatch):
    from paritylab.learners import LinearRaw

    real = LinearRaw.fit

    def boom(self, data, *, key):
        if data.problem.target.degree == 5:
            raise RuntimeError("boom")
        return real(self, data, key=key)

    monkeypatch.setattr(LinearRaw, "fit", boom)
    summary = run_experiment(
        tiny_spec(sweep={"k": [3, 5]}), tmp_path, executor="inline", quiet=True
    )
    assert summary.done == 4 and summary.failed == 2
    df = load_results(tmp_path)
    assert sorted(df.status) == ["failed", "failed", "ok", "ok"]
    assert df[df.status == "failed"].error.str.contains("boom").all()


SEEDS = 60  # enough runs (each ~0.1-0.3 s once compiled) that the kill lands mid-sweep
# linear-raw steps per run: 3,000 full-batch steps on n = 11 take ~10 ms, too few for the kill
# to land mid-sweep; 50,000 take ~0.15 s (measured, one pinned thread)
KILL_STEPS = 50_000


def _records(out):
    with Store(out, create=False) as store:
        return store.records()


def _write_sweep(path, seeds):
    path.write_text(
        'experiment = "kill"\ntask = "dm"\nlearners = ["linear-raw"]\n'
        f"seeds = {seeds}\n[config]\n"
        + "".join(f"{k} = {v}\n" for k, v in TINY_CONFIG.items())
        + f"[config.linear_raw]\nsteps = {KILL_STEPS}\n"
    )


def _count(db):
    try:
        with sqlite3.connect(db) as con:
            return con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _start(cfg, out):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paritylab.cli",
            "run",
            str(cfg),
            "--out",
            str(out),
            "--workers",
            "2",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for(db, count, proc, timeout=300):
    deadline = time.time() + timeout
    while _count(db) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline
        time.sleep(0.05)


def test_sigkill_then_rerun_gives_exactly_one_record_per_run(tmp_path):
    cfg, out = tmp_path / "s.toml", tmp_path / "out"
    _write_sweep(cfg, seeds=SEEDS)
    proc = _start(cfg, out)
    _wait_for(out / "results.sqlite", 3, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    before = {r["run_id"]: r["finished"] for r in _records(out)}
    assert 3 <= len(before) < SEEDS
    res = cli("run", str(cfg), "--out", str(out), "--workers", "2")
    assert res.returncode == 0, res.stderr
    after = {r["run_id"]: r["finished"] for r in _records(out)}
    assert len(after) == SEEDS
    assert all(after[i] == t for i, t in before.items())  # none recomputed, none lost
    assert f"{len(before)} already stored" in res.stderr


def test_ctrl_c_stops_cleanly_keeps_runs_and_says_how_to_resume(tmp_path):
    cfg, out = tmp_path / "s.toml", tmp_path / "out"
    _write_sweep(cfg, seeds=SEEDS)
    proc = _start(cfg, out)
    _wait_for(out / "results.sqlite", 2, proc)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "rerun the same command to resume" in err and "Traceback" not in err
    kept = _count(out / "results.sqlite")
    assert kept >= 2
    res = cli("run", str(cfg), "--out", str(out), "--workers", "2")
    assert res.returncode == 0 and _count(out / "results.sqlite") == SEEDS


def test_incompatible_store_is_refused_and_untouched(tmp_path):
    with Store(tmp_path):
        pass
    with sqlite3.connect(tmp_path / "results.sqlite") as con:
        con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    size = (tmp_path / "results.sqlite").stat().st_size
    res = cli("reproduce", "--out", str(tmp_path), *sets(TINY_DM))
    assert res.returncode == 2 and "incompatible" in res.stderr
    assert (tmp_path / "results.sqlite").stat().st_size == size


def test_unreachable_ray_address_exits_2(tmp_path):
    pytest.importorskip("ray")
    res = cli(
        "reproduce",
        "--out",
        str(tmp_path),
        "--executor",
        "ray",
        "--address",
        "127.0.0.1:9",
        *sets(TINY_DM),
    )
    assert res.returncode == 2 and "cannot reach a Ray cluster" in res.stderr
