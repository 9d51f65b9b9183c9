"""Exact parity learning by Gaussian elimination over GF(2): the non-gradient oracle.

With bits b_i = (1 - x_i)/2 and label bit c = (1 - y)/2, the parity y = chi_A(x) =
prod_{i in A} x_i = (-1)^{sum_{i in A} b_i} becomes one linear equation over GF(2):

    sum_i a_i b_i = c  (mod 2),   a = indicator vector of A.

m labelled samples give a linear system B a = c with B in GF(2)^{m x n}. If rank(B) = n the
solution, hence A, is unique; m uniform samples reach full rank with probability
prod_{j > m - n} (1 - 2^-j) >= 1 - 2^-(m-n) (about 0.29 at m = n, 0.999 at m = n + 10). So
about n samples suffice, for any k, in O(m n^2 / 64) word operations here: parity is easy for
an algebraic learner, and the n^Omega(k) hardness that SGD meets (Barak et al. 2022) is specific
to statistical-query / gradient methods (Blum et al. 1994 for the SQ lower bound).

Noise. Elimination is exact arithmetic: a single flipped label among the equations used makes
the recovered support wrong (or the system inconsistent), so with flip probability p plain
elimination on n equations succeeds with probability about (1 - p)^n. ``recover_parity`` does
no error correction and is meant for clean labels. ``recover_parity_noisy`` is the honest
noisy variant: eliminate on fresh blocks of n + ``extra`` samples and keep a candidate only if
it agrees with held-out samples significantly more often than chance (a wrong parity agrees
with probability 1/2 under uniform inputs). Its expected cost grows like (1 - p)^-(n + extra)
trials, the exponential behaviour expected of learning parity with noise; it returns None when
no trial passes, rather than a guess.

Rows are bit-packed into little-endian uint64 words, so each elimination step XORs whole words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import numpy as np

from paritylab.errors import BadInput
from paritylab.learners.base import Fit, Learner, TrainingData
from paritylab.models.losses import correct_np
from paritylab.options import option

_EXTRA = 4  # rows beyond n per noisy-oracle trial


def to_bits(x) -> np.ndarray:
    """Map {-1,+1} values to bits: -1 -> 1, +1 -> 0 (so products become XORs)."""
    x = np.asarray(x)
    if not np.all(np.abs(x) == 1):
        raise BadInput("inputs and labels must be +-1 to be read as GF(2) bits")
    return (x < 0).astype(np.uint8)


def _pack(bits: np.ndarray) -> np.ndarray:
    """(m, c) 0/1 array -> (m, ceil(c/64)) uint64, bit j of a row at word j//64, bit j%64."""
    m, c = bits.shape
    padded = np.zeros((m, 64 * max(1, -(-c // 64))), np.uint8)
    padded[:, :c] = bits
    return np.packbits(padded, axis=1, bitorder="little").view("<u8")


def _eliminate(rows: np.ndarray, n: int) -> list[int]:
    """Reduce packed rows in place to reduced row-echelon form over the first n columns.

    Returns the pivot columns (rank = their number)."""
    pivots: list[int] = []
    r = 0
    for col in range(n):
        if r == rows.shape[0]:
            break
        word, bit = divmod(col, 64)
        mask = np.uint64(1) << np.uint64(bit)
        has = (rows[r:, word] & mask) != 0
        if not has.any():
            continue
        p = r + int(np.argmax(has))
        if p != r:
            rows[[r, p]] = rows[[p, r]]
        hit = (rows[:, word] & mask) != 0
        hit[r] = False
        rows[hit] ^= rows[r]
        pivots.append(col)
        r += 1
    return pivots


def gf2_rank(bits) -> int:
    """Rank over GF(2) of a 0/1 matrix."""
    bits = np.asarray(bits, np.uint8)
    return len(_eliminate(_pack(bits), bits.shape[1]))


def solve_gf2(a_bits, c_bits) -> np.ndarray | None:
    """The unique a in GF(2)^n with A a = c, or None if there is none or more than one."""
    a_bits = np.asarray(a_bits, np.uint8)
    c_bits = np.asarray(c_bits, np.uint8).reshape(-1, 1)
    n = a_bits.shape[1]
    rows = _pack(np.concatenate([a_bits, c_bits], axis=1))
    pivots = _eliminate(rows, n)
    word, bit = divmod(n, 64)
    rhs = (rows[:, word] >> np.uint64(bit)) & np.uint64(1)
    if np.any(rhs[len(pivots) :]):  # a zero row equal to 1: inconsistent
        return None
    if len(pivots) < n:  # under-determined: a free variable
        return None
    return rhs[:n].astype(np.uint8)  # reduced form with full rank: row i is a_i = c_i


def recover_parity(x, y) -> np.ndarray | None:
    """The support A (sorted 0-based indices) of the only parity consistent with samples
    x in {-1,+1}^{m x n}, y in {-1,+1}^m; None when the samples leave it under-determined or
    no parity is consistent (e.g. a flipped label)."""
    x = np.asarray(x)
    a = solve_gf2(to_bits(x), to_bits(np.asarray(y).reshape(-1)))
    return None if a is None else np.flatnonzero(a)


def agreement(x, y, support) -> float:
    """Fraction of samples with chi_A(x) == y."""
    x = np.asarray(x)
    chi = np.prod(x[:, np.asarray(support, int)], axis=1) if len(support) else np.ones(len(x))
    return float(np.mean(chi == np.asarray(y).reshape(-1)))


def acceptance_threshold(holdout: int, trials: int, *, delta: float = 0.01) -> float:
    """1/2 + sqrt(log(trials/delta) / (2 h)): by Hoeffding and a union bound, no wrong parity
    (agreement 1/2 in expectation) among ``trials`` candidates passes it on h held-out samples
    with probability more than delta."""
    return 0.5 + math.sqrt(math.log(trials / delta) / (2 * holdout))


def recover_parity_noisy(
    x, y, *, holdout: int, extra: int = 4, delta: float = 0.01
) -> tuple[np.ndarray | None, int]:
    """Learning parity with label noise by repeated elimination plus verification.

    The last ``holdout`` samples are held out; the others are cut into disjoint blocks of
    n + ``extra`` fresh samples, one per trial (a block without a flipped label gives A, and
    the ``extra`` rows make most blocks with a flip inconsistent). A candidate is accepted as
    soon as its held-out agreement exceeds ``acceptance_threshold(holdout, trials, delta=delta)``.
    Returns (support, samples used = holdout + blocks consumed), or (None, all samples) when no
    trial passes: the learner gives up rather than guess. Deterministic.
    """
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    m, n = x.shape
    size = n + extra
    trials = (m - holdout) // size
    if holdout < 1 or trials < 1:
        raise BadInput(
            f"holdout={holdout} with m={m} samples leaves no block of n + extra = {size} to solve"
        )
    bar = acceptance_threshold(holdout, trials, delta=delta)
    x_hold, y_hold = x[m - holdout :], y[m - holdout :]
    for t in range(trials):
        block = slice(t * size, (t + 1) * size)
        support = recover_parity(x[block], y[block])
        if support is not None and agreement(x_hold, y_hold, support) > bar:
            return support, holdout + (t + 1) * size
    return None, m


@dataclass(frozen=True)
class GF2Oracle(Learner):
    """Gaussian elimination over GF(2), the exact non-gradient reference for parities.

    Clean labels: draws samples of the problem one at a time from n on until the system has a
    unique solution; t_c = samples used. Noisy labels (the problem's ``label_noise`` = p > 0):
    up to ``trials`` eliminations on fresh blocks of n + 4 samples, verified on a hold-out
    sized from the known noise rate, h = ceil(2 log(trials/0.01) / (1/2 - p)^2), so that the
    true parity passes the acceptance bar with probability >= 1 - 0.01/trials; t_c = samples
    used (hold-out plus blocks consumed), None when no trial passes. A learner with no
    hypothesis predicts f = 0, which counts as an error (accuracy 0, hinge 1). Success also
    needs held-out accuracy >= ``success_threshold``.
    """

    name = "gf2-oracle"
    reads = "stream"
    cost = 0.5
    trials: int = option(1000, "elimination trials under label noise", min=1)
    success_threshold: float = option(
        1.0, "held-out accuracy that counts as success", min=0.0, max=1.0
    )

    def fit(self, data: TrainingData, *, key: jax.Array) -> Fit:
        """Recover a parity from samples of ``data.problem``; score it on ``data.test``."""
        problem = data.problem
        n, p = problem.n, problem.label_noise
        if p == 0:
            limit = 4 * n + 64  # P(rank < n) after n + j uniform samples is < 2^-j
            x, y = _draw(problem, key, limit)
            found, used = None, n - 1
            while found is None and used < limit:
                used += 1
                found = recover_parity(x[:used], y[:used])
        else:
            holdout = math.ceil(2 * math.log(self.trials / 0.01) / (0.5 - p) ** 2)
            x, y = _draw(problem, key, holdout + self.trials * (n + _EXTRA))
            found, used = recover_parity_noisy(x, y, holdout=holdout, extra=_EXTRA)
        predict = _ParityPredictor(found)
        test_acc = float(correct_np(predict(data.test.x), data.test.y).mean())
        success = found is not None and test_acc >= self.success_threshold
        support = np.asarray(getattr(problem.target, "support", []))
        info = {
            "recovered": None if found is None else [int(i) for i in found],
            "exact": found is not None and np.array_equal(found, support),
        }
        metrics = {"success": success, "t_c": used if success else None, "samples": used}
        return Fit(predict, metrics, {}, info, state={"support": found})


class _ParityPredictor:
    """chi_found(x), or 0 everywhere when nothing was found."""

    def __init__(self, found):
        self.found = found

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x)
        if self.found is None:
            return np.zeros(len(x))
        return np.prod(x[:, self.found], axis=1)


def _draw(problem, key, m: int) -> tuple[np.ndarray, np.ndarray]:
    sample = problem.training_sample(key, m)
    return np.asarray(sample.x), np.asarray(sample.y)
