"""The vmap executor: grouping, group sizing, per-run records equal to the one-run path (online
and finite mode), resume after a killed group, fallback for learners that cannot be vmapped."""

import dataclasses
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import pytest

import paritylab
from paritylab.lab import vmap_executor as vx
from paritylab.lab.config import spec_from_dict
from paritylab.lab.store import Store
from paritylab.lab.sweep import run_experiment
from paritylab.lab.tasks import online as online_task
from paritylab.learners import OnlineSGD, learner_key, online_seeds
from paritylab.learners.online_seeds import online_seed_bytes

SWEEP = {
    "experiment": "vm",
    "task": "online",
    "learners": ["sgd-online", "gf2-oracle"],
    "seeds": 3,
    "config": {
        "n": 12,
        "width": 32,
        "eval_size": 512,
        "max_steps": 1500,
        "eval_every": 20,
        "after_success": 10,
    },
    "sweep": {"k": [2, 3]},
}
TOML = """experiment = "vm"
task = "online"
learners = ["sgd-online", "gf2-oracle"]
seeds = 3
[config]
n = 12
width = 32
eval_size = 512
max_steps = 1500
eval_every = 20
after_success = 10
[sweep]
k = [2, 3]
"""
TOTAL = 2 * 2 * 3


def _records(out) -> dict:
    with Store(out, create=False) as store:
        return {r["run_id"]: r for r in store.records()}


def _same(a: dict, b: dict) -> None:
    """Records equal to float32 tolerance, t_c and steps exactly, traces of equal length."""
    assert set(a) == set(b)
    for run_id, ra in a.items():
        rb = b[run_id]
        assert ra["status"] == rb["status"] == "ok", (ra["error"], rb["error"])
        ma, mb = ra["metrics"], rb["metrics"]
        assert set(ma) == set(mb)
        for name, va in ma.items():
            if isinstance(va, float):
                assert math.isclose(va, mb[name], rel_tol=1e-4, abs_tol=1e-5), (name, va, mb[name])
            else:
                assert va == mb[name], (name, va, mb[name])
        assert set(ra["traces"]) == set(rb["traces"])
        for name, trace in ra["traces"].items():
            assert len(trace) == len(rb["traces"][name]), name
        assert ra["traces"].get("step") == rb["traces"].get("step")
        assert set(ra["info"]) == set(rb["info"])


@pytest.fixture(scope="module")
def inline_store(tmp_path_factory):
    out = tmp_path_factory.mktemp("inline")
    run_experiment(spec_from_dict(SWEEP), out, executor="inline", quiet=True)
    return out


def test_runs_group_by_everything_but_the_seed():
    spec = spec_from_dict({**SWEEP, "seeds": 5})
    runs = spec.runs()
    groups = vx.plan_groups(runs, cap=2)
    sgd = [g for g in groups if g[0].learner == "sgd-online"]
    assert sorted(len(g) for g in sgd) == [1, 1, 2, 2, 2, 2]  # 5 seeds per k, cap 2: 2 + 2 + 1
    for group in sgd:
        assert len({(r.problem, r.settings) for r in group}) == 1
        assert len({r.seed for r in group}) == len(group)
    assert all(len(g) == 1 for g in groups if g[0].learner == "gf2-oracle")
    assert sorted(r.run_id for g in groups for r in g) == sorted(r.run_id for r in runs)
    whole = vx.plan_groups(runs)  # no memory reported: the default cap, far above 5
    assert sorted(len(g) for g in whole if g[0].learner == "sgd-online") == [5, 5]


