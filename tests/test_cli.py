"""The command-line contract: exit codes, one-line errors, the JSON run records."""

import json

import pytest

from tests.helpers import TINY_DM, cli, sets

REQUIRED = {"run_id", "experiment", "learner", "seed", "status", "config", "metrics", "wall_s"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["reproduce", "--set", "k=4"], "k=4 is even"),
        (["reproduce", "--set", "k=60"], "k=60 is out of range"),
        (["reproduce", "--set", "width=-4"], "width=-4 is out of range"),
        (["reproduce", "--set", "width=0"], "width=0 is out of range"),
        (["reproduce", "--set", "learners=['two-phaze']"], "did you mean 'two-phase'"),
        (["reproduce", "--set", "widht=10"], "did you mean 'width'"),
        (["reproduce", "--set", "two_phase.etta=3"], "did you mean 'eta'"),
        (["reproduce", "--set", "n=abc"], "n='abc' has the wrong type"),
        (["reproduce", "--set", "random_features.optimizer=adan"], "did you mean 'adam'"),
        (["reproduce", "no-such-experiment"], "unknown experiment"),
        (["reproduce", "--seeds", "0"], "seeds=0 is out of range"),
        (["reproduce", "--executor", "slurm"], "allowed local, inline, ray"),
        (["run", "/nonexistent/x.toml"], "does not exist"),
        (["results", "/nonexistent/dir"], "no results in"),
        (["bound", "--n", "5", "--k", "9", "--features", "10", "--norm", "1"], "k=9"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, needle, tmp_path):
    res = (
        cli(*args, "--out", str(tmp_path / "o")) if args[0] in ("reproduce", "run") else cli(*args)
    )
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert needle in lines[0]
    assert "Traceback" not in res.stderr


def test_malformed_toml_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("experiment = \n[config\n")
    res = cli("run", str(bad), "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "malformed TOML" in res.stderr


def test_reproduce_writes_records_table_and_report(tmp_path):
    out = tmp_path / "res"
    args = (
        "reproduce",
        "--out",
        str(out),
        *sets(TINY_DM),
        "--executor",
        "inline",
        "--set",
        "learners=['two-phase','linear-raw']",
    )
    res = cli(*args)
    assert res.returncode == 0, res.stderr
    assert "linear-threshold reference" in res.stdout and "two-phase" in res.stdout
    assert (out / "report.md").exists() and list(out.glob("*.png"))
    records = json.loads(cli("results", str(out), "--format", "json").stdout)
    assert len(records) == 2 * 3  # two learners, the experiment's three seeds
    assert sorted({r["seed"] for r in records}) == [0, 1, 2]
    for r in records:
        assert REQUIRED <= set(r)
        assert r["status"] == "ok"
        for key in (
            "test_acc",
            "test_hinge",
            "test_acc_easy",
            "test_acc_uniform",
            "test_hinge_easy",
            "test_hinge_uniform",
        ):
            assert 0.0 <= r["metrics"][key] <= 10.0
        assert r["config"]["n"] == 11
    raw = next(r for r in records if r["learner"] == "linear-raw")["metrics"]
    assert {"num_features", "weight_norm", "bound_certificate", "bound_typical"} <= set(raw)
    csv = cli("results", str(out), "--format", "csv").stdout.splitlines()
    assert len(csv) == 1 + len(records) and csv[0].startswith("run_id,")
    # a second identical invocation recomputes nothing
    again = cli(*args)
    assert again.returncode == 0 and f"0 run(s) done, {len(records)} already stored" in again.stderr


def test_bound_and_experiments_commands():
    res = cli("bound", "--n", "30", "--k", "5", "--features", "512", "--norm", "3")
    assert res.returncode == 0 and "142,506" in res.stdout
    res = cli("experiments")
    assert res.returncode == 0 and "dm-separation" in res.stdout


def test_missing_mnist_file_exits_2_before_any_run(tmp_path):
    res = cli(
        "reproduce",
        "digit-parity",
        "--set",
        "source=mnist",
        "--set",
        f"mnist_path={tmp_path / 'nope'}",
        "--out",
        str(tmp_path / "o"),
    )
    assert res.returncode == 2 and "does not exist" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_bad_executor_creates_no_results_directory(tmp_path):
    res = cli("reproduce", "--out", str(tmp_path / "o"), "--executor", "slurm")
    assert res.returncode == 2 and not (tmp_path / "o").exists()
    res = cli("reproduce", "--out", str(tmp_path / "o"), "--workers", "0")
    assert res.returncode == 2 and "--workers 0" in res.stderr and not (tmp_path / "o").exists()
