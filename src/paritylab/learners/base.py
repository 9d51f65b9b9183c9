"""The learner contract.

A learner is a frozen dataclass of its settings (the only place their defaults live) with one
entry point, ``fit(data, *, key) -> Fit``, in the spirit of scikit-learn's estimators and
optax's gradient transformations:

* class attributes ``name`` (the name in experiment files), ``version`` (bump it when the
  learner's semantics change: it is part of every run id), ``reads`` (what ``fit`` needs:
  ``"sample"``, a finite training sample; ``"stream"``, a problem to draw from; ``"digits"``, a
  digit-parity problem) and ``cost`` (relative run time, so sweeps start long runs first);
* ``check()``: raise ``BadInput`` on settings that cannot work together;
* ``fit(data, key=...)``: train on ``data`` (a ``TrainingData``) and return a ``Fit``, which
  predicts and reports the learner's own numbers and traces.

``register_learner`` adds a class to the registry; ``get_learner(name)`` finds it;
``learner_key(seed, name)`` is the key a run of learner ``name`` with ``seed`` gets: it
derives from the name, so adding or reordering learners never changes another's numbers.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import jax

from paritylab.errors import BadInput, suggest

READS = ("sample", "stream", "digits")


@dataclass(frozen=True)
class TrainingData:
    """What a task hands to a learner.

    Attributes:
        problem: the problem (distribution x target) the data comes from; learners that read
            ``"stream"`` draw from it, others may read its target (e.g. its degree) and the
            input dimension.
        train: a finite training sample, when the task has one.
        test: a held-out sample, for learners that monitor progress while training (the
            online loop's time to success).
        validation: a sample for selecting settings (``paritylab.learners.tuning``), drawn
            from the same distribution as ``train`` and independent of ``test``.
        keys: randomness shared by design between the learners of one seed, by name (e.g.
            ``"init"``: every network of the seed starts from the same weights; ``"batches"``:
            every learner sees the same stream). A learner uses its own key for what is absent.
        probe: optional ``probe(W, W0, x, f, target) -> dict`` of extra measures that
            learners which evaluate inside their loop record at every evaluation.
    """

    problem: Any = None
    train: Any = None
    test: Any = None
    keys: dict = field(default_factory=dict)
    probe: Callable | None = None
    validation: Any = None

    def key(self, name: str, fallback: jax.Array) -> jax.Array:
        """The shared key ``name``, or ``fallback`` when the task provides none."""
        return self.keys.get(name, fallback)


@dataclass(frozen=True)
class Fit:
    """A fitted learner.

    Attributes:
        predict: ``predict(x) -> f``, real-valued scores (m,) for inputs (m, n).
        metrics: the learner's own numbers (e.g. N, B, feature energy for a linear method;
            success and time to success for the online loop).
        traces: per-evaluation series sharing an x axis (``"step"`` or ``"epoch"``).
        info: non-numeric facts about the run (lists, strings).
        state: the fitted parameters, for library users.
    """

    predict: Callable
    metrics: dict = field(default_factory=dict)
    traces: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    state: Any = None


@dataclass(frozen=True)
class Learner:
    """Base class of every learner; subclasses are frozen dataclasses of settings."""

    name: ClassVar[str] = ""
    version: ClassVar[int] = 1
    reads: ClassVar[str] = "sample"
    cost: ClassVar[float] = 1.0
    TUNING_GRID: ClassVar[dict] = {}  # settings -> candidates (paritylab.learners.tuning)

    def check(self) -> None:
        """Raise BadInput for settings that cannot work together (none by default)."""

    def fit(self, data: TrainingData, *, key: jax.Array) -> Fit:
        """Train on ``data``.

        Args:
            data: what the task provides.
            key: this run's private JAX random key.

        Returns:
            the ``Fit``.
        """
        raise NotImplementedError

    def fit_group(self, datas: list[TrainingData], keys: list) -> list[Fit]:
        """``fit(datas[s], key=keys[s])`` for every seed s. A learner that can train several
        seeds as one vectorised program (the ``vmap`` executor) overrides this; the result
        must equal the one-run fits to float32 rounding. Only a class that defines both
        ``fit`` and ``fit_group`` itself is grouped (``trains_in_groups``), so a subclass that
        changes ``fit`` never inherits a group path that would skip its change.

        Args:
            datas: per seed, the task's data (same shapes).
            keys: per seed, the run's key.

        Returns:
            one ``Fit`` per seed.
        """
        return [self.fit(d, key=k) for d, k in zip(datas, keys, strict=True)]

    def seed_bytes(self, problem) -> int | None:
        """Device memory of one seed in a vmapped group (bytes), for group sizing; None when
        unknown (the executor's default cap applies).

        Args:
            problem: the run's problem config.

        Returns:
            bytes, or None.
        """
        return None

    def settings(self) -> dict:
        """The settings as a plain dict (what a run id hashes)."""
        return dataclasses.asdict(self)


def trains_in_groups(cls: type) -> bool:
    """Whether learners of ``cls`` train seeds as one vectorised program: ``fit_group`` is
    overridden, by the same class that defines ``fit``.

    Args:
        cls: a ``Learner`` subclass.

    Returns:
        True or False.
    """

    def owner(name: str) -> type:
        return next(c for c in cls.__mro__ if name in vars(c))

    return owner("fit_group") is not Learner and owner("fit_group") is owner("fit")


_REGISTRY: dict[str, type[Learner]] = {}


def register_learner(cls: type[Learner]) -> type[Learner]:
    """Class decorator: add a learner to the registry under ``cls.name``.

    Args:
        cls: a frozen dataclass subclass of ``Learner`` with a ``name``.

    Returns:
        ``cls`` unchanged.
    """
    if not cls.name or cls.reads not in READS:
        raise TypeError(f"{cls.__name__} needs a name and reads in {READS}")
    _REGISTRY[cls.name] = cls
    return cls


def get_learner(name: str) -> type[Learner]:
    """The learner class registered as ``name``.

    Args:
        name: a registered learner name.

    Returns:
        the class.
    """
    if name not in _REGISTRY:
        raise BadInput(
            f"unknown learner {name!r}{suggest(name, _REGISTRY)}; allowed: {', '.join(_REGISTRY)}"
        )
    return _REGISTRY[name]


def learner_names(reads: str | None = None) -> tuple[str, ...]:
    """Registered learner names, optionally only those that read ``reads``.

    Args:
        reads: ``"sample"``, ``"stream"``, ``"digits"`` or None for all.

    Returns:
        names in registration order.
    """
    return tuple(n for n, c in _REGISTRY.items() if reads is None or c.reads == reads)


def learner_key(seed: int, name: str) -> jax.Array:
    """The private key of a run of learner ``name`` with ``seed``.

    ``fold_in(key(seed), salt)`` with salt the first 31 bits of sha256(name), so a learner's
    randomness depends on its name only.

    Args:
        seed: the run's seed.
        name: the learner's name.

    Returns:
        a JAX random key.
    """
    salt = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") & 0x7FFFFFFF
    return jax.random.fold_in(jax.random.key(seed), salt)
