"""Every built-in experiment runs at a tiny size (so none can rot): every grid point is
validated, and the first run of each learner executes and returns finite metrics."""

import math

import pytest

from paritylab.lab.builtin import builtin_names, builtin_path
from paritylab.lab.config import load_spec
from paritylab.lab.worker import execute
from tests.helpers import TINY_DM

TINY = {
    "dm": TINY_DM,
    "digits": ["width=8", "epochs=1", "tuples_per_epoch=256", "test_tuples=128", "batch_size=64"],
    "online": ["n=10", "k=2", "width=16", "max_steps=200", "eval_every=50", "eval_size=256"],
}


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_experiment_runs_at_tiny_size(name):
    import tomllib

    task = tomllib.loads(builtin_path(name).read_text()).get("task", "dm")
    spec = load_spec(builtin_path(name), TINY[task], seeds=1)
    first = {}
    for run in spec.runs():
        first.setdefault(run.learner, run)
    assert set(first) == set(spec.learners)
    for run in first.values():
        out = execute(run)
        assert out["status"] == "ok", out.get("error")
        assert "test_acc" in out["metrics"]
        assert all(math.isfinite(v) for v in out["metrics"].values() if isinstance(v, float)), out[
            "metrics"
        ]
