"""Curricula and shifted inputs of the online task: each schedule switches at its stated step
inside a compiled function (the step traced), the dimension curriculum fixes exactly the
coordinates it says, the mean shift has the stated per-coordinate bias, held-out sets come from
the distribution a run ends on, bad settings are refused, and at a tiny size the staircase is
learnt faster than the isolated parity of the same degree."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from paritylab.data import BiasRamp, Schedule, Subcube, Uniform, final_distribution, subcube_mask
from paritylab.errors import BadInput
from paritylab.lab.config import spec_from_dict
from paritylab.lab.tasks import online as task
from paritylab.lab.worker import execute

KEY = jax.random.PRNGKey(3)


def problem_config(**fields):
    spec = spec_from_dict(
        {"task": "online", "learners": ["sgd-online"], "config": {"n": 12, "k": 3, **fields}}
    )
    (run,) = spec.runs()
    return run.problem


def sampler(dist, m=4000):
    """dist.sample under jit with the step a traced argument, as in the training loop."""
    return jax.jit(lambda step: dist.sample(KEY, m, step))


def test_biased_first_switches_exactly_at_the_boundary():
    boundary = 37
    config = problem_config(curriculum="biased-first", curriculum_steps=boundary, bias=0.0)
    dist = task.make_problem(config, np.array([0, 4, 7])).distribution
    assert isinstance(dist, Schedule) and dist.boundaries == (boundary,)
    draw = sampler(dist)
    for step in (0, boundary - 1):  # mu_0: every coordinate +1, part (stage) 0
        x, part = draw(jnp.int32(step))
        assert bool(jnp.all(x == 1.0)) and bool(jnp.all(part == 0))
    for step in (boundary, boundary + 1000):  # uniform from the boundary on, stage 1
        x, part = draw(jnp.int32(step))
        assert abs(float(x.mean())) < 0.05 and bool(jnp.all(part == 1))


def test_anneal_moves_p_linearly_to_one_half_and_then_hands_over():
    boundary = 100
    config = problem_config(curriculum="anneal", curriculum_steps=boundary, bias=0.1)
    dist = task.make_problem(config, np.array([0, 4, 7])).distribution
    ramp = dist.stages[0]
    assert isinstance(ramp, BiasRamp) and isinstance(dist.stages[1], Uniform)
    p_at = jax.jit(ramp.p_at)
    for step, p in ((0, 0.1), (25, 0.2), (50, 0.3), (99, 0.496), (100, 0.5), (500, 0.5)):
        assert float(p_at(jnp.int32(step))) == pytest.approx(p, abs=1e-6)
    draw = sampler(dist, 20000)
    x, part = draw(jnp.int32(0))  # E x_i = 1 - 2p = 0.8
    assert float(x.mean()) == pytest.approx(0.8, abs=0.02) and int(part[0]) == 0
    x, part = draw(jnp.int32(boundary - 1))
    assert float(x.mean()) == pytest.approx(0.008, abs=0.02) and int(part[0]) == 0
    x, part = draw(jnp.int32(boundary))
    assert int(part[0]) == 1
    assert float(BiasRamp(4, 0.1, 0.5, 0).p_at(jnp.int32(0))) == pytest.approx(0.5)


def test_dimension_curriculum_fixes_exactly_the_coordinates_outside_the_subcube():
    boundary, n0 = 20, 6
    support = np.array([2, 5, 9])
    config = problem_config(curriculum="dimension", curriculum_steps=boundary, curriculum_n=n0)
    dist = task.make_problem(config, support).distribution
    free = np.asarray(dist.stages[0].free)
    assert free.sum() == n0 and free[support].all()
    assert np.flatnonzero(free).tolist() == [0, 1, 2, 3, 5, 9]  # support + first 3 others
    draw = sampler(dist)
    x, _ = draw(jnp.int32(boundary - 1))
    x = np.asarray(x)
    assert (x[:, ~free] == 1.0).all()
    assert np.all(np.abs(x[:, free].mean(axis=0)) < 0.06)  # the free ones stay uniform
    x, _ = draw(jnp.int32(boundary))
    assert np.all(np.abs(np.asarray(x).mean(axis=0)) < 0.06)
    with pytest.raises(BadInput):
        subcube_mask(12, support, 2)


def test_mean_shift_has_the_stated_per_coordinate_bias():
    config = problem_config(distribution="mean-shift", shift=0.3)
    data = [task.make_data(config, seed) for seed in (0, 1)]
    p = np.asarray(data[0].problem.distribution.p)
    signs = (1 - 2 * p) / 0.3
    np.testing.assert_allclose(np.abs(signs), 1.0, atol=1e-6)
    assert len(set(np.sign(signs))) == 2  # both signs among 12 coordinates (this seed)
    assert not np.array_equal(p, np.asarray(data[1].problem.distribution.p))  # per seed
    x, _ = data[0].problem.distribution.sample(KEY, 40000)
    np.testing.assert_allclose(np.asarray(x.mean(axis=0)), 0.3 * signs, atol=0.02)
    # the held-out set is drawn from the shifted distribution too
    np.testing.assert_allclose(np.asarray(data[0].test.x.mean(axis=0)), 0.3 * signs, atol=0.1)


def test_held_out_set_comes_from_the_distribution_a_curriculum_ends_on():
    config = problem_config(curriculum="biased-first", curriculum_steps=50, bias=0.0)
    data = task.make_data(config, 0)
    assert isinstance(final_distribution(data.problem.distribution), Uniform)
    assert abs(float(data.test.x.mean())) < 0.05  # uniform, not the all-ones first stage
    plain = task.make_data(problem_config(), 0)  # no curriculum: the stream is unchanged
    ref = task.make_problem(problem_config(), np.asarray(plain.problem.target.support))
    k_learn = jax.random.split(jax.random.PRNGKey(0), 4)[2]
    k_test = jax.random.split(k_learn, 4)[1]
    np.testing.assert_array_equal(plain.test.x, ref.sample(k_test, 8192).x)
    assert isinstance(final_distribution(Subcube(Uniform(3), jnp.ones(3, bool))), Subcube)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"curriculum": "biased-first"}, "curriculum_steps >= 1"),
        ({"curriculum_steps": 10}, "curriculum='none'"),
        ({"curriculum": "dimension", "curriculum_steps": 5}, "curriculum_n"),
        (
            {"curriculum": "dimension", "curriculum_steps": 5, "curriculum_n": 2},
            "k <= curriculum_n",
        ),
        ({"curriculum": "dimension", "curriculum_steps": 5, "curriculum_n": 13}, "<= n"),
        ({"curriculum": "anneal", "curriculum_steps": 5, "curriculum_n": 4}, "dimension"),
        (
            {"curriculum": "biased-first", "curriculum_steps": 5, "distribution": "biased"},
            "mu_bias",
        ),
        ({"curriculum": "anneal", "curriculum_steps": 5, "train_samples": 100}, "online"),
        ({"shift": 0.2}, "mean-shift"),
        ({"leap": 2}, "target='leap'"),
    ],
)
def test_bad_curriculum_settings_are_refused(fields, message):
    with pytest.raises(BadInput, match=message):
        problem_config(**fields)


def test_a_learner_that_does_not_train_in_steps_is_refused_on_a_curriculum():
    config = {"n": 12, "k": 3, "curriculum": "biased-first", "curriculum_steps": 5}
    with pytest.raises(BadInput, match="does not train in steps"):
        spec_from_dict({"task": "online", "learners": ["gf2-oracle"], "config": config})


@pytest.mark.parametrize(
    "fields",
    [
        {"curriculum": "biased-first", "curriculum_steps": 40, "bias": 0.1},
        {"curriculum": "anneal", "curriculum_steps": 40, "bias": 0.1},
        {"curriculum": "dimension", "curriculum_steps": 40, "curriculum_n": 5},
        {
            "curriculum": "biased-first",
            "curriculum_steps": 40,
            "distribution": "sparse-mixture",
            "mixture_weight": 0.1,
            "bias": 0.1,
        },
        {"distribution": "mean-shift", "shift": 0.2},
        {"target": "leap", "leap": 2},
    ],
)
def test_every_curriculum_runs_in_the_compiled_loop(fields):
    config = {"n": 10, "k": 3, "width": 16, "max_steps": 100, "eval_every": 50, "eval_size": 256}
    spec = spec_from_dict(
        {"task": "online", "learners": ["sgd-online"], "config": {**config, **fields}}
    )
    (run,) = spec.runs()
    out = execute(run)
    assert out["status"] == "ok", out["error"]
    assert out["metrics"]["steps"] == 100 or out["metrics"]["success"]


@pytest.mark.slow
def test_staircase_is_learnt_faster_than_the_parity_of_the_same_degree():
    """n = 12, k = 3, width 32: measured (5 seeds, 2-core machine under load) the staircase
    reaches test MSE / E[y^2] <= 0.05 after 160-220 steps and the 3-parity 100% accuracy after
    470-620, every seed; the assertion asks for 4 of 5 so one unlucky seed cannot fail it."""
    config = {
        "n": 12,
        "k": 3,
        "width": 32,
        "loss": "square",
        "lr": 0.05,
        "success_mse": 0.05,
        "eval_every": 10,
        "eval_size": 512,
        "max_steps": 5000,
    }
    t_c = {}
    for target in ("staircase", "parity"):
        for seed in range(5):
            spec = spec_from_dict(
                {
                    "task": "online",
                    "learners": ["sgd-online"],
                    "seed": seed,
                    "config": {**config, "target": target},
                }
            )
            (run,) = spec.runs()
            out = execute(run)
            assert out["status"] == "ok", out["error"]
            t_c[target, seed] = out["metrics"]["t_c"]
    faster = sum(
        t_c["staircase", s] is not None
        and (t_c["parity", s] is None or t_c["staircase", s] < t_c["parity", s])
        for s in range(5)
    )
    assert faster >= 4, t_c


def test_report_section_compares_arms_with_fits_and_predicted_slopes(tmp_path):
    from paritylab.lab import leaps

    base = dict(problem_config().__dict__, max_steps=10_000, width=16)
    records = []
    for target, slope in (("staircase", 1.0), ("parity", 2.0)):
        for n in (10, 20, 40):
            for seed in range(3):
                t_c = 10.0 * n**slope
                censored = target == "parity" and n == 40 and seed < 2  # 2 of 3 hit the cap
                records.append(
                    {
                        "learner": "sgd-online",
                        "status": "ok",
                        "seed": seed,
                        "config": {**base, "target": target, "n": n},
                        "metrics": {"t_c": None if censored else t_c, "steps": 10_000},
                        "info": {"step_cap": 10_000},
                    }
                )
    assert leaps.applies(records)
    assert not leaps.applies([r for r in records if r["config"]["target"] == "parity"])
    lines, (figure,) = leaps.section(records, tmp_path, "toy")
    text = "\n".join(lines)
    assert (
        "| x0 + x0*x1 + x0*x1*x2 (k=3) | 1 (conjecture max(Leap-1, 1), Leap = 1) | 1.00 |" in text
    )
    assert "| x0*x1*x2 (k=3) | 2 (conjecture max(Leap-1, 1), Leap = 3) | 2.00 |" in text
    assert ">= 10,000 (censored)" in text and "| -, -, 16,000 |" in text
    assert figure.exists() and figure.with_suffix(".pdf").exists()


def test_predicted_exponents_by_arm():
    from paritylab.lab.leaps import predicted_exponent

    base = dict(problem_config().__dict__)
    assert predicted_exponent({**base, "k": 4})[0] == 3
    assert predicted_exponent({**base, "target": "leap", "leap": 2})[0] == 1
    shifted, basis = predicted_exponent({**base, "distribution": "mean-shift", "shift": 0.2})
    assert shifted == 1 and "heuristic" in basis
    curriculum = {**base, "curriculum": "biased-first", "curriculum_steps": 10, "bias": 0.1}
    assert predicted_exponent(curriculum)[0] == 1
    assert predicted_exponent({**base, "distribution": "sparse-mixture"})[0] is None
    assert predicted_exponent({**base, "label_noise": 0.1})[0] is None


@pytest.mark.slow
def test_dimension_curriculum_solves_50_5_within_a_cap_that_direct_training_misses():
    """(n, k) = (50, 5), width 128, square loss, lr 0.05, the settings of the built-in
    ``curriculum``. Measured over seeds 0-4 with a 50,000-step cap: 10 free coordinates for the
    first 1,000 steps reach 100% held-out accuracy at 2,260-3,580 steps, direct training at
    15,600-46,840. Under a 10,000-step cap the curriculum therefore succeeds in every seed and
    direct training in none; the runs are deterministic, and the assertion leaves one seed of
    slack on each side."""
    config = {
        "n": 50,
        "k": 5,
        "width": 128,
        "loss": "square",
        "lr": 0.05,
        "init": "uniform",
        "eval_every": 20,
        "eval_size": 2048,
        "max_steps": 10000,
    }
    curriculum = {"curriculum": "dimension", "curriculum_n": 10, "curriculum_steps": 1000}
    success = {}
    for arm, fields in (("direct", {}), ("curriculum", curriculum)):
        spec = spec_from_dict(
            {
                "task": "online",
                "learners": ["sgd-online"],
                "seeds": 5,
                "config": {**config, **fields},
            }
        )
        for run in spec.runs():
            out = execute(run)
            assert out["status"] == "ok", out["error"]
            success[arm, run.seed] = out["metrics"]["success"]
    assert sum(success["curriculum", s] for s in range(5)) >= 4, success
    assert sum(success["direct", s] for s in range(5)) <= 1, success
