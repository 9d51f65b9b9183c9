"""Size limits: a rough estimate of each run's memory and time, checked against this machine
before a sweep starts, so that an absurd size is one clear line rather than hours of swapping,
a hang or a worker killed for memory.

The estimate reads a run's resolved settings by name (``n``, ``width``, ``n_train``,
``n_test``, ``batch_size``, ``steps``, ``max_samples``, ...) and counts the floats of the
largest arrays a run holds: the data (n x samples, float32), a network and its optimizer state
(width x n, four copies), a feature or activation matrix (width x samples), and an exact
kernel's Gram matrix (max_samples^2, float64). Time counts steps x max(a per-step floor,
6 x batch x width x n flops at a single core's rate), plus a Cholesky's m^3 / 3. Both are
deliberately rough (within a small factor for the built-in learners): they stop sizes that
cannot fit, not ones that are merely large.

Limits (each message names the size, the estimate and the limit):

* one run's memory must fit in this machine's memory (the smaller of the physical memory and a
  cgroup limit), and the local pool runs at most as many workers as fit in it together (a
  one-line note says so when it lowers ``--workers``);
* one run's estimated time must be at most ``MAX_RUN_SECONDS`` (7 days);
* a sweep has at most ``MAX_RUNS`` runs (checked arithmetically before the run list is built;
  not overridable);
* the local pool runs at most min(runs, cores) workers (a note when ``--workers`` asked more).

``--force`` (or the environment variable ``PARITYLAB_FORCE=1``) skips the memory and time
limits and the cores cap.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from paritylab.errors import BadInput

MAX_RUNS = 1_000_000
MAX_RUN_SECONDS = 7 * 24 * 3600
FORCE_ENV = "PARITYLAB_FORCE"
FLOPS_PER_SECOND = 2e9  # one pinned core, float32, a deliberately modest rate
STEP_FLOOR_S = 2e-6  # a compiled training step never takes less than this
PROCESS_BYTES = 400 << 20  # a worker with jax imported
CERT_CHUNK = 16384  # certificate samples are featurised in chunks of about this many
FORCE_HINT = f"pass --force (or set {FORCE_ENV}=1) to run it anyway"


def forced(force: bool | None = None) -> bool:
    """``force`` when given, else whether ``PARITYLAB_FORCE`` is set to a true value."""
    if force is not None:
        return bool(force)
    return os.environ.get(FORCE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def machine_memory() -> int:
    """Bytes of memory this process may use: physical memory, or a smaller cgroup limit."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 0
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < (total or int(text) + 1):
            total = int(text)
    return total or 8 << 30


def machine_cores() -> int:
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Estimate:
    """One run's estimated peak memory (bytes) and time (seconds), and what dominates each."""

    memory: int
    seconds: float
    memory_term: str
    time_term: str


def _int(c: dict, *names, default=0) -> int:
    for name in names:
        v = c.get(name)
        if isinstance(v, int) and not isinstance(v, bool):
            return v
    return default