def test_group_size_from_memory():
    learner = OnlineSGD(width=1000)
    sizes = {"n": 100, "eval_size": 8192}
    per_seed = online_seed_bytes(learner, **sizes)
    assert vx.cap_for(per_seed, None) == vx.DEFAULT_MAX_GROUP  # memory unknown
    assert per_seed > 4 * 8192 * 1000  # the held-out activations alone
    gib = 1 << 30
    big = vx.cap_for(per_seed, 100 * gib)
    assert big == int(vx.MEMORY_FRACTION * 100 * gib // (vx.SAFETY * per_seed))
    assert vx.cap_for(per_seed, 10 * gib) < big
    assert vx.cap_for(per_seed, 1) == 1
    tiny = online_seed_bytes(OnlineSGD(width=1), n=2, eval_size=1)
    assert vx.cap_for(tiny, 1 << 50) == vx.MAX_GROUP
    adam = OnlineSGD(width=1000, optimizer="adam")
    assert online_seed_bytes(adam, **sizes) > per_seed
    assert online_seed_bytes(learner, **sizes, train_samples=1000) > per_seed
    # The learner's own estimate reads its problem config.
    problem = online_task.OnlineProblemConfig(n=100, eval_size=8192)
    assert learner.seed_bytes(problem) == per_seed


def test_vmap_records_equal_inline(inline_store, tmp_path):
    # after_success (10) is not a multiple of eval_every (20): seeds stop between the group's
    # evaluations. The command line's records are compared in the resume test below.
    run_experiment(spec_from_dict(SWEEP), tmp_path, executor="vmap", quiet=True)
    a, b = _records(tmp_path), _records(inline_store)
    assert len(a) == TOTAL
    _same(a, b)
    gf2 = [r for r in a.values() if r["learner"] == "gf2-oracle"]  # one at a time, as inline
    assert gf2 and all(r["metrics"] == b[r["run_id"]]["metrics"] for r in gf2)


def test_which_learners_train_in_groups():
    """Grouped: learners whose own class defines both fit and fit_group; a subclass that
    changes fit (lottery-ticket) or a learner without a group path runs alone."""
    from paritylab.learners import JointSGD, LinearRaw
    from paritylab.learners.base import trains_in_groups
    from paritylab.learners.lottery import LotteryTicket

    assert trains_in_groups(OnlineSGD) and trains_in_groups(JointSGD)
    assert not trains_in_groups(LotteryTicket) and not trains_in_groups(LinearRaw)
    dm = {"task": "dm", "learners": ["joint-sgd", "linear-raw"], "seeds": 3}
    runs = spec_from_dict({**dm, "config": {"n": 11, "k": 3}}).runs()
    sizes = sorted((g[0].learner, len(g)) for g in vx.plan_groups(runs))
    assert sizes == [("joint-sgd", 3)] + [("linear-raw", 1)] * 3
    tuned = spec_from_dict({**dm, "config": {"n": 11, "k": 3, "n_val": 50, "tune": True}})
    assert all(len(g) == 1 for g in vx.plan_groups(tuned.runs()))  # tuning: one at a time


def test_joint_sgd_group_equals_one_run_at_a_time(tmp_path, monkeypatch):
    from paritylab.learners import JointSGD

    sizes = []
    group_fit = JointSGD.fit_group

    def counted(self, datas, keys):
        sizes.append(len(datas))
        return group_fit(self, datas, keys)

    monkeypatch.setattr(JointSGD, "fit_group", counted)
    spec = {
        "experiment": "vj",
        "task": "dm",
        "learners": ["joint-sgd"],
        "seeds": 3,
        "config": {"n": 11, "k": 3, "width": 16, "n_train": 400, "n_test": 400, "steps": 300},
    }
    run_experiment(spec_from_dict(spec), tmp_path / "v", executor="vmap", quiet=True)
    run_experiment(spec_from_dict(spec), tmp_path / "i", executor="inline", quiet=True)
    a, b = _records(tmp_path / "v"), _records(tmp_path / "i")
    assert len(a) == 3 and sizes[0] == 3  # one group of three, then three single fits
    _same(a, b)


def _compare_group(config: dict, learner: OnlineSGD, seeds=(0, 1, 2), tol=1e-4) -> None:
    """train_group against each seed's one-run fit (t_c, steps and trace steps exactly);
    without the task's probe (compiles faster; the sweep tests above keep it)."""
    cfg = online_task.OnlineProblemConfig(**config)
    datas = [dataclasses.replace(online_task.make_data(cfg, s), probe=None) for s in seeds]
    keys = [learner_key(s, learner.name) for s in seeds]
    group = online_seeds.fit_group(learner, datas, keys)
    for data, key, fit in zip(datas, keys, group, strict=True):
        alone = learner.fit(data, key=key)
        assert fit.metrics.keys() == alone.metrics.keys()
        for name, va in alone.metrics.items():
            vb = fit.metrics[name]
            if isinstance(va, float):
                assert math.isclose(va, vb, rel_tol=tol, abs_tol=tol / 10), (name, va, vb)
            else:
                assert va == vb, (name, va, vb)
        assert fit.traces.keys() == alone.traces.keys()
        assert fit.traces["step"] == alone.traces["step"]
        assert fit.info == alone.info
        mine, theirs = jax.tree.leaves(fit.state["params"]), jax.tree.leaves(alone.state["params"])
        for a, b in zip(theirs, mine, strict=True):
            assert jax.numpy.allclose(a, b, rtol=10 * tol, atol=tol)


def test_finite_mode_with_compaction_matches_one_run_loop(monkeypatch):
    monkeypatch.setattr(online_seeds, "COMPACT_MIN", 2)  # compact a group of 3 at 1 running
    monkeypatch.setattr(online_seeds, "COMPACT_FRACTION", 0.5)
    learner = OnlineSGD(
        width=32, batch_size=16, optimizer="adam", lr=0.01, epochs=60, eval_every=1,
        eval_unit="epochs", max_steps=5000,
    )  # fmt: skip
    _compare_group({"n": 10, "k": 2, "train_samples": 100, "eval_size": 256,
                    "label_noise": 0.05}, learner)  # fmt: skip


def test_online_curriculum_label_noise_sign_sgd_matches_one_run_loop():
    learner = OnlineSGD(width=32, optimizer="sign-sgd", lr=0.002, eval_every=20, max_steps=1200)
    config = {"n": 10, "k": 2, "eval_size": 256, "label_noise": 0.1,
              "curriculum": "biased-first", "bias": 0.3, "curriculum_steps": 100}  # fmt: skip
    # Sign-SGD turns float32 rounding of tiny gradients into sign flips: the trajectories agree
    # to ~1e-3, t_c and the evaluation steps exactly.
    _compare_group(config, learner, tol=1e-2)


def test_failed_group_falls_back_to_one_run_at_a_time(tmp_path, monkeypatch, inline_store):
    def boom(*args, **kwargs):
        raise RuntimeError("RESOURCE_EXHAUSTED: out of memory")

    monkeypatch.setattr(online_seeds, "fit_group", boom)
    notes = []
    spec = spec_from_dict({**SWEEP, "learners": ["sgd-online"], "sweep": {"k": [2]}})
    pool = vx.VmapPool(notify=notes.append)
    outcomes = {run.run_id: out for run, out in pool.map_unordered(spec.runs())}
    assert len(outcomes) == 3 and all(o["status"] == "ok" for o in outcomes.values())
    assert any("running them one at a time" in n for n in notes)
    inline = _records(inline_store)
    for run_id, outcome in outcomes.items():
        assert outcome["metrics"]["t_c"] == inline[run_id]["metrics"]["t_c"]


def test_killed_group_reruns_as_a_group_and_nothing_is_recomputed(
    tmp_path, inline_store, monkeypatch
):
    cfg, out = tmp_path / "vm.toml", tmp_path / "out"
    cfg.write_text(TOML)
    path = [str(Path(paritylab.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    cmd = [sys.executable, "-m", "paritylab.cli", "run", str(cfg), "--out", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--executor", "vmap", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )
    deadline = time.time() + 120
    while len(_stored(out)) < 3:  # the first group (3 seeds) is stored at once
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the second group is compiling or training
    proc.communicate()
    before = {r["run_id"]: r["finished"] for r in _records(out).values()}
    assert len(before) == 3
    groups, real = [], vx.run_group
    monkeypatch.setattr(vx, "run_group", lambda runs: groups.append(len(runs)) or real(runs))
    summary = run_experiment(spec_from_dict(SWEEP), out, executor="vmap", quiet=True)  # rerun
    assert summary.skipped == 3 and summary.done == TOTAL - 3 and summary.failed == 0
    assert groups == [3]  # the killed group, trained again as one group
    after = _records(out)
    assert len(after) == TOTAL
    assert all(after[i]["finished"] == t for i, t in before.items())  # none recomputed
    _same(after, _records(inline_store))  # equal to a clean run


def _stored(out) -> list:
    import sqlite3

    try:
        with sqlite3.connect(out / "results.sqlite") as con:
            return con.execute("SELECT run_id FROM runs").fetchall()
    except sqlite3.OperationalError:
        return []


def test_vmap_is_the_default_on_an_accelerator(monkeypatch, capsys):
    from paritylab.cli import main

    monkeypatch.setattr(vx, "accelerator", lambda: "gpu")
    assert main._default_executor(quiet=True) == "vmap"
    assert "executor: vmap" in capsys.readouterr().err
    monkeypatch.setattr(vx, "accelerator", lambda: None)
    assert main._default_executor(quiet=True) == "local"


def test_precision_default_unchanged_and_bf16_runs(monkeypatch):
    from paritylab.learners import online

    cfg = online_task.OnlineProblemConfig(n=10, k=2, eval_size=256)
    datas = [dataclasses.replace(online_task.make_data(cfg, s), probe=None) for s in range(3)]
    keys = [learner_key(s, "sgd-online") for s in range(3)]
    learner = OnlineSGD(width=32, eval_every=20, max_steps=1500)
    assert learner.precision == "float32"
    default = [learner.fit(d, key=k) for d, k in zip(datas, keys, strict=True)]
    with monkeypatch.context() as patch:
        patch.setitem(online.PRECISIONS, "float32", None)  # jax's own default: no context
        unset = learner.fit(datas[0], key=keys[0])
    assert default[0].metrics == unset.metrics and default[0].traces == unset.traces
    with online.matmul_precision(OnlineSGD(precision="bf16")):
        assert jax.config.jax_default_matmul_precision == "bfloat16"
    bf16 = dataclasses.replace(learner, precision="bf16")
    t_c = [f.metrics["t_c"] for f in default]
    t_c_bf16 = [bf16.fit(d, key=k).metrics["t_c"] for d, k in zip(datas, keys, strict=True)]
    assert None not in t_c_bf16
    spread = max(t_c) - min(t_c)  # on a CPU bf16 matmuls are float32 ones: equal
    assert all(abs(a - b) <= max(spread, 40) for a, b in zip(t_c, t_c_bf16, strict=True))
