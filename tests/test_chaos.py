"""Chaos: a sweep killed, interrupted, starved of disk or of workers, read from a read-only
folder, rerun with other settings. Each test asserts that no paritylab process is left behind
(every process started for the sweep carries a tag in its environment, which /proc shows even
after it is reparented), that no run is lost or stored twice, that a resumed sweep's metrics
equal a clean run's, and that each stop prints one clear line with its documented exit code.

Linux only (/proc). The sweep is 24 runs of ``linear-raw`` at a tiny size with enough steps
(~0.15 s a run) that a kill lands mid-sweep.
"""

import contextlib
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

import paritylab
from paritylab.errors import BadInput
from paritylab.lab.config import load_spec, spec_from_dict
from paritylab.lab.store import Store
from paritylab.lab.sweep import run_experiment
from tests.helpers import TINY_DM

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")

SEEDS = 24
STEPS = 50_000  # linear-raw full-batch steps: ~0.15 s a run once compiled, one pinned thread
TINY = {k: int(v) for k, v in (item.split("=") for item in TINY_DM) if "." not in k}
SWEEP_TOML = (
    'experiment = "chaos"\ntask = "dm"\nlearners = ["linear-raw"]\n'
    f"seeds = {SEEDS}\n[config]\n"
    + "".join(f"{k} = {v}\n" for k, v in TINY.items() if k != "steps")
    + f"steps = {STEPS}\n"
)
TAG = "PARITYLAB_CHAOS_TAG"

# A learner whose worker process kills itself (SIGKILL, as the OOM killer would) on the seeds
# listed in crash.flag next to it, while that file exists.
CRASHER = '''
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.learners import Fit, Learner, TrainingData, learner_key, register_learner

FLAG = Path(__file__).with_name("crash.flag")


@register_learner
@dataclass(frozen=True)
class Crasher(Learner):
    """Hebbian: w = mean(y x); kills its own process on the seeds in crash.flag."""

    name = "crasher"
    reads = "sample"

    def fit(self, data: TrainingData, *, key) -> Fit:
        if FLAG.exists():
            mine = np.asarray(jax.random.key_data(key))
            for seed in FLAG.read_text().split():
                theirs = np.asarray(jax.random.key_data(learner_key(int(seed), self.name)))
                if np.array_equal(mine, theirs):
                    os.kill(os.getpid(), signal.SIGKILL)
        x, y = data.train.x, data.train.y
        w = (x.T @ y) / y.shape[0]
        return Fit(lambda xs: xs @ w, metrics={"weight_norm": float(jnp.linalg.norm(w))})
'''


# ---------------------------------------------------------------------------------------------
# processes


