"""The ``paritylab`` command: a thin shell over the library.

Exit codes: 0 success; 2 bad input (one line naming the problem and what is allowed, no
traceback; argument errors too); 130 / 143 / 129 stopped by SIGINT (Ctrl-C) / SIGTERM / SIGHUP
(finished runs kept, one line says how to resume); 141 stdout closed early (``| head``; nothing
more is printed); 1 anything else, including a results store that could not be written
mid-sweep (one line).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``paritylab: error: ...``, exit 2), for
    the subcommands too (argparse would print the usage block first)."""

    def error(self, message):
        _bad(f"{message} (see {self.prog} --help)")


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="paritylab", description=__doc__.splitlines()[0])
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
        sp.add_argument(
            "--executor",
            default=None,
            help="local | inline | ray | vmap (default: vmap when JAX sees an accelerator, "
            "else local)",
        )
        sp.add_argument("--workers", type=int, help="local worker processes (default: cores)")
        sp.add_argument("--address", help="Ray cluster HOST:PORT (with --executor ray)")
        sp.add_argument("--quiet", action="store_true", help="no progress bar or table")
        sp.add_argument(
            "--retries",
            type=int,
            default=2,
            help="times a run whose worker process (or Ray node) is lost runs again before "
            "it is stored as failed (default 2)",
        )
        sp.add_argument(
            "--retry-failed",
            action="store_true",
            help="run again the runs stored as failed (a rerun skips every stored run otherwise)",
        )
        sp.add_argument(
            "--force",
            action="store_true",
            help="run sizes beyond this machine's memory, time, disk and core limits "
            "(also PARITYLAB_FORCE=1)",
        )

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
        type=_finite,
        required=True,
        help="feature energy E_U||Psi||^2 (<= N for features in [-1, 1])",
    )
    sp.add_argument("--norm", type=_finite, required=True, help="output-weight norm B")
    sp = sub.add_parser(
        "theory", help="a target's Walsh spectra (uniform, mu_p), leap and stated predictions"
    )
    sp.add_argument("target", help="'x0 + x0*x1 + x0*x1*x2', or parity|staircase|leap|majority")
    sp.add_argument("--k", type=int, help="support size of a named target")
    sp.add_argument("--leap", type=int, help="L of the named target 'leap'")
    sp.add_argument("--dist", default="uniform", choices=("uniform", "biased"))
    sp.add_argument("--p", type=_finite, help="P(x_i = -1) of mu_p (with --dist biased)")
    sp.add_argument("--n", type=int, help="input dimension (CSQ count, linear bound)")
    sp.add_argument("--features", type=_finite, help="N features in [-1, 1] (linear bound)")
    sp.add_argument("--norm", type=_finite, help="output-weight norm B (linear bound)")
    return p


