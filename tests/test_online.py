"""Online sparse parity: GF(2) oracle, progress measures, the compiled SGD loop, scaling fits."""

import itertools
import math
import tomllib
from importlib.resources import files

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from paritylab.data import Problem, Uniform, parity_target, uniform_signs
from paritylab.errors import BadInput
from paritylab.lab.config import load_spec, spec_from_dict
from paritylab.lab.tasks import online as task
from paritylab.lab.worker import execute
from paritylab.learners import OnlineSGD, TrainingData
from paritylab.learners.gf2 import (
    gf2_rank,
    recover_parity,
    recover_parity_noisy,
    solve_gf2,
    to_bits,
)
from paritylab.learners.optimizers import make_optimizer
from paritylab.metrics.progress import fourier_coefficient, support_mass, weight_change_inf
from paritylab.models.init import init_params
from paritylab.models.mlp import apply
from paritylab.theory.scaling import censored_median, fit_exponents, scaling_table

# [config] of a tiny experiment: problem fields (n, k, eval_size) and sgd-online settings.
TINY = dict(n=10, k=2, width=128, eval_every=50, eval_size=2048, max_steps=3000)


def run(learner: str, seed: int, **overrides) -> dict:
    """Metrics, traces and info of one run on the online task with TINY + ``overrides`` (the
    fit time, the only entry that varies between identical runs, left out)."""
    config = {**TINY, **overrides}
    spec = spec_from_dict({"task": "online", "learners": [learner], "seed": seed, "config": config})
    (one,) = spec.runs()
    out = execute(one)
    assert out["status"] == "ok", out["error"]
    out["info"].pop("fit_s")
    return {key: out[key] for key in ("metrics", "traces", "info")}


def _samples(rng, m, n, support):
    x = rng.choice([-1.0, 1.0], size=(m, n))
    return x, np.prod(x[:, support], axis=1)


# ---------------------------------------------------------------- GF(2) oracle


@pytest.mark.parametrize(("n", "k"), [(5, 1), (20, 3), (63, 2), (64, 5), (65, 65), (130, 7)])
def test_gf2_recovers_random_parities_exactly(n, k):
    rng = np.random.default_rng(n * 100 + k)
    for _ in range(3):
        support = np.sort(rng.choice(n, k, replace=False))
        x, y = _samples(rng, n + 20, n, support)  # full rank with prob >= 1 - 2^-20
        np.testing.assert_array_equal(recover_parity(x, y), support)


def test_gf2_returns_none_when_under_determined_or_inconsistent():
    rng = np.random.default_rng(0)
    support = np.array([1, 4, 7])
    x, y = _samples(rng, 40, 12, support)
    assert recover_parity(x[:11], y[:11]) is None  # 11 equations, 12 unknowns
    dup = np.concatenate([x[:6], x[:6]])
    assert recover_parity(dup, np.concatenate([y[:6], y[:6]])) is None  # rank 6 < 12
    y_bad = y.copy()
    y_bad[3] *= -1  # one flipped label in 40 equations of rank 12: no parity fits
    assert recover_parity(x, y_bad) is None


def test_gf2_rank_and_solve_on_hand_built_systems():
    assert gf2_rank(np.eye(70, dtype=np.uint8)) == 70
    assert gf2_rank([[1, 1, 0], [0, 1, 1], [1, 0, 1]]) == 2  # row 3 = row 1 xor row 2
    a = np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]], np.uint8)
    np.testing.assert_array_equal(solve_gf2(a, [0, 1, 1]), [0, 0, 1])
    assert solve_gf2(a[:2], [0, 1]) is None  # a free variable
    np.testing.assert_array_equal(to_bits([1, -1, -1, 1]), [0, 1, 1, 0])
    with pytest.raises(BadInput):
        to_bits([0.5, 1.0])