def _env(tag: str, **extra) -> dict:
    path = [str(Path(paritylab.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    env[TAG] = tag
    env.update(extra)
    return env


def _tagged(tag: str) -> list[int]:
    """Live (not zombie) processes whose environment carries ``tag``."""
    needle = f"{TAG}={tag}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            found.append(int(entry))
    return found


def _assert_none_left(tag: str, timeout: float = 15.0) -> None:
    deadline = time.time() + timeout
    while (left := _tagged(tag)) and time.time() < deadline:
        time.sleep(0.1)
    for pid in left:  # do not leak them into the rest of the suite, then fail
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert not left, f"processes left behind: {_describe(left)}"


def _describe(pids) -> str:
    out = []
    for pid in pids:
        try:
            out.append(
                f"{pid}: "
                + Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:120].decode()
            )
        except OSError:
            out.append(str(pid))
    return "; ".join(out)


def _children(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    kids = []
    for t in tasks:
        try:
            kids += [int(c) for c in Path(f"/proc/{pid}/task/{t}/children").read_text().split()]
        except OSError:
            pass
    return kids


def _workers(pid: int) -> list[int]:
    """The coordinator's pool workers (not its multiprocessing resource tracker)."""
    out = []
    for kid in _children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{kid}/cmdline").read_bytes():
                out.append(kid)
        except OSError:
            pass
    return out


def _start(cfg, out, tag, *extra, env=None, quiet=True, **popen):
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "paritylab.cli", "run", str(cfg), "--out", str(out)),
            *("--workers", "2", *(["--quiet"] if quiet else []), *extra),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or _env(tag),
        start_new_session=True,
        **popen,
    )


def _run(cfg, out, tag, *extra, env=None, quiet=True, timeout=300):
    proc = _start(cfg, out, tag, *extra, env=env, quiet=quiet)
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def _count(out) -> int:
    try:
        with sqlite3.connect(Path(out) / "results.sqlite", timeout=1) as con:
            return con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _wait_for(out, count, proc, timeout=240) -> None:
    deadline = time.time() + timeout
    while _count(out) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, f"no {count} runs stored in {timeout} s"
        time.sleep(0.05)


def _lines(err: str) -> list[str]:
    return [line for line in err.strip().splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------
# stores


def _records(out) -> list[dict]:
    with Store(out, create=False) as store:
        return store.records()


def _assert_same_as_clean(out, clean: dict) -> None:
    """One record per run, every expected run present, each metric as in a clean run."""
    records = _records(out)
    ids = [r["run_id"] for r in records]
    assert len(ids) == len(set(ids)), "a run is stored twice"
    assert set(ids) == set(clean), "a run is missing or foreign"
    assert all(r["status"] == "ok" for r in records), [r["error"] for r in records]
    assert {r["run_id"]: r["metrics"] for r in records} == clean


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chaos")
    cfg = folder / "chaos.toml"
    cfg.write_text(SWEEP_TOML)
    return cfg


@pytest.fixture(scope="module")
def clean(sweep_file, tmp_path_factory):
    """{run_id: metrics} of an uninterrupted run of the sweep (inline, in this process)."""
    out = tmp_path_factory.mktemp("clean") / "out"
    summary = run_experiment(load_spec(sweep_file), out, executor="inline", quiet=True)
    assert summary.done == SEEDS and not summary.interrupted
    return {r["run_id"]: r["metrics"] for r in _records(out)}


# ---------------------------------------------------------------------------------------------
# 1-3: signals and lost workers


def test_signals_and_lost_workers_keep_every_run_and_leave_no_process(sweep_file, clean, tmp_path):
    out, tag = tmp_path / "out", uuid.uuid4().hex
    # A worker SIGKILLed mid-run costs that run one retry; then SIGTERM stops the sweep.
    proc = _start(sweep_file, out, tag)
    _wait_for(out, 2, proc)
    workers = _workers(proc.pid)
    assert len(workers) == 2, _describe(_tagged(tag))
    os.kill(workers[0], signal.SIGKILL)
    _wait_for(out, _count(out) + 2, proc)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    lines = _lines(err)
    assert lines[-1].startswith("interrupted by SIGTERM") and "rerun the same command" in lines[-1]
    assert all(line.startswith("note: worker killed by signal 9") for line in lines[:-1]), err
    assert "Traceback" not in err
    _assert_none_left(tag)
    kept = _count(out)

    # SIGKILL of the coordinator: its workers and the resource tracker go with it.
    proc = _start(sweep_file, out, tag)
    _wait_for(out, kept + 2, proc)
    assert len(_workers(proc.pid)) == 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    _assert_none_left(tag)
    kept = _count(out)

    # SIGHUP (the terminal went away) stops it like SIGTERM, with 129.
    proc = _start(sweep_file, out, tag)
    _wait_for(out, kept + 1, proc)
    os.kill(proc.pid, signal.SIGHUP)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 129, err
    assert _lines(err) and _lines(err)[-1].startswith("interrupted by SIGHUP"), err
    _assert_none_left(tag)
    assert _count(out) < SEEDS

    code, err = _run(sweep_file, out, tag)
    assert code == 0, err
    _assert_none_left(tag)
    _assert_same_as_clean(out, clean)


def _resume_here(cfg, out, tag, monkeypatch) -> None:
    """Finish the sweep in this process (local pool, no report), its workers tagged."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # this process's own tracker: untagged, it stays
    monkeypatch.setenv(TAG, tag)  # the workers inherit it (this process's /proc entry does not)
    summary = run_experiment(load_spec(cfg), out, workers=2, quiet=True)
    assert not summary.interrupted and summary.skipped + summary.done == SEEDS
    _assert_none_left(tag)


def test_killed_ten_times_at_random_moments(sweep_file, clean, tmp_path, monkeypatch):
    """Coordinator SIGKILL, SIGTERM, SIGINT, SIGHUP and worker SIGKILLs at random moments
    (from start-up to mid-run), ten kills in all; the store ends equal to a clean run's."""
    out, tag = tmp_path / "out", uuid.uuid4().hex
    rng = random.Random(20240601)
    stops = [signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
    kills = 0
    while kills < 10:
        proc = _start(sweep_file, out, tag)
        time.sleep(rng.uniform(1.0, 4.0))
        if rng.random() < 0.6:  # first a worker, at a random moment once there are any
            deadline = time.time() + 60
            while not (workers := _workers(proc.pid)) and proc.poll() is None:
                assert time.time() < deadline
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 3.0))
            workers = _workers(proc.pid)
            if workers:
                os.kill(rng.choice(workers), signal.SIGKILL)
                kills += 1
            time.sleep(rng.uniform(0.5, 3.0))
        stop = stops[kills % len(stops)]
        if proc.poll() is None:
            os.kill(proc.pid, stop)
            kills += 1
        _, err = proc.communicate(timeout=120)
        assert "Traceback" not in err, err
        assert proc.returncode in (0, -stop, 128 + stop), (stop, proc.returncode, err)
        _assert_none_left(tag)
    _resume_here(sweep_file, out, tag, monkeypatch)
    _assert_same_as_clean(out, clean)


def test_a_run_whose_worker_always_dies_is_stored_failed_and_retry_failed_reruns_it(tmp_path):
    (tmp_path / "crasher.py").write_text(CRASHER)
    (tmp_path / "crash.flag").write_text("1")
    cfg = tmp_path / "crash.toml"
    cfg.write_text(
        'experiment = "crash"\ntask = "dm"\nplugins = ["crasher.py"]\nlearners = ["crasher"]\n'
        "seeds = 3\n[config]\n" + "".join(f"{k} = {TINY[k]}\n" for k in ("n", "k", "n_train"))
    )
    out, tag = tmp_path / "out", uuid.uuid4().hex
    code, err = _run(cfg, out, tag, "--retries", "1", quiet=False)
    assert code == 0, err
    _assert_none_left(tag)
    by_seed = {r["seed"]: r for r in _records(out)}
    assert sorted(by_seed) == [0, 1, 2]
    assert by_seed[0]["status"] == by_seed[2]["status"] == "ok"
    lost = by_seed[1]
    assert lost["status"] == "failed"
    assert "worker killed by signal 9 (SIGKILL), possibly out of memory" in lost["error"]
    assert "tried 2 times" in lost["error"]
    assert "1 not ok" in err

    code, err = _run(cfg, out, tag, quiet=False)  # by default a rerun skips the failure
    assert code == 0 and "3 already stored" in err, err

    (tmp_path / "crash.flag").unlink()  # whatever killed it is gone
    code, err = _run(cfg, out, tag, "--retry-failed", quiet=False)
    assert code == 0 and "1 run(s) done, 2 already stored, 0 not ok" in err, err
    records = _records(out)
    assert len(records) == 3 and len({r["run_id"] for r in records}) == 3
    assert all(r["status"] == "ok" for r in records)
    _assert_none_left(tag)


# ---------------------------------------------------------------------------------------------
# 4: Ray


class _FakeRay:
    """Stands in for the ray module: one task's node dies, one task's worker crashes."""

    def __init__(self, errors):
        self.errors = errors

    def wait(self, refs, num_returns=1, timeout=None):
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref):
        if ref in self.errors:
            raise self.errors[ref]
        return {"status": "ok", "metrics": {"x": 1.0}}

    def shutdown(self):
        pass


