"""Lottery tickets in sparse-parity learning: the ``lottery-ticket`` learner.

Edelman, Goel, Kakade, Malach, Zhang, "Pareto frontiers in neural feature learning: data,
compute, width, and luck", NeurIPS 2023, https://arxiv.org/abs/2309.03800. Their lottery-ticket
experiment: a width-100 two-layer ReLU net with sparse initialisation (s = 2 non-zero input
weights per unit) trained online on the (n, k) = (50, 5) parity, batch 32, lr 0.1; the few
units that end up carrying the solution, pruned out, rewound to their initial values and
trained alone, learn fast, while a net of the same small width initialised at random is slow
for most seeds. Width buys *luck*: a wide net is likely to contain units whose initial weights
already touch the support A.

The protocol, four arms on one seed's data, each trained by the ``sgd-online`` loop
(``OnlineSGD.train_from``: the same batch stream, the same stopping rule and step cap; a run not
done by ``max_steps`` is censored and its t_c is None):

1. *wide*: the width-``width`` net from the ``init`` family (the net ``sgd-online`` starts from
   on this seed), trained: t_c_wide.
2. *ticket*: rank its units by a score of their *trained* first-layer weights w_i,

   * ``rank_by = "norm"``: ||w_i||_2 (magnitude pruning; needs no knowledge of A), or
   * ``rank_by = "support"``: ||w_i restricted to A||_2 (an oracle that reads the support),

   keep the top ``ticket_size`` units (default k = |A|), rewind them to their *initial*
   (w_i, b_i, u_i) and train that small net alone: t_c_ticket, the headline ``t_c``.
   The paper prunes by weight norm after training (``norm``, the default); ``support`` is the
   oracle variant, for comparison.
3. *random*: ``ticket_size`` units of the same initial wide net chosen uniformly at random,
   rewound and trained alone: t_c_random (the control for "any k units of this init").
4. *fresh*: a new width-``ticket_size`` net of the same family drawn from an independent key
   (output weights at the family's 1/sqrt(q) scale for q = ``ticket_size``): t_c_fresh.

Measured here (``lottery``): at (n, k) = (30, 3), width 100, tickets of k = 3 units never
learnt within 20,000 steps, nor did 3 random units or a fresh 3-unit net (a net of k ReLU units
without an output bias rarely trains to the k-parity), while tickets of 10 units beat 10 random
units in every seed; the built-in experiment runs both sizes.

``predict`` is the trained ticket. ``info`` keeps the ticket's and the random units' indices and,
for each, how many of its *initial* non-zero input weights lie on A (with s = 2 sparse init a
unit "has a lottery ticket" when both its non-zeros do).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.errors import BadInput
from paritylab.learners.base import Fit, TrainingData
from paritylab.learners.online import OnlineSGD
from paritylab.models.init import INIT_FAMILIES
from paritylab.options import option

RANK_BY = ("norm", "support")
ARMS = ("wide", "ticket", "random", "fresh")


def rank_units(w: jax.Array, support, rank_by: str) -> np.ndarray:
    """Unit indices sorted by decreasing score of their first-layer weights.

    Args:
        w: (q, n) first-layer weights.
        support: the coordinates of A.
        rank_by: ``"norm"`` (||w_i||) or ``"support"`` (||w_i restricted to A||).

    Returns:
        int array of the q indices, best first (ties broken by index).
    """
    w = np.asarray(w, np.float64)
    if rank_by == "support":
        w = w[:, np.asarray(support, int)]
    score = np.linalg.norm(w, axis=1)
    return np.argsort(-score, kind="stable")


def subnet(params: dict, units) -> dict:
    """The units ``units`` of an mlp (rows of W, entries of b and u; the output bias kept).

    Args:
        params: mlp parameters.
        units: indices of the kept units.

    Returns:
        mlp parameters of width len(units) (fresh arrays).
    """
    idx = jnp.asarray(np.asarray(units, int))
    out = {"W": params["W"][idx], "b": params["b"][idx], "u": params["u"][idx]}
    if "c" in params:
        out["c"] = jnp.array(params["c"])
    return out


def support_nonzeros(w0: jax.Array, support, units) -> list[int]:
    """For each unit, how many of its initial non-zero input weights lie on A.

    Args:
        w0: (q, n) initial first-layer weights.
        support: the coordinates of A.
        units: the unit indices.

    Returns:
        one count per unit.
    """
    on_a = np.asarray(w0)[np.asarray(units, int)][:, np.asarray(support, int)] != 0
    return [int(c) for c in on_a.sum(axis=1)]


def lucky_units(w0: jax.Array, support) -> int:
    """Units whose initial non-zero input weights all lie on A (sparse init: a unit that
    starts inside the support, the "lottery ticket" of Edelman et al.).

    Args:
        w0: (q, n) initial first-layer weights.
        support: the coordinates of A.

    Returns:
        the number of such units.
    """
    w0 = np.asarray(w0) != 0
    on_a = w0[:, np.asarray(support, int)].sum(axis=1)
    return int(np.sum((on_a == w0.sum(axis=1)) & (on_a > 0)))


@dataclass(frozen=True)
class LotteryTicket(OnlineSGD):
    """Wide net, its rewound top units, random units and a fresh small net (module docstring)."""

    name = "lottery-ticket"
    reads = "stream"
    version = 1
    width: int = option(100, "hidden units q of the wide net", min=1)
    init: str = option(
        "sparse",
        "initialisation family (sparse, s = init_sparsity: Edelman et al. 2023)",
        choices=INIT_FAMILIES,
    )
    ticket_size: int | None = option(
        None, "units kept in the ticket (None = k, the target's degree)", min=1
    )
    rank_by: str = option(
        "norm",
        "ticket score of a trained unit: norm (||w_i||) | support (||w_i on A||, an oracle)",
        choices=RANK_BY,
    )

    def check(self) -> None:
        """A ticket no wider than the net; no paired init (its units come in +- pairs)."""
        super().check()
        if self.init == "paired":
            raise BadInput(
                "init='paired' is out of range for lottery-ticket: its units come in +- pairs "
                "that a ticket would split; use gaussian, uniform, he, sparse or rademacher"
            )
        if self.ticket_size is not None and self.ticket_size > self.width:
            raise BadInput(
                f"ticket_size={self.ticket_size} is out of range: allowed <= width ({self.width})"
            )

    def _size(self, data: TrainingData) -> int:
        size = self.ticket_size
        if size is None:
            size = int(np.asarray(data.problem.target.support).size)
        if size > self.width:
            raise BadInput(
                f"ticket_size={size} (k) is out of range: allowed <= width ({self.width})"
            )
        return size

    def fit(self, data: TrainingData, *, key: jax.Array) -> Fit:
        """Train the four arms (module docstring); the trained ticket predicts."""
        self.check()
        size = self._size(data)
        support = np.asarray(data.problem.target.support, int)
        p0 = self.initial_params(data, key=key)
        wide = self.train_from(p0, data, key=key)
        order = rank_units(wide.state["params"]["W"], support, self.rank_by)
        ticket_units = np.sort(order[:size])
        k_random, k_fresh = jax.random.split(jax.random.fold_in(key, 7))
        random_units = np.sort(
            np.asarray(jax.random.choice(k_random, self.width, (size,), replace=False))
        )
        fresh0 = self.draw_params(k_fresh, data.problem.n, width=size)
        fits = {
            "wide": wide,
            "ticket": self.train_from(subnet(p0, ticket_units), data, key=key),
            "random": self.train_from(subnet(p0, random_units), data, key=key),
            "fresh": self.train_from(fresh0, data, key=key),
        }
        ticket = fits["ticket"]
        metrics = dict(ticket.metrics)
        for arm in ARMS:
            metrics[f"t_c_{arm}"] = fits[arm].metrics["t_c"]
            metrics[f"success_{arm}"] = fits[arm].metrics["success"]
            metrics[f"steps_{arm}"] = fits[arm].metrics["steps"]
        w0 = p0["W"]
        info = dict(ticket.info)
        info.update(
            ticket_size=size,
            rank_by=self.rank_by,
            ticket_units=[int(i) for i in ticket_units],
            random_units=[int(i) for i in random_units],
            ticket_support_nonzeros=support_nonzeros(w0, support, ticket_units),
            random_support_nonzeros=support_nonzeros(w0, support, random_units),
            lucky_units=lucky_units(w0, support) if self.init == "sparse" else None,
        )
        return Fit(
            ticket.predict,
            metrics,
            ticket.traces,
            info,
            state={arm: fits[arm].state["params"] for arm in ARMS},
        )


__all__ = [
    "ARMS",
    "RANK_BY",
    "LotteryTicket",
    "lucky_units",
    "rank_units",
    "subnet",
    "support_nonzeros",
]