def test_noisy_oracle_recovers_or_abstains_never_guesses():
    rng = np.random.default_rng(3)
    support = np.array([2, 9, 15])
    x, y = _samples(rng, 6000, 20, support)
    flip = rng.random(len(y)) < 0.1
    y = np.where(flip, -y, y)
    assert recover_parity(x[:60], y[:60]) is None  # plain elimination breaks on noise
    found, used = recover_parity_noisy(x, y, holdout=500)
    np.testing.assert_array_equal(found, support)
    assert used <= len(y)
    x, y = _samples(rng, 2000, 20, support)
    y = np.where(rng.random(len(y)) < 0.45, -y, y)
    found, _ = recover_parity_noisy(x, y, holdout=1000)
    assert found is None or np.array_equal(found, support)


def test_oracle_learner_uses_about_n_samples():
    out = run("gf2-oracle", 1, n=40, k=5)
    assert out["metrics"]["success"] and out["info"]["exact"]
    assert 40 <= out["metrics"]["t_c"] <= 60
    assert out["metrics"]["test_acc"] == 1.0 and out["metrics"]["test_hinge"] == 0.0


# ---------------------------------------------------------------- progress measures


def test_progress_measures_exact_on_hand_built_weights():
    w0 = jnp.zeros((2, 4))
    w = jnp.array([[1.0, -2.0, 0.0, 0.5], [0.0, 3.0, -4.0, 0.0]])
    assert float(weight_change_inf(w, w0)) == 4.0
    assert float(weight_change_inf(w, w)) == 0.0
    assert float(support_mass(w, [1])) == pytest.approx(5.0 / 10.5, abs=1e-7)
    assert float(support_mass(w, [0, 1, 2, 3])) == 1.0
    cube = np.array(list(itertools.product([-1.0, 1.0], repeat=4)))  # all 16 points
    chi = np.prod(cube[:, [1, 3]], axis=1)
    assert float(fourier_coefficient(3.0 * chi, cube, [1, 3])) == 3.0
    assert float(fourier_coefficient(cube[:, 0] + 2 * chi, cube, [1, 3])) == 2.0
    assert float(fourier_coefficient(cube[:, 1], cube, [1, 3])) == 0.0


def test_sign_sgd_and_weight_decay_are_the_documented_updates():
    theta = {"w": jnp.array([1.0, -2.0, 3.0])}
    grad = {"w": jnp.array([0.3, 0.0, -5.0])}
    opt = make_optimizer("sign-sgd", 0.1, weight_decay=0.5)
    upd, _ = opt.update(grad, opt.init(theta), theta)
    np.testing.assert_allclose(upd["w"], -0.1 * np.sign(grad["w"] + 0.5 * theta["w"]))
    opt = make_optimizer("sgd", 0.1, weight_decay=0.5)
    upd, _ = opt.update(grad, opt.init(theta), theta)
    np.testing.assert_allclose(upd["w"], -0.1 * (grad["w"] + 0.5 * theta["w"]), rtol=1e-6)


def test_uniform_signs_and_init_families():
    x = np.asarray(uniform_signs(jax.random.PRNGKey(0), 4000, 70))
    assert set(np.unique(x)) == {-1.0, 1.0}
    assert np.abs(x.mean(axis=0)).max() < 5 / math.sqrt(4000)  # 5 sd per coordinate
    key = jax.random.PRNGKey(1)
    p = init_params("sparse", key=key, n=30, width=50, sparsity=2, scale=2.0)
    nz = np.asarray(p["W"]) != 0
    assert (nz.sum(axis=1) == 2).all()
    np.testing.assert_allclose(np.abs(np.asarray(p["W"])[nz]), 2.0 / math.sqrt(2), rtol=1e-6)
    p = init_params("rademacher", key=key, n=25, width=40, scale=1.0)
    np.testing.assert_allclose(np.abs(np.asarray(p["W"])), 0.2, rtol=1e-6)
    p = init_params("uniform", key=key, n=25, width=40)
    assert np.abs(np.asarray(p["W"])).max() <= 0.2 and np.abs(np.asarray(p["u"])).max() <= 40**-0.5
    with pytest.raises(BadInput, match="did you mean"):
        init_params("gausian", key=key, n=5, width=4)


