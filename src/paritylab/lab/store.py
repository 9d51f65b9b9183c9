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

Specs. The ``experiments`` table holds the latest spec of each experiment name; the ``specs``
table holds every spec version ever run into the directory (keyed by a hash of the spec), so a
folder that pooled two settings of one experiment says so (``Store.spec_versions``).

Reading. ``Store(DIR, create=False)`` (``results``, ``report``, ``load_results``) opens the
database read-only (SQLite ``mode=ro``; with ``immutable=1`` too when the directory is not
writable, e.g. a read-only mount, where no writer can exist), so reading never needs write
access.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
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
_SPECS = """CREATE TABLE IF NOT EXISTS specs (
    hash TEXT PRIMARY KEY, experiment TEXT NOT NULL, spec TEXT NOT NULL,
    first REAL NOT NULL, last REAL NOT NULL)"""


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


def spec_hash(spec_dict: dict) -> str:
    """The id of one spec version: sha256 of its canonical JSON, 16 hex digits."""
    blob = json.dumps(spec_dict, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def spec_differences(old: dict, new: dict) -> list[str]:
    """The dotted keys whose values differ between two spec dicts (``config.n``, ``seeds``);
    a missing key and an empty list or table count as equal."""
    a, b = dict(_flat(old)), dict(_flat(new))
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def _flat(d, prefix=""):
    for key, value in d.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}.")
        elif value not in ([], "", None):
            yield prefix + str(key), json.dumps(value, sort_keys=True)


class Store:
    """A results directory's SQLite store. Use as a context manager or call ``close()``.

    ``create=True`` (a sweep) opens it for writing, creating the directory and the database
    when missing; ``create=False`` opens an existing store read-only.
    """

    def __init__(self, directory: str | Path, *, create: bool = True):
        self.directory = Path(directory)
        self.readonly = not create
        path = self.directory / DB_NAME
        if not path.exists():
            if not create:
                raise BadInput(f"no results in {str(self.directory)!r}: expected {DB_NAME} there")
            if self.directory.exists() and not self.directory.is_dir():
                raise BadInput(f"--out {str(self.directory)!r} exists and is not a directory")
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise BadInput(
                    f"cannot create the results directory {str(self.directory)!r}: "
                    f"{err.strerror or err}"
                ) from None
        try:
            self.db = self._connect(path, create)
            try:
                self._check_version(create)
            except sqlite3.OperationalError:
                if create or not self._writable(path):
                    raise
                # Read-only, but a killed writer left a hot journal that only a read-write
                # connection may roll back: the directory is writable, so let SQLite do it.
                self.db.close()
                self.db = sqlite3.connect(path, timeout=30)
                self._check_version(create)
        except sqlite3.OperationalError as err:
            raise BadInput(_explain(path, err, create)) from None
        except sqlite3.DatabaseError as err:
            raise BadInput(f"{path} is not a paritylab results database ({err})") from None

    def _writable(self, path: Path) -> bool:
        return os.access(self.directory, os.W_OK | os.X_OK) and os.access(path, os.W_OK)

    def _connect(self, path: Path, create: bool) -> sqlite3.Connection:
        if create:
            return sqlite3.connect(path, timeout=30)
        # Read-only. immutable=1 when no writer can exist (the directory is not writable):
        # SQLite then needs no lock and no journal, which a read-only mount cannot give it.
        query = "mode=ro" if self._writable(path) else "mode=ro&immutable=1"
        return sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True, timeout=30)

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
        if not create:
            raise BadInput(f"{self.directory / DB_NAME} holds no paritylab results (it is empty)")
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
        """Store ``spec_dict`` as its experiment's latest spec, and as one spec version."""
        now = time.time()
        blob = json.dumps(spec_dict)
        with self.db:
            self.db.execute(_SPECS)
            self.db.execute(
                "INSERT OR REPLACE INTO experiments VALUES (?, ?, ?)",
                (spec_dict["experiment"], blob, now),
            )
            self.db.execute(
                "INSERT INTO specs VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(hash) DO UPDATE SET last = excluded.last",
                (spec_hash(spec_dict), spec_dict["experiment"], blob, now, now),
            )

    def experiments(self) -> dict[str, dict]:
        """The latest spec of each experiment name."""
        return {n: json.loads(s) for n, s in self.db.execute("SELECT name, spec FROM experiments")}

    def spec_versions(self, experiment: str | None = None) -> list[dict]:
        """Every spec version run into this directory, oldest first: dicts with ``hash``,
        ``experiment``, ``spec``, ``first`` and ``last`` (times it was run). A store written
        before spec versions were kept lists the latest spec of each experiment."""
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
        if "specs" in tables:
            rows = self.db.execute("SELECT hash, experiment, spec, first, last FROM specs")
            out = [
                {"hash": h, "experiment": e, "spec": json.loads(s), "first": f, "last": la}
                for h, e, s, f, la in rows
            ]
        else:
            rows = self.db.execute("SELECT name, spec, updated FROM experiments")
            out = [
                {"hash": spec_hash(json.loads(s)), "experiment": n, "spec": json.loads(s)}
                | {"first": u, "last": u}
                for n, s, u in rows
            ]
        out = [v for v in out if experiment is None or v["experiment"] == experiment]
        return sorted(out, key=lambda v: (v["first"], v["hash"]))

    def spec_changes(self, spec_dict: dict) -> list[str]:
        """Keys in which ``spec_dict`` differs from the stored latest spec of the same
        experiment name (empty when none is stored or they agree)."""
        old = self.experiments().get(spec_dict["experiment"])
        return [] if old is None else spec_differences(old, json.loads(json.dumps(spec_dict)))

    def finished_ids(self, *, include_failed: bool = True) -> set[str]:
        """Run ids with a stored record; a rerun skips them. ``include_failed=False`` leaves
        out the runs stored as ``failed`` (``--retry-failed`` runs them again)."""
        sql = "SELECT run_id FROM runs" + ("" if include_failed else " WHERE status != 'failed'")
        return {r[0] for r in self.db.execute(sql)}

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


def _explain(path: Path, err: sqlite3.OperationalError, create: bool) -> str:
    """One line for an SQLite error at open time (read-only, disk full, locked, ...)."""
    what = "write to" if create else "read"
    return f"cannot {what} the results store {path}: {err}"


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
