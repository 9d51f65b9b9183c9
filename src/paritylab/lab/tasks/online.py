"""Task "online": a sparse target on {-1,+1}^n learnt from fresh samples (Barak et al. 2022).

The problem: inputs from a distribution (uniform by default, or a biased product mu_p, or a
mixture of mu_p and the uniform distribution, or a random mean shift), labels from a target on
a support A of size k drawn from the seed (the k-sparse parity by default; also staircase, the
leap-L family, majority, or any sum of monomials), training labels flipped with probability
``label_noise``. Defaults: Barak et al., "Hidden progress in deep learning: SGD learns parities
near the computational limit", NeurIPS 2022, https://arxiv.org/abs/2207.08799: (n, k) =
(50, 3), uniform inputs, parity.

Curricula (``curriculum``; each a ``paritylab.data.Schedule`` sampled inside the compiled
loop at the traced step, the configured ``distribution`` being the last stage):

* ``biased-first``: mu_p with p = ``bias`` for the first ``curriculum_steps`` steps, then the
  distribution (Cornacchia and Mossel, "A mathematical model for curriculum learning for
  parities", 2023, https://arxiv.org/abs/2301.13833). With ``distribution =
  "sparse-mixture"`` it is the curriculum of Abbe, Cornacchia and Lotfi, "Provable advantage
  of curriculum learning on parity targets with mixed inputs", NeurIPS 2023,
  https://arxiv.org/abs/2306.16921: the sparse inputs first, then the whole mixture.
* ``anneal``: P(x_i = -1) moves linearly from ``bias`` at step 0 to 1/2 at step
  ``curriculum_steps`` (``BiasRamp``), then the distribution.
* ``dimension``: for the first ``curriculum_steps`` steps every coordinate outside the support
  and the first ``curriculum_n`` - k others is fixed to +1 (``Subcube``): the network sees a
  problem of dimension ``curriculum_n`` (the fixed inputs only shift each unit's
  pre-activation by a constant), then the full dimension n.

The held-out set is drawn from the distribution the run ends on (``final_distribution``: the
last stage), so a curriculum is scored on the distribution it leads to.

Mean shift (``distribution = "mean-shift"``): P(x_i = -1) = (1 - shift s_i) / 2 with signs s_i
drawn from the seed, so E x_i = shift s_i (Cornacchia, Mikulincer, Mossel, "Low-dimensional
functions are efficiently learnable under randomly biased distributions", COLT 2025,
https://arxiv.org/abs/2502.06443).

Shared by every learner of a seed: the support, the held-out set of ``eval_size`` clean
samples, the training set (``train_samples`` = m; none: online) and the keys ``"init"`` (the
network's initialisation), ``"batches"`` (the stream of fresh batches) and ``"shuffle"`` (the
epochs' shuffles). Learners: ``sgd-online`` (time to success, hidden-progress measures) and
``gf2-oracle`` (Gaussian elimination, the non-gradient reference).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.data import (
    BiasedProduct,
    BiasRamp,
    Mixture,
    Problem,
    Sample,
    Schedule,
    Subcube,
    Uniform,
    all_points,
    check_label_noise,
    check_support,
    draw_support,
    final_distribution,
    make_target,
    subcube_mask,
    target_names,
)
from paritylab.errors import BadInput
from paritylab.learners.base import Fit, TrainingData
from paritylab.metrics import classification_metrics, progress_probe, support_mass_chance
from paritylab.options import option

READS = "stream"
LEARNERS = ("sgd-online", "gf2-oracle", "lottery-ticket")
TRAIN_SETS = ("sample", "cube")
CUBE_MAX_N = 16  # 2^16 rows: the largest cube that is one training set here
DISTRIBUTIONS = ("uniform", "biased", "sparse-mixture", "mean-shift")
CURRICULA = ("none", "biased-first", "anneal", "dimension")


@dataclass(frozen=True)
class OnlineProblemConfig:
    """A sparse target on the cube (defaults: Barak et al. 2022, the (50, 3) parity)."""

    n: int = option(50, "input dimension", min=1)
    k: int = option(3, "support size |A| (the parity's degree)", min=1)
    target: str = option(
        "parity",
        "parity | staircase | leap (leap below) | majority | monomials (terms below) | a "
        "registered target",
    )
    leap: int = option(
        1, "leap target: L, prefixes of lengths k, k-L, k-2L, ... (leap min(L, k))", min=1
    )
    terms: tuple[tuple[int, ...], ...] = option(
        (), "monomials target: positions 0..k-1 in the support, e.g. [[0], [0, 1]]"
    )
    coefs: tuple[float, ...] = option((), "monomials target: one coefficient per term (default 1)")
    distribution: str = option(
        "uniform",
        "uniform | biased (mu_p: P(x_i = -1) = bias) | sparse-mixture (mu_p with weight "
        "mixture_weight, else uniform) | mean-shift (E x_i = shift s_i, random signs s_i)",
        choices=DISTRIBUTIONS,
    )
    bias: float = option(
        0.5,
        "P(x_i = -1) of mu_p (biased, sparse-mixture, and a curriculum's start)",
        min=0.0,
        max=1.0,
    )
    mixture_weight: float = option(
        0.0, "sparse-mixture: probability of a mu_p input", min=0.0, max=1.0
    )
    shift: float = option(0.0, "mean-shift: |E x_i| (signs random per seed)", min=0.0, max=1.0)
    curriculum: str = option(
        "none",
        "none | biased-first (mu_bias, then the distribution) | anneal (P(x_i = -1) from bias "
        "to 1/2) | dimension (only curriculum_n coordinates vary), each for curriculum_steps",
        choices=CURRICULA,
    )
    curriculum_steps: int = option(0, "steps of the curriculum's first stage", min=0)
    curriculum_n: int | None = option(
        None, "dimension curriculum: coordinates that vary in the first stage (k..n)", min=1
    )
    label_noise: float = option(0.0, "training-label flip probability p (< 0.5)", min=0.0, max=0.5)
    train_samples: int | None = option(None, "None = online; m = one fixed training set", min=1)
    train_set: str = option(
        "sample",
        "sample (fresh batches, or train_samples drawn) | cube (train and score on all 2^n "
        "inputs, n <= 16: the full-parity setting of Rumelhart, Hinton, Williams 1986)",
        choices=TRAIN_SETS,
    )
    eval_size: int = option(8192, "held-out samples for test metrics", min=1)

    def check(self) -> None:
        """Support size within n, label noise below 1/2, a known target with valid terms,
        and leap, shift and curriculum fields only with the target, distribution or
        curriculum they belong to."""
        check_support(self.n, self.k)
        check_label_noise(self.label_noise)
        if self.target not in target_names():
            make_target(self.target, jnp.arange(self.k))  # raises with the allowed names
        if self.target == "monomials":
            make_target("monomials", jnp.arange(self.k), terms=self.terms, coefs=self.coefs)
        elif self.terms or self.coefs:
            raise BadInput(
                f"terms/coefs are set but target={self.target!r}: use target='monomials'"
            )
        if self.leap != 1 and self.target != "leap":
            raise BadInput(f"leap={self.leap} is set but target={self.target!r}: use target='leap'")
        if self.shift and self.distribution != "mean-shift":
            raise BadInput(
                f"shift={self.shift} is set but distribution={self.distribution!r}: use "
                "distribution='mean-shift'"
            )
        self._check_curriculum()
        if self.train_set == "cube" and (self.n > CUBE_MAX_N or self.train_samples is not None):
            raise BadInput(
                f"train_set='cube' with n={self.n}, train_samples={self.train_samples}: allowed "
                f"n <= {CUBE_MAX_N} and train_samples unset (the cube is the training set)"
            )

    def _check_curriculum(self) -> None:
        if self.curriculum == "none":
            if self.curriculum_steps or self.curriculum_n is not None:
                raise BadInput(
                    "curriculum_steps/curriculum_n are set but curriculum='none': choose one of "
                    + ", ".join(CURRICULA[1:])
                )
            return
        if self.train_samples is not None:
            raise BadInput(
                f"curriculum={self.curriculum!r} reads the step of fresh batches: it needs online "
                "training (train_samples unset)"
            )
        if self.curriculum_steps < 1:
            raise BadInput(
                f"curriculum={self.curriculum!r} needs curriculum_steps >= 1 (its first stage)"
            )
        if self.curriculum in ("biased-first", "anneal") and self.distribution == "biased":
            raise BadInput(
                f"curriculum={self.curriculum!r} starts from mu_bias, and distribution='biased' "
                "is mu_bias too: a curriculum leads to another distribution (uniform, "
                "sparse-mixture, mean-shift)"
            )
        if self.curriculum == "dimension":
            if self.curriculum_n is None or not self.k <= self.curriculum_n <= self.n:
                raise BadInput(
                    f"curriculum_n={self.curriculum_n} is out of range: the dimension curriculum "
                    f"needs k <= curriculum_n <= n (k={self.k}, n={self.n})"
                )
        elif self.curriculum_n is not None:
            raise BadInput(
                f"curriculum_n is set but curriculum={self.curriculum!r}: it belongs to "
                "curriculum='dimension'"
            )


CONFIG = OnlineProblemConfig


def check_run(config: OnlineProblemConfig, learner) -> None:
    """Raise BadInput before anything runs when a learner's settings cannot work on this
    problem (e.g. ``epochs`` without a finite training set, a batch larger than it).

    Args:
        config: the problem config.
        learner: the learner's settings.
    """
    check = getattr(learner, "check_problem", None)
    if check is not None:
        m = 2**config.n if config.train_set == "cube" else config.train_samples
        check(n=config.n, train_samples=m)
    if config.curriculum != "none" and not hasattr(learner, "max_steps"):
        # A learner that draws its samples at once (gf2-oracle) would see the first stage only.
        raise BadInput(
            f"curriculum={config.curriculum!r} changes the inputs with the training step: "
            f"learner {type(learner).name!r} does not train in steps (use sgd-online)"
        )


def make_problem(config: OnlineProblemConfig, support, key=None) -> Problem:
    """The problem of a config on a given support.

    Args:
        config: the problem config.
        support: the k coordinates the target reads.
        key: key of the distribution's own draws (the mean-shift signs); default PRNGKey(0).

    Returns:
        the ``Problem`` (its distribution a ``Schedule`` under a curriculum).
    """
    params = {}
    if config.target == "monomials":
        params = {"terms": config.terms, "coefs": config.coefs}
    elif config.target == "leap":
        params = {"leap": config.leap}
    target = make_target(config.target, support, **params)
    n = config.n
    dist = Uniform(n)
    if config.distribution == "mean-shift":
        key = jax.random.PRNGKey(0) if key is None else key
        signs = jax.random.rademacher(key, (n,), dtype=jnp.float32)
        dist = BiasedProduct(n, (1.0 - config.shift * signs) / 2.0)
    elif config.distribution != "uniform":
        biased = BiasedProduct(n, jnp.float32(config.bias))
        dist = (
            biased
            if config.distribution == "biased"
            else Mixture(dist, biased, config.mixture_weight)
        )
    steps = config.curriculum_steps
    if config.curriculum == "biased-first":
        dist = Schedule((BiasedProduct(n, jnp.float32(config.bias)), dist), (steps,))
    elif config.curriculum == "anneal":
        ramp = BiasRamp(n, jnp.float32(config.bias), jnp.float32(0.5), steps)
        dist = Schedule((ramp, dist), (steps,))
    elif config.curriculum == "dimension":
        free = subcube_mask(n, support, config.curriculum_n)
        dist = Schedule((Subcube(dist, free), dist), (steps,))
    return Problem(dist, target, config.label_noise)


def make_data(config: OnlineProblemConfig, seed: int) -> TrainingData:
    """The support, problem, held-out set, training set (finite mode) and shared keys.

    Args:
        config: the problem config.
        seed: the run's seed.

    Returns:
        the seed's ``TrainingData``.
    """
    k_support, k_init, k_learn, k_dist = jax.random.split(jax.random.PRNGKey(seed), 4)
    support = draw_support(k_support, config.n, config.k)
    problem = make_problem(config, support, k_dist)
    k_batches, k_test, k_train, k_shuffle = jax.random.split(k_learn, 4)
    # A curriculum is scored on the distribution it ends on (itself for every other problem).
    final = Problem(final_distribution(problem.distribution), problem.target)
    test = final.sample(k_test, config.eval_size)
    train = None
    if config.train_samples is not None:
        train = problem.training_sample(k_train, config.train_samples)
    if config.train_set == "cube":  # every input once, for training and for scoring
        test = cube_sample(problem, config.n)
        y = test.y
        if config.label_noise > 0:
            y = jnp.where(jax.random.bernoulli(k_train, config.label_noise, y.shape), -y, y)
        train = test._replace(y=y)
    keys = {"init": k_init, "batches": k_batches, "shuffle": k_shuffle}
    return TrainingData(problem, train, test, keys, progress_probe)


def cube_sample(problem: Problem, n: int):
    """All 2^n points of {-1,+1}^n (row r: bit j of r set <=> x_j = -1) and clean labels.

    Args:
        problem: the problem whose target labels them.
        n: dimension (<= ``CUBE_MAX_N``).

    Returns:
        a ``paritylab.data.problem.Sample`` of 2^n rows.
    """
    x = jnp.asarray(all_points(n), jnp.float32)
    return Sample(x, problem.target(x), jnp.zeros(2**n, jnp.int32))


def evaluate(config: OnlineProblemConfig, data: TrainingData, fit: Fit) -> dict:
    """Held-out accuracy and hinge (for Boolean targets) and facts about the run.

    The learner's own final metrics (e.g. the training loop's last evaluation) take precedence
    over these when the runner merges them.

    Args:
        config: the problem config.
        data: the seed's data.
        fit: the fitted learner.

    Returns:
        ``{"metrics", "info"}``.
    """
    metrics = {}
    train = data.train
    if data.problem.target.boolean:
        metrics = classification_metrics(np.asarray(fit.predict(data.test.x)), data.test.y)
    support = np.asarray(data.problem.target.support)
    info = {
        "support": [int(i) for i in support],
        "support_mass_chance": support_mass_chance(config.n, config.k),
        "mode": "finite" if train is not None else "online",
    }
    return {"metrics": metrics, "info": info}


TABLE_COLUMNS = (
    ("test_acc", "acc"),
    ("test_hinge", "hinge"),
    ("test_rel_mse", "rel. mse"),
    ("success", "success"),
    ("t_c", "t_c"),
    ("t_c_epochs", "t_c (epochs)"),
)


def reference_row(config: dict):
    """No reference row for this task."""
    return None


def report(records: list[dict], directory, name: str):
    """Sweep figures, training curves and, over several n, the time-to-success scaling (one
    section per learner: SGD steps and GF(2) samples are never pooled). When the runs compare
    targets or input distributions (``paritylab.lab.leaps``), the ``sgd-online`` runs get one
    section with every arm on one figure and the predicted exponents instead. When they sweep
    both the width and the number of training samples (``paritylab.lab.pareto``), the
    ``sgd-online`` runs get the width x data frontier's heatmaps and slices instead of the
    generic sweep figures. ``lottery-ticket`` runs get the per-seed table of their four arms
    (``paritylab.lab.lottery``), and sweeps of initialisation families their success,
    alignment and time tables (``paritylab.lab.init_families``).

    Args:
        records: runs of one experiment (any status: failed, diverged and censored runs count
            as failures).
        directory: where figures go.
        name: the experiment name (figure file prefix).

    Returns:
        (markdown lines, figure paths).
    """
    from paritylab.lab import figures, init_families, leaps, lottery, pareto
    from paritylab.lab.report import scaling_section

    # Each section applies to its own kind of sweep; (module, replaces the generic sweep
    # figures of sgd-online, replaces its per-setting scaling section).
    sections = (
        (pareto, True, False),  # width x data: heatmaps and slices
        (leaps, False, True),  # targets or distributions compared: one figure, all arms
        (lottery, False, False),  # lottery tickets: four arms per seed
        (init_families, False, True),  # init families and alignment
    )
    lines, more = [], []
    sweep_records, scaling_records = records, records
    for part, own_figures, own_scaling in sections:
        if not part.applies(records):
            continue
        part_lines, part_paths = part.section(records, directory, name)
        lines, more = lines + part_lines, more + part_paths
        if own_figures:
            sweep_records = [r for r in sweep_records if r["learner"] != "sgd-online"]
        if own_scaling:
            scaling_records = [r for r in scaling_records if r["learner"] != "sgd-online"]
    paths = figures.sweep_figures(sweep_records, directory, name)
    curves = figures.training_curves(records, directory, name)
    scaling_lines, scaling_paths = scaling_section(scaling_records, directory, name)
    return lines + scaling_lines, paths + ([curves] if curves else []) + more + scaling_paths