def estimate_run(config: dict) -> Estimate:
    """Estimate one run's memory and time from its resolved settings (``RunSpec.config_dict``).

    Args:
        config: the run's problem fields and learner settings, flat.

    Returns:
        the ``Estimate``.
    """
    c = config
    k = _int(c, "k", default=1)
    d = _int(c, "n", default=(784 if c.get("source") == "mnist" else 64) * max(k, 1))
    sets = [_int(c, key) for key in ("n_train", "n_test", "n_val", "train_samples", "eval_size")]
    sets += [_int(c, "test_tuples")]
    samples = sum(sets)
    block = max([*sets, 1])
    width = _int(c, "width")
    batch = _int(c, "batch_size", default=1)
    cert = _int(c, "cert_samples")
    kernel = "max_samples" in c
    n_train = _int(c, "n_train", "train_samples", default=block)
    m = min(_int(c, "max_samples"), n_train) if kernel else 0

    memory_terms = {"the data (n x samples)": 4 * d * samples * 2}
    if kernel:  # a kernel learner: its width (if any) only weighs the kernel
        memory_terms["the Gram matrix (max_samples^2, float64)"] = 8 * m * m * 3 // 2
    elif width:
        memory_terms["the network (width x n)"] = 4 * width * (d + 2) * 4
        memory_terms["the features or activations (width x samples)"] = (
            4 * width * (samples + batch + min(cert, CERT_CHUNK)) * 2
        )
    memory = PROCESS_BYTES + sum(memory_terms.values())

    steps = _int(c, "steps", "max_steps")
    epochs = _int(c, "epochs")
    if not steps and epochs:
        steps = epochs * max(1, _int(c, "tuples_per_epoch", default=n_train) // max(batch, 1))
    per_step = 6 * max(batch, 1) * max(width, 1) * d / FLOPS_PER_SECOND
    time_terms = {"steps x (batch x width x n)": steps * max(STEP_FLOOR_S, per_step)}
    if kernel:
        time_terms["the Cholesky of max_samples^2"] = (m**3 / 3 + m * m * d) / FLOPS_PER_SECOND
    elif width:
        time_terms["the features (width x samples x n)"] = (
            2 * width * (samples + cert) * d / FLOPS_PER_SECOND
        )
    seconds = sum(time_terms.values())
    return Estimate(
        memory=int(memory),
        seconds=float(seconds),
        memory_term=max(memory_terms, key=memory_terms.get),
        time_term=max(time_terms, key=time_terms.get),
    )


def human_bytes(b: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(b) < 1024 or unit == "PiB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024
    return f"{b:.1f} EiB"  # pragma: no cover


def human_seconds(s: float) -> str:
    """Seconds as s / min / h / days / years."""
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:,.1f} {unit}"
    return f"{s:.1f} s"


def _sizes(config: dict) -> str:
    keys = ("n", "width", "n_train", "n_test", "batch_size", "steps", "max_steps", "max_samples")
    return ", ".join(f"{k}={config[k]}" for k in keys if isinstance(config.get(k), int))


def check_runs(runs, *, executor: str = "local", force: bool | None = None) -> Estimate | None:
    """Check every run's estimated memory and time against this machine.

    Args:
        runs: the ``RunSpec`` list (estimated once per distinct problem and settings).
        executor: ``local``, ``inline`` or ``ray`` (a Ray cluster's machines are not this one:
            only the time limit applies there).
        force: skip both limits (default: ``PARITYLAB_FORCE``).

    Returns:
        the estimate of the run that needs the most memory (None without runs).

    Raises:
        BadInput: a run needs more memory than this machine has, or longer than the limit.
    """
    force = forced(force)
    seen: dict[tuple, tuple] = {}
    for run in runs:  # the runs of one grid point share their problem and settings objects
        key = (id(run.problem), id(run.settings))
        if key not in seen:
            config = run.config_dict
            seen[key] = (estimate_run(config), run, config)
    if not seen:
        return None
    mem_est, mem_run, mem_cfg = max(seen.values(), key=lambda t: t[0].memory)
    time_est, time_run, time_cfg = max(seen.values(), key=lambda t: t[0].seconds)
    ram = machine_memory()
    if not force and executor != "ray" and mem_est.memory > ram:
        raise BadInput(
            f"{mem_run.learner} ({_sizes(mem_cfg)}) would need about "
            f"{human_bytes(mem_est.memory)} of memory per run, mostly {mem_est.memory_term}; "
            f"this machine has {human_bytes(ram)}: lower the size, or {FORCE_HINT}"
        )
    if not force and time_est.seconds > MAX_RUN_SECONDS:
        raise BadInput(
            f"{time_run.learner} ({_sizes(time_cfg)}) would take about "
            f"{human_seconds(time_est.seconds)} per run, mostly {time_est.time_term}; the limit "
            f"is {human_seconds(MAX_RUN_SECONDS)}: lower the size, or {FORCE_HINT}"
        )
    return mem_est


def plan_workers(
    workers: int | None, todo: int, largest: Estimate | None, *, force: bool | None = None
) -> tuple[int, list[str]]:
    """The local pool's size: ``workers`` (default: the cores), at most the runs to do, the
    cores (unless forced) and as many runs as fit in memory together (unless forced).

    Returns:
        (workers, notes): a note (one line) for each cap that lowered an explicit ``workers``.
    """
    force = forced(force)
    ram = machine_memory()
    notes = []
    cores = machine_cores()
    want = workers if workers is not None else cores
    cap = max(1, min(want, todo) if force else min(want, todo, cores))
    if workers is not None and workers > cores and not force:
        notes.append(
            f"note: --workers {workers} capped at {cap} (this machine has {cores} cores and "
            f"{todo} runs are to do; each worker uses one core); --force starts more"
        )
    fit = max(1, int(0.9 * ram // max(largest.memory if largest else 1, 1)))
    if cap > fit and not force:
        notes.append(
            f"note: running {fit} worker(s) at a time instead of {cap}: each run may need "
            f"{human_bytes(largest.memory)} and this machine has {human_bytes(ram)}"
        )
        cap = fit
    return cap, notes


def count_runs(blocks, seeds: int) -> int:
    """Runs of an experiment before duplicates are removed: sum over blocks of
    (grid points x learners x seeds), computed without building anything."""
    total = 0
    for learners, axes in blocks:
        points = math.prod(len(values) for _, values in axes)
        total += points * len(learners) * seeds
    return total
