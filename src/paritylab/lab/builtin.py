"""Built-in experiments: TOML files shipped in ``paritylab/lab/experiments``."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from paritylab.errors import BadInput, suggest

DEFAULT_EXPERIMENT = "dm-separation"


def _folder():
    return resources.files("paritylab.lab") / "experiments"


def builtin_names() -> list[str]:
    """Names of the built-in experiments, sorted."""
    return sorted(p.name[: -len(".toml")] for p in _folder().iterdir() if p.name.endswith(".toml"))


def builtin_path(name: str) -> Path:
    """Path of the built-in experiment ``name`` (copy it to edit it)."""
    names = builtin_names()
    if name not in names:
        raise BadInput(
            f"unknown experiment {name!r}{suggest(name, names)}; allowed: {', '.join(names)}"
        )
    return Path(str(_folder() / f"{name}.toml"))


def builtin_descriptions() -> dict[str, str]:
    """name -> one-line description of every built-in experiment."""
    return {
        n: tomllib.loads(builtin_path(n).read_text()).get("description", "")
        for n in builtin_names()
    }
