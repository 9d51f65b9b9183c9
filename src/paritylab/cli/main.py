"""The ``paritylab`` command: a thin shell over the library.

Exit codes: 0 success, 2 bad input (one line naming the problem and what is allowed, no
traceback), 130 interrupted (finished runs kept), 1 anything else.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="paritylab", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def run_options(sp):
        sp.add_argument("--out", help="results directory (default: results/NAME)")
        sp.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config field (dotted for nested), repeatable",
        )
        sp.add_argument("--seeds", type=int, help="seeds per grid point")
        sp.add_argument("--executor", default="local", help="local | inline | ray")
        sp.add_argument("--workers", type=int, help="local worker processes (default: cores)")
        sp.add_argument("--address", help="Ray cluster HOST:PORT (with --executor ray)")
        sp.add_argument("--quiet", action="store_true", help="no progress bar or table")

    sp = sub.add_parser("reproduce", help="run a built-in experiment (default dm-separation)")
    sp.add_argument("name", nargs="?", default=None)
    run_options(sp)
    sp = sub.add_parser("run", help="run an experiment TOML file")
    sp.add_argument("config")
    run_options(sp)
    sub.add_parser("experiments", help="list built-in experiments")
    sp = sub.add_parser("report", help="write report.md and figures for a results directory")
    sp.add_argument("dir")
    sp = sub.add_parser("results", help="print the runs of a results directory")
    sp.add_argument("dir")
    sp.add_argument("--format", default="table", choices=("table", "csv", "json"))
    sp.add_argument("--traces", action="store_true", help="include traces in json")
    sp = sub.add_parser("bound", help="the typical-support lower bound of linear methods on D_A")
    sp.add_argument("--n", type=int, required=True)
    sp.add_argument("--k", type=int, required=True)
    sp.add_argument(
        "--features",
        type=float,
        required=True,
        help="feature energy E_U||Psi||^2 (<= N for features in [-1, 1])",
    )
    sp.add_argument("--norm", type=float, required=True, help="output-weight norm B")
    return p


def main(argv: list[str] | None = None) -> int:
    from paritylab.lab.threads import single_thread_env

    if "jax" not in sys.modules:  # same thread settings as the workers: identical numbers
        os.environ.update({k: v for k, v in single_thread_env().items() if k not in os.environ})
    parser = _parser()
    parser.error = lambda msg: _bad(f"{msg} (see paritylab --help)")  # exit 2, one line
    from paritylab.errors import BadInput

    try:
        args = parser.parse_args(argv)
        return _COMMANDS[args.command](args)
    except BadInput as err:
        _bad(str(err))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if os.environ.get("PARITYLAB_DEBUG"):
            raise
        print(
            f"error: {type(err).__name__}: {err} (set PARITYLAB_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return 1
    return 0


def _bad(message: str):
    print(f"paritylab: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _cmd_run(args, path, default_name) -> int:
    if args.executor == "inline" and "jax" not in sys.modules:
        # Like a pool worker: one CPU, so XLA sizes its pool the same way (identical numbers).
        from paritylab.lab.threads import pin_process

        pin_process()
    from rich.console import Console

    from paritylab.lab.config import load_spec
    from paritylab.lab.report import write_report
    from paritylab.lab.store import Store
    from paritylab.lab.sweep import run_experiment
    from paritylab.lab.tables import results_table

    start = time.perf_counter()
    spec = load_spec(path, args.overrides, seeds=args.seeds)
    out = args.out or os.path.join("results", spec.name or default_name)
    console = _wide_console(quiet=args.quiet)
    err = Console(stderr=True, quiet=args.quiet, soft_wrap=True)
    summary = run_experiment(
        spec,
        out,
        executor=args.executor,
        workers=args.workers,
        address=args.address,
        quiet=args.quiet,
        console=err,
    )
    if summary.interrupted:
        left = summary.total - summary.skipped - summary.done
        print(
            f"interrupted: {summary.done} runs finished this time and are kept in {out}; "
            f"rerun the same command to resume the {left} left",
            file=sys.stderr,
        )
        return 130
    with Store(out, create=False) as store:
        ids = set(summary.run_ids)
        records = [r for r in store.records() if r["run_id"] in ids]
    console.print(results_table(records, title=f"{spec.name} ({_setting(spec)})"))
    report = write_report(out)
    failed = sum(r["status"] != "ok" for r in records)
    err.print(
        f"{summary.done} run(s) done, {summary.skipped} already stored, {failed} not ok; "
        f"report: {report}; wall {time.perf_counter() - start:.1f} s"
    )
    return 0


def _wide_console(**kwargs):
    """A console that does not squeeze the results table when stdout is not a terminal."""
    from rich.console import Console

    console = Console(**kwargs)
    return console if console.is_terminal else Console(width=200, **kwargs)


def _setting(spec) -> str:
    c = spec.config
    return ", ".join(f"{k}={v}" for k, v in c.items() if not isinstance(v, dict)) or "defaults"


def cmd_reproduce(args) -> int:
    from paritylab.lab.builtin import DEFAULT_EXPERIMENT, builtin_path

    name = args.name or DEFAULT_EXPERIMENT
    return _cmd_run(args, builtin_path(name), name)


def cmd_run(args) -> int:
    return _cmd_run(args, args.config, os.path.splitext(os.path.basename(args.config))[0])


def cmd_experiments(args) -> int:
    from rich.table import Table

    from paritylab.lab.builtin import builtin_descriptions, builtin_path

    table = Table(title="built-in experiments (paritylab reproduce NAME)")
    table.add_column("name")
    table.add_column("description")
    table.add_column("file")
    for name, desc in builtin_descriptions().items():
        table.add_row(name, desc, str(builtin_path(name)))
    _wide_console().print(table)
    return 0


def cmd_report(args) -> int:
    from paritylab.lab.report import write_report

    print(write_report(args.dir))
    return 0


def cmd_results(args) -> int:

    from paritylab.lab.store import Store
    from paritylab.lab.tables import records_csv, records_json, results_table

    with Store(args.dir, create=False) as store:
        records = store.records()
    if args.format == "json":
        print(records_json(records, traces=args.traces))
    elif args.format == "csv":
        print(records_csv(records), end="")
    else:
        _wide_console().print(results_table(records, title=str(args.dir)))
    return 0


def cmd_bound(args) -> int:
    import math

    from paritylab.data import check_support
    from paritylab.errors import check_range
    from paritylab.theory import typical_support_bound

    check_support(args.n, args.k)
    check_range("--features", args.features, lo=0)
    check_range("--norm", args.norm, lo=0)
    binom = math.comb(args.n, args.k)
    bound = typical_support_bound(args.norm, args.features, args.n, args.k)
    print(f"C(n,k) = {binom:,}")
    print(f"typical-support lower bound on the D_A hinge loss: 1/2 (1 - B sqrt(E/C)) = {bound:.6f}")
    needed = math.sqrt(binom / args.features) * 0.5 if args.features > 0 else math.inf
    print(f"norm B needed before the bound allows hinge < 1/4: B >= {needed:,.4g}")
    return 0


_COMMANDS = {
    "reproduce": cmd_reproduce,
    "run": cmd_run,
    "experiments": cmd_experiments,
    "report": cmd_report,
    "results": cmd_results,
    "bound": cmd_bound,
}

if __name__ == "__main__":
    raise SystemExit(main())
