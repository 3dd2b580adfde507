"""OJRS baselines on large_scale_v0: the insufficiency rule by hand, searches against exhaustive
enumeration, ASA's h-mutation (eq. 27-29) and adaptive iterations (eq. 30), and the policies in both
agent modes."""

from __future__ import annotations

import numpy as np
import pytest

import mec_marl
from baselines import search
from baselines.large_scale import heuristics
from baselines.large_scale.searches import (
    AdaptiveSimulatedAnnealing,
    Exhaustive,
    ParticleSwarm,
    SimulatedAnnealing,
)
from mec_marl.solvers import multi_mec


def small_problem(mec_cpu=50e9, weights=(1.0, 4.0, 2.0, 3.0), efficiency=((4.0, 1.0),) * 4):
    """Uploads D / (B * eff): 0.2 s at eff 4; local 1 s (P_max 1 W); F = 1e9 cycles."""
    return multi_mec.p21_problem_from_efficiency(
        np.array(efficiency), np.array(weights), data_size=8e5, cycles=1e9, bandwidth=1e6, p_max=1.0,
        f_local_max=1e9, mec_cpu=mec_cpu, kappa=1e-27,
    )


def test_insufficiency_rule_removes_largest_weighted_demand_first():
    """MEC 1 with 3 GHz for four UEs of weights 1, 4, 2, 3 (uploads 0.2 s, local 1 s). KKT split
    f_i = 3e9 sqrt(w_i) / sum sqrt(w): UE 0 finishes at 0.2 + 1e9 / f_0 = 2.25 s (late).
    Without w=4: sum sqrt = 4.146, UE 0 at 1.58 s (late); without w=3: sum 2.414, UE 0 at 1.005 s
    (late); without w=2: UE 0 alone at 3 GHz, 0.53 s. So the weights 4, 3, 2 go local in that order."""
    problem = small_problem(mec_cpu=np.array([3e9, 50e9]))
    out = heuristics.insufficiency_rule(problem, np.array([1, 1, 1, 1]))
    np.testing.assert_array_equal(out, [1, 0, 0, 0])
    latency = multi_mec.p21_solve(problem, out, fallback=False)["latency"]
    assert np.all(latency[out > 0] <= problem.local_latency[out > 0])
    # Plenty of CPU: nobody is late, nothing moves; MEC 2 (eff 1: 0.8 s upload + share) is also fine.
    roomy = small_problem()
    np.testing.assert_array_equal(heuristics.insufficiency_rule(roomy, np.array([1, 2, 1, 2])), [1, 2, 1, 2])


def test_insufficiency_rule_is_batched():
    problem = small_problem(mec_cpu=np.array([3e9, 50e9]))
    batched = multi_mec.P21Problem(**{f: np.stack([getattr(problem, f)] * 2) for f in problem.__dataclass_fields__})
    out = heuristics.insufficiency_rule(batched, np.array([[1, 1, 1, 1], [2, 2, 0, 0]]))
    np.testing.assert_array_equal(out, [[1, 0, 0, 0], [2, 2, 0, 0]])


def test_h_mutation_keep_probability_eq_27_and_adaptive_iterations_eq_30():
    gain = np.array([[1.0, 3.0], [2.0, 2.0]])
    keep = search.h_mutation_keep(gain, np.array([[1, 2], [2, 0]]))
    np.testing.assert_allclose(keep, [[0.25, 0.5], [0.75, 1 / 3]])
    assert search.adaptive_iterations(20, 0.05, 0.02) == 21
    assert search.adaptive_iterations(20, 0.01, 0.02) == 19
    assert search.adaptive_iterations(1, 0.0, 0.02) == 1


def test_exhaustive_refuses_large_spaces_by_name():
    with pytest.raises(ValueError, match="3\\^30 .* refused"):
        search.exhaustive_search(lambda c: c.sum(-1), 30, 3)


