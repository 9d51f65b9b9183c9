"""Malformed input, generated: experiment tables and TOML files with wrong types, unknown keys,
NaN / inf, negative, huge and empty values, and command lines with bad option values. Every
one is refused with one line (``BadInput`` in the library; exit 2, ``paritylab: error: ...`` and
no traceback on the command line); absurd sizes are refused against this machine's resources."""

import dataclasses
import datetime
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paritylab
from paritylab.errors import BadInput
from paritylab.lab.config import MAX_INT, ExperimentSpec, load_spec, spec_from_dict
from paritylab.lab.limits import MAX_RUNS, check_runs, estimate_run, plan_workers
from paritylab.lab.store import Store
from tests.helpers import cli

BASE = {
    "experiment": "t",
    "task": "dm",
    "learners": ["linear-raw", "two-phase"],
    "seeds": 1,
    "config": {"n": 11, "k": 3, "width": 16, "n_train": 400, "n_test": 400, "steps": 40},
}
# (path, kind): where a value goes and what type the key takes
INT_KEYS = [
    ("config.n", 1),
    ("config.k", 1),
    ("config.width", 1),
    ("config.n_train", 2),
    ("config.n_test", 1),
    ("config.steps", 1),
    ("config.batch_size", 1),
    ("config.two_phase.width", 1),
    ("config.linear_raw.steps", 1),
    ("seeds", 1),
]
FLOAT_KEYS = [
    "config.lr",
    "config.l2",
    "config.easy_fraction",
    "config.weight_decay",
    "config.init_scale",
    "config.two_phase.eta",
    "config.linear_raw.lr",
]
STR_KEYS = ["config.optimizer", "config.loss", "experiment", "task", "description"]


def _known_names() -> set[str]:
    """Every name that is a valid key somewhere (so a generated unknown key never is one)."""
    from paritylab.lab.config import TOP_KEYS
    from paritylab.lab.tasks import TASK_MODULES, get_task
    from paritylab.learners import get_learner, learner_names

    names = set(TOP_KEYS)
    for task in TASK_MODULES:
        names |= {f.name for f in dataclasses.fields(get_task(task).CONFIG)}
    for learner in learner_names():
        names |= {f.name for f in dataclasses.fields(get_learner(learner))}
        names |= {learner, learner.replace("-", "_")}
    return names


KNOWN = _known_names()


def _put(data: dict, path: str, value) -> dict:
    data = json.loads(json.dumps(data))
    *parents, last = path.split(".")
    node = data
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value
    return data


not_int = st.one_of(
    st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not float(x).is_integer()),
    st.just(3.0),
    st.booleans(),
    st.lists(st.integers(), min_size=1, max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(None),
    st.dates(),
)
not_float = st.one_of(
    st.text(max_size=8).filter(lambda t: t.strip().lower() not in ("auto", "none")),
    st.booleans(),
    st.lists(st.floats(), min_size=1, max_size=2),
    st.dictionaries(st.text(max_size=3), st.floats(), max_size=2),
    st.datetimes(),
)
not_str = st.one_of(st.integers(), st.floats(), st.booleans(), st.lists(st.integers(), min_size=1))
unknown_key = st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True).filter(lambda k: k not in KNOWN)


@st.composite
def malformed(draw):
    """One valid experiment table with one thing wrong in it."""
    kind = draw(st.sampled_from(list(MUTATIONS)))
    return kind, draw(MUTATIONS[kind])