def test_sparse_init_spreads_its_non_zeros_uniformly_with_the_stated_variance():
    """s = 2 of n = 30 coordinates per unit, 6,000 units: each coordinate is picked with
    probability s/n, so its count is Binomial(6000, 1/15) = 400 +- 19.3; each non-zero is
    +-scale/sqrt(s), so every row has squared norm scale^2 and the entry variance is scale^2/n
    exactly; the signs are fair (12,000 of them: 6,000 +- 55)."""
    from paritylab.learners.joint import JointSGD

    n, q, s, scale = 30, 6000, 2, 1.5
    w = np.asarray(
        init_params("sparse", key=jax.random.PRNGKey(5), n=n, width=q, sparsity=s, scale=scale)["W"]
    )
    assert ((w != 0).sum(axis=1) == s).all()
    np.testing.assert_allclose((w**2).sum(axis=1), scale**2, rtol=1e-5)
    np.testing.assert_allclose((w**2).mean(), scale**2 / n, rtol=1e-5)
    counts = (w != 0).sum(axis=0)
    sd = math.sqrt(q * (s / n) * (1 - s / n))
    assert np.abs(counts - q * s / n).max() < 5 * sd, counts
    assert abs(int((w > 0).sum()) - q * s / 2) < 5 * math.sqrt(q * s / 4)
    joint = JointSGD(init="sparse", width=64, init_sparsity=3).init_params(jax.random.PRNGKey(0), n)
    assert (np.asarray(joint["W"] != 0).sum(axis=1) == 3).all()


# ---------------------------------------------------------------- the compiled SGD loop


def test_tiny_online_run_succeeds_for_most_seeds():
    outs = [run("sgd-online", s) for s in range(5)]
    t_c = [o["metrics"]["t_c"] for o in outs]
    assert sum(t is not None for t in t_c) >= 4, t_c
    for out in outs:
        m, tr = out["metrics"], out["traces"]
        if m["success"]:
            assert m["test_acc"] == 1.0 and m["t_c"] == m["steps"] == tr["step"][-1]
        assert tr["step"] == list(range(0, m["steps"] + 1, 50))
        assert {len(v) for v in tr.values()} == {len(tr["step"])}
        assert tr["w_change_inf"][0] == 0.0
        assert abs(tr["support_mass"][0] - 0.2) < 0.05  # k/n at init
    good = [o for o in outs if o["metrics"]["success"]]
    assert all(o["traces"]["support_mass"][-1] > o["traces"]["support_mass"][0] for o in good)
    assert all(o["traces"]["fourier_coef"][-1] > 0.5 for o in good)


def test_trained_params_are_plain_mlp_params():
    key = jax.random.PRNGKey(3)
    problem = Problem(Uniform(10), parity_target([2, 5]))
    test = problem.sample(jax.random.PRNGKey(5), 2048)
    params = init_params("uniform", key=key, n=10, width=128)
    w0, x0 = np.asarray(params["W"]).copy(), np.asarray(test.x).copy()
    learner = OnlineSGD(width=128, eval_every=50, max_steps=3000)
    fit = learner.fit(TrainingData(problem, None, test, {"init": key}), key=key)
    trained = fit.state["params"]
    assert fit.metrics["success"] and trained["W"].shape == (128, 10)
    np.testing.assert_array_equal(np.asarray(params["W"]), w0)  # caller's arrays untouched
    np.testing.assert_array_equal(np.asarray(test.x), x0)
    assert not np.array_equal(np.asarray(trained["W"]), w0)  # training moved W away from w0
    x = uniform_signs(jax.random.PRNGKey(4), 4096, 10)
    assert np.array_equal(np.sign(np.asarray(apply(trained, x))), np.asarray(x[:, 2] * x[:, 5]))
    np.testing.assert_array_equal(np.asarray(fit.predict(x)), np.asarray(apply(trained, x)))


def test_same_config_and_seed_give_identical_numbers():
    a = run("sgd-online", 7)
    b = run("sgd-online", 7)
    assert a == b
    c = run("sgd-online", 8)
    assert c["traces"]["test_loss"] != a["traces"]["test_loss"]


def test_run_hitting_the_cap_is_censored_and_after_success_continues():
    out = run("sgd-online", 0, max_steps=200, n=20, k=3)
    m = out["metrics"]
    assert m["t_c"] is None and m["success"] is False and m["steps"] == 200
    out = run("sgd-online", 1, after_success=100)
    m = out["metrics"]
    assert m["success"] and m["steps"] == m["t_c"] + 100