def test_ray_node_death_or_worker_crash_costs_one_run():
    ray_exceptions = pytest.importorskip("ray.exceptions")
    from paritylab.lab.executors import RayPool

    runs = tiny_runs(4)
    errors = {
        1: ray_exceptions.NodeDiedError("node 1 died"),
        2: ray_exceptions.WorkerCrashedError(),
    }
    pool = RayPool.__new__(RayPool)
    pool.ray, pool.retries, notes = _FakeRay(errors), 2, []
    pool.notify = notes.append
    counter = iter(range(10))

    class Remote:
        @staticmethod
        def remote(plugins, blob):
            return next(counter)

    pool.remote = Remote()
    got = {run.seed: outcome for run, outcome in pool.map_unordered(runs)}
    assert [got[s]["status"] for s in range(4)] == ["ok", "failed", "failed", "ok"]
    assert "NodeDiedError" in got[1]["error"] and "retries a lost task 2 times" in got[1]["error"]
    assert "WorkerCrashedError" in got[2]["error"]
    assert len(notes) == 2 and all(n.startswith("note: ray ") for n in notes)


def tiny_runs(seeds):
    spec = spec_from_dict(
        {
            "experiment": "t",
            "task": "dm",
            "learners": ["linear-raw"],
            "seeds": seeds,
            "config": TINY,
        }
    )
    return spec.runs()