def main(argv: list[str] | None = None) -> int:
    from paritylab.lab.threads import single_thread_env

    if "jax" not in sys.modules:  # same thread settings as the workers: identical numbers
        os.environ.update({k: v for k, v in single_thread_env().items() if k not in os.environ})
    parser = _parser()
    from paritylab.errors import BadInput, StoreError

    try:
        args = parser.parse_args(argv)
        return _COMMANDS[args.command](args)
    except BadInput as err:
        _bad(str(err))
    except StoreError as err:
        print(f"paritylab: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # stdout closed early (| head): stop quietly
        _quiet_stdout()
        return 141
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if os.environ.get("PARITYLAB_DEBUG"):
            raise
        text = " ".join(str(err).split())[:500]
        print(
            f"paritylab: error: {type(err).__name__}: {text} "
            "(set PARITYLAB_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return 1
    return 0


def _bad(message: str):
    message = " ".join(str(message).split())  # one line, whatever the message held
    print(f"paritylab: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _cmd_run(args, path, default_name) -> int:
    """``reproduce`` and ``run``. SIGINT, SIGTERM and SIGHUP are caught for the whole command:
    a sweep stops (keeping every finished run), anything else stops at the next safe point,
    and the command says how to resume and exits 128 + the signal's number."""
    from paritylab.lab.sweep import Interrupted, StopGuard

    out = args.out
    with StopGuard() as guard:
        try:
            return _run_sweep(args, path, default_name, guard)
        except Interrupted as stop:
            _say_interrupted(stop.signum, f"every finished run is kept in {out or 'results/'}")
            return 128 + stop.signum


def _say_interrupted(signum: int, what: str) -> None:
    try:
        name = signal.Signals(signum).name
        print(f"interrupted by {name}: {what}; rerun the same command to resume", file=sys.stderr)
    except (OSError, ValueError):  # SIGHUP: the terminal may be gone
        pass


def _run_sweep(args, path, default_name, guard) -> int:
    if args.executor is None:
        args.executor = _default_executor(args.quiet)
    if args.executor == "inline" and "jax" not in sys.modules:
        # Like a pool worker: one CPU, so XLA sizes its pool the same way (identical numbers).
        from paritylab.lab.threads import pin_process

        pin_process()
    from rich.console import Console

    from paritylab.errors import BadInput
    from paritylab.lab.config import load_spec
    from paritylab.lab.report import write_report
    from paritylab.lab.store import Store
    from paritylab.lab.sweep import run_experiment
    from paritylab.lab.tables import results_table

    start = time.perf_counter()
    if args.out is not None and not args.out.strip():
        raise BadInput(f"--out {args.out!r} is empty: give a results directory")
    spec = load_spec(path, args.overrides, seeds=args.seeds)
    out = args.out or os.path.join("results", spec.name or default_name)
    guard.check()
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
        retries=args.retries,
        retry_failed=args.retry_failed,
        force=True if args.force else None,
        guard=guard,
    )
    if summary.interrupted:
        signum = summary.signal or int(signal.SIGINT)
        left = summary.total - summary.skipped - summary.done
        _say_interrupted(
            signum,
            f"{summary.done} runs finished this time and are kept in {out}; {left} are left",
        )
        return 128 + signum
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
    guard.check()  # a signal during the table or the report: say so, and exit as promised
    return 0


def _default_executor(quiet: bool) -> str:
    """``vmap`` when JAX sees an accelerator (said in one line), else ``local``."""
    from paritylab.lab.vmap_executor import accelerator

    backend = accelerator()
    if backend is None:
        return "local"
    print(
        f"executor: vmap (JAX sees a {backend} accelerator; --executor local to override)",
        file=sys.stderr,
    )
    return "vmap"


def _wide_console(**kwargs):
    """A console that does not squeeze the results table when stdout is not a terminal."""
    from rich.console import Console

    console = Console(**kwargs)
    console = console if console.is_terminal else Console(width=200, **kwargs)
    console.on_broken_pipe = _broken_pipe  # rich would exit 1; main() exits 141, quietly
    return console


def _broken_pipe() -> None:
    raise BrokenPipeError


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
    from paritylab.errors import BadInput
    from paritylab.lab.report import write_report
    from paritylab.lab.store import Store

    with Store(args.dir, create=False):  # a missing or foreign store: its own line
        pass
    if not os.access(args.dir, os.W_OK | os.X_OK):
        raise BadInput(
            f"cannot write report.md into {args.dir!r}: the directory is not writable "
            "(read-only); `paritylab results` still reads it, or copy the directory somewhere "
            "writable and run `paritylab report` on the copy"
        )
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
    from paritylab.data import check_support
    from paritylab.errors import check_range
    from paritylab.theory import typical_support_bound
    from paritylab.theory.linear_bound import log_binom

    check_support(args.n, args.k)
    check_range("--features", args.features, lo=0)
    check_range("--norm", args.norm, lo=0)
    log_c = log_binom(args.n, args.k)  # C(n, k) itself can have thousands of digits
    bound = typical_support_bound(args.norm, args.features, args.n, args.k)
    exact = log_c / math.log(10) < 15
    print(f"C(n,k) = {math.comb(args.n, args.k):,}" if exact else f"C(n,k) = {_power(log_c)}")
    print(f"typical-support lower bound on the D_A hinge loss: 1/2 (1 - B sqrt(E/C)) = {bound:.6f}")
    if args.features > 0:  # B >= sqrt(C / E) / 2
        needed = _power(0.5 * (log_c - math.log(args.features)) - math.log(2))
    else:
        needed = "inf"
    print(f"norm B needed before the bound allows hinge < 1/4: B >= {needed}")
    return 0


def _power(log_value: float) -> str:
    """exp(log_value) as a number, or as 10^x when it is too large to print plainly."""
    x = log_value / math.log(10)
    return f"{math.exp(log_value):,.4g}" if x < 15 else f"10^{x:,.2f}"


def cmd_theory(args) -> int:
    from paritylab.errors import BadInput
    from paritylab.theory.complexity import describe

    if args.dist == "biased" and (args.p is None or not 0 < args.p < 1):
        raise BadInput(f"--dist biased needs --p in (0, 1), got {args.p}")
    if args.dist == "uniform" and args.p is not None:
        raise BadInput("--p is set but --dist uniform: use --dist biased --p P")
    p = args.p if args.dist == "biased" else None
    opts = dict(k=args.k, leap_param=args.leap, p=p, n=args.n)
    print("\n".join(describe(args.target, features=args.features, norm=args.norm, **opts)))
    return 0


_COMMANDS = {
    "reproduce": cmd_reproduce,
    "run": cmd_run,
    "experiments": cmd_experiments,
    "report": cmd_report,
    "results": cmd_results,
    "bound": cmd_bound,
    "theory": cmd_theory,
}

if __name__ == "__main__":
    raise SystemExit(main())
