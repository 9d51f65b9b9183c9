"""Experiment specs: TOML files validated into frozen objects, overrides, sweep grids.

An experiment file::

    experiment = "dm-separation"      # name
    task = "dm"                       # problem family (paritylab.lab.tasks)
    description = "one line"
    learners = ["two-phase", ...]     # learners of the task (default: the task's own list)
    seeds = 3                         # seeds seed .. seed + seeds - 1
    seed = 0
    plugins = ["my_learner.py"]       # optional: files (relative to this one) or modules that
                                      # register learners or targets, imported first
    [config]                          # the problem's fields, and learner settings:
    n = 50                            #   a problem field
    width = 512                       #   a learner field: applies to every learner that has it
    [config.two_phase]                # one learner's own settings (its name, - or _)
    eta = "auto"                      # optional fields take "auto" for their default rule
    [sweep]                           # list-valued keys expand into a cartesian grid
    k = [3, 5, 7]
    [[grid]]                          # optional blocks, each laid over [sweep]: their
    learners = ["random-features"]    # union is the experiment (e.g. one learner at
    width = [128, 2048]               # several feature counts)

``--set key=value`` overrides any of these keys (dotted for learner tables), a top-level key
(``learners``, ``seeds``, ``seed``) or a grid axis ``sweep.KEY``. Every error is a ``BadInput``
naming the key, the bad value and what is allowed.

Run identity: a run is (problem config, learner, that learner's settings and version, seed);
its id hashes exactly these, so a knob added to one learner leaves every other learner's
stored runs valid.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import itertools
import json
import math
import sys
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from paritylab.errors import BadInput, check_range, suggest
from paritylab.lab.limits import MAX_RUNS, count_runs
from paritylab.lab.tasks import get_task, task_learners

LAYOUT = 2  # version of the run-id layout; records of layout 1 hashed the whole task config
# Version of the validation stream of tuned runs, part of their ids: 1 replayed the first
# training rows as validation (a key derivation that collided with the training stream).
VALIDATION_STREAM = 2
MAX_INT = 2**31 - 1  # the largest integer setting (sizes, steps, seeds): jax counts in int32
TOP_KEYS = (
    "experiment",
    "task",
    "description",
    "learners",
    "seeds",
    "seed",
    "seed_start",
    "plugins",
    "config",
    "sweep",
    "grid",
)
AUTO = ("auto", "none")


@dataclass(frozen=True)
class RunSpec:
    """One run: a problem config, a learner's settings and a seed.

    Attributes:
        experiment: experiment name.
        task: task name.
        learner: learner name.
        seed: seed.
        problem: the task's frozen problem config.
        settings: the learner (a frozen settings dataclass).
        point: ((swept key, value), ...) of this grid point.
        plugins: plugin files or modules to import before running.
    """

    experiment: str
    task: str
    learner: str
    seed: int
    problem: object
    settings: object
    point: tuple
    plugins: tuple[str, ...] = ()

    @property
    def config_dict(self) -> dict:
        """The resolved problem fields and learner settings, as one flat dict."""
        return {**dataclasses.asdict(self.problem), **dataclasses.asdict(self.settings)}

    @property
    def run_id(self) -> str:
        """sha256 of (layout, task, problem, learner, its version and settings, seed)."""
        blob = json.dumps(
            {
                "layout": LAYOUT,
                "task": self.task,
                "problem": dataclasses.asdict(self.problem),
                "learner": self.learner,
                "version": type(self.settings).version,
                "settings": dataclasses.asdict(self.settings),
                "seed": self.seed,
                # A tuned run also depends on its learner's grid and its validation stream.
                **(
                    {"grid": type(self.settings).TUNING_GRID, "validation": VALIDATION_STREAM}
                    if getattr(self.problem, "tune", False)
                    else {}
                ),
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
    plugins: tuple[str, ...] = ()

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
        """Every (grid point, learner, seed), each config validated; errors raise BadInput
        (also when there would be more than ``limits.MAX_RUNS`` runs: checked before any is
        built)."""
        check_run_count(self)
        task = get_task(self.task)
        out, seen = [], set()
        for learners, axes in self.blocks():
            keys = [k for k, _ in axes]
            for values in itertools.product(*(v for _, v in axes)):
                raw = _deepcopy(self.config)
                for key, value in zip(keys, values, strict=True):
                    _set_dotted(raw, key, value)
                problem, per_learner = resolve(task, raw)
                point = tuple(zip(keys, values, strict=True))
                check_run = getattr(task, "check_run", None)
                for learner in learners:
                    settings = per_learner(learner)
                    if check_run is not None:  # problem x learner constraints
                        check_run(problem, settings)
                    for seed in range(self.seed_start, self.seed_start + self.seeds):
                        run = RunSpec(
                            self.name,
                            self.task,
                            learner,
                            seed,
                            problem,
                            settings,
                            point,
                            self.plugins,
                        )
                        if run.run_id not in seen:
                            seen.add(run.run_id)
                            out.append(run)
        return out

    def to_dict(self) -> dict:
        """The spec as a plain (JSON-able) dict, as stored beside the runs."""
        return {
            "experiment": self.name,
            "task": self.task,
            "description": self.description,
            "learners": list(self.learners),
            "seeds": self.seeds,
            "seed": self.seed_start,
            "plugins": list(self.plugins),
            "config": self.config,
            "sweep": {k: list(v) for k, v in self.sweep},
            "grid": [{"learners": list(ls), **{k: list(v) for k, v in ax}} for ls, ax in self.grid],
        }


def table_name(key: str) -> str:
    """A learner table's key in [config] names the learner, with '_' read as '-'."""
    return key.replace("_", "-")


