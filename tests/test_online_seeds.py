"""vmap over seeds gives each seed the t_c it has when trained alone."""

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.data import Problem, Uniform, parity_target
from paritylab.learners import OnlineSGD, TrainingData
from paritylab.learners.online_seeds import train_online_seeds
from paritylab.models.init import init_params


def test_vmapped_seeds_match_sequential_runs():
    n, width, support = 12, 64, np.array([1, 4, 9])
    problem = Problem(Uniform(n), parity_target(support))
    keys = jax.random.split(jax.random.key(0), 3)
    init_keys = jax.random.split(jax.random.key(1), 3)
    params = [
        init_params("uniform", key=k, n=n, width=width, scale=1.0, bias_range=1.0, sparsity=2)
        for k in init_keys
    ]
    tests = [problem.sample(k, 1024) for k in jax.random.split(jax.random.key(2), 3)]
    batch = jax.tree.map(lambda *a: jnp.stack(a), *params)
    test_batch = jax.tree.map(lambda *a: jnp.stack(a), *tests)
    learner = OnlineSGD(width=width, max_steps=3000, eval_every=50)
    res = train_online_seeds(learner, batch, problem, test_batch, keys=keys)
    alone = [
        learner.fit(
            TrainingData(problem, None, test, {"init": k_init, "batches": k}), key=k
        ).metrics["t_c"]
        for k_init, test, k in zip(init_keys, tests, keys, strict=True)
    ]
    assert res.t_c == alone
    assert res.success.all() == all(t is not None for t in alone)