# ---------------------------------------------------------------------------------------------
# 5: disk full


def _tmpfs_prefix(mount: Path, size: str):
    """A command prefix that runs the rest with a tmpfs of ``size`` mounted at ``mount`` (a user
    and mount namespace), or None where unprivileged namespaces are not allowed."""
    unshare = shutil.which("unshare")
    if not unshare:
        return None
    probe = subprocess.run(
        [unshare, "-rm", "sh", "-c", f"mount -t tmpfs -o size={size} none '{mount}'"],
        capture_output=True,
    )
    if probe.returncode != 0:
        return None
    script = 'mount -t tmpfs -o size="$1" none "$2" && shift 2 && exec "$@"'
    return [unshare, "-rm", "sh", "-c", script, "sh", size, str(mount)]


def test_disk_full_mid_sweep_stops_at_once_and_keeps_what_is_stored(
    sweep_file, clean, tmp_path, monkeypatch
):
    """A store write that fails (the disk is full) stops the sweep at once: one line, exit 1,
    every run already stored kept, no process left; the sweep then resumes elsewhere."""
    tag = uuid.uuid4().hex
    disk, keep = tmp_path / "disk", tmp_path / "keep"
    disk.mkdir()
    keep.mkdir()
    cli = [sys.executable, "-m", "paritylab.cli", "run", str(sweep_file), "--quiet"]
    cli += ["--workers", "2"]
    env = _env(tag, PARITYLAB_COMPILE_CACHE="off")
    prefix = _tmpfs_prefix(disk, "160k")
    if prefix is not None:  # a real full disk: a 160 KiB tmpfs
        # Without --force the preflight refuses it before anything runs: exit 2, one line.
        res = subprocess.run(
            [*prefix, *cli, "--out", str(disk / "out")], capture_output=True, text=True, env=env
        )
        assert res.returncode == 2, res.stderr
        assert len(_lines(res.stderr)) == 1 and "free" in res.stderr, res.stderr
        copy = f'; cp "{disk}/out/results.sqlite" "{keep}/"'
        script = '"$@"; code=$?' + copy + '; exit "$code"'
        res = subprocess.run(
            [*prefix, "sh", "-c", script, "sh", *cli, "--out", str(disk / "out"), "--force"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        needle = "database or disk is full"
    else:  # no namespaces: a file-size limit makes the same write fail (EFBIG)

        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (160 << 10, 160 << 10))

        res = subprocess.run(
            [*cli, "--out", str(keep)],
            capture_output=True,
            text=True,
            env=env,
            preexec_fn=limit,
            timeout=300,
        )
        needle = "disk I/O error"
    assert res.returncode == 1, res.stderr
    lines = _lines(res.stderr)
    assert len(lines) == 1 and lines[0].startswith("paritylab: error: cannot write to the results")
    assert needle in lines[0] and "rerun the same command to resume" in lines[0]
    _assert_none_left(tag)
    kept = _records(keep)
    assert 0 < len(kept) < SEEDS
    assert all(r["metrics"] == clean[r["run_id"]] for r in kept)
    _resume_here(sweep_file, keep, tag, monkeypatch)  # room again: the sweep resumes
    _assert_same_as_clean(keep, clean)


def test_preflight_refuses_a_full_or_unwritable_directory(tmp_path, monkeypatch):
    import paritylab.lab.sweep as sweep

    spec = spec_from_dict(
        {"experiment": "t", "task": "dm", "learners": ["linear-raw"], "config": TINY}
    )

    class Full:
        f_bavail, f_frsize = 10, 4096

    class FakeOs:  # os as the sweep module sees it: a full disk, then no write permission
        access = staticmethod(os.access)

        def __getattr__(self, name):
            return getattr(os, name)

        def statvfs(self, path):
            return Full()

    fake = FakeOs()
    monkeypatch.setattr(sweep, "os", fake)
    with pytest.raises(BadInput, match=r"has 40\.0 KiB free and this sweep needs about"):
        run_experiment(spec, tmp_path / "o", executor="inline", quiet=True)
    assert not (tmp_path / "o").exists()
    fake.access = lambda path, mode: False
    with pytest.raises(BadInput, match="is not writable"):
        run_experiment(spec, tmp_path / "o", executor="inline", quiet=True)
    with pytest.raises(BadInput, match="is empty"):
        run_experiment(spec, "", executor="inline", quiet=True)


# ---------------------------------------------------------------------------------------------
# 6: a read-only results directory


def _read_only_prefix(folder: Path):
    """(command prefix, cleanup) that runs a command with ``folder`` read-only: a read-only
    bind mount in a user namespace, or plain permissions when not root."""
    unshare = shutil.which("unshare")
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"'
    if unshare:
        prefix = [unshare, "-rm", "sh", "-c", script, "sh", str(folder)]
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix, lambda: None
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.iterdir()]}
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        return [], lambda: [p.chmod(m) for p, m in modes.items()]
    return None, None


