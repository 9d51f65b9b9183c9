"""Shared test helpers: running the CLI in a subprocess, tiny experiment settings."""

import os
import subprocess
import sys
from pathlib import Path

import paritylab

TINY_DM = [
    "n=11",
    "k=3",
    "width=16",
    "n_train=400",
    "n_test=400",
    "cert_samples=256",
    "steps=40",
    "ntk_kernel.max_samples=400",
]


def sets(items):
    return [a for item in items for a in ("--set", item)]


def cli(*args, timeout=600, **kwargs):
    """Run ``paritylab ARGS`` in a subprocess; return the CompletedProcess."""
    # The subprocess imports the paritylab these tests import, whatever its working directory
    # (a relative PYTHONPATH such as src would otherwise miss it under cwd=...).
    path = [str(Path(paritylab.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    return subprocess.run(
        [sys.executable, "-m", "paritylab.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kwargs,
    )