@pytest.mark.parametrize(("optimizer", "loss"), [("adam", "square"), ("sign-sgd", "logistic")])
def test_other_optimizers_and_losses_learn(optimizer, loss):
    lr = 0.01 if optimizer == "adam" else 0.001
    out = run("sgd-online", 0, optimizer=optimizer, loss=loss, lr=lr)
    assert out["metrics"]["success"], out["metrics"]


def test_finite_sample_mode_with_noise_and_epochs():
    out = run(
        "sgd-online",
        0,
        train_samples=100,
        batch_size=32,
        epochs=40,
        label_noise=0.1,
        weight_decay=0.01,
    )
    assert out["info"]["steps_per_epoch"] == 3 and out["info"]["step_cap"] == 120
    assert out["metrics"]["steps"] <= 120
    assert len(out["traces"]["train_acc"]) == len(out["traces"]["step"])
    assert all(math.isfinite(v) for v in out["traces"]["train_loss"])


def test_config_checks():
    with pytest.raises(BadInput, match="k=11"):
        run("sgd-online", 0, k=11)
    with pytest.raises(BadInput, match="label_noise"):
        task.CONFIG(n=10, k=2, label_noise=0.5).check()
    with pytest.raises(BadInput, match="epochs"):
        spec_from_dict({"task": "online", "config": {**TINY, "epochs": 3}})
    with pytest.raises(BadInput, match="did you mean"):
        run("sgd-onlin", 0)


def test_builtin_experiment_files_build_valid_configs():
    folder = files("paritylab") / "lab" / "experiments"
    for name in ("hidden-progress", "parity-scaling", "noisy-parity", "grokking"):
        data = tomllib.loads((folder / f"{name}.toml").read_text())
        assert data["experiment"] == name and data["task"] == "online"
        assert set(data["learners"]) <= set(task.LEARNERS)
        axes = data.get("sweep", {})
        runs = load_spec(folder / f"{name}.toml").runs()  # every grid point validated
        points = {tuple(dict(r.point)[a] for a in axes) for r in runs}
        assert points == set(itertools.product(*axes.values()))


# ---------------------------------------------------------------- scaling analysis


def _synthetic(beta, cap, seeds=9, seed=0):
    rng = np.random.default_rng(seed)
    recs = []
    for n in (10, 20, 40, 80):
        for s in range(seeds):
            t = 5.0 * n**beta * math.exp(rng.normal(0, 0.2))
            recs.append({"n": n, "k": 2, "seed": s, "t_c": None if t > cap else t, "cap": cap})
    return recs


def test_scaling_fit_recovers_a_known_exponent():
    (row,) = fit_exponents(_synthetic(2.5, cap=1e12), n_boot=400)
    assert row["exponent"] == pytest.approx(2.5, abs=0.1)
    assert row["ci_low"] < 2.5 < row["ci_high"] and row["ci_high"] - row["ci_low"] < 0.4
    assert row["alpha"] == pytest.approx(row["exponent"] / 2)
    assert row["boot_valid_frac"] == 1.0


def test_censored_cells_are_reported_not_fitted():
    recs = _synthetic(2.5, cap=5.0 * 80**2.5)  # about half of the n = 80 runs censored
    recs = [r for r in recs if r["n"] != 80] + [
        {"n": 80, "k": 2, "seed": s, "t_c": None if s < 5 else 1e5, "cap": 1e5} for s in range(9)
    ]
    table = {r["n"]: r for r in scaling_table(recs)}
    assert table[80]["censored"] and table[80]["median_t_c"] is None
    assert table[80]["median_lower_bound"] == 1e5 and table[80]["success_frac"] == 4 / 9
    assert not table[10]["censored"] and table[10]["successes"] == 9
    (row,) = fit_exponents(recs, n_boot=50)
    assert row["n_censored"] == [80] and row["n_fitted"] == [10, 20, 40]
    assert censored_median([1, None, 3, None]) is None
    assert censored_median([1, 2, None, 4, None]) == 4.0