def resolve(task, raw: dict):
    """Split a raw [config] table into the problem config and a per-learner settings builder.

    Args:
        task: the task module.
        raw: the [config] table (problem fields, shared learner fields, learner tables).

    Returns:
        (problem config, ``settings(learner_name) -> Learner``).
    """
    from paritylab.learners import get_learner

    problem_fields = {f.name for f in dataclasses.fields(task.CONFIG)}
    names = task_learners(task)
    classes = {name: get_learner(name) for name in names}
    learner_fields = {f.name for c in classes.values() for f in dataclasses.fields(c)}
    problem_raw, shared, tables = {}, {}, {}
    for key, value in raw.items():
        if key in problem_fields:
            problem_raw[key] = value
        elif table_name(key) in classes and isinstance(value, dict):
            tables.setdefault(table_name(key), {}).update(value)
        elif key in learner_fields:
            shared[key] = value
        else:
            allowed = sorted(problem_fields | learner_fields | {n.replace("-", "_") for n in names})
            raise BadInput(
                f"unknown key {key!r}{suggest(key, allowed)}; allowed in [config] / --set: "
                f"{', '.join(allowed)}; top-level keys: {', '.join(TOP_KEYS)} (--set sweep.KEY for "
                "an axis)"
            )
    problem = build_config(task.CONFIG, problem_raw)

    def settings(name: str):
        cls = classes.get(name) or get_learner(name)
        own = {f.name for f in dataclasses.fields(cls)}
        merged = {k: v for k, v in shared.items() if k in own}
        prefix = name.replace("-", "_") + "."
        for key, value in tables.get(name, {}).items():
            if key not in own:
                raise BadInput(
                    f"unknown key {prefix + key!r}{suggest(key, own)}; "
                    f"allowed: {', '.join(prefix + f for f in sorted(own))}"
                )
            merged[key] = value
        # A shared value is named as written (e.g. optimizer), a table value with its prefix.
        names = {k: (prefix + k if k in tables.get(name, {}) else k) for k in merged}
        return build_config(cls, merged, prefix, names=names)

    return problem, settings


