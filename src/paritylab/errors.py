"""Errors that the command line turns into one clear line: ``BadInput`` (exit code 2) and
``StoreError`` (exit code 1)."""

from __future__ import annotations

import difflib


class BadInput(ValueError):
    """Bad user input: a malformed config, an out-of-range value, a missing file.

    The message is one line naming the problem and the allowed values; the CLI prints it
    without a traceback and exits with code 2.
    """


def suggest(name: str, allowed) -> str:
    """Return ' (did you mean X?)' for the closest allowed name, or ''."""
    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_range(name: str, value, *, lo=None, hi=None, lo_open=False) -> None:
    """Raise BadInput unless lo <= value <= hi (lo < value when lo_open)."""
    bad_lo = lo is not None and (value <= lo if lo_open else value < lo)
    bad_hi = hi is not None and value > hi
    if bad_lo or bad_hi:
        lo_txt = "" if lo is None else (f"> {lo}" if lo_open else f">= {lo}")
        hi_txt = "" if hi is None else f"<= {hi}"
        allowed = " and ".join(t for t in (lo_txt, hi_txt) if t)
        raise BadInput(f"{name}={value!r} is out of range: allowed {allowed}")


class StoreError(RuntimeError):
    """The results store could not be written during a sweep (disk full, the directory gone or
    made read-only). The sweep stops at once and keeps every run already stored; the CLI prints
    one line and exits with code 1."""
