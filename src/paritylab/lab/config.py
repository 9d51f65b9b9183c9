"""Experiment specs: TOML files validated into frozen objects, overrides, sweep grids.

An experiment file::

    experiment = "dm-separation"      # name
    task = "dm"                       # task family (paritylab.lab.tasks)
    description = "one line"
    learners = ["two-phase", ...]     # a subset of the task's learners
    seeds = 3                         # seeds 0..seeds-1 (or seed_start..)
    seed_start = 0
    [config]                          # fields of the task's config dataclass
    n = 50
    [config.two_phase]                # nested tables for nested dataclasses
    eta = "auto"                      # optional fields take "auto" for their default rule
    [sweep]                           # list-valued fields expand into a cartesian grid
    k = [3, 5, 7]
    [[grid]]                          # optional blocks, each laid over [sweep]: their
    learners = ["random-features"]    # union is the experiment (e.g. one learner at
    width = [128, 2048]               # several feature counts)

``--set key=value`` overrides a config field (dotted keys for nested fields), or one of the
top-level keys ``learners``, ``seeds``, ``seed_start``, or a grid axis ``sweep.KEY``.
Every error is a ``BadInput`` naming the key, the bad value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from paritylab.errors import BadInput, check_range, suggest
from paritylab.lab.tasks import get_task

TOP_KEYS = (
    "grid",
    "experiment",
    "task",
    "description",
    "learners",
    "seeds",
    "seed_start",
    "config",
    "sweep",
)
AUTO = ("auto", "none")


@dataclass(frozen=True)
class RunSpec:
    """One run: a fully resolved config, a learner and a seed. ``run_id`` hashes all three."""

    experiment: str
    task: str
    learner: str
    seed: int
    config: object
    point: tuple  # ((swept key, value), ...) of this grid point

    @property
    def config_dict(self) -> dict:
        return dataclasses.asdict(self.config)

    @property
    def run_id(self) -> str:
        blob = json.dumps(
            {
                "task": self.task,
                "learner": self.learner,
                "seed": self.seed,
                "config": self.config_dict,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ExperimentSpec:
    """A validated experiment: task, learners, seeds, raw base config and sweep axes."""

    name: str
    task: str
    description: str
    learners: tuple[str, ...]
    seeds: int
    seed_start: int
    config: dict
    sweep: tuple[tuple[str, tuple], ...]
    grid: tuple[tuple[tuple[str, ...], tuple[tuple[str, tuple], ...]], ...] = ()

    def blocks(self):
        """(learners, axes) of each grid block: the [sweep] alone, or each [[grid]] entry
        laid over it (a block's axes replace the [sweep] axes of the same key)."""
        if not self.grid:
            return [(self.learners, self.sweep)]
        out = []
        for learners, axes in self.grid:
            own = dict(axes)
            merged = [(k, own.pop(k) if k in own else v) for k, v in self.sweep]
            out.append((learners or self.learners, (*merged, *own.items())))
        return out

    def runs(self) -> list[RunSpec]:
        """Every (grid point, learner, seed), each config validated; errors raise BadInput."""
        cls = get_task(self.task).CONFIG
        out, seen = [], set()
        for learners, axes in self.blocks():
            keys = [k for k, _ in axes]
            for values in itertools.product(*(v for _, v in axes)):
                raw = _deepcopy(self.config)
                for key, value in zip(keys, values, strict=True):
                    _set_dotted(raw, key, value)
                config = build_config(cls, raw)
                point = tuple(zip(keys, values, strict=True))
                for learner in learners:
                    for seed in range(self.seed_start, self.seed_start + self.seeds):
                        run = RunSpec(self.name, self.task, learner, seed, config, point)
                        if run.run_id not in seen:
                            seen.add(run.run_id)
                            out.append(run)
        return out

    def to_dict(self) -> dict:
        return {
            "experiment": self.name,
            "task": self.task,
            "description": self.description,
            "learners": list(self.learners),
            "seeds": self.seeds,
            "seed_start": self.seed_start,
            "config": self.config,
            "sweep": {k: list(v) for k, v in self.sweep},
            "grid": [{"learners": list(ls), **{k: list(v) for k, v in ax}} for ls, ax in self.grid],
        }


def load_spec(path: str | Path, overrides: list[str] = (), *, seeds: int | None = None):
    """Read an experiment TOML file, apply ``key=value`` overrides, validate everything."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(
            f"config file {str(path)!r} does not exist (expected a TOML experiment file)"
        )
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise BadInput(f"{path}: malformed TOML: {err}") from None
    return spec_from_dict(data, overrides, seeds=seeds, origin=str(path))


def spec_from_dict(data: dict, overrides=(), *, seeds: int | None = None, origin: str = "config"):
    """Validate a parsed experiment table (see module docstring) into an ExperimentSpec."""
    data = _deepcopy(data)
    for key in data:
        if key not in TOP_KEYS:
            raise BadInput(
                f"{origin}: unknown top-level key {key!r}{suggest(key, TOP_KEYS)}; "
                f"allowed: {', '.join(TOP_KEYS)}"
            )
    for item in overrides:
        _apply_override(data, item)
    if seeds is not None:
        data["seeds"] = seeds
    task_name = _typed(data.get("task", "dm"), str, "task")
    task = get_task(task_name)
    name = _typed(data.get("experiment", task_name), str, "experiment")
    learners = data.get("learners", list(task.LEARNERS))
    if isinstance(learners, str):
        learners = [learners]
    if not isinstance(learners, list) or not learners:
        raise BadInput(
            f"learners={learners!r} must be a non-empty list; allowed: {', '.join(task.LEARNERS)}"
        )
    _check_learners(learners, task)
    n_seeds = _typed(data.get("seeds", 1), int, "seeds")
    check_range("seeds", n_seeds, lo=1)
    seed_start = _typed(data.get("seed_start", 0), int, "seed_start")
    check_range("seed_start", seed_start, lo=0)
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise BadInput(f"[config] must be a table, got {config!r}")
    sweep = data.get("sweep", {})
    if not isinstance(sweep, dict):
        raise BadInput(f"[sweep] must be a table of lists, got {sweep!r}")
    axes = _axes(task.CONFIG, sweep, "sweep")
    grid = data.get("grid", [])
    if not isinstance(grid, list) or not all(isinstance(b, dict) for b in grid):
        raise BadInput("[[grid]] must be an array of tables (each: learners = [...], axes)")
    blocks = []
    for i, block in enumerate(grid):
        block = dict(block)
        block_learners = block.pop("learners", [])
        block_learners = [block_learners] if isinstance(block_learners, str) else block_learners
        if not isinstance(block_learners, list):
            raise BadInput(f"grid[{i}].learners must be a list of learner names")
        _check_learners(block_learners, task)
        blocks.append((tuple(block_learners), tuple(_axes(task.CONFIG, block, f"grid[{i}]"))))
    build_config(task.CONFIG, config)  # fail early on the base config
    spec = ExperimentSpec(
        name,
        task_name,
        _typed(data.get("description", ""), str, "description"),
        tuple(learners),
        n_seeds,
        seed_start,
        config,
        tuple(axes),
        tuple(blocks),
    )
    runs = spec.runs()  # every grid point validated before anything runs
    preflight = getattr(task, "preflight", None)
    if preflight is not None:  # e.g. data files exist and parse
        for config in {json.dumps(r.config_dict, sort_keys=True): r.config for r in runs}.values():
            preflight(config)
    return spec


def _check_learners(learners, task) -> None:
    for learner in learners:
        if learner not in task.LEARNERS:
            raise BadInput(
                f"unknown learner {learner!r}{suggest(str(learner), task.LEARNERS)}; "
                f"allowed: {', '.join(task.LEARNERS)}"
            )


def _axes(cls, table: dict, where: str) -> list[tuple[str, tuple]]:
    """Grid axes of a [sweep] or [[grid]] table: every value a non-empty list."""
    axes = []
    for key, values in _flatten(table):
        if not isinstance(values, list):
            values = [values]
        if not values:
            raise BadInput(f"{where}.{key} is an empty list: the grid would have no points")
        _field_type(cls, key)  # unknown keys fail here, with a suggestion
        axes.append((key, tuple(values)))
    return axes


def build_config(cls, raw: dict, prefix: str = ""):
    """Build the frozen dataclass ``cls`` from a (nested) dict, checking keys, types, ranges."""
    if not isinstance(raw, dict):
        raise BadInput(f"{prefix.rstrip('.') or 'config'} must be a table, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in raw:
        if key not in fields:
            raise BadInput(
                f"unknown key {prefix + key!r}{suggest(key, fields)}; "
                f"allowed: {', '.join(prefix + f for f in fields)}"
            )
    values = {}
    for name, f in fields.items():
        if name not in raw:
            continue
        full, tp, value = prefix + name, hints[name], raw[name]
        if dataclasses.is_dataclass(tp):
            values[name] = build_config(tp, value, full + ".")
            continue
        value = _coerce(value, tp, full)
        if value is not None:
            meta = f.metadata
            if "choices" in meta and value not in meta["choices"]:
                raise BadInput(
                    f"{full}={value!r} is not allowed{suggest(str(value), meta['choices'])}; "
                    f"allowed: {', '.join(map(str, meta['choices']))}"
                )
            if isinstance(value, int | float) and not isinstance(value, bool):
                check_range(
                    full,
                    value,
                    lo=meta.get("min"),
                    hi=meta.get("max"),
                    lo_open=meta.get("min_open", False),
                )
        values[name] = value
    config = cls(**values)
    if hasattr(config, "check"):
        config.check()
    return config


def _coerce(value, tp, name):
    """Check ``value`` against type ``tp`` (int, float, bool, str, X | None, tuple[X, ...])."""
    args = typing.get_args(tp)
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        if value is None or (isinstance(value, str) and value.lower() in AUTO):
            return None
        inner = next(a for a in args if a is not type(None))
        return _coerce(value, inner, name)
    if typing.get_origin(tp) is tuple:
        if not isinstance(value, list | tuple):
            raise BadInput(f"{name}={value!r} has the wrong type: expected a list")
        return tuple(_coerce(v, args[0], name) for v in value)
    return _typed(value, tp, name)


def _typed(value, tp, name):
    ok = {
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        bool: isinstance(value, bool),
        str: isinstance(value, str),
    }[tp]
    if not ok:
        raise BadInput(f"{name}={value!r} has the wrong type: expected {tp.__name__}")
    return float(value) if tp is float else value


def _field_type(cls, dotted: str):
    parts = dotted.split(".")
    hints = typing.get_type_hints(cls)
    head = parts[0]
    if head not in hints:
        raise BadInput(f"unknown key {dotted!r}{suggest(head, hints)}; allowed: {', '.join(hints)}")
    if len(parts) == 1:
        return hints[head]
    if not dataclasses.is_dataclass(hints[head]):
        raise BadInput(f"{head!r} has no sub-keys (got {dotted!r})")
    return _field_type(hints[head], ".".join(parts[1:]))


def _apply_override(data: dict, item: str) -> None:
    if "=" not in item:
        raise BadInput(f"--set {item!r} must look like key=value (e.g. --set n=40)")
    key, text = (s.strip() for s in item.split("=", 1))
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text  # a bare word such as adam
    if key in ("learners", "seeds", "seed_start", "experiment", "description", "task"):
        data[key] = value
    elif key.startswith("sweep."):
        data.setdefault("sweep", {})[key[len("sweep.") :]] = value
    else:
        _set_dotted(data.setdefault("config", {}), key, value)
        data.setdefault("sweep", {}).pop(key, None)  # a fixed value replaces a swept axis


def _set_dotted(raw: dict, key: str, value) -> None:
    *parents, last = key.split(".")
    node = raw
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise BadInput(f"{key!r}: {p!r} is not a table")
    node[last] = value


def _flatten(table: dict, prefix: str = ""):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _flatten(value, prefix + key + ".")
        else:
            yield prefix + key, value


def _deepcopy(d):
    return json.loads(json.dumps(d))
