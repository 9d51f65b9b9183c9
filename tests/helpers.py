"""Shared test helpers: running the CLI in a subprocess, tiny experiment settings."""

import os
import subprocess
import sys

TINY_DM = [
    "n=11",
    "k=3",
    "width=16",
    "n_train=400",
    "n_test=400",
    "cert_samples=256",
    "linear.steps=40",
    "two_phase.steps=40",
    "joint_sgd.steps=40",
    "kernel.max_samples=400",
]


def sets(items):
    return [a for item in items for a in ("--set", item)]


def cli(*args, timeout=600, **kwargs):
    """Run ``paritylab ARGS`` in a subprocess; return the CompletedProcess."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "paritylab.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kwargs,
    )
