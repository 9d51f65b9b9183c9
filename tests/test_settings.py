"""The knobs needed to port another group's protocol: weight-decay conventions, He init, zero
biases, output bias and scale, the last partial batch, epochs as the time unit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from paritylab.data import Problem, Uniform, parity_target
from paritylab.learners import OnlineSGD, TrainingData
from paritylab.learners.online import StepConfig, _batch, steps_per_epoch
from paritylab.learners.optimizers import make_optimizer
from paritylab.models import init_params, mlp


def _one_step(name, mode, theta, grad, lr=0.1, wd=0.5):
    opt = make_optimizer(name, lr, weight_decay=wd, weight_decay_mode=mode)
    updates, _ = opt.update(grad, opt.init(theta), theta)
    return np.asarray(theta + updates)


THETA = jnp.array([1.0, -2.0, 0.5, 3.0])
GRAD = jnp.array([-0.1, 0.3, -1.0, -0.2])


def test_sign_sgd_coupled_puts_the_decay_inside_the_sign():
    lr, wd = 0.1, 0.5
    coupled = _one_step("sign-sgd", "coupled", THETA, GRAD, lr, wd)
    np.testing.assert_allclose(coupled, THETA - lr * jnp.sign(GRAD + wd * THETA), rtol=1e-6)
    decoupled = _one_step("sign-sgd", "decoupled", THETA, GRAD, lr, wd)
    np.testing.assert_allclose(decoupled, THETA - lr * (jnp.sign(GRAD) + wd * THETA), rtol=1e-6)
    assert not np.allclose(coupled, decoupled)  # different algorithms on this example
    np.testing.assert_array_equal(_one_step("sign-sgd", "auto", THETA, GRAD, lr, wd), coupled)


def test_sgd_decay_conventions_agree_and_adam_auto_is_adamw():
    np.testing.assert_allclose(
        _one_step("sgd", "coupled", THETA, GRAD),
        _one_step("sgd", "decoupled", THETA, GRAD),
        rtol=1e-6,
    )
    np.testing.assert_array_equal(
        _one_step("adam", "auto", THETA, GRAD), _one_step("adam", "decoupled", THETA, GRAD)
    )
    assert not np.allclose(
        _one_step("adam", "coupled", THETA, GRAD), _one_step("adam", "decoupled", THETA, GRAD)
    )


def test_he_init_has_the_stated_variances():
    """w ~ N(0, 2/n), u ~ N(0, 2/q): the sample variance of N entries has relative s.e.
    sqrt(2/N); 5 s.e. is allowed."""
    n, q = 50, 2000
    p = init_params("he", key=jax.random.key(0), n=n, width=q)
    w, u = np.asarray(p["W"]), np.asarray(p["u"])
    assert w.var() == pytest.approx(2 / n, rel=5 * np.sqrt(2 / w.size))
    assert u.var() == pytest.approx(2 / q, rel=5 * np.sqrt(2 / u.size))


def test_zero_bias_output_scale_and_output_bias():
    base = init_params("gaussian", key=jax.random.key(1), n=5, width=8)
    p = init_params(
        "gaussian",
        key=jax.random.key(1),
        n=5,
        width=8,
        zero_bias=True,
        output_scale=3.0,
        output_bias=True,
    )
    assert not np.any(np.asarray(p["b"]))
    np.testing.assert_allclose(np.asarray(p["u"]), 3.0 * np.asarray(base["u"]), rtol=1e-6)
    assert float(p["c"]) == 0.0
    x = jnp.ones((2, 5))
    shifted = {**p, "c": jnp.float32(1.5)}
    np.testing.assert_allclose(mlp.apply(shifted, x), mlp.apply(p, x) + 1.5, rtol=1e-6)


def test_keep_last_batch_visits_every_sample_once_per_epoch():
    m, batch = 100, 32
    assert steps_per_epoch(m, batch, False) == 3 and steps_per_epoch(m, batch, True) == 4
    rows = jnp.arange(m, dtype=jnp.float32)[:, None] * jnp.ones((1, 3))
    data = {"train_x": rows, "train_y": jnp.zeros(m), "key_shuffle": jax.random.key(0)}
    cfg = StepConfig(batch, 0.1, "hinge", "sgd", 0.0, "auto", True, True)
    seen, perm = [], jnp.arange(m)
    for t in range(4):
        x, _, weights, perm = _batch(cfg, None, data, jnp.asarray(t), perm)
        seen += [
            int(v) for v, w in zip(np.asarray(x[:, 0]), np.asarray(weights), strict=True) if w > 0
        ]
    assert sorted(seen) == list(range(m))


def test_epochs_as_the_time_unit_and_a_trained_output_bias():
    problem = Problem(Uniform(8), parity_target(np.array([2])))
    k = jax.random.split(jax.random.key(3), 3)
    data = TrainingData(
        problem,
        problem.training_sample(k[0], 96),
        problem.sample(k[1], 512),
        {"shuffle": k[2]},
    )
    learner = OnlineSGD(
        width=16,
        batch_size=32,
        eval_every=1,
        eval_unit="epochs",
        epochs=200,
        output_bias=True,
        init="he",
        zero_bias=True,
    )
    fit = learner.fit(data, key=jax.random.key(0))  # solves it at epoch 6
    assert fit.info["steps_per_epoch"] == 3
    assert fit.traces["epoch"] == [s / 3 for s in fit.traces["step"]]
    assert all(float(e).is_integer() for e in fit.traces["epoch"])
    assert fit.metrics["success"] and float(fit.metrics["t_c_epochs"]).is_integer()
    assert float(fit.state["params"]["c"]) != 0.0  # the output bias trains