def load_spec(path: str | Path, overrides: list[str] = (), *, seeds: int | None = None):
    """Read an experiment TOML file, apply ``key=value`` overrides, validate everything.

    Args:
        path: the TOML file.
        overrides: ``--set`` items.
        seeds: number of seeds (the ``--seeds`` option), or None.

    Returns:
        the ``ExperimentSpec``.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(
            f"config file {str(path)!r} does not exist (expected a TOML experiment file)"
        )
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise BadInput(f"{path}: malformed TOML: {first}") from None
    return spec_from_dict(data, overrides, seeds=seeds, origin=str(path), base=path.parent)


def spec_from_dict(
    data: dict,
    overrides=(),
    *,
    seeds: int | None = None,
    origin: str = "config",
    base: Path | None = None,
):
    """Validate a parsed experiment table (see module docstring) into an ExperimentSpec.

    Args:
        data: the parsed table.
        overrides: ``--set`` items.
        seeds: number of seeds, overriding the table's.
        origin: where the table came from (for messages).
        base: folder that relative plugin paths are resolved against.

    Returns:
        the ``ExperimentSpec``; every run is validated and preflighted.
    """
    if not isinstance(data, dict):
        raise BadInput(f"{origin}: an experiment must be a table of keys, got {data!r}")
    if not data:
        raise BadInput(
            f"{origin}: the experiment has no keys: it needs at least `task` (and usually "
            "`learners` and a [config] table; `paritylab experiments` lists files to copy)"
        )
    _check_plain(data, "")
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
    plugins = tuple(load_plugins(data.get("plugins", []), base or Path.cwd()))
    task_name = _typed(data.get("task", "dm"), str, "task")
    task = get_task(task_name)
    name = _typed(data.get("experiment", task_name), str, "experiment")
    learners = data.get("learners", list(task.LEARNERS))
    if isinstance(learners, str):
        learners = [learners]
    allowed = task_learners(task)
    if not isinstance(learners, list) or not learners:
        raise BadInput(
            f"learners={learners!r} must be a non-empty list; allowed: {', '.join(allowed)}"
        )
    _check_learners(learners, allowed)
    n_seeds = _typed(data.get("seeds", 1), int, "seeds")
    check_range("seeds", n_seeds, lo=1, hi=MAX_RUNS)
    if "seed" in data and "seed_start" in data:
        raise BadInput("seed and seed_start both set: they are the same key (the first seed)")
    seed_start = _typed(data.get("seed", data.get("seed_start", 0)), int, "seed")
    check_range("seed", seed_start, lo=0, hi=MAX_INT)
    if seed_start + n_seeds - 1 > MAX_INT:
        raise BadInput(
            f"seed={seed_start} with seeds={n_seeds} reaches seed {seed_start + n_seeds - 1}: "
            f"allowed seeds are 0 to {MAX_INT}"
        )
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise BadInput(f"[config] must be a table, got {config!r}")
    sweep = data.get("sweep", {})
    if not isinstance(sweep, dict):
        raise BadInput(f"[sweep] must be a table of lists, got {sweep!r}")
    axes = _axes(task, sweep, "sweep")
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
        _check_learners(block_learners, allowed)
        blocks.append((tuple(block_learners), tuple(_axes(task, block, f"grid[{i}]"))))
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
        plugins,
    )
    runs = spec.runs()  # every grid point and learner validated before anything runs
    preflight = getattr(task, "preflight", None)
    if preflight is not None:  # e.g. data files exist and parse
        distinct = {json.dumps(dataclasses.asdict(r.problem), sort_keys=True): r for r in runs}
        for run in distinct.values():
            preflight(run.problem)
    return spec


def check_run_count(spec: ExperimentSpec) -> None:
    """Raise BadInput when ``spec`` has more than ``limits.MAX_RUNS`` runs, counted
    arithmetically (grid points x learners x seeds per block) before any run is built."""
    total = count_runs(spec.blocks(), spec.seeds)
    if total > MAX_RUNS:
        raise BadInput(
            f"the experiment has {total:,} runs (grid points x learners x seeds={spec.seeds}); "
            f"at most {MAX_RUNS:,} are allowed: lower --seeds or the grid"
        )


def load_plugins(items, base: Path) -> list[str]:
    """Import plugin files (paths relative to ``base``) or modules; return their resolved names.

    A plugin registers learners (``paritylab.learners.register_learner``) or targets
    (``paritylab.data.register_target``) when imported.

    Args:
        items: list of file paths (ending in .py) or importable module names.
        base: folder relative paths are read from.

    Returns:
        absolute file paths and module names, as workers must import them.
    """
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise BadInput(f"plugins={items!r} must be a list of .py files or module names")
    resolved = []
    for item in items:
        if item.endswith(".py"):
            path = (base / item).resolve()
            if not path.is_file():
                raise BadInput(f"plugin file {str(path)!r} does not exist")
            resolved.append(str(path))
        else:
            resolved.append(item)
    import_plugins(resolved)
    return resolved


def import_plugins(plugins) -> None:
    """Import resolved plugins (``load_plugins``) once per process.

    Args:
        plugins: absolute .py paths or module names.
    """
    for item in plugins:
        if not item.endswith(".py"):
            try:
                importlib.import_module(item)
            except ImportError as err:
                raise BadInput(f"plugin module {item!r} cannot be imported: {err}") from None
            continue
        module_name = "paritylab_plugin_" + hashlib.sha256(item.encode()).hexdigest()[:12]
        if module_name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(module_name, item)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)


def _check_learners(learners, allowed) -> None:
    for learner in learners:
        if learner not in allowed:
            raise BadInput(
                f"unknown learner {learner!r}{suggest(str(learner), allowed)}; "
                f"allowed: {', '.join(allowed)}"
            )


def _axes(task, table: dict, where: str) -> list[tuple[str, tuple]]:
    """Grid axes of a [sweep] or [[grid]] table: every value a non-empty list."""
    axes = []
    for key, values in _flatten(table):
        if not isinstance(values, list):
            values = [values]
        if not values:
            raise BadInput(f"{where}.{key} is an empty list: the grid would have no points")
        axes.append((key, tuple(values)))
    return axes


def build_config(cls, raw: dict, prefix: str = "", *, names: dict | None = None):
    """Build the frozen dataclass ``cls`` from a dict, checking keys, types and ranges.

    Args:
        cls: a frozen dataclass whose fields carry ``option`` metadata.
        raw: field values.
        prefix: dotted prefix for messages (e.g. ``two_phase.``).
        names: how each key is named in messages, when not ``prefix + key``.

    Returns:
        the instance (its ``check()`` run when it has one).
    """
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
        full = (names or {}).get(name, prefix + name)
        value = _coerce(raw[name], hints[name], full)
        if value is not None:
            meta = f.metadata
            if "choices" in meta and value not in meta["choices"]:
                raise BadInput(
                    f"{full}={value!r} is not allowed{suggest(str(value), meta['choices'])}; "
                    f"allowed: {', '.join(map(str, meta['choices']))}"
                )
            if isinstance(value, int | float) and not isinstance(value, bool):
                hi = meta.get("max")
                if isinstance(value, int) and hi is None:
                    hi = MAX_INT  # sizes and step counts: jax counts in int32
                check_range(
                    full,
                    value,
                    lo=meta.get("min"),
                    hi=hi,
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
    if tp is float and not math.isfinite(value):
        raise BadInput(f"{name}={value!r} is not a finite number")
    return float(value) if tp is float else value


def _apply_override(data: dict, item: str) -> None:
    if "=" not in item:
        raise BadInput(f"--set {item!r} must look like key=value (e.g. --set n=40)")
    key, text = (s.strip() for s in item.split("=", 1))
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text  # a bare word such as adam
    if not key:
        raise BadInput(f"--set {item!r} has no key: it must look like key=value (e.g. --set n=40)")
    _check_plain(value, key)
    if key in ("seed", "seed_start"):
        data.pop("seed", None)
        data.pop("seed_start", None)
        data["seed"] = value
    elif key in ("learners", "seeds", "experiment", "description", "task", "plugins"):
        data[key] = value
    elif key.startswith("sweep."):
        data.setdefault("sweep", {})[key[len("sweep.") :]] = value
    else:
        _set_dotted(data.setdefault("config", {}), key, value)
        _pop_dotted(data.setdefault("sweep", {}), key)  # a fixed value replaces a swept axis


def _check_plain(value, where: str) -> None:
    """Raise BadInput for what TOML can hold but a setting cannot: dates and times (and any
    other non-JSON value), anywhere in a table or list."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for item in value:
            _check_plain(item, where)
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise BadInput(
            f"{where or 'value'}={value!r} has the wrong type: a setting is a number, a string, "
            "a boolean, a list or a table (not a date or time)"
        )


def _set_dotted(raw: dict, key: str, value) -> None:
    *parents, last = key.split(".")
    node = raw
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise BadInput(f"{key!r}: {p!r} is not a table")
    node[last] = value


def _pop_dotted(raw: dict, key: str) -> None:
    """Remove ``key`` (dotted, or flat with dots) from a nested table, if present."""
    raw.pop(key, None)
    *parents, last = key.split(".")
    node = raw
    for p in parents:
        node = node.get(p)
        if not isinstance(node, dict):
            return
    node.pop(last, None)


def _flatten(table: dict, prefix: str = ""):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _flatten(value, prefix + key + ".")
        else:
            yield prefix + key, value


def _deepcopy(d):
    return json.loads(json.dumps(d))