@pytest.mark.parametrize("scenario", ["large_scale_table2", "large_scale_default"])
def test_searches_reach_the_exhaustive_optimum_on_small_instances(scenario):
    env = mec_marl.make("large_scale_v0", scenario=scenario, n_ues=7, max_cycles=2)
    obs, _ = env.reset(seed=4)
    problem = heuristics.current_problem(env)
    optimum = search.exhaustive_search(lambda c: multi_mec.p21_objective(problem, c), 7, 3)
    greedy = multi_mec.p21_objective(problem, heuristics.greedy_decision(env.unwrapped.instance, problem))
    assert optimum["value"] <= greedy
    for policy in (SimulatedAnnealing(iterations=150, chains=8), AdaptiveSimulatedAnnealing(iterations=150, chains=8),
                   ParticleSwarm(particles=32, iterations=60), Exhaustive()):
        policy.reset(env, seed=0)
        action = policy.act(obs, env)["scheduler"]
        assert multi_mec.p21_objective(problem, action) == pytest.approx(optimum["value"], rel=1e-4), policy.name


@pytest.mark.parametrize("mode", ["scheduler", "users"])
def test_policies_run_in_both_modes_and_are_seeded(mode):
    def episode(policy, seed):
        env = mec_marl.make("large_scale_v0", scenario="large_scale_table2", n_ues=6, max_cycles=3, agent_mode=mode)
        obs, _ = env.reset(seed=seed)
        policy.reset(env, seed=seed)
        while env.agents:
            obs, _, _, _, infos = env.step(policy.act(obs, env))
        return next(iter(infos.values()))["episode"]["objective"]

    makers = (heuristics.Greedy, heuristics.RandomOffloading, lambda: AdaptiveSimulatedAnnealing(iterations=20, chains=4))
    for make in makers:
        assert episode(make(), 3) == episode(make(), 3)
    assert episode(heuristics.RandomOffloading(), 1) != episode(heuristics.RandomOffloading(), 2)
    assert episode(AdaptiveSimulatedAnnealing(iterations=30, chains=4), 5) <= episode(heuristics.Greedy(), 5) + 1e-9


def test_registered_methods_build_and_act():
    import baselines.large_scale  # noqa: F401  (registers the methods)
    from baselines import registry

    env = mec_marl.make("large_scale_v0", n_ues=5, max_cycles=2)
    obs, _ = env.reset(seed=0)
    for name in ("ls_greedy", "ls_random", "ls_local", "ls_exhaustive", "ls_sa", "ls_asa", "ls_pso"):
        small = {"iterations": 3} if name in ("ls_sa", "ls_asa", "ls_pso") else {}
        policy = registry.get(name).build("large_scale_v0", {}, 0, small)
        policy.reset(env, seed=0)
        action = policy.act(obs, env)["scheduler"]
        assert action.shape == (5,) and np.all((action >= 0) & (action <= 2)), name
    assert registry.get("ojrs").kind == "learner"


def test_exhaustive_policy_refuses_at_reset():
    env = mec_marl.make("large_scale_v0", n_ues=30, max_cycles=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="3\\^30 .* refused"):
        Exhaustive().reset(env, seed=0)


def test_ojrs_experiment_file_validates_and_plans():
    from baselines.experiment.plan import plan
    from baselines.experiment.schema import load_experiment

    exp = load_experiment("ojrs")
    quick = plan(exp, "quick")
    assert {c.seed for c in quick} == {0, 1, 2} and {c.point["n_mecs"] for c in quick} == {2}
    assert {c.point["n_mecs"] for c in plan(exp, "paper")} == {1, 2, 3, 4, 5}
    ppo = next(c for c in quick if c.method == "ls_ppo_users")
    assert ppo.env_kwargs["agent_mode"] == "users" and ppo.train == {"steps": 2000}
    asa = next(c for c in quick if c.method == "ls_asa")
    assert asa.env_kwargs["agent_mode"] == "scheduler" and asa.train == {}
    dynamic = next(c for c in quick if c.variant == "dynamic")
    assert dynamic.env_kwargs["weight_change_slot"] == 25