MUTATIONS = {
    "wrong int type": st.tuples(st.sampled_from([k for k, _ in INT_KEYS]), not_int).map(
        lambda kv: _put(BASE, *kv)
    ),
    "wrong float type": st.tuples(st.sampled_from(FLOAT_KEYS), not_float).map(
        lambda kv: _put(BASE, *kv)
    ),
    "wrong str type": st.tuples(st.sampled_from(STR_KEYS), not_str).map(lambda kv: _put(BASE, *kv)),
    "non-finite": st.tuples(
        st.sampled_from(FLOAT_KEYS), st.sampled_from([math.nan, math.inf, -math.inf])
    ).map(lambda kv: _put(BASE, *kv)),
    "negative size": st.sampled_from(INT_KEYS).flatmap(
        lambda kl: st.integers(-(2**40), kl[1] - 1).map(lambda v: _put(BASE, kl[0], v))
    ),
    "huge size": st.tuples(
        st.sampled_from([k for k, _ in INT_KEYS] + ["seed"]), st.integers(MAX_INT + 1, 2**80)
    ).map(lambda kv: _put(BASE, *kv)),
    "unknown key": st.tuples(
        st.sampled_from(["", "config.", "config.two_phase."]), unknown_key
    ).map(lambda pk: _put(BASE, pk[0] + pk[1], 1)),
    "empty list": st.sampled_from(
        [
            _put(BASE, "learners", []),
            _put(BASE, "sweep", {"k": []}),
            _put(BASE, "sweep", {"two_phase": {"eta": []}}),
            _put(BASE, "grid", [{"learners": ["linear-raw"], "width": []}]),
        ]
    ),
    "wrong structure": st.sampled_from(
        [
            _put(BASE, "config", [1, 2]),
            _put(BASE, "config", "n=3"),
            _put(BASE, "sweep", [1]),
            _put(BASE, "sweep", 3),
            _put(BASE, "grid", {"learners": ["x"]}),
            _put(BASE, "grid", [1, 2]),
            _put(BASE, "grid", [{"learners": 5}]),
            _put(BASE, "plugins", 5),
            _put(BASE, "plugins", [5]),
            _put(BASE, "plugins", ["/nonexistent/p.py"]),
            _put(BASE, "learners", "no-such-learner"),
            _put(BASE, "learners", [1, 2]),
            _put(BASE, "config.two_phase", 5),
            _put(BASE, "config.n", {"a": 1}),
            _put(BASE, "seed", -1),
            {**BASE, "seed": 1, "seed_start": 1},
            {},
        ]
    ),
    "too many runs": st.integers(MAX_RUNS // 2 + 1, MAX_RUNS).map(lambda s: _put(BASE, "seeds", s)),
}


def _one_line(err: BaseException) -> None:
    assert "\n" not in str(err), str(err)
    assert str(err).strip(), "an empty message"


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(malformed())
def test_malformed_experiment_tables_are_refused_in_one_line(case):
    _kind, data = case
    with pytest.raises(BadInput) as err:
        spec_from_dict(data)
    _one_line(err.value)


def _toml(value) -> str:
    """A tiny TOML writer for the corpus (inline tables and arrays)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def _contains_none(value) -> bool:
    if isinstance(value, dict):
        return any(_contains_none(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_none(v) for v in value)
    return value is None


FOLDER = Path(tempfile.mkdtemp(prefix="paritylab-bad-input-"))


@settings(max_examples=150, deadline=None, database=None)
@given(malformed().filter(lambda case: not _contains_none(case[1])))
def test_malformed_toml_files_are_refused_in_one_line(case):
    _kind, data = case
    path = FOLDER / "bad.toml"
    path.write_text("".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in data.items()))
    with pytest.raises(BadInput) as err:
        load_spec(path)
    _one_line(err.value)


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=60))
def test_any_text_as_a_toml_file_is_a_spec_or_one_line(text):
    path = FOLDER / "any.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        assert isinstance(load_spec(path), ExperimentSpec)
    except BadInput as err:
        _one_line(err)
    except UnicodeEncodeError:  # surrogates: not a file anyone can write
        pass


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([k for k, _ in INT_KEYS] + FLOAT_KEYS + STR_KEYS),
            st.from_regex(r"[A-Za-z0-9.\-+_\[\]'\" ]{0,10}", fullmatch=True),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_set_overrides_are_a_spec_or_one_line(items):
    overrides = [f"{key.removeprefix('config.')}={value}" for key, value in items]
    try:
        spec_from_dict(BASE, overrides)
    except BadInput as err:
        _one_line(err)


# ---------------------------------------------------------------------------------------------
# sizes against this machine


def _runs(**config):
    data = _put(BASE, "config", {**BASE["config"], **config})
    return spec_from_dict(data).runs()


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"width": 1_000_000_000}, "of memory per run"),
        ({"n": 2_000_000_000, "k": 3}, "of memory per run"),
        ({"n_train": 2_000_000_000}, "of memory per run"),
        ({"steps": 2_000_000_000}, "per run, mostly steps"),
    ],
)
def test_absurd_sizes_are_refused_naming_size_and_limit(config, needle):
    with pytest.raises(BadInput, match=needle) as err:
        check_runs(_runs(**config), force=False)
    _one_line(err.value)
    assert "--force" in str(err.value) and "PARITYLAB_FORCE" in str(err.value)
    check_runs(_runs(**config), force=True)  # the override


def test_builtin_sizes_pass_and_estimates_are_sane():
    from paritylab.lab.builtin import builtin_path

    for name in ("dm-separation", "dm-scaling", "digit-parity", "hidden-progress", "grokking"):
        runs = load_spec(builtin_path(name)).runs()
        largest = check_runs(runs, force=False)
        assert largest.memory < 8 << 30 and largest.seconds < 24 * 3600, name
    small = estimate_run({"n": 11, "width": 16, "n_train": 400, "n_test": 400, "steps": 40})
    big = estimate_run({"n": 11, "width": 16_000, "n_train": 400, "n_test": 400, "steps": 40})
    assert small.memory < big.memory and small.seconds < big.seconds


def test_workers_are_capped_at_cores_and_runs_with_a_note():
    workers, notes = plan_workers(100_000, 12, None, force=False)
    assert 1 <= workers <= 12 and len(notes) == 1 and "--workers 100000 capped at" in notes[0]
    assert plan_workers(None, 1, None, force=False) == (1, [])
    assert plan_workers(100_000, 12, None, force=True) == (12, [])


def test_run_count_is_checked_before_any_run_is_built():
    data = _put(BASE, "sweep", {"k": [3, 5, 7], "n_test": list(range(1, 1001))})
    data["seeds"] = 1000
    with pytest.raises(BadInput, match="6,000,000 runs"):
        spec_from_dict(data)  # returns at once: 6e6 runs are never listed


# ---------------------------------------------------------------------------------------------
# the command line: one line, exit 2, no traceback


def _assert_one_line(res, code=2, needle=""):
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == code, res.stderr
    assert len(lines) == 1 and lines[0].startswith("paritylab: error:"), res.stderr
    assert needle in lines[0], lines[0]
    assert "Traceback" not in res.stderr and "usage:" not in res.stderr


@settings(max_examples=12, deadline=None, database=None)
@given(
    st.one_of(
        st.tuples(
            st.sampled_from([["reproduce"], ["run", "x.toml"]]),
            st.sampled_from(["--workers", "--seeds", "--retries"]),
            st.from_regex(r"[a-z.]{1,6}|1\.5|1e9|", fullmatch=True),
        ),
        st.tuples(
            st.just(["results", "dir"]),
            st.just("--format"),
            st.sampled_from(["xml", "yaml", "", "TABLE"]),
        ),
        st.tuples(
            st.just(["bound", "--n", "30", "--k", "5", "--norm", "1"]),
            st.just("--features"),
            st.sampled_from(["nan", "inf", "-inf", "x", "1e999"]),
        ),
    )
)
def test_bad_option_values_exit_2_with_one_line(case):
    command, option, value = case
    _assert_one_line(cli(*command, option, value, timeout=60))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["reproduce", "--out", ""], "--out '' is empty"),
        (["reproduce", "--set", "lr=nan"], "lr=nan is not a finite number"),
        (["reproduce", "--set", "n=1979-05-27"], "not a date or time"),
        (["reproduce", "--seeds", "1000000000"], "seeds=1000000000 is out of range"),
        (["reproduce", "--seeds", "200000"], "1,200,000 runs"),
        (["reproduce", "--set", "steps=1000000000000"], "steps=1000000000000 is out of range"),
        (["reproduce", "--set", "width=1000000000"], "of memory per run"),
        (["reproduce", "--retries", "-1"], "--retries -1 is out of range"),
        (["experiments", "--frobnicate"], "unrecognized arguments"),
        ([], "required"),
    ],
)
def test_bad_command_lines_exit_2_with_one_line(args, needle, tmp_path):
    if args[:1] == ["reproduce"] and "--out" not in args:
        args = [*args, "--out", str(tmp_path / "o")]
    _assert_one_line(cli(*args, timeout=120), needle=needle)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "has no keys"),
        ("# only a comment\n\n", "has no keys"),
        ('task = "dm"\n[config]\nlr = inf\n', "lr=inf is not a finite number"),
        ('task = "dm"\n[config]\nn = nan\n', "n=nan has the wrong type"),
    ],
)
def test_bad_toml_files_exit_2_with_one_line(text, needle, tmp_path):
    path = tmp_path / "x.toml"
    path.write_text(text)
    _assert_one_line(
        cli("run", str(path), "--out", str(tmp_path / "o"), timeout=120), needle=needle
    )


def test_bound_with_a_huge_binomial_is_computed_in_log_space():
    res = cli("bound", "--n", "3000", "--k", "1500", "--features", "5", "--norm", "1")
    assert res.returncode == 0, res.stderr
    assert "C(n,k) = 10^901.25" in res.stdout and "= 0.500000" in res.stdout


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_results_into_a_closed_pipe_ends_quietly_with_141(fmt, tmp_path):
    from tests.test_chaos import tiny_runs

    with Store(tmp_path) as store:
        for run in tiny_runs(300):
            store.write(run, {"status": "ok", "metrics": {"test_acc": 0.5}, "traces": {}})
    env = {**os.environ, "PYTHONPATH": str(Path(paritylab.__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "paritylab.cli", "results", str(tmp_path), "--format", fmt],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.close()  # `| head` that has read its lines: nobody reads any more
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == ""
