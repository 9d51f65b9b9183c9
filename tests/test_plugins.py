"""The "add a learner" and "add a target" guides in docs/ followed literally: their code
blocks are written to files as the guides say and run with ``paritylab run``."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from paritylab.theory import linear_threshold_reference
from tests.helpers import cli

DOCS = Path(__file__).resolve().parent.parent / "docs" / "guides"


def _files_of(guide: str, folder: Path) -> list[Path]:
    """Write every ```lang title="NAME" block of a guide to folder/NAME."""
    text = (DOCS / guide).read_text()
    blocks = re.findall(r'```\w+ title="([^"]+)"\n(.*?)```', text, flags=re.S)
    assert blocks, f"{guide} has no titled code blocks"
    paths = []
    for name, body in blocks:
        (folder / name).write_text(body)
        paths.append(folder / name)
    return paths


def _records(out: Path) -> list[dict]:
    res = cli("results", str(out), "--format", "json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.mark.slow
def test_add_a_learner_guide(tmp_path):
    files = _files_of("add-a-learner.md", tmp_path)
    toml = next(p for p in files if p.suffix == ".toml")
    out = tmp_path / "results"
    res = cli("run", str(toml), "--out", str(out), "--workers", "2", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    records = _records(out)
    assert {r["learner"] for r in records} == {"hebbian", "two-phase"}
    assert all(r["status"] == "ok" for r in records)
    ref = linear_threshold_reference(3)["uniform"]
    for r in records:
        m = r["metrics"]
        if r["learner"] == "hebbian":
            # Linear in x: right on the easy part, at most the reference on the uniform part
            # (2,000 test points, about 1,000 per part: binomial s.e. <= 0.016; 3 s.e. allowed).
            assert m["test_acc_easy"] >= 0.95
            assert m["test_acc_uniform"] <= ref + 3 * 0.016
            assert m["weight_norm"] > 0
        else:
            assert m["test_acc_uniform"] >= 0.95
    # The learner's key derives from its name and seed: the two seeds differ, a rerun does not.
    again = cli("run", str(toml), "--out", str(out), cwd=tmp_path)
    assert again.returncode == 0 and "already stored" in again.stderr


@pytest.mark.slow
def test_add_a_target_guide(tmp_path):
    files = _files_of("add-a-target.md", tmp_path)
    toml = next(p for p in files if p.suffix == ".toml")
    out = tmp_path / "results"
    res = cli("run", str(toml), "--out", str(out), "--workers", "2", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    records = _records(out)
    assert len(records) == 2 and all(r["status"] == "ok" for r in records)
    for r in records:
        m = r["metrics"]
        assert m["success"], m
        assert m["test_rel_mse"] <= 0.05
        assert np.isfinite(m["t_c"])
