"""vmap over seeds gives each seed the t_c it has when trained alone."""

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.learners.online import OnlineSpec, train_online
from paritylab.learners.online_seeds import train_online_seeds
from paritylab.models.init_families import init_params


def test_vmapped_seeds_match_sequential_runs():
    n, width, support = 12, 64, np.array([1, 4, 9])
    keys = jax.random.split(jax.random.key(0), 3)
    params = [
        init_params("uniform", key=k, n=n, width=width, scale=1.0, bias_range=1.0, sparsity=2)
        for k in jax.random.split(jax.random.key(1), 3)
    ]
    batch = jax.tree.map(lambda *a: jnp.stack(a), *params)
    spec = OnlineSpec(max_steps=3000, eval_every=50, eval_size=1024)
    res = train_online_seeds(batch, support, spec, keys=keys)
    alone = [train_online(p, support, spec, key=k).t_c for p, k in zip(params, keys, strict=True)]
    assert res.t_c == alone
    assert res.success.all() == all(t is not None for t in alone)
