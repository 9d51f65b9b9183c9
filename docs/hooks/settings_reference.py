"""MkDocs hook: the settings reference and a check of the setting names the pages use.

* A page containing the line ``<!-- settings-reference -->`` gets, in its place, one table per
  task (its problem fields) and per learner (its settings), built from the ``option(...)``
  metadata of the dataclasses themselves: name, default, allowed values and the ``doc`` line.
  The reference can therefore never disagree with the code.
* Every page is scanned for dotted learner settings such as ``two_phase.eta`` (the form
  ``--set`` and ``[config.two_phase]`` use). A name whose learner has no such field is logged
  as a warning, so ``mkdocs build --strict`` fails when a refactoring renames a setting that
  the prose still mentions.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
import types
import typing
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.settings_reference")

MARKER = "<!-- settings-reference -->"
_STATE: dict = {}


def _registry(config) -> dict:
    """Tasks, learners and their fields, imported once per build."""
    if _STATE:
        return _STATE
    src = Path(config.config_file_path).resolve().parent / "src"
    if src.is_dir() and str(src) not in sys.path:
        sys.path.insert(0, str(src))
    from paritylab.lab.tasks import TASK_MODULES, get_task, task_learners
    from paritylab.learners import get_learner

    tasks = {name: get_task(name) for name in TASK_MODULES}
    learners = {}
    for task in tasks.values():
        for name in task_learners(task):
            learners[name] = get_learner(name)
    _STATE.update(tasks=tasks, learners=learners, task_learners=task_learners)
    return _STATE


def _cell(text: str) -> str:
    """Plain text made safe for a Markdown table cell."""
    escapes = (("&", "&amp;"), ("<", "&lt;"), ("|", "&#124;"), ("*", "&#42;"), ("_", "&#95;"))
    for old, new in escapes:
        text = text.replace(old, new)
    return text


def _default(value, doc: str) -> str:
    if value is None:
        return '`"auto"`' if "auto" in doc else "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    if isinstance(value, tuple):
        return "`[]`" if not value else f"`{list(value)}`"
    return f"`{value!r}`"


def _allowed(tp, meta: dict) -> str:
    optional = False
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional, tp = True, args[0]
    if "choices" in meta:
        text = ", ".join(f"`{c}`" for c in meta["choices"])
    elif typing.get_origin(tp) is tuple:
        text = "list"
    else:
        text = {int: "integer", float: "number", bool: "`true` / `false`", str: "string"}.get(
            tp, getattr(tp, "__name__", str(tp))
        )
        bounds = []
        if meta.get("min") is not None:
            bounds.append(("&gt; " if meta.get("min_open") else "&ge; ") + f"{meta['min']}")
        if meta.get("max") is not None:
            bounds.append(f"&le; {meta['max']}")
        if bounds:
            text += " " + ", ".join(bounds)
    if optional:
        text += ', or `"auto"` / `"none"`'
    return text


def _table(cls) -> list[str]:
    hints = typing.get_type_hints(cls)
    rows = ["| setting | default | allowed | meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        doc = f.metadata.get("doc", "")
        rows.append(
            f"| `{f.name}` | {_default(f.default, doc)} | {_allowed(hints[f.name], f.metadata)} "
            f"| {_cell(doc)} |"
        )
    return rows


def _qualname(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _signature(cls) -> tuple:
    return tuple(
        (f.name, repr(f.default), repr(sorted(f.metadata.items()))) for f in dataclasses.fields(cls)
    )


def _reference(config) -> str:
    reg = _registry(config)
    out = []
    for task_name, task in reg["tasks"].items():
        out += [
            f"## Task `{task_name}` {{#task-{task_name}}}",
            "",
            (task.__doc__ or "").strip().splitlines()[0],
            "",
            f"Problem fields (class [`{task.CONFIG.__name__}`][{_qualname(task.CONFIG)}]), "
            "written directly under `[config]` or as `--set KEY=VALUE`. Default learners: "
            f"{', '.join(f'`{n}`' for n in task.LEARNERS)}.",
            "",
            *_table(task.CONFIG),
            "",
        ]
        groups: dict[tuple, list[str]] = {}
        for name in reg["task_learners"](task):
            groups.setdefault(_signature(reg["learners"][name]), []).append(name)
        for names in groups.values():
            cls = reg["learners"][names[0]]
            title = ", ".join(f"`{n}`" for n in names)
            tables = ", ".join(f"`[config.{n.replace('-', '_')}]`" for n in names)
            same = " (identical settings)" if len(names) > 1 else ""
            classes_ = [reg["learners"][n] for n in names]
            links = [f"[`{c.__name__}`][{_qualname(c)}]" for c in classes_]
            classes = ("Class " if len(links) == 1 else "Classes ") + ", ".join(links)
            out += [
                f"### {title}{same} {{#learner-{names[0]}}}",
                "",
                f"{classes}. Own table{'s' if len(names) > 1 else ''} {tables}; on the "
                f"command line `--set {names[0].replace('-', '_')}.KEY=VALUE`.",
                "",
                *_table(cls),
                "",
            ]
    return "\n".join(out)


_DOTTED = None


def _check_names(markdown: str, page, config) -> None:
    """Warn about ``learner_table.field`` names that the learner does not have."""
    global _DOTTED
    reg = _registry(config)
    tables = {n.replace("-", "_"): cls for n, cls in reg["learners"].items()}
    if _DOTTED is None:
        alternatives = "|".join(sorted(map(re.escape, tables), key=len, reverse=True))
        _DOTTED = re.compile(rf"(?<![\w./-])({alternatives})\.([A-Za-z_]\w*)")
    for table, field in _DOTTED.findall(markdown):
        names = {f.name for f in dataclasses.fields(tables[table])}
        if field not in names and field != "KEY":
            log.warning(
                "%s names the setting %s.%s, which learner %s does not have (its settings: %s)",
                page.file.src_uri,
                table,
                field,
                table.replace("_", "-"),
                ", ".join(sorted(names)),
            )


def on_page_markdown(markdown: str, page, config, files):
    """Fill the settings reference; check dotted setting names on every page."""
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, _reference(config))
    else:
        _check_names(markdown, page, config)
    return markdown