def test_read_only_results_directory_is_read_and_report_says_why_not(tmp_path):
    out = tmp_path / "ro"
    spec = spec_from_dict(
        {"experiment": "t", "task": "dm", "learners": ["linear-raw"], "seeds": 2, "config": TINY}
    )
    run_experiment(spec, out, executor="inline", quiet=True)
    expected = {r["run_id"]: r["metrics"] for r in _records(out)}
    prefix, cleanup = _read_only_prefix(out)
    if prefix is None:
        pytest.skip("cannot make a read-only directory here (root without user namespaces)")
    try:
        env = _env(uuid.uuid4().hex)

        def cli(*args):
            cmd = [*prefix, sys.executable, "-m", "paritylab.cli", *args]
            return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)

        res = cli("results", str(out), "--format", "json")
        assert res.returncode == 0, res.stderr
        assert {r["run_id"]: r["metrics"] for r in json.loads(res.stdout)} == expected
        res = cli("report", str(out))
        assert res.returncode == 2 and len(_lines(res.stderr)) == 1, res.stderr
        assert "not writable" in res.stderr and "paritylab results" in res.stderr
        res = cli("reproduce", "--out", str(out), "--set", "n=11", "--set", "k=3")
        assert res.returncode == 2 and len(_lines(res.stderr)) == 1, res.stderr
        assert "is not writable" in res.stderr
    finally:
        cleanup()
    assert sorted(p.name for p in out.iterdir()) == ["results.sqlite"]


