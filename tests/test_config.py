"""The config loader: every malformed input is a BadInput with one line, never a crash."""

import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paritylab.errors import BadInput
from paritylab.lab.builtin import builtin_names, builtin_path
from paritylab.lab.config import build_config, load_spec, spec_from_dict
from paritylab.lab.tasks import dm
from paritylab.learners import TwoPhase, get_learner

KEYS = [
    "n",
    "k",
    "width",
    "n_train",
    "seeds",
    "learners",
    "two_phase",
    "eta",
    "widht",
    "sweep",
    "config",
    "task",
    "lr",
    "steps",
    "kernel",
    "ntk_kernel",
    "ridge",
    "allow_even_k",
    "junk",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=6))
def test_generated_config_tables_load_or_raise_badinput(data):
    data = {"task": "dm", **data} if "task" not in data else data
    try:
        spec = spec_from_dict(data)
    except BadInput as err:
        assert "\n" not in str(err) and str(err)
    else:
        assert spec.runs()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_generated_toml_text_loads_or_raises_badinput(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "x.toml"
    path.write_text(text)
    try:
        load_spec(path)
    except BadInput as err:
        assert "\n" not in str(err)


@settings(max_examples=200, deadline=None)
@given(
    key=st.sampled_from(
        [
            "n",
            "k",
            "width",
            "two_phase.eta",
            "random_features.lr",
            "ntk_kernel.ridge",
            "joint_sgd.optimizer",
            "n_test",
            "easy_fraction",
        ]
    ),
    value=st.text(min_size=1, max_size=10).filter(lambda s: "\n" not in s and "\r" not in s),
)
def test_generated_overrides_load_or_raise_badinput(key, value):
    try:
        spec_from_dict({"task": "dm"}, [f"{key}={value}"])
    except BadInput as err:
        assert "\n" not in str(err)


def _settings(config: dict, learner: str):
    """The settings of ``learner`` in the first run of a dm spec with [config] ``config``."""
    spec = spec_from_dict({"task": "dm", "learners": [learner], "config": config})
    return spec.runs()[0]


def test_unknown_key_suggests_closest():
    with pytest.raises(BadInput, match="did you mean 'width'"):
        spec_from_dict({"task": "dm", "config": {"widht": 3}})
    with pytest.raises(BadInput, match=r"two_phase\.etaa.*did you mean 'eta'"):
        spec_from_dict({"task": "dm", "config": {"two_phase": {"etaa": 3}}})
    with pytest.raises(BadInput, match=r"two_phase\.etaa.*did you mean 'eta'"):
        build_config(TwoPhase, {"etaa": 3}, "two_phase.")


def test_types_ranges_and_auto():
    with pytest.raises(BadInput, match="expected int"):
        build_config(dm.DMConfig, {"n": 3.5})
    with pytest.raises(BadInput, match="expected bool"):
        build_config(dm.DMConfig, {"allow_even_k": 1})
    with pytest.raises(BadInput, match="out of range"):
        spec_from_dict({"task": "dm", "config": {"two_phase": {"lr": 0.0}}})
    with pytest.raises(BadInput, match="out of range"):
        build_config(TwoPhase, {"lr": 0.0}, "two_phase.")
    run = _settings({"two_phase": {"eta": "auto"}, "n": 20, "k": 3}, "two-phase")
    assert run.settings.eta is None and run.problem.n == 20
    assert _settings({"two_phase": {"eta": 7}}, "two-phase").settings.eta == 7.0


def test_empty_grid_and_bad_sweep_key():
    with pytest.raises(BadInput, match="empty list"):
        spec_from_dict({"task": "dm", "sweep": {"k": []}})
    with pytest.raises(BadInput, match="did you mean 'width'"):
        spec_from_dict({"task": "dm", "sweep": {"wdth": [2, 4]}})
    with pytest.raises(BadInput, match="k=4 is even"):
        spec_from_dict({"task": "dm", "sweep": {"k": [3, 4]}})


def test_override_replaces_swept_axis_and_sets_sweep():
    spec = spec_from_dict({"task": "dm", "sweep": {"k": [3, 5]}}, ["k=7"])
    assert spec.sweep == () and spec.runs()[0].problem.k == 7
    spec = spec_from_dict({"task": "dm"}, ["sweep.n=[40, 50]", "seeds=2"])
    assert len(spec.runs()) == 2 * 2 * len(dm.LEARNERS)
    # width is a learner setting: a learner without one (linear-raw, ntk-kernel) runs once per
    # seed, since its runs at the two widths would be the same run
    spec = spec_from_dict({"task": "dm"}, ["sweep.width=[8, 16]", "seeds=2"])
    with_width = [n for n in dm.LEARNERS if "width" in get_learner(n).__dataclass_fields__]
    assert set(dm.LEARNERS) - set(with_width) == {"linear-raw", "ntk-kernel"}
    assert len(spec.runs()) == 2 * (2 * len(with_width) + len(dm.LEARNERS) - len(with_width))
    assert {r.settings.width for r in spec.runs() if r.learner == "two-phase"} == {8, 16}


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_experiments_are_valid_toml_specs(name):
    tomllib.loads(builtin_path(name).read_text())
    spec = load_spec(builtin_path(name))
    assert spec.runs() and spec.description
