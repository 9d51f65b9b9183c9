"""The results store: one SQLite file per results directory.

Written only by the coordinating process, one transaction per finished run, so a crash loses
at most the runs in flight and a rerun skips every finished ``run_id``. Each row holds the
full resolved config, status (``ok`` / ``failed`` / ``diverged``), final metrics, training
traces, wall time and the versions that produced it (paritylab, its git commit, python,
jax, numpy), as JSON.

Layouts. Schema 2 stores runs whose ids hash (problem config, learner, learner version and
settings, seed). Stores of schema 1 (whose ids hashed the whole task config) still open for
reading (``results``, ``report``, ``load_results``); running into one is refused with a line
that says so, since none of its ids would match a current run.
"""

from __future__ import annotations

import functools
import json
import math
import platform
import sqlite3
import subprocess
import time
from pathlib import Path

from paritylab.errors import BadInput

SCHEMA_VERSION = 2
READABLE_SCHEMAS = ("1", "2")
DB_NAME = "results.sqlite"
STATUSES = ("ok", "failed", "diverged")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS experiments (
    name TEXT PRIMARY KEY, spec TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, experiment TEXT NOT NULL, task TEXT NOT NULL,
    learner TEXT NOT NULL, seed INTEGER NOT NULL, point TEXT NOT NULL, config TEXT NOT NULL,
    status TEXT NOT NULL, metrics TEXT NOT NULL, traces TEXT NOT NULL, info TEXT NOT NULL,
    error TEXT, wall_s REAL NOT NULL, finished REAL NOT NULL, versions TEXT NOT NULL);
"""


@functools.cache
def git_commit() -> str:
    """The git commit of the paritylab source tree, or "unknown" (not a git checkout, or git
    missing); "+dirty" is appended when tracked files differ from it."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "."],
            cwd=here.parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def versions() -> dict:
    """What can change numbers: paritylab's version and git commit, python, jax, numpy.

    Returns:
        a dict of version strings.
    """
    import jax
    import numpy as np

    from paritylab import __version__

    return {
        "paritylab": __version__,
        "commit": git_commit(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "numpy": np.__version__,
    }


class Store:
    """A results directory's SQLite store. Use as a context manager or call ``close()``."""

    def __init__(self, directory: str | Path, *, create: bool = True):
        self.directory = Path(directory)
        path = self.directory / DB_NAME
        if not path.exists():
            if not create:
                raise BadInput(f"no results in {str(self.directory)!r}: expected {DB_NAME} there")
            if self.directory.exists() and not self.directory.is_dir():
                raise BadInput(f"--out {str(self.directory)!r} exists and is not a directory")
            self.directory.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path)
            self._check_version(create)
        except sqlite3.DatabaseError as err:
            raise BadInput(f"{path} is not a paritylab results database ({err})") from None

    def _check_version(self, create: bool) -> None:
        tables = {
            r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "meta" in tables:
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            found = row[0] if row else "none"
            self.schema = found
            if found not in READABLE_SCHEMAS:
                raise BadInput(
                    f"{self.directory} was written by an incompatible paritylab (store schema "
                    f"{found}, this version reads {', '.join(READABLE_SCHEMAS)}); "
                    "use another --out directory"
                )
            if create and found != str(SCHEMA_VERSION):
                raise BadInput(
                    f"{self.directory} was written by an older paritylab layout (store schema "
                    f"{found}: run ids hashed the whole task config, so none matches a run of "
                    f"this version); its results still load with `paritylab results` and "
                    f"`paritylab report`; run into another --out directory"
                )
            return
        elif tables:
            raise BadInput(f"{self.directory / DB_NAME} is not a paritylab results database")
        with self.db:
            self.db.executescript(_SCHEMA)
            self.db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def save_experiment(self, spec_dict: dict) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO experiments VALUES (?, ?, ?)",
                (spec_dict["experiment"], json.dumps(spec_dict), time.time()),
            )

    def experiments(self) -> dict[str, dict]:
        return {n: json.loads(s) for n, s in self.db.execute("SELECT name, spec FROM experiments")}

    def finished_ids(self) -> set[str]:
        """Run ids with a stored record (any status); a rerun skips them."""
        return {r[0] for r in self.db.execute("SELECT run_id FROM runs")}

    def write(self, run, outcome: dict) -> None:
        """Store one finished run in its own transaction."""
        status = outcome["status"]
        assert status in STATUSES
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run.run_id,
                    run.experiment,
                    run.task,
                    run.learner,
                    run.seed,
                    _dumps(dict(run.point)),
                    _dumps(run.config_dict),
                    status,
                    _dumps(outcome.get("metrics", {})),
                    _dumps(outcome.get("traces", {})),
                    _dumps(outcome.get("info", {})),
                    outcome.get("error"),
                    float(outcome.get("wall_s", 0.0)),
                    time.time(),
                    _dumps(outcome.get("versions", {})),
                ),
            )

    def records(self, experiment: str | None = None) -> list[dict]:
        """Every stored run as a dict (the JSON record of ``paritylab results``), oldest first."""
        sql = (
            "SELECT * FROM runs"
            + (" WHERE experiment = ?" if experiment else "")
            + " ORDER BY finished"
        )
        cur = self.db.execute(sql, (experiment,) if experiment else ())
        cols = [c[0] for c in cur.description]
        out = []
        for row in cur:
            r = dict(zip(cols, row, strict=True))
            for key in ("point", "config", "metrics", "traces", "info", "versions"):
                r[key] = json.loads(r[key])
            out.append(r)
        return out


def load_results(directory: str | Path, *, traces: bool = False):
    """All runs of a results directory as a pandas DataFrame: one row per run, metric columns
    flattened (``test_acc``, ...), swept values as columns, ``config`` as a dict column."""
    import pandas as pd

    with Store(directory, create=False) as store:
        records = store.records()
    rows = []
    for r in records:
        row = {
            k: r[k]
            for k in (
                "run_id",
                "experiment",
                "task",
                "learner",
                "seed",
                "status",
                "wall_s",
                "error",
            )
        }
        row.update(r["point"])
        row.update(r["metrics"])
        row["config"] = r["config"]
        if traces:
            row["traces"] = r["traces"]
        rows.append(row)
    return pd.DataFrame(rows)


def _dumps(obj) -> str:
    return json.dumps(_clean(obj), allow_nan=False)


def _clean(obj):
    """JSON-safe copy: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