# ---------------------------------------------------------------------------------------------
# 7: two settings in one folder


def test_a_second_setting_in_one_folder_warns_and_keeps_every_spec_version(tmp_path, capsys):
    def spec(n, seeds=1):
        config = {**TINY, "n": n}
        data = {"experiment": "t", "learners": ["linear-raw"], "seeds": seeds, "config": config}
        return spec_from_dict(data)

    run_experiment(spec(11), tmp_path, executor="inline", quiet=True)
    assert "warning" not in capsys.readouterr().err
    run_experiment(spec(13), tmp_path, executor="inline", quiet=True)
    lines = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(lines) == 1 and "differing: config.n" in lines[0], lines
    summary = run_experiment(spec(13, seeds=2), tmp_path, executor="inline", quiet=True)
    assert summary.done == 1 and summary.skipped == 1  # an extra seed still resumes
    assert "differing: seeds" in capsys.readouterr().err
    with Store(tmp_path, create=False) as store:
        versions = store.spec_versions("t")
        assert [v["spec"]["config"]["n"] for v in versions] == [11, 13, 13]
        assert len({v["hash"] for v in versions}) == 3
        assert store.experiments()["t"]["seeds"] == 2  # the latest
        assert len(store.records()) == 3


@pytest.mark.ray
def test_ray_worker_crash_is_retried_by_ray_then_stored_failed(tmp_path):
    """A real one-node Ray cluster: the task whose worker dies every time is retried by Ray,
    then stored as failed with Ray's error; the other runs are stored ok."""
    pytest.importorskip("ray")
    ray_bin = shutil.which("ray", path=os.path.dirname(sys.executable)) or shutil.which("ray")
    if not ray_bin:
        pytest.skip("no ray command")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "crasher.py").write_text(CRASHER)
    (tmp_path / "crash.flag").write_text("1")
    cfg = tmp_path / "crash.toml"
    cfg.write_text(
        'experiment = "crash"\ntask = "dm"\nplugins = ["crasher.py"]\nlearners = ["crasher"]\n'
        "seeds = 3\n[config]\n" + "".join(f"{k} = {TINY[k]}\n" for k in ("n", "k", "n_train"))
    )
    tag = uuid.uuid4().hex  # every process of this cluster carries it: stopped by it alone
    env = _env(tag, RAY_USAGE_STATS_ENABLED="0")
    temp = Path(tempfile.mkdtemp(prefix="ray"))  # short: Ray's socket paths have a length cap
    start = [ray_bin, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port)]
    start += ["--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats"]
    start += ["--temp-dir", str(temp)]
    try:
        subprocess.run(start, check=True, env=env, capture_output=True, timeout=180)
        out = tmp_path / "out"
        cmd = [sys.executable, "-m", "paritylab.cli", "run", str(cfg), "--out", str(out)]
        res = subprocess.run(
            [*cmd, "--executor", "ray", "--address", f"127.0.0.1:{port}", "--retries", "1"],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
    finally:
        for pid in _tagged(tag):  # this cluster only (`ray stop` would stop every cluster)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 20
        while _tagged(tag) and time.time() < deadline:
            time.sleep(0.2)
        for pid in _tagged(tag):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)
    assert res.returncode == 0, res.stderr
    by_seed = {r["seed"]: r for r in _records(out)}
    assert by_seed[0]["status"] == by_seed[2]["status"] == "ok"
    assert by_seed[1]["status"] == "failed", by_seed[1]
    assert "ray WorkerCrashedError" in by_seed[1]["error"], by_seed[1]["error"]
